"""Liver function from gadoxetate (Gd-EOB-DTPA) MRI in the hepatobiliary phase (about 20 min):
the indices of clinical reference section 6, exactly as listed there.

From mean signal intensities (SI, arbitrary MR units "a.u."; pre = before contrast, HBP =
hepatobiliary phase):
- LSR = SI_liver,HBP / SI_spleen,HBP; LMR = SI_liver,HBP / SI_muscle,HBP (paraspinal muscle).
- RLE = (SI_liver,HBP - SI_liver,pre) / SI_liver,pre (a fraction; x100 for %).
- CEI = (SI_liver,HBP / SI_muscle,HBP) / (SI_liver,pre / SI_muscle,pre).
- HUI = V_liver x (L20 / S20 - 1) (Yamada, Radiology 2011 260:727) [unchecked formula]; remnant
  HUI (rHUI) uses the FLR volume and the FLR signal. HUI carries the unit of the volume it is
  computed with, so the volume unit is always explicit (mL or L). The clinical reference notes
  that the published cut-off rHUI < 0.410 (Notake, BJS Open 2021: PHLF grade B/C in biliary
  cancer) [checked] only makes sense in litres; the flag therefore compares in litres, and its
  threshold, unit, source and population are configurable (``RiskThreshold``).
- FLR functional share from a voxel-wise map (RLE, or L/S - 1): sum over FLR / sum over liver.
- T1 maps: R1 = 1/T1 (1/s), delta R1 = R1_HBP - R1_pre (1/s), reduction rate
  (T1_pre - T1_HBP) / T1_pre (a fraction). T1 is given in ms or s, said explicitly.

No validated ALPPS-specific gadoxetate cut-off is known (clinical reference): the indices are
shown per time point and for FLR vs deportalised liver; the one flag (rHUI) is labelled with
the population it comes from. Flags follow ``laboratoryScores``: "met" means the risk sign holds.

Every formula is here, on numbers or on arrays already on one grid; the signals they take are
measured on the images by ``gadoxetateImages``.
"""

from dataclasses import dataclass

import numpy as np
import vtk
from ALPPSVolumetryLib.criteria import clinicalCriteria
from ALPPSVolumetryLib.criteria.bodySize import checkedNumber, UNCHECKED
from ALPPSVolumetryLib.results.quantityDefinition import QuantityDefinition
from ALPPSVolumetryLib.results.resultsTable import writeTableRows

SIGNAL_UNIT = "a.u."  # MR signal intensity: arbitrary units of the scanner
DIMENSIONLESS = ""
LITRE = "L"
MILLILITRE = "mL"
VOLUME_UNITS = {MILLILITRE: 1.0, LITRE: 1000.0}  # mL per unit
MILLISECOND = "ms"
SECOND = "s"
T1_UNITS = {MILLISECOND: 1.0, SECOND: 1000.0}  # ms per unit
PER_SECOND = "1/s"
PERCENT_PER_FRACTION = 100.0

# Sources.
CLINICAL_REFERENCE_6 = "clinical reference section 6 (gadoxetate MRI; no primary paper named)"
YAMADA_2011 = "Yamada A et al. Radiology 2011 260:727 (hepatocellular uptake index)"
NOTAKE_2021 = clinicalCriteria.NOTAKE_2021

# Index keys.
LSR = "lsr"
LMR = "lmr"
RLE = "rle"
CEI = "cei"
HUI = "hui"
REMNANT_HUI = "remnantHui"
REMNANT_HUI_BELOW = clinicalCriteria.REMNANT_HUI.key
FLR_FUNCTIONAL_SHARE = "flrFunctionalShare"
R1 = "r1"
DELTA_R1 = "deltaR1"
T1_REDUCTION_RATE = "t1ReductionRate"

# Voxel-wise map kinds.
RLE_MAP = "RLE"
LIVER_SPLEEN_MAP = "L/S - 1"

# Volumes typed in the other unit: no liver or remnant is 10 L, none is 10 mL.
_VOLUME_UNIT_BOUNDARY = 10.0
# T1 of tissue lies between 50 ms and 5 s; a value below 10 "ms" is seconds, above 10 "s" is ms.
_T1_UNIT_BOUNDARY = 10.0


# Definitions share one record type with the rest of the extension.


