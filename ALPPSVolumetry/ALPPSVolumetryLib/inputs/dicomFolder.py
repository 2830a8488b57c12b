"""The headers of a folder (or a list) of DICOM files, read once: the one DICOM folder reader.

Radiologists hand over scans as folders exported from PACS or a CD: series of every phase mixed in
one tree, file names that carry no order, and odd files (DICOMDIR, reports, segmentations, text
notes). Here the files are found (a folder walked in name order), each header is read once (pixel
data is never decoded, so compressed series are read without a decoder, but a file cut short is
skipped with the reason), image slices are grouped into series and put in anatomical order by
their position along the slice normal (never by file name), and each series' geometry is
checked. Objects without image slices (SEG, reports, DICOMDIR) are listed as other objects.

Used by ``dicomSeries`` (loading a series for volumetry), ``dicomSeriesChecks`` (whether a scan
forms one whole volume) and the Assessment module's DICOM index (patients, studies and the time
points they propose), which builds on ``DicomFolder.headers``.
"""

import os
import struct
import warnings as pythonWarnings
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import numpy as np

# Same tolerance as Slicer's DICOM scalar volume plugin uses for "not equally spaced", so that
# what this reader calls uneven is what Slicer would warn about when loading.
SPACING_TOLERANCE_MM = 0.01
# A gap this many times the usual slice spacing or more means slices are missing rather than
# spaced a little unevenly (one missing slice doubles the gap).
MISSING_SLICE_GAP_FACTOR = 1.5
# Direction cosines are written with a few decimals; slices of one stack agree far better than this.
ORIENTATION_TOLERANCE = 1e-3
# Slice origins drifting sideways by more than this form a sheared stack (gantry tilt).
IN_PLANE_SHIFT_TOLERANCE_MM = 0.05

# Storage classes that hold no image slices (SOP Class UID prefixes): they are listed as other
# objects. A DICOM SEG is kept in the listing because it can later give a ready segmentation.
_NON_IMAGE_SOP_CLASS_PREFIXES = (
    ("1.2.840.10008.5.1.4.1.1.66.4", "segmentation (DICOM SEG)"),
    ("1.2.840.10008.5.1.4.1.1.66.5", "surface segmentation"),
    ("1.2.840.10008.5.1.4.1.1.66", "registration or raw data"),
    ("1.2.840.10008.5.1.4.1.1.67", "real world value mapping"),
    ("1.2.840.10008.5.1.4.1.1.88.", "structured report"),
    ("1.2.840.10008.5.1.4.1.1.11.", "presentation state"),
    ("1.2.840.10008.5.1.4.1.1.104.", "encapsulated document"),
    ("1.2.840.10008.5.1.4.1.1.481.3", "RT structure set"),
    ("1.2.840.10008.5.1.4.1.1.481.5", "RT plan"),
    ("1.2.840.10008.1.3.10", "DICOMDIR (media directory)"),
)
# For objects whose SOP Class UID is missing or unusual, the modality tells the same.
_NON_IMAGE_MODALITIES = {
    "SEG": "segmentation (DICOM SEG)",
    "SR": "structured report",
    "KO": "key object selection",
    "PR": "presentation state",
    "RTSTRUCT": "RT structure set",
    "RTPLAN": "RT plan",
    "REG": "registration",
    "DOC": "encapsulated document",
}


@dataclass
class SkippedFile:
    path: str
    reason: str


@dataclass
class OtherObject:
    """A DICOM object that is not an image slice (SEG, report, DICOMDIR, secondary capture ...)."""

    path: str
    kind: str
    reason: str
    sopClassUID: str = ""
    modality: str = ""
    description: str = ""
    patientId: str = ""
    patientName: str = ""
    studyInstanceUID: str = ""
    seriesInstanceUID: str = ""
    referencedSeriesUIDs: List[str] = field(default_factory=list)  # e.g. the CT a SEG was drawn on


