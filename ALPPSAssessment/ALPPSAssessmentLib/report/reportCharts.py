"""Charts of the HTML patient report, drawn as inline SVG strings.

The report is a single self-contained HTML file that is printed on A4 for the liver tumour
board, so the charts are plain SVG elements (no scripts, no external fonts, no ids that could
clash when several charts share one page) and must stay legible in greyscale: every series has
its own marker shape and dash pattern besides its colour (Okabe-Ito palette, safe for the common
colour-vision deficiencies). Only the standard library is used, so the module imports wherever
the report is written (Slicer, the ``alpps`` command, a bare Python).

Inputs are the JSON-like dicts the project already writes:
- ``growthChartSvg``: the hypertrophy section (``hypertrophy.hypertrophyToDict``).
- ``timeActivityChartSvg``: a ``mebrofeninCurves.TimeActivityCurves`` or a dict of lists, either
  its ``asDict()`` form or a short form (see ``timeActivityChartSvg``).

The drawing itself (palette, scales, axes, legends, label placement) is in ``chartDrawing``.
"""

from collections.abc import Mapping
from datetime import date

from .chartDrawing import (
    AXIS_TITLE_SIZE_PX,
    FONT_SIZE_PX,
    INK,
    LabelPlacer,
    SERIES_BLOOD,
    SERIES_LIVER,
    SERIES_REMNANT,
    SERIES_SFLR,
    SERIES_TOTAL,
    STYLES,
    Scale,
    THRESHOLD_DASH,
    checkedSize,
    dataNumber,
    finiteOrNone,
    haloText,
    legend,
    linearTicks,
    logTicks,
    pointElement,
    pointLabelCandidates,
    polyline,
    svgDocument,
    tag,
    textElement,
    textWidth,
    thresholdLine,
    tickLabelWidth,
    xAxis,
    yAxis,
)

SECONDS_PER_MINUTE = 60.0
# The TAC y axis switches to a log scale when one curve peaks this many times higher than another:
# on a linear axis the blood pool (about a tenth of the total field of view) would be a flat line.
LOG_SCALE_PEAK_RATIO = 5.0

_EXPECTED_HYPERTROPHY = (
    "the hypertrophy section of the ALPPS JSON (hypertrophy.hypertrophyToDict) with a non-empty 'timePoints' list"
)
_EXPECTED_CURVES = (
    "a TimeActivityCurves or a dict with 'midTimesSeconds' (or 'timeSeconds') and at least one of 'liver', "
    "'bloodPool' (or 'blood'), 'totalFieldOfView' (or 'total'), one count rate (counts/s) per time"
)


# --- Growth chart --------------------------------------------------------------------------------


def _studyDate(text, index):
    try:
        return date.fromisoformat(str(text)[:10])
    except (TypeError, ValueError):
        raise ValueError(
            f"Growth chart: time point {index} has study date {text!r}: expected an ISO date (YYYY-MM-DD)"
        ) from None


def _nonNegative(value, name, role, index):
    number = finiteOrNone(value)
    if number is not None and number < 0:
        raise ValueError(f"Growth chart: {name} {number:g} at time point {index} ({role}) is negative: expected a value >= 0")
    return number


