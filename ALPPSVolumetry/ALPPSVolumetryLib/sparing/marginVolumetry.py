"""The parenchyma-sparing plan a margin leaves, measured as the major plans are, and its
comparison with the major hepatectomy and ALPPS plans.

- Liver for the plan: the union of the Couinaud segments I-VIII when all are present (the
  total liver volume of every major plan, so that the plans compare), else the whole-liver
  segment. Remnant = total liver - resected; %FLR, sFLR, FLR-BWR and the adequacy flags come
  from the same code as the major plans (futureLiverRemnant).
"""

from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np

from ..criteria import clinicalCriteria
from ..planning import futureLiverRemnant, resectionPlans
from ..segments.segmentOverlap import SegmentOverlapHistogram
from ..segments.segmentRecognition import SegmentRoles
from .marginGeometry import MarginGeometry
from .segmentBoxes import BoxLabelmap
from .sparingInputs import DEFAULT_MARGIN_MM, MARGIN_CHOICES_MM, checkedMargin, marginText, planKey

LAPAROSCOPIC_MAXIMUM_AREAS = int(clinicalCriteria.LAPAROSCOPIC_RESECTION_AREAS.threshold)
LAPAROSCOPIC_SOURCE = clinicalCriteria.LAPAROSCOPIC_RESECTION_AREAS.source

# Major plans shown beside the parenchyma-sparing plans when none are given: the right
# hepatectomy and the classic ALPPS stage 2 (right trisectionectomy).
DEFAULT_MAJOR_PLANS = ("right_hepatectomy", "right_trisectionectomy")


@dataclass
class ResectionArea:
    number: int
    name: str
    voxelCount: int
    volumeMl: float
    tumours: tuple  # names of the tumours whose margin volume lies in this area


@dataclass
class LaparoscopicGuidance:
    areas: int
    maximumAreas: int
    state: str  # clinicalCriteria's state of LAPAROSCOPIC_RESECTION_AREAS: met when areas <= maximumAreas
    source: str

    def describe(self):
        return f"{self.areas} resection area(s) <= {self.maximumAreas} for the laparoscopic approach: {self.state} [{self.source}]"


@dataclass
class MarginPlanResult:
    marginMm: float
    plan: object  # futureLiverRemnant.PlanResult
    areas: List[ResectionArea]
    laparoscopic: LaparoscopicGuidance
    tumourMarginMl: dict  # tumour name -> its own margin volume (tumour included) within the liver
    liverDefinition: str
    totalLiverMl: float
    warnings: List[str] = field(default_factory=list)
    # The areas voxel by voxel (the area number of each voxel of the margins' box): the segments
    # for the 3D view are drawn from the plan as measured, without measuring it again.
    areaLabels: Optional[BoxLabelmap] = field(default=None, repr=False, compare=False)

    @property
    def areaCount(self):
        return len(self.areas)


@dataclass
class SparingComparison:
    volumetry: object  # futureLiverRemnant.VolumetryResult (major plans)
    marginPlans: List[MarginPlanResult]

    @property
    def plans(self):
        return list(self.volumetry.plans) + [result.plan for result in self.marginPlans]

    def marginPlanFor(self, marginMm):
        """The MarginPlanResult of the margin ``marginMm``; ValueError when it was not compared."""
        margin = checkedMargin(marginMm)
        for result in self.marginPlans:
            if result.marginMm == margin:
                return result
        compared = ", ".join(marginText(result.marginMm) for result in self.marginPlans)
        raise ValueError(f"The {marginText(margin)} margin is not among the compared margins ({compared})")


def _areaName(number, marginMm):
    return f"Resection area {number} ({marginText(marginMm)} margin)"


def marginPlan(segmentationNode, marginMm=DEFAULT_MARGIN_MM, settings=None):
    """The parenchyma-sparing plan with a margin of ``marginMm`` around each tumour (1 mm by
    default, 10 mm the classic alternative): margin volumes clipped to the liver, their union
    resected, its separate areas counted (26-connectivity), and the remnant measured with the
    same formulas and flags as the major plans. Returns a MarginPlanResult whose ``plan`` is a
    PlanResult keyed e.g. 'parenchyma_sparing_1mm'.

    ValueError for no tumour, an empty tumour, a tumour outside the liver, no liver, a margin
    <= 0 or > MAXIMUM_MARGIN_MM mm, or margins that take in the whole liver.
    """
    geometry = MarginGeometry(segmentationNode, marginMm, SegmentRoles(segmentationNode))
    return _marginPlanResult(segmentationNode, geometry, settings or futureLiverRemnant.VolumetrySettings())


