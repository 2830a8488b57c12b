"""Couinaud segments I-VIII from landmarks the user clicks: the plane-based (Bismuth) division.

The surgeon or radiologist places a few markups control points (inferior vena cava, right,
middle and optionally left hepatic vein, umbilical fissure, portal bifurcation) and the whole
liver is cut by planes through them, as in Bismuth's scheme (clinical reference section 3):

- vertical half-planes from the IVC axis through the right hepatic vein (right anterior V/VIII
  vs right posterior VI/VII), the middle hepatic vein (Cantlie: right liver V-VIII vs left
  liver II-IV) and the umbilical fissure (IV vs II-III);
- a transverse plane through the portal bifurcation (superior II, IVa, VII, VIII vs inferior
  III, IVb, V, VI);
- with a left hepatic vein point, II vs III by the plane through the portal bifurcation and that
  point (see below);
- segment I (caudate) by a geometric rule between the IVC and the hilum (see below).

This is an approximation: the real boundaries are curved, following portal territories, and
portal territory analysis can differ from the plane-based segments by up to ~40 % (Lang 2005).
Every segment made here is tagged with the method and the landmarks used, so that a volume
computed from it can always be traced back to this approximation.

Geometric choices (all distances in mm, Slicer RAS):

- "Vertical" is the patient's superior axis (RAS +S), not the IVC direction. One IVC click has
  no direction; the intrahepatic IVC is only a few centimetres long and bends forward at the
  hepatic vein confluence, so a direction fitted to clicks on it turns by several degrees for a
  click error of a few mm. RAS is patient space, so an oblique or tilted acquisition grid does not
  tilt the planes; Bismuth's planes are vertical in the supine patient, as radiologists see them
  on axial slices. Only the horizontal (R, A) position of the IVC and vein points matters, so a
  landmark may be placed anywhere along its vein.
- Each vein point defines a half-plane from the IVC axis (a ray in the axial view). Directions
  are angles from anterior (RAS +A) towards the patient's right (RAS +R), so the planes orient
  themselves by anatomy whatever the voxel order of the scan: a voxel is right of Cantlie when
  its angle around the IVC is larger than the middle hepatic vein's, posterior of the right
  hepatic vein when larger than the right vein's, in segment IV when between the umbilical
  fissure's and the middle vein's. Behind the IVC (angle +-180 degrees) the right posterior
  section meets the left lateral section. The rays must run, from the patient's left to right,
  umbilical fissure, middle hepatic vein, right hepatic vein, and the middle one must point
  forward: otherwise the labels are mixed up and the division is refused.
- II vs III: without a left hepatic vein point, the transverse portal plane (Bismuth). With it,
  the plane through the portal bifurcation and the left hepatic vein point that contains the
  left-right axis, II on its posterior-superior side: segment II and III are the
  posterior-superior and anterior-inferior territories of the left portal vein, and their
  boundary runs from the hilum along the left hepatic vein, often well above the right portal
  plane.
- Segment I: liver voxels within the IVC-to-hilum distance L (the horizontal distance from the
  IVC axis to the portal bifurcation) of the IVC axis, no more than L/4 to the right of the IVC
  (measured across the IVC-to-hilum direction: the caudate lies in front of and to the left of
  the IVC, with only its caudate process to the right), from L below to 3 L above the portal
  bifurcation (the caudate rises behind the hilum up to the hepatic vein confluence). The
  constants were set on the synthetic phantom and one annotated patient (3D-IRCADb-01 no. 1):
  a rough, scale-free rule, not a validated one. It takes precedence over the planes.
"""

import math
import re
from dataclasses import dataclass

import numpy as np

from ..segments import couinaud
from ..imageGrid import imageToWorld, toWorldMatrix
from ..segments.segmentationImport import importLabelArray
from ..segments.segmentRecognition import couinaudIdOfSegment
from ..segments.segmentVolumes import binaryLabelmapName, ensureBinaryLabelmap, layerVoxels

