"""Report pictures: PNG encoding checked by VTK's own reader, slice orientation and outline checked
on a phantom whose anatomy is a formula (so the truth at any pixel is computed here, not by the
code under test), the same phantom stored with other voxel axes, and the 3D view's sides."""

import numpy as np
import pytest
import vtk
from ALPPSAssessmentLib.report import reportImages, slicePictures, threeDPicture
from ALPPSVolumetryLib.segments import couinaud, segmentationImport
from ALPPSVolumetryLib.planning import resectionPlans
from ALPPSVolumetryLib import syntheticPatient, syntheticPatientScene
from vtk.util import numpy_support

PLAN = resectionPlans.presetPlan("right_trisectionectomy")  # keeps I, II, III
LIVER_HU, FAT_HU, TUMOUR_HU, MARKER_HU = 60.0, -100.0, 20.0, 1000.0
SPACING = (2.0, 2.0, 3.0)  # mm along R, A, S
SIZE = (80, 80, 40)  # voxels along R, A, S: the volume spans x, y -80..80 and z -60..60 mm
LIVER_CENTRE, LIVER_RADII = (0.0, 0.6, 2.0), (50.0, 35.0, 30.0)  # off the voxel-edge ties on purpose
TUMOUR_CENTRE, TUMOUR_RADIUS = (32.0, 0.6, 12.0), 7.0  # in VII: patient right, superior
MARKERS = {  # bright cubes outside the liver: (centre, half size) in RAS mm
    "right": ((62.0, 0.0, 0.0), 4.0),
    "anterior": ((0.0, 46.0, 0.0), 4.0),
    "superior": ((0.0, 0.0, 42.0), 4.0),
}
REMNANT_LABELS, RESECTED_LABELS = (1, 2, 3), (4, 5, 6, 7, 8)  # label value = Couinaud number
GREEN, ORANGE, WHITE = (0, 255, 0), (255, 128, 0), (255, 255, 255)


def phantomAt(x, y, z):
    """(HU, Couinaud label 0-8, tumour mask) at RAS points: an ellipsoidal liver cut into eight
    boxes. Patient left (x < -24): II above, III below; -24..0: IV above, I below; 0..24: VIII
    above, V below; right of 24: VII above, VI below."""
    liver = ((x - LIVER_CENTRE[0]) / LIVER_RADII[0]) ** 2 + ((y - LIVER_CENTRE[1]) / LIVER_RADII[1]) ** 2
    liver = liver + ((z - LIVER_CENTRE[2]) / LIVER_RADII[2]) ** 2 <= 1.0
    upper = z >= 0
    labels = np.select(
        [x < -24, x < 0, x < 24],
        [np.where(upper, 2, 3), np.where(upper, 4, 1), np.where(upper, 8, 5)],
        np.where(upper, 7, 6),
    )
    labels = np.where(liver, labels, 0).astype(np.int16)
    tumour = (x - TUMOUR_CENTRE[0]) ** 2 + (y - TUMOUR_CENTRE[1]) ** 2 + (z - TUMOUR_CENTRE[2]) ** 2 <= TUMOUR_RADIUS**2
    hu = np.where(liver, LIVER_HU, FAT_HU)
    hu = np.where(tumour, TUMOUR_HU, hu)
    for centre, half in MARKERS.values():
        inside = (abs(x - centre[0]) <= half) & (abs(y - centre[1]) <= half) & (abs(z - centre[2]) <= half)
        hu = np.where(inside, MARKER_HU, hu)
    return hu, labels, tumour


def phantomGrid(layout):
    """(shape [k, j, i], IJK-to-RAS) of the same physical grid stored three ways."""
    (sx, sy, sz), (nx, ny, nz) = SPACING, SIZE
    low = np.array([-80.0, -80.0, -60.0]) + np.array(SPACING) / 2  # first voxel centres
    high = -low
    matrix = np.eye(4)
    if layout == "RAS":
        matrix[:3, :3] = np.diag([sx, sy, sz])
        matrix[:3, 3] = low
        return (nz, ny, nx), matrix
    if layout == "LPS":  # as DICOM/ITK files store it: i runs to the patient's left, j posterior
        matrix[:3, :3] = np.diag([-sx, -sy, sz])
        matrix[:3, 3] = (high[0], high[1], low[2])
        return (nz, ny, nx), matrix
    if layout == "permuted":  # i runs superior, j to the left, k posterior
        matrix[:3, :3] = [[0.0, -sx, 0.0], [0.0, 0.0, -sy], [sz, 0.0, 0.0]]
        matrix[:3, 3] = (high[0], high[1], low[2])
        return (ny, nx, nz), matrix
    raise ValueError(layout)


