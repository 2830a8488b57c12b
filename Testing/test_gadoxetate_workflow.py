"""Gadoxetate MRI of the synthetic patient through the shared path, against numpy on its arrays."""

import json
import re

import numpy as np
import pytest
from ALPPSAssessmentLib.functional import functionalSimulator, gadoxetateWorkflow
from ALPPSVolumetryLib.planning import resectionPlans
from ALPPSVolumetryLib.segments import segmentationImport
from ALPPSVolumetryLib import syntheticPatient, syntheticPatientScene

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


def _sphereMean(image, ijkToRAS, centres, radius):
    """Brute force: every voxel whose centre lies within ``radius`` of any centre (each once)."""
    k, j, i = np.indices(image.shape)
    world = ijkToRAS @ np.stack([i.ravel(), j.ravel(), k.ravel(), np.ones(i.size)])
    inside = np.zeros(i.size, bool)
    for centre in centres:
        inside |= np.linalg.norm(world[:3].T - np.asarray(centre), axis=1) <= radius
    return image.ravel()[inside].mean()


def test_eachSegmentAndRoisPlacedByTheUser(mriCase):
    point, segmentationNode, preNode, hbpNode, pre, hbp = mriCase
    plan = resectionPlans.presetPlan("right_trisectionectomy")
    spleen = point.structures["Spleen"]
    # ROI centres: the spleen's and the left lateral liver's voxel centroids (RAS), as a reader would click them.
    def centroid(mask):
        k, j, i = np.nonzero(mask)
        return tuple((point.ijkToRAS @ np.array([i.mean(), j.mean(), k.mean(), 1.0]))[:3])

    spleenCentre, liverCentre = centroid(spleen), centroid(point.couinaudLabels == 2)
    document = gadoxetateWorkflow.measureGadoxetate(segmentationNode, plan, hbpNode, preNode, spleenPoints=[spleenCentre],
                                                    liverPoints=[liverCentre], roiRadiusMm=9.0)
    for value, segmentId in enumerate(("I", "II", "III", "IV", "V", "VI", "VII", "VIII"), 1):
        mask = point.couinaudLabels == value
        signals = document["segmentSignals"][segmentId]
        assert signals["hbp"] == pytest.approx(hbp[mask].mean(), rel=1e-5) and signals["pre"] == pytest.approx(pre[mask].mean(), rel=1e-5)
        assert signals["voxels"] == int(mask.sum())
        assert signals["relativeEnhancement"] == pytest.approx((hbp[mask].mean() - pre[mask].mean()) / pre[mask].mean(), rel=1e-5)
    spleenRoi = _sphereMean(hbp, point.ijkToRAS, [spleenCentre], 9.0)
    assert document["signals"]["spleenHbp"] == pytest.approx(spleenRoi, rel=1e-5)
    assert document["spleenSignalFrom"].startswith("ROIs placed in the spleen")
    assert document["segmentSignals"]["II"]["liverToSpleenMinusOne"] == pytest.approx(hbp[point.couinaudLabels == 2].mean() / spleenRoi - 1, rel=1e-5)
    liverRoi = document["liverRoi"]
    assert liverRoi["hbp"] == pytest.approx(_sphereMean(hbp, point.ijkToRAS, [liverCentre], 9.0), rel=1e-5)
    assert liverRoi["indices"]["values"]["lsr"] == pytest.approx(liverRoi["hbp"] / document["signals"]["spleenHbp"], rel=1e-9)
    # The deportalised right liver enhances less than the growing left lateral segments.
    assert document["segmentSignals"]["VII"]["relativeEnhancement"] < document["segmentSignals"]["II"]["relativeEnhancement"]
    with pytest.raises(ValueError, match="spleen ROI.*outside the image"):
        gadoxetateWorkflow.measureGadoxetate(segmentationNode, plan, hbpNode, spleenPoints=[(900.0, 0.0, 0.0)])


