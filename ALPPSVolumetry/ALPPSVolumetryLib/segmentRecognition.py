"""Which segment of a segmentation is which Couinaud segment: by terminology code first, then by
the name (typed names, TotalSegmentator ids)."""

import re

import vtk

from . import couinaud

_TERMINOLOGY_CODE = re.compile(r"~SCT\^(\d+)\^")


def couinaudIdOfSegment(segment):
    """(Couinaud id, sub-segment or None) of a vtkSegment, or (None, None)."""
    entry = vtk.reference("")
    if segment.GetTag("TerminologyEntry", entry):
        for code in _TERMINOLOGY_CODE.findall(str(entry)):
            segmentId = couinaud.segmentIdFromCode(code)
            if segmentId:
                # The code says which segment; only the name can say IVa or IVb.
                _, subSegment = couinaud.segmentIdFromName(segment.GetName())
                return segmentId, subSegment if segmentId == "IV" else None
    return couinaud.segmentIdFromName(segment.GetName())


def recognizeCouinaudSegments(segmentationNode):
    """Map Couinaud ids to segment IDs: ``{'I': ['S_1'], 'IV': ['S_4a', 'S_4b'], ...}``.

    Raises ValueError naming the segments when one Couinaud segment is given twice (IVa and
    IVb are parts of IV, not duplicates).
    """
    segmentation = segmentationNode.GetSegmentation()
    found = {}
    for segmentId in segmentation.GetSegmentIDs():
        segment = segmentation.GetSegment(segmentId)
        couinaudId, subSegment = couinaudIdOfSegment(segment)
        if couinaudId:
            found.setdefault(couinaudId, []).append((subSegment, segmentId, segment.GetName()))
    duplicates = []
    for couinaudId, entries in found.items():
        subSegments = [entry[0] for entry in entries]
        if len(entries) > 1 and (None in subSegments or len(set(subSegments)) != len(subSegments)):
            duplicates.append(f"{couinaudId}: " + ", ".join(f"'{entry[2]}'" for entry in entries))
    if duplicates:
        raise ValueError(
            f"Segmentation '{segmentationNode.GetName()}' names a Couinaud segment more than once "
            f"({'; '.join(duplicates)}): keep one segment per Couinaud segment (IVa/IVb may be split)"
        )
    return {couinaudId: [entry[1] for entry in entries] for couinaudId, entries in found.items()}


def requireCouinaudSegments(segmentationNode, couinaudIds=couinaud.SEGMENT_IDS):
    """Like recognizeCouinaudSegments, and raise ValueError naming any of ``couinaudIds`` missing."""
    recognized = recognizeCouinaudSegments(segmentationNode)
    missing = [couinaudId for couinaudId in couinaudIds if couinaudId not in recognized]
    if missing:
        raise ValueError(
            f"Segmentation '{segmentationNode.GetName()}' lacks Couinaud segment(s) {', '.join(missing)}: "
            "expected segments named e.g. 'Segment II', 'S2', 'II' or coded with SNOMED CT"
        )
    return recognized
