"""A label map file read once (issue 14, item 6): the voxels the file check decodes become the
segmentation's layer directly, instead of Slicer's reader decoding the file again and Slicer's
label map import copying it. These tests hold the fast path to what the old one gave: Slicer's
own reader and import, SimpleITK with numpy's bincount as an independent counter, and numpy
boundary counts on the full grid."""

import dataclasses
import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import SimpleITK as sitk
import slicer
import slicer.util
from ALPPSVolumetryLib.planning import futureLiverRemnant, resectionPlans
from ALPPSVolumetryLib.segments import segmentationIO, segmentOverlap, segmentVolumes
from ALPPSVolumetryLib.imageGrid import arrayFromVtkMatrix, imageToWorld
from ALPPSVolumetryLib.inputs import imageFileChecks
from vtkmodules.vtkCommonMath import vtkMatrix4x4

from alpps import benchmark, cli

COUINAUD_NAMES = {value: f"Segment {name}" for value, name in enumerate(("I", "II", "III", "IV", "V", "VI", "VII", "VIII"), 1)}


def _writeLabelMap(path, labels, spacing=(0.8, 0.7, 1.5), direction=None, origin=(10.0, -20.0, 30.0)):
    image = sitk.GetImageFromArray(labels)
    image.SetSpacing(spacing)
    image.SetOrigin(origin)
    if direction is not None:
        image.SetDirection(direction)
    sitk.WriteImage(image, path, True)
    return path


