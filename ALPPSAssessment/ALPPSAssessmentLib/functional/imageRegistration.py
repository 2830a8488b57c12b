"""Functional images (99mTc-mebrofenin SPECT, gadoxetate hepatobiliary-phase MRI) registered to
the planning CT (clinical reference section 5: "SPECT registered to the CT with the plan").

Grids (RAS in Slicer, LPS in SimpleITK) are converted by ``ALPPSVolumetryLib.imageGrid``; this
module only registers.

The transform convention. The registration returns ``matrixToParent``: the 4x4 RAS matrix that
maps a point of the functional image (its own RAS coordinates) to the CT's RAS coordinates,
``x_CT = matrixToParent @ x_functional``. This is Slicer's "transform to parent": a
vtkMRMLLinearTransformNode holding it, set as the parent transform of the functional volume,
moves that volume onto the CT (what the user sees in the Transforms module). SimpleITK's own
registration transform goes the other way (CT points to functional points, the resampling
direction, in LPS); it is kept in the result as ``sitkTransform`` for resampling.

Method: Mattes mutual information (the two modalities share anatomy, not intensities), a
rigid (6 parameters) or affine (rigid first, then 12 parameters) transform, a regular-step
gradient descent with parameter scales from physical shifts, multi-resolution (shrink factors
and smoothing sigmas). The CT is first averaged down to a working grid about as coarse as the
functional image (a 4-5 mm SPECT holds nothing a 0.7 mm CT grid adds), which is what keeps a
512x512x300 CT fast. Given a CT liver mask, the metric is restricted to the mask dilated by a
margin and the start is the translation that aligns the liver centroid with the functional
image's bright region (moments); without one it is the centre of the two fields of view
(geometry).

Failure is detected, never hidden: images that do not overlap are refused before anything
runs; an optimizer that stops on its iteration limit, a final metric worse than the start, or a
liver overlap (Dice) that drops make the registration fail with its figures, unless
``allowFailure`` keeps the transform for manual correction in the Transforms module.
"""

import math
import time
from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np
import SimpleITK as sitk
from ALPPSVolumetryLib.imageGrid import (
    checkedMatrix,
    checkedSitkImage,
    checkedVolumeNode,
    lpsMatrixFromRas,
    matrixFromSitkTransform,
    rotationAngleDegrees,
    sameSitkGrid,
    segmentMaskOnVolumeGrid,
    sitkImageFromVolumeNode,
    sitkImageRasBounds,
    sitkTransformFromMatrix,
    toParentFromSitkTransform,
    toWorldMatrix,
    vtkMatrixFromArray,
)
from ALPPSVolumetryLib.segments.segmentRecognition import COUINAUD_UNITS, ROLE_LIVER, ROLE_TUMOUR, SegmentRoles

RIGID = "rigid"
AFFINE = "affine"
MODES = (RIGID, AFFINE)
INITIALIZATIONS = ("auto", "geometry", "moments", "identity")
METRIC_NAME = "Mattes mutual information (ITK sign: negative, lower is better)"

# Soft-tissue window applied to the CT before computing the metric (HU): bins of the joint
# histogram then separate liver, muscle, fat and vessels instead of spanning air to bone.
DEFAULT_CT_WINDOW_HU = (-150.0, 250.0)
# Functional voxels above this fraction of the 99.5th percentile count as "functional liver"
# for the Dice quality figure.
DEFAULT_FUNCTIONAL_THRESHOLD_FRACTION = 0.5
# The robust maximum of a functional image (its hottest voxels are noise).
ROBUST_MAXIMUM_PERCENTILE = 99.5
# A registration "lowers" the overlap when Dice drops by more than this.
_DICE_DROP_TOLERANCE = 0.02


def _formatBounds(low, high):
    return "x {:.1f}..{:.1f}, y {:.1f}..{:.1f}, z {:.1f}..{:.1f} mm".format(low[0], high[0], low[1], high[1], low[2], high[2])


# --- Registration ------------------------------------------------------------------------------------