METHOD_NAME = "plane-based (Bismuth) from landmarks"
APPROXIMATION_NOTE = (
    "planes approximate curved portal-territory boundaries; segment volumes can differ from "
    "portal territory analysis by up to ~40 % (Lang 2005)"
)

IVC = "inferior vena cava"
RIGHT_HEPATIC_VEIN = "right hepatic vein"
MIDDLE_HEPATIC_VEIN = "middle hepatic vein"
LEFT_HEPATIC_VEIN = "left hepatic vein"
UMBILICAL_FISSURE = "umbilical fissure"
PORTAL_BIFURCATION = "portal bifurcation"


@dataclass(frozen=True)
class Landmark:
    name: str  # as the clinician says it; also the key of the dictionaries used here
    shortName: str  # as written in the method tag
    labels: tuple  # accepted control point labels, normalised (see normalizedLabel)
    required: bool
    separates: str


# The landmarks, in the order they are listed to the user, with what each one separates.
LANDMARKS = (
    Landmark(IVC, "IVC", ("ivc", "inferior vena cava", "vena cava", "vena cava inferior", "vci", "cava"), True,
             "axis the hepatic-vein planes turn about; with the portal bifurcation it bounds segment I"),
    Landmark(RIGHT_HEPATIC_VEIN, "RHV", ("rhv", "right hepatic vein", "right hepatic", "right hv"), True,
             "right anterior section (V, VIII) from right posterior section (VI, VII)"),
    Landmark(MIDDLE_HEPATIC_VEIN, "MHV", ("mhv", "middle hepatic vein", "middle hepatic", "middle hv", "cantlie",
                                          "cantlie line", "cantlies line"), True,
             "right liver (V-VIII) from left liver (II-IV): Cantlie's line"),
    Landmark(LEFT_HEPATIC_VEIN, "LHV", ("lhv", "left hepatic vein", "left hepatic", "left hv"), False,
             "segment II (posterior-superior) from III (anterior-inferior), with the portal bifurcation"),
    Landmark(UMBILICAL_FISSURE, "UF", ("uf", "umbilical fissure", "umbilical", "falciform",
                                       "falciform ligament", "ligamentum teres", "round ligament"), True,
             "segment IV from the left lateral section (II, III)"),
    Landmark(PORTAL_BIFURCATION, "portal bifurcation", ("portal bifurcation", "pv bifurcation", "portal vein bifurcation",
                                                        "pvb", "hilum", "portal hilum"), True,
             "superior (II, IVa, VII, VIII) from inferior (III, IVb, V, VI) segments; with the IVC it bounds segment I"),
)
LANDMARK_BY_NAME = {landmark.name: landmark for landmark in LANDMARKS}

# Landmarks that bound each segment: named when a segment comes out empty.
_BOUNDING_LANDMARKS = {
    "I": (IVC, PORTAL_BIFURCATION),
    "II": (UMBILICAL_FISSURE, PORTAL_BIFURCATION, LEFT_HEPATIC_VEIN),
    "III": (UMBILICAL_FISSURE, PORTAL_BIFURCATION, LEFT_HEPATIC_VEIN),
    "IV": (UMBILICAL_FISSURE, MIDDLE_HEPATIC_VEIN),
    "V": (MIDDLE_HEPATIC_VEIN, RIGHT_HEPATIC_VEIN, PORTAL_BIFURCATION),
    "VI": (RIGHT_HEPATIC_VEIN, PORTAL_BIFURCATION),
    "VII": (RIGHT_HEPATIC_VEIN, PORTAL_BIFURCATION),
    "VIII": (MIDDLE_HEPATIC_VEIN, RIGHT_HEPATIC_VEIN, PORTAL_BIFURCATION),
}

