"""Plane-based (Bismuth) Couinaud segments from landmarks: against the synthetic phantom's known
planes, against the 3D-IRCADb-01 annotation of a real CT (whose boundaries are planar cuts), and
as Slicer nodes in a headless scene."""

import os
import time

import numpy as np
import pytest
import vtk
from ALPPSVolumetryLib.segments import couinaud, segmentationImport, segmentOverlap, segmentRecognition, segmentVolumes
from ALPPSVolumetryLib.planning import landmarkSegments
from ALPPSVolumetryLib import syntheticPatient

SEGMENTS = couinaud.SEGMENT_IDS  # label value - 1


def dice(first, second):
    return 2.0 * np.count_nonzero(first & second) / (np.count_nonzero(first) + np.count_nonzero(second))


def dicePerSegment(labels, truth):
    return {segmentId: dice(labels == value, truth == value) for value, segmentId in enumerate(SEGMENTS, 1)}


def formatDice(scores):
    return ", ".join(f"{segmentId} {score:.3f}" for segmentId, score in scores.items())


# --- the synthetic phantom --------------------------------------------------------------------

PHANTOM_IVC = np.array(syntheticPatient.IVC_AXIS_XY)
PHANTOM_RIGHT_VEIN_NORMAL = syntheticPatient.RIGHT_HEPATIC_VEIN_NORMAL
PHANTOM_MIDDLE_VEIN_NORMAL = syntheticPatient.MIDDLE_HEPATIC_VEIN_NORMAL
_onVeinPlane = syntheticPatient.pointOnVeinPlane


def phantomLandmarks():
    # Spelled as users type them: the division must accept long and short forms alike.
    points = syntheticPatient.anatomicalLandmarks()
    points["Middle hepatic vein"] = points.pop("MHV")
    points["umbilical fissure"] = points.pop("UF")
    points["PV bifurcation"] = points.pop("portal bifurcation")
    return points


@pytest.fixture(scope="module")
def phantom():
    return syntheticPatient.makeTimePoint("pre-stage 1", -3, 1.0, spacing=(2.5, 2.5, 3.0))


def test_phantomSegmentsFromLandmarksOnItsPlanes(phantom):
    start = time.perf_counter()
    labels = landmarkSegments.couinaudLabelsFromLandmarks(phantom.couinaudLabels > 0, phantom.ijkToRAS, phantomLandmarks())
    seconds = time.perf_counter() - start
    scores = dicePerSegment(labels, phantom.couinaudLabels)
    print(f"\nphantom Dice: {formatDice(scores)} ({seconds:.3f} s)")
    assert np.array_equal(labels > 0, phantom.couinaudLabels > 0), "the segments must partition the liver exactly"
    for segmentId in SEGMENTS[1:]:
        assert scores[segmentId] >= 0.90, f"segment {segmentId}: Dice {formatDice(scores)}"
    # The phantom's caudate is an ellipsoid around the IVC, while the method's segment I is a rule
    # (a sector of a cylinder around the IVC axis between the IVC and the hilum): they only overlap
    # in part (measured 0.71).
    assert scores["I"] >= 0.60, f"segment I: Dice {formatDice(scores)}"


def test_landmarksMayBePlacedAnywhereAlongTheirVein(phantom):
    """Only the direction of a vein from the IVC axis in the axial view matters: clicks higher or
    lower, nearer or farther along the same vertical plane, or several clicks averaged, give the
    same segments."""
    liver = phantom.couinaudLabels > 0
    reference = landmarkSegments.couinaudLabelsFromLandmarks(liver, phantom.ijkToRAS, phantomLandmarks())
    moved = phantomLandmarks()
    moved["IVC"] = [PHANTOM_IVC[0], PHANTOM_IVC[1], -20.0]
    moved["RHV"] = _onVeinPlane(PHANTOM_RIGHT_VEIN_NORMAL, 95.0, -30.0)
    moved["Middle hepatic vein"] = [
        _onVeinPlane(PHANTOM_MIDDLE_VEIN_NORMAL, 30.0, 50.0),
        _onVeinPlane(PHANTOM_MIDDLE_VEIN_NORMAL, 80.0, -10.0),
    ]
    labels = landmarkSegments.couinaudLabelsFromLandmarks(liver, phantom.ijkToRAS, moved)
    assert np.array_equal(labels, reference)


