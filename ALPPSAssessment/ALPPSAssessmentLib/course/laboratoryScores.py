"""Laboratory scores shown beside imaging: MELD, ALBI, ICG clearance, and post-hepatectomy liver
failure (PHLF) flags (clinical reference section 7).

Where they sit in the ALPPS course (section 8): MELD before stage 2, when MELD > 10 carries a
higher 90-day mortality; ALBI and ICG clearance with the imaging of liver function; the PHLF flags
after stage 2, from the postoperative laboratory values.

Laboratory values carry explicit units. Each quantity has one canonical unit (bilirubin umol/L,
creatinine mg/dL, albumin g/L, sodium mmol/L, INR dimensionless, prothrombin time % of normal,
ICG PDR %/min, ICG R15 %) and a few accepted units converted by one factor each (``UNITS``).
A value outside its plausible range is refused with the unit mistake it most likely is, e.g.
albumin 4.0 g/L "looks like g/dL (= 40 g/L)". INR and prothrombin time as % of normal (PT %)
are different measurements and are never converted into each other.

Every score and flag has one definition (``SCORE_DEFINITIONS``: label, unit, definition,
reference, status as marked in the clinical reference) for tables, reports and JSON. Flags are
``clinicalCriteria.Flag`` records: "met" means the criterion for going ahead holds (MELD <= 10,
no 50-50 sign, peak bilirubin <= 7 mg/dL), as everywhere in the extension; the clinician decides.
Units are never guessed: a value without its unit is refused.

Not implemented on purpose:
- the ISGLS grade of PHLF (Rahbari 2011): grades A/B/C are defined by the clinical management
  the patient needs, which laboratory values cannot tell; its definition is listed
  (``computed`` False) so that a report can say that it is not computed.
- the ALPPS risk score (Linecker, Ann Surg 2016): the clinical reference confirms only the
  published risk tables; the point weights and the stage-2 equation are [unchecked], and it says
  not to ship a calculator for them until they are confirmed against the paper.
"""

import dataclasses
import math
import numbers
from dataclasses import dataclass, field
from typing import Tuple

from ALPPSVolumetryLib import clinicalCriteria
from ALPPSVolumetryLib.bodySize import CHECKED, UNCHECKED, checkedNumber
from ALPPSVolumetryLib.clinicalCriteria import MET, UNKNOWN
from ALPPSVolumetryLib.quantityDefinition import QuantityDefinition
from ALPPSVolumetryLib.remnantRatios import measuredFutureLiverRemnantPercent

# --- Quantities and units -----------------------------------------------------------------------

BILIRUBIN = "bilirubin"
CREATININE = "creatinine"
ALBUMIN = "albumin"
SODIUM = "sodium"
INR = "inr"
PROTHROMBIN_TIME_PERCENT = "prothrombinTimePercent"
ICG_PDR = "icgPdr"
ICG_R15 = "icgR15"

UMOL_PER_L = "umol/L"
MG_PER_DL = "mg/dL"
G_PER_L = "g/L"
G_PER_DL = "g/dL"
MMOL_PER_L = "mmol/L"
MEQ_PER_L = "mEq/L"
PERCENT = "%"
PERCENT_PER_MIN = "%/min"
DIMENSIONLESS = ""  # INR, MELD and ALBI have no unit

# Conversion factors, one source each.
BILIRUBIN_UMOL_PER_L_PER_MG_PER_DL = 17.104  # clinical reference, "units used everywhere"
# Not in the clinical reference: the standard conversion factor for creatinine (molar mass about
# 113.1 g/mol: 1 mg/dL = 10 mg/L / 113.1 mg/mmol = 88.42 umol/L), used by laboratories and the
# usual MELD calculators.
CREATININE_UMOL_PER_L_PER_MG_PER_DL = 88.42
G_PER_L_PER_G_PER_DL = 10.0  # 1 L = 10 dL, exact
MMOL_PER_L_PER_MEQ_PER_L = 1.0  # sodium is monovalent: 1 mEq = 1 mmol, exact

_BILIRUBIN_FACTOR_SOURCE = "clinical reference: bilirubin umol/L = mg/dL x 17.104"
_CREATININE_FACTOR_SOURCE = (
    "standard conversion factor for creatinine (molar mass about 113.1 g/mol), not from the clinical "
    "reference: umol/L = mg/dL x 88.42"
)

