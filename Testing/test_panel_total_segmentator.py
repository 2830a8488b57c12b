"""The TotalSegmentator button (issue 19, item 4): the task follows the scan's modality (CT:
liver_segments, MR: liver_segments_mr) or is asked; an installation that needs a restart is offered
one, as TotalSegmentator's own panel does; other failures are shown. TotalSegmentator itself is a
stand-in recording what it was asked to do (its InstallError has the same restartRequired flag)."""

import pytest

pytest.importorskip("PySide6.QtWidgets", reason="PySide6 is not installed: the panel harness needs it")

import slicer  # noqa: E402
from ALPPSVolumetryLib import selfTestScenarios, syntheticPatient, syntheticPatientScene, totalSegmentatorRun  # noqa: E402
from ALPPSVolumetryLib.segments.segmentationImport import importLabelArray  # noqa: E402
from slicerPanelHarness import SlicerSession  # noqa: E402


class InstallError(Exception):
    def __init__(self, message, restartRequired=False):
        super().__init__(message)
        self.restartRequired = restartRequired


class TotalSegmentatorStandIn:
    def __init__(self, timePoint, installError=None):
        self.timePoint, self.installError, self.tasks = timePoint, installError, []

    def setupPythonRequirements(self):
        if self.installError:
            raise self.installError

    def process(self, volumeNode, segmentationNode, task=None):
        self.tasks.append(task)
        names = {value: f"liver_segment_{value}" for value in range(1, 9)}
        importLabelArray(segmentationNode, self.timePoint.couinaudLabels, self.timePoint.ijkToRAS, names, {})


def _panel(session, modality, installError=None):
    session.modules.totalsegmentator = object()
    session.startSlicer()
    timePoint = syntheticPatient.makeTimePoint("pre-stage 1", -3, 1.0, spacing=selfTestScenarios.SCENARIO_SPACING)
    volumeNode, _ = syntheticPatientScene.addTimePointNodes(slicer.mrmlScene, timePoint, "Patient")
    if modality:
        # Slicer's DICOM loading files the series under its study with the modality on the item.
        shNode = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(slicer.mrmlScene)
        item = shNode.GetItemByDataNode(volumeNode) or shNode.CreateItem(shNode.GetSceneItemID(), volumeNode)
        shNode.SetItemAttribute(item, "DICOM.Modality", modality)
    session.totalSegmentatorLogic = TotalSegmentatorStandIn(timePoint, installError)
    session.enter("ALPPSVolumetry")
    ui = session.ui("ALPPSVolumetry")
    ui.sourceVolumeSelector.setCurrentNode(volumeNode)
    assert not ui.totalSegmentatorButton.isHidden() and ui.totalSegmentatorButton.enabled
    return ui


@pytest.fixture(params=("5.8", "5.12"))
def binding(request):
    return request.param


def _segmentationCount():
    return slicer.mrmlScene.GetNumberOfNodesByClass("vtkMRMLSegmentationNode")


@pytest.mark.parametrize(("modality", "task"), [("CT", "liver_segments"), ("MR", "liver_segments_mr"), ("mr ", "liver_segments_mr")])
def test_taskFollowsTheScanModality(binding, tmp_path, modality, task):
    with SlicerSession(tmp_path, binding) as session:
        ui = _panel(session, modality)
        ui.totalSegmentatorButton.click()
        assert session.takeErrors() == []
        assert session.totalSegmentatorLogic.tasks == [task]
        made = session.widget("ALPPSVolumetry").logic.getParameterNode().segmentation
        assert made.GetName().endswith("liver segments") and made.GetSegmentation().GetNumberOfSegments() == 8


@pytest.mark.parametrize(("answer", "tasks"), [("MR", ["liver_segments_mr"]), ("CT", ["liver_segments"]), ("Cancel", [])])
def test_unknownModalityIsAsked(binding, tmp_path, answer, tasks):
    with SlicerSession(tmp_path, binding, answers={"CT or an MR": answer}) as session:
        ui = _panel(session, "")
        before = _segmentationCount()
        ui.totalSegmentatorButton.click()
        assert session.takeErrors() == []
        assert session.totalSegmentatorLogic.tasks == tasks
        assert _segmentationCount() == before + len(tasks)


@pytest.mark.parametrize("restart", [True, False])
def test_installationNeedingARestartOffersIt(binding, tmp_path, restart):
    error = InstallError("PyTorch was updated", restartRequired=True)
    with SlicerSession(tmp_path, binding, answers={"restart": restart}) as session:
        ui = _panel(session, "CT", error)
        before = _segmentationCount()
        ui.totalSegmentatorButton.click()
        assert session.takeErrors() == []  # a question, not an error
        assert session.restartRequested is restart
        assert session.totalSegmentatorLogic.tasks == [] and _segmentationCount() == before


def test_otherInstallationFailuresAreShown(binding, tmp_path):
    with SlicerSession(tmp_path, binding) as session:
        ui = _panel(session, "CT", InstallError("This module requires PyTorch extension."))
        ui.totalSegmentatorButton.click()
        errors = session.takeErrors()
        assert any("TotalSegmentator failed" in e and "requires PyTorch" in e for e in errors)
        assert session.restartRequested is False


def test_taskDecisionsHeadless():
    assert totalSegmentatorRun.taskForModality("CT") == "liver_segments"
    assert totalSegmentatorRun.taskForModality("MR") == "liver_segments_mr"
    assert totalSegmentatorRun.taskForModality("PT") is None and totalSegmentatorRun.taskForModality("") is None
    assert totalSegmentatorRun.restartRequired(InstallError("x", True)) is True
    assert totalSegmentatorRun.restartRequired(ValueError("x")) is False


def test_tooltipNamesBothTasks():
    import os

    from moduleStaticChecks import uiWidgets

    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "ALPPSVolumetry", "Resources", "UI", "ALPPSVolumetry.ui")
    tip = uiWidgets(path)["totalSegmentatorButton"][1]["toolTip"]
    assert "liver_segments for CT" in tip and "liver_segments_mr for MR" in tip


def test_missingSegmentsAreNamedAfterTheRun(binding, tmp_path):
    """The MR model can return empty segments too: the check after the run names them."""

    class EmptySegmentTotalSegmentator(TotalSegmentatorStandIn):
        def process(self, volumeNode, segmentationNode, task=None):
            super().process(volumeNode, segmentationNode, task)
            segmentation = segmentationNode.GetSegmentation()
            segmentation.RemoveSegment(segmentation.GetSegmentIdBySegmentName("liver_segment_3"))

    with SlicerSession(tmp_path, binding) as session:
        ui = _panel(session, "MR")
        session.totalSegmentatorLogic.__class__ = EmptySegmentTotalSegmentator
        ui.totalSegmentatorButton.click()
        errors = session.takeErrors()
        assert any("liver segment output" in e and "missing segment(s) III" in e for e in errors), errors
        assert session.totalSegmentatorLogic.tasks == ["liver_segments_mr"]
