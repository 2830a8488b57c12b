"""Functional imaging of a time point through the path the panel uses (functionalWorkflow and
functionalOverlay): mebrofenin from a dynamic sequence and a SPECT with a known misalignment,
gadoxetate MRI with muscle points, their tables, the remnant function stored with the time point
and read by the readiness checklist, and the overlay windows on images whose values are known.
Registration itself is run by the self-test scenario (test_scenarios)."""

import json

import numpy as np
import pytest
from ALPPSAssessmentLib.functional import functionalOverlay, functionalSimulator, imageRegistration, mebrofeninUptake
from ALPPSAssessmentLib import functionalWorkflow
from ALPPSAssessmentLib.course import stageTwoReadiness, timeline, timePointCourse
from ALPPSVolumetryLib.segments import couinaud, segmentationImport
from ALPPSVolumetryLib import imageGrid, syntheticPatient, syntheticPatientScene
from ALPPSVolumetryLib.planning import resectionPlans
from ALPPSVolumetryLib.imageGrid import vtkMatrixFromArray

PLAN = resectionPlans.presetPlan("right_trisectionectomy")
BSA = 1.93
FRAME_IJK_TO_RAS = np.array([[-4.8, 0.0, 0.0, 150.0], [0.0, 0.0, 5.0, 40.0], [0.0, -4.8, 0.0, 160.0], [0.0, 0.0, 0.0, 1.0]])


@pytest.fixture
def timePointCase(slicerContext):
    """The interstage scan on a 4 mm grid, stored as a time point, with its simulated SPECT."""
    scene = slicerContext.scene
    point = syntheticPatient.makeTimePoint("interstage", 7, 1.222, spacing=(4.0, 4.0, 4.0))
    ctNode, segmentationNode = syntheticPatientScene.addTimePointNodes(scene, point, "Interstage")
    timeline.storeTimePoint(timeline.TimePoint("interstage", point.studyDate, segmentationNode, ctNode, PLAN.key))
    volumes = {s: point.trueVolumesMl[s] for s in couinaud.SEGMENT_IDS}
    shares = functionalSimulator.segmentSharesFromRelativeFunction(functionalSimulator.INTERSTAGE_RELATIVE_FUNCTION_PER_ML, volumes)
    spect = functionalSimulator.simulateSpect(point.couinaudLabels, point.ijkToRAS, shares, seed=3)
    spectNode = segmentationImport.addVolumeFromArray(scene, "Interstage SPECT", spect.counts.astype(np.float32), spect.ijkToRAS)
    truth = functionalSimulator.trueRemnantShare(shares, PLAN.remnantSegments)
    return scene, point, ctNode, segmentationNode, spectNode, spect, truth


def _placeWithTransform(scene, volumeNode, matrixToParent):
    transformNode = scene.AddNewNodeByClass("vtkMRMLLinearTransformNode", f"{volumeNode.GetName()} to CT")
    transformNode.SetMatrixTransformToParent(vtkMatrixFromArray(matrixToParent))
    volumeNode.SetAndObserveTransformNodeID(transformNode.GetID())


def _dynamicSequence(scene, study):
    sequence = scene.AddNewNodeByClass("vtkMRMLSequenceNode", "Mebrofenin dynamic")
    sequence.SetIndexUnit("s")
    for frame, start in zip(study.frames, study.frameStartSeconds):
        node = segmentationImport.addVolumeFromArray(scene, "__frame__", frame[np.newaxis].astype(np.float32), FRAME_IJK_TO_RAS)
        sequence.SetDataNodeAtValue(node, f"{start:g}")
        scene.RemoveNode(node)
    regions = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Dynamic regions")
    segmentationImport.importMaskArrays(regions, {"Liver": study.liverMask[np.newaxis], "Heart": study.bloodPoolMask[np.newaxis]}, FRAME_IJK_TO_RAS)
    return sequence, regions


def _liverCurve(curves):
    return curves.liver.tolist()


