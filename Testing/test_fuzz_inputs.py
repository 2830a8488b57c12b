"""Fuzz suite (issue 15): bad inputs made by the tests from the demo's outputs and from copies of
../shared/data, each run through the `alpps` command line with its expected outcome asserted:
a named refusal (one line, exit status 2, no traceback, no colour codes) or the right number.
Every case runs in a sandbox folder: nothing may be written outside its output folder, and no
temporary folder may be left behind. Memory cases run in a subprocess under a memory limit.

The table (case, expected, got) is written to $ALPPS_FUZZ_TABLE (default: fuzz-table.md in
pytest's temporary folder) and printed at the end of the module (shown with -s).
"""

import json
import os
import re
import resource
import shutil
import stat
import subprocess
import sys
import tempfile
import warnings
import zipfile
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import pytest

import badInputs as bad
from alpps import cli

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(REPOSITORY), "shared", "data")
MEMORY_LIMIT_BYTES = 3 << 30
TABLE = []


@dataclass
class Run:
    argv: list
    json: Optional[str] = None  # the --json path of accepted cases
    subprocess: bool = False
    memoryLimit: Optional[int] = None


@dataclass
class Case:
    family: str
    name: str
    build: Callable  # (Workshop) -> Run
    expected: str  # regex of the refusal, or "accepted"
    check: Optional[Callable] = None  # (document) -> the number shown in the table; asserts it
    needsShared: bool = False


CASES = []


def case(family, name, expected, check=None, shared=False):
    def register(build):
        CASES.append(Case(family, name, build, expected, check, shared))
        return build
    return register


# --- the workshop: sources for every case --------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """`alpps demo` run once; its scene bundle, a .seg.nrrd and a CT extracted from the bundle."""
    folder = tmp_path_factory.mktemp("fuzz-demo")
    completed = subprocess.run([sys.executable, "-m", "alpps.cli", "demo", "--out", str(folder)], capture_output=True, text=True,
                               cwd=REPOSITORY)
    assert completed.returncode == 0, completed.stderr
    bundle = str(folder / "alpps-demo.mrb")
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        ct = next(name for name in names if name.endswith("Synthetic CT pre-stage 1 2026-03-02.nrrd"))
        open(folder / "ct.nrrd", "wb").write(archive.read(ct))
    segmentation = str(folder / "report" / "segmentation-pre-stage-1.seg.nrrd")
    reference = str(folder / "reference.json")
    assert cli.main(["volumetry", "--segmentation", segmentation, "--plan", "right_trisectionectomy", "--json", reference]) == 0
    with open(reference) as stream:
        referenceDocument = json.load(stream)
    return {"folder": str(folder), "bundle": bundle, "segmentation": segmentation, "ct": str(folder / "ct.nrrd"),
            "reference": referenceDocument}


class Workshop:
    """One case's sandbox: inputs and the working directory in ``cwd`` (two levels down, so that
    '../..' stays inside), temporary folders in ``tmp``, outputs in ``out``."""

    def __init__(self, demo, sandbox):
        self.demo = demo
        self.sandbox = sandbox
        self.cwd = os.path.join(sandbox, "work", "deeper")
        self.tmp = os.path.join(sandbox, "tmp")
        self.out = os.path.join(self.cwd, "out")
        for folder in (self.cwd, self.tmp, self.out):
            os.makedirs(folder, exist_ok=True)

    def path(self, name):
        return os.path.join(self.cwd, name)

    def json(self):
        return os.path.join(self.out, "result.json")

    def shared(self, *parts):
        return os.path.join(SHARED, *parts)

    def copy(self, source, name=None):
        target = self.path(name or os.path.basename(source))
        shutil.copyfile(source, target)
        return target


def _tree(folder):
    found = set()
    for root, directories, names in os.walk(folder):
        found.update(os.path.join(root, name) for name in directories + names)
    return found


# --- image files given as segmentations -----------------------------------------------------------

_SOURCES = {
    "demo .seg.nrrd": lambda w: w.copy(w.demo["segmentation"], "source.seg.nrrd"),
    "dcmqi liver .nrrd": lambda w: w.copy(w.shared("dcmqi", "liver_seg.nrrd"), "source.nrrd"),
    "MR labels .nii.gz": lambda w: w.copy(w.shared("totalsegmentator", "example_mr_seg.nii.gz"), "source.nii.gz"),
    "IRCAD Couinaud .nii.gz": lambda w: w.copy(w.shared("ircad1", "couinaud_labels.nii.gz"), "source.nii.gz"),
}
_CUTS = {
    "cut at 10 %": (lambda s, t: bad.truncated(s, t, 0.10), r"truncated|ends after|damaged"),
    "cut at 50 %": (lambda s, t: bad.truncated(s, t, 0.50), r"is truncated"),
    "cut at 90 %": (lambda s, t: bad.truncated(s, t, 0.90), r"is truncated"),
    "cut 1 byte short": (lambda s, t: bad.truncated(s, t, keep=os.path.getsize(s) - 1), r"is truncated|holds .* bytes of voxel data"),
    "cut to 64 bytes": (lambda s, t: bad.truncated(s, t, keep=64), r"truncated|ends after|not a valid gzip"),
    "garbage in the middle": (lambda s, t: bad.damagedMiddle(s, t), r"damaged (gzip|zlib) stream|is truncated"),
    "emptied": (lambda s, t: bad.truncated(s, t, keep=0), r"is empty \(0 bytes\)"),
}


def _fileSuffix(path):
    return ".seg.nrrd" if path.endswith(".seg.nrrd") else (".nii.gz" if path.endswith(".nii.gz") else os.path.splitext(path)[1])


for _sourceName, _source in _SOURCES.items():
    for _cutName, (_cut, _expected) in _CUTS.items():
        def _build(w, source=_source, cut=_cut):
            original = source(w)
            return Run(["segment-volumes", "--segmentation", cut(original, w.path("damaged" + _fileSuffix(original)))])
        case("image file", f"{_sourceName} {_cutName}", _expected, shared=True)(_build)


def _nifti(w, mutate, float32=False):
    """The MR label map (shared data) decoded, mutated at header or voxel level, written again."""
    import gzip

    data = bytearray(gzip.decompress(open(w.shared("totalsegmentator", "example_mr_seg.nii.gz"), "rb").read()))
    mutate(data)
    path = w.path("mutated.nii")
    open(path, "wb").write(bytes(data))
    return Run(["segment-volumes", "--segmentation", path])


def _put(offset, fmt, *values):
    import struct

    def mutate(data):
        packed = struct.pack(fmt, *values)
        data[offset : offset + len(packed)] = packed
    return mutate


