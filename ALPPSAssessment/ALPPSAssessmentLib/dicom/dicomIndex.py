"""Index of a folder of DICOM files: patients, studies and image series read from the headers.

Radiologists hand over ALPPS follow-up scans as folders exported from PACS or a CD: several
studies on different dates, series of every phase mixed in one tree, file names that carry no
order, and odd files (DICOMDIR, reports, segmentations, text notes). This index gives the same
patient / study / series view that Slicer's DICOM database gives, without Slicer, so that the
studies can be proposed as time points in date order and their series loaded in slice order.

Only headers are read (pixel data is never decoded), so compressed series (e.g. JPEG2000) are
indexed without a decoder. Nothing is guessed: a study without a date is listed last and
reported, never given a date; the time point roles are left to the user.
"""

import datetime
import os
import struct
import warnings as pythonWarnings
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import numpy as np
from ALPPSVolumetryLib.dicomSeries import slicePosition

# Same tolerance as Slicer's DICOM scalar volume plugin uses for "not equally spaced", so that
# what this index calls uneven is what Slicer would warn about when loading.
SPACING_TOLERANCE_MM = 0.01
# A gap this many times the usual slice spacing or more means slices are missing rather than
# spaced a little unevenly (one missing slice doubles the gap).
MISSING_SLICE_GAP_FACTOR = 1.5
# Direction cosines are written with a few decimals; slices of one stack agree far better than this.
ORIENTATION_TOLERANCE = 1e-3
# Slice origins drifting sideways by more than this form a sheared stack (gantry tilt).
IN_PLANE_SHIFT_TOLERANCE_MM = 0.05

VOLUME_MODALITIES = ("CT", "MR")

# Storage classes that hold no image slices (SOP Class UID prefixes): they are listed as other
# objects. A DICOM SEG is kept in the listing because it can later give a ready segmentation.
_NON_IMAGE_SOP_CLASS_PREFIXES = (
    ("1.2.840.10008.5.1.4.1.1.66.4", "segmentation (DICOM SEG)"),
    ("1.2.840.10008.5.1.4.1.1.66.5", "surface segmentation"),
    ("1.2.840.10008.5.1.4.1.1.66", "registration or raw data"),
    ("1.2.840.10008.5.1.4.1.1.67", "real world value mapping"),
    ("1.2.840.10008.5.1.4.1.1.88.", "structured report"),
    ("1.2.840.10008.5.1.4.1.1.11.", "presentation state"),
    ("1.2.840.10008.5.1.4.1.1.104.", "encapsulated document"),
    ("1.2.840.10008.5.1.4.1.1.481.3", "RT structure set"),
    ("1.2.840.10008.5.1.4.1.1.481.5", "RT plan"),
    ("1.2.840.10008.1.3.10", "DICOMDIR (media directory)"),
)
# For objects whose SOP Class UID is missing or unusual, the modality tells the same.
_NON_IMAGE_MODALITIES = {
    "SEG": "segmentation (DICOM SEG)",
    "SR": "structured report",
    "KO": "key object selection",
    "PR": "presentation state",
    "RTSTRUCT": "RT structure set",
    "RTPLAN": "RT plan",
    "REG": "registration",
    "DOC": "encapsulated document",
}


@dataclass
class SkippedFile:
    path: str
    reason: str


@dataclass
class OtherObject:
    """A DICOM object that is not an image slice (SEG, report, DICOMDIR, secondary capture ...)."""

    path: str
    kind: str
    reason: str
    sopClassUID: str = ""
    modality: str = ""
    description: str = ""
    patientId: str = ""
    patientName: str = ""
    studyInstanceUID: str = ""
    seriesInstanceUID: str = ""
    referencedSeriesUIDs: List[str] = field(default_factory=list)  # e.g. the CT a SEG was drawn on


