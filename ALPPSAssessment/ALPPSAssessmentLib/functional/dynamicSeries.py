"""The dynamic planar 99mTc-mebrofenin series as Slicer holds it, made into time-activity curves
(clinical reference section 5: "regions on the dynamic series: whole liver, blood pool (heart),
total field of view").

Two forms of the series are read:
- a ``vtkMRMLSequenceNode`` of scalar volumes, one 2-D frame each (a volume with one slice), as
  the Sequences module holds a dynamic acquisition. Its index values are the frame start times
  (seconds after injection, index unit 's'; 'ms' and 'min' are converted); each frame lasts until
  the next one starts, the last as long as the one before it. A sequence browser node, or the
  browser's proxy volume (what the slice views show), stands for its sequence;
- one scalar volume whose slice axis (k) is time, as Slicer loads a multi-frame planar image:
  slice k is frame k. Its timing is not in the volume and must be entered: the frame duration
  (s, one value or one per frame) and the start of the first frame (s after injection).
An entered frame duration also replaces the index timing of a sequence (frames back to back from
the entered start), for sequences whose index is not a time.

Regions are segments of a segmentation node drawn on that geometry (Segment Editor on a frame or
on the proxy volume): the liver, the blood pool (heart) and, optionally, the field of view (the
whole frame otherwise). The camera is static, so a region drawn on one frame applies to every
frame: its mask is the segment resampled by Slicer onto the frame grid and, for the volume form,
projected along the time axis (a pixel belongs to the region if any of its slices does).

Each curve is the sum of the counts in its region divided by the frame duration (counts/s) at the
frame mid-time, by ``mebrofeninCurves.timeActivityCurvesFromFrames``; the uptake rate then comes
from ``mebrofeninUptake.mebrofeninUptakeRate``. Refused with a ValueError that says what to do: a
series without timing, frame durations that do not match the frame count, frames of different
sizes or geometries, an empty region, a region that lies (partly) outside the frames.
"""

import dataclasses
from dataclasses import dataclass
from typing import Optional

import numpy as np
from ALPPSVolumetryLib.imageGrid import (
    checkedVolumeNode,
    imageToWorld,
    nodeIjkToRas,
    segmentMaskOnVolumeGrid,
    toWorldMatrix,
    volumeNodeArray,
)
from ALPPSVolumetryLib.segments.segmentationImport import addVolumeFromArray
from ALPPSVolumetryLib.segments.segmentVolumes import binaryLabelmapName, ensureBinaryLabelmap, layerVoxels

from . import mebrofeninCurves

SEQUENCE = "sequence"
VOLUME = "volume"

# Sequence index units read as times, in seconds per unit.
SECONDS_PER_INDEX_UNIT = {
    "s": 1.0, "sec": 1.0, "second": 1.0, "seconds": 1.0,
    "ms": 0.001, "msec": 0.001, "millisecond": 0.001, "milliseconds": 0.001,
    "min": 60.0, "minute": 60.0, "minutes": 60.0,
}

# Segment names recognised for each region when none is named (case-insensitive).
LIVER_REGION_NAMES = ("liver", "liver roi", "liver region")
BLOOD_POOL_REGION_NAMES = ("heart", "blood pool", "bloodpool", "blood", "heart roi", "blood pool roi", "blood-pool")
FIELD_OF_VIEW_REGION_NAMES = ("field of view", "fov", "total", "total field of view", "whole field of view", "total fov")

# Frame geometries that differ by less than this (mm, matrix elements) are the same geometry.
_GEOMETRY_TOLERANCE = 1e-3
# A voxel centre this far (in frame pixels) beyond the frame edge is outside the frame.
_EDGE_TOLERANCE = 1e-6