# A landmark may be clicked on a vein just outside the parenchyma (the IVC runs in a groove,
# veins at the surface): accept points this far outside the liver's bounding box.
BOUNDING_BOX_TOLERANCE_MM = 10.0
# Below this horizontal distance from the IVC axis, a click error of 3 mm turns a plane by more
# than 15 degrees: such a point cannot orient a plane.
MINIMUM_PLANE_ARM_MM = 10.0
# Segment I grows with the IVC-to-hilum distance (typically 2-4 cm): beyond this the portal
# bifurcation point cannot be at the hilum.
MAXIMUM_HILUM_DISTANCE_MM = 70.0
# Segment I rule, in units of the IVC-to-hilum distance L (see the module description).
CAUDATE_RADIUS = 1.0
CAUDATE_RIGHT_MARGIN = 0.25
CAUDATE_BELOW_HILUM = 1.0
CAUDATE_ABOVE_HILUM = 3.0
# The II/III plane must tell posterior-superior from anterior-inferior: refuse it when its
# normal is nearly perpendicular to that direction.
MINIMUM_II_III_ORIENTATION = 0.25

SEGMENT_NAME = {segmentId: f"Segment {segmentId}" for segmentId in couinaud.SEGMENT_IDS}
METHOD_TAG = "ALPPS.Method"

# Liver voxels processed at a time: bounds temporary memory on fine scans.
_CHUNK_VOXELS = 1 << 21


def normalizedLabel(text):
    """Control point label as compared with the landmark table: lower case, apostrophes dropped,
    spaces/underscores/hyphens/dots as single spaces, and a trailing number removed (so that
    'RHV-2' or 'IVC 1', several clicks on one landmark, are recognised)."""
    text = str(text).strip().lower().replace("'", "").replace("\u2019", "")
    text = re.sub(r"[\s_\-.]+", " ", text).strip()
    return re.sub(r"\s*\d+$", "", text).strip()


_LANDMARK_OF_LABEL = {label: landmark.name for landmark in LANDMARKS for label in landmark.labels}


def landmarkNameOfLabel(label):
    """Landmark name ('middle hepatic vein', ...) for a control point label such as 'MHV', or None."""
    return _LANDMARK_OF_LABEL.get(normalizedLabel(label))


def _expectedLabelsText(landmark):
    return f"{landmark.name} ({landmark.shortName})" if landmark.shortName.lower() != landmark.name else landmark.name


def resolveLandmarks(landmarks):
    """``{landmark name: RAS point}`` from ``{label: point or list of points}`` with any accepted
    label ('IVC', 'Right hepatic vein', 'PV bifurcation', ...). Several points for one landmark
    are averaged. Raises ValueError naming missing landmarks and labels not recognised (a
    mislabelled landmark is never ignored)."""
    points = {}
    unknown = []
    for label, value in dict(landmarks).items():
        name = landmarkNameOfLabel(label)
        if name is None:
            unknown.append(str(label))
            continue
        array = np.asarray(value, dtype=float)
        if array.ndim == 1:
            array = array[np.newaxis, :]
        if array.ndim != 2 or array.shape[1] != 3 or array.shape[0] == 0 or not np.all(np.isfinite(array)):
            raise ValueError(f"Landmark '{label}' ({name}) must be an RAS point (x, y, z) in mm or a list of them; got {value!r}")
        points.setdefault(name, []).extend(array)
    expected = "Expected control points labelled e.g. " + ", ".join(f"'{landmark.shortName}'" for landmark in LANDMARKS)
    expected += " (the left hepatic vein is optional)"
    missing = [landmark for landmark in LANDMARKS if landmark.required and landmark.name not in points]
    if missing:
        message = "Missing landmark(s): " + ", ".join(_expectedLabelsText(landmark) for landmark in missing)
        message += f". {expected}"
        if unknown:
            message += f"; labels not recognised: {', '.join(repr(label) for label in unknown)}"
        raise ValueError(message)
    if unknown:
        # A landmark under a label not understood (a typo, 'F-1') must not be dropped silently:
        # without it the division would change (e.g. II/III without the left hepatic vein).
        raise ValueError(
            f"Control point label(s) not recognised as landmarks: {', '.join(repr(label) for label in unknown)}. "
            f"{expected}; relabel or remove them"
        )
    return {name: np.mean(np.asarray(values), axis=0) for name, values in points.items()}


