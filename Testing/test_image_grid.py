"""imageGrid against truths computed here or by SimpleITK itself: where SimpleITK puts each voxel
of an oblique, anisotropic grid stored LPS-aligned, mirrored or both; a linear phantom resampled
onto a shifted, rotated grid (linear interpolation is exact for it) against its formula; the one
rigid-transform builder in both of its forms; nodes and their parent transforms."""

import math

import numpy as np
import pytest
import SimpleITK as sitk
from ALPPSVolumetryLib import imageGrid
from ALPPSVolumetryLib.segments import segmentationImport


def _rotation(axis, degrees):
    """Rotation matrix about ``axis`` written out here (Rodrigues), not taken from the module."""
    x, y, z = np.asarray(axis, dtype=float) / np.linalg.norm(axis)
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return np.array([
        [c + x * x * (1 - c), x * y * (1 - c) - z * s, x * z * (1 - c) + y * s],
        [y * x * (1 - c) + z * s, c + y * y * (1 - c), y * z * (1 - c) - x * s],
        [z * x * (1 - c) - y * s, z * y * (1 - c) + x * s, c + z * z * (1 - c)],
    ])


def _grid(directions, spacing, origin):
    matrix = np.eye(4)
    matrix[:3, :3] = np.asarray(directions) @ np.diag(spacing)
    matrix[:3, 3] = origin
    return matrix


GRIDS = {
    # As a scanner stores a CT: x to the patient's left, y posterior (IJK-to-RAS diag(-, -, +)), tilted.
    "LPS-stored, oblique": _grid(_rotation((0.2, -0.4, 1.0), 17.0) @ np.diag([-1.0, -1.0, 1.0]), (0.7, 0.9, 2.5), (120.5, 88.0, -310.25)),
    # RAS-ascending columns, rows and slices, rotated about an oblique axis.
    "RAS-stored, oblique": _grid(_rotation((1.0, 1.0, 0.3), -23.0), (1.5, 1.2, 4.0), (-149.6, -129.8, -99.3)),
    # A mirrored grid (determinant < 0: slices stored head to foot).
    "mirrored": _grid(_rotation((0.0, 1.0, 0.2), 8.0) @ np.diag([1.0, -1.0, -1.0]), (3.0, 2.0, 5.0), (10.0, 20.0, 30.0)),
}


@pytest.mark.parametrize("name", list(GRIDS))
def test_everyVoxelIsWhereSimpleItkPutsIt(name):
    ijkToRAS = GRIDS[name]
    shape = (4, 5, 6)  # [k, j, i]
    image = imageGrid.sitkImageFromArray(np.arange(np.prod(shape), dtype=np.float32).reshape(shape), ijkToRAS)
    for k in range(shape[0]):
        for j in range(shape[1]):
            for i in range(shape[2]):
                lps = image.TransformIndexToPhysicalPoint((i, j, k))
                ras = ijkToRAS @ np.array([i, j, k, 1.0])
                np.testing.assert_allclose((-lps[0], -lps[1], lps[2]), ras[:3], atol=1e-9)
                assert image.GetPixel(i, j, k) == (k * shape[1] + j) * shape[2] + i
    # The grid read back from an image SimpleITK built itself, in its own terms (LPS).
    direct = sitk.Image([shape[2], shape[1], shape[0]], sitk.sitkUInt8)
    direct.SetSpacing([float(value) for value in np.linalg.norm(ijkToRAS[:3, :3], axis=0)])
    direct.SetDirection([float(value) for value in (np.diag([-1.0, -1.0, 1.0]) @ ijkToRAS[:3, :3] / np.linalg.norm(ijkToRAS[:3, :3], axis=0)).ravel()])
    direct.SetOrigin([-ijkToRAS[0, 3], -ijkToRAS[1, 3], ijkToRAS[2, 3]])
    np.testing.assert_allclose(imageGrid.ijkToRasFromSitk(direct), ijkToRAS, atol=1e-9)
    low, high = imageGrid.sitkImageRasBounds(direct)
    corners = np.array([ijkToRAS @ np.array([i, j, k, 1.0]) for i in (-0.5, 5.5) for j in (-0.5, 4.5) for k in (-0.5, 3.5)])[:, :3]
    np.testing.assert_allclose(low, corners.min(axis=0), atol=1e-9)
    np.testing.assert_allclose(high, corners.max(axis=0), atol=1e-9)


def _ramp(points):
    return 20.0 + 0.5 * points[..., 0] - 0.25 * points[..., 1] + 0.1 * points[..., 2]


def _centres(shape, ijkToRAS):
    kji = np.argwhere(np.ones(shape, dtype=bool))
    return (ijkToRAS @ np.c_[kji[:, ::-1], np.ones(len(kji))].T)[:3].T


