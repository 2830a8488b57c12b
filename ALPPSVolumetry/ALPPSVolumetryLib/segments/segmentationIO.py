"""Reading volumes, label maps and segmentations from files into a given scene, through
Slicer's own storage nodes (the same readers Slicer's Add Data dialog uses)."""

import colorsys
import logging
import os

import numpy as np
import slicer
from vtkmodules.vtkCommonExecutionModel import vtkStreamingDemandDrivenPipeline
from vtkmodules.vtkCommonMath import vtkMatrix4x4
from vtkmodules.vtkCommonTransforms import vtkTransform

from . import dicomSegmentation
from ..inputs import patientIdentity
from ..inputs.dicomFolder import readHeader
from ..inputs.dicomSeriesChecks import checkedDicomSeries, UnevenSliceSpacing
from ..imageGrid import arrayFromVtkMatrix
from ..inputs.imageFileChecks import checkImageFile, imageFileFormat, isLabelMapFile
from ..inputs.inputChecks import checkedInputFile
from .segmentationGrid import gridDisagreement
from .segmentationImport import addVolumeFromArray, importLabelValues
from ..inputs import unevenSlices

# The file a segmentation was imported from (a label map keeps no storage node of its own), so
# that the report can list it with its checksum.
IMPORTED_FROM_ATTRIBUTE = "ALPPS.importedFrom"

_VOLUME_SUFFIXES = (".nrrd", ".nhdr", ".nii", ".nii.gz", ".mha", ".mhd", ".dcm")


def _nodeName(path):
    name = os.path.basename(path.rstrip("/"))
    for suffix in (".seg.nrrd",) + _VOLUME_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def _note(notes, text):
    """What an import left aside: into ``notes`` when the caller collects them, else to the log
    (Slicer's Python console; the command line prints it as a note)."""
    if notes is not None:
        notes.append(text)
    else:
        logging.getLogger(__name__).warning(text)


def _checkedVolumeFiles(path, labelmap, what, finiteRequired=True):
    """The files to read (DICOM slices in anatomical order, or one image file), each checked
    first (imageFileChecks, dicomSeriesChecks), the series' name, notes, and the file's summary."""
    if isinstance(path, (list, tuple)):
        files, notes = checkedDicomSeries(list(path), what)
        return files, None, notes, None
    if os.path.isdir(path):
        files, notes = checkedDicomSeries(path, what)
        header = readHeader(files[0])
        description = str(header.get("SeriesDescription", "")).strip() if header is not None else ""
        return files, description or os.path.basename(path.rstrip("/")), notes, None
    checkedInputFile(path, what)
    if imageFileFormat(path) == "DICOM":
        files, notes = checkedDicomSeries([path], what)
        return files, None, notes, None
    return [path], None, [], checkImageFile(path, what, labelmap=labelmap, finiteRequired=finiteRequired)


def loadVolume(scene, path, labelmap=False, name=None, what=None, notes=None, finiteRequired=True):
    """Load a scalar volume (or label map) from NRRD, NIfTI, MetaImage, or DICOM.

    ``finiteRequired`` False accepts NaN voxels, for maps that mark where a fit failed (T1 maps):
    their statistics skip them.

    ``path`` may be a folder holding one DICOM series (its slices are put in anatomical order),
    or a list of DICOM files. Every file is checked before Slicer's reader sees it; ``notes``
    (a list) receives what was left aside (files beside the slices).
    """
    what = what or ("Label map" if labelmap else "Volume")
    try:
        paths, seriesName, seriesNotes, _ = _checkedVolumeFiles(path, labelmap, what, finiteRequired)
    except UnevenSliceSpacing as uneven:
        if not unevenSlices.resamplingAllowed() or labelmap:
            raise
        return _resampledVolume(scene, uneven.files, name or _nodeName(uneven.files[0]), what, notes)
    for note in seriesNotes:
        _note(notes, note)
    return _readVolume(scene, paths, labelmap, name or seriesName)


def _resampledVolume(scene, files, name, what, notes):
    voxels, ijkToRas, _, note = unevenSlices.resampledSeries(files)
    volumeNode = addVolumeFromArray(scene, name, voxels, ijkToRas)
    header = readHeader(files[0])
    if header is not None and scene.GetSubjectHierarchyNode() is not None:
        patientIdentity.placeUnderPatientStudy(scene, volumeNode, patientIdentity.identityFromDicomDataset(header))
    _note(notes, f"{what}: {note}")
    return volumeNode


