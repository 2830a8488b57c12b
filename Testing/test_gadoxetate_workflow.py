"""Gadoxetate MRI of the synthetic patient through the shared path, against numpy on its arrays."""

import json

import numpy as np
import pytest
from ALPPSAssessmentLib import functionalSimulator, gadoxetateWorkflow
from ALPPSVolumetryLib import resectionPlans, segmentationImport, syntheticPatient, syntheticPatientScene

from alpps import cli


@pytest.fixture
def mriCase(slicerContext):
    scene = slicerContext.scene
    point = syntheticPatient.makeTimePoint("interstage", 7, 1.222, spacing=(4.0, 4.0, 4.0))
    _, segmentationNode = syntheticPatientScene.addTimePointNodes(scene, point, "MRI case")
    pre, hbp, ijkToRAS = functionalSimulator.simulateGadoxetateMri(point, functionalSimulator.INTERSTAGE_RELATIVE_FUNCTION_PER_ML, seed=2)
    preNode = segmentationImport.addVolumeFromArray(scene, "Pre", pre, ijkToRAS)
    hbpNode = segmentationImport.addVolumeFromArray(scene, "HBP", hbp, ijkToRAS)
    return point, segmentationNode, preNode, hbpNode, pre, hbp


def test_indicesAndRemnantShareMatchNumpy(mriCase):
    point, segmentationNode, preNode, hbpNode, pre, hbp = mriCase
    plan = resectionPlans.presetPlan("right_trisectionectomy")
    document = gadoxetateWorkflow.measureGadoxetate(segmentationNode, plan, hbpNode, preNode)
    liver = point.couinaudLabels > 0
    remnant = np.isin(point.couinaudLabels, [1, 2, 3])
    spleen = point.structures["Spleen"]
    assert document["signals"]["liverHbp"] == pytest.approx(hbp[liver].mean(), rel=1e-5)
    assert document["signals"]["spleenHbp"] == pytest.approx(hbp[spleen].mean(), rel=1e-5)
    lsr = hbp[liver].mean() / hbp[spleen].mean()
    assert document["liverIndices"]["values"]["lsr"] == pytest.approx(lsr, rel=1e-5)
    hui = point.trueVolumesMl["Liver"] / 1000.0 * (lsr - 1.0)
    assert document["hui"]["value"] == pytest.approx(hui, rel=1e-5) and document["hui"]["unit"] == "L"
    enhancement = (hbp - pre) / pre
    share = enhancement[remnant].sum() / enhancement[liver].sum()
    assert document["remnantFunctionalShare"]["share"] == pytest.approx(share, rel=1e-4)
    # The deportalised right liver enhances half as much: the remnant's functional share exceeds its volume share.
    assert share > remnant.sum() / liver.sum()
    json.dumps(document)


def test_gadoxetateCommandAndMissingSpleen(mriCase, tmp_path, capsys):
    point, segmentationNode, preNode, hbpNode, _, _ = mriCase
    paths = {}
    for name, node in (("segmentation", segmentationNode), ("pre", preNode), ("hbp", hbpNode)):
        path = str(tmp_path / (name + (".seg.nrrd" if name == "segmentation" else ".nrrd")))
        storageNode = node.CreateDefaultStorageNode()
        storageNode.SetFileName(path)
        assert storageNode.WriteData(node)
        paths[name] = path
    jsonPath = str(tmp_path / "gadoxetate.json")
    arguments = ["function", "gadoxetate", "--segmentation", paths["segmentation"], "--hbp", paths["hbp"], "--pre", paths["pre"]]
    assert cli.main(arguments + ["--json", jsonPath]) == 0
    assert "rHUI" in capsys.readouterr().out
    with open(jsonPath) as stream:
        document = json.load(stream)
    assert document["remnantHuiFlag"]["state"] in ("met", "not met")
    segmentation = segmentationNode.GetSegmentation()
    segmentation.RemoveSegment(segmentation.GetSegmentIdBySegmentName("Spleen"))
    without = gadoxetateWorkflow.measureGadoxetate(segmentationNode, resectionPlans.presetPlan("right_trisectionectomy"), hbpNode)
    assert without["hui"] is None and without["remnantHuiFlag"]["state"] == "unknown"
    assert "lsr" in without["liverIndices"]["missing"]
    with pytest.raises(ValueError, match="no segment 'Milz'"):
        gadoxetateWorkflow.measureGadoxetate(segmentationNode, resectionPlans.presetPlan("right_trisectionectomy"), hbpNode, spleenSegment="Milz")
