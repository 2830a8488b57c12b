"""Per tumour segment: volume, largest diameter, the Couinaud segment(s) it lies in and the
shortest distance to each major vessel, with the contact flag and the tumour voxels in contact.

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
"""

import math
from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np

from ..segments.segmentRecognition import COUINAUD_UNITS, SegmentRoles
from .majorVessels import recognizeVessels
from .segmentBoxes import (
    BoxLabelmap,
    SegmentGrid,
    boxIntersection,
    boxMaximum,
    boxMinimum,
    boxOfMask,
    boxShape,
    boxSlices,
    boxUnion,
    distanceMap,
    expandedBox,
    reboxed,
)
from .sparingInputs import CONTACT_DISTANCE_MM, checkedContactDistance, liverSegmentsForFindings, tumourSegments


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
class TumourAnalysis:
    """The findings of every tumour, and the tumour voxels within the contact distance of a vessel
    (label 1 over the tumours' box; None when no tumour touches a vessel) to show in 3D."""

    findings: List[TumourFinding]
    contactDistanceMm: float
    contactLabels: Optional[BoxLabelmap]


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
    search = boxIntersection(expandedBox(tumourBox, reach), vessel.box)
    near = None if search is None else boxOfMask(vessel.mask[boxSlices(search, vessel.box)], search[0])
    if near is None:
        raise RuntimeError(f"no voxel of vessel '{vessel.label}' within {bound:.1f} mm found; the bound is wrong")
    region = boxUnion(expandedBox(tumourBox, 2), near)
    vesselMask = reboxed(vessel.mask, vessel.box, region)
    distance = distanceMap(vesselMask, grid.spacing)
    around = expandedBox(tumourBox, 1)
    neighbourhoodMinimum = boxMinimum(np.asarray(distance[boxSlices(around, region)]))[1:-1, 1:-1, 1:-1]
    atTumourCentres = np.asarray(distance[boxSlices(tumourBox, region)])[tumourMask]
    boxDistances = neighbourhoodMinimum[tumourMask]
    contactMask = np.zeros(tumourMask.shape, dtype=bool)
    contactMask[tumourMask] = boxDistances <= contactMm
    overlap = int(np.count_nonzero(tumourMask & vesselMask[boxSlices(tumourBox, region)]))
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


def analyseTumours(segmentationNode, vesselSegmentIds=None, contactDistanceMm=CONTACT_DISTANCE_MM):
    """The TumourAnalysis of every tumour segment: its findings (see tumourFindings) and the
    tumour voxels in contact with a vessel, measured once for the tables and the 3D view."""
    contactMm = checkedContactDistance(contactDistanceMm)
    roles = SegmentRoles(segmentationNode)
    tumours = tumourSegments(segmentationNode, roles)
    units, liverSegments = liverSegmentsForFindings(segmentationNode, roles)
    vessels = recognizeVessels(segmentationNode, vesselSegmentIds, roles)
    grid = SegmentGrid(segmentationNode, tumours + [segmentId for _, segmentId in vessels] + liverSegments)
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
            around = expandedBox(box, 1)
            shell = boxMaximum(reboxed(mask, box, around)) & ~reboxed(mask, box, around)
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
    contactLabels = None
    if any(mask.any() for mask, _ in contactMasks):
        box = contactMasks[0][1]
        for _, tumourBox in contactMasks[1:]:
            box = boxUnion(box, tumourBox)
        contact = np.zeros(boxShape(box), dtype=np.int16)
        for mask, tumourBox in contactMasks:
            contact[boxSlices(tumourBox, box)][mask] = 1
        contactLabels = BoxLabelmap(contact, grid.boxIjkToRAS(box))
    return TumourAnalysis(findings, contactMm, contactLabels)


def tumourFindings(segmentationNode, vesselSegmentIds=None, contactDistanceMm=CONTACT_DISTANCE_MM):
    """Per tumour segment (segment roles: tumour): volume, largest diameter, the Couinaud
    segment(s) it lies in, and the distance to every major vessel (see this file's description
    for the definitions), with a contact flag at <= ``contactDistanceMm``.

    Vessels: those recognised by name or code, or exactly ``vesselSegmentIds`` ({vessel name:
    segment ID or name}). Returns a list of TumourFinding in segmentation order. ValueError for
    no tumour, an empty tumour or vessel, a tumour outside the liver, no liver segments, or a
    contact distance out of range.
    """
    return analyseTumours(segmentationNode, vesselSegmentIds, contactDistanceMm).findings