def test_segmentsDoNotDependOnVoxelOrder(phantom):
    """The same liver stored with the R-L axis reversed (as LPS- and RAS-ordered files differ)
    gives the same segments in patient space."""
    liver = phantom.couinaudLabels > 0
    reference = landmarkSegments.couinaudLabelsFromLandmarks(liver, phantom.ijkToRAS, phantomLandmarks())
    flipped = phantom.ijkToRAS.copy()
    columns = liver.shape[2]
    flipped[:3, 3] = phantom.ijkToRAS[:3, :3] @ np.array([columns - 1, 0, 0]) + phantom.ijkToRAS[:3, 3]
    flipped[:3, 0] = -phantom.ijkToRAS[:3, 0]
    labels = landmarkSegments.couinaudLabelsFromLandmarks(liver[:, :, ::-1], flipped, phantomLandmarks())
    assert np.array_equal(labels[:, :, ::-1], reference)


def test_badLandmarksAreNamed(phantom):
    liver = phantom.couinaudLabels > 0
    matrix = phantom.ijkToRAS

    def divide(**changes):
        landmarks = phantomLandmarks()
        for label, point in changes.items():
            label = label.replace("_", " ") if "-" not in label else label
            if point is None:
                landmarks.pop(label)
            else:
                landmarks[label] = point
        return landmarkSegments.couinaudLabelsFromLandmarks(liver, matrix, landmarks)

    with pytest.raises(ValueError, match=r"Missing landmark\(s\): middle hepatic vein \(MHV\)"):
        divide(Middle_hepatic_vein=None)
    with pytest.raises(ValueError, match=r"Missing landmark\(s\): middle hepatic vein.*not recognised: 'MVH'"):
        divide(Middle_hepatic_vein=None, MVH=_onVeinPlane(PHANTOM_MIDDLE_VEIN_NORMAL, 60.0, 20.0))
    with pytest.raises(ValueError, match=r"outside the bounding box of the liver mask.*portal bifurcation at \(12.0, -14.0, 307.7\)"):
        divide(PV_bifurcation=[12.0, -14.0, 307.68])
    with pytest.raises(ValueError, match=r"Degenerate plane: the right hepatic vein point lies 3.0 mm from the IVC axis"):
        divide(RHV=[PHANTOM_IVC[0] + 3.0, PHANTOM_IVC[1], 20.0])
    with pytest.raises(ValueError, match="not in anatomical order"):
        landmarks = phantomLandmarks()
        divide(RHV=landmarks["umbilical fissure"], umbilical_fissure=landmarks["RHV"])
    with pytest.raises(ValueError, match="middle hepatic vein point lies behind the IVC"):
        divide(Middle_hepatic_vein=[PHANTOM_IVC[0] - 5.0, PHANTOM_IVC[1] - 22.0, 20.0])
    with pytest.raises(ValueError, match="portal bifurcation lies .* not in front of it"):
        divide(PV_bifurcation=[PHANTOM_IVC[0], PHANTOM_IVC[1] - 20.0, 8.0])
    with pytest.raises(ValueError, match="left hepatic vein point lies right of Cantlie"):
        divide(LHV=_onVeinPlane(PHANTOM_RIGHT_VEIN_NORMAL, 60.0, 40.0))
    with pytest.raises(ValueError, match=r"not recognised as landmarks: 'Left HV vein', 'F-1'.*relabel or remove them"):
        divide(Left_HV_vein=[-44.0, 14.0, 28.0], **{"F-1": [0.0, 0.0, 0.0]})
    with pytest.raises(ValueError, match="portal bifurcation lies 90.0 mm from the IVC axis"):
        divide(PV_bifurcation=[PHANTOM_IVC[0], PHANTOM_IVC[1] + 90.0, 8.0])
    almostCantlie = _onVeinPlane(PHANTOM_MIDDLE_VEIN_NORMAL, 60.0, 20.0)
    almostCantlie[0] -= 0.001  # a fissure ray 0.001 degree left of the middle hepatic vein's
    with pytest.raises(ValueError, match=r"Segment\(s\) IV would be empty.*check the middle hepatic vein, umbilical fissure"):
        divide(umbilical_fissure=almostCantlie)
    with pytest.raises(ValueError, match="liverMask is empty"):
        landmarkSegments.couinaudLabelsFromLandmarks(np.zeros_like(liver), matrix, phantomLandmarks())
    with pytest.raises(ValueError, match=r"Landmark 'IVC' .* must be an RAS point"):
        divide(IVC=[15.0, -50.0])


