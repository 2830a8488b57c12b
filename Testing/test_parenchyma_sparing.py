"""Parenchyma-sparing alternative: tumour-vessel distances, diameters and margin volumes against
analytic shapes and against brute-force oracles written here independently of the module (pairs
of voxels, no distance maps); the synthetic patient; the real 3D-IRCADb-01 vessel mask; the
plan beside the major plans; segments for the 3D view; the mistakes a user can make."""

import json
import math
import os
import time

import numpy as np
import pytest
import SimpleITK as sitk
import vtk
from ALPPSVolumetryLib.planning import futureLiverRemnant, landmarkSegments, resectionPlans
from ALPPSVolumetryLib.segments import segmentationImport, segmentationIO
from ALPPSVolumetryLib import syntheticPatient, syntheticPatientScene, volumetryWorkflow
from ALPPSVolumetryLib.sparing import (
    majorVessels,
    marginGeometry,
    marginVolumetry,
    sparingDisplay,
    sparingInputs,
    sparingResults,
    tumourVesselAnalysis,
)
from alpps.benchmark import benchmarkSparing

# --- independent oracles (voxel pairs) ---------------------------------------------------------


def _boundary(mask):
    """Voxels of ``mask`` with a face neighbour outside it: the nearest voxel of a set to anything
    outside it is always one of these (stepping towards the other point shortens every distance
    used here), so the oracles only pair boundary voxels."""
    padded = np.pad(mask, 1)
    interior = mask.copy()
    for axis in range(3):
        for step in (-1, 1):
            interior &= np.roll(padded, step, axis=axis)[1:-1, 1:-1, 1:-1]
    return mask & ~interior


def _pairMinimum(first, second, distance, chunk=2048):
    best = math.inf
    for start in range(0, len(first), chunk):
        best = min(best, float(distance(first[start : start + chunk, None, :] - second[None, :, :]).min()))
    return best


def boxGapOracle(tumour, vessel, spacingKji):
    """Shortest distance between the boxes of two voxel sets on one grid (0 if they share voxels)."""
    if np.any(tumour & vessel):
        return 0.0
    spacing = np.asarray(spacingKji, dtype=float)
    return _pairMinimum(
        np.argwhere(_boundary(tumour)),
        np.argwhere(_boundary(vessel)),
        lambda d: np.sqrt(((np.clip(np.abs(d) - 1, 0, None) * spacing) ** 2).sum(axis=-1)),
    )


def centreDistanceOracle(tumour, vessel, spacingKji):
    if np.any(tumour & vessel):
        return 0.0
    spacing = np.asarray(spacingKji, dtype=float)
    return _pairMinimum(
        np.argwhere(_boundary(tumour)), np.argwhere(_boundary(vessel)), lambda d: np.sqrt(((d * spacing) ** 2).sum(axis=-1))
    )


def marginOracle(tumour, spacingKji, marginMm):
    """Voxels whose centre lies within ``marginMm`` of the boxes of ``tumour``'s voxels."""
    spacing = np.asarray(spacingKji, dtype=float)
    edge = np.argwhere(_boundary(tumour))
    low, high = edge.min(axis=0), edge.max(axis=0)
    reach = np.ceil(marginMm / spacing + 0.5).astype(int)
    lo = np.maximum(low - reach, 0)
    hi = np.minimum(high + reach + 1, tumour.shape)
    candidates = np.argwhere(np.ones(tuple(hi - lo), dtype=bool)) + lo
    result = tumour.copy()
    for start in range(0, len(candidates), 256):
        block = candidates[start : start + 256]
        gaps = np.clip(np.abs(block[:, None, :] - edge[None, :, :]) - 0.5, 0, None) * spacing
        near = np.sqrt((gaps**2).sum(axis=-1)).min(axis=1) <= marginMm
        result[tuple(block[near].T)] = True
    return result


def components26(mask):
    """Number of 26-connected components: every voxel takes the smallest label among its 26
    neighbours until nothing changes (no SimpleITK)."""
    k, j, i = np.nonzero(mask)
    if k.size == 0:
        return 0
    crop = np.pad(mask[k.min() : k.max() + 1, j.min() : j.max() + 1, i.min() : i.max() + 1], 1)
    big = np.iinfo(np.int64).max
    labels = np.where(crop, np.arange(crop.size).reshape(crop.shape), big)
    K, J, I = crop.shape
    while True:
        smallest = labels.copy()
        for a in (-1, 0, 1):
            for b in (-1, 0, 1):
                for c in (-1, 0, 1):
                    np.minimum(smallest[1:-1, 1:-1, 1:-1], labels[1 + a : K - 1 + a, 1 + b : J - 1 + b, 1 + c : I - 1 + c], out=smallest[1:-1, 1:-1, 1:-1])
        smallest[~crop] = big
        if np.array_equal(smallest, labels):
            return int(np.unique(labels[crop]).size)
        labels = smallest


def _cropAround(mask, reachKji, *arrays):
    """``arrays`` cropped to the box of ``mask`` widened by ``reachKji`` voxels."""
    k, j, i = np.nonzero(mask)
    lo = np.maximum(np.array([k.min(), j.min(), i.min()]) - reachKji, 0)
    hi = np.minimum(np.array([k.max(), j.max(), i.max()]) + reachKji + 1, mask.shape)
    window = tuple(slice(int(a), int(b)) for a, b in zip(lo, hi))
    return [array[window] for array in (mask,) + arrays]


# --- the analytic phantom ----------------------------------------------------------------------

# An LPS-ordered, anisotropic grid: voxel (k, j, i) has its centre at R = 40 - 0.8 i,
# A = 30 - 0.7 j, S = -30 + 1.5 k (mm).
SPACING_KJI = (1.5, 0.7, 0.8)
SHAPE = (44, 100, 110)
IJK_TO_RAS = np.diag([-0.8, -0.7, 1.5, 1.0])
IJK_TO_RAS[:3, 3] = (40.0, 30.0, -30.0)
DIAGONAL_MM = math.sqrt(sum(s * s for s in SPACING_KJI))

