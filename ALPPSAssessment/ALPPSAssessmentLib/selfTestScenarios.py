"""Scenarios run unchanged by Slicer's self-test (ALPPSAssessmentTest) and by pytest on
slicer-core; each takes a scene and a temporary folder and raises AssertionError on failure."""

import math

from ALPPSVolumetryLib import syntheticPatient, syntheticPatientScene

from . import timeline

SCENARIO_SPACING = (2.5, 2.5, 3.0)


def _check(condition, message):
    if not condition:
        raise AssertionError(message)


def _syntheticTimeline(scene):
    patient = syntheticPatient.makeSyntheticPatient(spacing=SCENARIO_SPACING)
    entries = []
    for point in patient.timePoints:
        _, segmentationNode = syntheticPatientScene.addTimePointNodes(scene, point, "Scenario")
        entries.append((point.role, segmentationNode, point.studyDate.isoformat()))
    return patient, entries


def timelineFollowsSyntheticGrowth(scene, temporaryDirectory):
    """The timeline lists the time points by date with days after stage 1 and the true liver
    volume, and the left lateral section grows by 60-80 % as the phantom was built to."""
    patient, entries = _syntheticTimeline(scene)
    tableNode = scene.AddNewNodeByClass("vtkMRMLTableNode", "Scenario timeline")
    # Entered out of order on purpose: the table must come out in date order.
    rows = timeline.writeTimelineTable(tableNode, timeline.timePointsFromEntries(entries[::-1]), patient.stage1Date)
    _check([row["role"] for row in rows] == [point.role for point in patient.timePoints], f"order wrong: {rows}")
    for row, point in zip(rows, patient.timePoints):
        _check(row["daysAfterStage1"] == point.daysAfterStage1, f"{row['role']}: day {row['daysAfterStage1']}")
        _check(
            math.isclose(row["liverVolumeMl"], point.trueVolumesMl["Liver"], rel_tol=1e-12),
            f"{row['role']}: liver {row['liverVolumeMl']} mL, truth {point.trueVolumesMl['Liver']} mL",
        )
    _check(tableNode.GetNumberOfRows() == len(rows), "table rows differ from the returned rows")
    _check(tableNode.GetColumnUnitLabel("Liver volume") == "mL", "liver volume column must carry mL")
    first, last = patient.timePoints[0].trueVolumesMl, patient.timePoints[-1].trueVolumesMl
    growth = (last["II"] + last["III"]) / (first["II"] + first["III"]) - 1.0
    _check(0.60 <= growth <= 0.80, f"segments II-III grew by {100 * growth:.1f} %, expected 60-80 %")


def incompleteEntriesAreRejectedByName(scene, temporaryDirectory):
    """A time point with a segmentation but no date, a bad date, or missing Couinaud segments
    is an error that names it."""
    _, entries = _syntheticTimeline(scene)
    role, segmentationNode, _ = entries[1]
    for dateText, expected in (("", "no study date"), ("12/03/2026", "not a date")):
        try:
            timeline.timePointsFromEntries([(role, segmentationNode, dateText)])
        except ValueError as error:
            _check(expected in str(error) and role in str(error), f"unclear message: {error}")
        else:
            raise AssertionError(f"date '{dateText}' was accepted")
    segmentation = segmentationNode.GetSegmentation()
    segmentation.RemoveSegment(segmentation.GetSegmentIdBySegmentName("Segment III"))
    try:
        timeline.liverVolumeMl(segmentationNode)
    except ValueError as error:
        _check("III" in str(error) and segmentationNode.GetName() in str(error), f"unclear message: {error}")
    else:
        raise AssertionError("a segmentation without segment III was measured")


SCENARIOS = (
    timelineFollowsSyntheticGrowth,
    incompleteEntriesAreRejectedByName,
)
