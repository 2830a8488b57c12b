"""`alpps benchmark`: every speed and memory figure of the project, each beside the reference
approach measured in the same run:
- volumetry: full volumetry with every preset plan on a large segmentation, against the
  per-segment export-and-count that Slicer's Segment Statistics does;
- end-to-end: the `alpps volumetry` process on a label map file, against a process that only
  reads the file and counts its labels;
- registration: a SPECT-like image registered to a large CT, with its known misalignment;
- sparing: the parenchyma-sparing analysis on a large segmentation, against a naive distance search."""

import time
import tracemalloc

import numpy as np
import SimpleITK as sitk
import slicer
import slicer.util
from ALPPSVolumetryLib.segments import couinaud, segmentationImport
from ALPPSVolumetryLib.planning import futureLiverRemnant, resectionPlans
from ALPPSVolumetryLib import syntheticPatient
from ALPPSVolumetryLib.segments.segmentOverlap import SegmentOverlapHistogram
from ALPPSVolumetryLib.sparing import marginVolumetry, sparingInputs, tumourVesselAnalysis

from . import inputOptions
from .headless import SlicerContext


def _upsampledSyntheticLabels(shape):
    """Couinaud labels and tumour masks of the synthetic patient on a grid of ``shape`` ([k, j, i]),
    drawn on a grid four times coarser and repeated, so that building the input stays cheap."""
    factor = 4
    _, ijkToRAS = syntheticPatient.defaultGeometry()
    extent = np.array([320.0, 260.0, 220.0])  # mm, x y z of the synthetic field of view
    coarseSpacing = extent / (np.array(shape[::-1]) / factor)
    point = syntheticPatient.makeTimePoint("pre-stage 1", -3, 1.0, spacing=tuple(coarseSpacing))
    coarse = point.couinaudLabels[: shape[0] // factor, : shape[1] // factor, : shape[2] // factor]
    labels = np.zeros(shape, dtype=np.uint8)
    block = coarse.repeat(factor, 0).repeat(factor, 1).repeat(factor, 2)
    labels[: block.shape[0], : block.shape[1], : block.shape[2]] = block
    tumours = {}
    for name, _, _ in syntheticPatient.TUMOURS:
        mask = np.zeros(shape, dtype=bool)
        part = point.structures[name][: shape[0] // factor, : shape[1] // factor, : shape[2] // factor]
        part = part.repeat(factor, 0).repeat(factor, 1).repeat(factor, 2)
        mask[: part.shape[0], : part.shape[1], : part.shape[2]] = part
        if mask.any():  # a small tumour can vanish on a small benchmark grid
            tumours[name] = mask
    ijkToRAS = point.ijkToRAS.copy()
    ijkToRAS[:3, :3] /= factor
    return labels, tumours, ijkToRAS


def _allPresetPlans():
    plans = [resectionPlans.presetPlan(key) for key in resectionPlans.PRESETS]
    plans += [resectionPlans.presetPlan(key, caudateInRemnant=False) for key in resectionPlans.PRESETS]
    return plans


def runBenchmark(shape=(600, 512, 512), repeats=3, context=None, printer=print):
    ownContext = context is None
    context = context or SlicerContext()
    try:
        scene = context.scene
        started = time.perf_counter()
        labels, tumours, ijkToRAS = _upsampledSyntheticLabels(shape)
        segmentationNode = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Benchmark segmentation")
        names = {value: f"Segment {segmentId}" for value, segmentId in enumerate(couinaud.SEGMENT_IDS, 1)}
        # A segment on the corners of the field of view keeps the shared layer at the full grid,
        # as after painting in the Segment Editor: the worst case for counting.
        names[9] = "Field of view corners"
        for k in (0, -1):
            for j in (0, -1):
                for i in (0, -1):
                    labels[k, j, i] = 9
        segmentationImport.importLabelArray(segmentationNode, labels, ijkToRAS, names)
        segmentationImport.importMaskArrays(segmentationNode, tumours, ijkToRAS)
        del labels, tumours
        segmentation = segmentationNode.GetSegmentation()
        labelmapName = slicer.vtkSegmentationConverter.GetSegmentationBinaryLabelmapRepresentationName()
        layerBytes = max(
            segmentation.GetLayerDataObject(layer, labelmapName).GetPointData().GetScalars().GetNumberOfValues()
            * segmentation.GetLayerDataObject(layer, labelmapName).GetScalarSize()
            for layer in range(segmentation.GetNumberOfLayers(labelmapName))
        )
        printer(
            f"input: {shape[2]}x{shape[1]}x{shape[0]} voxels, {segmentation.GetNumberOfSegments()} segments in "
            f"{segmentation.GetNumberOfLayers(labelmapName)} layers, largest labelmap layer {layerBytes / 2**20:.0f} MiB "
            f"(extents {', '.join(str(segmentation.GetLayerDataObject(layer, labelmapName).GetExtent()) for layer in range(segmentation.GetNumberOfLayers(labelmapName)))}) "
            f"(built in {time.perf_counter() - started:.1f} s)"
        )
        plans = _allPresetPlans()
        settings = futureLiverRemnant.VolumetrySettings(heightCm=172.0, weightKg=78.0)

        timings = []
        for _ in range(repeats):
            started = time.perf_counter()
            result = futureLiverRemnant.measureVolumetry(segmentationNode, plans, settings)
            timings.append(time.perf_counter() - started)
        tracemalloc.start()
        futureLiverRemnant.measureVolumetry(segmentationNode, plans, settings)
        _, peakBytes = tracemalloc.get_traced_memory()
        tracemalloc.stop()

        # Reference: what Segment Statistics does, one labelmap export and count per segment.
        started = time.perf_counter()
        referenceCounts = {}
        labelmapNode = scene.AddNewNodeByClass("vtkMRMLLabelMapVolumeNode", "Benchmark export")
        for segmentId in segmentation.GetSegmentIDs():
            ids = [segmentId]
            slicer.vtkSlicerSegmentationsModuleLogic.ExportSegmentsToLabelmapNode(segmentationNode, ids, labelmapNode, None)
            referenceCounts[segmentation.GetSegment(segmentId).GetName()] = int(
                np.count_nonzero(slicer.util.arrayFromVolume(labelmapNode))
            )
        referenceSeconds = time.perf_counter() - started

        voxelMl = result.totalLiverMl / max(1, sum(referenceCounts[f"Segment {s}"] for s in couinaud.SEGMENT_IDS))
        for segment in result.segments:
            expected = referenceCounts[f"Segment {segment.segment}"] * voxelMl
            if not np.isclose(segment.volumeMl, expected, rtol=1e-9):
                raise AssertionError(f"segment {segment.segment}: {segment.volumeMl} mL, export-and-count {expected} mL")
        best = min(timings)
        figures = {
            "voxels": int(np.prod(shape)),
            "segments": segmentation.GetNumberOfSegments(),
            "plans": len(plans),
            "volumetrySeconds": best,
            "volumetrySecondsAll": timings,
            "exportAndCountSeconds": referenceSeconds,
            "speedup": referenceSeconds / best,
            "peakExtraMemoryMiB": peakBytes / 2**20,
            "labelmapLayerMiB": layerBytes / 2**20,
            "peakMemoryOverLabelmap": peakBytes / layerBytes,
        }
        printer(
            f"full volumetry, {len(plans)} plans (all presets, with and without segment I): "
            f"{best:.3f} s (best of {repeats}: {', '.join(f'{t:.3f}' for t in timings)})"
        )
        printer(f"per-segment export-and-count (Segment Statistics' way), segment volumes only: {referenceSeconds:.3f} s")
        printer(f"speed-up: {figures['speedup']:.1f}x")
        printer(
            f"peak memory beyond the inputs (numpy, tracemalloc): {figures['peakExtraMemoryMiB']:.1f} MiB = "
            f"{figures['peakMemoryOverLabelmap']:.2f} x the largest labelmap layer"
        )
        printer("results agree with export-and-count for every Couinaud segment")
        return figures
    finally:
        if ownContext:
            context.close()


# --- end to end: the `alpps volumetry` process on a label map file, beside a process that only
# reads the file and counts its labels -------------------------------------------------------

END_TO_END_SHAPE = (986, 512, 512)  # [k, j, i]: a thin-slice abdominal CT
END_TO_END_TIME_RATIO = 2.5
END_TO_END_PEAK_GB = 0.8
COUINAUD_LABELS = ",".join(f"{value}=Segment {segment}" for value, segment in enumerate(couinaud.SEGMENT_IDS, 1))

# The reference: what any program must do at least, read the file and count its labels. Counted
# a slab at a time, as the fastest plain numpy way does (one bincount of the whole array would
# first widen every voxel to 8 bytes).
_READ_AND_COUNT = """
import json, sys
import numpy as np
import SimpleITK as sitk
image = sitk.ReadImage(sys.argv[1])
voxels = sitk.GetArrayViewFromImage(image).reshape(-1)  # a view: the image must stay referenced
counts = np.zeros(1, dtype=np.int64)
for start in range(0, voxels.size, 1 << 20):
    found = np.bincount(voxels[start : start + (1 << 20)])
    if found.size > counts.size:
        counts = np.concatenate([counts, np.zeros(found.size - counts.size, dtype=np.int64)])
    counts[: found.size] += found
json.dump({str(value): int(count) for value, count in enumerate(counts) if count}, sys.stdout)
"""


def _syntheticCouinaudLabels(shape, factor=2):
    """Couinaud labels 1-8 of the synthetic patient's liver on a grid of ``shape`` ([k, j, i])
    spanning its field of view, and the grid's IJK-to-RAS matrix. Drawn on a grid ``factor``
    times coarser and repeated, slab by slab, so that building a full-size map takes seconds."""
    extent = np.array([320.0, 260.0, 220.0])  # mm, x y z of the synthetic field of view
    coarseShape = tuple(-(-size // factor) for size in shape)
    _, coarseToRAS = syntheticPatient.defaultGeometry(tuple(extent / np.array(shape[::-1]) * factor))
    labels = np.zeros(shape, dtype=np.uint8)
    step = max(1, (1 << 22) // (coarseShape[1] * coarseShape[2]))
    for k0 in range(0, coarseShape[0], step):
        k1 = min(k0 + step, coarseShape[0])
        shifted = coarseToRAS.copy()
        shifted[:3, 3] += coarseToRAS[:3, 2] * k0
        grid = syntheticPatient._gridCoordinates((k1 - k0,) + coarseShape[1:], shifted)
        _, slab = syntheticPatient._liverAndSegments(grid, 1.0)
        fine = slab.repeat(factor, 0).repeat(factor, 1).repeat(factor, 2)
        target = labels[k0 * factor : k1 * factor]
        target[...] = fine[: target.shape[0], : shape[1], : shape[2]]
    ijkToRAS = coarseToRAS.copy()
    ijkToRAS[:3, :3] /= factor
    # Voxel centres of the fine grid: the coarse corner voxel's centre moves by half a fine voxel.
    ijkToRAS[:3, 3] -= (coarseToRAS[:3, :3] @ np.ones(3)) * (factor - 1) / (2 * factor)
    return labels, ijkToRAS


def _imageOnGrid(labels, ijkToRAS):
    """A SimpleITK image of ``labels`` ([k, j, i]) placed by an IJK-to-RAS matrix (ITK keeps LPS)."""
    import SimpleITK as sitk

    image = sitk.GetImageFromArray(labels)
    spacing = np.linalg.norm(ijkToRAS[:3, :3], axis=0)
    rasToLps = np.diag([-1.0, -1.0, 1.0])
    image.SetSpacing(tuple(float(value) for value in spacing))
    image.SetDirection(tuple(float(value) for value in (rasToLps @ (ijkToRAS[:3, :3] / spacing)).ravel()))
    image.SetOrigin(tuple(float(value) for value in rasToLps @ ijkToRAS[:3, 3]))
    return image


def _stretchedLabelMap(sourcePath, shape):
    """A real label map stretched to ``shape`` ([k, j, i]) by nearest neighbour over the same
    field of view: its segments as they would be on a finer grid."""
    import SimpleITK as sitk

    source = sitk.ReadImage(sourcePath)
    voxels = sitk.GetArrayViewFromImage(source)
    picks = [np.minimum(((np.arange(size) + 0.5) * old / size).astype(np.int64), old - 1) for size, old in zip(shape, voxels.shape)]
    labels = np.empty(shape, dtype=voxels.dtype)
    for k, sourceK in enumerate(picks[0]):
        labels[k] = voxels[sourceK][np.ix_(picks[1], picks[2])]
    image = sitk.GetImageFromArray(labels)
    oldSpacing = np.array(source.GetSpacing())
    newSpacing = oldSpacing * np.array(voxels.shape[::-1]) / np.array(shape[::-1])
    direction = np.array(source.GetDirection()).reshape(3, 3)
    image.SetSpacing(tuple(float(value) for value in newSpacing))
    image.SetDirection(source.GetDirection())
    image.SetOrigin(tuple(float(value) for value in np.array(source.GetOrigin()) + direction @ ((newSpacing - oldSpacing) / 2)))
    return image


def writeEndToEndLabelMap(path, shape=END_TO_END_SHAPE, source=None):
    """Write a Couinaud label map (labels 1-8 = segments I-VIII) of ``shape`` ([k, j, i]) to
    ``path`` (.nii.gz): the synthetic patient's, or ``source`` (a real label map) stretched."""
    import SimpleITK as sitk

    if source:
        image = _stretchedLabelMap(source, shape)
    else:
        image = _imageOnGrid(*_syntheticCouinaudLabels(shape))
    sitk.WriteImage(image, path, True)
    return path


# Started by a small Python of its own (no site packages loaded), the measured process's peak
# memory is its own: a process started straight from this one would be charged this one's memory
# up to its exec (Linux counts the peak of the address space it replaced).
_SPAWN_AND_WAIT = """
import json, os, sys, time
started = time.perf_counter()
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - started
with open(sys.argv[1], "w") as stream:
    json.dump({"seconds": seconds, "peakBytes": usage.ru_maxrss * 1024, "status": os.waitstatus_to_exitcode(status)}, stream)
"""


def _runChild(command, outputPath, figuresPath, environment=None):
    """Wall time (s), peak resident memory (bytes) and exit status of one process running
    ``command``, its output written to ``outputPath``."""
    import json
    import subprocess
    import sys

    with open(outputPath, "wb") as output:
        subprocess.run([sys.executable, "-S", "-c", _SPAWN_AND_WAIT, figuresPath] + command, stdout=output,
                       stderr=subprocess.STDOUT, check=True, env=environment)
    with open(figuresPath, encoding="utf-8") as stream:
        figures = json.load(stream)
    return figures["seconds"], figures["peakBytes"], figures["status"]


def runEndToEndBenchmark(shape=END_TO_END_SHAPE, repeats=3, inputPath=None, source=None, outputFolder=None,
                         labels=COUINAUD_LABELS, printer=print):
    """`alpps volumetry` of a label map file, from the file to its JSON, against a process that
    only reads the file and counts its labels: both as fresh processes, side by side, best of
    ``repeats``. The volumes of the command must be the reference's counts x the voxel volume.

    Without ``inputPath`` a label map of ``shape`` ([k, j, i]) is written first (see
    writeEndToEndLabelMap), into ``outputFolder`` when given (kept), else a temporary folder."""
    import json
    import os
    import sys
    import tempfile

    import SimpleITK as sitk

    with tempfile.TemporaryDirectory(prefix="alpps-benchmark-") as folder:
        if inputPath is None:
            fileName = f"couinaud_labels_{shape[2]}x{shape[1]}x{shape[0]}.nii.gz"
            if outputFolder:
                os.makedirs(outputFolder, exist_ok=True)
            inputPath = os.path.join(outputFolder or folder, fileName)
            started = time.perf_counter()
            writeEndToEndLabelMap(inputPath, shape, source)
            printer(f"label map written: {inputPath} ({os.path.getsize(inputPath) / 2**20:.1f} MiB, "
                    f"{'stretched from ' + source if source else 'synthetic patient'}, {time.perf_counter() - started:.1f} s)")
        information = sitk.ImageFileReader()
        information.SetFileName(inputPath)
        information.ReadImageInformation()
        size = information.GetSize()
        voxelMl = float(np.prod(information.GetSpacing())) / 1000.0
        printer(f"input: {inputPath}, {'x'.join(str(value) for value in size)} voxels, "
                f"{sitk.GetPixelIDValueAsString(information.GetPixelID())}")
        jsonPath = os.path.join(folder, "volumetry.json")
        reference = [sys.executable, "-c", _READ_AND_COUNT, inputPath]
        volumetry = [sys.executable, "-m", "alpps.cli", "volumetry", "--segmentation", inputPath, "--labels", labels,
                     "--height", "172", "--weight", "78", "--json", jsonPath]
        # Both processes as an installed package runs them: Python's compiled modules cached (here
        # in the temporary folder, even where PYTHONDONTWRITEBYTECODE is set), by one run of each
        # that is not counted.
        environment = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
        environment["PYTHONPYCACHEPREFIX"] = os.path.join(folder, "pycache")
        runs = {"readAndCount": [], "volumetry": []}
        for counted in [False] + [True] * repeats:
            for name, command in (("readAndCount", reference), ("volumetry", volumetry)):
                logPath = os.path.join(folder, name + ".out")
                seconds, peakBytes, status = _runChild(command, logPath, os.path.join(folder, name + ".figures.json"), environment)
                if status != 0:
                    with open(logPath, encoding="utf-8", errors="replace") as log:
                        raise RuntimeError(f"{name} process failed (exit status {status}): {log.read()[-2000:]}")
                if counted:
                    runs[name].append((seconds, peakBytes))
        with open(os.path.join(folder, "readAndCount.out"), encoding="utf-8") as stream:
            counts = {int(value): count for value, count in json.load(stream).items()}
        with open(jsonPath, encoding="utf-8") as stream:
            document = json.load(stream)

    # The same voxels, counted by the command and by the reference.
    segmentLabels = {couinaud.segmentIdFromName(name)[0]: value for value, name in inputOptions.parseLabelMapping(labels).items()}
    segmentLabels = {segment: value for segment, value in segmentLabels.items() if segment in document["segments"]}
    if not segmentLabels:
        raise ValueError(f"--labels '{labels}' names no Couinaud segment: the volumes cannot be compared")
    for segment, value in segmentLabels.items():
        expected = counts.get(value, 0) * voxelMl
        found = document["segments"][segment]["volumeMl"]
        if not np.isclose(found, expected, rtol=1e-9, atol=0.0):
            raise AssertionError(f"segment {segment}: alpps volumetry {found} mL, read-and-count {expected} mL")
    best = {name: min(seconds for seconds, _ in values) for name, values in runs.items()}
    peak = {name: max(peakBytes for _, peakBytes in values) for name, values in runs.items()}
    ratio = best["volumetry"] / best["readAndCount"]
    figures = {
        "input": inputPath,
        "size": list(size),
        "voxels": int(np.prod(size)),
        "readAndCountSeconds": best["readAndCount"],
        "volumetrySeconds": best["volumetry"],
        "readAndCountSecondsAll": [seconds for seconds, _ in runs["readAndCount"]],
        "volumetrySecondsAll": [seconds for seconds, _ in runs["volumetry"]],
        "timeRatio": ratio,
        "readAndCountPeakGB": peak["readAndCount"] / 1e9,
        "volumetryPeakGB": peak["volumetry"] / 1e9,
        "timeRatioTarget": END_TO_END_TIME_RATIO,
        "peakGBTarget": END_TO_END_PEAK_GB,
        "timeRatioMet": ratio <= END_TO_END_TIME_RATIO,
        "peakMet": peak["volumetry"] / 1e9 < END_TO_END_PEAK_GB,
        "segmentVolumesMl": {segment: document["segments"][segment]["volumeMl"] for segment in segmentLabels},
    }

    def times(name):
        return ", ".join(f"{seconds:.2f}" for seconds, _ in runs[name])

    printer(f"read and count labels (SimpleITK + numpy bincount), process: {best['readAndCount']:.2f} s "
            f"(best of {repeats}: {times('readAndCount')}), peak memory {figures['readAndCountPeakGB']:.2f} GB")
    printer(f"alpps volumetry (all preset plans, JSON), process:           {best['volumetry']:.2f} s "
            f"(best of {repeats}: {times('volumetry')}), peak memory {figures['volumetryPeakGB']:.2f} GB")
    printer(f"time ratio: {ratio:.2f} (target <= {END_TO_END_TIME_RATIO}: {'met' if figures['timeRatioMet'] else 'NOT met'}); "
            f"peak memory {figures['volumetryPeakGB']:.2f} GB (target < {END_TO_END_PEAK_GB} GB: "
            f"{'met' if figures['peakMet'] else 'NOT met'})")
    printer(f"segment volumes ({', '.join(segmentLabels)}) agree with the reference's label counts x voxel volume")
    return figures


# --- registration benchmark ---


def benchmarkRegistration(ctSize=(512, 512, 300), functionalSize=128, functionalSpacingMm=4.8, numberOfThreads=2, mode=None, useLiverMask=True, seed=1, printTime=True, **options):
    """Register a ``functionalSize``^3 SPECT-like image to a CT of ``ctSize`` (columns, rows,
    slices) made from the synthetic patient, and time it (``mode``: rigid unless given). The
    misalignment (12 mm, 5 degrees) is known, so the target registration error over the liver is reported too.

    Returns a dict: seconds (registration alone) and secondsWithConversion (numpy -> SimpleITK
    included), TRE mean/max (mm), the registration figures.
    """
    # Imported here: the volumetry benchmark above needs none of the functional imaging modules.
    from ALPPSAssessmentLib.functional import functionalSimulator
    from ALPPSAssessmentLib.functional.imageRegistration import RIGID, ThreadCount, registerFunctionalToCt
    from ALPPSVolumetryLib.imageGrid import rasBounds, rigidTransformRAS, sitkImageFromArray

    mode = RIGID if mode is None else mode
    columns, rows, slices = (int(value) for value in ctSize)
    if min(columns, rows, slices) < 16:
        raise ValueError(f"CT size {ctSize} is too small: expected at least 16 voxels along each axis")
    timePoint = syntheticPatient.makeTimePoint("pre-stage 1", -3, 1.0, spacing=(3.0, 3.0, 3.0), seed=seed)
    coarseShape = timePoint.ct.shape
    low, high = rasBounds(coarseShape, timePoint.ijkToRAS)
    spacing = (high - low) / np.array([columns, rows, slices], dtype=float)
    ijkToRAS = np.diag([-spacing[0], -spacing[1], spacing[2], 1.0])
    ijkToRAS[:3, 3] = (high[0] - spacing[0] / 2, high[1] - spacing[1] / 2, low[2] + spacing[2] / 2)
    ct = functionalSimulator.upsampledNearest(timePoint.ct, (slices, rows, columns))
    liver = functionalSimulator.upsampledNearest(timePoint.couinaudLabels > 0, (slices, rows, columns)) if useLiverMask else None
    liverCentre = timePoint.ijkToRAS @ np.r_[np.argwhere(timePoint.couinaudLabels > 0).mean(axis=0)[::-1], 1.0]
    truth = rigidTransformRAS((9.0, -7.0, 5.0), 5.0, liverCentre[:3], axis=(0.3, 0.4, 1.0))
    functional = functionalSimulator.makeSpectLikeImage(
        functionalSimulator.spectLikeActivity(timePoint), timePoint.ijkToRAS, truth, functionalSize, functionalSpacingMm, seed=seed
    )

    started = time.perf_counter()
    with ThreadCount(numberOfThreads):
        ctImage = sitkImageFromArray(ct, ijkToRAS)
        maskImage = sitkImageFromArray(liver, ijkToRAS) if liver is not None else None
    converted = time.perf_counter()
    result = registerFunctionalToCt(ctImage, functional, mode=mode, ctLiverMask=maskImage, numberOfThreads=numberOfThreads, **options)
    finished = time.perf_counter()
    liverPoints = (timePoint.ijkToRAS @ np.c_[np.argwhere(timePoint.couinaudLabels > 0)[:, ::-1], np.ones(int((timePoint.couinaudLabels > 0).sum()))].T)[:3].T
    treMean, treMax = functionalSimulator.targetRegistrationErrorMm(result.matrixToParent, truth, liverPoints)
    figures = {
        "ctSize": [columns, rows, slices],
        "ctSpacingMm": [float(value) for value in spacing],
        "functionalSize": [functionalSize] * 3,
        "functionalSpacingMm": functionalSpacingMm,
        "threads": numberOfThreads,
        "seconds": finished - converted,
        "secondsWithConversion": finished - started,
        "treMeanMm": treMean,
        "treMaxMm": treMax,
        "registration": result.asDict(),
    }
    if printTime:
        print(
            f"Registration of a {functionalSize}^3 functional image to a {columns}x{rows}x{slices} CT ({mode}, "
            f"{numberOfThreads} threads): {figures['seconds']:.2f} s ({figures['secondsWithConversion']:.2f} s with "
            f"numpy -> SimpleITK conversion); TRE over the liver mean {treMean:.2f} mm, max {treMax:.2f} mm; "
            f"{result.iterations} iterations; liver Dice {result.diceAfter if result.diceAfter is not None else float('nan'):.3f}"
        )
    return figures


# --- parenchyma-sparing benchmark ---

# The synthetic patient's named veins as capsules (name, start, end, radius; RAS mm); the portal
# trunk is left out: it is not a pedicle a tumour is detached from.
BENCHMARK_VESSELS = syntheticPatient.HEPATIC_VEINS + syntheticPatient.PORTAL_VEINS[1:]


def _drawCapsule(labels, ijkToRAS, start, end, radius, value, only=None):
    """Set ``value`` on the voxels whose centre lies within ``radius`` of the segment start-end,
    computed within the capsule's bounding box only (``only``: a mask the capsule is kept within)."""
    start, end = np.asarray(start, dtype=float), np.asarray(end, dtype=float)
    corners = np.array([[a, b, c] for a in (0, 1) for b in (0, 1) for c in (0, 1)], dtype=float)
    low, high = np.minimum(start, end) - radius, np.maximum(start, end) + radius
    ras = low + corners * (high - low)
    toIjk = np.linalg.inv(ijkToRAS)
    ijk = (toIjk[:3, :3] @ ras.T).T + toIjk[:3, 3]
    shape = labels.shape
    lo = np.maximum(np.floor(ijk.min(axis=0)).astype(int), 0)
    hi = np.minimum(np.ceil(ijk.max(axis=0)).astype(int) + 1, (shape[2], shape[1], shape[0]))
    if np.any(hi <= lo):
        return
    k, j, i = np.meshgrid(*(np.arange(lo[a], hi[a], dtype=np.float32) for a in (2, 1, 0)), indexing="ij")
    m = ijkToRAS.astype(np.float32)
    points = [m[a, 0] * i + m[a, 1] * j + m[a, 2] * k + m[a, 3] for a in range(3)]
    axis = (end - start).astype(np.float32)
    length2 = float(axis @ axis)
    # A capsule of zero length is a sphere.
    t = np.clip(sum((points[a] - start[a]) * axis[a] for a in range(3)) / length2, 0.0, 1.0) if length2 > 0 else 0.0
    inside = sum((points[a] - start[a] - t * axis[a]) ** 2 for a in range(3)) <= radius * radius
    window = (slice(lo[2], hi[2]), slice(lo[1], hi[1]), slice(lo[0], hi[0]))
    if only is not None:
        inside &= only[window]
    labels[window][inside] = value


def benchmarkSegmentation(scene, shape=(300, 512, 512)):
    """A segmentation of ``shape`` ([k, j, i]) voxels covering the synthetic patient's field of
    view: Couinaud segments I-VIII drawn four times coarser and repeated (cheap), its three
    tumours and five named vessels (RHV, MHV, LHV, right and left portal pedicles) drawn at full
    resolution. Returns (segmentationNode, build seconds)."""
    started = time.perf_counter()
    factor = 4
    extentMm = np.array([320.0, 260.0, 220.0])  # x, y, z of the synthetic field of view
    spacing = extentMm / np.array(shape[::-1], dtype=float)
    coarse = syntheticPatient.makeTimePoint("pre-stage 1", -3, 1.0, spacing=tuple(spacing * factor))
    ijkToRAS = coarse.ijkToRAS.copy()
    ijkToRAS[:3, :3] /= factor
    # Fine voxel 0 sits (factor - 1) / 2 fine steps before the centre of coarse voxel 0.
    ijkToRAS[:3, 3] = coarse.ijkToRAS[:3, 3] - ijkToRAS[:3, :3] @ np.full(3, (factor - 1) / 2.0)
    labels = np.zeros(shape, dtype=np.uint8)
    block = coarse.couinaudLabels.repeat(factor, 0).repeat(factor, 1).repeat(factor, 2)
    common = tuple(slice(0, min(a, b)) for a, b in zip(shape, block.shape))
    labels[common] = block[common]
    del block
    liver = labels > 0
    structures = np.zeros(shape, dtype=np.uint8)
    names = {}
    for value, (name, start, end, radius) in enumerate(BENCHMARK_VESSELS, 1):
        _drawCapsule(structures, ijkToRAS, start, end, radius, value, only=liver)
        names[value] = name
    for value, (name, centre, radius) in enumerate(syntheticPatient.TUMOURS, len(BENCHMARK_VESSELS) + 1):
        _drawCapsule(structures, ijkToRAS, centre, centre, radius, value, only=liver)
        names[value] = name
    present = set(np.unique(structures).tolist())
    names = {value: name for value, name in names.items() if value in present}
    segmentationNode = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Parenchyma-sparing benchmark")
    couinaudNames = {value: f"Segment {segmentId}" for value, segmentId in enumerate(couinaud.SEGMENT_IDS, 1)}
    # Labels on the corners keep the layers at the full grid, as after painting in the Segment
    # Editor: the worst case for finding segments.
    for k in (0, -1):
        for j in (0, -1):
            for i in (0, -1):
                labels[k, j, i] = 9
                structures[k, j, i] = 20
    couinaudNames[9] = "Field of view corners"
    names[20] = "Other corners"
    segmentationImport.importLabelArray(segmentationNode, labels, ijkToRAS, couinaudNames)
    del labels, liver
    segmentationImport.importLabelArray(segmentationNode, structures, ijkToRAS, names)
    return segmentationNode, time.perf_counter() - started


def benchmarkSparing(scene, shape=(300, 512, 512), marginsMm=sparingInputs.MARGIN_CHOICES_MM, repeats=1, printer=print):
    """Time the tumour findings (distances to five named vessels) and the margin plans on a
    segmentation of ``shape`` built by benchmarkSegmentation in ``scene``; prints and returns the
    figures (seconds, best of ``repeats``)."""
    segmentationNode, buildSeconds = benchmarkSegmentation(scene, shape)
    segmentation = segmentationNode.GetSegmentation()
    printer(
        f"input: {shape[2]}x{shape[1]}x{shape[0]} voxels, {segmentation.GetNumberOfSegments()} segments "
        f"(built in {buildSeconds:.1f} s)"
    )
    figures = {"voxels": int(np.prod(shape)), "shape": list(shape), "buildSeconds": buildSeconds, "threads": sitk.ProcessObject.GetGlobalDefaultNumberOfThreads()}

    def best(function):
        timings, value = [], None
        for _ in range(max(1, repeats)):
            started = time.perf_counter()
            value = function()
            timings.append(time.perf_counter() - started)
        return min(timings), value

    seconds, findings = best(lambda: tumourVesselAnalysis.tumourFindings(segmentationNode))
    figures["findingsSeconds"] = seconds
    figures["tumours"] = len(findings)
    figures["vessels"] = len(findings[0].vesselDistances) if findings else 0
    printer(f"tumour findings ({figures['tumours']} tumours x {figures['vessels']} vessels): {seconds:.3f} s")
    for finding in findings:
        nearest = finding.nearestVessel
        printer(
            f"  {finding.name}: {finding.volumeMl:.1f} mL, diameter {finding.largestDiameterMm:.1f} mm, "
            f"segments {', '.join(finding.couinaudSegments)}, nearest {nearest.vessel if nearest else '-'} "
            f"{nearest.distanceMm if nearest else float('nan'):.1f} mm"
        )
    for margin in marginsMm:
        seconds, result = best(lambda margin=margin: marginVolumetry.marginPlan(segmentationNode, margin))
        key = f"marginPlan{margin:g}mmSeconds".replace(".", "p")
        figures[key] = seconds
        figures[f"areas{margin:g}mm".replace(".", "p")] = result.areaCount
        printer(
            f"margin plan {sparingInputs.marginText(margin)}: {seconds:.3f} s; resected {result.plan.resectedMl:.1f} mL in {result.areaCount} "
            f"area(s), remnant {result.plan.remnantMl:.1f} mL ({result.plan.percentFLR:.1f} %)"
        )
    figures["findingsAndDefaultMarginSeconds"] = figures["findingsSeconds"] + figures.get(
        f"marginPlan{sparingInputs.DEFAULT_MARGIN_MM:g}mmSeconds".replace(".", "p"), 0.0
    )
    printer(f"distances + {sparingInputs.marginText(sparingInputs.DEFAULT_MARGIN_MM)} margin plan: {figures['findingsAndDefaultMarginSeconds']:.3f} s")
    seconds, naive = _naiveVesselDistances(segmentationNode, findings)
    figures["naiveDistancesSeconds"] = seconds
    figures["speedupOverNaiveDistances"] = seconds / figures["findingsSeconds"]
    printer(
        f"reference: a whole-grid distance map per vessel, read at the tumour voxels: {seconds:.3f} s "
        f"({figures['speedupOverNaiveDistances']:.1f}x slower); nearest distances agree within {naive:.3f} mm"
    )
    return figures


def _naiveVesselDistances(segmentationNode, findings):
    """The straightforward way, for the benchmark's comparison: one distance map of each vessel over
    the whole grid (no cropping), minimum over each tumour's voxel centres. Returns (seconds, the
    largest difference in mm from the centre distances of ``findings``)."""
    vessels = {(d.vessel, d.segmentId) for finding in findings for d in finding.vesselDistances}
    tumours = [finding.segmentId for finding in findings]
    groups = {f"t{index}": [segmentId] for index, segmentId in enumerate(tumours)}
    groups.update({f"v{index}": [segmentId] for index, (_, segmentId) in enumerate(sorted(vessels))})
    started = time.perf_counter()
    overlap = SegmentOverlapHistogram(segmentationNode, groups)
    bits = overlap.bits
    masks, ijkToRAS = overlap.masks([lambda p, bit=bit: (p & bit) != 0 for bit in bits.values()])
    byName = dict(zip(bits, masks))
    spacing = [float(np.linalg.norm(ijkToRAS[:3, axis])) for axis in range(3)]
    largestDifference = 0.0
    for index, (vesselName, _) in enumerate(sorted(vessels)):
        image = sitk.GetImageFromArray(byName[f"v{index}"].astype(np.uint8))
        image.SetSpacing(spacing)
        distanceImage = sitk.SignedMaurerDistanceMap(image, insideIsPositive=False, squaredDistance=False, useImageSpacing=True)
        distance = sitk.GetArrayViewFromImage(distanceImage)  # a view: distanceImage must stay alive while it is read
        for tumourIndex, finding in enumerate(findings):
            nearest = float(max(0.0, distance[byName[f"t{tumourIndex}"]].min()))
            reported = next(d.centreDistanceMm for d in finding.vesselDistances if d.vessel == vesselName)
            largestDifference = max(largestDifference, abs(nearest - reported))
    return time.perf_counter() - started, largestDifference