# Vessels: straight tubes (point on the axis, direction, radius mm).
VESSELS = {
    "RHV": ((-30.0, -20.0, 0.0), (0.0, 0.0, 1.0), 3.0),
    "MHV": ((0.0, 15.0, 0.0), (1.0, 0.0, 0.0), 2.5),
    "Right portal pedicle": ((10.0, -10.0, -15.0), (1.0, 1.0, 0.5), 3.5),
}
# Tumours: spheres (centre, radius mm). Tumour 1 lies 4 mm from the RHV, tumour 2 0.4 mm from the
# MHV (contact), tumour 3 near the liver's right edge, away from every vessel.
TUMOURS = {
    "Tumour 1": ((-17.0, -20.0, 5.0), 6.0),
    "Tumour 2": ((2.0, 7.1, 0.0), 5.0),
    "Tumour 3": ((27.0, 20.0, 20.0), 4.0),
}


def _ras(shape=SHAPE, ijkToRAS=IJK_TO_RAS):
    k, j, i = np.meshgrid(*(np.arange(n, dtype=float) for n in shape), indexing="ij")
    return [ijkToRAS[a, 0] * i + ijkToRAS[a, 1] * j + ijkToRAS[a, 2] * k + ijkToRAS[a, 3] for a in range(3)]


def _sphere(r, centre, radius):
    return sum((r[a] - centre[a]) ** 2 for a in range(3)) <= radius * radius


def _tube(r, point, direction, radius):
    direction = np.asarray(direction, dtype=float) / np.linalg.norm(direction)
    relative = [r[a] - point[a] for a in range(3)]
    along = sum(relative[a] * direction[a] for a in range(3))
    return sum((relative[a] - along * direction[a]) ** 2 for a in range(3)) <= radius * radius


def _lineDistance(centre, point, direction):
    direction = np.asarray(direction, dtype=float) / np.linalg.norm(direction)
    relative = np.asarray(centre, dtype=float) - np.asarray(point, dtype=float)
    return float(np.linalg.norm(relative - (relative @ direction) * direction))


def _liverBox(r):
    return (r[0] >= -45) & (r[0] <= 30) & (r[1] >= -37) & (r[1] <= 28) & (r[2] >= -28) & (r[2] <= 32)


@pytest.fixture(scope="module")
def phantomMasks():
    r = _ras()
    masks = {"Liver": _liverBox(r)}
    masks.update({name: _tube(r, *geometry) for name, geometry in VESSELS.items()})
    masks.update({name: _sphere(r, centre, radius) for name, (centre, radius) in TUMOURS.items()})
    return masks


def _segmentation(scene, masks, name="Phantom", ijkToRAS=IJK_TO_RAS):
    segmentationNode = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", name)
    segmentationNode.CreateDefaultDisplayNodes()
    ids = segmentationImport.importMaskArrays(segmentationNode, masks, ijkToRAS)
    return segmentationNode, ids


def test_vesselNamesAreRecognisedAsCliniciansTypeThem():
    label = lambda name: majorVessels.vesselFromName(name).label
    assert label("RHV") == label("Right hepatic vein (RHV)") == label("right_hepatic-vein") == "right hepatic vein"
    assert label("MHV") == "middle hepatic vein" and label("LHV") == "left hepatic vein"
    assert label("V8") == label("Accessory vein of segment VIII") == "accessory vein of segment VIII (V8)"
    assert label("Right portal pedicle") == label("right Glissonean pedicle") == "right portal pedicle"
    assert label("left portal vein") == "left portal pedicle"
    assert label("portal_vein_and_splenic_vein") == label("Portal vein") == "portal vein"
    assert label("Hepatic veins") == "hepatic veins" and label("liver_vessels").startswith("liver vessels")
    for other in ("Portal vein tumour thrombus", "Inferior vena cava", "Tumour 1", "Segment VIII", "Liver"):
        assert majorVessels.vesselFromName(other) is None, other


def test_distancesOnTheAnalyticPhantom(slicerContext, phantomMasks):
    segmentationNode, _ = _segmentation(slicerContext.scene, phantomMasks)
    started = time.perf_counter()
    findings = tumourVesselAnalysis.tumourFindings(segmentationNode)
    seconds = time.perf_counter() - started
    assert [finding.name for finding in findings] == list(TUMOURS)
    vesselLabels = {"RHV": "right hepatic vein", "MHV": "middle hepatic vein", "Right portal pedicle": "right portal pedicle"}
    voxelMl = 0.8 * 0.7 * 1.5 / 1000.0
    print(f"\nphantom findings in {seconds:.3f} s (voxel diagonal {DIAGONAL_MM:.2f} mm)")
    for finding in findings:
        centre, radius = TUMOURS[finding.name]
        tumour = phantomMasks[finding.name]
        assert finding.voxelCount == np.count_nonzero(tumour)
        assert finding.volumeMl == pytest.approx(np.count_nonzero(tumour) * voxelMl, rel=1e-9)
        assert finding.volumeMl == pytest.approx(4.0 / 3.0 * math.pi * radius**3 / 1000.0, rel=0.05)
        # Largest distance between voxel centres: short of 2r by less than a voxel diagonal at each end.
        assert 2 * radius - 2 * DIAGONAL_MM <= finding.largestDiameterMm <= 2 * radius
        assert finding.largestDiameterMm == pytest.approx(2 * radius, abs=DIAGONAL_MM / 2)
        assert finding.couinaudSegments == () and any("No Couinaud" in warning for warning in finding.warnings)
        assert [distance.vessel for distance in finding.vesselDistances] == [
            "right hepatic vein",
            "middle hepatic vein",
            "right portal pedicle",
        ]
        for name, (point, direction, vesselRadius) in VESSELS.items():
            distance = next(d for d in finding.vesselDistances if d.vessel == vesselLabels[name])
            vessel = phantomMasks[name]
            analytic = max(0.0, _lineDistance(centre, point, direction) - radius - vesselRadius)
            expected = boxGapOracle(tumour, vessel, SPACING_KJI)
            print(
                f"  {finding.name} - {name}: {distance.distanceMm:.3f} mm (oracle {expected:.3f}, analytic {analytic:.2f}), "
                f"centres {distance.centreDistanceMm:.3f} mm, contact {distance.contact}"
            )
            assert distance.distanceMm == pytest.approx(expected, abs=1e-4)
            assert distance.centreDistanceMm == pytest.approx(centreDistanceOracle(tumour, vessel, SPACING_KJI), abs=1e-4)
            assert abs(distance.distanceMm - analytic) <= DIAGONAL_MM
            assert distance.contact == (expected <= 1.0)
            assert distance.centreDistanceMm >= distance.distanceMm
    byName = {finding.name: finding for finding in findings}
    assert [d.vessel for d in byName["Tumour 2"].contacts] == ["middle hepatic vein"]
    assert not byName["Tumour 1"].contacts and not byName["Tumour 3"].contacts
    assert byName["Tumour 1"].nearestVessel.vessel == "right hepatic vein"


