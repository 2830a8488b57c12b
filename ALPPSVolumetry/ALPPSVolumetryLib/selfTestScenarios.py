"""Test scenarios that run unchanged under Slicer's self-test (ALPPSVolumetryTest) and under
pytest on slicer-core: each takes a scene and a temporary folder, and raises AssertionError
(or lets a wrong exception through) when the outcome is not the independent truth."""

import math
import os

import numpy as np
import vtk

from .segments import couinaud, segmentationImport, segmentOverlap, segmentVolumes
from .planning import futureLiverRemnant, landmarkSegments, planDisplay, resectionPlans
from .results import resultsTable
from . import syntheticPatient, syntheticPatientScene, volumetryWorkflow
from .sparing import marginVolumetry, sparingDisplay, tumourVesselAnalysis

# A coarse grid keeps the scenarios fast inside Slicer; truth is exact at any spacing.
SCENARIO_SPACING = (2.5, 2.5, 3.0)


def _check(condition, message):
    if not condition:
        raise AssertionError(message)


def _syntheticTimePointInScene(scene, leftLobeScale=1.0):
    timePoint = syntheticPatient.makeTimePoint("pre-stage 1", -3, leftLobeScale, spacing=SCENARIO_SPACING)
    volumeNode, segmentationNode = syntheticPatientScene.addTimePointNodes(scene, timePoint, "Scenario")
    return timePoint, volumeNode, segmentationNode


def segmentVolumesEqualSyntheticTruth(scene, temporaryDirectory):
    """Every segment's voxel count equals the phantom's, counted independently with numpy, and
    tumour spheres lie within voxelisation error of 4/3 pi r^3."""
    timePoint, _, segmentationNode = _syntheticTimePointInScene(scene)
    volumes = {volume.name: volume for volume in segmentVolumes.segmentVolumes(segmentationNode)}
    _check(segmentationNode.GetSegmentation().GetNumberOfLayers() > 1, "tumours and veins should overlap the segments")
    for segmentId in ("I", "II", "III", "IV", "V", "VI", "VII", "VIII"):
        measured = volumes[syntheticPatientScene.couinaudSegmentName(segmentId)]
        _check(
            measured.voxelCount == timePoint.trueVoxelCounts[segmentId],
            f"segment {segmentId}: {measured.voxelCount} voxels, truth {timePoint.trueVoxelCounts[segmentId]}",
        )
        _check(
            math.isclose(measured.volumeMl, timePoint.trueVolumesMl[segmentId], rel_tol=1e-12),
            f"segment {segmentId}: {measured.volumeMl} mL, truth {timePoint.trueVolumesMl[segmentId]} mL",
        )
    for name, _, radiusMm in syntheticPatient.TUMOURS:
        _check(volumes[name].voxelCount == timePoint.trueVoxelCounts[name], f"{name}: voxel count differs from truth")
        analyticMl = 4.0 / 3.0 * math.pi * radiusMm**3 / 1000.0
        # Voxelisation error of a sphere: about the surface area times a third of a voxel.
        toleranceMl = 4.0 * math.pi * radiusMm**2 * max(SCENARIO_SPACING) / 3.0 / 1000.0
        _check(
            abs(volumes[name].volumeMl - analyticMl) <= toleranceMl,
            f"{name}: {volumes[name].volumeMl:.2f} mL, sphere {analyticMl:.2f} +- {toleranceMl:.2f} mL",
        )


def unionCountsOverlapOnce(scene, temporaryDirectory):
    """The union of a segment and the tumour inside it counts shared voxels once."""
    timePoint, _, segmentationNode = _syntheticTimePointInScene(scene)
    ids = {volume.name: volume.segmentId for volume in segmentVolumes.segmentVolumes(segmentationNode)}
    count, volumeMl = segmentOverlap.unionVolume(segmentationNode, [ids["Segment VIII"], ids["Tumour 1"], ids["Portal vein"]])
    truth = (timePoint.couinaudLabels == 8) | timePoint.structures["Tumour 1"] | timePoint.structures["Portal vein"]
    _check(count == int(np.count_nonzero(truth)), f"union has {count} voxels, truth {int(np.count_nonzero(truth))}")
    separate = sum(timePoint.trueVoxelCounts[key] for key in ("VIII", "Tumour 1", "Portal vein"))
    _check(count < separate, "segments overlap, so the union must be smaller than the sum")


