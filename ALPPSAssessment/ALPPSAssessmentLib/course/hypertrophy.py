"""Hypertrophy of the future liver remnant (clinical reference section 4).

The growth clock starts at portal deprivation (ALPPS stage 1), not at the baseline scan, which is
often weeks earlier: dividing by the days between scans would understate the rate three- to
fourfold. So there are two time bases, named with every rate:
- since stage 1: from the last scan before stage 1 (the baseline) to a scan after it, rates per
  day (or week) elapsed since stage 1; these are the ones the readiness checklist reads;
- interval: between two scans that are both after stage 1, rates per day between them (to see
  the curve flatten), never used by the checklist.
The variants are not interchangeable, so each carries its own unit and definition:
- degree of hypertrophy (DH): sFLR after minus sFLR before, in percentage points;
- kinetic growth rate (KGR, Shindoh): DH per week since stage 1, in %/week;
- relative growth: (FLR after - FLR before) / FLR before x 100, in %; per day in %/day (what
  ALPPS papers usually call "KGR"); absolute growth in mL/day.
"""

from dataclasses import dataclass, field
from typing import List, Optional

from ALPPSVolumetryLib.results.quantityDefinition import QuantityDefinition


SINCE_STAGE_1 = "since stage 1"
INTERVAL = "interval"

GROWTH_DEFINITIONS = {
    definition.key: definition
    for definition in (
        QuantityDefinition(
            "degreeOfHypertrophy", "Degree of hypertrophy (DH)", "pp",
            "sFLR at the scan - sFLR at the last scan before stage 1 (percentage points); Shindoh 2013",
            "clinical reference section 4", decimals=1,
        ),
        QuantityDefinition(
            "kineticGrowthRate", "Kinetic growth rate (KGR)", "%/week", "DH / (days since stage 1 / 7); Shindoh 2013",
            "clinical reference section 4", decimals=2,
        ),
        QuantityDefinition(
            "relativeGrowth", "Relative growth", "%", "(volume after - volume before) / volume before x 100",
            "clinical reference section 4", decimals=1,
        ),
        QuantityDefinition(
            "relativeGrowthPerDay", "Relative growth per day", "%/day",
            "relative growth / days since stage 1 (since stage 1), or / days between the two scans (interval)",
            "clinical reference section 4 (denominator unchecked in Tomassini 2020)", decimals=2,
        ),
        QuantityDefinition(
            "absoluteGrowthPerDay", "Absolute growth per day", "mL/day",
            "(volume after - volume before) / days since stage 1 (since stage 1), or / days between the two scans (interval)",
            "clinical reference section 4", decimals=1,
        ),
    )
}

# Cut-offs: clinicalCriteria.KGR (< 2 %/week, Shindoh, PVE) and clinicalCriteria.GROWTH_PER_DAY
# (<= 4.1 %/day, Tomassini, ALPPS). DH 7.5 pp is Shindoh's best DH cut-off, shown, not flagged.
DEGREE_OF_HYPERTROPHY_CUTOFF_PP = 7.5


@dataclass
class VolumeGrowth:
    """Growth of one volume (remnant, total liver or deportalised liver) between two scans."""

    beforeMl: float
    afterMl: float
    days: Optional[int]  # the rates' denominator (see the interval's time base); None: not computed
    relativeGrowthPercent: float
    relativeGrowthPercentPerDay: Optional[float]
    absoluteGrowthMlPerDay: Optional[float]


@dataclass
class GrowthInterval:
    fromRole: str
    toRole: str
    fromDate: str
    toDate: str
    days: int  # between the two scans
    remnant: VolumeGrowth
    totalLiver: VolumeGrowth
    deportalisedLiver: Optional[VolumeGrowth]
    degreeOfHypertrophyPp: Optional[float]  # needs sFLR at both scans (height and weight)
    kineticGrowthRatePercentPerWeek: Optional[float]
    warnings: List[str] = field(default_factory=list)
    # Growth of the remnant's function (FLR-F/BSA, %/min/m2) when both scans have it measured.
    remnantFunctionGrowth: Optional[dict] = None
    timeBase: str = INTERVAL
    rateDays: Optional[int] = None  # denominator of every rate: days since stage 1, or between the scans
    notComputed: dict = field(default_factory=dict)  # rate key -> why it is not computed


def volumeGrowth(beforeMl, afterMl, days, what="volume"):
    """Relative and daily growth over ``days`` (None or 0: no rates, never infinite)."""
    if beforeMl is None or afterMl is None:
        raise ValueError(f"The {what} is missing at one of the two scans")
    if beforeMl <= 0:
        raise ValueError(f"The {what} before is {beforeMl} mL: relative growth needs a volume above 0 mL")
    if days is not None and days < 0:
        raise ValueError(f"The second scan is {-days} days before the first: put the time points in date order")
    relative = (afterMl - beforeMl) / beforeMl * 100.0
    perDay = days is not None and days > 0
    return VolumeGrowth(
        beforeMl=beforeMl,
        afterMl=afterMl,
        days=days,
        relativeGrowthPercent=relative,
        relativeGrowthPercentPerDay=relative / days if perDay else None,
        absoluteGrowthMlPerDay=(afterMl - beforeMl) / days if perDay else None,
    )


def degreeOfHypertrophy(sflrBeforePercent, sflrAfterPercent):
    """DH in percentage points (Shindoh 2013)."""
    return sflrAfterPercent - sflrBeforePercent


