"""The 3D picture for the patient report: an anterior view of the future liver remnant against the
resected liver (translucent) and the tumours, rendered offscreen by VTK; where no OpenGL context
can be opened, RenderingUnavailable says why instead of a picture."""

import numpy as np
import vtk
from ALPPSVolumetryLib.segments import segmentVolumes
from ALPPSVolumetryLib.planning.planDisplay import REMNANT_COLOR, RESECTED_COLOR

from .reportImages import TUMOUR_3D_COLOR, ReportImage, checkedSegmentation, encodePng, hexColor, labelmapLayers, planSegments

# Fainter than in Slicer's views: on paper the transection face of the resected liver, seen through
# it, otherwise reads as a solid wedge.
RESECTED_3D_OPACITY = 0.2
BACKGROUND_3D = (1.0, 1.0, 1.0)


class RenderingUnavailable(RuntimeError):
    """VTK cannot render offscreen here (no OpenGL context: no display, no EGL/OSMesa)."""


_offscreenProblem = []  # cached answer of _offscreenRenderingProblem: [reason or None]


def _offscreenRenderingProblem():
    """None when VTK can open an offscreen OpenGL context here, else why not. Asked once per
    process: a probe context costs ~0.1 s, and a failing one must never reach Render() (which
    can abort the interpreter)."""
    if not _offscreenProblem:
        reason = None
        try:
            window = vtk.vtkRenderWindow()
            window.SetOffScreenRendering(1)
            if not window.SupportsOpenGL():
                reason = f"{window.GetClassName()} cannot create an OpenGL context offscreen (no display, EGL or OSMesa available)"
            window.Finalize()
        except Exception as error:  # VTK raises nothing documented here; any failure means "cannot render"
            reason = f"VTK render window could not be created offscreen: {error}"
        _offscreenProblem.append(reason)
    return _offscreenProblem[0]


def _withNormals(polyData):
    if polyData.GetPointData().GetNormals() is not None:
        return polyData
    normals = vtk.vtkPolyDataNormals()
    normals.SetInputData(polyData)
    normals.SplittingOff()
    normals.ConsistencyOn()
    normals.Update()
    return normals.GetOutput()


def _segmentSurfaces(segmentationNode, segmentIds):
    """Closed surfaces of segments one by one, in world RAS, appended. Slicer converts from its
    labelmap with the segmentation's own conversion parameters without changing the node (an
    existing closed surface is reused); the parent transform is applied."""
    import slicer

    append = vtk.vtkAppendPolyData()
    for segmentId in segmentIds:
        polyData = vtk.vtkPolyData()
        converted = slicer.vtkSlicerSegmentationsModuleLogic.GetSegmentClosedSurfaceRepresentation(segmentationNode, segmentId, polyData, True)
        if converted and polyData.GetNumberOfPoints() > 0:
            append.AddInputData(polyData)
    if append.GetNumberOfInputConnections(0) == 0:
        return None
    append.Update()
    return _withNormals(append.GetOutput())


