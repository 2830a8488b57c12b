"""The path from the module panel's values to volumetry tables (shared with the Slicer widget)."""

import os
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest
from ALPPSVolumetryLib.criteria import adequacy, bodySize
from ALPPSVolumetryLib.segments import couinaud, segmentationImport, segmentRecognition
from ALPPSVolumetryLib import syntheticPatient, volumetryWorkflow
from conftest import REPOSITORY


def test_panelSelectionsBecomePlans():
    plans = volumetryWorkflow.plansFromSelection(["right_hepatectomy"], caudateInRemnant=False, customPlanText="ALPPS=I,II,III,IVb")
    assert [plan.remnantSegments for plan in plans] == [("II", "III", "IV"), ("I", "II", "III", "IVb")]
    with pytest.raises(ValueError, match="No resection plan selected"):
        volumetryWorkflow.plansFromSelection([], True, "  ")


def test_zeroMeansNotEnteredAndChangedThresholdsNeedASource():
    settings = volumetryWorkflow.settingsFromValues(0.0, 0.0, "mosteller", "vauthey", "normal", 0.0, 0.0, "")
    assert settings.heightCm is None and settings.weightKg is None and settings.thresholds is None
    with pytest.raises(ValueError, match="needs its source"):
        volumetryWorkflow.settingsFromValues(172, 78, "mosteller", "vauthey", "normal", 25.0, 0.0, "")
    settings = volumetryWorkflow.settingsFromValues(172, 78, "mosteller", "vauthey", "normal", 25.0, 0.0, "local protocol")
    assert settings.adequacyThresholds().sflrMinimumPercent == 25.0
    assert "local protocol" in settings.adequacyThresholds().sflrSource
    assert volumetryWorkflow.settingsFromValues(172, 78, "haycock", "um_dubois").bsaFormula is None


def test_runVolumetryCreatesBothTables(slicerContext):
    timePoint = syntheticPatient.makeTimePoint("pre-stage 1", -3, 1.0, spacing=(3.0, 3.0, 3.0))
    segmentationNode = slicerContext.scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Case")
    names = {value: f"Segment {s}" for value, s in enumerate(couinaud.SEGMENT_IDS, 1)}
    segmentationImport.importLabelArray(segmentationNode, timePoint.couinaudLabels, timePoint.ijkToRAS, names)
    plans = volumetryWorkflow.plansFromSelection(["right_hepatectomy", "right_trisectionectomy"])
    settings = volumetryWorkflow.settingsFromValues(172, 78)
    result, couinaudTable, planTable = volumetryWorkflow.runVolumetryIntoTables(segmentationNode, plans, settings)
    assert couinaudTable.GetNumberOfRows() == 8 and planTable.GetNumberOfRows() == 2
    flr = planTable.GetTable().GetColumnByName("FLR").GetValue(1)
    assert flr == pytest.approx(sum(timePoint.trueVolumesMl[s] for s in ("I", "II", "III")), rel=1e-12)
    assert np.isnan(planTable.GetTable().GetColumnByName("functional %FLR").GetValue(0)), "no tumours: empty, not 0"
    with pytest.raises(ValueError, match="No segmentation selected"):
        volumetryWorkflow.runVolumetryIntoTables(None, plans, settings)


def test_totalSegmentatorOutputCheckNamesMissingAndEmptySegments(slicerContext):
    timePoint = syntheticPatient.makeTimePoint("pre-stage 1", -3, 1.0, spacing=(4.0, 4.0, 4.0))
    segmentationNode = slicerContext.scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "TotalSegmentator output")
    names = {value: f"liver_segment_{value}" for value in range(1, 8)}  # segment 8 missing
    segmentationImport.importLabelArray(segmentationNode, np.where(timePoint.couinaudLabels < 8, timePoint.couinaudLabels, 0), timePoint.ijkToRAS, names)
    segmentationNode.GetSegmentation().RemoveSegment(segmentationNode.GetSegmentation().GetSegmentIdBySegmentName("liver_segment_3"))
    segmentationNode.GetSegmentation().AddEmptySegment("", "liver_segment_3")
    with pytest.raises(ValueError, match=r"missing segment\(s\) VIII and empty segment\(s\) III"):
        volumetryWorkflow.checkTotalSegmentatorLiverSegments(segmentationNode)


