"""DICOM results of the synthetic patient, checked by independent readers: dcmqi's
segimage2itkimage (voxel counts per segment against the phantom's numpy-counted truth),
tid1500reader (numbers against the JSON), dciodvfy (no errors); pseudonymisation; DICOM SEG
read back as input; refusals that leave nothing behind."""

import glob
import json
import os
import shutil

import pydicom
import pytest
from dicomReaders import dcmqiSegments, dcmqiVoxelCounts, dciodvfyMessages, physicalCentroid, tid1500Measurements
from syntheticDicom import writeSyntheticPatient

from alpps import cli
from ALPPSAssessmentLib.dicom import codes, encapsulatedReport, resultsExport
from ALPPSVolumetryLib import syntheticPatient

PLAN = "right_trisectionectomy"
REMNANT_UNITS = ("I", "II", "III")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from alpps.headless import SlicerContext

    folder = tmp_path_factory.mktemp("dicom-export")
    with SlicerContext(workDirectory=str(folder / "slicer")) as context:
        patient, written = writeSyntheticPatient(str(folder / "input"), context)
    out = str(folder / "out")
    arguments = ["dicom-export", "--out", out, "--plan", PLAN, "--stage1-date", patient.stage1Date.isoformat(), "--height",
                 str(patient.heightCm), "--weight", str(patient.weightKg), "--stage1-liver-failure", "no"]
    for point in written:
        arguments += ["--timepoint", point.timepointArgument()]
    assert cli.main(arguments) == 0
    with open(os.path.join(out, resultsExport.MANIFEST), encoding="utf-8") as stream:
        manifest = json.load(stream)
    return patient, written, out, manifest, arguments


def _truthCounts(point):
    counts = dict(point.trueVoxelCounts)
    counts["remnant"] = sum(counts[unit] for unit in REMNANT_UNITS)
    counts["resected"] = counts["Liver"] - counts["remnant"]
    return counts


def _truthKey(label):
    if label.startswith("Segment "):
        return label.split(" ", 1)[1]
    if label.startswith("Future liver remnant"):
        return "remnant"
    if label.startswith("Resected liver"):
        return "resected"
    return label  # Liver, Tumour 1..3


def test_segVoxelCountsReadByDcmqiAreThePhantomsTruth(exported, tmp_path):
    _, written, out, manifest, _ = exported
    for point, entry in zip(written, manifest["timePoints"]):
        segPath = os.path.join(out, point.role.replace(" ", "-"), resultsExport.SEG_FILE)
        counted = dcmqiVoxelCounts(segPath, str(tmp_path / point.role.replace(" ", "-")))
        truth = _truthCounts(point.truth)
        assert set(counted) == set(entry["segments"]), point.role
        for label, count in counted.items():
            assert count == truth[_truthKey(label)], (point.role, label)
            assert count == entry["segments"][label]["voxelCount"]


def test_segSegmentsLieWhereThePhantomDrewThem(exported, tmp_path):
    """Counts cannot see a flipped or shifted SEG: dcmqi's images must put each Couinaud segment's
    centroid where the phantom's labels have it (RAS of the drawing grid, turned to LPS)."""
    import numpy as np

    _, written, out, _, _ = exported
    point = written[-1]
    images = dcmqiSegments(os.path.join(out, point.role.replace(" ", "-"), resultsExport.SEG_FILE), str(tmp_path / "dcmqi"))
    for value, unit in enumerate(("I", "II", "III", "IV", "V", "VI", "VII", "VIII"), 1):
        k, j, i = np.nonzero(point.truth.couinaudLabels == value)
        ras = point.truth.ijkToRAS @ [i.mean(), j.mean(), k.mean(), 1.0]
        assert physicalCentroid(images[f"Segment {unit}"]) == pytest.approx([-ras[0], -ras[1], ras[2]], abs=1e-3), unit


def _srMeasurements(path, tmp_path):
    return tid1500Measurements(path, str(tmp_path / (os.path.basename(os.path.dirname(path)) + ".json")))