def _growthPoints(document):
    """Time points in date order as dicts, the x values and whether those are days since the first
    scan (no stage 1 date) rather than days after stage 1."""
    if not isinstance(document, Mapping):
        raise ValueError(f"Growth chart: hypertrophyDocument is {type(document).__name__}: expected {_EXPECTED_HYPERTROPHY}")
    timePoints = document.get("timePoints")
    if not isinstance(timePoints, (list, tuple)) or not timePoints:
        raise ValueError(f"Growth chart: hypertrophyDocument has no time points: expected {_EXPECTED_HYPERTROPHY}")
    points = []
    for index, item in enumerate(timePoints):
        if not isinstance(item, Mapping):
            raise ValueError(f"Growth chart: time point {index} is {type(item).__name__}: expected a dict ({_EXPECTED_HYPERTROPHY})")
        role = str(item.get("role") or f"scan {index + 1}")
        points.append(
            {
                "role": role,
                "studyDate": _studyDate(item.get("studyDate"), index),
                "daysAfterStage1": finiteOrNone(item.get("daysAfterStage1")),
                # The FLR of sFLR and growth: tumour-free when the document has it.
                SERIES_REMNANT: _nonNegative(item.get("tumourFreeRemnantMl", item.get("remnantMl")), "remnantMl", role, index),
                SERIES_SFLR: _nonNegative(item.get("sFLR"), "sFLR", role, index),
            }
        )
    if all(point[SERIES_REMNANT] is None for point in points):
        raise ValueError(
            "Growth chart: no time point has a remnant volume: expected 'remnantMl' (mL) in at least one of the "
            f"{len(points)} time points"
        )
    # Date order, whatever order the document lists them in: the lines join consecutive scans.
    points.sort(key=lambda point: point["studyDate"])
    sinceFirstScan = any(point["daysAfterStage1"] is None for point in points)
    first = points[0]["studyDate"]
    for point in points:
        # Without the stage 1 date for every point the days after stage 1 cannot be shown for all;
        # mixing the two origins on one axis would misplace points, so all use the first scan.
        point["day"] = float((point["studyDate"] - first).days) if sinceFirstScan else point["daysAfterStage1"]
    return points, sinceFirstScan


