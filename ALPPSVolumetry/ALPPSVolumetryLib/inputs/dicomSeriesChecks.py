"""A DICOM series given as a scan is loaded only when it forms one whole volume.

The DICOM folder reader (``dicomFolder``) already finds every problem a folder of slices can
have: truncated or damaged slices, slices without position, missing, duplicate or unevenly spaced
slices, mixed orientation, size or pixel spacing. A scan
loaded anyway would be measured wrong without a word (a missing slice stretches the spacing, a
half slice is read as garbage), so here each of those problems refuses the series, naming the
slice file and the problem.
"""

import os

import numpy as np

from .dicomFolder import readDicomFiles, readDicomFolder, seriesSortKey, SPACING_TOLERANCE_MM

# Files beside the slices that are plainly not slices (notes, thumbnails) are tolerated; a file
# named like a slice that is not DICOM is a slice that lost its header.
_SLICE_SUFFIXES = (".dcm", ".ima", ".dicom")


class UnevenSliceSpacing(ValueError):
    """The only problem of a series is its uneven slice spacing: ``files`` could be resampled."""

    def __init__(self, message, files):
        super().__init__(message)
        self.files = files


def _read(source):
    if isinstance(source, (list, tuple)):
        return readDicomFiles(list(source), source="the given DICOM files")
    return readDicomFolder(source)


def _gapProblem(series):
    """The first pair of neighbouring slices whose distance differs from the usual spacing."""
    positions = np.asarray(series.slicePositions)
    if len(positions) < 3 or series.sliceSpacing is None:
        return None
    gaps = np.diff(positions)
    for index, gap in enumerate(gaps):
        if abs(gap - series.sliceSpacing) > SPACING_TOLERANCE_MM and gap >= SPACING_TOLERANCE_MM:
            return (f"slices '{series.files[index]}' and '{series.files[index + 1]}' lie {gap:.2f} mm apart "
                    f"(usual spacing {series.sliceSpacing:.2f} mm)")
    return None


def checkedDicomSeries(source, what="DICOM series"):
    """The slice files of the one image series in ``source`` (a folder, or a list of files), in
    anatomical order, and notes on files left aside; ValueError naming the file and the problem
    when the slices do not form one whole, evenly spaced volume."""
    if isinstance(source, str) and not os.path.isdir(source):
        raise ValueError(f"{what} '{source}' is not a folder: expected a folder holding one DICOM series")
    contents = _read(source)
    label = source if isinstance(source, str) else "the given DICOM files"
    notes = []
    for skipped in contents.skippedFiles:
        notDicom = skipped.reason.startswith("not DICOM")
        if not notDicom or skipped.path.lower().endswith(_SLICE_SUFFIXES):
            raise ValueError(f"{what} '{label}': file '{skipped.path}' is {skipped.reason}: expected whole DICOM slices")
        notes.append(f"'{skipped.path}' is not DICOM and was left aside")
    allSeries = sorted(contents.series, key=seriesSortKey)
    if not allSeries:
        raise ValueError(f"{what} '{label}' holds no DICOM image series: expected the slices of one CT or MR series")
    if len(allSeries) > 1:
        listing = "; ".join(f"{series.modality} '{series.seriesDescription}' ({series.sliceCount} slices)" for series in allSeries)
        raise ValueError(f"{what} '{label}' holds {len(allSeries)} image series, expected one: {listing}")
    series = allSeries[0]
    for other in contents.otherObjects:
        sameSeries = other.seriesInstanceUID and other.seriesInstanceUID == series.seriesInstanceUID
        if sameSeries or "not a slice of a volume" in other.reason:
            raise ValueError(f"{what} '{label}': file '{other.path}' ({other.kind}) has {other.reason.split(': ')[0]}: "
                             "expected every file of the series to be a positioned slice")
        notes.append(f"'{other.path}' ({other.kind}) is not part of the scan and was left aside")
    if series.multiFrame:
        raise ValueError(f"{what} '{label}' is a multi-frame object ({series.sopClassName}): load it with Slicer's DICOM module")
    problems = [warning for warning in series.warnings if not warning.startswith("no SeriesInstanceUID")]
    if problems and all(problem.startswith("uneven slice spacing") for problem in problems) and len(series.files) >= 2:
        detail = _gapProblem(series)
        raise UnevenSliceSpacing(
            f"{what} '{label}': {problems[0]}" + (f"; {detail}" if detail else "") +
            ": the slices do not form one evenly spaced volume (resample only if interpolated slices are acceptable: "
            "alpps --allow-uneven-spacing)", list(series.files))
    if problems:
        detail = _gapProblem(series) if any("spacing" in p or "missing" in p for p in problems) else None
        raise ValueError(f"{what} '{label}': {problems[0]}" + (f"; {detail}" if detail else ""))
    if len(series.files) < 2:
        raise ValueError(f"{what} '{label}' holds {len(series.files)} slice(s): expected a volume of several slices")
    return list(series.files), notes
