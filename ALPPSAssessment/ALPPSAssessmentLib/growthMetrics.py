"""Hypertrophy of the future liver remnant between two scans (clinical reference section 4).

The variants are not interchangeable, so each carries its own unit and definition:
- degree of hypertrophy (DH): sFLR after minus sFLR before, in percentage points;
- kinetic growth rate (KGR, Shindoh): DH per week, in %/week;
- relative growth: (FLR after - FLR before) / FLR before x 100, in %; per day in %/day (what
  ALPPS papers usually call "KGR"); absolute growth in mL/day.
"""

from dataclasses import dataclass, field
from typing import List, Optional

GROWTH_DEFINITIONS = {
    "degreeOfHypertrophy": ("Degree of hypertrophy (DH)", "pp", "sFLR after - sFLR before (percentage points); Shindoh 2013"),
    "kineticGrowthRate": ("Kinetic growth rate (KGR)", "%/week", "DH / (days between scans / 7); Shindoh 2013"),
    "relativeGrowth": ("Relative growth", "%", "(volume after - volume before) / volume before x 100"),
    "relativeGrowthPerDay": ("Relative growth per day", "%/day", "relative growth / days between scans"),
    "absoluteGrowthPerDay": ("Absolute growth per day", "mL/day", "(volume after - volume before) / days between scans"),
}

# Thresholds: (minimum, unit, comparison, source, population the cut-off was derived in).
KGR_THRESHOLD = (
    2.0,
    "%/week",
    ">=",
    "Shindoh J et al. J Am Coll Surg 2013;216:201 (KGR < 2 %/week: higher hepatic insufficiency after PVE)",
    "portal vein embolization",
)
RELATIVE_GROWTH_PER_DAY_THRESHOLD = (
    4.1,
    "%/day",
    ">",
    "Tomassini F et al. HPB 2020 (relative growth <= 4.1 %/day before ALPPS stage 2: higher PHLF risk; "
    "definition of the denominator unchecked)",
    "ALPPS",
)
DEGREE_OF_HYPERTROPHY_CUTOFF_PP = 7.5  # Shindoh 2013, best cut-off for DH (shown, not flagged)


@dataclass
class VolumeGrowth:
    """Growth of one volume (remnant, total liver or deportalised liver) between two scans."""

    beforeMl: float
    afterMl: float
    days: int
    relativeGrowthPercent: float
    relativeGrowthPercentPerDay: Optional[float]  # None for two scans on one day
    absoluteGrowthMlPerDay: Optional[float]


@dataclass
class GrowthInterval:
    fromRole: str
    toRole: str
    fromDate: str
    toDate: str
    days: int
    remnant: VolumeGrowth
    totalLiver: VolumeGrowth
    deportalisedLiver: Optional[VolumeGrowth]
    degreeOfHypertrophyPp: Optional[float]  # needs sFLR at both scans (height and weight)
    kineticGrowthRatePercentPerWeek: Optional[float]
    warnings: List[str] = field(default_factory=list)
    # Growth of the remnant's function (FLR-F/BSA, %/min/m2) when both scans have it measured.
    remnantFunctionGrowth: Optional[dict] = None


def volumeGrowth(beforeMl, afterMl, days, what="volume"):
    """Relative and daily growth; rates are None (not infinite) when both scans share a date."""
    if beforeMl is None or afterMl is None:
        raise ValueError(f"The {what} is missing at one of the two scans")
    if beforeMl <= 0:
        raise ValueError(f"The {what} before is {beforeMl} mL: relative growth needs a volume above 0 mL")
    if days < 0:
        raise ValueError(f"The second scan is {-days} days before the first: put the time points in date order")
    relative = (afterMl - beforeMl) / beforeMl * 100.0
    return VolumeGrowth(
        beforeMl=beforeMl,
        afterMl=afterMl,
        days=days,
        relativeGrowthPercent=relative,
        relativeGrowthPercentPerDay=relative / days if days > 0 else None,
        absoluteGrowthMlPerDay=(afterMl - beforeMl) / days if days > 0 else None,
    )


def degreeOfHypertrophy(sflrBeforePercent, sflrAfterPercent):
    """DH in percentage points (Shindoh 2013)."""
    return sflrAfterPercent - sflrBeforePercent


def kineticGrowthRate(degreeOfHypertrophyPp, days):
    """KGR in %/week: DH per week (Shindoh 2013); None for two scans on the same day."""
    if days < 0:
        raise ValueError(f"Scans {-days} days apart in the wrong order: put the time points in date order")
    return degreeOfHypertrophyPp / (days / 7.0) if days > 0 else None


def growthInterval(before, after):
    """Growth between two measured time points (records with role, studyDate, plan result)."""
    days = (after.studyDate - before.studyDate).days
    warnings = []
    if days == 0:
        warnings.append(
            f"The {before.role} and {after.role} scans share the date {after.studyDate.isoformat()}: "
            "growth per day and per week are not defined"
        )
    remnant = volumeGrowth(before.plan.remnantMl, after.plan.remnantMl, days, "remnant")
    if remnant.afterMl < remnant.beforeMl:
        warnings.append(
            f"The remnant shrank from {remnant.beforeMl:.1f} mL to {remnant.afterMl:.1f} mL between the {before.role} "
            f"and {after.role} scans"
        )
    deportalised = None
    if before.plan.resectedMl > 0 and after.plan.resectedMl > 0:
        deportalised = volumeGrowth(before.plan.resectedMl, after.plan.resectedMl, days, "deportalised liver")
    dh = kgr = None
    if before.plan.sFLR is not None and after.plan.sFLR is not None:
        dh = degreeOfHypertrophy(before.plan.sFLR, after.plan.sFLR)
        kgr = kineticGrowthRate(dh, days)
    functionBefore = (getattr(before, "remnantFunction", None) or {}).get("flrFunctionPerBsa")
    functionAfter = (getattr(after, "remnantFunction", None) or {}).get("flrFunctionPerBsa")
    functionGrowth = None
    if functionBefore is not None and functionAfter is not None:
        change = volumeGrowth(functionBefore, functionAfter, days, "remnant function (FLR-F/BSA)")
        functionGrowth = {
            "before": functionBefore,
            "after": functionAfter,
            "unit": "%/min/m2",
            "relativeGrowthPercent": change.relativeGrowthPercent,
            "relativeGrowthPercentPerDay": change.relativeGrowthPercentPerDay,
        }
    return GrowthInterval(
        fromRole=before.role,
        toRole=after.role,
        fromDate=before.studyDate.isoformat(),
        toDate=after.studyDate.isoformat(),
        days=days,
        remnant=remnant,
        totalLiver=volumeGrowth(before.totalLiverMl, after.totalLiverMl, days, "total liver"),
        deportalisedLiver=deportalised,
        degreeOfHypertrophyPp=dh,
        kineticGrowthRatePercentPerWeek=kgr,
        warnings=warnings,
        remnantFunctionGrowth=functionGrowth,
    )
