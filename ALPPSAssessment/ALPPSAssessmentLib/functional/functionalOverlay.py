"""Functional images shown over the planning CT: presets (colour table and window) as data, the
map to show resampled onto the CT grid (registration transform applied), and its display.

A preset says which map is shown and how:
- SPECT counts (99mTc-mebrofenin): the SPECT normalised to its mean count in the liver (the
  segmentation's liver segments on the CT grid; 1 = liver mean, so maps of two days compare
  whatever the injected activity), colour 'PET-Heat', window from the 5th to the 95th percentile
  of the liver voxels;
- MRI relative enhancement (gadoxetate, clinical reference section 6): RLE = (HBP - pre) / pre per
  voxel, a fraction, shown from 0 to 1.5 (0-150 %);
- MRI liver-to-spleen ratio minus one: L/S - 1 = HBP / mean spleen signal (HBP) - 1 per voxel,
  shown from 0 to 1.5, for when no pre-contrast series exists.
Voxels below ``hideBelowFraction`` of the window are hidden (the CT shows through). Windows are
display choices, not thresholds of any index.
"""

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from ALPPSVolumetryLib.planning import planDisplay
from ALPPSVolumetryLib.imageGrid import (
    checkedVolumeNode,
    nodeIjkToRas,
    resampleArray,
    resampledArray,
    segmentMaskOnVolumeGrid,
    toWorldMatrix,
    volumeNodeArray,
)
from ALPPSVolumetryLib.segments.segmentationImport import addVolumeFromArray

from . import gadoxetateImages, gadoxetateIndices, gadoxetateWorkflow, imageRegistration

COUNTS = "counts"
RELATIVE_ENHANCEMENT = gadoxetateIndices.RLE_MAP
LIVER_SPLEEN = gadoxetateIndices.LIVER_SPLEEN_MAP
LIVER_PERCENTILES = "liver percentiles"
FIXED = "fixed"

# Attribute on the overlay map node: which preset made it (a later run replaces it).
PRESET_ATTRIBUTE = "ALPPS.Overlay.Preset"


@dataclass(frozen=True)
class OverlayPreset:
    """How a functional map is shown. ``window``: percentiles of the liver voxels (for
    ``LIVER_PERCENTILES``) or values (for ``FIXED``); ``colorNames``: colour tables by
    preference (the first present in the scene is used)."""

    key: str
    modality: str
    source: str  # COUNTS, RELATIVE_ENHANCEMENT or LIVER_SPLEEN
    windowKind: str  # LIVER_PERCENTILES or FIXED
    window: Tuple[float, float]
    colorNames: Tuple[str, ...]
    hideBelowFraction: float
    description: str


SPECT_LIVER_COUNTS = "SPECT counts: PET-Heat, 5-95 % of liver counts"
# The SPECT map's unit once normalised (attribute on the map node).
NORMALISED_COUNTS_UNIT = "counts / mean liver count"
UNIT_ATTRIBUTE = "ALPPS.Overlay.Unit"
MRI_RELATIVE_ENHANCEMENT = "MRI relative enhancement: 0-150 %"
MRI_LIVER_SPLEEN = "MRI liver-to-spleen ratio minus one: 0-1.5"

OVERLAY_PRESETS = {
    preset.key: preset
    for preset in (
        OverlayPreset(
            SPECT_LIVER_COUNTS, "SPECT", COUNTS, LIVER_PERCENTILES, (5.0, 95.0), ("PET-Heat", "Inferno", "Iron"), 0.05,
            "SPECT counts resampled onto the CT and divided by their mean in the liver segments (1 = liver mean); window from "
            "the 5th to the 95th percentile of the liver voxels",
        ),
        OverlayPreset(
            MRI_RELATIVE_ENHANCEMENT, "MRI", RELATIVE_ENHANCEMENT, FIXED, (0.0, 1.5), ("Inferno", "PET-Heat", "Iron"), 0.0,
            "gadoxetate relative enhancement (HBP - pre) / pre per voxel, resampled onto the CT; window 0-1.5 (0-150 %)",
        ),
        OverlayPreset(
            MRI_LIVER_SPLEEN, "MRI", LIVER_SPLEEN, FIXED, (0.0, 1.5), ("Inferno", "PET-Heat", "Iron"), 0.0,
            "gadoxetate HBP signal / mean spleen signal - 1 per voxel, resampled onto the CT; window 0-1.5",
        ),
    )
}
DEFAULT_OVERLAY_PRESET = SPECT_LIVER_COUNTS


def overlayPreset(key):
    if key not in OVERLAY_PRESETS:
        raise ValueError(f"Overlay preset '{key}' is unknown: expected one of {', '.join(OVERLAY_PRESETS)}")
    return OVERLAY_PRESETS[key]


