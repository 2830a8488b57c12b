"""The decision in a few lines: the verdict of the readiness checklist and the figures that carry
it (FLR, %FLR, sFLR, growth since stage 1, remnant function, tumour left in the remnant).

One function makes it from the report document (or the same parts of it that the Assessment panel
has), so the first page of the report and the top of the panel say the same thing in the same
words. Every figure keeps the path of its number in the report document, so the report shows it
with its JSON pointer and the tests can check it against the JSON.
"""

from dataclasses import dataclass, field
from typing import List, Optional

from ALPPSVolumetryLib.criteria import clinicalCriteria
from ALPPSVolumetryLib.planning import futureLiverRemnant

from ..course import stageTwoReadiness, timeline, timePointCourse


@dataclass
class SummaryFigure:
    label: str
    keys: Optional[tuple]  # path of the number in the report document; None: no number
    decimals: int
    unit: str
    value: Optional[float]
    detail: str = ""  # resolution interval, time base, what it is compared with

    def text(self):
        shown = "not computed" if self.value is None else clinicalCriteria.withUnit(
            clinicalCriteria.formatShown(self.value, self.decimals), self.unit)
        return f"{self.label}: {shown}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class DecisionSummary:
    verdict: str
    counts: dict  # state -> number of criteria
    notMet: List[str] = field(default_factory=list)
    borderline: List[str] = field(default_factory=list)
    unknown: List[str] = field(default_factory=list)
    scan: str = ""  # the scan the checklist reads
    figures: List[SummaryFigure] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)

    def lines(self):
        """The summary as plain lines (panel, console)."""
        return [self.verdict] + [f"{self.scan}: " + "; ".join(figure.text() for figure in self.figures)] + [
            f"Warning: {warning}" for warning in self.warnings]


def _interval(bounds, decimals, unit):
    if not bounds:
        return ""
    low, high = (clinicalCriteria.formatShown(bound, decimals) for bound in bounds)
    return f"resolution interval {low}-{clinicalCriteria.withUnit(high, unit)}"


def verdictOf(readiness):
    """'6 of 8 criteria met; not met: ...; borderline: ...; unknown: ...' from flag dictionaries."""
    flags = [clinicalCriteria.Flag.fromDict(item) for item in readiness]
    counts = clinicalCriteria.flagCounts(flags)
    named = {state: [flag.label for flag in flags if flag.state == state] for state in clinicalCriteria.FLAG_STATES}
    parts = [f"{counts[clinicalCriteria.MET]} of {len(flags)} criteria met"]
    for state in (clinicalCriteria.NOT_MET, clinicalCriteria.BORDERLINE, clinicalCriteria.UNKNOWN):
        if named[state]:
            parts.append(f"{state}: {', '.join(named[state])}")
    return "; ".join(parts), counts, named