# --- 3D-IRCADb-01 patient 1 ------------------------------------------------------------------


def _ircadLabels(sharedData):
    """Couinaud labels (1..8 = I..VIII) of 3D-IRCADb-01 no. 1, cropped to the liver, with their
    IJK-to-RAS matrix. SimpleITK reports LPS geometry (point = origin + direction . spacing . ijk);
    Slicer's RAS negates x and y. The file is stored y-flipped relative to the CT (direction
    y = -1): working in physical space, through this matrix, takes care of it."""
    sitk = pytest.importorskip("SimpleITK")
    image = sitk.ReadImage(os.path.join(sharedData, "ircad1", "couinaud_labels.nii.gz"))
    labels = sitk.GetArrayFromImage(image).astype(np.uint8)  # [k, j, i]
    lpsToRAS = np.diag([-1.0, -1.0, 1.0])
    ijkToRAS = np.eye(4)
    ijkToRAS[:3, :3] = lpsToRAS @ np.array(image.GetDirection()).reshape(3, 3) @ np.diag(image.GetSpacing())
    ijkToRAS[:3, 3] = lpsToRAS @ np.array(image.GetOrigin())
    k, j, i = (np.flatnonzero((labels > 0).any(axis=axes)) for axes in ((1, 2), (0, 2), (0, 1)))
    labels = labels[k[0] : k[-1] + 1, j[0] : j[-1] + 1, i[0] : i[-1] + 1]
    ijkToRAS[:3, 3] = ijkToRAS[:3, :3] @ np.array([i[0], j[0], k[0]], dtype=float) + ijkToRAS[:3, 3]
    return labels, ijkToRAS


def _boundaryFaces(labels, ijkToRAS):
    """(first label, second label, RAS centre) of every face between two voxels of different segments."""
    firsts, seconds, centres = [], [], []
    for axis in range(3):  # array axes k, j, i
        lower = labels[tuple(slice(0, -1) if a == axis else slice(None) for a in range(3))]
        upper = labels[tuple(slice(1, None) if a == axis else slice(None) for a in range(3))]
        where = (lower != upper) & (lower > 0) & (upper > 0)
        kji = np.stack(np.nonzero(where), axis=1).astype(float)
        kji[:, axis] += 0.5
        centres.append(kji[:, ::-1] @ ijkToRAS[:3, :3].T + ijkToRAS[:3, 3])
        firsts.append(lower[where])
        seconds.append(upper[where])
    return np.concatenate(firsts), np.concatenate(seconds), np.concatenate(centres)