@dataclass
class ImageSeries:
    seriesInstanceUID: str
    modality: str
    seriesDescription: str
    seriesNumber: Optional[int]
    studyInstanceUID: str
    files: List[str] = field(default_factory=list)  # in slice order along the slice normal
    slicePositions: List[float] = field(default_factory=list)  # mm along the normal, same order
    sliceCount: int = 0  # slices (files), or frames of multi-frame objects
    sliceSpacing: Optional[float] = None  # mm, usual distance between neighbouring slices
    imageOrientation: Optional[Tuple[float, ...]] = None  # DICOM row and column directions (LPS)
    rows: Optional[int] = None
    columns: Optional[int] = None
    pixelSpacing: Optional[Tuple[float, float]] = None  # DICOM order: between rows, between columns
    multiFrame: bool = False
    sopClassName: str = ""
    warnings: List[str] = field(default_factory=list)


@dataclass
class DicomFileHeader:
    """What the index of patients and studies needs from one DICOM file that was read: the patient
    and study attributes as written, and the image series or other object the file belongs to."""

    path: str
    patientId: str
    patientName: str
    birthDateText: str
    studyInstanceUID: str
    studyDateText: str
    studyTimeText: str
    accessionNumber: str
    studyDescription: str
    series: Optional[ImageSeries] = None  # for image files
    otherObject: Optional[OtherObject] = None  # for objects without image slices

    @property
    def patientKey(self):
        # PatientID identifies the patient; a name typed differently in another study must not split
        # one patient's timeline (it is reported instead). Without an ID, name and birth date have to do.
        return (self.patientId,) if self.patientId else ("", self.patientName, self.birthDateText)

    @property
    def studyKey(self):
        # Without a StudyInstanceUID (blanked by an anonymiser), a patient's study is what shares
        # date, time, accession number and description.
        return self.studyInstanceUID or (
            "no StudyInstanceUID",
            self.patientKey,
            self.studyDateText,
            self.studyTimeText,
            self.accessionNumber,
            self.studyDescription,
        )


@dataclass
class DicomFolder:
    """What a folder (or a list of files) holds, as its headers tell."""

    source: str  # the folder, or what the list of files came from
    fileCount: int = 0
    headers: List[DicomFileHeader] = field(default_factory=list)  # every DICOM file read, in reading order
    series: List[ImageSeries] = field(default_factory=list)  # in the order of their first file
    otherObjects: List[OtherObject] = field(default_factory=list)
    skippedFiles: List[SkippedFile] = field(default_factory=list)  # not DICOM or unreadable


# --- reading headers ---------------------------------------------------------------------------


def readHeader(path):
    """The header of one DICOM file (pixel data not read), or None when the file is not DICOM or
    cannot be read: for a file the folder reader already accepted, or a lone object such as a SEG."""
    import pydicom

    try:
        return pydicom.dcmread(path, stop_before_pixels=True)
    except (pydicom.errors.InvalidDicomError, OSError, EOFError, ValueError):
        return None


def slicePosition(dataset, path):
    """Position (mm) of a slice along its normal: the key that puts slices in anatomical order."""
    try:
        orientation = np.array([float(value) for value in dataset.ImageOrientationPatient])
        position = np.array([float(value) for value in dataset.ImagePositionPatient])
    except (AttributeError, TypeError, ValueError):
        raise ValueError(
            f"DICOM file '{path}' has no ImagePositionPatient/ImageOrientationPatient: "
            "slices cannot be put in anatomical order"
        ) from None
    normal = np.cross(orientation[:3], orientation[3:])
    return float(position @ normal)


class _Skip(Exception):
    """A file that is not DICOM or cannot be read; the message is the reason shown to the user."""


@dataclass
class _Slice:
    path: str
    position: float
    imagePosition: np.ndarray
    orientation: np.ndarray
    rows: Optional[int]
    columns: Optional[int]
    pixelSpacing: Optional[Tuple[float, float]]
    instanceNumber: Optional[int]


def _readDataset(path):
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        size = os.path.getsize(path)
    except OSError as error:
        raise _Skip(f"unreadable ({error.strerror or error})") from None
    if size == 0:
        raise _Skip("empty file (0 bytes)")
    try:
        with open(path, "rb") as stream:
            dataset = pydicom.dcmread(stream, stop_before_pixels=True)
            pixelDataOffset = stream.tell()  # pydicom stops in front of the Pixel Data element
    except InvalidDicomError:
        raise _Skip("not DICOM (no 'DICM' marker at byte 128)") from None
    except Exception as error:  # noqa: BLE001 - damaged headers fail in many ways (struct, EOF, value errors)
        raise _Skip(f"unreadable DICOM header ({type(error).__name__}: {error})") from None
    return dataset, pixelDataOffset, size


