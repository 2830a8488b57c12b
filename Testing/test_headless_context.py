import os

import numpy as np
import pytest
import slicer
import vtk

from alpps.headless import SlicerContext, VTKErrorCollector


def test_contextRegistersTheModuleLogicsSlicerHas(slicerContext):
    for name in ("Segmentations", "Volumes", "Tables", "Markups", "Plots", "Sequences", "SubjectHierarchy"):
        assert slicerContext.applicationLogic.GetModuleLogic(name) is slicerContext.moduleLogic(name)
    assert slicer.mrmlScene is slicerContext.scene
    with pytest.raises(KeyError, match="no 'Nonexistent' module logic"):
        slicerContext.moduleLogic("Nonexistent")


def test_closedSurfaceConvertsToBinaryLabelmap(slicerContext):
    """Conversion rules exist only once the Segmentations logic is registered, as in Slicer."""
    from ALPPSVolumetryLib.segments.segmentVolumes import segmentVolumes

    sphere = vtk.vtkSphereSource()
    sphere.SetRadius(20.0)
    sphere.SetThetaResolution(64)
    sphere.SetPhiResolution(64)
    sphere.Update()
    segmentationNode = slicerContext.scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Surface sphere")
    segmentationNode.GetSegmentation().SetSourceRepresentationName("Closed surface")
    segmentationNode.AddSegmentFromClosedSurfaceRepresentation(sphere.GetOutput(), "Sphere")
    (volume,) = segmentVolumes(segmentationNode)
    analyticMl = 4.0 / 3.0 * np.pi * 20.0**3 / 1000.0
    assert volume.voxelCount > 0
    assert volume.volumeMl == pytest.approx(analyticMl, rel=0.05)


def test_vtkErrorsAreCollected(slicerContext, tmp_path):
    missing = str(tmp_path / "missing.nrrd")
    with VTKErrorCollector() as errors:
        storageNode = slicerContext.scene.AddNewNodeByClass("vtkMRMLVolumeArchetypeStorageNode")
        storageNode.SetFileName(missing)
        assert not storageNode.ReadData(slicerContext.scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode"))
    assert any("missing.nrrd" in message for message in errors.messages)


def test_sceneBundleReopensInANewContext(slicerContext, tmp_path):
    tableNode = slicerContext.scene.AddNewNodeByClass("vtkMRMLTableNode", "Kept table")
    column = vtk.vtkDoubleArray()
    column.SetName("Volume")
    column.InsertNextValue(123.5)
    tableNode.AddColumn(column)
    bundle = slicerContext.saveSceneBundle(str(tmp_path / "kept.mrb"))
    with SlicerContext(workDirectory=str(tmp_path / "second")) as second:
        second.loadSceneBundle(bundle)
        reloaded = second.scene.GetFirstNodeByName("Kept table")
        assert reloaded.GetTable().GetColumnByName("Volume").GetValue(0) == 123.5
    with pytest.raises(ValueError, match="must end in .mrb"):
        slicerContext.saveSceneBundle(str(tmp_path / "scene.zip"))
    with pytest.raises(FileNotFoundError, match="nowhere.mrb"):
        slicerContext.loadSceneBundle(os.path.join(str(tmp_path), "nowhere.mrb"))
