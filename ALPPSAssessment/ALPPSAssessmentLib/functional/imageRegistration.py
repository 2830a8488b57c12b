"""Functional images (99mTc-mebrofenin SPECT, gadoxetate hepatobiliary-phase MRI) registered to
the planning CT (clinical reference section 5: "SPECT registered to the CT with the plan").

Coordinates. Slicer places a volume by its 4x4 IJK-to-RAS matrix (x to the patient's Right,
y Anterior, z Superior) and numpy arrays are indexed [k, j, i]. ITK / SimpleITK use LPS (x to
the Left, y Posterior): the same point has its first two coordinates negated. Converting a grid
therefore negates the first two rows of the direction matrix and of the origin; the helpers
``sitkImageFromArray`` and ``arrayAndIjkToRasFromSitk`` do only that, and every other function
goes through them.

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
import vtk
from ALPPSVolumetryLib.geometry import (
    arrayFromVtkMatrix,
    toWorldMatrix,
    vtkMatrixFromArray,
)
from ALPPSVolumetryLib.segmentationImport import addVolumeFromArray
from ALPPSVolumetryLib.segmentRecognition import (
    COUINAUD_UNITS,
    ROLE_LIVER,
    ROLE_TUMOUR,
    SegmentRoles,
)

RIGID = "rigid"
AFFINE = "affine"
MODES = (RIGID, AFFINE)
INITIALIZATIONS = ("auto", "geometry", "moments", "identity")
METRIC_NAME = "Mattes mutual information (ITK sign: negative, lower is better)"

# RAS <-> LPS: negate x and y.
_FLIP = np.diag([-1.0, -1.0, 1.0])
_FLIP4 = np.diag([-1.0, -1.0, 1.0, 1.0])

# Soft-tissue window applied to the CT before computing the metric (HU): bins of the joint
# histogram then separate liver, muscle, fat and vessels instead of spanning air to bone.
DEFAULT_CT_WINDOW_HU = (-150.0, 250.0)
# Functional voxels above this fraction of the 99.5th percentile count as "functional liver"
# for the Dice quality figure.
DEFAULT_FUNCTIONAL_THRESHOLD_FRACTION = 0.5
_ROBUST_MAXIMUM_PERCENTILE = 99.5
# A registration "lowers" the overlap when Dice drops by more than this.
_DICE_DROP_TOLERANCE = 0.02


# --- Grids: numpy [k, j, i] + IJK-to-RAS <-> SimpleITK (LPS) ---------------------------------------


def checkedMatrix(ijkToRAS, name="IJK-to-RAS matrix"):
    try:
        matrix = np.array(ijkToRAS, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} {ijkToRAS!r} is not numeric: expected a 4x4 matrix") from None
    if matrix.shape != (4, 4) or not np.all(np.isfinite(matrix)):
        raise ValueError(f"{name} has shape {matrix.shape} or non-finite values: expected a finite 4x4 matrix")
    if not np.allclose(matrix[3], (0.0, 0.0, 0.0, 1.0)):
        raise ValueError(f"{name} last row {matrix[3].tolist()} is not (0, 0, 0, 1): expected an affine 4x4 matrix")
    if abs(np.linalg.det(matrix[:3, :3])) < 1e-12:
        raise ValueError(f"{name} is singular: expected voxel axes with non-zero spacing")
    return matrix


def _spacingAndDirection(ijkToRAS, name="IJK-to-RAS matrix"):
    linear = ijkToRAS[:3, :3]
    spacing = np.linalg.norm(linear, axis=0)
    direction = linear / spacing
    if not np.allclose(direction.T @ direction, np.eye(3), atol=1e-4):
        raise ValueError(f"{name} has non-perpendicular voxel axes (sheared grid): expected an orthogonal grid")
    return spacing, direction


def sitkImageFromArray(array, ijkToRAS):
    """A SimpleITK image (LPS physical space) of a numpy array indexed [k, j, i] placed by a 4x4
    IJK-to-RAS matrix (Slicer's convention). The voxels are copied."""
    voxels = np.asarray(array)
    if voxels.ndim != 3 or min(voxels.shape) < 1:
        raise ValueError(f"Image array has shape {voxels.shape}: expected a 3-D array indexed [k, j, i]")
    matrix = checkedMatrix(ijkToRAS)
    spacing, directionRAS = _spacingAndDirection(matrix)
    if voxels.dtype == bool:
        voxels = voxels.astype(np.uint8)
    image = sitk.GetImageFromArray(np.ascontiguousarray(voxels))  # SimpleITK arrays are [z, y, x] too
    image.SetSpacing([float(value) for value in spacing])
    image.SetDirection([float(value) for value in (_FLIP @ directionRAS).ravel()])
    image.SetOrigin([float(value) for value in _FLIP @ matrix[:3, 3]])
    return image


def ijkToRasFromSitk(image):
    """The 4x4 IJK-to-RAS matrix of a SimpleITK image's grid."""
    _checkImage(image, "Image")
    direction = np.array(image.GetDirection(), dtype=float).reshape(3, 3)
    matrix = np.eye(4)
    matrix[:3, :3] = _FLIP @ direction @ np.diag(image.GetSpacing())
    matrix[:3, 3] = _FLIP @ np.array(image.GetOrigin(), dtype=float)
    return matrix


def arrayAndIjkToRasFromSitk(image):
    """(numpy array indexed [k, j, i] (a copy), 4x4 IJK-to-RAS matrix) of a SimpleITK image."""
    _checkImage(image, "Image")
    return sitk.GetArrayFromImage(image), ijkToRasFromSitk(image)


def _checkImage(image, name):
    if not isinstance(image, sitk.Image):
        raise ValueError(f"{name} is a {type(image).__name__}: expected a SimpleITK image")
    if image.GetDimension() != 3 or image.GetNumberOfComponentsPerPixel() != 1:
        raise ValueError(
            f"{name} has {image.GetDimension()} dimensions and {image.GetNumberOfComponentsPerPixel()} components: "
            "expected a 3-D scalar image"
        )


def checkedVolumeNode(node, name):
    if node is None or not hasattr(node, "IsA") or not node.IsA("vtkMRMLScalarVolumeNode"):
        kind = "None" if node is None else (node.GetClassName() if hasattr(node, "GetClassName") else type(node).__name__)
        raise ValueError(f"{name} is {kind}: expected a scalar volume node")
    if node.GetImageData() is None:
        raise ValueError(f"{name} '{node.GetName()}' has no image data: expected a loaded volume")
    return node


def nodeIjkToRas(volumeNode):
    """The volume's own 4x4 IJK-to-RAS matrix (its parent transform not applied)."""
    matrix = vtk.vtkMatrix4x4()
    volumeNode.GetIJKToRASMatrix(matrix)
    return arrayFromVtkMatrix(matrix)


def volumeNodeArray(volumeNode):
    """The node's voxels as a numpy view indexed [k, j, i]."""
    from vtk.util import numpy_support

    image = volumeNode.GetImageData()
    dimensions = image.GetDimensions()
    scalars = image.GetPointData().GetScalars()
    if scalars is None or scalars.GetNumberOfComponents() != 1:
        raise ValueError(f"Volume '{volumeNode.GetName()}' has no single-component voxels: expected a scalar volume")
    return numpy_support.vtk_to_numpy(scalars).reshape(dimensions[2], dimensions[1], dimensions[0])


def sitkImageFromVolumeNode(volumeNode, inWorld=True, pixelType=None):
    """SimpleITK image of a scalar volume node. ``inWorld`` places it in world coordinates (a
    linear parent transform applied to the grid); otherwise in the node's own coordinates."""
    checkedVolumeNode(volumeNode, "Volume")
    matrix = nodeIjkToRas(volumeNode)
    if inWorld:
        matrix = toWorldMatrix(volumeNode) @ matrix
    image = sitkImageFromArray(volumeNodeArray(volumeNode), matrix)
    return image if pixelType is None else sitk.Cast(image, pixelType)


def volumeNodeFromSitk(scene, name, image, labelmap=False):
    """A new scalar (or labelmap) volume node in ``scene`` holding a SimpleITK image."""
    array, ijkToRAS = arrayAndIjkToRasFromSitk(image)
    return addVolumeFromArray(scene, name, array, ijkToRAS, labelmap=labelmap)


def rasBounds(shape, ijkToRAS):
    """(minimum, maximum) RAS corners (mm) of the box enclosing a grid's voxels (voxel edges, not
    centres) for an array of ``shape`` [k, j, i]."""
    matrix = np.asarray(ijkToRAS, dtype=float)
    size = (shape[2], shape[1], shape[0])
    corners = np.array([[i, j, k, 1.0] for i in (-0.5, size[0] - 0.5) for j in (-0.5, size[1] - 0.5) for k in (-0.5, size[2] - 0.5)])
    points = (matrix @ corners.T).T[:, :3]
    return points.min(axis=0), points.max(axis=0)


def _imageRasBounds(image, matrixToParent=None):
    size = image.GetSize()
    low, high = rasBounds((size[2], size[1], size[0]), ijkToRasFromSitk(image))
    if matrixToParent is None:
        return low, high
    corners = np.array([[x, y, z, 1.0] for x in (low[0], high[0]) for y in (low[1], high[1]) for z in (low[2], high[2])])
    points = (np.asarray(matrixToParent) @ corners.T).T[:, :3]
    return points.min(axis=0), points.max(axis=0)


def _formatBounds(low, high):
    return "x {:.1f}..{:.1f}, y {:.1f}..{:.1f}, z {:.1f}..{:.1f} mm".format(low[0], high[0], low[1], high[1], low[2], high[2])


# --- Transforms: SimpleITK (LPS, fixed -> moving) <-> Slicer (RAS, moving -> fixed) ---------------


def matrixFromSitkTransform(transform):
    """4x4 LPS matrix of any linear SimpleITK transform (read from the images of four points, so
    centres, composites and parameterisations need no special case)."""
    origin = np.array(transform.TransformPoint((0.0, 0.0, 0.0)))
    matrix = np.eye(4)
    for axis in range(3):
        unit = [0.0, 0.0, 0.0]
        unit[axis] = 1.0
        matrix[:3, axis] = np.array(transform.TransformPoint(unit)) - origin
    matrix[:3, 3] = origin
    return matrix


def sitkTransformFromMatrix(matrixLPS):
    """A SimpleITK affine transform holding a 4x4 LPS matrix."""
    transform = sitk.AffineTransform(3)
    transform.SetMatrix([float(value) for value in np.asarray(matrixLPS)[:3, :3].ravel()])
    transform.SetTranslation([float(value) for value in np.asarray(matrixLPS)[:3, 3]])
    return transform


def toParentFromSitkTransform(transform):
    """Slicer's RAS "to parent" matrix (functional -> CT) of a SimpleITK registration transform
    (CT LPS points -> functional LPS points)."""
    return np.linalg.inv(_FLIP4 @ matrixFromSitkTransform(transform) @ _FLIP4)


def sitkTransformFromToParent(matrixToParent):
    """The SimpleITK resampling transform (CT LPS -> functional LPS) of a RAS "to parent" matrix."""
    return sitkTransformFromMatrix(_FLIP4 @ np.linalg.inv(checkedMatrix(matrixToParent, "Transform matrix")) @ _FLIP4)


def rotationAngleDegrees(matrix):
    """Rotation angle (degrees) of the linear part of a 4x4 matrix (its nearest rotation)."""
    u, _, vt = np.linalg.svd(np.asarray(matrix, dtype=float)[:3, :3])
    rotation = u @ vt
    return math.degrees(math.acos(max(-1.0, min(1.0, (np.trace(rotation) - 1.0) / 2.0))))


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


class _ThreadCount:
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


def _sameGrid(a, b):
    return (
        a.GetSize() == b.GetSize()
        and np.allclose(a.GetSpacing(), b.GetSpacing(), atol=1e-5)
        and np.allclose(a.GetOrigin(), b.GetOrigin(), atol=1e-4)
        and np.allclose(a.GetDirection(), b.GetDirection(), atol=1e-6)
    )


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
    return float(np.percentile(positive, _ROBUST_MAXIMUM_PERCENTILE))


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

    ``ctImage``, ``functionalImage``: SimpleITK images (see ``sitkImageFromArray`` and
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
    _checkImage(ctImage, "CT image")
    _checkImage(functionalImage, "Functional image")
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
        _checkImage(ctLiverMask, "CT liver mask")
        if not _sameGrid(ctLiverMask, ctImage):
            raise ValueError("CT liver mask is not on the CT grid (size, spacing, origin, direction): expected the CT's grid")
    if initialization == "moments" and ctLiverMask is None:
        raise ValueError("Initialization 'moments' needs a CT liver mask: expected ctLiverMask, or use 'geometry'")
    initialToParent = np.eye(4) if initialMatrixToParent is None else checkedMatrix(initialMatrixToParent, "Initial transform")

    # Images that do not overlap cannot be registered: say where each one is.
    ctLow, ctHigh = _imageRasBounds(ctImage)
    functionalLow, functionalHigh = _imageRasBounds(functionalImage, initialToParent)
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

    with _ThreadCount(numberOfThreads):
        fixed, liver, dilated, _ = _workingCt(ctImage, ctLiverMask, working, ctWindowHU, 2.0 * working, maskDilationMm)
        moving = sitk.Cast(functionalImage, sitk.sitkFloat32)
        threshold = functionalThresholdFraction * _robustMaximum(moving)

        # Start: a LPS matrix (CT -> functional) and the centre of rotation.
        startLPS = _FLIP4 @ np.linalg.inv(initialToParent) @ _FLIP4
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


def _segmentIdArray(segmentIds):
    array = vtk.vtkStringArray()
    for segmentId in segmentIds:
        array.InsertNextValue(segmentId)
    return array


def segmentMaskOnVolumeGrid(segmentationNode, segmentIds, volumeNode):
    """Union of segments as a boolean array [k, j, i] on ``volumeNode``'s own grid, resampled by
    Slicer in physical space (parent transforms of both nodes respected). The segments are
    exported together: where they overlap the label map holds one of them, and the union (every
    non-zero voxel) is unaffected."""
    import slicer

    segmentation = segmentationNode.GetSegmentation()
    segmentIds = list(segmentIds)
    if not segmentIds:
        raise ValueError(f"No segment IDs given for segmentation '{segmentationNode.GetName()}': expected at least one")
    unknown = [segmentId for segmentId in segmentIds if segmentation.GetSegment(segmentId) is None]
    if unknown:
        raise ValueError(f"Segmentation '{segmentationNode.GetName()}' has no segments with IDs {unknown}")
    scene = volumeNode.GetScene()
    shape = volumeNodeArray(volumeNode).shape
    labelmapNode = scene.AddNewNodeByClass("vtkMRMLLabelMapVolumeNode", "__alpps_segment_on_grid__")
    try:
        names = ", ".join(segmentation.GetSegment(segmentId).GetName() for segmentId in segmentIds)
        if not slicer.vtkSlicerSegmentationsModuleLogic.ExportSegmentsToLabelmapNode(
            segmentationNode, _segmentIdArray(segmentIds), labelmapNode, volumeNode
        ):
            raise ValueError(f"Segments '{names}' could not be resampled onto the grid of '{volumeNode.GetName()}'")
        labels = volumeNodeArray(labelmapNode)
        if labels.shape != shape:
            raise ValueError(f"Segments '{names}' exported on a {labels.shape} grid, not the {shape} grid of '{volumeNode.GetName()}'")
        return labels != 0
    finally:
        scene.RemoveNode(labelmapNode)


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


def resampleArray(array, ijkToRAS, referenceShape, referenceIjkToRAS, interpolation="linear", defaultValue=0.0, referenceToSource=None):
    """Values of ``array`` ([k, j, i] on ``ijkToRAS``) at the voxel centres of the grid of
    ``referenceShape`` ([k, j, i]) and ``referenceIjkToRAS``, matched in physical (RAS) space,
    never by index. ``referenceToSource``: optional 4x4 RAS matrix from the reference's
    coordinates to the array's (any affine; identity when both share one frame).
    ``interpolation``: 'linear' or 'nearest'; outside ``array``: ``defaultValue``.
    Returns float32 [k, j, i]."""
    interpolators = {"linear": sitk.sitkLinear, "nearest": sitk.sitkNearestNeighbor}
    if interpolation not in interpolators:
        raise ValueError(f"Interpolation {interpolation!r} is unknown: expected one of {', '.join(interpolators)}")
    sourceIjkToRAS = checkedMatrix(ijkToRAS, "Source IJK-to-RAS matrix")
    reference = checkedMatrix(referenceIjkToRAS, "Reference IJK-to-RAS matrix")
    spacing, direction = _spacingAndDirection(reference, "Reference grid")
    shape = tuple(int(value) for value in referenceShape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"Reference shape {referenceShape!r}: expected three positive sizes [k, j, i]")
    referenceToSource = np.eye(4) if referenceToSource is None else checkedMatrix(referenceToSource, "Reference-to-source matrix")
    # The same grid in the same frame: the values as they are (resampling would add round-off).
    referenceIndexToSourceIndex = np.linalg.inv(sourceIjkToRAS) @ referenceToSource @ reference
    if tuple(np.asarray(array).shape) == shape and np.allclose(referenceIndexToSourceIndex, np.eye(4), atol=1e-6):
        return np.array(array, dtype=np.float32)
    source = sitkImageFromArray(np.asarray(array, dtype=np.float32), sourceIjkToRAS)
    transform = sitkTransformFromMatrix(_FLIP4 @ referenceToSource @ _FLIP4)
    resampled = sitk.Resample(
        source,
        [shape[2], shape[1], shape[0]],
        transform,
        interpolators[interpolation],
        [float(value) for value in _FLIP @ reference[:3, 3]],
        [float(value) for value in spacing],
        [float(value) for value in (_FLIP @ direction).ravel()],
        float(defaultValue),
        sitk.sitkFloat32,
    )
    return sitk.GetArrayFromImage(resampled)


def resampledArray(volumeNode, referenceVolumeNode, interpolation="linear", defaultValue=0.0):
    """``volumeNode``'s values on ``referenceVolumeNode``'s grid (numpy float32 [k, j, i]),
    matched in world coordinates: the linear parent transforms of both nodes are applied."""
    checkedVolumeNode(volumeNode, "Volume to resample")
    checkedVolumeNode(referenceVolumeNode, "Reference volume")
    # Reference local RAS -> world -> source local RAS (any affine parent transform).
    referenceToSource = np.linalg.inv(toWorldMatrix(volumeNode)) @ toWorldMatrix(referenceVolumeNode)
    return resampleArray(
        volumeNodeArray(volumeNode),
        nodeIjkToRas(volumeNode),
        volumeNodeArray(referenceVolumeNode).shape,
        nodeIjkToRas(referenceVolumeNode),
        interpolation,
        defaultValue,
        referenceToSource,
    )


def resampleOntoCt(functionalVolumeNode, ctVolumeNode, name=None, defaultValue=0.0):
    """A new scalar volume node with the functional values on the CT grid (linear interpolation,
    world coordinates, so the functional volume's registration transform is applied), for
    voxel-wise maps and overlays. It sits under the CT's parent transform, if any."""
    array = resampledArray(functionalVolumeNode, ctVolumeNode, "linear", defaultValue)
    scene = ctVolumeNode.GetScene()
    outputName = name or f"{functionalVolumeNode.GetName()} on {ctVolumeNode.GetName()} grid"
    node = addVolumeFromArray(scene, outputName, array, nodeIjkToRas(ctVolumeNode))
    parent = ctVolumeNode.GetParentTransformNode()
    if parent is not None:
        node.SetAndObserveTransformNodeID(parent.GetID())
    return node


# --- Display --------------------------------------------------------------------------------------------

# Colour tables for functional overlays, by name, best first. Inside Slicer 'Inferno' exists (a
# colour file); slicer-core builds the procedural and built-in tables only ('PET-Heat', 'Iron',
# 'Rainbow', 'Grey').
OVERLAY_COLOR_NAMES = ("Inferno", "PET-Heat", "Iron", "Rainbow", "Grey")


@dataclass
class OverlayDisplay:
    colorNodeId: str
    colorName: str
    windowMin: float
    windowMax: float
    sliceViewsUpdated: int


def _colorNodeByName(scene, name):
    for index in range(scene.GetNumberOfNodesByClass("vtkMRMLColorNode")):
        node = scene.GetNthNodeByClass(index, "vtkMRMLColorNode")
        if node.GetName() == name:
            return node
    return None


def showAsOverlay(functionalVolumeNode, backgroundVolumeNode=None, colorName=None, windowMin=None, windowMax=None, opacity=0.5, hideBelowFraction=0.05,
                  layoutNames=None):
    """Show a functional volume as a coloured overlay: a colour table (``colorName``, or the first
    of ``OVERLAY_COLOR_NAMES`` present in the scene), a window from ``windowMin`` to ``windowMax``
    (default 0 to the 99.5th percentile of the positive voxels) and voxels below
    ``hideBelowFraction`` of the window hidden; in every slice view (when there are any, as
    inside Slicer) the volume becomes the foreground at ``opacity`` over ``backgroundVolumeNode``.
    ``layoutNames`` ('Red', 'Green', ...) limits the views. Headless scenes have no slice views
    unless they were made (``sliceCompositeNodes``): then only the display node is set."""
    checkedVolumeNode(functionalVolumeNode, "Functional volume")
    if not 0.0 <= opacity <= 1.0:
        raise ValueError(f"Overlay opacity {opacity!r} is out of range: expected a fraction from 0 to 1")
    scene = functionalVolumeNode.GetScene()
    if colorName is not None:
        colorNode = _colorNodeByName(scene, colorName)
        if colorNode is None:
            raise ValueError(f"Colour table '{colorName}' is not in the scene: expected one of the scene's colour nodes")
    else:
        colorNode = next((node for node in (_colorNodeByName(scene, name) for name in OVERLAY_COLOR_NAMES) if node), None)
        if colorNode is None:
            raise ValueError(f"None of the colour tables {', '.join(OVERLAY_COLOR_NAMES)} is in the scene: expected Slicer's default colour nodes")
    values = volumeNodeArray(functionalVolumeNode)
    positive = values[values > 0]
    low = 0.0 if windowMin is None else float(windowMin)
    high = (float(np.percentile(positive, _ROBUST_MAXIMUM_PERCENTILE)) if positive.size else 1.0) if windowMax is None else float(windowMax)
    if not high > low:
        raise ValueError(f"Overlay window {low:g}..{high:g} is empty: expected windowMax above windowMin")
    displayNode = functionalVolumeNode.GetDisplayNode()
    if displayNode is None:
        functionalVolumeNode.CreateDefaultDisplayNodes()
        displayNode = functionalVolumeNode.GetDisplayNode()
    displayNode.SetAndObserveColorNodeID(colorNode.GetID())
    displayNode.AutoWindowLevelOff()
    displayNode.SetWindowLevelMinMax(low, high)
    displayNode.SetApplyThreshold(1 if hideBelowFraction > 0 else 0)
    if hideBelowFraction > 0:
        displayNode.SetThreshold(low + hideBelowFraction * (high - low), float(values.max()) + 1.0)
    updated = 0
    for index in range(scene.GetNumberOfNodesByClass("vtkMRMLSliceCompositeNode")):
        compositeNode = scene.GetNthNodeByClass(index, "vtkMRMLSliceCompositeNode")
        if layoutNames is not None and compositeNode.GetLayoutName() not in layoutNames:
            continue
        if backgroundVolumeNode is not None:
            compositeNode.SetBackgroundVolumeID(backgroundVolumeNode.GetID())
        compositeNode.SetForegroundVolumeID(functionalVolumeNode.GetID())
        compositeNode.SetForegroundOpacity(float(opacity))
        updated += 1
    return OverlayDisplay(colorNode.GetID(), colorNode.GetName(), low, high, updated)


def sliceCompositeNodes(scene, layoutNames=("Red", "Yellow", "Green")):
    """The slice views' composite nodes, made when the scene has none (a headless scene): saved
    with the scene, they make Slicer open it with the same layers in each view, as a scene saved
    from Slicer does."""
    nodes = {}
    for index in range(scene.GetNumberOfNodesByClass("vtkMRMLSliceCompositeNode")):
        node = scene.GetNthNodeByClass(index, "vtkMRMLSliceCompositeNode")
        nodes[node.GetLayoutName()] = node
    for name in layoutNames:
        if name not in nodes:
            node = scene.CreateNodeByClass("vtkMRMLSliceCompositeNode")
            node.SetLayoutName(name)  # also its singleton tag: Slicer merges it into its own view on load
            nodes[name] = scene.AddNode(node)
            node.UnRegister(None)
    return nodes


# --- Synthetic functional image and benchmark -----------------------------------------------------------

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
    sigma = fwhmMm / (2.0 * math.sqrt(2.0 * math.log(2.0)))
    blurred = sitk.SmoothingRecursiveGaussian(activityImage, sigma)
    low, high = rasBounds(np.asarray(activity).shape, ijkToRAS)
    centre = (low + high) / 2.0
    spectToRAS = np.diag([-spacingMm, -spacingMm, spacingMm, 1.0])
    spectToRAS[:3, 3] = centre - spectToRAS[:3, :3] @ np.full(3, (size - 1) / 2.0)
    reference = sitkImageFromArray(np.zeros((size, size, size), dtype=np.float32), spectToRAS)
    # Resampling maps each SPECT point q (functional frame) to the CT point matrixToParent @ q.
    transform = sitkTransformFromMatrix(_FLIP4 @ checkedMatrix(matrixToParent, "Misalignment matrix") @ _FLIP4)
    expected = sitk.GetArrayFromImage(sitk.Resample(blurred, reference, transform, sitk.sitkLinear, 0.0, sitk.sitkFloat32))
    rng = np.random.default_rng(seed)
    counts = rng.poisson(np.clip(expected, 0.0, None) * liverCounts).astype(np.float32)
    return sitkImageFromArray(counts, spectToRAS)


def misalignmentMatrix(translationMm, rotationDegrees, axis, centreRAS):
    """4x4 RAS matrix: a rotation by ``rotationDegrees`` about ``axis`` through ``centreRAS``, then a
    translation (mm)."""
    axis = np.asarray(axis, dtype=float) / np.linalg.norm(axis)
    angle = math.radians(rotationDegrees)
    cross = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    rotation = np.eye(3) + math.sin(angle) * cross + (1 - math.cos(angle)) * cross @ cross
    matrix = np.eye(4)
    matrix[:3, :3] = rotation
    centre = np.asarray(centreRAS, dtype=float)
    matrix[:3, 3] = centre - rotation @ centre + np.asarray(translationMm, dtype=float)
    return matrix


def targetRegistrationErrorMm(estimatedToParent, trueToParent, pointsRAS):
    """Mean and maximum distance (mm) between where the estimated and the true transform put the
    functional points that truly correspond to ``pointsRAS`` (CT RAS, N x 3)."""
    points = np.c_[np.asarray(pointsRAS, dtype=float), np.ones(len(pointsRAS))]
    functional = (np.linalg.inv(trueToParent) @ points.T)
    distances = np.linalg.norm((np.asarray(estimatedToParent) @ functional)[:3].T - points[:, :3], axis=1)
    return float(distances.mean()), float(distances.max())


def _upsampledNearest(array, shape):
    """``array`` [k, j, i] on a finer grid of ``shape`` covering the same box (nearest voxel)."""
    indices = [np.minimum(((np.arange(n) + 0.5) * array.shape[axis] / n).astype(int), array.shape[axis] - 1) for axis, n in enumerate(shape)]
    return array[indices[0]][:, indices[1]][:, :, indices[2]]


def benchmarkRegistration(ctSize=(512, 512, 300), functionalSize=128, functionalSpacingMm=4.8, numberOfThreads=2, mode=RIGID, useLiverMask=True, seed=1, printTime=True, **options):
    """Register a ``functionalSize``^3 SPECT-like image to a CT of ``ctSize`` (columns, rows,
    slices) made from the synthetic patient, and time it. The misalignment (12 mm, 5 degrees)
    is known, so the target registration error over the liver is reported too.

    Returns a dict: seconds (registration alone) and secondsWithConversion (numpy -> SimpleITK
    included), TRE mean/max (mm), the registration figures.
    """
    from ALPPSVolumetryLib import syntheticPatient

    columns, rows, slices = (int(value) for value in ctSize)
    if min(columns, rows, slices) < 16:
        raise ValueError(f"CT size {ctSize} is too small: expected at least 16 voxels along each axis")
    timePoint = syntheticPatient.makeTimePoint("pre-stage 1", -3, 1.0, spacing=(3.0, 3.0, 3.0), seed=seed)
    coarseShape = timePoint.ct.shape
    low, high = rasBounds(coarseShape, timePoint.ijkToRAS)
    spacing = (high - low) / np.array([columns, rows, slices], dtype=float)
    ijkToRAS = np.diag([-spacing[0], -spacing[1], spacing[2], 1.0])
    ijkToRAS[:3, 3] = (high[0] - spacing[0] / 2, high[1] - spacing[1] / 2, low[2] + spacing[2] / 2)
    ct = _upsampledNearest(timePoint.ct, (slices, rows, columns))
    liver = _upsampledNearest(timePoint.couinaudLabels > 0, (slices, rows, columns)) if useLiverMask else None
    liverCentre = timePoint.ijkToRAS @ np.r_[np.argwhere(timePoint.couinaudLabels > 0).mean(axis=0)[::-1], 1.0]
    truth = misalignmentMatrix((9.0, -7.0, 5.0), 5.0, (0.3, 0.4, 1.0), liverCentre[:3])
    functional = makeSpectLikeImage(spectLikeActivity(timePoint), timePoint.ijkToRAS, truth, functionalSize, functionalSpacingMm, seed=seed)

    started = time.perf_counter()
    with _ThreadCount(numberOfThreads):
        ctImage = sitkImageFromArray(ct, ijkToRAS)
        maskImage = sitkImageFromArray(liver, ijkToRAS) if liver is not None else None
    converted = time.perf_counter()
    result = registerFunctionalToCt(ctImage, functional, mode=mode, ctLiverMask=maskImage, numberOfThreads=numberOfThreads, **options)
    finished = time.perf_counter()
    liverPoints = (timePoint.ijkToRAS @ np.c_[np.argwhere(timePoint.couinaudLabels > 0)[:, ::-1], np.ones(int((timePoint.couinaudLabels > 0).sum()))].T)[:3].T
    treMean, treMax = targetRegistrationErrorMm(result.matrixToParent, truth, liverPoints)
    figures = {
        "ctSize": [columns, rows, slices],
        "ctSpacingMm": [float(value) for value in spacing],
        "functionalSize": [functionalSize] * 3,
        "functionalSpacingMm": functionalSpacingMm,
        "threads": numberOfThreads,
        "seconds": finished - converted,
        "secondsWithConversion": finished - started,
        "treMeanMm": treMean,
        "treMaxMm": treMax,
        "registration": result.asDict(),
    }
    if printTime:
        print(
            f"Registration of a {functionalSize}^3 functional image to a {columns}x{rows}x{slices} CT ({mode}, "
            f"{numberOfThreads} threads): {figures['seconds']:.2f} s ({figures['secondsWithConversion']:.2f} s with "
            f"numpy -> SimpleITK conversion); TRE over the liver mean {treMean:.2f} mm, max {treMax:.2f} mm; "
            f"{result.iterations} iterations; liver Dice {result.diceAfter if result.diceAfter is not None else float('nan'):.3f}"
        )
    return figures