def _ircadClicks(labels, ijkToRAS):
    """Where a user would click, derived from the annotation's boundaries (which are planar cuts)."""
    first, second, centres = _boundaryFaces(labels, ijkToRAS)

    def between(sideA, sideB):
        a, b = np.isin(first, sideA), np.isin(second, sideB)
        c, d = np.isin(first, sideB), np.isin(second, sideA)
        return centres[(a & b) | (c & d)]

    middle = between([5, 6, 7, 8], [2, 3, 4])  # right / left liver: Cantlie's plane
    right = between([5, 8], [6, 7])  # right anterior / posterior section
    fissure = between([4], [2, 3])  # IV / left lateral section
    portal = between([5, 6], [7, 8])  # inferior / superior right liver
    leftVein = between([2], [3])
    hilum = between([1], [4])  # the hilum lies in front of segment I, below segment IV
    # The IVC: the axis where the three vertical boundary planes meet (least squares), at the
    # height of segment I, posterior-medial beside it.
    normals, offsets = [], []
    for faces in (middle, right, fissure):
        horizontal = faces[:, :2] - faces[:, :2].mean(axis=0)
        normal = np.linalg.svd(horizontal, full_matrices=False)[2][1]
        normals.append(normal)
        offsets.append(normal @ faces[:, :2].mean(axis=0))
    ivc = np.linalg.lstsq(np.array(normals), np.array(offsets), rcond=None)[0]
    k, j, i = np.nonzero(labels == 1)
    caudateHeight = float(np.mean(np.stack((i, j, k), axis=1) @ ijkToRAS[2, :3] + ijkToRAS[2, 3]))
    return {
        "IVC": [ivc[0], ivc[1], caudateHeight],
        "MHV": middle.mean(axis=0),
        "RHV": right.mean(axis=0),
        "UF": fissure.mean(axis=0),
        "portal bifurcation": [hilum[:, 0].mean(), hilum[:, 1].mean(), np.median(portal[:, 2])],
        "LHV": leftVein.mean(axis=0),
    }


def test_ircadSegmentsFromLandmarks(sharedData):
    start = time.perf_counter()
    truth, ijkToRAS = _ircadLabels(sharedData)
    loaded = time.perf_counter()
    # The conversion to RAS must put the right liver on the patient's right (+R), V/VIII in front
    # of VI/VII (+A) and VII above VI (+S), or every anatomical orientation below would be wrong.
    centroid = {}
    for value, segmentId in enumerate(SEGMENTS, 1):
        k, j, i = np.nonzero(truth == value)
        centroid[segmentId] = np.stack((i, j, k), axis=1).mean(axis=0) @ ijkToRAS[:3, :3].T + ijkToRAS[:3, 3]
    assert centroid["V"][0] > centroid["III"][0] and centroid["V"][1] > centroid["VI"][1] and centroid["VII"][2] > centroid["VI"][2]
    clicks = _ircadClicks(truth, ijkToRAS)
    clicked = time.perf_counter()
    labels = landmarkSegments.couinaudLabelsFromLandmarks(truth > 0, ijkToRAS, clicks)
    divided = time.perf_counter()
    scores = dicePerSegment(labels, truth)
    withoutLeftVein = {key: value for key, value in clicks.items() if key != "LHV"}
    bismuthScores = dicePerSegment(landmarkSegments.couinaudLabelsFromLandmarks(truth > 0, ijkToRAS, withoutLeftVein), truth)
    meanScore = float(np.mean([scores[s] for s in SEGMENTS[1:]]))
    voxelMl = abs(np.linalg.det(ijkToRAS[:3, :3])) / 1000.0
    volumes = ", ".join(f"{s} {np.count_nonzero(labels == v) * voxelMl:.1f}/{np.count_nonzero(truth == v) * voxelMl:.1f}"
                        for v, s in enumerate(SEGMENTS, 1))
    report = (
        f"IRCAD 1 Dice with LHV: {formatDice(scores)} (mean II-VIII {meanScore:.3f}); "
        f"without LHV (II/III by the portal plane): {formatDice(bismuthScores)}; "
        f"volumes mL landmarks/annotation: {volumes}; clicks: "
        + "; ".join(f"{key} ({', '.join(f'{c:.1f}' for c in point)})" for key, point in clicks.items())
        + f"; load {loaded - start:.2f} s, clicks {clicked - loaded:.2f} s, division {divided - clicked:.2f} s"
    )
    print("\n" + report)
    # The annotation's boundaries are planar cuts and the clicks lie on them, so the planes match
    # closely (measured 0.87-0.99); what remains comes from its planes not meeting on one IVC axis
    # (the fissure plane misses the other two's meeting line by a few mm) and from its II/III cut
    # lying horizontally 21 mm above the right portal plane while the method tilts it from the
    # portal bifurcation to the LHV. Floors sit a few points below the measured values.
    assert meanScore >= 0.90, report
    for segmentId in SEGMENTS[1:]:
        assert scores[segmentId] >= 0.85, report
    # Segment I follows a rule, not the annotator's drawing (measured 0.67; 25 of its 41 mL).
    assert scores["I"] >= 0.5, report
    # Without the left hepatic vein, Bismuth's single portal plane puts the II/III boundary at the
    # right liver's portal level, 21 mm below this annotation's: III loses about half (measured 0.45),
    # every other segment is unchanged.
    for segmentId in ("II", "IV", "V", "VI", "VII", "VIII"):
        assert bismuthScores[segmentId] >= 0.8, report


