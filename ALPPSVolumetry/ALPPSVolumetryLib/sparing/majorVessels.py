"""The major vessels a tumour is measured against (right, middle and left hepatic vein, the
accessory vein of segment VIII, the portal pedicles, or the hepatic and portal veins as one
segment each): the one table of their names and codes, and which segments of a segmentation
they are."""

import re
from dataclasses import dataclass

from vtkmodules.vtkCommonCore import reference as vtkReference

from ..segments.segmentRecognition import ROLE_TUMOUR
from .sparingInputs import isGenerated


@dataclass(frozen=True)
class MajorVessel:
    key: str
    label: str  # as reported to the user
    names: tuple  # normalised names people and tools type (see normalisedVesselName)
    codes: tuple = ()  # SNOMED CT codes that mean this vessel in a segment's terminology


# The one table of vessel names. Specific vessels first: a name is matched whole, never as a part
# of a longer name, so 'Portal vein tumour thrombus' is not the portal vein.
MAJOR_VESSELS = (
    MajorVessel("rightHepaticVein", "right hepatic vein", ("right hepatic vein", "rhv", "right hv", "vena hepatica dextra")),
    MajorVessel("middleHepaticVein", "middle hepatic vein", ("middle hepatic vein", "mhv", "middle hv", "vena hepatica media")),
    MajorVessel("leftHepaticVein", "left hepatic vein", ("left hepatic vein", "lhv", "left hv", "vena hepatica sinistra")),
    MajorVessel(
        "accessoryVeinVIII",
        "accessory vein of segment VIII (V8)",
        (
            "v8",
            "accessory v8",
            "accessory vein v8",
            "accessory vein of segment viii",
            "accessory vein of segment 8",
            "accessory hepatic vein of segment viii",
            "accessory hepatic vein of segment 8",
            "segment viii vein",
            "segment 8 vein",
        ),
    ),
    MajorVessel(
        "rightPortalPedicle",
        "right portal pedicle",
        ("right portal pedicle", "right glissonean pedicle", "right glissonian pedicle", "right pedicle", "right portal vein", "rpv"),
    ),
    MajorVessel(
        "leftPortalPedicle",
        "left portal pedicle",
        ("left portal pedicle", "left glissonean pedicle", "left glissonian pedicle", "left pedicle", "left portal vein", "lpv"),
    ),
    MajorVessel(
        "portalVein",
        "portal vein",
        (
            "portal vein",
            "portal veins",
            "main portal vein",
            "pv",
            "portal pedicle",
            "portal pedicles",
            "glissonean pedicles",
            "portal vein and splenic vein",
        ),
        ("32764006",),
    ),
    MajorVessel("hepaticVeins", "hepatic veins", ("hepatic vein", "hepatic veins", "hv", "hvs"), ("8993003",)),
    MajorVessel(
        "liverVessels",
        "liver vessels (hepatic and portal veins together)",
        ("liver vessels", "liver vessel", "hepatic vessels", "hepatic vessel", "intrahepatic vessels"),
    ),
)
_VESSEL_BY_NAME = {name: vessel for vessel in MAJOR_VESSELS for name in vessel.names}
_VESSEL_BY_CODE = {code: vessel for vessel in MAJOR_VESSELS for code in vessel.codes}


def normalisedVesselName(name):
    """Lower case, '_' and '-' as spaces, single spaces: 'Right_Hepatic-Vein ' -> 'right hepatic vein'."""
    text = str(name).strip().lower().replace("_", " ").replace("-", " ")
    return " ".join(text.split())


def _nameCandidates(name):
    # 'Right hepatic vein (RHV)' is either of its parts.
    text = normalisedVesselName(name)
    candidates = [text]
    if "(" in text and text.endswith(")"):
        outside, _, inside = text[:-1].partition("(")
        candidates += [outside.strip(), inside.strip()]
    return candidates


