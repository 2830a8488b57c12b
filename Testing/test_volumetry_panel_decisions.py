"""The Volumetry panel's decisions, headless (volumetryPanel): enabled buttons, the segment role
table, role corrections and the warnings line."""

import itertools
import types

import pytest
from ALPPSVolumetryLib.segments import segmentRecognition
from ALPPSVolumetryLib import selfTestScenarios, syntheticPatient, syntheticPatientScene, volumetryPanel


def test_buttonsNeedWhatTheirActionNeeds():
    for flags in itertools.product((False, True), repeat=6):
        segmentation, volume, plan, landmarks, transection, point = flags
        states = volumetryPanel.buttonStates(*flags)
        assert states["computeVolumesButton"].enabled is segmentation
        assert states["openSegmentEditorButton"].enabled is segmentation
        assert states["showPlanButton"].enabled is (segmentation and plan)
        assert states["totalSegmentatorButton"].enabled is volume
        assert states["segmentsFromLandmarksButton"].enabled is (segmentation and landmarks)
        assert states["transectionButton"].enabled is (segmentation and transection and point)
        assert states["computeVolumesButton"].toolTip == ("Measure every segment and every selected plan" if segmentation else "Select a segmentation first")


def test_roleTableRowsAndCorrections(slicerContext):
    timePoint = syntheticPatient.makeTimePoint("pre-stage 1", -3, 1.0, spacing=selfTestScenarios.SCENARIO_SPACING)
    _, segmentationNode = syntheticPatientScene.addTimePointNodes(slicerContext.scene, timePoint, "Patient")
    rows = volumetryPanel.segmentRoleRows(segmentationNode)
    segmentation = segmentationNode.GetSegmentation()
    assert [row[0] for row in rows] == [segmentation.GetNthSegmentID(i) for i in range(segmentation.GetNumberOfSegments())]
    byName = {name: (recognized, used) for _, name, recognized, used in rows}
    assert byName[syntheticPatientScene.couinaudSegmentName("II")] == ("II", "II")
    assert all(recognized == used for recognized, used in byName.values())
    segmentIdOfII = next(row[0] for row in rows if row[2] == "II")
    segmentRecognition.storeRoleCorrection(segmentationNode, segmentIdOfII, " III ")
    used = {row[0]: row[3] for row in volumetryPanel.segmentRoleRows(segmentationNode)}
    assert used[segmentIdOfII] == "III"
    with pytest.raises(ValueError, match="Role 'segment nine' is unknown: expected one of I, II"):
        segmentRecognition.storeRoleCorrection(segmentationNode, segmentIdOfII, "segment nine")
    assert volumetryPanel.segmentRoleRows(None) == []


def test_warningsLineListsVolumetryThenPlans():
    result = types.SimpleNamespace(warnings=["overlap of 2 voxels"], plans=[types.SimpleNamespace(warnings=["sFLR not computed"]),
                                                                          types.SimpleNamespace(warnings=[])])
    assert volumetryPanel.volumetryWarnings(result) == "overlap of 2 voxels\nsFLR not computed"


def test_proposedScanIsNeverALabelMapOrHidden(slicerContext):
    scene = slicerContext.scene
    assert volumetryPanel.proposedInputs(scene) == (None, None)
    scene.AddNewNodeByClass("vtkMRMLLabelMapVolumeNode", "labels loaded first")
    hidden = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "hidden helper")
    hidden.SetHideFromEditors(True)
    ct = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "CT")
    segmentation = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "segments")
    assert volumetryPanel.proposedInputs(scene) == (ct, segmentation)


def test_plansOfferedForDisplay(slicerContext):
    assert volumetryPanel.plansToOffer(["right_hepatectomy", "right_trisectionectomy"], "right_trisectionectomy") == (
        ["right_hepatectomy", "right_trisectionectomy"], "right_trisectionectomy")
    assert volumetryPanel.plansToOffer(["right_hepatectomy"], "left_hepatectomy") == (["right_hepatectomy"], "right_hepatectomy")
    assert volumetryPanel.plansToOffer([], "left_hepatectomy") == ([], "")
    table = slicerContext.scene.AddNewNodeByClass("vtkMRMLTableNode")
    assert volumetryPanel.planKeysOfTable(table) == [] and volumetryPanel.planKeysOfTable(None) == []
    volumetryPanel.rememberPlanKeys(table, ["right_hepatectomy", "custom:ALPPS"])
    assert volumetryPanel.planKeysOfTable(table) == ["right_hepatectomy", "custom:ALPPS"]
    table.SetAttribute(volumetryPanel.PLAN_KEYS_ATTRIBUTE, "not json")
    assert volumetryPanel.planKeysOfTable(table) == []


def test_resultTablesAreFoundByTheirSegmentation(slicerContext):
    scene = slicerContext.scene
    first, second = (scene.AddNewNodeByClass("vtkMRMLSegmentationNode", name) for name in ("A", "B"))
    assert volumetryPanel.resultTablesOf(scene, None) == {field: None for field in volumetryPanel.RESULT_TABLE_FIELDS}
    planOfFirst = scene.AddNewNodeByClass("vtkMRMLTableNode", "A plans")
    volumetryPanel.tagResultTable(planOfFirst, "planTable", first)
    couinaudOfSecond = scene.AddNewNodeByClass("vtkMRMLTableNode", "B Couinaud")
    volumetryPanel.tagResultTable(couinaudOfSecond, "couinaudTable", second)
    scene.AddNewNodeByClass("vtkMRMLTableNode", "untagged")
    ofFirst = volumetryPanel.resultTablesOf(scene, first)
    assert ofFirst["planTable"] is planOfFirst and ofFirst["couinaudTable"] is None
    ofSecond = volumetryPanel.resultTablesOf(scene, second)
    assert ofSecond["couinaudTable"] is couinaudOfSecond and ofSecond["planTable"] is None
