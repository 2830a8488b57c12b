"""DICOM image series from a folder, with slices in anatomical order, for loading as scans.

Slicer's archetype reader keeps slices in the order it is given, and file names often carry no
slice order, so slices are ordered by their position along the slice normal (the cross product
of the ImageOrientationPatient row and column directions), never by file name. The headers are
read by ``dicomFolder``; here only series of single-frame slices, one slice per position, are
offered.
"""

import os

from .dicomFolder import readDicomFolder

# Two slices closer than this along the normal (mm) are at one position.
SAME_POSITION_MM = 1e-4


def findImageSeries(folder):
    """All image series below ``folder`` (``dicomFolder.ImageSeries``, files without a
    SeriesInstanceUID grouped into stacks), slices ordered by position along the slice normal.
    Files that are not DICOM, damaged files, objects without image slices and multi-frame objects
    are left out."""
    if not os.path.isdir(folder):
        raise ValueError(f"DICOM folder '{folder}' does not exist or is not a folder")
    series = []
    for candidate in readDicomFolder(folder).series:
        if candidate.multiFrame:
            continue
        entries = sorted(zip(candidate.slicePositions, candidate.files))
        duplicates = [path for (a, path), (b, _) in zip(entries[1:], entries[:-1]) if abs(a - b) < SAME_POSITION_MM]
        if duplicates:
            raise ValueError(
                f"DICOM series {candidate.seriesInstanceUID} in '{folder}' has several slices at one position (e.g. "
                f"'{duplicates[0]}'): expected one slice per position (several acquisitions in one series?)"
            )
        series.append(candidate)
    return series


def singleImageSeries(folder):
    """The one image series in ``folder``; an error listing them when there are several."""
    series = findImageSeries(folder)
    if not series:
        raise ValueError(f"Folder '{folder}' holds no DICOM image series")
    if len(series) > 1:
        listing = "; ".join(
            f"{s.seriesInstanceUID} ({s.modality} '{s.seriesDescription}', {len(s.files)} slices)" for s in series
        )
        raise ValueError(f"Folder '{folder}' holds {len(series)} image series, expected one: {listing}")
    return series[0]