def _syntheticLabels(shape=(50, 64, 64), unlisted=False):
    labels, _ = benchmark._syntheticCouinaudLabels(shape)
    if unlisted:
        labels[: shape[0] // 5, :8, :8] = 42  # a structure the mapping does not name, away from the liver
    return labels


def _labelMapFiles(tmp_path):
    """Label maps of every kind the fast read must place as Slicer's reader does."""
    labels = _syntheticLabels()
    files = {
        "uint8": _writeLabelMap(str(tmp_path / "uint8.nii.gz"), labels),
        "uint16 NRRD": _writeLabelMap(str(tmp_path / "uint16.nrrd"), labels.astype(np.uint16)),
        "float32 MetaImage": _writeLabelMap(str(tmp_path / "float.mha"), labels.astype(np.float32)),
        # Stored left-handed (z flipped): Slicer reverses the slices to make the axes right-handed.
        "flipped": _writeLabelMap(str(tmp_path / "flipped.nii.gz"), labels, direction=(1, 0, 0, 0, 1, 0, 0, 0, -1)),
        "oblique": _writeLabelMap(
            str(tmp_path / "oblique.nii.gz"), labels, direction=tuple(sitk.VersorTransform((0.2, 0.1, 1.0), 0.3).GetMatrix())
        ),
        "unlisted label": _writeLabelMap(str(tmp_path / "unlisted.nii.gz"), _syntheticLabels(unlisted=True)),
        "large label values": _writeLabelMap(str(tmp_path / "large.nrrd"), (labels.astype(np.int32) * 100000)),
    }
    return files


def _slicerReadLabels(scene, path):
    """The file as Slicer's volume reader gives it: voxels [k, j, i] and the IJK-to-RAS matrix."""
    node = segmentationIO._readVolume(scene, [path], True, "reference")
    matrix = vtkMatrix4x4()
    node.GetIJKToRASMatrix(matrix)
    voxels = slicer.util.arrayFromVolume(node).copy()
    scene.RemoveNode(node)
    return voxels, arrayFromVtkMatrix(matrix)


@pytest.mark.parametrize("kind", ["uint8", "uint16 NRRD", "float32 MetaImage", "flipped", "oblique", "unlisted label", "large label values"])
def test_layerIsSlicersReadAndImportOfTheFile(slicerContext, tmp_path, kind):
    path = _labelMapFiles(tmp_path)[kind]
    voxels, ijkToRAS = _slicerReadLabels(slicerContext.scene, path)
    names = {value * (100000 if kind == "large label values" else 1): name for value, name in COUINAUD_NAMES.items()}
    segmentationNode = segmentationIO.loadSegmentation(slicerContext.scene, path, names, notes=[])
    segmentation = segmentationNode.GetSegmentation()
    labelmapName = segmentVolumes.binaryLabelmapName()
    assert segmentation.GetNumberOfLayers(labelmapName) == 1
    layer = segmentation.GetLayerDataObject(0, labelmapName)
    # The same grid to the last digit, so every volume is the same to the last digit.
    assert np.array_equal(imageToWorld(layer), ijkToRAS)
    listed = np.isin(voxels, list(names))
    k, j, i = (np.flatnonzero(listed.any(axis=axes)) for axes in ((1, 2), (0, 2), (0, 1)))
    # Slicer's effective extent: the box of the listed labels' voxels.
    assert layer.GetExtent() == (i[0], i[-1], j[0], j[-1], k[0], k[-1])
    assert layer.GetScalarTypeAsString() == "short"  # as Slicer's import made it: saved .seg.nrrd files unchanged
    layerVoxels = segmentVolumes.layerVoxels(layer)
    crop = voxels[k[0] : k[-1] + 1, j[0] : j[-1] + 1, i[0] : i[-1] + 1]
    assert [segmentation.GetSegment(segmentId).GetName() for segmentId in segmentation.GetSegmentIDs()] == [
        names[value] for value in sorted(names)
    ]
    for number, value in enumerate(sorted(names), start=1):
        segment = segmentation.GetSegment(segmentation.GetSegmentIdBySegmentName(names[value]))
        assert segment.GetLabelValue() == number
        assert np.array_equal(layerVoxels == number, crop == value)
    assert np.count_nonzero(layerVoxels) == np.count_nonzero(listed)


def _bincountVolumesMl(path):
    """Independent reader and counter: SimpleITK and numpy's bincount."""
    image = sitk.ReadImage(path)
    counts = np.bincount(sitk.GetArrayViewFromImage(image).reshape(-1).astype(np.int64))
    voxelMl = float(np.prod(image.GetSpacing())) / 1000.0
    return {value: int(count) * voxelMl for value, count in enumerate(counts) if count}


def _volumetryDocument(tmp_path, path, labels="liver_segments"):
    output = str(tmp_path / "volumetry.json")
    assert cli.main(["volumetry", "--segmentation", path, "--labels", labels, "--height", "172", "--weight", "78", "--json", output]) == 0
    with open(output, encoding="utf-8") as stream:
        return json.load(stream)


def test_ircadVolumesOfTheCommandAreTheFilesCounts(tmp_path, sharedData):
    path = os.path.join(sharedData, "ircad1", "couinaud_labels.nii.gz")
    oracle = _bincountVolumesMl(path)
    document = _volumetryDocument(tmp_path, path)
    readme = {"I": 40.60, "II": 160.68, "III": 65.71, "IV": 165.84, "V": 177.14, "VI": 149.86, "VII": 390.94, "VIII": 313.32}
    for value, name in COUINAUD_NAMES.items():
        segment = name.split()[1]
        assert document["segments"][segment]["volumeMl"] == pytest.approx(oracle[value], rel=1e-12)
        assert document["segments"][segment]["volumeMl"] == pytest.approx(readme[segment], abs=0.005)
    assert document["liver"]["totalLiverVolumeMl"] == pytest.approx(sum(oracle[value] for value in COUINAUD_NAMES), rel=1e-12)


def test_syntheticVolumesOfTheCommandAreTheFilesCounts(tmp_path):
    path = _writeLabelMap(str(tmp_path / "phantom.nii.gz"), _syntheticLabels((60, 80, 72)), direction=(1, 0, 0, 0, -1, 0, 0, 0, 1))
    oracle = _bincountVolumesMl(path)
    document = _volumetryDocument(tmp_path, path)
    for value, name in COUINAUD_NAMES.items():
        assert document["segments"][name.split()[1]]["volumeMl"] == pytest.approx(oracle[value], rel=1e-12)


def _facesOfMask(mask):
    """Voxel faces between the mask and the rest, per axis (i, j, k), outside the grid counted as not in it."""
    padded = np.pad(mask, 1)
    return tuple(int(np.count_nonzero(np.diff(padded, axis=axis))) for axis in (2, 1, 0))


def test_singleLayerCountsAreThoseOfEveryVoxelsPattern(slicerContext, tmp_path):
    """A label map's layer is counted on its label values; the counts must be those of the bit
    pattern of every voxel, and the boundary faces those of the full-grid masks."""
    path = _writeLabelMap(str(tmp_path / "phantom.nii.gz"), _syntheticLabels((40, 56, 48)))
    segmentationNode = segmentationIO.loadSegmentation(slicerContext.scene, path, COUINAUD_NAMES)
    segmentation = segmentationNode.GetSegmentation()
    ids = {name: segmentation.GetSegmentIdBySegmentName(name) for name in COUINAUD_NAMES.values()}
    groups = {"right": [ids["Segment V"], ids["Segment VI"], ids["Segment VII"], ids["Segment VIII"]],
              "left": [ids["Segment II"], ids["Segment III"]], "II": [ids["Segment II"]]}
    overlap = segmentOverlap.SegmentOverlapHistogram(segmentationNode, groups)
    assert overlap._singleLayer
    labelmapName = segmentVolumes.binaryLabelmapName()
    layer = segmentVolumes.layerVoxels(segmentation.GetLayerDataObject(0, labelmapName))
    patterns = np.zeros(layer.shape, dtype=np.int64)
    for bit, members in enumerate(groups.values()):
        inGroup = np.isin(layer, [segmentation.GetSegment(segmentId).GetLabelValue() for segmentId in members])
        patterns |= inGroup.astype(np.int64) << bit
    assert np.array_equal(overlap.histogram, np.bincount(patterns.reshape(-1), minlength=overlap.histogram.size))
    for name, bits in (("right", overlap.bits["right"]), ("left but not II", None)):
        if bits is not None:
            mask = (patterns & bits) != 0

            def predicate(p, bits=bits):
                return (p & bits) != 0
        else:
            mask = ((patterns & overlap.bits["left"]) != 0) & ((patterns & overlap.bits["II"]) == 0)

            def predicate(p):
                return ((p & overlap.bits["left"]) != 0) & ((p & overlap.bits["II"]) == 0)

        assert overlap.boundaryFaces(predicate) == _facesOfMask(mask), name


def test_volumetryAgreesWithTheOldReadThroughSlicersImport(slicerContext, tmp_path):
    """Every number of the volumetry (volumes, remnants, resolution intervals) from the fast read
    equals that from Slicer's reader and Slicer's label map import."""
    path = _writeLabelMap(str(tmp_path / "phantom.nii.gz"), _syntheticLabels((48, 64, 60)))
    plans = [resectionPlans.presetPlan(key) for key in resectionPlans.PRESETS]
    settings = futureLiverRemnant.VolumetrySettings(heightCm=172.0, weightKg=78.0)
    fast = futureLiverRemnant.measureVolumetry(segmentationIO.loadSegmentation(slicerContext.scene, path, COUINAUD_NAMES), plans, settings)

    labelmapNode = segmentationIO._readVolume(slicerContext.scene, [path], True, "old read")
    colors = slicerContext.scene.AddNewNodeByClass("vtkMRMLColorTableNode", "names")
    colors.SetTypeToUser()
    colors.SetNumberOfColors(9)
    for value, name in COUINAUD_NAMES.items():
        colors.SetColor(value, name, 0.5, 0.5, 0.5, 1.0)
    labelmapNode.GetDisplayNode().SetAndObserveColorNodeID(colors.GetID())
    oldNode = slicerContext.scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "old import")
    assert slicer.vtkSlicerSegmentationsModuleLogic.ImportLabelmapToSegmentationNode(labelmapNode, oldNode)
    old = futureLiverRemnant.measureVolumetry(oldNode, plans, settings)

    def numbers(result):
        document = futureLiverRemnant.volumetryToDict(result)
        for row in document["segmentRoles"]:
            row.pop("segmentId")
        document.pop("segmentation")
        return document

    assert numbers(fast) == numbers(old)


