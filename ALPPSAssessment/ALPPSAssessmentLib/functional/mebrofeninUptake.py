"""Liver function from 99mTc-mebrofenin hepatobiliary scintigraphy (clinical reference section 5).

What is computed, with its units:
- Time-activity curves of the dynamic planar series: liver ROI, blood pool (heart) ROI and total
  field of view (FOV), as count rates in counts/s at each frame's mid-time (s after injection).
- MUR, the mebrofenin uptake rate of the whole liver (%/min), by the Ekman 1996 method over the
  150-350 s window: L(t) = k x integral_0^t B + a x B(t), fitted as the straight line
  L/B = k x (integral_0^t B)/B + a; k (1/s) is converted to 1/min (x 60 s/min) and normalised to
  the percentage of the injected activity taken up per minute (see "Normalisation" below).
- MUR_BSA = MUR / BSA (%/min/m2).
- FLR-C, the remnant's share of the liver counts on SPECT: counts in the FLR VOI / counts in the
  whole-liver VOI (a fraction; x100 for %). FLR-F = FLR-C x MUR (%/min); FLR-F_BSA = FLR-F / BSA
  (%/min/m2).
- Flags (clinicalCriteria): risk groups FLR-F_BSA < 2.69 %/min/m2 (de Graaf 2010: high risk of
  post-hepatectomy liver failure) and <= 2.7 %/min/m2 (Tomassini 2020: ALPPS before stage 2);
  as everywhere, "met" means the value is outside the risk group. Every FLR-F_BSA flag is
  unchecked: the normalisation of the uptake rate behind it is.

Timing. Every time is in seconds after injection (t = 0 s is the injection, which the dynamic
series must start with: the blood-pool integral runs from it). A frame is given by its start and
duration (s) or by its mid-time (s); ``TimeActivityCurves`` stores mid-times and, when known,
durations. Conversions to minutes are explicit (``SECONDS_PER_MINUTE``).

Decay. 99mTc decays with a half-life of 6.01 h (21636 s): about 1.1 % over a 6-minute series.
Liver and blood decay alike, so L/B does not change, but integral_0^t B does, which biases k by
about half the decay over the window. The curves are therefore corrected to injection time
before the fit, frame by frame, for the decay during the frame: the average count rate of a frame
[s, s + d] is multiplied by exp(lambda s) x lambda d / (1 - exp(-lambda d)), lambda = ln 2 / T1/2
(exp(lambda t_mid) when durations are unknown). ``TimeActivityCurves.decayCorrected`` says
whether the stored rates are already corrected (a camera may have done it); they are never
corrected twice.

Normalisation (details of the Ekman method as used here: [unchecked] against Ekman 1996).
k relates liver counts to heart-ROI counts, a ratio that depends on the ROIs. To make it the
percentage of the injected activity taken up per minute, the blood-pool curve is calibrated to
the injected activity: at injection all the activity is in the blood. Both calibration numbers
come from the frames whose mid-times lie in the calibration window (default 60-150 s, after the
first pass of the bolus and before the uptake window):
- 100 % of the injected activity = the mean total-FOV count rate (counts/s, decay-corrected) of
  those frames. The total FOV must see all the injected activity (liver, heart and the rest of
  the blood and body in view); what leaves the FOV in the first minutes is assumed negligible.
- The blood-pool count rate at injection, B0 = the heart curve fitted as a straight line in
  ln(B) against t over those frames and extrapolated to t = 0 s. (A mean over those frames
  instead would already have lost what left the blood since injection, about 10-30 % at
  typical rates: MUR would be biased low by as much.)
Then MUR (%/min) = 100 % x k (1/s) x 60 (s/min) x B0 / F100; with B = c x (blood activity) and
F = e x (activity in view), B0 / F100 = c / e, so MUR = 100 x K x 60, where K (1/s) is the
fraction of the circulating activity that the liver clears per second (the constant of the
two-compartment model of ``functionalSimulator``, which the tests recover). The window and the
calibration choices are parameters and are stored with every result.

Arrays are numpy; images [frame, row, column] for the planar series and [k, j, i] for SPECT (as
Slicer's arrayFromVolume). Only numpy and the pure-Python parts of ALPPSVolumetryLib are used.
"""

import math
import re
from dataclasses import dataclass, field, replace
from typing import Dict, List, Optional, Tuple

import numpy as np
from ALPPSVolumetryLib import clinicalCriteria
from ALPPSVolumetryLib.bodySize import CHECKED, UNCHECKED, checkedNumber
from ALPPSVolumetryLib.quantityDefinition import QuantityDefinition

# --- Units and constants -----------------------------------------------------------------------

SECONDS_PER_MINUTE = 60.0
SECONDS_PER_HOUR = 3600.0
PERCENT_PER_FRACTION = 100.0
TC99M_HALF_LIFE_HOURS = 6.01
TC99M_HALF_LIFE_SECONDS = TC99M_HALF_LIFE_HOURS * SECONDS_PER_HOUR
TC99M_DECAY_CONSTANT_PER_SECOND = math.log(2.0) / TC99M_HALF_LIFE_SECONDS

COUNTS_PER_SECOND = "counts/s"
COUNTS = "counts"
PER_SECOND = "1/s"
PER_MINUTE = "1/min"
PERCENT = "%"
PERCENT_PER_MIN = "%/min"
PERCENT_PER_MIN_M2 = "%/min/m2"
SQUARE_METRE = "m2"
DIMENSIONLESS = ""

DEFAULT_UPTAKE_WINDOW_SECONDS = (150.0, 350.0)
DEFAULT_CALIBRATION_WINDOW_SECONDS = (60.0, 150.0)
# The blood-pool integral starts at injection: the first frame must begin at once.
MAX_FIRST_FRAME_MID_SECONDS = 30.0
MIN_FRAMES = 3
MIN_FIT_FRAMES = 3
MIN_CALIBRATION_FRAMES = 2
# Frames whose edges overlap by more than this (s) are refused; rounding of start times is not.
_TIME_TOLERANCE_SECONDS = 1e-3
# Below this r2 the uptake fit is reported with a warning.
POOR_FIT_R_SQUARED = 0.95
# No liver takes up half of the injected activity per minute: such a value is a unit mistake.
MAX_PLAUSIBLE_MUR_PERCENT_PER_MIN = 50.0

# --- Sources -----------------------------------------------------------------------------------

EKMAN_1996 = (
    "Ekman M et al. Liver uptake function measured by IODIDA clearance rate. Nucl Med Commun 1996 "
    "[unchecked: citation details and method details (normalisation) not confirmed against the paper]"
)
ARNTZ_2023 = (
    "Arntz PJW et al. Joint EANM/SNMMI/IHPBA procedure guideline for [99mTc]Tc-mebrofenin hepatobiliary "
    "scintigraphy. HPB 2023;25:1131 [checked citation]"
)
DE_GRAAF_2010 = clinicalCriteria.DE_GRAAF_2010
TOMASSINI_2020 = clinicalCriteria.TOMASSINI_2020
CLINICAL_REFERENCE_5 = "clinical reference section 5 (hepatobiliary scintigraphy)"