# Lines of section 6 without a status mark are unchecked, as the ICG lines of laboratoryScores.
INDEX_DEFINITIONS = {
    definition.key: definition
    for definition in (
        QuantityDefinition(LSR, "Liver-to-spleen ratio (LSR)", DIMENSIONLESS, "SI_liver,HBP / SI_spleen,HBP", CLINICAL_REFERENCE_6, UNCHECKED, 3),
        QuantityDefinition(
            LMR,
            "Liver-to-muscle ratio (LMR)",
            DIMENSIONLESS,
            "SI_liver,HBP / SI_muscle,HBP (paraspinal muscle)",
            CLINICAL_REFERENCE_6,
            UNCHECKED,
            3,
        ),
        QuantityDefinition(
            RLE,
            "Relative liver enhancement (RLE)",
            DIMENSIONLESS,
            "(SI_liver,HBP - SI_liver,pre) / SI_liver,pre",
            CLINICAL_REFERENCE_6,
            UNCHECKED,
            3,
            note="a fraction; x100 for %",
        ),
        QuantityDefinition(
            CEI,
            "Contrast enhancement index (CEI)",
            DIMENSIONLESS,
            "(SI_liver,HBP / SI_muscle,HBP) / (SI_liver,pre / SI_muscle,pre)",
            CLINICAL_REFERENCE_6,
            UNCHECKED,
            3,
        ),
        QuantityDefinition(
            HUI,
            "Hepatocellular uptake index (HUI)",
            LITRE,
            "V_liver x (L20 / S20 - 1); L20, S20 mean liver and spleen SI in the hepatobiliary phase (20 min)",
            YAMADA_2011,
            UNCHECKED,
            3,
            note="unchecked formula, widely used; carries the unit of V_liver (reported in L unless asked otherwise)",
        ),
        QuantityDefinition(
            REMNANT_HUI,
            "Remnant hepatocellular uptake index (rHUI)",
            LITRE,
            "V_FLR x (SI_FLR,20 / S20 - 1): HUI with the future liver remnant's volume and mean SI",
            f"{YAMADA_2011}; {NOTAKE_2021}",
            UNCHECKED,
            3,
            note="HUI formula unchecked; the clinical reference notes that the 0.410 cut-off suggests litres",
        ),
        QuantityDefinition(
            REMNANT_HUI_BELOW,
            f"rHUI {clinicalCriteria.REMNANT_HUI.criterionText()} (Notake)",
            LITRE,
            f"met when {clinicalCriteria.REMNANT_HUI.criterionText()}; risk group {clinicalCriteria.REMNANT_HUI.riskGroupText()}: "
            "predicted post-hepatectomy liver failure grade B/C",
            NOTAKE_2021,
            UNCHECKED,
            3,
            note="population: biliary cancer, not ALPPS; the volume unit (L) is inferred from the cut-off's size",
        ),
        QuantityDefinition(
            FLR_FUNCTIONAL_SHARE,
            "FLR functional share (gadoxetate)",
            DIMENSIONLESS,
            "sum of a voxel-wise map (RLE, or L/S - 1) over the FLR / its sum over the whole liver",
            CLINICAL_REFERENCE_6,
            UNCHECKED,
            4,
            note="a fraction; x100 for %",
        ),
        QuantityDefinition(R1, "Longitudinal relaxation rate R1", PER_SECOND, "1 / T1 (T1 in s)", CLINICAL_REFERENCE_6, UNCHECKED, 3),
        QuantityDefinition(
            DELTA_R1, "Delta R1", PER_SECOND, "R1_HBP - R1_pre (1/s)", CLINICAL_REFERENCE_6, UNCHECKED, 3
        ),
        QuantityDefinition(
            T1_REDUCTION_RATE,
            "T1 reduction rate",
            DIMENSIONLESS,
            "(T1_pre - T1_HBP) / T1_pre",
            CLINICAL_REFERENCE_6,
            UNCHECKED,
            3,
            note="a fraction; x100 for %",
        ),
    )
}

DEFINITION_COLUMNS = (
    ("Key", vtk.vtkStringArray, "", "Index key in JSON"),
    ("Index", vtk.vtkStringArray, "", "Index name"),
    ("Unit", vtk.vtkStringArray, "", "Unit of the index ('' = dimensionless)"),
    ("Definition", vtk.vtkStringArray, "", "Formula as computed"),
    ("Reference", vtk.vtkStringArray, "", "Where the formula or threshold comes from"),
    ("Status", vtk.vtkStringArray, "", "checked / unchecked as marked in the clinical reference"),
    ("Note", vtk.vtkStringArray, "", "Remarks: units, population, caveats"),
)