def test_touchingAcrossThickSlicesIsAContact(slicerContext):
    """A tumour whose last slice lies on the vessel's first: 0 mm between the painted voxels,
    although their centres are a whole 3 mm slice apart."""
    ijkToRAS = np.diag([0.7, 0.7, 3.0, 1.0])
    liver = np.ones((12, 30, 30), dtype=bool)
    tumour = np.zeros_like(liver)
    tumour[2:6, 10:16, 10:16] = True
    vessel = np.zeros_like(liver)
    vessel[6:9, 12:14, 5:25] = True
    segmentationNode, _ = _segmentation(
        slicerContext.scene, {"Liver": liver, "Lesion": tumour, "Middle hepatic vein": vessel}, ijkToRAS=ijkToRAS
    )
    (finding,) = tumourVesselAnalysis.tumourFindings(segmentationNode)
    (distance,) = finding.vesselDistances
    assert distance.distanceMm == 0.0 and distance.centreDistanceMm == pytest.approx(3.0)
    assert distance.contact and distance.overlapMl == 0.0
    # The contact surface: the tumour's whole last slice, whose boxes all lie within 0.7 mm (one
    # in-plane voxel) of the vessel's; the slice before is 3 mm away.
    assert distance.contactVoxels == 6 * 6


def test_marginVolumeOfAnIsolatedSphere(slicerContext):
    r = _ras()
    centre, radius = (-2.3, -5.1, 2.2), 6.0
    tumour = _sphere(r, centre, radius)
    segmentationNode, _ = _segmentation(slicerContext.scene, {"Liver": np.ones(SHAPE, dtype=bool), "Tumour": tumour})
    voxelMl = 0.8 * 0.7 * 1.5 / 1000.0
    half = DIAGONAL_MM / 2.0
    for margin in (1.0, 10.0):
        started = time.perf_counter()
        result = marginVolumetry.marginPlan(segmentationNode, margin)
        seconds = time.perf_counter() - started
        oracle = marginOracle(tumour, SPACING_KJI, margin)
        analytic = 4.0 / 3.0 * math.pi * (radius + margin) ** 3 / 1000.0
        print(
            f"\nmargin {margin:g} mm: {result.plan.resectedMl:.4f} mL (oracle {np.count_nonzero(oracle) * voxelMl:.4f}, "
            f"4/3 pi (r+m)^3 = {analytic:.4f}, {100 * (result.plan.resectedMl / analytic - 1):+.1f} %), {seconds:.3f} s"
        )
        assert result.plan.resectedMl == pytest.approx(np.count_nonzero(oracle) * voxelMl, rel=1e-9)
        assert result.tumourMarginMl == {"Tumour": pytest.approx(result.plan.resectedMl)}
        # The painted tumour lies within half a voxel diagonal of the true sphere, and voxelising
        # the grown shape adds as much again: the volume lies between those of spheres of radius
        # r + m -/+ one voxel diagonal.
        assert 4.0 / 3.0 * math.pi * (radius + margin - 2 * half) ** 3 / 1000.0 <= result.plan.resectedMl
        assert result.plan.resectedMl <= 4.0 / 3.0 * math.pi * (radius + margin + 2 * half) ** 3 / 1000.0
        # Measured bias of the painted-voxel definition: outwards, a fraction of a voxel.
        assert 0.0 <= result.plan.resectedMl / analytic - 1 <= (0.30 if margin == 1.0 else 0.15)
        assert result.areaCount == 1 and result.areas[0].tumours == ("Tumour",)
        assert result.plan.key == sparingInputs.planKey(margin)
        assert result.plan.tumourInRemnantMl == 0.0


def test_marginsThatMeetMakeOneResectionArea(slicerContext):
    r = _ras()
    liver = np.ones(SHAPE, dtype=bool)
    # Two spheres of 4 mm on the R axis, 1.5 mm apart (1 mm margins meet), and a third 6 mm from the second.
    masks = {
        "Liver": liver,
        "Tumour A": _sphere(r, (-20.0, 0.0, 0.0), 4.0),
        "Tumour B": _sphere(r, (-10.5, 0.0, 0.0), 4.0),
        "Tumour C": _sphere(r, (3.5, 0.0, 0.0), 4.0),
    }
    segmentationNode, _ = _segmentation(slicerContext.scene, masks)
    one = marginVolumetry.marginPlan(segmentationNode, 1.0)
    assert [area.tumours for area in one.areas] == [("Tumour A", "Tumour B"), ("Tumour C",)]
    union = marginOracle(masks["Tumour A"] | masks["Tumour B"] | masks["Tumour C"], SPACING_KJI, 1.0)
    assert one.areaCount == components26(union) == 2
    assert sum(area.voxelCount for area in one.areas) == np.count_nonzero(union)
    assert one.laparoscopic.state == "met" and one.laparoscopic.maximumAreas == 3
    ten = marginVolumetry.marginPlan(segmentationNode, 10.0)
    assert ten.areaCount == 1 and ten.areas[0].tumours == ("Tumour A", "Tumour B", "Tumour C")
    assert ten.plan.resectedMl > one.plan.resectedMl


