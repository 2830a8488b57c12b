"""Gadoxetate MRI indices (clinical reference section 6): each index against hand-computed values,
a synthetic MRI pair of the synthetic patient with known signals per segment, the pairing of an
MRI and a segmentation with different grids in physical space, spherical ROIs, T1 indices, the
definitions table and the errors a user can run into."""

import numpy as np
import pytest
from ALPPSAssessmentLib.functional import gadoxetateImages as images
from ALPPSAssessmentLib.functional import gadoxetateIndices as gx
from ALPPSAssessmentLib.functional import gadoxetateWorkflow
from ALPPSVolumetryLib.segments import couinaud, segmentationImport
from ALPPSVolumetryLib import imageGrid, syntheticPatient, syntheticPatientScene
from ALPPSVolumetryLib.criteria.adequacy import MET, NOT_MET, UNKNOWN
from ALPPSVolumetryLib.criteria.bodySize import CHECKED, UNCHECKED

# --- Indices from mean signals, by hand ---------------------------------------------------------------


def test_signalIndicesByHand():
    assert gx.liverToSpleenRatio(300.0, 200.0) == pytest.approx(1.5)
    assert gx.liverToMuscleRatio(300.0, 150.0) == pytest.approx(2.0)
    assert gx.relativeLiverEnhancement(200.0, 300.0) == pytest.approx(0.5)  # (300 - 200) / 200
    # (300 / 120) / (200 / 100) = 2.5 / 2
    assert gx.contrastEnhancementIndex(200.0, 100.0, 300.0, 120.0) == pytest.approx(1.25)
    summary = gx.signalIndices(300.0, spleenSiHbp=200.0, liverSiPre=200.0)
    assert summary["values"] == pytest.approx({gx.LSR: 1.5, gx.RLE: 0.5})
    assert summary["missing"] == {gx.LMR: "no muscle signal (HBP)", gx.CEI: "no pre-contrast muscle signal and no muscle signal (HBP)"}


def test_hepatocellularUptakeIndexWithExplicitUnits():
    # 1500 mL x (330 / 220 - 1) = 1.5 L x 0.5 = 0.75 L
    hui = gx.hepatocellularUptakeIndex(1500.0, "mL", 330.0, 220.0)
    assert (hui.value, hui.unit, hui.key) == (pytest.approx(0.75), "L", gx.HUI)
    assert gx.hepatocellularUptakeIndex(1.5, "L", 330.0, 220.0).value == pytest.approx(0.75)
    inMl = gx.hepatocellularUptakeIndex(1.5, "L", 330.0, 220.0, resultUnit="mL")
    assert (inMl.value, inMl.unit) == (pytest.approx(750.0), "mL")
    assert inMl.inUnit("L") == pytest.approx(0.75)
    assert hui.asDict()["definition"]["status"] == UNCHECKED
    # 600 mL x (275 / 250 - 1) = 0.06 L
    rhui = gx.remnantHui(600.0, "mL", 275.0, 250.0)
    assert (rhui.value, rhui.key) == (pytest.approx(0.06), gx.REMNANT_HUI)


