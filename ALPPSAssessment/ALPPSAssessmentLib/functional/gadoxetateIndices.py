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

Signals are measured in physical space. The MRI and the segmentation (usually drawn on the
planning CT) have different grids: segment masks are resampled by Slicer onto the image grid
(``ExportSegmentsToLabelmapNode`` with the image as reference, parent transforms respected),
spherical ROIs are voxel centres within a radius (mm) of RAS points, and a pre-contrast series
is resampled onto the HBP grid before a voxel-wise map is made. Arrays are never paired by index.
"""

import dataclasses
from dataclasses import dataclass
from typing import Dict, List

import numpy as np
import vtk
from ALPPSVolumetryLib import clinicalCriteria
from ALPPSVolumetryLib.bodySize import UNCHECKED, checkedNumber
from ALPPSVolumetryLib.quantityDefinition import QuantityDefinition
from ALPPSVolumetryLib.resultsTable import writeTableRows
from ALPPSVolumetryLib.segmentationImport import addVolumeFromArray

from . import imageRegistration

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


# --- Signals measured on images ---------------------------------------------------------------------


@dataclass(frozen=True)
class RegionSignal:
    label: str
    mean: float
    standardDeviation: float
    voxelCount: int
    volumeMl: float  # of the voxels measured, on the image grid
    unit: str = SIGNAL_UNIT

    def asDict(self):
        return dataclasses.asdict(self)


def _statistics(label, values, voxelVolumeMl, unit, where):
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise ValueError(f"{label}: no voxel of the image lies in {where}: expected a region that covers image voxels")
    return RegionSignal(label, float(values.mean()), float(values.std()), int(values.size), values.size * voxelVolumeMl, unit)


class _ImageOnGrid:
    """A volume node, or (array [k, j, i], 4x4 IJK-to-RAS) made into a temporary node in
    ``scene`` for Slicer's segment export (removed on exit)."""

    def __init__(self, image, scene, name="__alpps_gadoxetate_image__"):
        self.temporary = None
        if hasattr(image, "IsA"):
            self.node = imageRegistration.checkedVolumeNode(image, "Image")
        else:
            array, ijkToRAS = _arrayAndGeometry(image)
            self.node = self.temporary = addVolumeFromArray(scene, name, np.asarray(array, dtype=np.float32), ijkToRAS)

    def __enter__(self):
        return self.node

    def __exit__(self, *excinfo):
        if self.temporary is not None:
            self.temporary.GetScene().RemoveNode(self.temporary)


def _arrayAndGeometry(image):
    if not isinstance(image, (tuple, list)) or len(image) != 2:
        raise ValueError(
            f"Image is a {type(image).__name__}: expected a scalar volume node or (array indexed [k, j, i], 4x4 IJK-to-RAS matrix)"
        )
    array = np.asarray(image[0])
    if array.ndim != 3:
        raise ValueError(f"Image array has shape {array.shape}: expected a 3-D array indexed [k, j, i]")
    return array, imageRegistration.checkedMatrix(image[1])


def _worldGrid(image):
    """(array view, IJK -> world RAS matrix, name) of a volume node or (array, IJK-to-RAS)."""
    if hasattr(image, "IsA"):
        node = imageRegistration.checkedVolumeNode(image, "Image")
        return imageRegistration.volumeNodeArray(node), imageRegistration.toWorldMatrix(node) @ imageRegistration.nodeIjkToRas(node), node.GetName()
    array, ijkToRAS = _arrayAndGeometry(image)
    return array, ijkToRAS, "image"


def _voxelVolumeMl(ijkToRAS):
    return abs(float(np.linalg.det(np.asarray(ijkToRAS)[:3, :3]))) / 1000.0


def _checkSegmentation(segmentationNode):
    if segmentationNode is None or not hasattr(segmentationNode, "IsA") or not segmentationNode.IsA("vtkMRMLSegmentationNode"):
        raise ValueError(f"Segmentation is {type(segmentationNode).__name__}: expected a segmentation node")
    return segmentationNode


def _segmentMasks(image, segmentationNode, groups):
    """{group name: boolean mask on the image grid} for groups of segment IDs (each the union of
    its segments), and (array, voxel volume mL, image name)."""
    _checkSegmentation(segmentationNode)
    with _ImageOnGrid(image, segmentationNode.GetScene()) as node:
        masks = {name: imageRegistration.segmentMaskOnVolumeGrid(segmentationNode, ids, node) for name, ids in groups.items()}
        array = np.array(imageRegistration.volumeNodeArray(node))  # a copy: a temporary node goes on exit
        voxelVolume = _voxelVolumeMl(imageRegistration.nodeIjkToRas(node))
        imageName = node.GetName()
    return masks, array, voxelVolume, imageName


