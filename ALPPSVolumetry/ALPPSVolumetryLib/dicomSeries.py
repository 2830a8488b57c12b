"""DICOM image series from a folder, with slices in anatomical order.

Slicer's archetype reader keeps slices in the order it is given, and file names often carry no
slice order, so slices are ordered by their position along the slice normal (the cross product
of the ImageOrientationPatient row and column directions), never by file name.
"""

import os
from dataclasses import dataclass, field
from typing import List

import numpy as np


@dataclass
class DicomSeries:
    seriesInstanceUID: str
    description: str
    modality: str
    studyInstanceUID: str
    studyDate: str
    patientID: str
    patientName: str
    files: List[str] = field(default_factory=list)  # in slice order


def readHeader(path):
    import pydicom

    try:
        return pydicom.dcmread(path, stop_before_pixels=True)
    except (pydicom.errors.InvalidDicomError, OSError, EOFError, ValueError):
        return None


def slicePosition(dataset, path):
    """Position (mm) of a slice along its normal: the key that puts slices in anatomical order."""
    try:
        orientation = np.array([float(value) for value in dataset.ImageOrientationPatient])
        position = np.array([float(value) for value in dataset.ImagePositionPatient])
    except (AttributeError, TypeError, ValueError):
        raise ValueError(
            f"DICOM file '{path}' has no ImagePositionPatient/ImageOrientationPatient: "
            "slices cannot be put in anatomical order"
        ) from None
    normal = np.cross(orientation[:3], orientation[3:])
    return float(position @ normal)


def findImageSeries(folder):
    """All image series below ``folder``: {SeriesInstanceUID: DicomSeries}, slices ordered by
    position along the slice normal. Files that are not DICOM are skipped."""
    if not os.path.isdir(folder):
        raise ValueError(f"DICOM folder '{folder}' does not exist or is not a folder")
    series = {}
    positions = {}
    for root, _, names in os.walk(folder):
        for name in sorted(names):
            path = os.path.join(root, name)
            dataset = readHeader(path)
            if dataset is None or "SeriesInstanceUID" not in dataset or "ImagePositionPatient" not in dataset:
                continue
            uid = str(dataset.SeriesInstanceUID)
            if uid not in series:
                series[uid] = DicomSeries(
                    seriesInstanceUID=uid,
                    description=str(dataset.get("SeriesDescription", "")),
                    modality=str(dataset.get("Modality", "")),
                    studyInstanceUID=str(dataset.get("StudyInstanceUID", "")),
                    studyDate=str(dataset.get("StudyDate", "")),
                    patientID=str(dataset.get("PatientID", "")),
                    patientName=str(dataset.get("PatientName", "")),
                )
                positions[uid] = []
            positions[uid].append((slicePosition(dataset, path), path))
    for uid, entries in positions.items():
        entries.sort()
        duplicates = [path for (a, path), (b, _) in zip(entries[1:], entries[:-1]) if abs(a - b) < 1e-4]
        if duplicates:
            raise ValueError(
                f"DICOM series {uid} in '{folder}' has several slices at one position (e.g. '{duplicates[0]}'): "
                "expected one slice per position (several acquisitions in one series?)"
            )
        series[uid].files = [path for _, path in entries]
    return series


def singleImageSeries(folder):
    """The one image series in ``folder``; an error listing them when there are several."""
    series = findImageSeries(folder)
    if not series:
        raise ValueError(f"Folder '{folder}' holds no DICOM image series")
    if len(series) > 1:
        listing = "; ".join(f"{s.seriesInstanceUID} ({s.modality} '{s.description}', {len(s.files)} slices)" for s in series.values())
        raise ValueError(f"Folder '{folder}' holds {len(series)} image series, expected one: {listing}")
    return next(iter(series.values()))