@dataclass
class RegistrationResult:
    """Outcome of ``registerFunctionalToCt``. ``matrixToParent`` maps functional RAS to CT RAS
    (Slicer's transform-to-parent of the functional volume); ``sitkTransform`` is the same
    mapping as SimpleITK uses it for resampling (CT LPS -> functional LPS)."""

    mode: str
    initialization: str
    matrixToParent: np.ndarray
    sitkTransform: object = field(repr=False)
    metricInitial: float
    metricFinal: float
    iterations: int
    iterationsPerLevel: List[int]
    stopReason: str
    converged: bool
    diceBefore: Optional[float]
    diceAfter: Optional[float]
    workingSpacingMm: tuple
    seconds: float
    failures: List[str]
    metricName: str = METRIC_NAME

    @property
    def succeeded(self):
        return not self.failures

    @property
    def mutualInformationInitial(self):
        return -self.metricInitial

    @property
    def mutualInformationFinal(self):
        return -self.metricFinal

    @property
    def translationMm(self):
        return self.matrixToParent[:3, 3].copy()

    @property
    def rotationDegrees(self):
        return rotationAngleDegrees(self.matrixToParent)

    def describe(self):
        dice = "" if self.diceAfter is None else f", liver Dice {self.diceBefore:.3f} -> {self.diceAfter:.3f}"
        state = "succeeded" if self.succeeded else "FAILED (" + "; ".join(self.failures) + ")"
        return (
            f"{self.mode} registration {state}: metric {self.metricInitial:.4f} -> {self.metricFinal:.4f} "
            f"({METRIC_NAME}), {self.iterations} iterations, stop: {self.stopReason}{dice}, "
            f"rotation {self.rotationDegrees:.2f} deg, translation {np.round(self.translationMm, 2).tolist()} mm, "
            f"{self.seconds:.2f} s"
        )

    def asDict(self):
        return {
            "mode": self.mode,
            "initialization": self.initialization,
            "matrixToParent": self.matrixToParent.tolist(),
            "matrixConvention": "RAS, functional image -> CT (Slicer transform to parent of the functional volume)",
            "metricName": self.metricName,
            "metricInitial": self.metricInitial,
            "metricFinal": self.metricFinal,
            "iterations": self.iterations,
            "iterationsPerLevel": list(self.iterationsPerLevel),
            "stopReason": self.stopReason,
            "converged": self.converged,
            "diceBefore": self.diceBefore,
            "diceAfter": self.diceAfter,
            "workingSpacingMm": list(self.workingSpacingMm),
            "seconds": self.seconds,
            "rotationDegrees": self.rotationDegrees,
            "translationMm": self.translationMm.tolist(),
            "succeeded": self.succeeded,
            "failures": list(self.failures),
        }


class ThreadCount:
    """Sets SimpleITK's default number of threads for the duration of a block."""

    def __init__(self, threads):
        self.threads = threads
        self.previous = None

    def __enter__(self):
        if self.threads is not None:
            if isinstance(self.threads, bool) or not isinstance(self.threads, int) or self.threads < 1:
                raise ValueError(f"Number of threads {self.threads!r} is invalid: expected a positive integer or None")
            self.previous = sitk.ProcessObject.GetGlobalDefaultNumberOfThreads()
            sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(self.threads)
        return self

    def __exit__(self, *excinfo):
        if self.previous is not None:
            sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(self.previous)


