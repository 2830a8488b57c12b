"""Slicer scene bundles (.mrb) opened safely: every zip entry checked before anything is written.

A scene bundle is a zip file. Slicer's own unpacking trusts the entry names, so a bundle made
by hand (or damaged) could write outside its folder ('../x', '/abs/x', links) or fill the disk.
Here the whole listing is checked first, the entries are then unpacked only into a fresh
folder, and the scene file's references to data files must stay inside that folder.
"""

import os
import re
import shutil
import stat
import tempfile
import zipfile

# A scene saved by Slicer holds a few files per node; tens of thousands of entries mean a bundle
# that is not a scene (or one made to exhaust the file system).
MAXIMUM_ENTRY_COUNT = 20000
# Larger than the scans of any ALPPS course (a 512x512x1000 CT at 2 bytes is 0.5 GB per scan).
MAXIMUM_UNPACKED_BYTES = 16 * 1024**3
# Compressed image data rarely shrinks more than ~50 times; far higher ratios are zip bombs.
MAXIMUM_COMPRESSION_RATIO = 1000

_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")
_FILE_REFERENCE = re.compile(r'\b(?:fileName|fileListMember\d*)="([^"]*)"')


def _entryProblem(info):
    name = info.filename
    if not name or "\x00" in name:
        return "has an empty or invalid name"
    if "\\" in name:
        return "uses backslashes (a Windows path)"
    if name.startswith("/") or _WINDOWS_DRIVE.match(name):
        return "is an absolute path"
    if ".." in name.split("/"):
        return "climbs out of the bundle ('..')"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "is a symbolic link"
    # Some zip tools store permissions without the file type: only a stated other type is refused.
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
        return "is neither a file nor a folder"
    if info.flag_bits & 0x1:
        return "is encrypted"
    if info.file_size and info.compress_size and info.file_size > MAXIMUM_COMPRESSION_RATIO * info.compress_size:
        return f"expands {info.file_size // info.compress_size} times (a zip bomb?)"
    return None