def resultsTableSurvivesSceneReload(scene, temporaryDirectory):
    """Volumes written to a table node are numbers with units, and come back from a saved .mrb."""
    _, _, segmentationNode = _syntheticTimePointInScene(scene)
    volumes = segmentVolumes.segmentVolumes(segmentationNode)
    tableNode = scene.AddNewNodeByClass("vtkMRMLTableNode", "Scenario segment volumes")
    resultsTable.writeSegmentVolumeTable(tableNode, volumes)
    _check(tableNode.GetColumnUnitLabel("Volume") == "mL", "volume column must carry its unit")
    bundle = os.path.join(temporaryDirectory, "scenario.mrb")
    _check(scene.WriteToMRB(bundle), f"writing {bundle} failed")
    scene.Clear(False)
    _check(scene.ReadFromMRB(bundle), f"reading {bundle} failed")
    reloaded = scene.GetFirstNodeByName("Scenario segment volumes")
    _check(reloaded is not None, "the results table is missing after reload")
    table = reloaded.GetTable()
    volumeColumn = table.GetColumnByName("Volume")
    _check(volumeColumn.GetDataType() in (10, 11), "volumes must be stored as numbers after reload")
    _check(reloaded.GetColumnUnitLabel("Volume") == "mL", "the unit is lost after reload")
    countColumn = table.GetColumnByName("Voxel count")
    for row, volume in enumerate(volumes):
        _check(table.GetValueByName(row, "Segment").ToString() == volume.name, f"row {row} holds another segment")
        _check(countColumn.GetValue(row) == volume.voxelCount, f"{volume.name}: voxel count changed through reload")
        # Slicer's table files keep 6 significant digits: 0.01 mL or better below 10 L.
        _check(
            math.isclose(volumeColumn.GetValue(row), volume.volumeMl, abs_tol=0.01),
            f"{volume.name}: {volumeColumn.GetValue(row)} mL after reload, {volume.volumeMl} before",
        )
    reloadedSegmentation = scene.GetFirstNodeByClass("vtkMRMLSegmentationNode")
    after = {volume.name: volume.voxelCount for volume in segmentVolumes.segmentVolumes(reloadedSegmentation)}
    _check(after == {volume.name: volume.voxelCount for volume in volumes}, "segment voxels changed through save and reload")


def emptyInputIsRejectedByName(scene, temporaryDirectory):
    """An empty segmentation is an error naming it; an empty segment is reported, never 0 mL silently."""
    segmentationNode = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Empty segmentation")
    try:
        segmentVolumes.segmentVolumes(segmentationNode)
    except ValueError as error:
        _check("Empty segmentation" in str(error), f"message does not name the input: {error}")
    else:
        raise AssertionError("an empty segmentation was accepted")
    _, _, segmentationNode = _syntheticTimePointInScene(scene)
    segmentationNode.GetSegmentation().AddEmptySegment("Empty tumour", "Empty tumour")
    volumes = {volume.name: volume for volume in segmentVolumes.segmentVolumes(segmentationNode)}
    _check(volumes["Empty tumour"].isEmpty, "an empty segment must be flagged as empty")
    tableNode = scene.AddNewNodeByClass("vtkMRMLTableNode")
    resultsTable.writeSegmentVolumeTable(tableNode, volumes.values())
    emptyColumn = tableNode.GetTable().GetColumnByName("Empty")
    flags = {tableNode.GetCellText(row, 0): emptyColumn.GetValue(row) for row in range(tableNode.GetNumberOfRows())}
    _check(flags["Empty tumour"] == "yes" and flags["Segment II"] == "no", f"table empty flags wrong: {flags}")