UPTAKE_METHOD = (
    "Ekman uptake rate: L(t) = k x integral_0^t B dt + a x B(t), fitted as L/B = k x (integral_0^t B dt)/B + a "
    "(least squares) over the frames whose mid-times lie in the uptake window; L, B, F the liver, blood-pool "
    "(heart) and total-FOV count rates (counts/s), decay-corrected to injection (99mTc, T1/2 6.01 h); the integral "
    "is the trapezoidal rule over frame mid-times from injection (the first frame's rate held from t = 0 s); "
    "MUR = 100 % x k (1/s) x 60 s/min x B0 / F100, B0 the blood-pool rate extrapolated to injection by a "
    "log-linear fit over the calibration window, F100 the mean total-FOV rate over the same frames (100 % of the "
    "injected activity)"
)
SHARE_METHOD = (
    "FLR-C = sum of SPECT counts in the FLR VOI / sum of SPECT counts in the whole-liver VOI, both VOIs on the "
    "SPECT grid (SPECT registered to the CT with the plan)"
)

# --- Keys --------------------------------------------------------------------------------------

MUR = "mur"
MUR_BSA = "murBsa"
UPTAKE_CONSTANT = "uptakeConstant"
BLOOD_FRACTION = "bloodFractionInLiverRoi"
FIT_R_SQUARED = "uptakeFitRSquared"
FLR_C = "flrCountShare"
FLR_F = "flrFunction"
FLR_F_BSA = "flrFunctionBsa"
FLR_F_BSA_BELOW_DE_GRAAF = clinicalCriteria.FLR_FUNCTION_DE_GRAAF.key
FLR_F_BSA_BELOW_ALPPS = clinicalCriteria.FLR_FUNCTION_ALPPS.key

DE_GRAAF_CUTOFF = clinicalCriteria.FLR_FUNCTION_DE_GRAAF
ALPPS_CUTOFF = clinicalCriteria.FLR_FUNCTION_ALPPS


DEFINITIONS = {
    definition.key: definition
    for definition in (
        QuantityDefinition(
            MUR,
            "Mebrofenin uptake rate (MUR), whole liver",
            PERCENT_PER_MIN,
            "percentage of the injected activity taken up by the liver per minute: 100 % x k x 60 s/min x B0 / F100 "
            "(Ekman fit over 150-350 s)",
            f"{EKMAN_1996}; {ARNTZ_2023}",
            UNCHECKED,
            2,
            note="normalisation (B0 extrapolated to injection, F100 the total FOV over 60-150 s) is this software's "
            "reading of the Ekman method, unchecked against the paper",
        ),
        QuantityDefinition(MUR_BSA, "MUR per body surface area", PERCENT_PER_MIN_M2, "MUR / BSA", CLINICAL_REFERENCE_5, UNCHECKED, 3,
                           note=clinicalCriteria.MUR_NORMALISATION_UNCHECKED),
        QuantityDefinition(
            UPTAKE_CONSTANT,
            "Ekman uptake constant k (ROI units)",
            PER_MINUTE,
            "slope of L/B against (integral_0^t B dt)/B, x 60 s/min; liver-ROI counts per blood-pool-ROI count "
            "per minute, before normalisation to the injected activity",
            EKMAN_1996,
            UNCHECKED,
            4,
        ),
        QuantityDefinition(
            BLOOD_FRACTION,
            "Blood-pool contribution to the liver ROI (a)",
            DIMENSIONLESS,
            "intercept of the Ekman fit: liver-ROI count rate per blood-pool-ROI count rate due to blood in the liver",
            EKMAN_1996,
            UNCHECKED,
            3,
        ),
        QuantityDefinition(
            FIT_R_SQUARED,
            "Uptake fit r2",
            DIMENSIONLESS,
            "coefficient of determination of the Ekman straight-line fit over the uptake window",
            EKMAN_1996,
            UNCHECKED,
            4,
            note=f"below {POOR_FIT_R_SQUARED:g} the result carries a warning",
        ),
        QuantityDefinition(
            FLR_C,
            "FLR share of liver counts (FLR-C, SPECT)",
            PERCENT,
            "counts in the FLR VOI / counts in the whole-liver VOI on SPECT, x 100",
            CLINICAL_REFERENCE_5,
            CHECKED,
            2,
            note="SPECT rather than the anterior planar view: the planar view overestimates left-sided FLRs, more so "
            "in ALPPS",
        ),
        QuantityDefinition(FLR_F, "FLR function (FLR-F)", PERCENT_PER_MIN, "FLR-C (fraction) x MUR", CLINICAL_REFERENCE_5, UNCHECKED, 3,
                           note=clinicalCriteria.MUR_NORMALISATION_UNCHECKED),
        QuantityDefinition(
            FLR_F_BSA, "FLR function per BSA (FLR-F/BSA)", PERCENT_PER_MIN_M2, "FLR-F / BSA", CLINICAL_REFERENCE_5, UNCHECKED, 2,
            note=clinicalCriteria.MUR_NORMALISATION_UNCHECKED,
        ),
        QuantityDefinition(
            FLR_F_BSA_BELOW_DE_GRAAF,
            f"FLR-F/BSA {DE_GRAAF_CUTOFF.criterionText()} (de Graaf)",
            PERCENT_PER_MIN_M2,
            f"met when {DE_GRAAF_CUTOFF.criterionText()}; risk group {DE_GRAAF_CUTOFF.riskGroupText()}: high risk of "
            "post-hepatectomy liver failure",
            DE_GRAAF_2010,
            UNCHECKED,
            3,
            note=f"population: {DE_GRAAF_CUTOFF.population}; {clinicalCriteria.MUR_NORMALISATION_UNCHECKED}",
        ),
        QuantityDefinition(
            FLR_F_BSA_BELOW_ALPPS,
            f"FLR-F/BSA {ALPPS_CUTOFF.criterionText()} before ALPPS stage 2 (Tomassini)",
            PERCENT_PER_MIN_M2,
            f"met when {ALPPS_CUTOFF.criterionText()}; risk group {ALPPS_CUTOFF.riskGroupText()} before ALPPS stage 2",
            TOMASSINI_2020,
            UNCHECKED,
            3,
            note=f"population: {ALPPS_CUTOFF.population}; {clinicalCriteria.MUR_NORMALISATION_UNCHECKED}",
        ),
    )
}


def definitionRows():
    """Every definition as a dict (key, label, unit, definition, reference, status, decimals, note)."""
    return [definition.asDict() for definition in DEFINITIONS.values()]


# --- Checked inputs ----------------------------------------------------------------------------


def _vector(values, name, expected):
    if values is None:
        raise ValueError(f"{name} is missing: expected {expected}")
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} {values!r} is not a list of numbers: expected {expected}") from None
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise ValueError(f"{name} has shape {array.shape}: expected one value per frame ({expected})")
    if not np.all(np.isfinite(array)):
        index = int(np.flatnonzero(~np.isfinite(array))[0])
        raise ValueError(f"{name} has a non-finite value ({array[index]}) at frame {index}: expected {expected}")
    return array


