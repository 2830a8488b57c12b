"""Reading volumes, label maps and segmentations from files into a given scene, through
Slicer's own storage nodes (the same readers Slicer's Add Data dialog uses)."""

import colorsys
import os

import slicer
import slicer.util

from . import dicomSegmentation, patientIdentity
from .dicomSeries import readHeader, singleImageSeries
from .segmentVolumes import labelHistogram

_VOLUME_SUFFIXES = (".nrrd", ".nhdr", ".nii", ".nii.gz", ".mha", ".mhd", ".dcm")


def _nodeName(path):
    name = os.path.basename(path.rstrip("/"))
    for suffix in (".seg.nrrd",) + _VOLUME_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def loadVolume(scene, path, labelmap=False, name=None):
    """Load a scalar volume (or label map) from NRRD, NIfTI, MetaImage, or DICOM.

    ``path`` may be a folder holding one DICOM series (its slices are put in anatomical order),
    or a list of DICOM files already in slice order.
    """
    if isinstance(path, str) and os.path.isdir(path):
        series = singleImageSeries(path)
        paths = series.files
        name = name or (series.description or os.path.basename(path.rstrip("/")))
    else:
        paths = list(path) if isinstance(path, (list, tuple)) else [path]
    for filePath in paths:
        if not os.path.isfile(filePath):
            raise FileNotFoundError(f"Volume file '{filePath}' does not exist")
    isDicom = isinstance(path, str) and os.path.isdir(path) or all(p.lower().endswith(".dcm") for p in paths)
    className = "vtkMRMLLabelMapVolumeNode" if labelmap else "vtkMRMLScalarVolumeNode"
    volumeNode = scene.AddNewNodeByClass(className, name or _nodeName(paths[0]))
    storageNode = scene.AddNewNodeByClass("vtkMRMLVolumeArchetypeStorageNode")
    storageNode.SetFileName(paths[0])
    if len(paths) > 1:
        # The file list holds every slice, the archetype included, as Slicer's DICOM plugin does.
        storageNode.ResetFileNameList()
        for slicePath in paths:
            storageNode.AddFileName(slicePath)
    storageNode.SetSingleFile(len(paths) == 1 and not paths[0].lower().endswith(".dcm"))
    storageNode.SetCenterImage(False)
    if labelmap:
        storageNode.SetUseOrientationFromFile(True)
    volumeNode.SetAndObserveStorageNodeID(storageNode.GetID())
    if not storageNode.ReadData(volumeNode) or volumeNode.GetImageData() is None:
        scene.RemoveNode(volumeNode)
        scene.RemoveNode(storageNode)
        raise ValueError(f"'{paths[0]}' could not be read as a volume (expected NRRD, NIfTI, MHA or DICOM)")
    volumeNode.CreateDefaultDisplayNodes()
    if isDicom:
        # As Slicer's DICOM module does: the patient and study the series belongs to, in the
        # subject hierarchy, where the report finds its identifiers.
        header = readHeader(paths[0])
        if header is not None and scene.GetSubjectHierarchyNode() is not None:
            patientIdentity.placeUnderPatientStudy(scene, volumeNode, patientIdentity.identityFromDicomDataset(header))
    return volumeNode


