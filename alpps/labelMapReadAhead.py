"""The batch command's label map, checked and decoded while Slicer's libraries load.

Loading slicer-core's libraries takes the batch command as long as decoding a large label map
does, and neither needs the other. On Linux the file is checked and decoded by a forked helper
process, into memory both processes share (an anonymous memory file), so that the two truly run
side by side; the helper sends back the check's summary and where the voxels are. Elsewhere, or
if this process already runs threads (forking those is unsafe), a thread decodes instead: zlib
lets go of the interpreter lock while it inflates, loading libraries mostly does not, so the
thread gains less.

Nothing here decides anything: the summary is imageFileChecks' own, with the same refusals.
"""

import os
import sys

# How the last read was made, for the tests: "helper process", "thread" or "not a label map".
lastWay = None


def readLabelMapWhileSlicerLoads(path):
    """The checked label map (imageFileChecks' summary with its voxels) of ``path``, read while
    ``import slicer`` runs; None for a .seg.nrrd, a DICOM SEG or a folder, which Slicer reads
    itself. Refusals are the file check's (ValueError naming the file)."""
    global lastWay
    lastWay = "helper process" if _canFork() else "thread"
    if lastWay == "helper process":
        helper = _HelperProcessRead(path)
        try:
            import slicer  # noqa: F401 - the point: loaded while the helper decodes
        except BaseException:
            helper.abandon()
            raise
        summary = helper.result()
    else:
        summary = _threadRead(path)
    if summary is None:
        lastWay = "not a label map"
    return summary


def _checkedLabelMap(path, voxelMemory=None):
    from ALPPSVolumetryLib.inputs.imageFileChecks import checkImageFile, isLabelMapFile
    from ALPPSVolumetryLib.inputs.inputChecks import checkedInputFile

    checkedInputFile(path, "Segmentation file")
    if not isLabelMapFile(path):
        return None
    if voxelMemory is None:
        return checkImageFile(path, "Label map", labelmap=True, keepVoxels=True)
    return checkImageFile(path, "Label map", labelmap=True, keepVoxels=True, voxelMemory=voxelMemory)


def _threadCount():
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return None


def _canFork():
    return (sys.platform.startswith("linux") and hasattr(os, "memfd_create") and hasattr(os, "fork")
            and _threadCount() == 1 and "slicer" not in sys.modules)


def _threadRead(path):
    import importlib
    import threading

    loader = threading.Thread(target=importlib.import_module, args=("slicer",), daemon=True)
    loader.start()
    try:
        return _checkedLabelMap(path)
    finally:
        loader.join()


class _SharedVoxelMemory:
    """Arrays in an anonymous memory file that the forked helper writes and this process maps
    afterwards: each array at its own page-aligned place in the file."""

    def __init__(self, fileDescriptor):
        self.fileDescriptor = fileDescriptor
        self.places = []  # (offset, mapping, array)

    def __call__(self, count, dtype):
        import mmap

        import numpy as np

        dtype = np.dtype(dtype)
        offset = sum(-(-mapping.size() // mmap.PAGESIZE) * mmap.PAGESIZE for _, mapping, _ in self.places)
        nbytes = max(count * dtype.itemsize, 1)
        os.ftruncate(self.fileDescriptor, offset + nbytes)
        mapping = mmap.mmap(self.fileDescriptor, nbytes, offset=offset)
        array = np.frombuffer(mapping, dtype=dtype, count=count)
        self.places.append((offset, mapping, array))
        return array

    def placeOf(self, voxels):
        """(offset in the file, dtype, shape) of ``voxels``, a view of one of the arrays; the
        memory of the others (narrower arrays the labels outgrew) is given back."""
        import mmap

        import numpy as np

        found = None
        for offset, mapping, array in self.places:
            if voxels.size and np.shares_memory(voxels, array):
                found = (offset + voxels.ctypes.data - array.ctypes.data, voxels.dtype.str, voxels.shape)
            else:
                mapping.madvise(mmap.MADV_REMOVE)
        if found is None:  # no labelled slice: nothing to share
            found = (None, voxels.dtype.str, voxels.shape)
        return found


class _HelperProcessRead:
    def __init__(self, path):
        self.path = path
        self.memory = os.memfd_create("alpps-label-map")
        self.reading, writing = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(self.reading)
            _helperMain(path, self.memory, writing)  # never returns
        os.close(writing)

    def result(self):
        import pickle

        with os.fdopen(self.reading, "rb") as stream:
            message = stream.read()
        _, status = os.waitpid(self.pid, 0)
        try:
            if os.waitstatus_to_exitcode(status) != 0 or not message:
                # The helper died (out of memory, a signal): read here, as without it.
                return _checkedLabelMap(self.path)
            kind, payload = pickle.loads(message)
            if kind == "refused":
                raise payload
            if kind == "failed":
                raise RuntimeError(f"reading '{self.path}' failed in the helper process:\n{payload}")
            if payload is None:
                return None
            summary, (offset, dtype, shape) = payload
            summary.voxels = self._mappedVoxels(offset, dtype, shape)
            return summary
        finally:
            os.close(self.memory)

    def abandon(self):
        import signal

        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.reading)
        os.close(self.memory)

    def _mappedVoxels(self, offset, dtype, shape):
        import mmap

        import numpy as np

        dtype = np.dtype(dtype)
        count = int(np.prod(shape))
        if offset is None or count == 0:
            return np.zeros(shape, dtype=dtype)
        start = offset - offset % mmap.PAGESIZE
        mapped = mmap.mmap(self.memory, offset - start + count * dtype.itemsize, offset=start)
        return np.frombuffer(mapped, dtype=dtype, count=count, offset=offset - start).reshape(shape)


def _helperMain(path, memory, writing):
    """The forked helper: check and decode, send (kind, payload) pickled, exit without running
    anything of the parent's (no atexit, no flushing of its buffers)."""
    status = 0
    try:
        import pickle

        try:
            voxelMemory = _SharedVoxelMemory(memory)
            summary = _checkedLabelMap(path, voxelMemory)
            if summary is None:
                message = ("summary", None)
            else:
                place = voxelMemory.placeOf(summary.voxels)
                summary.voxels = None
                message = ("summary", (summary, place))
        except (ValueError, OSError) as refusal:
            message = ("refused", refusal)
        except BaseException:  # noqa: BLE001 - sent to the parent, which reports it
            import traceback

            message = ("failed", traceback.format_exc())
        try:
            data = pickle.dumps(message)
        except Exception:  # noqa: BLE001 - an exception that cannot be pickled: its text
            data = pickle.dumps(("failed", repr(message[1])))
        with os.fdopen(writing, "wb") as stream:
            stream.write(data)
    except BaseException:  # noqa: BLE001 - the parent reads the file itself
        status = 1
    finally:
        os._exit(status)