def test_fourSeparateAreasExceedTheLaparoscopicGuidance(slicerContext):
    r = _ras()
    masks = {"Liver": np.ones(SHAPE, dtype=bool)}
    for index, x in enumerate((-35.0, -15.0, 5.0, 25.0), 1):
        masks[f"Tumour {index}"] = _sphere(r, (x, 0.0, 0.0), 3.0)
    segmentationNode, _ = _segmentation(slicerContext.scene, masks)
    result = marginVolumetry.marginPlan(segmentationNode, 1.0)
    assert result.areaCount == 4
    assert [area.name for area in result.areas] == [f"Resection area {n} (1 mm margin)" for n in range(1, 5)]
    assert result.laparoscopic.state == "not met"
    assert any("more than the 3 advised" in warning for warning in result.plan.warnings)
    assert "4 resection areas" in result.plan.label


def test_marginsAreClippedToTheLiverAndMeasuredLikeThePlans(slicerContext, phantomMasks):
    segmentationNode, _ = _segmentation(slicerContext.scene, phantomMasks)
    settings = futureLiverRemnant.VolumetrySettings(heightCm=172.0, weightKg=78.0)
    result = marginVolumetry.marginPlan(segmentationNode, 10.0, settings)
    liver = phantomMasks["Liver"]
    voxelMl = 0.8 * 0.7 * 1.5 / 1000.0
    union = np.zeros(SHAPE, dtype=bool)
    for name in TUMOURS:
        union |= marginOracle(phantomMasks[name], SPACING_KJI, 10.0)
    clipped = union & liver
    assert np.count_nonzero(union & ~liver) > 0, "tumour 3's margin must reach beyond the liver for this test"
    assert result.plan.resectedMl == pytest.approx(np.count_nonzero(clipped) * voxelMl, rel=1e-9)
    assert result.totalLiverMl == pytest.approx(np.count_nonzero(liver) * voxelMl, rel=1e-9)
    assert result.liverDefinition == "whole-liver segment 'Liver'"
    plan = result.plan
    assert plan.remnantMl == pytest.approx(result.totalLiverMl - plan.resectedMl)
    assert plan.percentFLR == pytest.approx(100.0 * plan.remnantMl / result.totalLiverMl)
    body = futureLiverRemnant.standardLiverVolumeFor(settings)
    assert plan.sFLR == pytest.approx(100.0 * plan.remnantMl / body.stlvMl)
    assert plan.flrBwr == pytest.approx(100.0 * plan.remnantMl / (78.0 * 1000.0))
    assert [flag.criterion for flag in plan.flags] == ["sFLR", "flrBwr"]
    assert result.areaCount == components26(clipped)
    assert plan.resectedSegments == tuple(area.name for area in result.areas)


def test_addMarginSegmentsShowsAreasAndContactsAndReplacesThem(slicerContext, phantomMasks):
    segmentationNode, ids = _segmentation(slicerContext.scene, phantomMasks)
    segmentation = segmentationNode.GetSegmentation()
    before = segmentation.GetNumberOfSegments()
    added = sparingDisplay.addMarginSegments(segmentationNode, 1.0)
    plan = added["plan"]
    assert len(added["areas"]) == plan.areaCount == 3
    names = [segmentation.GetSegment(segmentId).GetName() for segmentId in added["areas"]]
    assert names == [f"Resection area {n} (1 mm margin)" for n in (1, 2, 3)]
    tag = vtk.reference("")
    assert segmentation.GetSegment(added["areas"][0]).GetTag(sparingInputs.GENERATED_TAG, tag) and str(tag) == "resection area"
    contact = segmentation.GetSegment(added["contact"])
    assert contact.GetName() == "Vessel contact (<= 1 mm)" and tuple(contact.GetColor()) == pytest.approx((1.0, 0.0, 0.0))
    # The contact segment holds tumour 2 voxels only, as many as its contact with the MHV.
    contactMask, contactIjkToRAS = landmarkSegments.segmentMaskAndGeometry(segmentationNode, added["contact"])
    tumourMask, tumourIjkToRAS = landmarkSegments.segmentMaskAndGeometry(segmentationNode, ids["Tumour 2"])
    offset = np.round(np.linalg.solve(tumourIjkToRAS[:3, :3], contactIjkToRAS[:3, 3] - tumourIjkToRAS[:3, 3])).astype(int)
    k, j, i = np.nonzero(contactMask)
    assert np.all(tumourMask[k + offset[2], j + offset[1], i + offset[0]])
    tumour2 = next(finding for finding in added["findings"] if finding.name == "Tumour 2")
    assert np.count_nonzero(contactMask) == tumour2.contacts[0].contactVoxels
    # The added segments are neither tumours nor vessels for a new analysis, and change no result.
    again = tumourVesselAnalysis.tumourFindings(segmentationNode)
    assert [finding.name for finding in again] == list(TUMOURS)
    assert marginVolumetry.marginPlan(segmentationNode, 1.0).plan.resectedMl == pytest.approx(plan.plan.resectedMl)
    # A second run replaces the generated segments instead of adding beside them.
    wide = sparingDisplay.addMarginSegments(segmentationNode, 10.0)
    allNames = [segmentation.GetSegment(s).GetName() for s in segmentation.GetSegmentIDs()]
    assert not any("(1 mm margin)" in name for name in allNames)
    assert segmentation.GetNumberOfSegments() == before + len(wide["areas"]) + 1
    # A segment of that name the user made is refused, not duplicated.
    segmentation.AddEmptySegment("", "Resection area 1 (10 mm margin)")
    with pytest.raises(ValueError, match=r"already has segment\(s\) 'Resection area 1 \(10 mm margin\)'"):
        sparingDisplay.addMarginSegments(segmentationNode, 10.0)


