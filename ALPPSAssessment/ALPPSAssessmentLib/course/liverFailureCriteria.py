"""Signs of post-hepatectomy liver failure (PHLF) after ALPPS stage 2, from the postoperative
laboratory values (clinical reference sections 7 and 8): the 50-50 rule (Balzan 2005) and the
peak bilirubin (Mullen 2007), as go-ahead flags ("met" means no sign of liver failure).

Not computed on purpose: the ISGLS grade of PHLF (Rahbari 2011): grades A/B/C are defined by the
clinical management the patient needs, which laboratory values cannot tell; its definition is
listed (``computed`` False) so that a report can say that it is not computed.
"""

import numbers

from ALPPSVolumetryLib.criteria import clinicalCriteria
from ALPPSVolumetryLib.criteria.bodySize import CHECKED, checkedNumber, UNCHECKED
from ALPPSVolumetryLib.criteria.clinicalCriteria import MET, UNKNOWN
from ALPPSVolumetryLib.results.quantityDefinition import QuantityDefinition

from .laboratoryUnits import (
    BILIRUBIN,
    BILIRUBIN_UMOL_PER_L_PER_MG_PER_DL,
    DIMENSIONLESS,
    PROTHROMBIN_TIME_PERCENT,
    UMOL_PER_L,
    LabValue,
    canonicalValue,
)

BALZAN_2005 = clinicalCriteria.BALZAN_2005
MULLEN_2007 = clinicalCriteria.MULLEN_2007
RAHBARI_2011 = "Rahbari 2011 Surgery 149:713 (ISGLS definition and grading of PHLF)"

FIFTY_FIFTY = "fiftyFifty"
PEAK_BILIRUBIN = "peakBilirubin"
ISGLS = "isgls"

# PHLF after stage 2 (section 7, [checked]).
FIFTY_FIFTY_PROTHROMBIN_BELOW_PERCENT = clinicalCriteria.FIFTY_FIFTY_PROTHROMBIN.threshold
FIFTY_FIFTY_BILIRUBIN_ABOVE_UMOL_PER_L = clinicalCriteria.FIFTY_FIFTY_BILIRUBIN.threshold
FIFTY_FIFTY_POSTOPERATIVE_DAY = 5
PEAK_BILIRUBIN_ABOVE_MG_PER_DL = clinicalCriteria.PEAK_BILIRUBIN.threshold
PEAK_BILIRUBIN_ABOVE_UMOL_PER_L = PEAK_BILIRUBIN_ABOVE_MG_PER_DL * BILIRUBIN_UMOL_PER_L_PER_MG_PER_DL  # 119.728

LIVER_FAILURE_DEFINITIONS = {
    definition.key: definition
    for definition in (
        QuantityDefinition(
            FIFTY_FIFTY,
            "50-50 rule (PHLF)",
            DIMENSIONLESS,
            f"met (no sign) unless prothrombin time < {FIFTY_FIFTY_PROTHROMBIN_BELOW_PERCENT:g} % of normal and bilirubin > "
            f"{FIFTY_FIFTY_BILIRUBIN_ABOVE_UMOL_PER_L:g} umol/L on postoperative day {FIFTY_FIFTY_POSTOPERATIVE_DAY}; "
            "needs PT as % of normal (INR is not converted) and the postoperative day",
            BALZAN_2005,
            CHECKED,
            0,
        ),
        QuantityDefinition(
            PEAK_BILIRUBIN,
            "Peak postoperative bilirubin > 7 mg/dL (PHLF)",
            UMOL_PER_L,
            f"met when the highest postoperative bilirubin is <= {PEAK_BILIRUBIN_ABOVE_MG_PER_DL:g} mg/dL; the risk sign is > it "
            f"(= {PEAK_BILIRUBIN_ABOVE_UMOL_PER_L:.1f} umol/L)",
            MULLEN_2007,
            CHECKED,
            1,
        ),
        QuantityDefinition(
            ISGLS,
            "ISGLS post-hepatectomy liver failure grade",
            DIMENSIONLESS,
            "rising INR and bilirubin on or after postoperative day 5; grade A/B/C by the clinical management needed",
            RAHBARI_2011,
            UNCHECKED,
            0,
            computed=False,
            note="not computed: the grade depends on the clinical management, which laboratory values cannot tell",
        ),
    )
}


def _postoperativeDay(day):
    expected = "a whole number of days after the operation (day of the operation = 0)"
    if day is None:
        return None
    value = checkedNumber(day, "Postoperative day", expected)
    if value != int(value):
        raise ValueError(f"Postoperative day {value:g} is not a whole day: expected {expected}")
    if value < 0:
        raise ValueError(f"Postoperative day {value:g} is before the operation: expected {expected}")
    return int(value)


