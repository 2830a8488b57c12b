"""Image files read completely before any ITK or VTK reader sees them.

Slicer's readers abort the whole process on some damaged files (an uncaught ITK exception, a
header asking for terabytes) and read others silently wrong (a truncated .nii.gz loads with a
segment missing). So every NRRD, NIfTI and MetaImage file is parsed here first: its header,
then its whole data stream (compressed streams fully decoded, a slab at a time, so memory stays
small), and the data size must match what the header describes. Voxel values are checked on
the way: NaN or infinite voxels are refused, and for label maps non-integer or negative labels
too. Each refusal is one ValueError naming the file and the problem.
"""

import bz2
import math
import os
import re
import struct
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import numpy as np

from .inputChecks import checkedInputFile
from ..segments.labelCounting import labelCounts
from .segmentationFileChecks import checkLayerValues, checkSegmentList

try:
    # zlib-ng (the inflater ITK's own readers use) decodes a label map's long runs over ten
    # times faster than Python's zlib: pinned for the batch command, not bundled with Slicer.
    from zlib_ng import zlib_ng as zlib
except ImportError:
    import zlib

# 2^31 voxels (e.g. 2048 x 2048 x 512): far above any CT or MRI of the liver, far below what
# would exhaust memory before the reader fails.
MAXIMUM_VOXELS = 1 << 31
MAXIMUM_AXIS_VOXELS = 65536
# Voxel spacing (mm) of cross-sectional scans of the abdomen: 0.1 mm (micro-CT) to 20 mm (thick
# SPECT slabs). Outside that the unit is wrong (metres, micrometres) or the header is damaged.
MINIMUM_SPACING_MM = 0.05
MAXIMUM_SPACING_MM = 20.0
# A label map of liver segments has tens of labels, a whole-body one about 120: thousands of
# distinct values mean the file is an image, not a label map.
MAXIMUM_LABEL_COUNT = 10000
MAXIMUM_LABEL_VALUE = (1 << 31) - 1
_SLAB_BYTES = 1 << 24
_MAXIMUM_HEADER_BYTES = 1 << 20


@dataclass
class ImageFileSummary:
    """What the checks learnt about a file."""

    path: str
    format: str
    size: Tuple[int, ...]  # voxels along i, j, k
    spacing: Tuple[float, ...]  # mm
    dtype: str
    components: int = 1
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    labels: Optional[List[int]] = None  # label maps: every value present (0 included)
    notes: List[str] = field(default_factory=list)
    # Label maps checked with keepVoxels: the voxels of the slices from the first to the last
    # holding a label, [k, j, i] in file order, in the narrowest unsigned type that holds the
    # labels (so the file is decoded once, not again by a reader), and the index of their first slice.
    voxels: Optional[np.ndarray] = None
    voxelsFirstSlice: int = 0


class _Layout:
    """Header facts needed to read and check the data stream."""

    def __init__(self, path, fileFormat):
        self.path = path
        self.format = fileFormat
        self.size = ()
        self.components = 1
        self.dtype = None
        self.spacing = ()
        self.dataPath = path
        self.dataOffset = 0  # bytes before the data in the file (compressed files: before the stream)
        self.skipAfterDecoding = 0  # bytes before the data in the decoded stream
        self.encoding = "raw"
        self.scale = (1.0, 0.0)  # slope, intercept applied by the reader
        self.dataAtEnd = False
        self.keyValues = {}

    def refuse(self, problem):
        raise ValueError(f"{self.format} file '{self.path}' {problem}")


def _checkGeometry(layout):
    if not layout.size or any(count < 1 for count in layout.size):
        layout.refuse(f"has sizes {list(layout.size)}: expected at least one voxel along each axis")
    if any(count > MAXIMUM_AXIS_VOXELS for count in layout.size):
        layout.refuse(f"has sizes {list(layout.size)}: expected at most {MAXIMUM_AXIS_VOXELS} voxels along an axis")
    voxels = int(np.prod([int(count) for count in layout.size], dtype=object)) * layout.components
    if voxels > MAXIMUM_VOXELS:
        layout.refuse(f"claims {voxels:,} voxels ({' x '.join(str(c) for c in layout.size)}): expected at most {MAXIMUM_VOXELS:,}")
    for value in layout.spacing:
        if not math.isfinite(value) or not MINIMUM_SPACING_MM <= value <= MAXIMUM_SPACING_MM:
            shown = ", ".join(f"{v:g}" for v in layout.spacing)
            layout.refuse(
                f"has voxel spacing {shown} mm: expected {MINIMUM_SPACING_MM:g} to {MAXIMUM_SPACING_MM:g} mm per voxel "
                "(a wrong unit or a damaged header?)"
            )