# ICG: R15 = 100 exp(-0.15 PDR) (mono-exponential clearance, PDR in %/min, 15 min), section 7.
# 0.15 = 15 min x 1/100 (PDR is a percentage per minute).
ICG_RETENTION_MINUTES = 15.0
PERCENT_PER_FRACTION = 100.0

# Plausibility ranges, inclusive, in the canonical unit. They are software checks against unit and
# typing mistakes, not clinical thresholds: each is wide enough for the extremes of liver failure,
# and values outside are far more likely a unit mistake than a patient.
#
# Bilirubin: routine assays do not measure below about 1-2 umol/L, and above 50 mg/dL (855 umol/L)
# no adult value is expected. Catches bilirubin in mg/dL below 1 mg/dL typed as umol/L, and in
# umol/L above 855/17.104 typed as mg/dL. Cannot catch 1-50 mg/dL typed as umol/L (a real, low or
# normal value in umol/L): bilirubin 1.2 "umol/L" is accepted as umol/L.
BILIRUBIN_PLAUSIBLE_UMOL_PER_L = (1.0, 50.0 * BILIRUBIN_UMOL_PER_L_PER_MG_PER_DL)
# Creatinine: 0.1 mg/dL (8.8 umol/L) is below severe sarcopenia, 25 mg/dL (2210 umol/L) above
# untreated end-stage kidney failure. Every usual umol/L value (30-2000) typed as mg/dL is above
# 25; values below 2.2 umol/L typed in umol/L are mg/dL values.
CREATININE_PLAUSIBLE_MG_PER_DL = (0.1, 25.0)
# Albumin: 8 g/L is below the lowest serum albumins of nephrotic syndrome or liver failure, 70 g/L
# above haemoconcentration. Every albumin written in g/dL (1-6 g/dL) is below 8: caught.
ALBUMIN_PLAUSIBLE_G_PER_L = (8.0, 70.0)
# Sodium: 100-180 mmol/L spans severe hypo- to hypernatraemia.
SODIUM_PLAUSIBLE_MMOL_PER_L = (100.0, 180.0)
# INR: 0.5 is below any measured INR; laboratories rarely report above 10, and above 15 a value is
# more likely a prothrombin time as % of normal (or in seconds) than an INR.
INR_PLAUSIBLE = (0.5, 15.0)
# Prothrombin time as % of normal (Quick): normal about 70-130 %, down to about 10 % in liver
# failure. Below 5 % the number is more likely an INR or a fraction (0.45 for 45 %).
PROTHROMBIN_TIME_PLAUSIBLE_PERCENT = (5.0, 200.0)
# ICG plasma disappearance rate: normal about 18-25 %/min. Above 50 %/min is not a measured
# clearance; below 0.5 %/min the number is more likely a fraction per minute (0.18 for 18 %/min).
ICG_PDR_PLAUSIBLE_PERCENT_PER_MIN = (0.5, 50.0)


def _icgR15(pdrPercentPerMin):
    return PERCENT_PER_FRACTION * math.exp(-pdrPercentPerMin * ICG_RETENTION_MINUTES / PERCENT_PER_FRACTION)


# ICG retention at 15 min: the R15 of the plausible PDRs (0.055-92.8 %), so that R15 and PDR convert
# into each other within their ranges. An R15 written as a fraction (0.08 for 8 %) cannot be told
# from a very good clearance unless it is below 0.055.
ICG_R15_PLAUSIBLE_PERCENT = (
    _icgR15(ICG_PDR_PLAUSIBLE_PERCENT_PER_MIN[1]),
    _icgR15(ICG_PDR_PLAUSIBLE_PERCENT_PER_MIN[0]),
)


@dataclass(frozen=True)
class UnitConversion:
    unit: str
    toCanonical: float  # value in this unit x toCanonical = value in the canonical unit
    source: str


