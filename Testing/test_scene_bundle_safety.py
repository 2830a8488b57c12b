"""Scene bundles (.mrb) are checked entry by entry before anything is unpacked, unpacked only
into a fresh folder that is removed afterwards, and never change the working directory."""

import os
import stat
import zipfile

import pytest
import vtk
from ALPPSVolumetryLib.inputs import sceneBundles

from alpps.headless import SlicerContext


def _tree(folder):
    found = set()
    for root, directories, names in os.walk(folder):
        found.update(os.path.join(root, name) for name in directories + names)
    return found


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """A working directory, a context work folder and a valid bundle; every path created during
    the test outside the context's work folder is reported by ``sandbox.writtenOutside()``."""
    work = tmp_path / "cwd" / "deeper" / "deepest"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    context = SlicerContext(workDirectory=str(tmp_path / "slicer"))
    table = context.scene.AddNewNodeByClass("vtkMRMLTableNode", "Kept table")
    column = vtk.vtkDoubleArray()
    column.SetName("Volume")
    column.InsertNextValue(123.5)
    table.AddColumn(column)
    valid = context.saveSceneBundle(str(tmp_path / "valid.mrb"))
    context.scene.Clear(False)

    class Sandbox:
        root = tmp_path
        bundle = valid
        slicer = context

        def __init__(self):
            self.before = _tree(str(tmp_path))

        def writtenOutside(self):
            work = str(tmp_path / "slicer")
            return sorted(path for path in _tree(str(tmp_path)) - self.before
                          if not path.startswith(work) and not path.endswith(".mrb"))

        def unpackedLeft(self):
            return os.listdir(os.path.join(str(tmp_path / "slicer"), "bundles")) if os.path.isdir(os.path.join(str(tmp_path / "slicer"), "bundles")) else []

    box = Sandbox()
    yield box
    context.close()


