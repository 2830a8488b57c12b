"""Virtual transection by a plane or a curved surface through markups points: split volumes
against analytic values, the remnant chosen by a point, and the mistakes a user can make."""

import math
import time

import numpy as np
import pytest
import vtk
from ALPPSVolumetryLib.segments import segmentationImport, segmentOverlap, segmentVolumes
from ALPPSVolumetryLib.planning import virtualTransection


def _box():
    """A 40 x 30 x 20 mm box of 1 mm voxels on an LPS-ordered grid (IJK-to-RAS diag(-1, -1, 1)):
    voxel i has its centre at R = 20 - i, so the box spans R -24..15 (centres)."""
    ijkToRAS = np.diag([-1.0, -1.0, 1.0, 1.0])
    ijkToRAS[:3, 3] = (20.0, 15.0, -10.0)
    mask = np.zeros((30, 40, 50), dtype=bool)
    mask[5:25, 5:35, 5:45] = True
    return mask, ijkToRAS


def _rasOfVoxels(shape, ijkToRAS):
    k, j, i = np.meshgrid(*(np.arange(n, dtype=float) for n in shape), indexing="ij")
    return [ijkToRAS[axis, 0] * i + ijkToRAS[axis, 1] * j + ijkToRAS[axis, 2] * k + ijkToRAS[axis, 3] for axis in range(3)]


def test_planeSplitsABoxExactly():
    mask, ijkToRAS = _box()
    start = time.perf_counter()
    sideA, sideB = virtualTransection.splitByPlane(mask, ijkToRAS, origin=(0.5, 0.0, 0.0), normal=(2.0, 0.0, 0.0))
    print(f"\nbox split: {time.perf_counter() - start:.4f} s")
    # Side A is where the normal points (R > 0.5): columns i = 5..19, 15 of the box's 40.
    assert np.count_nonzero(sideA) == 15 * 30 * 20
    assert np.count_nonzero(sideB) == 25 * 30 * 20
    assert not np.any(sideA & sideB) and np.array_equal(sideA | sideB, mask)
    assert np.all(_rasOfVoxels(mask.shape, ijkToRAS)[0][sideA] > 0.5)


def test_obliquePlaneCutsASphericalCapOfKnownVolume():
    radius, spacing, distance = 30.0, 0.75, 10.0
    count = int(2 * radius / spacing) + 4
    ijkToRAS = np.diag([spacing, spacing, spacing, 1.0])
    ijkToRAS[:3, 3] = -spacing * (count - 1) / 2.0
    x, y, z = _rasOfVoxels((count, count, count), ijkToRAS)
    sphere = x * x + y * y + z * z <= radius * radius
    normal = np.array((1.0, 2.0, 2.0)) / 3.0
    start = time.perf_counter()
    cap, rest = virtualTransection.splitByPlane(sphere, ijkToRAS, origin=distance * normal, normal=normal)
    seconds = time.perf_counter() - start
    voxelMm3 = spacing**3
    height = radius - distance
    capMm3 = math.pi * height * height * (3.0 * radius - height) / 3.0
    print(f"\nsphere cap: {np.count_nonzero(cap) * voxelMm3:.0f} mm3 (analytic {capMm3:.0f}), {seconds:.3f} s")
    assert np.count_nonzero(cap) * voxelMm3 == pytest.approx(capMm3, rel=0.01)
    assert np.count_nonzero(rest) * voxelMm3 == pytest.approx(4.0 / 3.0 * math.pi * radius**3 - capMm3, rel=0.01)


def _quadric(y, z):
    """The known cut: R = f(A, S), a saddle-shaped quadratic."""
    return 5.3 + 0.01 * y * y - 0.008 * z * z + 0.006 * y * z


def _quadricPoints():
    # A 3 x 3 grid symmetric about the centre: the points' best-fit plane is then exactly R = const,
    # so the fitted height field over it is the quadric itself.
    return np.array([(_quadric(y, z), y, z) for y in (-30.0, 0.0, 30.0) for z in (-30.0, 0.0, 30.0)])


def _slab():
    spacing = 1.5
    ijkToRAS = np.diag([spacing, spacing, spacing, 1.0])
    ijkToRAS[:3, 3] = (-30.0, -40.0, -40.0)
    mask = np.ones((54, 54, 41), dtype=bool)  # R -30..30, A and S -40..39.5
    return mask, ijkToRAS


def test_curvedSurfaceThroughPointsOfAKnownQuadratic():
    mask, ijkToRAS = _slab()
    start = time.perf_counter()
    sideA, sideB = virtualTransection.splitByCurvedSurface(mask, ijkToRAS, _quadricPoints())
    print(f"\ncurved split of {mask.size} voxels: {time.perf_counter() - start:.4f} s")
    x, y, z = _rasOfVoxels(mask.shape, ijkToRAS)
    expected = x > _quadric(y, z)  # side A: the normal (closest to +R) points to the patient's right
    assert np.array_equal(sideA, expected) and np.array_equal(sideB, ~expected)
    surface = virtualTransection.curvedSurface(_quadricPoints())
    assert surface.kind == "quadratic" and "through 9 points (least-squares quadratic" in surface.describe()
    # Clicking order does not matter.
    reordered = virtualTransection.splitByCurvedSurface(mask, ijkToRAS, _quadricPoints()[::-1])
    assert np.array_equal(reordered[0], sideA)


