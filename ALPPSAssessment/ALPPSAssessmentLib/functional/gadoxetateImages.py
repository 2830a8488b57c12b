"""Gadoxetate MRI measured on the images: mean signals in segments, regions and spherical ROIs,
T1 of a region from T1 maps, and the voxel-wise enhancement maps with the remnant's functional
share summed from them. The formulas are in ``gadoxetateIndices``.

Signals are measured in physical space. The MRI and the segmentation (usually drawn on the
planning CT) have different grids: segment masks are resampled by Slicer onto the image grid
(``ExportSegmentsToLabelmapNode`` with the image as reference, parent transforms respected),
spherical ROIs are voxel centres within a radius (mm) of RAS points, and a pre-contrast series
is resampled onto the HBP grid before a voxel-wise map is made. Arrays are never paired by index.

Measuring adds nothing to the scene: a map is returned as an array on the HBP grid, and the
workflow that wants it shown makes its node (``gadoxetateWorkflow.addEnhancementMapNode``).
"""

import dataclasses
from dataclasses import dataclass, field
from typing import Dict, List

import numpy as np
from ALPPSVolumetryLib.criteria.bodySize import checkedNumber
from ALPPSVolumetryLib.imageGrid import (
    checkedMatrix,
    checkedVolumeNode,
    nodeIjkToRas,
    resampleArray,
    resampledArray,
    segmentMaskOnVolumeGrid,
    toWorldMatrix,
    volumeNodeArray,
)
from ALPPSVolumetryLib.segments.segmentationImport import addVolumeFromArray

from .gadoxetateIndices import (
    LIVER_SPLEEN_MAP,
    RLE_MAP,
    SIGNAL_UNIT,
    FunctionalShare,
    functionalShare,
    liverSpleenEnhancementArray,
    relativeEnhancementArray,
    t1Indices,
)

# On a map's volume node: which map it is (RLE_MAP or LIVER_SPLEEN_MAP).
MAP_ATTRIBUTE = "ALPPS.Gadoxetate.Map"


# --- Signals measured on images ---------------------------------------------------------------------


@dataclass(frozen=True)
class RegionSignal:
    label: str
    mean: float
    standardDeviation: float
    voxelCount: int
    volumeMl: float  # of the voxels measured, on the image grid
    unit: str = SIGNAL_UNIT

    def asDict(self):
        return dataclasses.asdict(self)


def _statistics(label, values, voxelVolumeMl, unit, where):
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise ValueError(f"{label}: no voxel of the image lies in {where}: expected a region that covers image voxels")
    return RegionSignal(label, float(values.mean()), float(values.std()), int(values.size), values.size * voxelVolumeMl, unit)


class _ImageOnGrid:
    """A volume node, or (array [k, j, i], 4x4 IJK-to-RAS) made into a temporary node in
    ``scene`` for Slicer's segment export (removed on exit)."""

    def __init__(self, image, scene, name="__alpps_gadoxetate_image__"):
        self.temporary = None
        if hasattr(image, "IsA"):
            self.node = checkedVolumeNode(image, "Image")
        else:
            array, ijkToRAS = _arrayAndGeometry(image)
            self.node = self.temporary = addVolumeFromArray(scene, name, np.asarray(array, dtype=np.float32), ijkToRAS)

    def __enter__(self):
        return self.node

    def __exit__(self, *excinfo):
        if self.temporary is not None:
            self.temporary.GetScene().RemoveNode(self.temporary)


def _arrayAndGeometry(image):
    if not isinstance(image, (tuple, list)) or len(image) != 2:
        raise ValueError(
            f"Image is a {type(image).__name__}: expected a scalar volume node or (array indexed [k, j, i], 4x4 IJK-to-RAS matrix)"
        )
    array = np.asarray(image[0])
    if array.ndim != 3:
        raise ValueError(f"Image array has shape {array.shape}: expected a 3-D array indexed [k, j, i]")
    return array, checkedMatrix(image[1])


def _worldGrid(image):
    """(array view, IJK -> world RAS matrix, name) of a volume node or (array, IJK-to-RAS)."""
    if hasattr(image, "IsA"):
        node = checkedVolumeNode(image, "Image")
        return volumeNodeArray(node), toWorldMatrix(node) @ nodeIjkToRas(node), node.GetName()
    array, ijkToRAS = _arrayAndGeometry(image)
    return array, ijkToRAS, "image"


def _voxelVolumeMl(ijkToRAS):
    return abs(float(np.linalg.det(np.asarray(ijkToRAS)[:3, :3]))) / 1000.0