def _window(window, name):
    expected = "(start, end) in seconds after injection with 0 <= start < end"
    if window is None or isinstance(window, (str, bytes)) or not hasattr(window, "__len__") or len(window) != 2:
        raise ValueError(f"{name} {window!r} is not a (start, end) pair: expected {expected}")
    start = checkedNumber(window[0], f"{name} start", expected)
    end = checkedNumber(window[1], f"{name} end", expected)
    if not 0.0 <= start < end:
        raise ValueError(f"{name} ({start:g}, {end:g}) s is not a time window: expected {expected}")
    return (start, end)


def _positive(value, name, expected):
    number = checkedNumber(value, name, expected)
    if number <= 0:
        raise ValueError(f"{name} {number:g} must be positive: expected {expected}")
    return number


# --- Time-activity curves ----------------------------------------------------------------------


@dataclass(frozen=True)
class TimeActivityCurves:
    """Count rates (counts/s) of the three regions of a dynamic planar series, one value per frame.

    ``midTimesSeconds``: frame mid-times in seconds after injection (strictly increasing, >= 0).
    ``frameDurationsSeconds``: frame durations (s), or None when only mid-times are known (a table).
    ``liver``, ``bloodPool``, ``totalFieldOfView``: mean count rate over each frame (counts/s) in
    the liver ROI, the blood-pool (heart) ROI and the whole field of view.
    ``decayCorrected``: True when the rates are already corrected for 99mTc decay to injection time
    (t = 0 s); False when they are as counted (the usual case; ``mebrofeninUptakeRate`` corrects).
    Validated on construction: missing or non-increasing timing, overlapping frames, negative or
    non-finite counts and mismatched lengths are refused with a ValueError.
    """

    midTimesSeconds: np.ndarray
    liver: np.ndarray
    bloodPool: np.ndarray
    totalFieldOfView: np.ndarray
    frameDurationsSeconds: Optional[np.ndarray] = None
    decayCorrected: bool = False
    source: str = ""
    unit: str = COUNTS_PER_SECOND

    def __post_init__(self):
        times = self.midTimesSeconds
        if times is None:
            raise ValueError(
                "Dynamic series has no frame timing: expected the frame mid-times (or start times and durations) "
                "in seconds after injection"
            )
        times = _vector(times, "Frame mid-times", "seconds after injection, one per frame")
        if times.size < MIN_FRAMES:
            raise ValueError(f"Dynamic series has {times.size} frame(s): expected at least {MIN_FRAMES} frames")
        if times[0] < 0:
            raise ValueError(
                f"Frame mid-time {times[0]:g} s is before the injection: expected seconds after injection (>= 0)"
            )
        steps = np.diff(times)
        if np.any(steps <= 0):
            index = int(np.flatnonzero(steps <= 0)[0])
            raise ValueError(
                f"Frame times are not increasing: frame {index + 1} at {times[index + 1]:g} s follows frame {index} "
                f"at {times[index]:g} s: expected strictly increasing times in seconds after injection"
            )
        object.__setattr__(self, "midTimesSeconds", times)
        durations = self.frameDurationsSeconds
        if durations is not None:
            durations = _vector(durations, "Frame durations", "seconds, one per frame")
            if durations.size != times.size:
                raise ValueError(
                    f"Frame durations have {durations.size} values for {times.size} frames: expected one duration "
                    "(s) per frame"
                )
            if np.any(durations <= 0):
                index = int(np.flatnonzero(durations <= 0)[0])
                raise ValueError(f"Frame {index} has duration {durations[index]:g} s: expected a positive duration in s")
            ends = times + durations / 2.0
            starts = times - durations / 2.0
            if starts[0] < -_TIME_TOLERANCE_SECONDS:
                raise ValueError(
                    f"Frame 0 starts at {starts[0]:g} s, before the injection: expected times in seconds after injection"
                )
            overlap = ends[:-1] - starts[1:] > _TIME_TOLERANCE_SECONDS
            if np.any(overlap):
                index = int(np.flatnonzero(overlap)[0])
                raise ValueError(
                    f"Frames {index} and {index + 1} overlap ({starts[index]:g}-{ends[index]:g} s and "
                    f"{starts[index + 1]:g}-{ends[index + 1]:g} s): expected consecutive frames"
                )
            object.__setattr__(self, "frameDurationsSeconds", durations)
        for name, label in (("liver", "Liver"), ("bloodPool", "Blood-pool"), ("totalFieldOfView", "Total field of view")):
            values = _vector(getattr(self, name), f"{label} curve", f"count rates in {COUNTS_PER_SECOND}, one per frame")
            if values.size != times.size:
                raise ValueError(
                    f"{label} curve has {values.size} values for {times.size} frame times: expected one value per frame"
                )
            if np.any(values < 0):
                index = int(np.flatnonzero(values < 0)[0])
                raise ValueError(
                    f"{label} curve has negative counts ({values[index]:g} {COUNTS_PER_SECOND}) at frame {index}: "
                    "expected counts >= 0"
                )
            object.__setattr__(self, name, values)
        object.__setattr__(self, "decayCorrected", bool(self.decayCorrected))

    @property
    def frameCount(self):
        return int(self.midTimesSeconds.size)

    def frameEdgesSeconds(self):
        """(starts, ends) of the frames in s: from the durations, or, without them, halfway between
        mid-times (the first frame as long before its mid-time as after it, never before 0 s)."""
        times = self.midTimesSeconds
        if self.frameDurationsSeconds is not None:
            return times - self.frameDurationsSeconds / 2.0, times + self.frameDurationsSeconds / 2.0
        halfway = (times[:-1] + times[1:]) / 2.0
        starts = np.concatenate(([max(0.0, times[0] - (halfway[0] - times[0]))], halfway))
        ends = np.concatenate((halfway, [times[-1] + (times[-1] - halfway[-1])]))
        return starts, ends

    def decayCorrectionFactors(self):
        """Per-frame factors that correct the mean count rate of a frame to injection time (99mTc).
        With durations: exp(lambda s) x lambda d / (1 - exp(-lambda d)) for the frame [s, s + d];
        without: exp(lambda t_mid). All ones when the curves are already corrected."""
        if self.decayCorrected:
            return np.ones(self.frameCount)
        decay = TC99M_DECAY_CONSTANT_PER_SECOND
        if self.frameDurationsSeconds is None:
            return np.exp(decay * self.midTimesSeconds)
        starts = self.midTimesSeconds - self.frameDurationsSeconds / 2.0
        durations = self.frameDurationsSeconds
        return np.exp(decay * starts) * decay * durations / -np.expm1(-decay * durations)

    def decayCorrectedToInjection(self):
        """A copy with every curve corrected for 99mTc decay to injection time (itself if it is)."""
        if self.decayCorrected:
            return self
        factors = self.decayCorrectionFactors()
        return replace(
            self,
            liver=self.liver * factors,
            bloodPool=self.bloodPool * factors,
            totalFieldOfView=self.totalFieldOfView * factors,
            decayCorrected=True,
        )

    def asDict(self):
        return {
            "unit": self.unit,
            "timeUnit": "s after injection (frame mid-time)",
            "midTimesSeconds": self.midTimesSeconds.tolist(),
            "frameDurationsSeconds": None if self.frameDurationsSeconds is None else self.frameDurationsSeconds.tolist(),
            "liver": self.liver.tolist(),
            "bloodPool": self.bloodPool.tolist(),
            "totalFieldOfView": self.totalFieldOfView.tolist(),
            "decayCorrected": self.decayCorrected,
            "source": self.source,
        }