# --- NRRD --------------------------------------------------------------------------------------

_NRRD_TYPES = {}
for _names, _code in (
    (("signed char", "int8", "int8_t"), "i1"),
    (("uchar", "unsigned char", "uint8", "uint8_t"), "u1"),
    (("short", "short int", "signed short", "signed short int", "int16", "int16_t"), "i2"),
    (("ushort", "unsigned short", "unsigned short int", "uint16", "uint16_t"), "u2"),
    (("int", "signed int", "int32", "int32_t"), "i4"),
    (("uint", "unsigned int", "uint32", "uint32_t"), "u4"),
    (("longlong", "long long", "long long int", "signed long long", "signed long long int", "int64", "int64_t"), "i8"),
    (("ulonglong", "unsigned long long", "unsigned long long int", "uint64", "uint64_t"), "u8"),
    (("float",), "f4"),
    (("double",), "f8"),
):
    for _name in _names:
        _NRRD_TYPES[_name] = _code
# Every field the NRRD format defines (teem's nrrdField names and their accepted spellings).
_NRRD_FIELDS = {
    "content", "number", "type", "block size", "blocksize", "dimension", "space", "space dimension", "sizes", "spacings",
    "thicknesses", "axis mins", "axismins", "axis maxs", "axismaxs", "centers", "centerings", "kinds", "labels", "units",
    "min", "max", "old min", "oldmin", "old max", "oldmax", "endian", "encoding", "line skip", "lineskip", "byte skip",
    "byteskip", "sample units", "sampleunits", "space units", "space origin", "space directions", "measurement frame",
    "data file", "datafile",
}
_NRRD_ENCODINGS = {"raw": "raw", "gzip": "gzip", "gz": "gzip", "bzip2": "bzip2", "bz2": "bzip2", "ascii": "ascii", "text": "ascii",
                   "txt": "ascii"}


def _nrrdVector(text):
    text = text.strip()
    if text == "none":
        return None
    return [float(value) for value in text.strip("()").split(",")]


