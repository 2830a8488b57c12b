"""Pictures for the patient report (a self-contained HTML page for the liver tumour board): an
axial and a coronal CT slice through the liver with the Couinaud segments tinted and the plan's
remnant outlined, and a 3D anterior view of the future liver remnant against the resected liver.

Everything is placed in physical (world RAS) space, never by voxel index: the output pixel grid is
built in RAS and the CT and the segmentation's own labelmap layers are sampled through their
inverse IJK-to-RAS (parent transforms included), so a volume stored LPS, with flipped axes or
obliquely gives the same picture. Pictures follow the radiological convention readers expect:
patient right on the image left, anterior (axial) or superior (coronal, 3D) at the top.

Only numpy and VTK are used (PNG written with zlib), so the same code runs in Slicer and headless.
"""

import base64
import math
import struct
import zlib
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import numpy as np
import vtk
from ALPPSVolumetryLib import couinaud, segmentVolumes
from ALPPSVolumetryLib.imageGrid import checkedVolumeNode, imageToWorld, nodeIjkToRas, rasBounds, toWorldMatrix, volumeNodeArray
from ALPPSVolumetryLib.planDisplay import REMNANT_COLOR, RESECTED_COLOR
from ALPPSVolumetryLib.segmentRecognition import COUINAUD_UNITS, ROLE_TUMOUR, SegmentRoles

DEFAULT_WINDOW_HU = (-160, 240)
SEGMENT_TINT_ALPHA = 0.35
# Tumours sit on top of a segment tint: a little stronger so they stay visible through it.
TUMOUR_TINT_ALPHA = 0.5
FIELD_MARGIN_MM = 20.0
OUTLINE_WIDTH_PX = 2
# Pure, saturated colours that no tinted CT pixel can take, so the outline is unmistakable.
REMNANT_OUTLINE_RGB = (0, 255, 0)
RESECTED_OUTLINE_RGB = (255, 128, 0)
TUMOUR_3D_COLOR = (0.95, 0.85, 0.10)
# Fainter than in Slicer's views: on paper the transection face of the resected liver, seen through
# it, otherwise reads as a solid wedge.
RESECTED_3D_OPACITY = 0.2
BACKGROUND_3D = (1.0, 1.0, 1.0)
# Nearest-voxel lookups are shifted by this physical amount so that a sample point lying exactly
# between two voxels picks the same voxel whatever the index direction of the grid.
_TIE_BREAK_MM = 1e-3
# Bounds and positions are rounded to this many decimals (mm) before they set the pixel grid:
# round-off of a flipped matrix must not add or drop a pixel column.
_MM_DECIMALS = 4

_COLOR_NAMES = (
    ("red", (0.85, 0.15, 0.15)),
    ("orange", (0.93, 0.55, 0.22)),
    ("yellow", (0.95, 0.88, 0.25)),
    ("green", (0.25, 0.70, 0.30)),
    ("light green", (0.60, 0.88, 0.55)),
    ("teal", (0.10, 0.60, 0.60)),
    ("blue", (0.25, 0.50, 0.85)),
    ("light blue", (0.55, 0.78, 0.95)),
    ("purple", (0.60, 0.40, 0.80)),
    ("pink", (0.88, 0.42, 0.58)),
    ("brown", (0.55, 0.35, 0.20)),
    ("tan", (0.90, 0.72, 0.52)),
    ("grey", (0.60, 0.60, 0.60)),
    ("navy", (0.15, 0.20, 0.50)),
    ("lavender", (0.78, 0.62, 0.95)),
    ("plum", (0.60, 0.15, 0.40)),
    ("white", (1.0, 1.0, 1.0)),
)


class RenderingUnavailable(RuntimeError):
    """VTK cannot render offscreen here (no OpenGL context: no display, no EGL/OSMesa)."""


