import os
import sys

import pytest

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_DATA = os.path.join(os.path.dirname(REPOSITORY), "shared", "data")
MODULE_DIRECTORIES = [os.path.join(REPOSITORY, name) for name in ("ALPPSVolumetry", "ALPPSAssessment")]

# Slicer puts each module folder on sys.path; do the same so the Lib packages import as in
# Slicer even without `pip install -e .`, and so the static-check helper imports.
for path in MODULE_DIRECTORIES + [os.path.dirname(os.path.abspath(__file__))]:
    if path not in sys.path:
        sys.path.insert(0, path)


@pytest.fixture
def slicerContext(tmp_path):
    from alpps.headless import SlicerContext

    context = SlicerContext(workDirectory=str(tmp_path / "slicer"))
    yield context
    context.close()


@pytest.fixture
def sharedData():
    """Folder of the real image data (../shared/data); tests using it skip when it is absent."""
    if not os.path.isdir(SHARED_DATA):
        pytest.skip(f"real test data not available at {SHARED_DATA} (it is not part of the project)")
    return SHARED_DATA