def _readNrrdHeader(path):
    layout = _Layout(path, "NRRD")
    with open(path, "rb") as stream:
        head = stream.read(_MAXIMUM_HEADER_BYTES)
    if not head.startswith(b"NRRD000"):
        layout.refuse("does not start with 'NRRD000': expected a NRRD file")
    end = head.find(b"\n\n")
    if end < 0:
        end = head.find(b"\r\n\r\n")
        if end < 0:
            if len(head) >= _MAXIMUM_HEADER_BYTES:
                layout.refuse("has a header longer than 1 MB or no blank line after it")
            if b"\ndata file:" not in head and b"\ndatafile:" not in head:
                layout.refuse(f"ends after {len(head)} bytes, inside its header: the file is truncated")
            end = len(head)  # header only (detached data)
        separatorLength = 4
    else:
        separatorLength = 2
    try:
        lines = head[:end].decode("latin-1").splitlines()[1:]
    except UnicodeDecodeError:
        layout.refuse("has an unreadable header")
    fields = {}
    for line in lines:
        if not line or line.startswith("#"):
            continue
        if ":=" in line and (": " not in line or line.index(":=") < line.index(": ")):
            key, _, value = line.partition(":=")
            layout.keyValues[key.strip()] = value  # segment names, label values, layers: checked for .seg.nrrd
            continue
        key, separator, value = line.partition(": ")
        if not separator:
            layout.refuse(f"has a header line '{line[:60]}' that is not 'field: value'")
        if key.strip().lower() not in _NRRD_FIELDS:
            # teem reports some unknown fields and not others; Slicer's segmentation reader has
            # crashed on such a line (a value broken over two lines).
            layout.refuse(f"has a header line '{line[:60]}' whose field '{key.strip()[:40]}' NRRD does not define")
        fields[key.strip().lower()] = value.strip()
    try:
        dimension = int(fields["dimension"])
        sizes = [int(value) for value in fields["sizes"].split()]
        typeName = fields["type"].strip().lower()
        encoding = fields["encoding"].strip().lower()
    except KeyError as missing:
        layout.refuse(f"has no '{missing.args[0]}' field: expected a complete NRRD header")
    except ValueError:
        layout.refuse("has a 'dimension' or 'sizes' field that is not whole numbers")
    if len(sizes) != dimension or not 1 <= dimension <= 4:
        layout.refuse(f"has dimension {dimension} and sizes {sizes}: expected 3 (or 4 with a component axis) matching sizes")
    if typeName not in _NRRD_TYPES:
        layout.refuse(f"has voxel type '{typeName}': expected an integer or floating-point type")
    if encoding not in _NRRD_ENCODINGS:
        layout.refuse(f"has encoding '{encoding}': expected raw, gzip, bzip2 or ascii")
    layout.encoding = _NRRD_ENCODINGS[encoding]
    endian = fields.get("endian", "little").lower()
    layout.dtype = np.dtype(("<" if endian == "little" else ">") + _NRRD_TYPES[typeName])
    kinds = fields.get("kinds", "").split()
    directions = None
    if "space directions" in fields:
        tokens = re.findall(r"none|\([^)]*\)", fields["space directions"])
        try:
            directions = [_nrrdVector(token) for token in tokens]
        except ValueError:
            layout.refuse(f"has space directions '{fields['space directions']}' that are not numbers")
        if any(vector is not None and (len(vector) != 3 or not all(map(math.isfinite, vector))) for vector in directions):
            layout.refuse(f"has space directions '{fields['space directions']}': expected three finite numbers per axis")
    spatial = list(range(dimension))
    if directions is not None:
        if len(directions) != dimension:
            layout.refuse(f"has {len(directions)} space directions for {dimension} axes")
        spatial = [axis for axis, vector in enumerate(directions) if vector is not None]
        spacing = [float(np.linalg.norm(directions[axis])) for axis in spatial]
    else:
        if kinds and len(kinds) == dimension:
            spatial = [axis for axis, kind in enumerate(kinds) if kind.lower() in ("domain", "space")]
        elif dimension == 4:
            spatial = [1, 2, 3]
        try:
            spacings = [float(value) for value in fields.get("spacings", " ".join(["1"] * dimension)).split()]
        except ValueError:
            layout.refuse(f"has spacings '{fields['spacings']}' that are not numbers")
        spacing = [spacings[axis] if axis < len(spacings) else 1.0 for axis in spatial]
    if len(spatial) != 3:
        if not (len(spatial) == 2 and dimension == 2):
            layout.refuse(f"has {len(spatial)} spatial axes: expected 3")
    layout.size = tuple(sizes[axis] for axis in spatial)
    layout.components = int(np.prod([sizes[axis] for axis in range(dimension) if axis not in spatial]) or 1)
    layout.spacing = tuple(spacing)
    if directions is not None and np.linalg.matrix_rank(np.array([directions[axis] for axis in spatial])) < len(spatial):
        layout.refuse("has space directions that do not span three dimensions")
    origin = fields.get("space origin")
    if origin is not None:
        try:
            values = _nrrdVector(origin)
        except ValueError:
            values = [float("nan")]
        if values is None or not all(math.isfinite(value) for value in values):
            layout.refuse(f"has space origin '{origin}': expected finite numbers")
    dataFile = fields.get("data file", fields.get("datafile"))
    try:
        byteSkip = int(fields.get("byte skip", fields.get("byteskip", "0")))
        lineSkip = int(fields.get("line skip", fields.get("lineskip", "0")))
    except ValueError:
        layout.refuse("has a 'byte skip' or 'line skip' that is not a whole number")
    if dataFile:
        if dataFile.startswith("LIST") or len(dataFile.split()) > 1:
            layout.refuse(f"stores its data in several files ('data file: {dataFile}'): expected one data file")
        layout.dataPath = os.path.join(os.path.dirname(path), dataFile)
        if not os.path.isfile(layout.dataPath):
            layout.refuse(f"names data file '{dataFile}', which does not exist")
        layout.dataOffset = 0
        if lineSkip:
            with open(layout.dataPath, "rb") as stream:
                for _ in range(lineSkip):
                    stream.readline()
                layout.dataOffset = stream.tell()
    else:
        layout.dataOffset = end + separatorLength
    if byteSkip == -1:
        if layout.encoding != "raw":
            layout.refuse("has 'byte skip: -1' with a compressed encoding")
        layout.dataAtEnd = True
    elif byteSkip < 0:
        layout.refuse(f"has byte skip {byteSkip}")
    elif layout.encoding == "raw":
        layout.dataOffset += byteSkip
    else:
        layout.skipAfterDecoding = byteSkip
    return layout


