"""The input-checking layer: image files parsed completely before Slicer's readers, DICOM series
checked through the DICOM index, segmentations compared with their volume's grid."""

import os

import numpy as np
import pytest
from ALPPSVolumetryLib.inputs import imageFileChecks, inputChecks, unevenSlices
from ALPPSVolumetryLib.segments import labelCounting, segmentationIO, segmentVolumes

import badInputs as bad


def _labels(tmp_path, name="labels.nii.gz", **kwargs):
    return bad.writeImage(str(tmp_path / name), bad.phantomLabels(), **kwargs)


def test_goodFilesPassWithTheirFigures(tmp_path, sharedData):
    summary = imageFileChecks.checkImageFile(_labels(tmp_path), labelmap=True)
    assert summary.size == (28, 24, 20) and summary.spacing == pytest.approx((1.5, 1.5, 2.0)) and summary.labels == [0, 1, 2]
    for name in ("labels.nrrd", "labels.nii", "labels.mha"):
        assert imageFileChecks.checkImageFile(bad.writeImage(str(tmp_path / name), bad.phantomLabels()), labelmap=True).labels == [0, 1, 2]
    real = imageFileChecks.checkImageFile(os.path.join(sharedData, "ircad1", "couinaud_labels.nii.gz"), labelmap=True)
    assert real.size == (512, 512, 129) and real.labels == list(range(9))
    floatMask = imageFileChecks.checkImageFile(os.path.join(sharedData, "ircad1", "vessel_mask.nii.gz"), labelmap=True)
    assert floatMask.labels == [0, 1] and floatMask.dtype == "float64"


def _write(path, data):
    path.write_bytes(data)
    return str(path)


# (case, builder(tmp_path) -> path, expected refusal)
NIFTI = "labels.nii"


def _nii(tmp_path):
    return bad.writeImage(str(tmp_path / NIFTI), bad.phantomLabels())


def _noisy(tmp_path, name, compress=None):
    return bad.writeImage(str(tmp_path / name), bad.noisyLabels(), compress=compress)


def _float(tmp_path, value, name):
    labels = bad.phantomLabels().astype(np.float32)
    labels[0, 0, 0] = value
    return bad.writeImage(str(tmp_path / name), labels)


