"""The panels' less travelled paths through the harness: the Segment Editor hand-over, Reload,
what each button says when something is missing, and the modules' own Slicer self-test classes
(each test_ method runs its scenario on slicer.mrmlScene)."""

import datetime
import os
import types

import pytest

pytest.importorskip("PySide6.QtWidgets", reason="PySide6 is not installed: the panel harness needs it")

import slicer  # noqa: E402
from ALPPSAssessmentLib.course import timeline  # noqa: E402
from ALPPSVolumetryLib.segments import segmentRecognition
from ALPPSVolumetryLib import selfTestScenarios, syntheticPatient, syntheticPatientScene  # noqa: E402
from panelSettings import boundWidgets, changeAsAUserWould, shownValue  # noqa: E402
from slicerPanelHarness import SlicerSession  # noqa: E402


@pytest.fixture(params=("5.8", "5.12"))
def session(request, tmp_path):
    with SlicerSession(tmp_path, request.param) as running:
        running.startSlicer()
        yield running


def _timePoint():
    return syntheticPatient.makeTimePoint("pre-stage 1", -3, 1.0, spacing=selfTestScenarios.SCENARIO_SPACING)


def test_segmentEditorGetsTheSegmentationAndScan(session):
    volumeNode, segmentationNode = syntheticPatientScene.addTimePointNodes(slicer.mrmlScene, _timePoint(), "Patient")
    ui = session.enter("ALPPSVolumetry").ui
    ui.openSegmentEditorButton.click()
    assert session.takeErrors() == []
    assert session.selectedModules == ["SegmentEditor"]
    editor = session.segmentEditorPanel.editor
    assert (editor.segmentationNode, editor.sourceVolumeNode) == (segmentationNode, volumeNode)


@pytest.mark.parametrize("module", ["ALPPSVolumetry", "ALPPSAssessment"])
def test_reloadKeepsSettingsAndReloadsTheLibraries(session, module, tmp_path, monkeypatch):
    widget = session.enter(module)
    changed = {name: changeAsAUserWould(w, tmp_path) for name, w in boundWidgets(widget.ui).items()
               if type(w).__name__ != "qMRMLNodeComboBox"}
    reloaded = []
    # The package reload itself runs in a fresh interpreter (test_library_reload_and_loaded_nodes).
    monkeypatch.setattr(session._modules[module].libraryReload, "reloadPackages", lambda *names: reloaded.extend(names))
    widget.onReload()
    assert reloaded == (["ALPPSVolumetryLib"] if module == "ALPPSVolumetry" else ["ALPPSVolumetryLib", "ALPPSAssessmentLib"])
    newWidget = session.widget(module)
    assert newWidget is not widget
    shown = {name: shownValue(w) for name, w in boundWidgets(newWidget.ui).items() if name in changed}
    assert shown == changed
    assert session.takeErrors() == []


def test_volumetryRefusesWithoutWhatItNeeds(session):
    ui = session.enter("ALPPSVolumetry").ui
    assert not ui.computeVolumesButton.enabled
    assert ui.computeVolumesButton.toolTip == "Select a segmentation first"
    assert ui.segmentRolesTableWidget.rowCount == 0


def test_assessmentSaysWhatIsMissing(session, tmp_path):
    widget = session.enter("ALPPSAssessment")
    ui = widget.ui
    parameterNode = widget.logic.getParameterNode()
    ui.loadStudyButton.click()
    assert any("Select a study with a CT or MR series" in e for e in session.takeErrors())
    ui.openTransformsButton.click()
    assert any("register the functional volume first" in e for e in session.takeErrors())
    ui.exportDicomSegButton.click()
    assert any("Select the time point's segmentation" in e for e in session.takeErrors())
    ui.createReportButton.click()
    assert any("Choose a folder for the report" in e for e in session.takeErrors())
    ui.reportFolderPathLineEdit.currentPath = str(tmp_path)
    ui.reportAnonymiseCheckBox.checked = True
    ui.createReportButton.click()
    errors = session.takeErrors()
    assert errors and all("Failed to create the report" in e for e in errors[:1])
    ui.removeTimePointButton.click()
    assert session.takeErrors() == []

    # A time point stored by the batch tool with a role the editor does not offer is refused, not rewritten.
    volumeNode, segmentationNode = syntheticPatientScene.addTimePointNodes(slicer.mrmlScene, _timePoint(), "Patient")
    timeline.storeTimePoint(timeline.TimePoint("interstage 4", datetime.date(2026, 3, 20), segmentationNode, volumeNode))
    ui.timePointSegmentationSelector.setCurrentNode(segmentationNode)
    errors = session.takeErrors()
    assert any("'interstage 4', which the editor does not offer" in e for e in errors)
    assert timeline.timePointOfNode(segmentationNode).role == "interstage 4"
    assert parameterNode.timePointRole != "interstage 4"