def _mask(mask, name, shape):
    if mask is None:
        raise ValueError(f"{name} is missing: expected a boolean mask of shape {shape} (rows, columns)")
    array = np.asarray(mask)
    if array.shape != tuple(shape):
        raise ValueError(f"{name} has shape {array.shape}: expected the frame shape {tuple(shape)} (rows, columns)")
    array = array != 0 if array.dtype != bool else array
    if not array.any():
        raise ValueError(f"{name} is empty (no pixel set): expected a region drawn on the frames")
    return array


def timeActivityCurvesFromFrames(
    frames, frameStartSeconds, frameDurationSeconds, liverMask, bloodPoolMask, fieldOfViewMask=None, decayCorrected=False
):
    """Time-activity curves from a dynamic planar series.

    ``frames``: counts per pixel, shape (T, rows, columns) (one anterior or geometric-mean view per
    frame). ``frameStartSeconds``: T start times in s after injection; ``frameDurationSeconds``: one
    duration (s) for all frames or T durations. Masks: (rows, columns) booleans; ``fieldOfViewMask``
    None means the whole frame. Each curve is the sum of the counts in its ROI divided by the frame
    duration (counts/s) at the frame mid-time (start + duration / 2). ``decayCorrected`` says whether
    the frames were already corrected for decay by the camera (normally not).
    """
    if frames is None:
        raise ValueError("Dynamic frames are missing: expected counts as an array (frames, rows, columns)")
    counts = np.asarray(frames, dtype=float)
    if counts.ndim != 3 or counts.shape[0] < 1 or min(counts.shape[1:]) < 1:
        raise ValueError(f"Dynamic frames have shape {counts.shape}: expected counts as (frames, rows, columns)")
    if not np.all(np.isfinite(counts)):
        raise ValueError("Dynamic frames contain non-finite values: expected counts >= 0")
    if np.any(counts < 0):
        frame = int(np.flatnonzero((counts < 0).any(axis=(1, 2)))[0])
        raise ValueError(f"Dynamic frame {frame} has negative counts: expected counts >= 0")
    frameCount = counts.shape[0]
    if frameStartSeconds is None:
        raise ValueError(
            "Dynamic series has no frame timing: expected the frame start times in seconds after injection"
        )
    starts = _vector(frameStartSeconds, "Frame start times", "seconds after injection, one per frame")
    if starts.size != frameCount:
        raise ValueError(f"Frame start times have {starts.size} values for {frameCount} frames: expected one per frame")
    if frameDurationSeconds is None:
        raise ValueError("Frame durations are missing: expected the duration of each frame in seconds")
    durations = _vector(frameDurationSeconds, "Frame durations", "seconds, one value or one per frame")
    if durations.size == 1:
        durations = np.full(frameCount, durations[0])
    if durations.size != frameCount:
        raise ValueError(f"Frame durations have {durations.size} values for {frameCount} frames: expected one or one per frame")
    if np.any(durations <= 0):
        index = int(np.flatnonzero(durations <= 0)[0])
        raise ValueError(f"Frame {index} has duration {durations[index]:g} s: expected a positive duration in s")
    if np.any(np.diff(starts) <= 0):
        index = int(np.flatnonzero(np.diff(starts) <= 0)[0])
        raise ValueError(
            f"Frame start times are not increasing: frame {index + 1} at {starts[index + 1]:g} s follows frame {index} "
            f"at {starts[index]:g} s: expected strictly increasing times in seconds after injection"
        )
    shape = counts.shape[1:]
    liver = _mask(liverMask, "Liver ROI", shape)
    blood = _mask(bloodPoolMask, "Blood-pool (heart) ROI", shape)
    view = np.ones(shape, dtype=bool) if fieldOfViewMask is None else _mask(fieldOfViewMask, "Field-of-view ROI", shape)
    curves = {}
    regions = (
        ("liver", "Liver ROI", liver, "the liver"),
        ("bloodPool", "Blood-pool (heart) ROI", blood, "the heart"),
        ("totalFieldOfView", "Field of view", view, "the injected activity"),
    )
    for name, label, mask, where in regions:
        sums = counts[:, mask].sum(axis=1)
        if not np.any(sums > 0):
            raise ValueError(f"{label} has zero counts in every frame: expected the ROI over {where}")
        curves[name] = sums / durations
    return TimeActivityCurves(
        midTimesSeconds=starts + durations / 2.0,
        frameDurationsSeconds=durations,
        decayCorrected=decayCorrected,
        source=f"dynamic frames {counts.shape[0]} x {shape[0]} x {shape[1]} (ROI sums / frame duration)",
        **curves,
    )


_TABLE_ALIASES = {
    "time": ("time", "times", "timeseconds", "time_s", "t", "midtime", "midtimeseconds", "start", "starttime", "startseconds"),
    "duration": ("duration", "durations", "durationseconds", "duration_s", "frameduration", "framedurationseconds"),
    "liver": ("liver", "liverroi"),
    "blood": ("blood", "bloodpool", "heart", "bloodpoolroi", "heartroi"),
    "total": ("total", "totalfov", "fov", "fieldofview", "totalfieldofview", "field of view"),
}
_TABLE_ORDER = ("time", "liver", "blood", "total", "duration")
TIME_IS_MID = "mid"
TIME_IS_START = "start"
VALUES_PER_SECOND = "countsPerSecond"
VALUES_PER_FRAME = "countsPerFrame"


def _columnName(name):
    # Units in brackets ('Time (s)', 'Liver [counts/s]') are dropped before matching.
    text = re.sub(r"[\(\[].*?[\)\]]", "", str(name))
    key = text.strip().lower().replace(" ", "").replace("-", "").replace("_", "")
    for column, aliases in _TABLE_ALIASES.items():
        if key in (alias.replace(" ", "").replace("_", "") for alias in aliases):
            return column
    raise ValueError(
        f"Time-activity table column {name!r} is not recognised: expected time (s), liver, blood (heart), total "
        "(field of view) and optionally duration (s)"
    )