def test_remnantHuiFlagComparesInLitresWithItsSourceAndPopulation():
    """Risk group rHUI < 0.410 L (Notake 2021); 'met' = outside it; unchecked because the HUI formula is."""
    low = gx.remnantHuiFlag(gx.remnantHui(600.0, "mL", 275.0, 250.0, resultUnit="mL"))  # 60 mL = 0.06 L
    assert (low.value, low.unit, low.threshold, low.comparison, low.state) == (pytest.approx(0.06), "L", 0.410, ">=", NOT_MET)
    assert low.riskGroup == "rHUI < 0.41 L"
    assert "Notake" in low.source and "biliary cancer" in low.population and low.status == UNCHECKED
    assert "not ALPPS" in low.population
    high = gx.remnantHuiFlag(gx.remnantHui(900.0, "mL", 300.0, 200.0))  # 0.9 x 0.5 = 0.45 L
    assert (high.value, high.state) == (pytest.approx(0.45), MET)
    assert gx.remnantHuiFlag(None).state == UNKNOWN
    # At the cut-off as displayed (3 decimals): 0.4096 shows 0.410, not below it: met; 0.4094 shows 0.409: not met.
    atCutoff = gx.remnantHuiFlag(gx.remnantHui(409.6, "mL", 400.0, 200.0))  # 0.4096 L x (2 - 1)
    assert (atCutoff.shownValue, atCutoff.state) == ("0.410", MET)
    below = gx.remnantHuiFlag(gx.remnantHui(409.4, "mL", 400.0, 200.0))
    assert (below.shownValue, below.state) == ("0.409", NOT_MET)
    custom = gx.DEFAULT_REMNANT_HUI_THRESHOLD.withThreshold(0.05, source="centre protocol 2026", population="ALPPS, single centre")
    flag = gx.remnantHuiFlag(gx.remnantHui(600.0, "mL", 275.0, 250.0), custom)
    assert flag.state == MET and flag.threshold == 0.05
    assert "replaces rHUI < 0.41 L" in flag.source and custom.status == "user-defined" and flag.population == "ALPPS, single centre"
    assert "rHUI 0.060 L (>= 0.05 L): met [unchecked]" in flag.describe()
    with pytest.raises(ValueError, match="expected the result of remnantHui"):
        gx.remnantHuiFlag(0.3)
    with pytest.raises(ValueError, match="expected a remnant uptake index|expected the result of remnantHui"):
        gx.remnantHuiFlag(gx.hepatocellularUptakeIndex(1500.0, "mL", 330.0, 220.0))
    with pytest.raises(ValueError, match="Threshold source"):
        gx.DEFAULT_REMNANT_HUI_THRESHOLD.withThreshold(0.3, source=" ")


def test_t1IndicesByHand():
    # T1 800 ms -> 400 ms: R1 1.25 -> 2.5 1/s, delta R1 1.25 1/s, reduction rate 0.5.
    indices = gx.t1Indices(800.0, 400.0, "ms")
    assert (indices.r1PrePerS, indices.r1HbpPerS, indices.deltaR1PerS) == pytest.approx((1.25, 2.5, 1.25))
    assert indices.reductionRate == pytest.approx(0.5) and indices.reductionRatePercent == pytest.approx(50.0)
    inSeconds = gx.t1Indices(0.8, 0.4, "s")
    assert inSeconds.asDict()["deltaR1PerS"] == pytest.approx(1.25) and inSeconds.t1PreMs == pytest.approx(800.0)
    assert indices.asDict()["units"]["r1"] == "1/s"
    with pytest.raises(ValueError, match="0.8 ms is implausible.*looks like seconds"):
        gx.t1Indices(0.8, 0.4, "ms")
    with pytest.raises(ValueError, match="800 s is implausible.*looks like milliseconds"):
        gx.t1Indices(800.0, 400.0, "s")
    with pytest.raises(ValueError, match="T1 unit 'sec' is unknown"):
        gx.t1Indices(800.0, 400.0, "sec")
    with pytest.raises(ValueError, match="Pre-contrast T1 is missing"):
        gx.t1Indices(None, 400.0, "ms")


def test_badSignalsAndVolumesAreRefused():
    with pytest.raises(ValueError, match=r"Spleen signal \(HBP\) is 0 a.u.: LSR divides by it"):
        gx.liverToSpleenRatio(300.0, 0.0)
    with pytest.raises(ValueError, match=r"Spleen signal \(HBP, 20 min\) is 0"):
        gx.hepatocellularUptakeIndex(1500.0, "mL", 300.0, 0.0)
    with pytest.raises(ValueError, match="Pre-contrast liver signal is missing: RLE"):
        gx.relativeLiverEnhancement(None, 300.0)
    with pytest.raises(ValueError, match="Pre-contrast muscle signal is missing: CEI"):
        gx.contrastEnhancementIndex(200.0, None, 300.0, 120.0)
    with pytest.raises(ValueError, match="is negative"):
        gx.liverToMuscleRatio(-3.0, 100.0)
    with pytest.raises(ValueError, match="not a number"):
        gx.liverToMuscleRatio("300", 100.0)
    with pytest.raises(ValueError, match="1.5 mL is implausible: expected millilitres; 1.5 looks like litres"):
        gx.hepatocellularUptakeIndex(1.5, "mL", 330.0, 220.0)
    with pytest.raises(ValueError, match="1500 L is implausible: expected litres; 1500 looks like millilitres"):
        gx.hepatocellularUptakeIndex(1500.0, "L", 330.0, 220.0)
    with pytest.raises(ValueError, match="Volume unit 'cc'"):
        gx.remnantHui(600.0, "cc", 275.0, 250.0)
    with pytest.raises(ValueError, match="Spleen signal .HBP. is 0"):
        images.liverSpleenEnhancementMap((np.ones((2, 2, 2)), np.eye(4)), 0.0)
    with pytest.raises(ValueError, match="Pre-contrast image is missing"):
        images.relativeEnhancementMap(None, (np.ones((2, 2, 2)), np.eye(4)))


