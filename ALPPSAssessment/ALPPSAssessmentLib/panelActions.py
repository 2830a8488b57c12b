"""What the ALPPS Assessment panel's buttons do, read from its parameter node: store the time point
being edited with the day's laboratory values (and fill the editor from a stored one), update the
assessment, the functional imaging of the selected time point, and the patient report. Each
function takes the panel's parameter node (its wrapper) and calls the workflows, which take nodes
and values; what is shown and how stays in the module file."""

from ALPPSVolumetryLib.criteria import patientBody
from ALPPSVolumetryLib.planning import resectionPlans

from . import assessmentPanel, assessmentWorkflow, functionalWorkflow
from .course import laboratoryUnits, meldScore, timeline
from .functional import functionalOverlay
from .report import reportExport
from .report.reportRequest import ReportRequest

# Roles offered in the time point editor (more interstage scans can be typed in the batch tool).
EDITOR_ROLES = ["pre-stage 1", "interstage", "interstage 2", "interstage 3", "pre-stage 2", "after stage 2"]

# Laboratory value field of the parameter node -> its unit field, or None (one unit only).
LAB_PARAMETERS = {
    "bilirubin": "bilirubinUnit",
    "creatinine": "creatinineUnit",
    "albumin": "albuminUnit",
    "inr": None,
    "prothrombinTimePercent": None,
    "sodium": None,
    "icgPdr": None,
}


def planOf(parameterNode):
    return resectionPlans.presetPlan(parameterNode.plan, parameterNode.caudateInRemnant)


def _labsOf(parameterNode):
    # Unit selectors start empty: a value whose unit was not chosen is refused by name.
    values = {
        name: (getattr(parameterNode, name), getattr(parameterNode, unitField) if unitField else laboratoryUnits.UNITS[name].canonicalUnit)
        for name, unitField in LAB_PARAMETERS.items()
    }
    values[meldScore.DIALYSIS] = (parameterNode.dialysis, "")
    return assessmentWorkflow.labsFromValues(values)


def storeTimePoint(parameterNode):
    """Store the editor's role, date and laboratory values on the selected segmentation."""
    return assessmentWorkflow.storeTimePointFromValues(
        parameterNode.timePointSegmentation,
        parameterNode.timePointVolume,
        parameterNode.timePointRole,
        parameterNode.timePointDate,
        _labsOf(parameterNode),
    )


def loadTimePointIntoEditor(parameterNode, segmentationNode):
    """Fill the editor with what is stored on ``segmentationNode``, or with an empty day."""
    point = timeline.timePointOfNode(segmentationNode)
    if point is None:
        # A scan without a stored time point starts with an empty day: the previous scan's date
        # and laboratory values must not be one click away from being filed for this one.
        parameterNode.timePointDate = ""
        parameterNode.timePointVolume = assessmentPanel.scanOfSegmentation(segmentationNode)
        for name, unitField in LAB_PARAMETERS.items():
            setattr(parameterNode, name, 0.0)
            if unitField:
                setattr(parameterNode, unitField, "")
        parameterNode.dialysis = False
        return
    if point.role not in EDITOR_ROLES:
        # Storing from the editor would overwrite the real role with one of its own.
        raise ValueError(
            f"The time point on '{segmentationNode.GetName()}' has the role '{point.role}', which the editor does not offer "
            f"({', '.join(EDITOR_ROLES)}): edit it with the batch tool, or remove and store it again"
        )
    parameterNode.timePointRole = point.role
    parameterNode.timePointDate = point.studyDate.isoformat()
    parameterNode.timePointVolume = point.volumeNode
    for name, unitField in LAB_PARAMETERS.items():
        value, unit = point.labs.get(name, (0.0, None))
        setattr(parameterNode, name, float(value))
        if unitField:
            setattr(parameterNode, unitField, unit or "")
    parameterNode.dialysis = meldScore.dialysisOfLabs(point.labs)


def updateAssessment(parameterNode):
    """Measure every stored time point into the tables and the growth chart; returns the result."""
    outputs = assessmentWorkflow.updateAssessment(
        parameterNode.parameterNode.GetScene(),
        parameterNode.plan,
        parameterNode.caudateInRemnant,
        patientBody.volumetrySettings(parameterNode.body),
        parameterNode.stage1Date,
        parameterNode.allowDifferentPlans,
        parameterNode.timePointTable,
        parameterNode.growthTable,
        parameterNode.readinessTable,
        parameterNode.stage1LiverFailure,
        parameterNode.stage2Date,
        parameterNode.remnantFunctionPerBsa or None,
    )
    parameterNode.timePointTable = outputs.timePointTable
    parameterNode.growthTable = outputs.growthTable
    parameterNode.readinessTable = outputs.readinessTable
    parameterNode.growthChart = outputs.chart
    return outputs