def definitionRows():
    """Every index definition as a dict (key, label, unit, definition, reference, status, ...)."""
    return [definition.asDict() for definition in INDEX_DEFINITIONS.values()]


def writeDefinitionsTable(tableNode):
    """Fill ``tableNode`` with the definitions table."""
    rows = [(d.key, d.label, d.unit, d.definition, d.reference, d.status, d.note) for d in INDEX_DEFINITIONS.values()]
    return writeTableRows(tableNode, DEFINITION_COLUMNS, rows, {"ALPPS.Gadoxetate.Source": "clinical reference section 6"})


# --- Checked inputs ---------------------------------------------------------------------------------


def _signal(value, name, neededFor):
    if value is None:
        raise ValueError(f"{name} is missing: {neededFor} needs it (a mean signal intensity, {SIGNAL_UNIT})")
    signal = checkedNumber(value, name, f"a mean signal intensity ({SIGNAL_UNIT}, >= 0)")
    if signal < 0:
        raise ValueError(f"{name} {signal:g} {SIGNAL_UNIT} is negative: expected a mean signal intensity >= 0")
    return signal


def _divisor(value, name, neededFor):
    signal = _signal(value, name, neededFor)
    if signal == 0:
        raise ValueError(
            f"{name} is 0 {SIGNAL_UNIT}: {neededFor} divides by it; expected a positive mean signal intensity "
            "(check the region: outside the body, or an empty series?)"
        )
    return signal


def _volumeMl(volume, unit, name):
    if unit not in VOLUME_UNITS:
        raise ValueError(f"Volume unit {unit!r} of the {name} is unknown: expected 'mL' or 'L'")
    value = checkedNumber(volume, f"{name} volume", f"a volume in {unit}")
    if value <= 0:
        raise ValueError(f"{name} volume {value:g} {unit} must be positive: expected a volume in {unit}")
    if unit == MILLILITRE and value < _VOLUME_UNIT_BOUNDARY:
        raise ValueError(
            f"{name} volume {value:g} mL is implausible: expected millilitres; {value:g} looks like litres (= {value * 1000:g} mL)"
        )
    if unit == LITRE and value > _VOLUME_UNIT_BOUNDARY:
        raise ValueError(
            f"{name} volume {value:g} L is implausible: expected litres; {value:g} looks like millilitres (= {value / 1000:g} L)"
        )
    return value * VOLUME_UNITS[unit]


# --- Indices from mean signal intensities ----------------------------------------------------------


def liverToSpleenRatio(liverSiHbp, spleenSiHbp):
    """LSR = SI_liver,HBP / SI_spleen,HBP (dimensionless)."""
    return _signal(liverSiHbp, "Liver signal (HBP)", "LSR") / _divisor(spleenSiHbp, "Spleen signal (HBP)", "LSR")


def liverToMuscleRatio(liverSiHbp, muscleSiHbp):
    """LMR = SI_liver,HBP / SI_muscle,HBP (paraspinal muscle; dimensionless)."""
    return _signal(liverSiHbp, "Liver signal (HBP)", "LMR") / _divisor(muscleSiHbp, "Muscle signal (HBP)", "LMR")


def relativeLiverEnhancement(liverSiPre, liverSiHbp):
    """RLE = (SI_liver,HBP - SI_liver,pre) / SI_liver,pre, a fraction (0.85 = 85 %)."""
    pre = _divisor(liverSiPre, "Pre-contrast liver signal", "RLE (the pre-contrast series)")
    return (_signal(liverSiHbp, "Liver signal (HBP)", "RLE") - pre) / pre


def contrastEnhancementIndex(liverSiPre, muscleSiPre, liverSiHbp, muscleSiHbp):
    """CEI = (SI_liver,HBP / SI_muscle,HBP) / (SI_liver,pre / SI_muscle,pre) (dimensionless)."""
    liverPre = _divisor(liverSiPre, "Pre-contrast liver signal", "CEI (the pre-contrast series)")
    musclePre = _divisor(muscleSiPre, "Pre-contrast muscle signal", "CEI (the pre-contrast series)")
    hbpRatio = _signal(liverSiHbp, "Liver signal (HBP)", "CEI") / _divisor(muscleSiHbp, "Muscle signal (HBP)", "CEI")
    return hbpRatio / (liverPre / musclePre)


