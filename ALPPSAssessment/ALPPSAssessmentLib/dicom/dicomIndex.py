"""Index of a folder of DICOM files: patients, studies and image series read from the headers.

Radiologists hand over ALPPS follow-up scans as folders exported from PACS or a CD: several
studies on different dates, series of every phase mixed in one tree, file names that carry no
order, and odd files (DICOMDIR, reports, segmentations, text notes). This index gives the same
patient / study / series view that Slicer's DICOM database gives, without Slicer, so that the
studies can be proposed as time points in date order (``timePointProposals``) and their series
loaded in slice order.

The headers are read once by ALPPSVolumetryLib.inputs.dicomFolder (which also groups the slices into
series and orders them); here the files are grouped by patient and study. Nothing is guessed: a
study without a date is listed last and reported, never given a date; the time point roles are
left to the user.
"""

import datetime
from dataclasses import dataclass, field
from typing import List, Optional

from ALPPSVolumetryLib.inputs.dicomFolder import (
    appendOnce,
    ImageSeries,
    OtherObject,
    readDicomFiles,
    readDicomFolder,
    seriesSortKey,
    SkippedFile,
)


@dataclass
class Study:
    studyInstanceUID: str
    patientId: str
    patientName: str
    studyDate: Optional[datetime.date]  # None when absent or invalid (see warnings); never made up
    studyDateText: str  # as written in the header
    studyTime: Optional[datetime.time]
    studyTimeText: str
    studyDescription: str
    accessionNumber: str
    series: List[ImageSeries] = field(default_factory=list)
    otherObjects: List[OtherObject] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)


@dataclass
class Patient:
    patientId: str
    patientName: str
    birthDate: Optional[datetime.date]
    birthDateText: str
    studies: List[Study] = field(default_factory=list)  # by StudyDate, then StudyTime; undated last


@dataclass
class DicomIndex:
    folder: str
    fileCount: int = 0
    patients: List[Patient] = field(default_factory=list)
    otherObjects: List[OtherObject] = field(default_factory=list)
    skippedFiles: List[SkippedFile] = field(default_factory=list)  # not DICOM or unreadable
    # Every warning of the index, each naming its patient, study and series; the same texts
    # (without the names) are also on the study or series they concern.
    warnings: List[str] = field(default_factory=list)


# --- dates -------------------------------------------------------------------------------------


def parseDicomDate(text):
    """A DICOM DA value (YYYYMMDD; the old ACR-NEMA form YYYY.MM.DD is accepted) as a date.

    Returns None for an empty value; raises ValueError for anything else that is not a real date.
    """
    if isinstance(text, datetime.date):  # pydicom converts DA values when asked to
        return text
    value = str(text or "").strip()
    if not value:
        return None
    digits = value.replace(".", "") if len(value) == 10 and value[4] == value[7] == "." else value
    if len(digits) == 8 and digits.isdigit():
        try:
            return datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
        except ValueError:
            pass
    raise ValueError(f"DICOM date '{value}' is not a date: expected YYYYMMDD")


def parseDicomTime(text):
    """A DICOM TM value (HH, HHMM, HHMMSS, HHMMSS.FFFFFF; old form HH:MM:SS) as a time, or None."""
    if isinstance(text, datetime.time):
        return text
    value = str(text or "").strip().replace(":", "")
    if not value:
        return None
    whole, _, fraction = value.partition(".")
    if whole.isdigit() and len(whole) in (2, 4, 6) and (not fraction or fraction.isdigit()):
        parts = [int(whole[i : i + 2]) for i in range(0, len(whole), 2)] + [0, 0]
        microseconds = int((fraction + "000000")[:6]) if fraction else 0
        try:
            return datetime.time(parts[0], parts[1], min(parts[2], 59), microseconds)  # 60 = leap second
        except ValueError:
            pass
    raise ValueError(f"DICOM time '{text}' is not a time: expected HHMMSS")


# --- the index ---------------------------------------------------------------------------------