def _tableRows(tableNode):
    table = tableNode.GetTable()
    names = [table.GetColumn(index).GetName() for index in range(table.GetNumberOfColumns())]
    return [{name: table.GetColumn(index).GetValue(row) for index, name in enumerate(names)} for row in range(table.GetNumberOfRows())]


def _row(rows, quantity, region=None):
    (found,) = [row for row in rows if row["Quantity"] == quantity and (region is None or row["Region"] == region)]
    return found


def test_mebrofeninFromTheDynamicSequenceStoredWithTheTimePoint(timePointCase):
    scene, point, ctNode, segmentationNode, spectNode, spect, truth = timePointCase
    _placeWithTransform(scene, spectNode, spect.matrixToParent)
    study = functionalSimulator.simulateDynamicStudy(0.12, seed=8, makeFrames=True)
    sequence, regions = _dynamicSequence(scene, study)
    curves = functionalWorkflow.mebrofeninCurves(sequence, regions)
    np.testing.assert_allclose(curves.liver, study.curves.liver, rtol=1e-9)
    outcome = functionalWorkflow.measureMebrofenin(segmentationNode, PLAN, spectNode, curves, BSA, outwardMarginMm=9.0)
    assert outcome.uptake.murPercentPerMin == pytest.approx(study.expectedMurPercentPerMin, rel=0.05)
    assert abs(outcome.share.percent - 100 * truth) <= 2.0
    assessment = outcome.assessment
    assert assessment.flrFunctionPercentPerMin == pytest.approx(outcome.uptake.murPercentPerMin * outcome.share.fraction, rel=1e-12)
    assert assessment.flrFunctionPerBsa == pytest.approx(assessment.flrFunctionPercentPerMin / BSA, rel=1e-12)
    rows = _tableRows(outcome.tableNode)
    assert _row(rows, "Mebrofenin uptake rate (MUR)")["Value"] == pytest.approx(outcome.uptake.murPercentPerMin)
    assert _row(rows, "Remnant share of liver counts (FLR-C)")["Value"] == pytest.approx(outcome.share.percent)
    perBsa = _row(rows, "Remnant function per BSA (FLR-F/BSA)")
    assert perBsa["Value"] == pytest.approx(assessment.flrFunctionPerBsa) and perBsa["Unit"] == "%/min/m2"
    # FLR-F/BSA of about 2.5 %/min/m2 lies in both risk groups (< 2.69, <= 2.7): not met, and unchecked
    # (the MUR normalisation behind it is).
    expectedState = "not met" if round(assessment.flrFunctionPerBsa, 2) < 2.69 else "met"
    assert _row(rows, "FLR-F/BSA (de Graaf 2010 J Gastrointest Surg 14:369)")["Flag"] == f">= 2.69 %/min/m2: {expectedState} [unchecked]"
    assert outcome.tableNode.GetColumnUnitLabel("Value") == ""
    stored = json.loads(outcome.tableNode.GetAttribute(functionalWorkflow.MEASURED_FUNCTION_ATTRIBUTE))
    assert stored == pytest.approx(
        {"flrFunctionPerBsa": assessment.flrFunctionPerBsa, "flrFunctionPercentPerMin": assessment.flrFunctionPercentPerMin,
         "murPercentPerMin": outcome.uptake.murPercentPerMin, "flrSharePercent": outcome.share.percent}
    )
    assert outcome.chartNode.GetNumberOfPlotSeriesNodes() == 3 and outcome.curvesTableNode.GetNumberOfRows() == 36
    # Measuring again replaces the chart rather than piling charts up.
    again = functionalWorkflow.measureMebrofenin(segmentationNode, PLAN, spectNode, curves, BSA, 9.0, outcome.tableNode)
    assert again.tableNode is outcome.tableNode
    assert scene.GetNumberOfNodesByClass("vtkMRMLPlotChartNode") == 1 and scene.GetNumberOfNodesByClass("vtkMRMLPlotSeriesNode") == 3

    functionalWorkflow.storeMeasuredFunction(outcome.tableNode, segmentationNode)
    reread = timeline.timePointOfNode(segmentationNode)
    assert reread.remnantFunction == pytest.approx(stored) and reread.labs == {} and reread.planKey == PLAN.key
    # The whole study goes with it, for the patient report: figures, curves, no registration (placed by hand here).
    study = timeline.functionalStudiesOfNode(segmentationNode)["mebrofenin"]
    assert study["uptake"]["murPercentPerMin"] == outcome.uptake.murPercentPerMin and study["registration"] is None
    assert study["timeActivityCurves"]["liver"] == pytest.approx(_liverCurve(curves))
    assert study["remnantShare"]["percent"] == outcome.share.percent
    result = timePointCourse.measureHypertrophy([reread], PLAN)
    criteria = {item.criterion: item for item in stageTwoReadiness.readinessChecklist(result)}
    assert criteria["remnantFunction"].value == pytest.approx(assessment.flrFunctionPerBsa)
    # Without BSA, FLR-F/BSA is not computed, so nothing is stored for it (never a 0).
    noBsa = functionalWorkflow.measureMebrofenin(segmentationNode, PLAN, spectNode, curves, None, 9.0)
    assert "flrFunctionPerBsa" not in noBsa.functionValues and "no BSA" in noBsa.summary
    assert np.isnan(_row(_tableRows(noBsa.tableNode), "Remnant function per BSA (FLR-F/BSA)")["Value"])