def _marginPlanResult(segmentationNode, geometry, settings):
    grid = geometry.grid
    margin = geometry.marginMm
    liverVoxels = grid.unionCount(geometry.liverSegments)
    if liverVoxels is None:
        # Liver segments in several layers may overlap: count their union as the major plans do.
        overlap = SegmentOverlapHistogram(segmentationNode, {"liver": geometry.liverSegments})
        liverVoxels = overlap.count(anyOf=overlap.bits["liver"])
    # Every tumour voxel inside the liver lies in the box of the margin volumes.
    tumourInLiverVoxels = int(np.count_nonzero(geometry.tumourInLiver))
    resectedVoxels = int(np.count_nonzero(geometry.resected))
    if resectedVoxels >= liverVoxels:
        raise ValueError(
            f"The {marginText(margin)} margins of the tumours of '{segmentationNode.GetName()}' take in the whole liver "
            f"({geometry.liverDefinition}): no remnant is left; expected a smaller margin"
        )
    tumourResectedVoxels = int(np.count_nonzero(geometry.tumourInLiver & geometry.resected))
    volume = grid.voxelVolumeMl
    areas = [
        ResectionArea(number=number, name=_areaName(number, margin), voxelCount=count, volumeMl=count * volume, tumours=tuple(names))
        for number, (count, names) in enumerate(zip(geometry.areaCounts, geometry.areaTumours), 1)
    ]
    areaCount = len(areas)
    label = f"Parenchyma-sparing resection, {marginText(margin)} margin ({areaCount} resection area{'s' if areaCount != 1 else ''})"
    plan = futureLiverRemnant.remnantMetrics(
        planKey(margin),
        label,
        (),
        tuple(area.name for area in areas),
        (liverVoxels - resectedVoxels) * volume,
        (tumourInLiverVoxels - tumourResectedVoxels) * volume,
        (liverVoxels * volume, tumourInLiverVoxels * volume, True),
        futureLiverRemnant.standardLiverVolumeFor(settings),
        settings,
    )
    laparoscopic = LaparoscopicGuidance(
        areas=areaCount,
        maximumAreas=LAPAROSCOPIC_MAXIMUM_AREAS,
        state=clinicalCriteria.evaluate(clinicalCriteria.LAPAROSCOPIC_RESECTION_AREAS, areaCount).state,
        source=LAPAROSCOPIC_SOURCE,
    )
    warnings = []
    if areaCount > LAPAROSCOPIC_MAXIMUM_AREAS:
        plan.warnings.append(
            f"{areaCount} separate resection areas: more than the {LAPAROSCOPIC_MAXIMUM_AREAS} advised for laparoscopic "
            "parenchyma-sparing hepatectomy (clinical reference section 9)"
        )
    thinAxes = [axis for axis, spacing in zip("ijk", grid.spacing) if margin < spacing / 2.0]
    if thinAxes:
        warnings.append(
            f"The {marginText(margin)} margin is thinner than half the voxel spacing along {', '.join(thinAxes)} "
            f"({', '.join(f'{s:.2f}' for s in grid.spacing)} mm): it adds no voxel in that direction"
        )
    return MarginPlanResult(
        marginMm=margin,
        plan=plan,
        areas=areas,
        laparoscopic=laparoscopic,
        tumourMarginMl={name: int(np.count_nonzero(mask)) * volume for _, name, _, mask, _ in geometry.perTumour},
        liverDefinition=geometry.liverDefinition,
        totalLiverMl=liverVoxels * volume,
        warnings=warnings,
        areaLabels=BoxLabelmap(geometry.areaLabels, grid.boxIjkToRAS(geometry.box)),
    )


def compareWithMajorPlans(segmentationNode, marginsMm=MARGIN_CHOICES_MM, plans=None, settings=None):
    """The major plans (by default right hepatectomy and right trisectionectomy, the classic ALPPS
    stage 2; Couinaud segments I-VIII needed) and the parenchyma-sparing plans for each margin,
    measured with the same settings: read side by side in ``SparingComparison.plans``."""
    settings = settings or futureLiverRemnant.VolumetrySettings()
    plans = plans if plans is not None else [resectionPlans.presetPlan(key) for key in DEFAULT_MAJOR_PLANS]
    volumetry = futureLiverRemnant.measureVolumetry(segmentationNode, plans, settings)
    margins = list(dict.fromkeys(checkedMargin(margin) for margin in marginsMm))
    if not margins:
        raise ValueError("No margin given: expected at least one margin in mm (e.g. 1 and 10)")
    return SparingComparison(
        volumetry=volumetry,
        marginPlans=[marginPlan(segmentationNode, margin, settings) for margin in margins],
    )
