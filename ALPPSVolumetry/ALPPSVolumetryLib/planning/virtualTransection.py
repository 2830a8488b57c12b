"""Virtual transection: the liver cut in two by a plane or by a curved surface the surgeon draws
with markups, one side being the future remnant.

A resection along Couinaud segments is not always the operation planned: ALPPS stage 1 splits
the parenchyma along a line the surgeon chooses (often right of the falciform ligament, or
sparing part of segment IV), and atypical resections follow the tumour. Here the cut is either
a markups plane or a surface through markups points, and the user clicks a point in the remnant
to say which side is kept.

The curved surface through N points (all in mm, Slicer RAS):

- the best-fit plane of the points (least squares, through their centroid; its normal is the
  direction of least spread);
- N >= 6: a least-squares quadratic height field over that plane,
  h(u, v) = c0 + c1 u + c2 v + c3 u^2 + c4 u v + c5 v^2, with (u, v) the in-plane coordinates
  and h the distance along the normal: smooth, with no more bends than a surgeon's cut, and
  exact for points on any such quadric;
- 3 <= N < 6, or points that do not determine a quadratic (for example all on one or two lines
  in the plane): the best-fit plane itself (for 3 points, the plane through them). The fallback
  is recorded in the segments' method tag.
Beyond the points, the surface continues the quadratic: points should span the whole cut.

Sides: for a plane, side A is where the normal points; for a curved surface, side A is where
the best-fit plane's normal points, that normal being oriented towards the positive end of the
RAS axis it is closest to (the patient's right, anterior or superior). Voxel centres exactly
on the surface go to side B.
"""

import numpy as np

from .landmarkSegments import (
    checkedLiverMask,
    checkedMatrix,
    checkPointsInBounds,
    controlPointsByLabel,
    METHOD_TAG,
    rasBounds,
    refuseExistingSegments,
    segmentMaskAndGeometry,
    voxelChunks,
)
from .planDisplay import REMNANT_COLOR, RESECTED_COLOR
from ..segments.segmentationImport import importLabelArray

REMNANT_NAME = "Remnant (virtual transection)"
RESECTED_NAME = "Resected (virtual transection)"

MINIMUM_POINTS = 3
QUADRATIC_POINTS = 6
# Points whose spread across their main direction is below this (mm, root mean square) lie on
# a line: they do not define a surface.
MINIMUM_SPREAD_MM = 1.0
# Relative singular value below which the quadratic fit is taken as undetermined.
_RANK_TOLERANCE = 1e-8


class TransectionSurface:
    """A plane or a quadratic height field over a plane; ``signedDistance`` is > 0 on side A."""

    def __init__(self, origin, normal, axes=None, coefficients=None, scale=1.0, pointCount=0, kind="plane"):
        self.origin = np.asarray(origin, dtype=float)
        self.normal = np.asarray(normal, dtype=float)
        self.axes = axes
        self.coefficients = coefficients
        self.scale = scale
        self.pointCount = pointCount
        self.kind = kind

    def signedDistance(self, ras):
        """Height above the surface along the normal (mm; exact for a plane, measured along the
        normal of the best-fit plane for a curved surface)."""
        relative = np.atleast_2d(np.asarray(ras, dtype=float)) - self.origin
        height = relative @ self.normal
        if self.coefficients is None:
            return height
        u, v = (relative @ self.axes[0]) / self.scale, (relative @ self.axes[1]) / self.scale
        return height - _quadraticTerms(u, v) @ self.coefficients

    def describe(self):
        if self.kind == "quadratic":
            return f"curved surface through {self.pointCount} points (least-squares quadratic height field over their best-fit plane)"
        if self.pointCount:
            reason = (
                f"fewer than {QUADRATIC_POINTS} points"
                if self.pointCount < QUADRATIC_POINTS
                else "the points do not determine a quadratic surface"
            )
            return f"curved surface through {self.pointCount} points, taken as their best-fit plane ({reason})"
        return (
            f"plane through ({self.origin[0]:.1f}, {self.origin[1]:.1f}, {self.origin[2]:.1f}) mm RAS with normal "
            f"({self.normal[0]:.3f}, {self.normal[1]:.3f}, {self.normal[2]:.3f})"
        )


def _quadraticTerms(u, v):
    return np.stack((np.ones_like(u), u, v, u * u, u * v, v * v), axis=-1)


def planeSurface(origin, normal):
    origin = np.asarray(origin, dtype=float).reshape(-1)
    normal = np.asarray(normal, dtype=float).reshape(-1)
    if origin.shape != (3,) or normal.shape != (3,) or not np.all(np.isfinite(origin)) or not np.all(np.isfinite(normal)):
        raise ValueError(f"A transection plane needs an RAS origin and normal (3 numbers each); got {origin!r}, {normal!r}")
    length = float(np.linalg.norm(normal))
    if length < 1e-9:
        raise ValueError("Degenerate plane: the transection plane's normal is zero; expected a direction")
    return TransectionSurface(origin, normal / length)