def decisionSummary(document):
    """The summary of a report document (``patientReport.buildReportDocument``, or
    ``summaryDocument`` for the panel): uses "readiness", "hypertrophy", "plan", "timePoints" and
    "functionalStudies"."""
    verdict, counts, named = verdictOf(document["readiness"])
    growth = document["hypertrophy"]
    points = growth["timePoints"]
    beforeStage2 = [index for index, point in enumerate(points)
                    if timeline.roleOrder(point["role"]) < timeline.roleOrder(timeline.ROLE_AFTER_STAGE_2)]
    summary = DecisionSummary(verdict=f"Stage 2 readiness: {verdict}.", counts=counts, notMet=named[clinicalCriteria.NOT_MET],
                              borderline=named[clinicalCriteria.BORDERLINE], unknown=named[clinicalCriteria.UNKNOWN])
    if not beforeStage2:
        return summary
    index = beforeStage2[-1]
    point = points[index]
    summary.scan = f"{point['role']} scan ({point['studyDate']}), {growth['plan']['label']}"
    base = ("hypertrophy", "timePoints", index)
    tumourFree = point.get("tumourFreeRemnantMl") is not None
    # Digits and units of the scan's fields (timePointCourse.TIME_POINT_FIELDS), as every table shows them.
    field = {item.key: item for item in timePointCourse.TIME_POINT_FIELDS}
    volume = field["remnantMl"]
    flrDetail = _interval(point.get("remnantIntervalMl"), volume.decimals, volume.unit)
    if tumourFree and point["tumourFreeRemnantMl"] != point["remnantMl"]:
        flrDetail = f"gross {volume.shownWithUnit(point)}; {flrDetail}"
    flrKey = "tumourFreeRemnantMl" if tumourFree else "remnantMl"
    summary.figures.append(SummaryFigure("FLR (tumour-free)" if tumourFree else "FLR", base + (flrKey,), field[flrKey].decimals,
                                         field[flrKey].unit, point[flrKey], flrDetail))
    if point.get("functionalPercentFLR") is not None:
        # With tumours segmented the functional %FLR is the one to prefer (clinical reference section 2).
        summary.figures.append(SummaryFigure("%FLR (functional)", base + ("functionalPercentFLR",), field["functionalPercentFLR"].decimals, "%",
                                             point["functionalPercentFLR"], "tumour-free FLR / tumour-free liver"))
    else:
        summary.figures.append(SummaryFigure("%FLR", base + ("percentFLR",), field["percentFLR"].decimals, "%", point["percentFLR"],
                                             "FLR / total liver volume"))
    sflr = field["sFLR"]
    summary.figures.append(SummaryFigure("sFLR", base + ("sFLR",), sflr.decimals, sflr.unit, point.get("sFLR"),
                                         _interval(point.get("sFLRInterval"), sflr.decimals, sflr.unit) if point.get("sFLR") is not None
                                         else "needs height and weight"))
    since = [(number, item) for number, item in enumerate(growth.get("sinceStage1") or []) if item["to"]["studyDate"] == point["studyDate"]]
    if since:
        number, item = since[-1]
        gbase = ("hypertrophy", "sinceStage1", number)
        why = "; ".join(sorted(set((item.get("notComputed") or {}).values())))
        days = f"{item['rateDays']} days since stage 1" if item.get("rateDays") is not None else why
        growthField = {item.path: item for item in timePointCourse.GROWTH_FIELDS}
        for label, path in (("KGR", ("kineticGrowthRatePercentPerWeek",)), ("FLR growth", ("remnant", "relativeGrowthPercentPerDay"))):
            rate = growthField[path]
            summary.figures.append(SummaryFigure(label, gbase + path, rate.decimals, rate.unit, rate.valueOf(item), days))
    else:
        summary.figures.append(SummaryFigure("Growth", None, 0, "", None, "needs the last scan before stage 1 and a scan after it"))
    function = _remnantFunctionFigure(document, point)
    summary.figures.append(function)
    for item in document["readiness"]:
        if item["criterion"] == futureLiverRemnant.TUMOUR_IN_REMNANT and item["state"] == clinicalCriteria.NOT_MET:
            summary.warnings.append(item["reason"])
    return summary


def _remnantFunctionFigure(document, point):
    # The value the checklist compared comes first (it may be entered over the stored study's).
    readiness = {item["criterion"]: (index, item) for index, item in enumerate(document["readiness"])}
    if "remnantFunction" in readiness and readiness["remnantFunction"][1]["value"] is not None:
        index, item = readiness["remnantFunction"]
        return SummaryFigure("Remnant function FLR-F/BSA", ("readiness", index, "value"), 2, "%/min/m2", item["value"],
                             "mebrofenin, as the checklist compares it; normalisation unchecked")
    for number, study in enumerate(document.get("functionalStudies") or []):
        if study.get("studyDate") != point["studyDate"]:
            continue
        function = study.get("remnantFunction") or {}
        if function.get("flrFunctionPerBsa") is not None:
            return SummaryFigure("Remnant function FLR-F/BSA", ("functionalStudies", number, "remnantFunction", "flrFunctionPerBsa"),
                                 2, "%/min/m2", function["flrFunctionPerBsa"], "mebrofenin; normalisation unchecked")
        if function.get("gadoxetateFunctionalSharePercent") is not None:
            return SummaryFigure("Remnant functional share", ("functionalStudies", number, "remnantFunction", "gadoxetateFunctionalSharePercent"),
                                 1, "%", function["gadoxetateFunctionalSharePercent"], "gadoxetate MRI")
    return SummaryFigure("Remnant function", None, 0, "", None, "no functional imaging stored with the scan")


def summaryDocument(result, readiness):
    """The parts of a report document the summary reads, from a HypertrophyResult and its
    checklist (what the Assessment panel has after updating)."""
    return {
        "plan": {"key": result.planKey, "label": result.planLabel},
        "hypertrophy": timePointCourse.hypertrophyToDict(result),
        "readiness": stageTwoReadiness.readinessToList(readiness),
        "timePoints": [{"volumetry": futureLiverRemnant.volumetryToDict(point.volumetry) if point.volumetry else None}
                       for point in result.timePoints],
        "functionalStudies": [
            {"role": point.role, "studyDate": point.studyDate.isoformat(), "remnantFunction": point.remnantFunction}
            for point in result.timePoints if point.remnantFunction
        ],
    }