_NIFTI_HEADERS = {
    "100000^3 voxels": (_put(40, "<4h", 3, 32000, 32000, 32000), r"claims .* voxels"),
    "no voxels along an axis": (_put(40, "<4h", 3, 0, 91, 20), r"expected at least one voxel"),
    "negative size": (_put(40, "<4h", 3, -117, 91, 20), r"expected at least one voxel"),
    "8 dimensions": (_put(40, "<h", 8), r"has 8 dimensions"),
    "time series of 5": (_put(40, "<5h", 4, 117, 91, 4, 5), r"is truncated|values per voxel"),
    "1000 mm spacing": (_put(80, "<3f", 1000.0, 1000.0, 1000.0), r"voxel spacing 1000"),
    "0 mm spacing": (_put(80, "<f", 0.0), r"voxel spacing 0"),
    "NaN spacing": (_put(80, "<f", float("nan")), r"voxel spacing nan"),
    "infinite spacing": (_put(80, "<f", float("inf")), r"voxel spacing inf"),
    "spacing in metres": (_put(123, "<B", 1), r"voxel spacing 3000"),
    "spacing in micrometres": (_put(123, "<B", 3), r"voxel spacing 0.003"),
    "complex voxels": (_put(70, "<2h", 32, 64), r"data type code 32"),
    "RGB voxels": (_put(70, "<2h", 128, 24), r"data type code 128"),
    "bits disagree with type": (_put(72, "<h", 32), r"32 bits per voxel"),
    "voxel offset inside the header": (_put(108, "<f", 10.0), r"voxel data offset 10"),
    "voxel offset past the end": (_put(108, "<f", 4.0e6), r"is truncated"),
    "fractional voxel offset": (_put(108, "<f", 352.5), r"voxel data offset 352.5"),
    "NaN slope": (_put(112, "<f", float("nan")), r"scaling slope nan"),
    "slope 0.5": (_put(112, "<2f", 0.5, 0.0), r"non-integer label value"),
    "intercept -10": (_put(112, "<2f", 1.0, -10.0), r"negative label value"),
    "not NIfTI magic": (_put(344, "<4s", b"ni1\0"), r"expected a single-file NIfTI-1"),
    "header size 100": (_put(0, "<i", 100), r"does not start with a NIfTI header size"),
}
for _name, (_mutate, _expected) in _NIFTI_HEADERS.items():
    case("NIfTI header", _name, _expected, shared=True)(lambda w, m=_mutate: _nifti(w, m))


def _labelsWith(value, dtype=np.float32):
    def build(w):
        labels = bad.phantomLabels().astype(dtype)
        labels[0, 0, 0] = value
        return Run(["segment-volumes", "--segmentation", bad.writeImage(w.path("labels.nii.gz"), labels), "--json", w.json()], json=w.json())
    return build


for _name, _value, _expected in (
    ("NaN voxel", np.nan, r"holds NaN voxel values"),
    ("infinite voxel", np.inf, r"holds infinite voxel values"),
    ("minus infinite voxel", -np.inf, r"holds infinite voxel values"),
    ("label 1.5", 1.5, r"non-integer label value 1.5"),
    ("label 0.999", 0.999, r"non-integer label value 0.999"),
    ("label -3", -3.0, r"negative label value -3"),
    ("label 3e9", 3e9, r"label value 3e\+09: expected labels up to"),
):
    case("voxel values", _name, _expected)(_labelsWith(_value))


def _oneVoxelSegment(label):
    def check(document, workshop):
        segment = document["segments"][f"Label {label}"]
        assert segment["voxelCount"] == 1 and segment["volumeMl"] == pytest.approx(4.5e-3)
        assert document["segments"]["Label 1"]["voxelCount"] == 480
        return f"Label {label}: 1 voxel, {segment['volumeMl']:.4f} mL"
    return check


case("voxel values", "one voxel labelled 2,000,000,000", "accepted", _oneVoxelSegment(2_000_000_000))(_labelsWith(2_000_000_000, np.int32))
case("voxel values", "one voxel labelled 300,000,000", "accepted", _oneVoxelSegment(300_000_000))(_labelsWith(300_000_000, np.int32))
case("voxel values", "an image given as labels", r"more than 10000 distinct values")(
    lambda w: Run(["segment-volumes", "--segmentation", bad.writeImage(w.path("ct.nii.gz"), np.arange(20 * 24 * 28, dtype=np.int32).reshape(20, 24, 28))]))
case("voxel values", "no labelled voxel", r"holds no labelled voxels")(
    lambda w: Run(["segment-volumes", "--segmentation", bad.writeImage(w.path("zero.nii.gz"), np.zeros((4, 5, 6), dtype=np.uint8))]))


def _memory(label):
    def build(w):
        labels = bad.phantomLabels(dtype=np.int32)
        labels[0, 0, 0] = label
        path = bad.writeImage(w.path("big.nii.gz"), labels)
        return Run(["segment-volumes", "--segmentation", path, "--json", w.json()], json=w.json(), subprocess=True, memoryLimit=MEMORY_LIMIT_BYTES)
    return build


case("memory limit", "label 2,000,000,000 (was 15.7 GB and a crash)", "accepted", _oneVoxelSegment(2_000_000_000))(_memory(2_000_000_000))
case("memory limit", "label 300,000,000 (was 23 GB, 74 s)", "accepted", _oneVoxelSegment(300_000_000))(_memory(300_000_000))


def _hugeHeader(w, name):
    source = w.copy(w.demo["segmentation"], "source.seg.nrrd") if name.endswith(".seg.nrrd") else w.copy(w.shared("dcmqi", "liver_seg.nrrd"))
    header = open(source, "rb").read().split(b"\n\n")[0].decode("latin-1")
    sizes = next(line for line in header.splitlines() if line.startswith("sizes:"))
    replaced = "sizes: 5 100000 100000 100000" if sizes.count(" ") == 4 else "sizes: 100000 100000 100000"
    path = bad.nrrdWithHeader(source, w.path(name), {sizes: replaced})
    return Run(["segment-volumes", "--segmentation", path], subprocess=True, memoryLimit=MEMORY_LIMIT_BYTES)


case("memory limit", ".seg.nrrd claiming 100000^3 voxels (was bad_alloc)", r"expected at most 65536 voxels along an axis", shared=True)(
    lambda w: _hugeHeader(w, "huge.seg.nrrd"))
case("memory limit", ".nrrd claiming 100000^3 voxels", r"expected at most 65536 voxels along an axis", shared=True)(lambda w: _hugeHeader(w, "huge.nrrd"))


# --- NRRD headers ------------------------------------------------------------------------------

def _nrrd(sourceKey, replace):
    def build(w):
        source = w.copy(w.demo["segmentation"], "source.seg.nrrd") if sourceKey == "demo" else w.copy(w.shared("dcmqi", "liver_seg.nrrd"))
        header = open(source, "rb").read().split(b"\n\n")[0].decode("latin-1")
        changes = replace(header)
        target = w.path("mutated" + (".seg.nrrd" if sourceKey == "demo" else ".nrrd"))
        return Run(["segment-volumes", "--segmentation", bad.nrrdWithHeader(source, target, changes)])
    return build


def _line(header, field):
    return next(line for line in header.splitlines() if line.startswith(field + ":"))


def _sizes(factor):
    def replace(header):
        line = _line(header, "sizes")
        values = line.split()[1:]
        values[-1] = str(max(1, int(int(values[-1]) * factor)))
        return {line: "sizes: " + " ".join(values)}
    return replace


