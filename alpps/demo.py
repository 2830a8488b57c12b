"""`alpps demo`: the synthetic patient through every capability that exists, written as a Slicer
scene bundle, JSON and CSV."""

import csv
import json
import os

from ALPPSAssessmentLib.functional import (
    functionalOverlay,
    functionalSimulator,
    gadoxetateWorkflow,
    imageRegistration,
    mebrofeninWorkflow,
)
from ALPPSAssessmentLib.course import stageTwoReadiness, timeline, timePointCourse
from ALPPSAssessmentLib.report import reportExport
from ALPPSAssessmentLib.report.reportRequest import ReportRequest
from ALPPSVolumetryLib.criteria import bodySize, clinicalCriteria
from ALPPSVolumetryLib.segments import couinaud, segmentationImport, segmentVolumes
from ALPPSVolumetryLib.planning import futureLiverRemnant, planDisplay
from ALPPSVolumetryLib.results import resultsTable
from ALPPSVolumetryLib import syntheticPatient, syntheticPatientScene, volumetryWorkflow
from ALPPSVolumetryLib.sparing import marginVolumetry, sparingDisplay, sparingResults, tumourVesselAnalysis

from ALPPSVolumetryLib.results.resultFields import fieldByKey, PLAN_FIELDS

from . import __version__
from .printing import growthLine
from .headless import SlicerContext

SCENE_BUNDLE = "alpps-demo.mrb"
JSON_FILE = "alpps-demo.json"
TIME_POINT_TABLE = "ALPPS time points"
GROWTH_TABLE = "ALPPS growth"
READINESS_TABLE = "ALPPS stage 2 readiness"
SPARING_FINDINGS_TABLE = "ALPPS tumours and vessels"
SPARING_PLANS_TABLE = "ALPPS parenchyma-sparing plans"
# The classic ALPPS resection (stage 2 removes IV-VIII) and the plain right hepatectomy beside it.
DEMO_PLANS = ("right_trisectionectomy", "right_hepatectomy")
CSV_FILE = "alpps-demo-segment-volumes.csv"
REPORT_FOLDER = "report"


