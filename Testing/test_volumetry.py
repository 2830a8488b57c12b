"""ALPPSVolumetry on inputs as radiologists have them: segment roles, real data plans, DICOM,
geometry, and every kind of bad input named in the issue."""

import json
import math
import os
import random
import shutil

import numpy as np
import pytest
from ALPPSVolumetryLib.segments import couinaud, segmentationImport, segmentationIO, segmentRecognition, segmentVolumes
from ALPPSVolumetryLib.inputs import dicomSeries
from ALPPSVolumetryLib.planning import futureLiverRemnant, resectionPlans
from ALPPSVolumetryLib import syntheticPatient, syntheticPatientScene

from alpps import cli

COUINAUD_NAMES = {value: f"Segment {name}" for value, name in enumerate(couinaud.SEGMENT_IDS, 1)}
SPACING = (3.0, 3.0, 3.0)


@pytest.fixture
def syntheticCase(slicerContext):
    timePoint = syntheticPatient.makeTimePoint("pre-stage 1", -3, 1.0, spacing=SPACING)
    volumeNode, segmentationNode = syntheticPatientScene.addTimePointNodes(slicerContext.scene, timePoint, "Case")
    return timePoint, volumeNode, segmentationNode


def _segmentationFromMasks(scene, masks, ijkToRAS, name="Masks"):
    segmentationNode = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", name)
    segmentationImport.importMaskArrays(segmentationNode, masks, ijkToRAS)
    return segmentationNode


def _couinaudMasks(timePoint, names=None):
    names = names or {segmentId: f"Segment {segmentId}" for segmentId in couinaud.SEGMENT_IDS}
    return {names[segmentId]: timePoint.couinaudLabels == value for value, segmentId in enumerate(couinaud.SEGMENT_IDS, 1)}


# --- segment recognition -------------------------------------------------------------------


def test_totalSegmentatorIdsAndTumourNamesAreRecognised(slicerContext):
    timePoint = syntheticPatient.makeTimePoint("pre-stage 1", -3, 1.0, spacing=SPACING)
    masks = _couinaudMasks(timePoint, {s: f"liver_segment_{i}" for i, s in enumerate(couinaud.SEGMENT_IDS, 1)})
    masks["liver"] = timePoint.couinaudLabels > 0
    masks["Metastasis 1"] = timePoint.structures["Tumour 1"]
    masks["liver_vessels"] = timePoint.structures["Hepatic veins"]
    segmentationNode = _segmentationFromMasks(slicerContext.scene, masks, timePoint.ijkToRAS)
    roles = {name: role for _, name, _, role in segmentRecognition.SegmentRoles(segmentationNode).asRows()}
    assert roles["liver_segment_4"] == "IV" and roles["liver_segment_1"] == "I"
    assert roles["liver"] == "liver" and roles["Metastasis 1"] == "tumour" and roles["liver_vessels"] == "other"
    result = futureLiverRemnant.measureVolumetry(segmentationNode, [resectionPlans.presetPlan("right_hepatectomy")])
    assert result.totalLiverMl == pytest.approx(timePoint.trueVolumesMl["Liver"], rel=1e-12)
    assert result.totalTumourMl == pytest.approx(timePoint.trueVolumesMl["Tumour 1"], rel=1e-12)


