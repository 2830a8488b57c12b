"""The ALPPS Volumetry panel clicked through as a radiologist would, on the synthetic patient, with
Slicer 5.8's and 5.12's binding behaviour: inputs, body size, volumes, a corrected segment role,
the plan shown in 3D, segments from landmarks, a virtual transection, the parenchyma-sparing
analysis; leaving and re-entering keeps everything; the scene saved and reloaded with the panel
open. Results are checked against the phantom's truth counted with numpy."""

import math

import numpy as np
import pytest

pytest.importorskip("PySide6.QtWidgets", reason="PySide6 is not installed: the panel harness needs it")

import slicer  # noqa: E402
from ALPPSVolumetryLib.criteria import bodySize
from ALPPSVolumetryLib.segments import segmentRecognition
from ALPPSVolumetryLib import selfTestScenarios, syntheticPatient, syntheticPatientScene  # noqa: E402
from ALPPSVolumetryLib.segments.segmentationImport import importMaskArrays  # noqa: E402
from panelSettings import boundWidgets, shownValue, tableColumn  # noqa: E402
from slicerPanelHarness import SlicerSession  # noqa: E402

MODULE = "ALPPSVolumetry"
COUINAUD_VALUES = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8}


@pytest.fixture(params=("5.8", "5.12"))
def binding(request):
    return request.param


_column = tableColumn


def _rowsByFirstColumn(tableNode, valueColumn):
    first = tableNode.GetTable().GetColumnName(0)
    return dict(zip(_column(tableNode, first), _column(tableNode, valueColumn)))


