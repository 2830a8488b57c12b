"""The remnant that enters sFLR, FLR-BWR and FLR/BSA is tumour-free, and each carries the
resolution interval of its voxels (clinical reference section 2), checked on box phantoms whose
boundary area is known analytically."""

import numpy as np
import pytest
from ALPPSVolumetryLib.criteria import bodySize
from ALPPSVolumetryLib.segments import couinaud, segmentationImport
from ALPPSVolumetryLib.planning import futureLiverRemnant, remnantRatios, resectionPlans

# Anisotropic voxels (mm), so that each axis' face area and half-thickness differ.
SPACING = (4.0, 5.0, 6.0)
SHAPE = (40, 30, 36)  # k, j, i


def _grid():
    ijkToRAS = np.diag([SPACING[0], SPACING[1], SPACING[2], 1.0])
    ijkToRAS[:3, 3] = (-10.0, 5.0, 20.0)
    return ijkToRAS


def _boxFaces(size):
    """Boundary faces per axis (i, j, k) of a box of ``size`` = (ni, nj, nk) voxels."""
    ni, nj, nk = size
    return (2 * nj * nk, 2 * ni * nk, 2 * ni * nj)


def _analyticHalfWidthMl(facesPerAxis):
    # Face area normal to an axis x half the voxel size along it, summed: mm3 -> mL.
    areas = (SPACING[1] * SPACING[2], SPACING[0] * SPACING[2], SPACING[0] * SPACING[1])
    return sum(faces * area * size / 2.0 for faces, area, size in zip(facesPerAxis, areas, SPACING)) / 1000.0


def _liverOfBoxes(scene, tumour=None):
    """Segments I-VIII as boxes tiling a block; the left-lateral remnant (II+III) is one box of
    12 x 10 x 8 voxels (i, j, k). ``tumour``: (slices, box) of a tumour segment."""
    labels = np.zeros(SHAPE, dtype=np.uint8)
    block = (slice(4, 36), slice(5, 25), slice(6, 30))
    labels[block] = 5  # the rest of the liver, split below into the other segments
    labels[4:12, 5:15, 6:18] = 2  # II: i 6..17 (12), j 5..14 (10), k 4..11 (8)
    labels[12:20, 5:15, 6:18] = 3  # III beside it along k: II+III is 12 x 10 x 16
    labels[4:20, 15:25, 6:18] = 4
    labels[20:36, 5:15, 6:18] = 1
    labels[4:20, 5:25, 18:30] = 6
    labels[20:36, 15:25, 6:18] = 7
    labels[20:28, 5:25, 18:30] = 8
    masks = {f"Segment {name}": labels == value for value, name in enumerate(couinaud.SEGMENT_IDS, 1)}
    if tumour is not None:
        tumourMask = np.zeros(SHAPE, dtype=bool)
        tumourMask[tumour] = True
        masks["Tumour 1"] = tumourMask
    node = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Boxes")
    segmentationImport.importMaskArrays(node, masks, _grid())
    return node, labels


def test_resolutionIntervalOfABoxRemnantIsItsBoundaryAreaTimesHalfAVoxel(slicerContext):
    node, labels = _liverOfBoxes(slicerContext.scene)
    plan = futureLiverRemnant.measureVolumetry(
        node, [resectionPlans.parsePlan("custom:left lateral=II,III")], futureLiverRemnant.VolumetrySettings(170, 70)
    ).plans[0]
    voxelMl = np.prod(SPACING) / 1000.0
    assert plan.remnantMl == pytest.approx(12 * 10 * 16 * voxelMl, rel=1e-12)
    halfWidth = _analyticHalfWidthMl(_boxFaces((12, 10, 16)))
    low, high = plan.remnantIntervalMl
    assert (low, high) == pytest.approx((plan.remnantMl - halfWidth, plan.remnantMl + halfWidth), rel=1e-12)
    # Carried into sFLR and FLR-BWR through the same formulas.
    body = bodySize.standardLiverVolume(170, 70)
    assert plan.sFLRInterval == pytest.approx((low / body.stlvMl * 100, high / body.stlvMl * 100), rel=1e-12)
    assert plan.flrBwrInterval == pytest.approx((low / 70000 * 100, high / 70000 * 100), rel=1e-12)
    sflrFlag = next(flag for flag in plan.flags if flag.criterion == "sFLR")
    assert sflrFlag.interval == pytest.approx(plan.sFLRInterval)
    assert plan.tumourFlag is None and plan.ratioBasis == futureLiverRemnant.RATIO_BASIS_GROSS