def test_userCorrectsAnUnrecognisedSegment(syntheticCase):
    timePoint, _, segmentationNode = syntheticCase
    segmentation = segmentationNode.GetSegmentation()
    segmentation.GetSegment(segmentation.GetSegmentIdBySegmentName("Segment II")).SetName("left lateral upper")
    # The name no longer says which segment it is; terminology still does, so remove the tag too.
    segmentId = segmentation.GetSegmentIdBySegmentName("left lateral upper")
    segmentation.GetSegment(segmentId).RemoveTag("TerminologyEntry")
    with pytest.raises(ValueError, match=r"lacks Couinaud segment\(s\) II"):
        futureLiverRemnant.measureVolumetry(segmentationNode, [resectionPlans.presetPlan("right_trisectionectomy")])
    segmentRecognition.storeRoleCorrections(segmentationNode, {"left lateral upper": "II"})
    result = futureLiverRemnant.measureVolumetry(segmentationNode, [resectionPlans.presetPlan("right_trisectionectomy")])
    expected = sum(timePoint.trueVolumesMl[s] for s in ("I", "II", "III"))
    assert result.plans[0].remnantMl == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match="does not have: Segment 99"):
        segmentRecognition.storeRoleCorrections(segmentationNode, {"Segment 99": "II"})
    with pytest.raises(ValueError, match="Role 'IX' given for segment 'Segment III' is unknown"):
        segmentRecognition.storeRoleCorrections(segmentationNode, {"Segment III": "IX"})


def test_duplicatedSegmentIsReportedByName(syntheticCase):
    _, _, segmentationNode = syntheticCase
    segmentation = segmentationNode.GetSegmentation()
    segmentation.GetSegment(segmentation.GetSegmentIdBySegmentName("Tumour 3")).SetName("S2")
    with pytest.raises(ValueError, match=r"more than once \(II: 'Segment II' and 'S2'\)"):
        futureLiverRemnant.measureVolumetry(segmentationNode, [resectionPlans.presetPlan("right_hepatectomy")])


def test_segmentFourSplitIntoIVaAndIVbServesAnAlppsVariant(slicerContext):
    timePoint = syntheticPatient.makeTimePoint("pre-stage 1", -3, 1.0, spacing=SPACING)
    masks = _couinaudMasks(timePoint)
    four = masks.pop("Segment IV")
    zIndex = np.arange(four.shape[0])[:, None, None]
    superior = four & (zIndex >= four.shape[0] * 0.55)
    masks["Segment IVa"] = superior
    masks["Segment IVb"] = four & ~superior
    segmentationNode = _segmentationFromMasks(slicerContext.scene, masks, timePoint.ijkToRAS)
    plan = resectionPlans.customPlan("ALPPS keeping IVb", ["I", "II", "III", "IVb"])
    assert plan.resectedSegments == ("IVa", "V", "VI", "VII", "VIII")
    result = futureLiverRemnant.measureVolumetry(segmentationNode, [plan])
    voxelMl = timePoint.voxelVolumeMl
    expected = (np.count_nonzero(np.isin(timePoint.couinaudLabels, [1, 2, 3])) + np.count_nonzero(masks["Segment IVb"])) * voxelMl
    assert result.plans[0].remnantMl == pytest.approx(expected, rel=1e-12)
    units = [segment.segment for segment in result.segments]
    assert units == ["I", "II", "III", "IV", "IVa", "IVb", "V", "VI", "VII", "VIII"]
    byUnit = {segment.segment: segment.volumeMl for segment in result.segments}
    assert byUnit["IV"] == pytest.approx(byUnit["IVa"] + byUnit["IVb"], rel=1e-12)
    del masks["Segment IVb"]
    lonely = _segmentationFromMasks(slicerContext.scene, masks, timePoint.ijkToRAS, "Only IVa")
    with pytest.raises(ValueError, match="IVa .* without its other half"):
        futureLiverRemnant.measureVolumetry(lonely, [plan])


# --- plans ---------------------------------------------------------------------------------


def test_planParsingAndCaudateToggle():
    plan = resectionPlans.parsePlan("right_trisectionectomy:no-caudate")
    assert plan.remnantSegments == ("II", "III") and "I" in plan.resectedSegments
    assert resectionPlans.parsePlan("extended_right_hepatectomy").remnantSegments == ("I", "II", "III")
    assert resectionPlans.parsePlan("custom:Mine=I, II,III").remnantSegments == ("I", "II", "III")
    with pytest.raises(ValueError, match="'left_sectorectomy' is unknown"):
        resectionPlans.parsePlan("left_sectorectomy")
    with pytest.raises(ValueError, match="'IX' is not a Couinaud segment"):
        resectionPlans.parsePlan("custom:Bad=I,IX")
    for key, (_, removed) in resectionPlans.PRESETS.items():
        plan = resectionPlans.presetPlan(key)
        assert set(plan.remnantSegments) | set(removed) == set(couinaud.SEGMENT_IDS)
        assert not set(plan.remnantSegments) & set(removed)