@dataclass
class ImageSeries:
    seriesInstanceUID: str
    modality: str
    seriesDescription: str
    seriesNumber: Optional[int]
    studyInstanceUID: str
    files: List[str] = field(default_factory=list)  # in slice order along the slice normal
    slicePositions: List[float] = field(default_factory=list)  # mm along the normal, same order
    sliceCount: int = 0  # slices (files), or frames of multi-frame objects
    sliceSpacing: Optional[float] = None  # mm, usual distance between neighbouring slices
    imageOrientation: Optional[Tuple[float, ...]] = None  # DICOM row and column directions (LPS)
    rows: Optional[int] = None
    columns: Optional[int] = None
    pixelSpacing: Optional[Tuple[float, float]] = None  # DICOM order: between rows, between columns
    multiFrame: bool = False
    sopClassName: str = ""
    warnings: List[str] = field(default_factory=list)


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


@dataclass
class TimePointProposal:
    """A study proposed as a time point; its role (pre-stage 1, interstage ...) is the user's choice."""

    studyInstanceUID: str
    studyDate: Optional[datetime.date]
    studyTime: Optional[datetime.time]
    studyDescription: str
    accessionNumber: str
    series: Optional[ImageSeries]  # the CT/MR series that would be loaded, None when there is none
    files: List[str]  # that series' files in slice order, ready for segmentationIO.loadVolume
    reason: str  # why this series (or why none)
    warnings: List[str] = field(default_factory=list)


# --- reading headers ---------------------------------------------------------------------------


class _Skip(Exception):
    """A file that is not DICOM or cannot be read; the message is the reason shown to the user."""


@dataclass
class _Slice:
    path: str
    position: float
    imagePosition: np.ndarray
    orientation: np.ndarray
    rows: Optional[int]
    columns: Optional[int]
    pixelSpacing: Optional[Tuple[float, float]]
    instanceNumber: Optional[int]


def _readDataset(path):
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        size = os.path.getsize(path)
    except OSError as error:
        raise _Skip(f"unreadable ({error.strerror or error})") from None
    if size == 0:
        raise _Skip("empty file (0 bytes)")
    try:
        with open(path, "rb") as stream:
            dataset = pydicom.dcmread(stream, stop_before_pixels=True)
            pixelDataOffset = stream.tell()  # pydicom stops in front of the Pixel Data element
    except InvalidDicomError:
        raise _Skip("not DICOM (no 'DICM' marker at byte 128)") from None
    except Exception as error:  # noqa: BLE001 - damaged headers fail in many ways (struct, EOF, value errors)
        raise _Skip(f"unreadable DICOM header ({type(error).__name__}: {error})") from None
    return dataset, pixelDataOffset, size


def _pixelDataProblem(dataset, path, offset, size):
    """Why the pixel data of an image object is missing or cut short, or None when it looks whole.

    Headers alone can look perfect in a file cut during copying; Slicer would then fail (or read
    garbage) when loading, so such files are skipped here rather than listed as slices.
    """
    if offset >= size:
        return "truncated: the file ends before its pixel data"
    transferSyntax = str(getattr(getattr(dataset, "file_meta", None), "TransferSyntaxUID", "") or "")
    if transferSyntax == "1.2.840.10008.1.2.1.99":
        return None  # deflated: positions refer to the inflated stream, nothing to compare
    with open(path, "rb") as stream:
        stream.seek(offset)
        head = stream.read(12)
    byteOrder = {b"\xe0\x7f\x10\x00": "<", b"\x7f\xe0\x00\x10": ">"}.get(head[:4])
    if byteOrder is None:
        return None  # float or double pixel data: not checked
    if transferSyntax == "1.2.840.10008.1.2":  # implicit VR: 4-byte length after the tag
        headerLength, lengthBytes = 8, head[4:8]
        length = struct.unpack(byteOrder + "I", lengthBytes)[0] if len(lengthBytes) == 4 else None
    else:  # explicit VR: OB/OW/UN carry 2 reserved bytes and a 4-byte length
        headerLength, lengthBytes = 12, head[8:12]
        length = struct.unpack(byteOrder + "I", lengthBytes)[0] if len(lengthBytes) == 4 else None
    if length is None:
        return "truncated: the file ends inside the pixel data element"
    if length == 0xFFFFFFFF:
        # Compressed (encapsulated) frames end with a sequence delimiter; a file cut in copying lacks it.
        with open(path, "rb") as stream:
            stream.seek(max(size - 16, 0))
            tail = stream.read()
        delimiter = b"\xfe\xff\xdd\xe0\x00\x00\x00\x00" if byteOrder == "<" else b"\xff\xfe\xe0\xdd\x00\x00\x00\x00"
        if delimiter not in tail:
            return "truncated: its compressed pixel data does not end with the sequence delimiter"
        return None
    available = size - offset - headerLength
    if available < length:
        return f"truncated: pixel data has {max(available, 0)} of {length} bytes"
    return None


