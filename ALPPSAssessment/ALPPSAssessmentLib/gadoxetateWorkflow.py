"""Gadoxetate MRI of a time point: signal indices of the liver and the plan's remnant, HUI and
remnant HUI with their volumes from the volumetry logic, and the remnant's functional share from
the voxel-wise enhancement map; the one path the batch command and the tests share."""

from ALPPSVolumetryLib import futureLiverRemnant
from ALPPSVolumetryLib.liverComposition import UNITS_OF_SEGMENT
from ALPPSVolumetryLib.segmentRecognition import SegmentRoles

from . import gadoxetateIndices


def _spleenSegmentId(segmentationNode, spleenSegment):
    segmentation = segmentationNode.GetSegmentation()
    if spleenSegment:
        segmentId = spleenSegment if segmentation.GetSegment(spleenSegment) else segmentation.GetSegmentIdBySegmentName(spleenSegment)
        if not segmentId:
            raise ValueError(f"Segmentation '{segmentationNode.GetName()}' has no segment '{spleenSegment}' for the spleen")
        return segmentId
    for segmentId in segmentation.GetSegmentIDs():
        if segmentation.GetSegment(segmentId).GetName().strip().lower() == "spleen":
            return segmentId
    return None


def measureGadoxetate(segmentationNode, plan, hbpImage, preImage=None, spleenSegment=None, musclePoints=None,
                      roiRadiusMm=10.0, roleOverrides=None):
    """Indices for the liver (union of I-VIII) and the remnant of ``plan``; a dictionary with the
    signals, indices (or why each is missing), HUI and rHUI (litres) with the rHUI flag, and the
    remnant functional share. The images may lie on any grid: segments are paired in physical space."""
    roles = SegmentRoles(segmentationNode, roleOverrides)
    units = roles.couinaudUnits()
    liverIds = list(units.values())
    remnantIds = [units[unit] for name in plan.remnantSegments for unit in UNITS_OF_SEGMENT.get(name, (name,)) if unit in units]
    volumetry = futureLiverRemnant.measureVolumetry(segmentationNode, [plan], roleOverrides=roleOverrides)
    planResult = volumetry.plans[0]
    liverHbp = gadoxetateIndices.meanSignalInRegion(hbpImage, segmentationNode, liverIds, "liver (HBP)")
    remnantHbp = gadoxetateIndices.meanSignalInRegion(hbpImage, segmentationNode, remnantIds, "remnant (HBP)")
    spleenId = _spleenSegmentId(segmentationNode, spleenSegment)
    spleenHbp = gadoxetateIndices.meanSignalInRegion(hbpImage, segmentationNode, [spleenId], "spleen (HBP)") if spleenId else None
    muscleHbp = gadoxetateIndices.meanSignalInSpheres(hbpImage, musclePoints, roiRadiusMm, "muscle (HBP)") if musclePoints else None
    liverPre = remnantPre = musclePre = None
    if preImage is not None:
        liverPre = gadoxetateIndices.meanSignalInRegion(preImage, segmentationNode, liverIds, "liver (pre)")
        remnantPre = gadoxetateIndices.meanSignalInRegion(preImage, segmentationNode, remnantIds, "remnant (pre)")
        musclePre = gadoxetateIndices.meanSignalInSpheres(preImage, musclePoints, roiRadiusMm, "muscle (pre)") if musclePoints else None

    def mean(signal):
        if signal is None:
            return None
        return signal.pooled.mean if hasattr(signal, "pooled") else signal.mean

    document = {
        "plan": {"key": plan.key, "label": plan.label},
        "signals": {
            "liverHbp": mean(liverHbp), "remnantHbp": mean(remnantHbp), "spleenHbp": mean(spleenHbp), "muscleHbp": mean(muscleHbp),
            "liverPre": mean(liverPre), "remnantPre": mean(remnantPre), "musclePre": mean(musclePre),
            "unit": gadoxetateIndices.SIGNAL_UNIT,
        },
        "liverIndices": gadoxetateIndices.signalIndices(mean(liverHbp), mean(spleenHbp), mean(muscleHbp), mean(liverPre), mean(musclePre)),
        "remnantIndices": gadoxetateIndices.signalIndices(mean(remnantHbp), mean(spleenHbp), mean(muscleHbp), mean(remnantPre), mean(musclePre)),
        "totalLiverMl": volumetry.totalLiverMl,
        "remnantMl": planResult.remnantMl,
    }
    if spleenHbp is not None:
        hui = gadoxetateIndices.hepatocellularUptakeIndex(volumetry.totalLiverMl, "mL", mean(liverHbp), mean(spleenHbp))
        rhui = gadoxetateIndices.remnantHui(planResult.remnantMl, "mL", mean(remnantHbp), mean(spleenHbp))
        document["hui"] = hui.asDict()
        document["remnantHui"] = rhui.asDict()
        document["remnantHuiFlag"] = gadoxetateIndices.remnantHuiFlag(rhui).asDict()
    else:
        document["hui"] = document["remnantHui"] = None
        document["remnantHuiFlag"] = gadoxetateIndices.remnantHuiFlag(None).asDict()
    if preImage is not None:
        enhancement = gadoxetateIndices.relativeEnhancementMap(preImage, hbpImage)
    elif spleenHbp is not None:
        enhancement = gadoxetateIndices.liverSpleenEnhancementMap(hbpImage, mean(spleenHbp))
    else:
        enhancement = None
    document["remnantFunctionalShare"] = (
        gadoxetateIndices.remnantFunctionalShare(enhancement, segmentationNode, remnantIds, liverIds).asDict() if enhancement is not None else None
    )
    return document