# --- Slicer nodes -----------------------------------------------------------------------------


def _tag(segment, name):
    value = vtk.reference("")
    return str(value) if segment.GetTag(name, value) else None


def _liverSegmentation(scene, liver, ijkToRAS, name="Liver only"):
    segmentationNode = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", name)
    segmentationNode.CreateDefaultDisplayNodes()
    liverId = segmentationImport.importLabelArray(segmentationNode, liver.astype(np.uint8), ijkToRAS, {1: "Liver"})[1]
    return segmentationNode, liverId


def _landmarksNode(scene, landmarks, name="Landmarks"):
    markupsNode = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", name)
    for label, point in landmarks.items():
        points = np.atleast_2d(np.asarray(point, dtype=float))
        for number, position in enumerate(points, 1):
            markupsNode.AddControlPoint(list(position), f"{label}-{number}" if len(points) > 1 else label)
    return markupsNode


def test_nodeLevelSegmentsPartitionTheLiverSegment(slicerContext, phantom):
    scene = slicerContext.scene
    liver = phantom.couinaudLabels > 0
    segmentationNode, liverId = _liverSegmentation(scene, liver, phantom.ijkToRAS)
    landmarks = phantomLandmarks()
    landmarks["Middle hepatic vein"] = [
        _onVeinPlane(PHANTOM_MIDDLE_VEIN_NORMAL, 40.0, 30.0),
        _onVeinPlane(PHANTOM_MIDDLE_VEIN_NORMAL, 70.0, 10.0),
    ]  # two clicks, labelled 'Middle hepatic vein-1' and '-2'
    markupsNode = _landmarksNode(scene, landmarks)
    start = time.perf_counter()
    segmentIds = landmarkSegments.addCouinaudSegmentsFromLandmarks(segmentationNode, liverId, markupsNode)
    print(f"\nnode-level division of the phantom: {time.perf_counter() - start:.3f} s")
    expected = landmarkSegments.couinaudLabelsFromLandmarks(liver, phantom.ijkToRAS, phantomLandmarks())
    segmentation = segmentationNode.GetSegmentation()
    assert list(segmentIds) == list(SEGMENTS)
    assert segmentation.GetNumberOfSegments() == 9
    counts = {volume.segmentId: volume.voxelCount for volume in segmentVolumes.segmentVolumes(segmentationNode)}
    method = "plane-based (Bismuth) from landmarks: IVC, RHV, MHV, LHV, UF, portal bifurcation"
    for value, couinaudId in enumerate(SEGMENTS, 1):
        segment = segmentation.GetSegment(segmentIds[couinaudId])
        assert segment.GetName() == f"Segment {couinaudId}"
        assert f"~SCT^{couinaud.SNOMED_CODE[couinaudId]}^" in _tag(segment, "TerminologyEntry")
        assert _tag(segment, "ALPPS.Method") == method
        assert segment.GetColor() == pytest.approx(couinaud.SEGMENT_COLOR[couinaudId])
        assert counts[segmentIds[couinaudId]] == np.count_nonzero(expected == value) > 0
    unionCount, _ = segmentOverlap.unionVolume(segmentationNode, list(segmentIds.values()))
    assert unionCount == counts[liverId] == np.count_nonzero(liver)
    # The volumetry recognises them as the eight Couinaud segments.
    recognized = segmentRecognition.requireCouinaudSegments(segmentationNode)
    assert {key: value[0] for key, value in recognized.items()} == segmentIds