def growthChartSvg(hypertrophyDocument, sflrThresholdPercent=None, thresholdSource="", widthPx=640, heightPx=300):
    """Remnant volume (mL), and sFLR (%) with its threshold, against days after stage 1, as SVG.

    ``hypertrophyDocument``: the hypertrophy section of the ALPPS JSON (``hypertrophyToDict``); the
    time points' role, studyDate, daysAfterStage1, remnantMl and sFLR are used. Points are drawn in
    date order. When any daysAfterStage1 is None (no stage 1 date) the x axis is days since the
    first scan and its title says so. The upper panel shows the remnant volume; a lower panel, on
    the same x axis, shows sFLR when any time point has one, with ``sflrThresholdPercent`` (a
    percentage, e.g. 20) as a dash-dot line labelled with ``thresholdSource``. Each scan's role
    labels its column above the chart. Returns an ``<svg>`` element; ValueError on empty input.
    """
    points, sinceFirstScan = _growthPoints(hypertrophyDocument)
    threshold = None
    if sflrThresholdPercent is not None:
        threshold = finiteOrNone(sflrThresholdPercent)
        if threshold is None or not 0.0 < threshold < 100.0:
            raise ValueError(f"Growth chart: sFLR threshold {sflrThresholdPercent!r}: expected a percentage between 0 and 100, e.g. 20")
    width, height = checkedSize(widthPx, heightPx)
    plan = hypertrophyDocument.get("plan") if isinstance(hypertrophyDocument.get("plan"), Mapping) else {}
    planLabel = str(plan.get("label") or plan.get("key") or "")
    hasSflr = any(point[SERIES_SFLR] is not None for point in points)
    xTitle = "Days since first scan (no stage 1 date given)" if sinceFirstScan else "Days after stage 1"
    thresholdText = ""
    if threshold is not None:
        thresholdText = f"sFLR cut-off {threshold:g} % (at or below: risk group)" + (f"; {thresholdSource}" if thresholdSource else "")

    # Legend first: its height decides where the plot starts.
    legendItems = [("series", "FLR volume (mL)", STYLES[SERIES_REMNANT])]
    if hasSflr:
        legendItems.append(("series", "sFLR (% of standard liver volume)", STYLES[SERIES_SFLR]))
        if threshold is not None:
            legendItems.append(("line", thresholdText, (INK, THRESHOLD_DASH)))
    else:
        legendItems.append(("note", "sFLR not available (needs height and weight)", None))
    legendParts, legendHeight = legend(legendItems, 8.0, 4.0, width - 16.0)

    remnants = [point[SERIES_REMNANT] for point in points if point[SERIES_REMNANT] is not None]
    sflrValues = [point[SERIES_SFLR] for point in points if point[SERIES_SFLR] is not None]
    if threshold is not None and hasSflr:
        sflrValues.append(threshold)
    bottomMargin = 4.0 + FONT_SIZE_PX + 6.0 + AXIS_TITLE_SIZE_PX + 8.0
    panelGap = 20.0

    def panelHeights(roleRows):
        top = 4.0 + legendHeight + 4.0 + roleRows * 14.0 + 6.0
        available = height - bottomMargin - top
        if hasSflr:
            each = (available - panelGap) / 2.0
            return top, [(top, top + each), (top + each + panelGap, height - bottomMargin)]
        return top, [(top, height - bottomMargin)]

    def yTicks(values, panel):
        return linearTicks(0.0, max(values), max(2.0, (panel[1] - panel[0]) / 26.0), includeZero=True)

    # The left margin depends on the y tick labels, which depend on the panel heights, which depend
    # on the rows of role labels, which depend on the x positions: estimate with one row first.
    _top, provisional = panelHeights(1)
    labelWidth = tickLabelWidth(*yTicks(remnants, provisional[0])[2:])
    if hasSflr:
        labelWidth = max(labelWidth, tickLabelWidth(*yTicks(sflrValues, provisional[1])[2:]))
    plotLeft = 8.0 + AXIS_TITLE_SIZE_PX + 6.0 + labelWidth + 10.0 + 2.0
    plotRight = width - 12.0
    padding = 18.0  # keeps the first and last markers and their labels off the axes
    days = [point["day"] for point in points]
    # Day 0 is stage 1, where the growth clock starts: always on the axis when the date is known.
    axisDays = days if sinceFirstScan else days + [0.0]
    xLow, xHigh, xTickValues, xDecimals = linearTicks(min(axisDays), max(axisDays), max(2.0, (plotRight - plotLeft) / 70.0), minimumStep=1.0)
    xScale = Scale(xLow, xHigh, plotLeft + padding, plotRight - padding, xTickValues, xDecimals)

    # Role labels in rows above the plot: a label goes to the first row where it does not overlap.
    rows = []
    rolePlacement = []
    for point in points:
        x = xScale.pixel(point["day"])
        labelWidthPx = textWidth(point["role"])
        left = min(max(x - labelWidthPx / 2.0, 2.0), width - 2.0 - labelWidthPx)
        for rowIndex, row in enumerate(rows + [[]]):
            if all(left + labelWidthPx + 6.0 <= start or end + 6.0 <= left for start, end in row):
                if rowIndex == len(rows):
                    rows.append([])
                rows[rowIndex].append((left, left + labelWidthPx))
                rolePlacement.append((point, x, left, rowIndex))
                break
    plotTop, panels = panelHeights(len(rows))
    roleTop = 4.0 + legendHeight + 4.0
    plotBottom = panels[-1][1]

    parts = list(legendParts)
    parts.append('<g class="role-labels">')
    for point, x, left, rowIndex in rolePlacement:
        baseline = roleTop + rowIndex * 14.0 + FONT_SIZE_PX
        parts.append(
            tag(
                "line",
                [("class", "role-guide"), ("x1", x), ("y1", baseline + 4.0), ("x2", x), ("y2", plotBottom), ("stroke", "#AAAAAA"), ("stroke-dasharray", "1 3")],
            )
        )
        parts.append(
            textElement(
                left, baseline, point["role"], "start", cssClass="role-label",
                extra=[("data-role", point["role"]), ("data-date", point["studyDate"].isoformat()), ("data-x", dataNumber(point["day"]))],
            )
        )
    parts.append("</g>")
    if not sinceFirstScan:
        stage1X = xScale.pixel(0.0)
        parts.append('<g class="stage1-marker">')
        parts.append(tag("line", [("class", "stage1-line"), ("x1", stage1X), ("y1", plotTop - 2.0), ("x2", stage1X), ("y2", plotBottom),
                                   ("stroke", INK), ("stroke-width", 1.5)]))
        parts.append(textElement(stage1X + 3.0, plotTop + FONT_SIZE_PX, "stage 1", "start", cssClass="stage1-label",
                                  extra=[("data-x", dataNumber(0.0))]))
        parts.append("</g>")

    panelSeries = [(SERIES_REMNANT, remnants, "FLR (mL)", "mL", 0, panels[0])]
    if hasSflr:
        panelSeries.append((SERIES_SFLR, sflrValues, "sFLR (%)", "%", 1, panels[1]))
    # The shared x axis first: its grid lines belong under every panel's data.
    parts.extend(xAxis(xScale, plotTop, plotBottom, "x", xTitle, height - 8.0))
    titleX = 8.0 + AXIS_TITLE_SIZE_PX * 0.8

    # Geometry of both panels before any label, so that a label of one panel also keeps clear of
    # the other's markers and lines (labels may use the gap between the panels).
    placer = LabelPlacer((plotLeft + 2.0, plotTop - 4.0, width - 2.0, plotBottom - 1.0))
    panelGeometry = []
    for series, values, axisTitle, unit, decimals, (panelTop, panelBottom) in panelSeries:
        low, high, ticks, tickDecimals = yTicks(values, (panelTop, panelBottom))
        yScale = Scale(low, high, panelBottom, panelTop, ticks, tickDecimals)
        plotted = [(point, point[series]) for point in points if point[series] is not None]
        pixels = [(xScale.pixel(point["day"]), yScale.pixel(value)) for point, value in plotted]
        placer.addLine(pixels)
        for x, y in pixels:
            placer.addMarker(x, y)
        panelGeometry.append((series, axisTitle, unit, decimals, yScale, plotted, pixels))
    thresholdY = None
    if hasSflr and threshold is not None:
        thresholdY = panelGeometry[1][4].pixel(threshold)
        placer.addLine([(plotLeft, thresholdY), (plotRight, thresholdY)])

    for series, axisTitle, unit, decimals, yScale, plotted, pixels in panelGeometry:
        parts.append(f'<g class="panel" data-series="{series}">')
        parts.extend(yAxis(yScale, plotLeft, plotRight, series, axisTitle, titleX, STYLES[series][0]))
        if series == SERIES_SFLR and thresholdY is not None:
            parts.extend(thresholdLine(placer, threshold, thresholdText, thresholdY, plotLeft, plotRight))
        parts.append(polyline(series, pixels))
        labels = []
        for (point, value), (x, y) in zip(plotted, pixels):
            valueText = f"{value:.{decimals}f} {unit}"
            tooltip = f"{point['role']} {point['studyDate'].isoformat()}: {valueText}"
            parts.append(
                pointElement(
                    series, x, y, point["day"], value,
                    extra=[("data-y-axis", series), ("data-role", point["role"]), ("data-date", point["studyDate"].isoformat())],
                    tooltip=tooltip,
                )
            )
            placement = placer.tryPlace(valueText, pointLabelCandidates(x, y))
            if placement is not None:
                # A value that cannot be written clear of the others is left out rather than
                # overprinted: it stays in the point's tooltip and in the report's table.
                labelX, labelY, anchor = placement
                labels.append(haloText(labelX, labelY, valueText, anchor, "value-label", STYLES[series][0]))
        # Labels after every marker of the series, so that no marker hides a label.
        parts.extend(labels)
        parts.append("</g>")

    title = "Future liver remnant growth: FLR volume (mL)" + (" and sFLR (%)" if hasSflr else "")
    title += " against " + xTitle.lower()
    if planLabel:
        title += f"; plan: {planLabel}"
    if thresholdText and hasSflr:
        title += f"; {thresholdText}"
    return svgDocument(width, height, title, parts, "alpps-chart alpps-growth-chart")