def test_dicomSeriesThatGivesNoVolumeIsReported(session, tmp_path):
    from test_patient_report import _writeDicomSeries

    patient = syntheticPatient.makeSyntheticPatient(spacing=(4.0, 4.0, 4.0), timePoints=syntheticPatient.TIME_POINTS[:1])
    folder = str(tmp_path / "dicom")
    _writeDicomSeries(folder, patient.timePoints[0], syntheticPatientScene.syntheticIdentity(patient, patient.timePoints[0], 0))
    ui = session.enter("ALPPSAssessment").ui
    session.openDicomDatabase([os.path.join(folder, name) for name in os.listdir(folder)])
    ui.refreshDicomButton.click()
    ui.refreshDicomButton.click()  # refilled: the list is cleared first (no patient selected for a moment)
    assert ui.dicomPatientComboBox.count == 1 and ui.dicomStudiesTableWidget.rowCount == 1

    def loaderThatDropsEverything(seriesUIDs):
        node = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "dropped")
        slicer.mrmlScene.RemoveNode(node)
        return [node.GetID()]

    session.loadSeriesByUID = loaderThatDropsEverything
    ui.dicomStudiesTableWidget.setCurrentCell(0, 0)
    ui.loadStudyButton.click()
    assert any("could not be loaded as a volume" in e for e in session.takeErrors())


@pytest.mark.parametrize("module", ["ALPPSVolumetry", "ALPPSAssessment"])
def test_selfTestClassRunsEveryScenarioOnTheScene(session, module, tmp_path):
    """Slicer's self-test class: runTest and each test_ method clear the scene and run their
    scenario on slicer.mrmlScene with a temporary folder (the scenarios themselves run in
    test_scenarios.py; here they are replaced by recorders)."""
    fileModule = session._modules[module]
    real = fileModule.selfTestScenarios
    calls = []

    def recorder(name):
        def scenario(scene, folder):
            assert scene is slicer.mrmlScene and os.path.isdir(folder)
            assert scene.GetNumberOfNodesByClass("vtkMRMLSegmentationNode") == 0  # cleared first
            scene.AddNewNodeByClass("vtkMRMLSegmentationNode")
            calls.append(name)
        scenario.__doc__ = getattr(real, name).__doc__
        scenario.__name__ = name
        return scenario

    recorders = {scenario.__name__: recorder(scenario.__name__) for scenario in real.SCENARIOS}
    fileModule.selfTestScenarios = types.SimpleNamespace(SCENARIOS=tuple(recorders.values()), **recorders)
    try:
        testClass = getattr(fileModule, module + "Test")
        names = sorted(name for name in dir(testClass) if name.startswith("test_"))
        for name in names:
            case = testClass(name)
            case.setUp()
            getattr(case, name)()
        assert sorted(calls) == sorted("".join(name.split("test_", 1)) for name in names)
        calls.clear()
        case = testClass("runTest")
        case.runTest()
        assert calls == list(recorders)
    finally:
        fileModule.selfTestScenarios = real


def test_planToShowMustStillBeSelected(session):
    syntheticPatientScene.addTimePointNodes(slicer.mrmlScene, _timePoint(), "Patient")
    widget = session.enter("ALPPSVolumetry")
    ui = widget.ui
    ui.computeVolumesButton.click()
    ui.planToShowComboBox.currentIndex = ui.planToShowComboBox.findText("right_hepatectomy")
    ui.planRightHepatectomyCheckBox.checked = False
    before = slicer.mrmlScene.GetNumberOfNodesByClass("vtkMRMLSegmentationNode")
    ui.showPlanButton.click()
    assert any("Plan 'right_hepatectomy' is not among the selected plans" in e for e in session.takeErrors())
    assert slicer.mrmlScene.GetNumberOfNodesByClass("vtkMRMLSegmentationNode") == before


