"""Segments read in place on boxes of voxels of one segmentation grid, and the distance and
neighbourhood operations on masks over a box: every parenchyma-sparing computation runs on a box
around the tumour, never on the whole scan.

A box is (lo, hi): integer arrays (i, j, k), lo inclusive, hi exclusive, in the index space of
the grid's reference layer. Masks over a box are indexed [k, j, i] like Slicer's arrays."""

from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk

from ..imageGrid import imageToWorld, toWorldMatrix
from ..segments.segmentVolumes import binaryLabelmapName, ensureBinaryLabelmap, layerVoxels, voxelVolumeMl


def boxShape(box):
    lo, hi = box
    return (int(hi[2] - lo[2]), int(hi[1] - lo[1]), int(hi[0] - lo[0]))


def expandedBox(box, voxels):
    return (box[0] - np.asarray(voxels, dtype=int), box[1] + np.asarray(voxels, dtype=int))


def boxUnion(first, second):
    return (np.minimum(first[0], second[0]), np.maximum(first[1], second[1]))


def boxIntersection(first, second):
    lo, hi = np.maximum(first[0], second[0]), np.minimum(first[1], second[1])
    return None if np.any(hi <= lo) else (lo, hi)


def boxSlices(inner, outer):
    """Index slices of box ``inner`` within an array over box ``outer`` ([k, j, i])."""
    start = inner[0] - outer[0]
    stop = inner[1] - outer[0]
    return (slice(int(start[2]), int(stop[2])), slice(int(start[1]), int(stop[1])), slice(int(start[0]), int(stop[0])))


def boxOfMask(mask, origin):
    """Tight box of the True voxels of ``mask`` (an array over a box starting at ``origin``), or None."""
    k = np.flatnonzero(mask.any(axis=(1, 2)))
    if k.size == 0:
        return None
    # The other two projections only over the slices that hold voxels: a tumour spans few.
    slab = mask[k[0] : k[-1] + 1]
    j = np.flatnonzero(slab.any(axis=(0, 2)))
    i = np.flatnonzero(slab.any(axis=(0, 1)))
    lo = np.asarray(origin, dtype=int) + np.array([i[0], j[0], k[0]])
    hi = np.asarray(origin, dtype=int) + np.array([i[-1], j[-1], k[-1]]) + 1
    return lo, hi


def reboxed(mask, box, newBox):
    """``mask`` (over ``box``) copied onto ``newBox``; False where ``box`` does not reach."""
    out = np.zeros(boxShape(newBox), dtype=bool)
    common = boxIntersection(box, newBox)
    if common is not None:
        out[boxSlices(common, newBox)] = mask[boxSlices(common, box)]
    return out