@dataclass(frozen=True)
class LabQuantity:
    """A laboratory quantity: its canonical unit, the units accepted and their conversion factors,
    and the plausible range that catches unit mistakes."""

    key: str
    label: str
    canonicalUnit: str
    conversions: Tuple[UnitConversion, ...]  # the canonical unit first, with factor 1
    plausibleRange: Tuple[float, float]  # inclusive, canonical unit
    example: str  # a typical value, shown in error messages
    mistakeName: str  # what a number that looks like this quantity is called in a hint
    # Quantities this one is confused with: a value implausible here but plausible there is
    # named as that quantity. They are never converted into each other.
    confusedWith: Tuple[str, ...] = ()
    # A percentage typed as a fraction (0.45 for 45 %) is named as such (numbers below 1 only).
    fractionMistake: bool = False
    aliases: Tuple[str, ...] = ()  # further spellings of the canonical unit

    @property
    def units(self):
        return tuple(conversion.unit for conversion in self.conversions)

    def conversion(self, unit):
        """The ``UnitConversion`` of ``unit`` (spelling-tolerant), ValueError listing the accepted units."""
        expected = f"one of {', '.join(repr(unit) for unit in self.units)}"
        if not isinstance(unit, str):
            raise ValueError(f"{self.label} unit {unit!r} is not a unit: expected {expected}")
        wanted = _unitKey(unit)
        for conversion in self.conversions:
            if _unitKey(conversion.unit) == wanted:
                return conversion
        if wanted in {_unitKey(alias) for alias in self.aliases}:
            return self.conversions[0]
        raise ValueError(f"{self.label} unit {unit!r} is not accepted: expected {expected}")


def _unitKey(unit):
    """Unit spellings compared without case, spaces or the micro sign's variants (umol = µmol)."""
    return unit.replace("\u00b5", "u").replace("\u03bc", "u").replace(" ", "").lower()


def _canonicalOnly(unit):
    return (UnitConversion(unit, 1.0, "canonical unit"),)


UNITS = {
    quantity.key: quantity
    for quantity in (
        LabQuantity(
            BILIRUBIN,
            "Bilirubin",
            UMOL_PER_L,
            (
                UnitConversion(UMOL_PER_L, 1.0, "canonical unit"),
                UnitConversion(MG_PER_DL, BILIRUBIN_UMOL_PER_L_PER_MG_PER_DL, _BILIRUBIN_FACTOR_SOURCE),
            ),
            BILIRUBIN_PLAUSIBLE_UMOL_PER_L,
            "e.g. 17 umol/L or 1.0 mg/dL",
            "bilirubin",
        ),
        LabQuantity(
            CREATININE,
            "Creatinine",
            MG_PER_DL,
            (
                UnitConversion(MG_PER_DL, 1.0, "canonical unit"),
                UnitConversion(UMOL_PER_L, 1.0 / CREATININE_UMOL_PER_L_PER_MG_PER_DL, _CREATININE_FACTOR_SOURCE),
            ),
            CREATININE_PLAUSIBLE_MG_PER_DL,
            "e.g. 0.9 mg/dL or 80 umol/L",
            "creatinine",
        ),
        LabQuantity(
            ALBUMIN,
            "Albumin",
            G_PER_L,
            (
                UnitConversion(G_PER_L, 1.0, "canonical unit"),
                UnitConversion(G_PER_DL, G_PER_L_PER_G_PER_DL, "exact: 1 L = 10 dL"),
            ),
            ALBUMIN_PLAUSIBLE_G_PER_L,
            "e.g. 40 g/L or 4.0 g/dL",
            "albumin",
        ),
        LabQuantity(
            SODIUM,
            "Sodium",
            MMOL_PER_L,
            (
                UnitConversion(MMOL_PER_L, 1.0, "canonical unit"),
                UnitConversion(MEQ_PER_L, MMOL_PER_L_PER_MEQ_PER_L, "exact for a monovalent ion: 1 mEq = 1 mmol"),
            ),
            SODIUM_PLAUSIBLE_MMOL_PER_L,
            "e.g. 140 mmol/L",
            "sodium",
        ),
        LabQuantity(
            INR,
            "INR",
            DIMENSIONLESS,
            _canonicalOnly(DIMENSIONLESS),
            INR_PLAUSIBLE,
            "a dimensionless ratio, e.g. 1.1",
            "an INR",
            confusedWith=(PROTHROMBIN_TIME_PERCENT,),
            aliases=("INR", "1", "ratio"),
        ),
        LabQuantity(
            PROTHROMBIN_TIME_PERCENT,
            "Prothrombin time (% of normal)",
            PERCENT,
            _canonicalOnly(PERCENT),
            PROTHROMBIN_TIME_PLAUSIBLE_PERCENT,
            "a percentage of normal, e.g. 85 %",
            "a prothrombin time as % of normal (PT %)",
            confusedWith=(INR,),
            fractionMistake=True,
        ),
        LabQuantity(
            ICG_PDR,
            "ICG plasma disappearance rate (PDR)",
            PERCENT_PER_MIN,
            _canonicalOnly(PERCENT_PER_MIN),
            ICG_PDR_PLAUSIBLE_PERCENT_PER_MIN,
            "e.g. 20 %/min",
            "an ICG PDR",
            fractionMistake=True,
        ),
        LabQuantity(
            ICG_R15,
            "ICG retention at 15 min (R15)",
            PERCENT,
            _canonicalOnly(PERCENT),
            ICG_R15_PLAUSIBLE_PERCENT,
            "e.g. 8 %",
            "an ICG R15",
            fractionMistake=True,
        ),
    )
}