def timeActivityCurvesFromTable(table, timeIs=TIME_IS_MID, values=VALUES_PER_SECOND, decayCorrected=False):
    """Time-activity curves from a table a user brings (exported from the camera software).

    ``table``: either columns, a dict {column: list} with columns time, liver, blood and total (and
    optionally duration), names case-insensitive ('heart' or 'bloodPool' for blood, 'fov' for
    total, 'timeSeconds' ...), or rows: dicts with those keys, or sequences in the order
    (time s, liver, blood, total[, duration s]).
    ``timeIs``: 'mid' (default: frame mid-times, s after injection) or 'start' (frame start times,
    which needs durations). ``values``: 'countsPerSecond' (default) or 'countsPerFrame' (divided by
    the durations, which are then needed). ``decayCorrected``: whether the values are already
    corrected for decay to injection time.
    """
    if timeIs not in (TIME_IS_MID, TIME_IS_START):
        raise ValueError(f"timeIs {timeIs!r} is unknown: expected '{TIME_IS_MID}' (frame mid-times) or '{TIME_IS_START}'")
    if values not in (VALUES_PER_SECOND, VALUES_PER_FRAME):
        raise ValueError(f"values {values!r} is unknown: expected '{VALUES_PER_SECOND}' or '{VALUES_PER_FRAME}'")
    if table is None:
        raise ValueError("Time-activity table is missing: expected columns time (s), liver, blood, total")
    columns: Dict[str, list] = {}
    if isinstance(table, dict):
        for name, column in table.items():
            key = _columnName(name)
            if key in columns:
                raise ValueError(f"Time-activity table has two {key} columns (one is {name!r}): expected one of each")
            columns[key] = column
    else:
        rows = list(table)
        if not rows:
            raise ValueError("Time-activity table has no rows: expected one row per frame")
        if all(isinstance(row, dict) for row in rows):
            keys = {name: _columnName(name) for name in rows[0]}
            for key in keys.values():
                columns[key] = []
            for index, row in enumerate(rows):
                if set(row) != set(keys):
                    raise ValueError(
                        f"Time-activity table row {index} has columns {sorted(row)}: expected the columns of the first "
                        f"row {sorted(keys)}"
                    )
                for name, key in keys.items():
                    columns[key].append(row[name])
        else:
            width = len(rows[0]) if not isinstance(rows[0], (str, bytes)) else 0
            if width not in (4, 5):
                raise ValueError(
                    f"Time-activity table row 0 {rows[0]!r} has {width} values: expected (time s, liver, blood, total"
                    "[, duration s])"
                )
            for index, row in enumerate(rows):
                if isinstance(row, (str, bytes)) or len(row) != width:
                    raise ValueError(f"Time-activity table row {index} {row!r} does not have {width} values like row 0")
            for position, key in enumerate(_TABLE_ORDER[:width]):
                columns[key] = [row[position] for row in rows]
    if "time" not in columns:
        raise ValueError(
            "Time-activity table has no time column: expected frame times in seconds after injection (column 'time')"
        )
    for key, label in (("liver", "liver"), ("blood", "blood (heart)"), ("total", "total (field of view)")):
        if key not in columns:
            raise ValueError(f"Time-activity table has no {label} column: expected columns time, liver, blood, total")
    times = _vector(columns["time"], "Frame times", "seconds after injection, one per frame")
    durations = None
    if "duration" in columns:
        durations = _vector(columns["duration"], "Frame durations", "seconds, one per frame")
        if durations.size != times.size:
            raise ValueError(f"Frame durations have {durations.size} values for {times.size} frames: expected one per frame")
    if durations is None and (timeIs == TIME_IS_START or values == VALUES_PER_FRAME):
        needed = "frame start times" if timeIs == TIME_IS_START else "counts per frame"
        raise ValueError(f"Time-activity table gives {needed} without a duration column: expected durations in seconds")
    mids = times + durations / 2.0 if timeIs == TIME_IS_START else times
    curves = {}
    for key, name in (("liver", "liver"), ("blood", "bloodPool"), ("total", "totalFieldOfView")):
        column = _vector(columns[key], f"{key.capitalize()} column", "counts, one per frame")
        if column.size == times.size and values == VALUES_PER_FRAME:
            if np.any(durations <= 0):
                raise ValueError("Frame durations must be positive: expected seconds > 0")
            column = column / durations
        curves[name] = column
    return TimeActivityCurves(
        midTimesSeconds=mids,
        frameDurationsSeconds=durations,
        decayCorrected=decayCorrected,
        source=f"time-activity table ({times.size} frames, times as frame {timeIs} times, values in {values})",
        **curves,
    )


# --- Uptake rate (Ekman) -----------------------------------------------------------------------


# How the blood-pool curve is calibrated to the injected activity: the MUR normalisation, which
# the clinical reference marks unchecked against Ekman 1996. The default stays the one this
# software used; the other is offered so that a centre can match its own software, and every
# result names the one used.
BLOOD_EXTRAPOLATED_TO_INJECTION = "extrapolated to injection"
BLOOD_CALIBRATION_WINDOW_MEAN = "calibration window mean"
MUR_NORMALISATIONS = {
    BLOOD_EXTRAPOLATED_TO_INJECTION: (
        "blood-pool count rate at injection B0 = the heart curve fitted as a straight line in ln(B) over the calibration "
        "window and extrapolated to t = 0 s; 100 % of the injected activity = the mean total field of view over that "
        "window (default)"
    ),
    BLOOD_CALIBRATION_WINDOW_MEAN: (
        "B0 = the mean heart count rate over the calibration window (what left the blood since injection is not "
        "added back: MUR about 10-30 % lower than extrapolated); 100 % = the mean total field of view over that window"
    ),
}
DEFAULT_MUR_NORMALISATION = BLOOD_EXTRAPOLATED_TO_INJECTION


@dataclass(frozen=True)
class MebrofeninUptakeResult:
    """MUR of the whole liver and everything needed to show how it was obtained."""

    murPercentPerMin: float
    uptakeConstantPerSecond: float  # k: liver-ROI counts per (blood-pool-ROI count x s)
    bloodFractionInLiverRoi: float  # a: intercept of the fit (dimensionless)
    rSquared: float
    framesUsed: int
    frameMidTimesUsedSeconds: Tuple[float, ...]
    windowSeconds: Tuple[float, float]
    calibrationWindowSeconds: Tuple[float, float]
    calibrationFramesUsed: int
    bloodAtInjectionCountsPerSecond: float  # B0 (decay-corrected)
    injectedCountsPerSecond: float  # F100: total FOV = 100 % of the injected activity (decay-corrected)
    bloodClearancePerMinute: float  # from the log-linear fit of B over the calibration window (1/min)
    decayCorrection: str
    method: str = UPTAKE_METHOD
    reference: str = f"{EKMAN_1996}; {ARNTZ_2023}"
    status: str = UNCHECKED
    warnings: Tuple[str, ...] = field(default=())
    unit: str = PERCENT_PER_MIN
    normalisation: str = DEFAULT_MUR_NORMALISATION

    @property
    def uptakeConstantPerMinute(self):
        return self.uptakeConstantPerSecond * SECONDS_PER_MINUTE

    def describe(self):
        return (
            f"MUR {self.murPercentPerMin:.2f} {PERCENT_PER_MIN} (Ekman fit over {self.windowSeconds[0]:g}-"
            f"{self.windowSeconds[1]:g} s, {self.framesUsed} frames, r2 {self.rSquared:.4f}, a {self.bloodFractionInLiverRoi:.3f})"
        )

    def asDict(self):
        return {
            "murPercentPerMin": self.murPercentPerMin,
            "unit": self.unit,
            "uptakeConstantPerSecond": self.uptakeConstantPerSecond,
            "uptakeConstantPerMinute": self.uptakeConstantPerMinute,
            "bloodFractionInLiverRoi": self.bloodFractionInLiverRoi,
            "rSquared": self.rSquared,
            "framesUsed": self.framesUsed,
            "frameMidTimesUsedSeconds": list(self.frameMidTimesUsedSeconds),
            "windowSeconds": list(self.windowSeconds),
            "calibrationWindowSeconds": list(self.calibrationWindowSeconds),
            "calibrationFramesUsed": self.calibrationFramesUsed,
            "bloodAtInjectionCountsPerSecond": self.bloodAtInjectionCountsPerSecond,
            "injectedCountsPerSecond": self.injectedCountsPerSecond,
            "bloodClearancePerMinute": self.bloodClearancePerMinute,
            "decayCorrection": self.decayCorrection,
            "method": self.method,
            "normalisation": self.normalisation,
            "normalisationDefinition": MUR_NORMALISATIONS[self.normalisation],
            "normalisationStatus": UNCHECKED,
            "reference": self.reference,
            "status": self.status,
            "warnings": list(self.warnings),
            "definition": DEFINITIONS[MUR].asDict(),
        }


