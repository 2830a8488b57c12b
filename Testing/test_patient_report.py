"""The patient report: its numbers against the JSON export and against the synthetic patient's
truth, the report made again from the saved scene, the report from files with DICOM identifiers,
anonymisation, checksums, and (when Chromium is installed) A4 printing."""

import base64
import hashlib
import html.parser
import json
import os
import re
import shutil
import subprocess

import numpy as np
import pydicom
import pytest
from ALPPSAssessmentLib.report import patientReport, reportExport, reportHtml
from ALPPSAssessmentLib.report.reportRequest import ReportRequest
from ALPPSAssessmentLib.course import timeline
from ALPPSVolumetryLib.segments import couinaud
from ALPPSVolumetryLib.planning import resectionPlans
from ALPPSVolumetryLib import syntheticPatient, syntheticPatientScene, volumetryWorkflow
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from alpps import cli
from alpps.demo import REPORT_FOLDER, SCENE_BUNDLE, runDemo
from alpps.headless import SlicerContext

SPACING = (3.0, 3.0, 3.0)


class _NumberSpans(html.parser.HTMLParser):
    """(pointer, decimals, shown text) of every number the page shows."""

    def __init__(self):
        super().__init__()
        self.numbers, self._open, self.sources, self.tags = [], None, [], set()

    def handle_starttag(self, tag, attributes):
        attributes = dict(attributes)
        self.tags.add(tag)
        for name in ("src", "href"):
            if name in attributes:
                self.sources.append(attributes[name])
        if tag == "span" and "data-pointer" in attributes:
            self._open = [attributes["data-pointer"], int(attributes["data-decimals"]), ""]

    def handle_data(self, data):
        if self._open is not None:
            self._open[2] += data

    def handle_endtag(self, tag):
        if tag == "span" and self._open is not None:
            self.numbers.append(tuple(self._open))
            self._open = None


def _parse(path):
    parser = _NumberSpans()
    with open(path, encoding="utf-8") as stream:
        parser.feed(stream.read())
    return parser


_resolve = reportHtml.resolvePointer  # RFC 6901, itself checked by test_pointersEscapeSlashesAndTildes


@pytest.fixture(scope="module")
def demoReport(tmp_path_factory):
    """The demo at a coarse grid, with its report; the context stays open for the scene."""
    outputDirectory = str(tmp_path_factory.mktemp("reportdemo"))
    document = runDemo(outputDirectory, spacing=SPACING, with3D=True)
    reportDirectory = os.path.join(outputDirectory, REPORT_FOLDER)
    with open(os.path.join(reportDirectory, reportExport.REPORT_JSON), encoding="utf-8") as stream:
        report = json.load(stream)
    return outputDirectory, reportDirectory, document, report


def test_everyNumberOfTheReportEqualsTheJsonExport(demoReport):
    _, reportDirectory, _, report = demoReport
    page = _parse(os.path.join(reportDirectory, reportExport.REPORT_HTML))
    assert len(page.numbers) > 100
    for pointer, decimals, shown in page.numbers:
        value = _resolve(report, pointer)
        if value is None:
            assert shown == "–", pointer
            continue
        number = float(shown.replace("\u2009", ""))
        assert abs(number - value) <= 0.5 * 10 ** -decimals + 1e-9, (pointer, shown, value)
    shownPointers = {pointer for pointer, _, _ in page.numbers}
    # Coverage: every segment at every scan, every plan of the latest scan, every growth figure, every checklist value.
    for index, point in enumerate(report["timePoints"]):
        for segmentId in couinaud.SEGMENT_IDS:
            assert f"/timePoints/{index}/volumetry/segments/{segmentId}/volumeMl" in shownPointers
    latest = len(report["timePoints"]) - 1
    for key in report["timePoints"][latest]["volumetry"]["plans"]:
        for quantity in ("remnantMl", "percentFLR", "sFLR", "flrBwr", "functionalPercentFLR"):
            assert f"/timePoints/{latest}/volumetry/plans/{key}/{quantity}" in shownPointers
    for index, _ in enumerate(report["hypertrophy"]["intervals"]):
        assert f"/hypertrophy/intervals/{index}/kineticGrowthRatePercentPerWeek" in shownPointers
    for index, item in enumerate(report["readiness"]):
        assert f"/readiness/{index}/value" in shownPointers


