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
from vtkmodules.util import numpy_support

from ..imageGrid import imageToWorld
from .labelCounting import labelCounts

VOLUME_METHOD = "voxel count x voxel volume on the segmentation's binary labelmap"


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
