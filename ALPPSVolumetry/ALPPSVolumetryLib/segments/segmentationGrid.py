"""A segmentation belongs to a volume only when its voxels are that volume's voxels.

A label map saved from another reconstruction of the same scan (10 % other spacing, a shifted
origin, another slice direction) can lie inside the volume and still be measured wrong by tens
of percent. So the two grids are compared in patient space: the segmentation's voxel centres
must be voxel centres of the volume (same spacing and directions up to flips and axis order,
origin a whole number of voxels away) and its labelled voxels must lie inside the volume.
"""

import numpy as np
from vtkmodules.vtkCommonMath import vtkMatrix4x4

from ..imageGrid import arrayFromVtkMatrix, imageToWorld
from .segmentVolumes import binaryLabelmapName, ensureBinaryLabelmap, layerVoxels

# Fractions of a voxel: far above the rounding of float32 headers (NIfTI), far below any real
# difference between two reconstructions.
LATTICE_TOLERANCE_VOXELS = 0.01


def _volumeGrid(volumeNode):
    matrix = vtkMatrix4x4()
    volumeNode.GetIJKToRASMatrix(matrix)
    return arrayFromVtkMatrix(matrix), volumeNode.GetImageData().GetDimensions()


def _occupiedBox(image):
    """Lowest and highest IJK index (of the layer's own grid) holding a labelled voxel, or None."""
    voxels = layerVoxels(image)
    if voxels is None or not voxels.any():
        return None
    extent = image.GetExtent()
    low, high = [], []
    for axes, offset in (((0, 1), extent[0]), ((0, 2), extent[2]), ((1, 2), extent[4])):
        indices = np.flatnonzero(voxels.any(axis=axes))
        low.append(int(indices[0]) + offset)
        high.append(int(indices[-1]) + offset)
    return np.array(low), np.array(high)


def _spacingText(matrix):
    return " x ".join(f"{value:.4g}" for value in np.linalg.norm(matrix[:3, :3], axis=0)) + " mm"


def gridDisagreement(segmentationNode, volumeNode):
    """Why the segmentation's voxels are not voxels of the volume, or None when they are."""
    ensureBinaryLabelmap(segmentationNode)
    segmentation = segmentationNode.GetSegmentation()
    volumeMatrix, dimensions = _volumeGrid(volumeNode)
    worldToVolume = np.linalg.inv(volumeMatrix)
    for layer in range(segmentation.GetNumberOfLayers(binaryLabelmapName())):
        image = segmentation.GetLayerDataObject(layer, binaryLabelmapName())
        box = _occupiedBox(image)
        if box is None:
            continue
        layerMatrix = imageToWorld(image)
        toVolume = worldToVolume @ layerMatrix
        rotation = toVolume[:3, :3]
        rounded = np.round(rotation)
        isPermutation = (np.abs(rounded).sum(axis=0) == 1).all() and (np.abs(rounded).sum(axis=1) == 1).all()
        if not isPermutation or np.abs(rotation - rounded).max() > LATTICE_TOLERANCE_VOXELS:
            layerSpacing = np.linalg.norm(layerMatrix[:3, :3], axis=0)
            volumeSpacing = np.linalg.norm(volumeMatrix[:3, :3], axis=0)
            if not np.allclose(np.sort(layerSpacing), np.sort(volumeSpacing), rtol=LATTICE_TOLERANCE_VOXELS / 10):
                return f"its voxel spacing {_spacingText(layerMatrix)} differs from the volume's {_spacingText(volumeMatrix)}"
            return "its voxel directions differ from the volume's (another slice orientation)"
        shift = toVolume[:3, 3]
        if np.abs(shift - np.round(shift)).max() > LATTICE_TOLERANCE_VOXELS:
            offset = np.abs(shift - np.round(shift)).max()
            return f"its origin is {offset:.2f} voxel off the volume's voxel grid (another reconstruction?)"
        corners = np.array([[box[a][0], box[b][1], box[c][2], 1.0] for a in (0, 1) for b in (0, 1) for c in (0, 1)])
        inVolume = np.round((toVolume @ corners.T)[:3].T)
        if (inVolume.min(axis=0) < 0).any() or (inVolume.max(axis=0) > np.array(dimensions) - 1).any():
            return "part of its labelled voxels lie outside the volume"
    return None