def meanSignalInSegments(image, segmentationNode, segmentIds, unit=SIGNAL_UNIT) -> Dict[str, RegionSignal]:
    """Mean signal of ``image`` (a scalar volume node, or (array [k, j, i], IJK-to-RAS)) in each
    segment, {segment ID: RegionSignal}. Each segment is resampled onto the image grid in
    physical space (Slicer's export with the image as reference; parent transforms respected):
    the image and the segmentation may have any grids."""
    segmentation = _checkSegmentation(segmentationNode).GetSegmentation()
    segmentIds = list(segmentIds)
    unknown = [segmentId for segmentId in segmentIds if segmentation.GetSegment(segmentId) is None]
    if not segmentIds or unknown:
        raise ValueError(f"Segmentation '{segmentationNode.GetName()}' has no segments with IDs {unknown or segmentIds}: expected segment IDs")
    masks, array, voxelVolume, imageName = _segmentMasks(image, segmentationNode, {segmentId: [segmentId] for segmentId in segmentIds})
    return {
        segmentId: _statistics(
            segmentation.GetSegment(segmentId).GetName(), array[mask], voxelVolume, unit, f"segment '{segmentation.GetSegment(segmentId).GetName()}' ({imageName})"
        )
        for segmentId, mask in masks.items()
    }


def meanSignalInRegion(image, segmentationNode, segmentIds, label=None, unit=SIGNAL_UNIT) -> RegionSignal:
    """Mean signal in the union of segments (a voxel in two segments counts once), e.g. the whole
    liver (I-VIII) or the FLR (II+III)."""
    _checkSegmentation(segmentationNode)
    segmentation = segmentationNode.GetSegmentation()
    name = label or " + ".join(
        segmentation.GetSegment(segmentId).GetName() if segmentation.GetSegment(segmentId) else str(segmentId) for segmentId in segmentIds
    )
    masks, array, voxelVolume, imageName = _segmentMasks(image, segmentationNode, {"region": list(segmentIds)})
    return _statistics(name, array[masks["region"]], voxelVolume, unit, f"region '{name}' ({imageName})")


@dataclass(frozen=True)
class SphereSignals:
    perPoint: List[RegionSignal]
    pooled: RegionSignal  # every voxel of every sphere, each voxel once
    radiusMm: float

    @property
    def mean(self):
        return self.pooled.mean

    def asDict(self):
        return {"radiusMm": self.radiusMm, "pooled": self.pooled.asDict(), "perPoint": [part.asDict() for part in self.perPoint]}


def _controlPoints(points):
    if hasattr(points, "IsA") and points.IsA("vtkMRMLMarkupsNode"):
        count = points.GetNumberOfControlPoints()
        if count == 0:
            raise ValueError(f"Markups '{points.GetName()}' has no control points: expected points placed in the region")
        positions = []
        for index in range(count):
            position = [0.0, 0.0, 0.0]
            points.GetNthControlPointPositionWorld(index, position)
            positions.append(position)
        return np.array(positions), [points.GetNthControlPointLabel(index) for index in range(count)]
    try:
        array = np.atleast_2d(np.asarray(points, dtype=float))
    except (TypeError, ValueError):
        raise ValueError(f"ROI centres {points!r} are not numeric: expected RAS points (x, y, z) in mm or a markups node") from None
    if array.ndim != 2 or array.shape[1] != 3 or array.shape[0] == 0 or not np.all(np.isfinite(array)):
        raise ValueError(f"ROI centres have shape {array.shape}: expected one or more finite RAS points (x, y, z) in mm")
    return array, [f"ROI {index + 1}" for index in range(len(array))]