def test_tumourInsideTheRemnantIsSubtractedAndItsSurfaceBelongsToTheBoundary(slicerContext):
    # A 4 x 2 x 3 voxel tumour (i, j, k) well inside segment II.
    node, _ = _liverOfBoxes(slicerContext.scene, tumour=(slice(6, 9), slice(8, 10), slice(10, 14)))
    settings = futureLiverRemnant.VolumetrySettings(170, 70)
    plan = futureLiverRemnant.measureVolumetry(node, [resectionPlans.parsePlan("custom:left lateral=II,III")], settings).plans[0]
    voxelMl = np.prod(SPACING) / 1000.0
    tumourMl = 4 * 2 * 3 * voxelMl
    assert plan.tumourInRemnantMl == pytest.approx(tumourMl, rel=1e-12)
    assert plan.remnantMl == pytest.approx(12 * 10 * 16 * voxelMl, rel=1e-12)  # gross, as before
    assert plan.tumourFreeRemnantMl == pytest.approx(plan.remnantMl - tumourMl, rel=1e-12)
    body = bodySize.standardLiverVolume(170, 70)
    assert plan.sFLR == pytest.approx(remnantRatios.standardisedFutureLiverRemnant(plan.remnantMl - tumourMl, body.stlvMl))
    assert plan.flrBwr == pytest.approx((plan.remnantMl - tumourMl) / 70000 * 100)
    assert plan.flrPerBsa == pytest.approx((plan.remnantMl - tumourMl) / body.bsaM2)
    faces = np.add(_boxFaces((12, 10, 16)), _boxFaces((4, 2, 3)))
    halfWidth = _analyticHalfWidthMl(faces)
    assert plan.remnantIntervalMl == pytest.approx((plan.tumourFreeRemnantMl - halfWidth, plan.tumourFreeRemnantMl + halfWidth))
    # The warning flag is part of the plan, not a footnote.
    assert plan.tumourFlag.state == "not met" and plan.tumourFlag.value == pytest.approx(tumourMl)
    assert "tumour-free remnant" in plan.tumourFlag.reason and plan.tumourFlag.reason in plan.warnings
    document = futureLiverRemnant.volumetryToDict(futureLiverRemnant.measureVolumetry(node, [resectionPlans.parsePlan("custom:left lateral=II,III")], settings))
    planDocument = next(iter(document["plans"].values()))
    assert planDocument["tumourFreeRemnantMl"] == pytest.approx(plan.tumourFreeRemnantMl)
    assert planDocument["tumourFlag"]["state"] == "not met" and document["schemaVersion"] == 2


def test_aCutoffInsideTheResolutionIntervalIsBorderline(slicerContext):
    node, _ = _liverOfBoxes(slicerContext.scene)
    settings = futureLiverRemnant.VolumetrySettings(170, 70)
    plan = futureLiverRemnant.measureVolumetry(node, [resectionPlans.parsePlan("custom:left lateral=II,III")], settings).plans[0]
    low, high = plan.sFLRInterval
    # A local cut-off just inside the interval (above the value) cannot be decided by this scan.
    inside = round(plan.sFLR + (high - plan.sFLR) / 2, 2)
    outside = round(high + 0.5, 2)
    for threshold, expected in ((inside, "borderline"), (outside, "not met"), (round(low - 0.5, 2), "met")):
        local = futureLiverRemnant.VolumetrySettings(170, 70, thresholds=settings.adequacyThresholds().withOverrides(
            sflrMinimumPercent=threshold, source="test protocol"))
        state = futureLiverRemnant.measureVolumetry(node, [resectionPlans.parsePlan("custom:left lateral=II,III")], local).plans[0].flags[0].state
        assert state == expected, (threshold, plan.sFLRInterval)
