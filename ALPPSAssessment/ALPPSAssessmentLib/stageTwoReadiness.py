"""The stage-2 readiness checklist: each criterion with its value, threshold, source and state
(met / not met / unknown). Decision support: the checklist shows, the team decides.

"met" here always means the criterion for going ahead is satisfied (e.g. MELD <= 10), which is
the opposite of the risk flags of laboratoryScores, where "met" means the risk sign is present.
"""

from dataclasses import dataclass
from typing import Optional

import vtk
from ALPPSVolumetryLib.adequacy import MET, NOT_MET, UNKNOWN
from ALPPSVolumetryLib.resultsTable import numberOrNaN, writeTableRows

from . import growthMetrics, laboratoryScores, timeline

# Remnant function before stage 2 (99mTc-mebrofenin): FLR-F/BSA >= 2.7 %/min/m2 (Tomassini 2020).
REMNANT_FUNCTION_THRESHOLD = (2.7, "%/min/m2", "Tomassini F et al. HPB 2020 (FLR-F/BSA before ALPPS stage 2)")
LIVER_FAILURE_ANSWERS = ("unknown", "no", "yes")


@dataclass
class ReadinessCriterion:
    criterion: str
    label: str
    value: Optional[float]
    unit: str
    threshold: Optional[float]
    comparison: str
    state: str
    source: str
    note: str = ""


def _compare(value, threshold, comparison):
    if value is None or threshold is None:
        return UNKNOWN
    satisfied = {">=": value >= threshold, ">": value > threshold, "<=": value <= threshold, "<": value < threshold}[comparison]
    return MET if satisfied else NOT_MET


def _labValue(labs, quantity):
    entry = labs.get(quantity)
    return None if not entry else laboratoryScores.labValue(quantity, entry[0], entry[1])


def meldOfLabs(labs):
    """MELD from a time point's labs, or None when bilirubin, creatinine or INR is missing."""
    values = [_labValue(labs, quantity) for quantity in (laboratoryScores.BILIRUBIN, laboratoryScores.CREATININE, laboratoryScores.INR)]
    return None if any(value is None for value in values) else laboratoryScores.meld(*values)


def albiOfLabs(labs):
    bilirubin, albumin = _labValue(labs, laboratoryScores.BILIRUBIN), _labValue(labs, laboratoryScores.ALBUMIN)
    return None if bilirubin is None or albumin is None else laboratoryScores.albi(bilirubin, albumin)


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
    pdr, r15 = _labValue(labs, laboratoryScores.ICG_PDR), _labValue(labs, laboratoryScores.ICG_R15)
    if pdr is not None or r15 is not None:
        pdrValue = pdr.value if pdr is not None else laboratoryScores.icgPdrFromR15(r15.value)
        icg = {"pdrPercentPerMin": pdrValue, "r15Percent": r15.value if r15 is not None else laboratoryScores.icgR15FromPdr(pdrValue)}
        if remnantMl is not None and totalLiverMl:
            icg["remnantPdrPercentPerMin"] = laboratoryScores.remnantPdr(pdrValue, remnantMl, totalLiverMl)
        scores["icg"] = icg
    return scores


