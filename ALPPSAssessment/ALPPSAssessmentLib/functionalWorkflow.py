"""Functional imaging of a time point, from what the user selected in the ALPPS Assessment panel to
results: registration of a functional image to the time point's CT, the mebrofenin remnant
function (dynamic series or time-activity table, SPECT), the gadoxetate MRI indices, their tables
and chart, and the remnant function stored with the time point. The one path the panel, the
self-test and pytest share; functions take nodes and values and return plain results.

The remnant function of a time point is the JSON dictionary ``timeline.FUNCTION_ATTRIBUTE``
(``ALPPS.RemnantFunction``) on its segmentation: mebrofenin keys (``MEBROFENIN_FUNCTION_KEYS``,
read by the growth intervals and the stage 2 readiness checklist) and gadoxetate keys
(``GADOXETATE_FUNCTION_KEYS``, shown beside them). Storing one modality keeps the other's keys.
A results table carries the values it shows as the same JSON (``MEASURED_FUNCTION_ATTRIBUTE``), so
that "store with the time point" needs nothing kept in the widget.
"""

import dataclasses
import json
import math
from dataclasses import dataclass
from typing import Optional

import vtk
from ALPPSVolumetryLib.criteria import clinicalCriteria
from ALPPSVolumetryLib.results.resultFields import fieldByKey
from ALPPSVolumetryLib.results.resultsTable import numberOrNaN, writeTableRows

from .functional import (
    dynamicSeries,
    gadoxetateIndices,
    gadoxetateWorkflow,
    imageRegistration,
    mebrofeninRemnantFunction,
    mebrofeninUptake,
    mebrofeninWorkflow,
    remnantCountShare,
)
from .functional.mebrofeninCurves import TIME_IS_MID, VALUES_PER_SECOND, timeActivityCurvesFromTable
from .course import timeline

# Keys of the remnant function stored per time point (what timePointCourse, hypertrophy and
# stageTwoReadiness read: flrFunctionPerBsa), with their units.
MEBROFENIN_FUNCTION_KEYS = {
    "flrFunctionPerBsa": mebrofeninRemnantFunction.PERCENT_PER_MIN_M2,
    "flrFunctionPercentPerMin": mebrofeninUptake.PERCENT_PER_MIN,
    "murPercentPerMin": mebrofeninUptake.PERCENT_PER_MIN,
    "flrSharePercent": mebrofeninUptake.PERCENT,
}
GADOXETATE_FUNCTION_KEYS = {
    "gadoxetateFunctionalSharePercent": "%",
    "remnantHuiLitres": gadoxetateIndices.LITRE,
    "huiLitres": gadoxetateIndices.LITRE,
}
REMNANT_FUNCTION_KEYS = dict(MEBROFENIN_FUNCTION_KEYS, **GADOXETATE_FUNCTION_KEYS)
MEASURED_FUNCTION_ATTRIBUTE = "ALPPS.MeasuredRemnantFunction"
# The registration's figures, kept on its transform so that later measurements can report them.
REGISTRATION_ATTRIBUTE = "ALPPS.RegistrationResult"
TIME_ACTIVITY_CHART_NAME = "Mebrofenin time-activity curves"


def checkedRemnantFunction(values, what="remnant function"):
    """{key: float} with known keys (``REMNANT_FUNCTION_KEYS``) and finite values >= 0 (shares
    at most 100 %); ValueError naming the key otherwise."""
    checked = {}
    for key, value in values.items():
        if key not in REMNANT_FUNCTION_KEYS:
            raise ValueError(f"The {what} key '{key}' is unknown: expected one of {', '.join(REMNANT_FUNCTION_KEYS)}")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"The {what} value {key}={value!r} is not a number") from None
        if not math.isfinite(number) or number < 0:
            raise ValueError(f"The {what} value {key}={number:g} is invalid: expected a finite value >= 0 in {REMNANT_FUNCTION_KEYS[key]}")
        if key.endswith("Percent") and number > 100.0:
            raise ValueError(f"The {what} value {key}={number:g} is above 100 %: expected a share in %")
        checked[key] = number
    return checked


# --- Registration ----------------------------------------------------------------------------------