def _pixelDataProblem(dataset, path, offset, size):
    """Why the pixel data of an image object is missing or cut short, or None when it looks whole.

    Headers alone can look perfect in a file cut during copying; Slicer would then fail (or read
    garbage) when loading, so such files are skipped here rather than listed as slices.
    """
    if offset >= size:
        return "truncated: the file ends before its pixel data"
    transferSyntax = str(getattr(getattr(dataset, "file_meta", None), "TransferSyntaxUID", "") or "")
    if transferSyntax == "1.2.840.10008.1.2.1.99":
        return None  # deflated: positions refer to the inflated stream, nothing to compare
    with open(path, "rb") as stream:
        stream.seek(offset)
        head = stream.read(12)
    byteOrder = {b"\xe0\x7f\x10\x00": "<", b"\x7f\xe0\x00\x10": ">"}.get(head[:4])
    if byteOrder is None:
        return None  # float or double pixel data: not checked
    if transferSyntax == "1.2.840.10008.1.2":  # implicit VR: 4-byte length after the tag
        headerLength, lengthBytes = 8, head[4:8]
        length = struct.unpack(byteOrder + "I", lengthBytes)[0] if len(lengthBytes) == 4 else None
    else:  # explicit VR: OB/OW/UN carry 2 reserved bytes and a 4-byte length
        headerLength, lengthBytes = 12, head[8:12]
        length = struct.unpack(byteOrder + "I", lengthBytes)[0] if len(lengthBytes) == 4 else None
    if length is None:
        return "truncated: the file ends inside the pixel data element"
    if length == 0xFFFFFFFF:
        # Compressed (encapsulated) frames end with a sequence delimiter; a file cut in copying lacks it.
        with open(path, "rb") as stream:
            stream.seek(max(size - 16, 0))
            tail = stream.read()
        delimiter = b"\xfe\xff\xdd\xe0\x00\x00\x00\x00" if byteOrder == "<" else b"\xff\xfe\xe0\xdd\x00\x00\x00\x00"
        if delimiter not in tail:
            return "truncated: its compressed pixel data does not end with the sequence delimiter"
        return None
    available = size - offset - headerLength
    if available < length:
        return f"truncated: pixel data has {max(available, 0)} of {length} bytes"
    return None


def _text(dataset, keyword):
    value = dataset.get(keyword, "")
    return "" if value is None else str(value).strip()


def _integer(dataset, keyword):
    value = dataset.get(keyword)
    if value is None or str(value).strip() == "":
        return None
    try:
        return int(float(str(value)))
    except ValueError:
        return None


def _numbers(dataset, keyword, count):
    """The values of a multi-valued numeric attribute, or None when absent or not ``count`` numbers."""
    value = dataset.get(keyword)
    if value is None:
        return None
    try:
        numbers = [float(item) for item in (value if not isinstance(value, (str, bytes)) else [value])]
    except (TypeError, ValueError):
        return None
    return numbers if len(numbers) == count else None


def _sopClassUID(dataset):
    uid = _text(dataset, "SOPClassUID")
    if not uid and getattr(dataset, "file_meta", None) is not None:
        uid = _text(dataset.file_meta, "MediaStorageSOPClassUID")
    return uid


def _sopClassName(uid):
    if not uid:
        return ""
    from pydicom.uid import UID

    name = UID(uid).name
    return "" if name == uid else name


def _nonImageKind(sopClassUID, modality):
    # Most specific prefixes come first in the table (SEG before the other 66.x classes).
    for prefix, kind in _NON_IMAGE_SOP_CLASS_PREFIXES:
        stem = prefix.rstrip(".")
        if sopClassUID == stem or sopClassUID.startswith(stem + "."):
            return kind
    return _NON_IMAGE_MODALITIES.get(modality)


def _referencedSeries(dataset):
    uids = []
    for item in dataset.get("ReferencedSeriesSequence", None) or []:
        uid = _text(item, "SeriesInstanceUID")
        if uid and uid not in uids:
            uids.append(uid)
    return uids


# --- slice geometry ----------------------------------------------------------------------------


