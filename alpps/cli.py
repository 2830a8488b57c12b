"""The `alpps` batch command: the extension's logic without the Slicer application."""

import json
import sys

from . import __version__, inputOptions
from .printing import formatHypertrophy, formatSparing, formatVolumetry


def _parseLabelMapping(text):
    """'1=Segment I,2=Segment II', a JSON file {"1": "Segment I", ...} or a preset -> {1: 'Segment I', ...}."""
    return inputOptions.parseLabelMapping(text)


def _commandDemo(arguments):
    from .demo import formatDemoSummary, runDemo

    document = runDemo(arguments.out)
    print(formatDemoSummary(document))
    print(f"\nWrote {', '.join(document['outputs'].values())} to {arguments.out}")
    if arguments.json:
        _writeJson(arguments.json, document)
    return 0


def _commandSegmentVolumes(arguments):
    from ALPPSVolumetryLib.segments import segmentationIO, segmentVolumes

    from .headless import SlicerContext

    with SlicerContext() as context:
        segmentationNode = segmentationIO.loadSegmentation(
            context.scene, arguments.segmentation, _parseLabelMapping(arguments.labels)
        )
        volumes = segmentVolumes.segmentVolumes(segmentationNode)
    print(f"{'segment':<28} {'voxels':>10} {'volume (mL)':>12}")
    for volume in volumes:
        note = "  (empty)" if volume.isEmpty else ""
        print(f"{volume.name:<28} {volume.voxelCount:>10d} {volume.volumeMl:>12.2f}{note}")
    print(f"method: {segmentVolumes.VOLUME_METHOD}")
    if arguments.json:
        _writeJson(
            arguments.json,
            {
                "software": {"name": "ALPPS", "version": __version__},
                "segmentation": arguments.segmentation,
                "volumeMethod": segmentVolumes.VOLUME_METHOD,
                "volumeUnit": "mL",
                "segments": {
                    volume.name: {"voxelCount": volume.voxelCount, "volumeMl": volume.volumeMl, "empty": volume.isEmpty}
                    for volume in volumes
                },
            },
        )
    return 0


def _storeRoleCorrections(segmentationNode, items):
    """The --role corrections kept on the segments, where every later step reads them."""
    from ALPPSVolumetryLib.segments import segmentRecognition

    segmentRecognition.storeRoleCorrections(segmentationNode, inputOptions.parseRoleCorrections(items))


def _settingsFromArguments(arguments):
    """VolumetrySettings from the body-size, formula, condition and threshold options a command has.
    On the command line a given 0 is a mistake, not "not entered" as in the panel."""
    from ALPPSVolumetryLib.criteria import bodySize
    from ALPPSVolumetryLib import volumetryWorkflow

    if arguments.height is not None:
        bodySize.validateHeightCm(arguments.height)
    if arguments.weight is not None:
        bodySize.validateWeightKg(arguments.weight)
    return volumetryWorkflow.settingsFromValues(
        arguments.height,
        arguments.weight,
        arguments.bsa_formula,
        arguments.stlv_formula,
        arguments.liver_condition,
        getattr(arguments, "sflr_threshold", None),
        getattr(arguments, "bwr_threshold", None),
        getattr(arguments, "threshold_source", ""),
    )


def _commandVolumetry(arguments):
    labelNames = _parseLabelMapping(arguments.labels)
    from ALPPSVolumetryLib.planning import futureLiverRemnant, resectionPlans
    from ALPPSVolumetryLib.segments import segmentationIO

    from .headless import SlicerContext

    plans = [resectionPlans.parsePlan(text) for text in (arguments.plan or list(resectionPlans.PRESETS))]
    settings = _settingsFromArguments(arguments)
    with SlicerContext() as context:
        segmentationNode = segmentationIO.loadSegmentation(context.scene, arguments.segmentation, labelNames)
        geometryWarning = None
        if arguments.volume:
            volumeNode = segmentationIO.loadVolume(context.scene, arguments.volume, what="--volume")
            geometryWarning = segmentationIO.checkSegmentationOnVolume(segmentationNode, volumeNode)
        _storeRoleCorrections(segmentationNode, arguments.role)
        result = futureLiverRemnant.measureVolumetry(segmentationNode, plans, settings)
        segmentationIO.releaseSegmentation(segmentationNode)
    if geometryWarning:
        result.warnings.insert(0, geometryWarning)
    print(formatVolumetry(result))
    if arguments.json:
        document = futureLiverRemnant.volumetryToDict(result)
        document["software"] = {"name": "ALPPS", "version": __version__}
        document["inputs"] = {"volume": arguments.volume, "segmentation": arguments.segmentation, "labels": arguments.labels}
        _writeJson(arguments.json, document)
    return 0


def _parseTimePointArgument(text):
    """DATE:VOLUME:SEGMENTATION[:ROLE]; VOLUME may be empty."""
    parts = text.split(":")
    if any(len(part) == 1 and part.isalpha() and following[:1] in ("\\", "/") for part, following in zip(parts[1:], parts[2:])):
        raise SystemExit(f"alpps: --timepoint '{text}' holds a Windows path with a drive letter, whose colon splits the option: "
                         "use --timepoints FILE (a CSV or JSON list of the scans)")
    if len(parts) not in (3, 4) or not parts[0] or not parts[2]:
        raise SystemExit(
            f"alpps: --timepoint '{text}' must read DATE:VOLUME:SEGMENTATION[:ROLE], "
            "e.g. 2026-03-12:ct.nrrd:segments.seg.nrrd:interstage (VOLUME may be empty)"
        )
    return parts[0], parts[1] or None, parts[2], (parts[3] if len(parts) == 4 else None)


