"""How the liver's voxels are shared among Couinaud segments, tumours and the whole-liver segment.

One bit per Couinaud unit present (I, II, III, IV or IVa/IVb, V-VIII), one for "inside any
tumour", one for "inside the whole-liver segment", counted in one pass (segmentOverlap): every
remnant, resection, tumour share or overlap is then a sum over that histogram.
"""

import numpy as np

from ..planning import remnantRatios
from . import segmentVolumes
from .segmentOverlap import SegmentOverlapHistogram
from .segmentRecognition import COUINAUD_UNITS, ROLE_LIVER, ROLE_TUMOUR, SegmentRoles

# Couinaud segment -> units that make it up.
UNITS_OF_SEGMENT = {"IV": ("IV", "IVa", "IVb")}


class LiverComposition:
    """Voxel histogram of unit/tumour/liver bit patterns for one segmentation."""

    def __init__(self, segmentationNode, roles=None, countBoundaries=False):
        self.segmentationNode = segmentationNode
        self.roles = roles or SegmentRoles(segmentationNode)
        units = self.roles.couinaudUnits()
        missing = self.roles.missingCouinaudSegments()
        if missing:
            raise ValueError(
                f"Segmentation '{segmentationNode.GetName()}' lacks Couinaud segment(s) {', '.join(missing)}: "
                "expected segments named e.g. 'Segment II', 'S2', 'II', 'liver_segment_2' or coded with SNOMED CT "
                "(or correct the segment roles)"
            )
        self.unitSegmentIds = units
        self.tumourSegmentIds = self.roles.segmentsWithRole(ROLE_TUMOUR)
        liverSegments = self.roles.segmentsWithRole(ROLE_LIVER)
        if len(liverSegments) > 1:
            names = ", ".join(f"'{self.roles.names[s]}'" for s in liverSegments)
            raise ValueError(f"Segmentation '{segmentationNode.GetName()}' has several whole-liver segments ({names}): keep one")
        self.liverSegmentId = liverSegments[0] if liverSegments else None
        groups = {unit: [segmentId] for unit, segmentId in units.items()}
        groups = {unit: groups[unit] for unit in COUINAUD_UNITS if unit in groups}
        groups["tumour"] = self.tumourSegmentIds
        groups["liver"] = liverSegments
        # Tumours are counted one by one (for their own volumes and their overlaps); every
        # other segment's count comes out of the pattern histogram.
        self.tumourVolumes = {
            volume.segmentId: volume for volume in segmentVolumes.segmentVolumes(segmentationNode, self.tumourSegmentIds)
        }
        self._overlap = SegmentOverlapHistogram(segmentationNode, groups, countBoundaries)
        self.unitBits = {unit: self._overlap.bits[unit] for unit in units}
        self.tumourBit = self._overlap.bits["tumour"]
        self.liverBit = self._overlap.bits["liver"]
        self.allUnitBits = sum(self.unitBits.values())
        self.histogram = self._overlap.histogram
        self.voxelVolumeMl = self._overlap.voxelVolumeMl
        empty = [self.roles.names[segmentId] for segmentId in self.tumourSegmentIds if self.tumourVolumes[segmentId].isEmpty]
        empty += [self.roles.names[units[unit]] for unit, bit in self.unitBits.items() if self.volumeMl(bit) == 0]
        if self.liverSegmentId and self.volumeMl(self.liverBit) == 0:
            empty.append(self.roles.names[self.liverSegmentId])
        if empty:
            raise ValueError(
                f"Segmentation '{segmentationNode.GetName()}' has empty segment(s) {', '.join(empty)}: "
                "paint them or remove them; an empty segment would be counted as 0 mL"
            )

    def masks(self, predicates):
        """Boolean masks of predicates on the bit patterns, and the grid's IJK-to-RAS matrix."""
        return self._overlap.masks(predicates)

    def resolutionHalfWidthMl(self, bits, tumourFree=False):
        """Half-width (mL) of the resolution interval of the union of ``bits`` (optionally its
        tumour-free part): half a voxel across every boundary face of that voxel set."""
        tumourBit = self.tumourBit if tumourFree else 0

        def inside(patterns):
            return ((patterns & bits) != 0) & ((patterns & tumourBit) == 0)

        return remnantRatios.resolutionHalfWidthMl(self._overlap.boundaryFaces(inside), self._overlap.spacingMm())

    # --- queries on the histogram -------------------------------------------------------------

    def unitsOf(self, segmentIds):
        """Bits of Couinaud segments given as 'I'..'VIII' (IV covers IVa+IVb) or units 'IVa'/'IVb'."""
        bits = 0
        for name in segmentIds:
            units = UNITS_OF_SEGMENT.get(name, (name,))
            found = [self.unitBits[unit] for unit in units if unit in self.unitBits]
            if not found:
                raise ValueError(
                    f"Segment {name} is not in segmentation '{self.segmentationNode.GetName()}' "
                    f"(it has {', '.join(self.unitBits)})"
                )
            bits |= sum(found)
        return bits

    def volumeMl(self, bits, tumourFree=False, tumourOnly=False):
        """Volume of the union of the voxels carrying any of ``bits``; optionally only the tumour
        part or only the tumour-free part of it."""
        if tumourFree:
            return self._overlap.volumeMl(anyOf=bits, noneOf=self.tumourBit)
        if tumourOnly:
            return self._overlap.volumeMl(anyOf=bits, allOf=self.tumourBit)
        return self._overlap.volumeMl(anyOf=bits)

    def totalLiverMl(self):
        """Total liver volume: the union of the Couinaud segments."""
        return self.volumeMl(self.allUnitBits)

    def tumourInLiverMl(self):
        return self.volumeMl(self.allUnitBits, tumourOnly=True)

    def tumourUnionMl(self):
        return self._overlap.volumeMl(anyOf=self.tumourBit)

    def tumourOutsideLiverMl(self):
        return self._overlap.volumeMl(anyOf=self.tumourBit, noneOf=self.allUnitBits)

    def couinaudOverlapMl(self):
        """Volume of voxels claimed by more than one Couinaud unit (should be zero)."""
        patterns = np.arange(self.histogram.size)
        popcount = np.array([bin(p & self.allUnitBits).count("1") for p in patterns])
        return int(self.histogram[popcount > 1].sum()) * self.voxelVolumeMl

    def liverSegmentMl(self):
        return self.volumeMl(self.liverBit) if self.liverSegmentId else None

    def liverOutsideCouinaudMl(self):
        """Whole-liver voxels that no Couinaud segment covers (None without a whole-liver segment)."""
        if not self.liverSegmentId:
            return None
        return self._overlap.volumeMl(anyOf=self.liverBit, noneOf=self.allUnitBits)

    def tumourOverlapMl(self):
        """How much the tumour segments overlap each other: sum of their volumes minus their union."""
        total = sum(volume.volumeMl for volume in self.tumourVolumes.values())
        return max(0.0, total - self.tumourUnionMl())
