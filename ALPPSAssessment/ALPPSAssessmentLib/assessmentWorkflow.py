"""From what the user entered in the ALPPS Assessment panel to time points, tables, chart and
checklist: the one path the Slicer module, the batch command and the tests share."""

from ALPPSVolumetryLib import resectionPlans, volumetryWorkflow

from . import hypertrophy, timeline

# Laboratory values the panel asks for: name -> (label, units offered, first unit is canonical).
LAB_FIELDS = {
    "bilirubin": ("Bilirubin", ("umol/L", "mg/dL")),
    "creatinine": ("Creatinine", ("mg/dL", "umol/L")),
    "albumin": ("Albumin", ("g/L", "g/dL")),
    "inr": ("INR", ("",)),
    "prothrombinPercent": ("Prothrombin time", ("%",)),
    "sodium": ("Sodium", ("mmol/L",)),
}


def labsFromValues(values):
    """{name: (value, unit)} from the panel, where a value of 0 means 'not measured'; stored as
    {name: [value, unit]} so that the unit the user chose is kept with the number."""
    labs = {}
    for name, (value, unit) in values.items():
        if name not in LAB_FIELDS:
            raise ValueError(f"Laboratory value '{name}' is unknown: expected one of {', '.join(LAB_FIELDS)}")
        if value:
            units = LAB_FIELDS[name][1]
            if unit not in units:
                raise ValueError(f"{LAB_FIELDS[name][0]} unit '{unit}' is unknown: expected {' or '.join(units)}")
            labs[name] = [float(value), unit]
    return labs


def storeTimePointFromValues(segmentationNode, volumeNode, role, studyDateText, labs, planKey=None):
    """Store (or update) the time point of ``segmentationNode``; returns the TimePoint."""
    if segmentationNode is None:
        raise ValueError("No segmentation selected for the time point: choose the scan's segmentation")
    point = timeline.TimePoint(
        role=role,
        studyDate=timeline.parseStudyDate(studyDateText, f"study date of the {role} time point"),
        segmentationNode=segmentationNode,
        volumeNode=volumeNode,
        planKey=planKey or None,
        labs=labs,
    )
    timeline.storeTimePoint(point)
    return point


def updateAssessment(scene, planKey, caudateInRemnant, settings, stage1DateText, allowDifferentPlans=False,
                     roleOverrides=None, timePointTable=None, growthTable=None):
    """Measure every time point stored in the scene; write the time point and growth tables
    (created when None), a growth chart and the segmentation sequence. Returns
    (HypertrophyResult, timePointTable, growthTable, chart)."""
    stage1Date = timeline.parseStudyDate(stage1DateText, "stage 1 date") if stage1DateText else None
    points = timeline.timePointsInScene(scene)
    if len(points) < 1:
        raise ValueError("No time points in the scene: store at least one scan as a time point")
    plan = resectionPlans.presetPlan(planKey, caudateInRemnant)
    result = hypertrophy.measureHypertrophy(points, plan, settings, stage1Date, allowDifferentPlans, roleOverrides)
    timePointTable = timePointTable or scene.AddNewNodeByClass("vtkMRMLTableNode", "ALPPS time points")
    growthTable = growthTable or scene.AddNewNodeByClass("vtkMRMLTableNode", "ALPPS growth")
    hypertrophy.writeTimePointTable(timePointTable, result)
    hypertrophy.writeGrowthTable(growthTable, result)
    chart = None
    if stage1Date is not None:
        chart = hypertrophy.addGrowthChart(scene, timePointTable, result, settings.adequacyThresholds().sflrMinimumPercent)
        hypertrophy.addSegmentationSequence(scene, points, stage1Date)
    return result, timePointTable, growthTable, chart


def settingsFromPanel(parameterNode):
    """VolumetrySettings from the Assessment panel's patient fields (0 = not entered)."""
    return volumetryWorkflow.settingsFromValues(
        parameterNode.heightCm,
        parameterNode.weightKg,
        parameterNode.bsaFormula,
        parameterNode.stlvFormula,
        parameterNode.liverCondition,
    )