def methodDescription(landmarkNames):
    """Text of the ALPPS.Method tag: the method and the landmarks used, in table order."""
    used = [landmark.shortName for landmark in LANDMARKS if landmark.name in landmarkNames]
    return f"{METHOD_NAME}: {', '.join(used)}"


def checkedLiverMask(liverMask):
    """Boolean liver mask from a 3D array indexed [k, j, i]; ValueError if not 3D or empty."""
    mask = np.asarray(liverMask)
    if mask.ndim != 3:
        raise ValueError(f"liverMask must be a 3D array indexed [k, j, i]; got shape {mask.shape}")
    mask = mask != 0
    if not mask.any():
        raise ValueError("liverMask is empty: expected a liver mask with at least one voxel")
    return mask


def checkedMatrix(ijkToRAS):
    """4x4 float array; ValueError unless it is a finite, invertible IJK-to-RAS matrix."""
    matrix = np.asarray(ijkToRAS, dtype=float)
    if matrix.shape != (4, 4) or not np.all(np.isfinite(matrix)) or abs(np.linalg.det(matrix[:3, :3])) < 1e-12:
        raise ValueError(f"ijkToRAS must be an invertible 4x4 IJK-to-RAS matrix; got {ijkToRAS!r}")
    return matrix


def rasBounds(mask, ijkToRAS):
    """(low, high) RAS corners of the box around the mask's voxels (voxel edges, not centres)."""
    k, j, i = (np.flatnonzero(mask.any(axis=axes)) for axes in ((1, 2), (0, 2), (0, 1)))
    low = np.array([i[0], j[0], k[0]], dtype=float) - 0.5
    high = np.array([i[-1], j[-1], k[-1]], dtype=float) + 0.5
    corners = np.array([[(low, high)[a][0], (low, high)[b][1], (low, high)[c][2]] for a in (0, 1) for b in (0, 1) for c in (0, 1)])
    ras = corners @ ijkToRAS[:3, :3].T + ijkToRAS[:3, 3]
    return ras.min(axis=0), ras.max(axis=0)


def checkPointsInBounds(points, bounds, what, tolerance=BOUNDING_BOX_TOLERANCE_MM, noun="landmarks"):
    """Raise ValueError naming the points (``{name: RAS}``) that lie outside ``bounds`` + tolerance."""
    low, high = bounds
    outside = [
        f"{name} at ({point[0]:.1f}, {point[1]:.1f}, {point[2]:.1f})"
        for name, point in points.items()
        if np.any(point < low - tolerance) or np.any(point > high + tolerance)
    ]
    if outside:
        raise ValueError(
            f"{noun.capitalize()} outside the bounding box of {what} (R {low[0]:.1f}..{high[0]:.1f}, A {low[1]:.1f}..{high[1]:.1f}, "
            f"S {low[2]:.1f}..{high[2]:.1f} mm RAS, {tolerance:.0f} mm tolerance): {'; '.join(outside)} mm RAS; "
            f"expected {noun} placed on this liver"
        )


def voxelChunks(mask, ijkToRAS, chunkVoxels=_CHUNK_VOXELS):
    """(flat indices, RAS coordinates (n, 3)) of the mask's voxels, a chunk at a time."""
    flat = np.flatnonzero(mask)
    rotation = ijkToRAS[:3, :3]
    for start in range(0, flat.size, chunkVoxels):
        indices = flat[start : start + chunkVoxels]
        k, j, i = np.unravel_index(indices, mask.shape)
        ijk = np.stack((i, j, k), axis=1).astype(float)
        yield indices, ijk @ rotation.T + ijkToRAS[:3, 3]


