"""Functional image (SPECT-like) to CT registration: the RAS/LPS helpers, recovery of a known
misalignment (target registration error computed here from the known matrix), the refusal of
images that do not overlap, the transform node in the scene, resampling onto the CT grid and
the overlay display.

The synthetic SPECT is built here with numpy only (nearest lookup of a blurred activity map at
``truth @ q`` for every SPECT voxel centre q), so the meaning of the known matrix does not
depend on the module under test: ``truth`` maps functional RAS to CT RAS.
"""

import math

import numpy as np
import pytest
import SimpleITK as sitk
import vtk
from ALPPSAssessmentLib.functional import functionalOverlay
from ALPPSAssessmentLib.functional import imageRegistration as registration
from ALPPSVolumetryLib import imageGrid, syntheticPatient
from ALPPSVolumetryLib.segments import segmentationImport
from alpps.benchmark import benchmarkRegistration

SPECT_SIZE = 64
SPECT_SPACING = 4.8


def _rotation(axis, degrees):
    axis = np.asarray(axis, dtype=float) / np.linalg.norm(axis)
    angle = math.radians(degrees)
    cross = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + math.sin(angle) * cross + (1 - math.cos(angle)) * cross @ cross


def _rigid(translation, axis, degrees, centre):
    matrix = np.eye(4)
    rotation = _rotation(axis, degrees)
    matrix[:3, :3] = rotation
    matrix[:3, 3] = np.asarray(centre) - rotation @ np.asarray(centre) + np.asarray(translation)
    return matrix


def _voxelCentres(shape, ijkToRAS, mask=None):
    """RAS of voxel centres (N x 3), all or where ``mask`` ([k, j, i]) is true."""
    if mask is None:
        mask = np.ones(shape, dtype=bool)
    kji = np.argwhere(mask)
    ijk1 = np.c_[kji[:, ::-1], np.ones(len(kji))]
    return (ijkToRAS @ ijk1.T)[:3].T


def _nearestLookup(array, ijkToRAS, pointsRAS, outside=0.0):
    ijk = (np.linalg.inv(ijkToRAS) @ np.c_[pointsRAS, np.ones(len(pointsRAS))].T)[:3].T
    index = np.round(ijk).astype(int)
    size = np.array(array.shape[::-1])
    inside = np.all((index >= 0) & (index < size), axis=1)
    values = np.full(len(pointsRAS), outside, dtype=np.float64)
    values[inside] = array[index[inside, 2], index[inside, 1], index[inside, 0]]
    return values


@pytest.fixture(scope="module")
def patient():
    timePoint = syntheticPatient.makeTimePoint("pre-stage 1", -3, 1.0, spacing=(3.0, 3.0, 3.0))
    liver = timePoint.couinaudLabels > 0
    liverPoints = _voxelCentres(liver.shape, timePoint.ijkToRAS, liver)
    centre = liverPoints.mean(axis=0)
    # Known misalignment: 14.6 mm translation, 5 degrees about an oblique axis through the liver.
    truth = _rigid((10.0, -8.0, 7.0), (0.3, 0.4, 1.0), 5.0, centre)
    # Mebrofenin-like activity: liver bright, tumours cold, blood pool and background low.
    activity = np.where(timePoint.ct > -500, 0.03, 0.0).astype(np.float32)
    activity[timePoint.structures["Spleen"]] = 0.05
    activity[timePoint.structures["Inferior vena cava"] | timePoint.structures["Portal vein"]] = 0.15
    activity[liver & ~timePoint.structures["Portal vein"]] = 1.0
    for name, _, _ in syntheticPatient.TUMOURS:
        activity[timePoint.structures[name]] = 0.1
    blurImage = sitk.GetImageFromArray(activity)
    blurImage.SetSpacing((3.0, 3.0, 3.0))  # isotropic blur: orientation does not matter
    blurred = sitk.GetArrayFromImage(sitk.SmoothingRecursiveGaussian(blurImage, 12.0 / 2.3548))
    # SPECT grid as a scanner stores it (LPS-aligned), centred on the CT's centre.
    spectToRAS = np.diag([-SPECT_SPACING, -SPECT_SPACING, SPECT_SPACING, 1.0])
    ctCentre = timePoint.ijkToRAS @ np.r_[(np.array(timePoint.ct.shape[::-1]) - 1) / 2.0, 1.0]
    spectToRAS[:3, 3] = ctCentre[:3] - spectToRAS[:3, :3] @ np.full(3, (SPECT_SIZE - 1) / 2.0)
    shape = (SPECT_SIZE,) * 3
    spectPoints = _voxelCentres(shape, spectToRAS)
    ctPoints = (truth @ np.c_[spectPoints, np.ones(len(spectPoints))].T)[:3].T
    expected = _nearestLookup(blurred, timePoint.ijkToRAS, ctPoints).reshape(shape)
    rng = np.random.default_rng(7)
    spect = rng.poisson(np.clip(expected, 0.0, None) * 200.0).astype(np.float32)
    return {
        "timePoint": timePoint,
        "liver": liver,
        "liverPoints": liverPoints,
        "truth": truth,
        "spect": spect,
        "spectToRAS": spectToRAS,
    }