@dataclass
class DynamicSeries:
    """Frames of a dynamic planar series with their timing and the grid regions are drawn on.

    ``frames``: counts per pixel, (frames, rows, columns). ``frameStartSeconds`` and
    ``frameDurationSeconds``: one value per frame (s after injection; s). ``regionGridShape``
    ([k, j, i] sizes) and ``regionGridIjkToWorld`` (4x4, world RAS): the grid a region is
    resampled onto, a single frame (1, rows, columns) for a sequence and the whole volume
    (frames, rows, columns) for the volume form. ``timing`` says where the timing came from."""

    frames: np.ndarray
    frameStartSeconds: np.ndarray
    frameDurationSeconds: np.ndarray
    regionGridShape: tuple
    regionGridIjkToWorld: np.ndarray
    kind: str
    name: str
    timing: str

    @property
    def frameCount(self):
        return int(self.frames.shape[0])

    @property
    def frameShape(self):
        return tuple(int(n) for n in self.frames.shape[1:])


# --- Timing ---------------------------------------------------------------------------------------


def _enteredTiming(frameCount, frameDurationSeconds, firstFrameStartSeconds, name):
    """(starts, durations, description) from an entered duration (one value or one per frame)."""
    try:
        durations = np.atleast_1d(np.asarray(frameDurationSeconds, dtype=float))
    except (TypeError, ValueError):
        raise ValueError(f"Frame duration {frameDurationSeconds!r} of '{name}' is not a number: expected seconds per frame") from None
    if durations.ndim != 1 or not np.all(np.isfinite(durations)):
        raise ValueError(f"Frame duration {frameDurationSeconds!r} of '{name}' is not a finite number: expected seconds per frame")
    if durations.size == 1:
        durations = np.full(frameCount, float(durations[0]))
    if durations.size != frameCount:
        raise ValueError(
            f"Frame durations have {durations.size} values, but '{name}' has {frameCount} frames: expected one duration "
            "for all frames or one per frame"
        )
    if np.any(durations <= 0):
        index = int(np.flatnonzero(durations <= 0)[0])
        raise ValueError(f"Frame {index} of '{name}' has duration {durations[index]:g} s: expected a positive duration in seconds")
    start = 0.0 if firstFrameStartSeconds is None else float(firstFrameStartSeconds)
    if not np.isfinite(start) or start < 0:
        raise ValueError(f"First frame start {firstFrameStartSeconds!r} s of '{name}' is invalid: expected seconds after injection (>= 0)")
    starts = start + np.concatenate(([0.0], np.cumsum(durations[:-1])))
    uniform = np.allclose(durations, durations[0])
    described = f"{durations[0]:g} s frames" if uniform else "entered frame durations"
    return starts, durations, f"{described} from {start:g} s (entered)"


def _indexTiming(sequenceNode):
    """(starts, durations, description) from a sequence's index values (frame start times)."""
    name = sequenceNode.GetName()
    unit = (sequenceNode.GetIndexUnit() or "").strip()
    factor = SECONDS_PER_INDEX_UNIT.get(unit.lower())
    if factor is None:
        raise ValueError(
            f"Dynamic series '{name}' has no frame timing: its index '{sequenceNode.GetIndexName()}' is in '{unit}', not a time "
            "in seconds; expected index values in seconds after injection (unit 's'), or enter the frame duration"
        )
    values = []
    for index in range(sequenceNode.GetNumberOfDataNodes()):
        text = sequenceNode.GetNthIndexValue(index)
        try:
            values.append(float(text))
        except (TypeError, ValueError):
            raise ValueError(
                f"Dynamic series '{name}' has no frame timing: index value '{text}' of frame {index} is not a number; "
                "expected frame start times in seconds, or enter the frame duration"
            ) from None
    starts = np.array(values) * factor
    if starts.size < 2:
        raise ValueError(f"Dynamic series '{name}' has {starts.size} frame: its index gives no frame duration; enter the frame duration")
    steps = np.diff(starts)
    if np.any(steps <= 0):
        index = int(np.flatnonzero(steps <= 0)[0])
        raise ValueError(
            f"Frame start times of '{name}' are not increasing: frame {index + 1} at {starts[index + 1]:g} s follows frame "
            f"{index} at {starts[index]:g} s; expected the sequence index to be the frame start time"
        )
    durations = np.concatenate((steps, steps[-1:]))
    return starts, durations, f"sequence index values (frame start times, unit '{unit}')"


