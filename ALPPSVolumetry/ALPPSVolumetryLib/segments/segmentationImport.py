"""Volumes and segmentations made from numpy arrays, on an explicit grid, in a given scene."""

import numpy as np
import slicer
from vtkmodules.util import numpy_support
from vtkmodules.vtkCommonMath import vtkMatrix4x4

from ..imageGrid import setVolumeNodeArray, vtkMatrixFromArray
from .labelCounting import labelCounts

# Colour of a segment given none (Slicer's grey for labels its colour table does not name).
_DEFAULT_COLOR = (0.8, 0.8, 0.8)


def addVolumeFromArray(scene, name, voxels, ijkToRAS, labelmap=False):
    """Add a scalar (or labelmap) volume node holding ``voxels`` on the given grid."""
    className = "vtkMRMLLabelMapVolumeNode" if labelmap else "vtkMRMLScalarVolumeNode"
    volumeNode = scene.AddNewNodeByClass(className, name)
    setVolumeNodeArray(volumeNode, voxels, ijkToRAS)
    volumeNode.CreateDefaultDisplayNodes()
    return volumeNode


# Layers hold 16-bit labels, as Slicer's import of a label map made them (a .seg.nrrd saved from
# the segmentation keeps that type); 32 bits only beyond 32767 labels.
_LABEL_TYPES = (np.int16, np.int32)
# Label values up to this are renumbered through a table indexed by value; larger ones by search.
_TABLE_LABEL_LIMIT = 1 << 16


def _numberer(numberOf, dtype):
    """A function giving, for an array of label values, the label numbers of ``numberOf``
    ({label value: number}; other values 0) as ``dtype``."""
    values = np.array(sorted(numberOf), dtype=np.int64)
    numbers = np.array([numberOf[value] for value in values.tolist()], dtype=dtype)
    if values[-1] < _TABLE_LABEL_LIMIT:
        # One more entry, 0, than the largest listed value: with mode="clip" every value beyond
        # the table (and every negative one, on entry 0) gets number 0.
        table = np.zeros(int(values[-1]) + 2, dtype=dtype)
        table[values] = numbers

        def numbered(part):
            if part.dtype.kind not in "iu":
                part = part.astype(np.int64)  # whole numbers (checked) stored as float, or masks
            return np.take(table, part, mode="clip")

        return numbered

    def numberedBySearch(part):
        index = np.minimum(np.searchsorted(values, part), values.size - 1)
        return np.where(values[index] == part, numbers[index], 0).astype(dtype)

    return numberedBySearch


def _boundingBox(labels, numbered=None):
    """(k, j, i) slices of the smallest box holding every listed voxel (every non-zero voxel, or
    where ``numbered`` gives a number), or None when there is none: Slicer's effective extent."""
    if numbered is None and labels.dtype.kind in "iub":
        slices = labels.reshape(labels.shape[0], -1).any(axis=1)
        present = np.flatnonzero(slices)
        if present.size == 0:
            return None
        k0, k1 = int(present[0]), int(present[-1]) + 1
        plane = np.bitwise_or.reduce(labels[k0:k1], axis=0) if labels.dtype != bool else np.logical_or.reduce(labels[k0:k1], axis=0)
    else:
        plane, slices = np.zeros(labels.shape[1:], dtype=bool), []
        for part in labels:
            listed = numbered(part) != 0
            slices.append(bool(listed.any()))
            if slices[-1]:
                plane |= listed
        present = np.flatnonzero(slices)
        if present.size == 0:
            return None
        k0, k1 = int(present[0]), int(present[-1]) + 1
    rows, columns = np.flatnonzero(plane.any(axis=1)), np.flatnonzero(plane.any(axis=0))
    return slice(k0, k1), slice(int(rows[0]), int(rows[-1]) + 1), slice(int(columns[0]), int(columns[-1]) + 1)


