"""Couinaud volumetry and the future liver remnant of each resection plan: the numbers the
widget, the batch command, the tests and the report all share.

Every number carries its unit and method (remnantRatios.RATIO_DEFINITIONS); the formulas and
thresholds used are stored with the result.
"""

import dataclasses
import math
from dataclasses import dataclass, field
from typing import List, Optional

from ..criteria import adequacy, bodySize, clinicalCriteria
from . import remnantRatios
from ..results import resultFields
from ..segments.couinaud import SEGMENT_IDS
from ..segments.liverComposition import LiverComposition
from ..segments.segmentOverlap import SegmentOverlapHistogram
from ..segments.segmentRecognition import ROLE_LIVER, ROLE_TUMOUR, SegmentRoles
from ..segments.segmentVolumes import VOLUME_METHOD

# Above this share of the liver, whole-liver voxels outside every Couinaud segment are worth a
# warning: the segments then do not describe the liver that was segmented.
_UNCOVERED_LIVER_WARNING_PERCENT = 1.0


@dataclass
class VolumetrySettings:
    heightCm: Optional[float] = None
    weightKg: Optional[float] = None
    bsaFormula: Optional[str] = None  # None: Mosteller, or the BSA the sTLV equation requires
    stlvFormula: str = "vauthey"
    liverCondition: str = "normal"
    thresholds: Optional[object] = None  # adequacy.AdequacyThresholds; defaults for the condition

    def adequacyThresholds(self):
        return self.thresholds or adequacy.defaultThresholds(self.liverCondition)


@dataclass
class SegmentResult:
    segment: str  # I..VIII, or IVa/IVb when IV is split
    volumeMl: float
    tumourMl: float
    tumourFreeMl: float
    shareOfLiverPercent: float
    segmentNames: List[str]


@dataclass
class PlanResult:
    key: str
    label: str
    remnantSegments: tuple
    resectedSegments: tuple
    remnantMl: float
    resectedMl: float
    tumourInRemnantMl: float
    percentFLR: float
    functionalPercentFLR: Optional[float]
    sFLR: Optional[float]
    flrBwr: Optional[float]
    flrPerBsa: Optional[float]
    flags: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    # The FLR that enters sFLR, FLR-BWR and FLR/BSA: tumour-free when tumours are segmented
    # (clinical reference section 2); remnantMl stays the gross remnant.
    tumourFreeRemnantMl: Optional[float] = None
    ratioBasis: str = ""
    # Resolution intervals (low, high): half a voxel across the boundary of the FLR used for the ratios.
    remnantIntervalMl: Optional[tuple] = None
    sFLRInterval: Optional[tuple] = None
    flrBwrInterval: Optional[tuple] = None
    # Tumour left in the remnant: a warning flag (None when no tumour is segmented).
    tumourFlag: Optional[object] = None

    @property
    def ratioRemnantMl(self):
        return self.remnantMl if self.tumourFreeRemnantMl is None else self.tumourFreeRemnantMl


@dataclass
class VolumetryResult:
    segmentationName: str
    segments: List[SegmentResult]
    totalLiverMl: float
    totalTumourMl: float
    tumourVolumesMl: dict
    body: Optional[object]  # bodySize.StandardLiverVolume
    settings: VolumetrySettings
    plans: List[PlanResult]
    warnings: List[str]
    segmentRoles: list


def _segmentResults(composition):
    total = composition.totalLiverMl()
    names = composition.roles.names
    results = []
    units = list(SEGMENT_IDS)
    if "IVa" in composition.unitBits:
        units[units.index("IV") + 1 : units.index("IV") + 1] = ["IVa", "IVb"]
    for unit in units:
        bits = composition.unitsOf([unit])
        segmentIds = [composition.unitSegmentIds[u] for u in ("IV", "IVa", "IVb") if u in composition.unitSegmentIds] if unit == "IV" else [composition.unitSegmentIds[unit]]
        volume = composition.volumeMl(bits)
        tumour = composition.volumeMl(bits, tumourOnly=True)
        results.append(
            SegmentResult(
                segment=unit,
                volumeMl=volume,
                tumourMl=tumour,
                tumourFreeMl=volume - tumour,
                shareOfLiverPercent=100.0 * volume / total,
                segmentNames=[names[segmentId] for segmentId in segmentIds],
            )
        )
    return results