def _angleFromAnterior(vector):
    """Angle (degrees) of a horizontal RAS vector from anterior (+A) towards the patient's right (+R)."""
    return np.degrees(np.arctan2(vector[..., 0], vector[..., 1]))


class _BismuthPlanes:
    """The planes of the landmark-based division, checked for anatomical sense."""

    def __init__(self, points):
        self.ivc = points[IVC][:2]
        self.angle = {}
        for name in (UMBILICAL_FISSURE, MIDDLE_HEPATIC_VEIN, RIGHT_HEPATIC_VEIN):
            arm = points[name][:2] - self.ivc
            if np.hypot(*arm) < MINIMUM_PLANE_ARM_MM:
                raise ValueError(
                    f"Degenerate plane: the {name} point lies {np.hypot(*arm):.1f} mm from the IVC axis in the axial "
                    f"view; expected it on the vein at least {MINIMUM_PLANE_ARM_MM:.0f} mm away from the IVC"
                )
            self.angle[name] = float(_angleFromAnterior(arm))
        fissure, middle, right = (self.angle[n] for n in (UMBILICAL_FISSURE, MIDDLE_HEPATIC_VEIN, RIGHT_HEPATIC_VEIN))
        if abs(middle) >= 90.0:
            raise ValueError(
                f"The middle hepatic vein point lies behind the IVC (at {middle:.0f} degrees from anterior in the axial "
                "view); expected it in front of the IVC, on Cantlie's line towards the gallbladder fossa"
            )
        if not fissure < middle < right:
            raise ValueError(
                "Landmarks are not in anatomical order: seen from the IVC, from the patient's left to right, expected "
                f"umbilical fissure ({fissure:.0f} deg), middle hepatic vein ({middle:.0f} deg), right hepatic vein "
                f"({right:.0f} deg) (angles from anterior towards the right); check the control point labels"
            )
        portal = points[PORTAL_BIFURCATION]
        self.portal = portal
        hilum = portal[:2] - self.ivc
        self.hilumDistance = float(np.hypot(*hilum))
        if self.hilumDistance > MAXIMUM_HILUM_DISTANCE_MM:
            raise ValueError(
                f"The portal bifurcation lies {self.hilumDistance:.1f} mm from the IVC axis in the axial view: expected it "
                f"at the hilum, at most {MAXIMUM_HILUM_DISTANCE_MM:.0f} mm in front of the IVC (segment I is taken "
                "between the two)"
            )
        if self.hilumDistance < MINIMUM_PLANE_ARM_MM or hilum[1] <= 0:
            raise ValueError(
                f"The portal bifurcation lies {self.hilumDistance:.1f} mm from the IVC axis"
                f"{' and not in front of it' if hilum[1] <= 0 else ''}: expected it at the hilum, in front of the IVC "
                f"(at least {MINIMUM_PLANE_ARM_MM:.0f} mm), since segment I is taken between the two"
            )
        self.towardsHilum = hilum / self.hilumDistance
        # Patient's left across the IVC-to-hilum direction (superior x forward).
        self.towardsLeft = np.array([-self.towardsHilum[1], self.towardsHilum[0]])
        self.segmentTwoNormal = None
        if LEFT_HEPATIC_VEIN in points:
            self._leftHepaticVeinPlane(points[LEFT_HEPATIC_VEIN], middle)

    def _leftHepaticVeinPlane(self, leftVein, middleAngle):
        arm = leftVein[:2] - self.ivc
        if np.hypot(*arm) >= MINIMUM_PLANE_ARM_MM and float(_angleFromAnterior(arm)) >= middleAngle:
            raise ValueError(
                "The left hepatic vein point lies right of Cantlie's plane (the middle hepatic vein's): expected it in "
                "the left liver; check the control point labels"
            )
        offset = leftVein - self.portal
        span = math.hypot(offset[1], offset[2])
        if span < MINIMUM_PLANE_ARM_MM:
            raise ValueError(
                f"Degenerate plane: the left hepatic vein point lies {span:.1f} mm from the portal bifurcation in the "
                f"sagittal view; expected it on the vein at least {MINIMUM_PLANE_ARM_MM:.0f} mm away"
            )
        # Contains the left-right axis and the portal-bifurcation-to-vein direction.
        normal = np.array([0.0, -offset[2], offset[1]]) / span
        orientation = float(normal @ np.array([0.0, -1.0, 1.0])) / math.sqrt(2.0)
        if abs(orientation) < MINIMUM_II_III_ORIENTATION:
            raise ValueError(
                "The left hepatic vein point lies up and behind the portal bifurcation at about 45 degrees: the plane "
                "through them cannot tell segment II (posterior-superior) from III (anterior-inferior); place it on the "
                "left hepatic vein further forward in the left lateral section"
            )
        self.segmentTwoNormal = normal if orientation > 0 else -normal

    def labelsAt(self, ras):
        """Couinaud label (1..8) of each RAS point (n, 3)."""
        relative = ras[:, :2] - self.ivc
        angle = _angleFromAnterior(relative)
        # A voxel centre lying on a boundary plane must fall on the same side however the plane's
        # landmarks were placed along it: differences of a few ulps between two placements are ties.
        right = angle - self.angle[MIDDLE_HEPATIC_VEIN] > _TIE_RADIANS
        posterior = angle - self.angle[RIGHT_HEPATIC_VEIN] > _TIE_RADIANS
        segmentFour = angle - self.angle[UMBILICAL_FISSURE] > _TIE_RADIANS
        height = ras[:, 2] - self.portal[2]
        superior = height > _TIE_MM
        if self.segmentTwoNormal is None:
            segmentTwo = superior
        else:
            segmentTwo = (ras - self.portal) @ self.segmentTwoNormal > _TIE_MM
        labels = np.empty(len(ras), dtype=np.uint8)
        labels[:] = np.where(segmentTwo, 2, 3)
        labels[~right & segmentFour] = 4
        labels[right & ~posterior] = np.where(superior[right & ~posterior], 8, 5)
        labels[right & posterior] = np.where(superior[right & posterior], 7, 6)
        labels[self.caudate(relative, height)] = 1
        return labels

    def caudate(self, relative, height):
        reach = self.hilumDistance
        return (
            (np.hypot(relative[:, 0], relative[:, 1]) <= CAUDATE_RADIUS * reach)
            & (relative @ self.towardsLeft >= -CAUDATE_RIGHT_MARGIN * reach)
            & (height >= -CAUDATE_BELOW_HILUM * reach)
            & (height <= CAUDATE_ABOVE_HILUM * reach)
        )