def _copyWith(source, target, extra=(), keep=True):
    """A copy of bundle ``source`` with extra entries [(ZipInfo or name, bytes)]."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
        if keep:
            for info in original.infolist():
                copy.writestr(info, original.read(info))
        for name, data in extra:
            copy.writestr(name, data)
    return str(target)


def _link(name, target):
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target


def test_validBundleLoadsAndLeavesNothingBehind(sandbox):
    cwd = os.getcwd()
    sandbox.slicer.loadSceneBundle(os.path.relpath(sandbox.bundle))
    assert sandbox.slicer.scene.GetFirstNodeByName("Kept table").GetTable().GetColumnByName("Volume").GetValue(0) == 123.5
    assert os.getcwd() == cwd
    assert sandbox.unpackedLeft() == []
    assert sandbox.writtenOutside() == []


BAD_ENTRIES = [
    ("parent", "../escaped.txt", b"x", "climbs out"),
    ("grandparent", "../../escaped.txt", b"x", "climbs out"),
    ("inner parent", "scene/Data/../../../escaped.txt", b"x", "climbs out"),
    ("absolute", "/tmp/alpps-escaped-absolute.txt", b"x", "absolute path"),
    ("windows drive", "C:/escaped.txt", b"x", "absolute path"),
    ("backslashes", "..\\..\\escaped.txt", b"x", "backslashes"),
]


@pytest.mark.parametrize("case, name, data, expected", BAD_ENTRIES, ids=[case[0] for case in BAD_ENTRIES])
@pytest.mark.parametrize("keep", [True, False], ids=["beside a scene", "alone"])
def test_entriesThatWouldWriteOutsideAreRefusedBeforeUnpacking(sandbox, case, name, data, expected, keep):
    bad = _copyWith(sandbox.bundle, sandbox.root / "bad.mrb", [(zipfile.ZipInfo(name), data)], keep=keep)
    with pytest.raises(ValueError, match=expected) as refusal:
        sandbox.slicer.loadSceneBundle(bad)
    assert "nothing was unpacked" in str(refusal.value) and "bad.mrb" in str(refusal.value)
    assert sandbox.writtenOutside() == []
    assert sandbox.unpackedLeft() == []
    assert not os.path.exists("/tmp/alpps-escaped-absolute.txt")


def test_linksEncryptionDuplicatesAndBombsAreRefused(sandbox):
    cases = {
        "symbolic link": [_link("scene/Data/link", "/etc/passwd")],
        "appears twice": [(zipfile.ZipInfo("scene/twice.txt"), b"a"), (zipfile.ZipInfo("scene/TWICE.txt"), b"b")],
        "a zip bomb": [(zipfile.ZipInfo("scene/bomb.raw", ), b"\0" * (3 << 20))],
    }
    for expected, extra in cases.items():
        path = sandbox.root / f"{expected.replace(' ', '-')}.mrb"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for info, data in extra:
                if isinstance(info, zipfile.ZipInfo):
                    info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data)
        with pytest.raises(ValueError, match=expected):
            sandbox.slicer.loadSceneBundle(str(path))
    assert sandbox.writtenOutside() == []
    assert sandbox.unpackedLeft() == []


def test_entryCountAndTotalSizeAreBounded(sandbox, monkeypatch):
    monkeypatch.setattr(sceneBundles, "MAXIMUM_ENTRY_COUNT", 5)
    many = _copyWith(sandbox.bundle, sandbox.root / "many.mrb", [(f"scene/n{index}.txt", b"x") for index in range(10)])
    with pytest.raises(ValueError, match=r"entries: expected at most 5"):
        sandbox.slicer.loadSceneBundle(many)
    monkeypatch.setattr(sceneBundles, "MAXIMUM_ENTRY_COUNT", 20000)
    monkeypatch.setattr(sceneBundles, "MAXIMUM_UNPACKED_BYTES", 1000)
    with pytest.raises(ValueError, match="would unpack to"):
        sandbox.slicer.loadSceneBundle(sandbox.bundle)
    assert sandbox.writtenOutside() == [] and sandbox.unpackedLeft() == []


def test_sceneFileReferencesOutsideTheBundleAreRefusedAndTheFolderRemoved(sandbox):
    with zipfile.ZipFile(sandbox.bundle) as original:
        sceneName = next(name for name in original.namelist() if name.endswith(".mrml"))
        text = original.read(sceneName).decode()
    for reference in ("/etc/passwd", "../../outside.nrrd"):
        changed = text.replace('fileName="', f'fileName="{reference}" unused="', 1)
        assert changed != text
        path = sandbox.root / "reference.mrb"
        with zipfile.ZipFile(sandbox.bundle) as original, zipfile.ZipFile(path, "w") as copy:
            for info in original.infolist():
                copy.writestr(info, changed if info.filename == sceneName else original.read(info))
        with pytest.raises(ValueError, match="outside the bundle"):
            sandbox.slicer.loadSceneBundle(str(path))
        assert sandbox.unpackedLeft() == []
    assert sandbox.writtenOutside() == []


def test_notABundleIsNamed(sandbox):
    (sandbox.root / "empty.mrb").write_bytes(b"")
    (sandbox.root / "text.mrb").write_text("not a zip")
    (sandbox.root / "folder.mrb").mkdir()
    (sandbox.root / "truncated.mrb").write_bytes(open(sandbox.bundle, "rb").read()[:400])
    expectations = {"empty.mrb": "not a readable zip", "text.mrb": "not a readable zip", "folder.mrb": "is a folder",
                    "truncated.mrb": "not a readable zip"}
    for name, expected in expectations.items():
        with pytest.raises(ValueError, match=expected):
            sandbox.slicer.loadSceneBundle(str(sandbox.root / name))
    noScene = _copyWith(sandbox.bundle, sandbox.root / "noscene.mrb", [("scene/readme.txt", b"x")], keep=False)
    with pytest.raises(ValueError, match="0 scene files"):
        sandbox.slicer.loadSceneBundle(noScene)
    two = sandbox.root / "two.mrb"
    with zipfile.ZipFile(sandbox.bundle) as original, zipfile.ZipFile(two, "w") as copy:
        for info in original.infolist():
            copy.writestr(info, original.read(info))
            if info.filename.endswith(".mrml"):
                copy.writestr(info.filename[:-5] + "-copy.mrml", original.read(info))
    with pytest.raises(ValueError, match="2 scene files"):
        sandbox.slicer.loadSceneBundle(str(two))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        sandbox.slicer.loadSceneBundle(str(sandbox.root / "nowhere.mrb"))
    assert sandbox.writtenOutside() == [] and sandbox.unpackedLeft() == []


def test_bundleDataFilesAreReadCompletelyYetMapsMayHoldUndefinedVoxels(sandbox):
    """A relative-enhancement map saved by ALPPS marks undefined voxels NaN: the bundle still
    opens; a segmentation cut short inside the bundle is refused, naming its entry."""
    import numpy as np
    from ALPPSVolumetryLib.segments import segmentationImport

    scene = sandbox.slicer.scene
    voxels = np.linspace(-0.5, 2.0, 4 * 5 * 6, dtype=np.float32).reshape(4, 5, 6)
    voxels[0, 0, :3] = np.nan
    segmentationImport.addVolumeFromArray(scene, "RLE map", voxels, np.diag([2.0, 2.0, 3.0, 1.0]))
    segmentationNode = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Phantom")
    labels = np.zeros((4, 5, 6), dtype=np.uint8)
    labels[1:3, 1:4, 2:5] = 1
    segmentationImport.importLabelArray(segmentationNode, labels, np.diag([2.0, 2.0, 3.0, 1.0]), {1: "Liver"})
    bundle = sandbox.slicer.saveSceneBundle(str(sandbox.root / "maps.mrb"))
    scene.Clear(False)
    sandbox.slicer.loadSceneBundle(bundle)
    from slicer.util import arrayFromVolume

    reloaded = arrayFromVolume(scene.GetFirstNodeByName("RLE map"))
    assert np.isnan(reloaded[0, 0, :3]).all() and np.array_equal(reloaded[1:], voxels[1:])
    with zipfile.ZipFile(bundle) as original:
        entry = next(name for name in original.namelist() if name.endswith(".seg.nrrd"))
        cut = sandbox.root / "cut.mrb"
        with zipfile.ZipFile(cut, "w") as copy:
            for info in original.infolist():
                data = original.read(info)
                copy.writestr(info, data[: len(data) // 2] if info.filename == entry else data)
    with pytest.raises(ValueError, match=r"cut.mrb': .*\.seg\.nrrd' (is truncated|ends after)"):
        sandbox.slicer.loadSceneBundle(str(cut))
    assert sandbox.unpackedLeft() == [] and sandbox.writtenOutside() == []
