"""MUR, the mebrofenin uptake rate of the whole liver (clinical reference section 5), and its
normalisation to the injected activity.

MUR (%/min) comes from the Ekman 1996 method over the 150-350 s window of the dynamic series:
L(t) = k x integral_0^t B + a x B(t), fitted as the straight line L/B = k x (integral_0^t B)/B + a;
k (1/s) is converted to 1/min (x 60 s/min) and normalised to the percentage of the injected
activity taken up per minute (see "Normalisation" below). The curves (``mebrofeninCurves``) are
corrected for 99mTc decay to injection time before the fit. MUR_BSA, FLR-F and the flags that use
MUR are in ``mebrofeninRemnantFunction``.

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
"""

import math
from dataclasses import dataclass, field
from typing import List, Tuple

import numpy as np
from ALPPSVolumetryLib.criteria.bodySize import checkedNumber, UNCHECKED
from ALPPSVolumetryLib.results.quantityDefinition import QuantityDefinition

from .mebrofeninCurves import (
    FRAME_TIME_TOLERANCE_SECONDS,
    SECONDS_PER_MINUTE,
    TC99M_HALF_LIFE_HOURS,
    TimeActivityCurves,
)

# --- Units and constants -----------------------------------------------------------------------

PERCENT_PER_FRACTION = 100.0
PER_SECOND = "1/s"
PER_MINUTE = "1/min"
PERCENT = "%"
PERCENT_PER_MIN = "%/min"
DIMENSIONLESS = ""

DEFAULT_UPTAKE_WINDOW_SECONDS = (150.0, 350.0)
DEFAULT_CALIBRATION_WINDOW_SECONDS = (60.0, 150.0)
# The blood-pool integral starts at injection: the first frame must begin at once.
MAX_FIRST_FRAME_MID_SECONDS = 30.0
MIN_FIT_FRAMES = 3
MIN_CALIBRATION_FRAMES = 2
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

# --- Keys and definitions ----------------------------------------------------------------------

MUR = "mur"
UPTAKE_CONSTANT = "uptakeConstant"
BLOOD_FRACTION = "bloodFractionInLiverRoi"
FIT_R_SQUARED = "uptakeFitRSquared"

UPTAKE_DEFINITIONS = {
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
    )
}


# --- Checked inputs ----------------------------------------------------------------------------


def _window(window, name):
    expected = "(start, end) in seconds after injection with 0 <= start < end"
    if window is None or isinstance(window, (str, bytes)) or not hasattr(window, "__len__") or len(window) != 2:
        raise ValueError(f"{name} {window!r} is not a (start, end) pair: expected {expected}")
    start = checkedNumber(window[0], f"{name} start", expected)
    end = checkedNumber(window[1], f"{name} end", expected)
    if not 0.0 <= start < end:
        raise ValueError(f"{name} ({start:g}, {end:g}) s is not a time window: expected {expected}")
    return (start, end)


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
            "definition": UPTAKE_DEFINITIONS[MUR].asDict(),
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
    return np.flatnonzero((times >= window[0] - FRAME_TIME_TOLERANCE_SECONDS) & (times <= window[1] + FRAME_TIME_TOLERANCE_SECONDS))


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
    if starts[0] > window[0] + FRAME_TIME_TOLERANCE_SECONDS or ends[-1] < window[1] - FRAME_TIME_TOLERANCE_SECONDS:
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


# --- MUR as an input --------------------------------------------------------------------------


def checkedMur(mur):
    """MUR in %/min from a number or a ``MebrofeninUptakeResult``, refused when implausible."""
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