IMAGE_CASES = [
    ("truncated .nii.gz", lambda t: bad.truncated(_noisy(t, "n.nii.gz"), t / "cut.nii.gz", 0.5), r"is truncated: its gzip stream ends"),
    ("truncated .nii", lambda t: bad.truncated(_nii(t), t / "cut.nii", 0.6), r"is truncated: its voxel data has"),
    ("header only .nii", lambda t: bad.truncated(_nii(t), t / "head.nii", keep=352), r"voxel data has 0 of"),
    ("half a header", lambda t: bad.truncated(_nii(t), t / "half.nii", keep=200), r"inside its header"),
    ("damaged gzip", lambda t: bad.damagedMiddle(_noisy(t, "n.nii.gz"), t / "damaged.nii.gz"), r"damaged gzip stream"),
    ("text named .nii.gz", lambda t: _write(t / "text.nii.gz", b"hello"), r"not a valid gzip stream"),
    ("100000^3 voxels", lambda t: bad.patched(_nii(t), t / "huge.nii", 40, "<4h", 3, 32000, 32000, 32000), r"claims 32,768,000,000,000 voxels"),
    ("negative size", lambda t: bad.patched(_nii(t), t / "negative.nii", 40, "<4h", 3, -5, 24, 20), r"expected at least one voxel"),
    ("1000 mm spacing", lambda t: bad.patched(_nii(t), t / "wide.nii", 80, "<3f", 1000.0, 1000.0, 1000.0), r"voxel spacing 1000, 1000, 1000 mm"),
    ("zero spacing", lambda t: bad.patched(_nii(t), t / "zero.nii", 80, "<3f", 0.0, 1.5, 2.0), r"voxel spacing 0, 1.5, 2 mm"),
    ("NaN spacing", lambda t: bad.patched(_nii(t), t / "nanspacing.nii", 80, "<f", float("nan")), r"voxel spacing nan"),
    ("spacing in metres", lambda t: bad.patched(_nii(t), t / "metres.nii", 123, "<B", 1), r"voxel spacing 1500, 1500, 2000 mm"),
    ("complex voxels", lambda t: bad.patched(_nii(t), t / "complex.nii", 70, "<2h", 32, 64), r"data type code 32"),
    ("bits disagree", lambda t: bad.patched(_nii(t), t / "bits.nii", 72, "<h", 16), r"16 bits per voxel for data type code 2"),
    ("voxel offset inside header", lambda t: bad.patched(_nii(t), t / "offset.nii", 108, "<f", 100.0), r"voxel data offset 100"),
    ("NaN scaling", lambda t: bad.patched(_nii(t), t / "slope.nii", 112, "<f", float("nan")), r"scaling slope nan"),
    ("scaled to fractions", lambda t: bad.patched(_nii(t), t / "fraction.nii", 112, "<2f", 0.5, 0.0), r"non-integer label value 0.5"),
    ("NaN label", lambda t: _float(t, np.nan, "nan.nii.gz"), r"holds NaN voxel values"),
    ("infinite label", lambda t: _float(t, np.inf, "inf.nii.gz"), r"holds infinite voxel values"),
    ("fractional label", lambda t: _float(t, 1.5, "frac.nii.gz"), r"non-integer label value 1.5"),
    ("negative label", lambda t: _float(t, -3, "neg.nii.gz"), r"negative label value -3"),
    ("label above int32", lambda t: _float(t, 3e9, "big.nii.gz"), r"label value 3e\+09"),
    ("an image given as labels", lambda t: bad.writeImage(str(t / "ct.nii.gz"), np.arange(20 * 24 * 28, dtype=np.int32).reshape(20, 24, 28)),
     r"more than 10000 distinct values"),
    ("4D label map", lambda t: bad.writeImage(str(t / "time.nii.gz"), np.zeros((3, 4, 5, 6), dtype=np.uint8)), r"one value per voxel|spatial axes|expected 3"),
    ("empty file", lambda t: _write(t / "empty.nii.gz", b""), r"is empty \(0 bytes\)"),
    ("folder", lambda t: (t / "folder.nii.gz").mkdir() or str(t / "folder.nii.gz"), r"is a folder: expected a file"),
    ("other format", lambda t: _write(t / "picture.png", b"\x89PNG"), r"is not a NRRD"),
    ("nrrd truncated", lambda t: bad.truncated(bad.writeImage(str(t / "l.nrrd"), bad.phantomLabels(), compress=False), t / "cut.nrrd", 0.7),
     r"is truncated: its voxel data has"),
    ("nrrd gz truncated", lambda t: bad.truncated(_noisy(t, "n.nrrd", True), t / "cutgz.nrrd", 0.5), r"is truncated: its gzip stream ends"),
    ("nrrd cut in header", lambda t: bad.truncated(_noisy(t, "n.nrrd", True), t / "cuthead.nrrd", keep=100), r"inside its header: the file is truncated"),
    ("nrrd damaged gzip", lambda t: bad.damagedMiddle(_noisy(t, "n.nrrd", True), t / "damaged.nrrd"), r"damaged gzip stream"),
    ("nrrd sizes too small", lambda t: bad.nrrdWithHeader(bad.writeImage(str(t / "l.nrrd"), bad.phantomLabels(), compress=False), t / "small.nrrd",
                                                           {"sizes: 28 24 20": "sizes: 28 24 10"}), r"bytes more voxel data than its header"),
    ("nrrd gz sizes too small", lambda t: bad.nrrdWithHeader(bad.writeImage(str(t / "l.nrrd"), bad.phantomLabels(), compress=True), t / "smallgz.nrrd",
                                                              {"sizes: 28 24 20": "sizes: 28 24 10"}), r"decodes to more voxel data"),
    ("nrrd 100000^3", lambda t: bad.nrrdWithHeader(bad.writeImage(str(t / "l.nrrd"), bad.phantomLabels(), compress=True), t / "hugegz.nrrd",
                                                    {"sizes: 28 24 20": "sizes: 100000 100000 100000"}), r"expected at most 65536 voxels along an axis"),
    ("nrrd unknown type", lambda t: bad.nrrdWithHeader(bad.writeImage(str(t / "l.nrrd"), bad.phantomLabels(), compress=True), t / "block.nrrd",
                                                        {"type: unsigned char": "type: block"}), r"voxel type 'block'"),
    ("nrrd missing data file", lambda t: bad.nrrdWithHeader(bad.writeImage(str(t / "l.nrrd"), bad.phantomLabels(), compress=False), t / "detached.nrrd",
                                                             {"encoding: raw": "encoding: raw\ndata file: missing.raw"}), r"names data file 'missing.raw', which does not exist"),
    ("not a nrrd", lambda t: _write(t / "notes.nrrd", b"not an image"), r"does not start with 'NRRD000'"),
    ("mha truncated", lambda t: bad.truncated(bad.writeImage(str(t / "l.mha"), bad.phantomLabels(), compress=False), t / "cut.mha", 0.6),
     r"is truncated"),
]