_TIE_RADIANS = 1e-9
_TIE_MM = 1e-6


def couinaudLabelsFromLandmarks(liverMask, ijkToRAS, landmarks):
    """Divide a whole-liver mask into Couinaud segments by the planes of the landmarks.

    ``liverMask``: 3D array indexed [k, j, i] (non-zero = liver); ``ijkToRAS``: its 4x4 matrix;
    ``landmarks``: ``{label: RAS point (mm) or list of points}`` with labels as in LANDMARKS
    ('IVC', 'RHV', 'MHV', 'LHV' (optional), 'UF', 'portal bifurcation', or the full names).
    Returns a uint8 array of the mask's shape: 0 outside the liver, 1..8 = segments I..VIII.
    Raises ValueError for a missing landmark, a landmark outside the liver's bounding box, an empty
    mask, a degenerate or anatomically inconsistent plane, or a segment that would be empty.
    """
    mask = checkedLiverMask(liverMask)
    matrix = checkedMatrix(ijkToRAS)
    points = resolveLandmarks(landmarks)
    checkPointsInBounds(points, rasBounds(mask, matrix), "the liver mask")
    planes = _BismuthPlanes(points)
    labels = np.zeros(mask.shape, dtype=np.uint8)
    flatLabels = labels.reshape(-1)
    for indices, ras in voxelChunks(mask, matrix):
        flatLabels[indices] = planes.labelsAt(ras)
    counts = np.bincount(flatLabels, minlength=9)
    empty = [segmentId for value, segmentId in enumerate(couinaud.SEGMENT_IDS, 1) if counts[value] == 0]
    if empty:
        bounding = sorted({name for segmentId in empty for name in _BOUNDING_LANDMARKS[segmentId] if name in points},
                          key=[landmark.name for landmark in LANDMARKS].index)
        raise ValueError(
            f"Segment(s) {', '.join(empty)} would be empty: the landmarks leave no liver voxels there; "
            f"check the {', '.join(bounding)} landmark(s)"
        )
    return labels