def _warnings(composition, segments, body):
    warnings = []
    overlap = composition.couinaudOverlapMl()
    if overlap > 0:
        warnings.append(
            f"Couinaud segments overlap by {overlap:.2f} mL: per-segment volumes count the overlap in each segment, "
            "remnant and total liver volumes count it once"
        )
    tumourOverlap = composition.tumourOverlapMl()
    if tumourOverlap > 0:
        warnings.append(f"Tumour segments overlap by {tumourOverlap:.2f} mL: total tumour volume counts their union")
    outside = composition.tumourOutsideLiverMl()
    if outside > 0:
        warnings.append(f"{outside:.2f} mL of tumour lie outside every Couinaud segment and are not part of the liver volume")
    uncovered = composition.liverOutsideCouinaudMl()
    total = composition.totalLiverMl()
    if uncovered is not None and 100.0 * uncovered / total > _UNCOVERED_LIVER_WARNING_PERCENT:
        warnings.append(
            f"{uncovered:.2f} mL of the whole-liver segment lie in no Couinaud segment ({100.0 * uncovered / total:.1f} % "
            "of the segmented liver): the total liver volume here is the union of Couinaud segments"
        )
    shares = {segment.segment: segment.volumeMl for segment in segments if segment.segment in SEGMENT_IDS}
    warnings += adequacy.plausibilityWarnings(shares, total, body.bsaM2 if body else None)
    return warnings


RATIO_BASIS_TUMOUR_FREE = "tumour-free remnant (tumour inside the remnant subtracted)"
RATIO_BASIS_GROSS = "remnant (no tumour segmented)"
TUMOUR_IN_REMNANT = "tumourInRemnant"


def tumourInRemnantFlag(tumourInRemnantMl, planLabel):
    """The warning that a plan leaves tumour in its remnant: met when none is left."""
    left = tumourInRemnantMl > 0
    # Enough digits that tumour left is never shown as 0.00 mL.
    decimals = 2 if not left or tumourInRemnantMl >= 0.01 else min(4, -int(math.floor(math.log10(tumourInRemnantMl))))
    return clinicalCriteria.Flag(
        criterion=TUMOUR_IN_REMNANT,
        label="Tumour left in the remnant",
        value=tumourInRemnantMl,
        unit="mL",
        threshold=0.0,
        comparison="=",
        state=clinicalCriteria.NOT_MET if left else clinicalCriteria.MET,
        source="clinical reference section 2 (tumour left in the remnant is not functioning liver)",
        status=clinicalCriteria.CHECKED,
        decimals=decimals,
        reason=(
            f"'{planLabel}' leaves {tumourInRemnantMl:.{decimals}f} mL of tumour in the remnant: sFLR, FLR-BWR and FLR/BSA use the "
            "tumour-free remnant"
        ) if left else "",
    )


def remnantMetrics(key, label, remnantSegments, resectedSegments, remnant, tumourInRemnant, liver, body, settings,
                   resolutionHalfWidthMl=None):
    """PlanResult of a remnant: ``liver`` is (total liver mL, tumour in liver mL, tumours segmented?);
    ``resolutionHalfWidthMl`` the half-width of the resolution interval of the FLR used for the
    ratios (tumour-free when tumours are segmented)."""
    totalLiverMl, tumourInLiverMl, hasTumours = liver
    # Voxels shared by a remnant and a resected segment belong to the remnant.
    resected = totalLiverMl - remnant
    percent = remnantRatios.measuredFutureLiverRemnantPercent(remnant, totalLiverMl)
    functional = (
        remnantRatios.functionalFutureLiverRemnantPercent(remnant, tumourInRemnant, totalLiverMl, tumourInLiverMl)
        if hasTumours
        else None
    )
    ratioRemnant = remnant - tumourInRemnant if hasTumours else remnant
    interval = None
    if resolutionHalfWidthMl is not None:
        interval = (max(0.0, ratioRemnant - resolutionHalfWidthMl), ratioRemnant + resolutionHalfWidthMl)

    def ofInterval(ratio):
        return None if interval is None or body is None else tuple(ratio(bound) for bound in interval)

    sFLR = remnantRatios.standardisedFutureLiverRemnant(ratioRemnant, body.stlvMl) if body else None
    flrBwr = remnantRatios.remnantToBodyWeightRatio(ratioRemnant, settings.weightKg) if body else None
    flrPerBsa = remnantRatios.remnantPerBodySurfaceArea(ratioRemnant, body.bsaM2) if body else None
    sflrInterval = ofInterval(lambda flr: remnantRatios.standardisedFutureLiverRemnant(flr, body.stlvMl))
    bwrInterval = ofInterval(lambda flr: remnantRatios.remnantToBodyWeightRatio(flr, settings.weightKg))
    flags = adequacy.assessAdequacy(
        sFLR, flrBwr, settings.liverCondition, settings.adequacyThresholds(), sflrInterval, bwrInterval,
        sflrStatus=body.stlvFormula.status if body else None,
    )
    warnings = []
    tumourFlag = tumourInRemnantFlag(tumourInRemnant, label) if hasTumours else None
    if tumourFlag is not None and tumourFlag.state == clinicalCriteria.NOT_MET:
        warnings.append(tumourFlag.reason)
    if body is None:
        warnings.append("sFLR and FLR-to-body-weight ratio need height and weight: not computed")
    return PlanResult(
        key=key,
        label=label,
        remnantSegments=tuple(remnantSegments),
        resectedSegments=tuple(resectedSegments),
        remnantMl=remnant,
        resectedMl=resected,
        tumourInRemnantMl=tumourInRemnant,
        percentFLR=percent,
        functionalPercentFLR=functional,
        sFLR=sFLR,
        flrBwr=flrBwr,
        flrPerBsa=flrPerBsa,
        flags=flags,
        warnings=warnings,
        tumourFreeRemnantMl=ratioRemnant,
        ratioBasis=RATIO_BASIS_TUMOUR_FREE if hasTumours else RATIO_BASIS_GROSS,
        remnantIntervalMl=interval,
        sFLRInterval=sflrInterval,
        flrBwrInterval=bwrInterval,
        tumourFlag=tumourFlag,
    )