def runDemo(outputDirectory, spacing=(1.5, 1.5, 2.5), context=None, with3D=True):
    """Build the synthetic patient, measure it, save everything; returns the JSON document."""
    os.makedirs(outputDirectory, exist_ok=True)
    ownContext = context is None
    context = context or SlicerContext()
    try:
        scene = context.scene
        patient = syntheticPatient.makeSyntheticPatient(spacing=spacing)
        points = []
        document = {
            "software": {"name": "ALPPS", "version": __version__},
            "patient": {
                "name": patient.name,
                "id": patient.patientId,
                "heightCm": patient.heightCm,
                "weightKg": patient.weightKg,
                "stage1Date": patient.stage1Date.isoformat(),
            },
            "volumeMethod": segmentVolumes.VOLUME_METHOD,
            "volumeUnit": "mL",
            "timePoints": [],
        }
        plans = volumetryWorkflow.plansFromSelection(DEMO_PLANS)
        settings = volumetryWorkflow.settingsFromValues(patient.heightCm, patient.weightKg)
        for index, timePoint in enumerate(patient.timePoints):
            identity = syntheticPatientScene.syntheticIdentity(patient, timePoint, index)
            volumeNode, segmentationNode = syntheticPatientScene.addTimePointNodes(scene, timePoint, "Synthetic", identity)
            volumetry, couinaudTable, planTable = volumetryWorkflow.runVolumetryIntoTables(segmentationNode, plans, settings)
            if timePoint is patient.timePoints[0]:
                planDisplay.showPlan(segmentationNode, plans[0])
                firstSegmentation = segmentationNode
            volumes = segmentVolumes.segmentVolumes(segmentationNode)
            tableNode = scene.AddNewNodeByClass(
                "vtkMRMLTableNode", f"Segment volumes {timePoint.role} {timePoint.studyDate.isoformat()}"
            )
            resultsTable.writeSegmentVolumeTable(tableNode, volumes)
            labs = syntheticPatient.LABS.get(timePoint.role, {})
            point = timeline.TimePoint(timePoint.role, timePoint.studyDate, segmentationNode, volumeNode, plans[0].key, labs)
            timeline.storeTimePoint(point)
            points.append(point)
            document["timePoints"].append(
                {
                    "role": timePoint.role,
                    "studyDate": timePoint.studyDate.isoformat(),
                    "daysAfterStage1": timeline.daysAfterStage1(timePoint.studyDate, patient.stage1Date),
                    "volumeNode": volumeNode.GetName(),
                    "segmentationNode": segmentationNode.GetName(),
                    "tableNode": tableNode.GetName(),
                    "couinaudTableNode": couinaudTable.GetName(),
                    "planTableNode": planTable.GetName(),
                    "volumetry": futureLiverRemnant.volumetryToDict(volumetry),
                    "segments": {
                        volume.name: {
                            "couinaudSegment": couinaud.segmentIdFromName(volume.name)[0],
                            "voxelCount": volume.voxelCount,
                            "volumeMl": volume.volumeMl,
                            "trueVolumeMl": timePoint.trueVolumesMl[_truthKey(volume.name)],
                        }
                        for volume in volumes
                    },
                }
            )
        document["parenchymaSparing"] = _parenchymaSparing(scene, firstSegmentation, plans, settings)
        # Functional imaging before stage 2 (the last scan): mebrofenin SPECT and gadoxetate MRI.
        document["function"] = _functionalImaging(scene, patient, patient.timePoints[-1], volumeNode, segmentationNode, plans[0])
        # The remnant function belongs to its time point: stored with it, it reaches the checklist.
        measured = document["function"]["mebrofenin"]["remnantFunction"]
        points[-1].remnantFunction = {key: measured[key] for key in ("flrFunctionPerBsa", "flrFunctionPercentPerMin", "murPercentPerMin", "flrSharePercent")}
        timeline.storeTimePoint(points[-1])
        for modality in ("mebrofenin", "gadoxetate"):
            timeline.storeFunctionalStudy(segmentationNode, modality, document["function"][modality])
        growth = timePointCourse.measureHypertrophy(points, plans[0], settings, patient.stage1Date)
        timePointTable = timePointCourse.writeTimePointTable(scene.AddNewNodeByClass("vtkMRMLTableNode", TIME_POINT_TABLE), growth)
        timePointCourse.writeGrowthTable(scene.AddNewNodeByClass("vtkMRMLTableNode", GROWTH_TABLE), growth)
        timePointCourse.addGrowthChart(scene, timePointTable, growth, settings.adequacyThresholds().sflrMinimumPercent)
        document["hypertrophy"] = timePointCourse.hypertrophyToDict(growth)
        readiness = stageTwoReadiness.readinessChecklist(growth, stage1LiverFailure="no")
        stageTwoReadiness.writeReadinessTable(scene.AddNewNodeByClass("vtkMRMLTableNode", READINESS_TABLE), readiness)
        document["readiness"] = stageTwoReadiness.readinessToList(readiness)
        for row, timePoint in zip(document["hypertrophy"]["timePoints"], patient.timePoints):
            row["trueRemnantMl"] = sum(timePoint.trueVolumesMl[s] for s in plans[0].remnantSegments)
            row["trueTotalLiverMl"] = timePoint.trueVolumesMl["Liver"]
        _storePanelValues(scene, patient, plans[0])
        # The tumour board report, made by the same function as the panel's button and `alpps report`.
        request = ReportRequest(plans[0], settings, patient.stage1Date, "no", plans[1:], with3D=with3D)
        _, reportPaths, _ = reportExport.createPatientReport(scene, os.path.join(outputDirectory, REPORT_FOLDER), request)
        document["outputs"] = {
            "sceneBundle": SCENE_BUNDLE,
            "json": JSON_FILE,
            "csv": CSV_FILE,
            "report": os.path.join(REPORT_FOLDER, reportExport.REPORT_HTML),
        }
        document["report"] = {what: os.path.relpath(path, outputDirectory) for what, path in reportPaths.items()}
        context.saveSceneBundle(os.path.join(outputDirectory, SCENE_BUNDLE))
        with open(os.path.join(outputDirectory, JSON_FILE), "w", encoding="utf-8") as stream:
            json.dump(document, stream, indent=2)
        _writeCsv(os.path.join(outputDirectory, CSV_FILE), document)
        return document
    finally:
        if ownContext:
            context.close()


def _storePanelValues(scene, patient, plan):
    """The ALPPSAssessment panel's parameter node, filled as a user would, so that the scene opens
    in Slicer with the patient's data entered and `alpps report --scene` finds them."""
    node = scene.AddNewNodeByClass("vtkMRMLScriptedModuleNode", reportExport.ASSESSMENT_MODULE)
    node.SetSingletonTag(reportExport.ASSESSMENT_MODULE)
    node.SetAttribute("ModuleName", reportExport.ASSESSMENT_MODULE)
    for name, value in (("body.heightCm", patient.heightCm), ("body.weightKg", patient.weightKg), ("stage1Date", patient.stage1Date.isoformat()),
                        ("plan", plan.key), ("body.liverCondition", "normal"), ("stage1LiverFailure", "no")):
        node.SetParameter(name, str(value))
    return node


