"""Synthetic 99mTc-mebrofenin studies with known answers: the validation without patient data of
clinical reference section 5 ("simulate a two-compartment blood -> liver model with a known uptake
constant and known segment function shares, generate the dynamic curves and a SPECT volume (blur +
Poisson noise, known misalignment), and require the software to recover them").

Dynamic study (``simulateDynamicStudy``). Amounts as fractions of the injected activity A0 = 1,
time t in s after injection, instantaneous mixing at t = 0:
    blood      A_b(t) = exp(-mu t),                         mu = K + K_e
    liver      A_l(t) = (K / mu) (1 - exp(-mu t))           (hepatocyte uptake, no excretion yet)
    elsewhere  A_e(t) = (K_e / mu) (1 - exp(-mu t))         (extrahepatic clearance, e.g. renal)
K (1/s) is the fraction of the circulating activity the liver clears per second, K_e the
extrahepatic clearance. With a camera sensitivity S (counts/s for the whole injected activity),
a heart ROI that sees the fraction f_H of the blood and a liver ROI that sees the liver plus the
fraction f_L of the blood, the count rates are
    heart  B(t) = S f_H A_b,   liver  L(t) = S (A_l + f_L A_b),   total FOV  F(t) = S (A_b + A_l + f_E A_e)
times exp(-lambda t) for physical 99mTc decay. Since A_l = K integral_0^t A_b, this is exactly the
Ekman model L = k integral_0^t B + a B with k = K / f_H and a = f_L / f_H, and the calibration of
``mebrofeninUptake`` (B0 = S f_H, F100 = S when f_E = 1) turns k into MUR = 100 K x 60 %/min.
Frames integrate these rates exactly (closed form) over each frame; Poisson noise is optional and
seeded. ``uptakeConstantPerMin`` is K in 1/min (a fraction, e.g. 0.10 -> MUR 10 %/min).

SPECT (``simulateSpect``). Activity per CT voxel proportional to its Couinaud segment's share of
the liver function divided by the segment's voxel count (uniform within a segment), blurred with a
Gaussian (FWHM in mm) on the CT grid, resampled (linear) onto a coarser SPECT grid that is rigidly
misaligned by a known transform, scaled to the expected liver counts and drawn with Poisson noise.
Coordinates: RAS mm (x Right, y Anterior, z Superior); a grid is a 4x4 IJK-to-RAS matrix with
arrays indexed [k, j, i], as in syntheticPatient and Slicer; SimpleITK (LPS) is used internally only
for the blur and the resampling (x and y negated). The misalignment is returned both ways:
``ctToSpectRAS`` maps a CT point to where the SPECT sees it (x_SPECT = ctToSpectRAS @ x_CT), and
``matrixToParent`` = its inverse maps SPECT RAS to CT RAS (x_CT = matrixToParent @ x_SPECT): the
transform-to-parent that registration (``imageRegistration``) must recover.

SPECT-like image (``makeSpectLikeImage``): a synthetic time point's structures with relative
mebrofenin activities, seen through a known misalignment, for the registration benchmark and tests.
"""

import math
from dataclasses import dataclass, field
from typing import Dict, Iterable, Optional, Tuple

import numpy as np
import SimpleITK as sitk
from ALPPSVolumetryLib.criteria.bodySize import checkedNumber
from ALPPSVolumetryLib.segments.couinaud import SEGMENT_IDS
from ALPPSVolumetryLib.imageGrid import (
    checkedMatrix,
    rasBounds,
    rigidTransformRAS,
    sitkImageFromArray,
    sitkTransformFromRasMatrix,
)

from .mebrofeninCurves import (
    SECONDS_PER_MINUTE,
    TC99M_DECAY_CONSTANT_PER_SECOND,
    TimeActivityCurves,
    timeActivityCurvesFromFrames,
)

PERCENT_PER_FRACTION = 100.0
FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))  # 2.3548
MM3_PER_ML = 1000.0

