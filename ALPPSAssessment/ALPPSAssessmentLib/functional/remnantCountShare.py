"""FLR-C, the remnant's share of the liver counts on SPECT (clinical reference section 5), and the
CT VOIs put onto the SPECT grid to count it.

FLR-C = counts in the FLR VOI / counts in the whole-liver VOI (a fraction; x100 for %), both VOIs
drawn on the CT with the plan and put onto the registered SPECT's grid (``voiOnSpectGrid``).
SPECT rather than the anterior planar view: the planar view overestimates left-sided FLRs, more so
in ALPPS. Arrays are numpy, [k, j, i] (as Slicer's arrayFromVolume).
"""

from dataclasses import dataclass

import numpy as np
from ALPPSVolumetryLib.criteria.bodySize import CHECKED, checkedNumber
from ALPPSVolumetryLib.results.quantityDefinition import QuantityDefinition

from .mebrofeninUptake import CLINICAL_REFERENCE_5, PERCENT, PERCENT_PER_FRACTION

SHARE_METHOD = (
    "FLR-C = sum of SPECT counts in the FLR VOI / sum of SPECT counts in the whole-liver VOI, both VOIs on the "
    "SPECT grid (SPECT registered to the CT with the plan)"
)

FLR_C = "flrCountShare"
FLR_C_DEFINITION = QuantityDefinition(
    FLR_C,
    "FLR share of liver counts (FLR-C, SPECT)",
    PERCENT,
    "counts in the FLR VOI / counts in the whole-liver VOI on SPECT, x 100",
    CLINICAL_REFERENCE_5,
    CHECKED,
    2,
    note="SPECT rather than the anterior planar view: the planar view overestimates left-sided FLRs, more so "
    "in ALPPS",
)


@dataclass(frozen=True)
class RemnantShare:
    """FLR-C: the FLR's share of the liver counts on SPECT."""

    fraction: float
    flrCounts: float
    liverCounts: float
    flrVoxels: int
    liverVoxels: int
    method: str = SHARE_METHOD
    reference: str = CLINICAL_REFERENCE_5

    @property
    def percent(self):
        return self.fraction * PERCENT_PER_FRACTION

    def asDict(self):
        return {
            "fraction": self.fraction,
            "percent": self.percent,
            "flrCounts": self.flrCounts,
            "liverCounts": self.liverCounts,
            "flrVoxels": self.flrVoxels,
            "liverVoxels": self.liverVoxels,
            "method": self.method,
            "reference": self.reference,
            "definition": FLR_C_DEFINITION.asDict(),
        }


def remnantShareFromSpect(spectCounts, flrMask, liverMask):
    """FLR-C from a SPECT volume (counts, 3-D [k, j, i]) and the FLR and whole-liver VOIs as boolean
    arrays on the SPECT grid (same shape; ``voiOnSpectGrid`` puts CT labels there). The FLR VOI must
    lie inside the liver VOI; empty VOIs, negative counts and a liver without counts are refused."""
    if spectCounts is None:
        raise ValueError("SPECT counts are missing: expected a 3-D array [k, j, i]")
    counts = np.asarray(spectCounts, dtype=float)
    if counts.ndim != 3:
        raise ValueError(f"SPECT counts have shape {counts.shape}: expected a 3-D array [k, j, i]")
    if not np.all(np.isfinite(counts)):
        raise ValueError("SPECT counts contain non-finite values: expected counts >= 0")
    if np.any(counts < 0):
        raise ValueError(f"SPECT counts have {int(np.count_nonzero(counts < 0))} negative voxel(s): expected counts >= 0")
    masks = []
    for mask, name in ((flrMask, "FLR VOI"), (liverMask, "Whole-liver VOI")):
        if mask is None:
            raise ValueError(f"{name} is missing: expected a boolean array on the SPECT grid {counts.shape}")
        array = np.asarray(mask)
        if array.shape != counts.shape:
            raise ValueError(
                f"{name} has shape {array.shape}, the SPECT {counts.shape}: expected the VOI on the SPECT grid "
                "(resample it with voiOnSpectGrid after registration)"
            )
        array = array.astype(bool)
        if not array.any():
            raise ValueError(f"{name} is empty on the SPECT grid: expected the VOI inside the SPECT field of view")
        masks.append(array)
    flr, liver = masks
    outside = int(np.count_nonzero(flr & ~liver))
    if outside:
        raise ValueError(
            f"FLR VOI has {outside} voxel(s) outside the whole-liver VOI: expected the FLR to be part of the liver "
            "(intersect it with the liver VOI)"
        )
    liverCounts = float(counts[liver].sum())
    if liverCounts <= 0:
        raise ValueError("Whole-liver VOI has zero SPECT counts: expected the VOI over the liver's activity")
    flrCounts = float(counts[flr].sum())
    return RemnantShare(
        fraction=flrCounts / liverCounts,
        flrCounts=flrCounts,
        liverCounts=liverCounts,
        flrVoxels=int(np.count_nonzero(flr)),
        liverVoxels=int(np.count_nonzero(liver)),
    )


# --- VOIs onto the SPECT grid ------------------------------------------------------------------


def _matrix(matrix, name):
    if matrix is None:
        raise ValueError(f"{name} is missing: expected a 4x4 matrix")
    array = np.asarray(matrix, dtype=float)
    if array.shape != (4, 4) or not np.all(np.isfinite(array)) or not np.allclose(array[3], (0, 0, 0, 1)):
        raise ValueError(f"{name} is not a 4x4 homogeneous matrix: expected a 4x4 array with last row (0, 0, 0, 1)")
    if abs(np.linalg.det(array[:3, :3])) < 1e-12:
        raise ValueError(f"{name} is singular: expected an invertible 4x4 matrix")
    return array