def curvedSurface(points):
    """Fit the transection surface through ``points`` (N x 3, RAS mm); see the module description."""
    points = np.asarray(points, dtype=float)
    if points.ndim != 2 or points.shape[1] != 3 or not np.all(np.isfinite(points)):
        raise ValueError(f"Transection points must be an N x 3 array of RAS points (mm); got shape {points.shape}")
    if len(points) < MINIMUM_POINTS:
        raise ValueError(
            f"A curved transection surface needs at least {MINIMUM_POINTS} points; got {len(points)} "
            f"({QUADRATIC_POINTS} or more for a curved, quadratic surface)"
        )
    centroid = points.mean(axis=0)
    _, singular, rows = np.linalg.svd(points - centroid, full_matrices=False)
    spread = singular / np.sqrt(len(points))
    if spread[1] < MINIMUM_SPREAD_MM:
        raise ValueError(
            f"Degenerate surface: the {len(points)} transection points lie on a line (spread across it "
            f"{spread[1]:.2f} mm); expected points spread over the cut"
        )
    normal = rows[2]
    # Orient towards the positive end of the RAS axis the normal is closest to, so that side A is
    # the same whatever order the points were clicked in.
    if normal[np.argmax(np.abs(normal))] < 0:
        normal = -normal
    axes = (rows[0], np.cross(normal, rows[0]))
    if len(points) < QUADRATIC_POINTS:
        return TransectionSurface(centroid, normal, pointCount=len(points))
    relative = points - centroid
    # In-plane coordinates scaled to about 1, so that the fit's conditioning does not depend on mm.
    scale = float(spread[0])
    u, v = (relative @ axes[0]) / scale, (relative @ axes[1]) / scale
    design = _quadraticTerms(u, v)
    coefficients, _, rank, singularValues = np.linalg.lstsq(design, relative @ normal, rcond=None)
    if rank < QUADRATIC_POINTS or singularValues[-1] < _RANK_TOLERANCE * singularValues[0]:
        return TransectionSurface(centroid, normal, pointCount=len(points))
    return TransectionSurface(centroid, normal, axes, coefficients, scale, len(points), kind="quadratic")


def _splitMask(liverMask, ijkToRAS, surface, allowEmptySide, what):
    mask = checkedLiverMask(liverMask)
    matrix = checkedMatrix(ijkToRAS)
    sideA = np.zeros(mask.shape, dtype=bool)
    flatA = sideA.reshape(-1)
    for indices, ras in voxelChunks(mask, matrix):
        flatA[indices] = surface.signedDistance(ras) > 0
    sideB = mask & ~sideA
    if not allowEmptySide and (not sideA.any() or not sideB.any()):
        raise ValueError(
            f"The {what} does not cross the liver mask: all {int(mask.sum())} voxels lie on one side; "
            "expected a cut through the liver"
        )
    return sideA, sideB


def splitByPlane(liverMask, ijkToRAS, origin, normal, allowEmptySide=False):
    """(sideA, sideB) boolean masks of the liver voxels on each side of the plane: side A is where
    ``normal`` points. Raises ValueError for a zero normal, an empty mask, or (unless
    ``allowEmptySide``) a plane that leaves one side empty."""
    surface = planeSurface(origin, normal)
    return _splitMask(liverMask, ijkToRAS, surface, allowEmptySide, surface.describe())


def splitByCurvedSurface(liverMask, ijkToRAS, points, allowEmptySide=False):
    """(sideA, sideB) boolean masks of the liver voxels on each side of the surface through
    ``points`` (N >= 3 RAS points; quadratic for N >= 6, see the module description)."""
    surface = curvedSurface(points)
    return _splitMask(liverMask, ijkToRAS, surface, allowEmptySide, surface.describe())


# --- Slicer nodes ----------------------------------------------------------------------------


def transectionSurfaceFromNode(transectionNode):
    """The surface of a markups plane (origin and normal in world coordinates) or of the placed
    control points of another markups node (fiducials, curve: at least 3)."""
    if transectionNode is None or not transectionNode.IsA("vtkMRMLMarkupsNode"):
        raise ValueError(f"Expected a markups plane or a markups point list as the transection, got {transectionNode!r}")
    name = transectionNode.GetName()
    if transectionNode.IsA("vtkMRMLMarkupsPlaneNode"):
        valid = getattr(transectionNode, "GetIsPlaneValid", None)
        if transectionNode.GetNumberOfControlPoints() == 0 or (valid is not None and not valid()):
            raise ValueError(f"Transection plane '{name}' is not placed yet: expected a plane through the liver")
        origin, normal = [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]
        transectionNode.GetOriginWorld(origin)
        transectionNode.GetNormalWorld(normal)
        try:
            return planeSurface(origin, normal)
        except ValueError as error:
            raise ValueError(f"Transection plane '{name}': {error}") from None
    points = [point for positions in controlPointsByLabel(transectionNode).values() for point in positions]
    try:
        return curvedSurface(np.array(points, dtype=float).reshape(-1, 3))
    except ValueError as error:
        raise ValueError(f"Transection points '{name}': {error}") from None