def test_panelChoicesAreTheLibraryChoices():
    """The .ui combo boxes list exactly the formulas and conditions the library knows."""
    tree = ElementTree.parse(os.path.join(REPOSITORY, "ALPPSVolumetry", "Resources", "UI", "ALPPSVolumetry.ui"))
    items = {
        widget.get("name"): [item.find("property/string").text for item in widget.findall("item")]
        for widget in tree.iter("widget")
        if widget.get("class") == "QComboBox"
    }
    assert items["bsaFormulaComboBox"] == list(bodySize.BSA_FORMULAS)
    assert items["stlvFormulaComboBox"] == list(bodySize.STLV_FORMULAS)
    assert items["liverConditionComboBox"] == list(adequacy.LIVER_CONDITIONS)


def _wholeLiverCase(scene, spacing=(3.0, 3.0, 3.0)):
    timePoint = syntheticPatient.makeTimePoint("pre-stage 1", -3, 1.0, spacing=spacing)
    segmentationNode = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Whole liver case")
    masks = {"Liver": timePoint.couinaudLabels > 0, "Tumour 1": timePoint.structures["Tumour 1"]}
    segmentationImport.importMaskArrays(segmentationNode, masks, timePoint.ijkToRAS)
    return timePoint, segmentationNode


def _rasCoordinates(timePoint):
    shape = timePoint.couinaudLabels.shape
    k, j, i = np.meshgrid(*(np.arange(n) for n in shape), indexing="ij")
    m = timePoint.ijkToRAS
    return [m[axis, 0] * i + m[axis, 1] * j + m[axis, 2] * k + m[axis, 3] for axis in range(3)]


def test_transectionByPlaneMeasuresTheKeptSide(slicerContext):
    scene = slicerContext.scene
    timePoint, segmentationNode = _wholeLiverCase(scene)
    plane = scene.AddNewNodeByClass("vtkMRMLMarkupsPlaneNode", "Cut")
    plane.SetOrigin(10.0, 0.0, 0.0)
    plane.SetNormal(1.0, 0.0, 0.0)
    keep = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "Keep")
    keep.AddControlPoint(-40.0, 10.0, 30.0)  # the left liver stays
    settings = volumetryWorkflow.settingsFromValues(172, 78)
    plan, planTable = volumetryWorkflow.runTransection(segmentationNode, plane, keep, settings)
    x, _, _ = _rasCoordinates(timePoint)
    liver = timePoint.couinaudLabels > 0
    kept = liver & (x <= 10.0)
    tumour = timePoint.structures["Tumour 1"]
    voxelMl = timePoint.voxelVolumeMl
    assert plan.remnantMl == pytest.approx(np.count_nonzero(kept) * voxelMl, rel=1e-9)
    assert plan.percentFLR == pytest.approx(100.0 * np.count_nonzero(kept) / np.count_nonzero(liver), rel=1e-9)
    functional = 100.0 * np.count_nonzero(kept & ~tumour) / np.count_nonzero(liver & ~tumour)
    assert plan.functionalPercentFLR == pytest.approx(functional, rel=1e-9)
    assert planTable.GetNumberOfRows() == 1 and planTable.GetCellText(0, 0).startswith("Virtual transection")
    # Moving the plane and cutting again replaces the earlier transection segments.
    plane.SetOrigin(40.0, 0.0, 0.0)
    again, _ = volumetryWorkflow.runTransection(segmentationNode, plane, keep, settings, planTable=planTable)
    assert again.remnantMl == pytest.approx(np.count_nonzero(liver & (x <= 40.0)) * voxelMl, rel=1e-9)
    names = [segmentationNode.GetSegmentation().GetNthSegment(i).GetName() for i in range(segmentationNode.GetSegmentation().GetNumberOfSegments())]
    assert names.count("Remnant (virtual transection)") == 1


def test_landmarksNeedExactlyOneWholeLiverSegment(slicerContext):
    timePoint, segmentationNode = _wholeLiverCase(slicerContext.scene)
    landmarks = slicerContext.scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "Landmarks")
    with pytest.raises(ValueError, match="No landmarks selected"):
        volumetryWorkflow.createCouinaudSegmentsFromLandmarks(segmentationNode, None)
    segmentationNode.GetSegmentation().GetSegment(segmentationNode.GetSegmentation().GetSegmentIdBySegmentName("Liver")).SetName("Parenchyma")
    with pytest.raises(ValueError, match=r"exactly one whole-liver segment \(found none\)"):
        volumetryWorkflow.createCouinaudSegmentsFromLandmarks(segmentationNode, landmarks)
    segmentRecognition.storeRoleCorrections(segmentationNode, {"Parenchyma": "liver"})
    with pytest.raises(ValueError, match="IVC"):
        volumetryWorkflow.createCouinaudSegmentsFromLandmarks(segmentationNode, landmarks)
