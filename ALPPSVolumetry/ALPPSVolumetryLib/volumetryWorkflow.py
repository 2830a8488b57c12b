"""From what the user entered (module panel or command line) to volumetry results in tables:
the one path the Slicer module, the batch command and the tests share."""


from .criteria import adequacy
from .planning import futureLiverRemnant, landmarkSegments, resectionPlans, virtualTransection
from .results import resultsTable
from .segments import segmentVolumes
from .segments.couinaud import SEGMENT_IDS
from .segments.segmentRecognition import ROLE_LIVER, SegmentRoles
from .sparing import marginVolumetry, sparingDisplay, sparingInputs, tumourVesselAnalysis


def plansFromSelection(presetKeys, caudateInRemnant=True, customPlanText=""):
    """Plans for the ticked presets, with segment I kept or resected, plus an optional custom
    plan typed as 'NAME=I,II,III,IVb'."""
    plans = [resectionPlans.presetPlan(key, caudateInRemnant=caudateInRemnant) for key in presetKeys]
    if customPlanText and customPlanText.strip():
        plans.append(resectionPlans.parsePlan("custom:" + customPlanText.strip()))
    if not plans:
        raise ValueError("No resection plan selected: tick at least one plan or type a custom segment set")
    return plans


def settingsFromValues(
    heightCm=0.0,
    weightKg=0.0,
    bsaFormula="",
    stlvFormula="vauthey",
    liverCondition="normal",
    sflrThresholdPercent=0.0,
    flrBwrThresholdPercent=0.0,
    thresholdSource="",
):
    """VolumetrySettings from panel values, where 0 (or empty) means 'not entered'."""
    thresholds = None
    overrides = {}
    if sflrThresholdPercent:
        overrides["sflrMinimumPercent"] = float(sflrThresholdPercent)
    if flrBwrThresholdPercent:
        overrides["flrBwrMinimumPercent"] = float(flrBwrThresholdPercent)
    if overrides:
        if not (thresholdSource and thresholdSource.strip()):
            raise ValueError("A changed adequacy threshold needs its source (for example your centre's protocol)")
        thresholds = adequacy.defaultThresholds(liverCondition).withOverrides(source=thresholdSource.strip(), **overrides)
    return futureLiverRemnant.VolumetrySettings(
        heightCm=float(heightCm) if heightCm else None,
        weightKg=float(weightKg) if weightKg else None,
        # The Um equations were fitted with their own BSA formula, which the result then records.
        bsaFormula=None if stlvFormula.startswith("um_") else (bsaFormula or None),
        stlvFormula=stlvFormula,
        liverCondition=liverCondition,
        thresholds=thresholds,
    )


def runVolumetryIntoTables(segmentationNode, plans, settings, couinaudTable=None, planTable=None):
    """Measure and write the Couinaud and plan tables (created in the segmentation's scene when
    None); returns (result, couinaudTable, planTable)."""
    if segmentationNode is None:
        raise ValueError("No segmentation selected: choose the segmentation holding Couinaud segments I-VIII")
    result = futureLiverRemnant.measureVolumetry(segmentationNode, plans, settings)
    scene = segmentationNode.GetScene()
    name = segmentationNode.GetName()
    couinaudTable = couinaudTable or scene.AddNewNodeByClass("vtkMRMLTableNode", f"{name} Couinaud volumes")
    planTable = planTable or scene.AddNewNodeByClass("vtkMRMLTableNode", f"{name} resection plans")
    resultsTable.writeCouinaudTable(couinaudTable, result)
    resultsTable.writePlanTable(planTable, result)
    return result, couinaudTable, planTable


def checkTotalSegmentatorLiverSegments(segmentationNode):
    """After TotalSegmentator's liver segment task (liver_segments or liver_segments_mr): all eight Couinaud segments must be there and
    non-empty (the model can return empty segments); raises ValueError naming the bad ones."""
    roles = SegmentRoles(segmentationNode)
    units = roles.couinaudUnits()
    missing = [segmentId for segmentId in SEGMENT_IDS if segmentId not in units]
    volumes = {volume.segmentId: volume for volume in segmentVolumes.segmentVolumes(segmentationNode, list(units.values()))}
    empty = [unit for unit, segmentId in units.items() if volumes[segmentId].isEmpty]
    problems = []
    if missing:
        problems.append(f"missing segment(s) {', '.join(missing)}")
    if empty:
        problems.append(f"empty segment(s) {', '.join(empty)}")
    if problems:
        raise ValueError(
            f"TotalSegmentator's liver segment output '{segmentationNode.GetName()}' has {' and '.join(problems)}: "
            "paint them in the Segment Editor before volumetry"
        )
    return units