def test_srNumbersReadByTid1500readerAreTheJsonNumbers(exported, tmp_path):
    patient, written, out, manifest, _ = exported
    for point, entry in zip(written, manifest["timePoints"]):
        volumetry = entry["volumetry"]
        groups = _srMeasurements(os.path.join(out, point.role.replace(" ", "-"), resultsExport.SR_FILE), tmp_path)
        bySegment = {group["ReferencedSegment"]: group for group in groups if "ReferencedSegment" in group}
        assert len(bySegment) == len(entry["segments"])
        voxelMl = point.truth.voxelVolumeMl
        for label, segment in entry["segments"].items():
            group = bySegment[segment["segmentNumber"]]
            assert group["TrackingIdentifier"] == label
            items = {(item["quantity"]["CodingSchemeDesignator"], item["quantity"]["CodeValue"]): item for item in group["measurementItems"]}
            volume = items[("SCT", codes.VOLUME.value)]
            assert volume["units"]["CodeValue"] == "mL"
            # Every volume is its segment's voxels: the SEG the SR points to holds exactly what was measured.
            assert float(volume["value"]) == pytest.approx(segment["voxelCount"] * voxelMl, rel=1e-12)
            kind = segment["key"][0]
            if kind == "couinaud":
                record, table = volumetry["segments"][segment["key"][1]], codes.SEGMENT_MEASUREMENTS
            elif kind == "liver":
                record, table = volumetry["liver"], codes.LIVER_MEASUREMENTS
            elif kind == "tumour":
                record, table = {"volumeMl": volumetry["liver"]["tumourVolumesMl"][segment["key"][1]]}, codes.TUMOUR_MEASUREMENTS
            elif kind == "remnant":
                record, table = codes.remnantRecord(volumetry["plans"][PLAN], volumetry["patient"]), codes.REMNANT_MEASUREMENTS
            else:
                record, table = volumetry["plans"][PLAN], codes.RESECTED_MEASUREMENTS
            expected = {(m.concept.scheme, m.concept.value): codes.fieldValue(record, m.field) for m in table if codes.fieldValue(record, m.field) is not None}
            assert set(items) == set(expected), label
            for key, value in expected.items():
                assert float(items[key]["value"]) == pytest.approx(value, rel=1e-12), (label, key)
        remnant = volumetry["plans"][PLAN]
        # sFLR and FLR-BWR by their formulas from the phantom's counted remnant (clinical reference section 2).
        trueRemnant = sum(point.truth.trueVolumesMl[unit] for unit in REMNANT_UNITS)
        assert remnant["flrBwr"] == pytest.approx(trueRemnant / (patient.weightKg * 1000) * 100, rel=1e-12)
    latest = _srMeasurements(os.path.join(out, written[-1].role.replace(" ", "-"), resultsExport.SR_FILE), tmp_path)
    growth = [group for group in latest if group["Finding"]["CodeValue"] == codes.GROWTH_GROUP.value]
    expected = [(words, item) for words, item in codes.growthItems(manifest["hypertrophy"]) if item["to"]["role"] == written[-1].role]
    assert len(growth) == len(expected) >= 2
    for (words, item), group in zip(expected, growth):
        assert group["TrackingIdentifier"] == codes.growthLabel(words, item) and f"{item['days']} d, {words}" in group["TrackingIdentifier"]
        values = {entry["quantity"]["CodeValue"]: float(entry["value"]) for entry in group["measurementItems"]}
        shown = {measure.concept.value: codes.fieldValue(item, measure.field) for measure in codes.GROWTH_MEASUREMENTS}
        assert values == pytest.approx({key: value for key, value in shown.items() if value is not None}, rel=1e-12)
        assert values[codes.RELATIVE_GROWTH.value] == pytest.approx(item["remnant"]["relativeGrowthPercent"], rel=1e-12)
    readiness = next(group for group in latest if group["Finding"]["CodeValue"] == codes.READINESS_GROUP.value)
    states = [item["conceptValue"]["CodeMeaning"] for item in readiness["qualitativeEvaluations"]]
    assert states == [codes.readinessStateCode(item["state"]).meaning for item in manifest["readiness"]]


def _dciodvfyErrors(path):
    return dciodvfyMessages(path)


def test_dciodvfyFindsNoErrorInSegAndSr(exported):
    _, written, out, _, _ = exported
    for point in written:
        for name in (resultsExport.SEG_FILE, resultsExport.SR_FILE):
            errors, warnings = _dciodvfyErrors(os.path.join(out, point.role.replace(" ", "-"), name))
            assert errors == [], (point.role, name, errors)
            # The README lists the one kind of warning: the private coding scheme is not a DICOM defined term.
            assert all("99ALPPS" in line for line in warnings), warnings