def test_labelMapLoadedBeforeTheScanIsNotTakenForIt(session):
    """A label map is a scalar volume to VTK but the scan selector does not list it: proposing it
    left the selector empty while TotalSegmentator and the checks used the label map."""
    labels = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLLabelMapVolumeNode", "labels")
    ct = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "CT")
    widget = session.enter("ALPPSVolumetry")
    assert widget.logic.getParameterNode().sourceVolume is ct
    assert widget.ui.sourceVolumeSelector.currentNode() is ct
    assert labels not in widget.ui.sourceVolumeSelector.nodes()


def test_planToShowListFollowsTheScene(session, tmp_path):
    """The plans offered for display are those of the scene shown: none after closing it, the
    saved choice again after loading it back, and a computation keeps the chosen plan."""
    syntheticPatientScene.addTimePointNodes(slicer.mrmlScene, _timePoint(), "Patient")
    widget = session.enter("ALPPSVolumetry")
    ui = widget.ui
    ui.computeVolumesButton.click()
    combo = ui.planToShowComboBox
    combo.currentIndex = combo.findText("right_trisectionectomy")
    ui.computeVolumesButton.click()  # computing again keeps the plan chosen for display
    assert combo.currentText == "right_trisectionectomy" == widget.logic.getParameterNode().planToShow
    bundle = str(tmp_path / "scene.mrb")
    session.context.saveSceneBundle(bundle)
    session.closeScene()
    assert combo.count == 0 and not ui.showPlanButton.enabled
    session.context.loadSceneBundle(bundle)
    assert [combo.itemText(i) for i in range(combo.count)] == ["right_hepatectomy", "right_trisectionectomy"]
    assert combo.currentText == "right_trisectionectomy" and ui.showPlanButton.enabled
    ui.showPlanButton.click()
    assert session.takeErrors() == []


RESULT_LABELS = {
    "ALPPSVolumetry": ("warningsLabel",),
    "ALPPSAssessment": ("decisionSummaryLabel", "warningsLabel", "registrationStatusLabel", "overlayStatusLabel", "gadoxetateStatusLabel",
                        "mebrofeninStatusLabel", "reportStatusLabel"),
}


@pytest.mark.parametrize("module", list(RESULT_LABELS))
def test_resultMessagesOfAClosedSceneAreNotLeftShowing(session, module):
    """A result line (an MUR, a report folder, a warning) belongs to the patient of the scene it
    was computed in: closing the scene clears it, so it is never read next to another patient."""
    ui = session.enter(module).ui
    for name in RESULT_LABELS[module]:
        getattr(ui, name).text = "MUR 12.1 %/min (previous patient)"
    session.closeScene()
    assert {name: getattr(ui, name).text for name in RESULT_LABELS[module]} == {name: "" for name in RESULT_LABELS[module]}


def test_newScanDoesNotInheritTheDayOfThePreviousOne(session):
    """Selecting a scan with no stored time point must not leave the previous scan's date and
    laboratory values in the editor, where one click on Store would file them for the new day."""
    patient = syntheticPatient.makeSyntheticPatient(spacing=(4.0, 4.0, 4.0), timePoints=syntheticPatient.TIME_POINTS[:2])
    nodes = [syntheticPatientScene.addTimePointNodes(slicer.mrmlScene, point, "Patient") for point in patient.timePoints]
    first = patient.timePoints[0]
    timeline.storeTimePoint(timeline.TimePoint(first.role, first.studyDate, nodes[0][1], nodes[0][0],
                                               labs={"bilirubin": [9.0, "umol/L"], "albumin": [41.0, "g/L"]}))
    widget = session.enter("ALPPSAssessment")
    ui = widget.ui
    ui.timePointSegmentationSelector.setCurrentNode(nodes[0][1])
    assert ui.timePointDateLineEdit.text == first.studyDate.isoformat() and ui.bilirubinSpinBox.value == 9.0
    ui.timePointSegmentationSelector.setCurrentNode(nodes[1][1])
    parameterNode = widget.logic.getParameterNode()
    assert ui.timePointDateLineEdit.text == "" and parameterNode.timePointDate == ""
    assert (parameterNode.bilirubin, parameterNode.bilirubinUnit, parameterNode.albumin, parameterNode.albuminUnit) == (0.0, "", 0.0, "")
    assert ui.bilirubinSpinBox.value == 0.0 and ui.bilirubinUnitComboBox.currentText == ""
    # The scan proposed is the one this segmentation was drawn on, not the previous one.
    assert parameterNode.timePointVolume is nodes[1][0] and ui.timePointVolumeSelector.currentNode() is nodes[1][0]
    assert session.takeErrors() == []