def test_curvesFromATableNodeAndMissingInputs(timePointCase):
    scene = timePointCase[0]
    study = functionalSimulator.simulateDynamicStudy(0.12, seed=9)
    table, _ = functionalWorkflow.replaceTimeActivityChart(scene, study.curves)
    curves = functionalWorkflow.mebrofeninCurves(timeActivityTable=table)
    np.testing.assert_allclose(curves.midTimesSeconds, study.curves.midTimesSeconds)
    np.testing.assert_allclose(curves.bloodPool, study.curves.bloodPool)
    assert curves.source.startswith(f"table '{table.GetName()}'")
    # Without durations decay is corrected at mid-times: the same rate to well within 0.1 %.
    assert mebrofeninUptake.mebrofeninUptakeRate(curves).murPercentPerMin == pytest.approx(
        mebrofeninUptake.mebrofeninUptakeRate(study.curves).murPercentPerMin, rel=1e-3
    )
    with pytest.raises(ValueError, match="No dynamic study: select the dynamic series"):
        functionalWorkflow.mebrofeninCurves()
    sequence = scene.AddNewNodeByClass("vtkMRMLSequenceNode", "Series")
    with pytest.raises(ValueError, match="No regions for the dynamic series 'Series'"):
        functionalWorkflow.mebrofeninCurves(sequence)
    empty = scene.AddNewNodeByClass("vtkMRMLTableNode", "Empty curves")
    with pytest.raises(ValueError, match="'Empty curves' has no rows"):
        functionalWorkflow.mebrofeninCurves(timeActivityTable=empty)
    with pytest.raises(ValueError, match="No segmentation"):
        functionalWorkflow.measureMebrofenin(None, PLAN, None, curves)