def importLabelValues(segmentationNode, labels, ijkToRAS, segments, presentValues=None, firstSlice=0):
    """Import label array ``labels`` ([k, j, i], on the grid of the 4x4 IJK-to-RAS matrix) into
    ``segmentationNode`` as one shared labelmap layer, the way Slicer's label map import builds it:
    cropped to the labelled voxels (Slicer's effective extent) and one segment per label, added in
    the order given. ``segments``: [(label value in ``labels``, label number in the layer, segment
    name, colour)]; voxels of other values are left out. ``presentValues``: the label values the
    array holds, when already counted. ``firstSlice``: the grid index of the first slice of
    ``labels`` (a label map read without its empty slices). Returns {label value: segmentId}.

    The layer is written straight from ``labels``, a slice at a time: no full-size copy, no
    intermediate volume node, and no pass per label as Slicer's import makes.
    """
    labels = np.asarray(labels)
    if labels.ndim == 2:
        labels = labels[np.newaxis]
    wanted = {int(value): name for value, _, name, _ in segments}
    negative = labels.dtype.kind == "i" and labels.size and labels.min() < 0
    if presentValues is None:
        # Negative values are never listed labels: counted as background, and the layer is then
        # cropped to the listed labels.
        presentValues = labelCounts(np.maximum(labels, 0) if negative else labels)
    present = set(presentValues)
    missing = sorted(set(wanted) - present)
    if missing:
        raise ValueError(
            f"Label values {missing} ({', '.join(wanted[v] for v in missing)}) are absent from the label map "
            f"imported into '{segmentationNode.GetName()}': every listed label must have voxels"
        )
    numberOf = {int(value): int(number) for value, number, _, _ in segments}
    dtype = next(kind for kind in _LABEL_TYPES if max(numberOf.values()) <= np.iinfo(kind).max)
    numbered = _numberer(numberOf, dtype)
    unlisted = negative or any(value and value not in numberOf for value in present)
    box = _boundingBox(labels, numbered if unlisted else None)
    if box is None:
        raise ValueError(f"The label map imported into '{segmentationNode.GetName()}' has no voxels of the listed labels")
    layer = slicer.vtkOrientedImageData()
    layer.SetExtent(box[2].start, box[2].stop - 1, box[1].start, box[1].stop - 1, firstSlice + box[0].start, firstSlice + box[0].stop - 1)
    layer.AllocateScalars(numpy_support.get_vtk_array_type(np.dtype(dtype)), 1)
    target = numpy_support.vtk_to_numpy(layer.GetPointData().GetScalars()).reshape(
        box[0].stop - box[0].start, box[1].stop - box[1].start, box[2].stop - box[2].start
    )
    for index, k in enumerate(range(box[0].start, box[0].stop)):
        target[index] = numbered(labels[k, box[1], box[2]])
    # The matrix as a volume node holds it (directions and spacing kept apart), as Slicer's
    # import reads it from the label map node: the same voxel volume to the last digit.
    volumeNode = slicer.vtkMRMLLabelMapVolumeNode()
    volumeNode.SetIJKToRASMatrix(vtkMatrixFromArray(ijkToRAS))
    matrix = vtkMatrix4x4()
    volumeNode.GetIJKToRASMatrix(matrix)
    layer.SetGeometryFromImageToWorldMatrix(matrix)
    if not segmentationNode.GetDisplayNode():
        segmentationNode.CreateDefaultDisplayNodes()
    segmentation = segmentationNode.GetSegmentation()
    labelmapName = slicer.vtkSegmentationConverter.GetSegmentationBinaryLabelmapRepresentationName()
    segmentIds = {}
    wasModifying = segmentationNode.StartModify()
    try:
        for value, number, name, color in segments:
            segment = slicer.vtkSegment()
            segment.SetName(name)
            segment.SetColor(*color)
            segment.SetLabelValue(int(number))
            segment.AddRepresentation(labelmapName, layer)
            if not segmentation.AddSegment(segment):
                raise RuntimeError(f"Slicer could not add segment '{name}' to '{segmentationNode.GetName()}'")
            segmentIds[int(value)] = segmentation.GetSegmentIdBySegment(segment)
    finally:
        segmentationNode.EndModify(wasModifying)
    return segmentIds


def importLabelArray(segmentationNode, labels, ijkToRAS, labelNames, labelColors=None):
    """Import one label array (values not listed in ``labelNames`` are ignored) into
    ``segmentationNode``, one segment per listed label value, named as given, in the order of
    the label values (as Slicer's label map import orders them).

    Returns ``{labelValue: segmentId}``.
    """
    labelColors = labelColors or {}
    segments = [(int(value), int(value), labelNames[value], labelColors.get(value, _DEFAULT_COLOR)) for value in sorted(labelNames)]
    return importLabelValues(segmentationNode, labels, ijkToRAS, segments)


def importMaskArrays(segmentationNode, masks, ijkToRAS, colors=None):
    """Import boolean masks (which may overlap each other) as segments; returns {name: segmentId}.

    Masks that do not overlap are packed into one label array, so Slicer can keep them in a
    shared layer; overlapping ones go to further imports and Slicer puts them in other layers.
    """
    colors = colors or {}
    pending = list(masks.items())
    segmentIds = {}
    while pending:
        labels = None
        names, labelColors, deferred = {}, {}, []
        for name, mask in pending:
            if labels is None:
                labels = np.zeros(mask.shape, dtype=np.int16)
            if np.any(labels[mask]):
                deferred.append((name, mask))
                continue
            value = len(names) + 1
            labels[mask] = value
            names[value] = name
            labelColors[value] = colors.get(name, (0.8, 0.8, 0.8))
        imported = importLabelArray(segmentationNode, labels, ijkToRAS, names, labelColors)
        segmentIds.update({names[value]: segmentId for value, segmentId in imported.items()})
        pending = deferred
    return segmentIds
