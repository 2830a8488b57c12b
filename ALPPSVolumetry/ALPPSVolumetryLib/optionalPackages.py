"""Python packages ALPPS uses that Slicer does not bundle (highdicom, pynetdicom for DICOM
results and PACS): imported lazily and, inside Slicer, installed after asking the user, as
Slicer extensions do. The headless distribution pins the same versions (pyproject.toml)."""

import importlib

PINNED_PACKAGES = {"highdicom": "highdicom==0.28.2", "pynetdicom": "pynetdicom==3.0.4"}
# Both need Python 3.10 and pydicom 3: installing them into an older Slicer would replace the
# pydicom its DICOM module was built with, so there they are refused instead.
MINIMUM_PYTHON = (3, 10)
MINIMUM_PYDICOM_MAJOR = 3


def _insideSlicerApplication():
    try:
        import slicer

        return bool(getattr(slicer, "app", None)) and not slicer.app.commandOptions().noMainWindow
    except (ImportError, AttributeError):
        return False


def requirePackage(name):
    """The module ``name``; inside Slicer installed after the user agrees, outside Slicer a
    ValueError naming the pip requirement."""
    try:
        return importlib.import_module(name)
    except ImportError:
        pass
    requirement = PINNED_PACKAGES[name]
    if not _insideSlicerApplication():
        raise ValueError(f"The Python package {name} is needed for DICOM results and is not installed: pip install '{requirement}'")
    import sys

    import pydicom
    import slicer.util

    if sys.version_info[:2] < MINIMUM_PYTHON or int(pydicom.__version__.split(".")[0]) < MINIMUM_PYDICOM_MAJOR:
        raise ValueError(
            f"{requirement} needs Python 3.10 and pydicom 3; this Slicer has Python {sys.version_info[0]}.{sys.version_info[1]} and "
            f"pydicom {pydicom.__version__}: write DICOM results with the alpps command, or use Export DICOM SEG"
        )
    if not slicer.util.confirmOkCancelDisplay(
        f"Reading and writing DICOM results needs the Python package {requirement}. Install it now?", "ALPPS: install a package"
    ):
        raise ValueError(f"{name} was not installed: DICOM results need it ({requirement})")
    slicer.util.pip_install(requirement)
    return importlib.import_module(name)