def test_gadoxetateIntoTableAndTimePoint(timePointCase):
    scene, point, ctNode, segmentationNode, _, _, _ = timePointCase
    pre, hbp, ijkToRAS = functionalSimulator.simulateGadoxetateMri(point, functionalSimulator.INTERSTAGE_RELATIVE_FUNCTION_PER_ML, seed=2)
    preNode = segmentationImport.addVolumeFromArray(scene, "Pre", pre, ijkToRAS)
    hbpNode = segmentationImport.addVolumeFromArray(scene, "HBP", hbp, ijkToRAS)
    muscle = (point.ct > 30) & (point.ct < 60) & (point.couinaudLabels == 0) & ~point.structures["Spleen"]
    k, j, i = np.argwhere(muscle)[len(np.argwhere(muscle)) // 2]
    markups = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "Paraspinal muscle")
    markups.AddControlPoint(*(point.ijkToRAS @ np.array([i, j, k, 1.0]))[:3])
    outcome = functionalWorkflow.measureGadoxetatePanel(segmentationNode, PLAN, hbpNode, preNode, "", markups, 5.0)
    from ALPPSAssessmentLib.functional import gadoxetateWorkflow

    direct = gadoxetateWorkflow.measureGadoxetate(segmentationNode, PLAN, hbpNode, preNode, None, markups, 5.0)
    document = outcome.document
    assert document["liverIndices"] == direct["liverIndices"] and document["remnantHui"] == direct["remnantHui"]
    assert set(document["liverIndices"]["values"]) == {"lsr", "lmr", "rle", "cei"}
    rows = _tableRows(outcome.tableNode)
    assert _row(rows, "Liver-to-spleen ratio (LSR)", "whole liver")["Value"] == pytest.approx(document["liverIndices"]["values"]["lsr"])
    assert _row(rows, "Liver-to-muscle ratio (LMR)", "remnant")["Value"] == pytest.approx(document["remnantIndices"]["values"]["lmr"])
    assert _row(rows, "Remnant HUI (rHUI)")["Value"] == pytest.approx(document["remnantHui"]["value"])
    flag = document["remnantHuiFlag"]
    assert _row(rows, flag["label"])["Flag"] == f">= 0.41 L: {flag['state']} [unchecked]"
    share = _row(rows, "Remnant functional share (voxel map)")
    assert share["Value"] == pytest.approx(100 * document["remnantFunctionalShare"]["share"]) and "RLE" in share["Note"]
    assert outcome.mapNode is not None and outcome.mapNode.GetAttribute("ALPPS.Gadoxetate.Map") == "RLE"
    # Measured again without muscle points: the map is replaced, LMR is missing with its reason.
    markups.RemoveAllControlPoints()
    again = functionalWorkflow.measureGadoxetatePanel(segmentationNode, PLAN, hbpNode, preNode, "Spleen", markups, 5.0, outcome.tableNode)
    assert len(gadoxetateWorkflow.enhancementMapNodes(scene)) == 1 and "No muscle ROI" in again.summary
    lmr = _row(_tableRows(again.tableNode), "Liver-to-muscle ratio (LMR)", "whole liver")
    assert np.isnan(lmr["Value"]) and lmr["Note"] == "no muscle signal (HBP)"
    # Stored beside an earlier mebrofenin value: both stay.
    functionalWorkflow.storeRemnantFunction(segmentationNode, {"flrFunctionPerBsa": 2.4})
    functionalWorkflow.storeMeasuredFunction(again.tableNode, segmentationNode)
    stored = timeline.timePointOfNode(segmentationNode).remnantFunction
    assert stored["flrFunctionPerBsa"] == 2.4
    assert stored["gadoxetateFunctionalSharePercent"] == pytest.approx(100 * document["remnantFunctionalShare"]["share"])
    assert stored["remnantHuiLitres"] == pytest.approx(document["remnantHui"]["value"])  # already in litres
    with pytest.raises(ValueError, match="No hepatobiliary-phase MRI selected"):
        functionalWorkflow.measureGadoxetatePanel(segmentationNode, PLAN, None)


