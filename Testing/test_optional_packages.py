"""highdicom and pynetdicom inside Slicer: imported lazily, installed only after the user agrees,
refused where installing them would replace the pydicom an older Slicer was built with."""

import importlib

import pytest
import slicer.util

from ALPPSVolumetryLib import optionalPackages


@pytest.fixture
def highdicomMissing(monkeypatch):
    realImport = importlib.import_module
    installed = []

    def importModule(name, *args):
        if name == "highdicom" and not installed:
            raise ImportError(name)
        return realImport(name, *args)

    monkeypatch.setattr(optionalPackages.importlib, "import_module", importModule)
    monkeypatch.setattr(slicer.util, "pip_install", lambda requirement: installed.append(requirement), raising=False)
    return installed


def test_outsideSlicerAMissingPackageIsNamedWithItsPin(highdicomMissing, monkeypatch):
    monkeypatch.setattr(optionalPackages, "_insideSlicerApplication", lambda: False)
    with pytest.raises(ValueError, match=r"pip install 'highdicom==0\.28\.2'"):
        optionalPackages.requirePackage("highdicom")
    assert highdicomMissing == []


def test_insideSlicerItIsInstalledOnlyAfterTheUserAgrees(highdicomMissing, monkeypatch):
    monkeypatch.setattr(optionalPackages, "_insideSlicerApplication", lambda: True)
    answers = []
    monkeypatch.setattr(slicer.util, "confirmOkCancelDisplay", lambda text, title=None: answers.append(text) or False, raising=False)
    with pytest.raises(ValueError, match="highdicom was not installed"):
        optionalPackages.requirePackage("highdicom")
    assert highdicomMissing == [] and "highdicom==0.28.2" in answers[0]
    monkeypatch.setattr(slicer.util, "confirmOkCancelDisplay", lambda text, title=None: True, raising=False)
    assert optionalPackages.requirePackage("highdicom").__name__ == "highdicom"
    assert highdicomMissing == ["highdicom==0.28.2"]


def test_anOlderSlicerIsNotGivenANewPydicom(highdicomMissing, monkeypatch):
    import pydicom

    monkeypatch.setattr(optionalPackages, "_insideSlicerApplication", lambda: True)
    monkeypatch.setattr(pydicom, "__version__", "2.4.4")
    monkeypatch.setattr(slicer.util, "confirmOkCancelDisplay", lambda text, title=None: pytest.fail("must not ask"), raising=False)
    with pytest.raises(ValueError, match="needs Python 3.10 and pydicom 3.*pydicom 2.4.4"):
        optionalPackages.requirePackage("highdicom")
    assert highdicomMissing == []