# --- Reading the frames ------------------------------------------------------------------------------


def _sequenceOf(node):
    """The sequence a node stands for: itself, a browser's master sequence, or the sequence whose
    proxy node it is (found through the scene's sequence browsers); None when it is a plain volume."""
    if node.IsA("vtkMRMLSequenceNode"):
        return node
    if node.IsA("vtkMRMLSequenceBrowserNode"):
        sequence = node.GetMasterSequenceNode()
        if sequence is None:
            raise ValueError(f"Sequence browser '{node.GetName()}' has no sequence: expected a browser of the dynamic series")
        return sequence
    scene = node.GetScene()
    if scene is None:
        return None
    for index in range(scene.GetNumberOfNodesByClass("vtkMRMLSequenceBrowserNode")):
        browser = scene.GetNthNodeByClass(index, "vtkMRMLSequenceBrowserNode")
        if browser.IsProxyNodeID(node.GetID()):
            return browser.GetSequenceNode(node)
    return None


def _proxyToWorld(sequenceNode):
    """World matrix of the node the slice views show for this sequence (its browser's proxy):
    regions are drawn there, so its parent transform places the frames. Identity without one."""
    scene = sequenceNode.GetScene()
    if scene is None:
        return np.eye(4)
    for index in range(scene.GetNumberOfNodesByClass("vtkMRMLSequenceBrowserNode")):
        browser = scene.GetNthNodeByClass(index, "vtkMRMLSequenceBrowserNode")
        proxy = browser.GetProxyNode(sequenceNode) if browser.IsSynchronizedSequenceNode(sequenceNode, True) else None
        if proxy is not None:
            return toWorldMatrix(proxy)
    return np.eye(4)


def _frameOfDataNode(sequenceNode, index):
    node = sequenceNode.GetNthDataNode(index)
    name = sequenceNode.GetName()
    if node is None or not node.IsA("vtkMRMLScalarVolumeNode"):
        kind = "nothing" if node is None else node.GetClassName()
        raise ValueError(f"Frame {index} of the dynamic series '{name}' is {kind}: expected a scalar volume (one 2-D frame) per item")
    if node.GetImageData() is None:
        raise ValueError(f"Frame {index} of the dynamic series '{name}' has no image data: expected the frame's counts")
    array = volumeNodeArray(node)
    if array.shape[0] != 1:
        raise ValueError(
            f"Frame {index} of the dynamic series '{name}' has {array.shape[0]} slices: expected one 2-D frame per sequence item "
            "(a volume whose slices are the frames is read as the volume form)"
        )
    return array[0], nodeIjkToRas(node)


