"""What the parenchyma-sparing analysis puts into the scene: the tumour and plan tables, the
resection areas of a margin plan and the vessel contacts as segments for the 3D view. The segments
are drawn from a plan and findings already measured (addSparingSegments), so that they show what
the tables show; addMarginSegments measures both first, for a caller that has not."""

import numpy as np

from ..planning.landmarkSegments import METHOD_TAG
from ..planning.planDisplay import RESECTED_COLOR, RESECTED_OPACITY
from ..results.resultsTable import thresholdAttributes, writeTableRows
from ..segments.segmentationImport import importLabelArray
from ..segments.segmentVolumes import VOLUME_METHOD
from . import marginVolumetry, tumourVesselAnalysis
from .sparingInputs import CONTACT_DISTANCE_MM, DEFAULT_MARGIN_MM, GENERATED_TAG, SECTION_9_SOURCE, isGenerated, marginText
from .sparingResults import DEFINITIONS, comparisonTableRows, findingsTableRows

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
    vesselSegmentIds=None,
    contactDistanceMm=CONTACT_DISTANCE_MM,
):
    """Measure the margin plan of ``marginMm`` and the tumour findings, and add their segments
    (see addSparingSegments, which takes both when they are already measured)."""
    result = marginVolumetry.marginPlan(segmentationNode, marginMm, settings)
    analysis = tumourVesselAnalysis.analyseTumours(segmentationNode, vesselSegmentIds, contactDistanceMm)
    return addSparingSegments(segmentationNode, result, analysis)


def addSparingSegments(segmentationNode, marginPlanResult, analysis):
    """Add the resection areas of a measured margin plan (marginVolumetry.MarginPlanResult) as
    segments 'Resection area 1 (1 mm margin)', ... (red, translucent in 3D) and, when a tumour
    touches a major vessel (tumourVesselAnalysis.TumourAnalysis), a segment 'Vessel contact
    (<= 1 mm)' holding the tumour voxels within the contact distance (opaque red: the contact
    surface to look at in 3D).

    Segments added by an earlier call (tag ALPPS.ParenchymaSparing) are replaced; a segment of
    the same name that this function did not add is refused (ValueError), never duplicated.
    Returns ``{'areas': [segment IDs], 'contact': segment ID or None, 'plan': MarginPlanResult,
    'findings': [TumourFinding]}``.
    """
    findings = analysis.findings
    contactMm = analysis.contactDistanceMm
    segmentation = segmentationNode.GetSegmentation()
    names = [area.name for area in marginPlanResult.areas] + [contactSegmentName(contactMm)]
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

    margin = marginPlanResult.marginMm
    method = (
        f"parenchyma-sparing margin {marginText(margin)}: voxels within {marginText(margin)} of the painted tumour "
        f"(distance map, physical spacing), clipped to the liver ({marginPlanResult.liverDefinition}); one area per connected "
        "component (26-connectivity)"
    )
    areaNames = {area.number: area.name for area in marginPlanResult.areas}
    imported = importLabelArray(
        segmentationNode,
        marginPlanResult.areaLabels.labels.astype(np.int16),
        marginPlanResult.areaLabels.ijkToRAS,
        areaNames,
        {number: AREA_COLOR for number in areaNames},
    )
    displayNode = segmentationNode.GetDisplayNode()
    areaIds = []
    for area in marginPlanResult.areas:
        segmentId = imported[area.number]
        segment = segmentation.GetSegment(segmentId)
        segment.SetTag(GENERATED_TAG, "resection area")
        segment.SetTag(METHOD_TAG, method + f"; tumours: {', '.join(area.tumours)}")
        segment.SetTag(PLAN_TAG, marginPlanResult.plan.key)
        segment.SetColor(*AREA_COLOR)
        if displayNode is not None:
            displayNode.SetSegmentOpacity3D(segmentId, RESECTED_OPACITY)
        areaIds.append(segmentId)

    contactId = None
    if analysis.contactLabels is not None:
        vessels = sorted({distance.vessel for finding in findings for distance in finding.contacts})
        contactName = contactSegmentName(contactMm)
        contact = analysis.contactLabels
        contactId = importLabelArray(segmentationNode, contact.labels, contact.ijkToRAS, {1: contactName}, {1: CONTACT_COLOR})[1]
        segment = segmentation.GetSegment(contactId)
        segment.SetTag(GENERATED_TAG, "vessel contact")
        segment.SetTag(
            METHOD_TAG,
            f"tumour voxels whose box lies within {contactMm:g} mm of the painted {', '.join(vessels)} ({SECTION_9_SOURCE})",
        )
        segment.SetColor(*CONTACT_COLOR)
        if displayNode is not None:
            displayNode.SetSegmentOpacity3D(contactId, 1.0)
    return {"areas": areaIds, "contact": contactId, "plan": marginPlanResult, "findings": findings}