def test_tableAndJson(slicerContext, phantomMasks):
    segmentationNode, _ = _segmentation(slicerContext.scene, phantomMasks)
    findings = tumourVesselAnalysis.tumourFindings(segmentationNode)
    tableNode = slicerContext.scene.AddNewNodeByClass("vtkMRMLTableNode", "Tumours")
    sparingDisplay.writeFindingsTable(tableNode, findings)
    table = tableNode.GetTable()
    assert table.GetNumberOfRows() == 3
    columns = [table.GetColumnName(c) for c in range(table.GetNumberOfColumns())]
    assert "Distance to right hepatic vein" in columns and tableNode.GetColumnUnitLabel("Largest diameter") == "mm"
    contactColumn = table.GetColumnByName("Vessel contact")
    assert contactColumn.GetValue(1).startswith("middle hepatic vein") and contactColumn.GetValue(0) == "none"
    document = json.loads(json.dumps(sparingResults.findingsToDict(findings)))
    assert document["tumours"][1]["vessels"][1]["contact"] is True
    assert "distanceMm" in document["definitions"]
    plan = json.loads(json.dumps(sparingResults.marginPlanToDict(marginVolumetry.marginPlan(segmentationNode, 1.0))))
    assert plan["key"] == "parenchyma_sparing_1mm" and plan["laparoscopic"]["state"] == "met"


def _couinaudSlabs(shape, overlapSlices=0):
    """Segments I..VIII as slabs of the grid along i; with ``overlapSlices`` VIII reaches that far
    into VII (so Slicer keeps it in another layer)."""
    edges = np.linspace(0, shape[2], 9).astype(int)
    masks = {}
    for index, segmentId in enumerate(("I", "II", "III", "IV", "V", "VI", "VII", "VIII")):
        mask = np.zeros(shape, dtype=bool)
        start = edges[index] - (overlapSlices if segmentId == "VIII" else 0)
        mask[:, :, start : edges[index + 1]] = True
        masks[f"Segment {segmentId}"] = mask
    return masks


def test_tumourCarvedOutOfTheSegmentsLiesInTheSegmentsAroundIt(slicerContext):
    """Painted without overlap, a tumour owns its voxels: the segments around it say where it lies."""
    r = _ras()
    tumour = _sphere(r, (-2.0, 0.0, 2.0), 5.0)
    masks = {name: mask & ~tumour for name, mask in _couinaudSlabs(SHAPE).items()}
    masks["Tumour"] = tumour
    segmentationNode, _ = _segmentation(slicerContext.scene, masks)
    (finding,) = tumourVesselAnalysis.tumourFindings(segmentationNode)
    shell = np.zeros(SHAPE, dtype=bool)
    k, j, i = np.nonzero(tumour)
    for a in (-1, 0, 1):
        for b in (-1, 0, 1):
            for c in (-1, 0, 1):
                shell[k + a, j + b, i + c] = True
    shell &= ~tumour
    counts = {name.split()[1]: np.count_nonzero(shell & mask) for name, mask in masks.items() if name != "Tumour"}
    expected = tuple(sorted((unit for unit in counts if counts[unit]), key=lambda unit: -counts[unit]))
    assert finding.couinaudSegments == expected and len(expected) >= 1
    assert finding.couinaudSegmentsMl == {} and finding.outsideLiverMl == pytest.approx(finding.volumeMl)
    assert any("painted without overlap" in warning for warning in finding.warnings)
    # The margin plan keeps the liver the major plans use (segments I-VIII, without the tumour).
    result = marginVolumetry.marginPlan(segmentationNode, 1.0)
    voxelMl = 0.8 * 0.7 * 1.5 / 1000.0
    liver = np.logical_or.reduce([mask for name, mask in masks.items() if name != "Tumour"])
    assert result.totalLiverMl == pytest.approx(np.count_nonzero(liver) * voxelMl, rel=1e-9)
    assert result.plan.resectedMl == pytest.approx(np.count_nonzero(marginOracle(tumour, SPACING_KJI, 1.0) & liver) * voxelMl)


def test_liverSegmentsInSeveralLayersCountOnce(slicerContext):
    r = _ras()
    masks = _couinaudSlabs(SHAPE, overlapSlices=5)
    masks["Tumour"] = _sphere(r, (-2.0, 0.0, 2.0), 5.0)
    segmentationNode, _ = _segmentation(slicerContext.scene, masks)
    result = marginVolumetry.marginPlan(segmentationNode, 1.0)
    volumetry = futureLiverRemnant.measureVolumetry(segmentationNode, [])
    voxelMl = 0.8 * 0.7 * 1.5 / 1000.0
    assert result.liverDefinition == "union of Couinaud segments I-VIII"
    assert result.totalLiverMl == pytest.approx(volumetry.totalLiverMl, rel=1e-12)
    assert result.totalLiverMl == pytest.approx(np.prod(SHAPE) * voxelMl, rel=1e-12)


# --- the synthetic patient ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def syntheticTimePoint():
    return syntheticPatient.makeTimePoint("pre-stage 1", -3, 1.0, spacing=(2.5, 2.5, 3.0))