def seriesFromSequence(sequenceNode, frameDurationSeconds=None, firstFrameStartSeconds=None):
    """A ``DynamicSeries`` from a sequence of 2-D frames. Timing: the index values (frame start
    times in s) unless ``frameDurationSeconds`` is given (then frames back to back from
    ``firstFrameStartSeconds``, default 0 s)."""
    name = sequenceNode.GetName()
    count = sequenceNode.GetNumberOfDataNodes()
    if count == 0:
        raise ValueError(f"Dynamic series '{name}' has no frames: expected one scalar volume per frame")
    frames, reference, referenceShape = [], None, None
    for index in range(count):
        frame, ijkToRAS = _frameOfDataNode(sequenceNode, index)
        if reference is None:
            reference, referenceShape = ijkToRAS, frame.shape
        elif frame.shape != referenceShape:
            raise ValueError(
                f"Frames of the dynamic series '{name}' have different sizes: frame {index} is {frame.shape[1]} x {frame.shape[0]} "
                f"pixels, frame 0 {referenceShape[1]} x {referenceShape[0]}; expected one camera matrix for every frame"
            )
        elif not np.allclose(ijkToRAS, reference, atol=_GEOMETRY_TOLERANCE):
            raise ValueError(
                f"Frames of the dynamic series '{name}' have different geometries (frame {index} differs from frame 0 in origin, "
                "spacing or axes): expected a static camera, so that regions drawn on one frame fit every frame"
            )
        frames.append(np.asarray(frame, dtype=float))
    if frameDurationSeconds is not None:
        starts, durations, timing = _enteredTiming(count, frameDurationSeconds, firstFrameStartSeconds, name)
    else:
        starts, durations, timing = _indexTiming(sequenceNode)
    return DynamicSeries(
        frames=np.stack(frames),
        frameStartSeconds=starts,
        frameDurationSeconds=durations,
        regionGridShape=(1,) + tuple(referenceShape),
        regionGridIjkToWorld=_proxyToWorld(sequenceNode) @ reference,
        kind=SEQUENCE,
        name=name,
        timing=timing,
    )


def seriesFromVolume(volumeNode, frameDurationSeconds=None, firstFrameStartSeconds=None):
    """A ``DynamicSeries`` from one scalar volume whose slices (k) are the frames; the timing is
    entered: ``frameDurationSeconds`` (one value or one per frame) from ``firstFrameStartSeconds``
    (default 0 s, the injection)."""
    checkedVolumeNode(volumeNode, "Dynamic series volume")
    name = volumeNode.GetName()
    if frameDurationSeconds is None:
        raise ValueError(
            f"Dynamic series '{name}' has no frame timing: a volume whose slices are the frames carries no times; enter the "
            "frame duration (s) and the start of the first frame (s after injection)"
        )
    array = volumeNodeArray(volumeNode)
    starts, durations, timing = _enteredTiming(array.shape[0], frameDurationSeconds, firstFrameStartSeconds, name)
    return DynamicSeries(
        frames=np.array(array, dtype=float),
        frameStartSeconds=starts,
        frameDurationSeconds=durations,
        regionGridShape=tuple(int(n) for n in array.shape),
        regionGridIjkToWorld=toWorldMatrix(volumeNode) @ nodeIjkToRas(volumeNode),
        kind=VOLUME,
        name=name,
        timing=timing + "; frames along the slice axis",
    )


def seriesFromNode(node, frameDurationSeconds=None, firstFrameStartSeconds=None):
    """``seriesFromSequence`` for a sequence (or its browser or proxy volume), ``seriesFromVolume``
    for any other scalar volume. ``frameDurationSeconds`` None (or 0, 'not entered' in the panel)
    means: take the timing from the sequence index."""
    if node is None:
        raise ValueError("No dynamic series selected: expected the sequence of frames or the volume whose slices are the frames")
    if frameDurationSeconds is not None and np.ndim(frameDurationSeconds) == 0 and float(frameDurationSeconds) == 0.0:
        frameDurationSeconds = None
    sequence = _sequenceOf(node)
    if sequence is not None:
        return seriesFromSequence(sequence, frameDurationSeconds, firstFrameStartSeconds)
    return seriesFromVolume(node, frameDurationSeconds, firstFrameStartSeconds)


# --- Regions -------------------------------------------------------------------------------------------


def _segmentNames(segmentation):
    return [segmentation.GetSegment(segmentId).GetName() for segmentId in segmentation.GetSegmentIDs()]


