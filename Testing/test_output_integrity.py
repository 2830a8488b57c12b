"""A segmentation written on a full disk is never left behind cut short: the report reads every
written .seg.nrrd back completely and refuses (naming the file) when it is not whole."""

import os
import resource
import signal
import subprocess
import sys

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_WRITER = """
import sys
sys.path[:0] = [{modules!r}]
import numpy as np
from alpps.headless import SlicerContext
from ALPPSVolumetryLib.segments import segmentationImport
from ALPPSAssessmentLib.report import reportExport
rng = np.random.default_rng(5)
labels = rng.integers(0, 4, size=(60, 64, 64)).astype(np.int16)  # compresses poorly: far above the file size limit
with SlicerContext() as context:
    node = context.scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Noise")
    segmentationImport.importLabelArray(node, labels, np.diag([1.0, 1.0, 1.0, 1.0]), {{1: "A", 2: "B", 3: "C"}})
    try:
        reportExport.writeSegmentation(node, {path!r})
    except IOError as error:
        print("REFUSED", error)
        sys.exit(2)
print("WRITTEN")
"""


def test_segmentationCutByAFullDiskIsRefusedAndRemoved(tmp_path):
    path = str(tmp_path / "noise.seg.nrrd")
    modules = [os.path.join(REPOSITORY, "ALPPSVolumetry"), os.path.join(REPOSITORY, "ALPPSAssessment"), REPOSITORY]
    script = _WRITER.format(modules=modules, path=path)

    def fullDisk():
        # Writes beyond 40 kB fail with EFBIG, as writes fail on a full disk (the signal would kill the process).
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, 40_000))

    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, preexec_fn=fullDisk, cwd=str(tmp_path),
                               env=dict(os.environ, TMPDIR=str(tmp_path)))
    assert completed.returncode == 2, (completed.returncode, completed.stdout[-2000:], completed.stderr[-2000:])
    assert "REFUSED" in completed.stdout and "noise.seg.nrrd" in completed.stdout
    assert not os.path.exists(path)
    whole = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=str(tmp_path), env=dict(os.environ, TMPDIR=str(tmp_path)))
    assert whole.returncode == 0 and "WRITTEN" in whole.stdout, whole.stderr[-2000:]
    assert os.path.getsize(path) > 40_000
