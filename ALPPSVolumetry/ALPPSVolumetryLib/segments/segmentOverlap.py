"""How voxels are shared among groups of segments, counted in one pass.

Each group of segments (a Couinaud segment, "any tumour", "the whole liver", a remnant...) gets
one bit; every voxel gets the pattern of the groups it belongs to. One pass over the
segmentation's labelmap layers, slab by slab, counts how many voxels carry each pattern. Any
union, intersection or difference of groups is then a sum over that histogram: exact (a voxel in
several segments counts once in their union), and free once the histogram exists. Memory stays
at one slab of patterns whatever the scan size.

When one labelmap layer holds every segment counted (a label map import, a segmentation without
overlaps), a voxel's label value already decides its pattern: the label values are counted
(labelCounting, the same pass as every segment volume) and each is given its pattern, without
building a pattern per voxel. Otherwise the voxel's "state" is its pattern.
"""

import numpy as np

from . import segmentVolumes
from ..imageGrid import imageToWorld
from .labelCounting import labelCounts

_SLAB_VOXELS = 1 << 21
MAXIMUM_GROUPS = 16  # patterns are uint16


class SegmentOverlapHistogram:
    """Voxel counts of every combination of ``groups`` ({group name: [segment IDs]})."""

    def __init__(self, segmentationNode, groups, countBoundaries=False):
        if len(groups) > MAXIMUM_GROUPS:
            raise ValueError(f"At most {MAXIMUM_GROUPS} segment groups can be counted together, got {len(groups)}")
        self.segmentationNode = segmentationNode
        self.bits = {name: 1 << index for index, name in enumerate(groups)}
        segmentVolumes.ensureBinaryLabelmap(segmentationNode)
        segmentation = segmentationNode.GetSegmentation()
        labelmapName = segmentVolumes.binaryLabelmapName()
        lookupTables = {}
        for name, segmentIds in groups.items():
            for segmentId in segmentIds:
                layer = segmentation.GetLayerIndex(segmentId, labelmapName)
                labelValue = segmentation.GetSegment(segmentId).GetLabelValue()
                table = lookupTables.setdefault(layer, {})
                table[labelValue] = table.get(labelValue, 0) | self.bits[name]
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
        if not layers:
            raise ValueError(f"Segmentation '{segmentationNode.GetName()}': the segments to measure are all empty")
        layers = self._onCommonGrid(segmentationNode, layers)
        extents = [extent for _, _, _, extent in layers]
        low = [min(extent[2 * axis] for extent in extents) for axis in range(3)]
        high = [max(extent[2 * axis + 1] for extent in extents) for axis in range(3)]
        sliceVoxels = (high[0] - low[0] + 1) * (high[1] - low[1] + 1)
        self._grid = (layers, low, high, max(1, _SLAB_VOXELS // sliceVoxels))
        self.voxelVolumeMl = segmentVolumes.voxelVolumeMl(layers[0][0])
        self._ijkToRAS = imageToWorld(layers[0][0])
        # State pairs are keyed in 32 bits (two 16-bit states): larger label values take patterns.
        self._singleLayer = len(layers) == 1 and layers[0][2].size <= 1 << 16
        self._stateToPattern = layers[0][2] if self._singleLayer else np.arange(1 << len(groups), dtype=np.uint16)
        self.histogram = np.zeros(1 << len(groups), dtype=np.int64)
        states = {}
        # Boundaries asked for up front (every plan's resolution interval) are counted in the same
        # pass: composing the layers' patterns again costs as much as the counting itself.
        faces = _NeighbourStates() if countBoundaries else None
        for _, slab in self._stateSlabs():
            for state, count in labelCounts(slab).items():
                states[state] = states.get(state, 0) + count
            if faces is not None:
                faces.addSlab(slab)
        for state, count in states.items():
            self.histogram[self._stateToPattern[state]] += count
        self._patterns = np.arange(self.histogram.size)
        # Neighbouring pattern pairs, counted in the first pass or when a boundary is first asked for.
        self._pairs = None if faces is None else faces.patternPairs(self._stateToPattern)

    @staticmethod
    def _onCommonGrid(segmentationNode, layers):
        """Layers with their extents in the index space of the first layer. Layers may sit on
        grids shifted by whole voxels (segments imported from cropped label maps); any other
        difference of grid is refused rather than resampled."""
        reference = imageToWorld(layers[0][0])
        toReference = np.linalg.inv(reference[:3, :3])
        aligned = []
        for image, voxels, lookup in layers:
            matrix = imageToWorld(image)
            offset = toReference @ (matrix[:3, 3] - reference[:3, 3])
            if not np.allclose(matrix[:3, :3], reference[:3, :3], atol=1e-6) or not np.allclose(offset, np.round(offset), atol=1e-3):
                raise ValueError(
                    f"Layers of segmentation '{segmentationNode.GetName()}' lie on different grids (spacing, direction "
                    "or a shift of part of a voxel); expected one reference geometry for all segments"
                )
            shift = [int(value) for value in np.round(offset)]
            extent = image.GetExtent()
            aligned.append((image, voxels, lookup, tuple(extent[index] + shift[index // 2] for index in range(6))))
        return aligned

    def _stateSlabs(self):
        """(start, stop) slices of the counting grid and the states of their voxels, slab by slab."""
        if self._singleLayer:
            voxels = self._grid[0][0][1]
            slabSlices = self._grid[3]
            for k0 in range(0, voxels.shape[0], slabSlices):
                yield (k0, min(k0 + slabSlices, voxels.shape[0])), voxels[k0 : k0 + slabSlices]
            return
        layers, low, high, slabSlices = self._grid
        for k0 in range(low[2], high[2] + 1, slabSlices):
            k1 = min(k0 + slabSlices - 1, high[2])
            patterns = np.zeros((k1 - k0 + 1, high[1] - low[1] + 1, high[0] - low[0] + 1), dtype=np.uint16)
            for _, voxels, lookup, extent in layers:
                ka, kb = max(k0, extent[4]), min(k1, extent[5])
                if ka > kb:
                    continue
                target = patterns[
                    ka - k0 : kb - k0 + 1,
                    extent[2] - low[1] : extent[3] - low[1] + 1,
                    extent[0] - low[0] : extent[1] - low[0] + 1,
                ]
                target |= np.take(lookup, voxels[ka - extent[4] : kb - extent[4] + 1])
            yield (k0 - low[2], k1 - low[2] + 1), patterns

    def _slabs(self):
        """(start, stop) slices of the counting grid and the bit patterns of their voxels."""
        for bounds, states in self._stateSlabs():
            yield bounds, np.take(self._stateToPattern, states) if self._singleLayer else states

    def bitsOf(self, names):
        return sum(self.bits[name] for name in names)

    def count(self, anyOf=0, allOf=0, noneOf=0):
        """Voxels carrying at least one bit of ``anyOf`` (if given), every bit of ``allOf`` and
        none of ``noneOf`` (bit masks, see ``bitsOf``)."""
        p = self._patterns
        selected = np.ones(p.size, dtype=bool)
        if anyOf:
            selected &= (p & anyOf) != 0
        if allOf:
            selected &= (p & allOf) == allOf
        if noneOf:
            selected &= (p & noneOf) == 0
        return int(self.histogram[selected].sum())

    def volumeMl(self, anyOf=0, allOf=0, noneOf=0):
        return self.count(anyOf, allOf, noneOf) * self.voxelVolumeMl

    def boundaryFaces(self, predicate):
        """Voxel faces between voxels that satisfy ``predicate`` (a function of the bit patterns,
        like those of ``masks``) and voxels that do not, per axis (i, j, k): the boundary of that
        voxel set as the grid resolves it. Voxels outside the counting grid carry no bits."""
        pairs = self._facePairs()
        counts = []
        for axisPairs in pairs:
            if axisPairs.size == 0:
                counts.append(0)
                continue
            before, after, number = axisPairs[:, 0], axisPairs[:, 1], axisPairs[:, 2]
            counts.append(int(number[predicate(before) != predicate(after)].sum()))
        return tuple(counts)

    def _facePairs(self):
        # Counted once per segmentation, then any voxel set's boundary is a sum over the pairs of
        # different neighbouring patterns, which only the voxels on a boundary contribute to.
        if self._pairs is None:
            faces = _NeighbourStates()
            for _, states in self._stateSlabs():
                faces.addSlab(states)
            self._pairs = faces.patternPairs(self._stateToPattern)
        return self._pairs

    def spacingMm(self):
        """Voxel size (mm) along i, j, k of the counting grid."""
        return tuple(float(np.linalg.norm(self._ijkToRAS[:3, axis])) for axis in range(3))

    def masks(self, predicates):
        """Boolean masks over the counting grid, one per predicate on the bit patterns, and that
        grid's 4x4 IJK-to-RAS matrix (for example to draw a plan's remnant and resection)."""
        layers, low, high, _ = self._grid
        shape = (high[2] - low[2] + 1, high[1] - low[1] + 1, high[0] - low[0] + 1)
        masks = [np.zeros(shape, dtype=bool) for _ in predicates]
        for (start, stop), patterns in self._slabs():
            for mask, predicate in zip(masks, predicates):
                mask[start:stop] = predicate(patterns)
        ijkToRAS = self._ijkToRAS.copy()
        ijkToRAS[:3, 3] = ijkToRAS[:3, :3] @ np.array(low, dtype=float) + ijkToRAS[:3, 3]
        return masks, ijkToRAS




class _NeighbourStates:
    """Pairs of different states of face neighbours along i, j and k, with how many faces each
    pair has, gathered slab by slab (outside the counting grid every voxel is background, state 0)."""

    def __init__(self):
        self._found = [{}, {}, {}]
        self._previous = None

    def _add(self, axis, before, after):
        differs = before != after
        if not differs.any():
            return
        keys = (before[differs].astype(np.uint32) << 16) | after[differs].astype(np.uint32)
        values, numbers = np.unique(keys, return_counts=True)
        table = self._found[axis]
        for value, number in zip(values.tolist(), numbers.tolist()):
            table[value] = table.get(value, 0) + number

    def addSlab(self, states):
        depth, rows, columns = states.shape
        self._add(0, np.zeros((depth, rows, 1), dtype=states.dtype), states[:, :, :1])
        self._add(0, states[:, :, :-1], states[:, :, 1:])
        self._add(0, states[:, :, -1:], np.zeros((depth, rows, 1), dtype=states.dtype))
        self._add(1, np.zeros((depth, 1, columns), dtype=states.dtype), states[:, :1, :])
        self._add(1, states[:, :-1, :], states[:, 1:, :])
        self._add(1, states[:, -1:, :], np.zeros((depth, 1, columns), dtype=states.dtype))
        self._add(2, np.zeros_like(states[:1]) if self._previous is None else self._previous, states[:1])
        self._add(2, states[:-1], states[1:])
        self._previous = states[-1:].copy()

    def patternPairs(self, stateToPattern):
        """Per axis, an array of (pattern before, pattern after, faces): states that differ may share a pattern."""
        if self._previous is not None:
            self._add(2, self._previous, np.zeros_like(self._previous))
            self._previous = None
        toPattern = stateToPattern.tolist()
        result = []
        for table in self._found:
            pairs = {}
            for key, number in table.items():
                before, after = toPattern[key >> 16], toPattern[key & 0xFFFF]
                if before != after:
                    pairs[(before, after)] = pairs.get((before, after), 0) + number
            result.append(np.array([(before, after, number) for (before, after), number in pairs.items()], dtype=np.int64).reshape(-1, 3))
        return result


def unionVolume(segmentationNode, segmentIds):
    """Voxel count and volume (mL) of the union of segments: overlapping voxels count once."""
    segmentation = segmentationNode.GetSegmentation()
    unknown = [segmentId for segmentId in segmentIds if segmentation.GetSegment(segmentId) is None]
    if unknown:
        raise ValueError(f"Segmentation '{segmentationNode.GetName()}' has no segments with IDs {unknown}")
    overlap = SegmentOverlapHistogram(segmentationNode, {"union": list(segmentIds)})
    count = overlap.count(anyOf=overlap.bits["union"])
    return count, count * overlap.voxelVolumeMl