def findRegionSegment(segmentationNode, segment, recognisedNames, what, required=True):
    """The segment ID of a region: ``segment`` given as an ID or a name (case-insensitive), or,
    when empty, the first segment named like one of ``recognisedNames``. None when the region is
    optional and absent."""
    if segmentationNode is None or not segmentationNode.IsA("vtkMRMLSegmentationNode"):
        raise ValueError(f"No region segmentation for the {what}: expected a segmentation drawn on the dynamic frames")
    segmentation = segmentationNode.GetSegmentation()
    available = ", ".join(f"'{name}'" for name in _segmentNames(segmentation)) or "none"
    text = (segment or "").strip()
    if text:
        if segmentation.GetSegment(text) is not None:
            return text
        for segmentId in segmentation.GetSegmentIDs():
            if segmentation.GetSegment(segmentId).GetName().strip().lower() == text.lower():
                return segmentId
        raise ValueError(f"Segmentation '{segmentationNode.GetName()}' has no segment '{text}' for the {what} (segments: {available})")
    for segmentId in segmentation.GetSegmentIDs():
        if segmentation.GetSegment(segmentId).GetName().strip().lower() in recognisedNames:
            return segmentId
    if required:
        raise ValueError(
            f"Segmentation '{segmentationNode.GetName()}' has no segment for the {what}: name it '{recognisedNames[0]}' or enter "
            f"its name (segments: {available})"
        )
    return None


def _segmentVoxelCentresWorld(segmentationNode, segmentId):
    """World RAS (3 x N) of the voxel centres of one segment on the segmentation's own labelmap."""
    ensureBinaryLabelmap(segmentationNode)
    segment = segmentationNode.GetSegmentation().GetSegment(segmentId)
    image = segment.GetRepresentation(binaryLabelmapName())
    voxels = layerVoxels(image) if image is not None else None
    if voxels is None:
        return np.zeros((3, 0))
    k, j, i = np.nonzero(voxels == segment.GetLabelValue())
    extent = image.GetExtent()
    ijk = np.vstack((i + extent[0], j + extent[2], k + extent[4], np.ones_like(i))).astype(float)
    return (toWorldMatrix(segmentationNode) @ imageToWorld(image) @ ijk)[:3]


def regionMask(series, segmentationNode, segmentId, what):
    """Boolean (rows, columns) mask of a segment on the frames of ``series``."""
    segment = segmentationNode.GetSegmentation().GetSegment(segmentId)
    label = f"{what} (segment '{segment.GetName()}' of '{segmentationNode.GetName()}')"
    centres = _segmentVoxelCentresWorld(segmentationNode, segmentId)
    if centres.shape[1] == 0:
        raise ValueError(f"The {label} is empty: paint it on a frame of the dynamic series '{series.name}'")
    depth, rows, columns = series.regionGridShape
    ijk = (np.linalg.inv(series.regionGridIjkToWorld) @ np.vstack((centres, np.ones(centres.shape[1]))))[:3]
    upper = np.array([columns, rows, depth], dtype=float)[:, None] - 0.5 + _EDGE_TOLERANCE
    outside = np.any((ijk < -0.5 - _EDGE_TOLERANCE) | (ijk > upper), axis=0)
    if outside.all():
        raise ValueError(
            f"The {label} lies outside the frames of '{series.name}': expected it drawn on the dynamic series (select the series "
            "as the Segment Editor's source volume)"
        )
    if outside.any():
        raise ValueError(
            f"The {label} extends outside the frames of '{series.name}' ({int(outside.sum())} of {outside.size} voxels): expected "
            "the region inside the camera's field of view"
        )
    scene = segmentationNode.GetScene()
    reference = addVolumeFromArray(scene, "__alpps_dynamic_frame_grid__", np.zeros(series.regionGridShape, dtype=np.uint8), series.regionGridIjkToWorld)
    try:
        mask = segmentMaskOnVolumeGrid(segmentationNode, [segmentId], reference)
    finally:
        scene.RemoveNode(reference)
    projected = mask.any(axis=0)  # drawn on one frame, it applies to all (static camera)
    if not projected.any():
        raise ValueError(f"The {label} covers no pixel centre of the frames of '{series.name}': expected a region larger than a pixel")
    return projected