def test_syntheticPatientTumoursAgainstItsVeins(slicerContext, syntheticTimePoint):
    point = syntheticTimePoint
    _, segmentationNode = syntheticPatientScene.addTimePointNodes(slicerContext.scene, point, "Synthetic")
    findings = tumourVesselAnalysis.tumourFindings(segmentationNode)
    spacing = (3.0, 2.5, 2.5)
    print()
    for finding, (name, _, radius) in zip(findings, syntheticPatient.TUMOURS):
        assert finding.name == name
        assert finding.volumeMl == pytest.approx(point.trueVolumesMl[name], rel=1e-9)
        tumour = point.structures[name]
        labels = point.couinaudLabels[tumour]
        expected = {
            segmentId: np.count_nonzero(labels == value) * point.voxelVolumeMl
            for value, segmentId in enumerate(syntheticPatient.SEGMENT_IDS, 1)
            if np.any(labels == value)
        }
        assert finding.couinaudSegmentsMl == pytest.approx(expected)
        assert finding.couinaudSegments[0] == max(expected, key=expected.get)
        assert [d.vessel for d in finding.vesselDistances] == ["portal vein", "hepatic veins"]
        for distance, structure in zip(finding.vesselDistances, ("Portal vein", "Hepatic veins")):
            oracle = boxGapOracle(tumour, point.structures[structure], spacing)
            print(f"  {name} - {structure}: {distance.distanceMm:.2f} mm (oracle {oracle:.2f}), contact {distance.contact}")
            assert distance.distanceMm == pytest.approx(oracle, abs=1e-4)
        assert finding.largestDiameterMm == pytest.approx(2 * radius, abs=math.sqrt(2 * 2.5**2 + 3.0**2))


def test_syntheticPatientPlansSideBySide(slicerContext, syntheticTimePoint):
    point = syntheticTimePoint
    _, segmentationNode = syntheticPatientScene.addTimePointNodes(slicerContext.scene, point, "Synthetic")
    settings = futureLiverRemnant.VolumetrySettings(heightCm=syntheticPatient.PATIENT_HEIGHT_CM, weightKg=syntheticPatient.PATIENT_WEIGHT_KG)
    started = time.perf_counter()
    comparison = marginVolumetry.compareWithMajorPlans(segmentationNode, (1.0, 10.0), settings=settings)
    print(f"\nmajor plans and two margin plans: {time.perf_counter() - started:.3f} s")
    keys = [plan.key for plan in comparison.plans]
    assert keys == ["right_hepatectomy", "right_trisectionectomy", "parenchyma_sparing_1mm", "parenchyma_sparing_10mm"]
    liver = point.couinaudLabels > 0
    for result in comparison.marginPlans:
        # Same total liver as the major plans (union of I-VIII), margins clipped to it.
        assert result.totalLiverMl == pytest.approx(comparison.volumetry.totalLiverMl, rel=1e-12)
        union = np.zeros(liver.shape, dtype=bool)
        for name, _, _ in syntheticPatient.TUMOURS:
            union |= marginOracle(point.structures[name], (3.0, 2.5, 2.5), result.marginMm)
        assert result.plan.resectedMl == pytest.approx(np.count_nonzero(union & liver) * point.voxelVolumeMl, rel=1e-9)
        assert result.areaCount == 3 and result.laparoscopic.state == "met"
        print(f"  {result.plan.label}: remnant {result.plan.remnantMl:.1f} mL, sFLR {result.plan.sFLR:.1f} %")
    sparing = {result.marginMm: result.plan for result in comparison.marginPlans}
    major = {plan.key: plan for plan in comparison.volumetry.plans}
    assert major["right_trisectionectomy"].remnantMl < major["right_hepatectomy"].remnantMl < sparing[10.0].remnantMl < sparing[1.0].remnantMl
    tableNode = slicerContext.scene.AddNewNodeByClass("vtkMRMLTableNode", "Plans")
    sparingDisplay.writeComparisonTable(tableNode, comparison)
    table = tableNode.GetTable()
    assert table.GetNumberOfRows() == 4
    assert math.isnan(table.GetColumnByName("Resection areas").GetValue(0))
    assert table.GetColumnByName("Resection areas").GetValue(2) == 3
    document = json.loads(json.dumps(sparingResults.comparisonToDict(comparison)))
    assert [plan["key"] for plan in document["parenchymaSparing"]] == ["parenchyma_sparing_1mm", "parenchyma_sparing_10mm"]


def test_onePanelRunMeasuresTheTumoursAndEachMarginOnce(slicerContext, syntheticTimePoint, monkeypatch):
    """The panel's parenchyma-sparing run (volumetryWorkflow.runParenchymaSparing) fills the tables
    and draws the segments from one analysis of the tumours and one geometry per margin: the
    segments are drawn from the plan and the findings in the tables, not from a second measurement."""
    _, segmentationNode = syntheticPatientScene.addTimePointNodes(slicerContext.scene, syntheticTimePoint, "Synthetic, one run")
    analyses, geometries, drawn = [], [], []
    analyse = tumourVesselAnalysis.analyseTumours
    measure = marginGeometry.MarginGeometry.__init__
    addSegments = sparingDisplay.addSparingSegments

    def countedAnalysis(*arguments):
        analyses.append(analyse(*arguments))
        return analyses[-1]

    def countedGeometry(self, *arguments):
        measure(self, *arguments)
        geometries.append(self.marginMm)

    def countedSegments(*arguments):
        drawn.append(addSegments(*arguments))
        return drawn[-1]

    monkeypatch.setattr(tumourVesselAnalysis, "analyseTumours", countedAnalysis)
    monkeypatch.setattr(marginGeometry.MarginGeometry, "__init__", countedGeometry)
    monkeypatch.setattr(sparingDisplay, "addSparingSegments", countedSegments)
    plans = [resectionPlans.presetPlan("right_hepatectomy")]
    comparison, tumourTable, planTable = volumetryWorkflow.runParenchymaSparing(
        segmentationNode, 10.0, plans, futureLiverRemnant.VolumetrySettings()
    )
    assert len(analyses) == 1 and sorted(geometries) == [1.0, 10.0]
    (segments,) = drawn
    chosen = comparison.marginPlanFor(10.0)
    assert segments["plan"] is chosen and segments["findings"] is analyses[0].findings
    segmentation = segmentationNode.GetSegmentation()
    assert [segmentation.GetSegment(s).GetName() for s in segments["areas"]] == [area.name for area in chosen.areas]
    assert tumourTable.GetTable().GetNumberOfRows() == len(analyses[0].findings) == len(syntheticPatient.TUMOURS)
    assert planTable.GetTable().GetNumberOfRows() == 3  # right hepatectomy, 1 mm and 10 mm margins