@dataclass
class ReportImage:
    png: bytes  # PNG file content
    widthPx: int
    heightPx: int
    caption: str  # what it shows, orientation, position, what the colours mean
    kind: str = ""  # "axial", "coronal" or "3d"
    positionMm: Optional[float] = None  # RAS coordinate of the slice along its normal (S for axial, A for coronal)
    pixelMm: Optional[float] = None  # size of a (square) pixel for slices
    legend: List[Tuple[str, str]] = field(default_factory=list)  # (what, "#rrggbb") for swatches in the report
    # Slices: 4x4 matrix taking (column, row, 0, 1) to the RAS (mm) of that pixel's centre, for
    # scale bars or picking; None for the 3D view.
    pixelToRAS: Optional[np.ndarray] = None

    def dataUri(self):
        """The picture as a data: URI, for <img src=...> in a self-contained HTML page."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


# --- PNG ------------------------------------------------------------------------------------------


def _pngChunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encodePng(rgb):
    """PNG file content of a uint8 array (rows, columns, 3) RGB or (rows, columns, 4) RGBA; row 0
    is the top of the picture."""
    pixels = np.asarray(rgb)
    if pixels.dtype != np.uint8:
        raise ValueError(f"Image to encode has dtype {pixels.dtype}: expected uint8 (0-255 per channel)")
    if pixels.ndim != 3 or pixels.shape[2] not in (3, 4) or pixels.shape[0] < 1 or pixels.shape[1] < 1:
        raise ValueError(f"Image to encode has shape {pixels.shape}: expected (rows, columns, 3) RGB or (rows, columns, 4) RGBA")
    rows, columns, channels = pixels.shape
    # Filter type 0 (none) on every row: the zero byte in front of each row.
    raw = np.zeros((rows, 1 + columns * channels), dtype=np.uint8)
    raw[:, 1:] = pixels.reshape(rows, columns * channels)
    colorType = 2 if channels == 3 else 6
    header = struct.pack(">IIBBBBB", columns, rows, 8, colorType, 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _pngChunk(b"IHDR", header),
            _pngChunk(b"IDAT", zlib.compress(raw.tobytes(), 6)),
            _pngChunk(b"IEND", b""),
        )
    )


# --- Segments: roles, plan, layers ------------------------------------------------------------------


def _checkedSegmentation(segmentationNode):
    if segmentationNode is None or not hasattr(segmentationNode, "IsA") or not segmentationNode.IsA("vtkMRMLSegmentationNode"):
        kind = "None" if segmentationNode is None else getattr(segmentationNode, "GetClassName", lambda: type(segmentationNode).__name__)()
        raise ValueError(f"Segmentation is {kind}: expected a segmentation node with the Couinaud segments")
    if segmentationNode.GetSegmentation().GetNumberOfSegments() == 0:
        raise ValueError(f"Segmentation '{segmentationNode.GetName()}' has no segments: expected Couinaud segments I-VIII")
    return segmentationNode


def _planSegmentIds(plan, units, segmentationName, names, what):
    """Segment IDs of the plan's Couinaud segments (IV stands for IV or IVa+IVb)."""
    ids = []
    for name in names:
        candidates = ("IV", "IVa", "IVb") if name == "IV" else (name,)
        found = [units[unit] for unit in candidates if unit in units]
        if not found:
            have = ", ".join(unit for unit in COUINAUD_UNITS if unit in units) or "none"
            raise ValueError(
                f"Plan '{plan.label}' {what} segment {name}, but segmentation '{segmentationName}' has no segment recognised as "
                f"{name} (Couinaud segments found: {have}): name the segment or correct the segment roles"
            )
        ids.extend(segmentId for segmentId in found if segmentId not in ids)
    return ids


@dataclass
class _PlanSegments:
    roles: SegmentRoles
    remnant: list  # segment IDs
    resected: list
    couinaud: list  # every Couinaud unit segment, in I..VIII order
    tumours: list  # non-empty tumour segments


