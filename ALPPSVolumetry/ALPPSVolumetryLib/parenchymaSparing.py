"""Parenchyma-sparing alternative (clinical reference section 9): per-tumour findings, a
margin-based resection plan, and its comparison with the major hepatectomy and ALPPS plans.

Ultrasound-guided parenchyma-sparing hepatectomy (PSH) removes each tumour with a narrow margin
and may detach a tumour from a major hepatic vein or portal pedicle instead of sacrificing the
vessel. What the surgeon needs from imaging: per tumour its volume, largest diameter, Couinaud
segment(s) and the shortest distance to each major vessel (contact at <= 1 mm); the parenchyma
a margin-based resection removes, the number of separate resection areas (laparoscopic PSH is
advised for at most 3), and the remnant it leaves, beside the remnant of a major hepatectomy.

Everything is measured on the segments as painted, on the segmentation's own binary labelmap
grid, in millimetres (physical spacing, anisotropic voxels and LPS/oblique directions included):
each voxel stands for the box it covers, its centre is the point a coordinate refers to.

- Volume: voxel count x voxel volume (as everywhere in the extension).
- Largest diameter: the largest distance between the centres of two voxels of the tumour (3D,
  any direction; not restricted to an axial slice as RECIST is). Computed exactly: the
  diametral pair is among the vertices of the convex hull of the voxel centres, and a voxel
  that is the midpoint of two tumour voxels along one of the 13 lattice directions cannot be a
  vertex, so only the remaining "corner" voxels are compared pairwise. Against the tumour's
  true diameter it is short by the distance from each end of the true diameter to the nearest
  voxel centre inside: at most one voxel diagonal at each end, about half a voxel on average.
- Distance from a tumour to a vessel: the shortest distance between the painted tumour and the
  painted vessel, i.e. between the voxel boxes: 0 when they share voxels or touch at a face,
  an edge or a corner. Between two boxes whose centres are (di, dj, dk) voxels apart it is
  sqrt(sum(((|d| - 1)+ x spacing)^2)), which is the voxel-centre distance from the vessel to the
  tumour dilated by one voxel (26-neighbourhood): the vessel's Euclidean distance map (SimpleITK
  Maurer, physical spacing) read on that dilated tumour. The shortest distance between voxel
  centres is reported beside it (centreDistanceMm); it exceeds the box distance by up to one
  voxel and never reaches 0 for touching segments, so a tumour touching a vessel across 1.6 mm
  slices would miss a 1 mm contact flag. Against true, smooth surfaces, each painted surface
  stands up to half a voxel diagonal in or out of the true one: the box distance is within one
  voxel diagonal of the true gap (and tends to be the smaller: contact is flagged, not missed).
- Contact: box distance <= contactDistanceMm (1 mm by default, section 9); the tumour voxels
  within that distance of the vessel are the contact surface shown in 3D.
- Margin volume of a tumour: the voxels whose centre lies within the margin (mm) of the painted
  tumour (its voxel boxes): the tumour dilated in physical space by a ball of the margin radius,
  voxelised by the same centre rule that voxelises any shape. Computed exactly by a Maurer
  distance map on a lattice of half the voxel spacing, whose nodes include every box corner and
  face, so that the nearest point of a box is a node. Measuring from voxel centres instead
  would lose the margin across thick slices (1 mm adds nothing across 1.5 mm slices: -15 to
  -25 % of a 1 mm margin volume); measured from the boxes, whose corners stand out of a smooth
  surface, the volume errs the other way (a 12 mm sphere on 0.8 x 0.7 x 1.5 mm voxels: +21 %
  with 1 mm, +10 % with 10 mm): the resection is over-, the remnant under-estimated, the safe
  side for a remnant. Bound: the painted tumour lies within half a voxel diagonal h of the true
  one, so for a sphere the volume lies between those of spheres of radius r + m -/+ 2h.
- Resected parenchyma: the union of the margin volumes of all tumours, clipped to the liver.
- Resection areas: the connected components of that union, with 26-connectivity (voxels
  touching at a face, an edge or a corner belong to one area: painted boxes touching at a
  corner are one continuous piece of tissue). An area is numbered by the first tumour (in
  segmentation order) whose margin it contains.
- Liver for the plan: the union of the Couinaud segments I-VIII when all are present (the
  total liver volume of every major plan, so that the plans compare), else the whole-liver
  segment. Remnant = total liver - resected; %FLR, sFLR, FLR-BWR and the adequacy flags come
  from the same code as the major plans (futureLiverRemnant).

Speed: every computation runs on a box around the tumour (plus the margin, or plus the part of
the vessel that can be nearest), never on the whole scan. For the vessel distance the box is
bounded by a distance that an actual tumour voxel - vessel voxel pair reaches, so the pair that
realises the shortest distance is always inside it and the cropped distance map is exact there.
"""

import math
import re
import time
from dataclasses import dataclass, field
from typing import List

import numpy as np
import SimpleITK as sitk
import vtk

from . import clinicalCriteria, couinaud, futureLiverRemnant, resectionPlans, syntheticPatient
from .geometry import imageToWorld, toWorldMatrix
from .landmarkSegments import METHOD_TAG
from .planDisplay import RESECTED_COLOR, RESECTED_OPACITY
from .resultsTable import numberOrNaN, writeTableRows
from .segmentationImport import importLabelArray
from .segmentOverlap import SegmentOverlapHistogram
from .segmentRecognition import COUINAUD_UNITS, ROLE_LIVER, ROLE_TUMOUR, SegmentRoles
from .segmentVolumes import (
    VOLUME_METHOD,
    binaryLabelmapName,
    ensureBinaryLabelmap,
    layerVoxels,
    voxelVolumeMl,
)

# Clinical reference section 9: contact = distance <= 1 mm; margins from 1 cm down to 1 mm.
CONTACT_DISTANCE_MM = 1.0
DEFAULT_MARGIN_MM = 1.0
WIDE_MARGIN_MM = 10.0
MARGIN_CHOICES_MM = (DEFAULT_MARGIN_MM, WIDE_MARGIN_MM)
# Beyond these the input is a mistake: a margin of centimetres is no longer parenchyma-sparing,
# and a contact is not a distance of several millimetres.
MAXIMUM_MARGIN_MM = 20.0
MAXIMUM_CONTACT_DISTANCE_MM = 5.0

LAPAROSCOPIC_MAXIMUM_AREAS = int(clinicalCriteria.LAPAROSCOPIC_RESECTION_AREAS.threshold)
LAPAROSCOPIC_SOURCE = clinicalCriteria.LAPAROSCOPIC_RESECTION_AREAS.source
SECTION_9_SOURCE = "clinical reference section 9 (parenchyma-sparing hepatectomy; contact = distance <= 1 mm)"

# Tag on segments this module adds, so that a later run replaces them instead of adding twice.
GENERATED_TAG = "ALPPS.ParenchymaSparing"
PLAN_TAG = "ALPPS.Plan"
CONTACT_COLOR = (1.0, 0.0, 0.0)
AREA_COLOR = RESECTED_COLOR

# Major plans shown beside the parenchyma-sparing plans when none are given: the right
# hepatectomy and the classic ALPPS stage 2 (right trisectionectomy).
DEFAULT_MAJOR_PLANS = ("right_hepatectomy", "right_trisectionectomy")


# --- Vessel names ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MajorVessel:
    key: str
    label: str  # as reported to the user
    names: tuple  # normalised names people and tools type (see normalisedVesselName)
    codes: tuple = ()  # SNOMED CT codes that mean this vessel in a segment's terminology


# The one table of vessel names. Specific vessels first: a name is matched whole, never as a part
# of a longer name, so 'Portal vein tumour thrombus' is not the portal vein.
MAJOR_VESSELS = (
    MajorVessel("rightHepaticVein", "right hepatic vein", ("right hepatic vein", "rhv", "right hv", "vena hepatica dextra")),
    MajorVessel("middleHepaticVein", "middle hepatic vein", ("middle hepatic vein", "mhv", "middle hv", "vena hepatica media")),
    MajorVessel("leftHepaticVein", "left hepatic vein", ("left hepatic vein", "lhv", "left hv", "vena hepatica sinistra")),
    MajorVessel(
        "accessoryVeinVIII",
        "accessory vein of segment VIII (V8)",
        (
            "v8",
            "accessory v8",
            "accessory vein v8",
            "accessory vein of segment viii",
            "accessory vein of segment 8",
            "accessory hepatic vein of segment viii",
            "accessory hepatic vein of segment 8",
            "segment viii vein",
            "segment 8 vein",
        ),
    ),
    MajorVessel(
        "rightPortalPedicle",
        "right portal pedicle",
        ("right portal pedicle", "right glissonean pedicle", "right glissonian pedicle", "right pedicle", "right portal vein", "rpv"),
    ),
    MajorVessel(
        "leftPortalPedicle",
        "left portal pedicle",
        ("left portal pedicle", "left glissonean pedicle", "left glissonian pedicle", "left pedicle", "left portal vein", "lpv"),
    ),
    MajorVessel(
        "portalVein",
        "portal vein",
        (
            "portal vein",
            "portal veins",
            "main portal vein",
            "pv",
            "portal pedicle",
            "portal pedicles",
            "glissonean pedicles",
            "portal vein and splenic vein",
        ),
        ("32764006",),
    ),
    MajorVessel("hepaticVeins", "hepatic veins", ("hepatic vein", "hepatic veins", "hv", "hvs"), ("8993003",)),
    MajorVessel(
        "liverVessels",
        "liver vessels (hepatic and portal veins together)",
        ("liver vessels", "liver vessel", "hepatic vessels", "hepatic vessel", "intrahepatic vessels"),
    ),
)
_VESSEL_BY_NAME = {name: vessel for vessel in MAJOR_VESSELS for name in vessel.names}
_VESSEL_BY_CODE = {code: vessel for vessel in MAJOR_VESSELS for code in vessel.codes}


