"""Body size: body surface area (BSA) and standard (estimated) total liver volume (sTLV).

sTLV is the denominator of the standardised future liver remnant (sFLR): it estimates the
liver volume a patient of this size would have without tumour or disease, so it needs no
measured liver volume. Each formula is a ``Formula`` record holding its equation, reference and
status as marked in the clinical reference (section 1), so that every result can say which
formulas produced it. Units: height cm, weight kg, BSA m2, volumes mL.
"""

import math
from dataclasses import dataclass, field
from typing import Callable, Optional

# CHECKED: seen in the source or in an independent implementation; UNCHECKED: widely quoted, not
# confirmed against the primary paper, and shown as such.
from .clinicalCriteria import CHECKED, checkedNumber, UNCHECKED  # noqa: E402,F401 (checkedNumber: re-exported)

DEFAULT_BSA_FORMULA = "mosteller"
DEFAULT_STLV_FORMULA = "vauthey"  # the standard for sFLR (MD Anderson method)

# Plausible adult body size, inclusive. The sTLV formulas were fitted on adults; outside these
# ranges a number is far more likely a unit or typing mistake than a patient. 120-230 cm spans
# adult short stature to the tallest patients; 30-250 kg spans cachexia to severe obesity.
HEIGHT_RANGE_CM = (120.0, 230.0)
WEIGHT_RANGE_KG = (30.0, 250.0)

# Unit mistakes worth naming: a height this small can only be metres; inches and pounds are
# recognised when the converted value is a plausible adult.
METRES_HEIGHT_AT_MOST = 3.0
CM_PER_METRE = 100.0
CM_PER_INCH = 2.54
MM_PER_CM = 10.0
POUNDS_PER_KG = 2.2046


def _inRange(value, bounds):
    return bounds[0] <= value <= bounds[1]


def validateHeightCm(heightCm):
    """Height as a float in cm; ValueError explaining the likely unit mistake otherwise."""
    expected = "centimetres (e.g. 172)"
    height = checkedNumber(heightCm, "Height", expected)
    if height <= 0:
        raise ValueError(f"Height {height:g} cm must be positive: expected {expected}")
    low, high = HEIGHT_RANGE_CM
    if height <= METRES_HEIGHT_AT_MOST:
        raise ValueError(
            f"Height {height:g} cm is implausible: expected {expected}; "
            f"{height:g} looks like metres (= {height * CM_PER_METRE:g} cm)"
        )
    if not _inRange(height, HEIGHT_RANGE_CM):
        message = f"Height {height:g} cm is outside the plausible adult range {low:g}-{high:g} cm: expected {expected}"
        if _inRange(height * CM_PER_INCH, HEIGHT_RANGE_CM):
            message += f"; {height:g} looks like inches (= {height * CM_PER_INCH:.1f} cm)"
        elif _inRange(height / MM_PER_CM, HEIGHT_RANGE_CM):
            message += f"; {height:g} looks like millimetres (= {height / MM_PER_CM:g} cm)"
        raise ValueError(message)
    return height


def validateWeightKg(weightKg):
    """Body weight as a float in kg; ValueError explaining the likely unit mistake otherwise."""
    expected = "kilograms (e.g. 70)"
    weight = checkedNumber(weightKg, "Weight", expected)
    if weight <= 0:
        raise ValueError(f"Weight {weight:g} kg must be positive: expected {expected}")
    low, high = WEIGHT_RANGE_KG
    if not _inRange(weight, WEIGHT_RANGE_KG):
        message = f"Weight {weight:g} kg is outside the plausible adult range {low:g}-{high:g} kg: expected {expected}"
        if weight > high and _inRange(weight / POUNDS_PER_KG, WEIGHT_RANGE_KG):
            message += f"; {weight:g} looks like pounds (= {weight / POUNDS_PER_KG:.1f} kg)"
        raise ValueError(message)
    return weight


def validateBodySize(heightCm, weightKg):
    """``(heightCm, weightKg)`` as floats after the plausibility and unit checks."""
    return validateHeightCm(heightCm), validateWeightKg(weightKg)


@dataclass(frozen=True)
class Formula:
    """One published equation, with what is needed to show and cite it beside its result."""

    key: str
    label: str
    quantity: str  # what it estimates, e.g. "body surface area"
    unit: str  # unit of the result
    equation: str
    inputs: str  # the symbols of ``equation`` with their units
    reference: str
    status: str  # CHECKED or UNCHECKED, as marked in the clinical reference
    function: Callable = field(repr=False, compare=False)
    population: Optional[str] = None  # population the equation was fitted on, where relevant
    requiredBsaFormula: Optional[str] = None  # sTLV equations fitted with one specific BSA formula

    def asDict(self):
        """The formula without its function: what a result file stores to say how it was made."""
        return {
            "key": self.key,
            "label": self.label,
            "quantity": self.quantity,
            "unit": self.unit,
            "equation": self.equation,
            "inputs": self.inputs,
            "reference": self.reference,
            "status": self.status,
            "population": self.population,
            "requiredBsaFormula": self.requiredBsaFormula,
        }