def _workingCt(ctImage, ctMask, workingSpacingMm, ctWindowHU, marginMm, dilationMm):
    """The CT averaged onto the working grid (integer bin shrink), windowed; the mask on that grid
    (liver and liver dilated) and the CT cropped around the dilated liver."""
    ctSpacing = np.array(ctImage.GetSpacing())
    factors = [max(1, int(math.floor(workingSpacingMm / value + 1e-6))) for value in ctSpacing]
    fixed = sitk.Cast(ctImage, sitk.sitkFloat32)
    if any(factor > 1 for factor in factors):
        fixed = sitk.BinShrink(fixed, factors)
    if ctWindowHU is not None:
        fixed = sitk.Clamp(fixed, sitk.sitkFloat32, float(ctWindowHU[0]), float(ctWindowHU[1]))
    if ctMask is None:
        return fixed, None, None, factors
    mask = sitk.Cast(ctMask > 0, sitk.sitkFloat32)
    if any(factor > 1 for factor in factors):
        mask = sitk.BinShrink(mask, factors)
    liver = sitk.Cast(mask >= 0.5, sitk.sitkUInt8)
    anyLiver = sitk.Cast(mask > 0, sitk.sitkUInt8)
    spacing = np.array(fixed.GetSpacing())
    radius = [int(math.ceil(dilationMm / value)) for value in spacing]
    dilated = sitk.BinaryDilate(anyLiver, radius, sitk.sitkBall) if max(radius) > 0 else anyLiver
    # Crop to the dilated liver plus a margin: every metric sample then falls where it matters.
    statistics = sitk.LabelShapeStatisticsImageFilter()
    statistics.Execute(dilated)
    if not statistics.HasLabel(1):
        raise ValueError("CT liver mask is empty on the working grid: expected a liver mask with voxels")
    box = statistics.GetBoundingBox(1)  # x, y, z start then sizes
    margin = [int(math.ceil(marginMm / value)) for value in spacing]
    size = fixed.GetSize()
    start = [max(0, box[axis] - margin[axis]) for axis in range(3)]
    stop = [min(size[axis], box[axis] + box[axis + 3] + margin[axis]) for axis in range(3)]
    region = [stop[axis] - start[axis] for axis in range(3)]
    crop = lambda image: sitk.RegionOfInterest(image, region, start)  # noqa: E731
    return crop(fixed), crop(liver), crop(dilated), factors


def _robustMaximum(image):
    values = sitk.GetArrayViewFromImage(image)
    positive = values[values > 0]
    if positive.size == 0:
        raise ValueError("Functional image has no positive voxel: expected counts or signal above zero")
    return float(np.percentile(positive, ROBUST_MAXIMUM_PERCENTILE))


def _brightCentroidLPS(image, fraction):
    """Intensity-weighted centroid (LPS mm) of the voxels above ``fraction`` of the robust maximum."""
    values = sitk.GetArrayViewFromImage(image).astype(np.float64)
    threshold = fraction * _robustMaximum(image)
    k, j, i = np.nonzero(values > threshold)
    weights = values[k, j, i]
    index = np.array([np.average(i, weights=weights), np.average(j, weights=weights), np.average(k, weights=weights)])
    direction = np.array(image.GetDirection()).reshape(3, 3)
    return np.array(image.GetOrigin()) + direction @ (np.array(image.GetSpacing()) * index)


def _maskCentroidLPS(mask):
    statistics = sitk.LabelShapeStatisticsImageFilter()
    statistics.Execute(mask)
    return np.array(statistics.GetCentroid(1))


def _imageCentreLPS(image):
    size = np.array(image.GetSize(), dtype=float)
    return np.array(image.TransformContinuousIndexToPhysicalPoint(list((size - 1.0) / 2.0)))


def _rigidFromAffine(matrixLPS, centre):
    """Euler3D transform about ``centre`` closest to an affine LPS matrix (its rotation projected
    onto the nearest proper rotation)."""
    u, _, vt = np.linalg.svd(matrixLPS[:3, :3])
    rotation = u @ vt
    if np.linalg.det(rotation) < 0:
        raise ValueError("Initial transform mirrors the image: expected a transform without reflection")
    transform = sitk.Euler3DTransform()
    transform.SetCenter([float(value) for value in centre])
    transform.SetMatrix([float(value) for value in rotation.ravel()])
    # y = R (x - c) + c + t must equal R x + t0 at the initial matrix: t = t0 - c + R c.
    translation = matrixLPS[:3, 3] - centre + rotation @ centre
    transform.SetTranslation([float(value) for value in translation])
    return transform


def _affineFromMatrix(matrixLPS, centre):
    transform = sitk.AffineTransform(3)
    transform.SetCenter([float(value) for value in centre])
    transform.SetMatrix([float(value) for value in matrixLPS[:3, :3].ravel()])
    transform.SetTranslation([float(value) for value in matrixLPS[:3, 3] - centre + matrixLPS[:3, :3] @ centre])
    return transform