def _inferredRoles(dates, stage1Date):
    """Roles when none are given: before stage 1 (or the first scan) is pre-stage 1, the others
    interstage scans in date order."""
    roles, interstage = [], 0
    for index, date in enumerate(dates):
        if (stage1Date is not None and date <= stage1Date) or (stage1Date is None and index == 0):
            roles.append("pre-stage 1")
        else:
            interstage += 1
            roles.append("interstage" if interstage == 1 else f"interstage {interstage}")
    return roles


def _parseLabs(items):
    """{date: labs} from 'DATE:QUANTITY=VALUE UNIT,...' (e.g. '2026-03-15:bilirubin=20 umol/L,inr=1.1')."""
    from ALPPSAssessmentLib import assessmentWorkflow
    from ALPPSAssessmentLib.course import timeline
    from ALPPSVolumetryLib.inputs import inputChecks

    labsByDate = {}
    for item in items or ():
        dateText, separator, values = item.partition(":")
        if not separator or "=" not in values:
            raise SystemExit(f"alpps: --labs '{item}' must read DATE:QUANTITY=VALUE UNIT,... e.g. 2026-03-15:bilirubin=20 umol/L,inr=1.1")
        entries = {}
        for part in values.split(","):
            quantity, _, valueText = part.partition("=")
            if quantity.strip() == "dialysis":
                entries["dialysis"] = (valueText.strip(), "")
                continue
            number, _, unit = valueText.strip().partition(" ")
            try:
                value = float(number)
            except ValueError:
                raise SystemExit(f"alpps: --labs value '{part}' must read QUANTITY=VALUE UNIT, e.g. bilirubin=20 umol/L") from None
            if quantity.strip() in entries:
                raise ValueError(f"--labs '{item}' gives {quantity.strip()} twice: expected each quantity once per date")
            entries[quantity.strip()] = (inputChecks.checkedNumber(value, f"--labs {quantity.strip()}", 0.0, None, unit.strip()), unit.strip())
        date = timeline.parseStudyDate(dateText, f"date of the laboratory values '{item}'")
        if date in labsByDate:
            raise ValueError(f"--labs gives {date.isoformat()} twice: put every value of that day in one option")
        labsByDate[date] = assessmentWorkflow.labsFromValues(entries)
    return labsByDate


def _parseRemnantFunction(items):
    """{date: {key: value}} from 'DATE:flrFunctionPerBsa=2.4,murPercentPerMin=12,...' (repeatable):
    the remnant function measured at the time point of that date, under the keys the time points
    store (functionalWorkflow.REMNANT_FUNCTION_KEYS)."""
    from ALPPSAssessmentLib import functionalWorkflow
    from ALPPSAssessmentLib.course import timeline

    keys = ", ".join(functionalWorkflow.REMNANT_FUNCTION_KEYS)
    functionByDate = {}
    for item in items or ():
        dateText, separator, values = item.partition(":")
        if not separator or "=" not in values:
            raise SystemExit(
                f"alpps: --remnant-function '{item}' must read DATE:KEY=VALUE,... e.g. 2026-03-15:flrFunctionPerBsa=2.4,murPercentPerMin=12 (keys: {keys})"
            )
        entries = {}
        for part in values.split(","):
            key, equals, valueText = part.partition("=")
            key = key.strip()
            if not equals or key not in functionalWorkflow.REMNANT_FUNCTION_KEYS:
                raise SystemExit(f"alpps: --remnant-function key '{key}' in '{item}' is unknown: expected KEY=VALUE with KEY one of {keys}")
            try:
                entries[key] = float(valueText)
            except ValueError:
                raise SystemExit(f"alpps: --remnant-function value '{part}' must be a number, e.g. flrFunctionPerBsa=2.4") from None
        date = timeline.parseStudyDate(dateText, f"date of the remnant function '{item}'")
        if date in functionByDate:
            raise SystemExit(f"alpps: --remnant-function gives {date.isoformat()} twice: put every value of that day in one option")
        functionByDate[date] = functionalWorkflow.checkedRemnantFunction(entries, f"remnant function of {date.isoformat()}")
    return functionByDate


def _loadTimePoints(scene, arguments, stage1Date, functionByDate=None):
    """The --timepoint scans read into ``scene`` as TimePoints (roles inferred from the dates when
    not given, --labs attached by date); returns [(TimePoint, segmentation path)]."""
    from ALPPSAssessmentLib.course import timeline
    from ALPPSVolumetryLib.segments import segmentationIO

    manifest = getattr(arguments, "manifestEntries", None)
    if manifest:
        entries = [(entry.date, entry.volume, entry.segmentation, entry.role) for entry in manifest]
    else:
        entries = [_parseTimePointArgument(text) for text in arguments.timepoint or ()]
    if not entries:
        raise ValueError("no scans given: expected --timepoint DATE:VOLUME:SEGMENTATION (one per scan) or --timepoints FILE")
    dates = [timeline.parseStudyDate(date, f"date of time point '{date}'") for date, _, _, _ in entries]
    inputOptions.checkCourseDates(dates, stage1Date)
    # Roles follow the scans' order by date (then as given): two scans on one day get two roles, and
    # the growth between them says why it has no rate.
    order = sorted(range(len(dates)), key=lambda index: (dates[index], index))
    roleOfEntry = dict(zip(order, _inferredRoles([dates[index] for index in order], stage1Date)))
    labsByDate = _parseLabs(arguments.labs_of_day)
    functionByDate = functionByDate or {}
    unmatched = sorted(date for date in functionByDate if date not in dates)
    if unmatched:
        raise ValueError(
            f"Remnant function dated {', '.join(d.isoformat() for d in unmatched)} matches no time point "
            f"(time points: {', '.join(d.isoformat() for d in sorted(dates))})"
        )
    labelNames = _parseLabelMapping(arguments.labels)
    loaded = []
    entryLabels = [_parseLabelMapping(entry.labels) if entry.labels else labelNames for entry in manifest] if manifest else [labelNames] * len(entries)
    for index, ((_, volumePath, segmentationPath, role), date, names) in enumerate(zip(entries, dates, entryLabels)):
        segmentationNode = segmentationIO.loadSegmentation(scene, segmentationPath, names)
        volumeNode = segmentationIO.loadVolume(scene, volumePath, what=f"Scan of {date.isoformat()}") if volumePath else None
        if volumeNode is not None:
            warning = segmentationIO.checkSegmentationOnVolume(segmentationNode, volumeNode)
            if warning:
                print(f"warning: {warning}")
        point = timeline.TimePoint(role or roleOfEntry[index], date, segmentationNode, volumeNode, labs=labsByDate.pop(date, {}),
                                   remnantFunction=dict(functionByDate.get(date, {})))
        loaded.append((point, segmentationPath))
    if labsByDate:
        raise ValueError(f"Laboratory values dated {', '.join(d.isoformat() for d in labsByDate)} match no time point")
    return loaded


