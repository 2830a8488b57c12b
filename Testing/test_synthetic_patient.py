import numpy as np
import pytest
from ALPPSVolumetryLib.segments import couinaud
from ALPPSVolumetryLib import syntheticPatient


@pytest.fixture(scope="module")
def patient():
    return syntheticPatient.makeSyntheticPatient(spacing=(2.0, 2.0, 2.5))


def test_segmentsPartitionTheLiver(patient):
    for point in patient.timePoints:
        total = sum(point.trueVoxelCounts[segmentId] for segmentId in couinaud.SEGMENT_IDS)
        assert total == point.trueVoxelCounts["Liver"]
        assert all(point.trueVoxelCounts[segmentId] > 0 for segmentId in couinaud.SEGMENT_IDS)


def test_liverIsLiverShapedNotAnEllipsoid(patient):
    """Not convex (the vena cava groove and the gallbladder fossa cut into it) and far from
    the ellipsoid that would fill its bounding box."""
    point = patient.timePoints[0]
    liver = point.couinaudLabels > 0
    k, j, i = np.nonzero(liver)
    spacing = np.abs(np.diag(point.ijkToRAS)[:3])
    extent = np.array([np.ptp(i) + 1, np.ptp(j) + 1, np.ptp(k) + 1]) * spacing
    ellipsoidMl = np.pi / 6.0 * np.prod(extent) / 1000.0
    assert point.trueVolumesMl["Liver"] < 0.8 * ellipsoidMl
    ivc = point.structures["Inferior vena cava"]
    assert not np.any(liver & ivc), "the vena cava runs in a groove outside the parenchyma"


def test_shareOfEachSegmentIsPlausible(patient):
    """Soft plausibility ranges of the clinical reference (section 3)."""
    volumes = patient.timePoints[0].trueVolumesMl
    liver = volumes["Liver"]
    assert 0.11 <= volumes["VIII"] / liver <= 0.38
    assert 0.605 <= sum(volumes[s] for s in ("V", "VI", "VII", "VIII")) / liver <= 0.695
    assert (volumes["II"] + volumes["III"]) / liver < 0.20
    assert 0.03 <= volumes["I"] / liver <= 0.06
    assert 1200 <= liver <= 1900


def test_leftLateralSectionGrowsAfterStage1(patient):
    first = patient.timePoints[0].trueVolumesMl
    growth = []
    for point in patient.timePoints[1:]:
        growth.append((point.trueVolumesMl["II"] + point.trueVolumesMl["III"]) / (first["II"] + first["III"]) - 1.0)
        assert 7 <= point.daysAfterStage1 <= 10
        assert point.trueVolumesMl["VII"] == first["VII"], "the deportalised right liver does not grow"
    assert all(0.60 <= value <= 0.80 for value in growth) and growth == sorted(growth)


def test_ctValuesAreRealistic(patient):
    point = patient.timePoints[0]
    liverParenchyma = (point.couinaudLabels > 0) & ~np.any([point.structures[name] for name, _, _ in syntheticPatient.TUMOURS], axis=0)
    liverParenchyma &= ~point.structures["Hepatic veins"] & ~point.structures["Portal vein"]
    assert point.ct[liverParenchyma].mean() == pytest.approx(syntheticPatient.HU_LIVER, abs=1.0)
    assert point.ct[liverParenchyma].std() == pytest.approx(syntheticPatient.NOISE_SD_HU, rel=0.1)
    tumour = point.structures["Tumour 1"]
    assert point.ct[tumour].mean() < point.ct[liverParenchyma].mean() - 30, "tumours are hypodense"
    assert point.ct.dtype == np.int16 and point.ct.min() == syntheticPatient.HU_AIR


def test_tumoursLieInsideTheLiverAndSpheresMatchTheirFormula(patient):
    point = patient.timePoints[0]
    for name, _, radius in syntheticPatient.TUMOURS:
        assert not np.any(point.structures[name] & (point.couinaudLabels == 0))
        assert point.trueVolumesMl[name] == pytest.approx(4.0 / 3.0 * np.pi * radius**3 / 1000.0, rel=0.12)
