"""Decisions of the TotalSegmentator button, without Qt: which task fits the scan, and whether a
failed set-up asks for a restart (TotalSegmentator's own panel offers one in that case)."""

import slicer

# TotalSegmentator's Couinaud segment tasks: "liver_segments" is trained on CT, "liver_segments_mr" on MR.
TASK_BY_MODALITY = {"CT": "liver_segments", "MR": "liver_segments_mr"}


def scanModality(volumeNode):
    """The DICOM modality Slicer's DICOM loading stores on the volume's series item ('CT', 'MR'), or ''."""
    scene = volumeNode.GetScene() if volumeNode is not None else None
    if scene is None:
        return ""
    shNode = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    itemID = shNode.GetItemByDataNode(volumeNode) if shNode else 0
    if not itemID:
        return ""
    return (shNode.GetItemAttribute(itemID, slicer.vtkMRMLSubjectHierarchyConstants.GetDICOMSeriesModalityAttributeName()) or "").strip().upper()


def taskForModality(modality):
    """The task for a modality, or None when it is neither CT nor MR (then the user is asked)."""
    return TASK_BY_MODALITY.get((modality or "").strip().upper())


def restartRequired(error):
    """TotalSegmentator's setupPythonRequirements raises its InstallError with restartRequired=True
    when the packages it installed are only usable after a restart."""
    return bool(getattr(error, "restartRequired", False))