def loadSegmentation(scene, path, labelNames=None, name=None):
    """Load a segmentation from a ``.seg.nrrd`` or DICOM SEG file, or import a label map file.

    For a label map, ``labelNames`` maps label values to segment names; label values present in
    the file but not in the mapping are reported as an error rather than imported unnamed.
    Without a mapping every non-zero label becomes a segment named 'Label <value>'.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Segmentation file '{path}' does not exist")
    nodeName = name or _nodeName(path)
    if dicomSegmentation.isDicomSegmentation(path):
        return dicomSegmentation.loadDicomSegmentation(scene, path, nodeName)
    if path.lower().endswith(".seg.nrrd"):
        segmentationNode = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", nodeName)
        storageNode = scene.AddNewNodeByClass("vtkMRMLSegmentationStorageNode")
        storageNode.SetFileName(path)
        segmentationNode.SetAndObserveStorageNodeID(storageNode.GetID())
        if not storageNode.ReadData(segmentationNode):
            raise ValueError(f"'{path}' could not be read as a Slicer segmentation (.seg.nrrd)")
        segmentationNode.CreateDefaultDisplayNodes()
        return segmentationNode
    labelmapNode = loadVolume(scene, path, labelmap=True, name=nodeName + " labels")
    try:
        present = [value for value, count in enumerate(labelHistogram(slicer.util.arrayFromVolume(labelmapNode))) if count and value]
        if not present:
            raise ValueError(f"Label map '{path}' holds no labelled voxels: expected segment labels > 0")
        if labelNames is None:
            labelNames = {value: f"Label {value}" for value in present}
        unnamed = sorted(set(present) - set(labelNames))
        if unnamed:
            raise ValueError(
                f"Label map '{path}' has label values {unnamed} that the label mapping does not name; "
                f"expected only {sorted(labelNames)}"
            )
        absent = sorted(set(labelNames) - set(present))
        if absent:
            raise ValueError(
                f"Label map '{path}' has no voxels for label values {absent} "
                f"({', '.join(labelNames[v] for v in absent)}) named in the label mapping"
            )
        colorNode = scene.AddNewNodeByClass("vtkMRMLColorTableNode", nodeName + " label names")
        colorNode.SetTypeToUser()
        colorNode.SetNumberOfColors(max(labelNames) + 1)
        colorNode.SetColor(0, "background", 0.0, 0.0, 0.0, 0.0)
        for value, segmentName in labelNames.items():
            colorNode.SetColor(value, segmentName, *_defaultColor(value), 1.0)
        labelmapNode.GetDisplayNode().SetAndObserveColorNodeID(colorNode.GetID())
        segmentationNode = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", nodeName)
        segmentationNode.CreateDefaultDisplayNodes()
        if not slicer.vtkSlicerSegmentationsModuleLogic.ImportLabelmapToSegmentationNode(labelmapNode, segmentationNode):
            raise ValueError(f"Slicer could not import label map '{path}' into a segmentation")
        scene.RemoveNode(colorNode)
        return segmentationNode
    finally:
        scene.RemoveNode(labelmapNode)


def _defaultColor(value):
    # A fixed, well-spread hue per label value so that imports look the same every time.
    return colorsys.hsv_to_rgb((value * 0.61803398875) % 1.0, 0.65, 0.9)


def _rasBounds(node):
    bounds = [0.0] * 6
    node.GetRASBounds(bounds)
    return bounds


def checkSegmentationOnVolume(segmentationNode, volumeNode):
    """Raise ValueError when the segmentation does not lie on the volume at all (unrelated
    geometry, e.g. a label map from another scan); return a warning text (or None) when part of
    it lies outside the volume. A segmentation read from DICOM SEG must reference the volume's series."""
    dicomSegmentation.checkReferencesVolume(segmentationNode, volumeNode)
    segmentationBounds = _rasBounds(segmentationNode)
    volumeBounds = _rasBounds(volumeNode)
    overlap = 1.0
    for axis in range(3):
        low = max(segmentationBounds[2 * axis], volumeBounds[2 * axis])
        high = min(segmentationBounds[2 * axis + 1], volumeBounds[2 * axis + 1])
        extent = segmentationBounds[2 * axis + 1] - segmentationBounds[2 * axis]
        if high <= low:
            raise ValueError(
                f"Segmentation '{segmentationNode.GetName()}' does not overlap volume '{volumeNode.GetName()}' in patient "
                f"space (RAS bounds {_formatBounds(segmentationBounds)} vs {_formatBounds(volumeBounds)}): "
                "expected a segmentation made on this volume"
            )
        overlap *= (high - low) / extent if extent > 0 else 1.0
    if overlap < 0.9:
        return (
            f"Only {100 * overlap:.0f} % of segmentation '{segmentationNode.GetName()}' lies within volume "
            f"'{volumeNode.GetName()}': check that it was made on this scan"
        )
    return None


def _formatBounds(bounds):
    return "[" + ", ".join(f"{value:.1f}" for value in bounds) + "]"