def voxelCentres(shape, ijkToRAS):
    k, j, i = np.meshgrid(*(np.arange(n, dtype=float) for n in shape), indexing="ij")
    return tuple(ijkToRAS[axis, 0] * i + ijkToRAS[axis, 1] * j + ijkToRAS[axis, 2] * k + ijkToRAS[axis, 3] for axis in range(3))


def addPhantom(scene, layout="RAS", labelsToDrop=(), offsetMm=(0.0, 0.0, 0.0)):
    """CT volume and segmentation (Couinaud segments named 'Segment I'.., one tumour) of the
    phantom. ``offsetMm`` moves the segmentation's grid away from the CT's."""
    shape, ijkToRAS = phantomGrid(layout)
    hu, labels, tumour = phantomAt(*voxelCentres(shape, ijkToRAS))
    volumeNode = segmentationImport.addVolumeFromArray(scene, f"Phantom CT {layout}", hu.astype(np.int16), ijkToRAS)
    segmentationNode = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", f"Phantom segments {layout}")
    segmentationNode.CreateDefaultDisplayNodes()
    segmentIjkToRAS = ijkToRAS.copy()
    segmentIjkToRAS[:3, 3] += offsetMm
    names = {value: f"Segment {segmentId}" for value, segmentId in enumerate(couinaud.SEGMENT_IDS, 1) if value not in labelsToDrop}
    colors = {value: couinaud.SEGMENT_COLOR[segmentId] for value, segmentId in enumerate(couinaud.SEGMENT_IDS, 1)}
    segmentationImport.importLabelArray(segmentationNode, np.where(np.isin(labels, labelsToDrop), 0, labels), segmentIjkToRAS, names, colors)
    segmentationImport.importMaskArrays(segmentationNode, {"Tumour": tumour}, segmentIjkToRAS, {"Tumour": (0.9, 0.9, 0.15)})
    return volumeNode, segmentationNode


def decodePng(data, tmp_path, name="picture.png"):
    """Pixels (rows from the top, columns, channels) read back by VTK's PNG reader."""
    path = tmp_path / name
    path.write_bytes(data)
    reader = vtk.vtkPNGReader()
    reader.SetFileName(str(path))
    reader.Update()
    image = reader.GetOutput()
    width, height, _ = image.GetDimensions()
    scalars = image.GetPointData().GetScalars()
    return numpy_support.vtk_to_numpy(scalars).reshape(height, width, scalars.GetNumberOfComponents())[::-1]


def isColor(pixels, rgb):
    return np.all(pixels[..., :3] == np.array(rgb, dtype=np.uint8), axis=-1)


def expectedGrid(kind, labels, shape, ijkToRAS):
    """Pixel-centre RAS coordinates of a slice, from the rules (computed here from the phantom's
    voxels): through the CT slice nearest the liver centroid; field = liver box + 20 mm clipped to
    the CT; pixel = smallest spacing; patient right and anterior/superior first."""
    centres = voxelCentres(shape, ijkToRAS)
    liver = labels > 0
    half = np.array(SPACING) / 2
    liverLow = np.array([c[liver].min() for c in centres]) - half
    liverHigh = np.array([c[liver].max() for c in centres]) + half
    centroid = np.array([c[liver].mean() for c in centres])
    low = np.maximum(liverLow - 20.0, [-80.0, -80.0, -60.0])
    high = np.minimum(liverHigh + 20.0, [80.0, 80.0, 60.0])
    normal, rowAxis = {"axial": (2, 1), "coronal": (1, 2)}[kind]
    sliceCentres = np.unique(np.round(centres[normal], 6))
    position = sliceCentres[np.argmin(abs(sliceCentres - centroid[normal]))]
    pixel = min(SPACING)
    columns, rows = int(round((high[0] - low[0]) / pixel)), int(round((high[rowAxis] - low[rowAxis]) / pixel))
    points = np.zeros((rows, columns, 3))
    points[..., 0] = high[0] - (np.arange(columns) + 0.5) * pixel
    points[..., rowAxis] = (high[rowAxis] - (np.arange(rows) + 0.5) * pixel)[:, None]
    points[..., normal] = position
    return points, position