def presetWindow(preset, values, liverMask=None):
    """(low, high) display window of ``preset`` for a map's ``values`` (array); ``liverMask`` (same
    shape) selects the liver voxels a percentile window is taken from (without it: every
    positive voxel). Non-finite values are left out."""
    if isinstance(preset, str):
        preset = overlayPreset(preset)
    if preset.windowKind == FIXED:
        return float(preset.window[0]), float(preset.window[1])
    array = np.asarray(values, dtype=float)
    if liverMask is not None:
        mask = np.asarray(liverMask, dtype=bool)
        if mask.shape != array.shape:
            raise ValueError(f"Liver mask has shape {mask.shape}, the map {array.shape}: expected the mask on the map's grid")
        selected, where = array[mask], "the liver"
    else:
        selected, where = array[array > 0], "the positive voxels"
    selected = selected[np.isfinite(selected)]
    if selected.size == 0:
        raise ValueError(f"The overlay map has no value in {where}: expected the functional image to cover the liver (check the registration)")
    low, high = (float(value) for value in np.percentile(selected, preset.window))
    if not high > low:
        raise ValueError(f"The overlay window {low:g}..{high:g} from the {preset.window[0]:g}th-{preset.window[1]:g}th percentiles of {where} is empty: expected counts that vary over the liver")
    return low, high


def _colorName(scene, preset):
    # None: showAsOverlay falls back to its own list.
    return next((name for name in preset.colorNames if _colorNodeByName(scene, name) is not None), None)

# --- Display of a volume as an overlay ----------------------------------------------------------------

# Colour tables for functional overlays, by name, best first. Inside Slicer 'Inferno' exists (a
# colour file); slicer-core builds the procedural and built-in tables only ('PET-Heat', 'Iron',
# 'Rainbow', 'Grey').
OVERLAY_COLOR_NAMES = ("Inferno", "PET-Heat", "Iron", "Rainbow", "Grey")


@dataclass
class OverlayDisplay:
    colorNodeId: str
    colorName: str
    windowMin: float
    windowMax: float
    sliceViewsUpdated: int


def _colorNodeByName(scene, name):
    for index in range(scene.GetNumberOfNodesByClass("vtkMRMLColorNode")):
        node = scene.GetNthNodeByClass(index, "vtkMRMLColorNode")
        if node.GetName() == name:
            return node
    return None


def showAsOverlay(functionalVolumeNode, backgroundVolumeNode=None, colorName=None, windowMin=None, windowMax=None, opacity=0.5, hideBelowFraction=0.05,
                  layoutNames=None):
    """Show a functional volume as a coloured overlay: a colour table (``colorName``, or the first
    of ``OVERLAY_COLOR_NAMES`` present in the scene), a window from ``windowMin`` to ``windowMax``
    (default 0 to the 99.5th percentile of the positive voxels) and voxels below
    ``hideBelowFraction`` of the window hidden; in every slice view (when there are any, as
    inside Slicer) the volume becomes the foreground at ``opacity`` over ``backgroundVolumeNode``.
    ``layoutNames`` ('Red', 'Green', ...) limits the views. Headless scenes have no slice views
    unless they were made (``sliceCompositeNodes``): then only the display node is set."""
    checkedVolumeNode(functionalVolumeNode, "Functional volume")
    if not 0.0 <= opacity <= 1.0:
        raise ValueError(f"Overlay opacity {opacity!r} is out of range: expected a fraction from 0 to 1")
    scene = functionalVolumeNode.GetScene()
    if colorName is not None:
        colorNode = _colorNodeByName(scene, colorName)
        if colorNode is None:
            raise ValueError(f"Colour table '{colorName}' is not in the scene: expected one of the scene's colour nodes")
    else:
        colorNode = next((node for node in (_colorNodeByName(scene, name) for name in OVERLAY_COLOR_NAMES) if node), None)
        if colorNode is None:
            raise ValueError(f"None of the colour tables {', '.join(OVERLAY_COLOR_NAMES)} is in the scene: expected Slicer's default colour nodes")
    values = volumeNodeArray(functionalVolumeNode)
    positive = values[values > 0]
    low = 0.0 if windowMin is None else float(windowMin)
    high = (float(np.percentile(positive, imageRegistration.ROBUST_MAXIMUM_PERCENTILE)) if positive.size else 1.0) if windowMax is None else float(windowMax)
    if not high > low:
        raise ValueError(f"Overlay window {low:g}..{high:g} is empty: expected windowMax above windowMin")
    displayNode = functionalVolumeNode.GetDisplayNode()
    if displayNode is None:
        functionalVolumeNode.CreateDefaultDisplayNodes()
        displayNode = functionalVolumeNode.GetDisplayNode()
    displayNode.SetAndObserveColorNodeID(colorNode.GetID())
    displayNode.AutoWindowLevelOff()
    displayNode.SetWindowLevelMinMax(low, high)
    displayNode.SetApplyThreshold(1 if hideBelowFraction > 0 else 0)
    if hideBelowFraction > 0:
        displayNode.SetThreshold(low + hideBelowFraction * (high - low), float(values.max()) + 1.0)
    updated = 0
    for index in range(scene.GetNumberOfNodesByClass("vtkMRMLSliceCompositeNode")):
        compositeNode = scene.GetNthNodeByClass(index, "vtkMRMLSliceCompositeNode")
        if layoutNames is not None and compositeNode.GetLayoutName() not in layoutNames:
            continue
        if backgroundVolumeNode is not None:
            compositeNode.SetBackgroundVolumeID(backgroundVolumeNode.GetID())
        compositeNode.SetForegroundVolumeID(functionalVolumeNode.GetID())
        compositeNode.SetForegroundOpacity(float(opacity))
        updated += 1
    return OverlayDisplay(colorNode.GetID(), colorNode.GetName(), low, high, updated)


