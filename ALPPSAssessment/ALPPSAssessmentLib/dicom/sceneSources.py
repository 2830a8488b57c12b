"""The DICOM series a saved scene's scans were read from. A scene bundle keeps its scans as NRRD,
and a DICOM SEG must reference the CT series itself: each time point's scan is matched to the
series in a folder holding the same voxels on the same grid, and measured on that series."""

import numpy as np
from ALPPSVolumetryLib.inputs import dicomSeries
from ALPPSVolumetryLib import imageGrid
from ALPPSVolumetryLib.segments import segmentationIO

from ..course import timeline

GEOMETRY_TOLERANCE_MM = 1e-3


def _sameScan(volumeNode, candidate):
    if volumeNode.GetImageData().GetDimensions() != candidate.GetImageData().GetDimensions():
        return False
    if not np.allclose(imageGrid.nodeIjkToRas(volumeNode), imageGrid.nodeIjkToRas(candidate), atol=GEOMETRY_TOLERANCE_MM):
        return False
    return np.array_equal(imageGrid.volumeNodeArray(volumeNode), imageGrid.volumeNodeArray(candidate))


def timePointsOnDicomSeries(scene, folder):
    """The scene's stored time points with each scan replaced by the DICOM series of ``folder``
    holding the same voxels; ValueError naming a time point whose scan matches none."""
    points = timeline.timePointsInScene(scene)
    if not points:
        raise ValueError("The scene holds no stored time points: store each scan with its segmentation as a time point")
    series = dicomSeries.findImageSeries(folder)
    loaded = {}  # position in ``series`` -> its volume node (series without a UID have none to key by)
    for point in points:
        if point.volumeNode is None:
            raise ValueError(f"The {point.label} time point has no scan stored with its segmentation: DICOM results reference their CT")
        dimensions = point.volumeNode.GetImageData().GetDimensions()
        match = None
        for number, candidate in enumerate(series):
            if len(candidate.files) != dimensions[2] or (candidate.columns, candidate.rows) != dimensions[:2]:
                continue
            if number not in loaded:
                loaded[number] = segmentationIO.loadVolume(scene, candidate.files, name=f"DICOM {candidate.seriesDescription}")
            if _sameScan(point.volumeNode, loaded[number]):
                match = loaded[number]
                break
        if match is None:
            raise ValueError(f"The {point.label} scan '{point.volumeNode.GetName()}' matches no DICOM series in '{folder}' (same voxels "
                             "and grid): give the folder of the series the scene's scans were read from")
        point.volumeNode = match
    return points