# --- NIfTI -------------------------------------------------------------------------------------

_NIFTI_TYPES = {2: "u1", 4: "i2", 8: "i4", 16: "f4", 64: "f8", 256: "i1", 512: "u2", 768: "u4", 1024: "i8", 1280: "u8"}
_NIFTI_UNIT_MM = {0: 1.0, 1: 1000.0, 2: 1.0, 3: 0.001}


def _readNiftiHeader(path):
    layout = _Layout(path, "NIfTI")
    compressed = path.lower().endswith(".gz")
    head = _decodedHead(path, 544, compressed, layout)
    if len(head) < 348:
        layout.refuse(f"ends after {len(head)} bytes, inside its header (348 bytes): the file is truncated")
    for order in ("<", ">"):
        headerSize = struct.unpack(order + "i", head[:4])[0]
        if headerSize in (348, 540):
            break
    else:
        layout.refuse("does not start with a NIfTI header size (348 or 540): expected a NIfTI-1 or NIfTI-2 file")
    if headerSize == 348:
        if head[344:347] not in (b"n+1",):
            layout.refuse(f"has magic {head[344:348]!r}: expected a single-file NIfTI-1 ('n+1'); .hdr/.img pairs are not read")
        dims = struct.unpack(order + "8h", head[40:56])
        datatype, bitpix = struct.unpack(order + "2h", head[70:74])
        pixdim = struct.unpack(order + "8f", head[76:108])
        voxOffset = struct.unpack(order + "f", head[108:112])[0]
        slope, intercept = struct.unpack(order + "2f", head[112:120])
        units = head[123] & 0x07
        minimumOffset = 352
    else:
        if len(head) < 540:
            layout.refuse(f"ends after {len(head)} bytes, inside its NIfTI-2 header (540 bytes): the file is truncated")
        if head[4:7] != b"n+2":
            layout.refuse(f"has magic {head[4:8]!r}: expected a single-file NIfTI-2 ('n+2')")
        datatype, bitpix = struct.unpack(order + "2h", head[12:16])
        dims = struct.unpack(order + "8q", head[16:80])
        pixdim = struct.unpack(order + "8d", head[104:168])
        voxOffset = struct.unpack(order + "q", head[168:176])[0]
        slope, intercept = struct.unpack(order + "2d", head[176:192])
        units = struct.unpack(order + "i", head[500:504])[0] & 0x07
        minimumOffset = 544
    count = dims[0]
    if not 1 <= count <= 7:
        layout.refuse(f"has {count} dimensions: expected 3")
    sizes = [int(value) for value in dims[1 : count + 1]]
    if any(value < 1 for value in sizes):
        layout.refuse(f"has sizes {sizes}: expected at least one voxel along each axis")
    sizes += [1] * (3 - len(sizes))
    if datatype not in _NIFTI_TYPES:
        layout.refuse(f"has data type code {datatype}: expected integers or floating point (no complex, RGB or 128-bit values)")
    layout.dtype = np.dtype(order + _NIFTI_TYPES[datatype])
    if bitpix != 8 * layout.dtype.itemsize:
        layout.refuse(f"has {bitpix} bits per voxel for data type code {datatype}: the header is inconsistent")
    layout.size = tuple(sizes[:3])
    layout.components = int(np.prod(sizes[3:])) if len(sizes) > 3 else 1
    factor = _NIFTI_UNIT_MM.get(units, 1.0)
    layout.spacing = tuple(abs(float(value)) * factor for value in pixdim[1:4])
    if not math.isfinite(voxOffset) or voxOffset < minimumOffset or voxOffset != int(voxOffset):
        layout.refuse(f"has voxel data offset {voxOffset}: expected a whole number of at least {minimumOffset}")
    if not (math.isfinite(slope) and math.isfinite(intercept)):
        layout.refuse(f"has intensity scaling slope {slope}, intercept {intercept}: expected finite numbers")
    if slope != 0 and (slope, intercept) != (1.0, 0.0):
        layout.scale = (float(slope), float(intercept))
    layout.encoding = "gzip" if compressed else "raw"
    if compressed:
        layout.skipAfterDecoding = int(voxOffset)
    else:
        layout.dataOffset = int(voxOffset)
    return layout


