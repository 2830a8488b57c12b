"""The segment list of a .seg.nrrd checked before Slicer's segmentation reader sees it.

Slicer reads each segment's label value, layer and extent from the header's key/value pairs and
trusts them: a label value that is not a number becomes 0 and the segment is counted as the
whole background (a 'liver' of 5 litres), a layer beyond the file drops the segment without a
word, two segments with one ID keep only one, and an extent beyond the image aborts the process.
"""

import re

_SEGMENT_FIELD = re.compile(r"^Segment(\d+)_(\w+)$")


def _integers(text, count):
    try:
        values = [int(value) for value in str(text).split()]
    except ValueError:
        return None
    return values if len(values) == count else None


def _segmentFields(keyValues):
    """{segment number: {field: value}} of the header's SegmentN_Field:=value pairs."""
    segments = {}
    for key, value in keyValues.items():
        match = _SEGMENT_FIELD.match(key)
        if match:
            segments.setdefault(int(match.group(1)), {})[match.group(2)] = value
    return segments


def checkSegmentList(keyValues, size, layers, refuse):
    """``keyValues``: the header's key:=value pairs; ``size``: voxels along i, j, k; ``layers``:
    labelmap layers in the file. ``refuse(problem)`` raises the named refusal."""
    segments = _segmentFields(keyValues)
    if not segments:
        return
    numbers = sorted(segments)
    if numbers != list(range(len(numbers))):
        refuse(f"numbers its segments {numbers[:20]}: expected Segment0 to Segment{len(numbers) - 1} without gaps")
    ids, labels = {}, {}
    for number in numbers:
        fields = segments[number]
        name = fields.get("Name", "")
        what = f"segment {number} ('{name}')" if name else f"segment {number}"
        segmentId = fields.get("ID", "").strip()
        if not segmentId:
            refuse(f"gives {what} no ID: expected Segment{number}_ID")
        if segmentId in ids:
            refuse(f"gives {what} the ID '{segmentId}' of segment {ids[segmentId]}: expected one ID per segment")
        ids[segmentId] = number
        label = _integers(fields.get("LabelValue", ""), 1)
        if label is None or label[0] < 1:
            refuse(f"gives {what} the label value '{fields.get('LabelValue', '')}': expected a whole number of at least 1")
        layer = _integers(fields.get("Layer", "0"), 1)
        if layer is None or not 0 <= layer[0] < layers:
            refuse(f"puts {what} in layer '{fields.get('Layer', '')}': the file has {layers} layer(s) (0 to {layers - 1})")
        if (layer[0], label[0]) in labels:
            refuse(f"gives {what} layer {layer[0]} and label value {label[0]}, as segment {labels[(layer[0], label[0])]}: "
                   "two segments would share their voxels")
        labels[(layer[0], label[0])] = number
        if "Extent" in fields:
            extent = _integers(fields["Extent"], 6)
            if extent is None:
                refuse(f"gives {what} the extent '{fields['Extent']}': expected six whole numbers")
            for axis in range(3):
                low, high = extent[2 * axis], extent[2 * axis + 1]
                if low <= high and (low < 0 or high >= size[axis]):
                    refuse(f"gives {what} the extent {extent}, beyond the image's {size[0]} x {size[1]} x {size[2]} voxels")


def checkLayerValues(keyValues, layerValues, refuse):
    """Every non-zero voxel value of each layer must be the label value of a segment of that
    layer: otherwise the voxel type, byte order or segment list does not match the data (a
    byte order flipped by damage turns label 1 into 256 and every segment reads empty)."""
    segments = _segmentFields(keyValues)
    if not segments:
        return
    named = {}
    for fields in segments.values():
        layer = _integers(fields.get("Layer", "0"), 1)[0]
        named.setdefault(layer, set()).add(_integers(fields.get("LabelValue", ""), 1)[0])
    for layer, values in enumerate(layerValues):
        orphans = sorted(value for value in values if value and value not in named.get(layer, set()))
        if orphans:
            shown = ", ".join(str(value) for value in orphans[:8]) + (" ..." if len(orphans) > 8 else "")
            refuse(f"has voxels of value {shown} in layer {layer} that no segment claims (segments of that layer: "
                   f"{sorted(named.get(layer, set()))}): the voxel type, byte order or segment list does not match the data")
