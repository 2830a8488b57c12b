"""What the ALPPS Volumetry panel shows, decided without Qt so that it is tested headless: which
buttons are enabled (and why not), the rows of the segment role table, a role correction, and the
warnings line. The panel reads its parameter node, calls these and displays the answer."""

import json
from dataclasses import dataclass
from typing import Optional

from . import segmentRecognition, volumetryWorkflow


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


def segmentRoleRows(segmentationNode, overridesText):
    """(segment ID, name, recognised role, role used) per segment; [] without a segmentation."""
    if segmentationNode is None:
        return []
    overrides = volumetryWorkflow.roleOverridesFromText(overridesText)
    return [
        (segmentId, name, recognized, overrides.get(segmentId, role))
        for segmentId, name, recognized, role in segmentRecognition.SegmentRoles(segmentationNode).asRows()
    ]


def correctedRoles(overridesText, segmentId, role):
    """The stored corrections with ``segmentId`` given ``role``; ValueError naming the known roles."""
    role = role.strip()
    if role not in segmentRecognition.ROLES:
        raise ValueError(f"Role '{role}' is unknown: expected one of {', '.join(segmentRecognition.ROLES)}")
    overrides = volumetryWorkflow.roleOverridesFromText(overridesText)
    overrides[segmentId] = role
    return json.dumps(overrides)


def volumetryWarnings(result):
    """The warnings line under the results: the volumetry's, then each plan's."""
    return "\n".join(list(result.warnings) + [warning for plan in result.plans for warning in plan.warnings])