@pytest.mark.parametrize("case, build, expected", IMAGE_CASES, ids=[case[0] for case in IMAGE_CASES])
def test_damagedImageFilesAreRefusedBeforeAnyReader(tmp_path, case, build, expected):
    path = build(tmp_path)
    with pytest.raises(ValueError, match=expected) as refusal:
        imageFileChecks.checkImageFile(path, "Label map", labelmap=True)
    message = str(refusal.value)
    assert os.path.basename(path) in message and "\n" not in message


def test_segmentationFilesFromSlicerAreCheckedToo(tmp_path, slicerContext):
    """A .seg.nrrd written by Slicer: whole it loads, cut short it is refused (it used to abort
    the process inside ITK), and its header asking for 100000^3 voxels is refused (bad_alloc)."""
    from ALPPSVolumetryLib.segments import segmentationImport

    segmentationNode = slicerContext.scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Phantom")
    segmentationImport.importLabelArray(segmentationNode, bad.phantomLabels(), np.diag([1.5, 1.5, 2.0, 1.0]), {1: "Segment I", 2: "Segment II"})
    storage = slicerContext.scene.AddNewNodeByClass("vtkMRMLSegmentationStorageNode")
    whole = str(tmp_path / "phantom.seg.nrrd")
    storage.SetFileName(whole)
    assert storage.WriteData(segmentationNode)
    reloaded = segmentationIO.loadSegmentation(slicerContext.scene, whole)
    volumes = {volume.name: volume.voxelCount for volume in segmentVolumes.segmentVolumes(reloaded)}
    assert volumes == {"Segment I": 480, "Segment II": 64}
    for fraction in (0.3, 0.6, 0.95, 0.99):
        cut = bad.truncated(whole, tmp_path / f"cut{fraction}.seg.nrrd", fraction)
        with pytest.raises(ValueError, match=r"cut.*\.seg\.nrrd' (is truncated|ends after .* the file is truncated)"):
            segmentationIO.loadSegmentation(slicerContext.scene, cut)
    header = open(whole, "rb").read().split(b"\n\n")[0].decode("latin-1")
    sizesLine = next(line for line in header.splitlines() if line.startswith("sizes:"))
    huge = bad.nrrdWithHeader(whole, tmp_path / "huge.seg.nrrd", {sizesLine: "sizes: 100000 100000 100000"})
    with pytest.raises(ValueError, match="expected at most 65536 voxels along an axis"):
        segmentationIO.loadSegmentation(slicerContext.scene, huge)


def test_labelValuesDoNotSizeTables(tmp_path, slicerContext):
    """One voxel labelled 2,000,000,000 is one more segment of one voxel, counted right, with
    memory following the image (the subprocess version under a memory limit is in the fuzz suite)."""
    labels = bad.phantomLabels(dtype=np.int32)
    labels[0, 0, 0] = 2_000_000_000
    path = bad.writeImage(str(tmp_path / "big.nii.gz"), labels)
    segmentationNode = segmentationIO.loadSegmentation(slicerContext.scene, path)
    volumes = {volume.name: (volume.voxelCount, volume.volumeMl) for volume in segmentVolumes.segmentVolumes(segmentationNode)}
    assert volumes == {"Label 1": (480, pytest.approx(480 * 4.5e-3)), "Label 2": (64, pytest.approx(64 * 4.5e-3)),
                       "Label 2000000000": (1, pytest.approx(4.5e-3))}
    assert labelCounting.labelCounts(np.array([0, 7, 7, 3_000_000_000], dtype=np.int64)) == {0: 1, 7: 2, 3_000_000_000: 1}


