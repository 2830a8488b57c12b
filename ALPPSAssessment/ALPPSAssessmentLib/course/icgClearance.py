"""ICG clearance (clinical reference section 7): retention at 15 min (R15) and plasma
disappearance rate (PDR) of one mono-exponential clearance, R15 = 100 exp(-0.15 PDR), and the
remnant's PDR = PDR x FLR / TLV; shown with the imaging of liver function (section 8).
"""

import math

from ALPPSVolumetryLib.criteria.bodySize import UNCHECKED
from ALPPSVolumetryLib.results.quantityDefinition import QuantityDefinition
from ALPPSVolumetryLib.planning.remnantRatios import measuredFutureLiverRemnantPercent

from .laboratoryUnits import (
    ICG_PDR,
    ICG_R15,
    ICG_RETENTION_MINUTES,
    PERCENT,
    PERCENT_PER_FRACTION,
    PERCENT_PER_MIN,
    canonicalValue,
    icgRetentionPercent,
)

ICG_SOURCE = "clinical reference section 7 (mono-exponential ICG clearance; no primary paper named)"

REMNANT_PDR = "remnantPdr"
# ICG_PDR and ICG_R15 key both their quantity in laboratoryUnits.UNITS and their definition here.

# The ICG lines of the clinical reference carry no status mark: unchecked.
ICG_DEFINITIONS = {
    definition.key: definition
    for definition in (
        QuantityDefinition(
            ICG_R15,
            "ICG retention at 15 min (R15)",
            PERCENT,
            "100 exp(-0.15 PDR), PDR in %/min: mono-exponential clearance over 15 min",
            ICG_SOURCE,
            UNCHECKED,
            1,
        ),
        QuantityDefinition(
            ICG_PDR,
            "ICG plasma disappearance rate (PDR)",
            PERCENT_PER_MIN,
            "-ln(R15 / 100) / 0.15, R15 in %: inverse of R15 = 100 exp(-0.15 PDR)",
            ICG_SOURCE,
            UNCHECKED,
            1,
        ),
        QuantityDefinition(
            REMNANT_PDR,
            "Remnant ICG PDR",
            PERCENT_PER_MIN,
            "PDR (%/min) x FLR / TLV (volumes in mL, the same kind for both: measured or tumour-free)",
            ICG_SOURCE,
            UNCHECKED,
            2,
        ),
    )
}


def icgR15FromPdr(pdrPercentPerMin):
    """ICG retention at 15 min (%) = 100 exp(-0.15 PDR), PDR in %/min (mono-exponential)."""
    return icgRetentionPercent(canonicalValue(ICG_PDR, pdrPercentPerMin))


def icgPdrFromR15(r15Percent):
    """ICG plasma disappearance rate (%/min) = -ln(R15 / 100) / 0.15, R15 in %."""
    r15 = canonicalValue(ICG_R15, r15Percent)
    return -math.log(r15 / PERCENT_PER_FRACTION) * PERCENT_PER_FRACTION / ICG_RETENTION_MINUTES


def remnantPdr(pdrPercentPerMin, flrMl, tlvMl):
    """Remnant PDR (%/min) = PDR x FLR / TLV. FLR and TLV in mL, of the same kind (both measured
    or both tumour-free); FLR may not exceed TLV."""
    pdr = canonicalValue(ICG_PDR, pdrPercentPerMin)
    return pdr * measuredFutureLiverRemnantPercent(flrMl, tlvMl) / PERCENT_PER_FRACTION