def seriesLabel(series):
    number = f" {series.seriesNumber}" if series.seriesNumber is not None else ""
    description = f"'{series.seriesDescription}'" if series.seriesDescription else "(no description)"
    return f"{series.modality or 'unknown modality'} series{number} {description}"


def _studyLabel(study):
    date = study.studyDate.isoformat() if study.studyDate else "without date"
    description = f" '{study.studyDescription}'" if study.studyDescription else ""
    uid = f" ({study.studyInstanceUID})" if study.studyInstanceUID else ""
    return f"study {date}{description}{uid}"


def _patientLabel(patientId, patientName):
    if patientId:
        return f"patient '{patientId}'"
    return f"patient without ID '{patientName}'" if patientName else "patient without ID or name"


def _studySortKey(study):
    return (
        study.studyDate is None,
        study.studyDate or datetime.date.max,
        study.studyTime is None,
        study.studyTime or datetime.time.min,
        study.studyInstanceUID,
    )


def indexDicomFolder(folder):
    """Walk ``folder`` (recursively) and index every DICOM file by patient, study and series.

    Only headers are read. Files that are not DICOM or cannot be read are skipped and listed in
    ``skippedFiles`` with the reason; DICOM objects without image slices (SEG, reports, DICOMDIR)
    are listed in ``otherObjects``. Slices are ordered by position along the slice normal.
    """
    return _IndexBuilder(readDicomFolder(folder)).finish()


def indexDicomFiles(paths, source="DICOM database"):
    """Index a list of DICOM files (for example those Slicer's DICOM database holds for one
    patient), exactly as indexDicomFolder indexes a folder."""
    return _IndexBuilder(readDicomFiles(paths, source)).finish()


class _IndexBuilder:
    def __init__(self, contents):
        self.index = DicomIndex(
            folder=contents.source,
            fileCount=contents.fileCount,
            otherObjects=list(contents.otherObjects),
            skippedFiles=list(contents.skippedFiles),
        )
        self.patients = {}  # patient key -> Patient
        self.studies = {}  # study key -> (Study, patient key)
        self.patientWarnings = []
        filed = set()  # ids of the series already filed under their study
        for header in contents.headers:
            if header.otherObject is not None:
                if header.otherObject.studyInstanceUID:  # a DICOMDIR or a bare report belongs to no study
                    self._study(header).otherObjects.append(header.otherObject)
                continue
            study = self._study(header)
            if id(header.series) not in filed:  # a series belongs to the study of its first file
                filed.add(id(header.series))
                study.series.append(header.series)

    def _patient(self, header):
        key = header.patientKey
        patientId, patientName, birthDateText = header.patientId, header.patientName, header.birthDateText
        if key not in self.patients:
            try:
                birthDate = parseDicomDate(birthDateText)
            except ValueError:
                birthDate = None
                self.patientWarnings.append(
                    f"{_patientLabel(patientId, patientName)}: invalid PatientBirthDate '{birthDateText}' (expected YYYYMMDD)"
                )
            self.patients[key] = Patient(patientId, patientName, birthDate, birthDateText)
        patient = self.patients[key]
        if (patient.patientName, patient.birthDateText) != (patientName, birthDateText):
            appendOnce(
                self.patientWarnings,
                f"{_patientLabel(patientId, patient.patientName)} also appears with name '{patientName}' and birth date "
                f"'{birthDateText}': check that these files belong to the same patient",
            )
        return patient

    def _study(self, header):
        patientKey, patient = header.patientKey, self._patient(header)
        studyKey, dateText = header.studyKey, header.studyDateText
        if studyKey not in self.studies:
            study = Study(
                studyInstanceUID=header.studyInstanceUID,
                patientId=patient.patientId,
                patientName=patient.patientName,
                studyDate=None,
                studyDateText=dateText,
                studyTime=None,
                studyTimeText=header.studyTimeText,
                studyDescription=header.studyDescription,
                accessionNumber=header.accessionNumber,
            )
            if not header.studyInstanceUID:
                study.warnings.append(
                    "no StudyInstanceUID in its files (anonymised?): grouped by patient, date, time, accession number "
                    "and description"
                )
            self.studies[studyKey] = (study, patientKey)
            patient.studies.append(study)
        study, studyPatientKey = self.studies[studyKey]
        if studyPatientKey != patientKey:
            appendOnce(
                self.patientWarnings,
                f"{_studyLabel(study)} holds files of two patients ('{studyPatientKey[0]}' and '{patient.patientId}'): "
                "check the export",
            )
        if dateText != study.studyDateText:
            appendOnce(study.warnings, f"its files carry different StudyDates ('{study.studyDateText}' and '{dateText}')")
        return study

    def finish(self):
        index = self.index
        for study, _ in self.studies.values():
            try:
                study.studyDate = parseDicomDate(study.studyDateText)
                if study.studyDate is None:
                    study.warnings.insert(0, "no StudyDate: kept and listed last; enter its date by hand to use it as a time point")
            except ValueError:
                study.warnings.insert(
                    0, f"invalid StudyDate '{study.studyDateText}' (expected YYYYMMDD): kept and listed last, no date assumed"
                )
            try:
                study.studyTime = parseDicomTime(study.studyTimeText)
            except ValueError:
                study.warnings.append(f"invalid StudyTime '{study.studyTimeText}' (expected HHMMSS): not used for ordering")
            study.series.sort(key=seriesSortKey)

        index.patients = sorted(self.patients.values(), key=lambda patient: (patient.patientId == "", patient.patientId, patient.patientName))
        for patient in index.patients:
            patient.studies.sort(key=_studySortKey)
            for study in patient.studies:
                prefix = f"{_patientLabel(patient.patientId, patient.patientName)}, {_studyLabel(study)}"
                index.warnings.extend(f"{prefix}: {warning}" for warning in study.warnings)
                for series in study.series:
                    index.warnings.extend(f"{prefix}, {seriesLabel(series)}: {warning}" for warning in series.warnings)
        index.warnings.extend(self.patientWarnings)
        if index.skippedFiles:
            index.warnings.append(f"{len(index.skippedFiles)} file(s) skipped as not DICOM or unreadable (see the skipped files)")
        return index