def test_gadoxetateMeasurementAddsNoNodeAndThePanelShowsOneMap(timePointCase):
    """Measuring returns the map as an array on the HBP grid and leaves the scene as it was; the
    panel's workflow shows it as one volume, replaced when it measures again."""
    from ALPPSAssessmentLib.functional import gadoxetateImages, gadoxetateWorkflow

    scene, point, ctNode, segmentationNode, _, _, _ = timePointCase
    pre, hbp, ijkToRAS = functionalSimulator.simulateGadoxetateMri(point, functionalSimulator.INTERSTAGE_RELATIVE_FUNCTION_PER_ML, seed=5)
    preNode = segmentationImport.addVolumeFromArray(scene, "Pre twice", pre, ijkToRAS)
    hbpNode = segmentationImport.addVolumeFromArray(scene, "HBP twice", hbp, ijkToRAS)
    _placeWithTransform(scene, hbpNode, np.eye(4))
    _placeWithTransform(scene, preNode, np.eye(4))
    liver = point.couinaudLabels > 0
    nodes = scene.GetNumberOfNodes()
    measurement = gadoxetateWorkflow.measureGadoxetateWithMap(segmentationNode, PLAN, hbpNode, preNode)
    spleenMap = gadoxetateImages.liverSpleenEnhancementMap(hbpNode, 370.0)
    assert scene.GetNumberOfNodes() == nodes
    rle = measurement.enhancementMap
    assert rle.kind == "RLE" and rle.hbpImage is hbpNode and spleenMap.kind == "L/S - 1"
    np.testing.assert_allclose(rle.ijkToRAS, ijkToRAS)
    np.testing.assert_allclose(rle.array[liver], ((hbp - pre) / pre)[liver], rtol=1e-5)
    np.testing.assert_allclose(spleenMap.array, hbp / np.float32(370.0) - 1.0, rtol=1e-6)

    first = functionalWorkflow.measureGadoxetatePanel(segmentationNode, PLAN, hbpNode, preNode)
    second = functionalWorkflow.measureGadoxetatePanel(segmentationNode, PLAN, hbpNode, preNode, resultTable=first.tableNode)
    shown = [node for node in gadoxetateWorkflow.enhancementMapNodes(scene) if node.GetName() == "HBP twice RLE"]
    assert [node.GetID() for node in shown] == [second.mapNode.GetID()] and scene.GetNodeByID(first.mapNode.GetID()) is None
    assert second.mapNode.GetParentTransformNode() is hbpNode.GetParentTransformNode()
    np.testing.assert_array_equal(imageGrid.volumeNodeArray(second.mapNode), rle.array)
    np.testing.assert_allclose(imageGrid.nodeIjkToRas(second.mapNode), ijkToRAS)
    assert second.document == measurement.document


def test_storingNamesItsMistakes(timePointCase):
    scene, point, ctNode, segmentationNode, _, _, _ = timePointCase
    other = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Not a time point")
    with pytest.raises(ValueError, match="'Not a time point' is not a time point yet: store it in the Time point section first"):
        functionalWorkflow.storeRemnantFunction(other, {"flrFunctionPerBsa": 2.0})
    with pytest.raises(ValueError, match="key 'flrFunction' is unknown: expected one of flrFunctionPerBsa"):
        functionalWorkflow.storeRemnantFunction(segmentationNode, {"flrFunction": 2.0})
    with pytest.raises(ValueError, match="flrFunctionPerBsa=-1 is invalid"):
        functionalWorkflow.storeRemnantFunction(segmentationNode, {"flrFunctionPerBsa": -1})
    with pytest.raises(ValueError, match="flrSharePercent=130 is above 100 %"):
        functionalWorkflow.storeRemnantFunction(segmentationNode, {"flrSharePercent": 130})
    with pytest.raises(ValueError, match="No measured remnant function: measure first"):
        functionalWorkflow.storeMeasuredFunction(scene.AddNewNodeByClass("vtkMRMLTableNode", "Blank"), segmentationNode)
    with pytest.raises(ValueError, match="No time point selected"):
        functionalWorkflow.storeRemnantFunction(None, {"flrFunctionPerBsa": 2.0})


