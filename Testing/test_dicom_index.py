"""Index of a DICOM folder (patients, studies by date, series in slice order) on the real DICOM
series in ../shared/data and on generated multi-study folders with shuffled file names,
interleaved series, junk files and a study without a date."""

import datetime
import json
import math
import os
import random
import warnings
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import numpy as np
import pydicom
import pytest
from ALPPSAssessmentLib.dicom import dicomIndex, timePointProposals
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_IMAGE = "1.2.840.10008.5.1.4.1.1.4"
ENHANCED_CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2.1"
BASIC_TEXT_SR = "1.2.840.10008.5.1.4.1.1.88.11"
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0])


# --- independent reading of what the files say -----------------------------------------------


def _positionAlongNormal(path):
    """IPP . (row x column) read straight from the file, without the project's code."""
    dataset = pydicom.dcmread(path, stop_before_pixels=True)
    orientation = np.array(dataset.ImageOrientationPatient, dtype=float)
    return float(np.dot(np.array(dataset.ImagePositionPatient, dtype=float), np.cross(orientation[:3], orientation[3:])))


def _assertInSliceOrder(files):
    positions = [_positionAlongNormal(path) for path in files]
    assert all(b > a for a, b in zip(positions, positions[1:])), f"not ascending along the normal: {positions}"


# --- real data ---------------------------------------------------------------------------------


def test_ircadSeriesIsIndexedInSliceOrder(sharedData):
    folder = os.path.join(sharedData, "ircad1", "PATIENT_DICOM")
    index = dicomIndex.indexDicomFolder(folder)
    assert index.fileCount == 129 and index.skippedFiles == [] and index.otherObjects == []
    assert len(index.patients) == 1 and len(index.patients[0].studies) == 1
    study = index.patients[0].studies[0]
    assert study.studyDate == datetime.date(2009, 5, 27)
    (series,) = study.series
    assert series.modality == "CT" and series.sliceCount == 129 and len(series.files) == 129
    assert series.sliceSpacing == pytest.approx(1.6, abs=1e-3)
    assert series.warnings == [] and index.warnings == []
    _assertInSliceOrder(series.files)
    # image_0 .. image_128 sort by name as image_0, image_1, image_10, ...: not the slice order.
    assert series.files != sorted(series.files)
    # GDCM (SimpleITK) sorts the same folder by position too: an independent second opinion.
    import SimpleITK as sitk

    assert series.files == list(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(folder))
    (proposal,) = timePointProposals.proposedTimePoints(index, "", "liver_01^patient")
    assert proposal.files == series.files and proposal.studyDate == datetime.date(2009, 5, 27)


def test_jpeg2000SeriesHeadersAreIndexedWithoutADecoder(sharedData):
    folder = os.path.join(sharedData, "totalsegmentator", "example_ct_dicom")
    index = dicomIndex.indexDicomFolder(folder)
    assert index.fileCount == 20 and index.skippedFiles == []
    (patient,) = index.patients
    (study,) = patient.studies
    (series,) = study.series
    assert str(pydicom.dcmread(series.files[0], stop_before_pixels=True).file_meta.TransferSyntaxUID) == "1.2.840.10008.1.2.4.90"
    assert series.sliceCount == 20 and series.sliceSpacing == pytest.approx(2.0, abs=1e-3)
    assert series.seriesDescription == "CT Body 3.0" and study.studyDate == datetime.date(2022, 12, 8)
    _assertInSliceOrder(series.files)
    # The anonymiser blanked Study and Series Instance UIDs: grouped anyway, and said so.
    assert study.studyInstanceUID == "" and series.seriesInstanceUID == ""
    assert any("no SeriesInstanceUID" in warning for warning in series.warnings)
    assert any("no StudyInstanceUID" in warning for warning in study.warnings)
    (proposal,) = timePointProposals.proposedTimePoints(index, "")
    assert proposal.series is series and len(proposal.files) == 20