def _planSegments(segmentationNode, plan, roleOverrides):
    """Which segments form the remnant, the resection, the liver and the tumours; ValueError when
    one of the plan's segments is missing or empty."""
    if plan is None or not hasattr(plan, "remnantSegments"):
        raise ValueError(f"Plan is {type(plan).__name__}: expected a resection plan (resectionPlans.presetPlan or customPlan)")
    roles = SegmentRoles(segmentationNode, roleOverrides)
    units = roles.couinaudUnits()
    name = segmentationNode.GetName()
    remnant = _planSegmentIds(plan, units, name, plan.remnantSegments, "keeps")
    resected = _planSegmentIds(plan, units, name, plan.resectedSegments, "removes")
    couinaud = [units[unit] for unit in COUINAUD_UNITS if unit in units]
    tumours = roles.segmentsWithRole(ROLE_TUMOUR)
    segmentVolumes.ensureBinaryLabelmap(segmentationNode)
    counts = {volume.segmentId: volume.voxelCount for volume in segmentVolumes.segmentVolumes(segmentationNode, couinaud + tumours)}
    empty = [roles.names[segmentId] for segmentId in remnant + resected if counts[segmentId] == 0]
    if empty:
        raise ValueError(
            f"Segmentation '{name}': segment(s) {', '.join(empty)} of plan '{plan.label}' are empty: paint them or correct the "
            "segment roles"
        )
    return _PlanSegments(
        roles=roles,
        remnant=remnant,
        resected=resected,
        couinaud=[segmentId for segmentId in couinaud if counts[segmentId] > 0],
        tumours=[segmentId for segmentId in tumours if counts[segmentId] > 0],
    )


@dataclass
class _Layer:
    voxels: np.ndarray  # [k, j, i] over the layer's extent
    ijkToWorld: np.ndarray  # 4x4, from extent-relative indices to world RAS
    labelOf: dict  # segment ID -> label value in this layer


def _layers(segmentationNode, segmentIds):
    """The segmentation's own labelmap layers holding ``segmentIds``, placed in world RAS. Reading
    the shared layers avoids exporting every segment onto the CT grid (slow on a 512^3 scan)."""
    segmentation = segmentationNode.GetSegmentation()
    labelmapName = segmentVolumes.binaryLabelmapName()
    toWorld = toWorldMatrix(segmentationNode)
    byLayer = {}
    for segmentId in segmentIds:
        byLayer.setdefault(segmentation.GetLayerIndex(segmentId, labelmapName), []).append(segmentId)
    layers = []
    for layerIndex, ids in byLayer.items():
        image = segmentation.GetLayerDataObject(layerIndex, labelmapName)
        voxels = segmentVolumes.layerVoxels(image)
        if voxels is None:
            continue
        extent = image.GetExtent()
        shift = np.eye(4)
        shift[:3, 3] = (extent[0], extent[2], extent[4])
        layers.append(
            _Layer(
                voxels=voxels,
                ijkToWorld=toWorld @ imageToWorld(image) @ shift,
                labelOf={segmentId: segmentation.GetSegment(segmentId).GetLabelValue() for segmentId in ids},
            )
        )
    return layers


def _liverCentroidAndBounds(layers, liverIds):
    """Centroid and bounding box (world RAS, voxel edges) of the union of the liver segments."""
    weightedSum = np.zeros(3)
    total = 0
    low, high = np.full(3, np.inf), np.full(3, -np.inf)
    for layer in layers:
        labels = [value for segmentId, value in layer.labelOf.items() if segmentId in liverIds]
        if not labels:
            continue
        mask = np.isin(layer.voxels, labels)  # never a table as long as the largest label value
        # Profiles along each index axis give count, centroid and extent without listing voxels.
        perSlice = mask.sum(axis=(1, 2))
        count = int(perSlice.sum())
        if count == 0:
            continue
        plane = mask.sum(axis=0)
        profiles = (plane.sum(axis=0), plane.sum(axis=1), perSlice)  # i, j, k
        centroidIjk = [float(np.dot(np.arange(profile.size), profile)) / count for profile in profiles]
        weightedSum += count * (layer.ijkToWorld @ np.array(centroidIjk + [1.0]))[:3]
        total += count
        box = [np.nonzero(profile)[0][[0, -1]] for profile in profiles]
        corners = np.array([[i, j, k, 1.0] for i in (box[0][0] - 0.5, box[0][1] + 0.5) for j in (box[1][0] - 0.5, box[1][1] + 0.5) for k in (box[2][0] - 0.5, box[2][1] + 0.5)])
        points = (layer.ijkToWorld @ corners.T).T[:, :3]
        low, high = np.minimum(low, points.min(axis=0)), np.maximum(high, points.max(axis=0))
    if total == 0:
        return None, None, None
    return weightedSum / total, low, high