def _remnantPoint(remnantSide):
    if remnantSide is not None and hasattr(remnantSide, "IsA"):
        if not remnantSide.IsA("vtkMRMLMarkupsNode"):
            raise ValueError(f"remnantSide must be an RAS point or a markups node with one point; got {remnantSide.GetClassName()}")
        points = [point for positions in controlPointsByLabel(remnantSide).values() for point in positions]
        if len(points) != 1:
            raise ValueError(
                f"Remnant point '{remnantSide.GetName()}' has {len(points)} placed control points: expected exactly one, "
                "clicked in the part of the liver that stays"
            )
        return np.array(points[0], dtype=float), f"'{remnantSide.GetName()}'"
    try:
        point = np.asarray(remnantSide, dtype=float).reshape(3)
    except (TypeError, ValueError):
        raise ValueError(
            f"remnantSide must be an RAS point (x, y, z) in mm lying in the remnant, or a markups node with one point; "
            f"got {remnantSide!r}"
        ) from None
    if not np.all(np.isfinite(point)):
        raise ValueError(f"remnantSide must be a finite RAS point; got {remnantSide!r}")
    return point, f"({point[0]:.1f}, {point[1]:.1f}, {point[2]:.1f})"


def addTransectionSegments(segmentationNode, liverSegmentId, transectionNode, remnantSide):
    """Add segments 'Remnant (virtual transection)' and 'Resected (virtual transection)' to
    ``segmentationNode``: the liver segment cut by ``transectionNode`` (a markups plane, or a
    markups point list with >= 3 points for a curved surface), the remnant being the side where
    ``remnantSide`` lies (an RAS point, or a markups node with one point clicked in the remnant).

    Both segments carry the tag ALPPS.Method describing the cut. Returns
    ``{'remnant': segmentId, 'resected': segmentId}``. ValueError when the cut does not cross the
    liver (naming the transection node), when the remnant point lies on the cut or far from the
    liver, or when the segments exist already.
    """
    mask, ijkToRAS = segmentMaskAndGeometry(segmentationNode, liverSegmentId)
    refuseExistingSegments(segmentationNode, {REMNANT_NAME, RESECTED_NAME})
    surface = transectionSurfaceFromNode(transectionNode)
    point, pointText = _remnantPoint(remnantSide)
    liverName = segmentationNode.GetSegmentation().GetSegment(liverSegmentId).GetName()
    pointName = f"remnant point {pointText}" if pointText.startswith("'") else "remnant point"
    checkPointsInBounds({pointName: point}, rasBounds(mask, ijkToRAS), f"liver segment '{liverName}'", noun="remnant point")
    sideA, sideB = _splitMask(mask, ijkToRAS, surface, True, surface.describe())
    if not sideA.any() or not sideB.any():
        raise ValueError(
            f"Transection '{transectionNode.GetName()}' does not cross liver segment '{liverName}': all "
            f"{int(mask.sum())} voxels lie on one side of it; expected a cut through the liver"
        )
    distance = float(surface.signedDistance(point)[0])
    if distance == 0.0:
        raise ValueError(
            f"Remnant point {pointText} lies on transection '{transectionNode.GetName()}': expected it inside the part "
            "of the liver that stays"
        )
    remnant, resected = (sideA, sideB) if distance > 0 else (sideB, sideA)
    labels = np.zeros(mask.shape, dtype=np.uint8)
    labels[remnant] = 1
    labels[resected] = 2
    imported = importLabelArray(
        segmentationNode, labels, ijkToRAS, {1: REMNANT_NAME, 2: RESECTED_NAME}, {1: REMNANT_COLOR, 2: RESECTED_COLOR}
    )
    kind = "markups plane" if transectionNode.IsA("vtkMRMLMarkupsPlaneNode") else "markups points"
    method = f"virtual transection by {surface.describe()} ({kind} '{transectionNode.GetName()}'); remnant on the side of {pointText}"
    segmentation = segmentationNode.GetSegmentation()
    for value, color in ((1, REMNANT_COLOR), (2, RESECTED_COLOR)):
        segment = segmentation.GetSegment(imported[value])
        segment.SetTag(METHOD_TAG, method)
        segment.SetColor(*color)
    return {"remnant": imported[1], "resected": imported[2]}
