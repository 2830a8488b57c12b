"""Matrices between VTK and numpy, and where nodes and images sit in world (RAS) space."""

import numpy as np
from vtkmodules.vtkCommonMath import vtkMatrix4x4


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