def remnantOfEveryPlanEqualsSyntheticTruth(scene, temporaryDirectory):
    """Remnant, resected and tumour-in-remnant volumes and %FLR of every preset plan equal the
    phantom's truth counted with numpy; the plan display segments hold the same volumes."""
    timePoint, _, segmentationNode = _syntheticTimePointInScene(scene)
    plans = [resectionPlans.presetPlan(key) for key in resectionPlans.PRESETS]
    plans.append(resectionPlans.presetPlan("right_trisectionectomy", caudateInRemnant=False))
    result = futureLiverRemnant.measureVolumetry(segmentationNode, plans)
    voxelMl = timePoint.voxelVolumeMl
    labels = timePoint.couinaudLabels
    tumour = np.zeros(labels.shape, dtype=bool)
    for name, _, _ in syntheticPatient.TUMOURS:
        tumour |= timePoint.structures[name]
    liverCount = int(np.count_nonzero(labels))
    tumourInLiver = int(np.count_nonzero(tumour & (labels > 0)))
    _check(math.isclose(result.totalLiverMl, liverCount * voxelMl, rel_tol=1e-12), "total liver volume differs from truth")
    for plan, planResult in zip(plans, result.plans):
        values = [index for index, segmentId in enumerate(("I", "II", "III", "IV", "V", "VI", "VII", "VIII"), 1) if segmentId in plan.remnantSegments]
        remnant = np.isin(labels, values)
        remnantCount = int(np.count_nonzero(remnant))
        tumourInRemnant = int(np.count_nonzero(remnant & tumour))
        _check(math.isclose(planResult.remnantMl, remnantCount * voxelMl, rel_tol=1e-12), f"{plan.key}: FLR differs from truth")
        _check(
            math.isclose(planResult.resectedMl, (liverCount - remnantCount) * voxelMl, rel_tol=1e-9),
            f"{plan.key}: resected volume differs from truth",
        )
        _check(
            math.isclose(planResult.tumourInRemnantMl, tumourInRemnant * voxelMl, rel_tol=1e-12, abs_tol=1e-12),
            f"{plan.key}: tumour in remnant differs from truth",
        )
        _check(math.isclose(planResult.percentFLR, 100.0 * remnantCount / liverCount, rel_tol=1e-9), f"{plan.key}: %FLR wrong")
        functional = 100.0 * (remnantCount - tumourInRemnant) / (liverCount - tumourInLiver)
        _check(math.isclose(planResult.functionalPercentFLR, functional, rel_tol=1e-9), f"{plan.key}: functional %FLR wrong")
    shown = planDisplay.showPlan(segmentationNode, plans[1])
    shownVolumes = {volume.name: volume.volumeMl for volume in segmentVolumes.segmentVolumes(shown)}
    _check(math.isclose(shownVolumes["Remnant (FLR)"], result.plans[1].remnantMl, rel_tol=1e-12), "displayed remnant differs")
    _check(math.isclose(shownVolumes["Resected"], result.plans[1].resectedMl, rel_tol=1e-9), "displayed resection differs")