def _text(dataset, keyword):
    value = dataset.get(keyword, "")
    return "" if value is None else str(value).strip()


def _integer(dataset, keyword):
    value = dataset.get(keyword)
    if value is None or str(value).strip() == "":
        return None
    try:
        return int(float(str(value)))
    except ValueError:
        return None


def _numbers(dataset, keyword, count):
    """The values of a multi-valued numeric attribute, or None when absent or not ``count`` numbers."""
    value = dataset.get(keyword)
    if value is None:
        return None
    try:
        numbers = [float(item) for item in (value if not isinstance(value, (str, bytes)) else [value])]
    except (TypeError, ValueError):
        return None
    return numbers if len(numbers) == count else None


def _sopClassUID(dataset):
    uid = _text(dataset, "SOPClassUID")
    if not uid and getattr(dataset, "file_meta", None) is not None:
        uid = _text(dataset.file_meta, "MediaStorageSOPClassUID")
    return uid


def _sopClassName(uid):
    if not uid:
        return ""
    from pydicom.uid import UID

    name = UID(uid).name
    return "" if name == uid else name


def _nonImageKind(sopClassUID, modality):
    # Most specific prefixes come first in the table (SEG before the other 66.x classes).
    for prefix, kind in _NON_IMAGE_SOP_CLASS_PREFIXES:
        stem = prefix.rstrip(".")
        if sopClassUID == stem or sopClassUID.startswith(stem + "."):
            return kind
    return _NON_IMAGE_MODALITIES.get(modality)


def _referencedSeries(dataset):
    uids = []
    for item in dataset.get("ReferencedSeriesSequence", None) or []:
        uid = _text(item, "SeriesInstanceUID")
        if uid and uid not in uids:
            uids.append(uid)
    return uids


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


# --- slice geometry ----------------------------------------------------------------------------


