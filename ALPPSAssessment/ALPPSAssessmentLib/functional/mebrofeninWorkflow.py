"""Remnant function from 99mTc-mebrofenin: the SPECT (registered to the planning CT) split
into the plan's remnant and the rest of the liver, and the uptake rate of the dynamic study;
the one path the panel, the batch command and the tests share."""

import numpy as np
import vtk
from ALPPSVolumetryLib.imageGrid import nodeIjkToRas, toWorldMatrix, volumeNodeArray
from ALPPSVolumetryLib.segments.liverComposition import LiverComposition
from ALPPSVolumetryLib.results.resultFields import ResultField
from ALPPSVolumetryLib.results.resultsTable import writeTableRows
from ALPPSVolumetryLib.segments.segmentRecognition import SegmentRoles

from . import mebrofeninRemnantFunction, mebrofeninUptake, remnantCountShare

REMNANT_LABEL = 2
OTHER_LIVER_LABEL = 1

# The mebrofenin remnant function stored with a time point (functionalWorkflow.MEBROFENIN_FUNCTION_KEYS),
# as its results table and the report name and show it.
REMNANT_FUNCTION_FIELDS = tuple(
    ResultField(mebrofeninRemnantFunction.DEFINITIONS[definition], (key,), heading)
    for key, definition, heading in (
        ("murPercentPerMin", mebrofeninUptake.MUR, "Mebrofenin uptake rate (MUR)"),
        ("flrSharePercent", remnantCountShare.FLR_C, "Remnant share of liver counts (FLR-C)"),
        ("flrFunctionPercentPerMin", mebrofeninRemnantFunction.FLR_F, "Remnant function (FLR-F)"),
        ("flrFunctionPerBsa", mebrofeninRemnantFunction.FLR_F_BSA, "Remnant function per BSA (FLR-F/BSA)"),
    )
)


def spectRemnantShare(segmentationNode, plan, spectVolumeNode, outwardMarginMm=0.0):
    """FLR-C: SPECT counts in the plan's remnant / counts in the whole liver (union of I-VIII).

    The segmentation and the SPECT are paired in world space: the SPECT's parent transform (from
    registration, or adjusted by hand) says where it lies on the CT; VOIs are mapped onto the
    SPECT grid by nearest neighbour (remnantCountShare.voiOnSpectGrid)."""
    if spectVolumeNode is None or spectVolumeNode.GetImageData() is None:
        raise ValueError("No SPECT volume: load the mebrofenin SPECT first")
    composition = LiverComposition(segmentationNode, SegmentRoles(segmentationNode))
    remnantBits = composition.unitsOf(plan.remnantSegments)
    liverBits = composition.allUnitBits
    (remnant, liver), ijkToRAS = composition.masks([lambda p: (p & remnantBits) != 0, lambda p: (p & liverBits) != 0])
    labels = np.where(remnant, REMNANT_LABEL, np.where(liver, OTHER_LIVER_LABEL, 0)).astype(np.uint8)
    labelsIjkToWorld = toWorldMatrix(segmentationNode) @ ijkToRAS
    worldToSpect = np.linalg.inv(toWorldMatrix(spectVolumeNode))
    counts = volumeNodeArray(spectVolumeNode)
    voi = remnantCountShare.voiOnSpectGrid(
        labels, labelsIjkToWorld, counts.shape, nodeIjkToRas(spectVolumeNode), worldToSpect, outwardMarginMm
    )
    return remnantCountShare.remnantShareFromSpect(counts, voi == REMNANT_LABEL, voi > 0)


def remnantFunction(curves, remnantShare, bsaM2=None, normalisation=mebrofeninUptake.DEFAULT_MUR_NORMALISATION):
    """MUR from the dynamic study (with the normalisation named), and FLR-F (and per BSA, with the
    de Graaf and Tomassini flags)."""
    uptake = mebrofeninUptake.mebrofeninUptakeRate(curves, normalisation=normalisation)
    return uptake, mebrofeninRemnantFunction.remnantFunctionAssessment(uptake, remnantShare, bsaM2)


TIME_ACTIVITY_COLUMNS = (
    ("Time", vtk.vtkDoubleArray, "s", "Frame mid-time after injection"),
    ("Liver", vtk.vtkDoubleArray, "counts/s", "Liver region"),
    ("Blood pool", vtk.vtkDoubleArray, "counts/s", "Heart region"),
    ("Total field of view", vtk.vtkDoubleArray, "counts/s", "Whole field of view"),
)


def addTimeActivityChart(scene, curves, name="Mebrofenin time-activity curves"):
    """The dynamic study's liver, blood-pool and total curves as a table and a Plots chart against
    time (s), with the 150-350 s uptake window named in the chart title; returns (table, chart)."""
    rows = list(zip(curves.midTimesSeconds, curves.liver, curves.bloodPool, curves.totalFieldOfView))
    tableNode = writeTableRows(scene.AddNewNodeByClass("vtkMRMLTableNode", name), TIME_ACTIVITY_COLUMNS, [tuple(map(float, row)) for row in rows])
    chart = scene.AddNewNodeByClass("vtkMRMLPlotChartNode", name)
    chart.SetTitle("Mebrofenin time-activity curves (uptake rate fitted over 150-350 s)")
    chart.SetXAxisTitle("Time after injection (s)")
    chart.SetYAxisTitle("Count rate (counts/s)")
    for column, color in (("Liver", (0.6, 0.3, 0.1)), ("Blood pool", (0.8, 0.1, 0.1)), ("Total field of view", (0.3, 0.3, 0.3))):
        series = scene.AddNewNodeByClass("vtkMRMLPlotSeriesNode", f"{name}: {column}")
        series.SetAndObserveTableNodeID(tableNode.GetID())
        series.SetXColumnName("Time")
        series.SetYColumnName(column)
        series.SetPlotType(series.PlotTypeScatter)
        series.SetMarkerStyle(series.MarkerStyleNone)
        series.SetColor(*color)
        chart.AddAndObservePlotSeriesNodeID(series.GetID())
    return tableNode, chart