def withinTwoSteps(mask):
    """Pixels of ``mask`` with a pixel outside it (or beyond the picture) at most two 4-neighbour
    steps away: written as offsets, independently of the module's repeated erosion."""
    padded = np.pad(~mask, 2, constant_values=True)
    rows, columns = mask.shape
    near = np.zeros_like(mask)
    for dr in range(-2, 3):
        for dc in range(-2, 3):
            if 1 <= abs(dr) + abs(dc) <= 2:
                near |= padded[2 + dr : 2 + dr + rows, 2 + dc : 2 + dc + columns]
    return mask & near


# --- PNG --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("channels", [3, 4])
def test_encodePngRoundTripsThroughVtkReader(tmp_path, channels):
    rng = np.random.default_rng(channels)
    pixels = rng.integers(0, 256, size=(37, 53, channels), dtype=np.uint8)
    pixels[0, 0] = (255, 0, 0, 255)[:channels]  # the top-left pixel stays top-left
    decoded = decodePng(reportImages.encodePng(pixels), tmp_path)
    assert decoded.shape == pixels.shape
    assert np.array_equal(decoded, pixels)


def test_encodePngRefusesWhatIsNotAnImage():
    with pytest.raises(ValueError, match="uint8"):
        reportImages.encodePng(np.zeros((4, 4, 3), dtype=float))
    with pytest.raises(ValueError, match=r"\(rows, columns, 3\)"):
        reportImages.encodePng(np.zeros((4, 4), dtype=np.uint8))


# --- Slices ------------------------------------------------------------------------------------------


def test_slicesFollowTheRadiologicalConvention(slicerContext, tmp_path):
    volumeNode, segmentationNode = addPhantom(slicerContext.scene)
    images = slicePictures.sliceImages(volumeNode, segmentationNode, PLAN)
    shape, ijkToRAS = phantomGrid("RAS")
    _, labels, _ = phantomAt(*voxelCentres(shape, ijkToRAS))
    for kind, letter in (("axial", "S"), ("coronal", "A")):
        image = images[kind]
        points, position = expectedGrid(kind, labels, shape, ijkToRAS)
        pixels = decodePng(image.png, tmp_path, f"{kind}.png")
        assert pixels.shape == points.shape and (image.heightPx, image.widthPx) == points.shape[:2]
        assert image.kind == kind and image.positionMm == pytest.approx(position)
        assert f"{letter} {abs(position):.1f} mm" in image.caption and PLAN.label in image.caption
        rows, columns = points.shape[:2]
        corner = image.pixelToRAS @ [columns - 1, rows - 1, 0, 1]
        assert np.allclose(image.pixelToRAS[:3, 3], points[0, 0]) and np.allclose(corner[:3], points[-1, -1])
        # The markers are the only untinted HU-1000 voxels: pure white exactly where the formula puts them.
        hu, _, _ = phantomAt(points[..., 0], points[..., 1], points[..., 2])
        white = isColor(pixels, WHITE)
        if kind == "axial":  # pixel centres are voxel centres here: an exact match
            assert np.array_equal(white, hu == MARKER_HU)
        expected = {"axial": ("right", "anterior"), "coronal": ("right", "superior")}[kind]
        for name in expected:
            (x, y, z), halfSize = MARKERS[name]
            near = (abs(points[..., 0] - x) <= halfSize + 2) & (abs(points[..., 1] - y) <= halfSize + 2) & (abs(points[..., 2] - z) <= halfSize + 2)
            assert white[near].sum() >= 4, f"{name} marker not white in the {kind} picture"
        # Patient right on the image left; anterior (axial) or superior (coronal) at the top.
        whiteRows, whiteColumns = np.nonzero(white)
        rightMarker = whiteColumns < columns / 4
        assert rightMarker.any() and not (whiteColumns > 3 * columns / 4).any()
        assert abs(whiteRows[rightMarker].mean() - rows / 2) < rows / 6
        topMarker = whiteRows < rows / 3
        assert topMarker.any() and abs(whiteColumns[topMarker].mean() - columns / 2) < columns / 8
        assert not (whiteRows > 3 * rows / 4).any()


