"""Readable tables the `alpps` subcommands print (the numbers come from the shared logic)."""


def formatNumber(value, digits=2):
    """A number as the flags compare it (rounded half up on its decimal text)."""
    from ALPPSVolumetryLib.clinicalCriteria import formatShown

    return "-" if value is None else formatShown(value, digits)


def formatVolumetry(result):
    """The readable tables `alpps volumetry` prints."""
    lines = [f"Couinaud segments of '{result.segmentationName}' (volume: voxel count x voxel volume)"]
    lines.append(f"  {'segment':<8} {'volume mL':>10} {'tumour mL':>10} {'tumour-free mL':>15} {'% liver':>8}")
    for segment in result.segments:
        lines.append(
            f"  {segment.segment:<8} {segment.volumeMl:>10.2f} {segment.tumourMl:>10.2f} "
            f"{segment.tumourFreeMl:>15.2f} {segment.shareOfLiverPercent:>8.1f}"
        )
    lines.append(f"  total liver volume (union of I-VIII): {result.totalLiverMl:.2f} mL; tumour in liver: {result.totalTumourMl:.2f} mL")
    if result.body is not None:
        lines.append(
            f"  BSA {result.body.bsaM2:.4f} m2 ({result.body.bsaFormula.label}); standard liver volume "
            f"{result.body.stlvMl:.2f} mL ({result.body.stlvFormula.label})"
        )
    lines.append("")
    lines.append(f"Resection plans (liver condition: {result.settings.liverCondition})")
    lines.append(
        f"  {'plan':<32} {'FLR mL':>9} {'%FLR':>6} {'%FLRf':>6} {'sFLR %':>7} {'BWR %':>6} {'FLR/BSA':>8}  flags"
    )
    for plan in result.plans:
        flags = "; ".join(f"{flag.label} {flag.stateText}" + (f" [{flag.status}]" if flag.status != "checked" else "") for flag in plan.flags)
        lines.append(
            f"  {plan.key:<32} {plan.remnantMl:>9.2f} {plan.percentFLR:>6.1f} {formatNumber(plan.functionalPercentFLR, 1):>6} "
            f"{formatNumber(plan.sFLR, 2):>7} {formatNumber(plan.flrBwr, 3):>6} {formatNumber(plan.flrPerBsa, 0):>8}  {flags}"
        )
    for plan in result.plans:
        if plan.tumourFlag is not None and plan.tumourFlag.state == "not met":
            lines.append(f"  WARNING {plan.key}: {plan.tumourFlag.reason}")
    lines.append("  %FLR = FLR/TLV; %FLRf = (FLR - tumour in FLR)/(TLV - tumour); sFLR = FLR/standard liver volume;")
    lines.append("  BWR = FLR (mL)/(weight kg x 1000) x 100; FLR/BSA in mL/m2; sFLR, BWR and FLR/BSA use the tumour-free FLR.")
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
    lines = [f"Time points ({result.planKey}: {result.planLabel})"]
    lines.append(f"  {'time point':<16} {'date':<10} {'day':>4} {'FLR mL':>9} {'gross':>9} {'sFLR %':>7} {'TLV mL':>9}")
    for point in result.timePoints:
        day = "-" if point.daysAfterStage1 is None else f"{point.daysAfterStage1:d}"
        lines.append(
            f"  {point.role:<16} {point.studyDate.isoformat():<10} {day:>4} {point.plan.ratioRemnantMl:>9.1f} {point.plan.remnantMl:>9.1f} "
            f"{formatNumber(point.plan.sFLR, 2):>7} {point.totalLiverMl:>9.1f}"
        )
    from ALPPSAssessmentLib.course import timePointCourse

    document = timePointCourse.hypertrophyToDict(result)
    lines.append("Growth of the FLR since stage 1 (from the last scan before stage 1; the checklist reads these)")
    for interval in document["sinceStage1"]:
        lines.append("  " + growthLine(interval))
    if document["intervals"]:
        lines.append("Interval growth between later scans (per day between them; not used by the checklist)")
        for interval in document["intervals"]:
            lines.append("  " + growthLine(interval))
    lines.append("  FLR = tumour-free future liver remnant (the FLR of sFLR and growth); gross = with the tumour inside it")
    lines.append("  DH = sFLR difference (percentage points); KGR = DH per week since stage 1 (Shindoh 2013);")
    lines.append("  %/day and mL/day per day since stage 1, or per day between the scans for interval growth")
    for warning in result.warnings:
        lines.append(f"warning: {warning}")
    return "\n".join(lines)