def _qtPdf(path):
    QtGui = pytest.importorskip("PySide6.QtGui", reason="PySide6 (test extra) makes the PDF when Chromium is absent")
    from PySide6.QtWidgets import QApplication

    QApplication.instance() or QApplication(["test", "-platform", "offscreen"])
    writer = QtGui.QPdfWriter(str(path))
    document = QtGui.QTextDocument()
    document.setHtml("<h1>ALPPS patient report</h1><p>Remnant 412.5 mL</p>")
    document.print_(writer)
    del writer
    return path.read_bytes()


def test_encapsulatedPdfHoldsThePdfAndPassesDciodvfy(exported, tmp_path):
    _, written, _, _, _ = exported
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    pdf = _qtPdf(tmp_path / "report.pdf")
    study = pydicom.dcmread(sorted(glob.glob(os.path.join(written[-1].ctFolder, "*.dcm")))[0])
    dataset = encapsulatedReport.encapsulatePdf(pdf, study)
    path = str(tmp_path / "pdf.dcm")
    dataset.save_as(path, enforce_file_format=True)
    back = pydicom.dcmread(path)
    assert back.EncapsulatedDocument[: back.EncapsulatedDocumentLength] == pdf
    assert (back.StudyInstanceUID, back.PatientID) == (study.StudyInstanceUID, study.PatientID)
    errors, _ = _dciodvfyErrors(path)
    assert errors == []


@pytest.mark.skipif(encapsulatedReport.chromiumPath() is None, reason="Chromium is not installed (apt-get install chromium): report PDF not printed")
def test_exportPutsTheChromiumPrintedReportInTheLatestStudy(exported):
    _, written, out, manifest, _ = exported
    entry = next(item for item in manifest["objects"] if item["what"].startswith("patient report"))
    dataset = pydicom.dcmread(os.path.join(out, entry["path"]))
    latest = pydicom.dcmread(sorted(glob.glob(os.path.join(written[-1].ctFolder, "*.dcm")))[0])
    assert dataset.StudyInstanceUID == latest.StudyInstanceUID and dataset.EncapsulatedDocument.startswith(b"%PDF-")
    assert _dciodvfyErrors(os.path.join(out, entry["path"]))[0] == []


def test_withoutChromiumTheExportSaysWhyThereIsNoPdf(exported):
    _, _, _, manifest, _ = exported
    hasPdf = any(item["what"].startswith("patient report") for item in manifest["objects"])
    assert hasPdf == (encapsulatedReport.chromiumPath() is not None)
    if not hasPdf:
        assert any("Chromium is not installed" in note for note in manifest["notes"])


def test_segReferencesItsCtSeriesAndSrItsSeg(exported):
    _, written, out, manifest, _ = exported
    for point in written:
        folder = os.path.join(out, point.role.replace(" ", "-"))
        seg = pydicom.dcmread(os.path.join(folder, resultsExport.SEG_FILE))
        sr = pydicom.dcmread(os.path.join(folder, resultsExport.SR_FILE))
        ct = [pydicom.dcmread(path, stop_before_pixels=True) for path in glob.glob(os.path.join(point.ctFolder, "*.dcm"))]
        assert [item.SeriesInstanceUID for item in seg.ReferencedSeriesSequence] == [point.seriesUid]
        referenced = {item.ReferencedSOPInstanceUID for item in seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence}
        assert referenced <= {dataset.SOPInstanceUID for dataset in ct}
        assert seg.StudyInstanceUID == sr.StudyInstanceUID == ct[0].StudyInstanceUID and seg.PatientID == syntheticPatient.PATIENT_ID
        evidence = {item.ReferencedSOPInstanceUID for study in sr.CurrentRequestedProcedureEvidenceSequence
                    for series in study.ReferencedSeriesSequence for item in series.ReferencedSOPSequence}
        assert seg.SOPInstanceUID in evidence