def test_remnantAndResectionOutlinesFollowTheirBoundaries(slicerContext, tmp_path):
    volumeNode, segmentationNode = addPhantom(slicerContext.scene)
    image = slicePictures.sliceImages(volumeNode, segmentationNode, PLAN)["axial"]
    shape, ijkToRAS = phantomGrid("RAS")
    _, labels, _ = phantomAt(*voxelCentres(shape, ijkToRAS))
    points, _ = expectedGrid("axial", labels, shape, ijkToRAS)
    _, truth, _ = phantomAt(points[..., 0], points[..., 1], points[..., 2])
    remnant, resected = np.isin(truth, REMNANT_LABELS), np.isin(truth, RESECTED_LABELS)
    assert remnant.sum() > 200 and resected.sum() > 200
    pixels = decodePng(image.png, tmp_path)
    green, orange = isColor(pixels, GREEN), isColor(pixels, ORANGE)
    assert np.array_equal(green, withinTwoSteps(remnant))
    assert np.array_equal(orange, withinTwoSteps(resected))
    # Inside, the CT shows through the tint: the segment colour at 0.35 over the liver's grey.
    grey = (LIVER_HU + 160.0) / 400.0 * 255.0
    deep = remnant & ~withinTwoSteps(remnant) & (truth == 2)
    expected = 0.65 * grey + 0.35 * 255.0 * np.array(couinaud.SEGMENT_COLOR["II"])
    assert np.all(np.abs(pixels[deep].astype(float) - expected) <= 1.0)
    assert "green outline: future liver remnant (I, II, III)" in image.caption


def test_otherVoxelAxesGiveTheSamePictures(slicerContext, tmp_path):
    reference = None
    for layout in ("RAS", "LPS", "permuted", "transformed"):
        if layout == "transformed":
            # Segments drawn 30 mm off, brought back by the segmentation's parent transform.
            volumeNode, segmentationNode = addPhantom(slicerContext.scene, "LPS", offsetMm=(-30.0, 0.0, 0.0))
            transformNode = slicerContext.scene.AddNewNodeByClass("vtkMRMLLinearTransformNode", "Back 30 mm")
            matrix = vtk.vtkMatrix4x4()
            matrix.SetElement(0, 3, 30.0)
            transformNode.SetMatrixTransformToParent(matrix)
            segmentationNode.SetAndObserveTransformNodeID(transformNode.GetID())
        else:
            volumeNode, segmentationNode = addPhantom(slicerContext.scene, layout)
        images = slicePictures.sliceImages(volumeNode, segmentationNode, PLAN)
        pictures = {kind: decodePng(image.png, tmp_path, f"{layout}-{kind}.png") for kind, image in images.items()}
        if reference is None:
            reference = pictures
            continue
        for kind, picture in pictures.items():
            assert picture.shape == reference[kind].shape, f"{layout} {kind}"
            differing = np.any(picture != reference[kind], axis=-1).sum()
            assert differing == 0, f"{layout} {kind}: {differing} pixels differ from the RAS-stored phantom"


def test_sliceInputsAreChecked(slicerContext):
    scene = slicerContext.scene
    volumeNode, segmentationNode = addPhantom(scene)
    with pytest.raises(ValueError, match="CT volume is None"):
        slicePictures.sliceImages(None, segmentationNode, PLAN)
    with pytest.raises(ValueError, match="Segmentation is None"):
        slicePictures.sliceImages(volumeNode, None, PLAN)
    with pytest.raises(ValueError, match="window"):
        slicePictures.sliceImages(volumeNode, segmentationNode, PLAN, windowHU=(200, 100))
    # Segment III missing, then present but empty.
    volumeNode, missing = addPhantom(scene, labelsToDrop=(3,))
    with pytest.raises(ValueError, match=r"keeps segment III, but segmentation 'Phantom segments RAS' has no segment recognised as III"):
        slicePictures.sliceImages(volumeNode, missing, PLAN)
    missing.GetSegmentation().AddEmptySegment("", "Segment III")
    with pytest.raises(ValueError, match=r"Segment III of plan .* are empty"):
        slicePictures.sliceImages(volumeNode, missing, PLAN)
    # A segmentation drawn 400 mm away from the CT.
    volumeNode, elsewhere = addPhantom(scene, offsetMm=(400.0, 0.0, 0.0))
    with pytest.raises(ValueError, match=r"Segmentation 'Phantom segments RAS' does not overlap CT volume 'Phantom CT RAS'"):
        slicePictures.sliceImages(volumeNode, elsewhere, PLAN)


