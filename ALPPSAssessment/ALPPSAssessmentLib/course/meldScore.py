"""MELD from bilirubin, creatinine and INR, with its floors, caps and dialysis rule, and the
MELD > 10 flag before ALPPS stage 2 (clinical reference sections 7 and 8).

MELD = 9.57 ln(creatinine mg/dL) + 3.78 ln(bilirubin mg/dL) + 11.2 ln(INR) + 6.43; each input
below 1.0 is set to 1.0, creatinine is capped at 4.0 mg/dL and set to it after two or more
dialyses (or 24 h of CVVHD) in the week before, the result is capped at 40 [checked in code and
the UNOS calculator]. Before stage 2, MELD > 10 carries a higher 90-day mortality (Schadde 2015):
the rounded, reported score is compared.
"""

import math
from dataclasses import dataclass, field
from typing import Tuple

from ALPPSVolumetryLib.criteria import clinicalCriteria
from ALPPSVolumetryLib.criteria.bodySize import CHECKED
from ALPPSVolumetryLib.results.quantityDefinition import QuantityDefinition

from .laboratoryUnits import (
    BILIRUBIN,
    BILIRUBIN_UMOL_PER_L_PER_MG_PER_DL,
    CREATININE,
    DIMENSIONLESS,
    INR,
    MG_PER_DL,
    canonicalValue,
    significantDigits,
    withUnit,
)

KAMATH_2001 = "Kamath 2001 Hepatology 33:464 (MELD); floors and caps as in the UNOS implementation"
SCHADDE_2015 = clinicalCriteria.SCHADDE_2015

MELD = "meld"
MELD_BEFORE_STAGE_2 = "meldBeforeStage2"

# MELD (section 7, [checked in code]): 9.57 ln(Cr mg/dL) + 3.78 ln(bilirubin mg/dL) + 11.2 ln(INR) + 6.43.
MELD_CREATININE_COEFFICIENT = 9.57
MELD_BILIRUBIN_COEFFICIENT = 3.78
MELD_INR_COEFFICIENT = 11.2
MELD_CONSTANT = 6.43
MELD_INPUT_FLOOR = 1.0  # each input below 1.0 is set to 1.0
MELD_CREATININE_CAP_MG_PER_DL = 4.0
MELD_MAXIMUM = 40.0
# Schadde 2015: MELD > 10 before stage 2 (the rounded, reported score is compared).
MELD_BEFORE_STAGE_2_ABOVE = clinicalCriteria.MELD_BEFORE_STAGE_2.threshold
DIALYSIS = "dialysis"
DIALYSIS_TEXT = "two or more dialyses (or 24 h of CVVHD) in the week before"

MELD_DEFINITIONS = {
    definition.key: definition
    for definition in (
        QuantityDefinition(
            MELD,
            "MELD score",
            DIMENSIONLESS,
            f"{MELD_CREATININE_COEFFICIENT:g} ln(creatinine mg/dL) "
            f"+ {MELD_BILIRUBIN_COEFFICIENT:g} ln(bilirubin mg/dL) "
            f"+ {MELD_INR_COEFFICIENT:g} ln(INR) + {MELD_CONSTANT:g}; each input below {MELD_INPUT_FLOOR:.1f} set to "
            f"{MELD_INPUT_FLOOR:.1f}, creatinine capped at {MELD_CREATININE_CAP_MG_PER_DL:.1f} mg/dL (and set to it after "
            f"{DIALYSIS_TEXT}), result capped at {MELD_MAXIMUM:g}; reported as the nearest integer (halves up), the unrounded value kept beside it",
            KAMATH_2001,
            CHECKED,
            0,
        ),
        QuantityDefinition(
            MELD_BEFORE_STAGE_2,
            "MELD > 10 before ALPPS stage 2",
            DIMENSIONLESS,
            f"met when the rounded MELD score before stage 2 is <= {MELD_BEFORE_STAGE_2_ABOVE:g}; > "
            f"{MELD_BEFORE_STAGE_2_ABOVE:g} carries a higher 90-day mortality after stage 2",
            SCHADDE_2015,
            CHECKED,
            0,
        ),
    )
}


@dataclass(frozen=True)
class MeldResult:
    score: float  # after floors and caps, unrounded
    rounded: int  # the reported MELD: nearest integer, halves up; thresholds use this one
    bilirubinMgPerDl: float  # as given, converted
    creatinineMgPerDl: float
    inr: float
    adjustments: Tuple[str, ...]  # floors and caps applied, e.g. 'INR 0.9 set to 1.0'
    definition: QuantityDefinition = field(default=MELD_DEFINITIONS[MELD], repr=False)

    def asDict(self):
        return {
            "score": self.score,
            "rounded": self.rounded,
            "bilirubinMgPerDl": self.bilirubinMgPerDl,
            "creatinineMgPerDl": self.creatinineMgPerDl,
            "inr": self.inr,
            "adjustments": list(self.adjustments),
            "definition": self.definition.asDict(),
        }