def _checkSegmentation(segmentationNode):
    if segmentationNode is None or not hasattr(segmentationNode, "IsA") or not segmentationNode.IsA("vtkMRMLSegmentationNode"):
        raise ValueError(f"Segmentation is {type(segmentationNode).__name__}: expected a segmentation node")
    return segmentationNode


def _segmentMasks(image, segmentationNode, groups):
    """{group name: boolean mask on the image grid} for groups of segment IDs (each the union of
    its segments), and (array, voxel volume mL, image name)."""
    _checkSegmentation(segmentationNode)
    with _ImageOnGrid(image, segmentationNode.GetScene()) as node:
        masks = {name: segmentMaskOnVolumeGrid(segmentationNode, ids, node) for name, ids in groups.items()}
        array = np.array(volumeNodeArray(node))  # a copy: a temporary node goes on exit
        voxelVolume = _voxelVolumeMl(nodeIjkToRas(node))
        imageName = node.GetName()
    return masks, array, voxelVolume, imageName


def meanSignalInSegments(image, segmentationNode, segmentIds, unit=SIGNAL_UNIT) -> Dict[str, RegionSignal]:
    """Mean signal of ``image`` (a scalar volume node, or (array [k, j, i], IJK-to-RAS)) in each
    segment, {segment ID: RegionSignal}. Each segment is resampled onto the image grid in
    physical space (Slicer's export with the image as reference; parent transforms respected):
    the image and the segmentation may have any grids."""
    segmentation = _checkSegmentation(segmentationNode).GetSegmentation()
    segmentIds = list(segmentIds)
    unknown = [segmentId for segmentId in segmentIds if segmentation.GetSegment(segmentId) is None]
    if not segmentIds or unknown:
        raise ValueError(f"Segmentation '{segmentationNode.GetName()}' has no segments with IDs {unknown or segmentIds}: expected segment IDs")
    masks, array, voxelVolume, imageName = _segmentMasks(image, segmentationNode, {segmentId: [segmentId] for segmentId in segmentIds})
    return {
        segmentId: _statistics(
            segmentation.GetSegment(segmentId).GetName(), array[mask], voxelVolume, unit, f"segment '{segmentation.GetSegment(segmentId).GetName()}' ({imageName})"
        )
        for segmentId, mask in masks.items()
    }


def meanSignalInRegion(image, segmentationNode, segmentIds, label=None, unit=SIGNAL_UNIT) -> RegionSignal:
    """Mean signal in the union of segments (a voxel in two segments counts once), e.g. the whole
    liver (I-VIII) or the FLR (II+III)."""
    _checkSegmentation(segmentationNode)
    segmentation = segmentationNode.GetSegmentation()
    name = label or " + ".join(
        segmentation.GetSegment(segmentId).GetName() if segmentation.GetSegment(segmentId) else str(segmentId) for segmentId in segmentIds
    )
    masks, array, voxelVolume, imageName = _segmentMasks(image, segmentationNode, {"region": list(segmentIds)})
    return _statistics(name, array[masks["region"]], voxelVolume, unit, f"region '{name}' ({imageName})")


@dataclass(frozen=True)
class SphereSignals:
    perPoint: List[RegionSignal]
    pooled: RegionSignal  # every voxel of every sphere, each voxel once
    radiusMm: float

    @property
    def mean(self):
        return self.pooled.mean

    def asDict(self):
        return {"radiusMm": self.radiusMm, "pooled": self.pooled.asDict(), "perPoint": [part.asDict() for part in self.perPoint]}


def _controlPoints(points):
    if hasattr(points, "IsA") and points.IsA("vtkMRMLMarkupsNode"):
        count = points.GetNumberOfControlPoints()
        if count == 0:
            raise ValueError(f"Markups '{points.GetName()}' has no control points: expected points placed in the region")
        positions = []
        for index in range(count):
            position = [0.0, 0.0, 0.0]
            points.GetNthControlPointPositionWorld(index, position)
            positions.append(position)
        return np.array(positions), [points.GetNthControlPointLabel(index) for index in range(count)]
    try:
        array = np.atleast_2d(np.asarray(points, dtype=float))
    except (TypeError, ValueError):
        raise ValueError(f"ROI centres {points!r} are not numeric: expected RAS points (x, y, z) in mm or a markups node") from None
    if array.ndim != 2 or array.shape[1] != 3 or array.shape[0] == 0 or not np.all(np.isfinite(array)):
        raise ValueError(f"ROI centres have shape {array.shape}: expected one or more finite RAS points (x, y, z) in mm")
    return array, [f"ROI {index + 1}" for index in range(len(array))]