_NRRD_HEADERS = {
    "fewer slices than the data": (_sizes(0.5), r"decodes to more voxel data|extent .* beyond the image"),
    "more slices than the data": (_sizes(2.0), r"holds .* bytes of voxel data: its header describes|is truncated"),
    "type block": (lambda h: {_line(h, "type"): "type: block"}, r"voxel type 'block'"),
    "encoding zip": (lambda h: {_line(h, "encoding"): "encoding: zip"}, r"encoding 'zip'"),
    "raw encoding of gzip data": (lambda h: {_line(h, "encoding"): "encoding: raw"}, r"more voxel data than its header|is truncated"),
    "NaN space direction": (lambda h: {_line(h, "space directions"): _line(h, "space directions").replace("(0,0,", "(0,0,nan+", 1)},
                            r"space directions|not numbers"),
    "zero space direction": (lambda h: {_line(h, "space directions"): re.sub(r"\(0,0,[^)]*\)", "(0,0,0)", _line(h, "space directions"))},
                             r"voxel spacing .*0 mm|do not span"),
    "NaN origin": (lambda h: {_line(h, "space origin"): "space origin: (nan,0,0)"}, r"space origin"),
    "no sizes field": (lambda h: {_line(h, "sizes"): "# sizes removed"}, r"has no 'sizes' field"),
    "dimension 2": (lambda h: {_line(h, "dimension"): "dimension: 2"}, r"has dimension 2"),
    "kinds misspelt (was SIGABRT)": (lambda h: {_line(h, "kinds"): _line(h, "kinds").replace("domain", "dom0in", 1)},
                                     r"header ITK cannot read .*couldn't parse \"dom0in\""),
    "space misspelt (was SIGABRT)": (lambda h: {_line(h, "space"): "space: left-posterior-superio"},
                                     r"header ITK cannot read .*couldn't parse space"),
    "byte order flipped": (lambda h: {_line(h, "endian"): "endian: big"}, r"no segment claims|label value|Label"),
    "unknown field": (lambda h: {_line(h, "encoding"): _line(h, "encoding") + "\ncolour: red"}, r"field 'colour' NRRD does not define"),
    "detached data file missing": (lambda h: {_line(h, "encoding"): _line(h, "encoding") + "\ndata file: elsewhere.raw.gz"},
                                   r"names data file 'elsewhere.raw.gz', which does not exist"),
}
def _segmentField(pattern, replacement):
    def replace(header):
        match = re.search(pattern, header)
        return {match.group(0): re.sub(pattern, replacement, match.group(0))}
    return replace


# Slicer trusts these key/value pairs of a .seg.nrrd: each mutation below was measured wrong
# (label value 'abc' counted the background: 5454 mL), dropped a segment, or aborted the process.
for _name, _pattern, _replacement, _expected in (
    ("segment label value 'abc' (was 5454 mL)", r"Segment0_LabelValue:=\d+", "Segment0_LabelValue:=abc", r"label value 'abc'"),
    ("segment label value 0 (was 5454 mL)", r"Segment0_LabelValue:=\d+", "Segment0_LabelValue:=0", r"label value '0'"),
    ("segment in layer 99 (was dropped)", r"Segment0_Layer:=\d+", "Segment0_Layer:=99", r"in layer '99': the file has \d+ layer"),
    ("segment in layer -1 (was dropped)", r"Segment0_Layer:=\d+", "Segment0_Layer:=-1", r"in layer '-1'"),
    ("segment extent beyond the image (was SIGABRT)", r"Segment0_Extent:=[^\n]*", "Segment0_Extent:=0 100000 0 100000 0 100000",
     r"beyond the image"),
    ("segment extent of two numbers", r"Segment0_Extent:=[^\n]*", "Segment0_Extent:=1 2", r"expected six whole numbers"),
    ("segment without ID", r"Segment0_ID:=[^\n]*", "Segment0_ID:=", r"no ID"),
    ("two segments, one ID (was dropped)", r"Segment1_ID:=[^\n]*", "Segment1_ID:=S_JKRbgqG5dzANhhmz", r"the ID .* of segment 0|ID"),
    ("two segments, one label in one layer", r"Segment1_LabelValue:=\d+", "Segment1_LabelValue:=1", r"two segments would share their voxels"),
    ("segments numbered with a gap", r"Segment1_", "Segment7_", r"numbers its segments"),
    ("a value broken over two lines (was SIGSEGV)", r"Segmentation_ConversionParameters:=[^\n]{40}", None, r"NRRD does not define"),
):
    def _keyValueCase(w, pattern=_pattern, replacement=_replacement):
        source = w.copy(w.demo["segmentation"], "source.seg.nrrd")
        header = open(source, "rb").read().split(b"\n\n")[0].decode("latin-1")
        match = re.search(pattern, header)
        if replacement is None:
            changes = {match.group(0): match.group(0)[:-10] + "\n much: " + match.group(0)[-10:]}
        elif pattern == r"Segment1_ID:=[^\n]*":
            first = re.search(r"Segment0_ID:=([^\n]*)", header).group(1)
            changes = {match.group(0): f"Segment1_ID:={first}"}
        elif pattern == "Segment1_":
            changes = {line: line.replace("Segment1_", "Segment7_") for line in header.splitlines() if line.startswith("Segment1_")}
        else:
            changes = {match.group(0): re.sub(pattern, replacement, match.group(0))}
        return Run(["segment-volumes", "--segmentation", bad.nrrdWithHeader(source, w.path("mutated.seg.nrrd"), changes)])
    case(".seg.nrrd segment list", _name, _expected)(_keyValueCase)


for _sourceKey in ("demo", "dcmqi"):
    for _name, (_replace, _expected) in _NRRD_HEADERS.items():
        if _sourceKey == "dcmqi" and _name == "byte order flipped":
            continue  # a plain label map has no segment list to contradict it: see the case with --labels
        case("NRRD header", f"{_sourceKey}: {_name}", _expected, shared=_sourceKey == "dcmqi")(_nrrd(_sourceKey, _replace))

for _name, _build, _expected in (
    ("missing file", lambda w: Run(["segment-volumes", "--segmentation", w.path("nowhere.seg.nrrd")]), r"'.*nowhere.seg.nrrd' does not exist"),
    ("folder as segmentation", lambda w: Run(["segment-volumes", "--segmentation", w.cwd]), r"is a folder: expected a file"),
    ("PNG as segmentation", lambda w: Run(["segment-volumes", "--segmentation", _write(w.path("x.png"), b"\x89PNG\r\n")]), r"expected a .seg.nrrd, a DICOM SEG or a label map"),
    ("text named .nrrd", lambda w: Run(["segment-volumes", "--segmentation", _write(w.path("x.nrrd"), b"hello")]), r"does not start with 'NRRD000'"),
    ("text named .nii.gz", lambda w: Run(["segment-volumes", "--segmentation", _write(w.path("x.nii.gz"), b"hello")]), r"not a valid gzip stream"),
    ("DICOM file as segmentation", lambda w: Run(["segment-volumes", "--segmentation", w.shared("dcmqi", "ct-3slice", "01.dcm")]),
     r"expected a .seg.nrrd, a DICOM SEG or a label map"),
):
    case("files", _name, _expected, shared="DICOM" in _name)(_build)