@pytest.mark.parametrize("name", list(GRIDS))
def test_linearPhantomResampledOntoAShiftedRotatedGrid(name):
    source = GRIDS[name]
    shape = (40, 44, 48)
    phantom = _ramp(_centres(shape, source)).reshape(shape).astype(np.float32)
    # The reference grid: 1.3 voxels off, rotated 6 degrees, coarser, well inside the source box.
    centre = source @ np.array([23.5, 21.5, 19.5, 1.0])
    reference = _grid(_rotation((0.3, 0.1, 1.0), 6.0) @ source[:3, :3] / np.linalg.norm(source[:3, :3], axis=0),
                      np.linalg.norm(source[:3, :3], axis=0) * 1.7, np.zeros(3))
    referenceShape = (9, 10, 11)
    reference[:3, 3] = centre[:3] - reference[:3, :3] @ (np.array(referenceShape[::-1]) - 1) / 2.0 + 1.3 * source[:3, 0]
    values = imageGrid.resampleArray(phantom, source, referenceShape, reference)
    expected = _ramp(_centres(referenceShape, reference)).reshape(referenceShape)
    np.testing.assert_allclose(values, expected, atol=2e-3)
    # With a frame change: each reference point is looked up where the rigid transform puts it.
    toSource = imageGrid.rigidTransformRAS((2.0, -1.5, 1.0), (1.0, -2.0, 3.0), centre[:3])
    moved = imageGrid.resampleArray(phantom, source, referenceShape, reference, referenceToSource=toSource)
    points = (toSource @ np.c_[_centres(referenceShape, reference), np.ones(int(np.prod(referenceShape)))].T)[:3].T
    np.testing.assert_allclose(moved, _ramp(points).reshape(referenceShape), atol=2e-3)
    # Outside the source: the default value; the same grid: the values as they are.
    far = reference.copy()
    far[:3, 3] += 5000.0
    assert np.all(imageGrid.resampleArray(phantom, source, referenceShape, far, defaultValue=-7.0) == -7.0)
    assert np.array_equal(imageGrid.resampleArray(phantom, source, shape, source), phantom)


def test_oneRigidTransformBuilderInBothForms():
    centre = (12.0, -30.0, 55.0)
    aboutZ = imageGrid.rigidTransformRAS((1.0, 2.0, 3.0), (0.0, 0.0, 30.0), centre)
    aboutAxis = imageGrid.rigidTransformRAS((1.0, 2.0, 3.0), 30.0, centre, axis=(0.0, 0.0, 5.0))
    np.testing.assert_allclose(aboutZ, aboutAxis, atol=1e-12)
    np.testing.assert_allclose(aboutAxis[:3, :3], _rotation((0.0, 0.0, 1.0), 30.0), atol=1e-12)
    oblique = imageGrid.rigidTransformRAS((9.0, -7.0, 5.0), 5.0, centre, axis=(0.3, 0.4, 1.0))
    np.testing.assert_allclose(oblique[:3, :3], _rotation((0.3, 0.4, 1.0), 5.0), atol=1e-12)
    # The centre moves by the translation only; the angle is read back.
    np.testing.assert_allclose((oblique @ np.r_[centre, 1.0])[:3], np.add(centre, (9.0, -7.0, 5.0)), atol=1e-9)
    assert imageGrid.rotationAngleDegrees(oblique) == pytest.approx(5.0)
    # Euler order R = Rz Ry Rx.
    euler = imageGrid.rigidTransformRAS(rotationDegrees=(10.0, -20.0, 30.0))
    np.testing.assert_allclose(euler[:3, :3], _rotation((0, 0, 1), 30.0) @ _rotation((0, 1, 0), -20.0) @ _rotation((1, 0, 0), 10.0), atol=1e-12)


def test_rasMatricesAsSimpleItkTransforms():
    matrix = imageGrid.rigidTransformRAS((4.0, -3.0, 2.0), (3.0, 5.0, -7.0), (10.0, 20.0, 30.0))
    np.testing.assert_array_equal(imageGrid.lpsMatrixFromRas(imageGrid.lpsMatrixFromRas(matrix)), matrix)
    transform = imageGrid.sitkTransformFromRasMatrix(matrix)
    point = np.array([31.0, -12.0, 44.0, 1.0])
    mapped = transform.TransformPoint((-point[0], -point[1], point[2]))
    expected = matrix @ point
    np.testing.assert_allclose(mapped, (-expected[0], -expected[1], expected[2]), atol=1e-9)
    np.testing.assert_allclose(imageGrid.arrayFromVtkMatrix(imageGrid.vtkMatrixFromArray(matrix)), matrix)


def test_volumeNodesInTheirOwnFrameAndInTheWorld(slicerContext):
    scene = slicerContext.scene
    ijkToRAS = GRIDS["LPS-stored, oblique"]
    voxels = np.arange(60, dtype=np.int16).reshape(3, 4, 5)
    node = segmentationImport.addVolumeFromArray(scene, "Oblique", voxels, ijkToRAS)
    np.testing.assert_allclose(imageGrid.nodeIjkToRas(node), ijkToRAS, atol=1e-9)
    assert np.array_equal(imageGrid.volumeNodeArray(node), voxels)
    toParent = imageGrid.rigidTransformRAS((5.0, 0.0, -2.0), (0.0, 4.0, 0.0), (0.0, 0.0, 0.0))
    transformNode = scene.AddNewNodeByClass("vtkMRMLLinearTransformNode", "Oblique to world")
    transformNode.SetMatrixTransformToParent(imageGrid.vtkMatrixFromArray(toParent))
    node.SetAndObserveTransformNodeID(transformNode.GetID())
    np.testing.assert_allclose(imageGrid.toWorldMatrix(node), toParent, atol=1e-12)
    world = imageGrid.sitkImageFromVolumeNode(node, inWorld=True)
    own = imageGrid.sitkImageFromVolumeNode(node, inWorld=False)
    np.testing.assert_allclose(imageGrid.ijkToRasFromSitk(world), toParent @ ijkToRAS, atol=1e-9)
    np.testing.assert_allclose(imageGrid.ijkToRasFromSitk(own), ijkToRAS, atol=1e-9)
    back = imageGrid.volumeNodeFromSitk(scene, "Back", own)
    np.testing.assert_allclose(imageGrid.nodeIjkToRas(back), ijkToRAS, atol=1e-9)
    assert np.array_equal(imageGrid.volumeNodeArray(back), voxels)
    with pytest.raises(ValueError, match="expected a scalar volume node"):
        imageGrid.checkedVolumeNode(transformNode, "Volume")