# Defaults of the dynamic study: 10 s frames for 6 min (clinical reference section 5), a camera
# seeing 20000 counts/s of the whole injected activity (about 200 MBq at 100 counts/s/MBq), a heart
# ROI that holds 8 % of the blood (cardiac chambers and overlapping lung blood), a liver ROI 12 %
# (a = 1.5), extrahepatic clearance 0.02/min (mebrofenin is cleared mostly by the liver).
DEFAULT_FRAME_SECONDS = 10.0
DEFAULT_STUDY_SECONDS = 360.0
DEFAULT_SENSITIVITY_COUNTS_PER_SECOND = 20000.0
DEFAULT_HEART_BLOOD_FRACTION = 0.08
DEFAULT_LIVER_BLOOD_FRACTION = 0.12
DEFAULT_EXTRAHEPATIC_PER_MIN = 0.02

# Defaults of the SPECT: 4.4 mm voxels, 12 mm FWHM (within the 10-14 mm of liver SPECT), 3 million
# liver counts, a misalignment of a few mm and degrees (breathing, table, patient motion).
DEFAULT_SPECT_SPACING_MM = 4.4
DEFAULT_SPECT_FWHM_MM = 12.0
DEFAULT_SPECT_LIVER_COUNTS = 3.0e6
DEFAULT_TRANSLATION_MM = (6.0, -4.0, 9.0)
DEFAULT_ROTATION_DEGREES = (2.0, -1.5, 3.0)
DEFAULT_SPECT_MARGIN_MM = 40.0
DEFAULT_MAX_SPECT_DIMENSION = 128

# Relative function per mL after ALPPS stage 1: the deportalised segments IV-VIII work less per mL
# than the portally perfused remnant (I-III). Illustrative numbers for tests and demos, not data.
INTERSTAGE_RELATIVE_FUNCTION_PER_ML = {"I": 1.0, "II": 1.0, "III": 1.0, "IV": 0.5, "V": 0.5, "VI": 0.5, "VII": 0.5, "VIII": 0.5}
RIGHT_TRISECTIONECTOMY_REMNANT = ("I", "II", "III")

# --- Dynamic study ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SimulatedDynamicStudy:
    """A simulated dynamic planar series with its known parameters.

    ``curves``: TimeActivityCurves (counts/s; decayCorrected False when physical decay was applied).
    ``frames`` (T, rows, columns) counts, ``liverMask``, ``bloodPoolMask``, ``fieldOfViewMask``:
    present when frames were asked for (the curves are then the ROI sums of these frames).
    """

    curves: TimeActivityCurves
    uptakeConstantPerMin: float  # K, 1/min
    extrahepaticClearancePerMin: float  # K_e, 1/min
    bloodFractionInLiverRoi: float  # a = f_L / f_H
    heartRoiBloodFraction: float
    liverRoiBloodFraction: float
    sensitivityCountsPerSecond: float
    physicalDecay: bool
    noise: bool
    seed: Optional[int]
    frames: Optional[np.ndarray] = field(default=None, repr=False)
    liverMask: Optional[np.ndarray] = field(default=None, repr=False)
    bloodPoolMask: Optional[np.ndarray] = field(default=None, repr=False)
    fieldOfViewMask: Optional[np.ndarray] = field(default=None, repr=False)

    @property
    def expectedMurPercentPerMin(self):
        """The MUR the Ekman method should return: 100 % x K (1/min)."""
        return PERCENT_PER_FRACTION * self.uptakeConstantPerMin

    @property
    def frameStartSeconds(self):
        return self.curves.midTimesSeconds - self.curves.frameDurationsSeconds / 2.0


def _frameIntegral(rate, starts, durations):
    """integral over [s, s + d] of exp(-rate t) dt, for every frame (rate 1/s, may be 0)."""
    if rate == 0:
        return durations.copy()
    return np.exp(-rate * starts) * -np.expm1(-rate * durations) / rate


def _fraction(value, name, allowZero=False):
    expected = "a fraction between 0 and 1"
    number = checkedNumber(value, name, expected)
    if not (0.0 <= number <= 1.0) or (number == 0.0 and not allowZero):
        raise ValueError(f"{name} {number:g} is out of range: expected {expected}")
    return number