def fiftyFiftyRule(prothrombinTimePercent, bilirubinUmolPerL, postoperativeDay):
    """The 50-50 rule (Balzan 2005), as a go-ahead flag: 'not met' when PT < 50 % of normal and
    bilirubin > 50 umol/L on postoperative day 5 (the sign of liver failure), 'met' when either
    value is outside its risk group. Either value may be None (not measured).

    'unknown' when the day is missing or not day 5, or when a missing value leaves the answer
    open. PT must be % of normal: an INR is refused, never converted.
    """
    definition = LIVER_FAILURE_DEFINITIONS[FIFTY_FIFTY]
    day = _postoperativeDay(postoperativeDay)
    pt = None if prothrombinTimePercent is None else canonicalValue(PROTHROMBIN_TIME_PERCENT, prothrombinTimePercent)
    bilirubin = None if bilirubinUmolPerL is None else canonicalValue(BILIRUBIN, bilirubinUmolPerL)
    parts = (
        clinicalCriteria.evaluate(
            clinicalCriteria.FIFTY_FIFTY_PROTHROMBIN, pt,
            reason="" if pt is not None else "prothrombin time (% of normal) not given; INR is not converted",
        ),
        clinicalCriteria.evaluate(
            clinicalCriteria.FIFTY_FIFTY_BILIRUBIN, bilirubin, reason="" if bilirubin is not None else "bilirubin not given"
        ),
    )
    states = [part.state for part in parts]
    if day is None:
        state, reason = UNKNOWN, f"postoperative day not given: the rule applies on day {FIFTY_FIFTY_POSTOPERATIVE_DAY}"
    elif day != FIFTY_FIFTY_POSTOPERATIVE_DAY:
        state = UNKNOWN
        reason = f"values of postoperative day {day}: the rule is defined on day {FIFTY_FIFTY_POSTOPERATIVE_DAY} only"
    else:
        state = clinicalCriteria.combinedState(states)
        missing = "; ".join(part.reason for part in parts if part.value is None)
        if state == MET and missing:
            reason = f"one condition is outside its risk group, whatever the missing value ({missing})"
        elif state == UNKNOWN:
            reason = missing
        else:
            reason = ""
    return clinicalCriteria.Flag(
        criterion=definition.key,
        label="No 50-50 sign of liver failure",
        value=None,
        unit=DIMENSIONLESS,
        threshold=None,
        comparison=(
            f"not (PT < {FIFTY_FIFTY_PROTHROMBIN_BELOW_PERCENT:g} % and bilirubin > "
            f"{FIFTY_FIFTY_BILIRUBIN_ABOVE_UMOL_PER_L:g} umol/L on postoperative day {FIFTY_FIFTY_POSTOPERATIVE_DAY})"
        ),
        state=state,
        source=definition.reference,
        status=definition.status,
        riskGroup=(
            f"PT < {FIFTY_FIFTY_PROTHROMBIN_BELOW_PERCENT:g} % and bilirubin > {FIFTY_FIFTY_BILIRUBIN_ABOVE_UMOL_PER_L:g} umol/L "
            f"on day {FIFTY_FIFTY_POSTOPERATIVE_DAY}"
        ),
        reason=reason,
        parts=parts,
    )


def peakBilirubinFlag(postoperativeBilirubinsUmolPerL):
    """Peak postoperative bilirubin <= 7 mg/dL (Mullen 2007: > 7 mg/dL is the risk group), over the
    postoperative values given (numbers in umol/L or bilirubin ``LabValue`` records), compared in
    mg/dL as shown. No values gives 'unknown'."""
    values = postoperativeBilirubinsUmolPerL
    if isinstance(values, (str, bytes, LabValue, numbers.Number)) or not hasattr(values, "__iter__"):
        raise ValueError(
            f"Postoperative bilirubins {values!r} are not a list: expected the postoperative bilirubin values "
            "(umol/L), e.g. [35, 80, 62]"
        )
    bilirubins = [canonicalValue(BILIRUBIN, value) for value in values]
    peak = max(bilirubins) / BILIRUBIN_UMOL_PER_L_PER_MG_PER_DL if bilirubins else None
    return clinicalCriteria.evaluate(
        clinicalCriteria.PEAK_BILIRUBIN, peak, reason="" if bilirubins else "no postoperative bilirubin values"
    )
