"""The remnant's function from MUR and FLR-C (clinical reference section 5): FLR-F, the per-BSA
values and the go-ahead flags of the published FLR-F/BSA cut-offs.

- MUR_BSA = MUR / BSA (%/min/m2), MUR from ``mebrofeninUptake``.
- FLR-F = FLR-C x MUR (%/min), FLR-C from ``remnantCountShare``; FLR-F_BSA = FLR-F / BSA (%/min/m2).
- Flags (clinicalCriteria): risk groups FLR-F_BSA < 2.69 %/min/m2 (de Graaf 2010: high risk of
  post-hepatectomy liver failure) and <= 2.7 %/min/m2 (Tomassini 2020: ALPPS before stage 2);
  as everywhere, "met" means the value is outside the risk group. Every FLR-F_BSA flag is
  unchecked: the normalisation of the uptake rate behind it is.
"""

from dataclasses import dataclass
from typing import List, Optional, Tuple

from ALPPSVolumetryLib.criteria import clinicalCriteria
from ALPPSVolumetryLib.criteria.bodySize import checkedNumber, UNCHECKED
from ALPPSVolumetryLib.results.quantityDefinition import QuantityDefinition

from .mebrofeninUptake import (
    BLOOD_FRACTION,
    CLINICAL_REFERENCE_5,
    FIT_R_SQUARED,
    MUR,
    PERCENT,
    PERCENT_PER_FRACTION,
    PERCENT_PER_MIN,
    UPTAKE_CONSTANT,
    UPTAKE_DEFINITIONS,
    checkedMur,
)
from .remnantCountShare import FLR_C, FLR_C_DEFINITION, RemnantShare

PERCENT_PER_MIN_M2 = "%/min/m2"
SQUARE_METRE = "m2"

DE_GRAAF_2010 = clinicalCriteria.DE_GRAAF_2010
TOMASSINI_2020 = clinicalCriteria.TOMASSINI_2020

MUR_BSA = "murBsa"
FLR_F = "flrFunction"
FLR_F_BSA = "flrFunctionBsa"
FLR_F_BSA_BELOW_DE_GRAAF = clinicalCriteria.FLR_FUNCTION_DE_GRAAF.key
FLR_F_BSA_BELOW_ALPPS = clinicalCriteria.FLR_FUNCTION_ALPPS.key

# The published FLR-F_BSA cut-offs (clinicalCriteria): < 2.69 de Graaf 2010, <= 2.7 Tomassini 2020.
# Their flags are unchecked wherever shown: the MUR normalisation behind them is unchecked.
DE_GRAAF_THRESHOLD = clinicalCriteria.FLR_FUNCTION_DE_GRAAF
ALPPS_STAGE2_THRESHOLD = clinicalCriteria.FLR_FUNCTION_ALPPS
DEFAULT_THRESHOLDS = (DE_GRAAF_THRESHOLD, ALPPS_STAGE2_THRESHOLD)


# Every quantity of section 5, in the order tables list them.
DEFINITIONS = {
    definition.key: definition
    for definition in (
        UPTAKE_DEFINITIONS[MUR],
        QuantityDefinition(MUR_BSA, "MUR per body surface area", PERCENT_PER_MIN_M2, "MUR / BSA", CLINICAL_REFERENCE_5, UNCHECKED, 3,
                           note=clinicalCriteria.MUR_NORMALISATION_UNCHECKED),
        UPTAKE_DEFINITIONS[UPTAKE_CONSTANT],
        UPTAKE_DEFINITIONS[BLOOD_FRACTION],
        UPTAKE_DEFINITIONS[FIT_R_SQUARED],
        FLR_C_DEFINITION,
        QuantityDefinition(FLR_F, "FLR function (FLR-F)", PERCENT_PER_MIN, "FLR-C (fraction) x MUR", CLINICAL_REFERENCE_5, UNCHECKED, 3,
                           note=clinicalCriteria.MUR_NORMALISATION_UNCHECKED),
        QuantityDefinition(
            FLR_F_BSA, "FLR function per BSA (FLR-F/BSA)", PERCENT_PER_MIN_M2, "FLR-F / BSA", CLINICAL_REFERENCE_5, UNCHECKED, 2,
            note=clinicalCriteria.MUR_NORMALISATION_UNCHECKED,
        ),
        QuantityDefinition(
            FLR_F_BSA_BELOW_DE_GRAAF,
            f"FLR-F/BSA {DE_GRAAF_THRESHOLD.criterionText()} (de Graaf)",
            PERCENT_PER_MIN_M2,
            f"met when {DE_GRAAF_THRESHOLD.criterionText()}; risk group {DE_GRAAF_THRESHOLD.riskGroupText()}: high risk of "
            "post-hepatectomy liver failure",
            DE_GRAAF_2010,
            UNCHECKED,
            3,
            note=f"population: {DE_GRAAF_THRESHOLD.population}; {clinicalCriteria.MUR_NORMALISATION_UNCHECKED}",
        ),
        QuantityDefinition(
            FLR_F_BSA_BELOW_ALPPS,
            f"FLR-F/BSA {ALPPS_STAGE2_THRESHOLD.criterionText()} before ALPPS stage 2 (Tomassini)",
            PERCENT_PER_MIN_M2,
            f"met when {ALPPS_STAGE2_THRESHOLD.criterionText()}; risk group {ALPPS_STAGE2_THRESHOLD.riskGroupText()} before ALPPS stage 2",
            TOMASSINI_2020,
            UNCHECKED,
            3,
            note=f"population: {ALPPS_STAGE2_THRESHOLD.population}; {clinicalCriteria.MUR_NORMALISATION_UNCHECKED}",
        ),
    )
}


def definitionRows():
    """Every definition as a dict (key, label, unit, definition, reference, status, decimals, note)."""
    return [definition.asDict() for definition in DEFINITIONS.values()]