def _checkSliceGeometry(slices):
    """Usual slice spacing (mm) and warnings for slices sorted along the normal."""
    problems = []
    orientations = np.array([item.orientation for item in slices])
    if np.abs(orientations - orientations[0]).max() > ORIENTATION_TOLERANCE:
        count = len({tuple(np.round(row, 3)) for row in orientations})
        problems.append(
            f"its slices have {count} different orientations (a localizer, or several stacks in one series): "
            "they do not form one volume"
        )
        return None, problems
    sizes = sorted({(item.columns, item.rows) for item in slices}, key=str)
    if len(sizes) > 1:
        listing = ", ".join(f"{columns}x{rows}" for columns, rows in sizes)
        problems.append(f"its slices have different sizes ({listing}): they do not form one volume")
    pixelSpacings = sorted({tuple(np.round(item.pixelSpacing, 4)) if item.pixelSpacing else () for item in slices})
    if len(pixelSpacings) > 1:
        listing = ", ".join("x".join(f"{value:g}" for value in spacing[::-1]) or "none" for spacing in pixelSpacings)
        problems.append(f"its slices have different pixel spacings ({listing} mm): they do not form one volume")
    if len(slices) < 2:
        return None, problems
    positions = np.array([item.position for item in slices])
    gaps = np.diff(positions)
    duplicate = gaps < SPACING_TOLERANCE_MM
    if duplicate.any():
        first = int(np.flatnonzero(duplicate)[0])
        problems.append(
            f"{int(duplicate.sum())} slice(s) lie at the same position as another (e.g. '{slices[first].path}' and "
            f"'{slices[first + 1].path}' at {positions[first]:.2f} mm): several phases, echoes or acquisitions "
            "in one series? Loaded as one volume they would be stacked wrongly"
        )
    distinct = gaps[~duplicate]
    if len(distinct) == 0:
        return None, problems
    spacing = float(np.median(distinct))
    missing = distinct > MISSING_SLICE_GAP_FACTOR * spacing
    if missing.any():
        distinctIndices = np.flatnonzero(~duplicate)
        details = []
        total = 0
        for gapIndex in distinctIndices[missing]:
            gap = float(gaps[gapIndex])
            count = max(int(round(gap / spacing)) - 1, 1)
            total += count
            details.append(f"{count} between {positions[gapIndex]:.2f} and {positions[gapIndex + 1]:.2f} mm")
        problems.append(
            f"about {total} slice(s) missing ({'; '.join(details)}; usual spacing {spacing:.2f} mm): "
            "the volume would have a gap"
        )
    regular = distinct[~missing]
    if len(regular) and regular.max() - regular.min() > SPACING_TOLERANCE_MM:
        problems.append(
            f"uneven slice spacing: gaps from {regular.min():.3f} to {regular.max():.3f} mm "
            f"(usual {spacing:.3f} mm); a volume assumes one spacing"
        )
    rowDirection, columnDirection = orientations[0][:3], orientations[0][3:]
    normal = np.cross(rowDirection, columnDirection)
    normal = normal / np.linalg.norm(normal)
    offsets = np.array([item.imagePosition for item in slices]) - slices[0].imagePosition
    sideways = offsets - np.outer(offsets @ normal, normal)
    shift = float(np.linalg.norm(sideways, axis=1).max())
    if shift > IN_PLANE_SHIFT_TOLERANCE_MM:
        problems.append(
            f"slice origins shift sideways by up to {shift:.2f} mm along the stack (gantry tilt?): "
            "a volume built from them is sheared"
        )
    return spacing, problems


# --- the index ---------------------------------------------------------------------------------


def _patientKey(patientId, patientName, birthDateText):
    # PatientID identifies the patient; a name typed differently in another study must not split
    # one patient's timeline (it is reported instead). Without an ID, name and birth date have to do.
    return (patientId,) if patientId else ("", patientName, birthDateText)


def _seriesLabel(series):
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


def _seriesSortKey(series):
    return (series.seriesNumber is None, series.seriesNumber or 0, series.seriesDescription, series.seriesInstanceUID)


def indexDicomFolder(folder):
    """Walk ``folder`` (recursively) and index every DICOM file by patient, study and series.

    Only headers are read. Files that are not DICOM or cannot be read are skipped and listed in
    ``skippedFiles`` with the reason; DICOM objects without image slices (SEG, reports, DICOMDIR)
    are listed in ``otherObjects``. Slices are ordered by position along the slice normal.
    """
    if not isinstance(folder, str) or not os.path.isdir(folder):
        raise ValueError(f"DICOM folder '{folder}' does not exist or is not a folder: expected a folder of DICOM files")
    builder = _IndexBuilder(folder)

    def listingError(error):
        # A sub-folder that cannot be listed would otherwise vanish from the index unnoticed.
        builder.index.skippedFiles.append(SkippedFile(getattr(error, "filename", None) or str(error), "folder cannot be read"))

    for root, directories, names in os.walk(folder, onerror=listingError):
        directories.sort()  # a stable walk gives a stable listing
        for name in sorted(names):
            _addToIndex(builder, os.path.join(root, name))
    return builder.finish()