# --- output ------------------------------------------------------------------------------------


def _formatSeriesLine(series):
    parts = [seriesLabel(series), f"{series.sliceCount} {'frames' if series.multiFrame else 'slice' if series.sliceCount == 1 else 'slices'}"]
    if series.rows and series.columns:
        parts.append(f"{series.columns}x{series.rows}")
    if series.pixelSpacing:
        parts.append(f"{series.pixelSpacing[1]:.3g}x{series.pixelSpacing[0]:.3g} mm pixels")
    if series.sliceSpacing is not None:
        parts.append(f"{series.sliceSpacing:.3g} mm apart")
    if series.warnings:
        parts.append(f"{len(series.warnings)} warning(s)")
    return "  ".join(parts)


def formatIndex(index, maximumSkippedListed=20):
    """The readable listing: patients, studies by date, series, other objects, skipped files, warnings."""
    imageSeries = [series for patient in index.patients for study in patient.studies for series in study.series]
    lines = [
        f"DICOM folder {index.folder}",
        f"{index.fileCount} files: {sum(len(s.files) for s in imageSeries)} image files in {len(imageSeries)} series, "
        f"{len(index.otherObjects)} other object(s), {len(index.skippedFiles)} skipped; {len(index.patients)} patient(s)",
    ]
    for patient in index.patients:
        born = patient.birthDate.isoformat() if patient.birthDate else (patient.birthDateText or "unknown")
        lines.append("")
        lines.append(f"Patient {patient.patientId or '(no ID)'}  {patient.patientName or '(no name)'}  born {born}")
        for study in patient.studies:
            when = study.studyDate.isoformat() if study.studyDate else "(no date)"
            if study.studyTime:
                when += " " + study.studyTime.strftime("%H:%M")
            accession = f"  accession {study.accessionNumber}" if study.accessionNumber else ""
            description = f"'{study.studyDescription}'" if study.studyDescription else "(no description)"
            uid = f"  [{study.studyInstanceUID}]" if study.studyInstanceUID else ""
            lines.append(f"  Study {when}  {description}{accession}{uid}")
            for series in study.series:
                lines.append("    " + _formatSeriesLine(series))
            for other in study.otherObjects:
                refers = f", refers to series {', '.join(other.referencedSeriesUIDs)}" if other.referencedSeriesUIDs else ""
                description = f" '{other.description}'" if other.description else ""
                lines.append(f"    other object: {other.modality or '?'} {other.kind}{description}{refers}  ({other.path})")
    loose = [other for other in index.otherObjects if not other.studyInstanceUID]
    if loose:
        lines.append("")
        lines.append("Other objects outside any study:")
        lines.extend(f"  {other.kind}: {other.path}" for other in loose)
    if index.skippedFiles:
        lines.append("")
        lines.append(f"Skipped files ({len(index.skippedFiles)}):")
        lines.extend(f"  {item.path}: {item.reason}" for item in index.skippedFiles[:maximumSkippedListed])
        if len(index.skippedFiles) > maximumSkippedListed:
            lines.append(f"  ... and {len(index.skippedFiles) - maximumSkippedListed} more")
    lines.append("")
    if index.warnings:
        lines.append(f"Warnings ({len(index.warnings)}):")
        lines.extend(f"  - {warning}" for warning in index.warnings)
    else:
        lines.append("No warnings.")
    return "\n".join(lines)


