"""Markups node classes for the parameter nodes, independent of the order Slicer creates modules in.

Slicer creates modules in alphabetical order and runs a scripted module's file at that moment; the
Markups module adds its MRML classes to the `slicer` namespace only when it is created, after every
"ALPPS..." module. Its Python package is on the path from the start, so the classes are taken from
there (they are the same classes `slicer` gets later). The slicer-core wheel (headless) has no such
package and has every class in `slicer` already.
"""

try:
    from vtkSlicerMarkupsModuleMRMLPython import vtkMRMLMarkupsFiducialNode, vtkMRMLMarkupsPlaneNode
except ImportError:
    from slicer import vtkMRMLMarkupsFiducialNode, vtkMRMLMarkupsPlaneNode

__all__ = ["vtkMRMLMarkupsFiducialNode", "vtkMRMLMarkupsPlaneNode"]