def test_dicomSegIsAnOtherObjectNotAnImageSeries(sharedData):
    folder = os.path.join(sharedData, "dcmqi")
    index = dicomIndex.indexDicomFolder(folder)
    (patient,) = index.patients
    (study,) = patient.studies
    (series,) = study.series
    assert series.modality == "CT" and series.sliceCount == 3
    assert series.sliceSpacing == pytest.approx(1.0, abs=1e-3)
    _assertInSliceOrder(series.files)
    (seg,) = index.otherObjects
    assert seg.path.endswith("liver.dcm") and seg.modality == "SEG" and "DICOM SEG" in seg.kind
    assert seg.referencedSeriesUIDs == [series.seriesInstanceUID], "the SEG names the CT it was drawn on"
    assert study.otherObjects == [seg]
    assert [os.path.basename(item.path) for item in index.skippedFiles] == ["liver_seg.nrrd"]
    (proposal,) = timePointProposals.proposedTimePoints(index, "99000")
    assert proposal.series is series, "the SEG is never proposed as the time point's volume"


# --- generated folders -------------------------------------------------------------------------


def _rotation(xDegrees, zDegrees):
    x, z = math.radians(xDegrees), math.radians(zDegrees)
    aboutX = np.array([[1, 0, 0], [0, math.cos(x), -math.sin(x)], [0, math.sin(x), math.cos(x)]])
    aboutZ = np.array([[math.cos(z), -math.sin(z), 0], [math.sin(z), math.cos(z), 0], [0, 0, 1]])
    return aboutZ @ aboutX


HEAD_FIRST_AXIAL = (np.array([1.0, 0, 0]), np.array([0, 1.0, 0]))
# Feet-first supine: the row direction points to the patient's right, so the slice normal points
# to the feet; ascending along the normal is descending in z.
_oblique = _rotation(20, 15)
OBLIQUE_FEET_FIRST = (_oblique @ np.array([-1.0, 0, 0]), _oblique @ np.array([0, 1.0, 0]))
CORONAL = (np.array([1.0, 0, 0]), np.array([0, 0, -1.0]))


@dataclass
class SeriesPlan:
    modality: str
    number: int
    description: str
    positions: List[float]  # mm along the normal, in acquisition (instance number) order
    orientation: Tuple[np.ndarray, np.ndarray] = HEAD_FIRST_AXIAL
    origin: Tuple[float, float, float] = (-3.0, -2.0, -40.0)  # LPS point at position 0
    pixelSpacing: Tuple[float, float] = (0.8, 0.6)  # between rows, between columns
    rows: int = 6
    columns: int = 8
    sideways: Tuple[float, float, float] = (0.0, 0.0, 0.0)  # LPS shift per mm along the normal (gantry tilt)
    uid: str = field(default_factory=generate_uid)
    files: List[str] = field(default_factory=list)
    imagePositions: List[np.ndarray] = field(default_factory=list)


@dataclass
class StudyPlan:
    date: Optional[str]
    time: str
    description: str
    series: List[SeriesPlan]
    uid: str = field(default_factory=generate_uid)


@dataclass
class PatientPlan:
    patientId: str
    name: str
    birthDate: str
    studies: List[StudyPlan]


def _commonDataset(patient, study, sopClassUID, modality, seriesUid, seriesNumber, description):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sopClassUID
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset = Dataset()
    dataset.file_meta = meta
    dataset.SOPClassUID = sopClassUID
    dataset.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    dataset.PatientID = patient.patientId
    dataset.PatientName = patient.name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # some dates are invalid on purpose
        dataset.PatientBirthDate = patient.birthDate
        if study.date is not None:
            dataset.StudyDate = study.date
    dataset.StudyInstanceUID = study.uid
    dataset.StudyTime = study.time
    dataset.StudyDescription = study.description
    dataset.AccessionNumber = "ACC" + study.uid[-6:]
    dataset.Modality = modality
    dataset.SeriesInstanceUID = seriesUid
    dataset.SeriesNumber = seriesNumber
    dataset.SeriesDescription = description
    return dataset