def _readVolume(scene, paths, labelmap, name):
    isDicom = len(paths) > 1 or imageFileFormat(paths[0]) == "DICOM"
    className = "vtkMRMLLabelMapVolumeNode" if labelmap else "vtkMRMLScalarVolumeNode"
    volumeNode = scene.AddNewNodeByClass(className, name or _nodeName(paths[0]))
    storageNode = scene.AddNewNodeByClass("vtkMRMLVolumeArchetypeStorageNode")
    storageNode.SetFileName(paths[0])
    if len(paths) > 1:
        # The file list holds every slice, the archetype included, as Slicer's DICOM plugin does.
        storageNode.ResetFileNameList()
        for slicePath in paths:
            storageNode.AddFileName(slicePath)
    storageNode.SetSingleFile(len(paths) == 1 and not isDicom)
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


def loadSegmentation(scene, path, labelNames=None, name=None, notes=None, ignoreAbsent=False):
    """Load a segmentation from a ``.seg.nrrd`` or DICOM SEG file, or import a label map file.

    For a label map, ``labelNames`` maps label values to segment names: label values present in
    the file but not named are left out and listed in ``notes`` (a list); a named value without
    voxels is an error unless ``ignoreAbsent`` (a preset naming a whole label table). Without a
    mapping every non-zero label becomes a segment named 'Label <value>'. The file is checked
    completely (imageFileChecks) before Slicer's reader sees it, and the voxels the check decodes
    become the segmentation's layer.
    """
    checkedInputFile(path, "Segmentation file")
    nodeName = name or _nodeName(path)
    if _hasDicomPrefix(path) and dicomSegmentation.isDicomSegmentation(path):
        return dicomSegmentation.loadDicomSegmentation(scene, path, nodeName)
    if path.lower().endswith(".seg.nrrd"):
        checkImageFile(path, "Segmentation file", labelmap=True)
        segmentationNode = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", nodeName)
        storageNode = scene.AddNewNodeByClass("vtkMRMLSegmentationStorageNode")
        storageNode.SetFileName(path)
        segmentationNode.SetAndObserveStorageNodeID(storageNode.GetID())
        if not storageNode.ReadData(segmentationNode):
            raise ValueError(f"'{path}' could not be read as a Slicer segmentation (.seg.nrrd)")
        segmentationNode.CreateDefaultDisplayNodes()
        return segmentationNode
    if not isLabelMapFile(path):
        raise ValueError(f"Segmentation file '{path}': expected a .seg.nrrd, a DICOM SEG or a label map (NRRD, NIfTI, MHA)")
    summary = checkImageFile(path, "Label map", labelmap=True, keepVoxels=True)
    present = [value for value in summary.labels if value]
    if not present:
        raise ValueError(f"Label map '{path}' holds no labelled voxels: expected segment labels > 0")
    if labelNames is None:
        labelNames = {value: f"Label {value}" for value in present}
    ignored = sorted(set(present) - set(labelNames))
    wanted = {value: segmentName for value, segmentName in labelNames.items() if value in present}
    absent = sorted(set(labelNames) - set(present))
    ignoreAbsent = ignoreAbsent or getattr(labelNames, "wholeTable", False)
    if absent and not ignoreAbsent:
        raise ValueError(
            f"Label map '{path}' has no voxels for label values {absent} "
            f"({', '.join(labelNames[v] for v in absent)}) named in the label mapping"
        )
    if not wanted:
        raise ValueError(f"Label map '{path}' holds none of the label values named in the label mapping ({sorted(labelNames)}); "
                         f"it holds {present[:20]}")
    if ignored:
        shown = ", ".join(str(value) for value in ignored[:30]) + (" ..." if len(ignored) > 30 else "")
        _note(notes, f"label map '{path}': label value(s) {shown} not named in the label mapping, left out")
    ijkToRAS, slicesReversed = labelMapGeometry(path)
    voxels, firstSlice = summary.voxels, summary.voxelsFirstSlice
    if slicesReversed:
        slices = summary.size[2] if len(summary.size) == 3 else 1
        voxels, firstSlice = voxels[::-1], slices - firstSlice - voxels.shape[0]
    summary.voxels = None
    segmentationNode = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", nodeName)
    segmentationNode.CreateDefaultDisplayNodes()
    # Label values numbered 1..n in the layer: Slicer's tables are as long as the largest label
    # value (a single voxel labelled 2,000,000,000 would take 16 GB).
    importLabelValues(
        segmentationNode, voxels, ijkToRAS,
        [(value, number, wanted[value], _defaultColor(value)) for number, value in enumerate(sorted(wanted), start=1)],
        presentValues=summary.labels, firstSlice=firstSlice,
    )
    segmentationNode.SetAttribute(IMPORTED_FROM_ATTRIBUTE, os.path.abspath(path))
    return segmentationNode


