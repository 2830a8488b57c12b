"""Label tables of widely used segmentation tools, so that their label maps can be read without
typing every label name.

TotalSegmentator (Wasserthal et al., Radiol Artif Intell 2023; label tables in its
``totalsegmentator/map_to_binary.py``, ``class_map``): the ``total`` task (v2, 117 labels) and
the ``liver_segments`` task (Couinaud segments 1-8). Only the labels ALPPS uses are named; the
others are left out of the import and listed in a note, as for any mapping naming some labels.
"""

# TotalSegmentator v2 'total': label values of the structures ALPPS uses, under ALPPS's names.
TOTALSEGMENTATOR_TOTAL = {
    1: "Spleen",
    4: "Gallbladder",
    5: "Liver",
    52: "Aorta",
    63: "Inferior vena cava",
    64: "Portal vein and splenic vein",
}

# TotalSegmentator 'liver_segments': liver_segment_1 .. liver_segment_8 are Couinaud I-VIII.
TOTALSEGMENTATOR_LIVER_SEGMENTS = {
    value: f"Segment {numeral}" for value, numeral in enumerate(("I", "II", "III", "IV", "V", "VI", "VII", "VIII"), start=1)
}

class LabelNames(dict):
    """{label value: segment name}; ``wholeTable`` marks a preset naming a whole label table,
    of which a label map holds only some labels (named labels without voxels are then fine)."""

    wholeTable = False


PRESETS = {
    "total": TOTALSEGMENTATOR_TOTAL,
    "liver_segments": TOTALSEGMENTATOR_LIVER_SEGMENTS,
}
_PREFIX = "totalsegmentator:"


def presetLabels(text):
    """{value: name} of preset ``text`` ('total', 'liver_segments', optionally prefixed
    'totalsegmentator:'), or None when ``text`` names no preset."""
    key = str(text).strip().lower()
    if key.startswith(_PREFIX):
        key = key[len(_PREFIX):]
    table = PRESETS.get(key)
    if table is None:
        return None
    names = LabelNames(table)
    names.wholeTable = True
    return names