# --- 3D ----------------------------------------------------------------------------------------------


def _render(segmentationNode, plan, size):
    try:
        return threeDPicture.render3D(segmentationNode, plan, size=size)
    except threeDPicture.RenderingUnavailable as reason:
        pytest.skip(f"no offscreen rendering here: {reason}")


def _colourClasses(pixels):
    r, g, b = (pixels[..., channel].astype(int) for channel in range(3))
    green = (g > r + 60) & (g > b + 40)
    tumour = (r > 150) & (g > 90) & (b < 90)
    red = (r > g + 20) & (r > b + 20) & ~tumour  # the translucent resected liver, pink on white
    return green, red, tumour


def test_render3DShowsTheRemnantOnThePatientsLeft(slicerContext, tmp_path):
    _, segmentationNode = addPhantom(slicerContext.scene)
    image = _render(segmentationNode, PLAN, (240, 180))
    pixels = decodePng(image.png, tmp_path)
    assert pixels.shape == (180, 240, 3) and (image.widthPx, image.heightPx) == (240, 180) and image.kind == "3d"
    assert np.all(pixels[0, 0] == 255) and np.all(pixels[-1, -1] == 255)  # white background
    green, red, tumour = _colourClasses(pixels)
    # The remnant (I, II, III) lies at x < 0, the patient's left: the image's right half.
    greenColumns = np.nonzero(green)[1]
    assert green.sum() > 500 and greenColumns.min() >= 120 - 3
    assert red.sum() > 500 and np.nonzero(red)[1].mean() < 120
    # The tumour in VII (patient right, superior) seen through the translucent resection: upper left.
    tumourRows, tumourColumns = np.nonzero(tumour)
    assert tumour.sum() > 20 and tumourColumns.mean() < 120 and tumourRows.mean() < 90
    assert "anterior" in image.caption and "Tumour" in image.caption


def test_render3DOfTheSyntheticPatient(slicerContext, tmp_path):
    point = syntheticPatient.makeTimePoint("pre-stage 1", -3, 1.0, spacing=(3.0, 3.0, 4.0))
    volumeNode, segmentationNode = syntheticPatientScene.addTimePointNodes(slicerContext.scene, point, "Synthetic")
    # Truth from the phantom's own arrays: II+III sit on the patient's left of the resected segments.
    x = voxelCentres(point.couinaudLabels.shape, point.ijkToRAS)[0]
    assert x[np.isin(point.couinaudLabels, (2, 3))].mean() < x[point.couinaudLabels >= 4].mean()
    image = _render(segmentationNode, PLAN, (320, 240))
    green, red, _ = _colourClasses(decodePng(image.png, tmp_path))
    assert green.sum() > 1000 and red.sum() > 1000
    assert np.nonzero(green)[1].mean() > 160 > np.nonzero(red)[1].mean()
    # The slices' position follows the liver's centroid (numpy truth), within half a slice.
    images = slicePictures.sliceImages(volumeNode, segmentationNode, PLAN)
    liver = point.couinaudLabels > 0
    centres = voxelCentres(point.couinaudLabels.shape, point.ijkToRAS)
    assert abs(images["axial"].positionMm - centres[2][liver].mean()) <= 2.0
    assert abs(images["coronal"].positionMm - centres[1][liver].mean()) <= 1.5


def test_render3DReportsWhyItCannotRender(slicerContext, monkeypatch):
    _, segmentationNode = addPhantom(slicerContext.scene)
    monkeypatch.setattr(threeDPicture, "_offscreenRenderingProblem", lambda: "no OpenGL context (test)")
    with pytest.raises(threeDPicture.RenderingUnavailable, match="no OpenGL context"):
        threeDPicture.render3D(segmentationNode, PLAN)
