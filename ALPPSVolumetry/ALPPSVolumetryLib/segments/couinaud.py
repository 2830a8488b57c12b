"""Couinaud liver segments: identifiers, standard codes, colours, and recognition of the names
people and tools give them.

The one source of these facts for the whole extension. Codes are SNOMED CT as used by
TotalSegmentator's Slicer terminology mapping (clinical reference section 3).
"""

import re

# Identifier (Roman numeral as radiologists write it), SNOMED CT code, meaning, colour (RGB 0-1).
# A distinct hue per segment, kept clear of the colours that mean something else in every view and
# the report: green (the future liver remnant), orange and red (the resected liver) and yellow
# (tumours). Slicer's bundled terminologies have no Couinaud segments to take colours from.
COUINAUD_SEGMENTS = (
    ("I", "71133005", "Caudate lobe of liver", (0.55, 0.35, 0.20)),
    ("II", "277956007", "Couinaud hepatic segment II", (0.20, 0.45, 0.85)),
    ("III", "277957003", "Couinaud hepatic segment III", (0.45, 0.80, 0.95)),
    ("IV", "277958008", "Couinaud hepatic segment IV", (0.55, 0.35, 0.80)),
    ("V", "277959000", "Couinaud hepatic segment V", (0.90, 0.45, 0.70)),
    ("VI", "277960005", "Couinaud hepatic segment VI", (0.15, 0.20, 0.50)),
    ("VII", "277961009", "Couinaud hepatic segment VII", (0.78, 0.62, 0.95)),
    ("VIII", "277962002", "Couinaud hepatic segment VIII", (0.60, 0.15, 0.40)),
)

SEGMENT_IDS = tuple(segment[0] for segment in COUINAUD_SEGMENTS)
SNOMED_CODE = {segment[0]: segment[1] for segment in COUINAUD_SEGMENTS}
CODE_MEANING = {segment[0]: segment[2] for segment in COUINAUD_SEGMENTS}
SEGMENT_COLOR = {segment[0]: segment[3] for segment in COUINAUD_SEGMENTS}

LIVER_SNOMED_CODE = "10200004"

_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8}
_NUMBER_TO_ID = {number: segment for segment, number in zip(SEGMENT_IDS, range(1, 9))}
_CODE_TO_ID = {code: segment for segment, code in SNOMED_CODE.items()}

# "II", "2", "S2", "Seg 2", "Segment II", "Couinaud segment 2", "liver_segment_2",
# "Liver segment II", optionally followed by a/b (sub-segments of IV: IVa superior, IVb inferior).
_SEGMENT_NAME = re.compile(
    r"^(?:(?:couinaud|liver|hepatic)[\s_-]*)*(?:(?:segment|seg|s)[\s_.-]*)?"
    r"(?P<number>[1-8]|viii|vii|vi|iv|v|iii|ii|i)(?P<sub>[ab])?$"
)


def segmentIdFromName(name):
    """Return ``(segmentId, subSegment)`` for a name such as 'S2', 'IVa', 'caudate',
    'liver_segment_4', or ``(None, None)`` when the name is not a Couinaud segment."""
    text = re.sub(r"\s+", " ", str(name).strip().lower())
    if text in ("caudate", "caudate lobe", "caudate lobe of liver", "spigelian lobe"):
        return "I", None
    match = _SEGMENT_NAME.match(text)
    if not match:
        return None, None
    number = match.group("number")
    number = int(number) if number.isdigit() else _ROMAN[number]
    subSegment = match.group("sub")
    if subSegment and number != 4:
        # Only segment IV is split (IVa/IVb) in the Couinaud-Bismuth scheme.
        return None, None
    return _NUMBER_TO_ID[number], (subSegment.lower() if subSegment else None)


def segmentIdFromCode(code):
    """Segment identifier for a SNOMED CT code value, or None."""
    return _CODE_TO_ID.get(str(code).strip())


def terminologyEntry(segmentId):
    """Slicer terminology tag string for a Couinaud segment (Slicer 5.x serialisation)."""
    return _terminologyEntry(SNOMED_CODE[segmentId], CODE_MEANING[segmentId])


def liverTerminologyEntry():
    return _terminologyEntry(LIVER_SNOMED_CODE, "Liver")


def terminologyEntryOfCode(code, meaning):
    """Slicer terminology tag string for any SNOMED CT anatomy or finding code (e.g. read from a DICOM SEG)."""
    return _terminologyEntry(code, meaning)


def _terminologyEntry(code, meaning):
    return (
        "Segmentation category and type - 3D Slicer General Anatomy list"
        "~SCT^123037004^Anatomical Structure"
        f"~SCT^{code}^{meaning}"
        "~^^"
        "~Anatomic codes - DICOM master list"
        "~^^"
        "~^^"
    )