def test_planNamingAMissingSegmentIsRefused(syntheticCase):
    _, _, segmentationNode = syntheticCase
    plan = resectionPlans.customPlan("Needs IVb", ["I", "II", "III", "IVb"])
    with pytest.raises(ValueError, match="Segment IVb is not in segmentation"):
        futureLiverRemnant.measureVolumetry(segmentationNode, [plan])


def test_emptySegmentIsNeverSilentlyZero(syntheticCase):
    _, _, segmentationNode = syntheticCase
    segmentation = segmentationNode.GetSegmentation()
    segmentation.RemoveSegment(segmentation.GetSegmentIdBySegmentName("Segment III"))
    segmentation.AddEmptySegment("", "Segment III")
    with pytest.raises(ValueError, match="empty segment\\(s\\) Segment III"):
        futureLiverRemnant.measureVolumetry(segmentationNode, [resectionPlans.presetPlan("right_trisectionectomy")])


def test_overlappingTumoursCountOnceAndAreReported(slicerContext):
    timePoint = syntheticPatient.makeTimePoint("pre-stage 1", -3, 1.0, spacing=SPACING)
    masks = _couinaudMasks(timePoint)
    first = timePoint.structures["Tumour 1"]
    shifted = np.roll(first, 3, axis=2)
    masks["Tumour A"] = first
    masks["Tumour B"] = shifted
    segmentationNode = _segmentationFromMasks(slicerContext.scene, masks, timePoint.ijkToRAS)
    result = futureLiverRemnant.measureVolumetry(segmentationNode, [resectionPlans.presetPlan("right_hepatectomy")])
    union = np.count_nonzero((first | shifted) & (timePoint.couinaudLabels > 0)) * timePoint.voxelVolumeMl
    overlap = np.count_nonzero(first & shifted) * timePoint.voxelVolumeMl
    assert result.totalTumourMl == pytest.approx(union, rel=1e-12)
    assert any(f"Tumour segments overlap by {overlap:.2f} mL" in warning for warning in result.warnings)


def test_overlappingCouinaudSegmentsAreNeverCountedTwice(slicerContext):
    timePoint = syntheticPatient.makeTimePoint("pre-stage 1", -3, 1.0, spacing=SPACING)
    masks = _couinaudMasks(timePoint)
    masks["Segment III"] = masks["Segment III"] | masks["Segment IV"]  # III painted over IV
    segmentationNode = _segmentationFromMasks(slicerContext.scene, masks, timePoint.ijkToRAS)
    result = futureLiverRemnant.measureVolumetry(segmentationNode, [resectionPlans.presetPlan("right_trisectionectomy")])
    assert result.totalLiverMl == pytest.approx(timePoint.trueVolumesMl["Liver"], rel=1e-12)
    overlap = timePoint.trueVolumesMl["IV"]
    assert any(f"overlap by {overlap:.2f} mL" in warning for warning in result.warnings)
    remnant = np.count_nonzero(np.isin(timePoint.couinaudLabels, [1, 2, 3, 4])) * timePoint.voxelVolumeMl
    assert result.plans[0].remnantMl == pytest.approx(remnant, rel=1e-12)