def _unionSurface(segmentationNode, segmentIds):
    """One closed surface, in world RAS, of the union of segments. Drawn segment by segment, a
    translucent group shows the walls between its segments as bands; the union has none. Made by
    Slicer's own converter (with the segmentation's conversion parameters, so it looks as in
    Slicer's 3D view) on a temporary segmentation; the node is not changed. Layers on grids that
    are not whole-voxel shifts of each other fall back to one surface per segment."""
    import slicer

    layers = labelmapLayers(segmentationNode, segmentIds)
    if not layers:
        return None
    toReference = np.linalg.inv(layers[0].ijkToWorld)
    pieces = []
    for layer in layers:
        relative = toReference @ layer.ijkToWorld
        shift = np.round(relative[:3, 3])
        if not np.allclose(relative[:3, :3], np.eye(3), atol=1e-6) or not np.allclose(relative[:3, 3], shift, atol=1e-3):
            return _segmentSurfaces(segmentationNode, segmentIds)
        labels = list(layer.labelOf.values())
        mask = np.isin(layer.voxels, labels)  # never a table as long as the largest label value
        nonzero = [np.nonzero(mask.any(axis=axes))[0] for axes in ((1, 2), (0, 2), (0, 1))]  # k, j, i
        if any(indices.size == 0 for indices in nonzero):
            continue
        low = np.array([indices[0] for indices in nonzero])
        high = np.array([indices[-1] for indices in nonzero])
        crop = mask[low[0] : high[0] + 1, low[1] : high[1] + 1, low[2] : high[2] + 1]
        pieces.append((crop, low + shift[::-1].astype(int)))
    if not pieces:
        return None
    # One empty voxel all round closes the surface where the union touches its box.
    low = np.min([start for _, start in pieces], axis=0) - 1
    high = np.max([start + np.array(crop.shape) - 1 for crop, start in pieces], axis=0) + 1
    union = np.zeros(tuple(high - low + 1), dtype=np.uint8)
    for crop, start in pieces:
        offset = start - low
        union[offset[0] : offset[0] + crop.shape[0], offset[1] : offset[1] + crop.shape[1], offset[2] : offset[2] + crop.shape[2]] |= crop
    from vtk.util import numpy_support

    image = slicer.vtkOrientedImageData()
    image.SetDimensions(union.shape[2], union.shape[1], union.shape[0])
    image.AllocateScalars(vtk.VTK_UNSIGNED_CHAR, 1)
    numpy_support.vtk_to_numpy(image.GetPointData().GetScalars())[:] = union.ravel()
    placement = np.eye(4)
    placement[:3, 3] = low[::-1]
    matrix = vtk.vtkMatrix4x4()
    for row, values in enumerate(layers[0].ijkToWorld @ placement):
        for column, value in enumerate(values):
            matrix.SetElement(row, column, float(value))
    image.SetImageToWorldMatrix(matrix)
    labelmapName = segmentVolumes.binaryLabelmapName()
    surfaceName = slicer.vtkSegmentationConverter.GetSegmentationClosedSurfaceRepresentationName()
    temporary = slicer.vtkSegmentation()
    temporary.SetSourceRepresentationName(labelmapName)
    temporary.CopyConversionParameters(segmentationNode.GetSegmentation())
    segment = slicer.vtkSegment()
    segment.SetLabelValue(1)
    segment.AddRepresentation(labelmapName, image)
    temporary.AddSegment(segment, "union")
    if not temporary.CreateRepresentation(surfaceName):
        return _segmentSurfaces(segmentationNode, segmentIds)
    polyData = temporary.GetSegment("union").GetRepresentation(surfaceName)
    if polyData is None or polyData.GetNumberOfPoints() == 0:
        return None
    return _withNormals(polyData)


def _smoothed(polyData):
    """Voxel stairs smoothed away for the picture (windowed sinc keeps the volume and shape; the
    numbers are never measured on it), with point normals for smooth shading."""
    smoother = vtk.vtkWindowedSincPolyDataFilter()
    smoother.SetInputData(polyData)
    smoother.SetNumberOfIterations(30)
    smoother.SetPassBand(0.02)
    smoother.BoundarySmoothingOff()
    smoother.FeatureEdgeSmoothingOff()
    smoother.NonManifoldSmoothingOn()
    smoother.NormalizeCoordinatesOn()
    smoother.Update()
    normals = vtk.vtkPolyDataNormals()
    normals.SetInputConnection(smoother.GetOutputPort())
    normals.SplittingOff()
    normals.ConsistencyOn()
    normals.Update()
    return normals.GetOutput()


def _actor(polyData, color, opacity):
    mapper = vtk.vtkPolyDataMapper()
    mapper.SetInputData(polyData)
    mapper.ScalarVisibilityOff()
    actor = vtk.vtkActor()
    actor.SetMapper(mapper)
    properties = actor.GetProperty()
    properties.SetColor(*color)
    properties.SetOpacity(opacity)
    properties.SetSpecular(0.15)
    properties.SetSpecularPower(20)
    if opacity < 1.0:
        # Backfaces of a translucent organ would double its shade and show its far side as bands.
        properties.BackfaceCullingOn()
    return actor


