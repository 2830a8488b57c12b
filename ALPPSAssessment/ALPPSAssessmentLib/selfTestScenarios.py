"""Scenarios run unchanged by Slicer's self-test (ALPPSAssessmentTest) and by pytest on
slicer-core; each takes a scene and a temporary folder and raises AssertionError on failure."""

import datetime
import math
import os

import numpy as np
from ALPPSVolumetryLib.segments import couinaud, segmentationImport
from ALPPSVolumetryLib.planning import futureLiverRemnant, resectionPlans
from ALPPSVolumetryLib import imageGrid, syntheticPatient, syntheticPatientScene

from .functional import functionalOverlay, functionalSimulator
from . import functionalWorkflow
from .course import stageTwoReadiness, timeline, timePointCourse

SCENARIO_SPACING = (2.5, 2.5, 3.0)
PLAN = "right_trisectionectomy"


def _check(condition, message):
    if not condition:
        raise AssertionError(message)


def _syntheticTimeline(scene):
    """The synthetic patient's three scans, stored as time points in the scene."""
    patient = syntheticPatient.makeSyntheticPatient(spacing=SCENARIO_SPACING)
    for point in patient.timePoints:
        volumeNode, segmentationNode = syntheticPatientScene.addTimePointNodes(scene, point, "Scenario")
        timeline.storeTimePoint(timeline.TimePoint(point.role, point.studyDate, segmentationNode, volumeNode))
    return patient


def _settings(patient):
    return futureLiverRemnant.VolumetrySettings(heightCm=patient.heightCm, weightKg=patient.weightKg)


def hypertrophyFollowsSyntheticGrowth(scene, temporaryDirectory):
    """Remnant, sFLR and growth along the synthetic patient's scans equal its truth, and the time
    points, tables and chart come back from a saved scene."""
    patient = _syntheticTimeline(scene)
    points = timeline.timePointsInScene(scene)
    _check([point.role for point in points] == [point.role for point in patient.timePoints], "time points not found in the scene")
    result = timePointCourse.measureHypertrophy(points, resectionPlans.presetPlan(PLAN), _settings(patient), patient.stage1Date)
    flrTruth = [sum(point.trueVolumesMl[s] for s in ("I", "II", "III")) for point in patient.timePoints]
    for measured, truth, point in zip(result.timePoints, flrTruth, patient.timePoints):
        _check(math.isclose(measured.plan.remnantMl, truth, rel_tol=1e-12), f"{measured.role}: FLR {measured.plan.remnantMl}, truth {truth}")
        _check(measured.daysAfterStage1 == point.daysAfterStage1, f"{measured.role}: day {measured.daysAfterStage1}")
    # Growth since stage 1: from the last scan before it (day -3) to the interstage scan (day 7),
    # every rate per day (week) since stage 1, not per day between the two scans.
    first = result.sinceStage1[0]
    _check(first.days == 10 and first.rateDays == 7, f"pre-stage 1 to interstage: {first.days} days apart, {first.rateDays} since stage 1")
    expected = (flrTruth[1] - flrTruth[0]) / flrTruth[0] * 100.0
    _check(math.isclose(first.remnant.relativeGrowthPercent, expected, rel_tol=1e-9), "relative FLR growth differs from truth")
    _check(math.isclose(first.remnant.relativeGrowthPercentPerDay, expected / 7.0, rel_tol=1e-9), "%/day is not per day since stage 1")
    _check(math.isclose(first.remnant.absoluteGrowthMlPerDay, (flrTruth[1] - flrTruth[0]) / 7.0, rel_tol=1e-9), "mL/day differs")
    dh = result.timePoints[1].plan.sFLR - result.timePoints[0].plan.sFLR
    _check(math.isclose(first.degreeOfHypertrophyPp, dh, rel_tol=1e-12), "DH is not the sFLR difference")
    _check(math.isclose(first.kineticGrowthRatePercentPerWeek, dh / (7 / 7.0), rel_tol=1e-12), "KGR is not DH per week since stage 1")
    overall = result.sinceStage1[1]
    _check(overall.toRole == "pre-stage 2" and overall.rateDays == 10, "growth to the pre-stage 2 scan is missing")
    (interval,) = result.intervals
    _check(interval.timeBase == "interval" and interval.rateDays == 3 and interval.kineticGrowthRatePercentPerWeek is None,
           "interval growth between the two later scans")

    timePointTable = timePointCourse.writeTimePointTable(scene.AddNewNodeByClass("vtkMRMLTableNode", "Scenario time points"), result)
    growthTable = timePointCourse.writeGrowthTable(scene.AddNewNodeByClass("vtkMRMLTableNode", "Scenario growth"), result)
    chart = timePointCourse.addGrowthChart(scene, timePointTable, result, sflrThresholdPercent=20.0)
    sequence, _ = timePointCourse.addSegmentationSequence(scene, points, patient.stage1Date)
    _check(sequence.GetNumberOfDataNodes() == 3 and sequence.GetNthIndexValue(1) == "7", "segmentations not browsable by day")
    _check(chart.GetNumberOfPlotSeriesNodes() == 3, "chart needs FLR, sFLR and the threshold line")
    _check(growthTable.GetNumberOfRows() == 3, "two rows since stage 1 and one interval")
    bundle = os.path.join(temporaryDirectory, "timePointCourse.mrb")
    _check(scene.WriteToMRB(bundle), f"writing {bundle} failed")
    scene.Clear(False)
    _check(scene.ReadFromMRB(bundle), f"reading {bundle} failed")
    reloaded = timeline.timePointsInScene(scene)
    _check([(p.role, p.studyDate) for p in reloaded] == [(p.role, p.studyDate) for p in points], "time points lost on reload")
    _check(all(p.volumeNode is not None for p in reloaded), "source volume references lost on reload")
    _check(scene.GetFirstNodeByClass("vtkMRMLPlotChartNode").GetNumberOfPlotSeriesNodes() == 3, "chart lost on reload")
    again = timePointCourse.measureHypertrophy(reloaded, resectionPlans.presetPlan(PLAN), _settings(patient), patient.stage1Date)
    _check(math.isclose(again.sinceStage1[0].remnant.relativeGrowthPercent, expected, rel_tol=1e-9), "growth changed on reload")