def _sliceValue(plan, position):
    # Each slice carries its own value, so that the loaded volume shows which slice went where.
    return int(round(100 + 10 * position)) + 1000 * plan.number


def _writeImageSeries(plan, patient, study, destination):
    row, column = plan.orientation
    normal = np.cross(row, column)
    frameOfReference = generate_uid()
    for instance, position in enumerate(plan.positions, 1):
        dataset = _commonDataset(patient, study, CT_IMAGE if plan.modality == "CT" else MR_IMAGE, plan.modality, plan.uid, plan.number, plan.description)
        imagePosition = np.array(plan.origin) + position * (normal + np.array(plan.sideways))
        dataset.FrameOfReferenceUID = frameOfReference
        dataset.InstanceNumber = instance
        dataset.ImagePositionPatient = [f"{value:.6f}" for value in imagePosition]
        dataset.ImageOrientationPatient = [f"{value:.6f}" for value in np.concatenate([row, column])]
        dataset.PixelSpacing = [str(value) for value in plan.pixelSpacing]
        dataset.SliceThickness = "2.0"
        dataset.Rows, dataset.Columns = plan.rows, plan.columns
        dataset.SamplesPerPixel = 1
        dataset.PhotometricInterpretation = "MONOCHROME2"
        dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit, dataset.PixelRepresentation = 16, 16, 15, 1
        dataset.RescaleIntercept, dataset.RescaleSlope = "0", "1"
        pixels = np.full((plan.rows, plan.columns), _sliceValue(plan, position), dtype=np.int16)
        pixels[0, 1] = -7  # an asymmetric mark: a transposed or flipped slice would move it
        dataset.PixelData = pixels.tobytes()
        path = destination()
        pydicom.dcmwrite(path, dataset, enforce_file_format=True)
        plan.files.append(path)
        plan.imagePositions.append(imagePosition)


def _writeEnhancedObject(patient, study, destination, frames=3):
    dataset = _commonDataset(patient, study, ENHANCED_CT_IMAGE, "CT", generate_uid(), 9, "Enhanced multi-frame")
    dataset.NumberOfFrames = frames
    dataset.Rows, dataset.Columns = 6, 8
    dataset.SamplesPerPixel = 1
    dataset.PhotometricInterpretation = "MONOCHROME2"
    dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit, dataset.PixelRepresentation = 16, 16, 15, 1
    perFrame = Sequence()
    for frame in range(frames):
        position = Dataset()
        position.ImagePositionPatient = ["0", "0", str(2.0 * frame)]
        item = Dataset()
        item.PlanePositionSequence = Sequence([position])
        perFrame.append(item)
    dataset.PerFrameFunctionalGroupsSequence = perFrame
    dataset.PixelData = np.zeros((frames, 6, 8), dtype=np.int16).tobytes()
    path = destination()
    pydicom.dcmwrite(path, dataset, enforce_file_format=True)
    return path


def _writeReport(patient, study, destination):
    dataset = _commonDataset(patient, study, BASIC_TEXT_SR, "SR", generate_uid(), 99, "Radiology report")
    path = destination()
    pydicom.dcmwrite(path, dataset, enforce_file_format=True)
    return path