# --- the real vessel mask of 3D-IRCADb-01 patient 1 ----------------------------------------------

# Centres (LPS mm, as SimpleITK reports the files) of synthetic tumours placed inside the liver:
# A about 12 mm and B about 5.6 mm from the nearest vessel voxel (chosen once with SimpleITK
# distance maps of the two masks).
IRCAD_TUMOURS = {"Tumour A": ((99.75, 137.94, 128.0), 5.0), "Tumour B": ((94.62, 131.67, 136.0), 4.5)}


def test_ircadVesselMaskDistances(slicerContext, sharedData):
    folder = os.path.join(sharedData, "ircad1")
    liverImage = sitk.ReadImage(os.path.join(folder, "liver_mask.nii.gz"))
    vesselImage = sitk.ReadImage(os.path.join(folder, "vessel_mask.nii.gz"))
    liver = sitk.GetArrayFromImage(liverImage) > 0
    vessel = sitk.GetArrayFromImage(vesselImage) > 0.5  # float 0/1
    spacing = np.array(liverImage.GetSpacing())
    ijkToLPS = np.eye(4)
    ijkToLPS[:3, :3] = np.array(liverImage.GetDirection()).reshape(3, 3) @ np.diag(spacing)
    ijkToLPS[:3, 3] = liverImage.GetOrigin()
    ijkToRAS = np.diag([-1.0, -1.0, 1.0, 1.0]) @ ijkToLPS
    # The liver through Slicer's own reader (the file is stored y-flipped), the vessels and the
    # tumours from arrays placed by the geometry computed here: they must meet in patient space.
    segmentationNode = segmentationIO.loadSegmentation(slicerContext.scene, os.path.join(folder, "liver_mask.nii.gz"), {1: "Liver"})
    toIjk = np.linalg.inv(ijkToLPS)
    tumours = {}
    for name, (centre, radius) in IRCAD_TUMOURS.items():
        # Drawn within the sphere's index box only (the scan has 34 million voxels).
        middle = toIjk[:3, :3] @ np.asarray(centre) + toIjk[:3, 3]
        reach = np.ceil(radius / spacing).astype(int) + 1
        lo, hi = np.floor(middle).astype(int) - reach, np.ceil(middle).astype(int) + reach + 1
        matrix = ijkToLPS.copy()
        matrix[:3, 3] = ijkToLPS[:3, :3] @ lo + ijkToLPS[:3, 3]
        ball = _sphere(_ras(tuple((hi - lo)[::-1]), matrix), centre, radius)
        window = (slice(lo[2], hi[2]), slice(lo[1], hi[1]), slice(lo[0], hi[0]))
        assert np.all(liver[window][ball]), f"{name} must lie inside the liver"
        tumours[name] = np.zeros(liver.shape, dtype=bool)
        tumours[name][window] = ball
    # Slicer's reader stores this file with its voxel axes in another order than SimpleITK's (here
    # the slices run from head to foot); the masks are flipped to the liver layer's axes so that all
    # segments share one grid (differing grids are refused, never resampled).
    _, liverMatrix = landmarkSegments.segmentMaskAndGeometry(segmentationNode, segmentationNode.GetSegmentation().GetNthSegmentID(0))
    flips = [axis for axis in range(3) if np.sign(liverMatrix[axis, axis]) != np.sign(ijkToRAS[axis, axis])]
    sliceOf = {0: 2, 1: 1, 2: 0}  # i, j, k -> array axis
    matrix = ijkToRAS.copy()
    for axis in flips:
        matrix[:3, 3] += matrix[:3, axis] * (liver.shape[sliceOf[axis]] - 1)
        matrix[:3, axis] *= -1
    flipped = lambda array: np.flip(array, axis=[sliceOf[axis] for axis in flips]) if flips else array
    masks = {"Hepatic vessels": flipped(vessel), **{name: flipped(mask) for name, mask in tumours.items()}}
    # Imported on the box that holds them (a quarter of the scan), placed by its corner voxel.
    anything = np.logical_or.reduce(list(masks.values()))
    k, j, i = (np.flatnonzero(anything.any(axis=axes)) for axes in ((1, 2), (0, 2), (0, 1)))
    window = (slice(k[0], k[-1] + 1), slice(j[0], j[-1] + 1), slice(i[0], i[-1] + 1))
    matrix[:3, 3] += matrix[:3, :3] @ np.array([i[0], j[0], k[0]], dtype=float)
    segmentationImport.importMaskArrays(segmentationNode, {name: mask[window] for name, mask in masks.items()}, matrix)
    started = time.perf_counter()
    findings = tumourVesselAnalysis.tumourFindings(segmentationNode)
    seconds = time.perf_counter() - started
    spacingKji = spacing[::-1]
    print(f"\n3D-IRCADb-01 vessel mask ({np.count_nonzero(vessel)} voxels), findings in {seconds:.3f} s")
    for finding in findings:
        (distance,) = finding.vesselDistances
        assert distance.vessel == "liver vessels (hepatic and portal veins together)"
        # Brute force over the vessel voxels, on the file's own index grid and spacing, within
        # 20 mm of the tumour (any vessel voxel beyond is farther than the distance found).
        tumour, nearVessel = _cropAround(tumours[finding.name], np.ceil(20.0 / spacingKji).astype(int), vessel)
        expected = boxGapOracle(tumour, nearVessel, spacingKji)
        expectedCentres = centreDistanceOracle(tumour, nearVessel, spacingKji)
        assert expectedCentres < 18.0
        print(
            f"  {finding.name}: {distance.distanceMm:.3f} mm (oracle {expected:.3f}), centres {distance.centreDistanceMm:.3f} mm "
            f"(oracle {expectedCentres:.3f}), contact {distance.contact}"
        )
        assert distance.distanceMm == pytest.approx(expected, abs=1e-4)
        assert distance.centreDistanceMm == pytest.approx(expectedCentres, abs=1e-4)
        assert distance.contact == (expected <= 1.0)
        assert finding.volumeMl == pytest.approx(np.count_nonzero(tumours[finding.name]) * np.prod(spacing) / 1000.0, rel=1e-6)
    # The centres were chosen about 12 mm and 5.6 mm from the nearest vessel voxel centre.
    assert findings[0].vesselDistances[0].centreDistanceMm == pytest.approx(12.0 - 5.0, abs=1.0)
    assert findings[1].vesselDistances[0].centreDistanceMm == pytest.approx(5.6 - 4.5, abs=1.0)
    result = marginVolumetry.marginPlan(segmentationNode, 1.0)
    both = tumours["Tumour A"] | tumours["Tumour B"]
    near, nearLiver = _cropAround(both, np.array([4, 6, 6]), liver)
    union = marginOracle(near, spacingKji, 1.0)
    assert result.plan.resectedMl == pytest.approx(np.count_nonzero(union & nearLiver) * np.prod(spacing) / 1000.0, rel=1e-9)
    assert result.totalLiverMl == pytest.approx(1464.09, abs=0.005)