def test_reportVolumesAreTheSyntheticTruth(demoReport):
    _, reportDirectory, _, report = demoReport
    patient = syntheticPatient.makeSyntheticPatient(spacing=SPACING)
    page = _parse(os.path.join(reportDirectory, reportExport.REPORT_HTML))
    shown = {pointer: text for pointer, _, text in page.numbers}
    for index, truth in enumerate(patient.timePoints):
        for segmentId in couinaud.SEGMENT_IDS:
            text = shown[f"/timePoints/{index}/volumetry/segments/{segmentId}/volumeMl"]
            assert float(text) == pytest.approx(truth.trueVolumesMl[segmentId], abs=0.05)
        remnant = sum(truth.trueVolumesMl[s] for s in report["plan"]["remnantSegments"])
        assert report["hypertrophy"]["timePoints"][index]["remnantMl"] == pytest.approx(remnant, abs=1e-6)
    assert report["patient"]["name"] == syntheticPatient.PATIENT_NAME
    assert report["patient"]["ageYearsAtFirstScan"] == 64  # born 1961-04-17, first scan 2026-03-02


def test_reportIsSelfContainedAndShowsPicturesAndDecisionSupport(demoReport):
    _, reportDirectory, _, report = demoReport
    path = os.path.join(reportDirectory, reportExport.REPORT_HTML)
    page = _parse(path)
    assert "script" not in page.tags and "link" not in page.tags and "iframe" not in page.tags
    assert page.sources and all(source.startswith("data:image/png;base64,") for source in page.sources)
    text = open(path, encoding="utf-8").read()
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    assert patientReport.DECISION_SUPPORT_STATEMENT in text
    titles = [picture["title"] for picture in report["pictures"]]
    assert any(title.startswith("Axial") for title in titles) and any(title.startswith("Coronal") for title in titles)
    assert any(title.startswith("3D") for title in titles) or any("3D" in note for note in report["report"]["notes"])
    # Each embedded picture is a PNG whose checksum the JSON records.
    embedded = [base64.b64decode(source.split(",", 1)[1]) for source in page.sources]
    assert [hashlib.sha256(png).hexdigest() for png in embedded] == [picture["pngSha256"] for picture in report["pictures"]]
    assert all(png.startswith(b"\x89PNG\r\n\x1a\n") for png in embedded)
    assert text.count("<svg") >= 2  # growth chart and time-activity curves
    assert all(reference in text for reference in report["references"][:3])


def test_csvExportsHoldTheJsonNumbers(demoReport):
    _, reportDirectory, _, report = demoReport
    import csv

    with open(os.path.join(reportDirectory, reportExport.NUMBERS_CSV), encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) > 500
    for row in rows:
        assert float(row["value"]) == pytest.approx(_resolve(report, row["json pointer"]), rel=1e-12)
    with open(os.path.join(reportDirectory, reportExport.SEGMENTS_CSV), encoding="utf-8") as stream:
        segments = list(csv.DictReader(stream))
    first = {row["Couinaud segment"]: float(row["Volume (mL)"]) for row in segments if row["time point"] == "pre-stage 1"}
    assert first == {key: value["volumeMl"] for key, value in report["timePoints"][0]["volumetry"]["segments"].items()}


def test_segmentationsAreExportedAsSegNrrd(demoReport):
    _, reportDirectory, _, report = demoReport
    with SlicerContext() as context:
        for point in report["timePoints"]:
            path = os.path.join(reportDirectory, f"segmentation-{point['role'].replace(' ', '-')}.seg.nrrd")
            from ALPPSVolumetryLib.segments import segmentationIO, segmentVolumes

            node = segmentationIO.loadSegmentation(context.scene, path)
            volumes = {volume.name: volume.volumeMl for volume in segmentVolumes.segmentVolumes(node)}
            for segmentId, segment in point["volumetry"]["segments"].items():
                assert volumes[f"Segment {segmentId}"] == pytest.approx(segment["volumeMl"], abs=1e-9)