def _quantity(key):
    if key not in UNITS:
        raise ValueError(f"Unknown laboratory quantity {key!r}: expected one of {', '.join(UNITS)}")
    return UNITS[key]


def _withUnit(value, unit):
    return f"{value:g} {unit}" if unit else f"{value:g}"


def _mistakeHints(quantity, given, givenConversion):
    """What an implausible ``given`` number (in ``givenConversion``'s unit) more likely is."""
    hints = []
    for other in quantity.conversions:
        if other.unit == givenConversion.unit:
            continue
        canonical = given * other.toCanonical
        if _inRange(canonical, quantity.plausibleRange):
            asGiven = canonical / givenConversion.toCanonical
            hints.append(f"looks like {other.unit} (= {_withUnit(_significant(asGiven), givenConversion.unit)})")
    for key in quantity.confusedWith:
        other = UNITS[key]
        if _inRange(given, other.plausibleRange):
            hints.append(
                f"looks like {other.mistakeName} (a different measurement, never converted into {quantity.mistakeName})"
            )
    fraction = given * PERCENT_PER_FRACTION
    if quantity.fractionMistake and given < 1 and _inRange(fraction, quantity.plausibleRange):
        asPercent = _withUnit(_significant(fraction), givenConversion.unit)
        hints.append(f"looks like a fraction (= {asPercent})")
    return hints


def _significant(value):
    """A number to 4 significant digits for messages (1.018, 40, 0.05529)."""
    return float(f"{value:.4g}")


def _inRange(value, bounds):
    return bounds[0] <= value <= bounds[1]


@dataclass(frozen=True)
class LabValue:
    """A laboratory value in its quantity's canonical unit, with the number and unit it was given in."""

    quantity: str  # key in UNITS
    value: float  # canonical unit
    unit: str  # the canonical unit
    givenValue: float
    givenUnit: str

    def asDict(self):
        return dataclasses.asdict(self)


def labValue(quantity, value, unit):
    """A validated ``LabValue``: ``value`` in ``unit`` converted to the quantity's canonical unit.

    ValueError names the quantity and what was expected: an unknown unit, a value that is not a
    number, or a value outside the plausible range with the unit mistake it most likely is.
    """
    lab = _quantity(quantity)
    unitsText = " or ".join(unit for unit in lab.units if unit)
    if lab.canonicalUnit and (unit is None or (isinstance(unit, str) and not unit.strip())):
        raise ValueError(
            f"{lab.label} {value!r} has no unit: choose its unit ({unitsText}); units are never guessed"
        )
    conversion = lab.conversion(unit)
    expected = f"{unitsText} ({lab.example})" if unitsText else lab.example
    given = checkedNumber(value, lab.label, expected)
    canonical = given * conversion.toCanonical
    if not _inRange(canonical, lab.plausibleRange):
        low, high = lab.plausibleRange
        shown = _withUnit(given, conversion.unit)
        if conversion.unit != lab.canonicalUnit:
            shown += f" (= {_withUnit(_significant(canonical), lab.canonicalUnit)})"
        if given < 0:
            problem = "is negative"
        else:
            bounds = f"{_significant(low):g}-{_withUnit(_significant(high), lab.canonicalUnit)}"
            problem = f"is outside the plausible range {bounds}"
        message = f"{lab.label} {shown} {problem}: expected {expected}"
        hints = [] if given <= 0 else _mistakeHints(lab, given, conversion)
        if hints:
            message += f"; {given:g} " + " or ".join(hints)
        raise ValueError(message)
    return LabValue(
        quantity=lab.key, value=canonical, unit=lab.canonicalUnit, givenValue=given, givenUnit=conversion.unit
    )


