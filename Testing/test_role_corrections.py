"""A segment role corrected in the Volumetry panel is kept on the segment (a tag saved with the
scene and in .seg.nrrd), so that the Assessment panel, the report and the batch tool measure with
the same correction (issue 'house plan': the Assessment used to pass no corrections)."""

import datetime
import json

import numpy as np
import pytest
from ALPPSAssessmentLib.course import timeline, timePointCourse
from ALPPSVolumetryLib.planning import futureLiverRemnant, resectionPlans
from ALPPSVolumetryLib.segments import segmentRecognition
from ALPPSVolumetryLib import syntheticPatient, syntheticPatientScene

from alpps import cli


def _renamedTumour(scene):
    point = syntheticPatient.makeTimePoint("pre-stage 1", -3, 1.0, spacing=(4.0, 4.0, 4.0))
    _, node = syntheticPatientScene.addTimePointNodes(scene, point, "Corrected")
    segmentation = node.GetSegmentation()
    segmentId = segmentation.GetSegmentIdBySegmentName("Tumour 1")
    segmentation.GetSegment(segmentId).SetName("Finding A")  # no longer recognised as a tumour
    return point, node, segmentId


def test_correctionOnTheSegmentIsUsedWithoutOverridesAndRemovedWhenUndone(slicerContext):
    point, node, segmentId = _renamedTumour(slicerContext.scene)
    assert segmentRecognition.SegmentRoles(node).roles[segmentId] == "other"
    segmentRecognition.storeRoleCorrection(node, segmentId, "tumour")
    roles = segmentRecognition.SegmentRoles(node)
    assert roles.roles[segmentId] == "tumour" and roles.recognized[segmentId] == "other"
    result = futureLiverRemnant.measureVolumetry(node, [resectionPlans.presetPlan("right_hepatectomy")])
    truth = np.count_nonzero(point.structures["Tumour 1"] & (point.couinaudLabels > 0)) * float(np.prod((4.0, 4.0, 4.0))) / 1000.0
    assert result.tumourVolumesMl["Finding A"] == pytest.approx(truth, rel=1e-9)
    segmentRecognition.storeRoleCorrection(node, segmentId, "other")  # the recognised role: correction removed
    assert segmentRecognition.correctedRole(node.GetSegmentation().GetSegment(segmentId)) is None
    with pytest.raises(ValueError, match="Role 'lesion' is unknown"):
        segmentRecognition.storeRoleCorrection(node, segmentId, "lesion")


def test_correctionTravelsInTheFileToTheBatchToolAndTheAssessment(slicerContext, tmp_path):
    point, node, segmentId = _renamedTumour(slicerContext.scene)
    segmentRecognition.storeRoleCorrection(node, segmentId, "tumour")
    path = str(tmp_path / "corrected.seg.nrrd")
    storage = node.CreateDefaultStorageNode()
    storage.SetFileName(path)
    assert storage.WriteData(node)
    jsonPath = tmp_path / "volumetry.json"
    assert cli.main(["volumetry", "--segmentation", path, "--plan", "right_hepatectomy", "--json", str(jsonPath)]) == 0
    document = json.loads(jsonPath.read_text())
    assert "Finding A" in document["liver"]["tumourVolumesMl"]
    roles = {row["name"]: row for row in document["segmentRoles"]}
    assert (roles["Finding A"]["recognizedRole"], roles["Finding A"]["role"]) == ("other", "tumour")
    # The Assessment's measurement passes no overrides: the segment's own correction applies.
    stored = timeline.TimePoint("pre-stage 1", datetime.date(2026, 3, 2), node)
    result = timePointCourse.measureHypertrophy([stored], resectionPlans.presetPlan("right_hepatectomy"))
    assert "Finding A" in result.timePoints[0].volumetry.tumourVolumesMl