def _checkSliceGeometry(slices):
    """Usual slice spacing (mm) and warnings for slices sorted along the normal."""
    problems = []
    orientations = np.array([item.orientation for item in slices])
    if np.abs(orientations - orientations[0]).max() > ORIENTATION_TOLERANCE:
        count = len({tuple(np.round(row, 3)) for row in orientations})
        problems.append(
            f"its slices have {count} different orientations (a localizer, or several stacks in one series): "
            "they do not form one volume"
        )
        return None, problems
    sizes = sorted({(item.columns, item.rows) for item in slices}, key=str)
    if len(sizes) > 1:
        listing = ", ".join(f"{columns}x{rows}" for columns, rows in sizes)
        problems.append(f"its slices have different sizes ({listing}): they do not form one volume")
    pixelSpacings = sorted({tuple(np.round(item.pixelSpacing, 4)) if item.pixelSpacing else () for item in slices})
    if len(pixelSpacings) > 1:
        listing = ", ".join("x".join(f"{value:g}" for value in spacing[::-1]) or "none" for spacing in pixelSpacings)
        problems.append(f"its slices have different pixel spacings ({listing} mm): they do not form one volume")
    if len(slices) < 2:
        return None, problems
    positions = np.array([item.position for item in slices])
    gaps = np.diff(positions)
    duplicate = gaps < SPACING_TOLERANCE_MM
    if duplicate.any():
        first = int(np.flatnonzero(duplicate)[0])
        problems.append(
            f"{int(duplicate.sum())} slice(s) lie at the same position as another (e.g. '{slices[first].path}' and "
            f"'{slices[first + 1].path}' at {positions[first]:.2f} mm): several phases, echoes or acquisitions "
            "in one series? Loaded as one volume they would be stacked wrongly"
        )
    distinct = gaps[~duplicate]
    if len(distinct) == 0:
        return None, problems
    spacing = float(np.median(distinct))
    missing = distinct > MISSING_SLICE_GAP_FACTOR * spacing
    if missing.any():
        distinctIndices = np.flatnonzero(~duplicate)
        details = []
        total = 0
        for gapIndex in distinctIndices[missing]:
            gap = float(gaps[gapIndex])
            count = max(int(round(gap / spacing)) - 1, 1)
            total += count
            details.append(f"{count} between {positions[gapIndex]:.2f} and {positions[gapIndex + 1]:.2f} mm")
        problems.append(
            f"about {total} slice(s) missing ({'; '.join(details)}; usual spacing {spacing:.2f} mm): "
            "the volume would have a gap"
        )
    regular = distinct[~missing]
    if len(regular) and regular.max() - regular.min() > SPACING_TOLERANCE_MM:
        problems.append(
            f"uneven slice spacing: gaps from {regular.min():.3f} to {regular.max():.3f} mm "
            f"(usual {spacing:.3f} mm); a volume assumes one spacing"
        )
    rowDirection, columnDirection = orientations[0][:3], orientations[0][3:]
    normal = np.cross(rowDirection, columnDirection)
    normal = normal / np.linalg.norm(normal)
    offsets = np.array([item.imagePosition for item in slices]) - slices[0].imagePosition
    sideways = offsets - np.outer(offsets @ normal, normal)
    shift = float(np.linalg.norm(sideways, axis=1).max())
    if shift > IN_PLANE_SHIFT_TOLERANCE_MM:
        problems.append(
            f"slice origins shift sideways by up to {shift:.2f} mm along the stack (gantry tilt?): "
            "a volume built from them is sheared"
        )
    return spacing, problems


# --- the folder --------------------------------------------------------------------------------


def seriesSortKey(series):
    """Series in the order a study lists them: series number (unnumbered last), description, UID."""
    return (series.seriesNumber is None, series.seriesNumber or 0, series.seriesDescription, series.seriesInstanceUID)


def appendOnce(messages, message):
    if message not in messages:
        messages.append(message)