def _commandHypertrophy(arguments):
    from ALPPSAssessmentLib.report import decisionSummary
    from ALPPSAssessmentLib.course import stageTwoReadiness, timeline, timePointCourse
    from ALPPSVolumetryLib.planning import resectionPlans

    from .headless import SlicerContext

    stage1Date = timeline.parseStudyDate(arguments.stage1_date, "stage 1 date") if arguments.stage1_date else None
    plan = resectionPlans.parsePlan(arguments.plan)
    settings = _settingsFromArguments(arguments)
    functionByDate = _parseRemnantFunction(arguments.remnant_function_of_day)
    with SlicerContext() as context:
        points = [point for point, _ in _loadTimePoints(context.scene, arguments, stage1Date, functionByDate)]
        result = timePointCourse.measureHypertrophy(points, plan, settings, stage1Date, arguments.allow_different_plans)
    print(formatHypertrophy(result))
    functionRows = [(point, (point.remnantFunction or {}).get("flrFunctionPerBsa")) for point in result.timePoints if point.remnantFunction]
    if functionRows:
        print("Remnant function (FLR-F/BSA, %/min/m2) by time point")
        for point, value in functionRows:
            print(f"  {point.role:<16} {point.studyDate.isoformat()}  {'-' if value is None else f'{value:.2f}'}")
        for interval in result.intervals:
            if interval.remnantFunctionGrowth:
                growth = interval.remnantFunctionGrowth
                print(f"  {interval.fromRole} -> {interval.toRole}: {growth['before']:.2f} -> {growth['after']:.2f} ({growth['relativeGrowthPercent']:+.1f} %)")
    # An explicit --remnant-function-per-bsa wins over the value stored with the latest scan.
    readiness = stageTwoReadiness.readinessChecklist(result, arguments.stage1_liver_failure, arguments.remnant_function_per_bsa)
    print("Stage 2 readiness (decision support)")
    for item in readiness:
        print(f"  {item.line()}" + (f" - {item.note}" if item.note else ""))
    print(decisionSummary.verdictOf(stageTwoReadiness.readinessToList(readiness))[0])
    if arguments.json:
        document = timePointCourse.hypertrophyToDict(result)
        document["readiness"] = stageTwoReadiness.readinessToList(readiness)
        document["software"] = {"name": "ALPPS", "version": __version__}
        _writeJson(arguments.json, document)
    return 0


def _commandSparing(arguments):
    from ALPPSVolumetryLib.planning import resectionPlans
    from ALPPSVolumetryLib.segments import segmentationIO
    from ALPPSVolumetryLib.sparing import marginVolumetry, sparingResults, tumourVesselAnalysis

    from .headless import SlicerContext

    plans = [resectionPlans.parsePlan(text) for text in (arguments.plan or list(marginVolumetry.DEFAULT_MAJOR_PLANS))]
    settings = _settingsFromArguments(arguments)
    vessels = None
    if arguments.vessel:
        vessels = inputOptions.parseVessels(arguments.vessel)
    inputOptions.parseRoleCorrections(arguments.role)  # refused before anything is read
    with SlicerContext() as context:
        segmentationNode = segmentationIO.loadSegmentation(context.scene, arguments.segmentation, _parseLabelMapping(arguments.labels))
        _storeRoleCorrections(segmentationNode, arguments.role)
        findings = tumourVesselAnalysis.tumourFindings(segmentationNode, vessels, arguments.contact_distance)
        comparison = marginVolumetry.compareWithMajorPlans(segmentationNode, arguments.margin or [1.0, 10.0], plans, settings)
    print(formatSparing(findings, comparison))
    if arguments.json:
        document = sparingResults.comparisonToDict(comparison)
        document["tumours"] = sparingResults.findingsToDict(findings)["tumours"]
        document["software"] = {"name": "ALPPS", "version": __version__}
        _writeJson(arguments.json, document)
    return 0