def indexDicomFiles(paths, source="DICOM database"):
    """Index a list of DICOM files (for example those Slicer's DICOM database holds for one
    patient), exactly as indexDicomFolder indexes a folder."""
    builder = _IndexBuilder(source)
    for path in paths:
        _addToIndex(builder, path)
    return builder.finish()


def _addToIndex(builder, path):
    builder.index.fileCount += 1
    try:
        with pythonWarnings.catch_warnings():
            # pydicom warns about every non-conforming value when it is read or used; a
            # folder of thousands of files would drown the listing, and what matters for
            # the time points (dates, positions) is reported by the index itself.
            pythonWarnings.simplefilter("ignore")
            builder.addFile(path)
    except _Skip as skip:
        builder.index.skippedFiles.append(SkippedFile(path, str(skip)))
    except Exception as error:  # noqa: BLE001 - one damaged header must not stop a whole folder
        builder.index.skippedFiles.append(SkippedFile(path, f"unreadable DICOM header ({type(error).__name__}: {error})"))


class _IndexBuilder:
    def __init__(self, folder):
        self.index = DicomIndex(folder=folder)
        self.patients = {}  # patient key -> Patient
        self.studies = {}  # study key -> (Study, patient key)
        self.series = {}  # series key -> (ImageSeries, [_Slice], study key)
        self.multiFrameFiles = {}  # series key -> [(instance number, path, frames)]
        self.patientWarnings = []

    def addFile(self, path):
        dataset, pixelDataOffset, size = _readDataset(path)
        modality = _text(dataset, "Modality")
        sopClassUID = _sopClassUID(dataset)
        kind = _nonImageKind(sopClassUID, modality)
        frames = _integer(dataset, "NumberOfFrames") or 1
        multiFrame = frames > 1 or "PerFrameFunctionalGroupsSequence" in dataset
        position = _numbers(dataset, "ImagePositionPatient", 3)
        orientation = _numbers(dataset, "ImageOrientationPatient", 6)
        reason = f"{kind}: holds no image slices" if kind else ""
        if kind is None:
            # An image storage object always has pixel data; a header that ends without it (or
            # pixel data cut short) is a file damaged in copying, which Slicer could not load.
            hasPixelData = pixelDataOffset < size
            if hasPixelData:
                problem = _pixelDataProblem(dataset, path, pixelDataOffset, size)
                if problem:
                    raise _Skip(problem)
            elif "Image" in _sopClassName(sopClassUID) or "Rows" in dataset:
                raise _Skip("truncated: the file ends before its pixel data")
            if not multiFrame and (position is None or orientation is None):
                kind = _sopClassName(sopClassUID) or "image without position"
                reason = "no ImagePositionPatient/ImageOrientationPatient: not a slice of a volume"
            elif not multiFrame and np.linalg.norm(np.cross(orientation[:3], orientation[3:])) < 0.5:
                kind = _sopClassName(sopClassUID) or "image"
                reason = "ImageOrientationPatient is not two directions: not a slice of a volume"
        if kind is not None:
            self._addOtherObject(dataset, path, kind, reason, sopClassUID, modality)
            return
        studyKey, study = self._study(dataset)
        seriesUid = _text(dataset, "SeriesInstanceUID")
        if seriesUid:
            seriesKey = seriesUid
        else:
            # Anonymisers sometimes blank the UIDs (the TotalSegmentator example does): group such
            # files into stacks that can form one volume, and say so.
            seriesKey = (
                "no SeriesInstanceUID",
                studyKey,
                os.path.dirname(path),
                modality,
                _text(dataset, "SeriesNumber"),
                _text(dataset, "SeriesDescription"),
                _text(dataset, "FrameOfReferenceUID"),
                tuple(np.round(orientation, 3)) if orientation else None,
            )
        if seriesKey not in self.series:
            pixelSpacing = _numbers(dataset, "PixelSpacing", 2)
            series = ImageSeries(
                seriesInstanceUID=seriesUid,
                modality=modality,
                seriesDescription=_text(dataset, "SeriesDescription"),
                seriesNumber=_integer(dataset, "SeriesNumber"),
                studyInstanceUID=study.studyInstanceUID,
                imageOrientation=tuple(orientation) if orientation else None,
                rows=_integer(dataset, "Rows"),
                columns=_integer(dataset, "Columns"),
                pixelSpacing=tuple(pixelSpacing) if pixelSpacing else None,
                sopClassName=_sopClassName(sopClassUID),
            )
            if not seriesUid:
                series.warnings.append(
                    "no SeriesInstanceUID in its files (anonymised?): grouped by folder, series number, description "
                    "and orientation"
                )
            self.series[seriesKey] = (series, [], studyKey)
            study.series.append(series)
        series, slices, seriesStudyKey = self.series[seriesKey]
        if studyKey != seriesStudyKey:
            _addOnce(series.warnings, f"its files belong to two studies ({series.studyInstanceUID} and {study.studyInstanceUID})")
        if multiFrame:
            self.multiFrameFiles.setdefault(seriesKey, []).append((_integer(dataset, "InstanceNumber"), path, frames))
            return
        pixelSpacing = _numbers(dataset, "PixelSpacing", 2)
        slices.append(
            _Slice(
                path=path,
                position=slicePosition(dataset, path),
                imagePosition=np.array(position),
                orientation=np.array(orientation),
                rows=_integer(dataset, "Rows"),
                columns=_integer(dataset, "Columns"),
                pixelSpacing=tuple(pixelSpacing) if pixelSpacing else None,
                instanceNumber=_integer(dataset, "InstanceNumber"),
            )
        )

    def _addOtherObject(self, dataset, path, kind, reason, sopClassUID, modality):
        other = OtherObject(
            path=path,
            kind=kind,
            reason=reason,
            sopClassUID=sopClassUID,
            modality=modality,
            description=_text(dataset, "SeriesDescription") or _text(dataset, "ContentLabel"),
            patientId=_text(dataset, "PatientID"),
            patientName=_text(dataset, "PatientName"),
            studyInstanceUID=_text(dataset, "StudyInstanceUID"),
            seriesInstanceUID=_text(dataset, "SeriesInstanceUID"),
            referencedSeriesUIDs=_referencedSeries(dataset),
        )
        self.index.otherObjects.append(other)
        if other.studyInstanceUID:  # a DICOMDIR or a bare report belongs to no study
            self._study(dataset)[1].otherObjects.append(other)

    def _patient(self, dataset):
        patientId = _text(dataset, "PatientID")
        patientName = _text(dataset, "PatientName")
        birthDateText = _text(dataset, "PatientBirthDate")
        key = _patientKey(patientId, patientName, birthDateText)
        if key not in self.patients:
            try:
                birthDate = parseDicomDate(dataset.get("PatientBirthDate", ""))
            except ValueError:
                birthDate = None
                self.patientWarnings.append(
                    f"{_patientLabel(patientId, patientName)}: invalid PatientBirthDate '{birthDateText}' (expected YYYYMMDD)"
                )
            self.patients[key] = Patient(patientId, patientName, birthDate, birthDateText)
        patient = self.patients[key]
        if (patient.patientName, patient.birthDateText) != (patientName, birthDateText):
            _addOnce(
                self.patientWarnings,
                f"{_patientLabel(patientId, patient.patientName)} also appears with name '{patientName}' and birth date "
                f"'{birthDateText}': check that these files belong to the same patient",
            )
        return key, patient

    def _study(self, dataset):
        patientKey, patient = self._patient(dataset)
        studyUid = _text(dataset, "StudyInstanceUID")
        dateText = _text(dataset, "StudyDate")
        # Without a StudyInstanceUID (blanked by an anonymiser), a patient's study is what shares
        # date, time, accession number and description.
        studyKey = studyUid or (
            "no StudyInstanceUID",
            patientKey,
            dateText,
            _text(dataset, "StudyTime"),
            _text(dataset, "AccessionNumber"),
            _text(dataset, "StudyDescription"),
        )
        if studyKey not in self.studies:
            study = Study(
                studyInstanceUID=studyUid,
                patientId=patient.patientId,
                patientName=patient.patientName,
                studyDate=None,
                studyDateText=dateText,
                studyTime=None,
                studyTimeText=_text(dataset, "StudyTime"),
                studyDescription=_text(dataset, "StudyDescription"),
                accessionNumber=_text(dataset, "AccessionNumber"),
            )
            if not studyUid:
                study.warnings.append(
                    "no StudyInstanceUID in its files (anonymised?): grouped by patient, date, time, accession number "
                    "and description"
                )
            self.studies[studyKey] = (study, patientKey)
            patient.studies.append(study)
        study, studyPatientKey = self.studies[studyKey]
        if studyPatientKey != patientKey:
            _addOnce(
                self.patientWarnings,
                f"{_studyLabel(study)} holds files of two patients ('{studyPatientKey[0]}' and '{patient.patientId}'): "
                "check the export",
            )
        if dateText != study.studyDateText:
            _addOnce(study.warnings, f"its files carry different StudyDates ('{study.studyDateText}' and '{dateText}')")
        return studyKey, study

    def finish(self):
        index = self.index
        for seriesKey, (series, slices, _) in self.series.items():
            frameFiles = self.multiFrameFiles.get(seriesKey, [])
            if frameFiles:
                # Frames of enhanced objects carry their positions inside the file; they are
                # counted and noted here, and left to Slicer's DICOM module to order and load.
                series.multiFrame = True
                frameFiles.sort(key=lambda item: (item[0] is None, item[0] or 0, item[1]))
                series.files = [path for _, path, _ in frameFiles] + [item.path for item in slices]
                series.sliceCount = sum(frames for _, _, frames in frameFiles) + len(slices)
                series.warnings.append(
                    f"multi-frame object ({series.sopClassName or 'enhanced image'}, {series.sliceCount} frames in "
                    f"{len(series.files)} file(s)): its frames are not ordered by this index; load it with Slicer's "
                    "DICOM module"
                )
                continue
            # Position decides; instance number and path only keep the order of duplicates stable.
            slices.sort(key=lambda item: (item.position, item.instanceNumber is None, item.instanceNumber or 0, item.path))
            series.files = [item.path for item in slices]
            series.slicePositions = [item.position for item in slices]
            series.sliceCount = len(slices)
            series.sliceSpacing, problems = _checkSliceGeometry(slices)
            series.warnings.extend(problems)

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
            study.series.sort(key=_seriesSortKey)

        index.patients = sorted(self.patients.values(), key=lambda patient: (patient.patientId == "", patient.patientId, patient.patientName))
        for patient in index.patients:
            patient.studies.sort(key=_studySortKey)
            for study in patient.studies:
                prefix = f"{_patientLabel(patient.patientId, patient.patientName)}, {_studyLabel(study)}"
                index.warnings.extend(f"{prefix}: {warning}" for warning in study.warnings)
                for series in study.series:
                    index.warnings.extend(f"{prefix}, {_seriesLabel(series)}: {warning}" for warning in series.warnings)
        index.warnings.extend(self.patientWarnings)
        if index.skippedFiles:
            index.warnings.append(f"{len(index.skippedFiles)} file(s) skipped as not DICOM or unreadable (see the skipped files)")
        return index