def normalisedVesselName(name):
    """Lower case, '_' and '-' as spaces, single spaces: 'Right_Hepatic-Vein ' -> 'right hepatic vein'."""
    text = str(name).strip().lower().replace("_", " ").replace("-", " ")
    return " ".join(text.split())


def _nameCandidates(name):
    # 'Right hepatic vein (RHV)' is either of its parts.
    text = normalisedVesselName(name)
    candidates = [text]
    if "(" in text and text.endswith(")"):
        outside, _, inside = text[:-1].partition("(")
        candidates += [outside.strip(), inside.strip()]
    return candidates


def vesselFromName(name):
    """The MajorVessel a typed name means, or None."""
    for candidate in _nameCandidates(name):
        if candidate in _VESSEL_BY_NAME:
            return _VESSEL_BY_NAME[candidate]
    return None


_TERMINOLOGY_CODE = re.compile(r"~SCT\^(\d+)\^")  # as segmentRecognition reads SNOMED CT codes


def _terminologyCodes(segment):
    entry = vtk.reference("")
    return _TERMINOLOGY_CODE.findall(str(entry)) if segment.GetTag("TerminologyEntry", entry) else []


def vesselOfSegment(segment):
    """The MajorVessel a segment is, by its name first (more specific), then by its terminology
    code (hepatic vein, portal vein); None for any other segment."""
    vessel = vesselFromName(segment.GetName())
    if vessel is not None:
        return vessel
    for code in _terminologyCodes(segment):
        if code in _VESSEL_BY_CODE:
            return _VESSEL_BY_CODE[code]
    return None


def _isGenerated(segment):
    return segment.GetTag(GENERATED_TAG, vtk.reference(""))


def _segmentIdOf(segmentation, idOrName):
    if segmentation.GetSegment(str(idOrName)) is not None:
        return str(idOrName)
    segmentId = segmentation.GetSegmentIdBySegmentName(str(idOrName))
    return segmentId or None


def recognizeVessels(segmentationNode, vesselSegmentIds=None, roles=None):
    """``[(vessel label, segment ID)]`` of the major vessels to measure.

    Without ``vesselSegmentIds`` every segment recognised by name or code (MAJOR_VESSELS) is
    used. ``vesselSegmentIds`` ({vessel name: segment ID or segment name}) replaces the
    recognition: exactly these vessels are measured, a known name (e.g. 'RHV') being reported
    by its clinical label and any other name as given. ValueError for unknown segments, and for
    two segments recognised as the same vessel.
    """
    segmentation = segmentationNode.GetSegmentation()
    name = segmentationNode.GetName()
    if vesselSegmentIds is not None:
        if not isinstance(vesselSegmentIds, dict):
            raise ValueError(f"vesselSegmentIds must map vessel names to segment IDs or names, got {vesselSegmentIds!r}")
        vessels = []
        for vesselName, idOrName in vesselSegmentIds.items():
            if not str(vesselName).strip():
                raise ValueError(f"vesselSegmentIds names a vessel with an empty name (segment {idOrName!r}): expected e.g. 'RHV'")
            segmentId = _segmentIdOf(segmentation, idOrName)
            if segmentId is None:
                raise ValueError(
                    f"Vessel '{vesselName}': segmentation '{name}' has no segment with ID or name {idOrName!r} "
                    f"(it has {', '.join(repr(segmentation.GetSegment(s).GetName()) for s in segmentation.GetSegmentIDs()) or 'no segments'})"
                )
            known = vesselFromName(vesselName)
            vessels.append((known.label if known else str(vesselName).strip(), segmentId))
        return vessels
    tumours = set(roles.segmentsWithRole(ROLE_TUMOUR)) if roles is not None else set()
    found = {}
    for segmentId in segmentation.GetSegmentIDs():
        segment = segmentation.GetSegment(segmentId)
        if segmentId in tumours or _isGenerated(segment):
            continue
        vessel = vesselOfSegment(segment)
        if vessel is not None:
            found.setdefault(vessel.key, []).append(segmentId)
    duplicates = [
        f"{vessel.label}: " + ", ".join(f"'{segmentation.GetSegment(s).GetName()}'" for s in found[vessel.key])
        for vessel in MAJOR_VESSELS
        if len(found.get(vessel.key, ())) > 1
    ]
    if duplicates:
        raise ValueError(
            f"Segmentation '{name}' gives a vessel more than once ({'; '.join(duplicates)}): keep one segment per vessel, "
            "or say which one to use with vesselSegmentIds"
        )
    return [(vessel.label, found[vessel.key][0]) for vessel in MAJOR_VESSELS if vessel.key in found]


# --- Results ---------------------------------------------------------------------------------


@dataclass
class VesselDistance:
    vessel: str  # clinical label, e.g. 'right hepatic vein'
    segmentId: str
    segmentName: str
    distanceMm: float  # between the painted voxels (boxes); 0 when touching or overlapping
    centreDistanceMm: float  # between voxel centres; 0 only when they share voxels
    overlapMl: float  # tumour voxels that are also vessel voxels
    contact: bool  # distanceMm <= contactDistanceMm
    contactVoxels: int  # tumour voxels within the contact distance of this vessel


@dataclass
class TumourFinding:
    segmentId: str
    name: str
    voxelCount: int
    volumeMl: float
    largestDiameterMm: float
    couinaudSegments: tuple  # units the tumour lies in, largest share first
    couinaudSegmentsMl: dict  # unit -> tumour mL inside it (overlap)
    outsideLiverMl: float
    vesselDistances: List[VesselDistance]
    contactDistanceMm: float
    warnings: List[str] = field(default_factory=list)

    @property
    def contacts(self):
        return [distance for distance in self.vesselDistances if distance.contact]

    @property
    def nearestVessel(self):
        return min(self.vesselDistances, key=lambda distance: distance.distanceMm) if self.vesselDistances else None


@dataclass
class ResectionArea:
    number: int
    name: str
    voxelCount: int
    volumeMl: float
    tumours: tuple  # names of the tumours whose margin volume lies in this area


@dataclass
class LaparoscopicGuidance:
    areas: int
    maximumAreas: int
    state: str  # clinicalCriteria's state of LAPAROSCOPIC_RESECTION_AREAS: met when areas <= maximumAreas
    source: str

    def describe(self):
        return f"{self.areas} resection area(s) <= {self.maximumAreas} for the laparoscopic approach: {self.state} [{self.source}]"


@dataclass
class MarginPlanResult:
    marginMm: float
    plan: object  # futureLiverRemnant.PlanResult
    areas: List[ResectionArea]
    laparoscopic: LaparoscopicGuidance
    tumourMarginMl: dict  # tumour name -> its own margin volume (tumour included) within the liver
    liverDefinition: str
    totalLiverMl: float
    warnings: List[str] = field(default_factory=list)

    @property
    def areaCount(self):
        return len(self.areas)


@dataclass
class SparingComparison:
    volumetry: object  # futureLiverRemnant.VolumetryResult (major plans)
    marginPlans: List[MarginPlanResult]

    @property
    def plans(self):
        return list(self.volumetry.plans) + [result.plan for result in self.marginPlans]


# --- Checked inputs --------------------------------------------------------------------------


def _checkedMillimetres(value, what, low, high, lowInclusive):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number of millimetres, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{what} must be a finite number of millimetres, got {value!r}")
    tooLow = number < low if lowInclusive else number <= low
    if tooLow or number > high:
        bound = ">=" if lowInclusive else ">"
        raise ValueError(f"{what} {number:g} mm is out of range: expected {bound} {low:g} mm and <= {high:g} mm")
    return number


def checkedMargin(marginMm):
    return _checkedMillimetres(marginMm, "Resection margin", 0.0, MAXIMUM_MARGIN_MM, lowInclusive=False)


def checkedContactDistance(contactDistanceMm):
    return _checkedMillimetres(contactDistanceMm, "Contact distance", 0.0, MAXIMUM_CONTACT_DISTANCE_MM, lowInclusive=True)


def marginText(marginMm):
    return f"{marginMm:g} mm"


def planKey(marginMm):
    """'parenchyma_sparing_1mm', 'parenchyma_sparing_10mm', 'parenchyma_sparing_2p5mm'."""
    return "parenchyma_sparing_" + f"{marginMm:g}".replace(".", "p") + "mm"


def _tumourSegments(segmentationNode, roles):
    segmentation = segmentationNode.GetSegmentation()
    tumours = [
        segmentId for segmentId in roles.segmentsWithRole(ROLE_TUMOUR) if not _isGenerated(segmentation.GetSegment(segmentId))
    ]
    if not tumours:
        raise ValueError(
            f"Segmentation '{segmentationNode.GetName()}' has no tumour segments: expected segments named e.g. 'Tumour 1', "
            "'lesion', 'metastasis', 'HCC' (or set a segment's role to tumour)"
        )
    return tumours