def _sampleNearest(voxels, worldToIjk, points, outside=0):
    """Values at world points (..., 3) by nearest voxel; ``outside`` beyond the grid."""
    local = points + _TIE_BREAK_MM
    ijk = local @ worldToIjk[:3, :3].T + worldToIjk[:3, 3]
    index = np.floor(ijk + 0.5).astype(np.int64)
    sizes = (voxels.shape[2], voxels.shape[1], voxels.shape[0])
    inside = np.ones(points.shape[:-1], dtype=bool)
    for axis in range(3):
        inside &= (index[..., axis] >= 0) & (index[..., axis] < sizes[axis])
    values = np.full(points.shape[:-1], outside, dtype=voxels.dtype)
    i, j, k = (index[..., axis][inside] for axis in range(3))
    values[inside] = voxels[k, j, i]
    return values


def _sampleLinear(voxels, worldToIjk, points, outside):
    """Values at world points (..., 3) by trilinear interpolation; ``outside`` beyond the grid
    (voxel edges count as inside, the edge voxel's value carried to them)."""
    ijk = points @ worldToIjk[:3, :3].T + worldToIjk[:3, 3]
    sizes = (voxels.shape[2], voxels.shape[1], voxels.shape[0])
    inside = np.ones(points.shape[:-1], dtype=bool)
    lower, upper, fraction = [], [], []
    for axis in range(3):
        coordinate = ijk[..., axis]
        inside &= (coordinate >= -0.5) & (coordinate <= sizes[axis] - 0.5)
        base = np.floor(coordinate)
        fraction.append(coordinate - base)
        base = base.astype(np.int64)
        lower.append(np.clip(base, 0, sizes[axis] - 1))
        upper.append(np.clip(base + 1, 0, sizes[axis] - 1))
    values = np.zeros(points.shape[:-1], dtype=np.float64)
    for corner in range(8):
        picks = [(upper if corner >> axis & 1 else lower)[axis] for axis in range(3)]
        weight = np.ones(points.shape[:-1])
        for axis in range(3):
            weight = weight * (fraction[axis] if corner >> axis & 1 else 1.0 - fraction[axis])
        values += weight * voxels[picks[2], picks[1], picks[0]]
    values[~inside] = outside
    return values


# --- Slices ------------------------------------------------------------------------------------------

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


def _colorName(rgb):
    color = np.asarray(rgb, dtype=float)
    return min(_COLOR_NAMES, key=lambda entry: float(np.sum((np.asarray(entry[1]) - color) ** 2)))[0]


def _reportColor(role):
    """Colour of a Couinaud unit in the pictures: its segment's colour; IVb a lighter shade of IV."""
    color = np.asarray(couinaud.SEGMENT_COLOR[role[:2] if role in ("IVa", "IVb") else role], dtype=float)
    return tuple(color + (1.0 - color) * 0.35) if role == "IVb" else tuple(color)


def _hexColor(rgb):
    return "#" + "".join(f"{int(round(255 * min(max(float(value), 0.0), 1.0))):02x}" for value in rgb[:3])


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