# --- body size -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "height,weight,message",
    [(1.72, 78.0, "metres"), (172.0, 380.0, "pounds"), (68.0, 78.0, "inches"), (172.0, -5.0, "eight"), (172.0, None, "both")],
)
def test_bodySizeMistakesAreExplained(syntheticCase, height, weight, message):
    _, _, segmentationNode = syntheticCase
    settings = futureLiverRemnant.VolumetrySettings(heightCm=height, weightKg=weight)
    with pytest.raises(ValueError, match=message):
        futureLiverRemnant.measureVolumetry(segmentationNode, [resectionPlans.presetPlan("right_hepatectomy")], settings)


def test_withoutBodySizeTheStandardisedFiguresAreMissingNotZero(syntheticCase):
    _, _, segmentationNode = syntheticCase
    result = futureLiverRemnant.measureVolumetry(segmentationNode, [resectionPlans.presetPlan("right_hepatectomy")])
    plan = result.plans[0]
    assert plan.sFLR is None and plan.flrBwr is None and plan.flrPerBsa is None
    assert {flag.state for flag in plan.flags} == {"unknown"}
    assert any("need height and weight" in warning for warning in plan.warnings)


# --- geometry ------------------------------------------------------------------------------


def test_obliqueGridCountsTheRightVolume(slicerContext):
    """A labelmap on a rotated, anisotropic grid: voxel volume from the full matrix."""
    angle = math.radians(30)
    rotation = np.array([[math.cos(angle), -math.sin(angle), 0], [math.sin(angle), math.cos(angle), 0], [0, 0, 1]])
    ijkToRAS = np.eye(4)
    ijkToRAS[:3, :3] = rotation @ np.diag([0.8, 0.8, 2.5])
    ijkToRAS[:3, 3] = (-20.0, 35.0, 10.0)
    box = np.zeros((20, 30, 40), dtype=bool)
    box[5:15, 5:25, 10:30] = True
    segmentationNode = _segmentationFromMasks(slicerContext.scene, {"Box": box}, ijkToRAS)
    (volume,) = segmentVolumes.segmentVolumes(segmentationNode)
    assert volume.volumeMl == pytest.approx(10 * 20 * 20 * 0.8 * 0.8 * 2.5 / 1000.0, rel=1e-9)


def test_segmentationUnrelatedToTheVolumeIsRefused(syntheticCase, slicerContext):
    timePoint, volumeNode, segmentationNode = syntheticCase
    assert segmentationIO.checkSegmentationOnVolume(segmentationNode, volumeNode) is None
    elsewhere = timePoint.ijkToRAS.copy()
    elsewhere[:3, 3] += (0.0, 0.0, 900.0)
    otherScan = segmentationImport.addVolumeFromArray(slicerContext.scene, "Other scan", timePoint.ct, elsewhere)
    with pytest.raises(ValueError, match="'Case segments .*' does not overlap volume 'Other scan'"):
        segmentationIO.checkSegmentationOnVolume(segmentationNode, otherScan)
    partly = timePoint.ijkToRAS.copy()
    partly[:3, 3] += (0.0, 0.0, 120.0)
    partScan = segmentationImport.addVolumeFromArray(slicerContext.scene, "Part scan", timePoint.ct, partly)
    with pytest.raises(ValueError, match="'Part scan': part of its labelled voxels lie outside the volume"):
        segmentationIO.checkSegmentationOnVolume(segmentationNode, partScan)
    # Issue 15: a volume 10 % finer that still holds the segmentation, and one shifted by half a voxel.
    finer = timePoint.ijkToRAS.copy()
    finer[:3, :3] *= 1.1
    finerScan = segmentationImport.addVolumeFromArray(slicerContext.scene, "Finer scan", timePoint.ct, finer)
    with pytest.raises(ValueError, match=r"'Finer scan': its voxel spacing .* differs from the volume's"):
        segmentationIO.checkSegmentationOnVolume(segmentationNode, finerScan)
    halfVoxel = timePoint.ijkToRAS.copy()
    halfVoxel[:3, 3] += 0.5 * timePoint.ijkToRAS[:3, 0]
    shiftedScan = segmentationImport.addVolumeFromArray(slicerContext.scene, "Shifted scan", timePoint.ct, halfVoxel)
    with pytest.raises(ValueError, match=r"'Shifted scan': its origin is 0.50 voxel off"):
        segmentationIO.checkSegmentationOnVolume(segmentationNode, shiftedScan)


