"""The Assessment panel's decisions, headless (assessmentPanel): DICOM patients offered, the
studies table, the study to load and the assessment's messages."""

import datetime
import types

import pytest
from ALPPSAssessmentLib import assessmentPanel


class _Database:
    """ctkDICOMDatabase's read calls over a dictionary {patient: {study: {series: [files]}}}."""

    def __init__(self, tree, values):
        self.tree, self.values = tree, values

    def patients(self):
        return list(self.tree)

    def studiesForPatient(self, patient):
        return list(self.tree[patient])

    def seriesForStudy(self, study):
        return [series for studies in self.tree.values() for name, seriesMap in studies.items() if name == study for series in seriesMap]

    def filesForSeries(self, series):
        return [f for studies in self.tree.values() for seriesMap in studies.values() for name, files in seriesMap.items() if name == series for f in files]

    def fileValue(self, path, tag):
        return self.values[(path, tag)]


def test_dicomPatientsAreOfferedByNameAndId():
    database = _Database({"p1": {"s1": {"r1": ["a", "b"]}}, "p2": {}},
                         {("a", "0010,0010"): "Doe^Jane", ("a", "0010,0020"): "ID7"})
    assert assessmentPanel.dicomPatientEntries(database) == [("Doe^Jane (ID7)", "p1"), ("p2 ()", "p2")]


def _proposal(date, series, warnings=()):
    return types.SimpleNamespace(studyDate=date, studyDescription="CT abdomen", reason="first scan",
                                 series=types.SimpleNamespace(seriesDescription=series) if series else None, warnings=list(warnings))


def test_studyRowsAndTheStudyToLoad():
    proposals = [_proposal(datetime.date(2026, 3, 2), "portal venous"), _proposal(None, None, ["no CT or MR series"])]
    assert assessmentPanel.studyRows(proposals) == [
        ("2026-03-02", "CT abdomen", "portal venous", "first scan"),
        ("no StudyDate", "CT abdomen", "none", "first scan; no CT or MR series"),
    ]
    assert assessmentPanel.proposalToLoad(proposals, 0) is proposals[0]
    for row in (-1, 1, 2):
        with pytest.raises(ValueError, match="Select a study with a CT or MR series to load"):
            assessmentPanel.proposalToLoad(proposals, row)


def test_assessmentMessagesListWarningsThenFlags():
    outputs = types.SimpleNamespace(result=types.SimpleNamespace(warnings=["plans differ"]),
                                    afterStage2Flags=[types.SimpleNamespace(line=lambda: "50-50 criterion: met")])
    assert assessmentPanel.assessmentMessages(outputs) == "plans differ\n50-50 criterion: met"


def test_scanOfASegmentationIsItsReferenceVolume(slicerContext):
    scene = slicerContext.scene
    segmentation = scene.AddNewNodeByClass("vtkMRMLSegmentationNode")
    assert assessmentPanel.scanOfSegmentation(segmentation) is None and assessmentPanel.scanOfSegmentation(None) is None
    import numpy as np
    from ALPPSVolumetryLib.segments.segmentationImport import addVolumeFromArray

    ct = addVolumeFromArray(scene, "CT", np.zeros((2, 3, 4), dtype=np.int16), np.eye(4))
    segmentation.SetReferenceImageGeometryParameterFromVolumeNode(ct)
    assert assessmentPanel.scanOfSegmentation(segmentation) is ct


def test_resultsAreStoredOnlyWithTheTimePointTheyWereMeasuredFor(slicerContext):
    scene = slicerContext.scene
    interstage = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "interstage")
    before = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "pre-stage 1")
    table = scene.AddNewNodeByClass("vtkMRMLTableNode")
    assessmentPanel.checkMeasuredFor(table, before)  # untagged (older scene): not refused
    assessmentPanel.tagMeasuredFor(table, interstage)
    assessmentPanel.checkMeasuredFor(table, interstage)
    with pytest.raises(ValueError, match="measured for 'interstage', not for 'pre-stage 1'"):
        assessmentPanel.checkMeasuredFor(table, before)
    with pytest.raises(ValueError, match="not for 'no time point'"):
        assessmentPanel.checkMeasuredFor(table, None)


def test_panelSummaryIsTheReportsPageOneSummary(slicerContext):
    """The panel's summary comes from decisionSummary, like page 1 of the report: the same verdict
    and figures for the same result."""
    from ALPPSAssessmentLib.report import decisionSummary
    from ALPPSAssessmentLib.course import stageTwoReadiness, timeline, timePointCourse
    from ALPPSAssessmentLib import selfTestScenarios
    from ALPPSVolumetryLib.planning import futureLiverRemnant, resectionPlans

    stage1 = datetime.date(2026, 1, 10)
    points = [
        timeline.TimePoint("pre-stage 1", stage1 - datetime.timedelta(days=21), selfTestScenarios.boxSegmentation(slicerContext.scene, "Before", 300.0)),
        timeline.TimePoint("interstage", stage1 + datetime.timedelta(days=7), selfTestScenarios.boxSegmentation(slicerContext.scene, "After", 420.0)),
    ]
    result = timePointCourse.measureHypertrophy(points, resectionPlans.presetPlan("right_trisectionectomy"),
                                            futureLiverRemnant.VolumetrySettings(170, 70), stage1)
    readiness = stageTwoReadiness.readinessChecklist(result, "no")

    outputs = types.SimpleNamespace(result=result, readiness=readiness)
    text = assessmentPanel.decisionSummaryText(outputs)
    summary = decisionSummary.decisionSummary(decisionSummary.summaryDocument(result, readiness))
    assert text.split("\n")[0] == summary.verdict
    met = sum(1 for flag in readiness if flag.state == "met")
    assert summary.verdict.startswith(f"Stage 2 readiness: {met} of {len(readiness)} criteria met")
    assert "FLR growth: 5.71 %/day (7 days since stage 1)" in text and "FLR (tumour-free): 420.0 mL" in text
