"""The batch command's label map read while Slicer's libraries load (alpps/labelMapReadAhead): in a
forked helper process on Linux, in a thread elsewhere. Whichever way, the summary and the voxels
must be exactly those of the file check made in this process, and a refusal the same line."""

import dataclasses
import json
import pickle
import subprocess
import sys

import numpy as np
import pytest
import SimpleITK as sitk
from ALPPSVolumetryLib.inputs.imageFileChecks import checkImageFile

from alpps import benchmark, labelMapReadAhead

_READ_IN_A_FRESH_PROCESS = """
import pickle, sys
from alpps import labelMapReadAhead
try:
    summary = labelMapReadAhead.readLabelMapWhileSlicerLoads(sys.argv[1])
    result = ("summary", labelMapReadAhead.lastWay, summary)
except (ValueError, OSError) as refusal:
    result = ("refused", labelMapReadAhead.lastWay, str(refusal))
with open(sys.argv[2], "wb") as stream:
    pickle.dump(result, stream)
"""

helperProcessOnly = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the helper process is forked on Linux only")


def _writeLabelMap(path, labels, spacing=(0.8, 0.7, 1.5)):
    image = sitk.GetImageFromArray(labels)
    image.SetSpacing(spacing)
    sitk.WriteImage(image, path, True)
    return path


def _labels(shape=(40, 48, 44)):
    labels, _ = benchmark._syntheticCouinaudLabels(shape)
    return labels


def _readInAFreshProcess(tmp_path, path):
    output = str(tmp_path / "read.pickle")
    subprocess.run([sys.executable, "-c", _READ_IN_A_FRESH_PROCESS, path, output], check=True, timeout=300)
    with open(output, "rb") as stream:
        return pickle.load(stream)


def _assertSameSummary(found, expected):
    for field in dataclasses.fields(expected):
        mine, theirs = getattr(found, field.name), getattr(expected, field.name)
        if field.name == "voxels":
            assert mine.dtype == theirs.dtype and mine.shape == theirs.shape
            assert np.array_equal(mine, theirs)
        else:
            assert mine == theirs, field.name


def _files(tmp_path):
    labels = _labels()
    empty = np.zeros_like(labels)
    middle = np.zeros_like(labels)
    middle[15:22] = labels[15:22]  # labelled slices in the middle only: the kept voxels start at slice 15
    return {
        "uint8 NIfTI": _writeLabelMap(str(tmp_path / "uint8.nii.gz"), labels),
        "uint16 NRRD": _writeLabelMap(str(tmp_path / "uint16.nrrd"), labels.astype(np.uint16)),
        "float32 MetaImage": _writeLabelMap(str(tmp_path / "float.mha"), labels.astype(np.float32)),
        # Labels beyond 8 and 16 bits: the kept voxels are widened twice in the shared memory.
        "large label values": _writeLabelMap(str(tmp_path / "large.nrrd"), labels.astype(np.int32) * 100000 + (labels > 4) * 300),
        "labelled middle slices": _writeLabelMap(str(tmp_path / "middle.nii.gz"), middle),
        "no labels": _writeLabelMap(str(tmp_path / "empty.nii.gz"), empty),
    }


@helperProcessOnly
@pytest.mark.parametrize("kind", ["uint8 NIfTI", "uint16 NRRD", "float32 MetaImage", "large label values", "labelled middle slices", "no labels"])
def test_helperProcessGivesTheFileChecksSummaryAndVoxels(tmp_path, kind):
    path = _files(tmp_path)[kind]
    outcome, way, summary = _readInAFreshProcess(tmp_path, path)
    assert (outcome, way) == ("summary", "helper process")
    _assertSameSummary(summary, checkImageFile(path, "Label map", labelmap=True, keepVoxels=True))
    if kind == "large label values":
        assert summary.voxels.dtype == np.uint32
    # Independent of the file check: the voxels are SimpleITK's, from the first labelled slice.
    reference = sitk.GetArrayFromImage(sitk.ReadImage(path))
    assert np.array_equal(summary.voxels, reference[summary.voxelsFirstSlice : summary.voxelsFirstSlice + summary.voxels.shape[0]])
    assert not reference[: summary.voxelsFirstSlice].any() and not reference[summary.voxelsFirstSlice + summary.voxels.shape[0] :].any()


