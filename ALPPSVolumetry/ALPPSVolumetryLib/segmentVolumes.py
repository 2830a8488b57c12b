"""Voxel-based segment volumes, counted on the segmentation's own binary labelmap layers.

Slicer keeps a segmentation as one or more shared labelmap layers: segments that do not
overlap share a layer and are told apart by their label value. Counting the label values of
each layer once gives every segment's voxel count without exporting segments one by one
(which is what Segment Statistics does, and what makes it slow on large scans).
Volume = voxel count x voxel volume of the layer's own geometry (clinical reference: report
voxel-based mL on the segmentation's labelmap geometry).
"""

from dataclasses import dataclass

import numpy as np
import slicer
from vtk.util import numpy_support

from .imageGrid import imageToWorld

VOLUME_METHOD = "voxel count x voxel volume on the segmentation's binary labelmap"

# Slices counted at a time: bounds the temporary memory of the histogram to a few MB per
# slab whatever the scan size.
_SLAB_VOXELS = 1 << 22


@dataclass
class SegmentVolume:
    segmentId: str
    name: str
    voxelCount: int
    volumeMl: float
    layer: int

    @property
    def isEmpty(self):
        return self.voxelCount == 0


def binaryLabelmapName():
    return slicer.vtkSegmentationConverter.GetSegmentationBinaryLabelmapRepresentationName()


def ensureBinaryLabelmap(segmentationNode):
    """Make sure the segmentation has its binary labelmap (converting from closed surface, as
    Slicer does, when the segmentation was loaded from models)."""
    segmentation = segmentationNode.GetSegmentation()
    if segmentation.GetNumberOfSegments() == 0:
        raise ValueError(f"Segmentation '{segmentationNode.GetName()}' has no segments: expected liver segments")
    if not segmentation.ContainsRepresentation(binaryLabelmapName()):
        if not segmentation.CreateRepresentation(binaryLabelmapName()):
            raise ValueError(
                f"Segmentation '{segmentationNode.GetName()}' cannot be converted to a binary labelmap "
                f"(source representation: {segmentation.GetSourceRepresentationName()})"
            )


def voxelVolumeMl(orientedImageData):
    """Volume of one voxel (mL) from the image-to-world matrix, so that oblique grids count right."""
    return abs(float(np.linalg.det(imageToWorld(orientedImageData)[:3, :3]))) / 1000.0


def layerVoxels(orientedImageData):
    """numpy view ([k, j, i]) of a layer's voxels, without copying; None for an empty layer."""
    extent = orientedImageData.GetExtent()
    if extent[1] < extent[0] or extent[3] < extent[2] or extent[5] < extent[4]:
        return None
    scalars = orientedImageData.GetPointData().GetScalars()
    if scalars is None:
        return None
    dims = (extent[5] - extent[4] + 1, extent[3] - extent[2] + 1, extent[1] - extent[0] + 1)
    return numpy_support.vtk_to_numpy(scalars).reshape(dims)


# Label values up to this are counted with a table indexed by value; larger ones (a label map
# whose values are IDs, or a damaged one) by sorting, so memory never grows with the value.
_TABLE_LABEL_LIMIT = 1 << 16


def labelCounts(voxels):
    """{label value: voxel count} of a labelmap array, counted slab by slab."""
    counts = {}
    if voxels is None:
        return counts
    flat = voxels.reshape(-1)
    integral = np.issubdtype(flat.dtype, np.integer)
    for start in range(0, flat.size, _SLAB_VOXELS):
        slab = flat[start : start + _SLAB_VOXELS]
        if not integral:
            # Label maps saved as floating point (common in NIfTI) are fine if every value is whole.
            if not np.all(np.isfinite(slab)) or not np.array_equal(slab, np.floor(slab)):
                raise ValueError("Label map holds non-integer or non-finite values; expected whole label numbers")
            slab = slab.astype(np.int64)
        low, high = int(slab.min()), int(slab.max())
        if low < 0:
            raise ValueError("Labelmap layer holds negative label values; expected labels >= 0")
        if high < _TABLE_LABEL_LIMIT:
            table = np.bincount(slab, minlength=high + 1)
            values = np.flatnonzero(table)
            found = table[values]
        else:
            values, found = np.unique(slab, return_counts=True)
        for value, count in zip(values.tolist(), found.tolist()):
            counts[value] = counts.get(value, 0) + count
    return counts


def segmentVolumes(segmentationNode, segmentIds=None):
    """Volume of every segment (in segmentation order), or of the given ``segmentIds`` only
    (only their layers are counted), as ``SegmentVolume`` records.

    Empty segments are returned with zero voxels and ``isEmpty`` true: callers decide whether
    an empty segment is an error for what they compute.
    """
    ensureBinaryLabelmap(segmentationNode)
    segmentation = segmentationNode.GetSegmentation()
    wanted = list(segmentation.GetSegmentIDs()) if segmentIds is None else list(segmentIds)
    layerOfSegment = {}
    histograms = {}
    voxelVolumes = {}
    labelmap = binaryLabelmapName()
    for segmentId in wanted:
        layerOfSegment[segmentId] = segmentation.GetLayerIndex(segmentId, labelmap)
    for layer in set(layerOfSegment.values()):
        image = segmentation.GetLayerDataObject(layer, labelmap)
        histograms[layer] = labelCounts(layerVoxels(image))
        voxelVolumes[layer] = voxelVolumeMl(image)
    results = []
    for segmentId in wanted:
        segment = segmentation.GetSegment(segmentId)
        layer = layerOfSegment[segmentId]
        histogram = histograms[layer]
        labelValue = segment.GetLabelValue()
        count = int(histogram.get(labelValue, 0))
        results.append(
            SegmentVolume(
                segmentId=segmentId,
                name=segment.GetName(),
                voxelCount=count,
                volumeMl=count * voxelVolumes[layer],
                layer=layer,
            )
        )
    return results
