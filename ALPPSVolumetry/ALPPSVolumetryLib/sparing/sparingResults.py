"""The parenchyma-sparing findings and plans as table rows and as JSON, with the definition of
each quantity."""

from vtkmodules.vtkCommonCore import vtkDoubleArray, vtkStringArray

from ..planning import futureLiverRemnant
from ..results.resultFields import jsonNumbers, PLAN_FIELDS
from ..results.resultsTable import numberOrNaN
from ..segments.segmentVolumes import VOLUME_METHOD
from .marginVolumetry import LAPAROSCOPIC_SOURCE
from .sparingInputs import SECTION_9_SOURCE

DEFINITIONS = {
    "volumeMl": ("Tumour volume", "mL", VOLUME_METHOD),
    "largestDiameterMm": (
        "Largest diameter",
        "mm",
        (
            "largest 3D distance between two tumour voxel centres (exact, over the convex hull's candidate vertices); "
            "short of the true diameter by under one voxel diagonal at each end"
        ),
    ),
    "couinaudSegments": ("Segment(s)", "", "Couinaud segments the tumour overlaps, largest share first"),
    "distanceMm": (
        "Distance to vessel",
        "mm",
        (
            "shortest distance between the painted tumour and vessel voxels (boxes), 0 when touching or overlapping; "
            "vessel distance map (physical spacing) on the tumour dilated by one voxel; within one voxel diagonal of the true gap"
        ),
    ),
    "centreDistanceMm": ("Centre distance to vessel", "mm", "shortest distance between tumour and vessel voxel centres"),
    "contact": ("Vessel contact", "", f"distance <= the contact distance (1 mm by default; {SECTION_9_SOURCE})"),
    "marginVolume": (
        "Margin volume",
        "mL",
        (
            "voxels whose centre lies within the margin of the painted tumour (distance map on a half-spacing lattice), "
            "clipped to the liver"
        ),
    ),
    "resectionAreas": ("Resection areas", "", "connected components (26-connectivity) of the union of the margin volumes"),
    "laparoscopic": ("Laparoscopic guidance", "", LAPAROSCOPIC_SOURCE),
}


def _distanceText(distance):
    return f"{distance.vessel} {distance.distanceMm:.1f} mm" + (" (contact)" if distance.contact else "")


def findingsTableRows(findings):
    """(columns, rows) for resultsTable.writeTableRows: one row per tumour, one distance column per
    vessel (in the order of the first finding)."""
    vessels = []
    for finding in findings:
        for distance in finding.vesselDistances:
            if distance.vessel not in vessels:
                vessels.append(distance.vessel)
    columns = [
        ("Tumour", vtkStringArray, "", "Tumour segment"),
        ("Volume", vtkDoubleArray, "mL", DEFINITIONS["volumeMl"][2]),
        ("Largest diameter", vtkDoubleArray, "mm", DEFINITIONS["largestDiameterMm"][2]),
        ("Segments", vtkStringArray, "", DEFINITIONS["couinaudSegments"][2]),
        ("Outside liver", vtkDoubleArray, "mL", "Tumour voxels in no liver segment"),
    ]
    columns += [(f"Distance to {vessel}", vtkDoubleArray, "mm", DEFINITIONS["distanceMm"][2]) for vessel in vessels]
    columns += [
        ("Vessel contact", vtkStringArray, "", DEFINITIONS["contact"][2]),
        ("Warnings", vtkStringArray, "", "What to check about this tumour's numbers"),
    ]
    rows = []
    for finding in findings:
        byVessel = {distance.vessel: distance.distanceMm for distance in finding.vesselDistances}
        rows.append(
            (finding.name, finding.volumeMl, finding.largestDiameterMm, ", ".join(finding.couinaudSegments), finding.outsideLiverMl)
            + tuple(numberOrNaN(byVessel.get(vessel)) for vessel in vessels)
            + ("; ".join(_distanceText(distance) for distance in finding.contacts) or "none", "; ".join(finding.warnings))
        )
    return columns, rows