def test_pseudonymisedExportCarriesThePseudonymAndNewUidsEverywhere(exported, tmp_path):
    patient, written, _, _, arguments = exported
    out = str(tmp_path / "pseudonymised")
    options = [value if value != arguments[arguments.index("--out") + 1] else out for value in arguments]
    assert cli.main(options + ["--anonymise", "--pseudonym", "ALPPS-007"]) == 0
    originals = set()
    for point in written:
        for path in glob.glob(os.path.join(point.ctFolder, "*.dcm")):
            dataset = pydicom.dcmread(path, stop_before_pixels=True)
            originals.update({dataset.SOPInstanceUID, dataset.SeriesInstanceUID, dataset.StudyInstanceUID, dataset.FrameOfReferenceUID})
    forbidden = [text.encode() for text in originals | {patient.patientId, "Quill", "Marjorie", syntheticPatient.PATIENT_BIRTH_DATE}]
    files = [path for path in glob.glob(os.path.join(out, "**", "*"), recursive=True) if os.path.isfile(path)]
    written_sops = {}
    for path in files:
        data = open(path, "rb").read()
        assert not [text for text in forbidden if text in data], path
        if path.endswith(".dcm"):
            dataset = pydicom.dcmread(path, stop_before_pixels=True)
            assert dataset.PatientName.family_name == dataset.PatientID == "ALPPS-007" and str(dataset.PatientName) == "ALPPS-007^" and not dataset.get("PatientBirthDate"), path
            written_sops[dataset.SOPInstanceUID] = dataset
    for seg in [dataset for dataset in written_sops.values() if dataset.Modality == "SEG"]:
        # References resolve to the pseudonymised CT copies written beside the SEG.
        for item in seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence:
            source = written_sops[item.ReferencedSOPInstanceUID]
            assert source.Modality == "CT" and source.StudyInstanceUID == seg.StudyInstanceUID
            assert source.FrameOfReferenceUID == seg.FrameOfReferenceUID


def test_dicomSegIsReadBackAsTheSegmentationItWasMadeFrom(exported, tmp_path, capsys):
    _, written, out, manifest, _ = exported
    point = written[0]
    segPath = os.path.join(out, point.role.replace(" ", "-"), resultsExport.SEG_FILE)
    jsonPath = str(tmp_path / "volumetry.json")
    assert cli.main(["volumetry", "--volume", point.ctFolder, "--segmentation", segPath, "--plan", PLAN, "--json", jsonPath]) == 0
    with open(jsonPath, encoding="utf-8") as stream:
        measured = json.load(stream)
    for unit in ("I", "II", "III", "IV", "V", "VI", "VII", "VIII"):
        assert measured["segments"][unit]["volumeMl"] == pytest.approx(point.truth.trueVolumesMl[unit], rel=1e-12)
    assert measured["liver"]["tumourVolumesMl"] == pytest.approx({name: point.truth.trueVolumesMl[name] for name in ("Tumour 1", "Tumour 2", "Tumour 3")}, rel=1e-12)
    assert measured["plans"][PLAN]["remnantMl"] == pytest.approx(manifest["timePoints"][0]["volumetry"]["plans"][PLAN]["remnantMl"], rel=1e-12)
    # The segments ALPPS derived (liver, remnant, resected) are not read back as input: the volumetry derives them again.
    assert {row["name"] for row in measured["segmentRoles"]} == {f"Segment {unit}" for unit in measured["segments"]} | {"Tumour 1", "Tumour 2", "Tumour 3"}


def test_dicomSegsServeAsTimePointsOfTheGrowthCommand(exported, tmp_path):
    patient, written, out, manifest, _ = exported
    arguments = ["hypertrophy", "--plan", PLAN, "--stage1-date", patient.stage1Date.isoformat(), "--height", str(patient.heightCm),
                 "--weight", str(patient.weightKg), "--json", str(tmp_path / "growth.json")]
    for point in written:
        segPath = os.path.join(out, point.role.replace(" ", "-"), resultsExport.SEG_FILE)
        arguments += ["--timepoint", f"{point.studyDate.isoformat()}:{point.ctFolder}:{segPath}:{point.role}"]
    assert cli.main(arguments) == 0
    with open(tmp_path / "growth.json", encoding="utf-8") as stream:
        growth = json.load(stream)
    assert [row["remnantMl"] for row in growth["timePoints"]] == pytest.approx([row["remnantMl"] for row in manifest["hypertrophy"]["timePoints"]], rel=1e-12)
    fromDicom = [(item["to"]["role"], item["remnant"]["relativeGrowthPercent"], item["kineticGrowthRatePercentPerWeek"]) for _, item in codes.growthItems(growth)]
    exported = [(item["to"]["role"], item["remnant"]["relativeGrowthPercent"], item["kineticGrowthRatePercentPerWeek"]) for _, item in codes.growthItems(manifest["hypertrophy"])]
    assert len(fromDicom) == len(exported) >= 2
    for ours, theirs in zip(fromDicom, exported):
        assert ours[0] == theirs[0] and ours[1] == pytest.approx(theirs[1], rel=1e-12)
        assert (ours[2] is None and theirs[2] is None) or ours[2] == pytest.approx(theirs[2], rel=1e-12)