def test_overlayWindowsOfKnownImages():
    # Liver voxels carry 1..100: the 5th and 95th percentiles (numpy's linear rule) are 5.95 and 95.05.
    values = np.zeros((4, 10, 10))
    liver = np.zeros(values.shape, dtype=bool)
    liver[1, :, :] = True
    values[1] = np.arange(1, 101).reshape(10, 10)
    values[2] = 1000.0  # bright outside the liver: not in the window
    preset = functionalOverlay.SPECT_LIVER_COUNTS
    assert functionalOverlay.presetWindow(preset, values, liver) == pytest.approx((5.95, 95.05))
    # Without a liver mask: every positive voxel (100 liver voxels 1..100 and 100 voxels of 1000).
    assert functionalOverlay.presetWindow(preset, values) == pytest.approx(tuple(np.percentile(values[values > 0], (5, 95))))
    assert functionalOverlay.presetWindow(functionalOverlay.MRI_RELATIVE_ENHANCEMENT, values) == (0.0, 1.5)
    assert functionalOverlay.presetWindow(functionalOverlay.MRI_LIVER_SPLEEN, values) == (0.0, 1.5)
    with pytest.raises(ValueError, match="no value in the liver"):
        functionalOverlay.presetWindow(preset, np.full(values.shape, np.nan), liver)
    with pytest.raises(ValueError, match="window 7..7 .* is empty"):
        functionalOverlay.presetWindow(preset, np.full(values.shape, 7.0), liver)
    with pytest.raises(ValueError, match="Overlay preset 'PET' is unknown"):
        functionalOverlay.presetWindow("PET", values)


def test_overlayOnTheCtGrid(timePointCase):
    scene, point, ctNode, segmentationNode, _, _, _ = timePointCase
    liver = point.couinaudLabels > 0
    for name, mask in point.structures.items():
        if name.startswith("Tumour"):
            liver |= mask
    # A "SPECT" on the CT grid whose liver voxels count 1, 2, 3, ... : the window is known exactly.
    known = np.zeros(point.ct.shape, dtype=np.float32)
    known[liver] = np.arange(1, int(liver.sum()) + 1)
    known[point.structures["Spleen"]] = 5.0e6
    knownNode = segmentationImport.addVolumeFromArray(scene, "Known counts", known, point.ijkToRAS)
    composites = functionalOverlay.sliceCompositeNodes(scene)
    outcome = functionalOverlay.showFunctionalOverlay(
        functionalOverlay.SPECT_LIVER_COUNTS, ctNode, knownNode, segmentationNode=segmentationNode, opacity=0.4, plan=PLAN,
        layoutNames=("Red", "Yellow"),
    )
    # Normalised to the liver mean (1 = liver mean), then windowed on the liver's percentiles.
    normalised = known / known[liver].astype(np.float64).mean()
    expected = np.percentile(normalised[liver], (5.0, 95.0))
    assert outcome.window == pytest.approx(tuple(expected), rel=1e-5) and outcome.liverVoxels == int(liver.sum())
    np.testing.assert_allclose(imageGrid.volumeNodeArray(outcome.mapNode)[liver], normalised[liver], rtol=1e-5)
    assert outcome.mapNode.GetAttribute(functionalOverlay.UNIT_ATTRIBUTE) == functionalOverlay.NORMALISED_COUNTS_UNIT
    assert [composites[name].GetForegroundVolumeID() for name in ("Red", "Yellow", "Green")] == [outcome.mapNode.GetID()] * 2 + [None]
    assert composites["Red"].GetBackgroundVolumeID() == ctNode.GetID() and composites["Red"].GetForegroundOpacity() == pytest.approx(0.4)
    # The remnant outline over it: the plan segmentation, outlines only, remnant = II + III (+ I) voxels.
    outline = scene.GetFirstNodeByName(f"{segmentationNode.GetName()} - {PLAN.label}")
    assert outline is not None and not outline.GetDisplayNode().GetVisibility2DFill() and outline.GetDisplayNode().GetVisibility2DOutline()
    assert "outline: remnant" in outcome.summary
    displayNode = outcome.mapNode.GetDisplayNode()
    assert displayNode.GetWindowLevelMin() == pytest.approx(expected[0], rel=1e-5) and displayNode.GetWindowLevelMax() == pytest.approx(expected[1], rel=1e-5)
    assert outcome.display.colorName == "PET-Heat"
    assert imageGrid.volumeNodeArray(outcome.mapNode).shape == point.ct.shape
    assert outcome.mapNode.GetAttribute(functionalOverlay.PRESET_ATTRIBUTE) == functionalOverlay.SPECT_LIVER_COUNTS
    again = functionalOverlay.showFunctionalOverlay(functionalOverlay.SPECT_LIVER_COUNTS, ctNode, knownNode, segmentationNode=segmentationNode)
    assert len([n for n in scene.GetNodesByName(again.mapNode.GetName())]) == 1
    # MRI maps, on the CT grid here: RLE and L/S - 1 per voxel, fixed windows.
    pre, hbp, ijkToRAS = functionalSimulator.simulateGadoxetateMri(point, functionalSimulator.INTERSTAGE_RELATIVE_FUNCTION_PER_ML, seed=2)
    preNode = segmentationImport.addVolumeFromArray(scene, "Pre", pre, ijkToRAS)
    hbpNode = segmentationImport.addVolumeFromArray(scene, "HBP", hbp, ijkToRAS)
    rle = functionalOverlay.showFunctionalOverlay(functionalOverlay.MRI_RELATIVE_ENHANCEMENT, ctNode, None, hbpNode, preNode, segmentationNode)
    assert rle.window == (0.0, 1.5)
    np.testing.assert_allclose(imageGrid.volumeNodeArray(rle.mapNode)[liver], ((hbp - pre) / pre)[liver], rtol=1e-5)
    ratio = functionalOverlay.showFunctionalOverlay(functionalOverlay.MRI_LIVER_SPLEEN, ctNode, None, hbpNode, None, segmentationNode)
    spleenMean = hbp[point.structures["Spleen"]].astype(np.float64).mean()
    np.testing.assert_allclose(imageGrid.volumeNodeArray(ratio.mapNode)[liver], (hbp / spleenMean - 1.0)[liver], rtol=1e-4)
    assert scene.GetFirstNodeByName("__alpps_overlay_map__") is None
    with pytest.raises(ValueError, match="No CT selected"):
        functionalOverlay.showFunctionalOverlay(functionalOverlay.SPECT_LIVER_COUNTS, None, knownNode)
    with pytest.raises(ValueError, match="shows the SPECT: select the functional volume"):
        functionalOverlay.showFunctionalOverlay(functionalOverlay.SPECT_LIVER_COUNTS, ctNode)
    with pytest.raises(ValueError, match="needs the pre-contrast MRI; without one use"):
        functionalOverlay.showFunctionalOverlay(functionalOverlay.MRI_RELATIVE_ENHANCEMENT, ctNode, None, hbpNode)