def _commandReport(arguments):
    from ALPPSAssessmentLib.report import decisionSummary, reportExport
    from ALPPSAssessmentLib.report.reportRequest import ReportRequest
    from ALPPSAssessmentLib.course import timeline
    from ALPPSVolumetryLib.criteria import clinicalCriteria
    from ALPPSVolumetryLib.planning import resectionPlans

    from .headless import SlicerContext

    if bool(arguments.scene) == bool(arguments.timepoint or arguments.timepoints):
        raise SystemExit("alpps report: give either --scene BUNDLE.mrb, one --timepoint per scan, or --timepoints FILE")
    with SlicerContext() as context:
        scene = context.scene
        inputFiles = []
        if arguments.scene:
            context.loadSceneBundle(arguments.scene)
            inputFiles.append(("Scene bundle", arguments.scene))
            saved = reportExport.assessmentPanelValues(scene)
        else:
            saved = {}
            stage1Date = timeline.parseStudyDate(arguments.stage1_date, "stage 1 date") if arguments.stage1_date else None
            # Each segmentation's file is listed with its node (segmentationIO.IMPORTED_FROM_ATTRIBUTE).
            for point, _ in _loadTimePoints(scene, arguments, stage1Date):
                timeline.storeTimePoint(point)

        def value(option, field, convert=str):
            given = getattr(arguments, option)
            if given is not None:
                return given
            text = saved.get(field, "")
            return convert(text) if text not in ("", None) and text != "0.0" else None

        height, weight = value("height", "body.heightCm", float), value("weight", "body.weightKg", float)
        arguments.height, arguments.weight = height, weight
        arguments.liver_condition = value("liver_condition", "body.liverCondition") or "normal"
        arguments.bsa_formula = value("bsa_formula", "body.bsaFormula")
        arguments.stlv_formula = value("stlv_formula", "body.stlvFormula") or "vauthey"
        settings = _settingsFromArguments(arguments)
        stage1Text = value("stage1_date", "stage1Date")
        stage1Date = timeline.parseStudyDate(stage1Text, "stage 1 date") if stage1Text else None
        planText = value("plan", "plan") or "right_trisectionectomy"
        plan = resectionPlans.parsePlan(planText)
        comparison = [resectionPlans.parsePlan(text) for text in (arguments.compare_plan or ())]
        liverFailure = value("stage1_liver_failure", "stage1LiverFailure") or "unknown"
        request = ReportRequest(
            plan, settings, stage1Date, liverFailure, comparison, anonymise=arguments.anonymise, pseudonym=arguments.pseudonym,
            with3D=not arguments.no_3d, inputFiles=inputFiles, remnantFunctionPerBsa=arguments.remnant_function_per_bsa,
        )
        document, paths, notes = reportExport.createPatientReport(scene, arguments.out, request)
    for note in notes:
        print(f"note: {note}")
    print("Stage 2 readiness (decision support)")
    for item in document["readiness"]:
        print(f"  {clinicalCriteria.Flag.fromDict(item).line()}")
    for line in decisionSummary.decisionSummary(document).lines():
        print(line)
    print(f"Report{' (anonymised)' if arguments.anonymise else ''} written to {arguments.out}:")
    for what, path in paths.items():
        print(f"  {what:<24} {path}")
    return 0


def _readCurvesCsv(path):
    """Time-activity curves from a CSV with a header (time in s, liver, blood, total)."""
    import csv

    from ALPPSAssessmentLib.functional import mebrofeninCurves

    inputOptions.checkedInputFile(path, "Time-activity table")
    try:
        # utf-8-sig: Excel writes CSV with a byte-order mark.
        with open(path, newline="", encoding="utf-8-sig") as stream:
            rows = list(csv.DictReader(stream))
    except OSError as error:
        raise ValueError(f"Time-activity table '{path}' cannot be read: {error}") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise ValueError(f"Time-activity table '{path}' is not a UTF-8 CSV table ({error})") from None
    if not rows:
        raise ValueError(f"Time-activity table '{path}' is empty: expected a header and one row per frame")
    try:
        columns = {name: [float(row[name]) for row in rows] for name in rows[0]}
    except (TypeError, ValueError):
        raise ValueError(f"Time-activity table '{path}' holds values that are not numbers") from None
    return mebrofeninCurves.timeActivityCurvesFromTable(columns)


def _commandFunctionMebrofenin(arguments):
    from ALPPSAssessmentLib.functional import imageRegistration, mebrofeninWorkflow
    from ALPPSVolumetryLib.criteria import bodySize
    from ALPPSVolumetryLib.planning import resectionPlans
    from ALPPSVolumetryLib.segments import segmentationIO

    from .headless import SlicerContext

    plan = resectionPlans.parsePlan(arguments.plan)
    bsa = None
    if arguments.height is not None or arguments.weight is not None:
        if arguments.height is None or arguments.weight is None:
            raise ValueError("Remnant function per BSA needs both --height and --weight")
        bsa = bodySize.bodySurfaceArea(arguments.height, arguments.weight)
    curves = _readCurvesCsv(arguments.curves)
    with SlicerContext() as context:
        scene = context.scene
        ctNode = segmentationIO.loadVolume(scene, arguments.ct, what="--ct")
        segmentationNode = segmentationIO.loadSegmentation(scene, arguments.segmentation, _parseLabelMapping(arguments.labels))
        spectNode = segmentationIO.loadVolume(scene, arguments.spect, what="--spect")
        registration = None
        if not arguments.already_registered:
            registration = imageRegistration.registerFunctionalVolume(ctNode, spectNode, "rigid", maskSegmentation=segmentationNode).result
        share = mebrofeninWorkflow.spectRemnantShare(segmentationNode, plan, spectNode, outwardMarginMm=arguments.voi_margin)
        uptake, assessment = mebrofeninWorkflow.remnantFunction(
            curves, share, bsa, arguments.mur_normalisation or mebrofeninWorkflow.mebrofeninUptake.DEFAULT_MUR_NORMALISATION
        )
    lines = [
        f"Mebrofenin uptake rate (MUR): {uptake.murPercentPerMin:.2f} %/min (r^2 {uptake.rSquared:.4f}, {uptake.framesUsed} frames; "
        f"blood pool {uptake.normalisation}, normalisation unchecked)",
        f"Remnant share of liver counts (FLR-C, {plan.key}): {share.percent:.1f} %",
        f"Remnant function (FLR-F): {assessment.flrFunctionPercentPerMin:.2f} %/min",
    ]
    if assessment.flrFunctionPerBsa is not None:
        lines.append(f"Remnant function per BSA: {assessment.flrFunctionPerBsa:.2f} %/min/m2 (BSA {bsa:.4f} m2, Mosteller)")
    for flag in assessment.flags:
        lines.append(f"  {flag.describe()}")
    if registration is not None:
        lines.append(f"registration: {registration.describe()}")
    print("\n".join(lines))
    if arguments.json:
        document = {
            "software": {"name": "ALPPS", "version": __version__},
            "plan": {"key": plan.key, "label": plan.label},
            "uptake": uptake.asDict(),
            "remnantShare": share.asDict(),
            "remnantFunction": assessment.asDict(),
            "registration": registration.asDict() if registration is not None else None,
        }
        _writeJson(arguments.json, document)
    return 0