def _frameImages(expected, shape, rng, noise):
    """Planar frames: liver (left of the image = patient's right on an anterior view), heart above,
    and the rest of the activity spread over a body ellipse; expected counts spread evenly over
    each region's pixels."""
    rows, columns = shape
    r, c = np.mgrid[0:rows, 0:columns]
    body = ((r - rows * 0.5) / (rows * 0.48)) ** 2 + ((c - columns * 0.5) / (columns * 0.45)) ** 2 <= 1.0
    liver = ((r - rows * 0.58) / (rows * 0.16)) ** 2 + ((c - columns * 0.36) / (columns * 0.22)) ** 2 <= 1.0
    heart = ((r - rows * 0.22) / (rows * 0.08)) ** 2 + ((c - columns * 0.60) / (columns * 0.08)) ** 2 <= 1.0
    heart &= ~liver
    rest = body & ~liver & ~heart
    frames = np.zeros((expected["liver"].size,) + tuple(shape), dtype=float)
    for name, mask in (("liver", liver), ("heart", heart), ("rest", rest)):
        perPixel = expected[name] / np.count_nonzero(mask)
        frames[:, mask] = perPixel[:, None]
    if noise:
        frames = rng.poisson(frames).astype(float)
    return frames, liver, heart


def simulateDynamicStudy(
    uptakeConstantPerMin,
    extrahepaticClearancePerMin=DEFAULT_EXTRAHEPATIC_PER_MIN,
    sensitivityCountsPerSecond=DEFAULT_SENSITIVITY_COUNTS_PER_SECOND,
    heartRoiBloodFraction=DEFAULT_HEART_BLOOD_FRACTION,
    liverRoiBloodFraction=DEFAULT_LIVER_BLOOD_FRACTION,
    extrahepaticInFieldOfView=1.0,
    frameDurationSeconds=DEFAULT_FRAME_SECONDS,
    studySeconds=DEFAULT_STUDY_SECONDS,
    physicalDecay=True,
    noise=True,
    seed=0,
    makeFrames=False,
    frameShape=(64, 64),
):
    """A dynamic 99mTc-mebrofenin study from the blood -> liver model of the module docstring.

    ``uptakeConstantPerMin``: K (1/min, a fraction: 0.10 means the liver clears 10 % of the
    circulating activity per minute, MUR 10 %/min). Frames of ``frameDurationSeconds`` from
    injection (t = 0 s) to ``studySeconds``. ``physicalDecay`` applies 99mTc decay to the counts (as
    a camera records them); ``noise`` draws Poisson counts with ``seed``. ``makeFrames`` also returns
    planar frames (T, rows, columns) with the liver and heart ROI masks, the curves then being their
    ROI sums; ``extrahepaticInFieldOfView`` is the part of the extrahepatic activity the camera sees.
    """
    expected = "a clearance in 1/min between 0 and 1 (e.g. 0.10 for 10 %/min)"
    uptake = checkedNumber(uptakeConstantPerMin, "Uptake constant K", expected)
    if not 0.0 < uptake <= 1.0:
        hint = f"; {uptake:g} looks like %/min (= {uptake / 100:g} 1/min)" if 1.0 < uptake <= 100.0 else ""
        raise ValueError(f"Uptake constant K {uptake:g} 1/min is out of range: expected {expected}{hint}")
    extrahepatic = checkedNumber(extrahepaticClearancePerMin, "Extrahepatic clearance", "a clearance in 1/min >= 0")
    if not 0.0 <= extrahepatic <= 1.0:
        raise ValueError(f"Extrahepatic clearance {extrahepatic:g} 1/min is out of range: expected 0-1 1/min")
    sensitivity = checkedNumber(sensitivityCountsPerSecond, "Sensitivity", "counts/s for the whole injected activity")
    if sensitivity <= 0:
        raise ValueError(f"Sensitivity {sensitivity:g} counts/s must be positive: expected counts/s > 0")
    heart = _fraction(heartRoiBloodFraction, "Heart ROI blood fraction")
    liverBlood = _fraction(liverRoiBloodFraction, "Liver ROI blood fraction", allowZero=True)
    if heart + liverBlood > 1.0:
        raise ValueError(
            f"Heart ({heart:g}) and liver ({liverBlood:g}) ROI blood fractions add up to more than 1: expected parts "
            "of the blood"
        )
    inView = _fraction(extrahepaticInFieldOfView, "Extrahepatic activity in the field of view", allowZero=True)
    frameSeconds = checkedNumber(frameDurationSeconds, "Frame duration", "seconds > 0")
    totalSeconds = checkedNumber(studySeconds, "Study duration", "seconds > 0")
    if frameSeconds <= 0 or totalSeconds < 3 * frameSeconds:
        raise ValueError(
            f"Frame duration {frameSeconds:g} s and study duration {totalSeconds:g} s: expected positive durations "
            "and at least 3 frames"
        )
    frameCount = int(math.floor(totalSeconds / frameSeconds + 1e-9))
    starts = np.arange(frameCount) * frameSeconds
    durations = np.full(frameCount, frameSeconds)

    perSecond = 1.0 / SECONDS_PER_MINUTE
    k = uptake * perSecond
    ke = extrahepatic * perSecond
    mu = k + ke
    decay = TC99M_DECAY_CONSTANT_PER_SECOND if physicalDecay else 0.0
    # Frame integrals (s) of exp(-decay t) and of exp(-(mu + decay) t).
    onlyDecay = _frameIntegral(decay, starts, durations)
    bloodTerm = _frameIntegral(mu + decay, starts, durations)
    bloodAmount = bloodTerm  # integral of A_b
    liverAmount = (k / mu) * (onlyDecay - bloodTerm)  # integral of A_l
    otherAmount = (ke / mu) * (onlyDecay - bloodTerm)  # integral of A_e
    expectedCounts = {
        "heart": sensitivity * heart * bloodAmount,
        "liver": sensitivity * (liverAmount + liverBlood * bloodAmount),
        "rest": sensitivity * ((1.0 - heart - liverBlood) * bloodAmount + inView * otherAmount),
    }
    rng = np.random.default_rng(seed)
    frames = liverMask = heartMask = None
    if makeFrames:
        frames, liverMask, heartMask = _frameImages(expectedCounts, frameShape, rng, noise)
        curves = timeActivityCurvesFromFrames(frames, starts, durations, liverMask, heartMask, decayCorrected=not physicalDecay)
    else:
        counts = {name: (rng.poisson(value).astype(float) if noise else value) for name, value in expectedCounts.items()}
        curves = TimeActivityCurves(
            midTimesSeconds=starts + durations / 2.0,
            frameDurationsSeconds=durations,
            liver=counts["liver"] / durations,
            bloodPool=counts["heart"] / durations,
            totalFieldOfView=(counts["liver"] + counts["heart"] + counts["rest"]) / durations,
            decayCorrected=not physicalDecay,
            source="simulated two-compartment study (functionalSimulator)",
        )
    return SimulatedDynamicStudy(
        curves=curves,
        uptakeConstantPerMin=uptake,
        extrahepaticClearancePerMin=extrahepatic,
        bloodFractionInLiverRoi=liverBlood / heart,
        heartRoiBloodFraction=heart,
        liverRoiBloodFraction=liverBlood,
        sensitivityCountsPerSecond=sensitivity,
        physicalDecay=bool(physicalDecay),
        noise=bool(noise),
        seed=seed,
        frames=frames,
        liverMask=liverMask,
        bloodPoolMask=heartMask,
        fieldOfViewMask=None if frames is None else np.ones(frames.shape[1:], dtype=bool),
    )