# --- mistakes ------------------------------------------------------------------------------------


def test_badInputsAreNamed(slicerContext, phantomMasks):
    scene = slicerContext.scene
    noTumour, _ = _segmentation(scene, {"Liver": phantomMasks["Liver"], "RHV": phantomMasks["RHV"]}, "No tumour")
    with pytest.raises(ValueError, match="'No tumour' has no tumour segments"):
        tumourVesselAnalysis.tumourFindings(noTumour)
    with pytest.raises(ValueError, match="no tumour segments"):
        marginVolumetry.marginPlan(noTumour)

    segmentationNode, ids = _segmentation(scene, phantomMasks, "Phantom")
    for margin, message in ((0.0, "out of range"), (-1.0, "out of range"), (50.0, r"<= 20 mm"), (float("nan"), "finite"), ("1 cm", "number")):
        with pytest.raises(ValueError, match=f"Resection margin.*{message}"):
            marginVolumetry.marginPlan(segmentationNode, margin)
    with pytest.raises(ValueError, match="Contact distance -1 mm is out of range"):
        tumourVesselAnalysis.tumourFindings(segmentationNode, contactDistanceMm=-1.0)
    with pytest.raises(ValueError, match=r"Vessel 'LHV'.*no segment with ID or name 'Left vein'"):
        tumourVesselAnalysis.tumourFindings(segmentationNode, vesselSegmentIds={"LHV": "Left vein"})
    # Explicit vessels replace the recognition; a name is enough.
    (first, *_) = tumourVesselAnalysis.tumourFindings(segmentationNode, vesselSegmentIds={"RHV": "RHV", "IVC": ids["MHV"]})
    assert [d.vessel for d in first.vesselDistances] == ["right hepatic vein", "IVC"]

    segmentation = segmentationNode.GetSegmentation()
    emptyVessel = segmentation.AddEmptySegment("", "LHV")
    with pytest.raises(ValueError, match=r"Vessel segment 'LHV' \(left hepatic vein\).*is empty"):
        tumourVesselAnalysis.tumourFindings(segmentationNode)
    segmentation.RemoveSegment(emptyVessel)
    segmentation.AddEmptySegment("", "Right hepatic vein")
    with pytest.raises(ValueError, match="right hepatic vein: 'RHV', 'Right hepatic vein'"):
        tumourVesselAnalysis.tumourFindings(segmentationNode)
    segmentation.RemoveSegment(segmentation.GetSegmentIdBySegmentName("Right hepatic vein"))
    emptyTumour = segmentation.AddEmptySegment("", "Metastasis 4")
    with pytest.raises(ValueError, match="Tumour segment 'Metastasis 4'.*is empty"):
        tumourVesselAnalysis.tumourFindings(segmentationNode)
    with pytest.raises(ValueError, match="Tumour segment 'Metastasis 4'.*is empty"):
        marginVolumetry.marginPlan(segmentationNode)
    segmentation.RemoveSegment(emptyTumour)

    r = _ras()
    outside = _sphere(r, (36.0, 0.0, 0.0), 3.0)  # beyond the liver box (R <= 30)
    assert not np.any(outside & phantomMasks["Liver"])
    segmentationImport.importMaskArrays(segmentationNode, {"Lesion outside": outside}, IJK_TO_RAS)
    with pytest.raises(ValueError, match="Tumour 'Lesion outside' lies outside the liver"):
        tumourVesselAnalysis.tumourFindings(segmentationNode)
    with pytest.raises(ValueError, match="Tumour 'Lesion outside' lies outside the liver"):
        marginVolumetry.marginPlan(segmentationNode, 1.0)

    noLiver, _ = _segmentation(scene, {"Tumour": phantomMasks["Tumour 1"]}, "No liver")
    with pytest.raises(ValueError, match="neither a whole-liver segment nor Couinaud segments"):
        tumourVesselAnalysis.tumourFindings(noLiver)
    with pytest.raises(ValueError, match="neither a whole-liver segment nor Couinaud segments"):
        marginVolumetry.marginPlan(noLiver)

    wholeLiver, _ = _segmentation(scene, {"Liver": phantomMasks["Liver"], "Tumour": phantomMasks["Liver"].copy()}, "All tumour")
    with pytest.raises(ValueError, match="take in the whole liver"):
        marginVolumetry.marginPlan(wholeLiver, 1.0)


def test_benchmarkRunsAtASmallSize(slicerContext):
    lines = []
    figures = benchmarkSparing(slicerContext.scene, shape=(40, 64, 64), marginsMm=(1.0,), printer=lines.append)
    assert figures["tumours"] == 3 and figures["vessels"] == 5 and figures["areas1mm"] >= 1
    assert figures["findingsSeconds"] > 0 and figures["marginPlan1mmSeconds"] > 0
    assert any(line.startswith("distances + 1 mm margin plan") for line in lines)