def _planResult(composition, plan, body, settings, liver):
    remnantBits = composition.unitsOf(plan.remnantSegments)
    return remnantMetrics(
        plan.key,
        plan.label,
        plan.remnantSegments,
        plan.resectedSegments,
        composition.volumeMl(remnantBits),
        composition.volumeMl(remnantBits, tumourOnly=True),
        liver,
        body,
        settings,
        composition.resolutionHalfWidthMl(remnantBits, tumourFree=liver[2]),
    )


def standardLiverVolumeFor(settings):
    """BSA and standard liver volume for the settings, or None without height and weight."""
    if settings.heightCm is None and settings.weightKg is None:
        return None
    if settings.heightCm is None or settings.weightKg is None:
        raise ValueError("Standardised FLR needs both height (cm) and weight (kg); only one was given")
    return bodySize.standardLiverVolume(settings.heightCm, settings.weightKg, settings.stlvFormula, settings.bsaFormula)


def measureTransection(segmentationNode, remnantSegmentId, settings=None):
    """Remnant metrics of a virtual transection: the remnant is one segment (for example
    'Remnant (virtual transection)'), the liver the whole-liver segment, or else the union of
    Couinaud segments I-VIII. Returns a PlanResult keyed 'virtual_transection'."""
    settings = settings or VolumetrySettings()
    roles = SegmentRoles(segmentationNode)
    segmentation = segmentationNode.GetSegmentation()
    remnantSegment = segmentation.GetSegment(remnantSegmentId) if remnantSegmentId else None
    if remnantSegment is None:
        raise ValueError(f"Segmentation '{segmentationNode.GetName()}' has no remnant segment '{remnantSegmentId}'")
    liverSegments = roles.segmentsWithRole(ROLE_LIVER)
    if len(liverSegments) > 1:
        raise ValueError(f"Segmentation '{segmentationNode.GetName()}' has several whole-liver segments: keep one")
    if not liverSegments:
        missing = roles.missingCouinaudSegments()
        if missing:
            raise ValueError(
                f"Segmentation '{segmentationNode.GetName()}' has neither a whole-liver segment nor Couinaud segments "
                f"I-VIII (missing {', '.join(missing)}): the remnant needs a liver to be a share of"
            )
        liverSegments = list(roles.couinaudUnits().values())
    tumours = roles.segmentsWithRole(ROLE_TUMOUR)
    overlap = SegmentOverlapHistogram(
        segmentationNode, {"liver": liverSegments, "remnant": [remnantSegmentId], "tumour": tumours}
    )
    liverBit, remnantBit, tumourBit = overlap.bits["liver"], overlap.bits["remnant"], overlap.bits["tumour"]
    totalLiver = overlap.volumeMl(anyOf=liverBit)
    remnant = overlap.volumeMl(allOf=liverBit | remnantBit)
    if totalLiver == 0 or remnant == 0:
        empty = "liver" if totalLiver == 0 else f"remnant '{remnantSegment.GetName()}' (within the liver)"
        raise ValueError(f"Segmentation '{segmentationNode.GetName()}': the {empty} is empty")
    outside = overlap.volumeMl(anyOf=remnantBit, noneOf=liverBit)
    excluded = tumourBit if tumours else 0

    def inRemnant(patterns):
        return ((patterns & (liverBit | remnantBit)) == (liverBit | remnantBit)) & ((patterns & excluded) == 0)

    halfWidth = remnantRatios.resolutionHalfWidthMl(overlap.boundaryFaces(inRemnant), overlap.spacingMm())
    result = remnantMetrics(
        "virtual_transection",
        f"Virtual transection ({remnantSegment.GetName()})",
        (remnantSegment.GetName(),),
        (),
        remnant,
        overlap.volumeMl(allOf=liverBit | remnantBit | tumourBit),
        (totalLiver, overlap.volumeMl(allOf=liverBit | tumourBit), bool(tumours)),
        standardLiverVolumeFor(settings),
        settings,
        halfWidth,
    )
    if outside > 0:
        result.warnings.append(f"{outside:.2f} mL of '{remnantSegment.GetName()}' lie outside the liver and are not counted")
    return result


