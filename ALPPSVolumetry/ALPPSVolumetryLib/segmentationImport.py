"""Volumes and segmentations made from numpy arrays, on an explicit grid, in a given scene."""

import numpy as np
import slicer

from .imageGrid import setVolumeNodeArray


def addVolumeFromArray(scene, name, voxels, ijkToRAS, labelmap=False):
    """Add a scalar (or labelmap) volume node holding ``voxels`` on the given grid."""
    className = "vtkMRMLLabelMapVolumeNode" if labelmap else "vtkMRMLScalarVolumeNode"
    volumeNode = scene.AddNewNodeByClass(className, name)
    setVolumeNodeArray(volumeNode, voxels, ijkToRAS)
    volumeNode.CreateDefaultDisplayNodes()
    return volumeNode


def _colorTableForLabels(scene, labelNames, labelColors):
    colorNode = scene.AddNewNodeByClass("vtkMRMLColorTableNode", "__alpps_import_colors__")
    colorNode.SetTypeToUser()
    colorNode.SetNumberOfColors(max(labelNames) + 1)
    colorNode.SetColor(0, "background", 0.0, 0.0, 0.0, 0.0)
    for value, name in labelNames.items():
        red, green, blue = labelColors.get(value, (0.8, 0.8, 0.8))
        colorNode.SetColor(value, name, red, green, blue, 1.0)
    return colorNode


def importLabelArray(segmentationNode, labels, ijkToRAS, labelNames, labelColors=None):
    """Import one label array (values not listed in ``labelNames`` are ignored) into
    ``segmentationNode``, one segment per listed label value, named as given.

    Returns ``{labelValue: segmentId}``. Slicer names imported segments after the labelmap's
    colour table, so a table with the intended names is set first; without it the segments
    would be called 'Label_1', ... (or get the generic anatomy names of the default table).
    """
    scene = segmentationNode.GetScene()
    labels = np.asarray(labels)
    present = set(np.unique(labels).tolist())
    wanted = {int(value): name for value, name in labelNames.items()}
    missing = sorted(set(wanted) - present)
    if missing:
        raise ValueError(
            f"Label values {missing} ({', '.join(wanted[v] for v in missing)}) are absent from the label map "
            f"imported into '{segmentationNode.GetName()}': every listed label must have voxels"
        )
    kept = np.where(np.isin(labels, list(wanted)), labels, 0).astype(np.int16)
    labelmapNode = addVolumeFromArray(scene, "__alpps_import_labels__", kept, ijkToRAS, labelmap=True)
    colorNode = _colorTableForLabels(scene, wanted, labelColors or {})
    try:
        labelmapNode.GetDisplayNode().SetAndObserveColorNodeID(colorNode.GetID())
        segmentation = segmentationNode.GetSegmentation()
        before = set(segmentation.GetSegmentIDs())
        if not slicer.vtkSlicerSegmentationsModuleLogic.ImportLabelmapToSegmentationNode(labelmapNode, segmentationNode):
            raise RuntimeError(f"Slicer could not import the label map into '{segmentationNode.GetName()}'")
        added = [segmentId for segmentId in segmentation.GetSegmentIDs() if segmentId not in before]
        byName = {segmentation.GetSegment(segmentId).GetName(): segmentId for segmentId in added}
        return {value: byName[name] for value, name in wanted.items()}
    finally:
        scene.RemoveNode(labelmapNode)
        scene.RemoveNode(colorNode)


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