def _evaluateMetric(fixed, moving, mask, transform, bins):
    """Mattes MI on every fixed voxel (in the mask) for ``transform``: the same yardstick before
    and after the optimisation, independent of its random samples."""
    method = sitk.ImageRegistrationMethod()
    method.SetMetricAsMattesMutualInformation(numberOfHistogramBins=bins)
    method.SetMetricSamplingStrategy(method.NONE)
    if mask is not None:
        method.SetMetricFixedMask(mask)
    method.SetInterpolator(sitk.sitkLinear)
    method.SetInitialTransform(sitkTransformFromMatrix(matrixFromSitkTransform(transform)))
    return float(method.MetricEvaluate(fixed, moving))


def _dice(fixedLiver, moving, transform, threshold):
    resampled = sitk.Resample(moving, fixedLiver, transform, sitk.sitkLinear, 0.0, sitk.sitkFloat32)
    functional = sitk.GetArrayViewFromImage(resampled) > threshold
    liver = sitk.GetArrayViewFromImage(fixedLiver) > 0
    total = int(functional.sum()) + int(liver.sum())
    return 0.0 if total == 0 else 2.0 * int(np.count_nonzero(functional & liver)) / total


def _runStage(fixed, moving, mask, transform, options, counter):
    method = sitk.ImageRegistrationMethod()
    method.SetMetricAsMattesMutualInformation(numberOfHistogramBins=options["histogramBins"])
    method.SetMetricSamplingStrategy(method.RANDOM)
    method.SetMetricSamplingPercentage(options["samplingPercentage"], options["seed"])
    if mask is not None:
        method.SetMetricFixedMask(mask)
    method.SetInterpolator(sitk.sitkLinear)
    method.SetOptimizerAsRegularStepGradientDescent(
        learningRate=options["stepMm"],
        minStep=options["minimumStepMm"],
        numberOfIterations=options["numberOfIterations"],
        relaxationFactor=0.5,
        gradientMagnitudeTolerance=1e-8,
    )
    method.SetOptimizerScalesFromPhysicalShift()
    method.SetShrinkFactorsPerLevel(list(options["shrinkFactors"]))
    method.SetSmoothingSigmasPerLevel(list(options["smoothingSigmas"]))
    method.SmoothingSigmasAreSpecifiedInPhysicalUnitsOff()
    method.SetInitialTransform(transform, inPlace=True)
    levels = []
    method.AddCommand(sitk.sitkMultiResolutionIterationEvent, lambda: levels.append(0))

    def onIteration():
        if not levels:
            levels.append(0)
        levels[-1] += 1

    method.AddCommand(sitk.sitkIterationEvent, onIteration)
    method.Execute(fixed, moving)
    counter.extend(levels)
    stop = method.GetOptimizerStopConditionDescription()
    lastLevel = levels[-1] if levels else 0
    converged = lastLevel < options["numberOfIterations"] and "Maximum number of iterations" not in stop
    return transform, stop, converged