# --- Segment function shares --------------------------------------------------------------------


def _segmentValues(values, name, expected):
    if not isinstance(values, dict) or not values:
        raise ValueError(f"{name} {values!r} is not a mapping: expected {{'I': ..., 'II': ...}} with {expected}")
    result = {}
    for segment, value in values.items():
        if segment not in SEGMENT_IDS:
            raise ValueError(f"{name}: {segment!r} is not a Couinaud segment: expected one of {', '.join(SEGMENT_IDS)}")
        number = checkedNumber(value, f"{name} of segment {segment}", expected)
        if number < 0:
            raise ValueError(f"{name} of segment {segment} is {number:g}: expected {expected} (>= 0)")
        result[segment] = number
    return result


def normalisedShares(segmentFunctionShares):
    """Segment -> share of the whole liver function, scaled to sum 1 (any non-negative weights)."""
    shares = _segmentValues(segmentFunctionShares, "Segment function share", "a non-negative share")
    total = sum(shares.values())
    if total <= 0:
        raise ValueError("Segment function shares are all 0: expected at least one segment with function")
    return {segment: value / total for segment, value in shares.items()}


def segmentSharesFromRelativeFunction(relativeFunctionPerMl, segmentVolumesMl):
    """Each segment's share of the liver function when function per mL is ``relativeFunctionPerMl``
    (any unit, e.g. 1 for perfused and 0.5 for deportalised segments) and volumes are
    ``segmentVolumesMl`` (mL): share_s = d_s V_s / sum(d V), computed analytically."""
    density = _segmentValues(relativeFunctionPerMl, "Relative function per mL", "a non-negative number")
    volumes = _segmentValues(segmentVolumesMl, "Segment volume", "a volume in mL")
    missing = [segment for segment in density if segment not in volumes]
    if missing:
        raise ValueError(f"Segment volumes lack segment(s) {', '.join(missing)}: expected a volume (mL) for each")
    return normalisedShares({segment: density[segment] * volumes[segment] for segment in density})