def render3D(segmentationNode, plan, size=(640, 480)):
    """3D anterior view (patient right on image left, superior at top) of the plan: future liver
    remnant green and opaque, resected liver red and translucent, tumours yellow, on white.

    Rendered offscreen with VTK; raises RenderingUnavailable (with the reason) when no offscreen
    OpenGL context can be created, ValueError on a bad segmentation or plan."""
    checkedSegmentation(segmentationNode)
    try:
        width, height = (int(value) for value in size)
    except (TypeError, ValueError):
        raise ValueError(f"Picture size {size!r} is not two numbers: expected (width, height) in pixels") from None
    if width < 16 or height < 16 or width > 4096 or height > 4096:
        raise ValueError(f"Picture size {size!r}: expected (width, height) between 16 and 4096 pixels")
    segments = planSegments(segmentationNode, plan)
    problem = _offscreenRenderingProblem()
    if problem:
        raise RenderingUnavailable(problem)

    groups = (
        (segments.remnant, REMNANT_COLOR, 1.0),
        (segments.resected, RESECTED_COLOR, RESECTED_3D_OPACITY),
        (segments.tumours, TUMOUR_3D_COLOR, 1.0),
    )
    renderer = vtk.vtkRenderer()
    renderer.SetBackground(*BACKGROUND_3D)
    # Key, fill and back lights as in Slicer's 3D view, so that the shape reads without harsh shadows.
    lights = vtk.vtkLightKit()
    lights.AddLightsToRenderer(renderer)
    bounds = vtk.vtkBoundingBox()
    for index, (segmentIds, color, opacity) in enumerate(groups):
        surface = _unionSurface if index < 2 else _segmentSurfaces
        polyData = surface(segmentationNode, segmentIds) if segmentIds else None
        if polyData is None:
            if index == 0:
                raise ValueError(f"Segmentation '{segmentationNode.GetName()}': the remnant of plan '{plan.label}' has no closed surface: expected painted segments")
            continue
        polyData = _smoothed(polyData)
        renderer.AddActor(_actor(polyData, color, opacity))
        bounds.AddBounds(polyData.GetBounds())

    window = vtk.vtkRenderWindow()
    try:
        window.SetOffScreenRendering(1)
        window.SetSize(width, height)
        window.SetMultiSamples(0)
        window.SetAlphaBitPlanes(1)
        window.AddRenderer(renderer)
        # Correct translucency: the resected liver is seen with the remnant and tumours through it.
        renderer.SetUseDepthPeeling(1)
        renderer.SetMaximumNumberOfPeels(8)
        renderer.SetOcclusionRatio(0.0)
        renderer.SetUseFXAA(True)

        low, high = np.array(bounds.GetMinPoint()), np.array(bounds.GetMaxPoint())
        centre = (low + high) / 2.0
        extent = high - low
        camera = renderer.GetActiveCamera()
        camera.ParallelProjectionOn()
        camera.SetFocalPoint(*centre)
        # From anterior (+A) looking posteriorly, superior up: the patient's right (+R) then falls
        # on the image left, as on a radiograph.
        camera.SetPosition(centre[0], centre[1] + 2.0 * float(np.linalg.norm(extent)) + 100.0, centre[2])
        camera.SetViewUp(0.0, 0.0, 1.0)
        camera.SetParallelScale(1.08 * max(extent[2] / 2.0, extent[0] / 2.0 * height / width))
        renderer.ResetCameraClippingRange()
        window.Render()

        capture = vtk.vtkWindowToImageFilter()
        capture.SetInput(window)
        capture.SetInputBufferTypeToRGB()
        capture.ReadFrontBufferOff()
        capture.Update()
        image = capture.GetOutput()
        from vtk.util import numpy_support

        dimensions = image.GetDimensions()
        pixels = numpy_support.vtk_to_numpy(image.GetPointData().GetScalars()).reshape(dimensions[1], dimensions[0], -1)
        pixels = np.ascontiguousarray(pixels[::-1, :, :3])  # VTK's first row is the bottom
    finally:
        window.Finalize()
    # The camera leaves a margin, so a corner is background unless the context drew nothing
    # (a driver that accepted the context but cannot render returns a black or garbage buffer).
    background = np.round(255 * np.array(BACKGROUND_3D)).astype(np.uint8)
    if not np.array_equal(pixels[0, 0], background):
        raise RenderingUnavailable(
            f"Offscreen rendering returned no picture (corner pixel {pixels[0, 0].tolist()}, expected the background "
            f"{background.tolist()}): the OpenGL driver does not render offscreen"
        )

    caption = (
        f"3D view from anterior (patient right on image left, superior at top). Plan: {plan.label}. Green, opaque: future liver "
        f"remnant ({', '.join(plan.remnantSegments)}); red, translucent: resected liver ({', '.join(plan.resectedSegments)})"
    )
    if segments.tumours:
        tumourNames = ", ".join(segments.roles.names[segmentId] for segmentId in segments.tumours)
        caption += f"; yellow: tumours ({tumourNames}; orange where seen through the resected liver)"
    caption += "."
    legend = [("Future liver remnant", hexColor(REMNANT_COLOR)), ("Resected liver", hexColor(RESECTED_COLOR))]
    if segments.tumours:
        legend.append(("Tumours", hexColor(TUMOUR_3D_COLOR)))
    return ReportImage(png=encodePng(pixels), widthPx=pixels.shape[1], heightPx=pixels.shape[0], caption=caption, kind="3d", legend=legend)