def test_endToEndBenchmarkReportsItsFiguresOnASmallMap(tmp_path):
    lines = []
    figures = benchmark.runEndToEndBenchmark(shape=(100, 128, 128), repeats=1, outputFolder=str(tmp_path), printer=lines.append)
    for key in ("readAndCountSeconds", "volumetrySeconds", "timeRatio", "readAndCountPeakGB", "volumetryPeakGB"):
        assert figures[key] > 0, key
    assert figures["size"] == [128, 128, 100]
    assert set(figures["segmentVolumesMl"]) == {"I", "II", "III", "IV", "V", "VI", "VII", "VIII"}
    assert os.path.isfile(os.path.join(str(tmp_path), "couinaud_labels_128x128x100.nii.gz"))
    # The volumes the command wrote are the label counts of the file it measured.
    oracle = _bincountVolumesMl(figures["input"])
    for value, name in COUINAUD_NAMES.items():
        assert figures["segmentVolumesMl"][name.split()[1]] == pytest.approx(oracle[value], rel=1e-9)
    assert any("time ratio" in line for line in lines) and any("agree" in line for line in lines)


def test_endToEndBenchmarkRefusesAMissingInputInOneLine(tmp_path, capsys):
    assert cli.main(["benchmark", "end-to-end", "--input", str(tmp_path / "none.nii.gz")]) == 2
    error = capsys.readouterr().err
    assert "none.nii.gz" in error and len(error.strip().splitlines()) == 1