def trueRemnantShare(segmentFunctionShares, remnantSegments):
    """The remnant's true share of the liver function (fraction): the sum of its segments' shares
    (normalised to sum 1)."""
    shares = normalisedShares(segmentFunctionShares)
    remnant = list(remnantSegments)
    unknown = [segment for segment in remnant if segment not in SEGMENT_IDS]
    if unknown or not remnant:
        raise ValueError(f"Remnant segments {remnant!r} are not Couinaud segments: expected e.g. ('I', 'II', 'III')")
    return sum(shares.get(segment, 0.0) for segment in set(remnant))


# --- SPECT --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SimulatedSpect:
    """A simulated mebrofenin SPECT and what produced it.

    ``counts``: int32 counts per voxel [k, j, i] (Poisson draw of ``expectedCounts`` when noise was
    asked for); ``ijkToRAS``: the SPECT grid in the SPECT's own RAS (mm). ``ctToSpectRAS``:
    x_SPECT = ctToSpectRAS @ x_CT; ``matrixToParent`` = its inverse (SPECT RAS -> CT RAS, what
    registration must recover). ``segmentFunctionShares``: the shares used, normalised to sum 1.
    """

    counts: np.ndarray = field(repr=False)
    expectedCounts: np.ndarray = field(repr=False)
    ijkToRAS: np.ndarray
    ctToSpectRAS: np.ndarray
    matrixToParent: np.ndarray
    translationMm: Tuple[float, float, float]
    rotationDegrees: Tuple[float, float, float]
    rotationCentreRAS: Tuple[float, float, float]
    spacingMm: float
    fwhmMm: float
    liverCounts: float
    backgroundCountsPerVoxel: float
    segmentFunctionShares: Dict[str, float]
    noise: bool
    seed: Optional[int]

    def trueRemnantShare(self, remnantSegments):
        return trueRemnantShare(self.segmentFunctionShares, remnantSegments)


