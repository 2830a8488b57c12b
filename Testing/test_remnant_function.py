"""Remnant function through the shared path: a simulated SPECT with a known misalignment, its
transform from the simulator or from registration, and the dynamic study's uptake rate."""

import numpy as np
import pytest
from ALPPSAssessmentLib.functional import functionalSimulator, imageRegistration, mebrofeninWorkflow
from ALPPSVolumetryLib.segments import couinaud, segmentationImport
from ALPPSVolumetryLib.planning import resectionPlans
from ALPPSVolumetryLib import syntheticPatient, syntheticPatientScene
from ALPPSVolumetryLib.imageGrid import toWorldMatrix, vtkMatrixFromArray


@pytest.fixture
def interstageCase(slicerContext):
    scene = slicerContext.scene
    point = syntheticPatient.makeTimePoint("interstage", 7, 1.222, spacing=(4.0, 4.0, 4.0))
    ctNode, segmentationNode = syntheticPatientScene.addTimePointNodes(scene, point, "Interstage")
    volumes = {s: point.trueVolumesMl[s] for s in couinaud.SEGMENT_IDS}
    shares = functionalSimulator.segmentSharesFromRelativeFunction(functionalSimulator.INTERSTAGE_RELATIVE_FUNCTION_PER_ML, volumes)
    spect = functionalSimulator.simulateSpect(point.couinaudLabels, point.ijkToRAS, shares, seed=3)
    spectNode = segmentationImport.addVolumeFromArray(scene, "Interstage SPECT", spect.counts.astype(np.float32), spect.ijkToRAS)
    truth = functionalSimulator.trueRemnantShare(shares, functionalSimulator.RIGHT_TRISECTIONECTOMY_REMNANT)
    return scene, ctNode, segmentationNode, spectNode, spect, truth


def _placeWithTransform(scene, spectNode, matrixToParent):
    transformNode = scene.AddNewNodeByClass("vtkMRMLLinearTransformNode", "SPECT to CT")
    transformNode.SetMatrixTransformToParent(vtkMatrixFromArray(matrixToParent))
    spectNode.SetAndObserveTransformNodeID(transformNode.GetID())


def test_remnantShareWithTheKnownTransform(interstageCase):
    scene, _, segmentationNode, spectNode, spect, truth = interstageCase
    _placeWithTransform(scene, spectNode, spect.matrixToParent)
    plan = resectionPlans.presetPlan("right_trisectionectomy")
    share = mebrofeninWorkflow.spectRemnantShare(segmentationNode, plan, spectNode)
    # VOIs as drawn lose the thin left lobe's spill-out: low by up to ~2.5 points (simulator tests).
    assert -2.5 <= share.percent - 100 * truth <= 0.0
    withMargin = mebrofeninWorkflow.spectRemnantShare(segmentationNode, plan, spectNode, outwardMarginMm=9.0)
    assert abs(withMargin.percent - 100 * truth) <= 2.0


def test_remnantShareAfterRegistration(interstageCase):
    scene, ctNode, segmentationNode, spectNode, spect, truth = interstageCase
    registered = imageRegistration.registerFunctionalVolume(ctNode, spectNode, "rigid", maskSegmentation=segmentationNode)
    found = toWorldMatrix(spectNode)
    # Target registration error over the liver (CT voxel centres of segments I-VIII), from the known truth.
    point = syntheticPatient.makeTimePoint("interstage", 7, 1.222, spacing=(4.0, 4.0, 4.0))
    k, j, i = np.nonzero(point.couinaudLabels)
    liverPoints = (point.ijkToRAS @ np.c_[i, j, k, np.ones(len(i))].T)[:3].T
    meanError, _ = functionalSimulator.targetRegistrationErrorMm(found, spect.matrixToParent, liverPoints)
    assert meanError < 2.0, registered.result.describe()
    share = mebrofeninWorkflow.spectRemnantShare(segmentationNode, resectionPlans.presetPlan("right_trisectionectomy"), spectNode, outwardMarginMm=9.0)
    assert abs(share.percent - 100 * truth) <= 2.0


def test_remnantFunctionFromTheDynamicStudy(interstageCase):
    scene, _, segmentationNode, spectNode, spect, truth = interstageCase
    _placeWithTransform(scene, spectNode, spect.matrixToParent)
    share = mebrofeninWorkflow.spectRemnantShare(segmentationNode, resectionPlans.presetPlan("right_trisectionectomy"), spectNode, outwardMarginMm=9.0)
    study = functionalSimulator.simulateDynamicStudy(0.12, seed=5)
    uptake, assessment = mebrofeninWorkflow.remnantFunction(study.curves, share, bsaM2=1.93)
    assert uptake.murPercentPerMin == pytest.approx(study.expectedMurPercentPerMin, rel=0.05)
    assert assessment.flrFunctionPercentPerMin == pytest.approx(uptake.murPercentPerMin * share.fraction, rel=1e-9)
    assert assessment.flrFunctionPerBsa == pytest.approx(assessment.flrFunctionPercentPerMin / 1.93, rel=1e-9)
    table, chart = mebrofeninWorkflow.addTimeActivityChart(scene, study.curves)
    assert table.GetNumberOfRows() == len(study.curves.midTimesSeconds) and chart.GetNumberOfPlotSeriesNodes() == 3
    assert table.GetColumnUnitLabel("Liver") == "counts/s"
    with pytest.raises(ValueError, match="No SPECT volume"):
        mebrofeninWorkflow.spectRemnantShare(segmentationNode, resectionPlans.presetPlan("right_trisectionectomy"), None)


def _writeNode(node, path):
    storageNode = node.CreateDefaultStorageNode()
    storageNode.SetFileName(path)
    assert storageNode.WriteData(node)
    return path


def test_functionCommandOnSimulatedFiles(interstageCase, tmp_path, capsys):
    import csv
    import json

    from alpps import cli

    scene, ctNode, segmentationNode, spectNode, spect, truth = interstageCase
    study = functionalSimulator.simulateDynamicStudy(0.12, seed=7)
    curvesPath = tmp_path / "curves.csv"
    with open(curvesPath, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["time (s)", "liver", "blood", "total"])
        curves = study.curves
        for row in zip(curves.midTimesSeconds, curves.liver, curves.bloodPool, curves.totalFieldOfView):
            writer.writerow(row)
    paths = {
        "ct": _writeNode(ctNode, str(tmp_path / "ct.nrrd")),
        "segmentation": _writeNode(segmentationNode, str(tmp_path / "segments.seg.nrrd")),
        "spect": _writeNode(spectNode, str(tmp_path / "spect.nrrd")),
    }
    jsonPath = str(tmp_path / "function.json")
    arguments = ["function", "mebrofenin", "--ct", paths["ct"], "--segmentation", paths["segmentation"], "--spect", paths["spect"]]
    arguments += ["--curves", str(curvesPath), "--height", "172", "--weight", "78", "--voi-margin", "9", "--json", jsonPath]
    assert cli.main(arguments) == 0
    assert "FLR-F" in capsys.readouterr().out
    with open(jsonPath) as stream:
        document = json.load(stream)
    assert abs(document["remnantShare"]["percent"] - 100 * truth) <= 2.0
    assert document["uptake"]["murPercentPerMin"] == pytest.approx(study.expectedMurPercentPerMin, rel=0.05)
    assert document["registration"]["converged"] is True
    (tmp_path / "empty.csv").write_text("time,liver,blood,total\n")
    assert cli.main(arguments[:-2] + ["--curves", str(tmp_path / "empty.csv")]) == 2
    assert "empty.csv" in capsys.readouterr().err