_CHECK_WITH_PYTHONS_ZLIB = """
import pickle, sys
sys.modules["zlib_ng"] = None  # as inside Slicer, which does not bundle it
from ALPPSVolumetryLib.inputs import imageFileChecks
assert imageFileChecks.zlib.__name__ == "zlib"
outcomes = []
for path in sys.argv[2:]:
    try:
        outcomes.append(imageFileChecks.checkImageFile(path, "Label map", labelmap=True, keepVoxels=True))
    except ValueError as refusal:
        outcomes.append(str(refusal))
with open(sys.argv[1], "wb") as stream:
    pickle.dump(outcomes, stream)
"""


def test_labelMapCheckGivesTheSameWithPythonsZlibAsWithZlibNg(tmp_path):
    """The headless install inflates with zlib-ng; Slicer, without it, with Python's zlib: the
    same summary, voxels and refusals either way."""
    labels = _syntheticLabels()
    labels[:10] = 0  # the kept voxels start at the first labelled slice
    files = [
        _writeLabelMap(str(tmp_path / "uint8.nii.gz"), labels),
        _writeLabelMap(str(tmp_path / "large.nrrd"), labels.astype(np.int32) * 100000 + (labels > 4) * 300),
    ]
    with open(files[0], "rb") as stream:
        data = stream.read()
    for name, damaged in (("cut.nii.gz", data[: len(data) // 2]), ("flipped.nii.gz", data[:400] + bytes(255 - b for b in data[400:800]) + data[800:])):
        with open(tmp_path / name, "wb") as stream:
            stream.write(damaged)
        files.append(str(tmp_path / name))
    output = str(tmp_path / "outcomes.pickle")
    subprocess.run([sys.executable, "-c", _CHECK_WITH_PYTHONS_ZLIB, output] + files, check=True, timeout=300)
    with open(output, "rb") as stream:
        withZlib = pickle.load(stream)
    assert imageFileChecks.zlib.__name__ == "zlib_ng.zlib_ng"  # this (headless) install's inflater
    for path, theirs in zip(files, withZlib):
        try:
            mine = imageFileChecks.checkImageFile(path, "Label map", labelmap=True, keepVoxels=True)
        except ValueError as refusal:
            mine = str(refusal)
        if isinstance(mine, str):
            assert theirs == mine and ("truncated" in mine or "damaged gzip stream" in mine)
            continue
        for field in dataclasses.fields(mine):
            if field.name == "voxels":
                assert mine.voxels.dtype == theirs.voxels.dtype and np.array_equal(mine.voxels, theirs.voxels)
            else:
                assert getattr(mine, field.name) == getattr(theirs, field.name), field.name
        reference = sitk.GetArrayFromImage(sitk.ReadImage(path))
        assert np.array_equal(mine.voxels, reference[mine.voxelsFirstSlice : mine.voxelsFirstSlice + mine.voxels.shape[0]])