def isoText(value):
    """A date or time as ISO text (YYYY-MM-DD, HH:MM:SS), None when absent."""
    return value.isoformat() if value is not None else None


def _otherObjectToDict(other):
    return {
        "path": other.path,
        "kind": other.kind,
        "reason": other.reason,
        "sopClassUID": other.sopClassUID,
        "modality": other.modality,
        "description": other.description,
        "patientId": other.patientId,
        "studyInstanceUID": other.studyInstanceUID,
        "seriesInstanceUID": other.seriesInstanceUID,
        "referencedSeriesUIDs": list(other.referencedSeriesUIDs),
    }


def seriesToDict(series):
    return {
        "seriesInstanceUID": series.seriesInstanceUID,
        "modality": series.modality,
        "seriesDescription": series.seriesDescription,
        "seriesNumber": series.seriesNumber,
        "sliceCount": series.sliceCount,
        "sliceSpacingMm": series.sliceSpacing,
        "rows": series.rows,
        "columns": series.columns,
        "pixelSpacingMm": list(series.pixelSpacing) if series.pixelSpacing else None,
        "imageOrientationPatient": list(series.imageOrientation) if series.imageOrientation else None,
        "multiFrame": series.multiFrame,
        "sopClassName": series.sopClassName,
        "files": list(series.files),
        "slicePositionsMm": list(series.slicePositions),
        "warnings": list(series.warnings),
    }


def indexToDict(index):
    """The index as plain JSON types (dates as YYYY-MM-DD, times as HH:MM:SS, null when absent)."""
    return {
        "folder": index.folder,
        "fileCount": index.fileCount,
        "patients": [
            {
                "patientId": patient.patientId,
                "patientName": patient.patientName,
                "birthDate": isoText(patient.birthDate),
                "birthDateText": patient.birthDateText,
                "studies": [
                    {
                        "studyInstanceUID": study.studyInstanceUID,
                        "studyDate": isoText(study.studyDate),
                        "studyDateText": study.studyDateText,
                        "studyTime": isoText(study.studyTime),
                        "studyDescription": study.studyDescription,
                        "accessionNumber": study.accessionNumber,
                        "series": [seriesToDict(series) for series in study.series],
                        "otherObjects": [_otherObjectToDict(other) for other in study.otherObjects],
                        "warnings": list(study.warnings),
                    }
                    for study in patient.studies
                ],
            }
            for patient in index.patients
        ],
        "otherObjects": [_otherObjectToDict(other) for other in index.otherObjects],
        "skippedFiles": [{"path": item.path, "reason": item.reason} for item in index.skippedFiles],
        "warnings": list(index.warnings),
    }

