"""A DICOM SEG as the input segmentation (wherever a .seg.nrrd is accepted), read with highdicom
onto its own grid in patient space, segments named by their labels and coded by their property
type (so Couinaud segments are recognised by SNOMED CT code); and the check that it was made on
the CT it is measured with."""

import os

import numpy as np

from . import couinaud
from ..inputs.dicomFolder import readHeader
from ..optionalPackages import requirePackage
from .segmentationImport import importMaskArrays

SEGMENTATION_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"
# Where a segmentation read from DICOM SEG keeps the series it references (space-separated UIDs).
REFERENCED_SERIES_ATTRIBUTE = "ALPPS.DicomSegReferencedSeries"
SOURCE_FILE_ATTRIBUTE = "ALPPS.DicomSegFile"
_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
# The algorithm family ALPPS gives the segments it derives from the others (liver, remnant,
# resected liver, IV as IVa + IVb): on reading they are left out, the volumetry derives them again.
DERIVED_SEGMENT_FAMILY = ("ALPPS120", "99ALPPS", "Union of segments")


def _isDerivedByAlpps(description):
    for algorithm in description.get("SegmentationAlgorithmIdentificationSequence", ()):
        for family in algorithm.get("AlgorithmFamilyCodeSequence", ()):
            if (str(family.CodeValue), str(family.CodingSchemeDesignator)) == DERIVED_SEGMENT_FAMILY[:2]:
                return True
    return False


def isDicomSegmentation(path):
    header = readHeader(path) if os.path.isfile(path) else None
    return header is not None and str(header.get("SOPClassUID", "")) == SEGMENTATION_STORAGE


def referencedSeriesUids(dataset):
    return [str(item.SeriesInstanceUID) for item in dataset.get("ReferencedSeriesSequence", ())]


def loadDicomSegmentation(scene, path, name):
    """A segmentation node from the DICOM SEG file ``path``: one segment per SEG segment, except
    those ALPPS derived from the others."""
    hd = requirePackage("highdicom")
    try:
        seg = hd.seg.segread(path)
        volume = seg.get_volume(combine_segments=False)
    except Exception as error:  # highdicom raises many kinds for a SEG it cannot place in 3D
        raise ValueError(f"DICOM SEG '{path}' could not be read as a volume: {error}") from None
    # highdicom's volume is indexed [slice, row, column] in LPS; Slicer's arrays are [k, j, i] in RAS.
    ijkToRAS = _LPS_TO_RAS @ np.asarray(volume.affine)[:, [2, 1, 0, 3]]
    masks, colors, codes = {}, {}, {}
    for channel, number in enumerate(seg.segment_numbers):
        description = seg.get_segment_description(number)
        if _isDerivedByAlpps(description):
            continue
        label = str(description.segment_label)
        if label in masks:
            raise ValueError(f"DICOM SEG '{path}' has two segments labelled '{label}': expected distinct labels")
        masks[label] = np.asarray(volume.array[..., channel]) != 0
        propertyType = description.segmented_property_type
        codes[label] = (str(propertyType.value), str(propertyType.scheme_designator), str(propertyType.meaning))
        if couinaud.segmentIdFromCode(propertyType.value):
            colors[label] = couinaud.SEGMENT_COLOR[couinaud.segmentIdFromCode(propertyType.value)]
    segmentationNode = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", name)
    segmentationNode.CreateDefaultDisplayNodes()
    segmentIds = importMaskArrays(segmentationNode, masks, ijkToRAS, colors)
    segmentation = segmentationNode.GetSegmentation()
    for label, segmentId in segmentIds.items():
        value, scheme, meaning = codes[label]
        segment = segmentation.GetSegment(segmentId)
        if scheme in ("SCT", "SRT"):
            segment.SetTag("TerminologyEntry", couinaud.terminologyEntryOfCode(value, meaning))
    segmentationNode.SetAttribute(REFERENCED_SERIES_ATTRIBUTE, " ".join(referencedSeriesUids(seg)))
    segmentationNode.SetAttribute(SOURCE_FILE_ATTRIBUTE, path)
    return segmentationNode


def checkReferencesVolume(segmentationNode, volumeNode):
    """For a segmentation read from DICOM SEG: ValueError unless it references the series the
    volume was read from (the CT it is measured with). Others pass unchecked."""
    referenced = (segmentationNode.GetAttribute(REFERENCED_SERIES_ATTRIBUTE) or "").split()
    if segmentationNode.GetAttribute(SOURCE_FILE_ATTRIBUTE) is None:
        return
    segPath = segmentationNode.GetAttribute(SOURCE_FILE_ATTRIBUTE)
    storage = volumeNode.GetStorageNode()
    header = readHeader(storage.GetFileName()) if storage is not None and storage.GetFileName() else None
    if header is None or "SeriesInstanceUID" not in header:
        raise ValueError(
            f"DICOM SEG '{segPath}' can only be checked against a CT read from DICOM: give volume '{volumeNode.GetName()}' as its "
            "DICOM series folder"
        )
    seriesUid = str(header.SeriesInstanceUID)
    if seriesUid not in referenced:
        raise ValueError(
            f"DICOM SEG '{segPath}' references series {', '.join(referenced) or '(none)'}, not the CT '{volumeNode.GetName()}' "
            f"(series {seriesUid}): expected a segmentation made on this CT"
        )