def test_nodeLevelMistakesAreNamed(slicerContext, phantom):
    scene = slicerContext.scene
    liver = phantom.couinaudLabels > 0
    segmentationNode, liverId = _liverSegmentation(scene, liver, phantom.ijkToRAS)
    incomplete = phantomLandmarks()
    del incomplete["Middle hepatic vein"]
    with pytest.raises(ValueError, match=r"Markups 'No MHV': Missing landmark\(s\): middle hepatic vein \(MHV\)"):
        landmarkSegments.addCouinaudSegmentsFromLandmarks(segmentationNode, liverId, _landmarksNode(scene, incomplete, "No MHV"))
    assert segmentationNode.GetSegmentation().GetNumberOfSegments() == 1, "nothing is added on failure"
    with pytest.raises(ValueError, match="has no segment with ID 'nowhere'"):
        landmarkSegments.addCouinaudSegmentsFromLandmarks(segmentationNode, "nowhere", _landmarksNode(scene, phantomLandmarks()))
    farAway = phantomLandmarks()
    farAway["LHV"] = [-44.0, 14.0, 400.0]
    with pytest.raises(ValueError, match=r"Landmarks 'Far' on liver segment 'Liver'.*left hepatic vein at \(-44.0, 14.0, 400.0\)"):
        landmarkSegments.addCouinaudSegmentsFromLandmarks(segmentationNode, liverId, _landmarksNode(scene, farAway, "Far"))
    markupsNode = _landmarksNode(scene, phantomLandmarks())
    landmarkSegments.addCouinaudSegmentsFromLandmarks(segmentationNode, liverId, markupsNode)
    with pytest.raises(ValueError, match=r"already has segment\(s\) 'Segment I', 'Segment II'.*'Segment VIII'"):
        landmarkSegments.addCouinaudSegmentsFromLandmarks(segmentationNode, liverId, markupsNode)
    assert segmentationNode.GetSegmentation().GetNumberOfSegments() == 9

    # A segment recognised as Couinaud under another name is refused too (it would count twice).
    otherNode, otherLiverId = _liverSegmentation(scene, liver, phantom.ijkToRAS, "Liver and S2")
    segmentationImport.importLabelArray(otherNode, (phantom.couinaudLabels == 2).astype(np.uint8), phantom.ijkToRAS, {1: "S2"})
    with pytest.raises(ValueError, match=r"already has segment\(s\) 'S2'"):
        landmarkSegments.addCouinaudSegmentsFromLandmarks(otherNode, otherLiverId, markupsNode)

    emptyNode = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Empty liver")
    emptyNode.CreateDefaultDisplayNodes()
    emptyId = emptyNode.GetSegmentation().AddEmptySegment("", "Liver")
    with pytest.raises(ValueError, match="Segment 'Liver' of segmentation 'Empty liver' is empty"):
        landmarkSegments.addCouinaudSegmentsFromLandmarks(emptyNode, emptyId, markupsNode)