def readDicomFolder(folder):
    """Walk ``folder`` (recursively, in name order) and read the header of every file once.

    Files that are not DICOM or cannot be read are listed in ``skippedFiles`` with the reason, as
    is a sub-folder that cannot be listed; DICOM objects without image slices (SEG, reports,
    DICOMDIR) in ``otherObjects``. Slices are ordered by position along the slice normal.
    """
    if not isinstance(folder, str) or not os.path.isdir(folder):
        raise ValueError(f"DICOM folder '{folder}' does not exist or is not a folder: expected a folder of DICOM files")
    reader = _FolderReader(folder)

    def listingError(error):
        # A sub-folder that cannot be listed would otherwise vanish unnoticed.
        reader.folder.skippedFiles.append(SkippedFile(getattr(error, "filename", None) or str(error), "folder cannot be read"))

    for root, directories, names in os.walk(folder, onerror=listingError):
        directories.sort()  # a stable walk gives a stable listing
        for name in sorted(names):
            reader.read(os.path.join(root, name))
    return reader.finish()


def readDicomFiles(paths, source="DICOM database"):
    """The headers of a list of DICOM files (for example those Slicer's DICOM database holds for
    one patient), read exactly as readDicomFolder reads a folder."""
    reader = _FolderReader(source)
    for path in paths:
        reader.read(path)
    return reader.finish()


