"""Volumes of the real data in ../shared/data against SimpleITK label statistics (an
independent reader and counter) and the values its README lists."""

import os

import pytest
import SimpleITK as sitk
from ALPPSVolumetryLib.segments import segmentationIO, segmentOverlap, segmentVolumes

COUINAUD_NAMES = {value: f"Segment {name}" for value, name in enumerate(("I", "II", "III", "IV", "V", "VI", "VII", "VIII"), 1)}


def _sitkVolumesMl(path):
    image = sitk.ReadImage(path)
    statistics = sitk.LabelShapeStatisticsImageFilter()
    statistics.Execute(sitk.Cast(image, sitk.sitkUInt16))
    return {label: statistics.GetPhysicalSize(label) / 1000.0 for label in statistics.GetLabels()}


def test_ircadCouinaudSegmentsMatchSimpleITK(slicerContext, sharedData):
    path = os.path.join(sharedData, "ircad1", "couinaud_labels.nii.gz")
    oracle = _sitkVolumesMl(path)
    segmentationNode = segmentationIO.loadSegmentation(slicerContext.scene, path, COUINAUD_NAMES)
    measured = {volume.name: volume.volumeMl for volume in segmentVolumes.segmentVolumes(segmentationNode)}
    readme = {"I": 40.60, "II": 160.68, "III": 65.71, "IV": 165.84, "V": 177.14, "VI": 149.86, "VII": 390.94, "VIII": 313.32}
    for value, name in COUINAUD_NAMES.items():
        assert measured[name] == pytest.approx(oracle[value], rel=1e-6)
        assert measured[name] == pytest.approx(readme[name.split()[1]], abs=0.005)
    ids = [volume.segmentId for volume in segmentVolumes.segmentVolumes(segmentationNode)]
    _, total = segmentOverlap.unionVolume(segmentationNode, ids)
    assert total == pytest.approx(1464.09, abs=0.005)


@pytest.mark.parametrize(
    "relativePath,label,expectedMl",
    [
        ("totalsegmentator/example_ct_liver.nii.gz", 1, 1123.25),
        ("totalsegmentator/example_ct_dicom_seg.nii.gz", 5, 699.44),
        ("totalsegmentator/example_mr_seg.nii.gz", 5, 498.96),
        ("dcmqi/liver_seg.nrrd", 1, 70.36),
        ("ircad1/liver_mask.nii.gz", 1, 1464.09),
    ],
)
def test_liverMasksMatchSimpleITK(slicerContext, sharedData, relativePath, label, expectedMl):
    path = os.path.join(sharedData, relativePath)
    oracle = _sitkVolumesMl(path)
    names = {value: ("Liver" if value == label else f"Label {value}") for value in oracle}
    segmentationNode = segmentationIO.loadSegmentation(slicerContext.scene, path, names)
    measured = {volume.name: volume.volumeMl for volume in segmentVolumes.segmentVolumes(segmentationNode)}
    assert measured["Liver"] == pytest.approx(oracle[label], rel=1e-6)
    assert measured["Liver"] == pytest.approx(expectedMl, abs=0.005)
    for value in oracle:
        assert measured[names[value]] == pytest.approx(oracle[value], rel=1e-6)


def test_labelMappingMistakesAreNamed(slicerContext, sharedData):
    path = os.path.join(sharedData, "ircad1", "couinaud_labels.nii.gz")
    # Issue 15: a mapping may name only the labels wanted; the others are left out and listed.
    notes = []
    partial = segmentationIO.loadSegmentation(slicerContext.scene, path, {v: n for v, n in COUINAUD_NAMES.items() if v != 8}, notes=notes)
    names = [partial.GetSegmentation().GetNthSegment(i).GetName() for i in range(partial.GetSegmentation().GetNumberOfSegments())]
    assert names == [COUINAUD_NAMES[v] for v in range(1, 8)]
    assert notes == [f"label map '{path}': label value(s) 8 not named in the label mapping, left out"]
    with pytest.raises(ValueError, match=r"no voxels for label values \[9\]"):
        segmentationIO.loadSegmentation(slicerContext.scene, path, {**COUINAUD_NAMES, 9: "Segment IX"})


def test_unreadableFilesAreNamed(slicerContext, sharedData, tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.nii.gz"):
        segmentationIO.loadSegmentation(slicerContext.scene, str(tmp_path / "nowhere.nii.gz"))
    notAnImage = tmp_path / "notes.nrrd"
    notAnImage.write_text("not an image")
    with pytest.raises(ValueError, match="notes.nrrd' does not start with 'NRRD000'"):
        segmentationIO.loadVolume(slicerContext.scene, str(notAnImage))