def _addOnce(messages, message):
    if message not in messages:
        messages.append(message)


# --- time point proposals ----------------------------------------------------------------------


def findPatient(index, patientId, patientName=None):
    """The patient with this PatientID (and name, needed only when several patients lack an ID)."""
    matches = [patient for patient in index.patients if patient.patientId == patientId]
    if patientName is not None:
        matches = [patient for patient in matches if patient.patientName == patientName]
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(f"'{patient.patientId}' ({patient.patientName})" for patient in index.patients) or "none"
    if not matches:
        raise ValueError(f"Patient ID '{patientId}' is not in the DICOM index of '{index.folder}': expected one of {known}")
    raise ValueError(
        f"Patient ID '{patientId}' matches {len(matches)} patients in '{index.folder}' ({known}): give the patient name as well"
    )


def proposedTimePoints(index, patientId, patientName=None):
    """The patient's studies in date order (undated last) as time point proposals.

    Each proposal names the CT or MR series that would be loaded: the one with the most slices
    (ties go to the lowest series number, and are said). Roles are not assigned.
    """
    patient = findPatient(index, patientId, patientName)
    proposals = []
    for study in patient.studies:
        series, reason = _chooseVolumeSeries(study)
        warnings = list(study.warnings) + ([f"{_seriesLabel(series)}: {w}" for w in series.warnings] if series else [])
        proposals.append(
            TimePointProposal(
                studyInstanceUID=study.studyInstanceUID,
                studyDate=study.studyDate,
                studyTime=study.studyTime,
                studyDescription=study.studyDescription,
                accessionNumber=study.accessionNumber,
                series=series,
                files=list(series.files) if series else [],
                reason=reason,
                warnings=warnings,
            )
        )
    return proposals