def meanSignalInSpheres(image, points, radiusMm, label="ROI", unit=SIGNAL_UNIT) -> SphereSignals:
    """Mean signal in spheres of ``radiusMm`` around RAS points (a list of (x, y, z) in mm, or a
    markups node whose world positions are used, e.g. points in the spleen or the paraspinal
    muscle): every voxel whose centre lies within the radius, in physical space."""
    radius = checkedNumber(radiusMm, "ROI radius", "a radius in mm")
    if radius <= 0:
        raise ValueError(f"ROI radius {radius:g} mm must be positive: expected a radius in mm")
    array, ijkToWorld, imageName = _worldGrid(image)
    centres, names = _controlPoints(points)
    worldToIjk = np.linalg.inv(ijkToWorld)
    spacing = np.linalg.norm(ijkToWorld[:3, :3], axis=0)
    size = np.array([array.shape[2], array.shape[1], array.shape[0]])
    voxelVolume = _voxelVolumeMl(ijkToWorld)
    perPoint, pooled = [], set()
    for centre, name in zip(centres, names):
        continuous = (worldToIjk @ np.r_[centre, 1.0])[:3]
        reach = np.ceil(radius / spacing).astype(int) + 1
        low = np.maximum(np.floor(continuous).astype(int) - reach, 0)
        high = np.minimum(np.ceil(continuous).astype(int) + reach, size - 1)
        where = f"the sphere of radius {radius:g} mm at RAS ({centre[0]:.1f}, {centre[1]:.1f}, {centre[2]:.1f}) ('{name}', image '{imageName}' spacing {np.round(spacing, 3).tolist()} mm)"
        if np.any(low > high):
            raise ValueError(f"{label} {name}: {where} lies outside the image: expected a point inside the scanned volume")
        i, j, k = np.meshgrid(*(np.arange(low[axis], high[axis] + 1) for axis in range(3)), indexing="ij")
        indices = np.c_[i.ravel(), j.ravel(), k.ravel()]
        world = (ijkToWorld @ np.c_[indices, np.ones(len(indices))].T)[:3].T
        inside = indices[np.linalg.norm(world - centre, axis=1) <= radius]
        if len(inside) == 0:
            raise ValueError(f"{label} {name}: {where} contains no voxel centre: expected a larger radius than half the voxel size")
        perPoint.append(_statistics(f"{label} {name}", array[inside[:, 2], inside[:, 1], inside[:, 0]], voxelVolume, unit, where))
        pooled.update(map(tuple, inside))
    everyVoxel = np.array(sorted(pooled))
    pooledSignal = _statistics(label, array[everyVoxel[:, 2], everyVoxel[:, 1], everyVoxel[:, 0]], voxelVolume, unit, "the spheres")
    return SphereSignals(perPoint, pooledSignal, radius)


def t1IndicesFromMaps(t1PreMap, t1HbpMap, segmentationNode, segmentIds, unit):
    """T1 indices of a region (union of ``segmentIds``) from two T1 maps (volume nodes or (array,
    IJK-to-RAS)), each in ``unit`` ('ms' or 's'): mean T1 of the region per map, then
    ``t1Indices`` (R1 is 1 / mean T1, not the mean of 1/T1)."""
    if t1PreMap is None:
        raise ValueError("Pre-contrast T1 map is missing: delta R1 and the reduction rate need the pre-contrast T1 map")
    if t1HbpMap is None:
        raise ValueError("Hepatobiliary-phase T1 map is missing: expected the T1 map acquired about 20 min after injection")
    pre = meanSignalInRegion(t1PreMap, segmentationNode, segmentIds, unit=unit)
    hbp = meanSignalInRegion(t1HbpMap, segmentationNode, segmentIds, unit=unit)
    return t1Indices(pre.mean, hbp.mean, unit)


# --- Voxel-wise maps and the FLR functional share ---------------------------------------------------


@dataclass
class EnhancementMap:
    """A voxel-wise map on the HBP grid: ``node`` (when the HBP image was a node) and/or ``array``
    [k, j, i] with ``ijkToRAS``; voxels where it is undefined (no pre-contrast signal there) are
    NaN and counted in ``undefinedVoxels``."""

    kind: str
    array: np.ndarray
    ijkToRAS: np.ndarray
    undefinedVoxels: int
    node: object = None


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


def _mapNode(hbp, kind, array, ijkToRAS, name, undefined):
    if not hasattr(hbp, "IsA"):
        return None
    node = addVolumeFromArray(hbp.GetScene(), name or f"{hbp.GetName()} {kind}", array, imageRegistration.nodeIjkToRas(hbp))
    parent = hbp.GetParentTransformNode()
    if parent is not None:
        node.SetAndObserveTransformNodeID(parent.GetID())
    node.SetAttribute("ALPPS.Gadoxetate.Map", kind)
    node.SetAttribute("ALPPS.Gadoxetate.UndefinedVoxels", str(undefined))
    finite = array[np.isfinite(array)]
    displayNode = node.GetDisplayNode()
    if displayNode is not None and finite.size:
        # Set explicitly: undefined voxels are NaN, which automatic window/level would not skip.
        low, high = (float(value) for value in np.percentile(finite, (1.0, 99.0)))
        displayNode.AutoWindowLevelOff()
        displayNode.SetWindowLevelMinMax(low, high if high > low else low + 1.0)
    return node