def _segmentationWithSegmentIds(name, namesById):
    node = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLSegmentationNode", name)
    for segmentId, segmentName in namesById.items():
        node.GetSegmentation().AddEmptySegment(segmentId, segmentName)
    return node


def _roles(segmentationNode):
    """The roles used for each segment, as every module reads them (corrections kept on the segments)."""
    return [role for _, _, _, role in segmentRecognition.SegmentRoles(segmentationNode).asRows()]


def test_roleCorrectionsStayWithTheirSegmentation(session):
    """Segment Editor segments are called Segment_1, Segment_2, ... in every segmentation: a role
    corrected in one segmentation must not silently apply to the same ID in another."""
    first = _segmentationWithSegmentIds("patient A", {"Segment_1": "II", "Segment_2": "III"})
    second = _segmentationWithSegmentIds("patient B", {"Segment_1": "VII", "Segment_2": "VIII"})
    widget = session.enter("ALPPSVolumetry")
    ui, table = widget.ui, widget.ui.segmentRolesTableWidget
    parameterNode = widget.logic.getParameterNode()
    ui.segmentationSelector.setCurrentNode(first)
    table.item(0, 2).setText("III")
    assert _roles(first) == ["III", "III"]
    ui.segmentationSelector.setCurrentNode(second)
    assert parameterNode.segmentation is second and _roles(second) == ["VII", "VIII"]
    assert [table.item(row, 2).text() for row in range(table.rowCount)] == ["VII", "VIII"]
    # A segmentation made by a button (here: set by the logic) is a change too.
    ui.segmentationSelector.setCurrentNode(first)
    assert [table.item(row, 2).text() for row in range(table.rowCount)] == ["III", "III"]
    table.item(1, 2).setText("IV")
    parameterNode.segmentation = second
    assert _roles(second) == ["VII", "VIII"] and table.item(1, 2).text() == "VIII"
    # Leaving and re-entering keeps the corrections of the segmentation they were made for.
    table.item(0, 2).setText("VI")
    session.enter("ALPPSAssessment")
    session.enter("ALPPSVolumetry")
    assert _roles(second) == ["VI", "VIII"] and table.item(0, 2).text() == "VI"
    assert _roles(first) == ["III", "IV"]
    assert session.takeErrors() == []


def test_resultTablesBelongToTheirSegmentation(session):
    """Results computed for one scan's segmentation are never overwritten by another's, nor shown
    beside it: each segmentation gets its own tables, named after it, found again when it is
    selected again (the Assessment workflow has one segmentation per time point)."""
    patient = syntheticPatient.makeSyntheticPatient(spacing=(4.0, 4.0, 4.0), timePoints=syntheticPatient.TIME_POINTS[:2])
    (_, first), (_, second) = [syntheticPatientScene.addTimePointNodes(slicer.mrmlScene, p, "Patient") for p in patient.timePoints]
    widget = session.enter("ALPPSVolumetry")
    ui = widget.ui
    parameterNode = widget.logic.getParameterNode()
    ui.segmentationSelector.setCurrentNode(first)
    ui.computeVolumesButton.click()
    firstTables = (parameterNode.couinaudTable, parameterNode.planTable, parameterNode.segmentVolumeTable)
    firstFlr = firstTables[1].GetTable().GetValueByName(0, "FLR").ToDouble()
    assert all(table.GetName().startswith(first.GetName()) for table in firstTables)

    ui.segmentationSelector.setCurrentNode(second)
    assert (parameterNode.couinaudTable, parameterNode.planTable, parameterNode.segmentVolumeTable) == (None, None, None)
    assert ui.couinaudTableView.mrmlTableNode() is None and ui.planToShowComboBox.count == 0
    ui.computeVolumesButton.click()
    secondTables = (parameterNode.couinaudTable, parameterNode.planTable, parameterNode.segmentVolumeTable)
    assert all(table.GetName().startswith(second.GetName()) for table in secondTables)
    assert set(secondTables).isdisjoint(firstTables)
    secondFlr = secondTables[1].GetTable().GetValueByName(0, "FLR").ToDouble()
    assert secondFlr > firstFlr  # the interstage remnant has grown
    assert firstTables[1].GetTable().GetValueByName(0, "FLR").ToDouble() == firstFlr

    ui.segmentationSelector.setCurrentNode(first)
    assert (parameterNode.couinaudTable, parameterNode.planTable, parameterNode.segmentVolumeTable) == firstTables
    assert ui.couinaudTableView.mrmlTableNode() is firstTables[0]
    assert session.takeErrors() == []