def test_volumetryPanelOnTheSyntheticPatient(tmp_path, binding):
    timePoint = syntheticPatient.makeTimePoint("pre-stage 1", -3, 1.0, spacing=selfTestScenarios.SCENARIO_SPACING)
    voxelMl = timePoint.voxelVolumeMl
    labels = timePoint.couinaudLabels
    with SlicerSession(tmp_path, binding) as session:
        session.startSlicer()
        volumeNode, segmentationNode = syntheticPatientScene.addTimePointNodes(slicer.mrmlScene, timePoint, "Patient")
        widget = session.enter(MODULE)
        ui = widget.ui
        # The panel picks the scan and its segmentation on entry.
        assert ui.sourceVolumeSelector.currentNode() is volumeNode
        assert ui.segmentationSelector.currentNode() is segmentationNode
        assert ui.computeVolumesButton.enabled and ui.openSegmentEditorButton.enabled
        assert not ui.showPlanButton.enabled and not ui.transectionButton.enabled and not ui.segmentsFromLandmarksButton.enabled

        # Body size and formula.
        ui.heightSpinBox.value = syntheticPatient.PATIENT_HEIGHT_CM
        ui.weightSpinBox.value = syntheticPatient.PATIENT_WEIGHT_KG
        ui.bsaFormulaComboBox.currentIndex = ui.bsaFormulaComboBox.findText("dubois")
        ui.planLeftLateralSectionectomyCheckBox.checked = True
        ui.customPlanLineEdit.text = "left_with_I=I,II,III,IV"
        parameterNode = widget.logic.getParameterNode()
        assert (parameterNode.body.heightCm, parameterNode.body.bsaFormula, parameterNode.planLeftLateralSectionectomy) == (
            syntheticPatient.PATIENT_HEIGHT_CM, "dubois", True)

        # The role table lists every segment with its recognised role.
        table = ui.segmentRolesTableWidget
        names = [table.item(row, 0).text() for row in range(table.rowCount)]
        assert len(names) == segmentationNode.GetSegmentation().GetNumberOfSegments()
        assert all(table.item(row, 2).text() for row in range(table.rowCount))

        ui.computeVolumesButton.click()
        assert session.takeErrors() == []
        couinaud = _rowsByFirstColumn(parameterNode.couinaudTable, "Volume")
        for segmentId, value in COUINAUD_VALUES.items():
            assert math.isclose(couinaud[segmentId], np.count_nonzero(labels == value) * voxelMl, rel_tol=1e-9), segmentId
        assert ui.couinaudTableView.mrmlTableNode() is parameterNode.couinaudTable
        assert ui.planTableView.mrmlTableNode() is parameterNode.planTable
        plans = [ui.planToShowComboBox.itemText(i) for i in range(ui.planToShowComboBox.count)]
        assert plans[:3] == ["right_hepatectomy", "right_trisectionectomy", "left_lateral_sectionectomy"] and len(plans) == 4
        remnants = _column(parameterNode.planTable, "Remnant segments")
        leftLateral = remnants.index("I, IV, V, VI, VII, VIII")
        remnantOfLeftLateral = np.count_nonzero(np.isin(labels, [1, 4, 5, 6, 7, 8])) * voxelMl
        assert math.isclose(_column(parameterNode.planTable, "FLR")[leftLateral], remnantOfLeftLateral, rel_tol=1e-9)
        bsa = bodySize.bodySurfaceArea(syntheticPatient.PATIENT_HEIGHT_CM, syntheticPatient.PATIENT_WEIGHT_KG, "dubois")
        tumour = np.zeros(labels.shape, dtype=bool)
        for name, _, _ in syntheticPatient.TUMOURS:
            tumour |= timePoint.structures[name]
        tumourFree = np.count_nonzero(np.isin(labels, [1, 4, 5, 6, 7, 8]) & ~tumour) * voxelMl
        assert math.isclose(_column(parameterNode.planTable, "FLR/BSA")[leftLateral], tumourFree / bsa, rel_tol=1e-9)

        # A segment role corrected in the table is used by the next computation.
        row = next(r for r in range(table.rowCount) if table.item(r, 1).text() == "II")
        table.item(row, 2).setText("III")
        assert session.takeErrors() == []
        segments = segmentationNode.GetSegmentation()
        corrected = segments.GetSegment(segments.GetSegmentIdBySegmentName(table.item(row, 0).text()))
        assert segmentRecognition.correctedRole(corrected) == "III"  # on the segment: saved with the scene
        table.item(row, 2).setText("segment nine")
        assert any("Unknown segment role" in error for error in session.takeErrors())
        table.item(row, 2).setText("II")  # back to the recognised role: the correction is removed
        assert session.takeErrors() == [] and segmentRecognition.correctedRole(corrected) is None

        # Show a plan in 3D.
        ui.planToShowComboBox.currentIndex = 0
        assert parameterNode.planToShow == "right_hepatectomy" and ui.showPlanButton.enabled
        before = slicer.mrmlScene.GetNumberOfNodesByClass("vtkMRMLSegmentationNode")
        ui.showPlanButton.click()
        assert session.takeErrors() == []
        assert slicer.mrmlScene.GetNumberOfNodesByClass("vtkMRMLSegmentationNode") == before + 1
        assert not segmentationNode.GetDisplayNode().GetVisibility()

        # Parenchyma-sparing analysis.
        ui.sparingMarginComboBox.currentIndex = ui.sparingMarginComboBox.findText("10.0")
        ui.sparingButton.click()
        assert session.takeErrors() == []
        tumours = _column(parameterNode.tumourTable, parameterNode.tumourTable.GetTable().GetColumnName(0))
        assert tumours == [name for name, _, _ in syntheticPatient.TUMOURS]
        assert ui.tumourTableView.mrmlTableNode() is parameterNode.tumourTable
        assert ui.sparingPlanTableView.mrmlTableNode() is parameterNode.sparingPlanTable

        # Leave and come back: every setting and table is still there.
        shown = {name: shownValue(w) for name, w in boundWidgets(ui).items()}
        session.enter("ALPPSAssessment")
        session.enter(MODULE)
        assert {name: shownValue(w) for name, w in boundWidgets(ui).items()} == shown
        assert ui.couinaudTableView.mrmlTableNode() is parameterNode.couinaudTable

        # Saved and reloaded with the panel open: the panel shows the reloaded values.
        bundle = str(tmp_path / "volumetry.mrb")
        session.context.saveSceneBundle(bundle)
        session.context.loadSceneBundle(bundle)
        reloaded = widget.logic.getParameterNode()
        assert reloaded.body.heightCm == syntheticPatient.PATIENT_HEIGHT_CM and reloaded.body.bsaFormula == "dubois"
        assert ui.heightSpinBox.value == syntheticPatient.PATIENT_HEIGHT_CM
        assert ui.bsaFormulaComboBox.currentText == "dubois"
        assert ui.segmentationSelector.currentNode() is reloaded.segmentation
        assert reloaded.segmentation.GetName() == segmentationNode.GetName()
        assert session.takeErrors() == []