def simulateSpect(
    couinaudLabels,
    ijkToRAS,
    segmentFunctionShares,
    spacingMm=DEFAULT_SPECT_SPACING_MM,
    fwhmMm=DEFAULT_SPECT_FWHM_MM,
    liverCounts=DEFAULT_SPECT_LIVER_COUNTS,
    translationMm=DEFAULT_TRANSLATION_MM,
    rotationDegrees=DEFAULT_ROTATION_DEGREES,
    marginMm=DEFAULT_SPECT_MARGIN_MM,
    maxDimension=DEFAULT_MAX_SPECT_DIMENSION,
    backgroundCountsPerVoxel=0.0,
    noise=True,
    seed=0,
):
    """A SPECT of the liver whose segments carry known shares of the function.

    ``couinaudLabels``: uint8 [k, j, i] on the CT grid (0 outside, 1..8 = segments I..VIII, as
    syntheticPatient); ``ijkToRAS``: the CT grid's 4x4 matrix. ``segmentFunctionShares``: segment
    id -> share of the liver function (normalised to sum 1; every labelled segment needs one; see
    ``segmentSharesFromRelativeFunction``). Counts per CT voxel are the segment's share / its voxel
    count; blurred with a Gaussian of ``fwhmMm`` (mm) on the CT grid; the SPECT grid (isotropic
    ``spacingMm``, axes as the CT's usual LPS-stored directions, centred on the liver after the
    misalignment, the liver's extent plus ``marginMm`` each side, at most ``maxDimension`` voxels a
    side) is misaligned by ``translationMm`` and ``rotationDegrees`` (about the liver centroid);
    ``liverCounts`` is the expected total of the liver activity, ``backgroundCountsPerVoxel`` a
    uniform extra; Poisson noise with ``seed``.
    """
    labels = np.asarray(couinaudLabels)
    if labels.ndim != 3:
        raise ValueError(f"Couinaud labels have shape {labels.shape}: expected a 3-D array [k, j, i]")
    matrix = np.asarray(ijkToRAS, dtype=float)
    if matrix.shape != (4, 4):
        raise ValueError(f"IJK-to-RAS matrix has shape {matrix.shape}: expected 4x4")
    shares = normalisedShares(segmentFunctionShares)
    spacing = checkedNumber(spacingMm, "SPECT spacing", "mm > 0")
    fwhm = checkedNumber(fwhmMm, "SPECT FWHM", "mm >= 0")
    counts = checkedNumber(liverCounts, "Liver counts", "expected counts > 0")
    background = checkedNumber(backgroundCountsPerVoxel, "Background", "counts per voxel >= 0")
    if spacing <= 0 or fwhm < 0 or counts <= 0 or background < 0:
        raise ValueError(
            f"SPECT spacing {spacing:g} mm, FWHM {fwhm:g} mm, liver counts {counts:g}, background {background:g}: "
            "expected spacing > 0, FWHM >= 0, counts > 0, background >= 0"
        )
    liver = labels > 0
    if not liver.any():
        raise ValueError("Couinaud labels are empty: expected segments labelled 1..8")
    activity = np.zeros(labels.shape, dtype=np.float64)
    present = {}
    for value, segment in enumerate(SEGMENT_IDS, 1):
        voxels = labels == value
        number = int(np.count_nonzero(voxels))
        if number:
            present[segment] = number
            if segment not in shares:
                raise ValueError(f"Segment {segment} is labelled but has no function share: expected a share for every segment")
            activity[voxels] = shares[segment] / number
    absent = [segment for segment, share in shares.items() if share > 0 and segment not in present]
    if absent:
        raise ValueError(f"Segment(s) {', '.join(absent)} have a function share but no voxel: expected them labelled")

    # Misalignment about the liver centroid (RAS).
    k, j, i = np.nonzero(liver)
    points = matrix @ np.vstack((i, j, k, np.ones_like(i))).astype(float)
    centroid = points[:3].mean(axis=1)
    ctToSpect = rigidTransformRAS(translationMm, rotationDegrees, centroid)
    # SPECT grid in SPECT RAS, centred on the moved liver.
    moved = ctToSpect @ points
    extent = moved[:3].max(axis=1) - moved[:3].min(axis=1) + 2.0 * checkedNumber(marginMm, "SPECT margin", "mm")
    sizes = [min(int(maxDimension), int(math.ceil(value / spacing))) for value in extent]  # i, j, k
    centre = (moved[:3].max(axis=1) + moved[:3].min(axis=1)) / 2.0
    spectMatrix = np.diag([-spacing, -spacing, spacing, 1.0])
    spectMatrix[:3, 3] = centre - spectMatrix[:3, :3] @ ((np.array(sizes) - 1) / 2.0)

    # Blur on the CT grid (activity per voxel / voxel volume = per mL), then resample.
    voxelMl = abs(np.linalg.det(matrix[:3, :3])) / MM3_PER_ML
    image = sitkImageFromArray((activity / voxelMl).astype(np.float64), matrix)
    if fwhm > 0:
        image = sitk.SmoothingRecursiveGaussian(image, fwhm / FWHM_PER_SIGMA)
    reference = sitkImageFromArray(np.zeros(sizes[::-1], dtype=np.float64), spectMatrix)
    spectToCt = np.linalg.inv(ctToSpect)
    resampled = sitk.Resample(image, reference, sitkTransformFromRasMatrix(spectToCt), sitk.sitkLinear, 0.0, sitk.sitkFloat64)
    spectVoxelMl = spacing**3 / MM3_PER_ML
    expected = np.clip(sitk.GetArrayFromImage(resampled), 0.0, None) * spectVoxelMl * counts + background
    if noise:
        drawn = np.random.default_rng(seed).poisson(expected).astype(np.int32)
    else:
        drawn = np.rint(expected).astype(np.int32)
    return SimulatedSpect(
        counts=drawn,
        expectedCounts=expected,
        ijkToRAS=spectMatrix,
        ctToSpectRAS=ctToSpect,
        matrixToParent=spectToCt,
        translationMm=tuple(float(value) for value in translationMm),
        rotationDegrees=tuple(float(value) for value in rotationDegrees),
        rotationCentreRAS=tuple(float(value) for value in centroid),
        spacingMm=spacing,
        fwhmMm=fwhm,
        liverCounts=counts,
        backgroundCountsPerVoxel=background,
        segmentFunctionShares=shares,
        noise=bool(noise),
        seed=seed,
    )