def _identifiersOfTheSyntheticPatient(outputDirectory):
    patient = syntheticPatient.makeSyntheticPatient(spacing=SPACING)
    strings = {patient.name, patient.patientId, "Quill", "Marjorie", syntheticPatient.PATIENT_BIRTH_DATE, "1961-04-17",
               patient.stage1Date.isoformat(), patient.stage1Date.strftime("%Y%m%d"), SCENE_BUNDLE, outputDirectory}
    for index, point in enumerate(patient.timePoints):
        identity = syntheticPatientScene.syntheticIdentity(patient, point, index)
        study = identity.studies[0]
        strings.update({study.studyInstanceUid, study.accessionNumber, identity.seriesUids[0], point.studyDate.isoformat(), study.studyDate})
        strings.add(f"Synthetic CT {point.role} {point.studyDate.isoformat()}")  # the node names
    return sorted(strings)


def _outputTexts(directory):
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name), "rb") as stream:
            data = stream.read()
        # .seg.nrrd: the header is text, the voxels gzip; a name in either would show here.
        yield name, data.decode("latin-1")


def test_reportFromTheSavedSceneRepeatsTheDemoAndAnonymisationRemovesEveryIdentifier(demoReport, tmp_path, capsys):
    outputDirectory, _, _, report = demoReport
    bundle = os.path.join(outputDirectory, SCENE_BUNDLE)
    plain, anonymous = tmp_path / "plain", tmp_path / "anonymous"
    assert cli.main(["report", "--scene", bundle, "--out", str(plain), "--compare-plan", "right_hepatectomy", "--no-3d"]) == 0
    assert cli.main(["report", "--scene", bundle, "--out", str(anonymous), "--anonymise", "--pseudonym", "Case 7", "--no-3d"]) == 0
    assert "Report (anonymised) written" in capsys.readouterr().out
    with open(plain / reportExport.REPORT_JSON, encoding="utf-8") as stream:
        again = json.load(stream)
    # The panel values stored in the scene (height, weight, stage 1 date, plan) gave the same report.
    for key in ("timePoints", "hypertrophy", "readiness", "functionalStudies"):
        assert json.dumps(again[key], sort_keys=True) == json.dumps(report[key], sort_keys=True), key
    identifiers = _identifiersOfTheSyntheticPatient(outputDirectory)
    plainText = "".join(text for _, text in _outputTexts(plain))
    assert [item for item in (syntheticPatient.PATIENT_NAME, syntheticPatient.PATIENT_ID, "2026-03-02", "Quill, Marjorie") if item not in plainText] == []
    for name, text in _outputTexts(anonymous):
        lower = text.lower()
        leaks = [identifier for identifier in identifiers if identifier.lower() in lower]
        assert leaks == [], f"{name} still holds {leaks}"
    with open(anonymous / reportExport.REPORT_JSON, encoding="utf-8") as stream:
        anonymised = json.load(stream)
    assert anonymised["patient"]["name"] == "Case 7" and anonymised["report"]["anonymised"] is True
    assert anonymised["timePoints"][0]["studyDate"] == "day -3 (stage 1 = day 0)"
    # Numbers are untouched by anonymisation.
    assert anonymised["hypertrophy"]["intervals"] == [
        {**interval, "from": anonymised["hypertrophy"]["intervals"][index]["from"], "to": anonymised["hypertrophy"]["intervals"][index]["to"]}
        for index, interval in enumerate(report["hypertrophy"]["intervals"])
    ]


