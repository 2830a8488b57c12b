"""Issue 19, items 5 and 6: the DICOM load keeps only the volumes still in the scene, and Reload
walks each Lib package and reloads every imported submodule after those it imports."""

import os
import sys

import pytest
from ALPPSAssessmentLib import loadedNodes
from ALPPSVolumetryLib import libraryReload

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_loadedNodesRemovedWhileLoadingAreSkipped(slicerContext):
    scene = slicerContext.scene
    first = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "series")
    removed = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "temporary")
    table = scene.AddNewNodeByClass("vtkMRMLTableNode", "tags")
    ids = [removed.GetID(), table.GetID(), first.GetID()]
    scene.RemoveNode(removed)
    assert loadedNodes.scalarVolumesAmong(scene, ids) == [first]
    assert loadedNodes.scalarVolumesAmong(scene, []) == []


def _modulesOnDisk(folder, package):
    """{module name: file} of every .py under the package folder (sub-packages included)."""
    found = {}
    for root, directories, names in os.walk(folder):
        directories[:] = [name for name in directories if name != "__pycache__"]
        prefix = ".".join([package] + os.path.relpath(root, folder).split(os.sep)) if root != folder else package
        for name in names:
            if name.endswith(".py") and not (root == folder and name == "__init__.py"):
                found[prefix if name == "__init__.py" else f"{prefix}.{name[:-3]}"] = os.path.join(root, name)
    return found


@pytest.mark.parametrize("package", ["ALPPSVolumetryLib", "ALPPSAssessmentLib"])
def test_reloadOrderCoversEveryFileAfterItsImports(package):
    order = libraryReload.reloadOrder(package)
    folder = os.path.join(REPOSITORY, package[: -len("Lib")], package)
    files = _modulesOnDisk(folder, package)
    assert sorted(order) == sorted(files)
    position = {name: index for index, name in enumerate(order)}
    # Checked against the imports as written, read here independently of the module's parser:
    # `from .x import` of a sibling file, `from <package>.x import`.
    for name, path in files.items():
        with open(path, encoding="utf-8") as stream:
            source = stream.read()
        siblings = name.rsplit(".", 1)[0] if not path.endswith("__init__.py") else name
        for other in files:
            if other.rsplit(".", 1)[0] == siblings and f"from .{other.rsplit('.', 1)[1]} import" in source or f"from {other} import" in source:
                if other != name:
                    assert position[other] < position[name], f"{name} is reloaded before {other}, which it imports"
    if package == "ALPPSVolumetryLib":
        assert position["ALPPSVolumetryLib.planning.planDisplay"] < position["ALPPSVolumetryLib.sparing.sparingDisplay"]
        assert "ALPPSVolumetryLib.imageGrid" in position and "ALPPSVolumetryLib.results.quantityDefinition" in position


_RELOAD_CHECK = """
import importlib, sys
sys.path[:0] = [{paths}]
for name in ("sparing.sparingDisplay", "results.quantityDefinition", "imageGrid"):
    importlib.import_module("ALPPSVolumetryLib." + name)
from ALPPSVolumetryLib import libraryReload
reloaded = libraryReload.reloadPackages("ALPPSVolumetryLib")
assert "ALPPSVolumetryLib.imageGrid" in reloaded and "ALPPSVolumetryLib.results.quantityDefinition" in reloaded, reloaded
planDisplay = sys.modules["ALPPSVolumetryLib.planning.planDisplay"]
sparingDisplay = sys.modules["ALPPSVolumetryLib.sparing.sparingDisplay"]
# sparing.sparingDisplay took a value from planDisplay (outside its sub-package) at import: it is the reloaded one's.
assert sparingDisplay.AREA_COLOR is planDisplay.RESECTED_COLOR
# The Assessment package with its sub-package, as ALPPSAssessment's Reload does it.
importlib.import_module("ALPPSAssessmentLib.dicom.resultsExport")
both = libraryReload.reloadPackages("ALPPSVolumetryLib", "ALPPSAssessmentLib")
assert "ALPPSAssessmentLib.dicom.resultsExport" in both, both
assert both.index("ALPPSAssessmentLib.report.patientReport") < both.index("ALPPSAssessmentLib.dicom.resultsExport")
print("reloaded", len(reloaded))
"""


def test_reloadTakesValuesFromReloadedModules():
    """Run in a fresh interpreter: reloading here would leave this test session with two
    generations of the Lib classes."""
    import subprocess

    paths = ", ".join(repr(os.path.join(REPOSITORY, name)) for name in ("ALPPSVolumetry", "ALPPSAssessment"))
    completed = subprocess.run([sys.executable, "-c", _RELOAD_CHECK.format(paths=paths)], capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    assert int(completed.stdout.split()[-1]) >= 15