def _tre(estimated, truth, pointsRAS):
    """Mean distance (mm) between the estimated and the true images of the functional points that
    correspond to CT liver points."""
    points = np.c_[pointsRAS, np.ones(len(pointsRAS))].T
    functional = np.linalg.inv(truth) @ points
    return float(np.linalg.norm((estimated @ functional - points)[:3], axis=0).mean())


# --- Helpers ----------------------------------------------------------------------------------------


def test_rasLpsHelpersRoundTrip():
    rng = np.random.default_rng(3)
    array = rng.normal(size=(5, 6, 7)).astype(np.float32)
    ijkToRAS = np.eye(4)
    ijkToRAS[:3, :3] = _rotation((1.0, -2.0, 0.5), 20.0) @ np.diag([0.8, 1.1, 2.5])
    ijkToRAS[:3, 3] = (12.0, -40.0, 7.5)
    image = imageGrid.sitkImageFromArray(array, ijkToRAS)
    back, matrix = imageGrid.arrayAndIjkToRasFromSitk(image)
    assert np.array_equal(back, array)
    np.testing.assert_allclose(matrix, ijkToRAS, atol=1e-9)
    # The same voxel in both conventions: LPS = RAS with x and y negated; index (i, j, k) -> array[k, j, i].
    i, j, k = 6, 2, 4
    ras = ijkToRAS @ np.array([i, j, k, 1.0])
    np.testing.assert_allclose(image.TransformIndexToPhysicalPoint((i, j, k)), (-ras[0], -ras[1], ras[2]), atol=1e-9)
    assert image.GetPixel(i, j, k) == array[k, j, i]


def test_slicerDefaultGridIsAnLpsAlignedItkImage():
    """A CT as Slicer holds it, IJK-to-RAS diag(-sx, -sy, sz), is stored LPS-aligned: ITK
    direction identity, origin with x and y negated."""
    shape, ijkToRAS = syntheticPatient.defaultGeometry((3.0, 3.0, 3.0))
    image = imageGrid.sitkImageFromArray(np.zeros(shape, dtype=np.int16), ijkToRAS)
    np.testing.assert_allclose(image.GetDirection(), np.eye(3).ravel())
    np.testing.assert_allclose(image.GetOrigin(), (-ijkToRAS[0, 3], -ijkToRAS[1, 3], ijkToRAS[2, 3]))
    assert image.GetSize() == (shape[2], shape[1], shape[0])


def test_badGridsAreRefused():
    with pytest.raises(ValueError, match="3-D array"):
        imageGrid.sitkImageFromArray(np.zeros((4, 4)), np.eye(4))
    with pytest.raises(ValueError, match="4x4"):
        imageGrid.sitkImageFromArray(np.zeros((2, 2, 2)), np.eye(3))
    sheared = np.eye(4)
    sheared[0, 1] = 0.5
    with pytest.raises(ValueError, match="sheared"):
        imageGrid.sitkImageFromArray(np.zeros((2, 2, 2)), sheared)
    with pytest.raises(ValueError, match="SimpleITK image"):
        imageGrid.arrayAndIjkToRasFromSitk(np.zeros((2, 2, 2)))


def test_transformDirectionConvention():
    """The SimpleITK transform maps CT (LPS) points to functional (LPS) points; the Slicer
    matrix maps functional RAS to CT RAS."""
    toParent = _rigid((5.0, -3.0, 2.0), (0.0, 1.0, 1.0), 7.0, (10.0, 20.0, 30.0))
    transform = imageGrid.sitkTransformFromToParent(toParent)
    np.testing.assert_allclose(imageGrid.toParentFromSitkTransform(transform), toParent, atol=1e-9)
    functionalRAS = np.array([31.0, -12.0, 44.0, 1.0])
    ctRAS = toParent @ functionalRAS
    mapped = transform.TransformPoint((-ctRAS[0], -ctRAS[1], ctRAS[2]))
    np.testing.assert_allclose(mapped, (-functionalRAS[0], -functionalRAS[1], functionalRAS[2]), atol=1e-9)