def _writeDicomSeries(folder, timePoint, identity):
    """The synthetic CT as a DICOM series carrying the identity (LPS: the grid is diag(-1,-1,1) in RAS)."""
    os.makedirs(folder)
    spacing = np.abs(np.diag(timePoint.ijkToRAS)[:3])
    originRAS = timePoint.ijkToRAS[:3, 3]
    study = identity.studies[0]
    for k, pixels in enumerate(timePoint.ct):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CTImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        dataset = Dataset()
        dataset.file_meta = meta
        dataset.SOPClassUID, dataset.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
        dataset.PatientName, dataset.PatientID = identity.name, identity.patientId
        dataset.PatientBirthDate, dataset.PatientSex = identity.birthDate, identity.sex
        dataset.StudyInstanceUID, dataset.StudyDate, dataset.StudyID = study.studyInstanceUid, study.studyDate, study.studyId
        dataset.StudyDescription, dataset.AccessionNumber = study.studyDescription, study.accessionNumber
        dataset.SeriesInstanceUID, dataset.SeriesNumber, dataset.Modality = identity.seriesUids[0], 2, "CT"
        dataset.FrameOfReferenceUID = study.studyInstanceUid + ".9"
        dataset.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
        dataset.ImagePositionPatient = [f"{-originRAS[0]:.4f}", f"{-originRAS[1]:.4f}", f"{originRAS[2] + k * spacing[2]:.4f}"]
        dataset.PixelSpacing = [f"{spacing[1]:g}", f"{spacing[0]:g}"]
        dataset.SliceThickness = f"{spacing[2]:g}"
        dataset.InstanceNumber = k + 1
        dataset.Rows, dataset.Columns = pixels.shape
        dataset.SamplesPerPixel, dataset.PhotometricInterpretation = 1, "MONOCHROME2"
        dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit, dataset.PixelRepresentation = 16, 16, 15, 1
        dataset.RescaleIntercept, dataset.RescaleSlope = "0", "1"
        dataset.PixelData = np.ascontiguousarray(pixels, dtype=np.int16).tobytes()
        pydicom.dcmwrite(os.path.join(folder, f"slice{(k * 7919) % 1000:04d}-{k}"), dataset, enforce_file_format=True)


def test_reportFromDicomFilesReadsAndRemovesTheHeaderIdentifiers(tmp_path, capsys):
    patient = syntheticPatient.makeSyntheticPatient(spacing=(4.0, 4.0, 4.0), timePoints=syntheticPatient.TIME_POINTS[:2])
    arguments = []
    identities = []
    with SlicerContext() as context:
        for index, point in enumerate(patient.timePoints):
            identity = syntheticPatientScene.syntheticIdentity(patient, point, index)
            identity.name = "Lindqvist^Ottilie^Bea"  # a name of its own, from the DICOM headers only
            identities.append(identity)
            folder = str(tmp_path / f"dicom{index}")
            _writeDicomSeries(folder, point, identity)
            _, segmentationNode = syntheticPatientScene.addTimePointNodes(context.scene, point, f"P{index}")
            segmentationPath = str(tmp_path / f"Lindqvist-{index}.seg.nrrd")
            reportExport.writeSegmentation(segmentationNode, segmentationPath)
            arguments += ["--timepoint", f"{point.studyDate.isoformat()}:{folder}:{segmentationPath}:{point.role}"]
    common = ["report", *arguments, "--stage1-date", patient.stage1Date.isoformat(), "--height", "172", "--weight", "78", "--no-3d"]
    assert cli.main(common + ["--out", str(tmp_path / "plain")]) == 0
    assert cli.main(common + ["--out", str(tmp_path / "anonymous"), "--anonymise"]) == 0
    with open(tmp_path / "plain" / reportExport.REPORT_JSON, encoding="utf-8") as stream:
        plain = json.load(stream)
    assert plain["patient"]["name"] == "Lindqvist^Ottilie^Bea" and plain["patient"]["sex"] == "F"
    assert plain["patient"]["birthDate"] == "1961-04-17"
    assert [study["studyInstanceUid"] for study in plain["identifiers"]["studies"]] == [i.studies[0].studyInstanceUid for i in identities]
    # The DICOM series' file checksum is that of its files, recomputed here.
    scan = next(entry for entry in plain["inputs"] if entry["description"] == "Scan, pre-stage 1")
    files = sorted(os.path.join(tmp_path, "dicom0", name) for name in os.listdir(tmp_path / "dicom0"))
    expected = hashlib.sha256("\n".join(sorted(hashlib.sha256(open(f, "rb").read()).hexdigest() for f in files)).encode()).hexdigest()
    assert scan["fileSha256"] == expected and len(scan["files"]) == len(files)
    secrets = ["Lindqvist", "Ottilie", "19610417", str(tmp_path)]
    for identity in identities:
        study = identity.studies[0]
        secrets += [identity.patientId, study.studyInstanceUid, study.accessionNumber, identity.seriesUids[0], study.studyDate]
    for name, text in _outputTexts(tmp_path / "anonymous"):
        assert [secret for secret in secrets if secret.lower() in text.lower()] == [], name
    plainText = "".join(text for _, text in _outputTexts(tmp_path / "plain"))
    assert all(secret in plainText for secret in ("Lindqvist", identities[0].patientId, identities[0].studies[0].studyInstanceUid))