@dataclass(frozen=True)
class UptakeIndex:
    """HUI or rHUI: ``value`` in ``unit`` (the volume unit: HUI = volume x (L/S - 1))."""

    key: str  # HUI or REMNANT_HUI
    value: float
    unit: str  # 'L' or 'mL'
    volumeMl: float
    liverSignal: float
    spleenSignal: float

    @property
    def liverToSpleenRatio(self):
        return self.liverSignal / self.spleenSignal

    def inUnit(self, unit):
        if unit not in VOLUME_UNITS:
            raise ValueError(f"Unit {unit!r} is unknown for {INDEX_DEFINITIONS[self.key].label}: expected 'mL' or 'L'")
        return self.value * VOLUME_UNITS[self.unit] / VOLUME_UNITS[unit]

    def describe(self):
        return (
            f"{INDEX_DEFINITIONS[self.key].label} {self.value:.3f} {self.unit} "
            f"(V {self.volumeMl:.1f} mL x (SI {self.liverSignal:g} / spleen {self.spleenSignal:g} - 1))"
        )

    def asDict(self):
        return {
            "key": self.key,
            "value": self.value,
            "unit": self.unit,
            "volumeMl": self.volumeMl,
            "liverSignal": self.liverSignal,
            "spleenSignal": self.spleenSignal,
            "liverToSpleenRatio": self.liverToSpleenRatio,
            "signalUnit": SIGNAL_UNIT,
            "definition": INDEX_DEFINITIONS[self.key].asDict(),
        }


def _uptakeIndex(key, volume, unit, liverSignal, spleenSignal, resultUnit, volumeName, signalName):
    label = INDEX_DEFINITIONS[key].label
    volumeMl = _volumeMl(volume, unit, volumeName)
    liver = _signal(liverSignal, f"{signalName} (HBP, 20 min)", label)
    spleen = _divisor(spleenSignal, "Spleen signal (HBP, 20 min)", label)
    if resultUnit not in VOLUME_UNITS:
        raise ValueError(f"Result unit {resultUnit!r} of the {label} is unknown: expected 'mL' or 'L'")
    value = volumeMl / VOLUME_UNITS[resultUnit] * (liver / spleen - 1.0)
    return UptakeIndex(key, value, resultUnit, volumeMl, liver, spleen)


def hepatocellularUptakeIndex(liverVolume, unit, liverSI20, spleenSI20, resultUnit=LITRE):
    """HUI = V_liver x (L20 / S20 - 1) (Yamada 2011) [unchecked formula]. ``liverVolume`` is in
    ``unit`` ('mL' or 'L'); the result is in ``resultUnit`` (litres by default, the unit the
    published rHUI cut-off implies). Returns an ``UptakeIndex``."""
    return _uptakeIndex(HUI, liverVolume, unit, liverSI20, spleenSI20, resultUnit, "Liver", "Liver signal")


def remnantHui(flrVolume, unit, flrSI20, spleenSI20, resultUnit=LITRE):
    """rHUI = V_FLR x (SI_FLR,20 / S20 - 1): the HUI of the future liver remnant, from its volume
    (in ``unit``) and its mean signal. Returns an ``UptakeIndex`` in ``resultUnit``."""
    return _uptakeIndex(REMNANT_HUI, flrVolume, unit, flrSI20, spleenSI20, resultUnit, "FLR", "FLR signal")


# --- Flag -----------------------------------------------------------------------------------------------

# rHUI < 0.410 L (Notake 2021, biliary cancer) as the risk group; the flag is unchecked because
# the HUI formula is. ``withThreshold`` replaces it with a local cut-off that names its source.
DEFAULT_REMNANT_HUI_THRESHOLD = clinicalCriteria.REMNANT_HUI


def remnantHuiFlag(remnantIndex, threshold=None):
    """Go-ahead flag for rHUI (an ``UptakeIndex`` from ``remnantHui``, or None -> 'unknown'): met
    when rHUI is outside the cut-off's risk group (default < 0.410 L), compared in the cut-off's
    unit, as displayed."""
    threshold = DEFAULT_REMNANT_HUI_THRESHOLD if threshold is None else threshold
    if not isinstance(threshold, clinicalCriteria.Cutoff):
        raise ValueError(f"rHUI threshold is a {type(threshold).__name__}: expected a clinicalCriteria.Cutoff (value, unit, source, population)")
    if threshold.unit not in VOLUME_UNITS:
        raise ValueError(f"Threshold unit {threshold.unit!r} is unknown: expected 'mL' or 'L'")
    value = None
    if remnantIndex is not None:
        if not isinstance(remnantIndex, UptakeIndex) or remnantIndex.key != REMNANT_HUI:
            raise ValueError(
                f"rHUI {remnantIndex!r} is not a remnant uptake index: expected the result of remnantHui (its volume unit must be known)"
            )
        value = remnantIndex.inUnit(threshold.unit)
    return clinicalCriteria.evaluate(threshold, value, status=UNCHECKED, reason="" if value is not None else "no rHUI")