# --- Time-activity curves ------------------------------------------------------------------------


def _curveValues(values, name, count):
    """A list of floats (None where not finite) of length count, or ValueError naming the input."""
    if isinstance(values, (str, bytes, Mapping)):
        raise ValueError(f"Time-activity chart: {name} is {type(values).__name__}: expected a list of count rates (counts/s)")
    try:
        items = list(values)
    except TypeError:
        raise ValueError(f"Time-activity chart: {name} is {type(values).__name__}: expected a list of count rates (counts/s)") from None
    if count is not None and len(items) != count:
        raise ValueError(f"Time-activity chart: {name} has {len(items)} values for {count} times: expected one value per time")
    return [finiteOrNone(item) for item in items]


def _pick(curves, names, label):
    present = [name for name in names if curves.get(name) is not None]
    if len(present) > 1:
        raise ValueError(f"Time-activity chart: both {present[0]!r} and {present[1]!r} given for the {label}: expected one of them")
    return (present[0], curves[present[0]]) if present else (names[0], None)


def _timeActivityData(curves):
    """(times in s, {series: values}, unit, decayCorrected or None) from either accepted form."""
    if curves is None:
        raise ValueError(f"Time-activity chart: curves are missing: expected {_EXPECTED_CURVES}")
    if not isinstance(curves, Mapping):
        if not hasattr(curves, "midTimesSeconds"):
            raise ValueError(f"Time-activity chart: curves are {type(curves).__name__}: expected {_EXPECTED_CURVES}")
        curves = {
            "midTimesSeconds": curves.midTimesSeconds,
            SERIES_LIVER: getattr(curves, SERIES_LIVER, None),
            SERIES_BLOOD: getattr(curves, SERIES_BLOOD, None),
            SERIES_TOTAL: getattr(curves, SERIES_TOTAL, None),
            "unit": getattr(curves, "unit", None),
            "decayCorrected": getattr(curves, "decayCorrected", None),
        }
    timeKey, timeValues = _pick(curves, ("midTimesSeconds", "timeSeconds"), "times")
    if timeValues is None:
        raise ValueError(f"Time-activity chart: no times: expected {_EXPECTED_CURVES}")
    times = _curveValues(timeValues, timeKey, None)
    if not times:
        raise ValueError(f"Time-activity chart: {timeKey} is empty: expected {_EXPECTED_CURVES}")
    series = {}
    for canonical, names in ((SERIES_LIVER, ("liver",)), (SERIES_BLOOD, ("bloodPool", "blood")), (SERIES_TOTAL, ("totalFieldOfView", "total"))):
        key, values = _pick(curves, names, canonical)
        if values is None:
            continue
        values = _curveValues(values, key, len(times))
        if not any(value is not None and time is not None for value, time in zip(values, times)):
            raise ValueError(f"Time-activity chart: {key} has no finite value at a finite time: expected count rates (counts/s)")
        series[canonical] = values
    if not series:
        raise ValueError(f"Time-activity chart: no curve given: expected {_EXPECTED_CURVES}")
    for name, values in series.items():
        negative = [value for value in values if value is not None and value < 0]
        if negative:
            raise ValueError(f"Time-activity chart: {name} has a negative count rate ({negative[0]:g}): expected counts/s >= 0")
    decay = curves.get("decayCorrected")
    return times, series, str(curves.get("unit") or "counts/s"), (None if decay is None else bool(decay))


