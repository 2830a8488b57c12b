"""Voxel counts of the label values of an array: the one counting pass every volume, every
label-map check and every import rests on. numpy only, so that a file can be checked and read
before Slicer's libraries are loaded."""

import numpy as np

# Voxels counted at a time: the temporary index array of one slab (8 bytes a voxel) stays in the
# processor cache, which makes counting several times faster than in large slabs.
_SLAB_VOXELS = 1 << 20

# Label values up to this are counted with a table indexed by value; larger ones (a label map
# whose values are IDs, or a damaged one) by sorting, so memory never grows with the value.
_TABLE_LABEL_LIMIT = 1 << 16


def _parts(voxels):
    """Flat runs of ``voxels`` of about _SLAB_VOXELS, without copying the array (a reversed or
    cropped view is walked slice by slice)."""
    if voxels.ndim <= 1 or voxels.flags.c_contiguous:
        flat = voxels.reshape(-1)
        for start in range(0, flat.size, _SLAB_VOXELS):
            yield flat[start : start + _SLAB_VOXELS]
        return
    for part in voxels:
        yield from _parts(np.ascontiguousarray(part) if part.ndim > 1 and part.size <= _SLAB_VOXELS else part)


def labelCounts(voxels):
    """{label value: voxel count} of a label array (label 0, the background, included)."""
    counts = {}
    if voxels is None:
        return counts
    integral = np.issubdtype(voxels.dtype, np.integer) or voxels.dtype == bool
    for slab in _parts(voxels):
        if not integral:
            # Label maps saved as floating point (common in NIfTI) are fine if every value is whole.
            if not np.all(np.isfinite(slab)) or not np.array_equal(slab, np.floor(slab)):
                raise ValueError("Label map holds non-integer or non-finite values; expected whole label numbers")
            slab = slab.astype(np.int64)
        # Most voxels of a liver label map are background: counting only the labelled ones is
        # what makes the pass fast.
        labelled = slab[slab != 0]
        if labelled.size < slab.size:
            counts[0] = counts.get(0, 0) + slab.size - labelled.size
        if labelled.size == 0:
            continue
        low, high = int(labelled.min()), int(labelled.max())
        if low < 0:
            raise ValueError("Labelmap layer holds negative label values; expected labels >= 0")
        if high < _TABLE_LABEL_LIMIT:
            table = np.bincount(labelled, minlength=high + 1)
            values = np.flatnonzero(table)
            found = table[values]
        else:
            values, found = np.unique(labelled, return_counts=True)
        for value, count in zip(values.tolist(), found.tolist()):
            counts[value] = counts.get(value, 0) + count
    return counts