# --- real data -----------------------------------------------------------------------------


def test_ircadPlansMatchTheDerivedFacts(slicerContext, sharedData):
    """Shared README: right hepatectomy remnant (I-IV) 432.83 mL = 29.56 %; right
    trisectionectomy remnant (I-III) 266.99 mL = 18.24 %. The README's remnants are sums of
    per-segment values rounded to 0.01 mL, hence 0.01 mL tolerance on them."""
    path = os.path.join(sharedData, "ircad1", "couinaud_labels.nii.gz")
    segmentationNode = segmentationIO.loadSegmentation(slicerContext.scene, path, COUINAUD_NAMES)
    plans = [resectionPlans.presetPlan("right_hepatectomy"), resectionPlans.presetPlan("right_trisectionectomy")]
    result = futureLiverRemnant.measureVolumetry(segmentationNode, plans)
    assert result.totalLiverMl == pytest.approx(1464.09, abs=0.005)
    assert result.plans[0].remnantMl == pytest.approx(432.83, abs=0.01)
    assert result.plans[0].percentFLR == pytest.approx(29.56, abs=0.005)
    assert result.plans[1].remnantMl == pytest.approx(266.99, abs=0.01)
    assert result.plans[1].percentFLR == pytest.approx(18.24, abs=0.005)


def test_ircadDicomWithShuffledNamesLoadsInSliceOrderOnTheLabelGrid(slicerContext, sharedData, tmp_path):
    """File names image_0..image_128 carry no slice order; a shuffled copy must load the same."""
    source = os.path.join(sharedData, "ircad1", "PATIENT_DICOM")
    names = sorted(os.listdir(source))
    shuffled = tmp_path / "shuffled"
    shuffled.mkdir()
    randomNames = random.Random(7).sample(range(10000), len(names))
    for name, number in zip(names, randomNames):
        os.symlink(os.path.join(source, name), shuffled / f"{number:05d}.dcm")
    (shuffled / "notes.txt").write_text("not DICOM")
    series = dicomSeries.singleImageSeries(str(shuffled))
    assert len(series.files) == 129
    volumeNode = segmentationIO.loadVolume(slicerContext.scene, str(shuffled))
    import SimpleITK as sitk
    import slicer.util

    voxels = slicer.util.arrayFromVolume(volumeNode)
    assert voxels.shape == (129, 512, 512)
    spacing = volumeNode.GetSpacing()
    assert spacing[2] == pytest.approx(1.6, abs=1e-3)
    # Independent reader: SimpleITK's GDCM series reader sorts by position too.
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(source))
    reference = sitk.GetArrayFromImage(reader.Execute())
    # Slicer shows LPS-stored rows/columns flipped into RAS; compare a slice's intensities, not indices.
    for index in (0, 64, 128):
        assert np.array_equal(np.sort(voxels[index].ravel()), np.sort(reference[index].ravel()))
    labels = segmentationIO.loadSegmentation(slicerContext.scene, os.path.join(sharedData, "ircad1", "couinaud_labels.nii.gz"), COUINAUD_NAMES)
    assert segmentationIO.checkSegmentationOnVolume(labels, volumeNode) is None


def test_compressedDicomSeriesLoads(slicerContext, sharedData):
    """JPEG2000-lossless DICOM needs GDCM's decoder, which Slicer's reader brings."""
    folder = os.path.join(sharedData, "totalsegmentator", "example_ct_dicom")
    volumeNode = segmentationIO.loadVolume(slicerContext.scene, folder)
    import slicer.util

    voxels = slicer.util.arrayFromVolume(volumeNode)
    assert voxels.shape == (20, 512, 512)
    assert -1100 < voxels.min() < -900 and voxels.max() > 500, "rescaled Hounsfield units expected"
    segmentationNode = segmentationIO.loadSegmentation(
        slicerContext.scene,
        os.path.join(sharedData, "totalsegmentator", "example_ct_dicom_seg.nii.gz"),
    )
    assert segmentationIO.checkSegmentationOnVolume(segmentationNode, volumeNode) is None