# --- SPECT-like image seen in a displaced frame (registration tests and benchmark) ---------------

# Relative activity of 99mTc-mebrofenin at the SPECT time (about 10-15 min) in the synthetic
# patient's structures: the liver takes it up, tumours hardly, blood pool and background little.
SPECT_ACTIVITY = {"liver": 1.0, "tumour": 0.1, "blood": 0.15, "spleen": 0.05, "body": 0.03}


def spectLikeActivity(timePoint):
    """Relative activity on a synthetic time point's CT grid (syntheticPatient.SyntheticTimePoint)."""
    activity = np.zeros(timePoint.ct.shape, dtype=np.float32)
    activity[timePoint.ct > -500] = SPECT_ACTIVITY["body"]
    activity[timePoint.structures["Spleen"]] = SPECT_ACTIVITY["spleen"]
    for name in ("Inferior vena cava", "Portal vein", "Hepatic veins"):
        activity[timePoint.structures[name]] = SPECT_ACTIVITY["blood"]
    liver = (timePoint.couinaudLabels > 0) & ~timePoint.structures["Hepatic veins"] & ~timePoint.structures["Portal vein"]
    activity[liver] = SPECT_ACTIVITY["liver"]
    for name, mask in timePoint.structures.items():
        if name.startswith("Tumour"):
            activity[mask] = SPECT_ACTIVITY["tumour"]
    return activity


def makeSpectLikeImage(activity, ijkToRAS, matrixToParent, size=128, spacingMm=4.8, fwhmMm=12.0, liverCounts=200.0, seed=0):
    """A SPECT-like SimpleITK image of ``activity`` (numpy [k, j, i] on ``ijkToRAS``) seen in a
    frame displaced by a known transform: ``matrixToParent`` (RAS, functional -> CT) is the
    answer a registration must find. The grid (``size``^3 voxels of ``spacingMm``, axes as a
    scanner stores them) is centred on the activity grid's centre in its own frame; the activity
    is blurred (Gaussian, ``fwhmMm``), sampled, and given Poisson noise with ``liverCounts``
    expected counts where the activity is 1."""
    activityImage = sitkImageFromArray(np.asarray(activity, dtype=np.float32), ijkToRAS)
    sigma = fwhmMm / FWHM_PER_SIGMA
    blurred = sitk.SmoothingRecursiveGaussian(activityImage, sigma)
    low, high = rasBounds(np.asarray(activity).shape, ijkToRAS)
    centre = (low + high) / 2.0
    spectToRAS = np.diag([-spacingMm, -spacingMm, spacingMm, 1.0])
    spectToRAS[:3, 3] = centre - spectToRAS[:3, :3] @ np.full(3, (size - 1) / 2.0)
    reference = sitkImageFromArray(np.zeros((size, size, size), dtype=np.float32), spectToRAS)
    # Resampling maps each SPECT point q (functional frame) to the CT point matrixToParent @ q.
    transform = sitkTransformFromRasMatrix(checkedMatrix(matrixToParent, "Misalignment matrix"))
    expected = sitk.GetArrayFromImage(sitk.Resample(blurred, reference, transform, sitk.sitkLinear, 0.0, sitk.sitkFloat32))
    rng = np.random.default_rng(seed)
    counts = rng.poisson(np.clip(expected, 0.0, None) * liverCounts).astype(np.float32)
    return sitkImageFromArray(counts, spectToRAS)


