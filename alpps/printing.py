"""Readable tables the `alpps` subcommands print (the numbers come from the shared logic)."""


def formatNumber(value, digits=2):
    return "-" if value is None else f"{value:.{digits}f}"


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
        flags = "; ".join(f"{flag.criterion} {flag.state}" for flag in plan.flags)
        lines.append(
            f"  {plan.key:<32} {plan.remnantMl:>9.2f} {plan.percentFLR:>6.1f} {formatNumber(plan.functionalPercentFLR, 1):>6} "
            f"{formatNumber(plan.sFLR, 1):>7} {formatNumber(plan.flrBwr, 3):>6} {formatNumber(plan.flrPerBsa, 0):>8}  {flags}"
        )
    lines.append("  %FLR = FLR/TLV; %FLRf = (FLR - tumour in FLR)/(TLV - tumour); sFLR = FLR/standard liver volume;")
    lines.append("  BWR = FLR (mL)/(weight kg x 1000) x 100; FLR/BSA in mL/m2. Flags are decision support.")
    thresholds = result.settings.adequacyThresholds()
    lines.append(f"  thresholds: sFLR >= {formatNumber(thresholds.sflrMinimumPercent, 1)} % ({thresholds.sflrSource})")
    lines.append(f"              FLR-BWR >= {formatNumber(thresholds.flrBwrMinimumPercent, 2)} % ({thresholds.flrBwrSource})")
    for warning in result.warnings + [w for plan in result.plans for w in plan.warnings]:
        lines.append(f"warning: {warning}")
    return "\n".join(lines)


def formatHypertrophy(result):
    lines = [f"Time points ({result.planKey}: {result.planLabel})"]
    lines.append(f"  {'time point':<16} {'date':<10} {'day':>4} {'FLR mL':>9} {'sFLR %':>7} {'TLV mL':>9}")
    for point in result.timePoints:
        day = "-" if point.daysAfterStage1 is None else f"{point.daysAfterStage1:d}"
        lines.append(
            f"  {point.role:<16} {point.studyDate.isoformat():<10} {day:>4} {point.plan.remnantMl:>9.1f} "
            f"{formatNumber(point.plan.sFLR, 1):>7} {point.totalLiverMl:>9.1f}"
        )
    lines.append("Growth (FLR)")
    for interval in result.intervals + result.sinceFirst:
        remnant = interval.remnant
        lines.append(
            f"  {interval.fromRole} -> {interval.toRole}, {interval.days} days: {remnant.relativeGrowthPercent:+.1f} %, "
            f"{formatNumber(remnant.relativeGrowthPercentPerDay)} %/day, {formatNumber(remnant.absoluteGrowthMlPerDay, 1)} mL/day, "
            f"DH {formatNumber(interval.degreeOfHypertrophyPp, 1)} pp, KGR {formatNumber(interval.kineticGrowthRatePercentPerWeek)} %/week"
        )
    lines.append("  DH = sFLR difference (percentage points); KGR = DH per week (Shindoh 2013); growth %/day = relative growth / days")
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
            f"  {plan.label[:46]:<46} {plan.remnantMl:>9.1f} {plan.percentFLR:>6.1f} {formatNumber(plan.sFLR, 1):>7} {count:>6}"
        )
    for result in comparison.marginPlans:
        guidance = result.laparoscopic
        lines.append(f"  {result.plan.label}: {result.areaCount} resection area(s); laparoscopic guidance (<= 3 areas): {guidance.state}")
    for warning in comparison.volumetry.warnings + [w for result in comparison.marginPlans for w in result.warnings]:
        lines.append(f"warning: {warning}")
    return "\n".join(lines)