def _commandFunctionGadoxetate(arguments):
    from ALPPSAssessmentLib.functional import gadoxetateWorkflow
    from ALPPSVolumetryLib.criteria import clinicalCriteria
    from ALPPSVolumetryLib.planning import resectionPlans
    from ALPPSVolumetryLib.segments import segmentationIO

    from .headless import SlicerContext

    plan = resectionPlans.parsePlan(arguments.plan)
    def points(option, texts):
        if not texts:
            return None
        try:
            parsed = [tuple(float(value) for value in text.split(",")) for text in texts]
        except ValueError:
            parsed = []
        if not parsed or any(len(point) != 3 for point in parsed):
            raise SystemExit(f"alpps: {option} must read X,Y,Z in RAS mm, e.g. 12.5,-80,20")
        return parsed

    musclePoints = points("--muscle-point", arguments.muscle_point)
    spleenPoints = points("--spleen-point", arguments.spleen_point)
    liverPoints = points("--liver-point", arguments.liver_point)
    with SlicerContext() as context:
        scene = context.scene
        segmentationNode = segmentationIO.loadSegmentation(scene, arguments.segmentation, _parseLabelMapping(arguments.labels))
        hbpNode = segmentationIO.loadVolume(scene, arguments.hbp, what="--hbp")
        preNode = segmentationIO.loadVolume(scene, arguments.pre, what="--pre") if arguments.pre else None
        # T1 maps mark voxels where the relaxation fit failed as NaN; the ROI statistics skip them.
        t1Pre = segmentationIO.loadVolume(scene, arguments.t1_pre, what="--t1-pre", finiteRequired=False) if arguments.t1_pre else None
        t1Hbp = segmentationIO.loadVolume(scene, arguments.t1_hbp, what="--t1-hbp", finiteRequired=False) if arguments.t1_hbp else None
        document = gadoxetateWorkflow.measureGadoxetate(
            segmentationNode, plan, hbpNode, preNode, arguments.spleen_segment, musclePoints, arguments.roi_radius,
            spleenPoints=spleenPoints, liverPoints=liverPoints, t1PreMap=t1Pre, t1HbpMap=t1Hbp, t1Unit=arguments.t1_unit,
        )
    print(f"Gadoxetate MRI ({plan.key}); signals in {document['signals']['unit']}")
    for region in ("liverIndices", "remnantIndices"):
        values = ", ".join(f"{key} {value:.3f}" for key, value in document[region]["values"].items())
        missing = ", ".join(document[region]["missing"])
        print(f"  {region[:-7]}: {values}" + (f" (not computed: {missing})" if missing else ""))
    if document["hui"] is not None:
        rhuiFlag = clinicalCriteria.Flag.fromDict(document["remnantHuiFlag"])
        print(f"  HUI {document['hui']['value']:.3f} L; {rhuiFlag.line()} [{rhuiFlag.source}; population: {rhuiFlag.population}]")
    else:
        print("  HUI and rHUI need the spleen signal: not computed")
    if document["remnantFunctionalShare"] is not None:
        print(f"  remnant functional share (voxel map): {100 * document['remnantFunctionalShare']['share']:.1f} %")
    for region, indices in (document["t1Indices"] or {}).items():
        print(f"  T1 {region}: {indices['t1PreMs']:.0f} -> {indices['t1HbpMs']:.0f} ms, delta R1 {indices['deltaR1PerS']:.3f} 1/s, "
              f"reduction rate {100 * indices['reductionRate']:.1f} %")
    if arguments.json:
        document["software"] = {"name": "ALPPS", "version": __version__}
        _writeJson(arguments.json, document)
    return 0


def _commandDicomIndex(arguments):
    from ALPPSAssessmentLib.dicom import dicomIndex

    index = dicomIndex.indexDicomFolder(arguments.folder)
    print(dicomIndex.formatIndex(index))
    if arguments.json:
        _writeJson(arguments.json, dicomIndex.indexToDict(index))
    return 0


def _commandBenchmark(arguments):
    from .benchmark import END_TO_END_SHAPE, benchmarkRegistration, benchmarkSparing, runBenchmark, runEndToEndBenchmark
    from .headless import SlicerContext

    columns, rows, slices = arguments.size or (512, 512, 600)
    if arguments.what == "registration":
        size = (columns, rows, slices) if arguments.size else (512, 512, 300)
        figures = benchmarkRegistration(ctSize=size)
    elif arguments.what == "sparing":
        with SlicerContext() as context:
            figures = benchmarkSparing(context.scene, shape=(slices, rows, columns), repeats=arguments.repeats)
    elif arguments.what == "end-to-end":
        shape = (slices, rows, columns) if arguments.size else END_TO_END_SHAPE
        for path, what in ((arguments.input, "--input"), (arguments.source, "--source")):
            if path:
                inputOptions.checkedInputFile(path, what)
        if arguments.labels:
            _parseLabelMapping(arguments.labels)  # refused here, in one line, rather than in the measured process
        figures = runEndToEndBenchmark(shape=shape, repeats=arguments.repeats, inputPath=arguments.input,
                                       source=arguments.source, outputFolder=arguments.out,
                                       **({"labels": arguments.labels} if arguments.labels else {}))
    else:
        figures = runBenchmark(shape=(slices, rows, columns), repeats=arguments.repeats)
    if arguments.json:
        _writeJson(arguments.json, figures)
    return 0


