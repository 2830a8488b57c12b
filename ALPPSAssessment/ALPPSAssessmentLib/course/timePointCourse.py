"""Hypertrophy along the patient's time points: every volume from the ALPPSVolumetry logic (one
source), growth between consecutive scans and since the first, as tables and a Plots chart."""

from dataclasses import dataclass, field
from typing import List, Optional

import vtk
from ALPPSVolumetryLib.planning import futureLiverRemnant, resectionPlans
from ALPPSVolumetryLib.results.quantityDefinition import QuantityDefinition
from ALPPSVolumetryLib.planning.remnantRatios import RATIO_DEFINITIONS
from ALPPSVolumetryLib.results.resultFields import fieldByKey, ResultField, VOLUME_DEFINITIONS
from ALPPSVolumetryLib.results.resultsTable import fieldCells, fieldColumns, writeTableRows

from . import hypertrophy, stageTwoReadiness, timeline


@dataclass
class MeasuredTimePoint:
    role: str
    studyDate: object  # datetime.date
    daysAfterStage1: Optional[int]
    segmentationName: str
    totalLiverMl: float
    plan: object  # ALPPSVolumetryLib.planning.futureLiverRemnant.PlanResult
    labs: dict = field(default_factory=dict)
    remnantFunction: dict = field(default_factory=dict)
    volumetry: object = None  # the whole futureLiverRemnant.VolumetryResult of this scan (every plan measured)


@dataclass
class HypertrophyResult:
    planKey: str
    planLabel: str
    settings: object
    stage1Date: object
    timePoints: List[MeasuredTimePoint]
    intervals: List[object]  # consecutive scans both after stage 1 (interval growth)
    sinceStage1: List[object]  # last scan before stage 1 to each later scan, rates since stage 1
    warnings: List[str]


def _planOf(point, defaultPlan, allowDifferentPlans):
    if not point.planKey or point.planKey == defaultPlan.key:
        return defaultPlan
    if not allowDifferentPlans:
        raise ValueError(
            f"The {point.label} time point uses plan '{point.planKey}', the others '{defaultPlan.key}': growth between "
            "different remnants is not hypertrophy. Use one plan, or confirm that different plans are intended"
        )
    return resectionPlans.parsePlan(point.planKey)


def measureHypertrophy(timePoints, plan, settings=None, stage1Date=None, allowDifferentPlans=False, otherPlans=()):
    """Remnant, sFLR and total liver at each time point, and growth between them. ``otherPlans``
    are measured in the same pass at every scan (kept in each MeasuredTimePoint.volumetry), for
    callers that show them beside the followed plan."""
    if not timePoints:
        raise ValueError("No time points: add at least two scans with their dates and segmentations")
    settings = settings or futureLiverRemnant.VolumetrySettings()
    ordered = timeline.checkCourse(timePoints, stage1Date)
    measured = []
    for point in ordered:
        if point.segmentationNode is None:
            raise ValueError(f"The {point.label} time point has no segmentation")
        try:
            followed = _planOf(point, plan, allowDifferentPlans)
            result = futureLiverRemnant.measureVolumetry(
                point.segmentationNode, [followed] + [other for other in otherPlans if other.key != followed.key], settings
            )
        except ValueError as error:
            raise ValueError(f"Time point {point.label}: {error}") from None
        measured.append(
            MeasuredTimePoint(
                role=point.role,
                studyDate=point.studyDate,
                daysAfterStage1=timeline.daysAfterStage1(point.studyDate, stage1Date) if stage1Date else None,
                segmentationName=point.segmentationNode.GetName(),
                totalLiverMl=result.totalLiverMl,
                plan=result.plans[0],
                labs=dict(point.labs),
                remnantFunction=dict(point.remnantFunction),
                volumetry=result,
            )
        )
    before = [point for point in measured if timeline.roleOrder(point.role) < 1.0]
    after = [point for point in measured if timeline.roleOrder(point.role) >= 1.0]
    baseline = before[-1] if before else None
    sinceStage1 = [
        hypertrophy.growthInterval(baseline, point, stage1Date, hypertrophy.SINCE_STAGE_1) for point in after
    ] if baseline else []
    intervals = [hypertrophy.growthInterval(a, b, timeBase=hypertrophy.INTERVAL) for a, b in zip(after, after[1:])]
    warnings = []
    for item in sinceStage1 + intervals:
        warnings += [warning for warning in item.warnings if warning not in warnings]
    if baseline is None or not after:
        warnings.append("Growth needs the last scan before stage 1 and a scan after stage 1")
    elif stage1Date is None:
        warnings.append("The stage 1 date is not given: KGR, %/day and mL/day since stage 1 are not computed (give its date)")
    return HypertrophyResult(
        planKey=plan.key,
        planLabel=plan.label,
        settings=settings,
        stage1Date=stage1Date,
        timePoints=measured,
        intervals=intervals,
        sinceStage1=sinceStage1,
        warnings=warnings,
    )