def signalIndices(liverSiHbp, spleenSiHbp=None, muscleSiHbp=None, liverSiPre=None, muscleSiPre=None):
    """Every signal index the given signals allow, for one region (whole liver, FLR or deportalised
    liver) of one time point: ``{"values": {key: value}, "missing": {key: reason}}``; an index
    whose inputs are missing is listed with the reason, never given as 0."""
    values, missing = {}, {}
    needs = {
        LSR: (("spleen signal (HBP)", spleenSiHbp),),
        LMR: (("muscle signal (HBP)", muscleSiHbp),),
        RLE: (("pre-contrast liver signal", liverSiPre),),
        CEI: (("pre-contrast liver signal", liverSiPre), ("pre-contrast muscle signal", muscleSiPre), ("muscle signal (HBP)", muscleSiHbp)),
    }
    compute = {
        LSR: lambda: liverToSpleenRatio(liverSiHbp, spleenSiHbp),
        LMR: lambda: liverToMuscleRatio(liverSiHbp, muscleSiHbp),
        RLE: lambda: relativeLiverEnhancement(liverSiPre, liverSiHbp),
        CEI: lambda: contrastEnhancementIndex(liverSiPre, muscleSiPre, liverSiHbp, muscleSiHbp),
    }
    _signal(liverSiHbp, "Liver signal (HBP)", "every gadoxetate index")
    for key, inputs in needs.items():
        absent = [name for name, value in inputs if value is None]
        if absent:
            missing[key] = "no " + " and no ".join(absent)
        else:
            values[key] = compute[key]()
    return {"values": values, "missing": missing, "signalUnit": SIGNAL_UNIT}


# --- T1 maps --------------------------------------------------------------------------------------


def _t1Ms(value, unit, name):
    if unit not in T1_UNITS:
        raise ValueError(f"T1 unit {unit!r} is unknown: expected 'ms' or 's'")
    if value is None:
        raise ValueError(f"{name} is missing: expected a T1 in {unit}")
    t1 = checkedNumber(value, name, f"a T1 relaxation time in {unit}")
    if t1 <= 0:
        raise ValueError(f"{name} {t1:g} {unit} must be positive: expected a T1 relaxation time in {unit}")
    if unit == MILLISECOND and t1 < _T1_UNIT_BOUNDARY:
        raise ValueError(f"{name} {t1:g} ms is implausible: expected milliseconds; {t1:g} looks like seconds (= {t1 * 1000:g} ms)")
    if unit == SECOND and t1 > _T1_UNIT_BOUNDARY:
        raise ValueError(f"{name} {t1:g} s is implausible: expected seconds; {t1:g} looks like milliseconds (= {t1 / 1000:g} s)")
    return t1 * T1_UNITS[unit]


@dataclass(frozen=True)
class T1Indices:
    """T1 (ms), R1 and delta R1 (1/s), reduction rate (fraction) of one region."""

    t1PreMs: float
    t1HbpMs: float
    inputUnit: str

    @property
    def r1PrePerS(self):
        return 1000.0 / self.t1PreMs

    @property
    def r1HbpPerS(self):
        return 1000.0 / self.t1HbpMs

    @property
    def deltaR1PerS(self):
        return self.r1HbpPerS - self.r1PrePerS

    @property
    def reductionRate(self):
        return (self.t1PreMs - self.t1HbpMs) / self.t1PreMs

    @property
    def reductionRatePercent(self):
        return self.reductionRate * PERCENT_PER_FRACTION

    def asDict(self):
        return {
            "t1PreMs": self.t1PreMs,
            "t1HbpMs": self.t1HbpMs,
            "inputUnit": self.inputUnit,
            "r1PrePerS": self.r1PrePerS,
            "r1HbpPerS": self.r1HbpPerS,
            "deltaR1PerS": self.deltaR1PerS,
            "reductionRate": self.reductionRate,
            "units": {"t1": MILLISECOND, "r1": PER_SECOND, "deltaR1": PER_SECOND, "reductionRate": "fraction"},
        }


