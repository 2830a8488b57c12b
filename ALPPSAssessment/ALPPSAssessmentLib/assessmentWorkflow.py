"""From what the user entered in the ALPPS Assessment panel to time points, tables, chart and
checklist: the one path the Slicer module, the batch command and the tests share."""

from dataclasses import dataclass

from ALPPSVolumetryLib.planning import resectionPlans

from .dicom import dicomIndex, timePointProposals
from .course import laboratoryUnits, meldScore, stageTwoReadiness, timeline, timePointCourse

# Laboratory values the panel asks for (keys of laboratoryUnits.UNITS, where their units and
# plausible ranges are defined).
LAB_QUANTITIES = (
    laboratoryUnits.BILIRUBIN,
    laboratoryUnits.CREATININE,
    laboratoryUnits.ALBUMIN,
    laboratoryUnits.INR,
    laboratoryUnits.PROTHROMBIN_TIME_PERCENT,
    laboratoryUnits.SODIUM,
    laboratoryUnits.ICG_PDR,
)


def labsFromValues(values):
    """{quantity: (value, unit)} from the panel, where a value of 0 means 'not measured'.

    Each value is checked in its unit (a bilirubin of 1.2 'umol/L' is plausible, an albumin of 4
    'g/L' is not and is named as the likely g/dL); stored as {quantity: [value, unit]} as entered,
    so that the unit the user chose stays with the number."""
    labs = {}
    for quantity, (value, unit) in values.items():
        if quantity == meldScore.DIALYSIS:
            if meldScore.dialysisAnswer(value):
                labs[quantity] = [True, ""]
            continue
        if quantity not in LAB_QUANTITIES:
            raise ValueError(
                f"Laboratory value '{quantity}' is unknown: expected one of {', '.join(LAB_QUANTITIES + (meldScore.DIALYSIS,))}"
            )
        if value:
            checked = laboratoryUnits.labValue(quantity, value, unit)
            labs[quantity] = [checked.givenValue, checked.givenUnit]
    return labs


def storeTimePointFromValues(segmentationNode, volumeNode, role, studyDateText, labs, planKey=None):
    """Store (or update) the time point of ``segmentationNode``; returns the TimePoint."""
    if segmentationNode is None:
        raise ValueError("No segmentation selected for the time point: choose the scan's segmentation")
    # What the panel does not edit (the remnant function measured for this scan) is kept.
    earlier = timeline.timePointOfNode(segmentationNode)
    point = timeline.TimePoint(
        role=role,
        studyDate=timeline.parseStudyDate(studyDateText, f"study date of the {role} time point"),
        segmentationNode=segmentationNode,
        volumeNode=volumeNode,
        planKey=planKey or None,
        labs=labs,
        remnantFunction=earlier.remnantFunction if earlier is not None else {},
    )
    timeline.storeTimePoint(point)
    return point


@dataclass
class AssessmentOutputs:
    result: object  # timePointCourse.HypertrophyResult
    readiness: list  # clinicalCriteria.Flag rows of the stage 2 readiness checklist
    afterStage2Flags: list  # clinicalCriteria.Flag: 50-50 rule and peak bilirubin
    timePointTable: object
    growthTable: object
    readinessTable: object
    chart: object  # None without the stage 1 date


def updateAssessment(scene, planKey, caudateInRemnant, settings, stage1DateText, allowDifferentPlans=False,
                     timePointTable=None, growthTable=None, readinessTable=None,
                     stage1LiverFailure="unknown", stage2DateText="", remnantFunctionPerBsa=None):
    """Measure every time point stored in the scene; write the time point, growth and readiness
    tables (created when None), the growth chart and the segmentation sequence."""
    stage1Date = timeline.parseStudyDate(stage1DateText, "stage 1 date") if stage1DateText else None
    points = timeline.timePointsInScene(scene)
    if len(points) < 1:
        raise ValueError("No time points in the scene: store at least one scan as a time point")
    plan = resectionPlans.presetPlan(planKey, caudateInRemnant)
    result = timePointCourse.measureHypertrophy(points, plan, settings, stage1Date, allowDifferentPlans)
    readiness = stageTwoReadiness.readinessChecklist(result, stage1LiverFailure, remnantFunctionPerBsa)
    timePointTable = timePointTable or scene.AddNewNodeByClass("vtkMRMLTableNode", "ALPPS time points")
    growthTable = growthTable or scene.AddNewNodeByClass("vtkMRMLTableNode", "ALPPS growth")
    readinessTable = readinessTable or scene.AddNewNodeByClass("vtkMRMLTableNode", "ALPPS stage 2 readiness")
    timePointCourse.writeTimePointTable(timePointTable, result)
    timePointCourse.writeGrowthTable(growthTable, result)
    stageTwoReadiness.writeReadinessTable(readinessTable, readiness)
    chart = None
    if stage1Date is not None:
        chart = timePointCourse.addGrowthChart(scene, timePointTable, result, settings.adequacyThresholds().sflrMinimumPercent)
        timePointCourse.addSegmentationSequence(scene, points, stage1Date)
    return AssessmentOutputs(
        result=result,
        readiness=readiness,
        afterStage2Flags=stageTwoReadiness.afterStage2Flags(result, stage2DateText),
        timePointTable=timePointTable,
        growthTable=growthTable,
        readinessTable=readinessTable,
        chart=chart,
    )


def proposalsForDatabasePatient(database, patientUID):
    """Time point proposals (studies by date, the series to load) for one patient of Slicer's DICOM
    database (``slicer.dicomDatabase``; anything with studiesForPatient, seriesForStudy and
    filesForSeries). Returns (index, proposals)."""
    files = [
        path
        for study in database.studiesForPatient(patientUID)
        for series in database.seriesForStudy(study)
        for path in database.filesForSeries(series)
    ]
    if not files:
        raise ValueError(f"Patient '{patientUID}' has no files in the DICOM database")
    index = dicomIndex.indexDicomFiles(files)
    if not index.patients:
        raise ValueError(f"The DICOM database files of patient '{patientUID}' hold no image series")
    patient = index.patients[0]
    return index, timePointProposals.proposedTimePoints(index, patient.patientId, patient.patientName)


def createSegmentationForScan(volumeNode):
    """An empty segmentation on the scan's geometry, ready for the Segment Editor or TotalSegmentator."""
    if volumeNode is None:
        raise ValueError("No scan loaded: load a study first")
    segmentationNode = volumeNode.GetScene().AddNewNodeByClass("vtkMRMLSegmentationNode", f"{volumeNode.GetName()} segments")
    segmentationNode.CreateDefaultDisplayNodes()
    segmentationNode.SetReferenceImageGeometryParameterFromVolumeNode(volumeNode)
    return segmentationNode
