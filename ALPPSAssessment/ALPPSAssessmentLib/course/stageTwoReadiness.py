"""The stage-2 readiness checklist: each criterion with its value, threshold, source and state.
Decision support: the checklist shows, the team decides.

Every row is a ``clinicalCriteria.Flag``: "met" always means the criterion for going ahead holds
(the value is outside its published risk group), as everywhere in the extension. Growth rates are
those since stage 1 (clinical reference section 4), never interval growth between later scans.
"""

import dataclasses

import vtk
from ALPPSVolumetryLib.criteria import clinicalCriteria
from ALPPSVolumetryLib.criteria.clinicalCriteria import MET, NOT_MET, UNKNOWN
from ALPPSVolumetryLib.results.resultsTable import numberOrNaN, writeTableRows

from . import albiScore, icgClearance, laboratoryUnits, liverFailureCriteria, meldScore, timeline

LIVER_FAILURE_ANSWERS = ("unknown", "no", "yes")


def _labValue(labs, quantity):
    entry = labs.get(quantity)
    return None if not entry else laboratoryUnits.labValue(quantity, entry[0], entry[1])


def meldOfLabs(labs):
    """MELD from a time point's labs, or None when bilirubin, creatinine or INR is missing."""
    values = [_labValue(labs, quantity) for quantity in (laboratoryUnits.BILIRUBIN, laboratoryUnits.CREATININE, laboratoryUnits.INR)]
    if any(value is None for value in values):
        return None
    return meldScore.meld(*values, dialysis=meldScore.dialysisOfLabs(labs))


def albiOfLabs(labs):
    bilirubin, albumin = _labValue(labs, laboratoryUnits.BILIRUBIN), _labValue(labs, laboratoryUnits.ALBUMIN)
    return None if bilirubin is None or albumin is None else albiScore.albi(bilirubin, albumin)


def scoresOfLabs(labs, remnantMl=None, totalLiverMl=None):
    """Scores a time point's labs allow: MELD, ALBI and ICG (R15 from PDR or PDR from R15, and the
    remnant PDR = PDR x FLR/TLV); a score whose inputs are missing is left out, never 0."""
    scores = {}
    meld = meldOfLabs(labs)
    if meld is not None:
        scores["meld"] = {"score": meld.score, "rounded": meld.rounded, "adjustments": list(meld.adjustments)}
    albi = albiOfLabs(labs)
    if albi is not None:
        scores["albi"] = {"score": albi.score, "grade": albi.grade}
    pdr, r15 = _labValue(labs, laboratoryUnits.ICG_PDR), _labValue(labs, laboratoryUnits.ICG_R15)
    if pdr is not None or r15 is not None:
        pdrValue = pdr.value if pdr is not None else icgClearance.icgPdrFromR15(r15.value)
        icg = {"pdrPercentPerMin": pdrValue, "r15Percent": r15.value if r15 is not None else icgClearance.icgR15FromPdr(pdrValue)}
        if remnantMl is not None and totalLiverMl:
            icg["remnantPdrPercentPerMin"] = icgClearance.remnantPdr(pdrValue, remnantMl, totalLiverMl)
        scores["icg"] = icg
    return scores


def _sinceStage1To(result, point):
    for item in result.sinceStage1:
        if item.toDate == point.studyDate.isoformat() and item.toRole == point.role:
            return item
    return None


