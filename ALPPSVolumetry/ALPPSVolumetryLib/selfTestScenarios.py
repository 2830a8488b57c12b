"""Test scenarios that run unchanged under Slicer's self-test (ALPPSVolumetryTest) and under
pytest on slicer-core: each takes a scene and a temporary folder, and raises AssertionError
(or lets a wrong exception through) when the outcome is not the independent truth."""

import math
import os

import numpy as np

from . import resultsTable, segmentVolumes, syntheticPatient, syntheticPatientScene

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
    count, volumeMl = segmentVolumes.unionVolume(segmentationNode, [ids["Segment VIII"], ids["Tumour 1"], ids["Portal vein"]])
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


# Run by both ALPPSVolumetryTest (inside Slicer) and Testing/test_volumetry_scenarios.py.
SCENARIOS = (
    segmentVolumesEqualSyntheticTruth,
    unionCountsOverlapOnce,
    resultsTableSurvivesSceneReload,
    emptyInputIsRejectedByName,
)