@dataclass
class RegistrationOutcome:
    transformNode: object  # vtkMRMLLinearTransformNode, parent of the functional volume
    result: object  # imageRegistration.RegistrationResult
    summary: str

    @property
    def succeeded(self):
        return self.result.succeeded


def registrationSummary(result):
    """The registration's quality figures as lines a user reads: state, metric before and after,
    liver overlap (Dice of the functional image's bright voxels with the CT liver), the transform."""
    lines = [
        f"{result.mode.capitalize()} registration {'succeeded' if result.succeeded else 'FAILED'} ({result.iterations} iterations, "
        f"{result.seconds:.1f} s, start: {result.initialization})",
        f"Mutual information {result.mutualInformationInitial:.4f} -> {result.mutualInformationFinal:.4f} (higher is better)",
    ]
    if result.diceAfter is not None:
        lines.append(f"Liver overlap (Dice) {result.diceBefore:.3f} -> {result.diceAfter:.3f}")
    translation = ", ".join(f"{value:.1f}" for value in result.translationMm)
    lines.append(f"Rotation {result.rotationDegrees:.2f} deg, translation ({translation}) mm")
    if not result.succeeded:
        lines.append("Problems: " + "; ".join(result.failures))
        lines.append("The transform is kept: check the overlay and adjust it by hand (Transforms)")
    return "\n".join(lines)


def registerFunctionalToScan(ctVolumeNode, functionalVolumeNode, maskSegmentation=None, mode=imageRegistration.RIGID):
    """Register a functional volume (SPECT, MRI) to the time point's CT with the liver of
    ``maskSegmentation`` as mask; the transform becomes the functional volume's parent. A failed
    registration keeps its transform for correction by hand (its summary says so)."""
    if ctVolumeNode is None:
        raise ValueError("No CT selected: choose the time point's scan in the Time point section")
    if functionalVolumeNode is None:
        raise ValueError("No functional volume selected: load the SPECT or MRI and select it")
    if functionalVolumeNode is ctVolumeNode:
        raise ValueError("The functional volume is the CT itself: select the SPECT or MRI to register")
    registered = imageRegistration.registerFunctionalVolume(
        ctVolumeNode, functionalVolumeNode, mode, maskSegmentation=maskSegmentation, allowFailure=True
    )
    registered.transformNode.SetAttribute(REGISTRATION_ATTRIBUTE, json.dumps(registered.result.asDict()))
    return RegistrationOutcome(registered.transformNode, registered.result, registrationSummary(registered.result))


# --- Results tables ----------------------------------------------------------------------------------

FUNCTION_TABLE_COLUMNS = (
    ("Quantity", vtk.vtkStringArray, "", "What was measured"),
    ("Region", vtk.vtkStringArray, "", "Whole liver, remnant (FLR) of the plan, or the region of a flag"),
    ("Value", vtk.vtkDoubleArray, "", "Value (unit in the next column); empty when it could not be computed"),
    ("Unit", vtk.vtkStringArray, "", "Unit of the value"),
    ("Flag", vtk.vtkStringArray, "", "Criterion and state: met = outside the published risk group; unchecked where the formula or cut-off is"),
    ("Note", vtk.vtkStringArray, "", "Why a value is missing, or how it was obtained"),
    ("Source", vtk.vtkStringArray, "", "Definition or reference"),
)


def _flagText(flag):
    flag = clinicalCriteria.Flag.fromDict(flag)
    unchecked = f" [{flag.status}]" if flag.status != clinicalCriteria.CHECKED else ""
    return f"{flag.criterionText()}: {flag.stateText}{unchecked}"