def t1Indices(t1Pre, t1Hbp, unit):
    """R1 = 1/T1, delta R1 = R1_HBP - R1_pre (both 1/s, T1 converted to seconds), reduction rate
    (T1_pre - T1_HBP) / T1_pre. ``unit`` of both T1 values: 'ms' or 's' (no default: say it)."""
    if t1Pre is None:
        raise ValueError("Pre-contrast T1 is missing: delta R1 and the reduction rate need the pre-contrast T1 map")
    return T1Indices(_t1Ms(t1Pre, unit, "Pre-contrast T1"), _t1Ms(t1Hbp, unit, "Hepatobiliary-phase T1"), unit)


# --- Voxel-wise maps and the FLR functional share -------------------------------------------------


def relativeEnhancementArray(preArray, hbpArray):
    """(HBP - pre) / pre per voxel, arrays already on one grid; NaN where pre <= 0 or not finite."""
    pre = np.asarray(preArray, dtype=np.float32)
    hbp = np.asarray(hbpArray, dtype=np.float32)
    if pre.shape != hbp.shape:
        raise ValueError(f"Pre-contrast array {pre.shape} and HBP array {hbp.shape} differ: expected both on one grid (resample first)")
    defined = np.isfinite(pre) & (pre > 0) & np.isfinite(hbp)
    result = np.full(pre.shape, np.nan, dtype=np.float32)
    np.divide(hbp - pre, pre, out=result, where=defined)
    return result


def liverSpleenEnhancementArray(hbpArray, spleenSiHbp):
    """L/S - 1 per voxel: the HBP signal over the mean spleen signal (HBP), minus 1."""
    spleen = _divisor(spleenSiHbp, "Spleen signal (HBP)", "the L/S - 1 map")
    return np.asarray(hbpArray, dtype=np.float32) / np.float32(spleen) - np.float32(1.0)


@dataclass(frozen=True)
class FunctionalShare:
    """FLR functional share = sum of the map over the FLR / sum over the liver."""

    share: float  # fraction
    remnantSum: float
    liverSum: float
    remnantVoxels: int
    liverVoxels: int
    undefinedLiverVoxels: int  # NaN voxels of the map inside the liver, left out of both sums
    mapKind: str
    clippedNegative: bool

    @property
    def sharePercent(self):
        return self.share * PERCENT_PER_FRACTION

    def asDict(self):
        return {
            "share": self.share,
            "sharePercent": self.sharePercent,
            "remnantSum": self.remnantSum,
            "liverSum": self.liverSum,
            "remnantVoxels": self.remnantVoxels,
            "liverVoxels": self.liverVoxels,
            "undefinedLiverVoxels": self.undefinedLiverVoxels,
            "mapKind": self.mapKind,
            "clippedNegative": self.clippedNegative,
            "definition": INDEX_DEFINITIONS[FLR_FUNCTIONAL_SHARE].asDict(),
        }


def functionalShare(remnantValues, liverValues, mapKind=None, clipNegative=False):
    """FLR functional share from a voxel-wise map's values in the liver (``liverValues``) and in
    the FLR (``remnantValues``, the FLR's voxels inside the liver): their sums' ratio. NaN voxels
    are left out and counted. Negative values (less signal after contrast, e.g. in tumours) are
    summed as they are, the clinical reference's literal sum; ``clipNegative`` counts them as 0."""
    liverValues = np.array(liverValues, dtype=np.float64)
    remnantValues = np.array(remnantValues, dtype=np.float64)
    undefined = int(np.count_nonzero(~np.isfinite(liverValues)))
    liverValues[~np.isfinite(liverValues)] = 0.0
    remnantValues[~np.isfinite(remnantValues)] = 0.0
    if clipNegative:
        liverValues, remnantValues = np.clip(liverValues, 0.0, None), np.clip(remnantValues, 0.0, None)
    liverSum = float(liverValues.sum())
    if not liverSum > 0:
        raise ValueError(
            f"Sum of the map over the liver is {liverSum:g}: expected enhancement above zero (a share of a non-positive total means nothing)"
        )
    remnantSum = float(remnantValues.sum())
    return FunctionalShare(
        share=remnantSum / liverSum,
        remnantSum=remnantSum,
        liverSum=liverSum,
        remnantVoxels=int(remnantValues.size),
        liverVoxels=int(liverValues.size),
        undefinedLiverVoxels=undefined,
        mapKind=mapKind or "unspecified",
        clippedNegative=bool(clipNegative),
    )