def test_definitionsTable(slicerContext):
    rows = gx.definitionRows()
    keys = [row["key"] for row in rows]
    assert set(keys) == {gx.LSR, gx.LMR, gx.RLE, gx.CEI, gx.HUI, gx.REMNANT_HUI, gx.REMNANT_HUI_BELOW, gx.FLR_FUNCTIONAL_SHARE, gx.R1, gx.DELTA_R1, gx.T1_REDUCTION_RATE}
    for row in rows:
        assert row["label"] and row["definition"] and row["reference"] and row["status"] in (CHECKED, UNCHECKED)
    definitions = gx.INDEX_DEFINITIONS
    assert definitions[gx.HUI].status == UNCHECKED and "Yamada" in definitions[gx.HUI].reference
    assert definitions[gx.REMNANT_HUI_BELOW].status == UNCHECKED and "0.41" in definitions[gx.REMNANT_HUI_BELOW].definition
    assert definitions[gx.R1].unit == "1/s" and definitions[gx.HUI].unit == "L"
    tableNode = slicerContext.scene.AddNewNodeByClass("vtkMRMLTableNode", "Gadoxetate definitions")
    gx.writeDefinitionsTable(tableNode)
    table = tableNode.GetTable()
    assert table.GetNumberOfRows() == len(rows)
    assert [table.GetColumn(index).GetName() for index in range(table.GetNumberOfColumns())] == [
        "Key", "Index", "Unit", "Definition", "Reference", "Status", "Note"
    ]


# --- A synthetic MRI pair of the synthetic patient -----------------------------------------------------

SPACING = (3.0, 3.0, 3.0)
TUMOUR, SPLEEN, MUSCLE, BODY = 9, 10, 11, 12
RLE_TRUE = {1: 0.8, 2: 1.2, 3: 1.2, 4: 0.5, 5: 0.8, 6: 0.8, 7: 0.8, 8: 0.8}  # II+III enhance more (ALPPS FLR)
PRE = {**{label: 400.0 + 5.0 * label for label in range(1, 9)}, TUMOUR: 300.0, SPLEEN: 350.0, MUSCLE: 250.0, BODY: 100.0, 0: 0.0}
HBP = {**{label: PRE[label] * (1.0 + RLE_TRUE[label]) for label in range(1, 9)}, TUMOUR: 250.0, SPLEEN: 380.0, MUSCLE: 260.0, BODY: 110.0, 0: 0.0}
MUSCLE_CENTRES = ((35.0, -100.0), (-35.0, -100.0))  # paraspinal muscles (RAS x, y), radius 10 mm


def _voxelCentres(shape, ijkToRAS):
    kji = np.indices(shape).reshape(3, -1).T
    return (ijkToRAS @ np.c_[kji[:, ::-1], np.ones(len(kji))].T)[:3].T


