"""Future liver remnant (FLR) ratios: how big the remnant is relative to the liver or the body.

The ratios are not interchangeable, so each has one definition here (``RATIO_DEFINITIONS``)
that tables, reports and JSON use to label the number with its unit and method (clinical
reference section 2). Volumes are in mL, weight in kg, BSA in m2. Results are not rounded:
rounding is for display (``QuantityDefinition.decimals``).
"""

from ..criteria.bodySize import checkedNumber, validateWeightKg
from ..results.quantityDefinition import QuantityDefinition

SFLR = "sFLR"
PERCENT_FLR = "percentFLR"
FUNCTIONAL_PERCENT_FLR = "functionalPercentFLR"
FLR_BWR = "flrBwr"
FLR_PER_BSA = "flrPerBsa"

# FLR-BWR compares a volume (mL) with a weight: liver is taken as 1 g/mL, so the weight in kg is
# turned into grams.
GRAMS_PER_KG = 1000.0

# Volumes summed from voxels in different orders can differ in the last bits; comparisons
# between them (FLR <= TLV, tumour <= its volume) allow this relative slack.
_ROUNDING_TOLERANCE = 1e-9


CLINICAL_REFERENCE_2 = "clinical reference section 2"


RATIO_DEFINITIONS = {
    ratio.key: ratio
    for ratio in (
        QuantityDefinition(
            SFLR,
            "Standardised future liver remnant (sFLR)",
            "%",
            "FLR / standard total liver volume (sTLV, estimated from body surface area) x 100; MD Anderson "
            "method, needs no measured total liver volume; the FLR is tumour-free when tumours are segmented",
            CLINICAL_REFERENCE_2,
            decimals=2,
            shortLabel="sFLR",
        ),
        QuantityDefinition(
            PERCENT_FLR,
            "Measured future liver remnant (%FLR)",
            "%",
            "FLR / measured total liver volume (TLV) x 100; tumour counted as liver",
            CLINICAL_REFERENCE_2,
            decimals=1,
            shortLabel="%FLR",
        ),
        QuantityDefinition(
            FUNCTIONAL_PERCENT_FLR,
            "Functional future liver remnant (functional %FLR)",
            "%",
            "(FLR - tumour inside the FLR) / (TLV - all tumour) x 100; measured, tumour excluded; preferred "
            "when tumours are segmented",
            CLINICAL_REFERENCE_2,
            decimals=1,
            shortLabel="functional %FLR",
        ),
        QuantityDefinition(
            FLR_BWR,
            "FLR to body weight ratio (FLR-BWR)",
            "%",
            "FLR (mL) / (body weight (kg) x 1000) x 100; liver taken as 1 g/mL; the FLR is tumour-free when tumours are segmented",
            CLINICAL_REFERENCE_2,
            decimals=3,
            shortLabel="FLR-BWR",
        ),
        QuantityDefinition(
            FLR_PER_BSA,
            "FLR per body surface area (FLR/BSA)",
            "mL/m2",
            "FLR (mL) / body surface area (m2); the FLR is tumour-free when tumours are segmented",
            CLINICAL_REFERENCE_2,
            decimals=1,
            shortLabel="FLR/BSA",
        ),
    )
}


def _volume(value, name):
    volume = checkedNumber(value, name, "a volume in mL")
    if volume < 0:
        raise ValueError(f"{name} {volume:g} mL is negative: expected a volume in mL (>= 0)")
    return volume


def _positiveVolume(value, name):
    # Denominators: a zero volume would make the ratio meaningless (an empty segmentation).
    volume = _volume(value, name)
    if volume == 0:
        raise ValueError(f"{name} is 0 mL: expected a volume in mL greater than 0")
    return volume


def _requireNotLarger(part, partName, whole, wholeName):
    if part > whole * (1.0 + _ROUNDING_TOLERANCE):
        raise ValueError(f"{partName} {part:g} mL is larger than {wholeName} {whole:g} mL: expected a part of it")


def _percent(numerator, denominator):
    return numerator / denominator * 100.0


