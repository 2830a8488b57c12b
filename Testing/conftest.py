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


# --- Line coverage of the two module files (the panels), printed at the end of every run ---
PANEL_MODULE_FILES = [os.path.join(REPOSITORY, name, name + ".py") for name in ("ALPPSVolumetry", "ALPPSAssessment")]
# Lines only a real Slicer can run (its web widget's PDF printing, its views, its DICOM exporter):
# the figure below counts them as not run; README, "What the panel harness proves", lists them.
_panelCoverage = None


def pytest_configure(config):
    global _panelCoverage
    try:
        import coverage
    except ImportError:  # coverage is a test extra; without it the figure is not printed
        return
    _panelCoverage = coverage.Coverage(data_file=None, include=PANEL_MODULE_FILES)
    _panelCoverage.set_option("run:disable_warnings", ["no-data-collected"])
    _panelCoverage.start()


def panelCoverage():
    """{file name: (lines run, lines, missing line ranges)} so far, or {} without coverage."""
    if _panelCoverage is None:
        return {}
    figures = {}
    for path in PANEL_MODULE_FILES:
        _, statements, _, missing, missingText = _panelCoverage.analysis2(path)
        figures[os.path.basename(path)] = (len(statements) - len(missing), len(statements), missingText)
    return figures


def pytest_terminal_summary(terminalreporter):
    if _panelCoverage is None:
        return
    _panelCoverage.stop()
    if not _panelCoverage.get_data().measured_files():
        terminalreporter.write_line("Panel line coverage: not measured (no test ran the module files)")
        return
    for name, (run, total, missing) in panelCoverage().items():
        terminalreporter.write_line(f"Panel line coverage: {name} {100.0 * run / total:.1f} % ({run} of {total} lines); not run: {missing or 'none'}")