def test_registrationInputsAndSummary(timePointCase):
    scene, point, ctNode, segmentationNode, spectNode, _, _ = timePointCase
    with pytest.raises(ValueError, match="No CT selected"):
        functionalWorkflow.registerFunctionalToScan(None, spectNode, segmentationNode)
    with pytest.raises(ValueError, match="No functional volume selected"):
        functionalWorkflow.registerFunctionalToScan(ctNode, None, segmentationNode)
    with pytest.raises(ValueError, match="is the CT itself"):
        functionalWorkflow.registerFunctionalToScan(ctNode, ctNode, segmentationNode)
    result = imageRegistration.RegistrationResult(
        mode="rigid", initialization="moments", matrixToParent=np.eye(4), sitkTransform=None, metricInitial=-0.31, metricFinal=-0.52,
        iterations=40, iterationsPerLevel=[20, 20], stopReason="step too small", converged=False, diceBefore=0.61, diceAfter=0.83,
        workingSpacingMm=(4.0, 4.0, 4.0), seconds=1.2, failures=["the optimizer did not converge (maximum iterations)"],
    )
    summary = functionalWorkflow.registrationSummary(result)
    assert "Rigid registration FAILED" in summary and "Mutual information 0.3100 -> 0.5200" in summary
    assert "Liver overlap (Dice) 0.610 -> 0.830" in summary and "adjust it by hand (Transforms)" in summary