def _decodedHead(path, count, compressed, layout):
    with open(path, "rb") as stream:
        if not compressed:
            return stream.read(count)
        decoder = zlib.decompressobj(31)
        out = b""
        while len(out) < count:
            chunk = stream.read(1 << 16)
            if not chunk:
                break
            try:
                out += decoder.decompress(chunk, count - len(out))
            except zlib.error as error:
                layout.refuse(f"is not a valid gzip stream ({error})")
            if decoder.unconsumed_tail:
                break
        return out


# --- MetaImage ---------------------------------------------------------------------------------

_META_TYPES = {"MET_CHAR": "i1", "MET_UCHAR": "u1", "MET_SHORT": "i2", "MET_USHORT": "u2", "MET_INT": "i4", "MET_UINT": "u4",
               "MET_LONG": "i4", "MET_ULONG": "u4", "MET_LONG_LONG": "i8", "MET_ULONG_LONG": "u8", "MET_FLOAT": "f4",
               "MET_DOUBLE": "f8"}


def _readMetaHeader(path):
    layout = _Layout(path, "MetaImage")
    with open(path, "rb") as stream:
        head = stream.read(_MAXIMUM_HEADER_BYTES)
    fields, offset = {}, 0
    for rawLine in head.split(b"\n"):
        offset += len(rawLine) + 1
        key, separator, value = rawLine.decode("latin-1").partition("=")
        if not separator:
            layout.refuse(f"has a header line '{rawLine[:60]!r}' that is not 'Key = Value'")
        fields[key.strip()] = value.strip()
        if key.strip() == "ElementDataFile":
            break
    else:
        layout.refuse("has no ElementDataFile line: expected a MetaImage header")
    try:
        sizes = [int(value) for value in fields["DimSize"].split()]
        typeName = fields["ElementType"]
    except (KeyError, ValueError):
        layout.refuse("has no valid DimSize or ElementType")
    if typeName not in _META_TYPES:
        layout.refuse(f"has element type '{typeName}': expected an integer or floating-point type")
    big = fields.get("BinaryDataByteOrderMSB", fields.get("ElementByteOrderMSB", "False")).lower() == "true"
    layout.dtype = np.dtype((">" if big else "<") + _META_TYPES[typeName])
    if len(sizes) != 3:
        layout.refuse(f"has sizes {sizes}: expected 3 axes")
    layout.size = tuple(sizes)
    try:
        layout.components = int(fields.get("ElementNumberOfChannels", "1"))
        layout.spacing = tuple(float(value) for value in fields.get("ElementSpacing", fields.get("ElementSize", "1 1 1")).split())
    except ValueError:
        layout.refuse("has ElementSpacing or ElementNumberOfChannels that are not numbers")
    dataFile = fields["ElementDataFile"]
    if dataFile == "LOCAL":
        layout.dataOffset = offset
    elif dataFile.startswith("LIST") or "%" in dataFile:
        layout.refuse(f"stores its data in several files ('{dataFile}'): expected one data file")
    else:
        layout.dataPath = os.path.join(os.path.dirname(path), dataFile)
        if not os.path.isfile(layout.dataPath):
            layout.refuse(f"names data file '{dataFile}', which does not exist")
    headerSize = int(fields.get("HeaderSize", "0") or 0)
    if headerSize > 0:
        layout.dataOffset += headerSize
    elif headerSize == -1:
        layout.dataAtEnd = True
    if fields.get("CompressedData", "False").lower() == "true":
        layout.encoding = "zlib"
    return layout


# --- the data stream ---------------------------------------------------------------------------


# Narrowest unsigned types for kept label voxels, widened only when a larger label turns up.
_KEPT_TYPES = (np.uint8, np.uint16, np.uint32)