def _write(path, data):
    open(path, "wb").write(data)
    return path


# --- DICOM series given as scans ---------------------------------------------------------------

def _series(damage, option="--volume", source="ircad"):
    def build(w):
        folder = w.path("series")
        if source == "ircad":
            files = bad.dicomCopy(bad.ircadSlices(SHARED), folder)
        else:
            from ALPPSAssessmentLib.dicom import dicomIndex

            index = dicomIndex.indexDicomFolder(w.shared("totalsegmentator", "example_ct_dicom"))
            files = bad.dicomCopy(index.patients[0].studies[0].series[0].files, folder, count=20, start=0)
        damage(files)
        segmentation = w.demo["segmentation"]
        if option == "--volume":
            return Run(["volumetry", "--segmentation", segmentation, "--volume", folder])
        if option == "--hbp":
            return Run(["function", "gadoxetate", "--segmentation", segmentation, "--hbp", folder])
        return Run(["function", "mebrofenin", "--ct", folder, "--segmentation", segmentation, "--spect", folder,
                    "--curves", _write(w.path("curves.csv"), b"time,liver,blood,total\n" + b"".join(b"%d,%d,%d,1000\n" % (t, t, 900 - t) for t in range(0, 600, 30)))])
    return build


def _move(files, index, millimetres):
    def change(dataset):
        position = [float(value) for value in dataset.ImagePositionPatient]
        dataset.ImagePositionPatient = [position[0], position[1], position[2] + millimetres]
    bad.editDicom(files[index], change)


def _set(files, index, keyword, value):
    bad.editDicom(files[index], lambda dataset: setattr(dataset, keyword, value))


def _delete(files, index, keyword):
    bad.editDicom(files[index], lambda dataset: delattr(dataset, keyword))


_DICOM = {
    "slice with half its pixel data": (lambda f: bad.truncated(f[3], f[3], keep=os.path.getsize(f[3]) - 262144), r"slice003.dcm' is truncated: pixel data has"),
    "slice cut to 300 bytes": (lambda f: bad.truncated(f[3], f[3], keep=300), r"slice003.dcm' is (truncated|unreadable|not DICOM)"),
    "slice cut to 100 bytes": (lambda f: bad.truncated(f[3], f[3], keep=100), r"slice003.dcm' is not DICOM"),
    "slice emptied": (lambda f: bad.truncated(f[3], f[3], keep=0), r"slice003.dcm' is empty file"),
    "slice without position": (lambda f: _delete(f, 3, "ImagePositionPatient"), r"slice003.dcm' .* has no ImagePositionPatient"),
    "slice without orientation": (lambda f: _delete(f, 3, "ImageOrientationPatient"), r"slice003.dcm' .* has no ImagePositionPatient"),
    "missing slice": (lambda f: os.remove(f[4]), r"about 1 slice\(s\) missing"),
    "two missing slices": (lambda f: [os.remove(f[i]) for i in (2, 5)], r"slice\(s\) missing"),
    "uneven spacing (1.6 then 7 mm)": (lambda f: [_move(f, i, 5.4) for i in range(5, 8)], r"slice004.dcm' and '.*slice005.dcm' lie 7.00 mm apart|missing"),
    "slightly uneven spacing": (lambda f: [_move(f, i, 0.3) for i in range(5, 8)], r"uneven slice spacing"),
    "one slice shifted sideways": (lambda f: bad.editDicom(f[4], lambda d: setattr(d, "ImagePositionPatient",
                                   [float(d.ImagePositionPatient[0]) + 3.0] + [float(v) for v in d.ImagePositionPatient[1:]])), r"shift sideways"),
    "other pixel spacing": (lambda f: _set(f, 2, "PixelSpacing", [0.8, 0.8]), r"different pixel spacings"),
    "other orientation": (lambda f: _set(f, 2, "ImageOrientationPatient", [1, 0, 0, 0, 0.8, 0.6]), r"different orientations"),
    "duplicate slice": (lambda f: shutil.copyfile(f[2], f[2] + ".copy.dcm"), r"same position as another"),
    "two series in the folder": (lambda f: [_set(f, i, "SeriesInstanceUID", "1.2.3.4.5.6.7") for i in range(3)], r"holds 2 image series, expected one"),
    "other size in one slice": (lambda f: bad.editDicom(f[2], _shrink), r"different sizes|different pixel spacings|truncated"),
    "text file named .dcm": (lambda f: _write(f[5], b"x" * 4000), r"slice005.dcm' is not DICOM"),
    "only one slice left": (lambda f: [os.remove(path) for path in f[1:]], r"holds 1 slice\(s\): expected a volume"),
    "no DICOM at all": (lambda f: [os.remove(path) for path in f] and None, r"holds no DICOM image series"),
}


def _shrink(dataset):
    dataset.Rows = 256
    dataset.Columns = 256
    dataset.PixelData = dataset.PixelData[: 256 * 256 * 2]


for _name, (_damage, _expected) in _DICOM.items():
    case("DICOM --volume", _name, _expected, shared=True)(_series(_damage))
for _name in ("slice with half its pixel data", "missing slice", "uneven spacing (1.6 then 7 mm)", "other orientation"):
    _damage, _expected = _DICOM[_name]
    case("DICOM --hbp", _name, _expected, shared=True)(_series(_damage, "--hbp"))
    case("DICOM --ct", _name, _expected, shared=True)(_series(_damage, "--ct"))