def _chooseVolumeSeries(study):
    volumeSeries = [series for series in study.series if series.modality in VOLUME_MODALITIES]
    candidates = [series for series in volumeSeries if not series.multiFrame and series.sliceCount >= 2]
    if not candidates:
        if any(series.multiFrame for series in volumeSeries):
            return None, "its CT/MR images are multi-frame (enhanced) objects only: load them with Slicer's DICOM module"
        if volumeSeries:
            return None, "no CT/MR series with more than one slice (only single images such as localizers)"
        present = sorted({series.modality for series in study.series} | {other.modality or other.kind for other in study.otherObjects})
        return None, f"no CT or MR image series in this study (found: {', '.join(present) or 'nothing loadable'})"
    candidates.sort(key=lambda series: (-series.sliceCount,) + _seriesSortKey(series))
    chosen = candidates[0]
    reason = f"{_seriesLabel(chosen)} has the most slices ({chosen.sliceCount})"
    others = candidates[1:]
    if others:
        reason += " of the study's CT/MR series; others: " + ", ".join(f"{_seriesLabel(s)} ({s.sliceCount} slices)" for s in others)
        ties = [series for series in others if series.sliceCount == chosen.sliceCount]
        if ties:
            reason += (
                f". {len(ties)} other series have as many slices (e.g. another contrast phase): the lowest series "
                "number was taken; choose the phase you measure on"
            )
    else:
        reason += ", the only CT/MR volume in the study"
    return chosen, reason