def meanSignalInSpheres(image, points, radiusMm, label="ROI", unit=SIGNAL_UNIT) -> SphereSignals:
    """Mean signal in spheres of ``radiusMm`` around RAS points (a list of (x, y, z) in mm, or a
    markups node whose world positions are used, e.g. points in the spleen or the paraspinal
    muscle): every voxel whose centre lies within the radius, in physical space."""
    radius = checkedNumber(radiusMm, "ROI radius", "a radius in mm")
    if radius <= 0:
        raise ValueError(f"ROI radius {radius:g} mm must be positive: expected a radius in mm")
    array, ijkToWorld, imageName = _worldGrid(image)
    centres, names = _controlPoints(points)
    worldToIjk = np.linalg.inv(ijkToWorld)
    spacing = np.linalg.norm(ijkToWorld[:3, :3], axis=0)
    size = np.array([array.shape[2], array.shape[1], array.shape[0]])
    voxelVolume = _voxelVolumeMl(ijkToWorld)
    perPoint, pooled = [], set()
    for centre, name in zip(centres, names):
        continuous = (worldToIjk @ np.r_[centre, 1.0])[:3]
        reach = np.ceil(radius / spacing).astype(int) + 1
        low = np.maximum(np.floor(continuous).astype(int) - reach, 0)
        high = np.minimum(np.ceil(continuous).astype(int) + reach, size - 1)
        where = f"the sphere of radius {radius:g} mm at RAS ({centre[0]:.1f}, {centre[1]:.1f}, {centre[2]:.1f}) ('{name}', image '{imageName}' spacing {np.round(spacing, 3).tolist()} mm)"
        if np.any(low > high):
            raise ValueError(f"{label} {name}: {where} lies outside the image: expected a point inside the scanned volume")
        i, j, k = np.meshgrid(*(np.arange(low[axis], high[axis] + 1) for axis in range(3)), indexing="ij")
        indices = np.c_[i.ravel(), j.ravel(), k.ravel()]
        world = (ijkToWorld @ np.c_[indices, np.ones(len(indices))].T)[:3].T
        inside = indices[np.linalg.norm(world - centre, axis=1) <= radius]
        if len(inside) == 0:
            raise ValueError(f"{label} {name}: {where} contains no voxel centre: expected a larger radius than half the voxel size")
        perPoint.append(_statistics(f"{label} {name}", array[inside[:, 2], inside[:, 1], inside[:, 0]], voxelVolume, unit, where))
        pooled.update(map(tuple, inside))
    everyVoxel = np.array(sorted(pooled))
    pooledSignal = _statistics(label, array[everyVoxel[:, 2], everyVoxel[:, 1], everyVoxel[:, 0]], voxelVolume, unit, "the spheres")
    return SphereSignals(perPoint, pooledSignal, radius)


def t1IndicesFromMaps(t1PreMap, t1HbpMap, segmentationNode, segmentIds, unit):
    """T1 indices of a region (union of ``segmentIds``) from two T1 maps (volume nodes or (array,
    IJK-to-RAS)), each in ``unit`` ('ms' or 's'): mean T1 of the region per map, then
    ``t1Indices`` (R1 is 1 / mean T1, not the mean of 1/T1)."""
    if t1PreMap is None:
        raise ValueError("Pre-contrast T1 map is missing: delta R1 and the reduction rate need the pre-contrast T1 map")
    if t1HbpMap is None:
        raise ValueError("Hepatobiliary-phase T1 map is missing: expected the T1 map acquired about 20 min after injection")
    pre = meanSignalInRegion(t1PreMap, segmentationNode, segmentIds, unit=unit)
    hbp = meanSignalInRegion(t1HbpMap, segmentationNode, segmentIds, unit=unit)
    return t1Indices(pre.mean, hbp.mean, unit)


# --- Voxel-wise maps and the FLR functional share ---------------------------------------------------


@dataclass
class EnhancementMap:
    """A voxel-wise map on the HBP grid: ``array`` [k, j, i] placed by ``ijkToRAS`` (the HBP
    image's own matrix); voxels where it is undefined (no pre-contrast signal there) are NaN and
    counted in ``undefinedVoxels``. ``hbpImage`` is the image it was measured on (a volume node,
    whose parent transform places the map in the scene too, or (array, IJK-to-RAS)): segments
    are paired with the map on that image's grid."""

    kind: str
    array: np.ndarray
    ijkToRAS: np.ndarray
    undefinedVoxels: int
    hbpImage: object = field(default=None, repr=False)