class SegmentGrid:
    """Segments' voxels read in place from the segmentation's labelmap layers, on the index grid
    of the first segment's layer (layers shifted by whole voxels are aligned; any other
    difference of geometry is refused, as in segmentOverlap). ``ijkToRAS`` places that index
    grid in world coordinates (a linear parent transform included)."""

    def __init__(self, segmentationNode, segmentIds):
        ensureBinaryLabelmap(segmentationNode)
        self.segmentationName = segmentationNode.GetName()
        segmentation = segmentationNode.GetSegmentation()
        labelmapName = binaryLabelmapName()
        self._entries = {}
        self._layerContent = {}
        self._crops = {}
        reference = None
        for segmentId in dict.fromkeys(segmentIds):
            segment = segmentation.GetSegment(segmentId)
            if segment is None:
                raise ValueError(f"Segmentation '{self.segmentationName}' has no segment with ID '{segmentId}'")
            layer = segmentation.GetLayerIndex(segmentId, labelmapName)
            image = segmentation.GetLayerDataObject(layer, labelmapName)
            local = imageToWorld(image)
            if reference is None:
                reference = local
                self.voxelVolumeMl = voxelVolumeMl(image)
            offset = np.linalg.solve(reference[:3, :3], local[:3, 3] - reference[:3, 3])
            if not np.allclose(local[:3, :3], reference[:3, :3], atol=1e-6) or not np.allclose(offset, np.round(offset), atol=1e-3):
                raise ValueError(
                    f"Layers of segmentation '{self.segmentationName}' lie on different grids (spacing, direction or a shift "
                    "of part of a voxel); expected one reference geometry for all segments"
                )
            extent = image.GetExtent()
            shift = np.round(offset).astype(int)
            lo = np.array([extent[0], extent[2], extent[4]]) + shift
            hi = np.array([extent[1], extent[3], extent[5]]) + shift + 1
            self._entries[segmentId] = (layer, layerVoxels(image), segment.GetLabelValue(), (lo, hi), segment.GetName())
        self.ijkToRAS = toWorldMatrix(segmentationNode) @ reference
        linear = self.ijkToRAS[:3, :3]
        self.spacing = np.linalg.norm(linear, axis=0)  # mm between voxel centres along i, j, k
        if np.any(self.spacing <= 0):
            raise ValueError(f"Segmentation '{self.segmentationName}' has a zero voxel spacing: expected a 3D grid")
        directions = linear / self.spacing
        if not np.allclose(directions.T @ directions, np.eye(3), atol=1e-4):
            # Distance maps need orthogonal voxel axes; a sheared grid would need resampling.
            raise ValueError(
                f"Segmentation '{self.segmentationName}' lies on a sheared grid (voxel axes not perpendicular): "
                "expected a labelmap geometry with orthogonal axes (resample it first)"
            )
        self.diagonalMm = float(np.linalg.norm(self.spacing))

    def name(self, segmentId):
        return self._entries[segmentId][4]

    def _content(self, layer, voxels, box):
        """Box of the non-zero voxels of a layer (computed once per layer): most layers hold small
        structures on a large extent, and every segment of the layer is then searched there only."""
        if layer not in self._layerContent:
            contentBox = boxOfMask(voxels != 0, box[0])
            self._layerContent[layer] = contentBox
        return self._layerContent[layer]

    def crop(self, segmentId):
        """(mask, box) of a segment cropped to its voxels, or None when it is empty (cached)."""
        if segmentId not in self._crops:
            layer, voxels, label, box, _ = self._entries[segmentId]
            result = None
            if voxels is not None:
                content = self._content(layer, voxels, box)
                if content is not None:
                    mask = voxels[boxSlices(content, box)] == label
                    tight = boxOfMask(mask, content[0])
                    if tight is not None:
                        result = (mask[boxSlices(tight, content)].copy(), tight)
            self._crops[segmentId] = result
        return self._crops[segmentId]

    def mask(self, segmentIds, box):
        """Boolean mask over ``box`` of the union of segments."""
        out = np.zeros(boxShape(box), dtype=bool)
        for segmentId in segmentIds:
            _, voxels, label, layerBox, _ = self._entries[segmentId]
            if voxels is None:
                continue
            common = boxIntersection(box, layerBox)
            if common is not None:
                out[boxSlices(common, box)] |= voxels[boxSlices(common, layerBox)] == label
        return out

    def unionCount(self, segmentIds):
        """Voxel count of the union of segments that share one layer (they cannot overlap there),
        counted as runs of consecutive label values, slab by slab; None when they lie in several
        layers (the caller then counts their union with segmentOverlap)."""
        layers = {self._entries[segmentId][0] for segmentId in segmentIds}
        if len(layers) != 1:
            return None
        voxels = self._entries[segmentIds[0]][1]
        if voxels is None:
            return 0
        labels = sorted({self._entries[segmentId][2] for segmentId in segmentIds})
        runs = []
        for label in labels:
            if runs and label == runs[-1][1] + 1:
                runs[-1][1] = label
            else:
                runs.append([label, label])
        count = 0
        slabSlices = max(1, (1 << 22) // max(1, voxels.shape[1] * voxels.shape[2]))
        for start in range(0, voxels.shape[0], slabSlices):
            slab = voxels[start : start + slabSlices]
            for low, high in runs:
                count += int(np.count_nonzero(slab == low) if low == high else np.count_nonzero((slab >= low) & (slab <= high)))
        return count

    def pointsMm(self, box, k, j, i):
        """World (RAS) coordinates in mm of voxel centres given by indices within ``box``."""
        ijk = np.vstack((i + box[0][0], j + box[0][1], k + box[0][2])).astype(float)
        return (self.ijkToRAS[:3, :3] @ ijk).T + self.ijkToRAS[:3, 3]

    def boxIjkToRAS(self, box):
        matrix = self.ijkToRAS.copy()
        matrix[:3, 3] = matrix[:3, :3] @ box[0].astype(float) + matrix[:3, 3]
        return matrix


def distanceMap(mask, spacing):
    """Signed Euclidean distance (mm) to the nearest True voxel centre; <= 0 on True voxels."""
    image = sitk.GetImageFromArray(mask.astype(np.uint8))
    image.SetSpacing(tuple(float(value) for value in spacing))
    distance = sitk.SignedMaurerDistanceMap(image, insideIsPositive=False, squaredDistance=False, useImageSpacing=True)
    return sitk.GetArrayFromImage(distance)


def boxMinimum(values):
    """Minimum over each voxel's 3x3x3 neighbourhood (separable; outside the array does not count)."""
    result = values
    for axis in range(3):
        shifted = np.array(result, copy=True)
        lower = [slice(None)] * 3
        upper = [slice(None)] * 3
        lower[axis], upper[axis] = slice(0, -1), slice(1, None)
        np.minimum(shifted[tuple(lower)], result[tuple(upper)], out=shifted[tuple(lower)])
        np.minimum(shifted[tuple(upper)], result[tuple(lower)], out=shifted[tuple(upper)])
        result = shifted
    return result


def boxMaximum(mask):
    """Logical or over each voxel's 3x3x3 neighbourhood: the mask dilated by one voxel (26-neighbourhood)."""
    result = mask
    for axis in range(3):
        shifted = np.array(result, copy=True)
        lower = [slice(None)] * 3
        upper = [slice(None)] * 3
        lower[axis], upper[axis] = slice(0, -1), slice(1, None)
        shifted[tuple(lower)] |= result[tuple(upper)]
        shifted[tuple(upper)] |= result[tuple(lower)]
        result = shifted
    return result


@dataclass
class BoxLabelmap:
    """Label values over a box ([k, j, i], 0 = none) and the ijkToRAS placing it in the world:
    what a segment for the 3D view is imported from."""

    labels: np.ndarray
    ijkToRAS: np.ndarray