def volumetryTablesSurviveSceneReload(scene, temporaryDirectory):
    """Couinaud and plan tables keep their numbers, units and the formulas used through a saved scene."""
    _, _, segmentationNode = _syntheticTimePointInScene(scene)
    settings = futureLiverRemnant.VolumetrySettings(heightCm=172.0, weightKg=78.0, liverCondition="chemotherapy")
    plans = [resectionPlans.presetPlan("right_hepatectomy"), resectionPlans.presetPlan("right_trisectionectomy")]
    result = futureLiverRemnant.measureVolumetry(segmentationNode, plans, settings)
    couinaudTable = resultsTable.writeCouinaudTable(scene.AddNewNodeByClass("vtkMRMLTableNode", "Scenario Couinaud"), result)
    planTable = resultsTable.writePlanTable(scene.AddNewNodeByClass("vtkMRMLTableNode", "Scenario plans"), result)
    bundle = os.path.join(temporaryDirectory, "volumetry.mrb")
    _check(scene.WriteToMRB(bundle), f"writing {bundle} failed")
    scene.Clear(False)
    _check(scene.ReadFromMRB(bundle), f"reading {bundle} failed")
    planTable = scene.GetFirstNodeByName("Scenario plans")
    couinaudTable = scene.GetFirstNodeByName("Scenario Couinaud")
    _check(planTable is not None and couinaudTable is not None, "volumetry tables missing after reload")
    _check(planTable.GetColumnUnitLabel("sFLR") == "%" and planTable.GetColumnUnitLabel("FLR") == "mL", "units lost")
    _check("Vauthey" in planTable.GetAttribute("ALPPS.StandardLiverVolume"), "sTLV formula not stored with the plans")
    _check(planTable.GetAttribute("ALPPS.LiverCondition") == "chemotherapy", "liver condition not stored with the plans")
    sflr = planTable.GetTable().GetColumnByName("sFLR")
    for row, plan in enumerate(result.plans):
        _check(math.isclose(sflr.GetValue(row), plan.sFLR, abs_tol=1e-3), f"{plan.key}: sFLR changed through reload")
    volumes = couinaudTable.GetTable().GetColumnByName("Volume")
    for row, segment in enumerate(result.segments):
        _check(math.isclose(volumes.GetValue(row), segment.volumeMl, abs_tol=0.01), f"segment {segment.segment} changed")


def _wholeLiverSegmentation(scene, timePoint):
    segmentationNode = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Scenario whole liver")
    segmentationImport.importMaskArrays(segmentationNode, {"Liver": timePoint.couinaudLabels > 0}, timePoint.ijkToRAS)
    return segmentationNode


def segmentsFromLandmarksPartitionTheLiver(scene, temporaryDirectory):
    """Landmarks clicked on the phantom's veins divide its whole-liver segment into eight Couinaud
    segments that partition it exactly, come close to the true segments, and feed the volumetry."""
    timePoint = syntheticPatient.makeTimePoint("pre-stage 1", -3, 1.0, spacing=SCENARIO_SPACING)
    segmentationNode = _wholeLiverSegmentation(scene, timePoint)
    landmarksNode = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "Scenario landmarks")
    for label, point in syntheticPatient.anatomicalLandmarks().items():
        landmarksNode.AddControlPoint(point[0], point[1], point[2], label)
    created = volumetryWorkflow.createCouinaudSegmentsFromLandmarks(segmentationNode, landmarksNode)
    _check(sorted(created) == sorted(couinaud.SEGMENT_IDS), f"segments created: {sorted(created)}")
    count, _ = segmentOverlap.unionVolume(segmentationNode, list(created.values()))
    _check(count == timePoint.trueVoxelCounts["Liver"], "the landmark segments must partition the liver exactly")
    segmentation = segmentationNode.GetSegmentation()
    volumes = {volume.segmentId: volume for volume in segmentVolumes.segmentVolumes(segmentationNode, list(created.values()))}
    for segmentId in couinaud.SEGMENT_IDS[1:]:
        measured, truth = volumes[created[segmentId]].volumeMl, timePoint.trueVolumesMl[segmentId]
        _check(abs(measured - truth) <= 0.10 * truth, f"segment {segmentId}: {measured:.1f} mL from landmarks, {truth:.1f} mL true")
    tag = vtk.reference("")
    _check(segmentation.GetSegment(created["II"]).GetTag(landmarkSegments.METHOD_TAG, tag) and "landmarks" in str(tag), "method not recorded")
    result = futureLiverRemnant.measureVolumetry(segmentationNode, [resectionPlans.presetPlan("right_trisectionectomy")])
    _check(math.isclose(result.totalLiverMl, timePoint.trueVolumesMl["Liver"], rel_tol=1e-12), "volumetry on landmark segments")