def measureVolumetry(segmentationNode, plans, settings=None):
    """Segment volumes, tumour shares and every plan's remnant metrics for one segmentation."""
    settings = settings or VolumetrySettings()
    roles = SegmentRoles(segmentationNode)
    # Every plan's resolution interval needs the boundaries: counted in the one pass over the grid.
    composition = LiverComposition(segmentationNode, roles, countBoundaries=bool(plans))
    body = standardLiverVolumeFor(settings)
    segments = _segmentResults(composition)
    totalLiver = composition.totalLiverMl()
    tumourInLiver = composition.tumourInLiverMl()
    liver = (totalLiver, tumourInLiver, bool(composition.tumourSegmentIds))
    planResults = [_planResult(composition, plan, body, settings, liver) for plan in plans]
    return VolumetryResult(
        segmentationName=segmentationNode.GetName(),
        segments=segments,
        totalLiverMl=totalLiver,
        totalTumourMl=tumourInLiver,
        tumourVolumesMl={roles.names[s]: composition.tumourVolumes[s].volumeMl for s in composition.tumourSegmentIds},
        body=body,
        settings=settings,
        plans=planResults,
        warnings=_warnings(composition, segments, body),
        segmentRoles=roles.asRows(),
    )


def recordDict(record):
    """Plain dictionary of a dataclass record, leaving out functions (formula implementations)."""
    if record is None:
        return None
    values = dataclasses.asdict(record) if dataclasses.is_dataclass(record) else dict(vars(record))
    return {key: value for key, value in values.items() if not callable(value)}


def intervalToList(bounds):
    return None if bounds is None else [float(bound) for bound in bounds]


# Version of the JSON documents: 2 adds the tumour-free remnant, resolution intervals, flags with
# the states met / not met / borderline / unknown and growth on the stage 1 time base.
SCHEMA_VERSION = 2


def volumetryToDict(result):
    """The documented JSON form of a VolumetryResult (README, 'alpps volumetry' JSON): the
    numbers of segments and plans are those of resultFields."""
    settings = result.settings
    body = result.body
    return {
        "schemaVersion": SCHEMA_VERSION,
        "segmentation": result.segmentationName,
        "volumeMethod": VOLUME_METHOD,
        "volumeUnit": "mL",
        "segments": {
            segment.segment: dict(resultFields.jsonNumbers(segment, resultFields.SEGMENT_FIELDS), segmentNames=segment.segmentNames)
            for segment in result.segments
        },
        "liver": {
            "totalLiverVolumeMl": result.totalLiverMl,
            "totalTumourVolumeMl": result.totalTumourMl,
            "tumourVolumesMl": result.tumourVolumesMl,
        },
        "patient": None
        if body is None
        else {
            "heightCm": settings.heightCm,
            "weightKg": settings.weightKg,
            "bsaM2": body.bsaM2,
            "bsaFormula": recordDict(body.bsaFormula),
            "standardLiverVolumeMl": body.stlvMl,
            "stlvFormula": recordDict(body.stlvFormula),
        },
        "liverCondition": settings.liverCondition,
        "thresholds": recordDict(settings.adequacyThresholds()),
        "plans": {
            plan.key: dict(
                {
                    "label": plan.label,
                    "remnantSegments": list(plan.remnantSegments),
                    "resectedSegments": list(plan.resectedSegments),
                    "ratioBasis": plan.ratioBasis,
                },
                **resultFields.jsonNumbers(plan, resultFields.PLAN_FIELDS),
                flags=[flag.asDict() for flag in plan.flags],
                tumourFlag=None if plan.tumourFlag is None else plan.tumourFlag.asDict(),
                warnings=plan.warnings,
            )
            for plan in result.plans
        },
        "warnings": result.warnings,
        "segmentRoles": [
            {"segmentId": segmentId, "name": name, "recognizedRole": recognized, "role": role}
            for segmentId, name, recognized, role in result.segmentRoles
        ],
        "definitions": dict(
            {key: definition.summary() for key, definition in resultFields.VOLUME_DEFINITIONS.items()},
            **resultFields.definitionsOf(resultFields.PLAN_FIELDS),
        ),
    }