def mebrofeninRows(uptake, share, assessment):
    """Table rows (see ``FUNCTION_TABLE_COLUMNS``) of a mebrofenin result."""
    definitions = mebrofeninRemnantFunction.DEFINITIONS

    def title(key):
        return fieldByKey(mebrofeninWorkflow.REMNANT_FUNCTION_FIELDS, key).title

    rows = [
        (title("murPercentPerMin"), "whole liver", uptake.murPercentPerMin, mebrofeninUptake.PERCENT_PER_MIN, "",
         f"Ekman fit over {uptake.windowSeconds[0]:g}-{uptake.windowSeconds[1]:g} s, {uptake.framesUsed} frames, r2 {uptake.rSquared:.4f}"
         + ("; " + "; ".join(uptake.warnings) if uptake.warnings else ""), definitions[mebrofeninUptake.MUR].reference),
        ("MUR per BSA", "whole liver", numberOrNaN(assessment.murPerBsa), mebrofeninRemnantFunction.PERCENT_PER_MIN_M2, "",
         "" if assessment.bsaM2 is not None else "no BSA: enter height and weight", definitions[mebrofeninRemnantFunction.MUR_BSA].definition),
        (title("flrSharePercent"), "remnant", share.percent, mebrofeninUptake.PERCENT, "",
         f"SPECT counts {share.flrCounts:.0f} of {share.liverCounts:.0f}", definitions[remnantCountShare.FLR_C].definition),
        (title("flrFunctionPercentPerMin"), "remnant", assessment.flrFunctionPercentPerMin, mebrofeninUptake.PERCENT_PER_MIN, "",
         "FLR-C x MUR", definitions[mebrofeninRemnantFunction.FLR_F].definition),
        (title("flrFunctionPerBsa"), "remnant", numberOrNaN(assessment.flrFunctionPerBsa), mebrofeninRemnantFunction.PERCENT_PER_MIN_M2,
         "", "" if assessment.bsaM2 is None else f"BSA {assessment.bsaM2:.4f} m2", definitions[mebrofeninRemnantFunction.FLR_F_BSA].definition),
    ]
    for flag in assessment.flags:
        rows.append(
            (flag.label, "remnant", numberOrNaN(flag.value), flag.unit, _flagText(flag.asDict()), flag.reason or f"population: {flag.population}", flag.source)
        )
    return rows


def writeMebrofeninTable(tableNode, uptake, share, assessment, planLabel=""):
    """Fill ``tableNode`` with the mebrofenin result; its attribute ``MEASURED_FUNCTION_ATTRIBUTE``
    holds the values to store with the time point."""
    writeTableRows(tableNode, FUNCTION_TABLE_COLUMNS, mebrofeninRows(uptake, share, assessment), {"ALPPS.Plan": planLabel})
    tableNode.SetAttribute(MEASURED_FUNCTION_ATTRIBUTE, json.dumps(mebrofeninFunctionValues(assessment), sort_keys=True))
    return tableNode


def mebrofeninFunctionValues(assessment):
    """The mebrofenin values stored per time point (``MEBROFENIN_FUNCTION_KEYS``); a value that
    could not be computed (FLR-F/BSA without BSA) is left out, never stored as 0."""
    document = assessment.asDict()
    return {key: float(document[key]) for key in MEBROFENIN_FUNCTION_KEYS if document.get(key) is not None}


_INDEX_LABELS = {
    gadoxetateIndices.LSR: ("Liver-to-spleen ratio (LSR)", ""),
    gadoxetateIndices.LMR: ("Liver-to-muscle ratio (LMR)", ""),
    gadoxetateIndices.RLE: ("Relative liver enhancement (RLE)", ""),
    gadoxetateIndices.CEI: ("Contrast enhancement index (CEI)", ""),
}


