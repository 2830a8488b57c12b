"""Image grids: where voxels sit in patient space, the same grid as numpy, VTK, SimpleITK and
Slicer nodes hold it, and values moved from one grid onto another.

Coordinates. Slicer places a volume by its 4x4 IJK-to-RAS matrix (x to the patient's Right,
y Anterior, z Superior) and numpy arrays are indexed [k, j, i]. ITK / SimpleITK use LPS (x to
the Left, y Posterior): the same point has its first two coordinates negated. Converting a grid
therefore negates the first two rows of the direction matrix and of the origin; the helpers
``sitkImageFromArray`` and ``arrayAndIjkToRasFromSitk`` do only that, and every other function
goes through them. A node's own IJK-to-RAS places it in its own coordinates; its parent transform
(``toWorldMatrix``) places those in the scene's world.

Transforms. A RAS matrix maps points of one frame to another; SimpleITK holds the same mapping in
LPS (``sitkTransformFromRasMatrix``). Resampling asks, for every point of the reference grid,
where it lies in the source image: the transform it takes goes from the reference frame to the
source frame.
"""

import math

import numpy as np
from vtkmodules.util import numpy_support
from vtkmodules.vtkCommonCore import vtkStringArray
from vtkmodules.vtkCommonDataModel import vtkImageData
from vtkmodules.vtkCommonMath import vtkMatrix4x4

from .criteria.clinicalCriteria import checkedNumber

# SimpleITK is imported in the functions that use it: reading and counting a label map
# (alpps volumetry) needs none of it, and its import costs a third of a second.

# RAS <-> LPS: negate x and y.
_FLIP = np.diag([-1.0, -1.0, 1.0])
_FLIP4 = np.diag([-1.0, -1.0, 1.0, 1.0])


# --- Matrices: VTK <-> numpy, nodes in world space -------------------------------------------------


def arrayFromVtkMatrix(matrix):
    """A vtkMatrix4x4 as a 4x4 numpy array."""
    return np.array([[matrix.GetElement(row, column) for column in range(4)] for row in range(4)])


def vtkMatrixFromArray(array4x4):
    """A 4x4 array-like as a vtkMatrix4x4."""
    matrix = vtkMatrix4x4()
    for row in range(4):
        for column in range(4):
            matrix.SetElement(row, column, float(array4x4[row][column]))
    return matrix


def imageToWorld(orientedImageData):
    """4x4 IJK-to-world matrix of a vtkOrientedImageData (a segmentation's labelmap layer)."""
    matrix = vtkMatrix4x4()
    orientedImageData.GetImageToWorldMatrix(matrix)
    return arrayFromVtkMatrix(matrix)


def toWorldMatrix(node):
    """4x4 matrix from the node's own RAS coordinates to world RAS (identity without a parent
    transform); ValueError for a non-linear parent transform, which no 4x4 matrix describes."""
    parent = node.GetParentTransformNode()
    if parent is None:
        return np.eye(4)
    if not parent.IsTransformToWorldLinear():
        raise ValueError(
            f"'{node.GetName()}' is under the non-linear transform '{parent.GetName()}': expected no transform or a "
            "linear one (harden or remove the non-linear transform first)"
        )
    matrix = vtkMatrix4x4()
    parent.GetMatrixTransformToWorld(matrix)
    return arrayFromVtkMatrix(matrix)


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


def spacingAndDirection(ijkToRAS, name="IJK-to-RAS matrix"):
    """(voxel spacing (mm) along i, j, k; 3x3 RAS direction of those axes) of an orthogonal grid."""
    linear = ijkToRAS[:3, :3]
    spacing = np.linalg.norm(linear, axis=0)
    direction = linear / spacing
    if not np.allclose(direction.T @ direction, np.eye(3), atol=1e-4):
        raise ValueError(f"{name} has non-perpendicular voxel axes (sheared grid): expected an orthogonal grid")
    return spacing, direction


def rasBounds(shape, ijkToRAS):
    """(minimum, maximum) RAS corners (mm) of the box enclosing a grid's voxels (voxel edges, not
    centres) for an array of ``shape`` [k, j, i]."""
    matrix = np.asarray(ijkToRAS, dtype=float)
    size = (shape[2], shape[1], shape[0])
    corners = np.array([[i, j, k, 1.0] for i in (-0.5, size[0] - 0.5) for j in (-0.5, size[1] - 0.5) for k in (-0.5, size[2] - 0.5)])
    points = (matrix @ corners.T).T[:, :3]
    return points.min(axis=0), points.max(axis=0)