def wholeLiverSegmentId(segmentationNode):
    """The one segment playing the whole liver; ValueError when there is none or several."""
    if segmentationNode is None:
        raise ValueError("No segmentation selected: choose the segmentation holding the whole-liver segment")
    roles = SegmentRoles(segmentationNode)
    liverSegments = roles.segmentsWithRole(ROLE_LIVER)
    if len(liverSegments) != 1:
        found = ", ".join(f"'{roles.names[s]}'" for s in liverSegments) or "none"
        raise ValueError(
            f"Segmentation '{segmentationNode.GetName()}' needs exactly one whole-liver segment (found {found}): "
            "name it 'Liver' or set its role to 'liver'"
        )
    return liverSegments[0]


def createCouinaudSegmentsFromLandmarks(segmentationNode, landmarksNode):
    """Couinaud segments I-VIII from the whole-liver segment and the landmark points."""
    if landmarksNode is None:
        raise ValueError("No landmarks selected: place points labelled IVC, RHV, MHV, UF and portal bifurcation (LHV optional)")
    return landmarkSegments.addCouinaudSegmentsFromLandmarks(
        segmentationNode, wholeLiverSegmentId(segmentationNode), landmarksNode
    )


def runTransection(segmentationNode, transectionNode, remnantPointNode, settings, planTable=None):
    """Cut the whole liver along a markups plane or a surface through markups points, keep the
    side of the remnant point, and measure that remnant; earlier transection segments made by
    ALPPS are replaced. Returns (PlanResult, planTable)."""
    if transectionNode is None:
        raise ValueError("No transection selected: choose a markups plane, or points along the cut")
    if remnantPointNode is None:
        raise ValueError("No remnant point selected: place one point in the liver that stays")
    segmentation = segmentationNode.GetSegmentation()
    for name in (virtualTransection.REMNANT_NAME, virtualTransection.RESECTED_NAME):
        segmentId = segmentation.GetSegmentIdBySegmentName(name)
        if segmentId and segmentation.GetSegment(segmentId).HasTag(landmarkSegments.METHOD_TAG):
            segmentation.RemoveSegment(segmentId)
    liverId = wholeLiverSegmentId(segmentationNode)
    created = virtualTransection.addTransectionSegments(segmentationNode, liverId, transectionNode, remnantPointNode)
    plan = futureLiverRemnant.measureTransection(segmentationNode, created["remnant"], settings)
    planTable = planTable or segmentationNode.GetScene().AddNewNodeByClass(
        "vtkMRMLTableNode", f"{segmentationNode.GetName()} virtual transection"
    )
    body = futureLiverRemnant.standardLiverVolumeFor(settings)
    resultsTable.writePlanRows(planTable, [plan], settings, body)
    return plan, planTable


def runParenchymaSparing(
    segmentationNode,
    marginMm,
    plans,
    settings,
    contactDistanceMm=sparingInputs.CONTACT_DISTANCE_MM,
    tumourTable=None,
    sparingPlanTable=None,
):
    """Tumour-vessel distances and the margin plans (the chosen margin, 1 and 10 mm) beside the
    major plans, into the tumour and plan tables (created in the segmentation's scene when None);
    the chosen margin's resection areas and the vessel contacts become segments, replacing
    earlier ones. The tumours and each margin are measured once: the segments show the plan and
    the findings of the tables. Returns (comparison, tumourTable, sparingPlanTable)."""
    if segmentationNode is None:
        raise ValueError("No segmentation selected: choose the segmentation holding the liver, its tumours and vessels")
    analysis = tumourVesselAnalysis.analyseTumours(segmentationNode, None, contactDistanceMm)
    margins = sorted({marginMm, *sparingInputs.MARGIN_CHOICES_MM})
    comparison = marginVolumetry.compareWithMajorPlans(segmentationNode, margins, plans, settings)
    # Segments first: a segment name already taken refuses the run before any table is made.
    sparingDisplay.addSparingSegments(segmentationNode, comparison.marginPlanFor(marginMm), analysis)
    scene = segmentationNode.GetScene()
    name = segmentationNode.GetName()
    tumourTable = tumourTable or scene.AddNewNodeByClass("vtkMRMLTableNode", f"{name} tumours and vessels")
    sparingPlanTable = sparingPlanTable or scene.AddNewNodeByClass("vtkMRMLTableNode", f"{name} parenchyma-sparing plans")
    sparingDisplay.writeFindingsTable(tumourTable, analysis.findings)
    sparingDisplay.writeComparisonTable(sparingPlanTable, comparison)
    return comparison, tumourTable, sparingPlanTable