def test_contentChecksumFollowsTheVoxelsNotTheFile(slicerContext, tmp_path):
    patient = syntheticPatient.makeSyntheticPatient(spacing=(5.0, 5.0, 5.0), timePoints=syntheticPatient.TIME_POINTS[:1])
    volumeNode, segmentationNode = syntheticPatientScene.addTimePointNodes(slicerContext.scene, patient.timePoints[0], "C")
    before = (patientReport.contentSha256(volumeNode), patientReport.contentSha256(segmentationNode))
    slicerContext.saveSceneBundle(str(tmp_path / "c.mrb"))
    slicerContext.loadSceneBundle(str(tmp_path / "c.mrb"))
    reloaded = [slicerContext.scene.GetFirstNodeByName(node.GetName()) for node in (volumeNode, segmentationNode)]
    assert tuple(patientReport.contentSha256(node) for node in reloaded) == before
    from vtk.util import numpy_support

    numpy_support.vtk_to_numpy(reloaded[0].GetImageData().GetPointData().GetScalars())[123] += 1
    reloaded[0].GetImageData().Modified()
    assert patientReport.contentSha256(reloaded[0]) != before[0]
    assert patientReport.fileSha256(str(tmp_path / "c.mrb")) == hashlib.sha256(open(tmp_path / "c.mrb", "rb").read()).hexdigest()


def test_reportRefusesAPatientWithoutTimePointsAndTwoPatients(slicerContext, tmp_path):
    settings = volumetryWorkflow.settingsFromValues(172.0, 78.0)
    plan = resectionPlans.presetPlan("right_trisectionectomy")
    with pytest.raises(ValueError, match="No time points to report"):
        patientReport.buildReportDocument(slicerContext.scene, ReportRequest(plan, settings))
    patient = syntheticPatient.makeSyntheticPatient(spacing=(6.0, 6.0, 6.0), timePoints=syntheticPatient.TIME_POINTS[:2])
    for index, point in enumerate(patient.timePoints):
        identity = syntheticPatientScene.syntheticIdentity(patient, point, index)
        identity.patientId = f"OTHER-{index}"
        volumeNode, segmentationNode = syntheticPatientScene.addTimePointNodes(slicerContext.scene, point, f"T{index}", identity)
        timeline.storeTimePoint(timeline.TimePoint(point.role, point.studyDate, segmentationNode, volumeNode))
    with pytest.raises(ValueError, match="belong to 2 patients.*OTHER-0.*OTHER-1"):
        patientReport.buildReportDocument(slicerContext.scene, ReportRequest(plan, settings))