def test_functionMeasuredForOneTimePointIsNotStoredWithAnother(session):
    """Measured for the interstage scan, then another time point selected: Store must refuse
    instead of filing the interstage function under the other day."""
    from ALPPSAssessmentLib.functional import functionalSimulator
    from ALPPSVolumetryLib.segments import segmentationImport

    patient = syntheticPatient.makeSyntheticPatient(spacing=(4.0, 4.0, 4.0), timePoints=syntheticPatient.TIME_POINTS[:2])
    nodes = [syntheticPatientScene.addTimePointNodes(slicer.mrmlScene, p, "Patient") for p in patient.timePoints]
    for (volumeNode, segmentationNode), point in zip(nodes, patient.timePoints):
        timeline.storeTimePoint(timeline.TimePoint(point.role, point.studyDate, segmentationNode, volumeNode))
    interstage = patient.timePoints[1]
    widget = session.enter("ALPPSAssessment")
    ui = widget.ui
    ui.timePointSegmentationSelector.setCurrentNode(nodes[1][1])
    pre, hbp, ijkToRAS = functionalSimulator.simulateGadoxetateMri(interstage, functionalSimulator.INTERSTAGE_RELATIVE_FUNCTION_PER_ML, seed=2)
    ui.preContrastVolumeSelector.setCurrentNode(segmentationImport.addVolumeFromArray(slicer.mrmlScene, "MRI pre", pre, ijkToRAS))
    ui.hbpVolumeSelector.setCurrentNode(segmentationImport.addVolumeFromArray(slicer.mrmlScene, "MRI HBP", hbp, ijkToRAS))
    ui.measureGadoxetateButton.click()
    assert session.takeErrors() == []
    ui.timePointSegmentationSelector.setCurrentNode(nodes[0][1])
    ui.storeGadoxetateButton.click()
    errors = session.takeErrors()
    assert any("measured for" in e and nodes[1][1].GetName() in e for e in errors), errors
    assert "gadoxetateFunctionalSharePercent" not in timeline.timePointOfNode(nodes[0][1]).remnantFunction
    ui.timePointSegmentationSelector.setCurrentNode(nodes[1][1])
    ui.storeGadoxetateButton.click()
    assert session.takeErrors() == []
    assert "gadoxetateFunctionalSharePercent" in timeline.timePointOfNode(nodes[1][1]).remnantFunction


def test_damagedDicomSeriesIsRefusedBeforeSlicerLoadsIt(session, tmp_path):
    """The panel's DICOM load goes through the same slice checks as the batch loader: a series
    with a slice cut short (which the database leaves out) is refused as a series with a gap,
    naming the slices on either side, and nothing is loaded."""
    from test_patient_report import _writeDicomSeries

    patient = syntheticPatient.makeSyntheticPatient(spacing=(4.0, 4.0, 4.0), timePoints=syntheticPatient.TIME_POINTS[:1])
    point = patient.timePoints[0]
    folder = tmp_path / "dicom"
    _writeDicomSeries(str(folder), point, syntheticPatientScene.syntheticIdentity(patient, point, 0))
    names = sorted(os.listdir(folder))
    damaged = folder / names[len(names) // 2]
    damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size // 2])
    session.openDicomDatabase([str(folder / name) for name in names])
    ui = session.enter("ALPPSAssessment").ui
    volumesBefore = slicer.mrmlScene.GetNumberOfNodesByClass("vtkMRMLScalarVolumeNode")
    ui.refreshDicomButton.click()
    ui.dicomStudiesTableWidget.setCurrentCell(0, 0)
    ui.loadStudyButton.click()
    errors = session.takeErrors()
    assert errors and all("slice(s) missing" in error and "the volume would have a gap" in error for error in errors)
    assert slicer.mrmlScene.GetNumberOfNodesByClass("vtkMRMLScalarVolumeNode") == volumesBefore