def test_dicomSegOnAnotherCtIsRefusedByName(exported, capsys):
    _, written, out, _, _ = exported
    segPath = os.path.join(out, written[0].role.replace(" ", "-"), resultsExport.SEG_FILE)
    assert cli.main(["volumetry", "--volume", written[1].ctFolder, "--segmentation", segPath]) == 2
    error = capsys.readouterr().err
    assert "Traceback" not in error and segPath in error and written[0].seriesUid in error and written[1].seriesUid in error
    assert error.count("\n") == 1


def test_refusedExportsLeaveNothingBehind(exported, tmp_path, capsys):
    _, written, out, _, arguments = exported
    before = sorted(os.listdir(out))
    assert cli.main(arguments) == 2  # the folder is not empty
    assert "exists and is not empty" in capsys.readouterr().err and sorted(os.listdir(out)) == before
    newOut = str(tmp_path / "never")
    nrrd = str(tmp_path / "ct.nrrd")
    import SimpleITK as sitk

    sitk.WriteImage(sitk.ReadImage(sorted(glob.glob(os.path.join(written[0].ctFolder, "*.dcm")))), nrrd)
    bad = ["dicom-export", "--out", newOut, "--timepoint", f"{written[0].studyDate.isoformat()}:{nrrd}:{written[0].segmentationPath}"]
    assert cli.main(bad) == 2
    error = capsys.readouterr().err
    assert "not read from a DICOM series" in error and nrrd in error and "Traceback" not in error
    assert not os.path.exists(newOut) and not [name for name in os.listdir(tmp_path) if name.startswith(".alpps-dicom-export-")]


def test_sceneBundleIsExportedOnTheDicomSeriesOfItsScans(tmp_path, capsys):
    """A saved scene keeps its scans as NRRD: each is matched to the DICOM series with its voxels."""
    from alpps.headless import SlicerContext
    from ALPPSAssessmentLib.course import timeline
    from ALPPSVolumetryLib import syntheticPatientScene

    with SlicerContext(workDirectory=str(tmp_path / "slicer")) as context:
        patient, written = writeSyntheticPatient(str(tmp_path / "input"), context, syntheticPatient.TIME_POINTS[:2])
        for index, point in enumerate(written):
            volumeNode, segmentationNode = syntheticPatientScene.addTimePointNodes(context.scene, point.truth, f"Scene {index}")
            timeline.storeTimePoint(timeline.TimePoint(point.role, point.studyDate, segmentationNode, volumeNode))
        bundle = str(tmp_path / "patient.mrb")
        context.saveSceneBundle(bundle)
    out = str(tmp_path / "out")
    assert cli.main(["dicom-export", "--scene", bundle, "--dicom", str(tmp_path / "input"), "--out", out, "--plan", PLAN, "--no-pdf"]) == 0
    with open(os.path.join(out, resultsExport.MANIFEST), encoding="utf-8") as stream:
        manifest = json.load(stream)
    for point, entry in zip(written, manifest["timePoints"]):
        seg = pydicom.dcmread(os.path.join(out, point.role.replace(" ", "-"), resultsExport.SEG_FILE), stop_before_pixels=True)
        assert seg.ReferencedSeriesSequence[0].SeriesInstanceUID == point.seriesUid
        assert entry["segments"]["Segment II"]["voxelCount"] == point.truth.trueVoxelCounts["II"]
    # Another patient's folder holds no series with these voxels: refused by name, nothing written.
    other = str(tmp_path / "other")
    os.makedirs(other)
    shutil.copytree(written[0].ctFolder, os.path.join(other, "ct"))
    capsys.readouterr()
    assert cli.main(["dicom-export", "--scene", bundle, "--dicom", other, "--out", str(tmp_path / "refused"), "--no-pdf"]) == 2
    error = capsys.readouterr().err
    assert f"The {written[1].role} ({written[1].studyDate.isoformat()}) scan" in error and "matches no DICOM series" in error
    assert not os.path.exists(tmp_path / "refused")