def releaseSegmentation(segmentationNode):
    """Let a segmentation that is no longer needed go at once. Slicer removes the segments of a
    shared labelmap layer one by one, first moving each into a layer of its own (two passes over
    the whole layer per segment: a second on a large scan); without their labelmaps nothing is
    moved. The segmentation keeps its segments, without voxels: call this last."""
    segmentation = segmentationNode.GetSegmentation()
    labelmapName = slicer.vtkSegmentationConverter.GetSegmentationBinaryLabelmapRepresentationName()
    for segmentId in segmentation.GetSegmentIDs():
        segmentation.GetSegment(segmentId).RemoveRepresentation(labelmapName)


def labelMapGeometry(path):
    """IJK-to-RAS matrix (4x4) of a label map file as Slicer's volume reader places it, and
    whether its slices are then read in reverse order: Slicer makes every volume's IJK axes
    right-handed by reversing the slices of a left-handed one (a label map stored flipped). Only
    the header is read, by Slicer's own reader (vtkITK), so the voxels need not be read again."""
    reader = slicer.vtkITKArchetypeImageSeriesScalarReader()
    reader.SetArchetype(path)
    reader.SetSingleFile(1)
    reader.SetUseOrientationFromFile(1)
    reader.SetOutputScalarTypeToNative()
    reader.SetDesiredCoordinateOrientationToNative()
    reader.SetUseNativeOriginOn()
    reader.UpdateInformation()
    # Through a volume node, as vtkMRMLVolumeArchetypeStorageNode sets it (directions and spacing
    # kept apart): the same matrix to the last digit.
    volumeNode = slicer.vtkMRMLLabelMapVolumeNode()
    volumeNode.SetRASToIJKMatrix(reader.GetRasToIjkMatrix())
    matrix = vtkMatrix4x4()
    volumeNode.GetIJKToRASMatrix(matrix)
    ijkToRAS = arrayFromVtkMatrix(matrix)
    if np.linalg.det(ijkToRAS[:3, :3]) >= 0:
        return ijkToRAS, False
    # vtkMRMLVolumeNode::ReverseSliceOrder: the last slice becomes the first.
    slices = reader.GetOutputInformation(0).Get(vtkStreamingDemandDrivenPipeline.WHOLE_EXTENT())
    flip = vtkTransform()
    flip.Concatenate(matrix)
    if slices[5] - slices[4] + 1 > 1:
        flip.Translate(0.0, 0.0, slices[5] - slices[4])
    flip.Scale(1.0, 1.0, -1.0)
    flip.GetMatrix(matrix)
    volumeNode.SetIJKToRASMatrix(matrix)
    volumeNode.GetIJKToRASMatrix(matrix)
    return arrayFromVtkMatrix(matrix), True


def _hasDicomPrefix(path):
    """Whether the file carries the 'DICM' prefix that pydicom requires (without force) of a
    DICOM file: checked first so that reading a label map does not load pydicom."""
    try:
        with open(path, "rb") as stream:
            return stream.read(132)[128:132] == b"DICM"
    except OSError:
        return True  # let the DICOM reader say what is wrong


def _defaultColor(value):
    # A fixed, well-spread hue per label value so that imports look the same every time.
    return colorsys.hsv_to_rgb((value * 0.61803398875) % 1.0, 0.65, 0.9)


def _rasBounds(node):
    bounds = [0.0] * 6
    node.GetRASBounds(bounds)
    return bounds


def checkSegmentationOnVolume(segmentationNode, volumeNode):
    """Raise ValueError when the segmentation was not made on the volume: no overlap at all
    (unrelated geometry, e.g. a label map from another scan), voxels that are not the volume's
    voxels (spacing, directions, origin off the grid, or lying partly outside), or a segmentation
    read from DICOM SEG that does not reference the volume's series. Returns None (a warning text
    in earlier versions)."""
    dicomSegmentation.checkReferencesVolume(segmentationNode, volumeNode)
    segmentationBounds = _rasBounds(segmentationNode)
    volumeBounds = _rasBounds(volumeNode)
    for axis in range(3):
        low = max(segmentationBounds[2 * axis], volumeBounds[2 * axis])
        high = min(segmentationBounds[2 * axis + 1], volumeBounds[2 * axis + 1])
        if high <= low:
            raise ValueError(
                f"Segmentation '{segmentationNode.GetName()}' does not overlap volume '{volumeNode.GetName()}' in patient "
                f"space (RAS bounds {_formatBounds(segmentationBounds)} vs {_formatBounds(volumeBounds)}): "
                "expected a segmentation made on this volume"
            )
    disagreement = gridDisagreement(segmentationNode, volumeNode)
    if disagreement:
        raise ValueError(
            f"Segmentation '{segmentationNode.GetName()}' does not lie on the voxel grid of volume '{volumeNode.GetName()}': "
            f"{disagreement}: expected a segmentation made on this volume"
        )
    return None


def _formatBounds(bounds):
    return "[" + ", ".join(f"{value:.1f}" for value in bounds) + "]"