def _tissueLabels(timePoint):
    labels = np.where(timePoint.ct > -500, BODY, 0).astype(np.uint8)
    points = _voxelCentres(labels.shape, timePoint.ijkToRAS)
    for x, y in MUSCLE_CENTRES:
        labels[((points[:, 0] - x) ** 2 + (points[:, 1] - y) ** 2 <= 100.0).reshape(labels.shape)] = MUSCLE
    labels[timePoint.structures["Spleen"]] = SPLEEN
    liver = timePoint.couinaudLabels > 0
    labels[liver] = timePoint.couinaudLabels[liver]
    for name, _, _ in syntheticPatient.TUMOURS:
        labels[timePoint.structures[name]] = TUMOUR
    return labels


def _signals(labels, table):
    lookup = np.zeros(max(table) + 1, dtype=np.float32)
    for label, value in table.items():
        lookup[label] = value
    return lookup[labels]


def _lookupOnGrid(array, ijkToRAS, shape, gridToRAS):
    """``array`` sampled (nearest voxel, physical space) at the voxel centres of another grid."""
    ijk = np.round((np.linalg.inv(ijkToRAS) @ np.c_[_voxelCentres(shape, gridToRAS), np.ones(int(np.prod(shape)))].T)[:3].T).astype(int)
    inside = np.all((ijk >= 0) & (ijk < np.array(array.shape[::-1])), axis=1)
    values = np.zeros(len(ijk), dtype=array.dtype)
    values[inside] = array[ijk[inside, 2], ijk[inside, 1], ijk[inside, 0]]
    return values.reshape(shape)


@pytest.fixture(scope="module")
def timePoint():
    return syntheticPatient.makeTimePoint("interstage", 7, 1.222, spacing=SPACING)


@pytest.fixture
def case(slicerContext, timePoint):
    scene = slicerContext.scene
    ctNode, segmentationNode = syntheticPatientScene.addTimePointNodes(scene, timePoint, "Case")
    segmentation = segmentationNode.GetSegmentation()
    ids = {segmentId: segmentation.GetSegmentIdBySegmentName(f"Segment {segmentId}") for segmentId in couinaud.SEGMENT_IDS}
    ids["Spleen"] = segmentation.GetSegmentIdBySegmentName("Spleen")
    labels = _tissueLabels(timePoint)
    return {"scene": scene, "ct": ctNode, "segmentation": segmentationNode, "ids": ids, "labels": labels, "timePoint": timePoint}


def _liverIds(case):
    return [case["ids"][segmentId] for segmentId in couinaud.SEGMENT_IDS]


def _flrIds(case):
    return [case["ids"]["II"], case["ids"]["III"]]