# --- Registration -------------------------------------------------------------------------------------


def _images(patient):
    timePoint = patient["timePoint"]
    ct = imageGrid.sitkImageFromArray(timePoint.ct, timePoint.ijkToRAS)
    mask = imageGrid.sitkImageFromArray(patient["liver"], timePoint.ijkToRAS)
    spect = imageGrid.sitkImageFromArray(patient["spect"], patient["spectToRAS"])
    return ct, mask, spect


@pytest.mark.parametrize("useMask", [True, False], ids=["liver mask", "no mask"])
def test_rigidRegistrationRecoversKnownMisalignment(patient, useMask):
    ct, mask, spect = _images(patient)
    before = _tre(np.eye(4), patient["truth"], patient["liverPoints"])
    assert before > 10.0, "the misalignment must be real"
    result = registration.registerFunctionalToCt(ct, spect, ctLiverMask=mask if useMask else None, numberOfThreads=2)
    tre = _tre(result.matrixToParent, patient["truth"], patient["liverPoints"])
    assert tre < 2.0, result.describe()
    assert result.succeeded and result.converged
    assert result.metricFinal < result.metricInitial
    assert result.iterations == sum(result.iterationsPerLevel) > 0
    assert "step" in result.stopReason.lower()
    assert result.rotationDegrees == pytest.approx(5.0, abs=1.0)
    if useMask:
        assert result.initialization == "moments"
        assert result.diceAfter > 0.9 and result.diceAfter > result.diceBefore
    else:
        assert result.initialization == "geometry" and result.diceAfter is None
    document = result.asDict()
    assert document["matrixConvention"].startswith("RAS, functional image -> CT")
    assert np.allclose(document["matrixToParent"], result.matrixToParent)


def test_affineRegistrationAlsoRecoversARigidMisalignment(patient):
    ct, mask, spect = _images(patient)
    result = registration.registerFunctionalToCt(ct, spect, mode="affine", ctLiverMask=mask, numberOfThreads=2)
    assert _tre(result.matrixToParent, patient["truth"], patient["liverPoints"]) < 2.0, result.describe()
    assert len(result.iterationsPerLevel) == 6  # three levels rigid, three affine


def test_nonOverlappingImageIsRefused(patient):
    ct, _, _ = _images(patient)
    farAway = patient["spectToRAS"].copy()
    farAway[2, 3] += 2000.0
    spect = imageGrid.sitkImageFromArray(patient["spect"], farAway)
    with pytest.raises(ValueError, match=r"functional image does not overlap the CT \(RAS bounds"):
        registration.registerFunctionalToCt(ct, spect)


def test_failuresAreDetected(patient):
    ct, mask, spect = _images(patient)
    with pytest.raises(ValueError, match="did not converge"):
        registration.registerFunctionalToCt(ct, spect, ctLiverMask=mask, numberOfIterations=2, stepMm=0.05)
    kept = registration.registerFunctionalToCt(ct, spect, ctLiverMask=mask, numberOfIterations=2, stepMm=0.05, allowFailure=True)
    assert not kept.succeeded and any("did not converge" in failure for failure in kept.failures)


def test_badRegistrationInputsAreRefused(patient):
    ct, mask, spect = _images(patient)
    with pytest.raises(ValueError, match="mode 'elastic' is unknown"):
        registration.registerFunctionalToCt(ct, spect, mode="elastic")
    with pytest.raises(ValueError, match="needs a CT liver mask"):
        registration.registerFunctionalToCt(ct, spect, initialization="moments")
    with pytest.raises(ValueError, match="not on the CT grid"):
        registration.registerFunctionalToCt(ct, spect, ctLiverMask=spect)
    with pytest.raises(ValueError, match="one positive integer factor and one sigma"):
        registration.registerFunctionalToCt(ct, spect, shrinkFactors=(4, 2), smoothingSigmas=(1.0,))


# --- Slicer nodes -------------------------------------------------------------------------------------


def _sceneNodes(slicerContext, patient):
    scene = slicerContext.scene
    timePoint = patient["timePoint"]
    ctNode = segmentationImport.addVolumeFromArray(scene, "Planning CT", timePoint.ct, timePoint.ijkToRAS)
    spectNode = segmentationImport.addVolumeFromArray(scene, "Mebrofenin SPECT", patient["spect"], patient["spectToRAS"])
    segmentationNode = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Liver")
    segmentationNode.CreateDefaultDisplayNodes()
    segmentationImport.importMaskArrays(segmentationNode, {"Liver": patient["liver"]}, timePoint.ijkToRAS)
    return scene, ctNode, spectNode, segmentationNode