def _parenchymaSparing(scene, segmentationNode, plans, settings):
    """Before stage 1: would a parenchyma-sparing resection clear the tumours with more liver left?"""
    analysis = tumourVesselAnalysis.analyseTumours(segmentationNode)
    comparison = marginVolumetry.compareWithMajorPlans(segmentationNode, (1.0, 10.0), plans, settings)
    sparingDisplay.writeFindingsTable(scene.AddNewNodeByClass("vtkMRMLTableNode", SPARING_FINDINGS_TABLE), analysis.findings)
    sparingDisplay.writeComparisonTable(scene.AddNewNodeByClass("vtkMRMLTableNode", SPARING_PLANS_TABLE), comparison)
    sparingDisplay.addSparingSegments(segmentationNode, comparison.marginPlanFor(1.0), analysis)
    document = sparingResults.comparisonToDict(comparison)
    document["tumours"] = sparingResults.findingsToDict(analysis.findings)["tumours"]
    return document


def _functionalImaging(scene, patient, timePoint, ctNode, segmentationNode, plan):
    """A simulated mebrofenin study (dynamic series and SPECT, misaligned as a real one would be,
    then registered to the CT) and a gadoxetate MRI pair of one scan, measured and shown as overlays."""
    relativeFunction = functionalSimulator.INTERSTAGE_RELATIVE_FUNCTION_PER_ML
    volumes = {segmentId: timePoint.trueVolumesMl[segmentId] for segmentId in couinaud.SEGMENT_IDS}
    shares = functionalSimulator.segmentSharesFromRelativeFunction(relativeFunction, volumes)
    spect = functionalSimulator.simulateSpect(timePoint.couinaudLabels, timePoint.ijkToRAS, shares, seed=11)
    spectNode = segmentationImport.addVolumeFromArray(scene, "Synthetic mebrofenin SPECT", spect.counts.astype("float32"), spect.ijkToRAS)
    registration = imageRegistration.registerFunctionalVolume(ctNode, spectNode, "rigid", maskSegmentation=segmentationNode)
    # Slicer opens the saved scene with these layers: the SPECT (normalised to the liver mean) over
    # the CT in the axial and sagittal views with the remnant outlined, the MRI's relative
    # enhancement in the coronal view.
    functionalOverlay.sliceCompositeNodes(scene)
    spectOverlay = functionalOverlay.showFunctionalOverlay(
        functionalOverlay.SPECT_LIVER_COUNTS, ctNode, spectNode, segmentationNode=segmentationNode, plan=plan, layoutNames=("Red", "Yellow")
    )
    study = functionalSimulator.simulateDynamicStudy(0.12, seed=11)
    mebrofeninWorkflow.addTimeActivityChart(scene, study.curves)
    share = mebrofeninWorkflow.spectRemnantShare(segmentationNode, plan, spectNode)
    bsa = bodySize.bodySurfaceArea(patient.heightCm, patient.weightKg)
    uptake, assessment = mebrofeninWorkflow.remnantFunction(study.curves, share, bsa)
    pre, hbp, ijkToRAS = functionalSimulator.simulateGadoxetateMri(timePoint, relativeFunction, seed=11)
    preNode = segmentationImport.addVolumeFromArray(scene, "Synthetic gadoxetate MRI pre-contrast", pre, ijkToRAS)
    hbpNode = segmentationImport.addVolumeFromArray(scene, "Synthetic gadoxetate MRI hepatobiliary phase", hbp, ijkToRAS)
    mriOverlay = functionalOverlay.showFunctionalOverlay(
        functionalOverlay.MRI_RELATIVE_ENHANCEMENT, ctNode, None, hbpNode, preNode, segmentationNode, layoutNames=("Green",)
    )
    gadoxetate = gadoxetateWorkflow.measureGadoxetateWithMap(segmentationNode, plan, hbpNode, preNode)
    gadoxetateWorkflow.addEnhancementMapNode(gadoxetate.enhancementMap)  # saved with the scene, on the MRI's own grid
    return {
        "scan": {"role": timePoint.role, "studyDate": timePoint.studyDate.isoformat()},
        "mebrofenin": {
            "registration": registration.result.asDict(),
            "uptake": uptake.asDict(),
            "remnantShare": share.asDict(),
            "remnantFunction": assessment.asDict(),
            "timeActivityCurves": study.curves.asDict(),
            "trueRemnantSharePercent": 100.0 * functionalSimulator.trueRemnantShare(shares, plan.remnantSegments),
            "trueMurPercentPerMin": study.expectedMurPercentPerMin,
            "overlay": {"map": spectOverlay.mapNode.GetName(), "window": list(spectOverlay.window), "summary": spectOverlay.summary},
        },
        "gadoxetateOverlay": {"map": mriOverlay.mapNode.GetName(), "window": list(mriOverlay.window), "summary": mriOverlay.summary},
        "gadoxetate": gadoxetate.document,
    }


