"""What the parenchyma-sparing analysis puts into the scene: the tumour and plan tables, the
resection areas of a margin plan and the vessel contacts as segments for the 3D view."""

import numpy as np

from .. import futureLiverRemnant
from ..landmarkSegments import METHOD_TAG
from ..planDisplay import RESECTED_COLOR, RESECTED_OPACITY
from ..resultsTable import thresholdAttributes, writeTableRows
from ..segmentationImport import importLabelArray
from ..segmentRecognition import SegmentRoles
from ..segmentVolumes import VOLUME_METHOD
from .marginGeometry import MarginGeometry
from .marginVolumetry import _marginPlanResult
from .segmentBoxes import boxShape, boxSlices, boxUnion
from .sparingInputs import (
    CONTACT_DISTANCE_MM,
    DEFAULT_MARGIN_MM,
    GENERATED_TAG,
    SECTION_9_SOURCE,
    checkedContactDistance,
    isGenerated,
    marginText,
)
from .sparingResults import DEFINITIONS, comparisonTableRows, findingsTableRows
from .tumourVesselAnalysis import analyseTumours

PLAN_TAG = "ALPPS.Plan"
CONTACT_COLOR = (1.0, 0.0, 0.0)
AREA_COLOR = RESECTED_COLOR


def writeFindingsTable(tableNode, findings):
    columns, rows = findingsTableRows(findings)
    contact = findings[0].contactDistanceMm if findings else CONTACT_DISTANCE_MM
    return writeTableRows(
        tableNode,
        columns,
        rows,
        {"ALPPS.ContactDistanceMm": repr(contact), "ALPPS.ContactSource": SECTION_9_SOURCE, "ALPPS.VolumeMethod": VOLUME_METHOD},
    )


def writeComparisonTable(tableNode, comparison):
    columns, rows = comparisonTableRows(comparison)
    settings = comparison.volumetry.settings
    attributes = dict(thresholdAttributes(settings), **{"ALPPS.MarginMethod": DEFINITIONS["marginVolume"][2]})
    return writeTableRows(tableNode, columns, rows, attributes)


def contactSegmentName(contactDistanceMm):
    return f"Vessel contact (<= {contactDistanceMm:g} mm)"


def addMarginSegments(
    segmentationNode,
    marginMm=DEFAULT_MARGIN_MM,
    settings=None,
    roleOverrides=None,
    vesselSegmentIds=None,
    contactDistanceMm=CONTACT_DISTANCE_MM,
):
    """Add the resection areas of the margin plan as segments 'Resection area 1 (1 mm margin)',
    ... (red, translucent in 3D) and, when a tumour touches a major vessel, a segment
    'Vessel contact (<= 1 mm)' holding the tumour voxels within the contact distance (opaque
    red: the contact surface to look at in 3D).

    Segments added by an earlier call (tag ALPPS.ParenchymaSparing) are replaced; a segment of
    the same name that this function did not add is refused (ValueError), never duplicated.
    Returns ``{'areas': [segment IDs], 'contact': segment ID or None, 'plan': MarginPlanResult,
    'findings': [TumourFinding]}``.
    """
    roles = SegmentRoles(segmentationNode, roleOverrides)
    geometry = MarginGeometry(segmentationNode, marginMm, roles)
    result = _marginPlanResult(segmentationNode, geometry, settings or futureLiverRemnant.VolumetrySettings())
    findings, contactMasks, findingsGrid = analyseTumours(segmentationNode, vesselSegmentIds, contactDistanceMm, roleOverrides)
    contactMm = checkedContactDistance(contactDistanceMm)
    segmentation = segmentationNode.GetSegmentation()
    names = [area.name for area in result.areas] + [contactSegmentName(contactMm)]
    generated = [segmentId for segmentId in segmentation.GetSegmentIDs() if isGenerated(segmentation.GetSegment(segmentId))]
    clashing = [
        f"'{segmentation.GetSegment(segmentId).GetName()}'"
        for segmentId in segmentation.GetSegmentIDs()
        if segmentId not in generated and segmentation.GetSegment(segmentId).GetName() in names
    ]
    if clashing:
        raise ValueError(
            f"Segmentation '{segmentationNode.GetName()}' already has segment(s) {', '.join(clashing)} that were not made by "
            "the parenchyma-sparing plan: rename or remove them first (they would be counted twice)"
        )
    for segmentId in generated:
        segmentation.RemoveSegment(segmentId)

    margin = geometry.marginMm
    method = (
        f"parenchyma-sparing margin {marginText(margin)}: voxels within {marginText(margin)} of the painted tumour "
        f"(distance map, physical spacing), clipped to the liver ({geometry.liverDefinition}); one area per connected "
        "component (26-connectivity)"
    )
    grid = geometry.grid
    areaNames = {area.number: area.name for area in result.areas}
    imported = importLabelArray(
        segmentationNode,
        geometry.areaLabels.astype(np.int16),
        grid.boxIjkToRAS(geometry.box),
        areaNames,
        {number: AREA_COLOR for number in areaNames},
    )
    displayNode = segmentationNode.GetDisplayNode()
    areaIds = []
    for area in result.areas:
        segmentId = imported[area.number]
        segment = segmentation.GetSegment(segmentId)
        segment.SetTag(GENERATED_TAG, "resection area")
        segment.SetTag(METHOD_TAG, method + f"; tumours: {', '.join(area.tumours)}")
        segment.SetTag(PLAN_TAG, result.plan.key)
        segment.SetColor(*AREA_COLOR)
        if displayNode is not None:
            displayNode.SetSegmentOpacity3D(segmentId, RESECTED_OPACITY)
        areaIds.append(segmentId)

    contactId = None
    if any(mask.any() for mask, _ in contactMasks):
        box = contactMasks[0][1]
        for _, tumourBox in contactMasks[1:]:
            box = boxUnion(box, tumourBox)
        contact = np.zeros(boxShape(box), dtype=np.int16)
        for mask, tumourBox in contactMasks:
            contact[boxSlices(tumourBox, box)][mask] = 1
        vessels = sorted({distance.vessel for finding in findings for distance in finding.contacts})
        contactName = contactSegmentName(contactMm)
        contactId = importLabelArray(segmentationNode, contact, findingsGrid.boxIjkToRAS(box), {1: contactName}, {1: CONTACT_COLOR})[1]
        segment = segmentation.GetSegment(contactId)
        segment.SetTag(GENERATED_TAG, "vessel contact")
        segment.SetTag(
            METHOD_TAG,
            f"tumour voxels whose box lies within {contactMm:g} mm of the painted {', '.join(vessels)} ({SECTION_9_SOURCE})",
        )
        segment.SetColor(*CONTACT_COLOR)
        if displayNode is not None:
            displayNode.SetSegmentOpacity3D(contactId, 1.0)
    return {"areas": areaIds, "contact": contactId, "plan": result, "findings": findings}
