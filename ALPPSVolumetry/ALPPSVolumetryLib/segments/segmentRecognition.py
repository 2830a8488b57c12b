"""Which segment of a segmentation is which Couinaud segment: by terminology code first, then by
the name (typed names, TotalSegmentator ids)."""

import re

from vtkmodules.vtkCommonCore import reference

from . import couinaud

_TERMINOLOGY_CODE = re.compile(r"~SCT\^(\d+)\^")


def couinaudIdOfSegment(segment):
    """(Couinaud id, sub-segment or None) of a vtkSegment, or (None, None)."""
    entry = reference("")
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


# Roles a segment can play in volumetry. Couinaud units are the eight segments, with IV
# optionally split into IVa (superior) and IVb (inferior).
COUINAUD_UNITS = ("I", "II", "III", "IV", "IVa", "IVb", "V", "VI", "VII", "VIII")
ROLE_LIVER = "liver"
ROLE_TUMOUR = "tumour"
ROLE_OTHER = "other"
ROLES = COUINAUD_UNITS + (ROLE_LIVER, ROLE_TUMOUR, ROLE_OTHER)

_TUMOUR_WORDS = re.compile(r"tumou?r|lesion|metasta|\bhcc\b|crlm|carcinoma|cancer|neoplasm|\bmass\b|nodule|cholangio", re.I)
# SNOMED CT: Neoplasm (108369006) and Mass (4147007), the types Slicer's terminologies offer for tumours.
_TUMOUR_CODES = ("108369006", "4147007")
_LIVER_NAMES = ("liver", "whole liver", "liver parenchyma", "total liver")


def _terminologyCodes(segment):
    entry = reference("")
    return _TERMINOLOGY_CODE.findall(str(entry)) if segment.GetTag("TerminologyEntry", entry) else []


def recognizedRole(segment):
    """The role read from a segment's terminology code or name, before any user correction."""
    couinaudId, subSegment = couinaudIdOfSegment(segment)
    if couinaudId:
        return couinaudId + (subSegment or "")
    name = segment.GetName().strip()
    codes = _terminologyCodes(segment)
    if any(code in _TUMOUR_CODES for code in codes) or _TUMOUR_WORDS.search(name):
        return ROLE_TUMOUR
    if name.lower() in _LIVER_NAMES or (couinaud.LIVER_SNOMED_CODE in codes and "segment" not in name.lower()):
        return ROLE_LIVER
    return ROLE_OTHER


# A role the user corrected in the Volumetry panel, kept on the segment itself: saved with the
# scene (and in .seg.nrrd files), so that the Assessment panel, the report and the batch tool see
# the same correction.
ROLE_TAG = "ALPPS.Role"


def correctedRole(segment):
    """The role stored on ``segment`` by a correction, or None."""
    value = reference("")
    return str(value) if segment.GetTag(ROLE_TAG, value) and str(value) else None


def storeRoleCorrection(segmentationNode, segmentId, role):
    """Keep the user's role for a segment on the segment; a role equal to the recognised one removes
    the correction. ValueError for an unknown segment or role."""
    segment = segmentationNode.GetSegmentation().GetSegment(segmentId) if segmentationNode is not None else None
    if segment is None:
        raise ValueError(f"Segment '{segmentId}' is not in the segmentation: expected a segment of '{getattr(segmentationNode, 'GetName', lambda: '')()}'")
    role = str(role).strip()
    if role not in ROLES:
        raise ValueError(f"Role '{role}' is unknown: expected one of {', '.join(ROLES)}")
    if role == recognizedRole(segment):
        segment.RemoveTag(ROLE_TAG)
    else:
        segment.SetTag(ROLE_TAG, role)


def storeRoleCorrections(segmentationNode, corrections):
    """Keep several corrections, ``corrections`` mapping a segment ID or name to a role (the batch
    tool's --role); every one is checked before any is stored. ValueError naming what is unknown."""
    segmentation = segmentationNode.GetSegmentation()
    idsByName = {segmentation.GetSegment(segmentId).GetName(): segmentId for segmentId in segmentation.GetSegmentIDs()}
    checked, unknown = [], []
    for key, role in dict(corrections or {}).items():
        segmentId = key if segmentation.GetSegment(key) is not None else idsByName.get(key)
        if segmentId is None:
            unknown.append(key)
        elif str(role).strip() not in ROLES:
            raise ValueError(f"Role '{role}' given for segment '{key}' is unknown: expected one of {', '.join(ROLES)}")
        else:
            checked.append((segmentId, role))
    if unknown:
        raise ValueError(
            f"Segment role corrections name segments that '{segmentationNode.GetName()}' does not have: {', '.join(sorted(unknown))}"
        )
    for segmentId, role in checked:
        storeRoleCorrection(segmentationNode, segmentId, role)


class SegmentRoles:
    """What each segment of a segmentation is: Couinaud unit, whole liver, tumour or other, as
    recognised from its name or terminology, or as corrected by the user. Corrections are kept on
    the segments (ROLE_TAG), so every function given the segmentation - both modules' panels, the
    report, the DICOM export and the batch tool - reads the same roles; none travels beside it."""

    def __init__(self, segmentationNode):
        self.segmentationName = segmentationNode.GetName()
        segmentation = segmentationNode.GetSegmentation()
        self.names = {}
        self.roles = {}
        self.recognized = {}
        for segmentId in segmentation.GetSegmentIDs():
            segment = segmentation.GetSegment(segmentId)
            self.names[segmentId] = segment.GetName()
            self.recognized[segmentId] = recognizedRole(segment)
            role = correctedRole(segment) or self.recognized[segmentId]
            if role not in ROLES:
                raise ValueError(f"Role '{role}' stored for segment '{segment.GetName()}' is unknown: expected one of {', '.join(ROLES)}")
            self.roles[segmentId] = role

    def segmentsWithRole(self, role):
        return [segmentId for segmentId, value in self.roles.items() if value == role]

    def couinaudUnits(self):
        """{unit: segmentId} for the Couinaud units present; raises ValueError on duplicates and
        on IV given both whole and split."""
        units, duplicates = {}, []
        for segmentId, role in self.roles.items():
            if role in COUINAUD_UNITS:
                if role in units:
                    duplicates.append(f"{role}: '{self.names[units[role]]}' and '{self.names[segmentId]}'")
                units[role] = segmentId
        if duplicates:
            raise ValueError(
                f"Segmentation '{self.segmentationName}' gives a Couinaud segment more than once ({'; '.join(duplicates)}): "
                "correct the segment roles so that each segment appears once"
            )
        if "IV" in units and ("IVa" in units or "IVb" in units):
            raise ValueError(
                f"Segmentation '{self.segmentationName}' has segment IV both whole ('{self.names[units['IV']]}') and split "
                "into IVa/IVb: keep either IV or IVa and IVb"
            )
        if ("IVa" in units) != ("IVb" in units):
            present = "IVa" if "IVa" in units else "IVb"
            raise ValueError(
                f"Segmentation '{self.segmentationName}' has {present} ('{self.names[units[present]]}') without its other half: "
                "segment IV split needs both IVa and IVb"
            )
        return units

    def missingCouinaudSegments(self):
        units = self.couinaudUnits()
        return [
            segmentId
            for segmentId in couinaud.SEGMENT_IDS
            if segmentId not in units and not (segmentId == "IV" and "IVa" in units and "IVb" in units)
        ]

    def asRows(self):
        """(segment ID, name, recognised role, role used) per segment: the correctable mapping table."""
        return [(segmentId, self.names[segmentId], self.recognized[segmentId], self.roles[segmentId]) for segmentId in self.roles]