def bilirubinToUmolPerL(value, unit):
    """Bilirubin in umol/L from ``value`` in 'umol/L' or 'mg/dL' (x 17.104)."""
    return labValue(BILIRUBIN, value, unit).value


def creatinineToMgPerDl(value, unit):
    """Creatinine in mg/dL from ``value`` in 'mg/dL' or 'umol/L' (/ 88.42, the standard conversion)."""
    return labValue(CREATININE, value, unit).value


def albuminToGPerL(value, unit):
    """Albumin in g/L from ``value`` in 'g/L' or 'g/dL' (x 10)."""
    return labValue(ALBUMIN, value, unit).value


def sodiumToMmolPerL(value, unit):
    """Sodium in mmol/L from ``value`` in 'mmol/L' or 'mEq/L' (identical for sodium)."""
    return labValue(SODIUM, value, unit).value


def _canonical(quantity, value):
    """A score's input: a ``LabValue`` of ``quantity`` (any accepted unit), or a number that is
    taken to be in the quantity's canonical unit and checked like one."""
    lab = _quantity(quantity)
    if isinstance(value, LabValue):
        if value.quantity != lab.key:
            raise ValueError(
                f"{UNITS[value.quantity].label} was given where {lab.label} is expected: expected "
                f"{lab.mistakeName} ({lab.example})"
            )
        return value.value
    return labValue(lab.key, value, lab.canonicalUnit).value


# --- References and definitions -----------------------------------------------------------------

KAMATH_2001 = "Kamath 2001 Hepatology 33:464 (MELD); floors and caps as in the UNOS implementation"
SCHADDE_2015 = clinicalCriteria.SCHADDE_2015
JOHNSON_2015 = "Johnson 2015 J Clin Oncol 33:550 (ALBI grade)"
ICG_SOURCE = "clinical reference section 7 (mono-exponential ICG clearance; no primary paper named)"
BALZAN_2005 = clinicalCriteria.BALZAN_2005
MULLEN_2007 = clinicalCriteria.MULLEN_2007
RAHBARI_2011 = "Rahbari 2011 Surgery 149:713 (ISGLS definition and grading of PHLF)"

MELD = "meld"
MELD_BEFORE_STAGE_2 = "meldBeforeStage2"
ALBI = "albi"
ALBI_GRADE = "albiGrade"
REMNANT_PDR = "remnantPdr"
FIFTY_FIFTY = "fiftyFifty"
PEAK_BILIRUBIN = "peakBilirubin"
ISGLS = "isgls"
# ICG_PDR and ICG_R15 key both their quantity in UNITS and their definition here.


ScoreDefinition = QuantityDefinition  # the one definition record, under the name this module has used


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

# ALBI (section 7, [checked in code]): 0.66 log10(bilirubin umol/L) - 0.085 albumin g/L. Some
# implementations use Johnson's -0.0852; the clinical reference's -0.085 is used (its worked
# example, bilirubin 10 and albumin 40 -> -2.740, needs -0.085).
ALBI_BILIRUBIN_COEFFICIENT = 0.66
ALBI_ALBUMIN_COEFFICIENT = -0.085
ALBI_GRADE_1_AT_MOST = -2.60
ALBI_GRADE_2_AT_MOST = -1.39

# PHLF after stage 2 (section 7, [checked]).
FIFTY_FIFTY_PROTHROMBIN_BELOW_PERCENT = clinicalCriteria.FIFTY_FIFTY_PROTHROMBIN.threshold
FIFTY_FIFTY_BILIRUBIN_ABOVE_UMOL_PER_L = clinicalCriteria.FIFTY_FIFTY_BILIRUBIN.threshold
FIFTY_FIFTY_POSTOPERATIVE_DAY = 5
PEAK_BILIRUBIN_ABOVE_MG_PER_DL = clinicalCriteria.PEAK_BILIRUBIN.threshold
PEAK_BILIRUBIN_ABOVE_UMOL_PER_L = PEAK_BILIRUBIN_ABOVE_MG_PER_DL * BILIRUBIN_UMOL_PER_L_PER_MG_PER_DL  # 119.728