@dataclass
class SeriesRegions:
    """Region masks (rows, columns) on the frames, and the segments they came from."""

    liver: np.ndarray
    bloodPool: np.ndarray
    fieldOfView: Optional[np.ndarray]
    liverSegmentId: str
    bloodPoolSegmentId: str
    fieldOfViewSegmentId: Optional[str]


def seriesRegions(series, segmentationNode, liverSegment="", bloodPoolSegment="", fieldOfViewSegment=""):
    """The liver, blood-pool and (optional; whole frame without) field-of-view masks of a series,
    from segments named as given or recognised by name (``LIVER_REGION_NAMES`` ...)."""
    liverId = findRegionSegment(segmentationNode, liverSegment, LIVER_REGION_NAMES, "liver region")
    bloodId = findRegionSegment(segmentationNode, bloodPoolSegment, BLOOD_POOL_REGION_NAMES, "blood-pool (heart) region")
    viewId = findRegionSegment(segmentationNode, fieldOfViewSegment, FIELD_OF_VIEW_REGION_NAMES, "field of view", required=False)
    if bloodId == liverId:
        raise ValueError(f"The liver and the blood-pool regions are the same segment '{liverId}': expected two regions")
    return SeriesRegions(
        liver=regionMask(series, segmentationNode, liverId, "liver region"),
        bloodPool=regionMask(series, segmentationNode, bloodId, "blood-pool (heart) region"),
        fieldOfView=None if viewId is None else regionMask(series, segmentationNode, viewId, "field-of-view region"),
        liverSegmentId=liverId,
        bloodPoolSegmentId=bloodId,
        fieldOfViewSegmentId=viewId,
    )


def timeActivityCurvesFromSeries(series, segmentationNode, liverSegment="", bloodPoolSegment="", fieldOfViewSegment="", decayCorrected=False):
    """``mebrofeninCurves.TimeActivityCurves`` of a ``DynamicSeries`` and its regions."""
    regions = seriesRegions(series, segmentationNode, liverSegment, bloodPoolSegment, fieldOfViewSegment)
    curves = mebrofeninCurves.timeActivityCurvesFromFrames(
        series.frames, series.frameStartSeconds, series.frameDurationSeconds, regions.liver, regions.bloodPool, regions.fieldOfView, decayCorrected
    )
    segmentation = segmentationNode.GetSegmentation()
    names = {
        "liver": segmentation.GetSegment(regions.liverSegmentId).GetName(),
        "blood pool": segmentation.GetSegment(regions.bloodPoolSegmentId).GetName(),
        "field of view": segmentation.GetSegment(regions.fieldOfViewSegmentId).GetName() if regions.fieldOfViewSegmentId else "whole frame",
    }
    source = (
        f"dynamic series '{series.name}' ({series.kind}, {series.frameCount} frames of {series.frameShape[1]} x {series.frameShape[0]} "
        f"pixels; timing: {series.timing}); regions of '{segmentationNode.GetName()}': "
        + ", ".join(f"{region} '{name}'" for region, name in names.items())
    )
    return dataclasses.replace(curves, source=source)


def timeActivityCurvesFromNodes(seriesNode, segmentationNode, liverSegment="", bloodPoolSegment="", fieldOfViewSegment="",
                                frameDurationSeconds=None, firstFrameStartSeconds=None, decayCorrected=False):
    """Time-activity curves of a dynamic series node (sequence, its browser or proxy, or a volume
    with frames along k) and a region segmentation drawn on it: ``seriesFromNode`` then
    ``timeActivityCurvesFromSeries``."""
    series = seriesFromNode(seriesNode, frameDurationSeconds, firstFrameStartSeconds)
    return timeActivityCurvesFromSeries(series, segmentationNode, liverSegment, bloodPoolSegment, fieldOfViewSegment, decayCorrected)