def sliceImages(volumeNode, segmentationNode, plan, roleOverrides=None, windowHU=DEFAULT_WINDOW_HU, pixelMm=None, maxSizePx=520):
    """Axial and coronal CT slices through the liver centroid with the Couinaud segments tinted,
    tumours tinted, the plan's remnant outlined in bright green and the resected liver in orange.

    ``volumeNode``: the CT (scalar volume node); ``segmentationNode``: Couinaud segments I-VIII (and
    tumours), recognised by name or code, ``roleOverrides`` as in segmentRecognition.SegmentRoles;
    ``plan``: a resectionPlans.ResectionPlan. ``windowHU``: (lowest, highest) HU shown black to white.
    ``pixelMm``: square pixel size (default: the CT's smallest voxel spacing), enlarged so the longer
    side stays within ``maxSizePx``. The field of view is the liver's bounding box plus 20 mm,
    clipped to the CT. Returns {"axial": ReportImage, "coronal": ReportImage}.
    """
    checkedVolumeNode(volumeNode, "CT volume")
    _checkedSegmentation(segmentationNode)
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

    segments = _planSegments(segmentationNode, plan, roleOverrides)
    names = segments.roles.names
    layers = _layers(segmentationNode, segments.couinaud + segments.tumours)
    centroid, liverLow, liverHigh = _liverCentroidAndBounds(layers, set(segments.couinaud))
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
    colors = {segmentId: _reportColor(segments.roles.roles[segmentId]) for segmentId in segments.couinaud}
    colors.update({segmentId: TUMOUR_3D_COLOR for segmentId in segments.tumours})
    images = {}
    for kind in ("axial", "coronal"):
        points, position, pixel, pixelToRAS = _sliceGeometry(kind, centroid, liverLow, liverHigh, volumeLow, volumeHigh, volumeIjkToWorld, pixelMm, maxSizePx)
        hu = _sampleLinear(voxels, volumeWorldToIjk, points, outside=low - 1.0)
        grey = np.clip((hu - low) / (high - low), 0.0, 1.0) * 255.0
        rgb = np.repeat(grey[..., np.newaxis], 3, axis=2)
        masks = {}
        for layer in layers:
            sampled = _sampleNearest(layer.voxels, np.linalg.inv(layer.ijkToWorld), points)
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
                    legend.append((f"Segment {role}", _hexColor(colors[segmentId])))
                    shown["segments"].append(f"{role} {_colorName(colors[segmentId])}")
                else:
                    shown["tumours"].append(names[segmentId])
        remnantMask = np.logical_or.reduce([masks[segmentId] for segmentId in segments.remnant])
        resectedMask = np.logical_or.reduce([masks[segmentId] for segmentId in segments.resected]) & ~remnantMask
        rgb[_innerBand(resectedMask, OUTLINE_WIDTH_PX)] = RESECTED_OUTLINE_RGB
        rgb[_innerBand(remnantMask, OUTLINE_WIDTH_PX)] = REMNANT_OUTLINE_RGB
        if shown["tumours"]:
            legend.append(("Tumours", _hexColor(TUMOUR_3D_COLOR)))
        legend += [
            ("Future liver remnant (outline)", _hexColor(np.array(REMNANT_OUTLINE_RGB) / 255.0)),
            ("Resected liver (outline)", _hexColor(np.array(RESECTED_OUTLINE_RGB) / 255.0)),
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
            caption += f" Tumours tinted {_colorName(TUMOUR_3D_COLOR)}: {', '.join(shown['tumours'])}."
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


# --- 3D ----------------------------------------------------------------------------------------------

_offscreenProblem = []  # cached answer of _offscreenRenderingProblem: [reason or None]


def _offscreenRenderingProblem():
    """None when VTK can open an offscreen OpenGL context here, else why not. Asked once per
    process: a probe context costs ~0.1 s, and a failing one must never reach Render() (which
    can abort the interpreter)."""
    if not _offscreenProblem:
        reason = None
        try:
            window = vtk.vtkRenderWindow()
            window.SetOffScreenRendering(1)
            if not window.SupportsOpenGL():
                reason = f"{window.GetClassName()} cannot create an OpenGL context offscreen (no display, EGL or OSMesa available)"
            window.Finalize()
        except Exception as error:  # VTK raises nothing documented here; any failure means "cannot render"
            reason = f"VTK render window could not be created offscreen: {error}"
        _offscreenProblem.append(reason)
    return _offscreenProblem[0]


def _withNormals(polyData):
    if polyData.GetPointData().GetNormals() is not None:
        return polyData
    normals = vtk.vtkPolyDataNormals()
    normals.SetInputData(polyData)
    normals.SplittingOff()
    normals.ConsistencyOn()
    normals.Update()
    return normals.GetOutput()


def _segmentSurfaces(segmentationNode, segmentIds):
    """Closed surfaces of segments one by one, in world RAS, appended. Slicer converts from its
    labelmap with the segmentation's own conversion parameters without changing the node (an
    existing closed surface is reused); the parent transform is applied."""
    import slicer

    append = vtk.vtkAppendPolyData()
    for segmentId in segmentIds:
        polyData = vtk.vtkPolyData()
        converted = slicer.vtkSlicerSegmentationsModuleLogic.GetSegmentClosedSurfaceRepresentation(segmentationNode, segmentId, polyData, True)
        if converted and polyData.GetNumberOfPoints() > 0:
            append.AddInputData(polyData)
    if append.GetNumberOfInputConnections(0) == 0:
        return None
    append.Update()
    return _withNormals(append.GetOutput())


def _unionSurface(segmentationNode, segmentIds):
    """One closed surface, in world RAS, of the union of segments. Drawn segment by segment, a
    translucent group shows the walls between its segments as bands; the union has none. Made by
    Slicer's own converter (with the segmentation's conversion parameters, so it looks as in
    Slicer's 3D view) on a temporary segmentation; the node is not changed. Layers on grids that
    are not whole-voxel shifts of each other fall back to one surface per segment."""
    import slicer

    layers = _layers(segmentationNode, segmentIds)
    if not layers:
        return None
    toReference = np.linalg.inv(layers[0].ijkToWorld)
    pieces = []
    for layer in layers:
        relative = toReference @ layer.ijkToWorld
        shift = np.round(relative[:3, 3])
        if not np.allclose(relative[:3, :3], np.eye(3), atol=1e-6) or not np.allclose(relative[:3, 3], shift, atol=1e-3):
            return _segmentSurfaces(segmentationNode, segmentIds)
        labels = list(layer.labelOf.values())
        mask = np.isin(layer.voxels, labels)  # never a table as long as the largest label value
        nonzero = [np.nonzero(mask.any(axis=axes))[0] for axes in ((1, 2), (0, 2), (0, 1))]  # k, j, i
        if any(indices.size == 0 for indices in nonzero):
            continue
        low = np.array([indices[0] for indices in nonzero])
        high = np.array([indices[-1] for indices in nonzero])
        crop = mask[low[0] : high[0] + 1, low[1] : high[1] + 1, low[2] : high[2] + 1]
        pieces.append((crop, low + shift[::-1].astype(int)))
    if not pieces:
        return None
    # One empty voxel all round closes the surface where the union touches its box.
    low = np.min([start for _, start in pieces], axis=0) - 1
    high = np.max([start + np.array(crop.shape) - 1 for crop, start in pieces], axis=0) + 1
    union = np.zeros(tuple(high - low + 1), dtype=np.uint8)
    for crop, start in pieces:
        offset = start - low
        union[offset[0] : offset[0] + crop.shape[0], offset[1] : offset[1] + crop.shape[1], offset[2] : offset[2] + crop.shape[2]] |= crop
    from vtk.util import numpy_support

    image = slicer.vtkOrientedImageData()
    image.SetDimensions(union.shape[2], union.shape[1], union.shape[0])
    image.AllocateScalars(vtk.VTK_UNSIGNED_CHAR, 1)
    numpy_support.vtk_to_numpy(image.GetPointData().GetScalars())[:] = union.ravel()
    placement = np.eye(4)
    placement[:3, 3] = low[::-1]
    matrix = vtk.vtkMatrix4x4()
    for row, values in enumerate(layers[0].ijkToWorld @ placement):
        for column, value in enumerate(values):
            matrix.SetElement(row, column, float(value))
    image.SetImageToWorldMatrix(matrix)
    labelmapName = segmentVolumes.binaryLabelmapName()
    surfaceName = slicer.vtkSegmentationConverter.GetSegmentationClosedSurfaceRepresentationName()
    temporary = slicer.vtkSegmentation()
    temporary.SetSourceRepresentationName(labelmapName)
    temporary.CopyConversionParameters(segmentationNode.GetSegmentation())
    segment = slicer.vtkSegment()
    segment.SetLabelValue(1)
    segment.AddRepresentation(labelmapName, image)
    temporary.AddSegment(segment, "union")
    if not temporary.CreateRepresentation(surfaceName):
        return _segmentSurfaces(segmentationNode, segmentIds)
    polyData = temporary.GetSegment("union").GetRepresentation(surfaceName)
    if polyData is None or polyData.GetNumberOfPoints() == 0:
        return None
    return _withNormals(polyData)


def _smoothed(polyData):
    """Voxel stairs smoothed away for the picture (windowed sinc keeps the volume and shape; the
    numbers are never measured on it), with point normals for smooth shading."""
    smoother = vtk.vtkWindowedSincPolyDataFilter()
    smoother.SetInputData(polyData)
    smoother.SetNumberOfIterations(30)
    smoother.SetPassBand(0.02)
    smoother.BoundarySmoothingOff()
    smoother.FeatureEdgeSmoothingOff()
    smoother.NonManifoldSmoothingOn()
    smoother.NormalizeCoordinatesOn()
    smoother.Update()
    normals = vtk.vtkPolyDataNormals()
    normals.SetInputConnection(smoother.GetOutputPort())
    normals.SplittingOff()
    normals.ConsistencyOn()
    normals.Update()
    return normals.GetOutput()


def _actor(polyData, color, opacity):
    mapper = vtk.vtkPolyDataMapper()
    mapper.SetInputData(polyData)
    mapper.ScalarVisibilityOff()
    actor = vtk.vtkActor()
    actor.SetMapper(mapper)
    properties = actor.GetProperty()
    properties.SetColor(*color)
    properties.SetOpacity(opacity)
    properties.SetSpecular(0.15)
    properties.SetSpecularPower(20)
    if opacity < 1.0:
        # Backfaces of a translucent organ would double its shade and show its far side as bands.
        properties.BackfaceCullingOn()
    return actor


def render3D(segmentationNode, plan, roleOverrides=None, size=(640, 480)):
    """3D anterior view (patient right on image left, superior at top) of the plan: future liver
    remnant green and opaque, resected liver red and translucent, tumours yellow, on white.

    Rendered offscreen with VTK; raises RenderingUnavailable (with the reason) when no offscreen
    OpenGL context can be created, ValueError on a bad segmentation or plan."""
    _checkedSegmentation(segmentationNode)
    try:
        width, height = (int(value) for value in size)
    except (TypeError, ValueError):
        raise ValueError(f"Picture size {size!r} is not two numbers: expected (width, height) in pixels") from None
    if width < 16 or height < 16 or width > 4096 or height > 4096:
        raise ValueError(f"Picture size {size!r}: expected (width, height) between 16 and 4096 pixels")
    segments = _planSegments(segmentationNode, plan, roleOverrides)
    problem = _offscreenRenderingProblem()
    if problem:
        raise RenderingUnavailable(problem)

    groups = (
        (segments.remnant, REMNANT_COLOR, 1.0),
        (segments.resected, RESECTED_COLOR, RESECTED_3D_OPACITY),
        (segments.tumours, TUMOUR_3D_COLOR, 1.0),
    )
    renderer = vtk.vtkRenderer()
    renderer.SetBackground(*BACKGROUND_3D)
    # Key, fill and back lights as in Slicer's 3D view, so that the shape reads without harsh shadows.
    lights = vtk.vtkLightKit()
    lights.AddLightsToRenderer(renderer)
    bounds = vtk.vtkBoundingBox()
    for index, (segmentIds, color, opacity) in enumerate(groups):
        surface = _unionSurface if index < 2 else _segmentSurfaces
        polyData = surface(segmentationNode, segmentIds) if segmentIds else None
        if polyData is None:
            if index == 0:
                raise ValueError(f"Segmentation '{segmentationNode.GetName()}': the remnant of plan '{plan.label}' has no closed surface: expected painted segments")
            continue
        polyData = _smoothed(polyData)
        renderer.AddActor(_actor(polyData, color, opacity))
        bounds.AddBounds(polyData.GetBounds())

    window = vtk.vtkRenderWindow()
    try:
        window.SetOffScreenRendering(1)
        window.SetSize(width, height)
        window.SetMultiSamples(0)
        window.SetAlphaBitPlanes(1)
        window.AddRenderer(renderer)
        # Correct translucency: the resected liver is seen with the remnant and tumours through it.
        renderer.SetUseDepthPeeling(1)
        renderer.SetMaximumNumberOfPeels(8)
        renderer.SetOcclusionRatio(0.0)
        renderer.SetUseFXAA(True)

        low, high = np.array(bounds.GetMinPoint()), np.array(bounds.GetMaxPoint())
        centre = (low + high) / 2.0
        extent = high - low
        camera = renderer.GetActiveCamera()
        camera.ParallelProjectionOn()
        camera.SetFocalPoint(*centre)
        # From anterior (+A) looking posteriorly, superior up: the patient's right (+R) then falls
        # on the image left, as on a radiograph.
        camera.SetPosition(centre[0], centre[1] + 2.0 * float(np.linalg.norm(extent)) + 100.0, centre[2])
        camera.SetViewUp(0.0, 0.0, 1.0)
        camera.SetParallelScale(1.08 * max(extent[2] / 2.0, extent[0] / 2.0 * height / width))
        renderer.ResetCameraClippingRange()
        window.Render()

        capture = vtk.vtkWindowToImageFilter()
        capture.SetInput(window)
        capture.SetInputBufferTypeToRGB()
        capture.ReadFrontBufferOff()
        capture.Update()
        image = capture.GetOutput()
        from vtk.util import numpy_support

        dimensions = image.GetDimensions()
        pixels = numpy_support.vtk_to_numpy(image.GetPointData().GetScalars()).reshape(dimensions[1], dimensions[0], -1)
        pixels = np.ascontiguousarray(pixels[::-1, :, :3])  # VTK's first row is the bottom
    finally:
        window.Finalize()
    # The camera leaves a margin, so a corner is background unless the context drew nothing
    # (a driver that accepted the context but cannot render returns a black or garbage buffer).
    background = np.round(255 * np.array(BACKGROUND_3D)).astype(np.uint8)
    if not np.array_equal(pixels[0, 0], background):
        raise RenderingUnavailable(
            f"Offscreen rendering returned no picture (corner pixel {pixels[0, 0].tolist()}, expected the background "
            f"{background.tolist()}): the OpenGL driver does not render offscreen"
        )

    caption = (
        f"3D view from anterior (patient right on image left, superior at top). Plan: {plan.label}. Green, opaque: future liver "
        f"remnant ({', '.join(plan.remnantSegments)}); red, translucent: resected liver ({', '.join(plan.resectedSegments)})"
    )
    if segments.tumours:
        tumourNames = ", ".join(segments.roles.names[segmentId] for segmentId in segments.tumours)
        caption += f"; yellow: tumours ({tumourNames}; orange where seen through the resected liver)"
    caption += "."
    legend = [("Future liver remnant", _hexColor(REMNANT_COLOR)), ("Resected liver", _hexColor(RESECTED_COLOR))]
    if segments.tumours:
        legend.append(("Tumours", _hexColor(TUMOUR_3D_COLOR)))
    return ReportImage(png=encodePng(pixels), widthPx=pixels.shape[1], heightPx=pixels.shape[0], caption=caption, kind="3d", legend=legend)