def gadoxetateRows(document):
    """Table rows (see ``FUNCTION_TABLE_COLUMNS``) of a ``gadoxetateWorkflow.measureGadoxetate``
    document: signals, indices of liver and remnant (or why each is missing), HUI and rHUI (L)
    with the rHUI flag, the remnant's functional share."""
    rows = []
    signals = document["signals"]
    for key, label, region in (
        ("liverHbp", "Signal, hepatobiliary phase", "whole liver"), ("remnantHbp", "Signal, hepatobiliary phase", "remnant"),
        ("spleenHbp", "Signal, hepatobiliary phase", "spleen"), ("muscleHbp", "Signal, hepatobiliary phase", "muscle ROIs"),
        ("liverPre", "Signal, pre-contrast", "whole liver"), ("remnantPre", "Signal, pre-contrast", "remnant"),
        ("musclePre", "Signal, pre-contrast", "muscle ROIs"),
    ):
        value = signals.get(key)
        rows.append((label, region, numberOrNaN(value), signals["unit"], "", "" if value is not None else "not measured", "mean signal"))
    if document.get("spleenSignalFrom"):
        rows[2] = rows[2][:5] + (f"from {document['spleenSignalFrom']}",) + rows[2][6:]
    for segmentId, segment in (document.get("segmentSignals") or {}).items():
        region = f"segment {segmentId}"
        rows.append(("Signal, hepatobiliary phase", region, float(segment["hbp"]), signals["unit"], "", f"{segment['voxels']} voxels", "mean signal"))
        for key, label in (("relativeEnhancement", "Relative enhancement (HBP - pre) / pre"), ("liverToSpleenMinusOne", "Liver-to-spleen ratio minus one")):
            value = segment.get(key)
            rows.append((label, region, numberOrNaN(value), "", "", "" if value is not None else "needs the pre-contrast image" if key == "relativeEnhancement" else "needs the spleen signal", ""))
    liverRoi = document.get("liverRoi")
    if liverRoi:
        region = f"liver ROIs ({liverRoi['points']} x {liverRoi['radiusMm']:g} mm)"
        rows.append(("Signal, hepatobiliary phase", region, float(liverRoi["hbp"]), signals["unit"], "", "placed by the reader", "mean signal"))
        for key, (label, unit) in _INDEX_LABELS.items():
            if key in liverRoi["indices"]["values"]:
                rows.append((label, region, float(liverRoi["indices"]["values"][key]), unit, "", "", gadoxetateIndices.INDEX_DEFINITIONS[key].definition))
    for documentKey, region in (("liverIndices", "whole liver"), ("remnantIndices", "remnant")):
        indices = document[documentKey]
        for key, (label, unit) in _INDEX_LABELS.items():
            definition = gadoxetateIndices.INDEX_DEFINITIONS[key]
            if key in indices["values"]:
                rows.append((label, region, float(indices["values"][key]), unit, "", "", definition.definition))
            else:
                rows.append((label, region, float("nan"), unit, "", indices["missing"].get(key, ""), definition.definition))
    for key, label, region in (("hui", "Hepatocellular uptake index (HUI)", "whole liver"), ("remnantHui", "Remnant HUI (rHUI)", "remnant")):
        index = document.get(key)
        if index is None:
            rows.append((label, region, float("nan"), gadoxetateIndices.LITRE, "", "needs the spleen signal", ""))
        else:
            rows.append((label, region, float(index["value"]), index["unit"], "", f"V {index['volumeMl']:.1f} mL x (L/S - 1)", index["definition"]["reference"]))
    for region, indices in (document.get("t1Indices") or {}).items():
        where = "whole liver" if region == "liver" else region
        for key, label, unit in (("t1PreMs", "T1, pre-contrast", "ms"), ("t1HbpMs", "T1, hepatobiliary phase", "ms"),
                                 ("deltaR1PerS", "Delta R1 (R1 HBP - R1 pre)", "1/s"), ("reductionRate", "T1 reduction rate", "fraction")):
            rows.append((label, where, float(indices[key]), unit, "", f"T1 maps in {indices['inputUnit']}", "clinical reference section 6 (T1 maps)"))
    flag = document["remnantHuiFlag"]
    rows.append((flag["label"], "remnant", numberOrNaN(flag["value"]), flag["unit"], _flagText(flag), f"population: {flag['population']}", flag["source"]))
    share = document.get("remnantFunctionalShare")
    if share is None:
        rows.append(("Remnant functional share (voxel map)", "remnant", float("nan"), "%", "", "needs the pre-contrast image or the spleen signal", ""))
    else:
        rows.append(("Remnant functional share (voxel map)", "remnant", float(share["sharePercent"]), "%", "",
                     f"map {share['mapKind']}; sum over the remnant / sum over the liver", share["definition"]["definition"]))
    return rows


def gadoxetateFunctionValues(document):
    """The gadoxetate values stored per time point (``GADOXETATE_FUNCTION_KEYS``), those measured."""
    values = {}
    if document.get("remnantFunctionalShare") is not None:
        values["gadoxetateFunctionalSharePercent"] = float(document["remnantFunctionalShare"]["sharePercent"])
    if document.get("remnantHui") is not None:
        values["remnantHuiLitres"] = float(gadoxetateIndices.VOLUME_UNITS[document["remnantHui"]["unit"]] * document["remnantHui"]["value"] / 1000.0)
    if document.get("hui") is not None:
        values["huiLitres"] = float(gadoxetateIndices.VOLUME_UNITS[document["hui"]["unit"]] * document["hui"]["value"] / 1000.0)
    return values


