"""What the ALPPS Volumetry panel shows, decided without Qt so that it is tested headless: which
buttons are enabled (and why not), the rows of the segment role table, a role correction, and the
warnings line. The panel reads its parameter node, calls these and displays the answer."""

import json
from dataclasses import dataclass
from typing import Optional

from .segments import segmentRecognition


@dataclass(frozen=True)
class ButtonState:
    enabled: bool
    toolTip: Optional[str] = None  # None: keep the tooltip of the .ui file


def buttonStates(hasSegmentation, hasSourceVolume, hasPlanToShow, hasLandmarks, hasTransection, hasRemnantPoint):
    """{button name in the .ui: ButtonState}."""
    return {
        "computeVolumesButton": ButtonState(
            hasSegmentation, "Measure every segment and every selected plan" if hasSegmentation else "Select a segmentation first"),
        "openSegmentEditorButton": ButtonState(hasSegmentation),
        "showPlanButton": ButtonState(hasSegmentation and hasPlanToShow),
        "totalSegmentatorButton": ButtonState(hasSourceVolume),
        "segmentsFromLandmarksButton": ButtonState(hasSegmentation and hasLandmarks),
        "transectionButton": ButtonState(hasSegmentation and hasTransection and hasRemnantPoint),
    }


def proposedInputs(scene):
    """(scan, segmentation) the panel proposes when none is chosen: the first of each that its
    selector lists. The scan selector lists scalar volumes only, not their subclasses (a label map
    is a scalar volume to VTK's IsA, but never the CT to measure), and no hidden node."""
    def first(className):
        for index in range(scene.GetNumberOfNodes()):
            node = scene.GetNthNode(index)
            if node.GetClassName() == className and not node.GetHideFromEditors():
                return node
        return None

    return first("vtkMRMLScalarVolumeNode"), first("vtkMRMLSegmentationNode")


# Attribute of the plan table naming the computed plans (saved with the scene), so that a reloaded
# scene offers them for display again.
PLAN_KEYS_ATTRIBUTE = "ALPPS.PlanKeys"


def rememberPlanKeys(planTableNode, planKeys):
    planTableNode.SetAttribute(PLAN_KEYS_ATTRIBUTE, json.dumps(list(planKeys)))


def planKeysOfTable(planTableNode):
    """The plan keys a plan table was computed for; [] without a table or for an older one."""
    text = planTableNode.GetAttribute(PLAN_KEYS_ATTRIBUTE) if planTableNode is not None else None
    try:
        keys = json.loads(text) if text else []
    except ValueError:
        return []
    return [str(key) for key in keys] if isinstance(keys, list) else []


def plansToOffer(computedPlanKeys, chosenPlanKey):
    """(plan keys offered for display, the one shown): the plans last computed; the chosen plan
    stays chosen while it is among them, otherwise the first is."""
    keys = list(computedPlanKeys)
    return keys, (chosenPlanKey if chosenPlanKey in keys else (keys[0] if keys else ""))


def segmentRoleRows(segmentationNode):
    """(segment ID, name, recognised role, role used) per segment; [] without a segmentation."""
    if segmentationNode is None:
        return []
    return segmentRecognition.SegmentRoles(segmentationNode).asRows()


# Parameter-node fields holding results computed for the selected segmentation.
RESULT_TABLE_FIELDS = ("segmentVolumeTable", "couinaudTable", "planTable", "transectionTable", "tumourTable", "sparingPlanTable")
# A result table refers to the segmentation it was computed for (saved with the scene).
RESULTS_OF_REFERENCE = "ALPPS.resultsOf"
RESULT_FIELD_ATTRIBUTE = "ALPPS.ResultTable"


def tagResultTable(tableNode, field, segmentationNode):
    """Mark a result table as the ``field`` results of ``segmentationNode``."""
    tableNode.SetAttribute(RESULT_FIELD_ATTRIBUTE, field)
    tableNode.SetNodeReferenceID(RESULTS_OF_REFERENCE, segmentationNode.GetID())


def resultTablesOf(scene, segmentationNode):
    """{field: the table computed for ``segmentationNode``, or None}: what the panel shows for it, so
    that one segmentation's results are neither shown beside nor overwritten by another's."""
    tables = {field: None for field in RESULT_TABLE_FIELDS}
    if segmentationNode is None:
        return tables
    for index in range(scene.GetNumberOfNodesByClass("vtkMRMLTableNode")):
        table = scene.GetNthNodeByClass(index, "vtkMRMLTableNode")
        field = table.GetAttribute(RESULT_FIELD_ATTRIBUTE)
        if field in tables and table.GetNodeReference(RESULTS_OF_REFERENCE) is segmentationNode:
            tables[field] = table
    return tables


def volumetryWarnings(result):
    """The warnings line under the results: the volumetry's, then each plan's."""
    return "\n".join(list(result.warnings) + [warning for plan in result.plans for warning in plan.warnings])