def transectionRemnantMatchesThePlane(scene, temporaryDirectory):
    """A markups plane cuts the whole liver; the side of the clicked point is the remnant, measured
    like a plan and equal to the voxels on that side of the plane."""
    timePoint = syntheticPatient.makeTimePoint("pre-stage 1", -3, 1.0, spacing=SCENARIO_SPACING)
    segmentationNode = _wholeLiverSegmentation(scene, timePoint)
    planeNode = scene.AddNewNodeByClass("vtkMRMLMarkupsPlaneNode", "Scenario cut")
    planeNode.SetOrigin(20.0, 0.0, 0.0)
    planeNode.SetNormal(1.0, 0.0, 0.0)
    keepNode = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "Scenario remnant point")
    keepNode.AddControlPoint(-40.0, 10.0, 30.0)
    settings = volumetryWorkflow.settingsFromValues(syntheticPatient.PATIENT_HEIGHT_CM, syntheticPatient.PATIENT_WEIGHT_KG)
    plan, tableNode = volumetryWorkflow.runTransection(segmentationNode, planeNode, keepNode, settings)
    shape = timePoint.couinaudLabels.shape
    i = np.arange(shape[2])
    x = timePoint.ijkToRAS[0, 0] * i + timePoint.ijkToRAS[0, 3]  # axis-aligned grid: x depends on i only
    kept = np.count_nonzero((timePoint.couinaudLabels > 0) & (x <= 20.0)[None, None, :])
    _check(math.isclose(plan.remnantMl, kept * timePoint.voxelVolumeMl, rel_tol=1e-9), f"remnant {plan.remnantMl} mL, truth {kept * timePoint.voxelVolumeMl} mL")
    _check(plan.sFLR is not None and tableNode.GetNumberOfRows() == 1, "the transection remnant is measured like a plan")


def parenchymaSparingBesideMajorPlans(scene, temporaryDirectory):
    """Each tumour of the phantom gets its volume, diameter and vein distances; the 1 mm margin
    plan leaves more liver than a right hepatectomy, its parts add up to the liver, and its
    resection areas become segments."""
    timePoint, _, segmentationNode = _syntheticTimePointInScene(scene)
    findings = tumourVesselAnalysis.tumourFindings(segmentationNode)
    _check([finding.name for finding in findings] == [name for name, _, _ in syntheticPatient.TUMOURS], "tumours not all found")
    for finding, (name, _, radiusMm) in zip(findings, syntheticPatient.TUMOURS):
        _check(math.isclose(finding.volumeMl, timePoint.trueVolumesMl[name], rel_tol=1e-12), f"{name}: volume differs from truth")
        _check(finding.largestDiameterMm <= 2 * radiusMm + 1e-6, f"{name}: diameter {finding.largestDiameterMm} mm beyond the sphere's")
        _check(len(finding.vesselDistances) >= 2, f"{name}: distances to the veins missing")
    comparison = marginVolumetry.compareWithMajorPlans(segmentationNode, (1.0,), [resectionPlans.presetPlan("right_hepatectomy")])
    major, sparing = comparison.plans
    _check(sparing.remnantMl > major.remnantMl, "a 1 mm margin resection must leave more liver than a right hepatectomy")
    _check(math.isclose(sparing.remnantMl + sparing.resectedMl, timePoint.trueVolumesMl["Liver"], rel_tol=1e-9), "FLR + resected != liver")
    created = sparingDisplay.addMarginSegments(segmentationNode, 1.0)
    _check(len(created["areas"]) == comparison.marginPlans[0].areaCount, "one segment per resection area expected")


# Run by both ALPPSVolumetryTest (inside Slicer) and Testing/test_volumetry_scenarios.py.
SCENARIOS = (
    segmentVolumesEqualSyntheticTruth,
    unionCountsOverlapOnce,
    resultsTableSurvivesSceneReload,
    emptyInputIsRejectedByName,
    remnantOfEveryPlanEqualsSyntheticTruth,
    volumetryTablesSurviveSceneReload,
    segmentsFromLandmarksPartitionTheLiver,
    transectionRemnantMatchesThePlane,
    parenchymaSparingBesideMajorPlans,
)