def bloodPoolIntegral(curves):
    """integral_0^t B dt (counts) at each frame mid-time: the first frame's rate held from injection
    (t = 0 s) to its mid-time, then the trapezoidal rule between mid-times."""
    times = curves.midTimesSeconds
    blood = curves.bloodPool
    steps = np.diff(times) * (blood[:-1] + blood[1:]) / 2.0
    return blood[0] * times[0] + np.concatenate(([0.0], np.cumsum(steps)))


def _straightLine(x, y):
    """Least-squares slope, intercept and r2 of y = slope x + intercept."""
    design = np.column_stack((x, np.ones_like(x)))
    (slope, intercept), *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = y - (slope * x + intercept)
    total = float(np.sum((y - y.mean()) ** 2))
    rSquared = 1.0 - float(np.sum(residual**2)) / total if total > 0 else float("nan")
    return float(slope), float(intercept), rSquared


def _framesIn(times, window):
    return np.flatnonzero((times >= window[0] - _TIME_TOLERANCE_SECONDS) & (times <= window[1] + _TIME_TOLERANCE_SECONDS))


def mebrofeninUptakeRate(curves, windowSeconds=DEFAULT_UPTAKE_WINDOW_SECONDS, calibrationWindowSeconds=DEFAULT_CALIBRATION_WINDOW_SECONDS,
                         normalisation=DEFAULT_MUR_NORMALISATION):
    """MUR (%/min) of the whole liver by the Ekman method (module docstring: model, decay and
    normalisation). ``curves``: ``TimeActivityCurves``; ``windowSeconds``: the uptake window (s
    after injection, default 150-350 s) that the series must cover; ``calibrationWindowSeconds``:
    the frames that calibrate the blood pool to the injected activity (default 60-150 s);
    ``normalisation``: one of MUR_NORMALISATIONS (unchecked against the paper; named with the result)."""
    if normalisation not in MUR_NORMALISATIONS:
        raise ValueError(f"MUR normalisation {normalisation!r} is unknown: expected one of {', '.join(repr(key) for key in MUR_NORMALISATIONS)}")
    if not isinstance(curves, TimeActivityCurves):
        raise ValueError(
            f"Curves are a {type(curves).__name__}: expected TimeActivityCurves (timeActivityCurvesFromFrames or "
            "timeActivityCurvesFromTable)"
        )
    window = _window(windowSeconds, "Uptake window")
    calibration = _window(calibrationWindowSeconds, "Calibration window")
    times = curves.midTimesSeconds
    starts, ends = curves.frameEdgesSeconds()
    if times[0] > MAX_FIRST_FRAME_MID_SECONDS:
        raise ValueError(
            f"Dynamic series starts at {starts[0]:g} s (first frame mid-time {times[0]:g} s): expected the series to "
            f"start at injection (first mid-time <= {MAX_FIRST_FRAME_MID_SECONDS:g} s), since the blood-pool integral "
            "runs from t = 0 s"
        )
    if starts[0] > window[0] + _TIME_TOLERANCE_SECONDS or ends[-1] < window[1] - _TIME_TOLERANCE_SECONDS:
        raise ValueError(
            f"Dynamic series covers {starts[0]:g}-{ends[-1]:g} s after injection: expected it to cover the uptake "
            f"window {window[0]:g}-{window[1]:g} s"
        )
    used = _framesIn(times, window)
    if used.size < MIN_FIT_FRAMES:
        raise ValueError(
            f"Uptake window {window[0]:g}-{window[1]:g} s holds {used.size} frame mid-time(s): expected at least "
            f"{MIN_FIT_FRAMES} frames in it"
        )
    corrected = curves.decayCorrectedToInjection()
    blood = corrected.bloodPool
    liver = corrected.liver
    total = corrected.totalFieldOfView
    zeroBlood = used[blood[used] <= 0]
    if zeroBlood.size:
        raise ValueError(
            f"Blood-pool curve is zero at {times[zeroBlood[0]]:g} s (frame {int(zeroBlood[0])}), in the uptake window: "
            "expected counts in the blood-pool (heart) ROI throughout the window (the curve must not decay to zero)"
        )
    if np.all(liver[used] <= 0):
        raise ValueError(
            f"Liver curve has zero counts in the uptake window {window[0]:g}-{window[1]:g} s: expected counts in the "
            "liver ROI"
        )
    calibrationFrames = _framesIn(times, calibration)
    if calibrationFrames.size < MIN_CALIBRATION_FRAMES:
        raise ValueError(
            f"Calibration window {calibration[0]:g}-{calibration[1]:g} s holds {calibrationFrames.size} frame "
            f"mid-time(s): expected at least {MIN_CALIBRATION_FRAMES} frames to calibrate the blood pool to the "
            "injected activity"
        )
    if np.any(blood[calibrationFrames] <= 0):
        raise ValueError(
            f"Blood-pool curve is zero in the calibration window {calibration[0]:g}-{calibration[1]:g} s: expected "
            "counts in the blood-pool (heart) ROI"
        )
    injected = float(np.mean(total[calibrationFrames]))
    if injected <= 0:
        raise ValueError(
            f"Total field of view has zero counts in the calibration window {calibration[0]:g}-{calibration[1]:g} s: "
            "expected the whole field of view (100 % of the injected activity)"
        )
    integral = bloodPoolIntegral(corrected)
    x = integral[used] / blood[used]  # s
    y = liver[used] / blood[used]  # dimensionless
    slope, intercept, rSquared = _straightLine(x, y)
    logSlope, logIntercept, _ = _straightLine(times[calibrationFrames], np.log(blood[calibrationFrames]))
    if normalisation == BLOOD_EXTRAPOLATED_TO_INJECTION:
        bloodAtInjection = math.exp(logIntercept)
    else:
        bloodAtInjection = float(np.mean(blood[calibrationFrames]))
    mur = PERCENT_PER_FRACTION * slope * SECONDS_PER_MINUTE * bloodAtInjection / injected
    warnings: List[str] = []
    if not rSquared >= POOR_FIT_R_SQUARED:
        warnings.append(
            f"the uptake fit is poor (r2 {rSquared:.3f} < {POOR_FIT_R_SQUARED:g}): check the ROIs and the frames in "
            f"{window[0]:g}-{window[1]:g} s"
        )
    if slope <= 0:
        warnings.append("the uptake constant is not positive: the liver curve does not rise against the blood integral")
    if intercept < 0:
        warnings.append(f"the blood-pool contribution a = {intercept:.3f} is negative: check the liver and heart ROIs")
    if logSlope >= 0:
        warnings.append(
            f"the blood-pool curve does not fall in the calibration window {calibration[0]:g}-{calibration[1]:g} s "
            "(bolus not yet mixed?): its extrapolation to injection is unreliable"
        )
    if mur > MAX_PLAUSIBLE_MUR_PERCENT_PER_MIN:
        warnings.append(
            f"MUR {mur:.1f} {PERCENT_PER_MIN} is implausibly high (> {MAX_PLAUSIBLE_MUR_PERCENT_PER_MIN:g}): check that "
            "the total field of view holds all the injected activity"
        )
    return MebrofeninUptakeResult(
        murPercentPerMin=float(mur),
        uptakeConstantPerSecond=slope,
        bloodFractionInLiverRoi=intercept,
        rSquared=rSquared,
        framesUsed=int(used.size),
        frameMidTimesUsedSeconds=tuple(float(t) for t in times[used]),
        windowSeconds=window,
        calibrationWindowSeconds=calibration,
        calibrationFramesUsed=int(calibrationFrames.size),
        bloodAtInjectionCountsPerSecond=bloodAtInjection,
        injectedCountsPerSecond=injected,
        bloodClearancePerMinute=-logSlope * SECONDS_PER_MINUTE,
        decayCorrection=(
            "input already decay-corrected" if curves.decayCorrected else
            f"corrected here to injection (99mTc T1/2 {TC99M_HALF_LIFE_HOURS:g} h, per frame)"
        ),
        warnings=tuple(warnings),
        normalisation=normalisation,
    )