class _ValueScan:
    def __init__(self, layout, labelmap, finiteRequired=True, keepVoxels=False):
        self.layout = layout
        self.labelmap = labelmap
        self.finiteRequired = finiteRequired or labelmap
        self.dtype = layout.dtype
        self.remainder = b""
        self.minimum = math.inf
        self.maximum = -math.inf
        self.labels = set()
        self.layerLabels = [set() for _ in range(layout.components)]  # .seg.nrrd: the values of each layer
        self.floating = layout.dtype.kind == "f" or layout.scale != (1.0, 0.0)
        # Kept voxels: the array is reserved for the whole image but only the runs holding labels
        # are written, so the memory of the slices above and below the liver is never used.
        self.kept = np.empty(int(np.prod(layout.size)), dtype=_KEPT_TYPES[0]) if keepVoxels else None
        self.keptCount = 0  # voxels seen
        self.labelledRuns = []  # (start, stop) voxel runs written because they hold labels

    def _keep(self, values, high, labelled):
        start, stop = self.keptCount, self.keptCount + values.size
        self.keptCount = stop
        if stop > self.kept.size or not labelled:
            return  # (more values than the header describes: _readData refuses the file)
        if high > np.iinfo(self.kept.dtype).max:
            wider = next(kind for kind in _KEPT_TYPES if high <= np.iinfo(kind).max)
            widened = np.empty(self.kept.size, dtype=wider)
            for runStart, runStop in self.labelledRuns:
                widened[runStart:runStop] = self.kept[runStart:runStop]
            self.kept = widened
        self.kept[start:stop] = values
        self.labelledRuns.append((start, stop))

    def keptSlices(self, sliceVoxels):
        """(index of the first slice, voxels [k, j, i] of the slices from the first to the last
        holding a label): the runs between labelled runs set to background."""
        if not self.labelledRuns:
            return 0, self.kept[:0]
        first = self.labelledRuns[0][0] // sliceVoxels
        last = (self.labelledRuns[-1][1] - 1) // sliceVoxels
        begin, end = first * sliceVoxels, (last + 1) * sliceVoxels
        written = begin
        for runStart, runStop in self.labelledRuns + [(end, end)]:
            self.kept[written:runStart] = 0
            written = runStop
        return first, self.kept[begin:end]

    def add(self, data):
        data = self.remainder + data
        # Whole voxels only (all layers of a .seg.nrrd voxel), so that each value keeps its layer.
        usable = len(data) - len(data) % (self.dtype.itemsize * self.layout.components)
        self.remainder = data[usable:]
        if usable:
            self._values(np.frombuffer(data[:usable], dtype=self.dtype))

    def addValues(self, values):
        self._values(np.asarray(values, dtype=np.float64))

    def _values(self, values):
        if self.layout.scale != (1.0, 0.0):
            values = values.astype(np.float64) * self.layout.scale[0] + self.layout.scale[1]
        if self.floating:
            finite = np.isfinite(values)
            if not finite.all() and not self.finiteRequired:
                values = values[finite]  # maps ALPPS saves mark undefined voxels NaN (e.g. RLE where pre-contrast is 0)
            elif not finite.all():
                bad = values[~finite][0]
                kind = "NaN" if np.isnan(bad) else "infinite"
                self.layout.refuse(f"holds {kind} voxel values: expected finite numbers{' (whole label numbers)' if self.labelmap else ''}")
        if values.size == 0:
            return
        low, high = values.min(), values.max()
        self.minimum, self.maximum = min(self.minimum, float(low)), max(self.maximum, float(high))
        if not self.labelmap:
            return
        if low < 0:
            self.layout.refuse(f"holds negative label value {low:g}: expected labels 0 (background) and above")
        if high > MAXIMUM_LABEL_VALUE:
            self.layout.refuse(f"holds label value {high:g}: expected labels up to {MAXIMUM_LABEL_VALUE}")
        if self.floating and not np.array_equal(values, np.floor(values)):
            bad = values[values != np.floor(values)][0]
            self.layout.refuse(f"holds non-integer label value {bad:g}: expected whole label numbers")
        if len(self.layerLabels) > 1 and values.size % len(self.layerLabels) == 0:
            perLayer = values.reshape(-1, len(self.layerLabels))
            for layer, found in enumerate(self.layerLabels):
                found.update(labelCounts(perLayer[:, layer]))
        counts = labelCounts(values)
        self.labels.update(counts)
        if self.kept is not None:
            self._keep(values, high, counts.get(0, 0) < values.size)
        if len(self.labels) > MAXIMUM_LABEL_COUNT:
            self.layout.refuse(f"holds more than {MAXIMUM_LABEL_COUNT} distinct values: expected a label map (an image given as a segmentation?)")