SCORE_DEFINITIONS = {
    definition.key: definition
    for definition in (
        ScoreDefinition(
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
        ScoreDefinition(
            MELD_BEFORE_STAGE_2,
            "MELD > 10 before ALPPS stage 2",
            DIMENSIONLESS,
            f"met when the rounded MELD score before stage 2 is <= {MELD_BEFORE_STAGE_2_ABOVE:g}; > "
            f"{MELD_BEFORE_STAGE_2_ABOVE:g} carries a higher 90-day mortality after stage 2",
            SCHADDE_2015,
            CHECKED,
            0,
        ),
        ScoreDefinition(
            ALBI,
            "ALBI score",
            DIMENSIONLESS,
            f"{ALBI_BILIRUBIN_COEFFICIENT:g} log10(bilirubin umol/L) - {-ALBI_ALBUMIN_COEFFICIENT:g} albumin (g/L); "
            "not rounded before grading",
            JOHNSON_2015,
            CHECKED,
            3,
        ),
        ScoreDefinition(
            ALBI_GRADE,
            "ALBI grade",
            DIMENSIONLESS,
            f"grade 1: ALBI <= {ALBI_GRADE_1_AT_MOST:.2f}; grade 2: {ALBI_GRADE_1_AT_MOST:.2f} < ALBI <= "
            f"{ALBI_GRADE_2_AT_MOST:.2f}; grade 3: ALBI > {ALBI_GRADE_2_AT_MOST:.2f}",
            JOHNSON_2015,
            CHECKED,
            0,
        ),
        # The ICG lines of the clinical reference carry no status mark: unchecked.
        ScoreDefinition(
            ICG_R15,
            "ICG retention at 15 min (R15)",
            PERCENT,
            "100 exp(-0.15 PDR), PDR in %/min: mono-exponential clearance over 15 min",
            ICG_SOURCE,
            UNCHECKED,
            1,
        ),
        ScoreDefinition(
            ICG_PDR,
            "ICG plasma disappearance rate (PDR)",
            PERCENT_PER_MIN,
            "-ln(R15 / 100) / 0.15, R15 in %: inverse of R15 = 100 exp(-0.15 PDR)",
            ICG_SOURCE,
            UNCHECKED,
            1,
        ),
        ScoreDefinition(
            REMNANT_PDR,
            "Remnant ICG PDR",
            PERCENT_PER_MIN,
            "PDR (%/min) x FLR / TLV (volumes in mL, the same kind for both: measured or tumour-free)",
            ICG_SOURCE,
            UNCHECKED,
            2,
        ),
        ScoreDefinition(
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
        ScoreDefinition(
            PEAK_BILIRUBIN,
            "Peak postoperative bilirubin > 7 mg/dL (PHLF)",
            UMOL_PER_L,
            f"met when the highest postoperative bilirubin is <= {PEAK_BILIRUBIN_ABOVE_MG_PER_DL:g} mg/dL; the risk sign is > it "
            f"(= {PEAK_BILIRUBIN_ABOVE_UMOL_PER_L:.1f} umol/L)",
            MULLEN_2007,
            CHECKED,
            1,
        ),
        ScoreDefinition(
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


# --- Flags ----------------------------------------------------------------------------------------
# clinicalCriteria.Flag records; the cut-offs are clinicalCriteria's.


# --- MELD -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeldResult:
    score: float  # after floors and caps, unrounded
    rounded: int  # the reported MELD: nearest integer, halves up; thresholds use this one
    bilirubinMgPerDl: float  # as given, converted
    creatinineMgPerDl: float
    inr: float
    adjustments: Tuple[str, ...]  # floors and caps applied, e.g. 'INR 0.9 set to 1.0'
    definition: ScoreDefinition = field(default=SCORE_DEFINITIONS[MELD], repr=False)

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
        adjustments.append(f"{name} {_withUnit(_significant(value), unit)} set to {MELD_INPUT_FLOOR:.1f}")
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
    bilirubin = _canonical(BILIRUBIN, bilirubinUmolPerL) / BILIRUBIN_UMOL_PER_L_PER_MG_PER_DL
    creatinine = _canonical(CREATININE, creatinineMgPerDl)
    ratio = _canonical(INR, inr)
    adjustments = []
    usedBilirubin = _floored(bilirubin, "bilirubin", MG_PER_DL, adjustments)
    usedCreatinine = _floored(creatinine, "creatinine", MG_PER_DL, adjustments)
    if dialysis:
        adjustments.append(f"creatinine set to {MELD_CREATININE_CAP_MG_PER_DL:.1f} mg/dL: {DIALYSIS_TEXT}")
        usedCreatinine = MELD_CREATININE_CAP_MG_PER_DL
    elif usedCreatinine > MELD_CREATININE_CAP_MG_PER_DL:
        adjustments.append(
            f"creatinine {_withUnit(_significant(creatinine), MG_PER_DL)} capped at {MELD_CREATININE_CAP_MG_PER_DL:.1f}"
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


# --- ALBI -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlbiResult:
    score: float  # unrounded; the grade is taken from it
    grade: int  # 1, 2 or 3
    bilirubinUmolPerL: float
    albuminGPerL: float
    definition: ScoreDefinition = field(default=SCORE_DEFINITIONS[ALBI], repr=False)

    def asDict(self):
        return {
            "score": self.score,
            "grade": self.grade,
            "bilirubinUmolPerL": self.bilirubinUmolPerL,
            "albuminGPerL": self.albuminGPerL,
            "definition": self.definition.asDict(),
            "gradeDefinition": SCORE_DEFINITIONS[ALBI_GRADE].asDict(),
        }


def albiGrade(score):
    """ALBI grade (1, 2, 3) of an unrounded ALBI score."""
    value = checkedNumber(score, "ALBI score", "a number (e.g. -2.74)")
    if value <= ALBI_GRADE_1_AT_MOST:
        return 1
    if value <= ALBI_GRADE_2_AT_MOST:
        return 2
    return 3


def albi(bilirubinUmolPerL, albuminGPerL):
    """ALBI score and grade from bilirubin (umol/L) and albumin (g/L), numbers in those units or
    ``LabValue`` records (e.g. ``labValue('albumin', 4.0, 'g/dL')``)."""
    bilirubin = _canonical(BILIRUBIN, bilirubinUmolPerL)
    albumin = _canonical(ALBUMIN, albuminGPerL)
    score = ALBI_BILIRUBIN_COEFFICIENT * math.log10(bilirubin) + ALBI_ALBUMIN_COEFFICIENT * albumin
    return AlbiResult(score=score, grade=albiGrade(score), bilirubinUmolPerL=bilirubin, albuminGPerL=albumin)


# --- ICG clearance --------------------------------------------------------------------------------


def icgR15FromPdr(pdrPercentPerMin):
    """ICG retention at 15 min (%) = 100 exp(-0.15 PDR), PDR in %/min (mono-exponential)."""
    return _icgR15(_canonical(ICG_PDR, pdrPercentPerMin))


def icgPdrFromR15(r15Percent):
    """ICG plasma disappearance rate (%/min) = -ln(R15 / 100) / 0.15, R15 in %."""
    r15 = _canonical(ICG_R15, r15Percent)
    return -math.log(r15 / PERCENT_PER_FRACTION) * PERCENT_PER_FRACTION / ICG_RETENTION_MINUTES


def remnantPdr(pdrPercentPerMin, flrMl, tlvMl):
    """Remnant PDR (%/min) = PDR x FLR / TLV. FLR and TLV in mL, of the same kind (both measured
    or both tumour-free); FLR may not exceed TLV."""
    pdr = _canonical(ICG_PDR, pdrPercentPerMin)
    return pdr * measuredFutureLiverRemnantPercent(flrMl, tlvMl) / PERCENT_PER_FRACTION


# --- Post-hepatectomy liver failure (after stage 2) -----------------------------------------------


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
    definition = SCORE_DEFINITIONS[FIFTY_FIFTY]
    day = _postoperativeDay(postoperativeDay)
    pt = None if prothrombinTimePercent is None else _canonical(PROTHROMBIN_TIME_PERCENT, prothrombinTimePercent)
    bilirubin = None if bilirubinUmolPerL is None else _canonical(BILIRUBIN, bilirubinUmolPerL)
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
    bilirubins = [_canonical(BILIRUBIN, value) for value in values]
    peak = max(bilirubins) / BILIRUBIN_UMOL_PER_L_PER_MG_PER_DL if bilirubins else None
    return clinicalCriteria.evaluate(
        clinicalCriteria.PEAK_BILIRUBIN, peak, reason="" if bilirubins else "no postoperative bilirubin values"
    )