def growLabels(labels, steps):
    """Labels grown outward by ``steps`` voxels into unlabelled (0) voxels: at each step an empty
    voxel next to labelled ones (6-neighbourhood) takes a neighbour's label (the first found in
    the order -i, +i, -j, +j, -k, +k). Labelled voxels never change, so internal boundaries stay."""
    grown = np.array(labels, copy=True)
    for _ in range(int(steps)):
        empty = grown == 0
        if not empty.any():
            break
        taken = np.zeros_like(grown)
        for axis in (2, 1, 0):
            for direction in (1, -1):
                neighbour = np.zeros_like(grown)
                source = [slice(None)] * 3
                target = [slice(None)] * 3
                source[axis] = slice(None, -1) if direction == 1 else slice(1, None)
                target[axis] = slice(1, None) if direction == 1 else slice(None, -1)
                neighbour[tuple(target)] = grown[tuple(source)]
                take = empty & (taken == 0) & (neighbour > 0)
                taken[take] = neighbour[take]
        grown[empty] = taken[empty]
    return grown


def voiOnSpectGrid(labels, labelsIjkToRAS, spectShape, spectIjkToRAS, labelsToSpectRAS=None, outwardMarginMm=0.0):
    """Label values (e.g. Couinaud labels 0..8 on the CT grid, [k, j, i]) on the SPECT grid by
    nearest-neighbour lookup: every SPECT voxel centre, in the SPECT's RAS, is mapped by the inverse
    of ``labelsToSpectRAS`` (4x4 RAS mm: x_SPECT = labelsToSpectRAS @ x_CT; None = identity, i.e.
    the SPECT is already registered) into the label grid and takes the nearest label (0 outside).
    Refused with a ValueError when a labelled voxel maps outside the SPECT field of view (the VOI
    would be cut and its counts lost).

    ``outwardMarginMm`` > 0 grows the labels outward (never into each other) by that margin, rounded
    to whole SPECT voxels (``growLabels``), so that the counts the SPECT blur spreads outside the liver
    are counted with the segment they came from. This spill-out allowance is not in the clinical
    reference (default 0: the VOIs as drawn); without it a thin remnant (II-III) loses relatively
    more counts than the bulky right liver, and FLR-C comes out about 1.5-3 percentage points low at
    10-14 mm FWHM on the synthetic patient (tests)."""
    values = np.asarray(labels)
    if values.ndim != 3:
        raise ValueError(f"Labels have shape {values.shape}: expected a 3-D array [k, j, i]")
    if spectShape is None or len(spectShape) != 3 or min(int(n) for n in spectShape) < 1:
        raise ValueError(f"SPECT shape {spectShape!r} is not a 3-D shape: expected (k, j, i) sizes")
    spectShape = tuple(int(n) for n in spectShape)
    labelsMatrix = _matrix(labelsIjkToRAS, "Label IJK-to-RAS matrix")
    spectMatrix = _matrix(spectIjkToRAS, "SPECT IJK-to-RAS matrix")
    transform = np.eye(4) if labelsToSpectRAS is None else _matrix(labelsToSpectRAS, "Labels-to-SPECT RAS transform")
    # Labelled voxels must land inside the SPECT grid.
    k, j, i = np.nonzero(values)
    if k.size == 0:
        raise ValueError("Labels are empty (all 0): expected the VOI labels to resample")
    points = np.vstack((i, j, k, np.ones_like(i))).astype(float)
    spectIjk = np.linalg.inv(spectMatrix) @ transform @ labelsMatrix @ points
    upper = np.array(spectShape[::-1], dtype=float)[:, None] - 0.5
    outside = np.any((spectIjk[:3] < -0.5) | (spectIjk[:3] > upper), axis=0)
    if np.any(outside):
        affected = sorted(int(v) for v in np.unique(values[k[outside], j[outside], i[outside]]))
        raise ValueError(
            f"VOI outside the SPECT: {int(outside.sum())} labelled voxel(s) (label values {affected}) fall outside the "
            f"SPECT field of view {spectShape} (k, j, i): expected the FLR and liver VOIs inside the SPECT"
        )
    # Nearest-neighbour pull for every SPECT voxel, slab by slab.
    toLabels = np.linalg.inv(labelsMatrix) @ np.linalg.inv(transform) @ spectMatrix
    result = np.zeros(spectShape, dtype=values.dtype)
    jj, ii = np.meshgrid(np.arange(spectShape[1]), np.arange(spectShape[2]), indexing="ij")
    limits = np.array(values.shape[::-1])[:, None]
    for kk in range(spectShape[0]):
        grid = np.vstack((ii.ravel(), jj.ravel(), np.full(ii.size, kk), np.ones(ii.size))).astype(float)
        ijk = np.rint((toLabels @ grid)[:3]).astype(np.int64)
        inside = np.all((ijk >= 0) & (ijk < limits), axis=0)
        slab = np.zeros(ii.size, dtype=values.dtype)
        slab[inside] = values[ijk[2, inside], ijk[1, inside], ijk[0, inside]]
        result[kk] = slab.reshape(ii.shape)
    margin = checkedNumber(outwardMarginMm, "Outward VOI margin", "mm >= 0")
    if margin < 0:
        raise ValueError(f"Outward VOI margin {margin:g} mm is negative: expected mm >= 0")
    if margin > 0:
        spacing = float(np.min(np.linalg.norm(spectMatrix[:3, :3], axis=0)))
        result = growLabels(result, int(round(margin / spacing)))
    return result