def sliceCompositeNodes(scene, layoutNames=("Red", "Yellow", "Green")):
    """The slice views' composite nodes, made when the scene has none (a headless scene): saved
    with the scene, they make Slicer open it with the same layers in each view, as a scene saved
    from Slicer does."""
    nodes = {}
    for index in range(scene.GetNumberOfNodesByClass("vtkMRMLSliceCompositeNode")):
        node = scene.GetNthNodeByClass(index, "vtkMRMLSliceCompositeNode")
        nodes[node.GetLayoutName()] = node
    for name in layoutNames:
        if name not in nodes:
            node = scene.CreateNodeByClass("vtkMRMLSliceCompositeNode")
            node.SetLayoutName(name)  # also its singleton tag: Slicer merges it into its own view on load
            nodes[name] = scene.AddNode(node)
            node.UnRegister(None)
    return nodes


def _volumeOnCtGrid(ctVolumeNode, name, array):
    """A new scalar volume node holding ``array`` on the CT grid, under the CT's parent transform."""
    node = addVolumeFromArray(ctVolumeNode.GetScene(), name, array, nodeIjkToRas(ctVolumeNode))
    parent = ctVolumeNode.GetParentTransformNode()
    if parent is not None:
        node.SetAndObserveTransformNodeID(parent.GetID())
    return node


def resampleOntoCt(functionalVolumeNode, ctVolumeNode, name=None, defaultValue=0.0):
    """A new scalar volume node with the functional values on the CT grid (linear interpolation,
    world coordinates, so the functional volume's registration transform is applied), for
    voxel-wise maps and overlays. It sits under the CT's parent transform, if any."""
    array = resampledArray(functionalVolumeNode, ctVolumeNode, "linear", defaultValue)
    return _volumeOnCtGrid(ctVolumeNode, name or f"{functionalVolumeNode.GetName()} on {ctVolumeNode.GetName()} grid", array)


@dataclass
class OverlayOutcome:
    mapNode: object  # scalar volume on the CT grid
    display: OverlayDisplay
    window: Tuple[float, float]
    preset: OverlayPreset
    liverVoxels: Optional[int]
    summary: str


def _mapOnCtGrid(preset, ctVolumeNode, functionalVolumeNode, hbpVolumeNode, preVolumeNode, segmentationNode, spleenSegment):
    """The preset's map resampled onto the CT grid in world coordinates (float32 [k, j, i])."""
    if preset.source == COUNTS:
        if functionalVolumeNode is None:
            raise ValueError(f"The preset '{preset.key}' shows the SPECT: select the functional volume (registered to the CT) first")
        return resampledArray(checkedVolumeNode(functionalVolumeNode, "Functional volume"), ctVolumeNode, "linear", 0.0)
    if hbpVolumeNode is None:
        raise ValueError(f"The preset '{preset.key}' needs the hepatobiliary-phase MRI: select it in the Gadoxetate MRI section")
    if preset.source == RELATIVE_ENHANCEMENT:
        if preVolumeNode is None:
            raise ValueError(f"The preset '{preset.key}' needs the pre-contrast MRI; without one use '{MRI_LIVER_SPLEEN}'")
        enhancement = gadoxetateImages.relativeEnhancementMap(preVolumeNode, hbpVolumeNode)
    else:
        spleenId = gadoxetateWorkflow._spleenSegmentId(segmentationNode, spleenSegment) if segmentationNode is not None else None
        if spleenId is None:
            raise ValueError(f"The preset '{preset.key}' needs the spleen signal: expected a segment named 'Spleen' (or enter its name)")
        spleen = gadoxetateImages.meanSignalInRegion(hbpVolumeNode, segmentationNode, [spleenId], "spleen (HBP)")
        enhancement = gadoxetateImages.liverSpleenEnhancementMap(hbpVolumeNode, spleen.mean)
    # CT local RAS -> world -> HBP local RAS: the map lies where the HBP volume does.
    ctToHbp = np.linalg.inv(toWorldMatrix(hbpVolumeNode)) @ toWorldMatrix(ctVolumeNode)
    ctShape = volumeNodeArray(ctVolumeNode).shape
    return resampleArray(enhancement.array, enhancement.ijkToRAS, ctShape, nodeIjkToRas(ctVolumeNode), "linear", 0.0, ctToHbp)