COURSE_DEFINITIONS = {
    definition.key: definition
    for definition in (
        QuantityDefinition("daysAfterStage1", "Days after stage 1", "days", "study date minus the date of stage 1", decimals=0,
                           shortLabel="Days after stage 1"),
        QuantityDefinition(
            "rateDays", "Days (the rates' denominator)", "days", "days since stage 1 (since stage 1), or days between the two scans "
            "(interval)", decimals=0, shortLabel="Days",
        ),
        QuantityDefinition(
            "deportalisedLiverMl", "Deportalised liver", "mL", "total liver minus FLR (the part to be resected)", decimals=1,
            shortLabel="Deportalised liver",
        ),
    )
}


def _field(definition, *path, heading="", isInterval=False):
    return ResultField(definition, path, heading, isInterval)


# A scan of the course, read from its JSON form (hypertrophyToDict "timePoints"): the followed plan's
# remnant at that scan.
TIME_POINT_FIELDS = (
    _field(COURSE_DEFINITIONS["daysAfterStage1"], "daysAfterStage1"),
    _field(VOLUME_DEFINITIONS["tumourFreeRemnantMl"], "tumourFreeRemnantMl"),
    _field(VOLUME_DEFINITIONS["remnantIntervalMl"], "remnantIntervalMl", isInterval=True),
    _field(VOLUME_DEFINITIONS["remnantMl"], "remnantMl"),
    _field(RATIO_DEFINITIONS["sFLR"], "sFLR"),
    _field(RATIO_DEFINITIONS["sFLR"], "sFLRInterval", heading="sFLR interval", isInterval=True),
    _field(RATIO_DEFINITIONS["flrBwr"], "flrBwr"),
    _field(RATIO_DEFINITIONS["percentFLR"], "percentFLR"),
    _field(RATIO_DEFINITIONS["functionalPercentFLR"], "functionalPercentFLR"),
    _field(VOLUME_DEFINITIONS["totalLiverMl"], "totalLiverMl"),
    _field(COURSE_DEFINITIONS["deportalisedLiverMl"], "deportalisedLiverMl"),
)

# Growth between two scans (hypertrophy.GrowthInterval, or its JSON form: the same names).
_GROWTH = hypertrophy.GROWTH_DEFINITIONS
GROWTH_FIELDS = (
    _field(COURSE_DEFINITIONS["rateDays"], "rateDays"),
    _field(VOLUME_DEFINITIONS["tumourFreeRemnantMl"], "remnant", "beforeMl", heading="FLR before"),
    _field(VOLUME_DEFINITIONS["tumourFreeRemnantMl"], "remnant", "afterMl", heading="FLR after"),
    _field(_GROWTH["relativeGrowth"], "remnant", "relativeGrowthPercent", heading="FLR growth"),
    _field(_GROWTH["relativeGrowthPerDay"], "remnant", "relativeGrowthPercentPerDay", heading="FLR growth per day"),
    _field(_GROWTH["absoluteGrowthPerDay"], "remnant", "absoluteGrowthMlPerDay", heading="Absolute FLR growth per day"),
    _field(_GROWTH["degreeOfHypertrophy"], "degreeOfHypertrophyPp", heading="DH"),
    _field(_GROWTH["kineticGrowthRate"], "kineticGrowthRatePercentPerWeek", heading="KGR"),
    _field(_GROWTH["relativeGrowth"], "totalLiver", "relativeGrowthPercent", heading="Total liver growth"),
    _field(_GROWTH["relativeGrowth"], "deportalisedLiver", "relativeGrowthPercent", heading="Deportalised liver growth"),
)

TIME_POINT_COLUMNS = (
    (
        ("Time point", vtk.vtkStringArray, "", "Role along the ALPPS course"),
        ("Study date", vtk.vtkStringArray, "", "ISO 8601"),
    )
    + fieldColumns(TIME_POINT_FIELDS)
    + (("Segmentation", vtk.vtkStringArray, "", "Segmentation node measured"),)
)

