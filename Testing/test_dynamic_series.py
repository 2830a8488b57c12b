"""Dynamic planar mebrofenin series as Slicer holds them (a sequence of 2-D frames, or one volume with
the frames along k) and regions drawn as segments on them: the curves must equal the ones the
simulator made from its own frames and masks, the uptake rate must come back within 5 % of the
simulated one through either form, and every input mistake must be named."""

import numpy as np
import pytest
from ALPPSAssessmentLib.functional import dynamicSeries, functionalSimulator, mebrofeninUptake
from ALPPSVolumetryLib.segments.segmentationImport import addVolumeFromArray, importMaskArrays

UPTAKE_PER_MIN = 0.12  # K: MUR 12 %/min
# A gamma camera matrix placed like a planar anterior view: 4.8 mm pixels, rows going down.
FRAME_IJK_TO_RAS = np.array([[-4.8, 0.0, 0.0, 150.0], [0.0, 0.0, 5.0, 40.0], [0.0, -4.8, 0.0, 160.0], [0.0, 0.0, 0.0, 1.0]])
CURVE_TOLERANCE = 1e-9  # relative: the same sums in another order


@pytest.fixture(scope="module")
def study():
    return functionalSimulator.simulateDynamicStudy(UPTAKE_PER_MIN, seed=4, makeFrames=True)


def _sequenceOfFrames(scene, frames, startsSeconds, name="Dynamic", unit="s", factor=1.0, ijkToRAS=FRAME_IJK_TO_RAS):
    sequence = scene.AddNewNodeByClass("vtkMRMLSequenceNode", name)
    sequence.SetIndexName("time")
    sequence.SetIndexUnit(unit)
    for frame, start in zip(frames, startsSeconds):
        node = addVolumeFromArray(scene, "__frame__", frame[np.newaxis].astype(np.float32), ijkToRAS)
        sequence.SetDataNodeAtValue(node, f"{start * factor:g}")
        scene.RemoveNode(node)
    return sequence


