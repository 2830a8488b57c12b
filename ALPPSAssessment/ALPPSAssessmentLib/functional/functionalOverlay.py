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

from ALPPSVolumetryLib import planDisplay

from . import gadoxetateIndices, gadoxetateWorkflow, imageRegistration

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
    for name in preset.colorNames:
        for index in range(scene.GetNumberOfNodesByClass("vtkMRMLColorNode")):
            if scene.GetNthNodeByClass(index, "vtkMRMLColorNode").GetName() == name:
                return name
    return None  # showAsOverlay falls back to its own list


@dataclass
class OverlayOutcome:
    mapNode: object  # scalar volume on the CT grid
    display: object  # imageRegistration.OverlayDisplay
    window: Tuple[float, float]
    preset: OverlayPreset
    liverVoxels: Optional[int]
    summary: str


def _sourceMap(preset, functionalVolumeNode, hbpVolumeNode, preVolumeNode, segmentationNode, spleenSegment):
    """The map to show, on its own grid: (node, temporary) where a temporary node is removed
    after resampling."""
    if preset.source == COUNTS:
        if functionalVolumeNode is None:
            raise ValueError(f"The preset '{preset.key}' shows the SPECT: select the functional volume (registered to the CT) first")
        return imageRegistration.checkedVolumeNode(functionalVolumeNode, "Functional volume"), False
    if hbpVolumeNode is None:
        raise ValueError(f"The preset '{preset.key}' needs the hepatobiliary-phase MRI: select it in the Gadoxetate MRI section")
    if preset.source == RELATIVE_ENHANCEMENT:
        if preVolumeNode is None:
            raise ValueError(f"The preset '{preset.key}' needs the pre-contrast MRI; without one use '{MRI_LIVER_SPLEEN}'")
        return gadoxetateIndices.relativeEnhancementMap(preVolumeNode, hbpVolumeNode, "__alpps_overlay_map__").node, True
    spleenId = gadoxetateWorkflow._spleenSegmentId(segmentationNode, spleenSegment) if segmentationNode is not None else None
    if spleenId is None:
        raise ValueError(f"The preset '{preset.key}' needs the spleen signal: expected a segment named 'Spleen' (or enter its name)")
    spleen = gadoxetateIndices.meanSignalInRegion(hbpVolumeNode, segmentationNode, [spleenId], "spleen (HBP)")
    return gadoxetateIndices.liverSpleenEnhancementMap(hbpVolumeNode, spleen.mean, "__alpps_overlay_map__").node, True


def showFunctionalOverlay(presetKey, ctVolumeNode, functionalVolumeNode=None, hbpVolumeNode=None, preVolumeNode=None,
                          segmentationNode=None, spleenSegment="", opacity=0.5, name=None, plan=None, layoutNames=None):
    """Resample the preset's map onto the CT grid (world coordinates: the functional image's
    registration transform applied), window it by the preset and show it over the CT
    (``imageRegistration.showAsOverlay``). The liver segments of ``segmentationNode`` (on the CT)
    give the SPECT's normalisation and percentile window. With ``plan`` the remnant and resected
    liver are outlined over it (``planDisplay.showPlanOutline``). ``layoutNames`` limits the slice
    views ('Red', 'Green'...) that show it. A previous overlay of the same name is replaced.
    Returns an ``OverlayOutcome``."""
    preset = overlayPreset(presetKey)
    if ctVolumeNode is None:
        raise ValueError("No CT selected: choose the time point's scan in the Time point section")
    imageRegistration.checkedVolumeNode(ctVolumeNode, "CT volume")
    scene = ctVolumeNode.GetScene()
    source, temporary = _sourceMap(preset, functionalVolumeNode, hbpVolumeNode, preVolumeNode, segmentationNode, spleenSegment)
    baseName = (functionalVolumeNode if preset.source == COUNTS else hbpVolumeNode).GetName()
    outputName = name or f"{baseName} {preset.source} overlay on {ctVolumeNode.GetName()}"
    try:
        mapNode = imageRegistration.resampleOntoCt(source, ctVolumeNode, outputName)
    finally:
        if temporary:
            scene.RemoveNode(source)
    # Undefined voxels (no pre-contrast signal, outside the functional field of view) show nothing.
    values = imageRegistration.volumeNodeArray(mapNode)
    values[~np.isfinite(values)] = 0.0
    mapNode.GetImageData().Modified()
    liverMask = None
    if segmentationNode is not None and preset.windowKind == LIVER_PERCENTILES:
        ids = imageRegistration.liverSegmentIds(segmentationNode)
        liverMask = imageRegistration.segmentMaskOnVolumeGrid(segmentationNode, ids, mapNode)
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
    display = imageRegistration.showAsOverlay(
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