GROWTH_COLUMNS = (
    (
        ("From", vtk.vtkStringArray, "", "Earlier time point"),
        ("To", vtk.vtkStringArray, "", "Later time point"),
        ("Time base", vtk.vtkStringArray, "", "What the rates are divided by: days since stage 1, or between two later scans (interval)"),
    )
    + fieldColumns(GROWTH_FIELDS)
)


def writeTimePointTable(tableNode, result):
    rows = [
        (point["role"], point["studyDate"]) + fieldCells(point, TIME_POINT_FIELDS) + (point["segmentation"],)
        for point in hypertrophyToDict(result)["timePoints"]
    ]
    return writeTableRows(tableNode, TIME_POINT_COLUMNS, rows, {"ALPPS.Plan": f"{result.planKey}: {result.planLabel}"})


def writeGrowthTable(tableNode, result):
    """Growth since stage 1 first (the checklist's values), then interval growth."""
    rows = [
        (f"{interval.fromRole} ({interval.fromDate})", f"{interval.toRole} ({interval.toDate})", interval.timeBase)
        + fieldCells(interval, GROWTH_FIELDS)
        for interval in result.sinceStage1 + result.intervals
    ]
    return writeTableRows(tableNode, GROWTH_COLUMNS, rows)


def _thresholdTable(scene, name, days, value, columnName):
    columns = (("Days after stage 1", vtk.vtkDoubleArray, "days", ""), (columnName, vtk.vtkDoubleArray, "%", "Threshold"))
    rows = [(day, value) for day in (min(days), max(days))]
    return writeTableRows(scene.AddNewNodeByClass("vtkMRMLTableNode", name), columns, rows)


def _series(scene, name, tableNode, xColumn, yColumn, color, dashed=False):
    series = scene.AddNewNodeByClass("vtkMRMLPlotSeriesNode", name)
    series.SetAndObserveTableNodeID(tableNode.GetID())
    series.SetXColumnName(xColumn)
    series.SetYColumnName(yColumn)
    series.SetPlotType(series.PlotTypeScatter)
    series.SetColor(*color)
    if dashed:
        series.SetLineStyle(series.LineStyleDash)
        series.SetMarkerStyle(series.MarkerStyleNone)
    else:
        series.SetMarkerStyle(series.MarkerStyleCircle)
    return series


def addGrowthChart(scene, timePointTable, result, sflrThresholdPercent=None):
    """A Plots chart of FLR (mL) and sFLR (%) against days after stage 1, with the sFLR
    threshold of the liver condition as a dashed line; returns the chart node."""
    days = [point.daysAfterStage1 for point in result.timePoints if point.daysAfterStage1 is not None]
    if len(days) != len(result.timePoints):
        raise ValueError("The growth chart needs the stage 1 date (days after stage 1 on its x axis)")
    name = f"ALPPS growth: {result.planKey}"
    previous = scene.GetFirstNode(name, "vtkMRMLPlotChartNode")
    if previous is not None:
        # Updating replaces the chart with its series and threshold tables, rather than piling them up.
        # Collect first: removing a series also removes it from the chart's list.
        seriesNodes = [previous.GetNthPlotSeriesNode(index) for index in range(previous.GetNumberOfPlotSeriesNodes())]
        for series in seriesNodes:
            table = series.GetTableNode()
            if table is not None and table is not timePointTable:
                scene.RemoveNode(table)
            scene.RemoveNode(series)
        scene.RemoveNode(previous)
    chart = scene.AddNewNodeByClass("vtkMRMLPlotChartNode", name)
    chart.SetTitle(f"Future liver remnant after ALPPS stage 1 ({result.planLabel})")
    chart.SetXAxisTitle("Days after stage 1")
    chart.SetYAxisTitle("FLR (mL) / sFLR (%)")
    x = "Days after stage 1"
    flr = fieldByKey(TIME_POINT_FIELDS, "tumourFreeRemnantMl").title
    chart.AddAndObservePlotSeriesNodeID(_series(scene, "FLR (mL)", timePointTable, x, flr, (0.2, 0.6, 0.3)).GetID())
    if all(point.plan.sFLR is not None for point in result.timePoints):
        chart.AddAndObservePlotSeriesNodeID(_series(scene, "sFLR (%)", timePointTable, x, "sFLR", (0.2, 0.4, 0.8)).GetID())
        if sflrThresholdPercent is not None:
            threshold = _thresholdTable(scene, "sFLR threshold", days, sflrThresholdPercent, "sFLR threshold")
            line = _series(scene, f"sFLR threshold {sflrThresholdPercent:g} %", threshold, x, "sFLR threshold", (0.8, 0.2, 0.2), dashed=True)
            chart.AddAndObservePlotSeriesNodeID(line.GetID())
    return chart