def test_namedLabelsOnlyAreImportedAndTheOthersNoted(tmp_path, slicerContext):
    path = _labels(tmp_path)
    notes = []
    segmentationNode = segmentationIO.loadSegmentation(slicerContext.scene, path, {2: "Segment II"}, notes=notes)
    assert [volume.voxelCount for volume in segmentVolumes.segmentVolumes(segmentationNode)] == [64]
    assert notes == [f"label map '{path}': label value(s) 1 not named in the label mapping, left out"]
    with pytest.raises(ValueError, match=r"holds none of the label values named"):
        segmentationIO.loadSegmentation(slicerContext.scene, path, {7: "Segment VII"}, ignoreAbsent=True)


# --- DICOM series ------------------------------------------------------------------------------


def _drop(files, index):
    os.remove(files[index])


def _moveSlice(files, index, millimetres):
    def change(dataset):
        dataset.ImagePositionPatient = [dataset.ImagePositionPatient[0], dataset.ImagePositionPatient[1],
                                        float(dataset.ImagePositionPatient[2]) + millimetres]
    bad.editDicom(files[index], change)


def _setAttribute(files, index, keyword, value):
    bad.editDicom(files[index], lambda dataset: setattr(dataset, keyword, value))


def _deleteAttribute(files, index, keyword):
    bad.editDicom(files[index], lambda dataset: delattr(dataset, keyword))


def _secondSeries(files, index):
    bad.editDicom(files[index], lambda dataset: setattr(dataset, "SeriesInstanceUID", "1.2.3.4.5.6.7.8"))


DICOM_CASES = [
    ("half a slice's pixel data", lambda f: bad.truncated(f[3], f[3], keep=os.path.getsize(f[3]) - 200000), r"slice003.dcm' is truncated: pixel data has"),
    ("300-byte slice", lambda f: bad.truncated(f[3], f[3], keep=300), r"slice003.dcm' is (truncated|unreadable DICOM header|not DICOM)"),
    ("slice without position", lambda f: _deleteAttribute(f, 3, "ImagePositionPatient"), r"slice003.dcm' \(.*\) has no ImagePositionPatient"),
    ("missing slice", lambda f: _drop(f, 4), r"slice\(s\) missing.*slice003.dcm' and '.*slice005.dcm' lie"),
    ("uneven spacing", lambda f: [_moveSlice(f, index, 4.0) for index in range(5, 8)], r"slices '.*slice004.dcm' and '.*slice005.dcm' lie|missing"),
    ("slightly uneven spacing", lambda f: [_moveSlice(f, index, 0.5) for index in range(5, 8)], r"uneven slice spacing.*slice004.dcm' and '.*slice005.dcm' lie 2.10 mm"),
    ("other pixel spacing", lambda f: _setAttribute(f, 2, "PixelSpacing", [0.8, 0.8]), r"different pixel spacings"),
    ("other orientation", lambda f: _setAttribute(f, 2, "ImageOrientationPatient", [1, 0, 0, 0, 0.8, 0.6]), r"different orientations"),
    ("duplicate slice", lambda f: bad.truncated(f[2], f[2] + ".copy.dcm", 1.0), r"same position as another"),
    ("two series", lambda f: [_secondSeries(f, index) for index in range(4)], r"holds 2 image series, expected one"),
    ("not DICOM but named .dcm", lambda f: open(f[5], "w").write("x" * 2000), r"slice005.dcm' is not DICOM"),
    ("empty slice file", lambda f: open(f[5], "w").close(), r"slice005.dcm' is empty file"),
]


@pytest.mark.parametrize("case, damage, expected", DICOM_CASES, ids=[case[0] for case in DICOM_CASES])
def test_damagedDicomSeriesAreRefusedNamingTheSlice(sharedData, tmp_path, slicerContext, case, damage, expected):
    files = bad.dicomCopy(bad.ircadSlices(sharedData), tmp_path / "series")
    damage(files)
    with pytest.raises(ValueError, match=expected) as refusal:
        segmentationIO.loadVolume(slicerContext.scene, str(tmp_path / "series"), what="--volume")
    assert "\n" not in str(refusal.value) and str(refusal.value).startswith("--volume")