def _regions(scene, masks, shape, ijkToRAS=FRAME_IJK_TO_RAS, name="Regions"):
    """A segmentation with one segment per (rows, columns) mask, painted on slice ``shape[0] // 2``
    of a grid of ``shape`` (a single frame when shape[0] is 1)."""
    segmentationNode = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", name)
    painted = {}
    for segmentName, mask in masks.items():
        volume = np.zeros(shape, dtype=bool)
        volume[shape[0] // 2] = mask
        painted[segmentName] = volume
    importMaskArrays(segmentationNode, painted, ijkToRAS)
    return segmentationNode


def _assertSameCurves(curves, expected):
    np.testing.assert_allclose(curves.midTimesSeconds, expected.midTimesSeconds, rtol=0, atol=1e-9)
    np.testing.assert_allclose(curves.frameDurationsSeconds, expected.frameDurationsSeconds, rtol=0, atol=1e-9)
    for name in ("liver", "bloodPool", "totalFieldOfView"):
        np.testing.assert_allclose(getattr(curves, name), getattr(expected, name), rtol=CURVE_TOLERANCE)
    assert curves.decayCorrected == expected.decayCorrected


def test_sequenceOfFramesGivesTheSimulatedCurvesAndUptake(slicerContext, study):
    scene = slicerContext.scene
    sequence = _sequenceOfFrames(scene, study.frames, study.frameStartSeconds)
    regions = _regions(scene, {"Liver": study.liverMask, "Heart": study.bloodPoolMask}, (1,) + study.frames.shape[1:])
    curves = dynamicSeries.timeActivityCurvesFromNodes(sequence, regions)
    _assertSameCurves(curves, study.curves)
    assert "sequence index values" in curves.source and "liver 'Liver'" in curves.source and "whole frame" in curves.source
    uptake = mebrofeninUptake.mebrofeninUptakeRate(curves)
    assert uptake.murPercentPerMin == pytest.approx(study.expectedMurPercentPerMin, rel=0.05)
    # The simulator's own curves give exactly the same rate.
    assert uptake.murPercentPerMin == pytest.approx(mebrofeninUptake.mebrofeninUptakeRate(study.curves).murPercentPerMin, rel=1e-9)


def test_sequenceIndexInMillisecondsAndEnteredTiming(slicerContext, study):
    scene = slicerContext.scene
    shape = (1,) + study.frames.shape[1:]
    regions = _regions(scene, {"Liver ROI": study.liverMask, "Blood pool": study.bloodPoolMask}, shape)
    inMs = _sequenceOfFrames(scene, study.frames, study.frameStartSeconds, "In ms", unit="ms", factor=1000.0)
    _assertSameCurves(dynamicSeries.timeActivityCurvesFromNodes(inMs, regions), study.curves)
    # An index that is not a time needs the entered frame duration (10 s, from the injection).
    numbered = _sequenceOfFrames(scene, study.frames, np.arange(len(study.frames)), "Numbered", unit="frame")
    with pytest.raises(ValueError, match="has no frame timing: its index 'time' is in 'frame'.*enter the frame duration"):
        dynamicSeries.timeActivityCurvesFromNodes(numbered, regions)
    entered = dynamicSeries.timeActivityCurvesFromNodes(numbered, regions, frameDurationSeconds=10.0, firstFrameStartSeconds=0.0)
    _assertSameCurves(entered, study.curves)
    assert "10 s frames from 0 s (entered)" in entered.source


def test_volumeWithFramesAlongKAndRegionsDrawnOnOneFrame(slicerContext, study):
    scene = slicerContext.scene
    volume = addVolumeFromArray(scene, "Dynamic volume", study.frames.astype(np.float32), FRAME_IJK_TO_RAS)
    # Drawn on frame 18 only, with the field of view as a segment covering the whole frame.
    masks = {"Liver": study.liverMask, "Heart": study.bloodPoolMask, "FOV": np.ones(study.frames.shape[1:], dtype=bool)}
    regions = _regions(scene, masks, study.frames.shape)
    with pytest.raises(ValueError, match="a volume whose slices are the frames carries no times"):
        dynamicSeries.timeActivityCurvesFromNodes(volume, regions)
    curves = dynamicSeries.timeActivityCurvesFromNodes(volume, regions, frameDurationSeconds=10.0)
    _assertSameCurves(curves, study.curves)
    assert "volume" in curves.source and "field of view 'FOV'" in curves.source
    series = dynamicSeries.seriesFromNode(volume, 10.0)
    mask = dynamicSeries.regionMask(series, regions, regions.GetSegmentation().GetSegmentIdBySegmentName("Liver"), "liver region")
    assert mask.shape == study.liverMask.shape and np.array_equal(mask, study.liverMask)
    uptake = mebrofeninUptake.mebrofeninUptakeRate(curves)
    assert uptake.murPercentPerMin == pytest.approx(study.expectedMurPercentPerMin, rel=0.05)
    # Per-frame durations (all 10 s) are the same timing; the wrong number of them is named.
    perFrame = dynamicSeries.timeActivityCurvesFromNodes(volume, regions, frameDurationSeconds=[10.0] * len(study.frames))
    _assertSameCurves(perFrame, study.curves)
    with pytest.raises(ValueError, match=r"Frame durations have 35 values, but 'Dynamic volume' has 36 frames"):
        dynamicSeries.timeActivityCurvesFromNodes(volume, regions, frameDurationSeconds=[10.0] * 35)


def test_browserAndProxyStandForTheirSequence(slicerContext, study):
    scene = slicerContext.scene
    sequence = _sequenceOfFrames(scene, study.frames, study.frameStartSeconds)
    browser = scene.AddNewNodeByClass("vtkMRMLSequenceBrowserNode", "Dynamic browser")
    browser.SetAndObserveMasterSequenceNodeID(sequence.GetID())
    proxy = browser.GetProxyNode(sequence)
    assert proxy is not None and proxy.IsA("vtkMRMLScalarVolumeNode")
    regions = _regions(scene, {"Liver": study.liverMask, "Heart": study.bloodPoolMask}, (1,) + study.frames.shape[1:])
    for node in (browser, proxy):
        series = dynamicSeries.seriesFromNode(node)
        assert series.kind == dynamicSeries.SEQUENCE and series.frameCount == len(study.frames)
        _assertSameCurves(dynamicSeries.timeActivityCurvesFromSeries(series, regions), study.curves)


def test_regionErrorsAreNamed(slicerContext, study):
    scene = slicerContext.scene
    shape = (1,) + study.frames.shape[1:]
    sequence = _sequenceOfFrames(scene, study.frames, study.frameStartSeconds)
    regions = _regions(scene, {"Liver": study.liverMask, "Heart": study.bloodPoolMask}, shape)
    regions.GetSegmentation().AddEmptySegment("", "Field of view")
    with pytest.raises(ValueError, match="field-of-view region \\(segment 'Field of view' of 'Regions'\\) is empty: paint it"):
        dynamicSeries.timeActivityCurvesFromNodes(sequence, regions)
    with pytest.raises(ValueError, match="no segment 'Aorta' for the blood-pool \\(heart\\) region \\(segments: 'Liver', 'Heart', 'Field of view'\\)"):
        dynamicSeries.timeActivityCurvesFromNodes(sequence, regions, bloodPoolSegment="Aorta")
    withoutHeart = _regions(scene, {"Liver": study.liverMask, "Spleen": study.bloodPoolMask}, shape, name="No heart")
    with pytest.raises(ValueError, match="no segment for the blood-pool \\(heart\\) region: name it 'heart' or enter its name"):
        dynamicSeries.timeActivityCurvesFromNodes(sequence, withoutHeart)
    # Named explicitly, any segment serves.
    curves = dynamicSeries.timeActivityCurvesFromNodes(sequence, withoutHeart, bloodPoolSegment="spleen")
    _assertSameCurves(curves, study.curves)
    # Drawn on another image: 200 mm away from the camera's field of view, or half across its edge.
    shifted = FRAME_IJK_TO_RAS.copy()
    shifted[0, 3] += 400.0
    far = _regions(scene, {"Liver": study.liverMask, "Heart": study.bloodPoolMask}, shape, shifted, "Far")
    with pytest.raises(ValueError, match="liver region \\(segment 'Liver' of 'Far'\\) lies outside the frames of 'Dynamic'"):
        dynamicSeries.timeActivityCurvesFromNodes(sequence, far)
    halfway = FRAME_IJK_TO_RAS.copy()
    halfway[0, 3] += 4.8 * 20  # 20 columns to the left: the liver (left part of the image) sticks out
    partly = _regions(scene, {"Liver": study.liverMask, "Heart": study.bloodPoolMask}, shape, halfway, "Partly")
    with pytest.raises(ValueError, match=r"liver region \(segment 'Liver' of 'Partly'\) extends outside the frames of 'Dynamic' \(\d+ of \d+ voxels\)"):
        dynamicSeries.timeActivityCurvesFromNodes(sequence, partly)


def test_frameErrorsAreNamed(slicerContext, study):
    scene = slicerContext.scene
    frames = list(study.frames[:5])
    sequence = _sequenceOfFrames(scene, frames, study.frameStartSeconds[:5], "Mixed")
    odd = addVolumeFromArray(scene, "__odd__", np.zeros((1, 32, 64), dtype=np.float32), FRAME_IJK_TO_RAS)
    sequence.SetDataNodeAtValue(odd, "50")
    scene.RemoveNode(odd)
    with pytest.raises(ValueError, match="Frames of the dynamic series 'Mixed' have different sizes: frame 5 is 64 x 32 pixels, frame 0 64 x 64"):
        dynamicSeries.seriesFromNode(sequence)
    moved = _sequenceOfFrames(scene, frames, study.frameStartSeconds[:5], "Moved")
    other = FRAME_IJK_TO_RAS.copy()
    other[0, 3] += 10.0
    shifted = addVolumeFromArray(scene, "__moved__", frames[0][np.newaxis].astype(np.float32), other)
    moved.SetDataNodeAtValue(shifted, "50")
    scene.RemoveNode(shifted)
    with pytest.raises(ValueError, match="different geometries \\(frame 5 differs from frame 0"):
        dynamicSeries.seriesFromNode(moved)
    thick = scene.AddNewNodeByClass("vtkMRMLSequenceNode", "Thick")
    volume = addVolumeFromArray(scene, "__thick__", np.zeros((3, 8, 8), dtype=np.float32), FRAME_IJK_TO_RAS)
    thick.SetDataNodeAtValue(volume, "0")
    scene.RemoveNode(volume)
    with pytest.raises(ValueError, match="Frame 0 of the dynamic series 'Thick' has 3 slices: expected one 2-D frame per sequence item"):
        dynamicSeries.seriesFromNode(thick)
    textIndex = _sequenceOfFrames(scene, frames, study.frameStartSeconds[:5], "Text")
    textIndex.SetIndexType(textIndex.TextIndex)
    notANumber = addVolumeFromArray(scene, "__text__", frames[0][np.newaxis].astype(np.float32), FRAME_IJK_TO_RAS)
    textIndex.SetDataNodeAtValue(notANumber, "late")
    scene.RemoveNode(notANumber)
    with pytest.raises(ValueError, match="index value 'late' of frame \\d is not a number"):
        dynamicSeries.seriesFromNode(textIndex)
    with pytest.raises(ValueError, match="No dynamic series selected"):
        dynamicSeries.seriesFromNode(None)
    with pytest.raises(ValueError, match="Frame 2 of 'Numbered' has duration -1 s"):
        dynamicSeries.seriesFromNode(_sequenceOfFrames(scene, frames[:3], [0, 1, 2], "Numbered", unit="frame"), [10.0, 10.0, -1.0])
    empty = scene.AddNewNodeByClass("vtkMRMLSequenceNode", "Empty")
    with pytest.raises(ValueError, match="Dynamic series 'Empty' has no frames"):
        dynamicSeries.seriesFromNode(empty)