def test_fewPointsOrUndeterminedQuadraticFallBackToTheBestFitPlane():
    mask, ijkToRAS = _slab()
    fourPoints = [(3.2, -20.0, -20.0), (3.2, 20.0, -20.0), (3.2, 20.0, 25.0), (3.2, -25.0, 20.0)]
    sideA, _ = virtualTransection.splitByCurvedSurface(mask, ijkToRAS, fourPoints)
    planeA, _ = virtualTransection.splitByPlane(mask, ijkToRAS, (3.2, 0.0, 0.0), (1.0, 0.0, 0.0))
    assert np.array_equal(sideA, planeA)
    assert "taken as their best-fit plane (fewer than 6 points)" in virtualTransection.curvedSurface(fourPoints).describe()
    # Six points on two lines, curved along them: their squared coordinate across the lines is
    # constant, so no quadratic is determined; the best-fit plane is used and says so.
    twoLines = [(3.0 + 0.02 * z * z, y, z) for y in (-20.0, 20.0) for z in (-20.0, 0.0, 20.0)]
    surface = virtualTransection.curvedSurface(twoLines)
    assert surface.kind == "plane" and "do not determine a quadratic surface" in surface.describe()


def test_badTransectionInputsAreNamed():
    mask, ijkToRAS = _box()
    with pytest.raises(ValueError, match="Degenerate plane: the transection plane's normal is zero"):
        virtualTransection.splitByPlane(mask, ijkToRAS, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0))
    with pytest.raises(ValueError, match=r"does not cross the liver mask: all 24000 voxels lie on one side"):
        virtualTransection.splitByPlane(mask, ijkToRAS, (100.0, 0.0, 0.0), (1.0, 0.0, 0.0))
    sideA, sideB = virtualTransection.splitByPlane(mask, ijkToRAS, (100.0, 0.0, 0.0), (1.0, 0.0, 0.0), allowEmptySide=True)
    assert not sideA.any() and np.array_equal(sideB, mask)
    with pytest.raises(ValueError, match="needs at least 3 points; got 2"):
        virtualTransection.splitByCurvedSurface(mask, ijkToRAS, [(0.0, 0.0, 0.0), (1.0, 1.0, 1.0)])
    with pytest.raises(ValueError, match="Degenerate surface: the 4 transection points lie on a line"):
        virtualTransection.splitByCurvedSurface(mask, ijkToRAS, [(t, 2 * t, 0.0) for t in (0.0, 5.0, 10.0, 15.0)])
    with pytest.raises(ValueError, match="liverMask is empty"):
        virtualTransection.splitByPlane(np.zeros_like(mask), ijkToRAS, (0.0, 0.0, 0.0), (1.0, 0.0, 0.0))


# --- Slicer nodes -----------------------------------------------------------------------------


def _tag(segment, name):
    value = vtk.reference("")
    return str(value) if segment.GetTag(name, value) else None


def _boxSegmentation(scene, name):
    mask, ijkToRAS = _box()
    segmentationNode = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", name)
    segmentationNode.CreateDefaultDisplayNodes()
    liverId = segmentationImport.importLabelArray(segmentationNode, mask.astype(np.uint8), ijkToRAS, {1: "Liver"})[1]
    return segmentationNode, liverId


def _planeNode(scene, name, origin, normal):
    planeNode = scene.AddNewNodeByClass("vtkMRMLMarkupsPlaneNode", name)
    planeNode.SetOriginWorld(list(origin))
    planeNode.SetNormalWorld(list(normal))
    return planeNode


def _pointsNode(scene, name, points):
    markupsNode = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", name)
    for number, point in enumerate(points, 1):
        markupsNode.AddControlPoint([float(c) for c in point], f"P-{number}")
    return markupsNode


def _counts(segmentationNode):
    return {volume.name: volume.voxelCount for volume in segmentVolumes.segmentVolumes(segmentationNode)}