def test_reportPdfGoesIntoTheLatestStudyPseudonymisedLikeTheRest(exported, tmp_path, monkeypatch):
    """The report's way into DICOM, with Qt's printer standing in for Chromium when it is absent:
    the HTML written from the pseudonymised document, printed, encapsulated in the latest study."""
    patient, written, _, _, arguments = exported
    printed = []

    def printWithQt(htmlPath, pdfPath):
        html = open(htmlPath, encoding="utf-8").read()
        printed.append(html)
        QtGui = pytest.importorskip("PySide6.QtGui", reason="PySide6 (test extra) prints the stand-in PDF")
        from PySide6.QtWidgets import QApplication

        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        QApplication.instance() or QApplication(["test", "-platform", "offscreen"])
        writer = QtGui.QPdfWriter(pdfPath)
        document = QtGui.QTextDocument()
        document.setHtml(html)
        document.print_(writer)
        del writer
        return None

    if encapsulatedReport.chromiumPath() is None:
        monkeypatch.setattr(encapsulatedReport, "printReportPdf", printWithQt)
    out = str(tmp_path / "with-pdf")
    options = [value if value != arguments[arguments.index("--out") + 1] else out for value in arguments]
    assert cli.main(options + ["--anonymise", "--pseudonym", "Case^Seven"]) == 0
    with open(os.path.join(out, resultsExport.MANIFEST), encoding="utf-8") as stream:
        manifest = json.load(stream)
    pdfEntry = next(item for item in manifest["objects"] if item["what"].startswith("patient report"))
    srEntry = next(item for item in manifest["objects"] if item["what"].startswith("TID 1500") and item["timePoint"] == written[-1].role)
    pdf = pydicom.dcmread(os.path.join(out, pdfEntry["path"]))
    assert pdf.StudyInstanceUID == srEntry["studyInstanceUid"] and str(pdf.PatientName) == "Case^Seven" == pdf.PatientID
    assert pdf.EncapsulatedDocument[: pdf.EncapsulatedDocumentLength].startswith(b"%PDF-")
    if printed:
        assert "Case^Seven" in printed[0] and "Quill" not in printed[0] and patient.patientId not in printed[0]
    assert _dciodvfyErrors(os.path.join(out, pdfEntry["path"]))[0] == []


