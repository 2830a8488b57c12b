"""What the parenchyma-sparing analysis is given, checked: the margin and the contact distance in
range, the tumour segments, and the liver the margins are clipped to and the remnant is a share of."""

import math

from vtkmodules.vtkCommonCore import reference as vtkReference

from ..segments.segmentRecognition import ROLE_LIVER, ROLE_TUMOUR

# Clinical reference section 9: contact = distance <= 1 mm; margins from 1 cm down to 1 mm.
CONTACT_DISTANCE_MM = 1.0
DEFAULT_MARGIN_MM = 1.0
WIDE_MARGIN_MM = 10.0
MARGIN_CHOICES_MM = (DEFAULT_MARGIN_MM, WIDE_MARGIN_MM)
# Beyond these the input is a mistake: a margin of centimetres is no longer parenchyma-sparing,
# and a contact is not a distance of several millimetres.
MAXIMUM_MARGIN_MM = 20.0
MAXIMUM_CONTACT_DISTANCE_MM = 5.0
SECTION_9_SOURCE = "clinical reference section 9 (parenchyma-sparing hepatectomy; contact = distance <= 1 mm)"

# Tag on the segments the parenchyma-sparing plan adds (resection areas, vessel contact): a later
# run replaces them instead of adding beside them, and no analysis takes them for tumours or vessels.
GENERATED_TAG = "ALPPS.ParenchymaSparing"


def isGenerated(segment):
    """Whether the parenchyma-sparing plan added this segment (see GENERATED_TAG)."""
    return segment.GetTag(GENERATED_TAG, vtkReference(""))


def _checkedMillimetres(value, what, low, high, lowInclusive):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number of millimetres, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{what} must be a finite number of millimetres, got {value!r}")
    tooLow = number < low if lowInclusive else number <= low
    if tooLow or number > high:
        bound = ">=" if lowInclusive else ">"
        raise ValueError(f"{what} {number:g} mm is out of range: expected {bound} {low:g} mm and <= {high:g} mm")
    return number


def checkedMargin(marginMm):
    return _checkedMillimetres(marginMm, "Resection margin", 0.0, MAXIMUM_MARGIN_MM, lowInclusive=False)


def checkedContactDistance(contactDistanceMm):
    return _checkedMillimetres(contactDistanceMm, "Contact distance", 0.0, MAXIMUM_CONTACT_DISTANCE_MM, lowInclusive=True)


def marginText(marginMm):
    return f"{marginMm:g} mm"


def planKey(marginMm):
    """'parenchyma_sparing_1mm', 'parenchyma_sparing_10mm', 'parenchyma_sparing_2p5mm'."""
    return "parenchyma_sparing_" + f"{marginMm:g}".replace(".", "p") + "mm"


def tumourSegments(segmentationNode, roles):
    segmentation = segmentationNode.GetSegmentation()
    tumours = [
        segmentId for segmentId in roles.segmentsWithRole(ROLE_TUMOUR) if not isGenerated(segmentation.GetSegment(segmentId))
    ]
    if not tumours:
        raise ValueError(
            f"Segmentation '{segmentationNode.GetName()}' has no tumour segments: expected segments named e.g. 'Tumour 1', "
            "'lesion', 'metastasis', 'HCC' (or set a segment's role to tumour)"
        )
    return tumours


def liverForPlan(segmentationNode, roles):
    """(segment IDs, definition) of the liver a plan is a share of: Couinaud I-VIII when all are
    there (as for the major plans), else the whole-liver segment."""
    name = segmentationNode.GetName()
    units = roles.couinaudUnits()
    liverSegments = roles.segmentsWithRole(ROLE_LIVER)
    if len(liverSegments) > 1:
        names = ", ".join(f"'{roles.names[s]}'" for s in liverSegments)
        raise ValueError(f"Segmentation '{name}' has several whole-liver segments ({names}): keep one")
    if units and not roles.missingCouinaudSegments():
        return list(units.values()), "union of Couinaud segments I-VIII"
    if liverSegments:
        return liverSegments, f"whole-liver segment '{roles.names[liverSegments[0]]}'"
    missing = roles.missingCouinaudSegments()
    raise ValueError(
        f"Segmentation '{name}' has neither a whole-liver segment nor Couinaud segments I-VIII (missing {', '.join(missing)}): "
        "the margins are clipped to the liver and the remnant is a share of it"
    )


def liverSegmentsForFindings(segmentationNode, roles):
    """Every segment that is liver (Couinaud units and the whole-liver segment): a tumour must lie
    in one of them."""
    units = roles.couinaudUnits()
    liver = list(units.values()) + roles.segmentsWithRole(ROLE_LIVER)
    if not liver:
        raise ValueError(
            f"Segmentation '{segmentationNode.GetName()}' has neither a whole-liver segment nor Couinaud segments: "
            "expected the liver (e.g. 'Liver' or 'Segment I'..'Segment VIII') to place the tumours in"
        )
    return units, liver