# --- Body size, remnant share and remnant function ----------------------------------------------


def _murValue(mur):
    if isinstance(mur, MebrofeninUptakeResult):
        mur = mur.murPercentPerMin
    value = checkedNumber(mur, "MUR", f"the mebrofenin uptake rate in {PERCENT_PER_MIN} (e.g. 8.5)")
    if value <= 0:
        raise ValueError(f"MUR {value:g} {PERCENT_PER_MIN} must be positive: expected the uptake rate in {PERCENT_PER_MIN}")
    if value > MAX_PLAUSIBLE_MUR_PERCENT_PER_MIN:
        raise ValueError(
            f"MUR {value:g} {PERCENT_PER_MIN} is implausible (> {MAX_PLAUSIBLE_MUR_PERCENT_PER_MIN:g}): expected "
            f"{PERCENT_PER_MIN} (a value per hour or in counts?)"
        )
    return value


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


@dataclass(frozen=True)
class RemnantShare:
    """FLR-C: the FLR's share of the liver counts on SPECT."""

    fraction: float
    flrCounts: float
    liverCounts: float
    flrVoxels: int
    liverVoxels: int
    method: str = SHARE_METHOD
    reference: str = CLINICAL_REFERENCE_5

    @property
    def percent(self):
        return self.fraction * PERCENT_PER_FRACTION

    def asDict(self):
        return {
            "fraction": self.fraction,
            "percent": self.percent,
            "flrCounts": self.flrCounts,
            "liverCounts": self.liverCounts,
            "flrVoxels": self.flrVoxels,
            "liverVoxels": self.liverVoxels,
            "method": self.method,
            "reference": self.reference,
            "definition": DEFINITIONS[FLR_C].asDict(),
        }


def remnantShareFromSpect(spectCounts, flrMask, liverMask):
    """FLR-C from a SPECT volume (counts, 3-D [k, j, i]) and the FLR and whole-liver VOIs as boolean
    arrays on the SPECT grid (same shape; ``voiOnSpectGrid`` puts CT labels there). The FLR VOI must
    lie inside the liver VOI; empty VOIs, negative counts and a liver without counts are refused."""
    if spectCounts is None:
        raise ValueError("SPECT counts are missing: expected a 3-D array [k, j, i]")
    counts = np.asarray(spectCounts, dtype=float)
    if counts.ndim != 3:
        raise ValueError(f"SPECT counts have shape {counts.shape}: expected a 3-D array [k, j, i]")
    if not np.all(np.isfinite(counts)):
        raise ValueError("SPECT counts contain non-finite values: expected counts >= 0")
    if np.any(counts < 0):
        raise ValueError(f"SPECT counts have {int(np.count_nonzero(counts < 0))} negative voxel(s): expected counts >= 0")
    masks = []
    for mask, name in ((flrMask, "FLR VOI"), (liverMask, "Whole-liver VOI")):
        if mask is None:
            raise ValueError(f"{name} is missing: expected a boolean array on the SPECT grid {counts.shape}")
        array = np.asarray(mask)
        if array.shape != counts.shape:
            raise ValueError(
                f"{name} has shape {array.shape}, the SPECT {counts.shape}: expected the VOI on the SPECT grid "
                "(resample it with voiOnSpectGrid after registration)"
            )
        array = array.astype(bool)
        if not array.any():
            raise ValueError(f"{name} is empty on the SPECT grid: expected the VOI inside the SPECT field of view")
        masks.append(array)
    flr, liver = masks
    outside = int(np.count_nonzero(flr & ~liver))
    if outside:
        raise ValueError(
            f"FLR VOI has {outside} voxel(s) outside the whole-liver VOI: expected the FLR to be part of the liver "
            "(intersect it with the liver VOI)"
        )
    liverCounts = float(counts[liver].sum())
    if liverCounts <= 0:
        raise ValueError("Whole-liver VOI has zero SPECT counts: expected the VOI over the liver's activity")
    flrCounts = float(counts[flr].sum())
    return RemnantShare(
        fraction=flrCounts / liverCounts,
        flrCounts=flrCounts,
        liverCounts=liverCounts,
        flrVoxels=int(np.count_nonzero(flr)),
        liverVoxels=int(np.count_nonzero(liver)),
    )


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
    return _murValue(mur) / _bsaValue(bsaM2)


def remnantFunction(mur, flrShare):
    """FLR-F (%/min) = FLR-C (fraction, or a RemnantShare) x MUR (%/min)."""
    return _shareFraction(flrShare) * _murValue(mur)