def _truthKey(segmentName):
    segmentId, _ = couinaud.segmentIdFromName(segmentName)
    return segmentId or segmentName


def _writeCsv(path, document):
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["time point", "study date", "segment", "Couinaud segment", "voxel count", "volume (mL)"])
        for point in document["timePoints"]:
            for name, segment in point["segments"].items():
                writer.writerow(
                    [
                        point["role"],
                        point["studyDate"],
                        name,
                        segment["couinaudSegment"] or "",
                        segment["voxelCount"],
                        f"{segment['volumeMl']:.3f}",
                    ]
                )


# The plan numbers the demo's summary names; the full set is in its JSON and report.
_DEMO_PLAN_FIELDS = tuple(fieldByKey(PLAN_FIELDS, key) for key in ("remnantMl", "percentFLR", "sFLR", "flrBwr"))


def formatDemoSummary(document):
    """The readable table `alpps demo` prints: measured against true volume per time point, and
    the remnant of the demo plans."""
    lines = []
    for point in document["timePoints"]:
        lines.append(f"{point['role']} ({point['studyDate']}, day {point['daysAfterStage1']:+d} after stage 1)")
        lines.append(f"  {'segment':<20} {'volume (mL)':>12} {'truth (mL)':>12}")
        for name, segment in point["segments"].items():
            lines.append(f"  {name:<20} {segment['volumeMl']:>12.2f} {segment['trueVolumeMl']:>12.2f}")
        for key, plan in point["volumetry"]["plans"].items():
            flags = ", ".join(f"{flag['label']} {flag['stateText']}" + (f" [{flag['status']}]" if flag["status"] != "checked" else "")
                              for flag in plan["flags"])
            shown = ", ".join(f"{field.title} {field.shownWithUnit(plan)}" for field in _DEMO_PLAN_FIELDS)
            lines.append(f"  plan {key}: {shown} ({flags})")
            if plan["tumourFlag"] and plan["tumourFlag"]["state"] == "not met":
                lines.append(f"    WARNING: {plan['tumourFlag']['reason']}")
    growth = document["hypertrophy"]
    lines.append(f"Hypertrophy of the {growth['plan']['key']} remnant")
    for interval in growth["sinceStage1"] + growth["intervals"]:
        lines.append("  " + growthLine(interval))
    sparing = document["parenchymaSparing"]
    lines.append("Parenchyma-sparing alternative before stage 1")
    for tumour in sparing["tumours"]:
        contacts = [d["vessel"] for d in tumour["vessels"] if d["contact"]]
        lines.append(f"  {tumour['name']}: {tumour['volumeMl']:.1f} mL, {tumour['largestDiameterMm']:.1f} mm" + (f", contact with {', '.join(contacts)}" if contacts else ""))
    for plan in sparing["parenchymaSparing"]:
        lines.append(f"  {plan['label']}: FLR {fieldByKey(PLAN_FIELDS, 'remnantMl').shownWithUnit(plan)}, "
                     f"{len(plan['resectionAreas'])} resection area(s)")
    function = document["function"]
    mebrofenin = function["mebrofenin"]
    lines.append(f"Functional imaging at the {function['scan']['role']} scan")
    lines.append(
        f"  mebrofenin: MUR {mebrofenin['uptake']['murPercentPerMin']:.2f} %/min (simulated {mebrofenin['trueMurPercentPerMin']:.2f}), "
        f"FLR-C {mebrofenin['remnantShare']['percent']:.1f} % (simulated {mebrofenin['trueRemnantSharePercent']:.1f} %), "
        f"FLR-F/BSA {mebrofenin['remnantFunction']['flrFunctionPerBsa']:.2f} %/min/m2"
    )
    gadoxetate = function["gadoxetate"]
    lines.append(
        f"  gadoxetate: remnant functional share {100 * gadoxetate['remnantFunctionalShare']['share']:.1f} %, "
        + clinicalCriteria.Flag.fromDict(gadoxetate["remnantHuiFlag"]).line()
    )
    lines.append("Stage 2 readiness (decision support)")
    for item in document["readiness"]:
        lines.append("  " + clinicalCriteria.Flag.fromDict(item).line())
    return "\n".join(lines)
