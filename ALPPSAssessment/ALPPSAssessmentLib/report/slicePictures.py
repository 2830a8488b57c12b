"""Slice pictures for the patient report: an axial and a coronal CT slice through the liver with
the Couinaud segments tinted and the plan's remnant outlined, on a pixel grid built in world RAS
(patient right on the image left, anterior or superior at the top)."""

import math

import numpy as np
from ALPPSVolumetryLib.imageGrid import checkedVolumeNode, nodeIjkToRas, rasBounds, toWorldMatrix, volumeNodeArray

from .reportImages import (
    TUMOUR_3D_COLOR,
    ReportImage,
    checkedSegmentation,
    colorName,
    encodePng,
    hexColor,
    labelmapLayers,
    liverCentroidAndBounds,
    planSegments,
    reportColor,
    sampleLinear,
    sampleNearest,
)

DEFAULT_WINDOW_HU = (-160, 240)
SEGMENT_TINT_ALPHA = 0.35
# Tumours sit on top of a segment tint: a little stronger so they stay visible through it.
TUMOUR_TINT_ALPHA = 0.5
FIELD_MARGIN_MM = 20.0
OUTLINE_WIDTH_PX = 2
# Pure, saturated colours that no tinted CT pixel can take, so the outline is unmistakable.
REMNANT_OUTLINE_RGB = (0, 255, 0)
RESECTED_OUTLINE_RGB = (255, 128, 0)
# Bounds and positions are rounded to this many decimals (mm) before they set the pixel grid:
# round-off of a flipped matrix must not add or drop a pixel column.
_MM_DECIMALS = 4


# kind: (normal axis, image column axis, image row axis). Both run from the high RAS value down:
# columns from the patient's right (+x) to the left, rows from anterior (+y) or superior (+z).
_VIEWS = {
    "axial": (2, 0, 1),
    "coronal": (1, 0, 2),
}
_AXIS_LETTERS = (("L", "R"), ("P", "A"), ("I", "S"))


def _positionText(axis, value):
    negative, positive = _AXIS_LETTERS[axis]
    return f"{positive if value >= 0 else negative} {abs(value):.1f} mm"


def _innerBand(mask, width):
    """Pixels of ``mask`` within ``width`` pixels (4-neighbour steps) of its outside; outside the
    picture counts as outside, so a region cut by the frame is closed there too."""
    band = np.zeros_like(mask)
    core = mask.copy()
    for _ in range(width):
        padded = np.pad(core, 1, constant_values=False)
        eroded = core & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
        band |= core & ~eroded
        core = eroded
    return band


def _sliceGeometry(kind, centroid, liverLow, liverHigh, volumeLow, volumeHigh, volumeIjkToWorld, pixelMm, maxSizePx):
    """World RAS centres of the output pixels (rows, columns, 3), the slice position, the pixel
    size and the 4x4 pixel (column, row) to RAS matrix."""
    normal, columnAxis, rowAxis = _VIEWS[kind]
    position = round(float(centroid[normal]), _MM_DECIMALS)
    # Through a real CT slice when the scan's slices are perpendicular to the normal: the reader
    # sees acquired voxels, not a blend of two slices.
    direction = volumeIjkToWorld[:3, :3] / np.linalg.norm(volumeIjkToWorld[:3, :3], axis=0)
    for column in range(3):
        if abs(abs(direction[normal, column]) - 1.0) < 1e-6:
            step = float(np.linalg.norm(volumeIjkToWorld[:3, column]))
            index = math.floor((position - volumeLow[normal]) / step + 1e-6)
            position = round(float(volumeLow[normal] + (index + 0.5) * step), _MM_DECIMALS)
    if not volumeLow[normal] <= position <= volumeHigh[normal]:
        raise ValueError(
            f"The liver centroid ({_positionText(normal, position)}) lies outside the CT volume "
            f"({_positionText(normal, volumeLow[normal])} to {_positionText(normal, volumeHigh[normal])}): expected a CT covering the liver"
        )
    low = np.round(np.maximum(liverLow - FIELD_MARGIN_MM, volumeLow), _MM_DECIMALS)
    high = np.round(np.minimum(liverHigh + FIELD_MARGIN_MM, volumeHigh), _MM_DECIMALS)
    widthMm, heightMm = high[columnAxis] - low[columnAxis], high[rowAxis] - low[rowAxis]
    pixel = max(float(pixelMm), max(widthMm, heightMm) / maxSizePx)
    columns = max(1, int(math.ceil(widthMm / pixel - 1e-6)))
    rows = max(1, int(math.ceil(heightMm / pixel - 1e-6)))
    points = np.empty((rows, columns, 3))
    points[..., normal] = position
    points[..., columnAxis] = (high[columnAxis] - (np.arange(columns) + 0.5) * pixel)[np.newaxis, :]
    points[..., rowAxis] = (high[rowAxis] - (np.arange(rows) + 0.5) * pixel)[:, np.newaxis]
    pixelToRAS = np.eye(4)
    pixelToRAS[:3, :3] = 0.0
    pixelToRAS[columnAxis, 0] = -pixel
    pixelToRAS[rowAxis, 1] = -pixel
    pixelToRAS[:3, 3] = points[0, 0]
    return points, position, pixel, pixelToRAS