def checkedEntries(path):
    """The zip entries of the scene bundle ``path``, refused (ValueError naming the bundle and the
    entry) when any could write outside its folder or the whole is implausibly large."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"Scene bundle '{path}' does not exist: expected a .mrb file")
    if os.path.isdir(path):
        raise ValueError(f"Scene bundle '{path}' is a folder: expected a .mrb file")
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise ValueError(f"Scene bundle '{path}' is not a readable zip file ({error}): expected a .mrb saved by Slicer") from None
    if not entries:
        raise ValueError(f"Scene bundle '{path}' is empty: expected a .mrb saved by Slicer")
    if len(entries) > MAXIMUM_ENTRY_COUNT:
        raise ValueError(f"Scene bundle '{path}' has {len(entries)} entries: expected at most {MAXIMUM_ENTRY_COUNT}")
    seen = set()
    total = 0
    for info in entries:
        problem = _entryProblem(info)
        if problem:
            raise ValueError(f"Scene bundle '{path}': entry '{info.filename}' {problem}; nothing was unpacked")
        key = info.filename.rstrip("/").lower()
        if key in seen:
            raise ValueError(f"Scene bundle '{path}': entry '{info.filename}' appears twice; nothing was unpacked")
        seen.add(key)
        total += info.file_size
    if total > MAXIMUM_UNPACKED_BYTES:
        raise ValueError(
            f"Scene bundle '{path}' would unpack to {total / 1024**3:.1f} GB: expected at most {MAXIMUM_UNPACKED_BYTES // 1024**3} GB"
        )
    return entries


def _sceneFile(folder, bundlePath):
    """The one .mrml of an unpacked bundle (Slicer puts it at the top or in one sub-folder)."""
    found = []
    for directory in [folder] + sorted(os.path.join(folder, name) for name in os.listdir(folder)):
        if os.path.isdir(directory):
            found.extend(os.path.join(directory, name) for name in sorted(os.listdir(directory)) if name.lower().endswith(".mrml"))
    if len(found) != 1:
        raise ValueError(
            f"Scene bundle '{bundlePath}' holds {len(found)} scene files (.mrml) at its top: expected exactly one"
        )
    return found[0]


def _checkFileReferences(sceneFile, folder, bundlePath):
    """Data files named by the scene must lie inside the unpacked bundle, so that a bundle cannot
    make the reader open files elsewhere on the computer."""
    with open(sceneFile, encoding="utf-8", errors="replace") as stream:
        text = stream.read()
    base = os.path.dirname(sceneFile)
    root = os.path.realpath(folder)
    for reference in _FILE_REFERENCE.findall(text):
        if not reference:
            continue
        if reference.startswith("/") or _WINDOWS_DRIVE.match(reference) or "\\" in reference:
            raise ValueError(f"Scene bundle '{bundlePath}': the scene refers to '{reference}' outside the bundle")
        target = os.path.realpath(os.path.join(base, reference.replace("%20", " ")))
        if os.path.commonpath([root, target]) != root:
            raise ValueError(f"Scene bundle '{bundlePath}': the scene refers to '{reference}' outside the bundle")


def _checkDataFiles(folder, bundlePath):
    """Every image file of the bundle read completely before Slicer's readers see it (a truncated
    .seg.nrrd inside a bundle would otherwise abort the process)."""
    from .imageFileChecks import checkImageFile, imageFileFormat

    for root, _, names in os.walk(folder):
        for name in sorted(names):
            path = os.path.join(root, name)
            if imageFileFormat(path) in (None, "DICOM"):
                continue
            try:
                isSegmentation = name.lower().endswith(".seg.nrrd")
                # Scalar maps saved by ALPPS itself mark undefined voxels NaN: only segmentations must be finite.
                # Slicer stores a volume sequence (e.g. a dynamic planar series) as one NRRD with a value
                # per frame and voxel.
                checkImageFile(path, "Data file", labelmap=isSegmentation, finiteRequired=isSegmentation,
                               multipleValues=name.lower().endswith(".seq.nrrd"))
            except ValueError as error:
                entry = os.path.relpath(path, folder).replace(os.sep, "/")
                message = str(error).replace(path, entry)
                raise ValueError(f"Scene bundle '{bundlePath}': {message}") from None


def _unpack(path, entries, folder):
    with zipfile.ZipFile(path) as archive:
        for info in entries:
            target = os.path.join(folder, *info.filename.rstrip("/").split("/"))
            if info.is_dir():
                os.makedirs(target, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            # zipfile stops at the size the entry declares and checks its CRC, so the listing's
            # total bounds what is written.
            with archive.open(info) as source, open(target, "xb") as destination:
                shutil.copyfileobj(source, destination, 1 << 20)


class UnpackedSceneBundle:
    """``with UnpackedSceneBundle(path, parent) as sceneFile:`` unpacks the checked bundle into a
    fresh folder under ``parent`` and yields its .mrml; the folder is removed on leaving, also
    when reading fails."""

    def __init__(self, path, parent=None):
        self.path = os.path.abspath(path)
        self.parent = parent
        self.folder = None

    def __enter__(self):
        entries = checkedEntries(self.path)
        self.folder = tempfile.mkdtemp(prefix="alpps-bundle-", dir=self.parent)
        try:
            try:
                _unpack(self.path, entries, self.folder)
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError) as error:
                raise ValueError(f"Scene bundle '{self.path}' cannot be unpacked ({error}): expected a .mrb saved by Slicer") from None
            sceneFile = _sceneFile(self.folder, self.path)
            _checkFileReferences(sceneFile, self.folder, self.path)
            _checkDataFiles(self.folder, self.path)
            return sceneFile
        except BaseException:
            self.__exit__()
            raise

    def __exit__(self, *excinfo):
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