def test_gadoxetateCommandTakesRoisPlacedByTheUser(mriCase, tmp_path, capsys):
    point, segmentationNode, preNode, hbpNode, _, hbp = mriCase
    paths = {}
    for name, node in (("segmentation", segmentationNode), ("hbp", hbpNode)):
        paths[name] = str(tmp_path / (name + (".seg.nrrd" if name == "segmentation" else ".nrrd")))
        storageNode = node.CreateDefaultStorageNode()
        storageNode.SetFileName(paths[name])
        assert storageNode.WriteData(node)
    k, j, i = np.nonzero(point.structures["Spleen"])
    centre = (point.ijkToRAS @ np.array([i.mean(), j.mean(), k.mean(), 1.0]))[:3]
    jsonPath = str(tmp_path / "rois.json")
    arguments = ["function", "gadoxetate", "--segmentation", paths["segmentation"], "--hbp", paths["hbp"], "--roi-radius", "9"]
    # The '=' form, as a negative first coordinate would otherwise read as an option.
    assert cli.main(arguments + ["--spleen-point=" + ",".join(f"{value:.3f}" for value in centre), "--json", jsonPath]) == 0
    with open(jsonPath) as stream:
        document = json.load(stream)
    assert document["spleenSignalFrom"] == "ROIs placed in the spleen (radius 9 mm)"
    assert document["signals"]["spleenHbp"] == pytest.approx(_sphereMean(hbp, point.ijkToRAS, [centre], 9.0), rel=1e-4)
    assert cli.main(arguments + ["--liver-point", "1,2"]) == 2
    assert re.search("--liver-point must read X,Y,Z", capsys.readouterr().err)


def test_t1MapsGiveR1AndReductionRateOfLiverAndRemnant(mriCase, slicerContext):
    point, segmentationNode, preNode, hbpNode, _, _ = mriCase
    plan = resectionPlans.presetPlan("right_trisectionectomy")
    labels = point.couinaudLabels
    # T1 in seconds: 0.8 s everywhere before contrast; after it 0.4 s in the remnant (II, III, I), 0.5 s elsewhere.
    t1Pre = np.full(labels.shape, 0.8, np.float32)
    t1Hbp = np.where(np.isin(labels, [1, 2, 3]), 0.4, 0.5).astype(np.float32)
    preMap = segmentationImport.addVolumeFromArray(slicerContext.scene, "T1 pre", t1Pre, point.ijkToRAS)
    hbpMap = segmentationImport.addVolumeFromArray(slicerContext.scene, "T1 HBP", t1Hbp, point.ijkToRAS)
    document = gadoxetateWorkflow.measureGadoxetate(segmentationNode, plan, hbpNode, t1PreMap=preMap, t1HbpMap=hbpMap, t1Unit="s")
    remnant = document["t1Indices"]["remnant"]
    assert remnant["t1PreMs"] == pytest.approx(800.0) and remnant["t1HbpMs"] == pytest.approx(400.0)
    assert remnant["deltaR1PerS"] == pytest.approx(1 / 0.4 - 1 / 0.8) and remnant["reductionRate"] == pytest.approx(0.5)
    liver = labels > 0
    meanHbp = t1Hbp[liver].astype(float).mean()
    assert document["t1Indices"]["liver"]["t1HbpMs"] == pytest.approx(1000 * meanHbp, rel=1e-5)
    with pytest.raises(ValueError, match="unit of the T1 maps is not given"):
        gadoxetateWorkflow.measureGadoxetate(segmentationNode, plan, hbpNode, t1PreMap=preMap, t1HbpMap=hbpMap)
    with pytest.raises(ValueError, match="need both T1 maps"):
        gadoxetateWorkflow.measureGadoxetate(segmentationNode, plan, hbpNode, t1PreMap=preMap, t1Unit="s")
    with pytest.raises(ValueError, match="looks like seconds"):
        gadoxetateWorkflow.measureGadoxetate(segmentationNode, plan, hbpNode, t1PreMap=preMap, t1HbpMap=hbpMap, t1Unit="ms")