class _FolderReader:
    def __init__(self, source):
        self.folder = DicomFolder(source=source)
        self.series = {}  # series key -> (ImageSeries, [_Slice], study key of its first file)
        self.multiFrameFiles = {}  # series key -> [(instance number, path, frames)]

    def read(self, path):
        self.folder.fileCount += 1
        try:
            with pythonWarnings.catch_warnings():
                # pydicom warns about every non-conforming value when it is read or used; a
                # folder of thousands of files would drown the listing, and what matters for
                # the time points (dates, positions) is reported by the reader and the index.
                pythonWarnings.simplefilter("ignore")
                header = self._readFile(path)
        except _Skip as skip:
            self.folder.skippedFiles.append(SkippedFile(path, str(skip)))
            return
        except Exception as error:  # noqa: BLE001 - one damaged header must not stop a whole folder
            self.folder.skippedFiles.append(SkippedFile(path, f"unreadable DICOM header ({type(error).__name__}: {error})"))
            return
        self.folder.headers.append(header)
        if header.otherObject is not None:
            self.folder.otherObjects.append(header.otherObject)

    def _readFile(self, path):
        dataset, pixelDataOffset, size = _readDataset(path)
        modality = _text(dataset, "Modality")
        sopClassUID = _sopClassUID(dataset)
        kind = _nonImageKind(sopClassUID, modality)
        frames = _integer(dataset, "NumberOfFrames") or 1
        multiFrame = frames > 1 or "PerFrameFunctionalGroupsSequence" in dataset
        position = _numbers(dataset, "ImagePositionPatient", 3)
        orientation = _numbers(dataset, "ImageOrientationPatient", 6)
        reason = f"{kind}: holds no image slices" if kind else ""
        if kind is None:
            # An image storage object always has pixel data; a header that ends without it (or
            # pixel data cut short) is a file damaged in copying, which Slicer could not load.
            hasPixelData = pixelDataOffset < size
            if hasPixelData:
                problem = _pixelDataProblem(dataset, path, pixelDataOffset, size)
                if problem:
                    raise _Skip(problem)
            elif "Image" in _sopClassName(sopClassUID) or "Rows" in dataset:
                raise _Skip("truncated: the file ends before its pixel data")
            if not multiFrame and (position is None or orientation is None):
                kind = _sopClassName(sopClassUID) or "image without position"
                reason = "no ImagePositionPatient/ImageOrientationPatient: not a slice of a volume"
            elif not multiFrame and np.linalg.norm(np.cross(orientation[:3], orientation[3:])) < 0.5:
                kind = _sopClassName(sopClassUID) or "image"
                reason = "ImageOrientationPatient is not two directions: not a slice of a volume"
        header = DicomFileHeader(
            path=path,
            patientId=_text(dataset, "PatientID"),
            patientName=_text(dataset, "PatientName"),
            birthDateText=_text(dataset, "PatientBirthDate"),
            studyInstanceUID=_text(dataset, "StudyInstanceUID"),
            studyDateText=_text(dataset, "StudyDate"),
            studyTimeText=_text(dataset, "StudyTime"),
            accessionNumber=_text(dataset, "AccessionNumber"),
            studyDescription=_text(dataset, "StudyDescription"),
        )
        if kind is not None:
            header.otherObject = OtherObject(
                path=path,
                kind=kind,
                reason=reason,
                sopClassUID=sopClassUID,
                modality=modality,
                description=_text(dataset, "SeriesDescription") or _text(dataset, "ContentLabel"),
                patientId=header.patientId,
                patientName=header.patientName,
                studyInstanceUID=header.studyInstanceUID,
                seriesInstanceUID=_text(dataset, "SeriesInstanceUID"),
                referencedSeriesUIDs=_referencedSeries(dataset),
            )
            return header
        studyKey = header.studyKey
        seriesUid = _text(dataset, "SeriesInstanceUID")
        if seriesUid:
            seriesKey = seriesUid
        else:
            # Anonymisers sometimes blank the UIDs (the TotalSegmentator example does): group such
            # files into stacks that can form one volume, and say so.
            seriesKey = (
                "no SeriesInstanceUID",
                studyKey,
                os.path.dirname(path),
                modality,
                _text(dataset, "SeriesNumber"),
                _text(dataset, "SeriesDescription"),
                _text(dataset, "FrameOfReferenceUID"),
                tuple(np.round(orientation, 3)) if orientation else None,
            )
        if seriesKey not in self.series:
            pixelSpacing = _numbers(dataset, "PixelSpacing", 2)
            series = ImageSeries(
                seriesInstanceUID=seriesUid,
                modality=modality,
                seriesDescription=_text(dataset, "SeriesDescription"),
                seriesNumber=_integer(dataset, "SeriesNumber"),
                studyInstanceUID=header.studyInstanceUID,
                imageOrientation=tuple(orientation) if orientation else None,
                rows=_integer(dataset, "Rows"),
                columns=_integer(dataset, "Columns"),
                pixelSpacing=tuple(pixelSpacing) if pixelSpacing else None,
                sopClassName=_sopClassName(sopClassUID),
            )
            if not seriesUid:
                series.warnings.append(
                    "no SeriesInstanceUID in its files (anonymised?): grouped by folder, series number, description "
                    "and orientation"
                )
            self.series[seriesKey] = (series, [], studyKey)
            self.folder.series.append(series)
        series, slices, seriesStudyKey = self.series[seriesKey]
        header.series = series
        if studyKey != seriesStudyKey:
            appendOnce(series.warnings, f"its files belong to two studies ({series.studyInstanceUID} and {header.studyInstanceUID})")
        if multiFrame:
            self.multiFrameFiles.setdefault(seriesKey, []).append((_integer(dataset, "InstanceNumber"), path, frames))
            return header
        pixelSpacing = _numbers(dataset, "PixelSpacing", 2)
        slices.append(
            _Slice(
                path=path,
                position=slicePosition(dataset, path),
                imagePosition=np.array(position),
                orientation=np.array(orientation),
                rows=_integer(dataset, "Rows"),
                columns=_integer(dataset, "Columns"),
                pixelSpacing=tuple(pixelSpacing) if pixelSpacing else None,
                instanceNumber=_integer(dataset, "InstanceNumber"),
            )
        )
        return header

    def finish(self):
        for seriesKey, (series, slices, _) in self.series.items():
            frameFiles = self.multiFrameFiles.get(seriesKey, [])
            if frameFiles:
                # Frames of enhanced objects carry their positions inside the file; they are
                # counted and noted here, and left to Slicer's DICOM module to order and load.
                series.multiFrame = True
                frameFiles.sort(key=lambda item: (item[0] is None, item[0] or 0, item[1]))
                series.files = [path for _, path, _ in frameFiles] + [item.path for item in slices]
                series.sliceCount = sum(frames for _, _, frames in frameFiles) + len(slices)
                series.warnings.append(
                    f"multi-frame object ({series.sopClassName or 'enhanced image'}, {series.sliceCount} frames in "
                    f"{len(series.files)} file(s)): its frames are not ordered by this index; load it with Slicer's "
                    "DICOM module"
                )
                continue
            # Position decides; instance number and path only keep the order of duplicates stable.
            slices.sort(key=lambda item: (item.position, item.instanceNumber is None, item.instanceNumber or 0, item.path))
            series.files = [item.path for item in slices]
            series.slicePositions = [item.position for item in slices]
            series.sliceCount = len(slices)
            series.sliceSpacing, problems = _checkSliceGeometry(slices)
            series.warnings.extend(problems)
        return self.folder