def formatSparing(findings, comparison):
    """Per tumour findings, then every plan side by side (major plans, then margin-based ones)."""
    lines = ["Tumours (distances between painted voxels; contact <= the contact distance)"]
    for finding in findings:
        segments = ", ".join(f"{unit} {ml:.1f} mL" for unit, ml in finding.couinaudSegmentsMl.items())
        lines.append(f"  {finding.name}: {finding.volumeMl:.2f} mL, largest diameter {finding.largestDiameterMm:.1f} mm, in {segments}")
        for distance in finding.vesselDistances:
            contact = "  CONTACT (candidate for vascular detachment)" if distance.contact else ""
            lines.append(f"    {distance.vessel:<28} {distance.distanceMm:6.1f} mm{contact}")
    lines.append("Plans side by side")
    lines.append(f"  {'plan':<46} {'FLR mL':>9} {'%FLR':>6} {'sFLR %':>7} {'areas':>6}")
    areas = {result.plan.key: result for result in comparison.marginPlans}
    for plan in comparison.plans:
        sparing = areas.get(plan.key)
        count = f"{sparing.areaCount:d}" if sparing else "-"
        lines.append(
            f"  {plan.label[:46]:<46} {plan.remnantMl:>9.1f} {plan.percentFLR:>6.1f} {formatNumber(plan.sFLR, 2):>7} {count:>6}"
        )
    for result in comparison.marginPlans:
        guidance = result.laparoscopic
        lines.append(f"  {result.plan.label}: {result.areaCount} resection area(s); laparoscopic guidance (<= 3 areas): {guidance.state}")
    for warning in comparison.volumetry.warnings + [w for result in comparison.marginPlans for w in result.warnings]:
        lines.append(f"warning: {warning}")
    return "\n".join(lines)


def growthLine(interval):
    """One growth entry of the hypertrophy JSON as a line, every rate with its time base; a rate
    that is not computed says why."""
    remnant = interval["remnant"]
    missing = interval.get("notComputed") or {}

    def rate(value, decimals, unit):
        return f"{value:.{decimals}f} {unit}" if value is not None else f"{unit} not computed"

    text = (
        f"{interval['from']['role']} ({interval['from']['studyDate']}) -> {interval['to']['role']} ({interval['to']['studyDate']}): "
        f"FLR {remnant['beforeMl']:.1f} -> {remnant['afterMl']:.1f} mL, {remnant['relativeGrowthPercent']:+.1f} %, "
        f"{rate(remnant['relativeGrowthPercentPerDay'], 2, '%/day')}, "
        f"{rate(remnant['absoluteGrowthMlPerDay'], 1, 'mL/day')}"
    )
    if interval["degreeOfHypertrophyPp"] is not None:
        text += f", DH {interval['degreeOfHypertrophyPp']:.1f} pp"
    if interval["timeBase"] == "since stage 1":
        text += ", KGR " + rate(interval["kineticGrowthRatePercentPerWeek"], 2, "%/week")
    text += f" [per {interval['timeBaseText']}" + (f": {interval['rateDays']} days]" if interval["rateDays"] is not None else "]")
    reasons = sorted(set(missing.values()))
    return text + (f" ({'; '.join(reasons)})" if reasons else "")