def test_syntheticMriPairOnTheSegmentationGrid(case):
    timePoint, labels, scene = case["timePoint"], case["labels"], case["scene"]
    pre, hbp = _signals(labels, PRE), _signals(labels, HBP)
    preNode = segmentationImport.addVolumeFromArray(scene, "T1 pre", pre, timePoint.ijkToRAS)
    hbpNode = segmentationImport.addVolumeFromArray(scene, "T1 HBP 20 min", hbp, timePoint.ijkToRAS)
    segmentationNode, ids = case["segmentation"], case["ids"]
    liverMask = timePoint.couinaudLabels > 0
    flrMask = np.isin(timePoint.couinaudLabels, (2, 3))

    perSegment = images.meanSignalInSegments(hbpNode, segmentationNode, [ids["III"], ids["VII"], ids["Spleen"]])
    assert perSegment[ids["III"]].mean == pytest.approx(HBP[3])  # no tumour in III
    # VII holds part of a tumour; the spleen segment touches segment II: exact means of those voxels.
    assert perSegment[ids["VII"]].mean == pytest.approx(hbp[timePoint.couinaudLabels == 7].mean(), rel=1e-6)
    assert perSegment[ids["Spleen"]].mean == pytest.approx(hbp[timePoint.structures["Spleen"]].mean(), rel=1e-6)
    assert perSegment[ids["VII"]].volumeMl == pytest.approx(timePoint.trueVolumesMl["VII"])
    assert perSegment[ids["Spleen"]].label == "Spleen" and perSegment[ids["Spleen"]].unit == "a.u."

    muscle = images.meanSignalInSpheres(hbpNode, [(x, y, 0.0) for x, y in MUSCLE_CENTRES], radiusMm=6.0, label="Paraspinal muscle")
    assert muscle.mean == pytest.approx(HBP[MUSCLE]) and len(muscle.perPoint) == 2
    assert images.meanSignalInSpheres(preNode, [(x, y, 0.0) for x, y in MUSCLE_CENTRES], 6.0).mean == pytest.approx(PRE[MUSCLE])

    liverHbp = images.meanSignalInRegion(hbpNode, segmentationNode, _liverIds(case), label="Liver")
    flrHbp = images.meanSignalInRegion(hbpNode, segmentationNode, _flrIds(case), label="FLR")
    assert liverHbp.mean == pytest.approx(hbp[liverMask].mean(), rel=1e-6)
    assert flrHbp.mean == pytest.approx(hbp[flrMask].mean(), rel=1e-6)
    assert liverHbp.volumeMl == pytest.approx(timePoint.trueVolumesMl["Liver"])

    # HUI and rHUI with the true volumes (mL) and the known signals, in litres.
    hui = gx.hepatocellularUptakeIndex(timePoint.trueVolumesMl["Liver"], "mL", liverHbp.mean, HBP[SPLEEN])
    expectedHui = timePoint.trueVolumesMl["Liver"] / 1000.0 * (hbp[liverMask].mean() / HBP[SPLEEN] - 1.0)
    assert hui.value == pytest.approx(expectedHui, rel=1e-6) and hui.unit == "L"
    flrMl = timePoint.trueVolumesMl["II"] + timePoint.trueVolumesMl["III"]
    rhui = gx.remnantHui(flrMl, "mL", flrHbp.mean, HBP[SPLEEN])
    assert rhui.value == pytest.approx(flrMl / 1000.0 * (hbp[flrMask].mean() / HBP[SPLEEN] - 1.0), rel=1e-6)
    assert gx.remnantHuiFlag(rhui).state == (NOT_MET if round(rhui.value, 3) < 0.410 else MET)

    # Voxel-wise RLE map: FLR share = sum over II+III / sum over the liver, against numpy on the known signals.
    rleMap = images.relativeEnhancementMap(preNode, hbpNode)
    assert gadoxetateWorkflow.addEnhancementMapNode(rleMap).GetAttribute("ALPPS.Gadoxetate.Map") == gx.RLE_MAP
    assert rleMap.undefinedVoxels == int(np.count_nonzero(pre <= 0))
    rle = (hbp.astype(np.float64) - pre) / np.where(pre > 0, pre, 1.0)
    share = images.remnantFunctionalShare(rleMap, segmentationNode, _flrIds(case), _liverIds(case))
    expectedShare = rle[flrMask].sum() / rle[liverMask].sum()
    assert share.share == pytest.approx(expectedShare, rel=1e-5)
    assert share.mapKind == gx.RLE_MAP and share.liverVoxels == timePoint.trueVoxelCounts["Liver"]
    # Known by construction: the share from per-segment voxel counts, tumours apart.
    tumourMask = labels == TUMOUR
    counts = {s: int(np.count_nonzero((timePoint.couinaudLabels == s) & ~tumourMask)) for s in range(1, 9)}
    tumourRle = HBP[TUMOUR] / PRE[TUMOUR] - 1.0
    numerator = sum(counts[s] * RLE_TRUE[s] for s in (2, 3)) + tumourRle * np.count_nonzero(tumourMask & flrMask)
    denominator = sum(counts[s] * RLE_TRUE[s] for s in range(1, 9)) + tumourRle * np.count_nonzero(tumourMask & liverMask)
    assert share.share == pytest.approx(numerator / denominator, rel=1e-5)
    assert share.share > (timePoint.trueVolumesMl["II"] + timePoint.trueVolumesMl["III"]) / timePoint.trueVolumesMl["Liver"]
    clipped = images.remnantFunctionalShare(rleMap, segmentationNode, _flrIds(case), _liverIds(case), clipNegative=True)
    assert clipped.share == pytest.approx(rle[flrMask].clip(0).sum() / rle[liverMask].clip(0).sum(), rel=1e-5)

    # L/S - 1 map.
    lsMap = images.liverSpleenEnhancementMap(hbpNode, HBP[SPLEEN])
    lsShare = images.remnantFunctionalShare(lsMap, segmentationNode, _flrIds(case), _liverIds(case))
    ls = hbp.astype(np.float64) / HBP[SPLEEN] - 1.0
    assert lsShare.share == pytest.approx(ls[flrMask].sum() / ls[liverMask].sum(), rel=1e-5)
    assert lsShare.mapKind == gx.LIVER_SPLEEN_MAP

    # The indices of the whole liver and of the FLR, as shown per time point.
    liverPre = images.meanSignalInRegion(preNode, segmentationNode, _liverIds(case)).mean
    indices = gx.signalIndices(liverHbp.mean, HBP[SPLEEN], muscle.mean, liverPre, PRE[MUSCLE])
    assert indices["missing"] == {}
    assert indices["values"][gx.CEI] == pytest.approx((liverHbp.mean / HBP[MUSCLE]) / (liverPre / PRE[MUSCLE]))