def remnantFunctionPerBsa(mur, flrShare, bsaM2):
    """FLR-F_BSA (%/min/m2) = FLR-C x MUR / BSA."""
    return remnantFunction(mur, flrShare) / _bsaValue(bsaM2)


# The published FLR-F_BSA cut-offs (clinicalCriteria): < 2.69 de Graaf 2010, <= 2.7 Tomassini 2020.
# Their flags are unchecked wherever shown: the MUR normalisation behind them is unchecked.
DE_GRAAF_THRESHOLD = clinicalCriteria.FLR_FUNCTION_DE_GRAAF
ALPPS_STAGE2_THRESHOLD = clinicalCriteria.FLR_FUNCTION_ALPPS
DEFAULT_THRESHOLDS = (DE_GRAAF_THRESHOLD, ALPPS_STAGE2_THRESHOLD)


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
    murValue = _murValue(mur)
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


# --- VOIs onto the SPECT grid ------------------------------------------------------------------


def _matrix(matrix, name):
    if matrix is None:
        raise ValueError(f"{name} is missing: expected a 4x4 matrix")
    array = np.asarray(matrix, dtype=float)
    if array.shape != (4, 4) or not np.all(np.isfinite(array)) or not np.allclose(array[3], (0, 0, 0, 1)):
        raise ValueError(f"{name} is not a 4x4 homogeneous matrix: expected a 4x4 array with last row (0, 0, 0, 1)")
    if abs(np.linalg.det(array[:3, :3])) < 1e-12:
        raise ValueError(f"{name} is singular: expected an invertible 4x4 matrix")
    return array


def growLabels(labels, steps):
    """Labels grown outward by ``steps`` voxels into unlabelled (0) voxels: at each step an empty
    voxel next to labelled ones (6-neighbourhood) takes a neighbour's label (the first found in
    the order -i, +i, -j, +j, -k, +k). Labelled voxels never change, so internal boundaries stay."""
    grown = np.array(labels, copy=True)
    for _ in range(int(steps)):
        empty = grown == 0
        if not empty.any():
            break
        taken = np.zeros_like(grown)
        for axis in (2, 1, 0):
            for direction in (1, -1):
                neighbour = np.zeros_like(grown)
                source = [slice(None)] * 3
                target = [slice(None)] * 3
                source[axis] = slice(None, -1) if direction == 1 else slice(1, None)
                target[axis] = slice(1, None) if direction == 1 else slice(None, -1)
                neighbour[tuple(target)] = grown[tuple(source)]
                take = empty & (taken == 0) & (neighbour > 0)
                taken[take] = neighbour[take]
        grown[empty] = taken[empty]
    return grown


def voiOnSpectGrid(labels, labelsIjkToRAS, spectShape, spectIjkToRAS, labelsToSpectRAS=None, outwardMarginMm=0.0):
    """Label values (e.g. Couinaud labels 0..8 on the CT grid, [k, j, i]) on the SPECT grid by
    nearest-neighbour lookup: every SPECT voxel centre, in the SPECT's RAS, is mapped by the inverse
    of ``labelsToSpectRAS`` (4x4 RAS mm: x_SPECT = labelsToSpectRAS @ x_CT; None = identity, i.e.
    the SPECT is already registered) into the label grid and takes the nearest label (0 outside).
    Refused with a ValueError when a labelled voxel maps outside the SPECT field of view (the VOI
    would be cut and its counts lost).

    ``outwardMarginMm`` > 0 grows the labels outward (never into each other) by that margin, rounded
    to whole SPECT voxels (``growLabels``), so that the counts the SPECT blur spreads outside the liver
    are counted with the segment they came from. This spill-out allowance is not in the clinical
    reference (default 0: the VOIs as drawn); without it a thin remnant (II-III) loses relatively
    more counts than the bulky right liver, and FLR-C comes out about 1.5-3 percentage points low at
    10-14 mm FWHM on the synthetic patient (tests)."""
    values = np.asarray(labels)
    if values.ndim != 3:
        raise ValueError(f"Labels have shape {values.shape}: expected a 3-D array [k, j, i]")
    if spectShape is None or len(spectShape) != 3 or min(int(n) for n in spectShape) < 1:
        raise ValueError(f"SPECT shape {spectShape!r} is not a 3-D shape: expected (k, j, i) sizes")
    spectShape = tuple(int(n) for n in spectShape)
    labelsMatrix = _matrix(labelsIjkToRAS, "Label IJK-to-RAS matrix")
    spectMatrix = _matrix(spectIjkToRAS, "SPECT IJK-to-RAS matrix")
    transform = np.eye(4) if labelsToSpectRAS is None else _matrix(labelsToSpectRAS, "Labels-to-SPECT RAS transform")
    # Labelled voxels must land inside the SPECT grid.
    k, j, i = np.nonzero(values)
    if k.size == 0:
        raise ValueError("Labels are empty (all 0): expected the VOI labels to resample")
    points = np.vstack((i, j, k, np.ones_like(i))).astype(float)
    spectIjk = np.linalg.inv(spectMatrix) @ transform @ labelsMatrix @ points
    upper = np.array(spectShape[::-1], dtype=float)[:, None] - 0.5
    outside = np.any((spectIjk[:3] < -0.5) | (spectIjk[:3] > upper), axis=0)
    if np.any(outside):
        affected = sorted(int(v) for v in np.unique(values[k[outside], j[outside], i[outside]]))
        raise ValueError(
            f"VOI outside the SPECT: {int(outside.sum())} labelled voxel(s) (label values {affected}) fall outside the "
            f"SPECT field of view {spectShape} (k, j, i): expected the FLR and liver VOIs inside the SPECT"
        )
    # Nearest-neighbour pull for every SPECT voxel, slab by slab.
    toLabels = np.linalg.inv(labelsMatrix) @ np.linalg.inv(transform) @ spectMatrix
    result = np.zeros(spectShape, dtype=values.dtype)
    jj, ii = np.meshgrid(np.arange(spectShape[1]), np.arange(spectShape[2]), indexing="ij")
    limits = np.array(values.shape[::-1])[:, None]
    for kk in range(spectShape[0]):
        grid = np.vstack((ii.ravel(), jj.ravel(), np.full(ii.size, kk), np.ones(ii.size))).astype(float)
        ijk = np.rint((toLabels @ grid)[:3]).astype(np.int64)
        inside = np.all((ijk >= 0) & (ijk < limits), axis=0)
        slab = np.zeros(ii.size, dtype=values.dtype)
        slab[inside] = values[ijk[2, inside], ijk[1, inside], ijk[0, inside]]
        result[kk] = slab.reshape(ii.shape)
    margin = checkedNumber(outwardMarginMm, "Outward VOI margin", "mm >= 0")
    if margin < 0:
        raise ValueError(f"Outward VOI margin {margin:g} mm is negative: expected mm >= 0")
    if margin > 0:
        spacing = float(np.min(np.linalg.norm(spectMatrix[:3, :3], axis=0)))
        result = growLabels(result, int(round(margin / spacing)))
    return result
