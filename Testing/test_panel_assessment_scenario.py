"""The ALPPS Assessment panel clicked through as a liver team would, on the synthetic patient, with
Slicer 5.8's and 5.12's binding behaviour: time points with laboratory values stored from the
editor (one loaded from the DICOM database), growth and readiness updated, the simulated SPECT
registered and overlaid, mebrofenin and gadoxetate measured and stored with the time point, the
patient report written; leaving and re-entering keeps everything; scene saved and reloaded with
the panel open. Volumes are checked against the phantom's truth, MUR against the simulation."""

import datetime
import math
import os

import numpy as np
import pytest

pytest.importorskip("PySide6.QtWidgets", reason="PySide6 is not installed: the panel harness needs it")

import slicer  # noqa: E402
from ALPPSAssessmentLib.functional import functionalSimulator
from ALPPSAssessmentLib import selfTestScenarios
from ALPPSAssessmentLib.course import timeline  # noqa: E402
from ALPPSVolumetryLib.segments import couinaud, segmentationImport
from ALPPSVolumetryLib import syntheticPatient, syntheticPatientScene  # noqa: E402
from panelSettings import boundWidgets, shownValue, tableColumn  # noqa: E402
from slicerPanelHarness import SlicerSession  # noqa: E402

MODULE = "ALPPSAssessment"
SPACING = (4.0, 4.0, 4.0)


@pytest.fixture(params=("5.8", "5.12"))
def binding(request):
    return request.param


_column = tableColumn


def _select(combo, text):
    index = combo.findText(text)
    assert index >= 0, f"'{text}' is not offered by {combo.objectName}"
    combo.currentIndex = index


def _storeFromEditor(ui, segmentationNode, volumeNode, point):
    ui.timePointSegmentationSelector.setCurrentNode(segmentationNode)
    ui.timePointVolumeSelector.setCurrentNode(volumeNode)
    _select(ui.timePointRoleComboBox, point.role)
    ui.timePointDateLineEdit.text = point.studyDate.isoformat()
    labs = syntheticPatient.LABS[point.role]
    ui.bilirubinSpinBox.value = labs["bilirubin"][0]
    _select(ui.bilirubinUnitComboBox, labs["bilirubin"][1])
    ui.creatinineSpinBox.value = labs["creatinine"][0]
    _select(ui.creatinineUnitComboBox, labs["creatinine"][1])
    ui.albuminSpinBox.value = labs["albumin"][0]
    _select(ui.albuminUnitComboBox, labs["albumin"][1])
    ui.inrSpinBox.value = labs["inr"][0]
    ui.storeTimePointButton.click()