def _mriGrid(timePoint):
    """A differently gridded MRI: 1.5 x 1.5 x 4 mm, stored RAS-ascending (not LPS like the CT),
    origin shifted so that no voxel centre falls on a CT voxel boundary."""
    ijkToRAS = np.diag([1.5, 1.5, 4.0, 1.0])
    ijkToRAS[:3, 3] = (-149.63, -129.81, -99.27)
    shape = (50, 160, 200)  # [k, j, i]: z -99..97, y -130..109, x -150..149
    return shape, ijkToRAS


@pytest.mark.parametrize("underTransform", [False, True], ids=["shifted grid", "shifted grid under a transform"])
def test_differentlyGriddedMriIsPairedInPhysicalSpace(case, underTransform):
    timePoint, scene = case["timePoint"], case["scene"]
    shape, mriToRAS = _mriGrid(timePoint)
    toParent = np.eye(4)
    if underTransform:
        # The MRI was acquired in a frame displaced from the CT; its registration transform puts it back.
        angle = np.radians(4.0)
        toParent[:3, :3] = [[np.cos(angle), -np.sin(angle), 0.0], [np.sin(angle), np.cos(angle), 0.0], [0.0, 0.0, 1.0]]
        toParent[:3, 3] = (7.3, -5.1, 3.7)
    # Tissue labels of the MRI voxels: the CT-grid labels at each voxel's world position.
    mriLabels = _lookupOnGrid(case["labels"], timePoint.ijkToRAS, shape, toParent @ mriToRAS)
    hbpNode = segmentationImport.addVolumeFromArray(scene, "HBP 1.5x1.5x4", _signals(mriLabels, HBP), mriToRAS)
    if underTransform:
        transformNode = scene.AddNewNodeByClass("vtkMRMLLinearTransformNode", "MRI to CT")
        transformNode.SetMatrixTransformToParent(imageGrid.vtkMatrixFromArray(toParent))
        hbpNode.SetAndObserveTransformNodeID(transformNode.GetID())
    segmentationNode, ids = case["segmentation"], case["ids"]

    hbp = _signals(mriLabels, HBP)
    signals = images.meanSignalInSegments(hbpNode, segmentationNode, [ids["I"], ids["III"], ids["VII"], ids["Spleen"]])
    # Segments I and III hold one signal each (no tumour): a voxel paired by index would spoil it.
    assert signals[ids["I"]].mean == pytest.approx(HBP[1], abs=1e-3)
    assert signals[ids["III"]].mean == pytest.approx(HBP[3], abs=1e-3)
    # VII (part of a tumour) and the spleen (touching segment II): the MRI voxels whose world
    # position lies in the segment on the CT grid, found here independently.
    for name, mask in (("VII", timePoint.couinaudLabels == 7), ("Spleen", timePoint.structures["Spleen"])):
        onMri = _lookupOnGrid(mask, timePoint.ijkToRAS, shape, toParent @ mriToRAS)
        assert signals[ids[name]].mean == pytest.approx(hbp[onMri].mean(), rel=1e-6)
        assert signals[ids[name]].voxelCount == int(onMri.sum())
    assert signals[ids["VII"]].volumeMl == pytest.approx(timePoint.trueVolumesMl["VII"], rel=0.02)
    assert signals[ids["VII"]].voxelCount * 1.5 * 1.5 * 4.0 / 1000.0 == pytest.approx(signals[ids["VII"]].volumeMl)

    # The whole liver and the FLR: the MRI's own voxels, found by physical position.
    liverOnMri = _lookupOnGrid(timePoint.couinaudLabels > 0, timePoint.ijkToRAS, shape, toParent @ mriToRAS)
    liver = images.meanSignalInRegion(hbpNode, segmentationNode, _liverIds(case))
    assert liver.mean == pytest.approx(hbp[liverOnMri].mean(), rel=1e-5)
    # ROI centres are world points: with the transform they still fall in the muscle.
    muscle = images.meanSignalInSpheres(hbpNode, [(x, y, 10.0) for x, y in MUSCLE_CENTRES], 5.0)
    assert muscle.mean == pytest.approx(HBP[MUSCLE])

    # RLE map with the pre-contrast series on the CT grid (400 a.u. in the body) and the HBP on the
    # MRI grid: the pre series is resampled onto the HBP grid in physical space.
    preNode = segmentationImport.addVolumeFromArray(scene, "pre on CT grid", np.where(timePoint.ct > -500, 400.0, 0.0).astype(np.float32), timePoint.ijkToRAS)
    rleMap = images.relativeEnhancementMap(preNode, hbpNode)
    rleNode = gadoxetateWorkflow.addEnhancementMapNode(rleMap, "RLE map")
    assert rleNode.GetName() == "RLE map" and rleMap.array.shape == shape
    assert rleNode.GetParentTransformNode() is hbpNode.GetParentTransformNode()
    np.testing.assert_allclose(rleMap.ijkToRAS, mriToRAS)
    assert rleMap.undefinedVoxels > 0  # air around the body and beyond the pre series
    share = images.remnantFunctionalShare(rleMap, segmentationNode, _flrIds(case), _liverIds(case))
    rle = hbp.astype(np.float64) / 400.0 - 1.0
    flrOnMri = np.isin(_lookupOnGrid(case["timePoint"].couinaudLabels, timePoint.ijkToRAS, shape, toParent @ mriToRAS), (2, 3))
    assert share.share == pytest.approx(rle[flrOnMri].sum() / rle[liverOnMri].sum(), rel=1e-4)
    assert share.undefinedLiverVoxels == 0