def test_wholeDicomCopyLoadsWithNotesForOtherFiles(sharedData, tmp_path, slicerContext):
    files = bad.dicomCopy(bad.ircadSlices(sharedData), tmp_path / "series")
    (tmp_path / "series" / "notes.txt").write_text("not DICOM")
    notes = []
    volumeNode = segmentationIO.loadVolume(slicerContext.scene, str(tmp_path / "series"), notes=notes)
    assert volumeNode.GetImageData().GetDimensions() == (512, 512, len(files))
    assert volumeNode.GetSpacing()[2] == pytest.approx(1.6, abs=1e-3)
    assert notes == [f"'{tmp_path / 'series' / 'notes.txt'}' is not DICOM and was left aside"]


# --- options -----------------------------------------------------------------------------------


def test_numberDateAndPathChecks(tmp_path):
    import datetime

    assert inputChecks.checkedNumber("2.5", "--margin", 0, 50, "mm") == 2.5
    for value, expected in (("nan", "expected a finite number"), ("inf", "expected a finite number"), ("-5", "expected between 0 and 50 mm"),
                            ("1e9", "expected between 0 and 50 mm"), ("abc", "is not a number")):
        with pytest.raises(ValueError, match=expected):
            inputChecks.checkedNumber(value, "--margin", 0, 50, "mm")
    today = datetime.date(2026, 6, 1)
    with pytest.raises(ValueError, match="is in the future"):
        inputChecks.checkedPastDate(datetime.date(2062, 3, 1), "scan date", today)
    with pytest.raises(ValueError, match="days before the first scan"):
        inputChecks.checkedDateNearScans(datetime.date(2016, 3, 1), "stage 1 date", [datetime.date(2026, 3, 1)])
    (tmp_path / "in.nii.gz").write_bytes(b"x")
    with pytest.raises(ValueError, match="is the input"):
        inputChecks.checkedOutputPath(str(tmp_path / "in.nii.gz"), [str(tmp_path / "in.nii.gz")], "--json")
    with pytest.raises(ValueError, match="lies inside the input folder"):
        inputChecks.checkedOutputPath(str(tmp_path / "out"), [str(tmp_path)], "--out")
    assert inputChecks.checkedOutputPath(str(tmp_path / "out.json"), [str(tmp_path / "in.nii.gz")]) == str(tmp_path / "out.json")


def test_unevenSpacingIsResampledOnlyWhenAllowed(sharedData, tmp_path, slicerContext):
    """Slices whose value is a linear function of their position (10 x z mm): interpolated
    between neighbours, every resampled slice must hold 10 x its own z exactly."""
    import slicer.util

    files = bad.dicomCopy(bad.ircadSlices(sharedData), tmp_path / "series")
    for index in range(5, 8):
        _moveSlice(files, index, 0.5)  # gaps 1.6 mm, then 2.1 mm once, then 1.6 mm

    def constant(dataset):
        z = float(dataset.ImagePositionPatient[2])
        dataset.RescaleSlope, dataset.RescaleIntercept = 1, 0
        dataset.PixelData = np.full((dataset.Rows, dataset.Columns), round(10 * z), dtype=np.int16).tobytes()

    for path in files:
        bad.editDicom(path, constant)
    with pytest.raises(ValueError, match=r"uneven slice spacing.*--allow-uneven-spacing"):
        segmentationIO.loadVolume(slicerContext.scene, str(tmp_path / "series"), what="--volume")
    notes = []
    with unevenSlices.UnevenSpacingAllowed():
        volumeNode = segmentationIO.loadVolume(slicerContext.scene, str(tmp_path / "series"), what="--volume", notes=notes)
    assert notes and notes[0].startswith("--volume: slice spacing varies from 1.600 to 2.100 mm: 8 slices resampled to 8 slices 1.600 mm apart")
    voxels = slicer.util.arrayFromVolume(volumeNode)
    matrix = np.eye(4)
    import vtk

    m = vtk.vtkMatrix4x4()
    volumeNode.GetIJKToRASMatrix(m)
    for row in range(4):
        for column in range(4):
            matrix[row, column] = m.GetElement(row, column)
    assert np.linalg.norm(matrix[:3, 2]) == pytest.approx(1.6, abs=1e-4)
    for k in range(voxels.shape[0]):
        z = (matrix @ [0, 0, k, 1])[2]
        assert voxels[k].min() == voxels[k].max() == pytest.approx(10 * z, abs=0.51), k
    with pytest.raises(ValueError, match=r"slice\(s\) missing"):
        os.remove(files[3])
        with unevenSlices.UnevenSpacingAllowed():
            segmentationIO.loadVolume(slicerContext.scene, str(tmp_path / "series"))