def test_readmeDocumentsEveryPrivateCode():
    """The README's table of the 99ALPPS scheme is the code's: every private code with its meaning."""
    readme = open(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md"), encoding="utf-8").read()
    private = [value for value in vars(codes).values() if isinstance(value, codes.Code) and value.scheme == codes.PRIVATE_SCHEME]
    private += list(codes.SUBSEGMENT_CODES.values()) + list(codes.READINESS_STATES.values())
    for code in private:
        assert f"| `{code.value}` | {code.meaning} |" in readme, code
    for key, value in codes.READINESS_CRITERIA.items():
        assert f"| `{value}` | readiness criterion `{key}`" in readme


def test_segmentationOnAnotherGridIsRefusedByName(exported, tmp_path, capsys):
    """Couinaud labels on a grid of other voxel sizes than the CT's were not drawn on this CT: the
    export refuses them by name (the input check of every command), and writes nothing."""
    import numpy as np
    import SimpleITK as sitk

    _, written, _, _, _ = exported
    point = written[0]
    labels = point.truth.couinaudLabels.copy()
    for name, _, _ in syntheticPatient.TUMOURS:
        labels[point.truth.structures[name]] = 8 + int(name[-1])
    fine = sitk.GetImageFromArray(labels)
    matrix = point.truth.ijkToRAS
    spacing = np.linalg.norm(matrix[:3, :3], axis=0)
    fine.SetSpacing([float(v) for v in spacing])
    fine.SetDirection([float(v) for v in (np.diag([-1.0, -1.0, 1.0]) @ matrix[:3, :3] / spacing).ravel()])
    fine.SetOrigin([float(-matrix[0, 3]), float(-matrix[1, 3]), float(matrix[2, 3])])
    newSpacing = (2.5, 2.5, 3.3)
    size = [int(n * s / t) for n, s, t in zip(fine.GetSize(), spacing, newSpacing)]
    image = sitk.Resample(fine, size, sitk.Transform(), sitk.sitkNearestNeighbor, fine.GetOrigin(), newSpacing, fine.GetDirection(), 0,
                          sitk.sitkUInt8)
    labelPath = str(tmp_path / "other-grid.nrrd")
    sitk.WriteImage(image, labelPath)
    mapping = ",".join([f"{value}=Segment {unit}" for value, unit in enumerate(("I", "II", "III", "IV", "V", "VI", "VII", "VIII"), 1)]
                       + [f"{8 + number}=Tumour {number}" for number in (1, 2, 3)])
    out = str(tmp_path / "out")
    assert cli.main(["dicom-export", "--out", out, "--plan", PLAN, "--labels", mapping, "--no-pdf",
                     "--timepoint", f"{point.studyDate.isoformat()}:{point.ctFolder}:{labelPath}"]) == 2
    error = capsys.readouterr().err
    assert "does not lie on the voxel grid" in error and "2.5 x 2.5 x 3.3 mm" in error
    assert not os.path.exists(out) or os.listdir(out) == []


def test_ratioMethodNamesTheFlrThatEnteredIt():
    """Clinical reference section 2's worked example (FLR 400 mL, 170 cm, 70 kg: sTLV 1509.66 mL,
    sFLR 26.50 %, FLR-BWR 0.571 %) with 50 mL of tumour in the remnant: the method says whether the
    gross or the tumour-free FLR made the number, read from the numbers; a number that fits
    neither is refused."""
    patient = {"standardLiverVolumeMl": 1509.66, "weightKg": 70.0, "bsaM2": 1.8181}
    plan = {"label": "worked example", "remnantMl": 400.0, "tumourInRemnantMl": 50.0}
    gross = codes.remnantRecord(dict(plan, sFLR=400.0 / 1509.66 * 100, flrBwr=400.0 / 70000 * 100, flrPerBsa=400.0 / 1.8181), patient)
    assert round(gross["sFLR"], 2) == 26.50 and round(gross["flrBwr"], 3) == 0.571
    assert gross["methods"] == {"sFLR": codes.METHOD_SFLR, "flrBwr": codes.METHOD_FLR_BWR, "flrPerBsa": codes.METHOD_FLR_PER_BSA}
    assert gross["tumourFreeRemnantMl"] == 350.0
    free = codes.remnantRecord(dict(plan, sFLR=350.0 / 1509.66 * 100, flrBwr=350.0 / 70000 * 100, flrPerBsa=350.0 / 1.8181), patient)
    assert free["methods"] == {"sFLR": codes.METHOD_SFLR_TUMOUR_FREE, "flrBwr": codes.METHOD_FLR_BWR_TUMOUR_FREE,
                               "flrPerBsa": codes.METHOD_FLR_PER_BSA_TUMOUR_FREE}
    with pytest.raises(ValueError, match="sFLR 20.0 of plan 'worked example' fits neither the FLR"):
        codes.remnantRecord(dict(plan, sFLR=20.0), patient)


def test_srMethodsAreTheFormulasOfTheirNumbers(exported):
    """The method each ratio carries in the SR is the one its record calls for (read with pydicom)."""
    _, written, out, manifest, _ = exported
    for point, entry in zip(written, manifest["timePoints"]):
        sr = pydicom.dcmread(os.path.join(out, point.role.replace(" ", "-"), resultsExport.SR_FILE))
        methods = {}

        def walk(items):
            for item in items:
                name = item.ConceptNameCodeSequence[0].CodeValue if "ConceptNameCodeSequence" in item else None
                if item.ValueType == "NUM" and name in (codes.STANDARDISED_FLR.value, codes.FLR_BODY_WEIGHT_RATIO.value, codes.FLR_PER_BSA.value):
                    method = [child.ConceptCodeSequence[0].CodeValue for child in item.get("ContentSequence", ())
                              if child.ConceptNameCodeSequence[0].CodeMeaning == "Measurement Method"]
                    methods[name] = method
                walk(item.get("ContentSequence", ()))

        walk(sr.ContentSequence)
        record = codes.remnantRecord(entry["volumetry"]["plans"][PLAN], entry["volumetry"]["patient"])
        assert methods == {codes.STANDARDISED_FLR.value: [record["methods"]["sFLR"].value],
                           codes.FLR_BODY_WEIGHT_RATIO.value: [record["methods"]["flrBwr"].value],
                           codes.FLR_PER_BSA.value: [record["methods"]["flrPerBsa"].value]}