# --- numpy [k, j, i] + IJK-to-RAS <-> SimpleITK (LPS) ----------------------------------------------


def sitkImageFromArray(array, ijkToRAS):
    """A SimpleITK image (LPS physical space) of a numpy array indexed [k, j, i] placed by a 4x4
    IJK-to-RAS matrix (Slicer's convention). The voxels are copied."""
    import SimpleITK as sitk
    voxels = np.asarray(array)
    if voxels.ndim != 3 or min(voxels.shape) < 1:
        raise ValueError(f"Image array has shape {voxels.shape}: expected a 3-D array indexed [k, j, i]")
    matrix = checkedMatrix(ijkToRAS)
    spacing, directionRAS = spacingAndDirection(matrix)
    if voxels.dtype == bool:
        voxels = voxels.astype(np.uint8)
    image = sitk.GetImageFromArray(np.ascontiguousarray(voxels))  # SimpleITK arrays are [z, y, x] too
    image.SetSpacing([float(value) for value in spacing])
    image.SetDirection([float(value) for value in (_FLIP @ directionRAS).ravel()])
    image.SetOrigin([float(value) for value in _FLIP @ matrix[:3, 3]])
    return image


def checkedSitkImage(image, name):
    import SimpleITK as sitk
    if not isinstance(image, sitk.Image):
        raise ValueError(f"{name} is a {type(image).__name__}: expected a SimpleITK image")
    if image.GetDimension() != 3 or image.GetNumberOfComponentsPerPixel() != 1:
        raise ValueError(
            f"{name} has {image.GetDimension()} dimensions and {image.GetNumberOfComponentsPerPixel()} components: "
            "expected a 3-D scalar image"
        )
    return image


def ijkToRasFromSitk(image):
    """The 4x4 IJK-to-RAS matrix of a SimpleITK image's grid."""
    checkedSitkImage(image, "Image")
    direction = np.array(image.GetDirection(), dtype=float).reshape(3, 3)
    matrix = np.eye(4)
    matrix[:3, :3] = _FLIP @ direction @ np.diag(image.GetSpacing())
    matrix[:3, 3] = _FLIP @ np.array(image.GetOrigin(), dtype=float)
    return matrix


def arrayAndIjkToRasFromSitk(image):
    """(numpy array indexed [k, j, i] (a copy), 4x4 IJK-to-RAS matrix) of a SimpleITK image."""
    import SimpleITK as sitk
    checkedSitkImage(image, "Image")
    return sitk.GetArrayFromImage(image), ijkToRasFromSitk(image)


def sitkImageRasBounds(image, matrixToParent=None):
    """(minimum, maximum) RAS corners (mm) of a SimpleITK image's box, in its own frame or, with
    ``matrixToParent``, of that box moved into the parent frame."""
    size = image.GetSize()
    low, high = rasBounds((size[2], size[1], size[0]), ijkToRasFromSitk(image))
    if matrixToParent is None:
        return low, high
    corners = np.array([[x, y, z, 1.0] for x in (low[0], high[0]) for y in (low[1], high[1]) for z in (low[2], high[2])])
    points = (np.asarray(matrixToParent) @ corners.T).T[:, :3]
    return points.min(axis=0), points.max(axis=0)


def sameSitkGrid(a, b):
    """True when two SimpleITK images share size, spacing, origin and direction."""
    return (
        a.GetSize() == b.GetSize()
        and np.allclose(a.GetSpacing(), b.GetSpacing(), atol=1e-5)
        and np.allclose(a.GetOrigin(), b.GetOrigin(), atol=1e-4)
        and np.allclose(a.GetDirection(), b.GetDirection(), atol=1e-6)
    )


# --- Volume nodes -----------------------------------------------------------------------------------


def checkedVolumeNode(node, name):
    if node is None or not hasattr(node, "IsA") or not node.IsA("vtkMRMLScalarVolumeNode"):
        kind = "None" if node is None else (node.GetClassName() if hasattr(node, "GetClassName") else type(node).__name__)
        raise ValueError(f"{name} is {kind}: expected a scalar volume node")
    if node.GetImageData() is None:
        raise ValueError(f"{name} '{node.GetName()}' has no image data: expected a loaded volume")
    return node


def nodeIjkToRas(volumeNode):
    """The volume's own 4x4 IJK-to-RAS matrix (its parent transform not applied)."""
    matrix = vtkMatrix4x4()
    volumeNode.GetIJKToRASMatrix(matrix)
    return arrayFromVtkMatrix(matrix)