def _floored(value, name, unit, adjustments):
    if value < MELD_INPUT_FLOOR:
        adjustments.append(f"{name} {withUnit(significantDigits(value), unit)} set to {MELD_INPUT_FLOOR:.1f}")
        return MELD_INPUT_FLOOR
    return value


def _roundHalfUp(value):
    return math.floor(value + 0.5)


def meld(bilirubinUmolPerL, creatinineMgPerDl, inr, dialysis=False):
    """MELD from bilirubin (umol/L), creatinine (mg/dL) and INR, each a number in that unit or a
    ``LabValue`` (e.g. ``labValue('creatinine', 90, 'umol/L')``).

    Each input below 1.0 (bilirubin and creatinine in mg/dL) is set to 1.0, creatinine is capped at
    4.0 mg/dL, the score at 40; ``dialysis`` (two or more dialyses, or 24 h of CVVHD, in the week
    before) sets creatinine to 4.0 mg/dL. ``score`` is unrounded; ``rounded`` is the reported integer.
    """
    if not isinstance(dialysis, bool):
        raise ValueError(f"Dialysis {dialysis!r} is not an answer: expected True or False ({DIALYSIS_TEXT})")
    bilirubin = canonicalValue(BILIRUBIN, bilirubinUmolPerL) / BILIRUBIN_UMOL_PER_L_PER_MG_PER_DL
    creatinine = canonicalValue(CREATININE, creatinineMgPerDl)
    ratio = canonicalValue(INR, inr)
    adjustments = []
    usedBilirubin = _floored(bilirubin, "bilirubin", MG_PER_DL, adjustments)
    usedCreatinine = _floored(creatinine, "creatinine", MG_PER_DL, adjustments)
    if dialysis:
        adjustments.append(f"creatinine set to {MELD_CREATININE_CAP_MG_PER_DL:.1f} mg/dL: {DIALYSIS_TEXT}")
        usedCreatinine = MELD_CREATININE_CAP_MG_PER_DL
    elif usedCreatinine > MELD_CREATININE_CAP_MG_PER_DL:
        adjustments.append(
            f"creatinine {withUnit(significantDigits(creatinine), MG_PER_DL)} capped at {MELD_CREATININE_CAP_MG_PER_DL:.1f}"
        )
        usedCreatinine = MELD_CREATININE_CAP_MG_PER_DL
    usedInr = _floored(ratio, "INR", DIMENSIONLESS, adjustments)
    score = (
        MELD_CREATININE_COEFFICIENT * math.log(usedCreatinine)
        + MELD_BILIRUBIN_COEFFICIENT * math.log(usedBilirubin)
        + MELD_INR_COEFFICIENT * math.log(usedInr)
        + MELD_CONSTANT
    )
    if score > MELD_MAXIMUM:
        adjustments.append(f"score {score:.2f} capped at {MELD_MAXIMUM:g}")
        score = MELD_MAXIMUM
    return MeldResult(
        score=score,
        rounded=_roundHalfUp(score),
        bilirubinMgPerDl=bilirubin,
        creatinineMgPerDl=creatinine,
        inr=ratio,
        adjustments=tuple(adjustments),
    )


def dialysisOfLabs(labs):
    """Whether a time point's labs record dialysis for MELD (stored as ``{"dialysis": [True, ""]}``)."""
    entry = labs.get(DIALYSIS)
    return bool(entry and entry[0])


def dialysisAnswer(value):
    """True or False from a dialysis answer typed as yes/no (or given as a bool); anything else is
    refused: MELD changes with it."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("yes", "true", "1"):
        return True
    if text in ("no", "false", "0"):
        return False
    raise ValueError(f"Dialysis '{value}' is not an answer: expected yes or no ({DIALYSIS_TEXT})")


def meldBeforeStage2Flag(meldResult):
    """MELD <= 10 before ALPPS stage 2 (Schadde 2015: > 10 is the risk group), on the rounded score.
    ``meldResult`` None (no laboratory values) gives 'unknown'."""
    if meldResult is not None and not isinstance(meldResult, MeldResult):
        raise ValueError(f"MELD result {meldResult!r} is not a MELD result: expected the result of meld() or None")
    value = None if meldResult is None else meldResult.rounded
    reason = "needs bilirubin, creatinine and INR of the latest scan before stage 2" if value is None else ""
    note = "; ".join(meldResult.adjustments) if meldResult is not None else ""
    return clinicalCriteria.evaluate(clinicalCriteria.MELD_BEFORE_STAGE_2, value, reason=reason, note=note, label="MELD")