def test_remnantChosenByAPointOnEitherSideOfAMarkupsPlane(slicerContext):
    scene = slicerContext.scene
    planeNode = _planeNode(scene, "Cut", (0.5, 0.0, 0.0), (1.0, 0.0, 0.0))
    segmentationNode, liverId = _boxSegmentation(scene, "Box")
    start = time.perf_counter()
    segmentIds = virtualTransection.addTransectionSegments(segmentationNode, liverId, planeNode, (-10.0, 0.0, 0.0))
    print(f"\nnode-level plane transection: {time.perf_counter() - start:.3f} s")
    counts = _counts(segmentationNode)
    assert counts["Remnant (virtual transection)"] == 25 * 30 * 20  # R < 0.5, where the point lies
    assert counts["Resected (virtual transection)"] == 15 * 30 * 20
    unionCount, _ = segmentOverlap.unionVolume(segmentationNode, list(segmentIds.values()))
    assert unionCount == counts["Liver"]
    segment = segmentationNode.GetSegmentation().GetSegment(segmentIds["remnant"])
    assert segment.GetName() == "Remnant (virtual transection)"
    method = _tag(segment, "ALPPS.Method")
    assert method.startswith("virtual transection by plane through (0.5, 0.0, 0.0)") and "markups plane 'Cut'" in method
    assert method == _tag(segmentationNode.GetSegmentation().GetSegment(segmentIds["resected"]), "ALPPS.Method")

    # The other side, chosen by a markups point clicked in it.
    otherNode, otherLiverId = _boxSegmentation(scene, "Box 2")
    remnantPoint = _pointsNode(scene, "Remnant point", [(10.0, 0.0, 0.0)])
    virtualTransection.addTransectionSegments(otherNode, otherLiverId, planeNode, remnantPoint)
    counts = _counts(otherNode)
    assert counts["Remnant (virtual transection)"] == 15 * 30 * 20
    assert "remnant on the side of 'Remnant point'" in _tag(otherNode.GetSegmentation().GetSegment(
        otherNode.GetSegmentation().GetSegmentIdBySegmentName("Remnant (virtual transection)")), "ALPPS.Method")


def test_curvedTransectionThroughMarkupsPoints(slicerContext):
    scene = slicerContext.scene
    mask, ijkToRAS = _box()
    segmentationNode, liverId = _boxSegmentation(scene, "Box")
    # The quadric through the box: shift it left so that it crosses the box (R -24..15).
    points = _quadricPoints() - (10.0, 0.0, 0.0)
    pointsNode = _pointsNode(scene, "Cut points", points)
    segmentIds = virtualTransection.addTransectionSegments(segmentationNode, liverId, pointsNode, (12.0, 0.0, 0.0))
    sideA, sideB = virtualTransection.splitByCurvedSurface(mask, ijkToRAS, points)
    counts = _counts(segmentationNode)
    assert counts["Remnant (virtual transection)"] == np.count_nonzero(sideA)  # R = 12 is on the right: side A
    assert counts["Resected (virtual transection)"] == np.count_nonzero(sideB) > 0
    method = _tag(segmentationNode.GetSegmentation().GetSegment(segmentIds["remnant"]), "ALPPS.Method")
    assert "curved surface through 9 points" in method and "markups points 'Cut points'" in method


def test_nodeLevelTransectionMistakesAreNamed(slicerContext):
    scene = slicerContext.scene
    segmentationNode, liverId = _boxSegmentation(scene, "Box")
    outside = _planeNode(scene, "Cut far away", (100.0, 0.0, 0.0), (1.0, 0.0, 0.0))
    with pytest.raises(ValueError, match="Transection 'Cut far away' does not cross liver segment 'Liver': all 24000 voxels"):
        virtualTransection.addTransectionSegments(segmentationNode, liverId, outside, (0.0, 0.0, 0.0))
    twoPoints = _pointsNode(scene, "Two points", [(0.0, 0.0, 0.0), (0.0, 10.0, 0.0)])
    with pytest.raises(ValueError, match="Transection points 'Two points': .*at least 3 points; got 2"):
        virtualTransection.addTransectionSegments(segmentationNode, liverId, twoPoints, (0.0, 0.0, 0.0))
    unplaced = scene.AddNewNodeByClass("vtkMRMLMarkupsPlaneNode", "Unplaced")
    with pytest.raises(ValueError, match="Transection plane 'Unplaced' is not placed yet"):
        virtualTransection.addTransectionSegments(segmentationNode, liverId, unplaced, (0.0, 0.0, 0.0))
    cut = _planeNode(scene, "Cut", (0.5, 0.0, 0.0), (1.0, 0.0, 0.0))
    with pytest.raises(ValueError, match="Remnant point 'Two points' has 2 placed control points: expected exactly one"):
        virtualTransection.addTransectionSegments(segmentationNode, liverId, cut, twoPoints)
    with pytest.raises(ValueError, match=r"outside the bounding box of liver segment 'Liver'.*remnant point at \(500.0, 0.0, 0.0\)"):
        virtualTransection.addTransectionSegments(segmentationNode, liverId, cut, (500.0, 0.0, 0.0))
    with pytest.raises(ValueError, match=r"Remnant point \(0.5, 3.0, 0.0\) lies on transection 'Cut'"):
        virtualTransection.addTransectionSegments(segmentationNode, liverId, cut, (0.5, 3.0, 0.0))
    with pytest.raises(ValueError, match="remnantSide must be an RAS point"):
        virtualTransection.addTransectionSegments(segmentationNode, liverId, cut, "left")
    assert segmentationNode.GetSegmentation().GetNumberOfSegments() == 1, "nothing is added on failure"
    virtualTransection.addTransectionSegments(segmentationNode, liverId, cut, (-5.0, 0.0, 0.0))
    with pytest.raises(ValueError, match=r"already has segment\(s\) 'Remnant \(virtual transection\)', 'Resected"):
        virtualTransection.addTransectionSegments(segmentationNode, liverId, cut, (-5.0, 0.0, 0.0))