def volumeNodeArray(volumeNode):
    """The node's voxels as a numpy view indexed [k, j, i]."""

    image = volumeNode.GetImageData()
    dimensions = image.GetDimensions()
    scalars = image.GetPointData().GetScalars()
    if scalars is None or scalars.GetNumberOfComponents() != 1:
        raise ValueError(f"Volume '{volumeNode.GetName()}' has no single-component voxels: expected a scalar volume")
    return numpy_support.vtk_to_numpy(scalars).reshape(dimensions[2], dimensions[1], dimensions[0])


def sitkImageFromVolumeNode(volumeNode, inWorld=True, pixelType=None):
    """SimpleITK image of a scalar volume node. ``inWorld`` places it in world coordinates (a
    linear parent transform applied to the grid); otherwise in the node's own coordinates."""
    import SimpleITK as sitk
    checkedVolumeNode(volumeNode, "Volume")
    matrix = nodeIjkToRas(volumeNode)
    if inWorld:
        matrix = toWorldMatrix(volumeNode) @ matrix
    image = sitkImageFromArray(volumeNodeArray(volumeNode), matrix)
    return image if pixelType is None else sitk.Cast(image, pixelType)


def setVolumeNodeArray(volumeNode, voxels, ijkToRAS):
    """Fill ``volumeNode`` with ``voxels`` (indexed [k, j, i], copied) placed by the 4x4 IJK-to-RAS matrix."""

    voxels = np.ascontiguousarray(voxels)
    imageData = vtkImageData()
    imageData.SetDimensions(voxels.shape[2], voxels.shape[1], voxels.shape[0])
    imageData.AllocateScalars(numpy_support.get_vtk_array_type(voxels.dtype), 1)
    numpy_support.vtk_to_numpy(imageData.GetPointData().GetScalars())[:] = voxels.ravel()
    volumeNode.SetAndObserveImageData(imageData)
    volumeNode.SetIJKToRASMatrix(vtkMatrixFromArray(ijkToRAS))
    volumeNode.Modified()


def volumeNodeFromSitk(scene, name, image, labelmap=False):
    """A new scalar (or labelmap) volume node in ``scene`` holding a SimpleITK image."""
    volumeNode = scene.AddNewNodeByClass("vtkMRMLLabelMapVolumeNode" if labelmap else "vtkMRMLScalarVolumeNode", name)
    setVolumeNodeArray(volumeNode, *arrayAndIjkToRasFromSitk(image))
    volumeNode.CreateDefaultDisplayNodes()
    return volumeNode


def _segmentIdArray(segmentIds):
    array = vtkStringArray()
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
    present = {scene.GetNthNode(index).GetID() for index in range(scene.GetNumberOfNodes())}
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
        # The export also adds a display node and a colour table for the label map: a mask taken
        # leaves the scene as it was.
        added = [scene.GetNthNode(index) for index in range(scene.GetNumberOfNodes())]
        for node in added:
            if node.GetID() not in present and node.GetScene() is scene:
                scene.RemoveNode(node)


# --- Transforms: RAS matrices <-> SimpleITK (LPS) ----------------------------------------------------


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
    import SimpleITK as sitk
    transform = sitk.AffineTransform(3)
    transform.SetMatrix([float(value) for value in np.asarray(matrixLPS)[:3, :3].ravel()])
    transform.SetTranslation([float(value) for value in np.asarray(matrixLPS)[:3, 3]])
    return transform


def lpsMatrixFromRas(matrix):
    """The 4x4 matrix doing in LPS what ``matrix`` does in RAS (and back: the flip is its own inverse)."""
    return _FLIP4 @ np.asarray(matrix, dtype=float) @ _FLIP4


def sitkTransformFromRasMatrix(matrixRAS):
    """A SimpleITK affine transform doing in LPS what a 4x4 RAS matrix does in RAS. For resampling,
    the matrix goes from the reference grid's frame to the source image's frame."""
    return sitkTransformFromMatrix(lpsMatrixFromRas(matrixRAS))


def toParentFromSitkTransform(transform):
    """Slicer's RAS "to parent" matrix (functional -> CT) of a SimpleITK registration transform
    (CT LPS points -> functional LPS points)."""
    return np.linalg.inv(lpsMatrixFromRas(matrixFromSitkTransform(transform)))


def sitkTransformFromToParent(matrixToParent):
    """The SimpleITK resampling transform (CT LPS -> functional LPS) of a RAS "to parent" matrix."""
    return sitkTransformFromRasMatrix(np.linalg.inv(checkedMatrix(matrixToParent, "Transform matrix")))