# --- Slicer nodes ----------------------------------------------------------------------------


def segmentMaskAndGeometry(segmentationNode, segmentId):
    """Boolean mask of one segment, cropped to its bounding box, on the segmentation's own binary
    labelmap layer, and the 4x4 IJK-to-RAS (world) matrix of that crop.

    A segmentation under a linear transform is handled (world coordinates, as the markups report
    them); a non-linear one is refused.
    """
    if segmentationNode is None or not segmentationNode.IsA("vtkMRMLSegmentationNode"):
        raise ValueError(f"Expected a segmentation node, got {segmentationNode!r}")
    segmentation = segmentationNode.GetSegmentation()
    segment = segmentation.GetSegment(segmentId) if segmentId else None
    if segment is None:
        raise ValueError(
            f"Segmentation '{segmentationNode.GetName()}' has no segment with ID '{segmentId}': expected the ID of its "
            f"whole-liver segment (it has {', '.join(repr(s) for s in segmentation.GetSegmentIDs()) or 'no segments'})"
        )
    ensureBinaryLabelmap(segmentationNode)
    layer = segmentation.GetLayerIndex(segmentId, binaryLabelmapName())
    image = segmentation.GetLayerDataObject(layer, binaryLabelmapName())
    voxels = layerVoxels(image)
    mask = None if voxels is None else voxels == segment.GetLabelValue()
    if mask is None or not mask.any():
        raise ValueError(
            f"Segment '{segment.GetName()}' of segmentation '{segmentationNode.GetName()}' is empty: expected the whole "
            "liver painted in it"
        )
    k, j, i = (np.flatnonzero(mask.any(axis=axes)) for axes in ((1, 2), (0, 2), (0, 1)))
    mask = mask[k[0] : k[-1] + 1, j[0] : j[-1] + 1, i[0] : i[-1] + 1].copy()
    ijkToLocal = imageToWorld(image)
    extent = image.GetExtent()
    corner = np.array([extent[0] + i[0], extent[2] + j[0], extent[4] + k[0]], dtype=float)
    ijkToLocal[:3, 3] = ijkToLocal[:3, :3] @ corner + ijkToLocal[:3, 3]
    return mask, toWorldMatrix(segmentationNode) @ ijkToLocal


def controlPointsByLabel(markupsNode):
    """``{label: [RAS world points]}`` of a markups node's placed control points."""
    if markupsNode is None or not markupsNode.IsA("vtkMRMLMarkupsNode"):
        raise ValueError(f"Expected a markups node with landmark control points, got {markupsNode!r}")
    points = {}
    for index in range(markupsNode.GetNumberOfControlPoints()):
        if not _isPlaced(markupsNode, index):
            continue
        position = [0.0, 0.0, 0.0]
        markupsNode.GetNthControlPointPositionWorld(index, position)
        points.setdefault(markupsNode.GetNthControlPointLabel(index), []).append(position)
    return points


