"""The round trip against a real PACS (Orthanc, started here on 127.0.0.1): the synthetic patient's
CT series stored, queried by date, pulled, indexed and measured, the DICOM results pushed and
found again; the real ircad series the same way; and the refusals: unreachable or silent PACS,
rejected association, a study without a CT, unreadable objects, each leaving nothing behind."""

import glob
import json
import os
import socket
import threading
import time

import numpy as np
import pydicom
import pytest
from dicomReaders import dcmqiSegments, dciodvfyMessages, physicalCentroid
from orthancServer import AET, OrthancServer, orthancExecutable
from syntheticDicom import writeSyntheticPatient

from alpps import cli
from ALPPSAssessmentLib.dicom import encapsulatedReport, resultsExport

pytestmark = pytest.mark.skipif(orthancExecutable() is None, reason="Orthanc is not installed (apt-get install orthanc): PACS round trip skipped")
PLAN = "right_trisectionectomy"


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory):
    server = OrthancServer(str(tmp_path_factory.mktemp("orthanc"))).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    from alpps.headless import SlicerContext

    folder = tmp_path_factory.mktemp("synthetic")
    with SlicerContext(workDirectory=str(folder / "slicer")) as context:
        patient, written = writeSyntheticPatient(str(folder / "input"), context)
    return patient, written, folder


def _query(orthanc, tmp_path, *options):
    path = str(tmp_path / f"query-{time.monotonic_ns()}.json")
    assert cli.main(["pacs", "query", *orthanc.options(), *options, "--json", path]) == 0
    with open(path, encoding="utf-8") as stream:
        return json.load(stream)["studies"]


def test_syntheticPatientRoundTripThroughOrthanc(orthanc, synthetic, tmp_path, capsys):
    patient, written, folder = synthetic
    assert cli.main(["pacs", "push", str(folder / "input"), *orthanc.options()]) == 0
    slices = len(glob.glob(os.path.join(written[0].ctFolder, "*.dcm")))
    studies = _query(orthanc, tmp_path, "--patient-id", patient.patientId)
    assert [study["StudyDate"] for study in studies] == [point.studyDate.strftime("%Y%m%d") for point in written]
    assert all(study["ModalitiesInStudy"] == "CT" and int(study["NumberOfStudyRelatedInstances"]) == slices for study in studies)
    after = _query(orthanc, tmp_path, "--patient-id", patient.patientId, "--from", patient.stage1Date.isoformat())
    assert [study["StudyDate"] for study in after] == [point.studyDate.strftime("%Y%m%d") for point in written[1:]]

    pulled = str(tmp_path / "pulled")
    assert cli.main(["pacs", "pull", "--patient-id", patient.patientId, "--out", pulled, *orthanc.options()]) == 0
    indexPath = str(tmp_path / "index.json")
    assert cli.main(["dicom-index", pulled, "--json", indexPath]) == 0
    with open(indexPath, encoding="utf-8") as stream:
        index = json.load(stream)
    pulledStudies = index["patients"][0]["studies"]
    assert len(pulledStudies) == len(written)
    import SimpleITK as sitk

    for point in written:
        studyFolder = os.path.join(pulled, pydicom.dcmread(glob.glob(os.path.join(point.ctFolder, "*.dcm"))[0]).StudyInstanceUID)
        reader = sitk.ImageSeriesReader()
        voxels = sitk.GetArrayFromImage(sitk.ReadImage(reader.GetGDCMSeriesFileNames(studyFolder)))
        assert np.array_equal(voxels, point.truth.ct)  # the PACS gave back the very voxels the phantom drew

    out = str(tmp_path / "results")
    arguments = ["dicom-export", "--out", out, "--plan", PLAN, "--stage1-date", patient.stage1Date.isoformat(),
                 "--height", str(patient.heightCm), "--weight", str(patient.weightKg)]
    for point in written:
        uid = pydicom.dcmread(glob.glob(os.path.join(point.ctFolder, "*.dcm"))[0]).StudyInstanceUID
        arguments += ["--timepoint", f"{point.studyDate.isoformat()}:{os.path.join(pulled, uid)}:{point.segmentationPath}:{point.role}"]
    assert cli.main(arguments) == 0
    with open(os.path.join(out, resultsExport.MANIFEST), encoding="utf-8") as stream:
        manifest = json.load(stream)
    for entry, point in zip(manifest["timePoints"], written):
        trueRemnant = sum(point.truth.trueVolumesMl[unit] for unit in ("I", "II", "III"))
        assert entry["volumetry"]["plans"][PLAN]["remnantMl"] == pytest.approx(trueRemnant, rel=1e-12)
    capsys.readouterr()
    assert cli.main(["pacs", "push", out, *orthanc.options()]) == 0
    objects = len(manifest["objects"])
    assert f"Stored {objects} objects" in capsys.readouterr().out
    back = _query(orthanc, tmp_path, "--patient-id", patient.patientId)
    withPdf = encapsulatedReport.chromiumPath() is not None
    for number, study in enumerate(back):
        modalities = set(study["ModalitiesInStudy"].split("\\"))
        latest = number == len(back) - 1
        assert modalities == {"CT", "SEG", "SR"} | ({"DOC"} if latest and withPdf else set())
        assert int(study["NumberOfStudyRelatedInstances"]) == slices + 2 + (1 if latest and withPdf else 0)
    from ALPPSAssessmentLib.dicom import pacsNetwork

    address = pacsNetwork.PacsAddress("127.0.0.1", orthanc.port, AET, "ALPPS", 10)
    assert pacsNetwork.findSeriesModalities(address, back[0]["StudyInstanceUID"]) == ["CT", "SEG", "SR"]
    again = str(tmp_path / "again")
    latestUid = back[-1]["StudyInstanceUID"]
    assert cli.main(["pacs", "pull", "--study", latestUid, "--out", again, *orthanc.options()]) == 0
    srEntry = next(item for item in manifest["objects"] if item["what"].startswith("TID 1500") and item["studyInstanceUid"] == latestUid)
    assert os.path.isfile(os.path.join(again, latestUid, srEntry["sopInstanceUid"] + ".dcm"))