def relativeEnhancementMap(preImage, hbpImage, name=None):
    """RLE per voxel, (HBP - pre) / pre, on the HBP grid. ``preImage`` and ``hbpImage``: scalar
    volume nodes, or (array [k, j, i], IJK-to-RAS). The pre-contrast image is resampled onto the
    HBP grid in physical space (linear; parent transforms of nodes applied), never paired by
    index; where it does not reach, the map is NaN. A node HBP input gives a new volume node."""
    if preImage is None:
        raise ValueError("Pre-contrast image is missing: a relative enhancement (RLE) map needs the unenhanced series; use L/S - 1 instead")
    if hbpImage is None:
        raise ValueError("Hepatobiliary-phase image is missing: expected the series acquired about 20 min after injection")
    hbpArray, hbpIjkToRAS, _ = _grid(hbpImage)
    if hasattr(preImage, "IsA") and hasattr(hbpImage, "IsA"):
        pre = imageRegistration.resampledArray(preImage, hbpImage, "linear", float("nan"))
    else:
        preArray, preIjkToWorld, _ = _worldGrid(preImage)
        _, hbpIjkToWorld, _ = _worldGrid(hbpImage)
        # Reference (HBP local) -> world -> pre world frame (arrays carry their world grids).
        referenceToSource = hbpIjkToWorld @ np.linalg.inv(hbpIjkToRAS)
        pre = imageRegistration.resampleArray(preArray, preIjkToWorld, hbpArray.shape, hbpIjkToRAS, "linear", float("nan"), referenceToSource)
    result = relativeEnhancementArray(pre, hbpArray)
    undefined = int(np.count_nonzero(~np.isfinite(result)))
    node = _mapNode(hbpImage, RLE_MAP, result, hbpIjkToRAS, name, undefined)
    return EnhancementMap(RLE_MAP, result, hbpIjkToRAS, undefined, node)


def _grid(image):
    """(array, own IJK-to-RAS (no parent transform), name)."""
    if hasattr(image, "IsA"):
        node = imageRegistration.checkedVolumeNode(image, "Image")
        return imageRegistration.volumeNodeArray(node), imageRegistration.nodeIjkToRas(node), node.GetName()
    array, ijkToRAS = _arrayAndGeometry(image)
    return array, ijkToRAS, "image"


def liverSpleenEnhancementMap(hbpImage, spleenSiHbp, name=None):
    """L/S - 1 per voxel: the HBP signal over the mean spleen signal (HBP), minus 1."""
    spleen = _divisor(spleenSiHbp, "Spleen signal (HBP)", "the L/S - 1 map")
    if hbpImage is None:
        raise ValueError("Hepatobiliary-phase image is missing: expected the series acquired about 20 min after injection")
    hbpArray, hbpIjkToRAS, _ = _grid(hbpImage)
    result = np.asarray(hbpArray, dtype=np.float32) / np.float32(spleen) - np.float32(1.0)
    undefined = int(np.count_nonzero(~np.isfinite(result)))
    node = _mapNode(hbpImage, LIVER_SPLEEN_MAP, result, hbpIjkToRAS, name, undefined)
    return EnhancementMap(LIVER_SPLEEN_MAP, result, hbpIjkToRAS, undefined, node)


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


def remnantFunctionalShare(mapImage, segmentationNode, remnantSegmentIds, liverSegmentIds, clipNegative=False, mapKind=None):
    """FLR functional share from a voxel-wise map (an ``EnhancementMap``, a volume node, or (array,
    IJK-to-RAS)): sum over the FLR (the union of ``remnantSegmentIds``, inside the liver) / sum
    over the liver (the union of ``liverSegmentIds``); segments are resampled onto the map grid
    in physical space. NaN voxels are left out and counted. Negative values (less signal after
    contrast, e.g. in tumours) are summed as they are, the clinical reference's literal sum;
    ``clipNegative`` counts them as 0 instead."""
    if isinstance(mapImage, EnhancementMap):
        mapKind = mapKind or mapImage.kind
        mapImage = mapImage.node if mapImage.node is not None else (mapImage.array, mapImage.ijkToRAS)
    if mapKind is None and hasattr(mapImage, "GetAttribute"):
        mapKind = mapImage.GetAttribute("ALPPS.Gadoxetate.Map")
    if not list(remnantSegmentIds) or not list(liverSegmentIds):
        raise ValueError("FLR and liver segment IDs must both be given: expected the remnant's segments and the whole liver's segments")
    masks, array, _, imageName = _segmentMasks(mapImage, segmentationNode, {"remnant": list(remnantSegmentIds), "liver": list(liverSegmentIds)})
    liver = masks["liver"]
    remnant = masks["remnant"] & liver
    if not liver.any():
        raise ValueError(f"The liver segments cover no voxel of the map '{imageName}': expected a map that covers the liver")
    if not remnant.any():
        raise ValueError(f"The FLR segments cover no liver voxel of the map '{imageName}': expected FLR segments inside the liver")
    liverValues = array[liver].astype(np.float64)
    remnantValues = array[remnant].astype(np.float64)
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
        remnantVoxels=int(remnant.sum()),
        liverVoxels=int(liver.sum()),
        undefinedLiverVoxels=undefined,
        mapKind=mapKind or "unspecified",
        clippedNegative=bool(clipNegative),
    )