def kineticGrowthRate(degreeOfHypertrophyPp, daysSinceStage1):
    """KGR in %/week: DH per week elapsed since stage 1 (Shindoh 2013); None on the day of stage 1."""
    if daysSinceStage1 < 0:
        raise ValueError(f"A scan {-daysSinceStage1} days before stage 1 has no growth since stage 1")
    return degreeOfHypertrophyPp / (daysSinceStage1 / 7.0) if daysSinceStage1 > 0 else None


RATE_KEYS = ("kineticGrowthRatePercentPerWeek", "relativeGrowthPercentPerDay", "absoluteGrowthMlPerDay")


def growthInterval(before, after, stage1Date=None, timeBase=INTERVAL):
    """Growth between two measured time points (records with role, studyDate, plan result).

    ``timeBase`` SINCE_STAGE_1: ``before`` is the last scan before stage 1 and every rate is per
    day (week) since ``stage1Date``; without it the rates are not computed and the reason is
    given. INTERVAL: rates per day between the two scans (both after stage 1).
    """
    if timeBase not in (SINCE_STAGE_1, INTERVAL):
        raise ValueError(f"Time base {timeBase!r} is unknown: expected '{SINCE_STAGE_1}' or '{INTERVAL}'")
    days = (after.studyDate - before.studyDate).days
    warnings, notComputed = [], {}
    if timeBase == SINCE_STAGE_1:
        if stage1Date is None:
            rateDays = None
            reason = "the stage 1 date is not given: growth rates are counted from stage 1 (give its date)"
        else:
            rateDays = (after.studyDate - stage1Date).days
            reason = f"the {after.role} scan is on the day of stage 1: no time since stage 1" if rateDays == 0 else ""
            if rateDays < 0:
                raise ValueError(
                    f"The {after.role} scan ({after.studyDate.isoformat()}) is before the stage 1 date {stage1Date.isoformat()}"
                )
    else:
        rateDays = days
        reason = (
            f"the {before.role} and {after.role} scans share the date {after.studyDate.isoformat()}: growth per day is not defined"
            if days == 0 else ""
        )
    if reason:
        notComputed = {key: reason for key in RATE_KEYS}
        if timeBase == INTERVAL or stage1Date is not None:
            warnings.append(reason[0].upper() + reason[1:])
    remnant = volumeGrowth(before.plan.ratioRemnantMl, after.plan.ratioRemnantMl, rateDays, "remnant")
    if remnant.afterMl < remnant.beforeMl:
        warnings.append(
            f"The remnant shrank from {remnant.beforeMl:.1f} mL to {remnant.afterMl:.1f} mL between the {before.role} "
            f"and {after.role} scans"
        )
    deportalised = None
    if before.plan.resectedMl > 0 and after.plan.resectedMl > 0:
        deportalised = volumeGrowth(before.plan.resectedMl, after.plan.resectedMl, rateDays, "deportalised liver")
    dh = kgr = None
    if before.plan.sFLR is not None and after.plan.sFLR is not None:
        dh = degreeOfHypertrophy(before.plan.sFLR, after.plan.sFLR)
        if timeBase == SINCE_STAGE_1 and rateDays:
            kgr = kineticGrowthRate(dh, rateDays)
        elif timeBase == INTERVAL:
            notComputed["kineticGrowthRatePercentPerWeek"] = "KGR is counted from stage 1 (Shindoh), not between two later scans"
    else:
        notComputed["kineticGrowthRatePercentPerWeek"] = "sFLR needs height and weight"
    functionBefore = (getattr(before, "remnantFunction", None) or {}).get("flrFunctionPerBsa")
    functionAfter = (getattr(after, "remnantFunction", None) or {}).get("flrFunctionPerBsa")
    functionGrowth = None
    if functionBefore is not None and functionAfter is not None:
        # Function is compared between the two measurements: per day between them.
        change = volumeGrowth(functionBefore, functionAfter, days, "remnant function (FLR-F/BSA)")
        functionGrowth = {
            "before": functionBefore,
            "after": functionAfter,
            "unit": "%/min/m2",
            "relativeGrowthPercent": change.relativeGrowthPercent,
            "relativeGrowthPercentPerDay": change.relativeGrowthPercentPerDay,
            "timeBase": "days between the two measurements",
        }
    return GrowthInterval(
        fromRole=before.role,
        toRole=after.role,
        fromDate=before.studyDate.isoformat(),
        toDate=after.studyDate.isoformat(),
        days=days,
        remnant=remnant,
        totalLiver=volumeGrowth(before.totalLiverMl, after.totalLiverMl, rateDays, "total liver"),
        deportalisedLiver=deportalised,
        degreeOfHypertrophyPp=dh,
        kineticGrowthRatePercentPerWeek=kgr,
        warnings=warnings,
        remnantFunctionGrowth=functionGrowth,
        timeBase=timeBase,
        rateDays=rateDays,
        notComputed=notComputed,
    )


def timeBaseText(interval, stage1Date=None):
    """What every rate of ``interval`` is divided by, in words (JSON, tables, report)."""
    if interval.timeBase == SINCE_STAGE_1:
        since = f" (stage 1 on {stage1Date.isoformat()})" if stage1Date else ""
        return f"days since stage 1{since}"
    return "days between the two scans (interval growth, not used by the checklist)"