def test_folderWithSeveralSeriesIsRefusedWithTheList(sharedData, tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    shutil.copy(os.path.join(sharedData, "dcmqi", "ct-3slice", "01.dcm"), tmp_path / "a")
    shutil.copy(os.path.join(sharedData, "ircad1", "PATIENT_DICOM", "image_0"), tmp_path / "b")
    with pytest.raises(ValueError, match="holds 2 image series, expected one"):
        dicomSeries.singleImageSeries(str(tmp_path))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds no DICOM image series"):
        dicomSeries.singleImageSeries(str(tmp_path / "empty"))


# --- batch ---------------------------------------------------------------------------------


def test_volumetryCommandWritesTheDocumentedJson(syntheticCase, tmp_path, capsys):
    timePoint, volumeNode, segmentationNode = syntheticCase
    segmentationPath = str(tmp_path / "case.seg.nrrd")
    storageNode = segmentationNode.CreateDefaultStorageNode()
    storageNode.SetFileName(segmentationPath)
    assert storageNode.WriteData(segmentationNode)
    volumePath = str(tmp_path / "case.nrrd")
    volumeStorage = volumeNode.CreateDefaultStorageNode()
    volumeStorage.SetFileName(volumePath)
    assert volumeStorage.WriteData(volumeNode)
    jsonPath = str(tmp_path / "volumetry.json")
    arguments = ["volumetry", "--volume", volumePath, "--segmentation", segmentationPath, "--plan", "right_hepatectomy"]
    arguments += ["--plan", "right_trisectionectomy", "--height", "172", "--weight", "78", "--liver-condition", "cirrhosis"]
    assert cli.main(arguments + ["--json", jsonPath]) == 0
    printed = capsys.readouterr().out
    assert "right_trisectionectomy" in printed and "sFLR" in printed
    with open(jsonPath) as stream:
        document = json.load(stream)
    assert set(document["segments"]) == set(couinaud.SEGMENT_IDS)
    assert document["segments"]["II"]["volumeMl"] == pytest.approx(timePoint.trueVolumesMl["II"], rel=1e-9)
    trisection = document["plans"]["right_trisectionectomy"]
    flr = sum(timePoint.trueVolumesMl[s] for s in ("I", "II", "III"))
    assert trisection["remnantMl"] == pytest.approx(flr, rel=1e-9)
    assert trisection["sFLR"] == pytest.approx(100.0 * flr / document["patient"]["standardLiverVolumeMl"], rel=1e-9)
    assert trisection["flrBwr"] == pytest.approx(flr / 78000.0 * 100.0, rel=1e-9)
    assert document["patient"]["stlvFormula"]["key"] == "vauthey"
    assert document["thresholds"]["sflrMinimumPercent"] == 40.0
    assert {flag["state"] for flag in trisection["flags"]} == {"not met"}
    assert document["liverCondition"] == "cirrhosis"


def test_volumetryCommandNamesBadInput(tmp_path, capsys):
    assert cli.main(["volumetry", "--segmentation", str(tmp_path / "none.seg.nrrd")]) == 2
    assert "none.seg.nrrd" in capsys.readouterr().err


def test_benchmarkCommandRunsOnASmallGrid(slicerContext):
    from alpps.benchmark import runBenchmark

    lines = []
    figures = runBenchmark(shape=(48, 64, 64), repeats=1, context=slicerContext, printer=lines.append)
    assert figures["plans"] == 16 and figures["speedup"] > 0
    assert any("speed-up" in line for line in lines)