def test_transformNodeMovesTheFunctionalVolumeOntoTheCt(slicerContext, patient):
    scene, ctNode, spectNode, segmentationNode = _sceneNodes(slicerContext, patient)
    registered = registration.registerFunctionalVolume(ctNode, spectNode, maskSegmentation=segmentationNode, numberOfThreads=2)
    transformNode = registered.transformNode
    assert transformNode.GetName() == "Mebrofenin SPECT to Planning CT"
    assert transformNode.IsA("vtkMRMLLinearTransformNode")
    assert spectNode.GetParentTransformNode() is transformNode
    assert transformNode.GetAttribute("ALPPS.Registration.Succeeded") == "yes"
    truth = patient["truth"]
    assert _tre(registered.result.matrixToParent, truth, patient["liverPoints"]) < 2.0

    # Slicer itself moves functional points as the known matrix does.
    toWorld = vtk.vtkGeneralTransform()
    transformNode.GetTransformToWorld(toWorld)
    for point in ([0.0, 0.0, 0.0], [60.0, -20.0, 30.0], [-40.0, 10.0, -20.0]):
        np.testing.assert_allclose(toWorld.TransformPoint(point), (truth @ np.r_[point, 1.0])[:3], atol=2.5)

    # The volume's world bounds are those of its box moved by the true transform.
    local = [0.0] * 6
    spectNode.GetBounds(local)
    world = [0.0] * 6
    spectNode.GetRASBounds(world)
    corners = np.array([[x, y, z, 1.0] for x in local[0:2] for y in local[2:4] for z in local[4:6]])
    moved = (truth @ corners.T)[:3]
    np.testing.assert_allclose(world[0::2], moved.min(axis=1), atol=4.0)
    np.testing.assert_allclose(world[1::2], moved.max(axis=1), atol=4.0)
    assert max(abs(a - b) for a, b in zip(local, world)) > 10.0

    # On the CT grid the bright functional liver now lies on the CT liver.
    onCt = functionalOverlay.resampleOntoCt(spectNode, ctNode)
    values = slicerContextArray(onCt)
    bright = values > 0.5 * np.percentile(values[values > 0], 99.5)
    liver = patient["liver"]
    dice = 2.0 * np.count_nonzero(bright & liver) / (bright.sum() + liver.sum())
    assert dice > 0.9
    assert onCt.GetName() == "Mebrofenin SPECT on Planning CT grid"

    # A second registration starts from the current transform and reuses the node.
    again = registration.registerFunctionalVolume(ctNode, spectNode, maskSegmentation=segmentationNode, numberOfThreads=2)
    assert again.transformNode is transformNode
    assert again.result.initialization == "initial matrix"
    assert scene.GetNumberOfNodesByClass("vtkMRMLLinearTransformNode") == 1


def slicerContextArray(volumeNode):
    return np.array(imageGrid.volumeNodeArray(volumeNode))


def test_resampleOntoCtGivesExpectedValuesAtKnownPoints(slicerContext):
    scene = slicerContext.scene
    # Functional image: a linear ramp of its own RAS coordinates (linear interpolation is exact).
    functionalToRAS = np.diag([4.0, 4.0, 5.0, 1.0])
    functionalToRAS[:3, 3] = (-80.0, -80.0, -100.0)
    shape = (41, 41, 41)
    points = _voxelCentres(shape, functionalToRAS)
    ramp = lambda p: 20.0 + 0.5 * p[..., 0] - 0.25 * p[..., 1] + 0.1 * p[..., 2]  # noqa: E731
    functionalNode = segmentationImport.addVolumeFromArray(scene, "Ramp", ramp(points).reshape(shape).astype(np.float32), functionalToRAS)
    toParent = _rigid((6.0, -4.0, 3.0), (0.2, 1.0, 0.3), 8.0, (0.0, 0.0, 0.0))
    transformNode = scene.AddNewNodeByClass("vtkMRMLLinearTransformNode", "known")
    transformNode.SetMatrixTransformToParent(imageGrid.vtkMatrixFromArray(toParent))
    functionalNode.SetAndObserveTransformNodeID(transformNode.GetID())
    ctToRAS = np.diag([-3.0, -3.0, 3.0, 1.0])
    ctToRAS[:3, 3] = (45.0, 45.0, -45.0)
    ctShape = (31, 31, 31)
    ctNode = segmentationImport.addVolumeFromArray(scene, "CT", np.zeros(ctShape, dtype=np.int16), ctToRAS)

    onCt = functionalOverlay.resampleOntoCt(functionalNode, ctNode, name="Ramp on CT")
    values = slicerContextArray(onCt)
    assert values.shape == ctShape and onCt.GetName() == "Ramp on CT"
    np.testing.assert_allclose(imageGrid.nodeIjkToRas(onCt), ctToRAS)
    ctPoints = _voxelCentres(ctShape, ctToRAS)
    functionalPoints = (np.linalg.inv(toParent) @ np.c_[ctPoints, np.ones(len(ctPoints))].T)[:3].T
    expected = ramp(functionalPoints).reshape(ctShape)
    # Every CT voxel of this grid lies inside the functional grid (-80..80, -80..80, -100..100).
    np.testing.assert_allclose(values, expected, atol=1e-3)
    # Known points by hand: CT voxel (i, j, k) = (15, 15, 15) is RAS (0, 0, 0).
    centre = np.linalg.inv(toParent) @ np.array([0.0, 0.0, 0.0, 1.0])
    assert values[15, 15, 15] == pytest.approx(20.0 + 0.5 * centre[0] - 0.25 * centre[1] + 0.1 * centre[2], abs=1e-3)
    # Outside the functional image: the default value.
    farNode = segmentationImport.addVolumeFromArray(scene, "Far CT", np.zeros((3, 3, 3), dtype=np.int16), np.diag([1.0, 1.0, 1.0, 1.0]) + np.c_[np.zeros((4, 3)), [500.0, 0.0, 0.0, 0.0]])
    assert np.all(slicerContextArray(functionalOverlay.resampleOntoCt(functionalNode, farNode, defaultValue=-1.0)) == -1.0)