COMPARISON_EXTRA_COLUMNS = (
    ("Resection areas", vtkDoubleArray, "", DEFINITIONS["resectionAreas"][2] + "; empty for anatomical plans"),
    ("Laparoscopic (<= 3 areas)", vtkStringArray, "", LAPAROSCOPIC_SOURCE),
)


def comparisonTableRows(comparison):
    """(columns, rows): the plan table's columns (resultsTable.PLAN_COLUMNS) plus the number of
    resection areas and the laparoscopic guidance, one row per plan, major plans first."""
    from ..results.resultsTable import PLAN_COLUMNS, planRow

    areas = {result.plan.key: result for result in comparison.marginPlans}
    rows = []
    for plan in comparison.plans:
        sparing = areas.get(plan.key)
        remnant = ", ".join(plan.remnantSegments) if plan.remnantSegments else f"liver outside the {len(plan.resectedSegments)} resection area(s)"
        rows.append(planRow(plan, remnant) + (numberOrNaN(sparing.areaCount if sparing else None), sparing.laparoscopic.state if sparing else ""))
    return list(PLAN_COLUMNS) + list(COMPARISON_EXTRA_COLUMNS), rows

def findingToDict(finding):
    return {
        "segmentId": finding.segmentId,
        "name": finding.name,
        "voxelCount": finding.voxelCount,
        "volumeMl": finding.volumeMl,
        "largestDiameterMm": finding.largestDiameterMm,
        "couinaudSegments": list(finding.couinaudSegments),
        "couinaudSegmentsMl": dict(finding.couinaudSegmentsMl),
        "outsideLiverMl": finding.outsideLiverMl,
        "contactDistanceMm": finding.contactDistanceMm,
        "vessels": [
            {
                "vessel": distance.vessel,
                "segmentId": distance.segmentId,
                "segmentName": distance.segmentName,
                "distanceMm": distance.distanceMm,
                "centreDistanceMm": distance.centreDistanceMm,
                "overlapMl": distance.overlapMl,
                "contact": distance.contact,
                "contactVoxels": distance.contactVoxels,
            }
            for distance in finding.vesselDistances
        ],
        "warnings": list(finding.warnings),
    }


def _definitionsDict():
    return {key: {"label": label, "unit": unit, "definition": text} for key, (label, unit, text) in DEFINITIONS.items()}


def findingsToDict(findings):
    return {"tumours": [findingToDict(finding) for finding in findings], "definitions": _definitionsDict()}


def marginPlanToDict(result):
    """A margin-based plan's JSON form: its remnant's numbers are the plan fields of every plan
    (resultFields.PLAN_FIELDS)."""
    plan = result.plan
    return {
        "key": plan.key,
        "label": plan.label,
        "marginMm": result.marginMm,
        "liverDefinition": result.liverDefinition,
        "totalLiverMl": result.totalLiverMl,
        **jsonNumbers(plan, PLAN_FIELDS),
        "flags": [flag.asDict() for flag in plan.flags],
        "resectionAreas": [
            {"number": area.number, "name": area.name, "voxelCount": area.voxelCount, "volumeMl": area.volumeMl, "tumours": list(area.tumours)}
            for area in result.areas
        ],
        "laparoscopic": {
            "areas": result.laparoscopic.areas,
            "maximumAreas": result.laparoscopic.maximumAreas,
            "state": result.laparoscopic.state,
            "source": result.laparoscopic.source,
        },
        "tumourMarginMl": dict(result.tumourMarginMl),
        "warnings": list(plan.warnings) + list(result.warnings),
    }


def comparisonToDict(comparison):
    document = futureLiverRemnant.volumetryToDict(comparison.volumetry)
    document["parenchymaSparing"] = [marginPlanToDict(result) for result in comparison.marginPlans]
    document["definitions"].update(_definitionsDict())
    return document
