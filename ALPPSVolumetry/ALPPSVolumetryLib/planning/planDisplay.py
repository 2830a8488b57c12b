"""A resection plan made visible: remnant and resected liver as a segmentation of their own,
coloured for the 3D view, leaving the user's segmentation untouched."""

from ..segments.liverComposition import LiverComposition
from ..segments.segmentationImport import importMaskArrays
from ..segments.segmentRecognition import SegmentRoles

REMNANT_COLOR = (0.20, 0.78, 0.35)
RESECTED_COLOR = (0.85, 0.25, 0.25)
RESECTED_OPACITY = 0.35


def planSegmentationName(segmentationNode, plan):
    return f"{segmentationNode.GetName()} - {plan.label}"


def showPlan(segmentationNode, plan):
    """Create (or refresh) the segmentation '<segmentation> - <plan>' holding 'Remnant (FLR)' and
    'Resected' segments, with the resected part translucent; returns it."""
    composition = LiverComposition(segmentationNode, SegmentRoles(segmentationNode))
    remnantBits = composition.unitsOf(plan.remnantSegments)
    allBits = composition.allUnitBits
    (remnant, resected), ijkToRAS = composition.masks(
        [lambda p: (p & remnantBits) != 0, lambda p: ((p & allBits) != 0) & ((p & remnantBits) == 0)]
    )
    scene = segmentationNode.GetScene()
    name = planSegmentationName(segmentationNode, plan)
    planNode = scene.GetFirstNode(name, "vtkMRMLSegmentationNode")
    if planNode is None:
        planNode = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", name)
        planNode.CreateDefaultDisplayNodes()
    planNode.GetSegmentation().RemoveAllSegments()
    masks = {"Remnant (FLR)": remnant}
    if resected.any():
        masks["Resected"] = resected
    segmentIds = importMaskArrays(planNode, masks, ijkToRAS, {"Remnant (FLR)": REMNANT_COLOR, "Resected": RESECTED_COLOR})
    for segmentId in segmentIds.values():
        planNode.GetSegmentation().GetSegment(segmentId).SetTag("ALPPS.Plan", plan.key)
    displayNode = planNode.GetDisplayNode()
    if "Resected" in segmentIds:
        displayNode.SetSegmentOpacity3D(segmentIds["Resected"], RESECTED_OPACITY)
    planNode.SetAttribute("ALPPS.SourceSegmentation", segmentationNode.GetID())
    planNode.SetAttribute("ALPPS.Plan", plan.key)
    return planNode


OUTLINE_THICKNESS = 3


def showPlanOutline(segmentationNode, plan):
    """The plan's remnant (green) and resected liver (red) as outlines in the slice views, over
    whatever is shown beneath (a functional overlay): the plan segmentation of ``showPlan`` with
    its 2-D fill off. Returns it."""
    planNode = showPlan(segmentationNode, plan)
    displayNode = planNode.GetDisplayNode()
    displayNode.SetVisibility2DFill(False)
    displayNode.SetVisibility2DOutline(True)
    displayNode.SetSliceIntersectionThickness(OUTLINE_THICKNESS)
    displayNode.SetVisibility(True)
    return planNode
