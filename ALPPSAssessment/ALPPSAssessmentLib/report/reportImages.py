"""Pictures for the patient report (a self-contained HTML page for the liver tumour board): what
the slice pictures (``slicePictures``) and the 3D picture (``threeDPicture``) share - the picture
record, PNG encoding, the plan's segments and the segmentation's labelmap layers in world RAS,
sampling them, and the colours and their names for the legends.

Everything is placed in physical (world RAS) space, never by voxel index: the output pixel grid is
built in RAS and the CT and the segmentation's own labelmap layers are sampled through their
inverse IJK-to-RAS (parent transforms included), so a volume stored LPS, with flipped axes or
obliquely gives the same picture. Pictures follow the radiological convention readers expect:
patient right on the image left, anterior (axial) or superior (coronal, 3D) at the top.

Only numpy and VTK are used (PNG written with zlib), so the same code runs in Slicer and headless.
"""

import base64
import struct
import zlib
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import numpy as np
from ALPPSVolumetryLib.segments import couinaud, segmentVolumes
from ALPPSVolumetryLib.imageGrid import imageToWorld, toWorldMatrix
from ALPPSVolumetryLib.segments.segmentRecognition import COUINAUD_UNITS, ROLE_TUMOUR, SegmentRoles

# Tumours in both pictures.
TUMOUR_3D_COLOR = (0.95, 0.85, 0.10)
# Nearest-voxel lookups are shifted by this physical amount so that a sample point lying exactly
# between two voxels picks the same voxel whatever the index direction of the grid.
_TIE_BREAK_MM = 1e-3
# Colour names for the captions: the nearest of these to a segment's colour.
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


def checkedSegmentation(segmentationNode):
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


def planSegments(segmentationNode, plan):
    """Which segments form the remnant, the resection, the liver and the tumours; ValueError when
    one of the plan's segments is missing or empty."""
    if plan is None or not hasattr(plan, "remnantSegments"):
        raise ValueError(f"Plan is {type(plan).__name__}: expected a resection plan (resectionPlans.presetPlan or customPlan)")
    roles = SegmentRoles(segmentationNode)
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


def labelmapLayers(segmentationNode, segmentIds):
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


def liverCentroidAndBounds(layers, liverIds):
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


def sampleNearest(voxels, worldToIjk, points, outside=0):
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


def sampleLinear(voxels, worldToIjk, points, outside):
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


def colorName(rgb):
    color = np.asarray(rgb, dtype=float)
    return min(_COLOR_NAMES, key=lambda entry: float(np.sum((np.asarray(entry[1]) - color) ** 2)))[0]


def reportColor(role):
    """Colour of a Couinaud unit in the pictures: its segment's colour; IVb a lighter shade of IV."""
    color = np.asarray(couinaud.SEGMENT_COLOR[role[:2] if role in ("IVa", "IVb") else role], dtype=float)
    return tuple(color + (1.0 - color) * 0.35) if role == "IVb" else tuple(color)


def hexColor(rgb):
    return "#" + "".join(f"{int(round(255 * min(max(float(value), 0.0), 1.0))):02x}" for value in rgb[:3])
