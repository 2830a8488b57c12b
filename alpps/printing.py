"""Readable tables the `alpps` subcommands print (the numbers come from the shared logic)."""


def formatNumber(value, digits=2):
    """A number as the flags compare it (rounded half up on its decimal text)."""
    from ALPPSVolumetryLib.criteria.clinicalCriteria import formatShown

    return "-" if value is None else formatShown(value, digits)


def fieldTable(leading, fields, records):
    """A text table of result records: ``leading`` is [(heading, text of a record)] for the
    columns before the numbers; then one column per field of resultFields, headed by its short
    label and unit and showing its value as every output does."""
    headings = [heading for heading, _ in leading] + [field.titleWithUnit() for field in fields]
    rows = [[text(record) for _, text in leading] + [field.shownText(field.valueOf(record)) for field in fields] for record in records]
    widths = [max([len(heading)] + [len(row[column]) for row in rows]) for column, heading in enumerate(headings)]
    # Names read left-aligned, numbers right-aligned.
    aligned = ["<"] * len(leading) + [">"] * len(fields)

    def line(cells):
        return "  " + "  ".join(f"{cell:{align}{width}}" for cell, align, width in zip(cells, aligned, widths)).rstrip()

    return [line(headings)] + [line(row) for row in rows]


def formatVolumetry(result):
    """The readable tables `alpps volumetry` prints."""
    from ALPPSVolumetryLib.results.resultFields import PLAN_FIELDS, SEGMENT_FIELDS, VOLUME_DEFINITIONS

    lines = [f"Couinaud segments of '{result.segmentationName}' (volume: voxel count x voxel volume)"]
    lines += fieldTable([("segment", lambda segment: segment.segment)], SEGMENT_FIELDS, result.segments)
    total, tumour = (VOLUME_DEFINITIONS[key] for key in ("totalLiverMl", "totalTumourMl"))
    lines.append(
        f"  {total.label} (union of I-VIII): {formatNumber(result.totalLiverMl, total.decimals)} {total.unit}; "
        f"tumour in liver: {formatNumber(result.totalTumourMl, tumour.decimals)} {tumour.unit}"
    )
    if result.body is not None:
        lines.append(
            f"  BSA {result.body.bsaM2:.4f} m2 ({result.body.bsaFormula.label}); standard liver volume "
            f"{result.body.stlvMl:.2f} mL ({result.body.stlvFormula.label})"
        )
    lines.append("")
    lines.append(f"Resection plans (liver condition: {result.settings.liverCondition})")
    lines += fieldTable([("plan", lambda plan: plan.key)], PLAN_FIELDS, result.plans)
    for plan in result.plans:
        if plan.tumourFlag is not None and plan.tumourFlag.state == "not met":
            lines.append(f"  WARNING {plan.key}: {plan.tumourFlag.reason}")
    lines.append("  %FLR = FLR/TLV; functional %FLR = (FLR - tumour in FLR)/(TLV - tumour); sFLR = FLR/standard liver volume;")
    lines.append("  FLR-BWR = FLR (mL)/(weight kg x 1000) x 100; sFLR, FLR-BWR and FLR/BSA use the tumour-free FLR; intervals are")
    lines.append("  resolution intervals.")
    lines.append("  Flags are decision support: met = outside the published risk group; borderline = the cut-off lies within")
    lines.append("  the resolution interval (half a voxel across the remnant's boundary).")
    for plan in result.plans:
        for flag in plan.flags:
            if flag.value is not None:
                lines.append(f"  {plan.key}: {flag.line()}")
    sflrCutoff, bwrCutoff = result.settings.adequacyThresholds().cutoffs()
    for cutoff in (sflrCutoff, bwrCutoff):
        if cutoff is not None:
            lines.append(f"  risk group {cutoff.riskGroupText()} ({cutoff.source}; {cutoff.status})")
    for warning in result.warnings + [w for plan in result.plans for w in plan.warnings]:
        lines.append(f"warning: {warning}")
    return "\n".join(lines)