def vesselFromName(name):
    """The MajorVessel a typed name means, or None."""
    for candidate in _nameCandidates(name):
        if candidate in _VESSEL_BY_NAME:
            return _VESSEL_BY_NAME[candidate]
    return None


_TERMINOLOGY_CODE = re.compile(r"~SCT\^(\d+)\^")  # as segmentRecognition reads SNOMED CT codes


def _terminologyCodes(segment):
    entry = vtkReference("")
    return _TERMINOLOGY_CODE.findall(str(entry)) if segment.GetTag("TerminologyEntry", entry) else []


def vesselOfSegment(segment):
    """The MajorVessel a segment is, by its name first (more specific), then by its terminology
    code (hepatic vein, portal vein); None for any other segment."""
    vessel = vesselFromName(segment.GetName())
    if vessel is not None:
        return vessel
    for code in _terminologyCodes(segment):
        if code in _VESSEL_BY_CODE:
            return _VESSEL_BY_CODE[code]
    return None


def _segmentIdOf(segmentation, idOrName):
    if segmentation.GetSegment(str(idOrName)) is not None:
        return str(idOrName)
    segmentId = segmentation.GetSegmentIdBySegmentName(str(idOrName))
    return segmentId or None


def recognizeVessels(segmentationNode, vesselSegmentIds=None, roles=None):
    """``[(vessel label, segment ID)]`` of the major vessels to measure.

    Without ``vesselSegmentIds`` every segment recognised by name or code (MAJOR_VESSELS) is
    used. ``vesselSegmentIds`` ({vessel name: segment ID or segment name}) replaces the
    recognition: exactly these vessels are measured, a known name (e.g. 'RHV') being reported
    by its clinical label and any other name as given. ValueError for unknown segments, and for
    two segments recognised as the same vessel.
    """
    segmentation = segmentationNode.GetSegmentation()
    name = segmentationNode.GetName()
    if vesselSegmentIds is not None:
        if not isinstance(vesselSegmentIds, dict):
            raise ValueError(f"vesselSegmentIds must map vessel names to segment IDs or names, got {vesselSegmentIds!r}")
        vessels = []
        for vesselName, idOrName in vesselSegmentIds.items():
            if not str(vesselName).strip():
                raise ValueError(f"vesselSegmentIds names a vessel with an empty name (segment {idOrName!r}): expected e.g. 'RHV'")
            segmentId = _segmentIdOf(segmentation, idOrName)
            if segmentId is None:
                raise ValueError(
                    f"Vessel '{vesselName}': segmentation '{name}' has no segment with ID or name {idOrName!r} "
                    f"(it has {', '.join(repr(segmentation.GetSegment(s).GetName()) for s in segmentation.GetSegmentIDs()) or 'no segments'})"
                )
            known = vesselFromName(vesselName)
            vessels.append((known.label if known else str(vesselName).strip(), segmentId))
        return vessels
    tumours = set(roles.segmentsWithRole(ROLE_TUMOUR)) if roles is not None else set()
    found = {}
    for segmentId in segmentation.GetSegmentIDs():
        segment = segmentation.GetSegment(segmentId)
        if segmentId in tumours or isGenerated(segment):
            continue
        vessel = vesselOfSegment(segment)
        if vessel is not None:
            found.setdefault(vessel.key, []).append(segmentId)
    duplicates = [
        f"{vessel.label}: " + ", ".join(f"'{segmentation.GetSegment(s).GetName()}'" for s in found[vessel.key])
        for vessel in MAJOR_VESSELS
        if len(found.get(vessel.key, ())) > 1
    ]
    if duplicates:
        raise ValueError(
            f"Segmentation '{name}' gives a vessel more than once ({'; '.join(duplicates)}): keep one segment per vessel, "
            "or say which one to use with vesselSegmentIds"
        )
    return [(vessel.label, found[vessel.key][0]) for vessel in MAJOR_VESSELS if vessel.key in found]
