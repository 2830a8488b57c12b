"""Gadoxetate MRI of a time point: signal indices of the liver and the plan's remnant, HUI and
remnant HUI with their volumes from the volumetry logic, and the remnant's functional share from
the voxel-wise enhancement map; the one path the panel, the batch command and the tests share.
Measuring adds no node to the scene; ``addEnhancementMapNode`` shows the map where it is wanted."""

from dataclasses import dataclass
from typing import Optional

import numpy as np
from ALPPSVolumetryLib.planning import futureLiverRemnant
from ALPPSVolumetryLib.imageGrid import nodeIjkToRas
from ALPPSVolumetryLib.segments.liverComposition import UNITS_OF_SEGMENT
from ALPPSVolumetryLib.segments.segmentationImport import addVolumeFromArray
from ALPPSVolumetryLib.segments.segmentRecognition import SegmentRoles

from . import gadoxetateImages, gadoxetateIndices


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


def _segmentSignals(hbpImage, preImage, segmentationNode, units, spleenMean):
    """Mean HBP (and pre-contrast) signal of each Couinaud segment, with its relative enhancement
    and liver-to-spleen ratio minus one where the inputs allow (None otherwise, never 0)."""
    segmentOfId = {segmentId: unit for unit, segmentId in units.items()}
    hbp = gadoxetateImages.meanSignalInSegments(hbpImage, segmentationNode, list(segmentOfId))
    pre = gadoxetateImages.meanSignalInSegments(preImage, segmentationNode, list(segmentOfId)) if preImage is not None else {}
    signals = {}
    for segmentId, unit in segmentOfId.items():
        hbpMean = hbp[segmentId].mean
        preMean = pre[segmentId].mean if segmentId in pre else None
        signals[unit] = {
            "hbp": hbpMean,
            "pre": preMean,
            "voxels": hbp[segmentId].voxelCount,
            "relativeEnhancement": (hbpMean - preMean) / preMean if preMean else None,
            "liverToSpleenMinusOne": hbpMean / spleenMean - 1.0 if spleenMean else None,
        }
    return signals


@dataclass
class GadoxetateMeasurement:
    document: dict  # what ``measureGadoxetate`` returns
    enhancementMap: Optional[gadoxetateImages.EnhancementMap]  # the map the remnant share was summed from


def measureGadoxetate(*arguments, **options):
    """The document of ``measureGadoxetateWithMap``: indices for the liver and the plan's remnant."""
    return measureGadoxetateWithMap(*arguments, **options).document