@pytest.fixture
def generatedFolder(tmp_path):
    """Two patients, five studies, nine series, interleaved over sub-folders under random names,
    with a report, an enhanced multi-frame object and four junk files."""
    rng = random.Random(20240105)
    root = tmp_path / "export"
    subfolders = [root / "DICOM", root / "DICOM" / "0001", root / "other"]
    for folder in subfolders:
        folder.mkdir(parents=True, exist_ok=True)
    used = set()

    def destination():
        while True:
            name = f"{rng.getrandbits(40):010x}" + rng.choice(["", ".dcm", ".DCM"])
            if name not in used:
                used.add(name)
                return str(rng.choice(subfolders) / name)

    venous = SeriesPlan("CT", 2, "Portal venous", [17.5 - 2.5 * k for k in range(8)])  # head to feet
    arterial = SeriesPlan("CT", 3, "Arterial", [2.5 * k for k in range(6)])
    scout = SeriesPlan("CT", 1, "Scout", [0.0], orientation=CORONAL)
    oblique = SeriesPlan("CT", 2, "Portal venous oblique", [3.0 * k for k in range(7)], orientation=OBLIQUE_FEET_FIRST, origin=(10.0, -20.0, 55.0))
    mr = SeriesPlan("MR", 5, "T1 VIBE", [4.0 * k for k in (3, 0, 9, 1, 5, 2, 8, 4, 7, 6)])
    duplicate = SeriesPlan("CT", 7, "Dual phase", [0.0, 2.5, 5.0, 5.0, 7.5, 10.0])
    gapped = SeriesPlan("CT", 4, "Outside hospital", [0.0, 2.0, 4.0, 8.0, 10.0])
    uneven = SeriesPlan("CT", 2, "Staging", [0.0, 3.0, 5.0, 8.0, 10.0])
    first = StudyPlan("20240105", "083000", "CT abdomen pre-stage 1", [venous, arterial, scout])
    interstage = StudyPlan("20240118", "101500.25", "CT interstage", [oblique])
    mrStudy = StudyPlan("20240112", "0900", "MR liver", [mr, duplicate])
    undated = StudyPlan(None, "", "CT outside hospital", [gapped])
    alpha = PatientPlan("ALPPS-001", "Test^Alpha", "19580612", [first, interstage, mrStudy, undated])
    staging = StudyPlan("20231201", "140000", "CT staging", [uneven])
    beta = PatientPlan("ALPPS-002", "Test^Beta", "19601345", [staging])

    # Interleave: write slices of every series in a random order of series, a few at a time.
    pending = [(patient, study, plan) for patient in (alpha, beta) for study in patient.studies for plan in study.series]
    for patient, study, plan in rng.sample(pending, len(pending)):
        _writeImageSeries(plan, patient, study, destination)
    report = _writeReport(alpha, first, destination)
    enhanced = _writeEnhancedObject(beta, staging, destination)

    junk = {}
    junk["text"] = root / "other" / "notes.txt"
    junk["text"].write_text("Follow-up CT after ALPPS stage 1, see PACS.")
    junk["empty"] = root / "DICOM" / "EMPTY"
    junk["empty"].write_bytes(b"")
    whole = open(venous.files[3], "rb").read()
    junk["headerCut"] = root / "DICOM" / "0001" / "cut_header"
    junk["headerCut"].write_bytes(whole[: len(whole) // 3])
    junk["pixelsCut"] = root / "other" / "cut_pixels.dcm"
    junk["pixelsCut"].write_bytes(whole[:-40])  # full header, short pixel data: same position as a real slice
    return {
        "root": str(root),
        "patients": (alpha, beta),
        "series": {plan.description: plan for plan in (venous, arterial, scout, oblique, mr, duplicate, gapped, uneven)},
        "studies": {"first": first, "interstage": interstage, "mr": mrStudy, "undated": undated, "staging": staging},
        "report": report,
        "enhanced": enhanced,
        "junk": {key: str(path) for key, path in junk.items()},
    }


def _allSeries(index):
    return {series.seriesInstanceUID: series for patient in index.patients for study in patient.studies for series in study.series}


def test_generatedFolderIsIndexedByPatientStudyAndSeries(generatedFolder):
    index = dicomIndex.indexDicomFolder(generatedFolder["root"])
    plans = generatedFolder["series"]
    imageFiles = sum(len(plan.files) for plan in plans.values())
    assert index.fileCount == imageFiles + 2 + 4  # + report, enhanced object, junk

    assert [patient.patientId for patient in index.patients] == ["ALPPS-001", "ALPPS-002"]
    alpha, beta = index.patients
    assert alpha.patientName == "Test^Alpha" and alpha.birthDate == datetime.date(1958, 6, 12)
    assert beta.birthDate is None and beta.birthDateText == "19601345"
    assert any("invalid PatientBirthDate '19601345'" in warning for warning in index.warnings)

    # Studies by date whatever order they were written in; the undated one last, never dropped.
    assert [study.studyDate for study in alpha.studies] == [
        datetime.date(2024, 1, 5),
        datetime.date(2024, 1, 12),
        datetime.date(2024, 1, 18),
        None,
    ]
    assert [study.studyDescription for study in alpha.studies][-1] == "CT outside hospital"
    assert alpha.studies[0].studyTime == datetime.time(8, 30)
    assert alpha.studies[2].studyTime == datetime.time(10, 15, 0, 250000)
    undated = alpha.studies[-1]
    assert undated.studyDateText == "" and undated.warnings[0].startswith("no StudyDate")
    assert any("CT outside hospital" in warning and "no StudyDate" in warning for warning in index.warnings)

    # Every slice in its series, ordered by position along the normal, not by name.
    series = _allSeries(index)
    for plan in plans.values():
        indexed = series[plan.uid]
        assert sorted(indexed.files) == sorted(plan.files), plan.description
        assert indexed.sliceCount == len(plan.positions)
        expected = [path for _, path in sorted(zip(plan.positions, plan.files))]
        if plan.description != "Dual phase":
            assert indexed.files == expected, plan.description
            if len(plan.files) > 1:
                _assertInSliceOrder(indexed.files)
        assert indexed.slicePositions == pytest.approx(sorted(_positionAlongNormal(path) for path in plan.files), abs=1e-4)
    for description in ("Portal venous", "Portal venous oblique", "T1 VIBE"):
        files = series[plans[description].uid].files
        assert files != sorted(files) and files != sorted(files, key=os.path.basename), f"{description}: names happen to sort in slice order"
    # Feet-first: slice order along the normal runs from head to feet (z descending).
    obliqueFiles = series[plans["Portal venous oblique"].uid].files
    zValues = [float(pydicom.dcmread(path, stop_before_pixels=True).ImagePositionPatient[2]) for path in obliqueFiles]
    assert zValues == sorted(zValues, reverse=True)

    assert series[plans["Portal venous"].uid].sliceSpacing == pytest.approx(2.5)
    assert series[plans["Portal venous oblique"].uid].sliceSpacing == pytest.approx(3.0, abs=1e-4)
    assert series[plans["Portal venous"].uid].warnings == []
    assert series[plans["Portal venous oblique"].uid].warnings == []
    duplicateWarnings = series[plans["Dual phase"].uid].warnings
    assert len(duplicateWarnings) == 1 and "1 slice(s) lie at the same position" in duplicateWarnings[0]
    gapWarnings = series[plans["Outside hospital"].uid].warnings
    assert len(gapWarnings) == 1 and "about 1 slice(s) missing (1 between -36.00 and -32.00 mm; usual spacing 2.00 mm)" in gapWarnings[0]
    unevenWarnings = series[plans["Staging"].uid].warnings
    assert len(unevenWarnings) == 1 and "uneven slice spacing: gaps from 2.000 to 3.000 mm" in unevenWarnings[0]

    # Junk is skipped and counted, with its reason; the cut copy of a venous slice is not a duplicate.
    skipped = {item.path: item.reason for item in index.skippedFiles}
    junk = generatedFolder["junk"]
    assert set(skipped) == set(junk.values())
    assert skipped[junk["text"]].startswith("not DICOM")
    assert skipped[junk["empty"]] == "empty file (0 bytes)"
    assert skipped[junk["headerCut"]] == "truncated: the file ends before its pixel data"
    assert skipped[junk["pixelsCut"]] == "truncated: pixel data has 56 of 96 bytes"
    assert "4 file(s) skipped" in index.warnings[-1]

    # The report and the enhanced object are listed, not lost; the report is no image series.
    (report,) = index.otherObjects
    assert report.path == generatedFolder["report"] and report.kind == "structured report"
    assert alpha.studies[0].otherObjects == [report]
    (staging,) = beta.studies
    enhanced = [item for item in staging.series if item.multiFrame]
    assert len(enhanced) == 1 and enhanced[0].files == [generatedFolder["enhanced"]] and enhanced[0].sliceCount == 3
    assert "multi-frame object" in enhanced[0].warnings[0]


def test_proposedTimePointsAreTheStudiesInDateOrderWithTheirVolumeSeries(generatedFolder):
    index = dicomIndex.indexDicomFolder(generatedFolder["root"])
    plans = generatedFolder["series"]
    proposals = timePointProposals.proposedTimePoints(index, "ALPPS-001")
    assert [proposal.studyDate for proposal in proposals] == [
        datetime.date(2024, 1, 5),
        datetime.date(2024, 1, 12),
        datetime.date(2024, 1, 18),
        None,
    ]
    chosen = [proposal.series.seriesDescription for proposal in proposals]
    assert chosen == ["Portal venous", "T1 VIBE", "Portal venous oblique", "Outside hospital"]
    first = proposals[0]
    assert "has the most slices (8)" in first.reason and "others: CT series 3 'Arterial' (6 slices)" in first.reason
    assert first.files == [path for _, path in sorted(zip(plans["Portal venous"].positions, plans["Portal venous"].files))]
    assert proposals[1].series.modality == "MR" and "CT series 7 'Dual phase' (6 slices)" in proposals[1].reason
    assert not any("same position" in warning for warning in proposals[1].warnings), "the chosen MR has no duplicates"
    assert proposals[3].warnings[0].startswith("no StudyDate") and proposals[3].studyDate is None
    assert not hasattr(proposals[0], "role"), "roles are the user's choice"
    # The enhanced object is noted but not proposed as the volume to load.
    (staging,) = timePointProposals.proposedTimePoints(index, "ALPPS-002")
    assert staging.series.seriesDescription == "Staging" and not staging.series.multiFrame
    assert any("uneven slice spacing" in warning for warning in staging.warnings)
    document = json.loads(json.dumps([timePointProposals.proposalToDict(proposal) for proposal in proposals]))
    assert document[0]["studyDate"] == "2024-01-05" and document[3]["studyDate"] is None
    with pytest.raises(ValueError, match="Patient ID 'ALPPS-999' is not in the DICOM index .*'ALPPS-001'"):
        timePointProposals.proposedTimePoints(index, "ALPPS-999")


def test_tiedSliceCountsAreSaidNotHidden(tmp_path):
    patient = PatientPlan("ALPPS-003", "Test^Gamma", "19700101", [])
    venous = SeriesPlan("CT", 5, "Venous", [2.0 * k for k in range(5)])
    arterial = SeriesPlan("CT", 4, "Arterial", [2.0 * k for k in range(5)])
    study = StudyPlan("20240301", "120000", "CT triphasic", [venous, arterial])
    names = iter(range(100))
    for plan in study.series:
        _writeImageSeries(plan, patient, study, lambda: str(tmp_path / f"{next(names):03d}"))
    (proposal,) = timePointProposals.proposedTimePoints(dicomIndex.indexDicomFolder(str(tmp_path)), "ALPPS-003")
    assert proposal.series.seriesDescription == "Arterial", "lowest series number among equals"
    assert "1 other series have as many slices" in proposal.reason and "choose the phase" in proposal.reason


def test_gantryTiltIsReported(tmp_path):
    patient = PatientPlan("ALPPS-005", "Test^Epsilon", "19700101", [])
    tilted = SeriesPlan("CT", 2, "Tilted", [2.0 * k for k in range(6)], sideways=(0.0, 0.2, 0.0))
    study = StudyPlan("20240301", "120000", "CT", [tilted])
    _writeImageSeries(tilted, patient, study, lambda: str(tmp_path / generate_uid()))
    (series,) = dicomIndex.indexDicomFolder(str(tmp_path)).patients[0].studies[0].series
    assert series.sliceSpacing == pytest.approx(2.0, abs=1e-4)
    assert series.warnings == ["slice origins shift sideways by up to 2.00 mm along the stack (gantry tilt?): a volume built from them is sheared"]


def test_listingAndJsonShowStudiesByDateAndWarningsLast(generatedFolder):
    index = dicomIndex.indexDicomFolder(generatedFolder["root"])
    text = dicomIndex.formatIndex(index)
    lines = text.splitlines()
    studyLines = [line for line in lines if line.startswith("  Study ")]
    assert [line.split()[1] for line in studyLines] == ["2024-01-05", "2024-01-12", "2024-01-18", "(no", "2023-12-01"]
    assert "    CT series 2 'Portal venous'  8 slices  8x6  0.6x0.8 mm pixels  2.5 mm apart" in lines
    assert "    CT series 7 'Dual phase'  6 slices  8x6  0.6x0.8 mm pixels  2.5 mm apart  1 warning(s)" in lines
    assert any(line.startswith("    other object: SR structured report 'Radiology report'") for line in lines)
    skippedAt = lines.index("Skipped files (4):")
    assert lines[skippedAt + 1 : skippedAt + 5] == [f"  {item.path}: {item.reason}" for item in index.skippedFiles]
    warningsAt = lines.index(f"Warnings ({len(index.warnings)}):")
    assert warningsAt > skippedAt and len(lines) == warningsAt + 1 + len(index.warnings)
    document = json.loads(json.dumps(dicomIndex.indexToDict(index)))
    alpha = document["patients"][0]
    assert [study["studyDate"] for study in alpha["studies"]] == ["2024-01-05", "2024-01-12", "2024-01-18", None]
    assert alpha["studies"][0]["studyTime"] == "08:30:00"
    assert alpha["studies"][0]["series"][1]["files"] == index.patients[0].studies[0].series[1].files
    assert len(document["skippedFiles"]) == 4 and document["warnings"] == index.warnings


def test_missingFolderIsRefusedByName(tmp_path):
    with pytest.raises(ValueError, match="DICOM folder '.*nowhere' does not exist or is not a folder"):
        dicomIndex.indexDicomFolder(str(tmp_path / "nowhere"))
    empty = dicomIndex.indexDicomFolder(str(tmp_path))
    assert empty.patients == [] and "No warnings." in dicomIndex.formatIndex(empty)


def test_dicomDatesAreParsedOrRefused():
    assert dicomIndex.parseDicomDate("20240105") == datetime.date(2024, 1, 5)
    assert dicomIndex.parseDicomDate("2024.01.05") == datetime.date(2024, 1, 5)  # ACR-NEMA form
    assert dicomIndex.parseDicomDate("") is None
    for text in ("20241305", "2024-01-05", "2024", "yesterday"):
        with pytest.raises(ValueError, match=f"DICOM date '{text}' is not a date: expected YYYYMMDD"):
            dicomIndex.parseDicomDate(text)
    assert dicomIndex.parseDicomTime("0830") == datetime.time(8, 30)
    assert dicomIndex.parseDicomTime("235960") == datetime.time(23, 59, 59)
    with pytest.raises(ValueError, match="expected HHMMSS"):
        dicomIndex.parseDicomTime("2561")


def test_invalidStudyDateIsReportedAndListedLast(tmp_path):
    patient = PatientPlan("ALPPS-004", "Test^Delta", "19700101", [])
    for date, description in (("20241399", "Typo date"), ("20240110", "Good date")):
        study = StudyPlan(date, "080000", description, [SeriesPlan("CT", 1, "Axial", [0.0, 2.0, 4.0])])
        _writeImageSeries(study.series[0], patient, study, lambda: str(tmp_path / generate_uid()))
    index = dicomIndex.indexDicomFolder(str(tmp_path))
    assert [study.studyDescription for study in index.patients[0].studies] == ["Good date", "Typo date"]
    assert index.patients[0].studies[1].studyDate is None
    assert any("invalid StudyDate '20241399' (expected YYYYMMDD)" in warning for warning in index.warnings)


def test_slicerReadsTheSlicesInTheIndexOrderWithTheirGeometry(generatedFolder, slicerContext):
    """The oblique feet-first series, loaded from the index's file list by the project's loader,
    has the generated geometry in RAS and each slice in its place."""
    import slicer.util
    import vtk
    from ALPPSVolumetryLib.segments import segmentationIO

    plan = generatedFolder["series"]["Portal venous oblique"]
    index = dicomIndex.indexDicomFolder(generatedFolder["root"])
    series = _allSeries(index)[plan.uid]
    volumeNode = segmentationIO.loadVolume(slicerContext.scene, series.files, name="oblique")

    row, column = plan.orientation
    normal = np.cross(row, column)
    order = np.argsort(plan.positions)
    firstPosition = plan.imagePositions[order[0]]
    assert volumeNode.GetSpacing() == pytest.approx((plan.pixelSpacing[1], plan.pixelSpacing[0], 3.0), abs=1e-4)
    assert volumeNode.GetOrigin() == pytest.approx(tuple(LPS_TO_RAS @ firstPosition), abs=1e-4)
    directions = vtk.vtkMatrix4x4()
    volumeNode.GetIJKToRASDirectionMatrix(directions)
    for axis, expected in enumerate((row, column, normal)):
        measured = [directions.GetElement(component, axis) for component in range(3)]
        assert measured == pytest.approx(tuple(LPS_TO_RAS @ expected), abs=1e-5), f"axis {axis}"

    voxels = slicer.util.arrayFromVolume(volumeNode)
    assert voxels.shape == (len(plan.positions), plan.rows, plan.columns)
    for k, position in enumerate(sorted(plan.positions)):
        assert voxels[k, 1, 1] == _sliceValue(plan, position), f"slice {k}"
        assert voxels[k, 0, 1] == -7 and voxels[k, 1, 0] == _sliceValue(plan, position)

    # The same files handed over in name order are put in anatomical order by the loader's
    # series checks (issue 15), so they give the same volume.
    byName = segmentationIO.loadVolume(slicerContext.scene, sorted(series.files), name="by name")
    assert sorted(series.files) != series.files
    assert byName.GetSpacing()[2] == pytest.approx(3.0, abs=1e-3) and np.array_equal(slicer.util.arrayFromVolume(byName), voxels)


def test_dicomIndexCommandAndFileListIndexAgree(sharedData, tmp_path, capsys):
    """`alpps dicom-index` prints and writes the folder index; indexing the same files as a list
    (the way Slicer's DICOM database hands them over) gives the same series."""
    from alpps import cli

    folder = os.path.join(sharedData, "dcmqi")
    jsonPath = str(tmp_path / "index.json")
    assert cli.main(["dicom-index", folder, "--json", jsonPath]) == 0
    assert "CT series" in capsys.readouterr().out
    with open(jsonPath) as stream:
        document = json.load(stream)
    fromFolder = dicomIndex.indexDicomFolder(folder)
    files = [os.path.join(folder, "ct-3slice", name) for name in ("03.dcm", "01.dcm", "02.dcm")]
    fromFiles = dicomIndex.indexDicomFiles(files)
    seriesOf = lambda index: [s for p in index.patients for st in p.studies for s in st.series]  # noqa: E731
    assert [s.files for s in seriesOf(fromFiles)] == [s.files for s in seriesOf(fromFolder)]
    assert len(document["patients"]) == 1
    assert cli.main(["dicom-index", str(tmp_path / "absent")]) == 2