def writeGadoxetateTable(tableNode, document):
    """Fill ``tableNode`` with a gadoxetate document; ``MEASURED_FUNCTION_ATTRIBUTE`` holds the
    values to store with the time point."""
    plan = document.get("plan") or {}
    writeTableRows(tableNode, FUNCTION_TABLE_COLUMNS, gadoxetateRows(document), {"ALPPS.Plan": f"{plan.get('key', '')}: {plan.get('label', '')}"})
    tableNode.SetAttribute(MEASURED_FUNCTION_ATTRIBUTE, json.dumps(gadoxetateFunctionValues(document), sort_keys=True))
    return tableNode


# --- Mebrofenin -----------------------------------------------------------------------------------------


def curvesFromTableNode(tableNode, timeIs=TIME_IS_MID, values=VALUES_PER_SECOND, decayCorrected=False):
    """Time-activity curves from a table node with columns time (s), liver, blood (heart), total
    (field of view) and optionally duration (s), named as ``timeActivityCurvesFromTable`` accepts
    (the table of ``mebrofeninWorkflow.addTimeActivityChart`` reads back as it was written)."""
    table = tableNode.GetTable()
    if table.GetNumberOfRows() == 0:
        raise ValueError(f"Time-activity table '{tableNode.GetName()}' has no rows: expected one row per frame")
    columns = {}
    for index in range(table.GetNumberOfColumns()):
        column = table.GetColumn(index)
        try:
            columns[column.GetName()] = [float(column.GetValue(row)) for row in range(table.GetNumberOfRows())]
        except (TypeError, ValueError):
            raise ValueError(f"Time-activity table '{tableNode.GetName()}' column '{column.GetName()}' holds values that are not numbers") from None
    curves = timeActivityCurvesFromTable(columns, timeIs, values, decayCorrected)
    return dataclasses.replace(curves, source=f"table '{tableNode.GetName()}': {curves.source}")


def mebrofeninCurves(dynamicNode=None, regionSegmentation=None, liverSegment="", bloodPoolSegment="", fieldOfViewSegment="",
                     frameDurationSeconds=0.0, firstFrameStartSeconds=0.0, timeActivityTable=None):
    """The time-activity curves the panel asks for: from the dynamic series (sequence or volume)
    and its region segmentation when a series is selected (frame duration 0 = the sequence
    index), otherwise from the time-activity table."""
    if dynamicNode is not None:
        if regionSegmentation is None:
            raise ValueError(f"No regions for the dynamic series '{dynamicNode.GetName()}': draw the liver and the heart as segments on a frame")
        return dynamicSeries.timeActivityCurvesFromNodes(
            dynamicNode, regionSegmentation, liverSegment, bloodPoolSegment, fieldOfViewSegment,
            frameDurationSeconds or None, firstFrameStartSeconds,
        )
    if timeActivityTable is not None:
        return curvesFromTableNode(timeActivityTable)
    raise ValueError("No dynamic study: select the dynamic series (with its regions) or a time-activity table")


def replaceTimeActivityChart(scene, curves, name=TIME_ACTIVITY_CHART_NAME):
    """``mebrofeninWorkflow.addTimeActivityChart``, replacing an earlier chart of the same name with
    its series and table (a repeated measurement does not pile them up). Returns (table, chart)."""
    previous = scene.GetFirstNode(name, "vtkMRMLPlotChartNode")
    if previous is not None:
        seriesNodes = [previous.GetNthPlotSeriesNode(index) for index in range(previous.GetNumberOfPlotSeriesNodes())]
        tables = {series.GetTableNode() for series in seriesNodes if series is not None and series.GetTableNode() is not None}
        for series in seriesNodes:
            if series is not None:
                scene.RemoveNode(series)
        for table in tables:
            scene.RemoveNode(table)
        scene.RemoveNode(previous)
    return mebrofeninWorkflow.addTimeActivityChart(scene, curves, name)