def hypertrophyToDict(result):
    """The documented JSON form (README, 'alpps hypertrophy --json')."""

    def growth(volume):
        if volume is None:
            return None
        return {
            "beforeMl": volume.beforeMl,
            "afterMl": volume.afterMl,
            "relativeGrowthPercent": volume.relativeGrowthPercent,
            "relativeGrowthPercentPerDay": volume.relativeGrowthPercentPerDay,
            "absoluteGrowthMlPerDay": volume.absoluteGrowthMlPerDay,
        }

    def interval(item):
        return {
            "from": {"role": item.fromRole, "studyDate": item.fromDate},
            "to": {"role": item.toRole, "studyDate": item.toDate},
            "days": item.days,
            "timeBase": item.timeBase,
            "timeBaseText": hypertrophy.timeBaseText(item, result.stage1Date),
            "rateDays": item.rateDays,
            "notComputed": item.notComputed,
            "remnant": growth(item.remnant),
            "totalLiver": growth(item.totalLiver),
            "deportalisedLiver": growth(item.deportalisedLiver),
            "degreeOfHypertrophyPp": item.degreeOfHypertrophyPp,
            "remnantFunctionGrowth": item.remnantFunctionGrowth,
            "kineticGrowthRatePercentPerWeek": item.kineticGrowthRatePercentPerWeek,
            "warnings": item.warnings,
        }

    return {
        "plan": {"key": result.planKey, "label": result.planLabel},
        "stage1Date": result.stage1Date.isoformat() if result.stage1Date else None,
        "timePoints": [
            {
                "role": point.role,
                "studyDate": point.studyDate.isoformat(),
                "daysAfterStage1": point.daysAfterStage1,
                "segmentation": point.segmentationName,
                "remnantMl": point.plan.remnantMl,
                "tumourFreeRemnantMl": point.plan.tumourFreeRemnantMl,
                "remnantIntervalMl": futureLiverRemnant.intervalToList(point.plan.remnantIntervalMl),
                "sFLR": point.plan.sFLR,
                "sFLRInterval": futureLiverRemnant.intervalToList(point.plan.sFLRInterval),
                "flrBwr": point.plan.flrBwr,
                "percentFLR": point.plan.percentFLR,
                "functionalPercentFLR": point.plan.functionalPercentFLR,
                "totalLiverMl": point.totalLiverMl,
                "deportalisedLiverMl": point.plan.resectedMl,
                "labs": point.labs,
                "scores": stageTwoReadiness.scoresOfLabs(point.labs, point.plan.remnantMl, point.totalLiverMl),
                "remnantFunction": point.remnantFunction,
            }
            for point in result.timePoints
        ],
        "schemaVersion": futureLiverRemnant.SCHEMA_VERSION,
        "sinceStage1": [interval(item) for item in result.sinceStage1],
        "intervals": [interval(item) for item in result.intervals],
        "warnings": result.warnings,
        "definitions": {
            key: definition.summary() for key, definition in hypertrophy.GROWTH_DEFINITIONS.items()
        },
    }


def addSegmentationSequence(scene, timePoints, stage1Date, name="ALPPS segmentations by day"):
    """The time points' segmentations as a sequence indexed by days after stage 1, with a browser,
    so that the scans can be stepped through in the slice and 3D views (Sequences module).
    Returns (sequenceNode, browserNode); an earlier sequence of the same name is replaced."""
    if stage1Date is None:
        raise ValueError("Browsing the segmentations by day needs the stage 1 date")
    for className in ("vtkMRMLSequenceBrowserNode", "vtkMRMLSequenceNode"):
        existing = scene.GetFirstNode(name, className)
        if existing is not None:
            scene.RemoveNode(existing)
    sequence = scene.AddNewNodeByClass("vtkMRMLSequenceNode", name)
    sequence.SetIndexName("days after stage 1")
    sequence.SetIndexUnit("day")
    sequence.SetIndexType(sequence.NumericIndex)
    for point in timeline.sortedTimePoints(timePoints):
        day = str(timeline.daysAfterStage1(point.studyDate, stage1Date))
        sequence.SetDataNodeAtValue(point.segmentationNode, day)
        # The sequence holds copies; they (and the browser's proxy node) are not time points themselves.
        timeline.clearTimePoint(sequence.GetDataNodeAtValue(day))
    browser = scene.AddNewNodeByClass("vtkMRMLSequenceBrowserNode", name)
    browser.SetAndObserveMasterSequenceNodeID(sequence.GetID())
    return sequence, browser