def _checkWithItk(layout):
    """ITK's own header parser (the one Slicer's readers use) on the header only, through
    SimpleITK, which raises where Slicer's reader would abort the process (an unknown 'kinds'
    or 'space' value, an inconsistent NIfTI orientation)."""
    import SimpleITK as sitk

    reader = sitk.ImageFileReader()
    reader.SetFileName(layout.path)
    try:
        reader.ReadImageInformation()
    except RuntimeError as error:
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        detail = next((line for line in reversed(lines) if line.startswith("[")), None) or (lines[-1] if lines else "")
        detail = re.sub(r"^.*?(\[\w+\].*)$", r"\1", detail)[:200]
        layout.refuse(f"has a header ITK cannot read ({detail})")


def _readData(layout, scan, expectedBytes):
    """Feed the whole data stream to ``scan``; returns the bytes decoded."""
    with open(layout.dataPath, "rb") as stream:
        if layout.encoding == "raw":
            fileSize = os.fstat(stream.fileno()).st_size
            if layout.dataAtEnd:
                layout.dataOffset = max(fileSize - expectedBytes, 0)
            available = fileSize - layout.dataOffset
            if available < expectedBytes:
                layout.refuse(f"is truncated: its voxel data has {max(available, 0):,} of the {expectedBytes:,} bytes the header describes")
            if available > expectedBytes and layout.dataPath == layout.path and layout.format != "NIfTI":
                layout.refuse(f"holds {available - expectedBytes:,} bytes more voxel data than its header describes: the sizes are wrong")
            stream.seek(layout.dataOffset)
            left = expectedBytes
            while left:
                chunk = stream.read(min(_SLAB_BYTES, left))
                if not chunk:
                    break
                left -= len(chunk)
                scan.add(chunk)
            return expectedBytes
        stream.seek(layout.dataOffset)
        if layout.encoding == "ascii":
            try:
                values = np.array(stream.read().split(), dtype=np.float64)
            except ValueError:
                layout.refuse("holds ascii voxel data that are not numbers")
            if values.size != expectedBytes // layout.dtype.itemsize:
                layout.refuse(f"holds {values.size:,} voxel values: its header describes {expectedBytes // layout.dtype.itemsize:,}")
            scan.addValues(values)
            return expectedBytes
        return _decodeStream(layout, stream, scan, expectedBytes)


def _decodeStream(layout, stream, scan, expectedBytes):
    def newDecoder():
        if layout.encoding == "bzip2":
            return bz2.BZ2Decompressor()
        return zlib.decompressobj(31 if layout.encoding == "gzip" else 15)

    decoder = newDecoder()
    skip = layout.skipAfterDecoding
    wanted = skip + expectedBytes
    decoded = 0
    what = {"gzip": "gzip", "bzip2": "bzip2", "zlib": "zlib"}[layout.encoding]
    while True:
        chunk = stream.read(1 << 20)
        if not chunk:
            break
        while chunk:
            try:
                if layout.encoding == "bzip2":
                    out = decoder.decompress(chunk)
                    chunk = decoder.unused_data if decoder.eof else b""
                else:
                    out = decoder.decompress(chunk, _SLAB_BYTES)
                    chunk = decoder.unconsumed_tail or (decoder.unused_data if decoder.eof else b"")
            except (zlib.error, OSError, EOFError) as error:
                layout.refuse(f"holds a damaged {what} stream ({error}) after {decoded:,} decoded bytes")
            if decoded + len(out) > wanted:
                layout.refuse(f"decodes to more voxel data than the {expectedBytes:,} bytes its header describes: the sizes are wrong")
            start = max(skip - decoded, 0)
            decoded += len(out)
            if start < len(out):
                scan.add(out[start:])
            if decoder.eof:
                if chunk.strip(b"\0"):
                    decoder = newDecoder()  # a further compressed member (gzip allows several)
                else:
                    chunk = b""
            if not out and not chunk:
                break
    if not decoder.eof and decoded < wanted:
        layout.refuse(f"is truncated: its {what} stream ends after {max(decoded - skip, 0):,} of the {expectedBytes:,} bytes of voxel data")
    if not decoder.eof:
        # All voxels decoded but the stream's end (and its checksum) missing: cut in copying.
        layout.refuse(f"is truncated: its {what} stream stops before its end marker and checksum")
    if decoded < wanted:
        layout.refuse(f"holds {max(decoded - skip, 0):,} bytes of voxel data: its header describes {expectedBytes:,} (truncated?)")
    return decoded