def relativeEnhancementMap(preImage, hbpImage):
    """RLE per voxel, (HBP - pre) / pre, on the HBP grid. ``preImage`` and ``hbpImage``: scalar
    volume nodes, or (array [k, j, i], IJK-to-RAS). The pre-contrast image is resampled onto the
    HBP grid in physical space (linear; parent transforms of nodes applied), never paired by
    index; where it does not reach, the map is NaN."""
    if preImage is None:
        raise ValueError("Pre-contrast image is missing: a relative enhancement (RLE) map needs the unenhanced series; use L/S - 1 instead")
    if hbpImage is None:
        raise ValueError("Hepatobiliary-phase image is missing: expected the series acquired about 20 min after injection")
    hbpArray, hbpIjkToRAS, _ = _grid(hbpImage)
    if hasattr(preImage, "IsA") and hasattr(hbpImage, "IsA"):
        pre = resampledArray(preImage, hbpImage, "linear", float("nan"))
    else:
        preArray, preIjkToWorld, _ = _worldGrid(preImage)
        _, hbpIjkToWorld, _ = _worldGrid(hbpImage)
        # Reference (HBP local) -> world -> pre world frame (arrays carry their world grids).
        referenceToSource = hbpIjkToWorld @ np.linalg.inv(hbpIjkToRAS)
        pre = resampleArray(preArray, preIjkToWorld, hbpArray.shape, hbpIjkToRAS, "linear", float("nan"), referenceToSource)
    result = relativeEnhancementArray(pre, hbpArray)
    return EnhancementMap(RLE_MAP, result, hbpIjkToRAS, int(np.count_nonzero(~np.isfinite(result))), hbpImage)


def _grid(image):
    """(array, own IJK-to-RAS (no parent transform), name)."""
    if hasattr(image, "IsA"):
        node = checkedVolumeNode(image, "Image")
        return volumeNodeArray(node), nodeIjkToRas(node), node.GetName()
    array, ijkToRAS = _arrayAndGeometry(image)
    return array, ijkToRAS, "image"


def liverSpleenEnhancementMap(hbpImage, spleenSiHbp):
    """L/S - 1 per voxel on the HBP grid (``gadoxetateIndices.liverSpleenEnhancementArray``)."""
    if hbpImage is None:
        raise ValueError("Hepatobiliary-phase image is missing: expected the series acquired about 20 min after injection")
    hbpArray, hbpIjkToRAS, _ = _grid(hbpImage)
    result = liverSpleenEnhancementArray(hbpArray, spleenSiHbp)
    return EnhancementMap(LIVER_SPLEEN_MAP, result, hbpIjkToRAS, int(np.count_nonzero(~np.isfinite(result))), hbpImage)


def remnantFunctionalShare(mapImage, segmentationNode, remnantSegmentIds, liverSegmentIds, clipNegative=False, mapKind=None) -> FunctionalShare:
    """FLR functional share (``gadoxetateIndices.functionalShare``) from a voxel-wise map (an
    ``EnhancementMap``, a volume node, or (array, IJK-to-RAS)): sum over the FLR (the union of
    ``remnantSegmentIds``, inside the liver) / sum over the liver (the union of
    ``liverSegmentIds``); segments are resampled onto the map grid in physical space."""
    values = None
    if isinstance(mapImage, EnhancementMap):
        mapKind = mapKind or mapImage.kind
        values = mapImage.array
        mapImage = mapImage.hbpImage if mapImage.hbpImage is not None else (mapImage.array, mapImage.ijkToRAS)
    if mapKind is None and hasattr(mapImage, "GetAttribute"):
        mapKind = mapImage.GetAttribute(MAP_ATTRIBUTE)
    if not list(remnantSegmentIds) or not list(liverSegmentIds):
        raise ValueError("FLR and liver segment IDs must both be given: expected the remnant's segments and the whole liver's segments")
    masks, array, _, imageName = _segmentMasks(mapImage, segmentationNode, {"remnant": list(remnantSegmentIds), "liver": list(liverSegmentIds)})
    if values is not None:
        array = values  # the map lies on the grid of the image it was measured on
    liver = masks["liver"]
    remnant = masks["remnant"] & liver
    if not liver.any():
        raise ValueError(f"The liver segments cover no voxel of the map '{imageName}': expected a map that covers the liver")
    if not remnant.any():
        raise ValueError(f"The FLR segments cover no liver voxel of the map '{imageName}': expected FLR segments inside the liver")
    return functionalShare(array[remnant], array[liver], mapKind, clipNegative)