for _name, _damage, _expected in (
    ("JPEG2000 slice truncated", lambda f: bad.truncated(f[7], f[7], keep=os.path.getsize(f[7]) // 2), r"truncated|unreadable"),
    ("JPEG2000 slice missing", lambda f: os.remove(f[10]), r"slice\(s\) missing"),
    ("JPEG2000 slice duplicated", lambda f: shutil.copyfile(f[3], f[3] + "-copy"), r"same position"),
):
    case("DICOM --volume", _name, _expected, shared=True)(_series(_damage, source="totalsegmentator"))


# --- segmentation against volume -----------------------------------------------------------------

def _onVolume(replace):
    def build(w):
        header = open(w.demo["ct"], "rb").read().split(b"\n\n")[0].decode("latin-1")
        ct = bad.nrrdWithHeader(w.demo["ct"], w.path("ct.nrrd"), replace(header))
        return Run(["volumetry", "--segmentation", w.demo["segmentation"], "--volume", ct, "--plan", "right_trisectionectomy",
                    "--json", w.json()], json=w.json())
    return build


def _directions(header, change):
    line = _line(header, "space directions")
    vectors = [np.array([float(v) for v in item.split(",")]) for item in re.findall(r"\(([^)]*)\)", line)]
    origin = np.array([float(v) for v in re.findall(r"\(([^)]*)\)", _line(header, "space origin"))[0].split(",")])
    vectors, origin = change(vectors, origin, [int(v) for v in _line(header, "sizes").split()[1:]])
    text = " ".join("(" + ",".join(repr(float(v)) for v in vector) + ")" for vector in vectors)
    return {line: f"space directions: {text}", _line(header, "space origin"): "space origin: (" + ",".join(repr(float(v)) for v in origin) + ")"}


def _scaled(factor):
    return lambda h: _directions(h, lambda v, o, s: ([vector * factor for vector in v], o))


def _flippedFirstAxis(vectors, origin, sizes):
    return [-vectors[0], vectors[1], vectors[2]], origin + vectors[0] * (sizes[0] - 1)


for _name, _replace, _expected in (
    ("volume spacing 10 % larger", _scaled(1.1), r"does not lie on the voxel grid .*its voxel spacing"),
    ("volume spacing 10 % smaller", _scaled(0.9), r"does not lie on the voxel grid|does not overlap"),
    ("volume shifted half a voxel", lambda h: _directions(h, lambda v, o, s: (v, o + 0.5 * v[0])), r"its origin is 0.50 voxel off"),
    ("volume shifted 20 slices", lambda h: _directions(h, lambda v, o, s: (v, o + 20 * v[2])), r"part of its labelled voxels lie outside the volume"),
    ("volume 2 m away", lambda h: _directions(h, lambda v, o, s: (v, o + np.array([0, 0, 2000.0]))), r"does not overlap volume"),
    ("volume rotated 10 degrees", lambda h: _directions(h, lambda v, o, s: ([np.array([v[0][0] * 0.9848, v[0][0] * 0.1736, 0]), v[1], v[2]], o)),
     r"voxel directions differ"),
):
    case("segmentation on volume", _name, _expected)(_onVolume(_replace))


def _sameTlv(document, workshop):
    reference = workshop.demo["reference"]
    liver = document["liver"]["totalLiverVolumeMl"]
    assert liver == pytest.approx(reference["liver"]["totalLiverVolumeMl"], rel=1e-12)
    plan = document["plans"]["right_trisectionectomy"]
    assert plan["remnantMl"] == pytest.approx(reference["plans"]["right_trisectionectomy"]["remnantMl"], rel=1e-12)
    return f"TLV {liver:.2f} mL, FLR {plan['remnantMl']:.2f} mL (as without --volume)"


case("segmentation on volume", "volume stored with its first axis flipped (same voxels)", "accepted", _sameTlv)(
    _onVolume(lambda h: _directions(h, _flippedFirstAxis)))
case("segmentation on volume", "volume as saved by the demo", "accepted", _sameTlv)(_onVolume(lambda h: {}))


# --- scene bundles ------------------------------------------------------------------------------

def _bundle(extra=(), keep=True, infoChange=None, sceneChange=None, dataChange=None):
    def build(w):
        target = w.path("bad.mrb")
        with zipfile.ZipFile(w.demo["bundle"]) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as copy, \
                warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the duplicate entry is the point of one case
            if keep:
                for info in original.infolist():
                    data = original.read(info)
                    if sceneChange and info.filename.endswith(".mrml"):
                        data = sceneChange(data.decode()).encode()
                    if dataChange and info.filename.endswith("pre-stage 1 2026-03-02.seg.nrrd"):
                        data = dataChange(data)
                    copy.writestr(info, data)
            for info, data in extra:
                if infoChange:
                    infoChange(info)
                copy.writestr(info, data)
        return Run(["report", "--scene", "bad.mrb", "--out", "out", "--no-3d"])
    return build


def _entry(name, mode=None):
    info = zipfile.ZipInfo(name)
    if mode is not None:
        info.external_attr = mode << 16
    return info


ESCAPES = ("/tmp/alpps-fuzz-escaped.txt",)
for _name, _entryName, _expected in (
    ("entry ../x", "../escaped.txt", r"climbs out of the bundle"),
    ("entry ../../x", "../../escaped.txt", r"climbs out of the bundle"),
    ("entry inside/../../x", "alpps-demo/../../escaped.txt", r"climbs out of the bundle"),
    ("entry /abs/x", ESCAPES[0], r"is an absolute path"),
    ("entry C:/x", "C:/escaped.txt", r"is an absolute path"),
    ("entry ..\\x", "..\\escaped.txt", r"backslashes"),
):
    for _keep in (True, False):
        case("scene bundle", f"{_name} {'beside the scene' if _keep else 'alone'}", _expected)(
            _bundle([(_entry(_entryName), b"escaped")], keep=_keep))
case("scene bundle", "symbolic link entry", r"is a symbolic link")(_bundle([(_entry("alpps-demo/link", stat.S_IFLNK | 0o777), b"/etc/passwd")]))
case("scene bundle", "device entry", r"neither a file nor a folder")(_bundle([(_entry("alpps-demo/dev", stat.S_IFCHR | 0o644), b"")]))
case("scene bundle", "entry twice", r"appears twice")(_bundle([(_entry("alpps-demo/alpps-demo.mrml"), b"<MRML></MRML>")]))
case("scene bundle", "zip bomb entry", r"a zip bomb")(
    lambda w: _bombBundle(w))
case("scene bundle", "scene refers to /etc/passwd", r"refers to '/etc/passwd' outside the bundle")(
    _bundle(sceneChange=lambda text: text.replace('fileName="', 'fileName="/etc/passwd" x="', 1)))
case("scene bundle", "scene refers to ../../outside", r"refers to '../../outside.nrrd' outside the bundle")(
    _bundle(sceneChange=lambda text: text.replace('fileName="', 'fileName="../../outside.nrrd" x="', 1)))
case("scene bundle", "truncated .seg.nrrd inside", r"Scene bundle .*Data/Synthetic segments pre-stage 1 2026-03-02.seg.nrrd' is truncated")(
    _bundle(dataChange=lambda data: data[: len(data) // 2]))
case("scene bundle", "no scene file", r"holds 0 scene files")(_bundle([(_entry("alpps-demo/readme.txt"), b"x")], keep=False))
case("scene bundle", "not a zip", r"is not a readable zip file")(lambda w: (_write(w.path("bad.mrb"), b"not a zip"),
                                                                          Run(["report", "--scene", "bad.mrb", "--out", "out"]))[1])
case("scene bundle", "empty file", r"is not a readable zip file")(lambda w: (_write(w.path("bad.mrb"), b""),
                                                                           Run(["report", "--scene", "bad.mrb", "--out", "out"]))[1])
case("scene bundle", "truncated bundle", r"is not a readable zip file|cannot be unpacked")(
    lambda w: (bad.truncated(w.demo["bundle"], w.path("bad.mrb"), 0.5), Run(["report", "--scene", "bad.mrb", "--out", "out"]))[1])
case("scene bundle", "folder as bundle", r"is a folder: expected a .mrb file")(
    lambda w: (os.makedirs(w.path("bad.mrb")), Run(["report", "--scene", "bad.mrb", "--out", "out"]))[1])


def _bombBundle(w):
    target = w.path("bad.mrb")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("alpps-demo/zeros.raw", b"\0" * (8 << 20))
    return Run(["report", "--scene", "bad.mrb", "--out", "out"])


def _relativeReport(w):
    shutil.copyfile(w.demo["bundle"], w.path("course.mrb"))
    return Run(["report", "--scene", "course.mrb", "--out", "out", "--no-3d", "--plan", "right_trisectionectomy"], json=os.path.join(w.out, "alpps-report.json"))


def _reportMatchesReference(document, workshop):
    first = document["timePoints"][0]["volumetry"]["liver"]["totalLiverVolumeMl"]
    reference = workshop.demo["reference"]
    assert first == pytest.approx(reference["liver"]["totalLiverVolumeMl"], rel=1e-12)
    assert os.path.isfile(os.path.join(workshop.out, "segmentation-pre-stage-1.seg.nrrd"))
    return f"report written in ./out; pre-stage 1 TLV {first:.2f} mL (as the demo)"


case("scene bundle", "relative --scene and --out", "accepted", _reportMatchesReference)(_relativeReport)


# --- options -------------------------------------------------------------------------------------

def _labelMap(w):
    return bad.writeImage(w.path("labels.nii.gz"), bad.phantomLabels())


def _option(argv):
    """A case whose argv is built from the phantom label map (LABELS), the demo segmentation (SEG),
    a valid scan date (DATE) and the workshop paths."""
    def build(w):
        labels = _labelMap(w)
        replace = {"LABELS": labels, "SEG": w.demo["segmentation"], "CWD": w.cwd, "OUT": w.out}
        return Run([replace.get(item, item) if item in replace else item.replace("LABELS", labels) for item in argv])
    return build


_SV = ["segment-volumes", "--segmentation", "LABELS"]
_TP = ["hypertrophy", "--timepoint", "2026-03-02::LABELS", "--timepoint", "2026-03-12::LABELS"]
_OPTIONS = [
    ("--labels 1=A,1=B", _SV + ["--labels", "1=A,1=B"], r"gives label 1 twice"),
    ("--labels 1=A,2=A", _SV + ["--labels", "1=A,2=A"], r"gives the name 'A' to labels 1 and 2"),
    ("--labels 1=", _SV + ["--labels", "1="], r"label 1 has no name"),
    ("--labels '1=  '", _SV + ["--labels", "1=  "], r"label 1 has no name"),
    ("--labels 0=background", _SV + ["--labels", "0=background"], r"label value 0 is not above 0"),
    ("--labels -1=A", _SV + ["--labels=-1=A"], r"label value -1 is not above 0"),
    ("--labels x=A", _SV + ["--labels", "x=A"], r"'x' is not an integer label value"),
    ("--labels 1.5=A", _SV + ["--labels", "1.5=A"], r"'1.5' is not an integer label value"),
    ("--labels unknown preset", _SV + ["--labels", "totally"], r"neither VALUE=NAME pairs, a .json file nor a preset"),
    ("--labels naming only an absent label", _SV + ["--labels", "7=Segment VII"], r"no voxels for label values \[7\]"),
    ("--labels naming an absent label", _SV + ["--labels", "1=Segment I,7=Segment VII"], r"no voxels for label values \[7\]"),
    ("--labels missing .json", _SV + ["--labels", "CWD/none.json"], r"--labels file '.*none.json' does not exist"),
    ("--json is the segmentation", _SV + ["--json", "LABELS"], r"--json '.*labels.nii.gz' is the input"),
    ("--json is a folder", _SV + ["--json", "CWD"], r"--json '.*' is a folder"),
    ("--json inside a DICOM input folder", ["dicom-index", "CWD", "--json", "CWD/index.json"], r"lies inside the input folder"),
    ("--out is a file", ["report", "--timepoint", "2026-03-02::LABELS", "--out", "LABELS"], r"--out '.*labels.nii.gz' is a file"),
    ("--out inside the --volume folder", ["volumetry", "--segmentation", "SEG", "--volume", "CWD", "--json", "CWD/r.json"], r"lies inside the input folder"),
    ("--role twice", ["sparing", "--segmentation", "SEG", "--role", "Segment I=tumour", "--role", "Segment I=I"], r"--role gives segment 'Segment I' twice"),
    ("--role without role", ["volumetry", "--segmentation", "SEG", "--role", "Segment I="], r"must read SEGMENT=ROLE"),
    ("--role without segment", ["volumetry", "--segmentation", "SEG", "--role", "=tumour"], r"must read SEGMENT=ROLE"),
    ("--vessel twice", ["sparing", "--segmentation", "SEG", "--vessel", "RHV=a", "--vessel", "RHV=b"], r"--vessel gives 'RHV' twice"),
    ("--vessel without segment", ["sparing", "--segmentation", "SEG", "--vessel", "RHV="], r"--vessel 'RHV=' must read NAME=SEGMENT"),
    ("--labs twice for a date", _TP + ["--labs", "2026-03-02:inr=1.1", "--labs", "2026-03-02:bilirubin=20 umol/L"], r"--labs gives 2026-03-02 twice"),
    ("--labs quantity twice", _TP + ["--labs", "2026-03-02:inr=1.1,inr=1.3"], r"gives inr twice"),
    ("--labs NaN", _TP + ["--labs", "2026-03-02:inr=nan"], r"--labs inr is nan"),
    ("--labs negative", _TP + ["--labs", "2026-03-02:bilirubin=-20 umol/L"], r"--labs bilirubin is -20"),
    ("--labs for no time point", _TP + ["--labs", "2026-03-05:inr=1.1"], r"match no time point"),
    ("--labs without values", _TP + ["--labs", "2026-03-02"], r"must read DATE:QUANTITY=VALUE UNIT"),
    ("--remnant-function twice", _TP + ["--remnant-function", "2026-03-12:murPercentPerMin=12", "--remnant-function", "2026-03-12:flrFunctionPerBsa=2"],
     r"gives 2026-03-12 twice"),
    ("--remnant-function NaN", _TP + ["--remnant-function", "2026-03-12:flrFunctionPerBsa=nan"], r"invalid: expected a finite value"),
    ("--remnant-function share 135 %", _TP + ["--remnant-function", "2026-03-12:flrSharePercent=135"], r"above 100 %"),
    ("--remnant-function-per-bsa nan", _TP + ["--remnant-function-per-bsa", "nan"], r"expected a finite number"),
    ("--remnant-function-per-bsa -5", _TP + ["--remnant-function-per-bsa", "-5"], r"expected between 0 and 30"),
    ("--remnant-function-per-bsa 1e9", _TP + ["--remnant-function-per-bsa", "1e9"], r"expected between 0 and 30"),
    ("--remnant-function-per-bsa inf", _TP + ["--remnant-function-per-bsa", "inf"], r"expected a finite number"),
    ("--remnant-function-per-bsa 0", _TP + ["--remnant-function-per-bsa", "0"], r"expected a value other than 0"),
    ("scan dated 9999-12-31", ["hypertrophy", "--timepoint", "9999-12-31::LABELS"], r"Scan date 9999-12-31 is in the future"),
    ("scan dated 2062 (typo)", ["hypertrophy", "--timepoint", "2062-03-02::LABELS"], r"Scan date 2062-03-02 is in the future"),
    ("scan dated 1926", ["hypertrophy", "--timepoint", "1926-03-02::LABELS"], r"is before 1971"),
    ("scan date 2026-13-02", ["hypertrophy", "--timepoint", "2026-13-02::LABELS"], r"'2026-13-02' is not a date"),
    ("stage 1 ten years early", _TP + ["--stage1-date", "2016-03-05"], r"days before the first scan"),
    ("stage 1 in the future", _TP + ["--stage1-date", "2090-03-05"], r"Stage 1 date 2090-03-05 is in the future"),
    ("stage 1 not a date", _TP + ["--stage1-date", "March"], r"'March' is not a date"),
    ("--timepoint with one part", ["hypertrophy", "--timepoint", "2026-03-02"], r"must read DATE:VOLUME:SEGMENTATION"),
    ("--timepoint Windows path", ["hypertrophy", "--timepoint", "2026-03-02::C:\\scans\\seg.nii.gz"], r"Windows path .* use --timepoints FILE"),
    ("no --timepoint", ["hypertrophy"], r"no scans given"),
    ("--height nan", _TP + ["--height", "nan"], r"Height"),
    ("--height 1.72 (metres)", _TP + ["--height", "1.72"], r"looks like metres"),
    ("--height -172", _TP + ["--height", "-172"], r"must be positive"),
    ("--weight inf", _TP + ["--weight", "inf"], r"Weight"),
    ("--weight 170 lb", _TP + ["--weight", "400"], r"outside the plausible adult range"),
    ("--height text", _TP + ["--height", "tall"], r"invalid float value: 'tall'"),
    ("--margin nan", ["sparing", "--segmentation", "SEG", "--margin", "nan"], r"--margin is nan"),
    ("--margin -1", ["sparing", "--segmentation", "SEG", "--margin", "-1"], r"--margin is -1"),
    ("--margin 500", ["sparing", "--segmentation", "SEG", "--margin", "500"], r"--margin is 500"),
    ("--contact-distance inf", ["sparing", "--segmentation", "SEG", "--contact-distance", "inf"], r"--contact-distance is inf"),
    ("--sflr-threshold 250", ["volumetry", "--segmentation", "SEG", "--sflr-threshold", "250"], r"--sflr-threshold is 250"),
    ("--sflr-threshold nan", ["volumetry", "--segmentation", "SEG", "--sflr-threshold", "nan"], r"--sflr-threshold is nan"),
    ("--bwr-threshold -0.5", ["volumetry", "--segmentation", "SEG", "--bwr-threshold", "-0.5"], r"--bwr-threshold is -0.5"),
    ("--roi-radius 0", ["function", "gadoxetate", "--segmentation", "SEG", "--hbp", "LABELS", "--roi-radius", "0"], r"--roi-radius is 0"),
    ("--voi-margin nan", ["function", "mebrofenin", "--ct", "LABELS", "--segmentation", "SEG", "--spect", "LABELS", "--curves", "LABELS",
                          "--voi-margin", "nan"], r"--voi-margin is nan"),
    ("--muscle-point with two values", ["function", "gadoxetate", "--segmentation", "SEG", "--hbp", "LABELS", "--muscle-point", "1,2"],
     r"--muscle-point.* must read X,Y,Z"),
    ("--muscle-point nan", ["function", "gadoxetate", "--segmentation", "SEG", "--hbp", "LABELS", "--muscle-point=nan,1,2"], r"must read X,Y,Z"),
    ("--repeats 0", ["benchmark", "--repeats", "0"], r"--repeats is 0"),
    ("--size 0 0 0", ["benchmark", "--size", "0", "0", "0"], r"--size is 0"),
    ("--curves is a folder", ["function", "mebrofenin", "--ct", "LABELS", "--segmentation", "SEG", "--spect", "LABELS", "--curves", "CWD"],
     r"--curves '.*' is a folder"),
    ("--scene and --timepoint", ["report", "--scene", "x.mrb", "--timepoint", "2026-03-02::LABELS", "--out", "OUT"], r"give either --scene"),
    ("unknown option", _SV + ["--colour", "red"], r"unrecognized arguments: --colour red"),
    ("missing required option", ["volumetry"], r"the following arguments are required: --segmentation"),
    ("unknown command", ["volumes"], r"invalid choice: 'volumes'"),
    ("--liver-condition unknown", ["volumetry", "--segmentation", "SEG", "--liver-condition", "fatty"], r"invalid choice: 'fatty'"),
]
for _name, _argv, _expected in _OPTIONS:
    case("options", _name, _expected)(_option(_argv))


def _manifest(text, suffix=".csv", encoding="utf-8"):
    def build(w):
        labels = _labelMap(w)
        path = w.path("course" + suffix)
        open(path, "wb").write(text.replace("LABELS", labels).encode(encoding))
        return Run(["hypertrophy", "--timepoints", path])
    return build


for _name, _text, _expected, _suffix, _encoding in (
    ("manifest with an unknown column", "date,scan\n2026-03-02,LABELS\n", r"unknown column 'scan'", ".csv", "utf-8"),
    ("manifest without segmentation", "date,volume\n2026-03-02,LABELS\n", r"expected at least a date and a segmentation", ".csv", "utf-8"),
    ("manifest with no rows", "date,segmentation\n", r"lists no time points", ".csv", "utf-8"),
    ("manifest row with an extra cell", "date,segmentation\n2026-03-02,LABELS,x\n", r"more cells than columns", ".csv", "utf-8"),
    ("manifest in Latin-1", "date,segmentation\n2026-03-02,LABELS\u00e9\n", r"is not UTF-8 text", ".csv", "latin-1"),
    ("manifest JSON broken", "[{", r"is not valid JSON", ".json", "utf-8"),
    ("manifest JSON not a list", '{"date": "2026-03-02"}', r"must hold a list of time points", ".json", "utf-8"),
    ("manifest date in the future", "date,segmentation\n2099-03-02,LABELS\n", r"is in the future", ".csv", "utf-8"),
    ("manifest missing segmentation file", "date,segmentation\n2026-03-02,none.nii.gz\n", r"none.nii.gz' does not exist", ".csv", "utf-8"),
):
    case("time point manifest", _name, _expected)(_manifest(_text, _suffix, _encoding))


def _flippedLiver(w):
    source = w.copy(w.shared("dcmqi", "liver_seg.nrrd"))
    header = open(source, "rb").read().split(b"\n\n")[0].decode("latin-1")
    path = bad.nrrdWithHeader(source, w.path("flipped.nrrd"), {_line(header, "endian"): "endian: big"})
    return Run(["segment-volumes", "--segmentation", path, "--labels", "1=Liver"])


case("NRRD header", "dcmqi: byte order flipped, --labels 1=Liver", r"no voxels for label values \[1\] \(Liver\)", shared=True)(_flippedLiver)


# --- good inputs among the bad: the right number --------------------------------------------------

_COUINAUD_ML = {"Segment I": 40.60, "Segment II": 160.68, "Segment III": 65.71, "Segment IV": 165.84, "Segment V": 177.14,
                "Segment VI": 149.86, "Segment VII": 390.94, "Segment VIII": 313.32}


def _ircadTruth(document, workshop):
    """Shared README: IRCAD Couinaud volumes, TLV 1464.09 mL."""
    segments = {name: value["volumeMl"] for name, value in document["segments"].items()} if "segments" in document else {}
    if "liver" in document:
        liver = document["liver"]["totalLiverVolumeMl"]
        assert liver == pytest.approx(1464.09, abs=0.005)
        return f"TLV {liver:.2f} mL (README 1464.09)"
    assert {name: round(value, 2) for name, value in segments.items()} == pytest.approx(_COUINAUD_ML, abs=0.011)
    return "I-VIII as the README (" + ", ".join(f"{value:.2f}" for value in segments.values()) + " mL)"


def _ircadWithNotes(w):
    folder = w.path("ircad")
    os.makedirs(folder)
    for name in os.listdir(w.shared("ircad1", "PATIENT_DICOM")):
        os.symlink(w.shared("ircad1", "PATIENT_DICOM", name), os.path.join(folder, name))
    _write(os.path.join(folder, "notes.txt"), b"not DICOM")
    return Run(["volumetry", "--segmentation", w.shared("ircad1", "couinaud_labels.nii.gz"), "--labels", bad.COUINAUD_LABELS,
                "--volume", folder, "--plan", "right_hepatectomy", "--json", w.json()], json=w.json())


case("DICOM --volume", "whole IRCAD series beside a text file", "accepted", _ircadTruth, shared=True)(_ircadWithNotes)
case("options", "--labels preset liver_segments", "accepted", _ircadTruth, shared=True)(
    lambda w: Run(["segment-volumes", "--segmentation", w.shared("ircad1", "couinaud_labels.nii.gz"), "--labels", "liver_segments",
                   "--json", w.json()], json=w.json()))


def _totalLiver(document, workshop):
    liver = document["segments"]["Liver"]["volumeMl"]
    assert liver == pytest.approx(699.44, abs=0.005) and set(document["segments"]) <= {"Liver", "Spleen", "Gallbladder", "Aorta",
                                                                                         "Inferior vena cava", "Portal vein and splenic vein"}
    return f"Liver {liver:.2f} mL (README 699.44); other labels left out with a note"


case("options", "--labels preset total (TotalSegmentator)", "accepted", _totalLiver, shared=True)(
    lambda w: Run(["segment-volumes", "--segmentation", w.shared("totalsegmentator", "example_ct_dicom_seg.nii.gz"), "--labels", "total",
                   "--json", w.json()], json=w.json()))
case("options", "--labels 5=Liver only (31 other labels left out)", "accepted", _totalLiver, shared=True)(
    lambda w: Run(["segment-volumes", "--segmentation", w.shared("totalsegmentator", "example_ct_dicom_seg.nii.gz"), "--labels", "5=Liver",
                   "--json", w.json()], json=w.json()))


# --- the runner ----------------------------------------------------------------------------------

def _classify(status, err, document, crashed):
    if crashed:
        return f"crash ({crashed})"
    if "Traceback" in err:
        return "traceback"
    line = err.strip().splitlines()[-1] if err.strip() else ""
    if status == 2:
        return f"refused: {line}"
    if status == 0:
        return "accepted"
    return f"exit {status}: {line}"


def _runSubprocess(run, workshop):
    def limit():
        if run.memoryLimit:
            resource.setrlimit(resource.RLIMIT_AS, (run.memoryLimit, run.memoryLimit))

    environment = dict(os.environ, TMPDIR=workshop.tmp)
    completed = subprocess.run([sys.executable, "-m", "alpps.cli"] + run.argv, capture_output=True, text=True, cwd=workshop.cwd,
                               preexec_fn=limit, env=environment, timeout=300)
    crashed = f"signal {-completed.returncode}" if completed.returncode < 0 else None
    return completed.returncode, completed.stdout, completed.stderr, crashed


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    yield TABLE
    path = os.environ.get("ALPPS_FUZZ_TABLE") or str(tmp_path_factory.getbasetemp() / "fuzz-table.md")
    lines = ["| # | family | case | expected | got |", "|---|---|---|---|---|"]
    for number, (family, name, expected, got) in enumerate(TABLE, start=1):
        cell = lambda text: str(text).replace("|", "\\|").replace("\n", " ")  # noqa: E731
        lines.append(f"| {number} | {family} | {cell(name)} | {cell(expected)} | {cell(got)} |")
    counts = {}
    for _, _, _, got in TABLE:
        kind = got.split(":")[0].split(" (")[0]
        counts[kind] = counts.get(kind, 0) + 1
    summary = f"{len(TABLE)} cases: " + ", ".join(f"{count} {kind}" for kind, count in sorted(counts.items()))
    with open(path, "w", encoding="utf-8") as stream:
        stream.write(summary + "\n\n" + "\n".join(lines) + "\n")
    print(f"\nfuzz suite: {summary}; table written to {path}")


def test_fuzzSuiteHasEnoughCases():
    assert len(CASES) >= 150, len(CASES)
    assert len({(case.family, case.name) for case in CASES}) == len(CASES)


@pytest.mark.parametrize("fuzz", CASES, ids=[f"{case.family}: {case.name}" for case in CASES])
def test_badInput(fuzz, demo, table, tmp_path, monkeypatch, capfd):
    if fuzz.needsShared and not os.path.isdir(SHARED):
        pytest.skip(f"real test data not available at {SHARED}")
    workshop = Workshop(demo, str(tmp_path))
    run = fuzz.build(workshop)
    before = _tree(workshop.sandbox)
    monkeypatch.chdir(workshop.cwd)
    monkeypatch.setattr(tempfile, "tempdir", workshop.tmp)
    capfd.readouterr()
    crashed = None
    if run.subprocess:
        status, out, err, crashed = _runSubprocess(run, workshop)
    else:
        try:
            status = cli.main(run.argv)
        except SystemExit as exit_:  # argparse refusals
            status = exit_.code
        captured = capfd.readouterr()
        out, err = captured.out, captured.err
    document = None
    if status == 0 and run.json and os.path.isfile(run.json):
        with open(run.json) as stream:
            document = json.load(stream)
    got = _classify(status, err, document, crashed)
    if status == 0 and fuzz.check is not None and document is not None:
        got = "accepted: " + fuzz.check(document, workshop)
    got = got.replace(workshop.cwd + os.sep, "").replace(workshop.sandbox + os.sep, "")[:220]  # paths relative to the case's folder
    table.append((fuzz.family, fuzz.name, "accepted, right number" if fuzz.expected == "accepted" else f"refused: /{fuzz.expected}/", got))

    assert crashed is None and "Traceback" not in err, err
    assert "\x1b[" not in err, "colour codes reached the user"
    if fuzz.expected == "accepted":
        assert status == 0, err
        assert document is not None and fuzz.check is not None
    else:
        assert status == 2, (status, out[-500:], err[-2000:])
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        assert re.search(fuzz.expected, lines[0]), lines[0]
    written = sorted(path for path in _tree(workshop.sandbox) - before if not path.startswith(workshop.out + os.sep))
    assert written == [], f"written outside the output folder: {written}"
    assert os.listdir(workshop.tmp) == [], f"temporary folders left behind: {os.listdir(workshop.tmp)}"
    for escape in ESCAPES:
        assert not os.path.exists(escape)