def registerFunctionalToCt(
    ctImage,
    functionalImage,
    mode=RIGID,
    ctLiverMask=None,
    maskDilationMm=20.0,
    initialization="auto",
    initialMatrixToParent=None,
    workingSpacingMm=None,
    ctWindowHU=DEFAULT_CT_WINDOW_HU,
    shrinkFactors=(4, 2, 1),
    smoothingSigmas=(2.0, 1.0, 0.0),
    samplingPercentage=0.25,
    histogramBins=32,
    numberOfIterations=200,
    stepMm=4.0,
    minimumStepMm=0.02,
    functionalThresholdFraction=DEFAULT_FUNCTIONAL_THRESHOLD_FRACTION,
    seed=20260305,
    numberOfThreads=None,
    allowFailure=False,
):
    """Register a functional image (moving) to the planning CT (fixed).

    ``ctImage``, ``functionalImage``: SimpleITK images (see ``imageGrid.sitkImageFromArray`` and
    ``sitkImageFromVolumeNode``); ``ctLiverMask``: optional binary image on the CT grid. The
    functional image is placed by its own geometry (``initialMatrixToParent``, a RAS
    functional->CT matrix, puts it elsewhere to start with).

    ``initialization``: 'auto' (moments with a liver mask, geometry without; the given initial
    matrix when there is one), 'geometry' (centres of the two fields of view), 'moments' (CT
    liver centroid onto the centroid of the functional image's bright voxels; needs the mask)
    or 'identity' (trust the scanner coordinates). ``workingSpacingMm``: CT grid used for the
    metric (default: the functional image's finest spacing). ``shrinkFactors`` and
    ``smoothingSigmas`` (voxels) define the pyramid on that grid; ``stepMm`` and
    ``minimumStepMm`` the optimizer's first and last step (mm of physical shift).

    Returns a ``RegistrationResult``; raises ValueError for bad input, for images that do not
    overlap, and for a failed registration unless ``allowFailure``.
    """
    started = time.perf_counter()
    checkedSitkImage(ctImage, "CT image")
    checkedSitkImage(functionalImage, "Functional image")
    if mode not in MODES:
        raise ValueError(f"Registration mode {mode!r} is unknown: expected one of {', '.join(MODES)}")
    if initialization not in INITIALIZATIONS:
        raise ValueError(f"Initialization {initialization!r} is unknown: expected one of {', '.join(INITIALIZATIONS)}")
    shrinkFactors = [int(value) for value in shrinkFactors]
    smoothingSigmas = [float(value) for value in smoothingSigmas]
    if not shrinkFactors or len(shrinkFactors) != len(smoothingSigmas) or min(shrinkFactors) < 1:
        raise ValueError(
            f"Shrink factors {shrinkFactors} and smoothing sigmas {smoothingSigmas}: expected one positive integer "
            "factor and one sigma (voxels) per resolution level"
        )
    if not 0.0 < samplingPercentage <= 1.0:
        raise ValueError(f"Sampling percentage {samplingPercentage!r} is out of range: expected a fraction in (0, 1]")
    if not 0.0 < functionalThresholdFraction < 1.0:
        raise ValueError(
            f"Functional threshold fraction {functionalThresholdFraction!r} is out of range: expected a fraction in (0, 1)"
        )
    if maskDilationMm < 0:
        raise ValueError(f"Mask dilation {maskDilationMm!r} mm is negative: expected a margin in mm >= 0")
    if ctLiverMask is not None:
        checkedSitkImage(ctLiverMask, "CT liver mask")
        if not sameSitkGrid(ctLiverMask, ctImage):
            raise ValueError("CT liver mask is not on the CT grid (size, spacing, origin, direction): expected the CT's grid")
    if initialization == "moments" and ctLiverMask is None:
        raise ValueError("Initialization 'moments' needs a CT liver mask: expected ctLiverMask, or use 'geometry'")
    initialToParent = np.eye(4) if initialMatrixToParent is None else checkedMatrix(initialMatrixToParent, "Initial transform")

    # Images that do not overlap cannot be registered: say where each one is.
    ctLow, ctHigh = sitkImageRasBounds(ctImage)
    functionalLow, functionalHigh = sitkImageRasBounds(functionalImage, initialToParent)
    if np.any(functionalHigh <= ctLow) or np.any(functionalLow >= ctHigh):
        raise ValueError(
            "functional image does not overlap the CT (RAS bounds of the functional image "
            f"{_formatBounds(functionalLow, functionalHigh)}; of the CT {_formatBounds(ctLow, ctHigh)}): expected both "
            "to cover the liver in the same patient coordinates; place the functional image near the CT first "
            "(Transforms module) or check that the right series was loaded"
        )

    functionalSpacing = min(functionalImage.GetSpacing())
    working = float(workingSpacingMm) if workingSpacingMm is not None else max(functionalSpacing, min(ctImage.GetSpacing()))
    if not working > 0:
        raise ValueError(f"Working spacing {workingSpacingMm!r} mm is not positive: expected a spacing in mm")

    with ThreadCount(numberOfThreads):
        fixed, liver, dilated, _ = _workingCt(ctImage, ctLiverMask, working, ctWindowHU, 2.0 * working, maskDilationMm)
        moving = sitk.Cast(functionalImage, sitk.sitkFloat32)
        threshold = functionalThresholdFraction * _robustMaximum(moving)

        # Start: a LPS matrix (CT -> functional) and the centre of rotation.
        startLPS = lpsMatrixFromRas(np.linalg.inv(initialToParent))
        chosen = initialization
        if chosen == "auto":
            chosen = "initial matrix" if initialMatrixToParent is not None else ("moments" if liver is not None else "geometry")
        centre = _maskCentroidLPS(liver) if liver is not None else _imageCentreLPS(fixed)
        if chosen == "geometry":
            movingCentre = _imageCentreLPS(moving)
            startLPS = np.eye(4)
            startLPS[:3, 3] = movingCentre - _imageCentreLPS(fixed)
        elif chosen == "moments":
            startLPS = np.eye(4)
            startLPS[:3, 3] = _brightCentroidLPS(moving, functionalThresholdFraction) - centre
        elif chosen == "identity":
            startLPS = np.eye(4)
        transform = _rigidFromAffine(startLPS, centre)

        options = {
            "histogramBins": int(histogramBins),
            "samplingPercentage": float(samplingPercentage),
            "seed": int(seed),
            "stepMm": float(stepMm),
            "minimumStepMm": float(minimumStepMm),
            "numberOfIterations": int(numberOfIterations),
            "shrinkFactors": shrinkFactors,
            "smoothingSigmas": smoothingSigmas,
        }
        startTransform = sitkTransformFromMatrix(matrixFromSitkTransform(transform))
        metricInitial = _evaluateMetric(fixed, moving, dilated, startTransform, options["histogramBins"])
        diceBefore = None if liver is None else _dice(liver, moving, startTransform, threshold)

        levels = []
        transform, stop, converged = _runStage(fixed, moving, dilated, transform, options, levels)
        if mode == AFFINE:
            rigidMatrix = matrixFromSitkTransform(transform)
            affineOptions = dict(options, stepMm=options["stepMm"] / 2.0)
            transform, stop, affineConverged = _runStage(
                fixed, moving, dilated, _affineFromMatrix(rigidMatrix, centre), affineOptions, levels
            )
            converged = converged and affineConverged
        final = sitkTransformFromMatrix(matrixFromSitkTransform(transform))
        metricFinal = _evaluateMetric(fixed, moving, dilated, final, options["histogramBins"])
        diceAfter = None if liver is None else _dice(liver, moving, final, threshold)

    failures = []
    if not converged:
        failures.append(f"the optimizer did not converge ({stop})")
    if metricFinal > metricInitial + 1e-6 * max(1.0, abs(metricInitial)):
        failures.append(f"the metric got worse ({metricInitial:.4f} at the start, {metricFinal:.4f} at the end)")
    if diceAfter is not None and diceAfter < diceBefore - _DICE_DROP_TOLERANCE:
        failures.append(f"the liver overlap dropped (Dice {diceBefore:.3f} at the start, {diceAfter:.3f} at the end)")
    result = RegistrationResult(
        mode=mode,
        initialization=chosen,
        matrixToParent=toParentFromSitkTransform(final),
        sitkTransform=final,
        metricInitial=metricInitial,
        metricFinal=metricFinal,
        iterations=int(sum(levels)),
        iterationsPerLevel=[int(value) for value in levels],
        stopReason=stop,
        converged=converged,
        diceBefore=diceBefore,
        diceAfter=diceAfter,
        workingSpacingMm=tuple(float(value) for value in fixed.GetSpacing()),
        seconds=time.perf_counter() - started,
        failures=failures,
    )
    if failures and not allowFailure:
        raise ValueError(f"Registration of the functional image to the CT failed: {result.describe()}")
    return result