def boxSegmentation(scene, name, remnantMl):
    """Couinaud segments as slabs of one box: I-III hold ``remnantMl`` together, IV-VIII 1000 mL."""
    voxelMl = 0.1  # 5 x 5 x 4 mm
    ijkToRAS = np.diag([5.0, 5.0, 4.0, 1.0])
    remnantSlices = int(round(remnantMl / voxelMl / 100))  # slabs of 10 x 10 voxels
    counts = [remnantSlices // 3, remnantSlices // 3, remnantSlices - 2 * (remnantSlices // 3)] + [20] * 5
    labels = np.zeros((sum(counts), 10, 10), dtype=np.uint8)
    start = 0
    for value, count in enumerate(counts, 1):
        labels[start : start + count] = value
        start += count
    segmentationNode = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", name)
    names = {value: f"Segment {segmentId}" for value, segmentId in enumerate(couinaud.SEGMENT_IDS, 1)}
    segmentationImport.importLabelArray(segmentationNode, labels, ijkToRAS, names)
    return segmentationNode


def workedExampleOfTheReference(scene, temporaryDirectory):
    """Clinical reference section 4: FLR 300 -> 500 mL on a scan 9 days after stage 1 is +66.67 %,
    7.41 %/day and 22.2 mL/day since stage 1, whenever the baseline scan was taken; two interstage
    scans on day 7 (450 mL) and 14 (520 mL) give interval growth of +15.56 %, 2.22 %/day."""
    stage1 = datetime.date(2026, 1, 10)
    for baselineDaysBefore in (1, 21):
        before = timeline.TimePoint("pre-stage 1", stage1 - datetime.timedelta(days=baselineDaysBefore), boxSegmentation(scene, "Before", 300.0))
        after = timeline.TimePoint("interstage", stage1 + datetime.timedelta(days=9), boxSegmentation(scene, "After", 500.0))
        result = timePointCourse.measureHypertrophy([after, before], resectionPlans.presetPlan(PLAN), stage1Date=stage1)
        growth = result.sinceStage1[0].remnant
        _check(math.isclose(growth.beforeMl, 300.0, rel_tol=1e-9) and math.isclose(growth.afterMl, 500.0, rel_tol=1e-9), "box volumes")
        _check(round(growth.relativeGrowthPercent, 2) == 66.67, f"relative growth {growth.relativeGrowthPercent}")
        _check(round(growth.relativeGrowthPercentPerDay, 2) == 7.41, f"growth per day {growth.relativeGrowthPercentPerDay}")
        _check(round(growth.absoluteGrowthMlPerDay, 1) == 22.2, f"mL per day {growth.absoluteGrowthMlPerDay}")
    first = timeline.TimePoint("interstage", stage1 + datetime.timedelta(days=7), boxSegmentation(scene, "Day 7", 450.0))
    second = timeline.TimePoint("interstage 2", stage1 + datetime.timedelta(days=14), boxSegmentation(scene, "Day 14", 520.0))
    baseline = timeline.TimePoint("pre-stage 1", stage1 - datetime.timedelta(days=2), boxSegmentation(scene, "Baseline", 300.0))
    result = timePointCourse.measureHypertrophy([baseline, first, second], resectionPlans.presetPlan(PLAN), stage1Date=stage1)
    (interval,) = result.intervals
    _check(interval.timeBase == "interval" and interval.rateDays == 7, "interval growth between the interstage scans")
    _check(round(interval.remnant.relativeGrowthPercent, 2) == 15.56, f"interval growth {interval.remnant.relativeGrowthPercent}")
    _check(round(interval.remnant.relativeGrowthPercentPerDay, 2) == 2.22, f"interval %/day {interval.remnant.relativeGrowthPercentPerDay}")


def impossibleTimelinesAreRefusedByName(scene, temporaryDirectory):
    """Same-day scans give no rate (no division by zero), dates against roles are refused,
    a shrinking remnant is reported, and different plans need confirmation."""
    stage1 = datetime.date(2026, 1, 10)
    plan = resectionPlans.presetPlan(PLAN)
    first = boxSegmentation(scene, "First", 300.0)
    second = boxSegmentation(scene, "Second", 280.0)
    sameDay = [timeline.TimePoint("interstage", stage1 + datetime.timedelta(days=7), first),
               timeline.TimePoint("pre-stage 2", stage1 + datetime.timedelta(days=7), second)]
    result = timePointCourse.measureHypertrophy(sameDay, plan, stage1Date=stage1)
    interval = result.intervals[0]
    _check(interval.remnant.relativeGrowthPercentPerDay is None and interval.kineticGrowthRatePercentPerWeek is None, "rates on one day")
    _check(any("share the date" in warning for warning in result.warnings), "same-day scans not reported")
    _check(any("remnant shrank" in warning for warning in result.warnings), "shrinking remnant not reported")
    outOfOrder = [timeline.TimePoint("pre-stage 1", stage1 + datetime.timedelta(days=9), first),
                  timeline.TimePoint("interstage", stage1 + datetime.timedelta(days=7), second)]
    for points, expected in ((outOfOrder, "Dates out of order"),):
        try:
            timePointCourse.measureHypertrophy(points, plan, stage1Date=stage1)
        except ValueError as error:
            _check(expected in str(error) and "pre-stage 1" in str(error), f"unclear message: {error}")
        else:
            raise AssertionError("dates out of order were accepted")
    differentPlans = [timeline.TimePoint("pre-stage 1", stage1 - datetime.timedelta(days=1), first),
                      timeline.TimePoint("interstage", stage1 + datetime.timedelta(days=7), second, planKey="right_hepatectomy")]
    try:
        timePointCourse.measureHypertrophy(differentPlans, plan, stage1Date=stage1)
    except ValueError as error:
        _check("right_hepatectomy" in str(error) and "confirm" in str(error), f"unclear message: {error}")
    else:
        raise AssertionError("different plans were accepted without confirmation")
    confirmed = timePointCourse.measureHypertrophy(differentPlans, plan, stage1Date=stage1, allowDifferentPlans=True)
    _check(confirmed.timePoints[1].plan.key == "right_hepatectomy", "the confirmed plan was not used")
    segmentation = second.GetSegmentation()
    segmentation.RemoveSegment(segmentation.GetSegmentIdBySegmentName("Segment III"))
    try:
        timePointCourse.measureHypertrophy(differentPlans[:1] + [timeline.TimePoint("interstage", stage1 + datetime.timedelta(days=7), second)], plan, stage1Date=stage1)
    except ValueError as error:
        _check("interstage (2026-01-17)" in str(error) and "III" in str(error), f"unclear message: {error}")
    else:
        raise AssertionError("a time point without segment III was measured")


def _frameSequence(scene, study, ijkToRAS):
    """The simulated dynamic study as Slicer holds it: a sequence of 2-D frames indexed by start
    time (s), and the liver and heart drawn as segments on a frame."""
    sequence = scene.AddNewNodeByClass("vtkMRMLSequenceNode", "Scenario mebrofenin dynamic")
    sequence.SetIndexName("time")
    sequence.SetIndexUnit("s")
    for frame, start in zip(study.frames, study.frameStartSeconds):
        node = segmentationImport.addVolumeFromArray(scene, "__scenario_frame__", frame[np.newaxis].astype(np.float32), ijkToRAS)
        sequence.SetDataNodeAtValue(node, f"{start:g}")
        scene.RemoveNode(node)
    regions = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Scenario dynamic regions")
    segmentationImport.importMaskArrays(regions, {"Liver": study.liverMask[np.newaxis], "Heart": study.bloodPoolMask[np.newaxis]}, ijkToRAS)
    return sequence, regions


def functionalImagingOfATimePoint(scene, temporaryDirectory):
    """The panel's functional imaging path on a simulated interstage scan: a misaligned SPECT
    registered to the CT (liver TRE < 2 mm), the dynamic series as a sequence with drawn regions
    (MUR within 5 % of the simulated 12 %/min), FLR-C within 2.5 points of the simulated share,
    the remnant function stored with the time point and read by the readiness checklist, the
    SPECT overlay, and a gadoxetate MRI stored beside it."""
    point = syntheticPatient.makeTimePoint("interstage", 7, 1.222, spacing=(4.0, 4.0, 4.0))
    ctNode, segmentationNode = syntheticPatientScene.addTimePointNodes(scene, point, "Functional")
    timeline.storeTimePoint(timeline.TimePoint(point.role, point.studyDate, segmentationNode, ctNode, PLAN))
    plan = resectionPlans.presetPlan(PLAN)
    volumes = {segmentId: point.trueVolumesMl[segmentId] for segmentId in couinaud.SEGMENT_IDS}
    shares = functionalSimulator.segmentSharesFromRelativeFunction(functionalSimulator.INTERSTAGE_RELATIVE_FUNCTION_PER_ML, volumes)
    spect = functionalSimulator.simulateSpect(point.couinaudLabels, point.ijkToRAS, shares, seed=3)
    spectNode = segmentationImport.addVolumeFromArray(scene, "Functional SPECT", spect.counts.astype(np.float32), spect.ijkToRAS)

    registration = functionalWorkflow.registerFunctionalToScan(ctNode, spectNode, segmentationNode, "rigid")
    _check(registration.succeeded and "Liver overlap (Dice)" in registration.summary, registration.summary)
    _check(spectNode.GetParentTransformNode() is registration.transformNode, "the SPECT is not under the registration transform")
    k, j, i = np.nonzero(point.couinaudLabels)
    liverPoints = (point.ijkToRAS @ np.c_[i, j, k, np.ones(len(i))].T)[:3].T
    meanError, _ = functionalSimulator.targetRegistrationErrorMm(imageGrid.toWorldMatrix(spectNode), spect.matrixToParent, liverPoints)
    _check(meanError < 2.0, f"target registration error over the liver {meanError:.2f} mm")

    study = functionalSimulator.simulateDynamicStudy(0.12, seed=11, makeFrames=True)
    frameIjkToRAS = np.array([[-4.8, 0.0, 0.0, 150.0], [0.0, 0.0, 5.0, 40.0], [0.0, -4.8, 0.0, 160.0], [0.0, 0.0, 0.0, 1.0]])
    sequence, regions = _frameSequence(scene, study, frameIjkToRAS)
    curves = functionalWorkflow.mebrofeninCurves(sequence, regions)
    outcome = functionalWorkflow.measureMebrofenin(segmentationNode, plan, spectNode, curves, bsaM2=1.93, outwardMarginMm=9.0)
    mur = outcome.uptake.murPercentPerMin
    _check(abs(mur / study.expectedMurPercentPerMin - 1.0) <= 0.05, f"MUR {mur:.2f} %/min, simulated {study.expectedMurPercentPerMin:.2f}")
    truth = 100.0 * functionalSimulator.trueRemnantShare(shares, plan.remnantSegments)
    _check(abs(outcome.share.percent - truth) <= 2.5, f"FLR-C {outcome.share.percent:.2f} %, simulated {truth:.2f} %")
    _check(outcome.tableNode.GetNumberOfRows() == 7 and outcome.chartNode.GetNumberOfPlotSeriesNodes() == 3, "mebrofenin table or chart")
    functionalWorkflow.storeMeasuredFunction(outcome.tableNode, segmentationNode)
    stored = timeline.timePointOfNode(segmentationNode)
    _check(math.isclose(stored.remnantFunction["flrFunctionPerBsa"], outcome.assessment.flrFunctionPerBsa, rel_tol=1e-12), "FLR-F/BSA not stored")
    study = timeline.functionalStudiesOfNode(segmentationNode).get("mebrofenin") or {}
    _check((study.get("registration") or {}).get("diceAfter") == registration.result.diceAfter, "the registration's figures did not reach the stored study")
    result = timePointCourse.measureHypertrophy([stored], plan)
    criteria = {item.criterion: item for item in stageTwoReadiness.readinessChecklist(result)}
    _check(math.isclose(criteria["remnantFunction"].value, outcome.assessment.flrFunctionPerBsa, rel_tol=1e-12), "readiness ignores the stored function")

    overlay = functionalOverlay.showFunctionalOverlay(functionalOverlay.SPECT_LIVER_COUNTS, ctNode, spectNode, segmentationNode=segmentationNode)
    _check(0.0 < overlay.window[0] < overlay.window[1] and overlay.mapNode.GetImageData().GetDimensions() == ctNode.GetImageData().GetDimensions(),
           f"SPECT overlay window {overlay.window}")

    pre, hbp, ijkToRAS = functionalSimulator.simulateGadoxetateMri(point, functionalSimulator.INTERSTAGE_RELATIVE_FUNCTION_PER_ML, seed=2)
    preNode = segmentationImport.addVolumeFromArray(scene, "Functional MRI pre", pre, ijkToRAS)
    hbpNode = segmentationImport.addVolumeFromArray(scene, "Functional MRI HBP", hbp, ijkToRAS)
    gadoxetate = functionalWorkflow.measureGadoxetatePanel(segmentationNode, plan, hbpNode, preNode)
    remnantShare = gadoxetate.document["remnantFunctionalShare"]["share"]
    volumeShare = sum(point.trueVolumesMl[s] for s in plan.remnantSegments) / point.trueVolumesMl["Liver"]
    _check(remnantShare > volumeShare, f"the remnant's functional share {remnantShare:.3f} should exceed its volume share {volumeShare:.3f}")
    functionalWorkflow.storeMeasuredFunction(gadoxetate.tableNode, segmentationNode)
    both = timeline.timePointOfNode(segmentationNode).remnantFunction
    _check("flrFunctionPerBsa" in both and "gadoxetateFunctionalSharePercent" in both, f"stored function lost a modality: {both}")


SCENARIOS = (
    hypertrophyFollowsSyntheticGrowth,
    workedExampleOfTheReference,
    impossibleTimelinesAreRefusedByName,
    functionalImagingOfATimePoint,
)