def test_assessmentPanelFollowsTheSyntheticPatient(tmp_path, binding):
    from test_patient_report import _writeDicomSeries

    patient = syntheticPatient.makeSyntheticPatient(spacing=SPACING)
    first, interstage, last = patient.timePoints
    with SlicerSession(tmp_path, binding) as session:
        session.startSlicer()
        scene = slicer.mrmlScene
        widget = session.enter(MODULE)
        ui = widget.ui
        parameterNode = widget.logic.getParameterNode()

        # The DICOM database is not open yet: the panel says so.
        ui.refreshDicomButton.click()
        assert "not open" in ui.dicomStatusLabel.text

        # The first scan comes from the DICOM database.
        identity = syntheticPatientScene.syntheticIdentity(patient, first, 0)
        folder = str(tmp_path / "dicom")
        _writeDicomSeries(folder, first, identity)
        session.openDicomDatabase([os.path.join(folder, name) for name in os.listdir(folder)])
        ui.refreshDicomButton.click()
        assert ui.dicomPatientComboBox.count == 1 and identity.patientId in ui.dicomPatientComboBox.currentText
        studies = ui.dicomStudiesTableWidget
        assert studies.rowCount == 1 and studies.item(0, 0).text() == first.studyDate.isoformat()
        studies.setCurrentCell(0, 0)
        ui.loadStudyButton.click()
        assert session.takeErrors() == []  # the loader's removed node is skipped
        loadedVolume = parameterNode.timePointVolume
        assert loadedVolume is not None and loadedVolume.GetScene() is scene
        assert parameterNode.timePointDate == first.studyDate.isoformat()
        assert parameterNode.timePointSegmentation.GetName().endswith("segments")

        # Segmentations of the three scans (as drawn in the Segment Editor), stored from the editor.
        nodes = [syntheticPatientScene.addTimePointNodes(scene, point, "Patient") for point in patient.timePoints]
        for (volumeNode, segmentationNode), point in zip(nodes, patient.timePoints):
            _storeFromEditor(ui, segmentationNode, volumeNode, point)
        assert session.takeErrors() == []
        stored = timeline.timePointsInScene(scene)
        assert [(p.role, p.studyDate) for p in stored] == [(p.role, p.studyDate) for p in patient.timePoints]
        assert stored[1].labs["bilirubin"] == [22.0, "umol/L"] and stored[1].labs["albumin"] == [33.0, "g/L"]

        # Selecting a stored scan shows what was stored on it.
        ui.timePointSegmentationSelector.setCurrentNode(nodes[0][1])
        assert ui.timePointRoleComboBox.currentText == "pre-stage 1"
        assert ui.timePointDateLineEdit.text == first.studyDate.isoformat()
        assert ui.bilirubinSpinBox.value == 9.0 and ui.albuminSpinBox.value == 41.0
        assert session.takeErrors() == []
        # Edited and stored again: the correction replaces the stored value, the rest is kept.
        ui.bilirubinSpinBox.value = 12.0
        ui.storeTimePointButton.click()
        assert session.takeErrors() == []
        edited = timeline.timePointOfNode(nodes[0][1])
        assert edited.labs["bilirubin"] == [12.0, "umol/L"] and edited.labs["albumin"] == [41.0, "g/L"]
        assert (edited.role, edited.studyDate) == ("pre-stage 1", first.studyDate)

        # Patient data, then growth and readiness.
        ui.stage1DateLineEdit.text = patient.stage1Date.isoformat()
        ui.heightSpinBox.value = patient.heightCm
        ui.weightSpinBox.value = patient.weightKg
        _select(ui.planComboBox, "right_trisectionectomy")
        ui.updateAssessmentButton.click()
        assert session.takeErrors() == []
        flr = _column(parameterNode.timePointTable, "Tumour-free FLR")
        truth = [sum(p.trueVolumesMl[s] for s in ("I", "II", "III")) for p in patient.timePoints]
        assert all(math.isclose(a, b, rel_tol=1e-9) for a, b in zip(flr, truth))
        assert ui.timePointTableView.mrmlTableNode() is parameterNode.timePointTable
        assert ui.growthTableView.mrmlTableNode() is parameterNode.growthTable
        assert ui.readinessTableView.mrmlTableNode() is parameterNode.readinessTable
        assert parameterNode.growthChart is not None and parameterNode.readinessTable.GetNumberOfRows() >= 5
        # The summary at the top says what page 1 of the report says, counted from the checklist.
        states = _column(parameterNode.readinessTable, "State")
        summary = ui.decisionSummaryLabel.text.split("\n")
        assert summary[0].startswith(f"Stage 2 readiness: {states.count('met')} of {len(states)} criteria met")
        assert "FLR (tumour-free)" in summary[1] and "sFLR" in summary[1] and "KGR" in summary[1]

        # Remove and store again a time point.
        ui.timePointSegmentationSelector.setCurrentNode(nodes[2][1])
        ui.removeTimePointButton.click()
        assert len(timeline.timePointsInScene(scene)) == 2
        _storeFromEditor(ui, nodes[2][1], nodes[2][0], last)
        assert len(timeline.timePointsInScene(scene)) == 3 and session.takeErrors() == []

        # Functional imaging of the interstage scan: SPECT registered and overlaid.
        ctNode, segmentationNode = nodes[1]
        ui.timePointSegmentationSelector.setCurrentNode(segmentationNode)
        assert parameterNode.timePointVolume is ctNode
        volumes = {segmentId: interstage.trueVolumesMl[segmentId] for segmentId in couinaud.SEGMENT_IDS}
        shares = functionalSimulator.segmentSharesFromRelativeFunction(functionalSimulator.INTERSTAGE_RELATIVE_FUNCTION_PER_ML, volumes)
        spect = functionalSimulator.simulateSpect(interstage.couinaudLabels, interstage.ijkToRAS, shares, seed=3)
        spectNode = segmentationImport.addVolumeFromArray(scene, "SPECT", spect.counts.astype(np.float32), spect.ijkToRAS)
        ui.functionalVolumeSelector.setCurrentNode(spectNode)
        _select(ui.registrationModeComboBox, "rigid")
        ui.registerButton.click()
        assert session.takeErrors() == []
        assert "Dice" in ui.registrationStatusLabel.text
        transform = parameterNode.registrationTransform
        assert transform is not None and spectNode.GetParentTransformNode() is transform
        assert ui.translationSliders.mrmlTransformNode() is transform
        ui.openTransformsButton.click()
        assert session.selectedModules[-1] == "Transforms" and session.transformsPanel.editedNode is transform
        ui.showOverlayButton.click()
        assert session.takeErrors() == [] and parameterNode.overlayMap is not None and ui.overlayStatusLabel.text

        # Mebrofenin from the dynamic series and the SPECT, stored with the time point.
        study = functionalSimulator.simulateDynamicStudy(0.12, seed=11, makeFrames=True)
        frameIjkToRAS = np.array([[-4.8, 0.0, 0.0, 150.0], [0.0, 0.0, 5.0, 40.0], [0.0, -4.8, 0.0, 160.0], [0.0, 0.0, 0.0, 1.0]])
        sequence, regions = selfTestScenarios._frameSequence(scene, study, frameIjkToRAS)
        ui.dynamicSeriesSelector.setCurrentNode(sequence)
        ui.dynamicRegionsSelector.setCurrentNode(regions)
        ui.liverRegionSegmentLineEdit.text = "Liver"
        ui.bloodPoolRegionSegmentLineEdit.text = "Heart"
        ui.spectVolumeSelector.setCurrentNode(spectNode)
        ui.measureMebrofeninButton.click()
        assert session.takeErrors() == []
        assert ui.mebrofeninTableView.mrmlTableNode() is parameterNode.mebrofeninTable
        assert "MUR" in ui.mebrofeninStatusLabel.text
        ui.storeMebrofeninButton.click()
        assert session.takeErrors() == [] and "interstage" in ui.mebrofeninStatusLabel.text
        measured = timeline.timePointOfNode(segmentationNode).remnantFunction["flrFunctionPercentPerMin"]
        assert measured > 0

        # Gadoxetate MRI.
        pre, hbp, ijkToRAS = functionalSimulator.simulateGadoxetateMri(interstage, functionalSimulator.INTERSTAGE_RELATIVE_FUNCTION_PER_ML, seed=2)
        preNode = segmentationImport.addVolumeFromArray(scene, "MRI pre", pre, ijkToRAS)
        hbpNode = segmentationImport.addVolumeFromArray(scene, "MRI HBP", hbp, ijkToRAS)
        ui.hbpVolumeSelector.setCurrentNode(hbpNode)
        ui.preContrastVolumeSelector.setCurrentNode(preNode)
        ui.measureGadoxetateButton.click()
        assert session.takeErrors() == []
        assert ui.gadoxetateTableView.mrmlTableNode() is parameterNode.gadoxetateTable
        ui.storeGadoxetateButton.click()
        assert session.takeErrors() == []
        assert "gadoxetateFunctionalSharePercent" in timeline.timePointOfNode(segmentationNode).remnantFunction

        # Patient report, and the DICOM SEG export that needs Slicer's exporter.
        ui.reportFolderPathLineEdit.currentPath = str(tmp_path / "report")
        os.makedirs(tmp_path / "report", exist_ok=True)
        ui.reportPdfCheckBox.checked = True
        ui.createReportButton.click()
        assert session.takeErrors() == []
        html = session.openedUrls[-1]
        assert html.endswith(".html") and os.path.isfile(html) and os.path.isfile(os.path.splitext(html)[0] + ".pdf")
        assert "Report written to" in ui.reportStatusLabel.text
        assert "printed as in a browser (Qt WebEngine)" in ui.reportStatusLabel.text
        # A web widget that cannot load the page still leaves the user a PDF, from Qt's text printer.
        slicer.qSlicerWebWidget.behaviour = "fails to load"
        try:
            ui.createReportButton.click()
        finally:
            slicer.qSlicerWebWidget.behaviour = "prints"
        assert session.takeErrors() == []
        assert "printed by Qt's text document printer" in ui.reportStatusLabel.text
        ui.exportDicomSegButton.click()
        assert any("DICOM SEG" in error for error in session.takeErrors())

        # Leave and come back: every setting still shown.
        shown = {name: shownValue(w) for name, w in boundWidgets(ui).items()}
        session.enter("ALPPSVolumetry")
        session.enter(MODULE)
        assert {name: shownValue(w) for name, w in boundWidgets(ui).items()} == shown

        # Saved and reloaded with the panel open.
        bundle = str(tmp_path / "assessment.mrb")
        session.context.saveSceneBundle(bundle)
        session.context.loadSceneBundle(bundle)
        reloaded = widget.logic.getParameterNode()
        assert reloaded.stage1Date == patient.stage1Date.isoformat() and reloaded.plan == "right_trisectionectomy"
        assert ui.stage1DateLineEdit.text == patient.stage1Date.isoformat()
        assert ui.planComboBox.currentText == "right_trisectionectomy"
        assert [p.role for p in timeline.timePointsInScene(slicer.mrmlScene)] == [p.role for p in patient.timePoints]
        ui.updateAssessmentButton.click()
        assert session.takeErrors() == []
        assert datetime.date.fromisoformat(reloaded.stage1Date) == patient.stage1Date