def _uptakeWindow(window):
    """(start, end) in s from a pair, a MebrofeninUptakeResult or its asDict(), or None."""
    if window is None:
        return None
    if isinstance(window, Mapping):
        window = window.get("windowSeconds")
    elif hasattr(window, "windowSeconds"):
        window = window.windowSeconds
    expected = "(start, end) in seconds after injection with start < end, e.g. (150, 350)"
    try:
        start, end = (finiteOrNone(value) for value in window)
    except (TypeError, ValueError):
        raise ValueError(f"Time-activity chart: uptake window {window!r}: expected {expected}") from None
    if start is None or end is None or not start < end:
        raise ValueError(f"Time-activity chart: uptake window {window!r}: expected {expected}")
    return start, end


_CURVE_LABELS = {
    SERIES_LIVER: "Liver ROI",
    SERIES_BLOOD: "Blood pool (heart ROI)",
    SERIES_TOTAL: "Total field of view",
}


def timeActivityChartSvg(curves, uptakeWindowSeconds=None, widthPx=640, heightPx=300, yScale="auto"):
    """Count rate (counts/s) of liver, blood pool and total field of view against minutes after
    injection, with the uptake window shaded, as SVG.

    ``curves``: a ``mebrofeninCurves.TimeActivityCurves``, or a dict of lists in either form
    - ``TimeActivityCurves.asDict()``: "midTimesSeconds", "liver", "bloodPool", "totalFieldOfView"
      (and optionally "unit", "decayCorrected"; other keys are ignored), or
    - the short form: "timeSeconds", "liver", "blood", "total".
    Times are seconds after injection (frame mid-times); curves are counts/s, one value per time;
    a missing (None) curve is left out, a non-finite value leaves a gap. ``uptakeWindowSeconds``:
    (start, end) in s, or a ``MebrofeninUptakeResult`` or its ``asDict()`` (its windowSeconds).
    ``yScale``: "linear" (from 0), "log", or "auto": log when one curve peaks at least
    ``LOG_SCALE_PEAK_RATIO`` times higher than another and every value is positive.
    ValueError on empty curves, curves without finite values, or mismatched lengths.
    """
    times, series, unit, decayCorrected = _timeActivityData(curves)
    window = _uptakeWindow(uptakeWindowSeconds)
    width, height = checkedSize(widthPx, heightPx)
    values = [value for curve in series.values() for value in curve if value is not None]
    if yScale not in ("auto", "linear", "log"):
        raise ValueError(f"Time-activity chart: yScale {yScale!r}: expected 'auto', 'linear' or 'log'")
    positive = min(values) > 0
    if yScale == "log" and not positive:
        raise ValueError("Time-activity chart: a log scale needs count rates > 0: expected yScale 'linear' for curves with zeros")
    peaks = [max(value for value in curve if value is not None) for curve in series.values()]
    logarithmic = yScale == "log" or (yScale == "auto" and positive and max(peaks) >= LOG_SCALE_PEAK_RATIO * min(peaks))

    legendItems = [("series", _CURVE_LABELS[name], STYLES[name]) for name in series]
    if window is not None:
        legendItems.append(("band", "Uptake window", None))
    if decayCorrected is not None:
        legendItems.append(("note", "decay-corrected to injection" if decayCorrected else "as counted (not decay-corrected)", None))
    legendParts, legendHeight = legend(legendItems, 8.0, 4.0, width - 16.0)

    bandHeight = 16.0 if window is not None else 0.0
    plotTop = 4.0 + legendHeight + 4.0 + bandHeight + 4.0
    plotBottom = height - (4.0 + FONT_SIZE_PX + 6.0 + AXIS_TITLE_SIZE_PX + 8.0)
    targetY = max(2.0, (plotBottom - plotTop) / 36.0)
    if logarithmic:
        yLow, yHigh, yTickValues, yDecimals = logTicks(min(values), max(values), targetY)
    else:
        # 2 % headroom: a flat total-FOV curve would otherwise run along the plot's top edge.
        yLow, yHigh, yTickValues, yDecimals = linearTicks(0.0, max(values) * 1.02, targetY, includeZero=True)
    plotLeft = 8.0 + AXIS_TITLE_SIZE_PX + 6.0 + tickLabelWidth(yTickValues, yDecimals) + 10.0
    plotRight = width - 16.0
    scaleY = Scale(yLow, yHigh, plotBottom, plotTop, yTickValues, yDecimals, logarithmic)

    minutes = [None if time is None else time / SECONDS_PER_MINUTE for time in times]
    finiteMinutes = [value for value in minutes if value is not None]
    xLowData, xHighData = min(finiteMinutes + [0.0]), max(finiteMinutes)
    if window is not None:
        xLowData = min(xLowData, window[0] / SECONDS_PER_MINUTE)
        xHighData = max(xHighData, window[1] / SECONDS_PER_MINUTE)
    xLow, xHigh, xTickValues, xDecimals = linearTicks(xLowData, xHighData, max(2.0, (plotRight - plotLeft) / 60.0))
    scaleX = Scale(xLow, xHigh, plotLeft, plotRight, xTickValues, xDecimals)

    parts = list(legendParts)
    if window is not None:
        start, end = (scaleX.pixel(value / SECONDS_PER_MINUTE) for value in window)
        parts.append(
            tag(
                "rect",
                [
                    ("class", "uptake-window"), ("data-start-seconds", dataNumber(window[0])), ("data-end-seconds", dataNumber(window[1])),
                    ("x", start), ("y", plotTop), ("width", end - start), ("height", plotBottom - plotTop),
                    ("fill", "#999999"), ("fill-opacity", 0.22), ("stroke", "#999999"), ("stroke-width", 0.8),
                ],
            )
        )
        # Above the plot rather than inside it: the curves may pass anywhere in the window.
        label = f"uptake window {window[0]:g}-{window[1]:g} s"
        labelWidth = textWidth(label)
        centre = min(max((start + end) / 2.0, plotLeft + labelWidth / 2.0), width - 4.0 - labelWidth / 2.0)
        parts.append(textElement(centre, plotTop - 6.0, label, "middle", cssClass="uptake-window-label"))
    yTitle = f"{unit}, log scale" if logarithmic else unit
    parts.extend(yAxis(scaleY, plotLeft, plotRight, "counts", yTitle, 8.0 + AXIS_TITLE_SIZE_PX * 0.8))
    parts.extend(xAxis(scaleX, plotTop, plotBottom, "x", "Minutes after injection", height - 8.0))

    markerSize = 0.7 if len(times) > 40 else 0.85  # dense series: smaller markers keep the lines readable
    for name, curve in series.items():
        parts.append(f'<g class="curve" data-series="{name}">')
        pieces, current = [], []
        for minute, time, value in zip(minutes, times, curve):
            if minute is None or value is None:
                # A gap rather than a line across a missing frame.
                if current:
                    pieces.append(current)
                current = []
                continue
            current.append((minute, time, value))
        if current:
            pieces.append(current)
        for piece in pieces:
            parts.append(polyline(name, [(scaleX.pixel(minute), scaleY.pixel(value)) for minute, _time, value in piece]))
        for piece in pieces:
            for minute, time, value in piece:
                parts.append(
                    pointElement(
                        name, scaleX.pixel(minute), scaleY.pixel(value), minute, value, markerSize,
                        extra=[("data-y-axis", "counts"), ("data-seconds", dataNumber(time))],
                    )
                )
        parts.append("</g>")

    title = "Mebrofenin time-activity curves: " + ", ".join(_CURVE_LABELS[name].lower() for name in series)
    title += f" ({unit}{', log scale' if logarithmic else ''}) against minutes after injection"
    if window is not None:
        title += f"; uptake window {window[0]:g}-{window[1]:g} s"
    return svgDocument(width, height, title, parts, "alpps-chart alpps-time-activity-chart")