def _number(value):
    """A coefficient as it is printed in its paper (shortest exact form, no trailing '.0')."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


# --- Body surface area -----------------------------------------------------------------------

_BSA_INPUTS = "H height (cm), W weight (kg); result in m2"


def _mostellerFormula(divisor, reference):
    def mostellerBodySurfaceArea(heightCm, weightKg):
        return math.sqrt(heightCm * weightKg / divisor)

    return Formula(
        key="mosteller",
        label="Mosteller",
        quantity="body surface area",
        unit="m2",
        equation=f"sqrt(H x W / {_number(divisor)})",
        inputs=_BSA_INPUTS,
        reference=reference,
        status=CHECKED,
        function=mostellerBodySurfaceArea,
    )


def _powerLawBsaFormula(key, label, coefficient, weightExponent, heightExponent, reference, population=None):
    def powerLawBodySurfaceArea(heightCm, weightKg):
        return coefficient * weightKg**weightExponent * heightCm**heightExponent

    return Formula(
        key=key,
        label=label,
        quantity="body surface area",
        unit="m2",
        equation=f"{_number(coefficient)} x W^{_number(weightExponent)} x H^{_number(heightExponent)}",
        inputs=_BSA_INPUTS,
        reference=reference,
        status=CHECKED,
        function=powerLawBodySurfaceArea,
        population=population,
    )


BSA_FORMULAS = {
    formula.key: formula
    for formula in (
        _mostellerFormula(3600, "Mosteller RD. Simplified calculation of body-surface area. N Engl J Med 1987;317:1098"),
        # 0.007184 as published: a public implementation has the typo 0.0087184 (about 21 % too high).
        _powerLawBsaFormula(
            "dubois",
            "DuBois",
            0.007184,
            0.425,
            0.725,
            "Du Bois D, Du Bois EF. A formula to estimate the approximate surface area if height and weight be "
            "known. Arch Intern Med 1916;17:863-871",
        ),
        _powerLawBsaFormula(
            "haycock",
            "Haycock",
            0.024265,
            0.5378,
            0.3964,
            "Haycock GB, Schwartz GJ, Wisotsky DH. Geometric method for measuring body surface area: a "
            "height-weight formula validated in infants, children, and adults. J Pediatr 1978;93:62-66",
            population="infants, children and adults",
        ),
    )
}


# --- Standard total liver volume -------------------------------------------------------------


def _linearStlvFormula(key, label, slope, intercept, reference, status, population, requiredBsaFormula=None):
    """sTLV (mL) = slope x BSA (m2) + intercept, the form of every sTLV equation used here."""

    def standardLiverVolumeFromBsa(bsaM2):
        return slope * bsaM2 + intercept

    bsaSymbol = "BSA_" + BSA_FORMULAS[requiredBsaFormula].label if requiredBsaFormula else "BSA"
    sign = "+" if intercept >= 0 else "-"
    return Formula(
        key=key,
        label=label,
        quantity="standard total liver volume",
        unit="mL",
        equation=f"{_number(slope)} x {bsaSymbol} {sign} {_number(abs(intercept))}",
        inputs=f"{bsaSymbol} body surface area (m2); result in mL",
        reference=reference,
        status=status,
        function=standardLiverVolumeFromBsa,
        population=population,
        requiredBsaFormula=requiredBsaFormula,
    )


_UM_REFERENCE = (
    "Um EH, Hwang S, Song GW, et al. Calculation of standard liver volume in Korean adults with analysis of "
    "confounding variables. Korean J Hepatobiliary Pancreat Surg 2015;19:133-138"
)

STLV_FORMULAS = {
    formula.key: formula
    for formula in (
        _linearStlvFormula(
            "vauthey",
            "Vauthey",
            1267.28,
            -794.41,
            "Vauthey JN, Abdalla EK, Doherty DA, et al. Body surface area and body weight predict total liver "
            "volume in Western adults. Liver Transpl 2002;8:233-240",
            UNCHECKED,
            "Western adults",
        ),
        _linearStlvFormula(
            "urata",
            "Urata",
            706.2,
            2.4,
            "Urata K, Kawasaki S, Matsunami H, et al. Calculation of child and adult standard liver volume for "
            "liver transplantation. Hepatology 1995;21:1317-1321",
            UNCHECKED,
            "Japanese children and adults",
        ),
        # The clinical reference marks Heinemann "checked in code": confirmed in an independent
        # implementation, which is what "checked" means there.
        _linearStlvFormula(
            "heinemann",
            "Heinemann",
            1072.8,
            -345.7,
            "Heinemann A, Wischhusen F, Pueschel K, Rogiers X. Standard liver volume in the Caucasian population. "
            "Liver Transpl Surg 1999;5:366-368",
            CHECKED,
            "Caucasian adults (autopsy livers)",
        ),
        # Um published one equation per BSA formula: each is only valid with its own BSA.
        _linearStlvFormula(
            "um_mosteller",
            "Um (Mosteller BSA)",
            893.485,
            -439.169,
            _UM_REFERENCE,
            CHECKED,
            "Korean adults (living liver donors)",
            requiredBsaFormula="mosteller",
        ),
        _linearStlvFormula(
            "um_dubois",
            "Um (DuBois BSA)",
            908.204,
            -464.728,
            _UM_REFERENCE,
            CHECKED,
            "Korean adults (living liver donors)",
            requiredBsaFormula="dubois",
        ),
        _linearStlvFormula(
            "feng",
            "Feng",
            758.259,
            -124.272,
            "Feng LM, Wang PQ, Yu H, et al. New formula for predicting standard liver volume in Chinese adults. "
            "World J Gastroenterol 2017;23:4968-4977",
            CHECKED,
            "Chinese adults",
        ),
    )
}


def _formulaFor(formulas, key, what):
    if not isinstance(key, str):
        raise ValueError(f"{what} {key!r} is not a formula name: expected one of {', '.join(formulas)}")
    formula = formulas.get(key.strip().lower())
    if formula is None:
        raise ValueError(f"Unknown {what} '{key}': expected one of {', '.join(formulas)}")
    return formula


def findBsaFormula(key):
    """The ``Formula`` record of a BSA formula key (ValueError listing the valid keys)."""
    return _formulaFor(BSA_FORMULAS, key, "BSA formula")


def findStlvFormula(key):
    """The ``Formula`` record of a standard liver volume formula key."""
    return _formulaFor(STLV_FORMULAS, key, "standard liver volume formula")


def bodySurfaceArea(heightCm, weightKg, formula=DEFAULT_BSA_FORMULA):
    """Body surface area (m2) from height (cm) and weight (kg)."""
    chosen = findBsaFormula(formula)
    height, weight = validateBodySize(heightCm, weightKg)
    return chosen.function(height, weight)


@dataclass(frozen=True)
class StandardLiverVolume:
    """A standard liver volume with the body size and both formulas that produced it."""

    heightCm: float
    weightKg: float
    bsaM2: float
    stlvMl: float
    bsaFormula: Formula
    stlvFormula: Formula

    def asDict(self):
        return {
            "heightCm": self.heightCm,
            "weightKg": self.weightKg,
            "bsaM2": self.bsaM2,
            "stlvMl": self.stlvMl,
            "bsaFormula": self.bsaFormula.asDict(),
            "stlvFormula": self.stlvFormula.asDict(),
        }


def standardLiverVolume(heightCm, weightKg, stlvFormula=DEFAULT_STLV_FORMULA, bsaFormula=None):
    """Standard total liver volume (mL) and the BSA (m2) it was computed from.

    ``bsaFormula`` None means Mosteller, or the BSA formula the sTLV equation was fitted with
    (Um); asking for any other BSA with such an equation is refused.
    """
    stlv = findStlvFormula(stlvFormula)
    bsaKey = bsaFormula if bsaFormula is not None else (stlv.requiredBsaFormula or DEFAULT_BSA_FORMULA)
    bsa = findBsaFormula(bsaKey)
    if stlv.requiredBsaFormula and bsa.key != stlv.requiredBsaFormula:
        required = BSA_FORMULAS[stlv.requiredBsaFormula]
        raise ValueError(
            f"Standard liver volume formula '{stlv.label}' ({stlv.key}) was fitted with {required.label} BSA "
            f"and cannot use {bsa.label} BSA ({bsa.key}): expected BSA formula '{required.key}'"
        )
    height, weight = validateBodySize(heightCm, weightKg)
    bsaM2 = bsa.function(height, weight)
    return StandardLiverVolume(
        heightCm=height,
        weightKg=weight,
        bsaM2=bsaM2,
        stlvMl=stlv.function(bsaM2),
        bsaFormula=bsa,
        stlvFormula=stlv,
    )
