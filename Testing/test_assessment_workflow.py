"""The Assessment panel's path: time points stored from entered values, labs with their units,
and the whole update into tables, chart and sequence."""

import pytest
from ALPPSAssessmentLib import assessmentWorkflow
from ALPPSAssessmentLib.course import timeline
from ALPPSVolumetryLib import syntheticPatient, syntheticPatientScene, volumetryWorkflow


def test_labsKeepTheirUnitsAndZeroMeansNotMeasured():
    labs = assessmentWorkflow.labsFromValues({"bilirubin": (1.2, "mg/dL"), "inr": (0.0, ""), "albumin": (38.0, "g/L")})
    assert labs == {"bilirubin": [1.2, "mg/dL"], "albumin": [38.0, "g/L"]}
    with pytest.raises(ValueError, match="unit 'mmol/L' is not accepted"):
        assessmentWorkflow.labsFromValues({"bilirubin": (12.0, "mmol/L")})
    with pytest.raises(ValueError, match="looks like g/dL"):
        assessmentWorkflow.labsFromValues({"albumin": (4.0, "g/L")})
    with pytest.raises(ValueError, match="'ast' is unknown"):
        assessmentWorkflow.labsFromValues({"ast": (40.0, "U/L")})


def test_panelUpdateMeasuresStoredTimePoints(slicerContext):
    scene = slicerContext.scene
    patient = syntheticPatient.makeSyntheticPatient(spacing=(3.0, 3.0, 3.0))
    for index, point in enumerate(patient.timePoints):
        volumeNode, segmentationNode = syntheticPatientScene.addTimePointNodes(scene, point, f"P{index}")
        labs = assessmentWorkflow.labsFromValues({"bilirubin": (10.0 + index, "umol/L")})
        assessmentWorkflow.storeTimePointFromValues(segmentationNode, volumeNode, point.role, point.studyDate.isoformat(), labs)
    first = timeline.timePointsInScene(scene)[0]
    first.remnantFunction = {"flrFunctionPerBsa": 1.9}
    timeline.storeTimePoint(first)
    assessmentWorkflow.storeTimePointFromValues(first.segmentationNode, first.volumeNode, first.role, first.studyDate.isoformat(), first.labs)
    assert timeline.timePointOfNode(first.segmentationNode).remnantFunction == {"flrFunctionPerBsa": 1.9}, "editing must keep it"
    stored = timeline.timePointsInScene(scene)
    assert [point.labs["bilirubin"] for point in stored] == [[10.0, "umol/L"], [11.0, "umol/L"], [12.0, "umol/L"]]
    settings = volumetryWorkflow.settingsFromValues(patient.heightCm, patient.weightKg)
    outputs = assessmentWorkflow.updateAssessment(scene, "right_trisectionectomy", True, settings, patient.stage1Date.isoformat())
    timePointTable, growthTable = outputs.timePointTable, outputs.growthTable
    assert timePointTable.GetNumberOfRows() == 3 and growthTable.GetNumberOfRows() == 3
    assert outputs.chart.GetNumberOfPlotSeriesNodes() == 3
    # sFLR, FLR-BWR, tumour left in the remnant (tumours are segmented), KGR, growth per day, MELD,
    # liver failure after stage 1, remnant function.
    assert outputs.readinessTable.GetNumberOfRows() == len(outputs.readiness) == 8
    # Updating again replaces the chart instead of adding one more.
    assessmentWorkflow.updateAssessment(scene, "right_trisectionectomy", True, settings, patient.stage1Date.isoformat(), timePointTable=timePointTable, growthTable=growthTable)
    assert scene.GetNumberOfNodesByClass("vtkMRMLPlotChartNode") == 1
    assert scene.GetNumberOfNodesByClass("vtkMRMLPlotSeriesNode") == 3
    assert scene.GetNumberOfNodesByClass("vtkMRMLSequenceNode") == 1
    with pytest.raises(ValueError, match="No segmentation selected"):
        assessmentWorkflow.storeTimePointFromValues(None, None, "interstage", "2026-03-12", {})
    with pytest.raises(ValueError, match="study date of the interstage time point"):
        assessmentWorkflow.storeTimePointFromValues(stored[1].segmentationNode, None, "interstage", "", {})


class _FakeDicomDatabase:
    """The three calls of slicer.dicomDatabase the proposals use, over files on disk."""

    def __init__(self, filesOfSeries):
        self._files = filesOfSeries

    def studiesForPatient(self, patientUID):
        return ["study"] if patientUID == "1" else []

    def seriesForStudy(self, studyUID):
        return list(self._files)

    def filesForSeries(self, seriesUID):
        return self._files[seriesUID]


def test_databasePatientBecomesTimePointProposals(sharedData, slicerContext):
    import os

    folder = os.path.join(sharedData, "ircad1", "PATIENT_DICOM")
    files = [os.path.join(folder, name) for name in sorted(os.listdir(folder))]
    database = _FakeDicomDatabase({"series": files})
    index, proposals = assessmentWorkflow.proposalsForDatabasePatient(database, "1")
    assert len(proposals) == 1 and len(proposals[0].files) == 129
    with pytest.raises(ValueError, match="has no files in the DICOM database"):
        assessmentWorkflow.proposalsForDatabasePatient(database, "2")
    with pytest.raises(ValueError, match="No scan loaded"):
        assessmentWorkflow.createSegmentationForScan(None)