def targetRegistrationErrorMm(estimatedToParent, trueToParent, pointsRAS):
    """Mean and maximum distance (mm) between where the estimated and the true transform put the
    functional points that truly correspond to ``pointsRAS`` (CT RAS, N x 3)."""
    points = np.c_[np.asarray(pointsRAS, dtype=float), np.ones(len(pointsRAS))]
    functional = (np.linalg.inv(trueToParent) @ points.T)
    distances = np.linalg.norm((np.asarray(estimatedToParent) @ functional)[:3].T - points[:, :3], axis=1)
    return float(distances.mean()), float(distances.max())


def upsampledNearest(array, shape):
    """``array`` [k, j, i] on a finer grid of ``shape`` covering the same box (nearest voxel)."""
    indices = [np.minimum(((np.arange(n) + 0.5) * array.shape[axis] / n).astype(int), array.shape[axis] - 1) for axis, n in enumerate(shape)]
    return array[indices[0]][:, indices[1]][:, :, indices[2]]


def remnantLabelValues(remnantSegments: Iterable[str]):
    """Label values (1..8) of Couinaud segment ids, for masks such as np.isin(labels, values)."""
    values = []
    for segment in remnantSegments:
        if segment not in SEGMENT_IDS:
            raise ValueError(f"{segment!r} is not a Couinaud segment: expected one of {', '.join(SEGMENT_IDS)}")
        values.append(SEGMENT_IDS.index(segment) + 1)
    return tuple(values)


# Gadoxetate MRI signal (arbitrary units) before contrast and in the hepatobiliary phase.
MRI_PRE_SIGNAL = {"liver": 400.0, "spleen": 350.0, "muscle": 300.0, "tumour": 280.0, "background": 60.0}
MRI_HBP_SIGNAL = {"spleen": 370.0, "muscle": 310.0, "tumour": 260.0, "background": 60.0}
# Liver enhancement in the hepatobiliary phase for a relative function of 1 (fully working liver).
MRI_FULL_ENHANCEMENT = 0.9


def simulateGadoxetateMri(timePoint, relativeFunctionPerMl, noiseSd=8.0, seed=0):
    """A pre-contrast and a hepatobiliary-phase MRI of a synthetic time point, on its CT grid:
    liver signal rises by MRI_FULL_ENHANCEMENT x the segment's relative function (e.g. 1 perfused,
    0.5 deportalised), spleen and paraspinal-like muscle (the body wall) barely change, tumours
    take up no contrast. Returns (pre, hbp, ijkToRAS); arrays indexed [k, j, i]."""
    rng = np.random.default_rng(seed)
    labels = timePoint.couinaudLabels
    pre = np.full(labels.shape, MRI_PRE_SIGNAL["background"], dtype=np.float32)
    hbp = np.full(labels.shape, MRI_HBP_SIGNAL["background"], dtype=np.float32)
    muscle = (timePoint.ct > 30) & (timePoint.ct < 60) & (labels == 0) & ~timePoint.structures["Spleen"]
    pre[muscle], hbp[muscle] = MRI_PRE_SIGNAL["muscle"], MRI_HBP_SIGNAL["muscle"]
    spleen = timePoint.structures["Spleen"]
    pre[spleen], hbp[spleen] = MRI_PRE_SIGNAL["spleen"], MRI_HBP_SIGNAL["spleen"]
    for value, segmentId in enumerate(("I", "II", "III", "IV", "V", "VI", "VII", "VIII"), 1):
        inSegment = labels == value
        pre[inSegment] = MRI_PRE_SIGNAL["liver"]
        hbp[inSegment] = MRI_PRE_SIGNAL["liver"] * (1.0 + MRI_FULL_ENHANCEMENT * relativeFunctionPerMl[segmentId])
    tumour = np.zeros(labels.shape, dtype=bool)
    for name, mask in timePoint.structures.items():
        if name.startswith("Tumour"):
            tumour |= mask
    pre[tumour], hbp[tumour] = MRI_PRE_SIGNAL["tumour"], MRI_HBP_SIGNAL["tumour"]
    pre += rng.normal(0.0, noiseSd, labels.shape).astype(np.float32)
    hbp += rng.normal(0.0, noiseSd, labels.shape).astype(np.float32)
    return pre, hbp, timePoint.ijkToRAS.copy()
