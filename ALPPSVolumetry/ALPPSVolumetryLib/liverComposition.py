"""How the liver's voxels are shared among Couinaud segments, tumours and the whole-liver segment.

Every voxel gets a bit pattern: one bit per Couinaud unit present (I, II, III, IV or IVa/IVb,
V-VIII), one for "inside any tumour", one for "inside the whole-liver segment". One pass over
the segmentation's labelmap layers, slab by slab, counts how many voxels carry each pattern.
Any remnant, resection, tumour share or overlap is then a sum over that histogram: exact
(unions count a voxel once, intersections are real intersections), and every plan costs
nothing more once the histogram exists. Memory stays at one slab of patterns whatever the scan.
"""

import numpy as np
import vtk

from . import segmentVolumes
from .segmentRecognition import COUINAUD_UNITS, ROLE_LIVER, ROLE_TUMOUR, SegmentRoles

_SLAB_VOXELS = 1 << 21

# Couinaud segment -> units that make it up.
UNITS_OF_SEGMENT = {"IV": ("IV", "IVa", "IVb")}


class LiverComposition:
    """Voxel histogram of unit/tumour/liver bit patterns for one segmentation."""

    def __init__(self, segmentationNode, roles=None):
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
        self.unitBits = {unit: 1 << index for index, unit in enumerate(u for u in COUINAUD_UNITS if u in units)}
        self.tumourSegmentIds = self.roles.segmentsWithRole(ROLE_TUMOUR)
        liverSegments = self.roles.segmentsWithRole(ROLE_LIVER)
        if len(liverSegments) > 1:
            names = ", ".join(f"'{self.roles.names[s]}'" for s in liverSegments)
            raise ValueError(f"Segmentation '{segmentationNode.GetName()}' has several whole-liver segments ({names}): keep one")
        self.liverSegmentId = liverSegments[0] if liverSegments else None
        nextBit = len(self.unitBits)
        self.tumourBit = 1 << nextBit
        self.liverBit = 1 << (nextBit + 1)
        self.allUnitBits = sum(self.unitBits.values())
        # Tumours are counted one by one (for their own volumes and their overlaps); every
        # other segment's count comes out of the pattern histogram.
        self.tumourVolumes = {
            volume.segmentId: volume for volume in segmentVolumes.segmentVolumes(segmentationNode, self.tumourSegmentIds)
        }
        self.histogram, self.voxelVolumeMl = self._countPatterns()
        empty = [self.roles.names[segmentId] for segmentId in self.tumourSegmentIds if self.tumourVolumes[segmentId].isEmpty]
        empty += [self.roles.names[units[unit]] for unit, bit in self.unitBits.items() if self.volumeMl(bit) == 0]
        if self.liverSegmentId and self.volumeMl(self.liverBit) == 0:
            empty.append(self.roles.names[self.liverSegmentId])
        if empty:
            raise ValueError(
                f"Segmentation '{segmentationNode.GetName()}' has empty segment(s) {', '.join(empty)}: "
                "paint them or remove them; an empty segment would be counted as 0 mL"
            )

    def _bitOfSegment(self):
        bits = {segmentId: self.unitBits[unit] for unit, segmentId in self.unitSegmentIds.items()}
        bits.update({segmentId: self.tumourBit for segmentId in self.tumourSegmentIds})
        if self.liverSegmentId:
            bits[self.liverSegmentId] = self.liverBit
        return bits

    def _countPatterns(self):
        segmentation = self.segmentationNode.GetSegmentation()
        labelmapName = segmentVolumes._binaryLabelmapName()
        lookupTables = {}
        for segmentId, bit in self._bitOfSegment().items():
            layer = segmentation.GetLayerIndex(segmentId, labelmapName)
            labelValue = segmentation.GetSegment(segmentId).GetLabelValue()
            table = lookupTables.setdefault(layer, {})
            table[labelValue] = table.get(labelValue, 0) | bit
        layers = []
        for layer, table in lookupTables.items():
            image = segmentation.GetLayerDataObject(layer, labelmapName)
            voxels = segmentVolumes.layerVoxels(image)
            if voxels is None:
                continue
            lookup = np.zeros(max(int(voxels.max()), max(table)) + 1, dtype=np.uint16)
            for labelValue, bits in table.items():
                lookup[labelValue] = bits
            layers.append((image, voxels, lookup))
        geometries = {segmentVolumes._imageToWorld(image) for image, _, _ in layers}
        if len(geometries) != 1:
            raise ValueError(
                f"Layers of segmentation '{self.segmentationNode.GetName()}' lie on different grids; "
                "expected one reference geometry for all segments"
            )
        extents = [image.GetExtent() for image, _, _ in layers]
        low = [min(extent[2 * axis] for extent in extents) for axis in range(3)]
        high = [max(extent[2 * axis + 1] for extent in extents) for axis in range(3)]
        sliceVoxels = (high[0] - low[0] + 1) * (high[1] - low[1] + 1)
        slabSlices = max(1, _SLAB_VOXELS // sliceVoxels)
        self._grid = (layers, low, high, slabSlices)
        histogram = np.zeros(self.liverBit << 1, dtype=np.int64)
        for k0 in range(low[2], high[2] + 1, slabSlices):
            k1 = min(k0 + slabSlices - 1, high[2])
            patterns = self._slabPatterns(layers, low, high, k0, k1)
            histogram += np.bincount(patterns.reshape(-1), minlength=histogram.size)
        return histogram, segmentVolumes.voxelVolumeMl(layers[0][0])

    @staticmethod
    def _slabPatterns(layers, low, high, k0, k1):
        patterns = np.zeros((k1 - k0 + 1, high[1] - low[1] + 1, high[0] - low[0] + 1), dtype=np.uint16)
        for image, voxels, lookup in layers:
            extent = image.GetExtent()
            ka, kb = max(k0, extent[4]), min(k1, extent[5])
            if ka > kb:
                continue
            block = voxels[ka - extent[4] : kb - extent[4] + 1]
            target = patterns[
                ka - k0 : kb - k0 + 1,
                extent[2] - low[1] : extent[3] - low[1] + 1,
                extent[0] - low[0] : extent[1] - low[0] + 1,
            ]
            target |= np.take(lookup, block)
        return patterns

    def masks(self, predicates):
        """Boolean masks over the composition grid, one per predicate on the bit patterns (for
        example remnant and resected liver of a plan), and that grid's 4x4 IJK-to-RAS matrix."""
        layers, low, high, slabSlices = self._grid
        shape = (high[2] - low[2] + 1, high[1] - low[1] + 1, high[0] - low[0] + 1)
        masks = [np.zeros(shape, dtype=bool) for _ in predicates]
        for k0 in range(low[2], high[2] + 1, slabSlices):
            k1 = min(k0 + slabSlices - 1, high[2])
            patterns = self._slabPatterns(layers, low, high, k0, k1)
            for mask, predicate in zip(masks, predicates):
                mask[k0 - low[2] : k1 - low[2] + 1] = predicate(patterns)
        matrix = vtk.vtkMatrix4x4()
        layers[0][0].GetImageToWorldMatrix(matrix)
        ijkToRAS = np.array([[matrix.GetElement(row, column) for column in range(4)] for row in range(4)])
        ijkToRAS[:3, 3] = ijkToRAS[:3, :3] @ np.array(low, dtype=float) + ijkToRAS[:3, 3]
        return masks, ijkToRAS

    # --- queries on the histogram -------------------------------------------------------------

    def _count(self, predicate):
        patterns = np.arange(self.histogram.size)
        return int(self.histogram[predicate(patterns)].sum())

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
            count = self._count(lambda p: ((p & bits) != 0) & ((p & self.tumourBit) == 0))
        elif tumourOnly:
            count = self._count(lambda p: ((p & bits) != 0) & ((p & self.tumourBit) != 0))
        else:
            count = self._count(lambda p: (p & bits) != 0)
        return count * self.voxelVolumeMl

    def totalLiverMl(self):
        """Total liver volume: the union of the Couinaud segments."""
        return self.volumeMl(self.allUnitBits)

    def tumourInLiverMl(self):
        return self.volumeMl(self.allUnitBits, tumourOnly=True)

    def tumourUnionMl(self):
        return self._count(lambda p: (p & self.tumourBit) != 0) * self.voxelVolumeMl

    def tumourOutsideLiverMl(self):
        return self._count(lambda p: ((p & self.tumourBit) != 0) & ((p & self.allUnitBits) == 0)) * self.voxelVolumeMl

    def couinaudOverlapMl(self):
        """Volume of voxels claimed by more than one Couinaud unit (should be zero)."""
        popcount = np.array([bin(p & self.allUnitBits).count("1") for p in range(self.histogram.size)])
        return int(self.histogram[popcount > 1].sum()) * self.voxelVolumeMl

    def liverSegmentMl(self):
        return self.volumeMl(self.liverBit) if self.liverSegmentId else None

    def liverOutsideCouinaudMl(self):
        """Whole-liver voxels that no Couinaud segment covers (None without a whole-liver segment)."""
        if not self.liverSegmentId:
            return None
        return self._count(lambda p: ((p & self.liverBit) != 0) & ((p & self.allUnitBits) == 0)) * self.voxelVolumeMl

    def tumourOverlapMl(self):
        """How much the tumour segments overlap each other: sum of their volumes minus their union."""
        total = sum(volume.volumeMl for volume in self.tumourVolumes.values())
        return max(0.0, total - self.tumourUnionMl())
