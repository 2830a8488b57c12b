"""Laboratory values and their units, checked for unit mistakes (clinical reference section 7).

Laboratory values carry explicit units. Each quantity has one canonical unit (bilirubin umol/L,
creatinine mg/dL, albumin g/L, sodium mmol/L, INR dimensionless, prothrombin time % of normal,
ICG PDR %/min, ICG R15 %) and a few accepted units converted by one factor each (``UNITS``).
A value outside its plausible range is refused with the unit mistake it most likely is, e.g.
albumin 4.0 g/L "looks like g/dL (= 40 g/L)". INR and prothrombin time as % of normal (PT %)
are different measurements and are never converted into each other.
Units are never guessed: a value without its unit is refused. Scores take ``LabValue`` records,
or numbers in the canonical unit checked like them (``canonicalValue``).
"""

import dataclasses
import math
from dataclasses import dataclass
from typing import Tuple

from ALPPSVolumetryLib.criteria.bodySize import checkedNumber

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
# 0.15 = 15 min x 1/100 (PDR is a percentage per minute). The formula is here because the
# plausible R15 range follows from the plausible PDRs; icgClearance converts checked values with it.
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


def icgRetentionPercent(pdrPercentPerMin):
    """ICG R15 (%) of a PDR (%/min), unchecked: the formula behind the plausible R15 range here and
    ``icgClearance``."""
    return PERCENT_PER_FRACTION * math.exp(-pdrPercentPerMin * ICG_RETENTION_MINUTES / PERCENT_PER_FRACTION)


# ICG retention at 15 min: the R15 of the plausible PDRs (0.055-92.8 %), so that R15 and PDR convert
# into each other within their ranges. An R15 written as a fraction (0.08 for 8 %) cannot be told
# from a very good clearance unless it is below 0.055.
ICG_R15_PLAUSIBLE_PERCENT = (
    icgRetentionPercent(ICG_PDR_PLAUSIBLE_PERCENT_PER_MIN[1]),
    icgRetentionPercent(ICG_PDR_PLAUSIBLE_PERCENT_PER_MIN[0]),
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


def withUnit(value, unit):
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
            hints.append(f"looks like {other.unit} (= {withUnit(significantDigits(asGiven), givenConversion.unit)})")
    for key in quantity.confusedWith:
        other = UNITS[key]
        if _inRange(given, other.plausibleRange):
            hints.append(
                f"looks like {other.mistakeName} (a different measurement, never converted into {quantity.mistakeName})"
            )
    fraction = given * PERCENT_PER_FRACTION
    if quantity.fractionMistake and given < 1 and _inRange(fraction, quantity.plausibleRange):
        asPercent = withUnit(significantDigits(fraction), givenConversion.unit)
        hints.append(f"looks like a fraction (= {asPercent})")
    return hints


def significantDigits(value):
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
        shown = withUnit(given, conversion.unit)
        if conversion.unit != lab.canonicalUnit:
            shown += f" (= {withUnit(significantDigits(canonical), lab.canonicalUnit)})"
        if given < 0:
            problem = "is negative"
        else:
            bounds = f"{significantDigits(low):g}-{withUnit(significantDigits(high), lab.canonicalUnit)}"
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


def canonicalValue(quantity, value):
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