def standardisedFutureLiverRemnant(flrMl, stlvMl):
    """sFLR (%) = FLR / standard total liver volume x 100."""
    flr = _volume(flrMl, "Future liver remnant (FLR)")
    stlv = _positiveVolume(stlvMl, "Standard total liver volume (sTLV)")
    return _percent(flr, stlv)


def measuredFutureLiverRemnantPercent(flrMl, tlvMl):
    """%FLR (%) = FLR / measured total liver volume x 100."""
    flr = _volume(flrMl, "Future liver remnant (FLR)")
    tlv = _positiveVolume(tlvMl, "Total liver volume (TLV)")
    _requireNotLarger(flr, "Future liver remnant (FLR)", tlv, "total liver volume (TLV)")
    return _percent(flr, tlv)


def functionalFutureLiverRemnantPercent(flrMl, tumourInFlrMl, tlvMl, totalTumourMl):
    """Functional %FLR (%) = (FLR - tumour inside the FLR) / (TLV - all tumour) x 100."""
    flr = _volume(flrMl, "Future liver remnant (FLR)")
    tumourInFlr = _volume(tumourInFlrMl, "Tumour inside the FLR")
    tlv = _positiveVolume(tlvMl, "Total liver volume (TLV)")
    totalTumour = _volume(totalTumourMl, "Total tumour volume")
    _requireNotLarger(flr, "Future liver remnant (FLR)", tlv, "total liver volume (TLV)")
    _requireNotLarger(tumourInFlr, "Tumour inside the FLR", flr, "the FLR")
    _requireNotLarger(totalTumour, "Total tumour volume", tlv, "total liver volume (TLV)")
    _requireNotLarger(tumourInFlr, "Tumour inside the FLR", totalTumour, "total tumour volume")
    # Tumour outside the remnant must fit in the liver outside the remnant, or the numerator
    # could exceed the denominator.
    _requireNotLarger(
        totalTumour - tumourInFlr, "Tumour outside the FLR", tlv - flr, "the liver outside the FLR (TLV - FLR)"
    )
    tumourFreeLiver = tlv - totalTumour
    if tumourFreeLiver <= tlv * _ROUNDING_TOLERANCE:
        raise ValueError(
            f"Tumour-free liver volume (TLV - all tumour) is 0 mL (TLV {tlv:g} mL, tumour {totalTumour:g} mL): "
            "expected liver outside the tumours"
        )
    return _percent(flr - tumourInFlr, tumourFreeLiver)


def remnantToBodyWeightRatio(flrMl, weightKg):
    """FLR-BWR (%) = FLR (mL) / (body weight (kg) x 1000) x 100."""
    flr = _volume(flrMl, "Future liver remnant (FLR)")
    weight = validateWeightKg(weightKg)
    return _percent(flr, weight * GRAMS_PER_KG)


def remnantPerBodySurfaceArea(flrMl, bsaM2):
    """FLR / BSA (mL/m2)."""
    flr = _volume(flrMl, "Future liver remnant (FLR)")
    bsa = checkedNumber(bsaM2, "Body surface area (BSA)", "square metres (e.g. 1.82)")
    if bsa <= 0:
        raise ValueError(f"Body surface area (BSA) {bsa:g} m2 must be positive: expected square metres (e.g. 1.82)")
    return flr / bsa


def resolutionHalfWidthMl(boundaryFacesPerAxis, spacingMm):
    """Half-width (mL) of a voxel volume's resolution interval: each boundary face may be off by
    half a voxel across it, so the volume spans +- (face area x half the voxel size across it)
    summed over the boundary faces, per axis. A worst-case bound from the voxel size alone
    (clinical reference section 2), not a measurement error."""
    spacing = [checkedNumber(value, "Voxel size", "a spacing in mm") for value in spacingMm]
    voxelVolume = spacing[0] * spacing[1] * spacing[2]
    halfWidthMm3 = sum(faces * (voxelVolume / size) * (size / 2.0) for faces, size in zip(boundaryFacesPerAxis, spacing))
    return halfWidthMm3 / 1000.0