def test_pointersEscapeSlashesAndTildes():
    document = {"a/b": {"c~d": [1.25]}}
    pointer = reportHtml.pointer("a/b", "c~d", 0)
    assert pointer == "/a~1b/c~0d/0" and reportHtml.resolvePointer(document, pointer) == 1.25


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Chromium is not installed (apt-get install chromium): A4 print check skipped")
def test_reportPrintsOnA4InHeadlessChromium(demoReport, tmp_path):
    _, reportDirectory, _, _ = demoReport
    pdf = tmp_path / "report.pdf"
    completed = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--no-pdf-header-footer",
         f"--print-to-pdf={pdf}", "file://" + os.path.join(reportDirectory, reportExport.REPORT_HTML)],
        capture_output=True, text=True, timeout=120,
    )
    assert pdf.exists(), completed.stderr[-2000:]
    data = pdf.read_bytes()
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    assert boxes and all(abs(float(w) - 595.0) < 1.0 and abs(float(h) - 842.0) < 1.0 for w, h in boxes)  # A4 in points
    assert 3 <= len(boxes) <= 10
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed (apt-get install poppler-utils): page 1 not read")
    _checkPageOne(pdf, demoReport[3])


def _checkPageOne(pdf, report):
    """Page 1 carries the decision, as a tumour board reads it: the verdict with its counts and the
    criteria not met, the plan's tumour-free FLR with its resolution interval, %FLR, sFLR, growth
    since stage 1 and the remnant function, each equal to the JSON at the digits shown."""
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    flat = " ".join(text.split())
    readiness = report["readiness"]
    met = sum(1 for item in readiness if item["state"] == "met")
    assert f"Stage 2 readiness: {met} of {len(readiness)} criteria met" in flat
    for item in readiness:
        if item["state"] in ("not met", "borderline"):
            assert item["label"] in flat, item["label"]
    growth = report["hypertrophy"]
    latest = growth["timePoints"][-1]
    low, high = latest["remnantIntervalMl"]
    assert f"FLR (tumour-free) {latest['tumourFreeRemnantMl']:.1f} mL" in flat
    assert f"resolution interval {low:.1f}-{high:.1f} mL" in flat
    if latest.get("functionalPercentFLR") is not None:  # tumours segmented: the functional %FLR
        assert f"%FLR (functional) {latest['functionalPercentFLR']:.1f} %" in flat
    else:
        assert f"%FLR {latest['percentFLR']:.1f} %" in flat
    assert f"sFLR {latest['sFLR']:.2f} %" in flat
    sinceStage1 = growth["sinceStage1"][-1]
    assert f"KGR {sinceStage1['kineticGrowthRatePercentPerWeek']:.2f} %/week" in flat
    assert f"FLR growth {sinceStage1['remnant']['relativeGrowthPercentPerDay']:.2f} %/day" in flat
    assert f"{sinceStage1['rateDays']} days since stage 1" in flat
    # The remnant function shown is the one the checklist compared.
    (function,) = [item["value"] for item in readiness if item["criterion"] == "remnantFunction"]
    assert f"Remnant function FLR-F/BSA {function:.2f} %/min/m²" in flat
    assert "Stage 2 readiness checklist" in flat
    return flat


@pytest.mark.skipif(shutil.which("chromium") is None or shutil.which("pdftotext") is None,
                    reason="Chromium or pdftotext is not installed (apt-get install chromium poppler-utils): page 1 not read")
def test_tumourLeftInTheRemnantIsAWarningOnPageOne(demoReport, tmp_path):
    """The demo's right hepatectomy leaves a tumour in the remnant: a report that follows that plan
    says so on page 1, with the tumour's volume."""
    outputDirectory, _, _, _ = demoReport
    out = tmp_path / "report"
    patient = syntheticPatient.makeSyntheticPatient(spacing=SPACING)
    with SlicerContext() as context:
        context.loadSceneBundle(os.path.join(outputDirectory, SCENE_BUNDLE))
        for point in timeline.timePointsInScene(context.scene):
            point.segmentationNode.SetAttribute(timeline.PLAN_ATTRIBUTE, "")  # follow the report's plan
        report, _, _ = reportExport.createPatientReport(context.scene, str(out), ReportRequest(
            resectionPlans.presetPlan("right_hepatectomy"), volumetryWorkflow.settingsFromValues(patient.heightCm, patient.weightKg),
            patient.stage1Date, "no", with3D=False,
        ))
    (tumour,) = [item for item in report["readiness"] if item["criterion"] == "tumourInRemnant"]
    assert tumour["state"] == "not met" and tumour["value"] > 0
    pdf = tmp_path / "report.pdf"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'profile'}", "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                    "file://" + str(out / reportExport.REPORT_HTML)], capture_output=True, text=True, timeout=120)
    flat = _checkPageOne(pdf, report)
    assert f"Tumour left in the remnant: 'Right hepatectomy' leaves {tumour['value']:.2f} mL of tumour in the remnant" in flat