@dataclass
class MebrofeninOutcome:
    curves: object  # mebrofeninCurves.TimeActivityCurves
    uptake: object  # mebrofeninUptake.MebrofeninUptakeResult
    share: object  # remnantCountShare.RemnantShare
    assessment: object  # mebrofeninRemnantFunction.RemnantFunctionAssessment
    tableNode: object
    chartNode: object
    curvesTableNode: object
    summary: str

    @property
    def functionValues(self):
        return mebrofeninFunctionValues(self.assessment)


def measureMebrofenin(segmentationNode, plan, spectVolumeNode, curves, bsaM2=None, outwardMarginMm=0.0, resultTable=None):
    """MUR from the curves, FLR-C from the SPECT (registered: its parent transform places it on the
    CT) in the plan's remnant, FLR-F and FLR-F/BSA with the 2.69 / 2.7 flags; written to
    ``resultTable`` (created when None) with the time-activity chart."""
    if segmentationNode is None:
        raise ValueError("No segmentation: select the time point's Couinaud segmentation in the Time point section")
    share = mebrofeninWorkflow.spectRemnantShare(segmentationNode, plan, spectVolumeNode, outwardMarginMm)
    uptake, assessment = mebrofeninWorkflow.remnantFunction(curves, share, bsaM2)
    scene = segmentationNode.GetScene()
    tableNode = resultTable or scene.AddNewNodeByClass("vtkMRMLTableNode", "ALPPS mebrofenin remnant function")
    writeMebrofeninTable(tableNode, uptake, share, assessment, f"{plan.key}: {plan.label}")
    _keepStudyDocument(tableNode, "mebrofenin", {
        "plan": {"key": plan.key, "label": plan.label},
        "uptake": uptake.asDict(),
        "remnantShare": share.asDict(),
        "remnantFunction": assessment.asDict(),
        "timeActivityCurves": curves.asDict(),
        "registration": _registrationOf(spectVolumeNode),
    })
    curvesTable, chart = replaceTimeActivityChart(scene, curves)
    perBsa = "no BSA (enter height and weight)" if assessment.flrFunctionPerBsa is None else f"{assessment.flrFunctionPerBsa:.2f} %/min/m2"
    flags = "; ".join(flag.line() for flag in assessment.flags)
    lines = [
        f"MUR {uptake.murPercentPerMin:.2f} %/min (r2 {uptake.rSquared:.4f}, {uptake.framesUsed} frames); FLR-C {share.percent:.1f} % ({plan.key})",
        f"FLR-F {assessment.flrFunctionPercentPerMin:.2f} %/min; FLR-F/BSA {perBsa}; flags: {flags}",
        f"Curves: {curves.source}",
    ] + list(uptake.warnings)
    return MebrofeninOutcome(curves, uptake, share, assessment, tableNode, chart, curvesTable, "\n".join(lines))


# --- Gadoxetate -------------------------------------------------------------------------------------------


@dataclass
class GadoxetateOutcome:
    document: dict
    tableNode: object
    mapNode: Optional[object]  # the voxel-wise map (RLE or L/S - 1) on the HBP grid, when one was made
    summary: str

    @property
    def functionValues(self):
        return gadoxetateFunctionValues(self.document)


def _placedPoints(markups):
    return markups if markups is not None and markups.GetNumberOfControlPoints() > 0 else None