def _bsaValue(bsaM2):
    expected = "the body surface area in m2 (e.g. 1.82)"
    if bsaM2 is None:
        raise ValueError(f"BSA is missing: expected {expected}")
    value = checkedNumber(bsaM2, "BSA", expected)
    if value <= 0:
        raise ValueError(f"BSA {value:g} m2 must be positive: expected {expected}")
    if value > 4.0:
        raise ValueError(f"BSA {value:g} m2 is implausible for an adult: expected {expected}")
    return value


def _shareFraction(flrShare):
    if isinstance(flrShare, RemnantShare):
        return flrShare.fraction
    expected = "the FLR share as a fraction between 0 and 1 (e.g. 0.30 for 30 %)"
    value = checkedNumber(flrShare, "FLR share (FLR-C)", expected)
    if value > 1.0:
        raise ValueError(f"FLR share (FLR-C) {value:g} is above 1: expected {expected}; {value:g} looks like a percentage")
    if value <= 0:
        raise ValueError(f"FLR share (FLR-C) {value:g} must be positive: expected {expected}")
    return value


def murPerBsa(mur, bsaM2):
    """MUR_BSA (%/min/m2) = MUR (%/min) / BSA (m2). ``mur`` a number or a MebrofeninUptakeResult."""
    return checkedMur(mur) / _bsaValue(bsaM2)


def remnantFunction(mur, flrShare):
    """FLR-F (%/min) = FLR-C (fraction, or a RemnantShare) x MUR (%/min)."""
    return _shareFraction(flrShare) * checkedMur(mur)


def remnantFunctionPerBsa(mur, flrShare, bsaM2):
    """FLR-F_BSA (%/min/m2) = FLR-C x MUR / BSA."""
    return remnantFunction(mur, flrShare) / _bsaValue(bsaM2)


def remnantFunctionFlags(flrFunctionPerBsa, thresholds=DEFAULT_THRESHOLDS, reason="") -> List[clinicalCriteria.Flag]:
    """One go-ahead flag per cut-off (met when FLR-F_BSA is outside the cut-off's risk group) for an
    FLR-F_BSA in %/min/m2; None gives 'unknown' (with ``reason``, e.g. 'no BSA')."""
    value = None
    if flrFunctionPerBsa is not None:
        value = checkedNumber(flrFunctionPerBsa, "FLR-F_BSA", f"a value in {PERCENT_PER_MIN_M2}")
        if value < 0:
            raise ValueError(f"FLR-F_BSA {value:g} {PERCENT_PER_MIN_M2} is negative: expected a value >= 0")
    flags = []
    for threshold in thresholds:
        if not isinstance(threshold, clinicalCriteria.Cutoff):
            raise ValueError(f"Threshold {threshold!r} is not a cut-off: expected a clinicalCriteria.Cutoff with source and population")
        flags.append(
            clinicalCriteria.evaluate(
                threshold, value, status=clinicalCriteria.UNCHECKED,
                reason=(reason or "no FLR-F_BSA") if value is None else "",
                label=f"FLR-F/BSA ({threshold.source.split(' (')[0]})",
            )
        )
    return flags


@dataclass(frozen=True)
class RemnantFunctionAssessment:
    """MUR, FLR-C, FLR-F, the per-BSA values (None without BSA) and the flags."""

    murPercentPerMin: float
    flrShareFraction: float
    flrFunctionPercentPerMin: float
    bsaM2: Optional[float]
    murPerBsa: Optional[float]
    flrFunctionPerBsa: Optional[float]
    flags: Tuple[clinicalCriteria.Flag, ...]

    def asDict(self):
        return {
            "murPercentPerMin": self.murPercentPerMin,
            "flrSharePercent": self.flrShareFraction * PERCENT_PER_FRACTION,
            "flrFunctionPercentPerMin": self.flrFunctionPercentPerMin,
            "bsaM2": self.bsaM2,
            "murPerBsa": self.murPerBsa,
            "flrFunctionPerBsa": self.flrFunctionPerBsa,
            "units": {
                "murPercentPerMin": PERCENT_PER_MIN,
                "flrSharePercent": PERCENT,
                "flrFunctionPercentPerMin": PERCENT_PER_MIN,
                "bsaM2": SQUARE_METRE,
                "murPerBsa": PERCENT_PER_MIN_M2,
                "flrFunctionPerBsa": PERCENT_PER_MIN_M2,
            },
            "flags": [flag.asDict() for flag in self.flags],
            "definitions": {key: DEFINITIONS[key].asDict() for key in (MUR, MUR_BSA, FLR_C, FLR_F, FLR_F_BSA)},
        }


def remnantFunctionAssessment(mur, flrShare, bsaM2=None, thresholds=DEFAULT_THRESHOLDS):
    """Everything section 5 derives from MUR and FLR-C; without BSA the per-BSA values are None and
    the flags 'unknown' (the per-BSA functions themselves refuse a missing BSA)."""
    murValue = checkedMur(mur)
    share = _shareFraction(flrShare)
    function = share * murValue
    if bsaM2 is None:
        perBsa = murBsa = None
        reason = "no BSA (height and weight) for FLR-F_BSA"
    else:
        bsa = _bsaValue(bsaM2)
        perBsa, murBsa, reason = function / bsa, murValue / bsa, ""
    return RemnantFunctionAssessment(
        murPercentPerMin=murValue,
        flrShareFraction=share,
        flrFunctionPercentPerMin=function,
        bsaM2=None if bsaM2 is None else _bsaValue(bsaM2),
        murPerBsa=murBsa,
        flrFunctionPerBsa=perBsa,
        flags=tuple(remnantFunctionFlags(perBsa, thresholds, reason)),
    )