@helperProcessOnly
def test_helperProcessRefusesADamagedFileInTheCheck_sWords(tmp_path):
    path = _files(tmp_path)["uint8 NIfTI"]
    with open(path, "rb") as stream:
        data = stream.read()
    damaged = str(tmp_path / "cut.nii.gz")
    with open(damaged, "wb") as stream:
        stream.write(data[: len(data) // 2])
    with pytest.raises(ValueError) as inThisProcess:
        checkImageFile(damaged, "Label map", labelmap=True, keepVoxels=True)
    assert _readInAFreshProcess(tmp_path, damaged) == ("refused", "helper process", str(inThisProcess.value))
    missing = str(tmp_path / "absent.nii.gz")
    outcome, _, message = _readInAFreshProcess(tmp_path, missing)
    assert outcome == "refused" and "absent.nii.gz" in message


@helperProcessOnly
def test_segmentationFilesOtherThanLabelMapsAreLeftToSlicer(tmp_path):
    segmentation = tmp_path / "liver.seg.nrrd"
    _writeLabelMap(str(segmentation), _labels().astype(np.int16))
    assert _readInAFreshProcess(tmp_path, str(segmentation)) == ("summary", "not a label map", None)


def test_threadGivesTheSameSummaryWhereForkingIsUnsafe(tmp_path):
    # This test process runs threads and has Slicer loaded: the read-ahead takes the thread.
    path = _files(tmp_path)["large label values"]
    summary = labelMapReadAhead.readLabelMapWhileSlicerLoads(path)
    assert labelMapReadAhead.lastWay == "thread"
    _assertSameSummary(summary, checkImageFile(path, "Label map", labelmap=True, keepVoxels=True))


@helperProcessOnly
def test_batchVolumetryReadsItsLabelMapInTheHelperProcess(tmp_path):
    """Guards the fast path: anything that loads numpy or starts a thread before the command
    runs would silently send `alpps volumetry` back to the slower thread."""
    path = _writeLabelMap(str(tmp_path / "liver.nii.gz"), _labels((60, 80, 72)))
    output = str(tmp_path / "volumetry.json")
    code = ("import sys\nfrom alpps import cli, labelMapReadAhead\n"
            "status = cli.main(sys.argv[1:])\nprint(labelMapReadAhead.lastWay)\nsys.exit(status)\n")
    finished = subprocess.run([sys.executable, "-c", code, "volumetry", "--segmentation", path, "--labels", "liver_segments",
                               "--json", output], capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip().splitlines()[-1] == "helper process"
    image = sitk.ReadImage(path)
    counts = np.bincount(sitk.GetArrayViewFromImage(image).reshape(-1))
    voxelMl = float(np.prod(image.GetSpacing())) / 1000.0
    with open(output, encoding="utf-8") as stream:
        segments = json.load(stream)["segments"]
    for value, name in enumerate(("I", "II", "III", "IV", "V", "VI", "VII", "VIII"), start=1):
        assert segments[name]["volumeMl"] == pytest.approx(counts[value] * voxelMl, rel=1e-12)


@helperProcessOnly
def test_fileIsReadHereWhenTheHelperProcessDies(tmp_path):
    path = _files(tmp_path)["uint8 NIfTI"]
    output = str(tmp_path / "read.pickle")
    code = ("import os, pickle, sys\nfrom alpps import labelMapReadAhead\n"
            "labelMapReadAhead._helperMain = lambda *arguments: os._exit(9)  # as if killed for its memory\n"
            "summary = labelMapReadAhead.readLabelMapWhileSlicerLoads(sys.argv[1])\n"
            "pickle.dump(summary, open(sys.argv[2], 'wb'))\n")
    subprocess.run([sys.executable, "-c", code, path, output], check=True, timeout=300)
    with open(output, "rb") as stream:
        _assertSameSummary(pickle.load(stream), checkImageFile(path, "Label map", labelmap=True, keepVoxels=True))


def test_checkGivesTheSameWithPythonsZlibAsInsideSlicer(tmp_path):
    """Slicer does not bundle zlib-ng: there the check inflates with Python's zlib, to the same
    summary, voxels and refusals."""
    intact = _files(tmp_path)["uint8 NIfTI"]
    with open(intact, "rb") as stream:
        data = stream.read()
    damaged = str(tmp_path / "cut.nii.gz")
    with open(damaged, "wb") as stream:
        stream.write(data[: len(data) // 2])
    output = str(tmp_path / "zlib.pickle")
    code = ("import pickle, sys\nsys.modules['zlib_ng'] = None  # as inside Slicer\n"
            "from ALPPSVolumetryLib.inputs import imageFileChecks\n"
            "assert imageFileChecks.zlib.__name__ == 'zlib'\n"
            "summary = imageFileChecks.checkImageFile(sys.argv[1], 'Label map', labelmap=True, keepVoxels=True)\n"
            "try:\n    imageFileChecks.checkImageFile(sys.argv[2], 'Label map', labelmap=True, keepVoxels=True)\n"
            "    refusal = None\nexcept ValueError as error:\n    refusal = str(error)\n"
            "pickle.dump((summary, refusal), open(sys.argv[3], 'wb'))\n")
    subprocess.run([sys.executable, "-c", code, intact, damaged, output], check=True, timeout=300)
    with open(output, "rb") as stream:
        summary, refusal = pickle.load(stream)
    _assertSameSummary(summary, checkImageFile(intact, "Label map", labelmap=True, keepVoxels=True))
    with pytest.raises(ValueError) as withZlibNg:
        checkImageFile(damaged, "Label map", labelmap=True, keepVoxels=True)
    assert refusal == str(withZlibNg.value)
    from ALPPSVolumetryLib.inputs import imageFileChecks

    assert imageFileChecks.zlib.__name__ == "zlib_ng.zlib_ng"  # the headless install's inflater