def readinessChecklist(result, stage1LiverFailure="unknown", remnantFunctionPerBsa=None):
    """Checklist for the latest scan before stage 2 of a HypertrophyResult."""
    if stage1LiverFailure not in LIVER_FAILURE_ANSWERS:
        raise ValueError(f"Liver failure after stage 1 '{stage1LiverFailure}' is not an answer: expected {', '.join(LIVER_FAILURE_ANSWERS)}")
    beforeStage2 = [point for point in result.timePoints if timeline.roleOrder(point.role) < timeline.roleOrder(timeline.ROLE_AFTER_STAGE_2)]
    if not beforeStage2:
        raise ValueError("The readiness checklist needs a scan before stage 2")
    latest = beforeStage2[-1]
    criteria = []
    for flag in latest.plan.flags:  # sFLR and FLR-BWR for the liver condition (adequacy)
        criteria.append(
            ReadinessCriterion(flag.criterion, flag.label, flag.value, flag.unit, flag.threshold, flag.comparison, flag.state, flag.source,
                               f"at the {latest.role} scan ({latest.studyDate.isoformat()})")
        )
    growth = None
    if len(beforeStage2) > 1:
        growth = growthMetrics.growthInterval(beforeStage2[0], latest)
    kgr = growth.kineticGrowthRatePercentPerWeek if growth else None
    threshold, unit, comparison, source, population = growthMetrics.KGR_THRESHOLD
    criteria.append(
        ReadinessCriterion("kineticGrowthRate", "Kinetic growth rate (KGR)", kgr, unit, threshold, comparison,
                           _compare(kgr, threshold, comparison), source, f"cut-off from {population}; first to latest scan before stage 2")
    )
    perDay = growth.remnant.relativeGrowthPercentPerDay if growth else None
    threshold, unit, comparison, source, population = growthMetrics.RELATIVE_GROWTH_PER_DAY_THRESHOLD
    criteria.append(
        ReadinessCriterion("relativeGrowthPerDay", "FLR growth per day", perDay, unit, threshold, comparison,
                           _compare(perDay, threshold, comparison), source, f"cut-off from {population}")
    )
    meld = meldOfLabs(latest.labs)
    meldFlag = laboratoryScores.meldBeforeStage2Flag(meld)
    # The lab flag is the risk sign (MELD > 10); the checklist asks for its absence.
    meldState = {MET: NOT_MET, NOT_MET: MET}.get(meldFlag.state, UNKNOWN)
    criteria.append(
        ReadinessCriterion("meld", "MELD", None if meld is None else meld.rounded, "", meldFlag.threshold, "<=", meldState,
                           meldFlag.source, "needs bilirubin, creatinine and INR of the latest scan" if meld is None else "")
    )
    failureState = {"no": MET, "yes": NOT_MET}.get(stage1LiverFailure, UNKNOWN)
    criteria.append(
        ReadinessCriterion("noLiverFailureAfterStage1", "No liver failure after stage 1", None, "", None, "", failureState,
                           "entered by the team", f"answer: {stage1LiverFailure}")
    )
    if remnantFunctionPerBsa is None:
        # Measured at the latest scan and stored with its time point.
        remnantFunctionPerBsa = (latest.remnantFunction or {}).get("flrFunctionPerBsa")
    threshold, unit, source = REMNANT_FUNCTION_THRESHOLD
    criteria.append(
        ReadinessCriterion("remnantFunction", "Remnant function FLR-F/BSA (mebrofenin)", remnantFunctionPerBsa, unit, threshold, ">=",
                           _compare(remnantFunctionPerBsa, threshold, ">="), source,
                           "" if remnantFunctionPerBsa is not None else "functional imaging not available")
    )
    return criteria


def afterStage2Flags(result, stage2DateText=None):
    """Liver failure flags after stage 2 from the after-stage-2 time points' labs: the 50-50 rule on
    postoperative day 5 and the peak bilirubin (risk flags: 'met' means the sign is present)."""
    after = [point for point in result.timePoints if point.role == timeline.ROLE_AFTER_STAGE_2]
    stage2Date = timeline.parseStudyDate(stage2DateText, "stage 2 date") if stage2DateText else None
    bilirubins = [_labValue(point.labs, laboratoryScores.BILIRUBIN) for point in after]
    flags = [laboratoryScores.peakBilirubinFlag([value for value in bilirubins if value is not None])]
    for point in after:
        day = (point.studyDate - stage2Date).days if stage2Date else None
        flags.append(
            laboratoryScores.fiftyFiftyRule(
                _labValue(point.labs, laboratoryScores.PROTHROMBIN_TIME_PERCENT), _labValue(point.labs, laboratoryScores.BILIRUBIN), day
            )
        )
    return flags


READINESS_COLUMNS = (
    ("Criterion", vtk.vtkStringArray, "", "What is checked before stage 2"),
    ("Value", vtk.vtkDoubleArray, "", "Value at the latest scan before stage 2 (unit in the next column)"),
    ("Unit", vtk.vtkStringArray, "", "Unit of value and threshold"),
    ("Threshold", vtk.vtkStringArray, "", "Comparison and threshold"),
    ("State", vtk.vtkStringArray, "", "met / not met / unknown"),
    ("Source", vtk.vtkStringArray, "", "Where the threshold comes from"),
    ("Note", vtk.vtkStringArray, "", ""),
)


def writeReadinessTable(tableNode, criteria):
    rows = [
        (
            item.label,
            numberOrNaN(item.value),
            item.unit,
            "" if item.threshold is None else f"{item.comparison} {item.threshold:g}",
            item.state,
            item.source,
            item.note,
        )
        for item in criteria
    ]
    return writeTableRows(tableNode, READINESS_COLUMNS, rows)


def readinessToList(criteria):
    return [dict(vars(item)) for item in criteria]