def test_arrayAndGeometryInputsGiveTheSameMeans(case):
    timePoint = case["timePoint"]
    shape, mriToRAS = _mriGrid(timePoint)
    mriLabels = _lookupOnGrid(case["labels"], timePoint.ijkToRAS, shape, mriToRAS)
    hbp = _signals(mriLabels, HBP)
    ids = case["ids"]
    byArray = images.meanSignalInSegments((hbp, mriToRAS), case["segmentation"], [ids["I"], ids["VIII"]])
    assert byArray[ids["I"]].mean == pytest.approx(HBP[1], abs=1e-3)
    onMri = _lookupOnGrid(timePoint.couinaudLabels == 8, timePoint.ijkToRAS, shape, mriToRAS)
    assert byArray[ids["VIII"]].mean == pytest.approx(hbp[onMri].mean(), rel=1e-6)
    assert case["scene"].GetFirstNodeByName("__alpps_gadoxetate_image__") is None, "the temporary node is removed"


def test_sphericalRoisByHand(slicerContext):
    # 1 mm grid, values i^2: a 1 mm sphere around voxel (2, 2, 2) holds it and its 6 neighbours.
    i = np.indices((5, 5, 5))[2]
    image = ((i**2).astype(np.float32), np.eye(4))
    signal = images.meanSignalInSpheres(image, [(2.0, 2.0, 2.0)], 1.0)
    assert signal.perPoint[0].voxelCount == 7
    assert signal.mean == pytest.approx((4 + 1 + 9 + 4 * 4) / 7.0)
    assert images.meanSignalInSpheres(image, [(2.0, 2.0, 2.0)], 0.4).mean == pytest.approx(4.0)
    # Two overlapping spheres: each point has its own mean, the pooled mean counts shared voxels once.
    two = images.meanSignalInSpheres(image, [(2.0, 2.0, 2.0), (3.0, 2.0, 2.0)], 1.0)
    assert [part.voxelCount for part in two.perPoint] == [7, 7] and two.pooled.voxelCount == 12
    # Points placed as markups (world positions), as the user clicks them in Slicer.
    markups = slicerContext.scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "spleen ROI")
    markups.AddControlPoint(2.0, 2.0, 2.0, "spleen 1")
    node = segmentationImport.addVolumeFromArray(slicerContext.scene, "image", image[0], image[1])
    fromMarkups = images.meanSignalInSpheres(node, markups, 1.0, label="Spleen")
    assert fromMarkups.mean == pytest.approx(signal.mean) and fromMarkups.perPoint[0].label == "Spleen spleen 1"
    with pytest.raises(ValueError, match=r"contains no voxel centre: expected a larger radius"):
        images.meanSignalInSpheres(image, [(2.5, 2.5, 2.5)], 0.2)
    with pytest.raises(ValueError, match="lies outside the image"):
        images.meanSignalInSpheres(image, [(50.0, 50.0, 50.0)], 2.0)
    with pytest.raises(ValueError, match="ROI radius -1 mm must be positive"):
        images.meanSignalInSpheres(image, [(2.0, 2.0, 2.0)], -1.0)
    empty = slicerContext.scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "no points")
    with pytest.raises(ValueError, match="has no control points"):
        images.meanSignalInSpheres(node, empty, 1.0)