def formatHypertrophy(result):
    from ALPPSAssessmentLib.course import timePointCourse

    document = timePointCourse.hypertrophyToDict(result)
    lines = [f"Time points ({result.planKey}: {result.planLabel})"]
    lines += fieldTable([("time point", lambda point: point["role"]), ("date", lambda point: point["studyDate"])],
                        timePointCourse.TIME_POINT_FIELDS, document["timePoints"])
    lines.append("Growth of the FLR since stage 1 (from the last scan before stage 1; the checklist reads these)")
    for interval in document["sinceStage1"]:
        lines.append("  " + growthLine(interval))
    if document["intervals"]:
        lines.append("Interval growth between later scans (per day between them; not used by the checklist)")
        for interval in document["intervals"]:
            lines.append("  " + growthLine(interval))
    lines.append("  FLR = future liver remnant, with the tumour inside it; tumour-free FLR = the FLR of sFLR and growth")
    lines.append("  DH = sFLR difference (percentage points); KGR = DH per week since stage 1 (Shindoh 2013);")
    lines.append("  %/day and mL/day per day since stage 1, or per day between the scans for interval growth")
    for warning in result.warnings:
        lines.append(f"warning: {warning}")
    return "\n".join(lines)


def formatSparing(findings, comparison):
    """Per tumour findings, then every plan side by side (major plans, then margin-based ones)."""
    from ALPPSVolumetryLib.results.resultFields import PLAN_FIELDS

    lines = ["Tumours (distances between painted voxels; contact <= the contact distance)"]
    for finding in findings:
        segments = ", ".join(f"{unit} {ml:.1f} mL" for unit, ml in finding.couinaudSegmentsMl.items())
        lines.append(f"  {finding.name}: {finding.volumeMl:.2f} mL, largest diameter {finding.largestDiameterMm:.1f} mm, in {segments}")
        for distance in finding.vesselDistances:
            contact = "  CONTACT (candidate for vascular detachment)" if distance.contact else ""
            lines.append(f"    {distance.vessel:<28} {distance.distanceMm:6.1f} mm{contact}")
    lines.append("Plans side by side")
    lines += fieldTable([("plan", lambda plan: plan.label)], PLAN_FIELDS, comparison.plans)
    for result in comparison.marginPlans:
        guidance = result.laparoscopic
        lines.append(f"  {result.plan.label}: {result.areaCount} resection area(s); laparoscopic guidance (<= 3 areas): {guidance.state}")
    for warning in comparison.volumetry.warnings + [w for result in comparison.marginPlans for w in result.warnings]:
        lines.append(f"warning: {warning}")
    return "\n".join(lines)


def growthLine(interval):
    """One growth entry of the hypertrophy JSON as a line, every rate with its time base and the
    digits of its definition (timePointCourse.GROWTH_FIELDS); a rate that is not computed says why."""
    from ALPPSAssessmentLib.course.timePointCourse import GROWTH_FIELDS

    # The line is about the remnant: its fields by key (the total and deportalised liver's growth
    # share those keys).
    fields = {field.key: field for field in GROWTH_FIELDS if field.path[0] != "totalLiver" and field.path[0] != "deportalisedLiver"}
    missing = interval.get("notComputed") or {}

    def rate(key):
        field = fields[key]
        value = field.valueOf(interval)
        return field.shownWithUnit(interval) if value is not None else f"{field.unit} not computed"

    def growth(key):
        # Signed: a shrinking remnant must read as such.
        field = fields[key]
        return f"{'+' if field.valueOf(interval) >= 0 else ''}{field.shownWithUnit(interval)}"

    text = (
        f"{interval['from']['role']} ({interval['from']['studyDate']}) -> {interval['to']['role']} ({interval['to']['studyDate']}): "
        f"FLR {fields['beforeMl'].shownText(fields['beforeMl'].valueOf(interval))} -> {fields['afterMl'].shownWithUnit(interval)}, "
        f"{growth('relativeGrowthPercent')}, {rate('relativeGrowthPercentPerDay')}, {rate('absoluteGrowthMlPerDay')}"
    )
    if interval["degreeOfHypertrophyPp"] is not None:
        text += f", DH {rate('degreeOfHypertrophyPp')}"
    if interval["timeBase"] == "since stage 1":
        text += ", KGR " + rate("kineticGrowthRatePercentPerWeek")
    text += f" [per {interval['timeBaseText']}" + (f": {interval['rateDays']} days]" if interval["rateDays"] is not None else "]")
    reasons = sorted(set(missing.values()))
    return text + (f" ({'; '.join(reasons)})" if reasons else "")