# --- output ------------------------------------------------------------------------------------


def _formatSeriesLine(series):
    parts = [_seriesLabel(series), f"{series.sliceCount} {'frames' if series.multiFrame else 'slice' if series.sliceCount == 1 else 'slices'}"]
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


def _dateText(value):
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
                "birthDate": _dateText(patient.birthDate),
                "birthDateText": patient.birthDateText,
                "studies": [
                    {
                        "studyInstanceUID": study.studyInstanceUID,
                        "studyDate": _dateText(study.studyDate),
                        "studyDateText": study.studyDateText,
                        "studyTime": _dateText(study.studyTime),
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


def proposalToDict(proposal):
    return {
        "studyInstanceUID": proposal.studyInstanceUID,
        "studyDate": _dateText(proposal.studyDate),
        "studyTime": _dateText(proposal.studyTime),
        "studyDescription": proposal.studyDescription,
        "accessionNumber": proposal.accessionNumber,
        "seriesInstanceUID": proposal.series.seriesInstanceUID if proposal.series else None,
        "seriesDescription": proposal.series.seriesDescription if proposal.series else None,
        "modality": proposal.series.modality if proposal.series else None,
        "sliceCount": proposal.series.sliceCount if proposal.series else 0,
        "files": list(proposal.files),
        "reason": proposal.reason,
        "warnings": list(proposal.warnings),
    }