def showFunctionalOverlay(presetKey, ctVolumeNode, functionalVolumeNode=None, hbpVolumeNode=None, preVolumeNode=None,
                          segmentationNode=None, spleenSegment="", opacity=0.5, name=None, plan=None, layoutNames=None):
    """Resample the preset's map onto the CT grid (world coordinates: the functional image's
    registration transform applied), window it by the preset and show it over the CT
    (``showAsOverlay``). The liver segments of ``segmentationNode`` (on the CT)
    give the SPECT's normalisation and percentile window. With ``plan`` the remnant and resected
    liver are outlined over it (``planDisplay.showPlanOutline``). ``layoutNames`` limits the slice
    views ('Red', 'Green'...) that show it. A previous overlay of the same name is replaced.
    Returns an ``OverlayOutcome``."""
    preset = overlayPreset(presetKey)
    if ctVolumeNode is None:
        raise ValueError("No CT selected: choose the time point's scan in the Time point section")
    checkedVolumeNode(ctVolumeNode, "CT volume")
    scene = ctVolumeNode.GetScene()
    array = _mapOnCtGrid(preset, ctVolumeNode, functionalVolumeNode, hbpVolumeNode, preVolumeNode, segmentationNode, spleenSegment)
    baseName = (functionalVolumeNode if preset.source == COUNTS else hbpVolumeNode).GetName()
    outputName = name or f"{baseName} {preset.source} overlay on {ctVolumeNode.GetName()}"
    mapNode = _volumeOnCtGrid(ctVolumeNode, outputName, array)
    # Undefined voxels (no pre-contrast signal, outside the functional field of view) show nothing.
    values = volumeNodeArray(mapNode)
    values[~np.isfinite(values)] = 0.0
    mapNode.GetImageData().Modified()
    liverMask = None
    if segmentationNode is not None and preset.windowKind == LIVER_PERCENTILES:
        ids = imageRegistration.liverSegmentIds(segmentationNode)
        liverMask = segmentMaskOnVolumeGrid(segmentationNode, ids, mapNode)
    unit = gadoxetateIndices.SIGNAL_UNIT if preset.source != COUNTS else "counts"
    if preset.source == COUNTS and liverMask is not None:
        liverMean = float(values[liverMask].mean()) if liverMask.any() else 0.0
        if not liverMean > 0:
            raise ValueError(f"The SPECT '{baseName}' has no counts in the liver on the CT: expected it registered over the liver")
        values /= liverMean
        mapNode.GetImageData().Modified()
        unit = NORMALISED_COUNTS_UNIT
    elif preset.source != COUNTS:
        unit = "fraction"
    mapNode.SetAttribute(UNIT_ATTRIBUTE, unit)
    window = presetWindow(preset, values, liverMask)
    for index in range(scene.GetNumberOfNodesByClass("vtkMRMLScalarVolumeNode") - 1, -1, -1):
        node = scene.GetNthNodeByClass(index, "vtkMRMLScalarVolumeNode")
        if node is not mapNode and node.GetName() == outputName and node.GetAttribute(PRESET_ATTRIBUTE) is not None:
            scene.RemoveNode(node)
    mapNode.SetAttribute(PRESET_ATTRIBUTE, preset.key)
    display = showAsOverlay(
        mapNode, ctVolumeNode, _colorName(scene, preset), window[0], window[1], opacity, preset.hideBelowFraction, layoutNames
    )
    if plan is not None and segmentationNode is not None:
        planDisplay.showPlanOutline(segmentationNode, plan)
    liverVoxels = None if liverMask is None else int(liverMask.sum())
    summary = (
        f"{preset.key}: '{outputName}' over '{ctVolumeNode.GetName()}', colour {display.colorName}, window {window[0]:.4g} to "
        f"{window[1]:.4g}" + ("" if liverVoxels is None else f" ({preset.window[0]:g}-{preset.window[1]:g}th percentile of {liverVoxels} liver voxels)")
        + f", opacity {opacity:.2f}" + (f"; values in {unit}" if unit else "")
        + (f"; outline: remnant of {plan.label} (green), resected (red)" if plan is not None and segmentationNode is not None else "")
    )
    return OverlayOutcome(mapNode, display, window, preset, liverVoxels, summary)