def _isPlaced(markupsNode, index):
    # Points still being placed (preview) or skipped have no position yet.
    status = getattr(markupsNode, "GetNthControlPointPositionStatus", None)
    defined = getattr(markupsNode, "PositionDefined", None)
    return status is None or defined is None or status(index) == defined


def landmarksFromMarkups(markupsNode):
    """``{landmark name: RAS point}`` from a markups node whose control point labels name the
    landmarks; ValueError naming the node and the missing landmarks."""
    points = controlPointsByLabel(markupsNode)
    try:
        return resolveLandmarks(points)
    except ValueError as error:
        raise ValueError(f"Markups '{markupsNode.GetName()}': {error}") from None


def refuseExistingSegments(segmentationNode, names, alsoCouinaud=False, exceptIds=()):
    """Raise ValueError naming segments that already carry one of ``names`` (or, with
    ``alsoCouinaud``, that are recognised as Couinaud segments by code or name)."""
    segmentation = segmentationNode.GetSegmentation()
    clashing = []
    for segmentId in segmentation.GetSegmentIDs():
        if segmentId in exceptIds:
            continue
        segment = segmentation.GetSegment(segmentId)
        if segment.GetName() in names or (alsoCouinaud and couinaudIdOfSegment(segment)[0] is not None):
            clashing.append(f"'{segment.GetName()}'")
    if clashing:
        raise ValueError(
            f"Segmentation '{segmentationNode.GetName()}' already has segment(s) {', '.join(clashing)}: remove or "
            "rename them first (new segments are not added beside existing ones, which would count twice)"
        )


def addCouinaudSegmentsFromLandmarks(segmentationNode, liverSegmentId, markupsNode):
    """Add segments 'Segment I' .. 'Segment VIII' to ``segmentationNode``, dividing its whole-liver
    segment by the planes of the landmarks in ``markupsNode`` (control points labelled 'IVC',
    'RHV', 'MHV', 'LHV' (optional), 'UF', 'portal bifurcation', ...).

    The segments partition the liver segment voxel for voxel, on its own labelmap geometry; they
    carry Couinaud terminology (SNOMED CT), colours, and the tag ALPPS.Method naming the method
    and the landmarks used. Returns ``{'I': segmentId, ..., 'VIII': segmentId}``.
    Refuses (ValueError) when Couinaud segments already exist, rather than adding duplicates.
    """
    mask, ijkToRAS = segmentMaskAndGeometry(segmentationNode, liverSegmentId)
    refuseExistingSegments(segmentationNode, set(SEGMENT_NAME.values()), alsoCouinaud=True, exceptIds=(liverSegmentId,))
    points = landmarksFromMarkups(markupsNode)
    liverName = segmentationNode.GetSegmentation().GetSegment(liverSegmentId).GetName()
    try:
        labels = couinaudLabelsFromLandmarks(mask, ijkToRAS, points)
    except ValueError as error:
        raise ValueError(f"Landmarks '{markupsNode.GetName()}' on liver segment '{liverName}': {error}") from None
    names = {value: SEGMENT_NAME[segmentId] for value, segmentId in enumerate(couinaud.SEGMENT_IDS, 1)}
    colors = {value: couinaud.SEGMENT_COLOR[segmentId] for value, segmentId in enumerate(couinaud.SEGMENT_IDS, 1)}
    imported = importLabelArray(segmentationNode, labels, ijkToRAS, names, colors)
    method = methodDescription(points)
    segmentation = segmentationNode.GetSegmentation()
    result = {}
    for value, couinaudId in enumerate(couinaud.SEGMENT_IDS, 1):
        segment = segmentation.GetSegment(imported[value])
        segment.SetTag("TerminologyEntry", couinaud.terminologyEntry(couinaudId))
        segment.SetTag(METHOD_TAG, method)
        segment.SetColor(*couinaud.SEGMENT_COLOR[couinaudId])
        result[couinaudId] = imported[value]
    return result