def _liverForPlan(segmentationNode, roles):
    """(segment IDs, definition) of the liver a plan is a share of: Couinaud I-VIII when all are
    there (as for the major plans), else the whole-liver segment."""
    name = segmentationNode.GetName()
    units = roles.couinaudUnits()
    liverSegments = roles.segmentsWithRole(ROLE_LIVER)
    if len(liverSegments) > 1:
        names = ", ".join(f"'{roles.names[s]}'" for s in liverSegments)
        raise ValueError(f"Segmentation '{name}' has several whole-liver segments ({names}): keep one")
    if units and not roles.missingCouinaudSegments():
        return list(units.values()), "union of Couinaud segments I-VIII"
    if liverSegments:
        return liverSegments, f"whole-liver segment '{roles.names[liverSegments[0]]}'"
    missing = roles.missingCouinaudSegments()
    raise ValueError(
        f"Segmentation '{name}' has neither a whole-liver segment nor Couinaud segments I-VIII (missing {', '.join(missing)}): "
        "the margins are clipped to the liver and the remnant is a share of it"
    )


def _liverSegmentsForFindings(segmentationNode, roles):
    """Every segment that is liver (Couinaud units and the whole-liver segment): a tumour must lie
    in one of them."""
    units = roles.couinaudUnits()
    liver = list(units.values()) + roles.segmentsWithRole(ROLE_LIVER)
    if not liver:
        raise ValueError(
            f"Segmentation '{segmentationNode.GetName()}' has neither a whole-liver segment nor Couinaud segments: "
            "expected the liver (e.g. 'Liver' or 'Segment I'..'Segment VIII') to place the tumours in"
        )
    return units, liver


# --- Boxes of voxels on one grid --------------------------------------------------------------
# A box is (lo, hi): integer arrays (i, j, k), lo inclusive, hi exclusive, in the index space of
# the grid's reference layer. Masks over a box are indexed [k, j, i] like Slicer's arrays.


def _boxShape(box):
    lo, hi = box
    return (int(hi[2] - lo[2]), int(hi[1] - lo[1]), int(hi[0] - lo[0]))


def _expanded(box, voxels):
    return (box[0] - np.asarray(voxels, dtype=int), box[1] + np.asarray(voxels, dtype=int))


def _union(first, second):
    return (np.minimum(first[0], second[0]), np.maximum(first[1], second[1]))


def _intersection(first, second):
    lo, hi = np.maximum(first[0], second[0]), np.minimum(first[1], second[1])
    return None if np.any(hi <= lo) else (lo, hi)


def _slices(inner, outer):
    """Index slices of box ``inner`` within an array over box ``outer`` ([k, j, i])."""
    start = inner[0] - outer[0]
    stop = inner[1] - outer[0]
    return (slice(int(start[2]), int(stop[2])), slice(int(start[1]), int(stop[1])), slice(int(start[0]), int(stop[0])))


def _boxOfMask(mask, origin):
    """Tight box of the True voxels of ``mask`` (an array over a box starting at ``origin``), or None."""
    k = np.flatnonzero(mask.any(axis=(1, 2)))
    if k.size == 0:
        return None
    # The other two projections only over the slices that hold voxels: a tumour spans few.
    slab = mask[k[0] : k[-1] + 1]
    j = np.flatnonzero(slab.any(axis=(0, 2)))
    i = np.flatnonzero(slab.any(axis=(0, 1)))
    lo = np.asarray(origin, dtype=int) + np.array([i[0], j[0], k[0]])
    hi = np.asarray(origin, dtype=int) + np.array([i[-1], j[-1], k[-1]]) + 1
    return lo, hi


def _reboxed(mask, box, newBox):
    """``mask`` (over ``box``) copied onto ``newBox``; False where ``box`` does not reach."""
    out = np.zeros(_boxShape(newBox), dtype=bool)
    common = _intersection(box, newBox)
    if common is not None:
        out[_slices(common, newBox)] = mask[_slices(common, box)]
    return out