def test_t1IndicesFromMaps(case):
    timePoint = case["timePoint"]
    liver = timePoint.couinaudLabels > 0
    t1Pre = np.where(liver, 800.0, 1200.0).astype(np.float32)
    t1Hbp = np.where(liver, 320.0, 1100.0).astype(np.float32)
    indices = images.t1IndicesFromMaps((t1Pre, timePoint.ijkToRAS), (t1Hbp, timePoint.ijkToRAS), case["segmentation"], _liverIds(case), "ms")
    assert indices.deltaR1PerS == pytest.approx(1000.0 / 320.0 - 1000.0 / 800.0)
    assert indices.reductionRate == pytest.approx(0.6)
    with pytest.raises(ValueError, match="Pre-contrast T1 map is missing"):
        images.t1IndicesFromMaps(None, (t1Hbp, timePoint.ijkToRAS), case["segmentation"], _liverIds(case), "ms")


def test_regionErrors(case):
    scene, timePoint = case["scene"], case["timePoint"]
    # An MRI slab far above the liver: the liver segments cover none of its voxels.
    slab = np.diag([2.0, 2.0, 2.0, 1.0])
    slab[:3, 3] = (-50.0, -50.0, 300.0)
    slabNode = segmentationImport.addVolumeFromArray(scene, "slab", np.ones((5, 50, 50), dtype=np.float32), slab)
    with pytest.raises(ValueError, match="no voxel of the image lies in"):
        images.meanSignalInRegion(slabNode, case["segmentation"], _liverIds(case), label="Liver")
    with pytest.raises(ValueError, match="has no segments with IDs"):
        images.meanSignalInSegments(slabNode, case["segmentation"], ["no such segment"])
    with pytest.raises(ValueError, match="expected a scalar volume node or"):
        images.meanSignalInSegments("image.nrrd", case["segmentation"], [case["ids"]["II"]])
    with pytest.raises(ValueError, match="liver segments cover no voxel"):
        images.remnantFunctionalShare(slabNode, case["segmentation"], _flrIds(case), _liverIds(case))
    zeros = segmentationImport.addVolumeFromArray(scene, "zero map", np.zeros(timePoint.ct.shape, dtype=np.float32), timePoint.ijkToRAS)
    with pytest.raises(ValueError, match="Sum of the map over the liver is 0"):
        images.remnantFunctionalShare(zeros, case["segmentation"], _flrIds(case), _liverIds(case))