def sliceImages(volumeNode, segmentationNode, plan, windowHU=DEFAULT_WINDOW_HU, pixelMm=None, maxSizePx=520):
    """Axial and coronal CT slices through the liver centroid with the Couinaud segments tinted,
    tumours tinted, the plan's remnant outlined in bright green and the resected liver in orange.

    ``volumeNode``: the CT (scalar volume node); ``segmentationNode``: Couinaud segments I-VIII (and
    tumours), recognised by name or code or corrected on the segment (segmentRecognition.SegmentRoles);
    ``plan``: a resectionPlans.ResectionPlan. ``windowHU``: (lowest, highest) HU shown black to white.
    ``pixelMm``: square pixel size (default: the CT's smallest voxel spacing), enlarged so the longer
    side stays within ``maxSizePx``. The field of view is the liver's bounding box plus 20 mm,
    clipped to the CT. Returns {"axial": ReportImage, "coronal": ReportImage}.
    """
    checkedVolumeNode(volumeNode, "CT volume")
    checkedSegmentation(segmentationNode)
    try:
        low, high = (float(value) for value in windowHU)
    except (TypeError, ValueError):
        raise ValueError(f"CT window {windowHU!r} is not two numbers: expected (lowest HU, highest HU)") from None
    if not high > low:
        raise ValueError(f"CT window {windowHU!r} is empty: expected (lowest HU, highest HU) with lowest < highest")
    if int(maxSizePx) < 16:
        raise ValueError(f"Maximum picture size {maxSizePx!r} px is too small: expected at least 16 pixels")
    maxSizePx = int(maxSizePx)
    volumeIjkToWorld = toWorldMatrix(volumeNode) @ nodeIjkToRas(volumeNode)
    voxels = volumeNodeArray(volumeNode)
    if pixelMm is None:
        pixelMm = float(np.linalg.norm(volumeIjkToWorld[:3, :3], axis=0).min())
    elif not (isinstance(pixelMm, (int, float)) and math.isfinite(pixelMm) and pixelMm > 0):
        raise ValueError(f"Pixel size {pixelMm!r} mm: expected a positive number of millimetres")

    segments = planSegments(segmentationNode, plan)
    names = segments.roles.names
    layers = labelmapLayers(segmentationNode, segments.couinaud + segments.tumours)
    centroid, liverLow, liverHigh = liverCentroidAndBounds(layers, set(segments.couinaud))
    if centroid is None:
        raise ValueError(f"Segmentation '{segmentationNode.GetName()}' has empty Couinaud segments: expected a painted liver")
    volumeLow, volumeHigh = (np.round(bound, _MM_DECIMALS) for bound in rasBounds(voxels.shape, volumeIjkToWorld))
    if np.any(liverHigh <= volumeLow) or np.any(liverLow >= volumeHigh):
        raise ValueError(
            f"Segmentation '{segmentationNode.GetName()}' does not overlap CT volume '{volumeNode.GetName()}' (liver spans "
            f"{np.round(liverLow, 1).tolist()} to {np.round(liverHigh, 1).tolist()} mm RAS, the CT {np.round(volumeLow, 1).tolist()} "
            f"to {np.round(volumeHigh, 1).tolist()}): expected the segmentation drawn on this CT"
        )
    volumeWorldToIjk = np.linalg.inv(volumeIjkToWorld)

    # The report's own palette, by role: a segmentation's colours (TotalSegmentator's, a user's) may
    # repeat the remnant's green or the tumours' yellow.
    colors = {segmentId: reportColor(segments.roles.roles[segmentId]) for segmentId in segments.couinaud}
    colors.update({segmentId: TUMOUR_3D_COLOR for segmentId in segments.tumours})
    images = {}
    for kind in ("axial", "coronal"):
        points, position, pixel, pixelToRAS = _sliceGeometry(kind, centroid, liverLow, liverHigh, volumeLow, volumeHigh, volumeIjkToWorld, pixelMm, maxSizePx)
        hu = sampleLinear(voxels, volumeWorldToIjk, points, outside=low - 1.0)
        grey = np.clip((hu - low) / (high - low), 0.0, 1.0) * 255.0
        rgb = np.repeat(grey[..., np.newaxis], 3, axis=2)
        masks = {}
        for layer in layers:
            sampled = sampleNearest(layer.voxels, np.linalg.inv(layer.ijkToWorld), points)
            for segmentId, value in layer.labelOf.items():
                masks[segmentId] = sampled == value
        legend, shown = [], {"segments": [], "tumours": []}
        for group, alpha in (("couinaud", SEGMENT_TINT_ALPHA), ("tumours", TUMOUR_TINT_ALPHA)):
            for segmentId in getattr(segments, group):
                mask = masks[segmentId]
                if not mask.any():
                    continue
                color = np.asarray(colors[segmentId], dtype=float) * 255.0
                rgb[mask] = (1.0 - alpha) * rgb[mask] + alpha * color
                role = segments.roles.roles[segmentId]
                if group == "couinaud":
                    legend.append((f"Segment {role}", hexColor(colors[segmentId])))
                    shown["segments"].append(f"{role} {colorName(colors[segmentId])}")
                else:
                    shown["tumours"].append(names[segmentId])
        remnantMask = np.logical_or.reduce([masks[segmentId] for segmentId in segments.remnant])
        resectedMask = np.logical_or.reduce([masks[segmentId] for segmentId in segments.resected]) & ~remnantMask
        rgb[_innerBand(resectedMask, OUTLINE_WIDTH_PX)] = RESECTED_OUTLINE_RGB
        rgb[_innerBand(remnantMask, OUTLINE_WIDTH_PX)] = REMNANT_OUTLINE_RGB
        if shown["tumours"]:
            legend.append(("Tumours", hexColor(TUMOUR_3D_COLOR)))
        legend += [
            ("Future liver remnant (outline)", hexColor(np.array(REMNANT_OUTLINE_RGB) / 255.0)),
            ("Resected liver (outline)", hexColor(np.array(RESECTED_OUTLINE_RGB) / 255.0)),
        ]
        pixels = np.round(rgb).astype(np.uint8)
        normal = _VIEWS[kind][0]
        topWord = "anterior" if kind == "axial" else "superior"
        caption = (
            f"{kind.capitalize()} CT at {_positionText(normal, position)} through the liver centroid (radiological view: patient "
            f"right on image left, {topWord} at top; {pixel:.2f} mm pixels; window {low:g} to {high:g} HU). Plan: {plan.label}. "
            f"Bright green outline: future liver remnant ({', '.join(plan.remnantSegments)}); orange outline: resected liver "
            f"({', '.join(plan.resectedSegments)})."
        )
        if shown["segments"]:
            caption += f" Couinaud segments tinted in their colours: {', '.join(shown['segments'])}."
        if shown["tumours"]:
            caption += f" Tumours tinted {colorName(TUMOUR_3D_COLOR)}: {', '.join(shown['tumours'])}."
        if not remnantMask.any():
            caption += " The remnant does not reach this slice."
        images[kind] = ReportImage(
            png=encodePng(pixels),
            widthPx=pixels.shape[1],
            heightPx=pixels.shape[0],
            caption=caption,
            kind=kind,
            positionMm=position,
            pixelMm=pixel,
            legend=legend,
            pixelToRAS=pixelToRAS,
        )
    return images