# --- the check ---------------------------------------------------------------------------------


def imageFileFormat(path):
    lower = path.lower()
    if lower.endswith((".nrrd", ".nhdr")):
        return "NRRD"
    if lower.endswith((".nii", ".nii.gz")):
        return "NIfTI"
    if lower.endswith((".mha", ".mhd")):
        return "MetaImage"
    if lower.endswith((".dcm", ".ima")):
        return "DICOM"
    return None


def isLabelMapFile(path):
    """A file a segmentation is imported from as a label map (NRRD, NIfTI, MetaImage), rather than
    a .seg.nrrd or a DICOM object that a reader of its own takes."""
    return not os.path.isdir(path) and not path.lower().endswith(".seg.nrrd") and imageFileFormat(path) not in (None, "DICOM")


def checkImageFile(path, what="Image file", labelmap=False, finiteRequired=True, multipleValues=False, keepVoxels=False):
    """Parse ``path`` completely (header and every voxel) and return an ImageFileSummary; refuse
    (ValueError naming the file) anything a reader could crash on or read wrong. ``multipleValues``:
    several values per voxel are expected (a volume sequence saved by Slicer, .seq.nrrd).
    ``keepVoxels`` (a label map of one value per voxel): the summary keeps the voxels read."""
    checkedInputFile(path, what)
    fileFormat = imageFileFormat(path)
    readers = {"NRRD": _readNrrdHeader, "NIfTI": _readNiftiHeader, "MetaImage": _readMetaHeader}
    if fileFormat not in readers:
        if fileFormat == "DICOM":
            return None  # single DICOM files are checked by the DICOM series checks
        raise ValueError(f"{what} '{path}' is not a NRRD (.nrrd, .seg.nrrd, .nhdr), NIfTI (.nii, .nii.gz) or MetaImage (.mha, .mhd) file")
    try:
        layout = readers[fileFormat](path)
    except (struct.error, OSError, IndexError) as error:
        raise ValueError(f"{fileFormat} file '{path}' has an unreadable header ({error})") from None
    _checkGeometry(layout)
    if path.lower().endswith(".seg.nrrd"):
        checkSegmentList(layout.keyValues, layout.size, layout.components, layout.refuse)
    if layout.components > 1 and not path.lower().endswith(".seg.nrrd") and not multipleValues:
        # .seg.nrrd keeps overlapping segments in layers; any other file must be one scalar volume.
        layout.refuse(f"holds {layout.components} values per voxel (a time series or colour image): expected one value per voxel")
    expectedBytes = int(np.prod(layout.size)) * layout.components * layout.dtype.itemsize
    scan = _ValueScan(layout, labelmap, finiteRequired, keepVoxels=keepVoxels and labelmap and layout.components == 1)
    try:
        _readData(layout, scan, expectedBytes)
    except OSError as error:
        raise ValueError(f"{fileFormat} file '{path}' cannot be read ({error.strerror or error})") from None
    _checkWithItk(layout)
    if path.lower().endswith(".seg.nrrd") and labelmap:
        layers = scan.layerLabels if layout.components > 1 else [scan.labels]
        checkLayerValues(layout.keyValues, layers, layout.refuse)
    summary = ImageFileSummary(
        path=path, format=fileFormat, size=tuple(layout.size), spacing=tuple(layout.spacing), dtype=str(layout.dtype),
        components=layout.components, minimum=None if scan.minimum == math.inf else scan.minimum,
        maximum=None if scan.maximum == -math.inf else scan.maximum, labels=sorted(scan.labels) if labelmap else None,
    )
    if scan.kept is not None:
        rows, columns = layout.size[1], layout.size[0]
        summary.voxelsFirstSlice, kept = scan.keptSlices(rows * columns)
        summary.voxels = kept.reshape(-1, rows, columns)
    return summary