def test_unreachablePacsIsNamedWithinTheTimeout(capsys):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    started = time.monotonic()
    assert cli.main(["pacs", "query", "--host", "127.0.0.1", "--port", str(port), "--timeout", "3", "--patient-id", "X"]) == 2
    error = capsys.readouterr().err
    assert f"127.0.0.1:{port} is unreachable" in error and "Traceback" not in error and time.monotonic() - started < 10


def test_silentPacsTimesOutWithinTheBound(capsys):
    """A server that accepts the connection and never answers: the wait ends at --timeout."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    accepted = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True)
    thread.start()
    try:
        started = time.monotonic()
        assert cli.main(["pacs", "query", "--host", "127.0.0.1", "--port", str(port), "--timeout", "2", "--patient-id", "X"]) == 2
        elapsed = time.monotonic() - started
    finally:
        for connection, _ in accepted:
            connection.close()
        listener.close()
    error = capsys.readouterr().err
    assert f"127.0.0.1:{port}" in error and "within 2 s" in error and elapsed < 12


def test_rejectedAssociationNamesBothAeTitlesAndStoresNothing(orthanc, synthetic, tmp_path, capsys):
    _, written, _ = synthetic
    before = _query(orthanc, tmp_path)
    options = orthanc.options()
    options[options.index("--called-aet") + 1] = "NOTORTHANC"
    assert cli.main(["pacs", "push", written[0].ctFolder, *options]) == 2
    error = capsys.readouterr().err
    assert "rejected the association: Rejected Permanent, Called AE title not recognised" in error
    assert "'NOTORTHANC'" in error and "'ALPPS'" in error
    assert _query(orthanc, tmp_path) == before


def test_studyWithoutCtIsRefusedAndNothingIsPulled(orthanc, tmp_path, capsys):
    study = pydicom.Dataset()
    study.PatientName, study.PatientID, study.StudyInstanceUID = "Nocta^Ray", "NO-CT-1", pydicom.uid.generate_uid()
    study.StudyDate, study.StudyTime, study.StudyID, study.AccessionNumber = "20260401", "120000", "1", ""
    pdf = encapsulatedReport.encapsulatePdf(b"%PDF-1.4\n%%EOF\n", study)
    folder = tmp_path / "pdf-only"
    folder.mkdir()
    pdf.save_as(str(folder / "report.dcm"), enforce_file_format=True)
    assert cli.main(["pacs", "push", str(folder), *orthanc.options()]) == 0
    out = str(tmp_path / "pulled")
    assert cli.main(["pacs", "pull", "--study", study.StudyInstanceUID, "--out", out, *orthanc.options()]) == 2
    error = capsys.readouterr().err
    assert f"Study {study.StudyInstanceUID}" in error and "holds no CT or MR series (modalities: DOC)" in error
    assert not os.path.exists(out) and not [name for name in os.listdir(tmp_path) if name.startswith(".alpps-pacs-pull-")]


def test_unreadableFileStopsThePushBeforeAnythingIsSent(orthanc, synthetic, tmp_path, capsys):
    _, written, _ = synthetic
    folder = tmp_path / "mixed"
    folder.mkdir()
    dataset = pydicom.dcmread(glob.glob(os.path.join(written[0].ctFolder, "*.dcm"))[0])
    dataset.StudyInstanceUID = dataset.SeriesInstanceUID = dataset.SOPInstanceUID = pydicom.uid.generate_uid()
    dataset.save_as(str(folder / "a.dcm"), enforce_file_format=True)
    (folder / "b.dcm").write_bytes(b"not DICOM")
    before = _query(orthanc, tmp_path)
    assert cli.main(["pacs", "push", str(folder), *orthanc.options()]) == 2
    error = capsys.readouterr().err
    assert "b.dcm" in error and "nothing was sent" in error
    assert _query(orthanc, tmp_path) == before


def test_realIrcadSeriesRoundTrip(orthanc, sharedData, tmp_path, capsys):
    """3D-IRCADb patient 1 (129 real CT slices, no patient ID, no frame of reference) through the
    PACS; its Couinaud label map measured and returned as SEG and SR; the SEG's voxels are the
    README's segment volumes."""
    series = os.path.join(sharedData, "ircad1", "PATIENT_DICOM")
    assert cli.main(["pacs", "push", series, *orthanc.options()]) == 0  # files named image_N, found by their DICOM preamble
    studies = _query(orthanc, tmp_path, "--patient-name", "liver_01*")
    assert len(studies) == 1 and studies[0]["ModalitiesInStudy"] == "CT" and int(studies[0]["NumberOfStudyRelatedInstances"]) == 129
    uid = studies[0]["StudyInstanceUID"]
    pulled = str(tmp_path / "pulled")
    assert cli.main(["pacs", "pull", "--study", uid, "--out", pulled, *orthanc.options()]) == 0
    labels = os.path.join(sharedData, "ircad1", "couinaud_labels.nii.gz")
    mapping = ",".join(f"{value}=Segment {name}" for value, name in enumerate(("I", "II", "III", "IV", "V", "VI", "VII", "VIII"), 1))
    out = str(tmp_path / "results")
    assert cli.main(["dicom-export", "--out", out, "--plan", "right_hepatectomy", "--labels", mapping, "--no-pdf",
                     "--timepoint", f"2009-05-27:{os.path.join(pulled, uid)}:{labels}"]) == 0
    with open(os.path.join(out, resultsExport.MANIFEST), encoding="utf-8") as stream:
        manifest = json.load(stream)
    segments = manifest["timePoints"][0]["segments"]
    readme = {"I": 40.60, "II": 160.68, "III": 65.71, "IV": 165.84, "V": 177.14, "VI": 149.86, "VII": 390.94, "VIII": 313.32}
    for unit, volume in readme.items():
        assert segments[f"Segment {unit}"]["volumeMl"] == pytest.approx(volume, abs=0.006)
    assert segments["Liver"]["volumeMl"] == pytest.approx(1464.09, abs=0.006)
    assert segments["Future liver remnant, plan right_hepatectomy"]["volumeMl"] == pytest.approx(432.82, abs=0.006)
    assert any("no Frame of Reference UID" in note for note in manifest["notes"])
    segPath = os.path.join(out, "pre-stage-1", resultsExport.SEG_FILE)
    images = dcmqiSegments(segPath, str(tmp_path / "dcmqi"))
    import SimpleITK as sitk

    assert {label: int(np.count_nonzero(sitk.GetArrayFromImage(image))) for label, image in images.items()} == {
        label: segment["voxelCount"] for label, segment in segments.items()}
    # The label map is stored y-flipped against the CT: each segment must still lie where the label map has it.
    labelImage = sitk.ReadImage(labels)
    for value, unit in enumerate(readme, 1):
        assert physicalCentroid(images[f"Segment {unit}"]) == pytest.approx(physicalCentroid(labelImage, value), abs=1e-3), unit
    for name in (resultsExport.SEG_FILE, resultsExport.SR_FILE):
        errors, warnings = dciodvfyMessages(os.path.join(out, "pre-stage-1", name))
        # The series has no patient ID or study ID of its own; the results carry them as they are.
        assert errors == [] and all("99ALPPS" in line or "DICOMDIR - Study ID" in line or "DICOMDIR - Patient ID" in line
                                    for line in warnings), warnings
    assert cli.main(["pacs", "push", out, *orthanc.options()]) == 0
    back = _query(orthanc, tmp_path, "--patient-name", "liver_01*")
    assert set(back[0]["ModalitiesInStudy"].split("\\")) == {"CT", "SEG", "SR"}
    assert int(back[0]["NumberOfStudyRelatedInstances"]) == 131