def test_reportOfOneScanWithoutBodySizeOrDatesSaysWhatIsMissing(slicerContext, tmp_path):
    patient = syntheticPatient.makeSyntheticPatient(spacing=(5.0, 5.0, 5.0), timePoints=syntheticPatient.TIME_POINTS[:1])
    point = patient.timePoints[0]
    _, segmentationNode = syntheticPatientScene.addTimePointNodes(slicerContext.scene, point, "Lone")
    timeline.storeTimePoint(timeline.TimePoint(point.role, point.studyDate, segmentationNode, None))
    report, paths, notes = reportExport.createPatientReport(slicerContext.scene, str(tmp_path), ReportRequest(
        resectionPlans.presetPlan("right_hepatectomy"), volumetryWorkflow.settingsFromValues(0, 0), with3D=False
    ))
    assert notes == ["No slice pictures: the pre-stage 1 scan has no image volume stored with its segmentation"]
    measured = [item for item in report["readiness"] if item["criterion"] != "tumourInRemnant"]
    assert all(item["value"] is None and item["state"] == "unknown" and item["reason"] for item in measured)
    assert report["patient"]["heightCm"] is None and report["pictures"] == []
    text = open(paths["html"], encoding="utf-8").read()
    assert notes[0] in text and "not given" in text
    page = _parse(paths["html"])
    tumourRows = {f"/readiness/{index}/value" for index, item in enumerate(report["readiness"]) if item["criterion"] == "tumourInRemnant"}
    assert {shown for pointer, _, shown in page.numbers
            if pointer.startswith("/readiness/") and pointer.endswith("/value") and pointer not in tumourRows} == {"–"}


def test_anonymisationOfUnusualNamesKeepsTheWordsAroundThem():
    """DICOM person names with '=' groups and two-letter parts, a name inside free text, an age above 89."""
    document = {
        "patient": {"name": "Li^Wu=李^武", "displayName": "Li, Wu=李 武", "patientId": "P-77", "birthDate": "1931-01-02",
                    "ageYearsAtFirstScan": 95},
        "identifiers": {"studies": [{"studyDate": "2026-03-02", "studyInstanceUid": "1.2.3.4.5", "accessionNumber": "A1", "studyId": "7"}],
                        "seriesUids": ["1.2.3.4.5.6"]},
        "inputs": [{"description": "Scan, pre-stage 1", "node": "Li Wu CT", "files": ["/data/Li_Wu/ct.nrrd"]}],
        "timePoints": [{"role": "pre-stage 1", "studyDate": "2026-03-02", "segmentation": "Li Wu segments", "volume": "Li Wu CT"}],
        "stage1Date": "2026-03-05",
        "report": {"createdUtc": "2026-11-22T10:00:00Z", "anonymised": False},
        "notes": ["liver of Li (seen by Dr Wu) on 2026-03-02, series 1.2.3.4.5.6; study 7 of 李武"],
    }
    anonymised = patientReport.anonymiseDocument(document, "Case 1")
    text = json.dumps(anonymised, ensure_ascii=False)
    for identifier in ("Li", "Wu", "李", "武", "P-77", "1931", "1.2.3.4.5", "2026-03-02", "/data"):
        assert re.search(rf"(?<![A-Za-z0-9]){re.escape(identifier)}(?![A-Za-z0-9])", text) is None, identifier
    assert anonymised["notes"][0].startswith("liver of [removed]")  # 'liver' keeps its 'li'
    assert anonymised["patient"]["ageYearsAtFirstScan"] == "90 or older"
    assert anonymised["timePoints"][0]["volume"] == "scan, pre-stage 1"