def readinessChecklist(result, stage1LiverFailure="unknown", remnantFunctionPerBsa=None):
    """Checklist (``clinicalCriteria.Flag`` rows) for the latest scan before stage 2 of a
    HypertrophyResult."""
    if stage1LiverFailure not in LIVER_FAILURE_ANSWERS:
        raise ValueError(f"Liver failure after stage 1 '{stage1LiverFailure}' is not an answer: expected {', '.join(LIVER_FAILURE_ANSWERS)}")
    beforeStage2 = [point for point in result.timePoints if timeline.roleOrder(point.role) < timeline.roleOrder(timeline.ROLE_AFTER_STAGE_2)]
    if not beforeStage2:
        raise ValueError("The readiness checklist needs a scan before stage 2")
    latest = beforeStage2[-1]
    at = f"at the {latest.role} scan ({latest.studyDate.isoformat()})"
    criteria = [dataclasses.replace(flag, note="; ".join(item for item in (at, flag.note) if item)) for flag in latest.plan.flags]
    if latest.plan.tumourFlag is not None:
        criteria.append(dataclasses.replace(latest.plan.tumourFlag, note=at))
    growth = _sinceStage1To(result, latest)
    if growth is None:
        why = "needs the last scan before stage 1 and a scan after stage 1"
        kgr = perDay = None
        kgrWhy = perDayWhy = why
    else:
        kgr, perDay = growth.kineticGrowthRatePercentPerWeek, growth.remnant.relativeGrowthPercentPerDay
        kgrWhy = growth.notComputed.get("kineticGrowthRatePercentPerWeek", "")
        perDayWhy = growth.notComputed.get("relativeGrowthPercentPerDay", "")
    since = f"from the {growth.fromRole} scan ({growth.fromDate}), counted from stage 1" if growth else ""
    # KGR is a difference of sFLRs: as checked as the standard liver volume formula behind them.
    stlvStatus = latest.volumetry.body.stlvFormula.status if latest.volumetry is not None and latest.volumetry.body else None
    criteria.append(clinicalCriteria.evaluate(clinicalCriteria.KGR, kgr, reason=kgrWhy, status=stlvStatus,
                                              note=f"{since}; {clinicalCriteria.KGR.note}" if since else ""))
    # Tomassini's denominator (days since stage 1) is unchecked (clinical reference section 4).
    criteria.append(clinicalCriteria.evaluate(clinicalCriteria.GROWTH_PER_DAY, perDay, reason=perDayWhy, note=since,
                                              status=clinicalCriteria.UNCHECKED))
    meld = meldOfLabs(latest.labs)
    criteria.append(dataclasses.replace(meldScore.meldBeforeStage2Flag(meld), criterion="meld"))
    failureState = {"no": MET, "yes": NOT_MET}.get(stage1LiverFailure, UNKNOWN)
    criteria.append(
        clinicalCriteria.Flag(
            criterion="noLiverFailureAfterStage1", label="No liver failure after stage 1", value=None, unit="", threshold=None,
            comparison="", state=failureState, source="entered by the team", status=clinicalCriteria.CHECKED,
            reason="" if failureState != UNKNOWN else "not answered", note=f"answer: {stage1LiverFailure}",
        )
    )
    if remnantFunctionPerBsa is None:
        # Measured at the latest scan and stored with its time point.
        remnantFunctionPerBsa = (latest.remnantFunction or {}).get("flrFunctionPerBsa")
    function = clinicalCriteria.evaluate(
        clinicalCriteria.FLR_FUNCTION_ALPPS, remnantFunctionPerBsa, status=clinicalCriteria.UNCHECKED,
        reason="functional imaging not available" if remnantFunctionPerBsa is None else "",
        label="Remnant function FLR-F/BSA (mebrofenin)",
    )
    criteria.append(dataclasses.replace(function, criterion="remnantFunction"))
    return criteria


def afterStage2Flags(result, stage2DateText=None):
    """Liver failure flags after stage 2 from the after-stage-2 time points' labs: the 50-50 rule on
    postoperative day 5 and the peak bilirubin, as every flag: 'met' means the sign of liver
    failure is absent."""
    after = [point for point in result.timePoints if point.role == timeline.ROLE_AFTER_STAGE_2]
    stage2Date = timeline.parseStudyDate(stage2DateText, "stage 2 date") if stage2DateText else None
    bilirubins = [_labValue(point.labs, laboratoryUnits.BILIRUBIN) for point in after]
    flags = [liverFailureCriteria.peakBilirubinFlag([value for value in bilirubins if value is not None])]
    for point in after:
        day = (point.studyDate - stage2Date).days if stage2Date else None
        flags.append(
            liverFailureCriteria.fiftyFiftyRule(
                _labValue(point.labs, laboratoryUnits.PROTHROMBIN_TIME_PERCENT), _labValue(point.labs, laboratoryUnits.BILIRUBIN), day
            )
        )
    return flags


READINESS_COLUMNS = (
    ("Criterion", vtk.vtkStringArray, "", "What is checked before stage 2"),
    ("Value", vtk.vtkDoubleArray, "", "Value at the latest scan before stage 2, as displayed and compared"),
    ("Unit", vtk.vtkStringArray, "", "Unit of value and threshold"),
    ("Met when", vtk.vtkStringArray, "", "The criterion for going ahead (the opposite of the published risk group)"),
    ("State", vtk.vtkStringArray, "", "met / not met / borderline / unknown"),
    ("Status", vtk.vtkStringArray, "", "checked / unchecked: the formula or cut-off as marked in the clinical reference"),
    ("Source", vtk.vtkStringArray, "", "Where the threshold comes from, and its population"),
    ("Note", vtk.vtkStringArray, "", ""),
)


def writeReadinessTable(tableNode, criteria):
    rows = [
        (
            item.label,
            numberOrNaN(None if item.value is None else clinicalCriteria.shownNumber(item.value, item.decimals)),
            item.unit,
            item.criterionText(),
            item.stateText,
            item.status,
            "; ".join(part for part in (item.source, f"population: {item.population}" if item.population else "") if part),
            "; ".join(part for part in (item.reason, item.note) if part),
        )
        for item in criteria
    ]
    return writeTableRows(tableNode, READINESS_COLUMNS, rows)


def readinessToList(criteria):
    return [item.asDict() for item in criteria]