def measureGadoxetatePanel(segmentationNode, plan, hbpVolumeNode, preVolumeNode=None, spleenSegment="", muscleMarkups=None,
                           roiRadiusMm=10.0, resultTable=None, spleenMarkups=None, liverMarkups=None,
                           t1PreMap=None, t1HbpMap=None, t1Unit=None):
    """``gadoxetateWorkflow.measureGadoxetate`` with the panel's inputs: muscle ROI centres from a
    markups node (its points placed in the paraspinal muscle; none placed = no muscle signal),
    results written to ``resultTable`` (created when None). The voxel-wise map the share was
    summed from is shown as a volume, replacing an earlier one of the same name."""
    if segmentationNode is None:
        raise ValueError("No segmentation: select the time point's Couinaud segmentation (with a 'Spleen' segment) in the Time point section")
    if hbpVolumeNode is None:
        raise ValueError("No hepatobiliary-phase MRI selected: select the series acquired about 20 min after injection")
    points = muscleMarkups if muscleMarkups is not None and muscleMarkups.GetNumberOfControlPoints() > 0 else None
    scene = segmentationNode.GetScene()
    measurement = gadoxetateWorkflow.measureGadoxetateWithMap(
        segmentationNode, plan, hbpVolumeNode, preVolumeNode, spleenSegment or None, points, roiRadiusMm,
        _placedPoints(spleenMarkups), _placedPoints(liverMarkups), t1PreMap, t1HbpMap, t1Unit if t1PreMap is not None else None,
    )
    document = measurement.document
    mapNode = gadoxetateWorkflow.addEnhancementMapNode(measurement.enhancementMap) if measurement.enhancementMap is not None else None
    tableNode = resultTable or scene.AddNewNodeByClass("vtkMRMLTableNode", "ALPPS gadoxetate indices")
    writeGadoxetateTable(tableNode, document)
    _keepStudyDocument(tableNode, "gadoxetate", document)
    values = gadoxetateFunctionValues(document)
    parts = []
    if "gadoxetateFunctionalSharePercent" in values:
        parts.append(f"remnant functional share {values['gadoxetateFunctionalSharePercent']:.1f} % ({document['remnantFunctionalShare']['mapKind']} map)")
    if document["remnantHui"] is not None:
        flag = document["remnantHuiFlag"]
        parts.append(clinicalCriteria.Flag.fromDict(flag).line())
    missing = sorted(set(document["liverIndices"]["missing"]))
    lines = ["; ".join(parts) or "no HUI and no functional share: needs the spleen segment or the pre-contrast MRI"]
    if missing:
        lines.append("Not computed: " + ", ".join(f"{key} ({document['liverIndices']['missing'][key]})" for key in missing))
    if points is None:
        lines.append("No muscle ROI: place points in the paraspinal muscle for LMR and CEI")
    return GadoxetateOutcome(document, tableNode, mapNode, "\n".join(lines))


# --- Stored with the time point -----------------------------------------------------------------------

# The whole document of the measurement the results table shows, so that storing it with the time
# point also gives the patient report every figure (not only the values the checklist reads).
STUDY_DOCUMENT_ATTRIBUTE = "ALPPS.FunctionalStudyDocument"


def _registrationOf(functionalVolumeNode):
    """The registration result kept on the functional volume's transform by registerFunctionalToScan, or None."""
    transform = functionalVolumeNode.GetParentTransformNode() if functionalVolumeNode is not None else None
    text = transform.GetAttribute(REGISTRATION_ATTRIBUTE) if transform is not None else None
    return json.loads(text) if text else None


def _keepStudyDocument(tableNode, modality, document):
    tableNode.SetAttribute(STUDY_DOCUMENT_ATTRIBUTE, json.dumps({"modality": modality, "document": document}))


def storeRemnantFunction(segmentationNode, values):
    """Merge ``values`` (checked, see ``checkedRemnantFunction``) into the remnant function stored
    on the time point of ``segmentationNode``; the other keys stay. Returns the TimePoint."""
    if segmentationNode is None:
        raise ValueError("No time point selected: choose its segmentation in the Time point section")
    point = timeline.timePointOfNode(segmentationNode)
    if point is None:
        raise ValueError(f"'{segmentationNode.GetName()}' is not a time point yet: store it in the Time point section first")
    checked = checkedRemnantFunction(values)
    if not checked:
        raise ValueError("Nothing to store: the measurement gave no remnant function value")
    merged = dict(point.remnantFunction or {})
    merged.update(checked)
    point.remnantFunction = merged
    timeline.storeTimePoint(point)
    return point


def storeMeasuredFunction(resultTable, segmentationNode):
    """Store the values a results table carries (``MEASURED_FUNCTION_ATTRIBUTE``, written by the
    mebrofenin or gadoxetate table writer) with the time point of ``segmentationNode``."""
    text = resultTable.GetAttribute(MEASURED_FUNCTION_ATTRIBUTE) if resultTable is not None else None
    if not text:
        raise ValueError("No measured remnant function: measure first (the results table holds what is stored)")
    point = storeRemnantFunction(segmentationNode, json.loads(text))
    study = resultTable.GetAttribute(STUDY_DOCUMENT_ATTRIBUTE)
    if study:
        study = json.loads(study)
        timeline.storeFunctionalStudy(segmentationNode, study["modality"], study["document"])
    return point