def _writeJson(path, document):
    text = json.dumps(document, indent=2, allow_nan=False)  # NaN is not JSON: never written
    with open(path, "w", encoding="utf-8") as stream:
        stream.write(text)
    print(f"JSON written to {path}")


def buildParser():
    parser = inputOptions.OneLineParser(
        prog="alpps",
        description="ALPPS liver volumetry and assessment without the Slicer application (same logic as the Slicer extension).",
    )
    parser.add_argument("--version", action="version", version=f"alpps {__version__}")
    subcommands = parser.add_subparsers(dest="command", required=True)

    demo = subcommands.add_parser("demo", help="run every capability on the built-in synthetic patient")
    demo.add_argument("--out", required=True, help="output folder for the scene bundle (.mrb), JSON and CSV")
    demo.add_argument("--json", help="also write the JSON document to this path")
    demo.set_defaults(run=_commandDemo)

    volumes = subcommands.add_parser("segment-volumes", help="voxel volume (mL) of every segment of a segmentation")
    volumes.add_argument("--segmentation", required=True, help=".seg.nrrd, or a label map (NRRD, NIfTI, MHA)")
    volumes.add_argument("--labels", help="label map only: '1=Segment I,2=Segment II,...' or a JSON file")
    volumes.add_argument("--json", help="write the volumes as JSON to this path")
    volumes.set_defaults(run=_commandSegmentVolumes)

    volumetry = subcommands.add_parser(
        "volumetry", help="Couinaud segment volumes and the future liver remnant of resection plans"
    )
    volumetry.add_argument("--volume", help="source CT/MR: NRRD, NIfTI, MHA or a folder with one DICOM series")
    volumetry.add_argument("--segmentation", required=True, help=".seg.nrrd, or a label map with --labels")
    volumetry.add_argument("--labels", help="label map only: '1=Segment I,2=Segment II,...' or a JSON file")
    volumetry.add_argument(
        "--plan",
        action="append",
        help="preset (e.g. right_hepatectomy, right_trisectionectomy), 'PRESET:no-caudate', or "
        "'custom:NAME=I,II,III,IVb'; repeat to compare plans (default: every preset)",
    )
    volumetry.add_argument("--height", type=float, help="body height in cm (for sFLR and BSA)")
    volumetry.add_argument("--weight", type=float, help="body weight in kg (for sFLR and FLR-to-body-weight ratio)")
    volumetry.add_argument("--liver-condition", default="normal", choices=("normal", "chemotherapy", "cirrhosis"))
    volumetry.add_argument("--bsa-formula", help="mosteller (default), dubois, haycock; the Um sTLV equations fix their own")
    volumetry.add_argument(
        "--stlv-formula", default="vauthey", help="vauthey (default), urata, heinemann, um_mosteller, um_dubois, feng"
    )
    volumetry.add_argument("--sflr-threshold", type=float, help="override the minimum sFLR (%%) of the liver condition")
    volumetry.add_argument("--bwr-threshold", type=float, help="override the minimum FLR-to-body-weight ratio (%%)")
    volumetry.add_argument("--threshold-source", default="user override", help="source cited for overridden thresholds")
    volumetry.add_argument("--role", action="append", help="correct a segment's role: 'SEGMENT=ROLE' (ROLE: I..VIII, IVa, IVb, liver, tumour, other)")
    volumetry.add_argument("--json", help="write the results as JSON to this path")
    volumetry.set_defaults(run=_commandVolumetry)

    growth = subcommands.add_parser("hypertrophy", help="remnant growth between time points (DH, KGR, %%/day, mL/day)")
    growth.add_argument(
        "--timepoint",
        action="append",
        help="DATE:VOLUME:SEGMENTATION[:ROLE] (repeat; VOLUME may be empty; ROLE: pre-stage 1, interstage, "
        "interstage 2, pre-stage 2, after stage 2; inferred from the dates when left out)",
    )
    growth.add_argument("--timepoints", help=inputOptions.TIMEPOINTS_HELP)
    growth.add_argument("--plan", default="right_trisectionectomy", help="resection plan whose remnant is followed")
    growth.add_argument(
        "--stage1-date",
        help="date of ALPPS stage 1 (YYYY-MM-DD): growth rates (KGR, %%/day, mL/day) are counted from it; without it they are "
        "not computed",
    )
    growth.add_argument("--labels", help="label maps only: '1=Segment I,2=Segment II,...' or a JSON file")
    growth.add_argument("--height", type=float, help="body height in cm (for sFLR, DH and KGR)")
    growth.add_argument("--weight", type=float, help="body weight in kg")
    growth.add_argument("--liver-condition", default="normal", choices=("normal", "chemotherapy", "cirrhosis"))
    growth.add_argument("--bsa-formula", help="mosteller (default), dubois, haycock")
    growth.add_argument("--stlv-formula", default="vauthey", help="vauthey (default), urata, heinemann, um_mosteller, um_dubois, feng")
    growth.add_argument("--allow-different-plans", action="store_true", help="confirm time points that use different plans")
    growth.add_argument(
        "--labs",
        dest="labs_of_day",
        action="append",
        help="laboratory values of a time point, each with its unit (never guessed): "
        "'DATE:bilirubin=20 umol/L,creatinine=1.2 mg/dL,inr=1.1,albumin=38 g/L,dialysis=yes' (dialysis: two or more "
        "dialyses or 24 h of CVVHD in the week before, for MELD; repeat the option per date)",
    )
    growth.add_argument("--stage1-liver-failure", default="unknown", choices=("unknown", "no", "yes"), help="liver failure after stage 1")
    growth.add_argument(
        "--remnant-function-per-bsa", type=float,
        help="FLR-F/BSA (%%/min/m2) before stage 2, e.g. from 'alpps function mebrofenin'; overrides the latest --remnant-function",
    )
    growth.add_argument(
        "--remnant-function",
        dest="remnant_function_of_day",
        action="append",
        help="remnant function measured at a time point: 'DATE:flrFunctionPerBsa=2.4,flrFunctionPercentPerMin=4.6,murPercentPerMin=12,"
        "flrSharePercent=35' (repeat per date; also gadoxetateFunctionalSharePercent, remnantHuiLitres, huiLitres); its growth between "
        "time points is reported and the readiness checklist reads the latest",
    )
    growth.add_argument("--json", help="write the results as JSON to this path")
    growth.set_defaults(run=_commandHypertrophy)

    sparing = subcommands.add_parser(
        "sparing", help="parenchyma-sparing alternative: tumour-vessel distances and margin-based resection beside major plans"
    )
    sparing.add_argument("--segmentation", required=True, help=".seg.nrrd, or a label map with --labels (tumours, vessels, Couinaud segments)")
    sparing.add_argument("--labels", help="label map only: '1=Segment I,...,9=Tumour 1,10=RHV' or a JSON file")
    sparing.add_argument("--margin", type=float, action="append", help="resection margin in mm (repeat; default 1 and 10)")
    sparing.add_argument("--plan", action="append", help="major plans to compare (default right_hepatectomy and right_trisectionectomy)")
    sparing.add_argument("--vessel", action="append", help="name a vessel segment: 'right hepatic vein=SEGMENT' (default: recognised by name)")
    sparing.add_argument("--contact-distance", type=float, default=1.0, help="contact flag at this distance or less (mm, default 1)")
    sparing.add_argument("--height", type=float, help="body height in cm")
    sparing.add_argument("--weight", type=float, help="body weight in kg")
    sparing.add_argument("--liver-condition", default="normal", choices=("normal", "chemotherapy", "cirrhosis"))
    sparing.add_argument("--bsa-formula", help="mosteller (default), dubois, haycock")
    sparing.add_argument("--stlv-formula", default="vauthey", help="vauthey (default), urata, heinemann, um_mosteller, um_dubois, feng")
    sparing.add_argument("--role", action="append", help="correct a segment's role: 'SEGMENT=ROLE'")
    sparing.add_argument("--json", help="write the results as JSON to this path")
    sparing.set_defaults(run=_commandSparing)

    function = subcommands.add_parser("function", help="remnant function from functional imaging")
    modalities = function.add_subparsers(dest="modality", required=True)
    mebrofenin = modalities.add_parser("mebrofenin", help="99mTc-mebrofenin: uptake rate and remnant function from SPECT")
    mebrofenin.add_argument("--ct", required=True, help="planning CT the segmentation was made on")
    mebrofenin.add_argument("--segmentation", required=True, help="Couinaud segments I-VIII (.seg.nrrd or a label map with --labels)")
    mebrofenin.add_argument("--labels", help="label map only: '1=Segment I,2=Segment II,...' or a JSON file")
    mebrofenin.add_argument("--spect", required=True, help="the SPECT (NRRD, NIfTI, MHA or a DICOM folder)")
    mebrofenin.add_argument("--curves", required=True, help="time-activity CSV: time (s), liver, blood (heart), total field of view")
    mebrofenin.add_argument(
        "--mur-normalisation",
        help="how the blood-pool curve is calibrated to the injected activity (unchecked against Ekman 1996; named in the "
        "results): 'extrapolated to injection' (the heart curve extrapolated to t = 0 s; default) or 'calibration window mean' "
        "(its mean over 60-150 s)",
    )
    mebrofenin.add_argument("--plan", default="right_trisectionectomy", help="resection plan whose remnant is measured")
    mebrofenin.add_argument("--height", type=float, help="body height in cm (for the per-BSA function and its flags)")
    mebrofenin.add_argument("--weight", type=float, help="body weight in kg")
    mebrofenin.add_argument("--already-registered", action="store_true", help="the SPECT already lies on the CT: skip registration")
    mebrofenin.add_argument("--voi-margin", type=float, default=0.0, help="grow the VOIs outward by this many mm on the SPECT grid (default 0: as drawn)")
    mebrofenin.add_argument("--json", help="write the results as JSON to this path")
    mebrofenin.set_defaults(run=_commandFunctionMebrofenin)
    gadoxetate = modalities.add_parser("gadoxetate", help="gadoxetate MRI: LSR, LMR, RLE, CEI, HUI and remnant HUI, functional share")
    gadoxetate.add_argument("--segmentation", required=True, help="Couinaud segments I-VIII and a 'Spleen' segment (.seg.nrrd or label map)")
    gadoxetate.add_argument("--labels", help="label map only: '1=Segment I,...,9=Spleen' or a JSON file")
    gadoxetate.add_argument("--hbp", required=True, help="hepatobiliary-phase MRI (about 20 min after injection)")
    gadoxetate.add_argument("--pre", help="pre-contrast MRI (for RLE, CEI and the relative-enhancement map)")
    gadoxetate.add_argument("--plan", default="right_trisectionectomy", help="resection plan whose remnant is measured")
    gadoxetate.add_argument("--spleen-segment", help="name of the spleen segment (default: a segment named 'Spleen')")
    gadoxetate.add_argument("--muscle-point", action="append", help="centre of a spherical ROI in paraspinal muscle: --muscle-point=X,Y,Z (RAS mm; the = form allows a negative X; repeat)")
    gadoxetate.add_argument("--spleen-point", action="append", help="centre of a spherical ROI in the spleen, used instead of the spleen segment: --spleen-point=X,Y,Z (RAS mm; repeat)")
    gadoxetate.add_argument("--liver-point", action="append", help="centre of a spherical ROI in liver parenchyma, reported with its own indices: --liver-point=X,Y,Z (RAS mm; repeat)")
    gadoxetate.add_argument("--t1-pre", help="pre-contrast T1 map (for R1, delta R1 and the T1 reduction rate)")
    gadoxetate.add_argument("--t1-hbp", help="hepatobiliary-phase T1 map")
    gadoxetate.add_argument("--t1-unit", choices=("ms", "s"), help="unit of the T1 maps' values (required with the maps)")
    gadoxetate.add_argument("--roi-radius", type=float, default=10.0, help="radius of the muscle ROIs in mm (default 10)")
    gadoxetate.add_argument("--json", help="write the results as JSON to this path")
    gadoxetate.set_defaults(run=_commandFunctionGadoxetate)

    report = subcommands.add_parser(
        "report", help="one patient's report: self-contained HTML (A4), JSON, CSV and .seg.nrrd, optionally anonymised"
    )
    report.add_argument("--scene", help="a Slicer scene bundle (.mrb) with time points stored by the ALPPSAssessment panel or alpps demo")
    report.add_argument(
        "--timepoint", action="append",
        help="instead of --scene: DATE:VOLUME:SEGMENTATION[:ROLE] (repeat), as for 'alpps hypertrophy'",
    )
    report.add_argument("--timepoints", help=inputOptions.TIMEPOINTS_HELP)
    report.add_argument("--out", required=True, help="output folder for the report files")
    report.add_argument("--plan", help="plan whose remnant is followed (default: the scene's panel value, else right_trisectionectomy)")
    report.add_argument("--compare-plan", action="append", help="another plan measured beside it at every scan (repeat)")
    report.add_argument("--stage1-date", help="date of ALPPS stage 1 (YYYY-MM-DD); default: the scene's panel value")
    report.add_argument("--labels", help="label maps only: '1=Segment I,2=Segment II,...' or a JSON file")
    report.add_argument("--height", type=float, help="body height in cm (default: the scene's panel value)")
    report.add_argument("--weight", type=float, help="body weight in kg (default: the scene's panel value)")
    report.add_argument("--liver-condition", choices=("normal", "chemotherapy", "cirrhosis"))
    report.add_argument("--bsa-formula", help="mosteller (default), dubois, haycock")
    report.add_argument("--stlv-formula", help="vauthey (default), urata, heinemann, um_mosteller, um_dubois, feng")
    report.add_argument("--labs", dest="labs_of_day", action="append", help="laboratory values of a time point, as for 'alpps hypertrophy'")
    report.add_argument("--stage1-liver-failure", choices=("unknown", "no", "yes"), help="liver failure after stage 1")
    report.add_argument("--remnant-function-per-bsa", type=float, help="FLR-F/BSA (%%/min/m2) before stage 2, when not stored with the scan")
    report.add_argument("--anonymise", action="store_true", help="leave out name, IDs, birth date, UIDs, file paths; dates as days after stage 1")
    report.add_argument("--pseudonym", default="Anonymised", help="name and ID shown in an anonymised report")
    report.add_argument("--no-3d", action="store_true", help="skip the offscreen 3D rendering")
    report.set_defaults(run=_commandReport)

    index = subcommands.add_parser("dicom-index", help="patients, studies (by date) and series of a DICOM folder")
    index.add_argument("folder", help="folder of DICOM files (searched recursively; other files are skipped and listed)")
    index.add_argument("--json", help="write the index as JSON to this path")
    index.set_defaults(run=_commandDicomIndex)

    benchmark = subcommands.add_parser(
        "benchmark", help="time full volumetry (all presets) against per-segment export-and-count, and its memory"
    )
    benchmark.add_argument(
        "what", nargs="?", default="volumetry", choices=("volumetry", "end-to-end", "sparing", "registration"),
        help="volumetry (default, 512x512x600), end-to-end (the 'alpps volumetry' process on a 512x512x986 label map file "
             "beside a process that only reads the file and counts its labels), sparing (use --size 512 512 300) or "
             "registration (128^3 SPECT onto a 512x512x300 CT)")
    benchmark.add_argument("--size", nargs=3, type=int, metavar=("COLUMNS", "ROWS", "SLICES"),
                           help="grid size (default 512 512 600; end-to-end 512 512 986; registration: the CT, 512 512 300)")
    benchmark.add_argument("--repeats", type=int, default=3)
    benchmark.add_argument("--input", help="end-to-end: measure this label map file instead of writing one")
    benchmark.add_argument("--labels", help="end-to-end with --input: the label mapping of the file "
                                            "(default 1=Segment I,...,8=Segment VIII)")
    benchmark.add_argument("--source", help="end-to-end: write the label map by stretching this real label map to --size "
                                            "(nearest neighbour) instead of drawing the synthetic patient's")
    benchmark.add_argument("--out", help="end-to-end: keep the label map written in this folder")
    benchmark.add_argument("--json", help="write the figures as JSON to this path")
    benchmark.set_defaults(run=_commandBenchmark)
    from .pacsCommands import addCommands

    addCommands(subcommands)  # dicom-export and pacs (issue 18)
    inputOptions.describeSubcommands(parser)
    inputOptions.addVerboseOption(parser)
    return parser


def main(argv=None):
    arguments = buildParser().parse_args(argv)
    return inputOptions.runChecked(arguments)


if __name__ == "__main__":
    sys.exit(main())