def test_showAsOverlayWorksHeadlessAndInSliceViews(slicerContext, patient):
    scene, ctNode, spectNode, _ = _sceneNodes(slicerContext, patient)
    display = functionalOverlay.showAsOverlay(spectNode, backgroundVolumeNode=ctNode)
    assert display.sliceViewsUpdated == 0
    assert display.colorName in functionalOverlay.OVERLAY_COLOR_NAMES
    displayNode = spectNode.GetDisplayNode()
    assert displayNode.GetColorNodeID() == display.colorNodeId
    assert not displayNode.GetAutoWindowLevel()
    assert displayNode.GetWindow() == pytest.approx(display.windowMax - display.windowMin)
    # With slice views, as inside Slicer: the functional volume becomes the foreground at 0.5.
    compositeNodes = [scene.AddNewNodeByClass("vtkMRMLSliceCompositeNode") for _ in range(3)]
    display = functionalOverlay.showAsOverlay(spectNode, backgroundVolumeNode=ctNode, colorName="Grey", opacity=0.5)
    assert display.sliceViewsUpdated == 3 and display.colorName == "Grey"
    for compositeNode in compositeNodes:
        assert compositeNode.GetForegroundVolumeID() == spectNode.GetID()
        assert compositeNode.GetBackgroundVolumeID() == ctNode.GetID()
        assert compositeNode.GetForegroundOpacity() == pytest.approx(0.5)
    with pytest.raises(ValueError, match="Colour table 'NoSuchTable' is not in the scene"):
        functionalOverlay.showAsOverlay(spectNode, colorName="NoSuchTable")


def test_benchmarkAtReducedSize():
    figures = benchmarkRegistration(ctSize=(192, 192, 110), functionalSize=64, printTime=False)
    assert figures["seconds"] < 10.0
    assert figures["treMeanMm"] < 2.0
    assert figures["registration"]["succeeded"]
    assert figures["ctSize"] == [192, 192, 110]


def test_liverMaskSegmentsAreRecognisedWithoutTheSpleen(slicerContext, patient):
    from ALPPSVolumetryLib import syntheticPatientScene

    _, segmentationNode = syntheticPatientScene.addTimePointNodes(slicerContext.scene, patient["timePoint"], "Case")
    segmentation = segmentationNode.GetSegmentation()
    names = sorted(segmentation.GetSegment(segmentId).GetName() for segmentId in registration.liverSegmentIds(segmentationNode))
    assert names == sorted([f"Segment {s}" for s in ("I", "II", "III", "IV", "V", "VI", "VII", "VIII")] + ["Tumour 1", "Tumour 2", "Tumour 3"])
    spleenOnly = slicerContext.scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Spleen only")
    segmentationImport.importMaskArrays(spleenOnly, {"Spleen": patient["timePoint"].structures["Spleen"]}, patient["timePoint"].ijkToRAS)
    with pytest.raises(ValueError, match="no segment recognised as liver"):
        registration.liverSegmentIds(spleenOnly)