def test_landmarksAndTransectionFromThePanel(tmp_path, binding):
    timePoint = syntheticPatient.makeTimePoint("pre-stage 1", -3, 1.0, spacing=selfTestScenarios.SCENARIO_SPACING)
    with SlicerSession(tmp_path, binding) as session:
        session.startSlicer()
        scene = slicer.mrmlScene
        volumeNode = syntheticPatientScene.addVolumeFromArray(scene, "Patient CT", timePoint.ct, timePoint.ijkToRAS) \
            if hasattr(syntheticPatientScene, "addVolumeFromArray") else None
        segmentationNode = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Patient whole liver")
        importMaskArrays(segmentationNode, {"Liver": timePoint.couinaudLabels > 0}, timePoint.ijkToRAS)
        widget = session.enter(MODULE)
        ui = widget.ui
        parameterNode = widget.logic.getParameterNode()
        assert ui.segmentationSelector.currentNode() is segmentationNode
        if volumeNode is not None:
            assert ui.sourceVolumeSelector.currentNode() is volumeNode

        landmarks = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "Landmarks")
        for label, point in syntheticPatient.anatomicalLandmarks().items():
            landmarks.AddControlPoint(point[0], point[1], point[2], label)
        ui.landmarksSelector.setCurrentNode(landmarks)
        assert parameterNode.landmarks is landmarks and ui.segmentsFromLandmarksButton.enabled
        ui.segmentsFromLandmarksButton.click()
        assert session.takeErrors() == []
        segmentation = segmentationNode.GetSegmentation()
        assert segmentation.GetNumberOfSegments() >= 9
        assert ui.segmentRolesTableWidget.rowCount == segmentation.GetNumberOfSegments()

        plane = scene.AddNewNodeByClass("vtkMRMLMarkupsPlaneNode", "Cut")
        plane.SetOrigin(20.0, 0.0, 0.0)
        plane.SetNormal(1.0, 0.0, 0.0)
        keep = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "Remnant point")
        keep.AddControlPoint(-40.0, 10.0, 30.0)
        ui.transectionSelector.setCurrentNode(plane)
        ui.remnantPointSelector.setCurrentNode(keep)
        assert parameterNode.transection is plane and parameterNode.remnantPoint is keep
        assert ui.transectionButton.enabled
        ui.transectionButton.click()
        assert session.takeErrors() == []
        shape = timePoint.couinaudLabels.shape
        x = timePoint.ijkToRAS[0, 0] * np.arange(shape[2]) + timePoint.ijkToRAS[0, 3]
        kept = np.count_nonzero((timePoint.couinaudLabels > 0) & (x <= 20.0)[None, None, :]) * timePoint.voxelVolumeMl
        assert math.isclose(_column(parameterNode.transectionTable, "FLR")[0], kept, rel_tol=1e-9)
        assert ui.transectionTableView.mrmlTableNode() is parameterNode.transectionTable

        # A node removed from the scene leaves the selector and the button state follows.
        scene.RemoveNode(keep)
        assert ui.remnantPointSelector.currentNode() is None and parameterNode.remnantPoint is None
        assert not ui.transectionButton.enabled
        assert session.takeErrors() == []