def rigidTransformRAS(translationMm=(0.0, 0.0, 0.0), rotationDegrees=(0.0, 0.0, 0.0), centreRAS=(0.0, 0.0, 0.0), axis=None):
    """4x4 RAS matrix: a rotation around ``centreRAS``, then the translation (mm). The rotation is
    ``rotationDegrees`` about the x (R), y (A) and z (S) axes in this order (R = Rz Ry Rx), or,
    with ``axis`` (a RAS direction), the one angle ``rotationDegrees`` about that axis."""
    if axis is None:
        ax, ay, az = (math.radians(checkedNumber(angle, "Rotation", "degrees")) for angle in rotationDegrees)
        rx = np.array([[1, 0, 0], [0, math.cos(ax), -math.sin(ax)], [0, math.sin(ax), math.cos(ax)]])
        ry = np.array([[math.cos(ay), 0, math.sin(ay)], [0, 1, 0], [-math.sin(ay), 0, math.cos(ay)]])
        rz = np.array([[math.cos(az), -math.sin(az), 0], [math.sin(az), math.cos(az), 0], [0, 0, 1]])
        rotation = rz @ ry @ rx
    else:
        unit = np.asarray(axis, dtype=float) / np.linalg.norm(axis)
        angle = math.radians(checkedNumber(rotationDegrees, "Rotation", "degrees about the axis"))
        cross = np.array([[0, -unit[2], unit[1]], [unit[2], 0, -unit[0]], [-unit[1], unit[0], 0]])
        rotation = np.eye(3) + math.sin(angle) * cross + (1 - math.cos(angle)) * cross @ cross  # Rodrigues
    centre = np.array([checkedNumber(value, "Rotation centre", "RAS mm") for value in centreRAS])
    shift = np.array([checkedNumber(value, "Translation", "mm") for value in translationMm])
    matrix = np.eye(4)
    matrix[:3, :3] = rotation
    matrix[:3, 3] = centre - rotation @ centre + shift
    return matrix


def rotationAngleDegrees(matrix):
    """Rotation angle (degrees) of the linear part of a 4x4 matrix (its nearest rotation)."""
    u, _, vt = np.linalg.svd(np.asarray(matrix, dtype=float)[:3, :3])
    rotation = u @ vt
    return math.degrees(math.acos(max(-1.0, min(1.0, (np.trace(rotation) - 1.0) / 2.0))))


# --- Resampling onto a grid ---------------------------------------------------------------------------


def resampleArray(array, ijkToRAS, referenceShape, referenceIjkToRAS, interpolation="linear", defaultValue=0.0, referenceToSource=None):
    """Values of ``array`` ([k, j, i] on ``ijkToRAS``) at the voxel centres of the grid of
    ``referenceShape`` ([k, j, i]) and ``referenceIjkToRAS``, matched in physical (RAS) space,
    never by index. ``referenceToSource``: optional 4x4 RAS matrix from the reference's
    coordinates to the array's (any affine; identity when both share one frame).
    ``interpolation``: 'linear' or 'nearest'; outside ``array``: ``defaultValue``.
    Returns float32 [k, j, i]."""
    import SimpleITK as sitk
    interpolators = {"linear": sitk.sitkLinear, "nearest": sitk.sitkNearestNeighbor}
    if interpolation not in interpolators:
        raise ValueError(f"Interpolation {interpolation!r} is unknown: expected one of {', '.join(interpolators)}")
    sourceIjkToRAS = checkedMatrix(ijkToRAS, "Source IJK-to-RAS matrix")
    reference = checkedMatrix(referenceIjkToRAS, "Reference IJK-to-RAS matrix")
    spacing, direction = spacingAndDirection(reference, "Reference grid")
    shape = tuple(int(value) for value in referenceShape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"Reference shape {referenceShape!r}: expected three positive sizes [k, j, i]")
    referenceToSource = np.eye(4) if referenceToSource is None else checkedMatrix(referenceToSource, "Reference-to-source matrix")
    # The same grid in the same frame: the values as they are (resampling would add round-off).
    referenceIndexToSourceIndex = np.linalg.inv(sourceIjkToRAS) @ referenceToSource @ reference
    if tuple(np.asarray(array).shape) == shape and np.allclose(referenceIndexToSourceIndex, np.eye(4), atol=1e-6):
        return np.array(array, dtype=np.float32)
    source = sitkImageFromArray(np.asarray(array, dtype=np.float32), sourceIjkToRAS)
    resampled = sitk.Resample(
        source,
        [shape[2], shape[1], shape[0]],
        sitkTransformFromRasMatrix(referenceToSource),
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
