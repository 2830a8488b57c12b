"""A DICOM series with uneven slice spacing, resampled to even spacing when the user allows it.

A volume has one slice spacing; slices 1.6 mm apart in one part of a series and 2.1 mm in
another would be stacked at the average spacing and every structure would be stretched or
squeezed. Refused by default (dicomSeriesChecks); with the user's explicit permission
(`--allow-uneven-spacing`) the slices are read one by one and interpolated linearly along the
slice normal onto the smallest spacing found, and the note says so.
"""

import numpy as np

from .dicomFolder import readHeader, slicePosition

_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0])

_resamplingAllowed = False


class UnevenSpacingAllowed:
    """``with UnevenSpacingAllowed():`` DICOM series with uneven slice spacing are resampled to
    even spacing (with a note) instead of refused: only on the user's explicit request."""

    def __enter__(self):
        global _resamplingAllowed
        self._before, _resamplingAllowed = _resamplingAllowed, True
        return self

    def __exit__(self, *excinfo):
        global _resamplingAllowed
        _resamplingAllowed = self._before


def resamplingAllowed():
    return _resamplingAllowed


def _sliceArray(path):
    import SimpleITK as sitk

    image = sitk.ReadImage(path)  # GDCM: decodes compressed slices and applies the rescale slope and intercept
    voxels = sitk.GetArrayFromImage(image)
    return voxels.reshape(voxels.shape[-2:]).astype(np.float32)


def resampledSeries(files):
    """(voxels [k, j, i] float32, 4x4 IJK-to-RAS, spacing mm, note) for slice ``files`` in
    anatomical order whose spacing varies: linear interpolation between the two neighbouring
    slices of every new position, from the first slice to the last at the smallest spacing."""
    headers = [readHeader(path) for path in files]
    positions = np.array([slicePosition(header, path) for header, path in zip(headers, files)])
    gaps = np.diff(positions)
    spacing = float(gaps.min())
    count = int(np.floor((positions[-1] - positions[0]) / spacing + 1e-6)) + 1
    targets = positions[0] + spacing * np.arange(count)
    slices = {}

    def slice_(index):
        if index not in slices:
            slices[index] = _sliceArray(files[index])
        return slices[index]

    first = slice_(0)
    voxels = np.empty((count,) + first.shape, dtype=np.float32)
    for k, target in enumerate(targets):
        upper = int(np.clip(np.searchsorted(positions, target), 1, len(positions) - 1))
        lower = upper - 1
        weight = (target - positions[lower]) / (positions[upper] - positions[lower])
        voxels[k] = (1.0 - weight) * slice_(lower) + weight * slice_(upper)
        for index in [index for index in slices if index < lower]:
            del slices[index]  # only two slices held at a time
    header = headers[0]
    orientation = np.array([float(value) for value in header.ImageOrientationPatient])
    rowSpacing, columnSpacing = (float(value) for value in header.PixelSpacing)
    row, column = orientation[:3], orientation[3:]
    normal = np.cross(row, column)
    ijkToLps = np.eye(4)
    ijkToLps[:3, 0] = row * columnSpacing
    ijkToLps[:3, 1] = column * rowSpacing
    ijkToLps[:3, 2] = normal * spacing
    ijkToLps[:3, 3] = [float(value) for value in header.ImagePositionPatient]
    ijkToRas = np.eye(4)
    ijkToRas[:3, :] = _LPS_TO_RAS @ ijkToLps[:3, :]
    note = (f"slice spacing varies from {gaps.min():.3f} to {gaps.max():.3f} mm: {len(files)} slices resampled to {count} "
            f"slices {spacing:.3f} mm apart by linear interpolation along the slice normal, as allowed by the user")
    return voxels, ijkToRas, spacing, note