# --- Functional imaging of the selected time point ---


def registerFunctionalVolume(parameterNode):
    """Register the functional volume to the time point's scan (its segmentation's liver as
    mask); the transform is kept even when the registration fails, for correction by hand."""
    outcome = functionalWorkflow.registerFunctionalToScan(
        parameterNode.timePointVolume, parameterNode.functionalVolume, parameterNode.timePointSegmentation, parameterNode.registrationMode
    )
    parameterNode.registrationTransform = outcome.transformNode
    return outcome


def showOverlay(parameterNode):
    outcome = functionalOverlay.showFunctionalOverlay(
        parameterNode.overlayPreset,
        parameterNode.timePointVolume,
        parameterNode.functionalVolume,
        parameterNode.hbpVolume,
        parameterNode.preContrastVolume,
        parameterNode.timePointSegmentation,
        parameterNode.spleenSegment,
        parameterNode.overlayOpacity,
        plan=planOf(parameterNode),
    )
    parameterNode.overlayMap = outcome.mapNode
    return outcome


def measureGadoxetate(parameterNode):
    outcome = functionalWorkflow.measureGadoxetatePanel(
        parameterNode.timePointSegmentation,
        planOf(parameterNode),
        parameterNode.hbpVolume,
        parameterNode.preContrastVolume,
        parameterNode.spleenSegment,
        parameterNode.musclePoints,
        parameterNode.roiRadiusMm,
        parameterNode.gadoxetateTable,
        spleenMarkups=parameterNode.spleenPoints,
        liverMarkups=parameterNode.liverPoints,
        t1PreMap=parameterNode.t1PreMap,
        t1HbpMap=parameterNode.t1HbpMap,
        t1Unit=parameterNode.t1Unit,
    )
    assessmentPanel.tagMeasuredFor(outcome.tableNode, parameterNode.timePointSegmentation)
    parameterNode.gadoxetateTable = outcome.tableNode
    return outcome


def measureMebrofenin(parameterNode):
    curves = functionalWorkflow.mebrofeninCurves(
        parameterNode.dynamicSeries,
        parameterNode.dynamicRegions,
        parameterNode.liverRegionSegment,
        parameterNode.bloodPoolRegionSegment,
        parameterNode.fieldOfViewRegionSegment,
        parameterNode.frameDurationSeconds,
        parameterNode.firstFrameStartSeconds,
        parameterNode.timeActivityTable,
    )
    outcome = functionalWorkflow.measureMebrofenin(
        parameterNode.timePointSegmentation,
        planOf(parameterNode),
        parameterNode.spectVolume,
        curves,
        patientBody.bodySurfaceArea(parameterNode.body),
        parameterNode.voiMarginMm,
        parameterNode.mebrofeninTable,
    )
    assessmentPanel.tagMeasuredFor(outcome.tableNode, parameterNode.timePointSegmentation)
    parameterNode.mebrofeninTable = outcome.tableNode
    parameterNode.timeActivityChart = outcome.chartNode
    return outcome


def storeMeasuredFunction(resultTable, parameterNode):
    """Store what a results table holds with the selected time point (ALPPS.RemnantFunction)."""
    assessmentPanel.checkMeasuredFor(resultTable, parameterNode.timePointSegmentation)
    return functionalWorkflow.storeMeasuredFunction(resultTable, parameterNode.timePointSegmentation)


# --- Patient report ---


def reportFolderOf(parameterNode):
    # '.' would be Slicer's working directory (its installation): never a place for a report.
    folder = str(parameterNode.reportFolder or "")
    if folder in ("", "."):
        raise ValueError("Choose a folder for the report (Patient report section)")
    return folder


def createReport(parameterNode, pictures=None):
    """The patient report of every time point stored in the scene, with the panel's patient
    data; pictures captured from the views, or drawn offscreen when None. Returns (document, paths, notes)."""
    stage1Date = timeline.parseStudyDate(parameterNode.stage1Date, "stage 1 date") if parameterNode.stage1Date else None
    request = ReportRequest(
        planOf(parameterNode),
        patientBody.volumetrySettings(parameterNode.body),
        stage1Date,
        parameterNode.stage1LiverFailure,
        anonymise=parameterNode.reportAnonymise,
        pseudonym=parameterNode.reportPseudonym or ReportRequest.pseudonym,
        pictures=pictures,
        remnantFunctionPerBsa=parameterNode.remnantFunctionPerBsa or None,
        allowDifferentPlans=parameterNode.allowDifferentPlans,
    )
    return reportExport.createPatientReport(parameterNode.parameterNode.GetScene(), reportFolderOf(parameterNode), request)