class _SegmentGrid:
    """Segments' voxels read in place from the segmentation's labelmap layers, on the index grid
    of the first segment's layer (layers shifted by whole voxels are aligned; any other
    difference of geometry is refused, as in segmentOverlap). ``ijkToRAS`` places that index
    grid in world coordinates (a linear parent transform included)."""

    def __init__(self, segmentationNode, segmentIds):
        ensureBinaryLabelmap(segmentationNode)
        self.segmentationName = segmentationNode.GetName()
        segmentation = segmentationNode.GetSegmentation()
        labelmapName = binaryLabelmapName()
        self._entries = {}
        self._layerContent = {}
        self._crops = {}
        reference = None
        for segmentId in dict.fromkeys(segmentIds):
            segment = segmentation.GetSegment(segmentId)
            if segment is None:
                raise ValueError(f"Segmentation '{self.segmentationName}' has no segment with ID '{segmentId}'")
            layer = segmentation.GetLayerIndex(segmentId, labelmapName)
            image = segmentation.GetLayerDataObject(layer, labelmapName)
            local = imageToWorld(image)
            if reference is None:
                reference = local
                self.voxelVolumeMl = voxelVolumeMl(image)
            offset = np.linalg.solve(reference[:3, :3], local[:3, 3] - reference[:3, 3])
            if not np.allclose(local[:3, :3], reference[:3, :3], atol=1e-6) or not np.allclose(offset, np.round(offset), atol=1e-3):
                raise ValueError(
                    f"Layers of segmentation '{self.segmentationName}' lie on different grids (spacing, direction or a shift "
                    "of part of a voxel); expected one reference geometry for all segments"
                )
            extent = image.GetExtent()
            shift = np.round(offset).astype(int)
            lo = np.array([extent[0], extent[2], extent[4]]) + shift
            hi = np.array([extent[1], extent[3], extent[5]]) + shift + 1
            self._entries[segmentId] = (layer, layerVoxels(image), segment.GetLabelValue(), (lo, hi), segment.GetName())
        self.ijkToRAS = toWorldMatrix(segmentationNode) @ reference
        linear = self.ijkToRAS[:3, :3]
        self.spacing = np.linalg.norm(linear, axis=0)  # mm between voxel centres along i, j, k
        if np.any(self.spacing <= 0):
            raise ValueError(f"Segmentation '{self.segmentationName}' has a zero voxel spacing: expected a 3D grid")
        directions = linear / self.spacing
        if not np.allclose(directions.T @ directions, np.eye(3), atol=1e-4):
            # Distance maps need orthogonal voxel axes; a sheared grid would need resampling.
            raise ValueError(
                f"Segmentation '{self.segmentationName}' lies on a sheared grid (voxel axes not perpendicular): "
                "expected a labelmap geometry with orthogonal axes (resample it first)"
            )
        self.diagonalMm = float(np.linalg.norm(self.spacing))

    def name(self, segmentId):
        return self._entries[segmentId][4]

    def _content(self, layer, voxels, box):
        """Box of the non-zero voxels of a layer (computed once per layer): most layers hold small
        structures on a large extent, and every segment of the layer is then searched there only."""
        if layer not in self._layerContent:
            contentBox = _boxOfMask(voxels != 0, box[0])
            self._layerContent[layer] = contentBox
        return self._layerContent[layer]

    def crop(self, segmentId):
        """(mask, box) of a segment cropped to its voxels, or None when it is empty (cached)."""
        if segmentId not in self._crops:
            layer, voxels, label, box, _ = self._entries[segmentId]
            result = None
            if voxels is not None:
                content = self._content(layer, voxels, box)
                if content is not None:
                    mask = voxels[_slices(content, box)] == label
                    tight = _boxOfMask(mask, content[0])
                    if tight is not None:
                        result = (mask[_slices(tight, content)].copy(), tight)
            self._crops[segmentId] = result
        return self._crops[segmentId]

    def mask(self, segmentIds, box):
        """Boolean mask over ``box`` of the union of segments."""
        out = np.zeros(_boxShape(box), dtype=bool)
        for segmentId in segmentIds:
            _, voxels, label, layerBox, _ = self._entries[segmentId]
            if voxels is None:
                continue
            common = _intersection(box, layerBox)
            if common is not None:
                out[_slices(common, box)] |= voxels[_slices(common, layerBox)] == label
        return out

    def unionCount(self, segmentIds):
        """Voxel count of the union of segments that share one layer (they cannot overlap there),
        counted as runs of consecutive label values, slab by slab; None when they lie in several
        layers (the caller then counts their union with segmentOverlap)."""
        layers = {self._entries[segmentId][0] for segmentId in segmentIds}
        if len(layers) != 1:
            return None
        voxels = self._entries[segmentIds[0]][1]
        if voxels is None:
            return 0
        labels = sorted({self._entries[segmentId][2] for segmentId in segmentIds})
        runs = []
        for label in labels:
            if runs and label == runs[-1][1] + 1:
                runs[-1][1] = label
            else:
                runs.append([label, label])
        count = 0
        slabSlices = max(1, (1 << 22) // max(1, voxels.shape[1] * voxels.shape[2]))
        for start in range(0, voxels.shape[0], slabSlices):
            slab = voxels[start : start + slabSlices]
            for low, high in runs:
                count += int(np.count_nonzero(slab == low) if low == high else np.count_nonzero((slab >= low) & (slab <= high)))
        return count

    def pointsMm(self, box, k, j, i):
        """World (RAS) coordinates in mm of voxel centres given by indices within ``box``."""
        ijk = np.vstack((i + box[0][0], j + box[0][1], k + box[0][2])).astype(float)
        return (self.ijkToRAS[:3, :3] @ ijk).T + self.ijkToRAS[:3, 3]

    def boxIjkToRAS(self, box):
        matrix = self.ijkToRAS.copy()
        matrix[:3, 3] = matrix[:3, :3] @ box[0].astype(float) + matrix[:3, 3]
        return matrix


# --- Geometry kernels ------------------------------------------------------------------------

# The 13 lattice directions of the 26-neighbourhood, one of each opposite pair.
_LATTICE_DIRECTIONS = tuple(
    (dk, dj, di)
    for dk in (-1, 0, 1)
    for dj in (-1, 0, 1)
    for di in (-1, 0, 1)
    if (dk, dj, di) > (0, 0, 0)
)


def _hullCandidates(mask):
    """Voxels that can be vertices of the convex hull of the voxel centres: not the midpoint of
    two other voxels of the mask along a lattice direction."""
    padded = np.pad(mask, 1)
    K, J, I = mask.shape
    candidates = mask.copy()
    for dk, dj, di in _LATTICE_DIRECTIONS:
        plus = padded[1 + dk : 1 + dk + K, 1 + dj : 1 + dj + J, 1 + di : 1 + di + I]
        minus = padded[1 - dk : 1 - dk + K, 1 - dj : 1 - dj + J, 1 - di : 1 - di + I]
        candidates &= ~(plus & minus)
    return candidates


def _largestDistance(points):
    """Largest distance (mm) between two of the points, pairwise in chunks of bounded memory."""
    if len(points) < 2:
        return 0.0
    best = 0.0
    chunk = max(1, (1 << 20) // len(points))
    for start in range(0, len(points), chunk):
        block = points[start : start + chunk]
        squared = ((block[:, None, :] - points[None, :, :]) ** 2).sum(axis=2)
        best = max(best, float(squared.max()))
    return math.sqrt(best)


def _distanceMap(mask, spacing):
    """Signed Euclidean distance (mm) to the nearest True voxel centre; <= 0 on True voxels."""
    image = sitk.GetImageFromArray(mask.astype(np.uint8))
    image.SetSpacing(tuple(float(value) for value in spacing))
    distance = sitk.SignedMaurerDistanceMap(image, insideIsPositive=False, squaredDistance=False, useImageSpacing=True)
    return sitk.GetArrayFromImage(distance)


def _boxMinimum(values):
    """Minimum over each voxel's 3x3x3 neighbourhood (separable; outside the array does not count)."""
    result = values
    for axis in range(3):
        shifted = np.array(result, copy=True)
        lower = [slice(None)] * 3
        upper = [slice(None)] * 3
        lower[axis], upper[axis] = slice(0, -1), slice(1, None)
        np.minimum(shifted[tuple(lower)], result[tuple(upper)], out=shifted[tuple(lower)])
        np.minimum(shifted[tuple(upper)], result[tuple(lower)], out=shifted[tuple(upper)])
        result = shifted
    return result


def _boxMaximum(mask):
    result = mask
    for axis in range(3):
        shifted = np.array(result, copy=True)
        lower = [slice(None)] * 3
        upper = [slice(None)] * 3
        lower[axis], upper[axis] = slice(0, -1), slice(1, None)
        shifted[tuple(lower)] |= result[tuple(upper)]
        shifted[tuple(upper)] |= result[tuple(lower)]
        result = shifted
    return result


def withinMarginOfPainted(mask, spacing, marginMm):
    """Voxels (over the same array as ``mask``) whose centre lies within ``marginMm`` of the
    painted voxels of ``mask`` (their boxes), the voxels of ``mask`` included.

    Exact: on a lattice of half the spacing, with nodes at the voxel centres (odd indices) and at
    the box faces, edges and corners (even indices), a painted box covers the 3x3x3 nodes around
    its centre, and the point of a box nearest to a node is a node. The array must leave room for
    the margin around the mask (the caller pads it)."""
    K, J, I = mask.shape
    fine = np.zeros((2 * K + 1, 2 * J + 1, 2 * I + 1), dtype=bool)
    fine[1::2, 1::2, 1::2] = mask
    painted = _boxMaximum(fine)
    distance = _distanceMap(painted, np.asarray(spacing, dtype=float) / 2.0)
    return distance[1::2, 1::2, 1::2] <= marginMm


# --- Tumour findings -------------------------------------------------------------------------


class _VesselSamples:
    """A vessel's cropped mask and the world coordinates of a subsample of its voxels (to bound
    the distance to a tumour cheaply: any vessel voxel gives an upper bound)."""

    _MAXIMUM_SAMPLES = 20000

    def __init__(self, grid, label, segmentId):
        crop = grid.crop(segmentId)
        if crop is None:
            raise ValueError(
                f"Vessel segment '{grid.name(segmentId)}' ({label}) of segmentation '{grid.segmentationName}' is empty: "
                "paint it, remove it, or leave it out of the vessels to measure"
            )
        self.label = label
        self.segmentId = segmentId
        self.mask, self.box = crop
        count = int(np.count_nonzero(self.mask))
        stride = max(1, math.ceil((count / self._MAXIMUM_SAMPLES) ** (1.0 / 3.0)))
        k, j, i = np.nonzero(self.mask[::stride, ::stride, ::stride])
        if k.size == 0:  # a thin vessel can fall between the samples
            stride = 1
            k, j, i = np.nonzero(self.mask)
        self.points = grid.pointsMm(self.box, k * stride, j * stride, i * stride)


def _nearest(points, target):
    squared = ((points - target) ** 2).sum(axis=1)
    index = int(np.argmin(squared))
    return index, math.sqrt(float(squared[index]))


def _vesselDistance(grid, tumourMask, tumourBox, tumourProbes, vessel, contactMm):
    """VesselDistance fields and the contact mask (over the tumour box) for one tumour-vessel pair."""
    # Upper bound of the centre distance from an actual pair of voxels: the vessel sample nearest
    # the tumour's middle, then the tumour's hull voxel nearest that sample, then the vessel
    # sample nearest that voxel.
    middle = tumourProbes.mean(axis=0)
    sample, _ = _nearest(vessel.points, middle)
    probe, _ = _nearest(tumourProbes, vessel.points[sample])
    _, bound = _nearest(vessel.points, tumourProbes[probe])
    # The pair that realises the box distance joins a voxel next to the tumour to a vessel voxel
    # at most `bound` away; contact voxels need vessel voxels within the contact distance.
    reach = np.ceil(max(bound, contactMm) / grid.spacing).astype(int) + 2
    search = _intersection(_expanded(tumourBox, reach), vessel.box)
    near = None if search is None else _boxOfMask(vessel.mask[_slices(search, vessel.box)], search[0])
    if near is None:
        raise RuntimeError(f"no voxel of vessel '{vessel.label}' within {bound:.1f} mm found; the bound is wrong")
    region = _union(_expanded(tumourBox, 2), near)
    vesselMask = _reboxed(vessel.mask, vessel.box, region)
    distance = _distanceMap(vesselMask, grid.spacing)
    around = _expanded(tumourBox, 1)
    neighbourhoodMinimum = _boxMinimum(np.asarray(distance[_slices(around, region)]))[1:-1, 1:-1, 1:-1]
    atTumourCentres = np.asarray(distance[_slices(tumourBox, region)])[tumourMask]
    boxDistances = neighbourhoodMinimum[tumourMask]
    contactMask = np.zeros(tumourMask.shape, dtype=bool)
    contactMask[tumourMask] = boxDistances <= contactMm
    overlap = int(np.count_nonzero(tumourMask & vesselMask[_slices(tumourBox, region)]))
    boxDistance = max(0.0, float(boxDistances.min()))
    return (
        boxDistance,
        max(0.0, float(atTumourCentres.min())),
        overlap,
        boxDistance <= contactMm,
        contactMask,
    )


def _couinaudOrder(unit):
    return COUINAUD_UNITS.index(unit)


def _analyseTumours(segmentationNode, vesselSegmentIds, contactDistanceMm, roleOverrides):
    contactMm = checkedContactDistance(contactDistanceMm)
    roles = SegmentRoles(segmentationNode, roleOverrides)
    tumours = _tumourSegments(segmentationNode, roles)
    units, liverSegments = _liverSegmentsForFindings(segmentationNode, roles)
    vessels = recognizeVessels(segmentationNode, vesselSegmentIds, roles)
    grid = _SegmentGrid(segmentationNode, tumours + [segmentId for _, segmentId in vessels] + liverSegments)
    vesselSamples = [_VesselSamples(grid, label, segmentId) for label, segmentId in vessels]
    findings, contactMasks = [], []
    for tumourId in tumours:
        name = roles.names[tumourId]
        crop = grid.crop(tumourId)
        if crop is None:
            raise ValueError(
                f"Tumour segment '{name}' of segmentation '{segmentationNode.GetName()}' is empty: paint it or remove it "
                "(an empty tumour would be reported as 0 mL)"
            )
        mask, box = crop
        warnings = []
        count = int(np.count_nonzero(mask))
        hull = np.nonzero(_hullCandidates(mask))
        probes = grid.pointsMm(box, *hull)
        diameter = _largestDistance(probes)
        if count == 1:
            warnings.append(f"Tumour '{name}' is a single voxel: its largest diameter (0 mm between voxel centres) is below the voxel size")

        # Couinaud segments by overlap; a tumour painted without overlap has carved itself out
        # of the segments, and then the segments around it say where it lies.
        shares = {}
        for unit, unitId in units.items():
            inside = int(np.count_nonzero(mask & grid.mask([unitId], box)))
            if inside:
                shares[unit] = inside * grid.voxelVolumeMl
        inLiver = int(np.count_nonzero(mask & grid.mask(liverSegments, box)))
        outsideMl = (count - inLiver) * grid.voxelVolumeMl
        ordered = tuple(sorted(shares, key=lambda unit: (-shares[unit], _couinaudOrder(unit))))
        if inLiver == 0:
            around = _expanded(box, 1)
            shell = _boxMaximum(_reboxed(mask, box, around)) & ~_reboxed(mask, box, around)
            touching = {unit: int(np.count_nonzero(shell & grid.mask([unitId], around))) for unit, unitId in units.items()}
            touching = {unit: voxels for unit, voxels in touching.items() if voxels}
            if not touching and not np.any(shell & grid.mask(liverSegments, around)):
                raise ValueError(
                    f"Tumour '{name}' lies outside the liver: none of its {count} voxels is in, or next to, a liver segment "
                    f"of '{segmentationNode.GetName()}'; expected tumours inside the liver"
                )
            ordered = tuple(sorted(touching, key=lambda unit: (-touching[unit], _couinaudOrder(unit))))
            warnings.append(
                f"Tumour '{name}' shares no voxel with the liver segments (painted without overlap): the segment(s) it lies in "
                f"are those around it ({', '.join(ordered) or 'whole liver only'})"
            )
        elif outsideMl > 0:
            warnings.append(f"{outsideMl:.2f} mL of tumour '{name}' lie outside the liver segments")
        if not units:
            warnings.append("No Couinaud segments: the segment(s) a tumour lies in cannot be named")

        distances = []
        contactMask = np.zeros(mask.shape, dtype=bool)
        for vessel in vesselSamples:
            boxDistance, centreDistance, overlap, contact, pairContact = _vesselDistance(grid, mask, box, probes, vessel, contactMm)
            contactMask |= pairContact
            distances.append(
                VesselDistance(
                    vessel=vessel.label,
                    segmentId=vessel.segmentId,
                    segmentName=grid.name(vessel.segmentId),
                    distanceMm=boxDistance,
                    centreDistanceMm=centreDistance,
                    overlapMl=overlap * grid.voxelVolumeMl,
                    contact=contact,
                    contactVoxels=int(np.count_nonzero(pairContact)),
                )
            )
        if not vesselSamples:
            warnings.append(
                "No major vessel is segmented or named (right, middle, left hepatic vein, V8, portal pedicles): "
                "no tumour-vessel distances"
            )
        findings.append(
            TumourFinding(
                segmentId=tumourId,
                name=name,
                voxelCount=count,
                volumeMl=count * grid.voxelVolumeMl,
                largestDiameterMm=diameter,
                couinaudSegments=ordered,
                couinaudSegmentsMl={unit: shares[unit] for unit in sorted(shares, key=_couinaudOrder)},
                outsideLiverMl=outsideMl,
                vesselDistances=distances,
                contactDistanceMm=contactMm,
                warnings=warnings,
            )
        )
        contactMasks.append((contactMask, box))
    return findings, contactMasks, grid


def tumourFindings(segmentationNode, vesselSegmentIds=None, contactDistanceMm=CONTACT_DISTANCE_MM, roleOverrides=None):
    """Per tumour segment (segment roles: tumour): volume, largest diameter, the Couinaud
    segment(s) it lies in, and the distance to every major vessel (see the module description
    for the definitions), with a contact flag at <= ``contactDistanceMm``.

    Vessels: those recognised by name or code, or exactly ``vesselSegmentIds`` ({vessel name:
    segment ID or name}). Returns a list of TumourFinding in segmentation order. ValueError for
    no tumour, an empty tumour or vessel, a tumour outside the liver, no liver segments, or a
    contact distance out of range.
    """
    findings, _, _ = _analyseTumours(segmentationNode, vesselSegmentIds, contactDistanceMm, roleOverrides)
    return findings


# --- Margin-based plan -----------------------------------------------------------------------


class _MarginGeometry:
    """The voxels of a margin-based resection: each tumour's margin volume within the liver, their
    union over one box, its connected components."""

    def __init__(self, segmentationNode, marginMm, roles):
        self.marginMm = checkedMargin(marginMm)
        self.tumours = _tumourSegments(segmentationNode, roles)
        self.liverSegments, self.liverDefinition = _liverForPlan(segmentationNode, roles)
        grid = _SegmentGrid(segmentationNode, self.tumours + self.liverSegments)
        self.grid = grid
        # A voxel centre within the margin of a box lies at most margin + half a voxel away from
        # the box's centre along each axis.
        pad = np.ceil(self.marginMm / grid.spacing + 0.5).astype(int) + 1
        self.perTumour = []
        for tumourId in self.tumours:
            name = roles.names[tumourId]
            crop = grid.crop(tumourId)
            if crop is None:
                raise ValueError(
                    f"Tumour segment '{name}' of segmentation '{segmentationNode.GetName()}' is empty: paint it or remove it "
                    "(an empty tumour has no margin)"
                )
            mask, box = crop
            region = _expanded(box, pad)
            tumour = _reboxed(mask, box, region)
            liver = grid.mask(self.liverSegments, region)
            margin = withinMarginOfPainted(tumour, grid.spacing, self.marginMm) & liver
            if not margin.any():
                raise ValueError(
                    f"Tumour '{name}' lies outside the liver ({self.liverDefinition}): no liver voxel is within its "
                    f"{marginText(self.marginMm)} margin; expected tumours inside the liver"
                )
            self.perTumour.append((tumourId, name, region, margin, tumour & liver))
        self.box = self.perTumour[0][2]
        for _, _, region, _, _ in self.perTumour[1:]:
            self.box = _union(self.box, region)
        self.resected = np.zeros(_boxShape(self.box), dtype=bool)
        self.tumourInLiver = np.zeros(_boxShape(self.box), dtype=bool)
        for _, _, region, margin, tumourInLiver in self.perTumour:
            self.resected[_slices(region, self.box)] |= margin
            self.tumourInLiver[_slices(region, self.box)] |= tumourInLiver
        # 26-connectivity: painted boxes that touch at a corner are one piece of tissue.
        components = sitk.ConnectedComponent(sitk.GetImageFromArray(self.resected.astype(np.uint8)), True)
        labels = sitk.GetArrayFromImage(components)
        counts = np.bincount(labels.reshape(-1))
        # Number the areas by the first tumour whose margin they hold, then by size.
        firstTumour = {}
        for index, (_, _, region, margin, _) in enumerate(self.perTumour):
            for label in np.unique(labels[_slices(region, self.box)][margin]):
                firstTumour.setdefault(int(label), index)
        order = sorted(firstTumour, key=lambda label: (firstTumour[label], -counts[label]))
        renumber = np.zeros(counts.size, dtype=np.int32)
        for number, label in enumerate(order, 1):
            renumber[label] = number
        self.areaLabels = renumber[labels]
        self.areaCounts = [int(counts[label]) for label in order]
        self.areaTumours = [[] for _ in order]
        for _, name, region, margin, _ in self.perTumour:
            for number in np.unique(self.areaLabels[_slices(region, self.box)][margin]):
                self.areaTumours[int(number) - 1].append(name)


def _areaName(number, marginMm):
    return f"Resection area {number} ({marginText(marginMm)} margin)"


def marginPlan(segmentationNode, marginMm=DEFAULT_MARGIN_MM, settings=None, roleOverrides=None):
    """The parenchyma-sparing plan with a margin of ``marginMm`` around each tumour (1 mm by
    default, 10 mm the classic alternative): margin volumes clipped to the liver, their union
    resected, its separate areas counted (26-connectivity), and the remnant measured with the
    same formulas and flags as the major plans. Returns a MarginPlanResult whose ``plan`` is a
    PlanResult keyed e.g. 'parenchyma_sparing_1mm'.

    ValueError for no tumour, an empty tumour, a tumour outside the liver, no liver, a margin
    <= 0 or > MAXIMUM_MARGIN_MM mm, or margins that take in the whole liver.
    """
    geometry = _MarginGeometry(segmentationNode, marginMm, SegmentRoles(segmentationNode, roleOverrides))
    return _marginPlanResult(segmentationNode, geometry, settings or futureLiverRemnant.VolumetrySettings())


def _marginPlanResult(segmentationNode, geometry, settings):
    grid = geometry.grid
    margin = geometry.marginMm
    liverVoxels = grid.unionCount(geometry.liverSegments)
    if liverVoxels is None:
        # Liver segments in several layers may overlap: count their union as the major plans do.
        overlap = SegmentOverlapHistogram(segmentationNode, {"liver": geometry.liverSegments})
        liverVoxels = overlap.count(anyOf=overlap.bits["liver"])
    # Every tumour voxel inside the liver lies in the box of the margin volumes.
    tumourInLiverVoxels = int(np.count_nonzero(geometry.tumourInLiver))
    resectedVoxels = int(np.count_nonzero(geometry.resected))
    if resectedVoxels >= liverVoxels:
        raise ValueError(
            f"The {marginText(margin)} margins of the tumours of '{segmentationNode.GetName()}' take in the whole liver "
            f"({geometry.liverDefinition}): no remnant is left; expected a smaller margin"
        )
    tumourResectedVoxels = int(np.count_nonzero(geometry.tumourInLiver & geometry.resected))
    volume = grid.voxelVolumeMl
    areas = [
        ResectionArea(number=number, name=_areaName(number, margin), voxelCount=count, volumeMl=count * volume, tumours=tuple(names))
        for number, (count, names) in enumerate(zip(geometry.areaCounts, geometry.areaTumours), 1)
    ]
    areaCount = len(areas)
    label = f"Parenchyma-sparing resection, {marginText(margin)} margin ({areaCount} resection area{'s' if areaCount != 1 else ''})"
    plan = futureLiverRemnant.remnantMetrics(
        planKey(margin),
        label,
        (),
        tuple(area.name for area in areas),
        (liverVoxels - resectedVoxels) * volume,
        (tumourInLiverVoxels - tumourResectedVoxels) * volume,
        (liverVoxels * volume, tumourInLiverVoxels * volume, True),
        futureLiverRemnant.standardLiverVolumeFor(settings),
        settings,
    )
    laparoscopic = LaparoscopicGuidance(
        areas=areaCount,
        maximumAreas=LAPAROSCOPIC_MAXIMUM_AREAS,
        state=clinicalCriteria.evaluate(clinicalCriteria.LAPAROSCOPIC_RESECTION_AREAS, areaCount).state,
        source=LAPAROSCOPIC_SOURCE,
    )
    warnings = []
    if areaCount > LAPAROSCOPIC_MAXIMUM_AREAS:
        plan.warnings.append(
            f"{areaCount} separate resection areas: more than the {LAPAROSCOPIC_MAXIMUM_AREAS} advised for laparoscopic "
            "parenchyma-sparing hepatectomy (clinical reference section 9)"
        )
    thinAxes = [axis for axis, spacing in zip("ijk", grid.spacing) if margin < spacing / 2.0]
    if thinAxes:
        warnings.append(
            f"The {marginText(margin)} margin is thinner than half the voxel spacing along {', '.join(thinAxes)} "
            f"({', '.join(f'{s:.2f}' for s in grid.spacing)} mm): it adds no voxel in that direction"
        )
    return MarginPlanResult(
        marginMm=margin,
        plan=plan,
        areas=areas,
        laparoscopic=laparoscopic,
        tumourMarginMl={name: int(np.count_nonzero(mask)) * volume for _, name, _, mask, _ in geometry.perTumour},
        liverDefinition=geometry.liverDefinition,
        totalLiverMl=liverVoxels * volume,
        warnings=warnings,
    )


def compareWithMajorPlans(segmentationNode, marginsMm=MARGIN_CHOICES_MM, plans=None, settings=None, roleOverrides=None):
    """The major plans (by default right hepatectomy and right trisectionectomy, the classic ALPPS
    stage 2; Couinaud segments I-VIII needed) and the parenchyma-sparing plans for each margin,
    measured with the same settings: read side by side in ``SparingComparison.plans``."""
    settings = settings or futureLiverRemnant.VolumetrySettings()
    plans = plans if plans is not None else [resectionPlans.presetPlan(key) for key in DEFAULT_MAJOR_PLANS]
    volumetry = futureLiverRemnant.measureVolumetry(segmentationNode, plans, settings, roleOverrides)
    margins = list(dict.fromkeys(checkedMargin(margin) for margin in marginsMm))
    if not margins:
        raise ValueError("No margin given: expected at least one margin in mm (e.g. 1 and 10)")
    return SparingComparison(
        volumetry=volumetry,
        marginPlans=[marginPlan(segmentationNode, margin, settings, roleOverrides) for margin in margins],
    )


# --- Segments for the 3D view ----------------------------------------------------------------


def contactSegmentName(contactDistanceMm):
    return f"Vessel contact (<= {contactDistanceMm:g} mm)"


def addMarginSegments(
    segmentationNode,
    marginMm=DEFAULT_MARGIN_MM,
    settings=None,
    roleOverrides=None,
    vesselSegmentIds=None,
    contactDistanceMm=CONTACT_DISTANCE_MM,
):
    """Add the resection areas of the margin plan as segments 'Resection area 1 (1 mm margin)',
    ... (red, translucent in 3D) and, when a tumour touches a major vessel, a segment
    'Vessel contact (<= 1 mm)' holding the tumour voxels within the contact distance (opaque
    red: the contact surface to look at in 3D).

    Segments added by an earlier call (tag ALPPS.ParenchymaSparing) are replaced; a segment of
    the same name that this function did not add is refused (ValueError), never duplicated.
    Returns ``{'areas': [segment IDs], 'contact': segment ID or None, 'plan': MarginPlanResult,
    'findings': [TumourFinding]}``.
    """
    roles = SegmentRoles(segmentationNode, roleOverrides)
    geometry = _MarginGeometry(segmentationNode, marginMm, roles)
    result = _marginPlanResult(segmentationNode, geometry, settings or futureLiverRemnant.VolumetrySettings())
    findings, contactMasks, findingsGrid = _analyseTumours(segmentationNode, vesselSegmentIds, contactDistanceMm, roleOverrides)
    contactMm = checkedContactDistance(contactDistanceMm)
    segmentation = segmentationNode.GetSegmentation()
    names = [area.name for area in result.areas] + [contactSegmentName(contactMm)]
    generated = [segmentId for segmentId in segmentation.GetSegmentIDs() if _isGenerated(segmentation.GetSegment(segmentId))]
    clashing = [
        f"'{segmentation.GetSegment(segmentId).GetName()}'"
        for segmentId in segmentation.GetSegmentIDs()
        if segmentId not in generated and segmentation.GetSegment(segmentId).GetName() in names
    ]
    if clashing:
        raise ValueError(
            f"Segmentation '{segmentationNode.GetName()}' already has segment(s) {', '.join(clashing)} that were not made by "
            "the parenchyma-sparing plan: rename or remove them first (they would be counted twice)"
        )
    for segmentId in generated:
        segmentation.RemoveSegment(segmentId)

    margin = geometry.marginMm
    method = (
        f"parenchyma-sparing margin {marginText(margin)}: voxels within {marginText(margin)} of the painted tumour "
        f"(distance map, physical spacing), clipped to the liver ({geometry.liverDefinition}); one area per connected "
        "component (26-connectivity)"
    )
    grid = geometry.grid
    areaNames = {area.number: area.name for area in result.areas}
    imported = importLabelArray(
        segmentationNode,
        geometry.areaLabels.astype(np.int16),
        grid.boxIjkToRAS(geometry.box),
        areaNames,
        {number: AREA_COLOR for number in areaNames},
    )
    displayNode = segmentationNode.GetDisplayNode()
    areaIds = []
    for area in result.areas:
        segmentId = imported[area.number]
        segment = segmentation.GetSegment(segmentId)
        segment.SetTag(GENERATED_TAG, "resection area")
        segment.SetTag(METHOD_TAG, method + f"; tumours: {', '.join(area.tumours)}")
        segment.SetTag(PLAN_TAG, result.plan.key)
        segment.SetColor(*AREA_COLOR)
        if displayNode is not None:
            displayNode.SetSegmentOpacity3D(segmentId, RESECTED_OPACITY)
        areaIds.append(segmentId)

    contactId = None
    if any(mask.any() for mask, _ in contactMasks):
        box = contactMasks[0][1]
        for _, tumourBox in contactMasks[1:]:
            box = _union(box, tumourBox)
        contact = np.zeros(_boxShape(box), dtype=np.int16)
        for mask, tumourBox in contactMasks:
            contact[_slices(tumourBox, box)][mask] = 1
        vessels = sorted({distance.vessel for finding in findings for distance in finding.contacts})
        contactName = contactSegmentName(contactMm)
        contactId = importLabelArray(segmentationNode, contact, findingsGrid.boxIjkToRAS(box), {1: contactName}, {1: CONTACT_COLOR})[1]
        segment = segmentation.GetSegment(contactId)
        segment.SetTag(GENERATED_TAG, "vessel contact")
        segment.SetTag(
            METHOD_TAG,
            f"tumour voxels whose box lies within {contactMm:g} mm of the painted {', '.join(vessels)} ({SECTION_9_SOURCE})",
        )
        segment.SetColor(*CONTACT_COLOR)
        if displayNode is not None:
            displayNode.SetSegmentOpacity3D(contactId, 1.0)
    return {"areas": areaIds, "contact": contactId, "plan": result, "findings": findings}


# --- Tables and JSON -------------------------------------------------------------------------

DEFINITIONS = {
    "volumeMl": ("Tumour volume", "mL", VOLUME_METHOD),
    "largestDiameterMm": (
        "Largest diameter",
        "mm",
        (
            "largest 3D distance between two tumour voxel centres (exact, over the convex hull's candidate vertices); "
            "short of the true diameter by under one voxel diagonal at each end"
        ),
    ),
    "couinaudSegments": ("Segment(s)", "", "Couinaud segments the tumour overlaps, largest share first"),
    "distanceMm": (
        "Distance to vessel",
        "mm",
        (
            "shortest distance between the painted tumour and vessel voxels (boxes), 0 when touching or overlapping; "
            "vessel distance map (physical spacing) on the tumour dilated by one voxel; within one voxel diagonal of the true gap"
        ),
    ),
    "centreDistanceMm": ("Centre distance to vessel", "mm", "shortest distance between tumour and vessel voxel centres"),
    "contact": ("Vessel contact", "", f"distance <= the contact distance (1 mm by default; {SECTION_9_SOURCE})"),
    "marginVolume": (
        "Margin volume",
        "mL",
        (
            "voxels whose centre lies within the margin of the painted tumour (distance map on a half-spacing lattice), "
            "clipped to the liver"
        ),
    ),
    "resectionAreas": ("Resection areas", "", "connected components (26-connectivity) of the union of the margin volumes"),
    "laparoscopic": ("Laparoscopic guidance", "", LAPAROSCOPIC_SOURCE),
}


def _distanceText(distance):
    return f"{distance.vessel} {distance.distanceMm:.1f} mm" + (" (contact)" if distance.contact else "")


def findingsTableRows(findings):
    """(columns, rows) for resultsTable.writeTableRows: one row per tumour, one distance column per
    vessel (in the order of the first finding)."""
    vessels = []
    for finding in findings:
        for distance in finding.vesselDistances:
            if distance.vessel not in vessels:
                vessels.append(distance.vessel)
    columns = [
        ("Tumour", vtk.vtkStringArray, "", "Tumour segment"),
        ("Volume", vtk.vtkDoubleArray, "mL", DEFINITIONS["volumeMl"][2]),
        ("Largest diameter", vtk.vtkDoubleArray, "mm", DEFINITIONS["largestDiameterMm"][2]),
        ("Segments", vtk.vtkStringArray, "", DEFINITIONS["couinaudSegments"][2]),
        ("Outside liver", vtk.vtkDoubleArray, "mL", "Tumour voxels in no liver segment"),
    ]
    columns += [(f"Distance to {vessel}", vtk.vtkDoubleArray, "mm", DEFINITIONS["distanceMm"][2]) for vessel in vessels]
    columns += [
        ("Vessel contact", vtk.vtkStringArray, "", DEFINITIONS["contact"][2]),
        ("Warnings", vtk.vtkStringArray, "", "What to check about this tumour's numbers"),
    ]
    rows = []
    for finding in findings:
        byVessel = {distance.vessel: distance.distanceMm for distance in finding.vesselDistances}
        rows.append(
            (finding.name, finding.volumeMl, finding.largestDiameterMm, ", ".join(finding.couinaudSegments), finding.outsideLiverMl)
            + tuple(numberOrNaN(byVessel.get(vessel)) for vessel in vessels)
            + ("; ".join(_distanceText(distance) for distance in finding.contacts) or "none", "; ".join(finding.warnings))
        )
    return columns, rows


def writeFindingsTable(tableNode, findings):
    columns, rows = findingsTableRows(findings)
    contact = findings[0].contactDistanceMm if findings else CONTACT_DISTANCE_MM
    return writeTableRows(
        tableNode,
        columns,
        rows,
        {"ALPPS.ContactDistanceMm": repr(contact), "ALPPS.ContactSource": SECTION_9_SOURCE, "ALPPS.VolumeMethod": VOLUME_METHOD},
    )


COMPARISON_EXTRA_COLUMNS = (
    ("Resection areas", vtk.vtkDoubleArray, "", DEFINITIONS["resectionAreas"][2] + "; empty for anatomical plans"),
    ("Laparoscopic (<= 3 areas)", vtk.vtkStringArray, "", LAPAROSCOPIC_SOURCE),
)


def comparisonTableRows(comparison):
    """(columns, rows): the plan table's columns (resultsTable.PLAN_COLUMNS) plus the number of
    resection areas and the laparoscopic guidance, one row per plan, major plans first."""
    from .resultsTable import PLAN_COLUMNS, planRow

    areas = {result.plan.key: result for result in comparison.marginPlans}
    rows = []
    for plan in comparison.plans:
        sparing = areas.get(plan.key)
        remnant = ", ".join(plan.remnantSegments) if plan.remnantSegments else f"liver outside the {len(plan.resectedSegments)} resection area(s)"
        rows.append(planRow(plan, remnant) + (numberOrNaN(sparing.areaCount if sparing else None), sparing.laparoscopic.state if sparing else ""))
    return list(PLAN_COLUMNS) + list(COMPARISON_EXTRA_COLUMNS), rows


def writeComparisonTable(tableNode, comparison):
    columns, rows = comparisonTableRows(comparison)
    settings = comparison.volumetry.settings
    from .resultsTable import thresholdAttributes

    attributes = dict(thresholdAttributes(settings), **{"ALPPS.MarginMethod": DEFINITIONS["marginVolume"][2]})
    return writeTableRows(tableNode, columns, rows, attributes)


def findingToDict(finding):
    return {
        "segmentId": finding.segmentId,
        "name": finding.name,
        "voxelCount": finding.voxelCount,
        "volumeMl": finding.volumeMl,
        "largestDiameterMm": finding.largestDiameterMm,
        "couinaudSegments": list(finding.couinaudSegments),
        "couinaudSegmentsMl": dict(finding.couinaudSegmentsMl),
        "outsideLiverMl": finding.outsideLiverMl,
        "contactDistanceMm": finding.contactDistanceMm,
        "vessels": [
            {
                "vessel": distance.vessel,
                "segmentId": distance.segmentId,
                "segmentName": distance.segmentName,
                "distanceMm": distance.distanceMm,
                "centreDistanceMm": distance.centreDistanceMm,
                "overlapMl": distance.overlapMl,
                "contact": distance.contact,
                "contactVoxels": distance.contactVoxels,
            }
            for distance in finding.vesselDistances
        ],
        "warnings": list(finding.warnings),
    }


def _definitionsDict():
    return {key: {"label": label, "unit": unit, "definition": text} for key, (label, unit, text) in DEFINITIONS.items()}


def findingsToDict(findings):
    return {"tumours": [findingToDict(finding) for finding in findings], "definitions": _definitionsDict()}


def marginPlanToDict(result):
    """A margin-based plan's JSON form: its remnant's numbers are the plan fields of every plan
    (resultFields.PLAN_FIELDS)."""
    from .resultFields import PLAN_FIELDS, jsonNumbers

    plan = result.plan
    return {
        "key": plan.key,
        "label": plan.label,
        "marginMm": result.marginMm,
        "liverDefinition": result.liverDefinition,
        "totalLiverMl": result.totalLiverMl,
        **jsonNumbers(plan, PLAN_FIELDS),
        "flags": [flag.asDict() for flag in plan.flags],
        "resectionAreas": [
            {"number": area.number, "name": area.name, "voxelCount": area.voxelCount, "volumeMl": area.volumeMl, "tumours": list(area.tumours)}
            for area in result.areas
        ],
        "laparoscopic": {
            "areas": result.laparoscopic.areas,
            "maximumAreas": result.laparoscopic.maximumAreas,
            "state": result.laparoscopic.state,
            "source": result.laparoscopic.source,
        },
        "tumourMarginMl": dict(result.tumourMarginMl),
        "warnings": list(plan.warnings) + list(result.warnings),
    }


def comparisonToDict(comparison):
    document = futureLiverRemnant.volumetryToDict(comparison.volumetry)
    document["parenchymaSparing"] = [marginPlanToDict(result) for result in comparison.marginPlans]
    document["definitions"].update(_definitionsDict())
    return document


# --- Benchmark -------------------------------------------------------------------------------

# The synthetic patient's named veins as capsules (name, start, end, radius; RAS mm); the portal
# trunk is left out: it is not a pedicle a tumour is detached from.
BENCHMARK_VESSELS = syntheticPatient.HEPATIC_VEINS + syntheticPatient.PORTAL_VEINS[1:]


def _drawCapsule(labels, ijkToRAS, start, end, radius, value, only=None):
    """Set ``value`` on the voxels whose centre lies within ``radius`` of the segment start-end,
    computed within the capsule's bounding box only (``only``: a mask the capsule is kept within)."""
    start, end = np.asarray(start, dtype=float), np.asarray(end, dtype=float)
    corners = np.array([[a, b, c] for a in (0, 1) for b in (0, 1) for c in (0, 1)], dtype=float)
    low, high = np.minimum(start, end) - radius, np.maximum(start, end) + radius
    ras = low + corners * (high - low)
    toIjk = np.linalg.inv(ijkToRAS)
    ijk = (toIjk[:3, :3] @ ras.T).T + toIjk[:3, 3]
    shape = labels.shape
    lo = np.maximum(np.floor(ijk.min(axis=0)).astype(int), 0)
    hi = np.minimum(np.ceil(ijk.max(axis=0)).astype(int) + 1, (shape[2], shape[1], shape[0]))
    if np.any(hi <= lo):
        return
    k, j, i = np.meshgrid(*(np.arange(lo[a], hi[a], dtype=np.float32) for a in (2, 1, 0)), indexing="ij")
    m = ijkToRAS.astype(np.float32)
    points = [m[a, 0] * i + m[a, 1] * j + m[a, 2] * k + m[a, 3] for a in range(3)]
    axis = (end - start).astype(np.float32)
    length2 = float(axis @ axis)
    # A capsule of zero length is a sphere.
    t = np.clip(sum((points[a] - start[a]) * axis[a] for a in range(3)) / length2, 0.0, 1.0) if length2 > 0 else 0.0
    inside = sum((points[a] - start[a] - t * axis[a]) ** 2 for a in range(3)) <= radius * radius
    window = (slice(lo[2], hi[2]), slice(lo[1], hi[1]), slice(lo[0], hi[0]))
    if only is not None:
        inside &= only[window]
    labels[window][inside] = value


def benchmarkSegmentation(scene, shape=(300, 512, 512)):
    """A segmentation of ``shape`` ([k, j, i]) voxels covering the synthetic patient's field of
    view: Couinaud segments I-VIII drawn four times coarser and repeated (cheap), its three
    tumours and five named vessels (RHV, MHV, LHV, right and left portal pedicles) drawn at full
    resolution. Returns (segmentationNode, build seconds)."""
    # Imported here: the synthetic patient is only needed to build the benchmark.
    from . import syntheticPatient

    started = time.perf_counter()
    factor = 4
    extentMm = np.array([320.0, 260.0, 220.0])  # x, y, z of the synthetic field of view
    spacing = extentMm / np.array(shape[::-1], dtype=float)
    coarse = syntheticPatient.makeTimePoint("pre-stage 1", -3, 1.0, spacing=tuple(spacing * factor))
    ijkToRAS = coarse.ijkToRAS.copy()
    ijkToRAS[:3, :3] /= factor
    # Fine voxel 0 sits (factor - 1) / 2 fine steps before the centre of coarse voxel 0.
    ijkToRAS[:3, 3] = coarse.ijkToRAS[:3, 3] - ijkToRAS[:3, :3] @ np.full(3, (factor - 1) / 2.0)
    labels = np.zeros(shape, dtype=np.uint8)
    block = coarse.couinaudLabels.repeat(factor, 0).repeat(factor, 1).repeat(factor, 2)
    common = tuple(slice(0, min(a, b)) for a, b in zip(shape, block.shape))
    labels[common] = block[common]
    del block
    liver = labels > 0
    structures = np.zeros(shape, dtype=np.uint8)
    names = {}
    for value, (name, start, end, radius) in enumerate(BENCHMARK_VESSELS, 1):
        _drawCapsule(structures, ijkToRAS, start, end, radius, value, only=liver)
        names[value] = name
    for value, (name, centre, radius) in enumerate(syntheticPatient.TUMOURS, len(BENCHMARK_VESSELS) + 1):
        _drawCapsule(structures, ijkToRAS, centre, centre, radius, value, only=liver)
        names[value] = name
    present = set(np.unique(structures).tolist())
    names = {value: name for value, name in names.items() if value in present}
    segmentationNode = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Parenchyma-sparing benchmark")
    couinaudNames = {value: f"Segment {segmentId}" for value, segmentId in enumerate(couinaud.SEGMENT_IDS, 1)}
    # Labels on the corners keep the layers at the full grid, as after painting in the Segment
    # Editor: the worst case for finding segments.
    for k in (0, -1):
        for j in (0, -1):
            for i in (0, -1):
                labels[k, j, i] = 9
                structures[k, j, i] = 20
    couinaudNames[9] = "Field of view corners"
    names[20] = "Other corners"
    importLabelArray(segmentationNode, labels, ijkToRAS, couinaudNames)
    del labels, liver
    importLabelArray(segmentationNode, structures, ijkToRAS, names)
    return segmentationNode, time.perf_counter() - started


def benchmarkSparing(scene, shape=(300, 512, 512), marginsMm=MARGIN_CHOICES_MM, repeats=1, printer=print):
    """Time the tumour findings (distances to five named vessels) and the margin plans on a
    segmentation of ``shape`` built by benchmarkSegmentation in ``scene``; prints and returns the
    figures (seconds, best of ``repeats``)."""
    segmentationNode, buildSeconds = benchmarkSegmentation(scene, shape)
    segmentation = segmentationNode.GetSegmentation()
    printer(
        f"input: {shape[2]}x{shape[1]}x{shape[0]} voxels, {segmentation.GetNumberOfSegments()} segments "
        f"(built in {buildSeconds:.1f} s)"
    )
    figures = {"voxels": int(np.prod(shape)), "shape": list(shape), "buildSeconds": buildSeconds, "threads": sitk.ProcessObject.GetGlobalDefaultNumberOfThreads()}

    def best(function):
        timings, value = [], None
        for _ in range(max(1, repeats)):
            started = time.perf_counter()
            value = function()
            timings.append(time.perf_counter() - started)
        return min(timings), value

    seconds, findings = best(lambda: tumourFindings(segmentationNode))
    figures["findingsSeconds"] = seconds
    figures["tumours"] = len(findings)
    figures["vessels"] = len(findings[0].vesselDistances) if findings else 0
    printer(f"tumour findings ({figures['tumours']} tumours x {figures['vessels']} vessels): {seconds:.3f} s")
    for finding in findings:
        nearest = finding.nearestVessel
        printer(
            f"  {finding.name}: {finding.volumeMl:.1f} mL, diameter {finding.largestDiameterMm:.1f} mm, "
            f"segments {', '.join(finding.couinaudSegments)}, nearest {nearest.vessel if nearest else '-'} "
            f"{nearest.distanceMm if nearest else float('nan'):.1f} mm"
        )
    for margin in marginsMm:
        seconds, result = best(lambda margin=margin: marginPlan(segmentationNode, margin))
        key = f"marginPlan{margin:g}mmSeconds".replace(".", "p")
        figures[key] = seconds
        figures[f"areas{margin:g}mm".replace(".", "p")] = result.areaCount
        printer(
            f"margin plan {marginText(margin)}: {seconds:.3f} s; resected {result.plan.resectedMl:.1f} mL in {result.areaCount} "
            f"area(s), remnant {result.plan.remnantMl:.1f} mL ({result.plan.percentFLR:.1f} %)"
        )
    figures["findingsAndDefaultMarginSeconds"] = figures["findingsSeconds"] + figures.get(
        f"marginPlan{DEFAULT_MARGIN_MM:g}mmSeconds".replace(".", "p"), 0.0
    )
    printer(f"distances + {marginText(DEFAULT_MARGIN_MM)} margin plan: {figures['findingsAndDefaultMarginSeconds']:.3f} s")
    seconds, naive = _naiveVesselDistances(segmentationNode, findings)
    figures["naiveDistancesSeconds"] = seconds
    figures["speedupOverNaiveDistances"] = seconds / figures["findingsSeconds"]
    printer(
        f"reference: a whole-grid distance map per vessel, read at the tumour voxels: {seconds:.3f} s "
        f"({figures['speedupOverNaiveDistances']:.1f}x slower); nearest distances agree within {naive:.3f} mm"
    )
    return figures


def _naiveVesselDistances(segmentationNode, findings):
    """The straightforward way, for the benchmark's comparison: one distance map of each vessel over
    the whole grid (no cropping), minimum over each tumour's voxel centres. Returns (seconds, the
    largest difference in mm from the centre distances of ``findings``)."""
    from .segmentOverlap import SegmentOverlapHistogram

    vessels = {(d.vessel, d.segmentId) for finding in findings for d in finding.vesselDistances}
    tumours = [finding.segmentId for finding in findings]
    groups = {f"t{index}": [segmentId] for index, segmentId in enumerate(tumours)}
    groups.update({f"v{index}": [segmentId] for index, (_, segmentId) in enumerate(sorted(vessels))})
    started = time.perf_counter()
    overlap = SegmentOverlapHistogram(segmentationNode, groups)
    bits = overlap.bits
    masks, ijkToRAS = overlap.masks([lambda p, bit=bit: (p & bit) != 0 for bit in bits.values()])
    byName = dict(zip(bits, masks))
    spacing = [float(np.linalg.norm(ijkToRAS[:3, axis])) for axis in range(3)]
    largestDifference = 0.0
    for index, (vesselName, _) in enumerate(sorted(vessels)):
        image = sitk.GetImageFromArray(byName[f"v{index}"].astype(np.uint8))
        image.SetSpacing(spacing)
        distanceImage = sitk.SignedMaurerDistanceMap(image, insideIsPositive=False, squaredDistance=False, useImageSpacing=True)
        distance = sitk.GetArrayViewFromImage(distanceImage)  # a view: distanceImage must stay alive while it is read
        for tumourIndex, finding in enumerate(findings):
            nearest = float(max(0.0, distance[byName[f"t{tumourIndex}"]].min()))
            reported = next(d.centreDistanceMm for d in finding.vesselDistances if d.vessel == vesselName)
            largestDifference = max(largestDifference, abs(nearest - reported))
    return time.perf_counter() - started, largestDifference