# --- Slicer nodes -------------------------------------------------------------------------------------


@dataclass
class RegisteredVolume:
    transformNode: object
    result: RegistrationResult


def liverSegmentIds(segmentationNode):
    """IDs of the segments that make up the liver: Couinaud segments, a whole-liver segment and
    tumours (inside the liver), recognised by code or name (segmentRecognition); never the
    spleen or vessels outside the liver. ValueError when none is recognised."""
    roles = SegmentRoles(segmentationNode)
    ids = [segmentId for segmentId, role in roles.roles.items() if role in COUINAUD_UNITS or role in (ROLE_LIVER, ROLE_TUMOUR)]
    if not any(roles.roles[segmentId] != ROLE_TUMOUR for segmentId in ids):
        raise ValueError(
            f"Segmentation '{segmentationNode.GetName()}' has no segment recognised as liver (Couinaud segments or 'Liver'): "
            "expected liver segments, or give the mask's segment IDs"
        )
    return ids


def registerFunctionalVolume(
    ctVolumeNode, functionalVolumeNode, mode=RIGID, maskSegmentation=None, maskSegmentIds=None, transformName=None, **options
):
    """Register ``functionalVolumeNode`` to ``ctVolumeNode`` and put the result in a linear
    transform node set as the functional volume's parent transform.

    The transform node ("<functional> to <CT>") holds ``matrixToParent`` (functional RAS -> CT
    world RAS); the user can inspect or adjust it in the Transforms module. An existing linear
    parent transform of the functional volume is taken as the starting point and replaced (a
    previous node of the same name is reused). ``maskSegmentation``/``maskSegmentIds``: the liver
    on the CT (the union of the segments; without IDs, the segments recognised as liver, see
    ``liverSegmentIds``) restricts the metric (dilated) and gives the Dice figure. ``options`` go to ``registerFunctionalToCt``.

    Returns ``RegisteredVolume(transformNode, result)``.
    """
    checkedVolumeNode(ctVolumeNode, "CT volume")
    checkedVolumeNode(functionalVolumeNode, "Functional volume")
    scene = ctVolumeNode.GetScene()
    if scene is None or functionalVolumeNode.GetScene() is not scene:
        raise ValueError("CT and functional volumes are not in one scene: expected nodes of the same scene")
    if mode not in MODES:
        raise ValueError(f"Registration mode {mode!r} is unknown: expected one of {', '.join(MODES)}")
    ctImage = sitkImageFromVolumeNode(ctVolumeNode, inWorld=True)
    functionalImage = sitkImageFromVolumeNode(functionalVolumeNode, inWorld=False)
    mask = None
    if maskSegmentation is not None:
        if not maskSegmentation.IsA("vtkMRMLSegmentationNode"):
            raise ValueError(f"Mask '{maskSegmentation.GetName()}' is a {maskSegmentation.GetClassName()}: expected a segmentation node")
        ids = list(maskSegmentIds) if maskSegmentIds is not None else liverSegmentIds(maskSegmentation)
        maskArray = segmentMaskOnVolumeGrid(maskSegmentation, ids, ctVolumeNode)
        if not maskArray.any():
            raise ValueError(f"Liver mask from '{maskSegmentation.GetName()}' is empty on the CT grid: expected liver segments")
        mask = sitk.GetImageFromArray(maskArray.astype(np.uint8))
        mask.CopyInformation(ctImage)
    parent = functionalVolumeNode.GetParentTransformNode()
    if parent is not None and "initialMatrixToParent" not in options:
        options["initialMatrixToParent"] = toWorldMatrix(functionalVolumeNode)
    result = registerFunctionalToCt(ctImage, functionalImage, mode=mode, ctLiverMask=mask, **options)

    name = transformName or f"{functionalVolumeNode.GetName()} to {ctVolumeNode.GetName()}"
    if parent is not None and parent.IsA("vtkMRMLLinearTransformNode") and parent.GetName() == name and parent.GetParentTransformNode() is None:
        transformNode = parent
    else:
        transformNode = scene.AddNewNodeByClass("vtkMRMLLinearTransformNode", name)
    transformNode.SetMatrixTransformToParent(vtkMatrixFromArray(result.matrixToParent))
    transformNode.SetAttribute("ALPPS.Registration.Mode", result.mode)
    transformNode.SetAttribute("ALPPS.Registration.Metric", f"{result.metricFinal:.6g}")
    transformNode.SetAttribute("ALPPS.Registration.MetricName", METRIC_NAME)
    transformNode.SetAttribute("ALPPS.Registration.Convention", "to parent: functional RAS -> CT RAS")
    transformNode.SetAttribute("ALPPS.Registration.Succeeded", "yes" if result.succeeded else "no")
    if result.diceAfter is not None:
        transformNode.SetAttribute("ALPPS.Registration.LiverDice", f"{result.diceAfter:.4f}")
    functionalVolumeNode.SetAndObserveTransformNodeID(transformNode.GetID())
    return RegisteredVolume(transformNode=transformNode, result=result)