def measureGadoxetateWithMap(segmentationNode, plan, hbpImage, preImage=None, spleenSegment=None, musclePoints=None,
                             roiRadiusMm=10.0, spleenPoints=None, liverPoints=None,
                             t1PreMap=None, t1HbpMap=None, t1Unit=None):
    """Indices for the liver (union of I-VIII) and the remnant of ``plan``: a ``GadoxetateMeasurement``
    whose document (a dictionary) holds the signals, indices (or why each is missing), HUI and rHUI
    (litres) with the rHUI flag, and the remnant functional share, and whose enhancement map (RLE
    with the pre-contrast image, else L/S - 1 with the spleen signal, else None) is the voxel-wise
    map that share was summed from. The images may lie on any grid: segments are paired in
    physical space.

    ROIs the radiologist places (spheres of ``roiRadiusMm`` around RAS points or markups points):
    ``musclePoints`` in the paraspinal muscle; ``spleenPoints`` in the spleen, used instead of the
    spleen segment (ROIs avoid vessels and the hilum); ``liverPoints`` in the liver parenchyma,
    reported beside the segment-based liver with indices of their own.

    T1 maps (pre-contrast and hepatobiliary phase, both in ``t1Unit``: 'ms' or 's', no default)
    add R1, delta R1 and the T1 reduction rate of the liver and the remnant."""
    if (t1PreMap is None) != (t1HbpMap is None):
        raise ValueError("T1 indices need both T1 maps: the pre-contrast and the hepatobiliary-phase T1 map")
    if t1PreMap is not None and t1Unit is None:
        raise ValueError("The unit of the T1 maps is not given: expected 'ms' or 's' (scanners differ)")
    roles = SegmentRoles(segmentationNode)
    units = roles.couinaudUnits()
    liverIds = list(units.values())
    remnantIds = [units[unit] for name in plan.remnantSegments for unit in UNITS_OF_SEGMENT.get(name, (name,)) if unit in units]
    volumetry = futureLiverRemnant.measureVolumetry(segmentationNode, [plan])
    planResult = volumetry.plans[0]
    liverHbp = gadoxetateImages.meanSignalInRegion(hbpImage, segmentationNode, liverIds, "liver (HBP)")
    remnantHbp = gadoxetateImages.meanSignalInRegion(hbpImage, segmentationNode, remnantIds, "remnant (HBP)")
    spleenId = None if spleenPoints else _spleenSegmentId(segmentationNode, spleenSegment)
    if spleenPoints:
        spleenHbp = gadoxetateImages.meanSignalInSpheres(hbpImage, spleenPoints, roiRadiusMm, "spleen ROI (HBP)")
        spleenSource = f"ROIs placed in the spleen (radius {roiRadiusMm:g} mm)"
    else:
        spleenHbp = gadoxetateImages.meanSignalInRegion(hbpImage, segmentationNode, [spleenId], "spleen (HBP)") if spleenId else None
        spleenSource = f"segment '{segmentationNode.GetSegmentation().GetSegment(spleenId).GetName()}'" if spleenId else None
    muscleHbp = gadoxetateImages.meanSignalInSpheres(hbpImage, musclePoints, roiRadiusMm, "muscle (HBP)") if musclePoints else None
    liverPre = remnantPre = musclePre = None
    if preImage is not None:
        liverPre = gadoxetateImages.meanSignalInRegion(preImage, segmentationNode, liverIds, "liver (pre)")
        remnantPre = gadoxetateImages.meanSignalInRegion(preImage, segmentationNode, remnantIds, "remnant (pre)")
        musclePre = gadoxetateImages.meanSignalInSpheres(preImage, musclePoints, roiRadiusMm, "muscle (pre)") if musclePoints else None

    def mean(signal):
        if signal is None:
            return None
        return signal.pooled.mean if hasattr(signal, "pooled") else signal.mean

    liverRoi = None
    if liverPoints:
        roiHbp = gadoxetateImages.meanSignalInSpheres(hbpImage, liverPoints, roiRadiusMm, "liver ROI (HBP)")
        roiPre = gadoxetateImages.meanSignalInSpheres(preImage, liverPoints, roiRadiusMm, "liver ROI (pre)") if preImage is not None else None
        liverRoi = {
            "hbp": mean(roiHbp), "pre": mean(roiPre), "radiusMm": roiRadiusMm, "points": len(roiHbp.perPoint),
            "indices": gadoxetateIndices.signalIndices(mean(roiHbp), mean(spleenHbp), mean(muscleHbp), mean(roiPre), mean(musclePre)),
        }
    document = {
        "plan": {"key": plan.key, "label": plan.label},
        "spleenSignalFrom": spleenSource,
        "segmentSignals": _segmentSignals(hbpImage, preImage, segmentationNode, units, mean(spleenHbp)),
        "liverRoi": liverRoi,
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
    document["t1Indices"] = None if t1PreMap is None else {
        "liver": gadoxetateImages.t1IndicesFromMaps(t1PreMap, t1HbpMap, segmentationNode, liverIds, t1Unit).asDict(),
        "remnant": gadoxetateImages.t1IndicesFromMaps(t1PreMap, t1HbpMap, segmentationNode, remnantIds, t1Unit).asDict(),
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
        enhancement = gadoxetateImages.relativeEnhancementMap(preImage, hbpImage)
    elif spleenHbp is not None:
        enhancement = gadoxetateImages.liverSpleenEnhancementMap(hbpImage, mean(spleenHbp))
    else:
        enhancement = None
    document["remnantFunctionalShare"] = (
        gadoxetateImages.remnantFunctionalShare(enhancement, segmentationNode, remnantIds, liverIds).asDict() if enhancement is not None else None
    )
    return GadoxetateMeasurement(document, enhancement)


def enhancementMapNodes(scene):
    """The scene's volumes showing a gadoxetate map (made by ``addEnhancementMapNode``)."""
    nodes = []
    for index in range(scene.GetNumberOfNodesByClass("vtkMRMLScalarVolumeNode")):
        node = scene.GetNthNodeByClass(index, "vtkMRMLScalarVolumeNode")
        if node.GetAttribute(gadoxetateImages.MAP_ATTRIBUTE) is not None:
            nodes.append(node)
    return nodes


def addEnhancementMapNode(enhancementMap, name=None):
    """A scalar volume showing a voxel-wise map measured on an HBP volume node: on that volume's
    grid and under its parent transform, named ``name`` (default "<HBP> <kind>"), windowed on
    its 1st-99th percentile. An earlier map of the same name is replaced (a repeated measurement
    does not pile them up)."""
    hbp = enhancementMap.hbpImage
    if not hasattr(hbp, "IsA"):
        raise ValueError(f"The {enhancementMap.kind} map was measured on an array, not a volume node: expected an HBP volume in a scene to show it")
    scene = hbp.GetScene()
    name = name or f"{hbp.GetName()} {enhancementMap.kind}"
    for earlier in enhancementMapNodes(scene):
        if earlier.GetName() == name:
            scene.RemoveNode(earlier)
    node = addVolumeFromArray(scene, name, enhancementMap.array, nodeIjkToRas(hbp))
    parent = hbp.GetParentTransformNode()
    if parent is not None:
        node.SetAndObserveTransformNodeID(parent.GetID())
    node.SetAttribute(gadoxetateImages.MAP_ATTRIBUTE, enhancementMap.kind)
    node.SetAttribute("ALPPS.Gadoxetate.UndefinedVoxels", str(enhancementMap.undefinedVoxels))
    finite = enhancementMap.array[np.isfinite(enhancementMap.array)]
    displayNode = node.GetDisplayNode()
    if displayNode is not None and finite.size:
        # Set explicitly: undefined voxels are NaN, which automatic window/level would not skip.
        low, high = (float(value) for value in np.percentile(finite, (1.0, 99.0)))
        displayNode.AutoWindowLevelOff()
        displayNode.SetWindowLevelMinMax(low, high if high > low else low + 1.0)
    return node
