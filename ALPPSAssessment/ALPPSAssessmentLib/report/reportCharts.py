"""Charts of the HTML patient report, drawn as inline SVG strings.

The report is a single self-contained HTML file that is printed on A4 for the liver tumour
board, so the charts are plain SVG elements (no scripts, no external fonts, no ids that could
clash when several charts share one page) and must stay legible in greyscale: every series has
its own marker shape and dash pattern besides its colour (Okabe-Ito palette, safe for the common
colour-vision deficiencies). Only the standard library is used, so the module imports wherever
the report is written (Slicer, the ``alpps`` command, a bare Python).

Inputs are the JSON-like dicts the project already writes:
- ``growthChartSvg``: the hypertrophy section (``hypertrophy.hypertrophyToDict``).
- ``timeActivityChartSvg``: a ``mebrofeninUptake.TimeActivityCurves`` or a dict of lists, either
  its ``asDict()`` form or a short form (see ``timeActivityChartSvg``).

Every plotted data point is an element of class "point" with data-series, data-x and data-y (in
the units of the axes) so that tests and tools can map the drawing back to the data; every axis
is a ``<g class="axis" data-axis=... data-scale=...>`` whose ticks carry their value as the label
text at the tick mark's position.
"""

import math
from collections.abc import Mapping
from datetime import date
from xml.sax.saxutils import escape

SVG_NAMESPACE = "http://www.w3.org/2000/svg"

# A widely installed sans-serif: the report cannot embed fonts and must print the same everywhere.
FONT_FAMILY = "Helvetica, Arial, 'Liberation Sans', sans-serif"
FONT_SIZE_PX = 11
AXIS_TITLE_SIZE_PX = 12
# Below this the axes, legend and labels no longer fit; the report never asks for less.
MIN_WIDTH_PX = 360
MIN_HEIGHT_PX = 200

# Okabe & Ito 2008 colour-blind-safe palette; greyscale distinction comes from markers and dashes.
BLUE = "#0072B2"
VERMILLION = "#D55E00"
BLUISH_GREEN = "#009E73"
INK = "#222222"
MUTED = "#555555"
GRID = "#DDDDDD"

SERIES_REMNANT = "remnantMl"
SERIES_SFLR = "sFLR"
SERIES_LIVER = "liver"
SERIES_BLOOD = "bloodPool"
SERIES_TOTAL = "totalFieldOfView"

# Series styles: colour, dash pattern (None = solid), marker shape, marker filled.
_STYLES = {
    SERIES_REMNANT: (BLUE, None, "circle", True),
    SERIES_SFLR: (VERMILLION, "6 3", "square", True),
    SERIES_LIVER: (BLUE, None, "circle", True),
    SERIES_BLOOD: (VERMILLION, "6 3", "square", True),
    # Hollow diamonds: a third grey level would not be told apart from the other two in print.
    SERIES_TOTAL: (BLUISH_GREEN, "2 2", "diamond", False),
}
THRESHOLD_DASH = "9 3 2 3"  # dash-dot: unlike both data series' dashes

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


# --- Numbers and text ----------------------------------------------------------------------------


def _finiteOrNone(value):
    """A finite float, or None for a missing or non-finite value; bools and strings are not numbers
    (a JSON 'true' or '12' in a volume field is a bug upstream, not a value to plot)."""
    if value is None or isinstance(value, (bool, str, bytes)):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _coordinate(value):
    # Two decimals: sub-pixel exact for print, without 17-digit noise in the report's source.
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _dataNumber(value):
    # Machine-readable values keep 12 significant digits: exact enough to check, short to read.
    return f"{value:.12g}"


def _attribute(value):
    return escape(str(value), {'"': "&quot;"})


def _tag(name, attributes, text=None):
    parts = [name]
    for key, value in attributes:
        if value is None:
            continue
        if isinstance(value, float):
            value = _coordinate(value)
        parts.append(f'{key}="{_attribute(value)}"')
    opening = " ".join(parts)
    if text is None:
        return f"<{opening}/>"
    return f"<{opening}>{text}</{name}>"


def _textElement(x, y, label, anchor="start", size=FONT_SIZE_PX, cssClass=None, fill=INK, extra=(), tooltip=None):
    content = escape(label)
    if tooltip is not None:
        # A <title> child shows the full text on hover when the visible one had to be shortened.
        content = f"<title>{escape(tooltip)}</title>{content}"
    attributes = [("class", cssClass), ("x", float(x)), ("y", float(y)), ("text-anchor", anchor)]
    if size != FONT_SIZE_PX:
        attributes.append(("font-size", size))
    if fill != INK:
        attributes.append(("fill", fill))
    return _tag("text", attributes + list(extra), content)


# Approximate advance widths of Helvetica/Arial in em: the layout must avoid overlaps and clipping
# without a font engine, and overestimating slightly is safer than underestimating.
_NARROW = set("ijl.,:;!'|")
_SEMI_NARROW = set("frtI()[]-/ ")
_WIDE = set("mwMW%@")


def textWidth(label, size=FONT_SIZE_PX):
    """Estimated width (px) of a label in the chart font."""
    total = 0.0
    for character in str(label):
        if character in _NARROW:
            total += 0.26
        elif character in _SEMI_NARROW:
            total += 0.34
        elif character in _WIDE:
            total += 0.86
        elif character.isupper():
            total += 0.68
        else:
            total += 0.56
    return total * size * 1.04


def _textBox(x, y, label, anchor, size=FONT_SIZE_PX):
    width = textWidth(label, size)
    left = {"start": x, "middle": x - width / 2.0, "end": x - width}[anchor]
    # Cap height above the baseline and descenders below it.
    return (left, y - 0.76 * size, left + width, y + 0.24 * size)


def _shortened(label, maximumWidth, size=FONT_SIZE_PX):
    """The label, cut with an ellipsis if wider than maximumWidth; the full text goes to a tooltip."""
    if textWidth(label, size) <= maximumWidth:
        return label
    text = label
    while text and textWidth(text + "...", size) > maximumWidth:
        text = text[:-1]
    return text.rstrip(" ,;(") + "..."


# --- Scales and ticks ----------------------------------------------------------------------------


def _niceStep(span, targetCount):
    """A 1-2-5 x 10^k step giving about targetCount intervals over span."""
    raw = span / max(targetCount, 1.0)
    exponent = math.floor(math.log10(raw))
    fraction = raw / 10.0**exponent
    if fraction < 1.5:
        nice = 1.0
    elif fraction < 3.0:
        nice = 2.0
    elif fraction < 7.0:
        nice = 5.0
    else:
        nice = 10.0
    return nice * 10.0**exponent


def _decimalsOf(step):
    return max(0, -math.floor(math.log10(step) + 1e-9))


def linearTicks(low, high, targetCount, includeZero=False, minimumStep=None):
    """(domainLow, domainHigh, ticks, decimals) of a linear axis with 1-2-5 steps covering low-high."""
    if includeZero:
        low, high = min(low, 0.0), max(high, 0.0)
    if high - low <= 0.0:
        # A single value: widen around it so that it sits inside a readable axis.
        pad = abs(high) * 0.1 or 1.0
        low, high = (low, high + pad) if includeZero and low == 0.0 else (low - pad, high + pad)
    step = _niceStep(high - low, targetCount)
    if minimumStep is not None:
        step = max(step, minimumStep)
    decimals = _decimalsOf(step)
    first = math.floor(low / step + 1e-9)
    last = math.ceil(high / step - 1e-9)
    ticks = [round(index * step, decimals + 3) for index in range(first, last + 1)]
    return ticks[0], ticks[-1], ticks, decimals


def logTicks(low, high, targetCount):
    """(domainLow, domainHigh, ticks, decimals) of a log axis: the data range widened a little, ticks
    at 1-2-5 x 10^k (only 1 x 10^k when that would be too many)."""
    domainLow, domainHigh = low / 1.15, high * 1.15
    if domainHigh / domainLow < 2.0:
        # Too narrow a range for two 1-2-5 ticks: widen around its geometric middle.
        middle = math.sqrt(domainLow * domainHigh)
        domainLow, domainHigh = middle / 2.0, middle * 2.0
    for mantissas in ((1.0, 2.0, 5.0), (1.0,)):
        ticks = []
        for exponent in range(math.floor(math.log10(domainLow)), math.ceil(math.log10(domainHigh)) + 1):
            for mantissa in mantissas:
                value = mantissa * 10.0**exponent
                if domainLow <= value <= domainHigh:
                    ticks.append(value)
        if len(ticks) <= max(targetCount * 1.5, 3):
            break
    decimals = max(_decimalsOf(value) for value in ticks)
    ticks = [round(value, decimals + 3) for value in ticks]
    return domainLow, domainHigh, ticks, decimals


class _Scale:
    """Maps data values to pixels; pixelLow is where domainLow lands (the bottom of a y axis)."""

    def __init__(self, domainLow, domainHigh, pixelLow, pixelHigh, ticks, decimals, logarithmic=False):
        self.logarithmic = logarithmic
        self.domainLow, self.domainHigh = domainLow, domainHigh
        self.pixelLow, self.pixelHigh = pixelLow, pixelHigh
        self.ticks, self.decimals = ticks, decimals

    @property
    def kind(self):
        return "log" if self.logarithmic else "linear"

    def _transform(self, value):
        return math.log10(value) if self.logarithmic else value

    def pixel(self, value):
        low, high = self._transform(self.domainLow), self._transform(self.domainHigh)
        return self.pixelLow + (self._transform(value) - low) / (high - low) * (self.pixelHigh - self.pixelLow)

    def label(self, value):
        text = f"{value:.{self.decimals}f}"
        return "0" if text.strip("-0.") == "" else text


def _tickLabelWidth(ticks, decimals):
    scale = _Scale(0.0, 1.0, 0.0, 1.0, ticks, decimals)
    return max(textWidth(scale.label(value)) for value in ticks)


# --- Drawing helpers -----------------------------------------------------------------------------


def _xAxis(scale, top, bottom, name, title, titleY):
    """Vertical grid lines over top-bottom, and the tick marks, labels and title under bottom."""
    grid = [
        _tag("line", [("x1", scale.pixel(v)), ("y1", float(top)), ("x2", scale.pixel(v)), ("y2", float(bottom))])
        for v in scale.ticks
    ]
    parts = [f'<g class="grid" stroke="{GRID}" stroke-width="1">' + "".join(grid) + "</g>"]
    parts.append(f'<g class="axis" data-axis="{name}" data-scale="{scale.kind}">')
    parts.append(_tag("line", [("x1", scale.pixelLow), ("y1", float(bottom)), ("x2", scale.pixelHigh), ("y2", float(bottom)), ("stroke", MUTED)]))
    for value in scale.ticks:
        x = scale.pixel(value)
        parts.append(
            f'<g class="tick" data-value="{_dataNumber(value)}">'
            + _tag("line", [("class", "tick-mark"), ("x1", x), ("y1", float(bottom)), ("x2", x), ("y2", bottom + 4.0), ("stroke", MUTED)])
            + _textElement(x, bottom + 4.0 + FONT_SIZE_PX, scale.label(value), "middle")
            + "</g>"
        )
    centre = (scale.pixelLow + scale.pixelHigh) / 2.0
    parts.append(_textElement(centre, titleY, title, "middle", AXIS_TITLE_SIZE_PX, "axis-title"))
    parts.append("</g>")
    return parts


def _yAxis(scale, left, right, name, title, titleX, colour=INK):
    """Horizontal grid lines over left-right, tick marks and labels left of left, and a rotated title."""
    grid = [_tag("line", [("x1", float(left)), ("y1", scale.pixel(v)), ("x2", float(right)), ("y2", scale.pixel(v))]) for v in scale.ticks]
    parts = [f'<g class="grid" stroke="{GRID}" stroke-width="1">' + "".join(grid) + "</g>"]
    parts.append(f'<g class="axis" data-axis="{_attribute(name)}" data-scale="{scale.kind}">')
    parts.append(_tag("line", [("x1", float(left)), ("y1", scale.pixelLow), ("x2", float(left)), ("y2", scale.pixelHigh), ("stroke", MUTED)]))
    for value in scale.ticks:
        y = scale.pixel(value)
        parts.append(
            f'<g class="tick" data-value="{_dataNumber(value)}">'
            + _tag("line", [("class", "tick-mark"), ("x1", left - 4.0), ("y1", y), ("x2", float(left)), ("y2", y), ("stroke", MUTED)])
            # 0.35 em below the tick centres the digits on it without relying on dominant-baseline,
            # which some HTML-to-PDF renderers ignore.
            + _textElement(left - 6.0, y + 0.35 * FONT_SIZE_PX, scale.label(value), "end")
            + "</g>"
        )
    middle = (scale.pixelLow + scale.pixelHigh) / 2.0
    parts.append(
        _textElement(
            titleX, middle, title, "middle", AXIS_TITLE_SIZE_PX, "axis-title", colour,
            extra=[("transform", f"rotate(-90 {_coordinate(titleX)} {_coordinate(middle)})")],
        )
    )
    parts.append("</g>")
    return parts


def _markerShape(shape, x, y, colour, filled, size=1.0):
    """Geometry attributes of a marker centred on (x, y): circle, square or diamond."""
    fill = colour if filled else "#FFFFFF"
    if shape == "circle":
        return "circle", [("cx", x), ("cy", y), ("r", 3.2 * size), ("fill", fill), ("stroke", colour)]
    if shape == "square":
        half = 3.0 * size
        return "rect", [("x", x - half), ("y", y - half), ("width", 2 * half), ("height", 2 * half), ("fill", fill), ("stroke", colour)]
    half = 3.8 * size
    corners = [(x, y - half), (x + half, y), (x, y + half), (x - half, y)]
    return "polygon", [("points", " ".join(f"{_coordinate(a)},{_coordinate(b)}" for a, b in corners)), ("fill", fill), ("stroke", colour)]


def _pointElement(series, x, y, dataX, dataY, size=1.0, extra=(), tooltip=None):
    colour, _dash, shape, filled = _STYLES[series]
    name, geometry = _markerShape(shape, x, y, colour, filled, size)
    attributes = [("class", "point"), ("data-series", series), ("data-x", _dataNumber(dataX)), ("data-y", _dataNumber(dataY))]
    attributes += list(extra) + geometry + [("stroke-width", 1.2)]
    if tooltip is None:
        return _tag(name, attributes)
    return _tag(name, attributes, f"<title>{escape(tooltip)}</title>")


def _polyline(series, pixels):
    colour, dash, _shape, _filled = _STYLES[series]
    points = " ".join(f"{_coordinate(x)},{_coordinate(y)}" for x, y in pixels)
    attributes = [("class", "series-line"), ("data-series", series), ("points", points), ("fill", "none"), ("stroke", colour), ("stroke-width", 1.8)]
    if dash:
        attributes.append(("stroke-dasharray", dash))
    return _tag("polyline", attributes)


def _legendSample(kind, style, x, y):
    """A 24 px sample of a legend entry at (x, y = the text's vertical centre)."""
    if kind == "band":
        return _tag("rect", [("x", float(x)), ("y", y - 5.0), ("width", 24.0), ("height", 10.0), ("fill", "#999999"), ("fill-opacity", 0.25), ("stroke", "#999999")])
    colour, dash = style[0], style[1]
    line = [("x1", float(x)), ("y1", float(y)), ("x2", x + 24.0), ("y2", float(y)), ("stroke", colour), ("stroke-width", 1.8)]
    if dash:
        line.append(("stroke-dasharray", dash))
    parts = [_tag("line", line)]
    if kind == "series":
        name, geometry = _markerShape(style[2], x + 12.0, float(y), colour, style[3])
        parts.append(_tag(name, geometry + [("stroke-width", 1.2)]))
    return "".join(parts)


def _legend(items, left, top, maxWidth):
    """Legend entries (kind, label, style) laid out in rows that wrap at maxWidth; returns
    (svg parts, height). kind: 'series', 'line' (no marker), 'band' (shaded area) or 'note' (text)."""
    rowHeight = 16.0
    parts = ['<g class="legend">']
    x, row = left, 0
    for kind, label, style in items:
        sample = 0.0 if kind == "note" else 28.0
        # A label wider than the chart (a long threshold source) is cut; the tooltip keeps it whole.
        shown = _shortened(label, maxWidth - sample)
        width = sample + textWidth(shown) + 16.0
        if x > left and x + width - 16.0 > left + maxWidth:
            x, row = left, row + 1
        centre = top + row * rowHeight + rowHeight / 2.0
        if kind != "note":
            parts.append(_legendSample(kind, style, x, centre))
        parts.append(
            _textElement(
                x + sample, centre + 0.35 * FONT_SIZE_PX, shown, fill=MUTED if kind == "note" else INK,
                tooltip=label if shown != label else None,
            )
        )
        x += width
    parts.append("</g>")
    return parts, (row + 1) * rowHeight


class _LabelPlacer:
    """Greedy placement of text labels: the first candidate position that stays inside the bounds
    and clear of markers, lines and earlier labels wins (the printed chart must not overprint)."""

    def __init__(self, bounds):
        self.bounds = bounds
        self.boxes = []
        self.samples = []

    def addBox(self, box):
        self.boxes.append(box)

    def addMarker(self, x, y, radius=4.0):
        self.boxes.append((x - radius, y - radius, x + radius, y + radius))

    def addLine(self, pixels):
        # Points every 2 px along each segment stand for the line in overlap tests.
        for (x0, y0), (x1, y1) in zip(pixels, pixels[1:]):
            count = max(1, int(math.hypot(x1 - x0, y1 - y0) / 2.0))
            self.samples.extend((x0 + (x1 - x0) * i / count, y0 + (y1 - y0) * i / count) for i in range(count + 1))

    def _inside(self, box):
        left, top, right, bottom = self.bounds
        return box[0] >= left and box[1] >= top and box[2] <= right and box[3] <= bottom

    def _collisions(self, box):
        """How badly box overprints: a label or marker counts more than a few pixels of line."""
        boxes = sum(
            1 for other in self.boxes
            if box[0] < other[2] + 1 and other[0] < box[2] + 1 and box[1] < other[3] + 1 and other[1] < box[3] + 1
        )
        samples = sum(1 for x, y in self.samples if box[0] - 1 <= x <= box[2] + 1 and box[1] - 1 <= y <= box[3] + 1)
        return 10 * boxes + samples

    def _fits(self, box):
        return self._inside(box) and self._collisions(box) == 0

    def tryPlace(self, label, candidates, size=FONT_SIZE_PX):
        """The first clear (x, y, anchor) of candidates, reserved for later labels; None if none is."""
        for candidate in candidates:
            box = _textBox(candidate[0], candidate[1], label, candidate[2], size)
            if self._fits(box):
                self.boxes.append(box)
                return candidate
        return None

    def place(self, label, candidates, size=FONT_SIZE_PX):
        """The chosen (x, y, anchor) from candidates, reserved for later labels."""
        boxes = [(candidate, _textBox(candidate[0], candidate[1], label, candidate[2], size)) for candidate in candidates]
        inside = [pair for pair in boxes if self._inside(pair[1])] or boxes
        # Nothing clear: keep the label inside the chart where it overprints least.
        chosen = min(inside, key=lambda pair: self._collisions(pair[1]))
        self.boxes.append(chosen[1])
        return chosen[0]


def _haloText(x, y, label, anchor, cssClass, fill=INK, tooltip=None):
    """A label over a white outline copy, legible across grid and guide lines in print. A copy
    rather than paint-order, which older HTML-to-PDF renderers ignore (they would draw the white
    outline over the letters)."""
    halo = _textElement(
        x, y, label, anchor, cssClass="halo", fill="#FFFFFF",
        extra=[("stroke", "#FFFFFF"), ("stroke-width", 3), ("stroke-linejoin", "round"), ("aria-hidden", "true")],
    )
    return halo + _textElement(x, y, label, anchor, cssClass=cssClass, fill=fill, tooltip=tooltip)


def _thresholdLine(placer, threshold, thresholdText, y, plotLeft, plotRight):
    """The dash-dot sFLR threshold line and its label: the full text with its source where it fits
    clear of the data, otherwise a short one (the legend always carries the source)."""
    parts = [
        _tag(
            "line",
            [
                ("class", "threshold"), ("data-axis", SERIES_SFLR), ("data-y", _dataNumber(threshold)),
                ("x1", float(plotLeft)), ("y1", y), ("x2", float(plotRight)), ("y2", y),
                ("stroke", INK), ("stroke-width", 1.4), ("stroke-dasharray", THRESHOLD_DASH),
            ],
        )
    ]
    above, below = y - 4.0, y + 4.0 + 0.76 * FONT_SIZE_PX
    ends = [(plotRight - 4.0, above, "end"), (plotLeft + 6.0, above, "start"), (plotRight - 4.0, below, "end"), (plotLeft + 6.0, below, "start")]
    # Short labels may also sit anywhere along the line.
    along = [(plotLeft + (plotRight - plotLeft) * f, y, "middle") for f in (0.75, 0.5, 0.25) for y in (above, below)]
    shortText = f"sFLR cut-off {threshold:g} %"
    for index, text in enumerate((_shortened(thresholdText, plotRight - plotLeft - 10.0), shortText, f"{threshold:g} %")):
        placement = placer.tryPlace(text, ends if index == 0 else ends + along)
        if placement is not None:
            break
    else:
        text, placement = shortText, placer.place(shortText, ends + along)
    x, baseline, anchor = placement
    parts.append(_haloText(x, baseline, text, anchor, "threshold-label", tooltip=thresholdText if text != thresholdText else None))
    return parts


def _pointLabelCandidates(x, y):
    """Above, below, right, left, then the diagonals of a marker at (x, y), each clear of the
    marker itself; then the same a little farther out, for crowded courses."""
    candidates = []
    for gap in (8.0, 17.0):
        above, below, middle = y - gap, y + gap + 0.76 * FONT_SIZE_PX, y + 0.35 * FONT_SIZE_PX
        candidates += [
            (x, above, "middle"),
            (x, below, "middle"),
            (x + gap, middle, "start"),
            (x - gap, middle, "end"),
            (x + 5.0, above, "start"),
            (x - 5.0, above, "end"),
            (x + 5.0, below, "start"),
            (x - 5.0, below, "end"),
        ]
    return candidates


def _checkedSize(widthPx, heightPx):
    sizes = []
    for value, name, minimum in ((widthPx, "widthPx", MIN_WIDTH_PX), (heightPx, "heightPx", MIN_HEIGHT_PX)):
        number = _finiteOrNone(value)
        if number is None or number < minimum:
            raise ValueError(f"Chart {name} {value!r} is too small or not a number: expected at least {minimum} px")
        sizes.append(number)
    return sizes


def _svgDocument(width, height, title, parts, cssClass):
    opening = _tag(
        "svg",
        [
            ("xmlns", SVG_NAMESPACE),
            ("class", cssClass),
            ("viewBox", f"0 0 {_coordinate(width)} {_coordinate(height)}"),
            ("width", width),
            ("height", height),
            ("role", "img"),
            ("font-family", FONT_FAMILY),
            ("font-size", FONT_SIZE_PX),
        ],
        "",
    )[: -len("</svg>")]
    return opening + f"<title>{escape(title)}</title>" + "".join(parts) + "</svg>"


# --- Growth chart --------------------------------------------------------------------------------


def _studyDate(text, index):
    try:
        return date.fromisoformat(str(text)[:10])
    except (TypeError, ValueError):
        raise ValueError(
            f"Growth chart: time point {index} has study date {text!r}: expected an ISO date (YYYY-MM-DD)"
        ) from None


def _nonNegative(value, name, role, index):
    number = _finiteOrNone(value)
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
                "daysAfterStage1": _finiteOrNone(item.get("daysAfterStage1")),
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
        threshold = _finiteOrNone(sflrThresholdPercent)
        if threshold is None or not 0.0 < threshold < 100.0:
            raise ValueError(f"Growth chart: sFLR threshold {sflrThresholdPercent!r}: expected a percentage between 0 and 100, e.g. 20")
    width, height = _checkedSize(widthPx, heightPx)
    plan = hypertrophyDocument.get("plan") if isinstance(hypertrophyDocument.get("plan"), Mapping) else {}
    planLabel = str(plan.get("label") or plan.get("key") or "")
    hasSflr = any(point[SERIES_SFLR] is not None for point in points)
    xTitle = "Days since first scan (no stage 1 date given)" if sinceFirstScan else "Days after stage 1"
    thresholdText = ""
    if threshold is not None:
        thresholdText = f"sFLR cut-off {threshold:g} % (at or below: risk group)" + (f"; {thresholdSource}" if thresholdSource else "")

    # Legend first: its height decides where the plot starts.
    legendItems = [("series", "FLR volume (mL)", _STYLES[SERIES_REMNANT])]
    if hasSflr:
        legendItems.append(("series", "sFLR (% of standard liver volume)", _STYLES[SERIES_SFLR]))
        if threshold is not None:
            legendItems.append(("line", thresholdText, (INK, THRESHOLD_DASH)))
    else:
        legendItems.append(("note", "sFLR not available (needs height and weight)", None))
    legendParts, legendHeight = _legend(legendItems, 8.0, 4.0, width - 16.0)

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
    labelWidth = _tickLabelWidth(*yTicks(remnants, provisional[0])[2:])
    if hasSflr:
        labelWidth = max(labelWidth, _tickLabelWidth(*yTicks(sflrValues, provisional[1])[2:]))
    plotLeft = 8.0 + AXIS_TITLE_SIZE_PX + 6.0 + labelWidth + 10.0 + 2.0
    plotRight = width - 12.0
    padding = 18.0  # keeps the first and last markers and their labels off the axes
    days = [point["day"] for point in points]
    # Day 0 is stage 1, where the growth clock starts: always on the axis when the date is known.
    axisDays = days if sinceFirstScan else days + [0.0]
    xLow, xHigh, xTickValues, xDecimals = linearTicks(min(axisDays), max(axisDays), max(2.0, (plotRight - plotLeft) / 70.0), minimumStep=1.0)
    xScale = _Scale(xLow, xHigh, plotLeft + padding, plotRight - padding, xTickValues, xDecimals)

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
            _tag(
                "line",
                [("class", "role-guide"), ("x1", x), ("y1", baseline + 4.0), ("x2", x), ("y2", plotBottom), ("stroke", "#AAAAAA"), ("stroke-dasharray", "1 3")],
            )
        )
        parts.append(
            _textElement(
                left, baseline, point["role"], "start", cssClass="role-label",
                extra=[("data-role", point["role"]), ("data-date", point["studyDate"].isoformat()), ("data-x", _dataNumber(point["day"]))],
            )
        )
    parts.append("</g>")
    if not sinceFirstScan:
        stage1X = xScale.pixel(0.0)
        parts.append('<g class="stage1-marker">')
        parts.append(_tag("line", [("class", "stage1-line"), ("x1", stage1X), ("y1", plotTop - 2.0), ("x2", stage1X), ("y2", plotBottom),
                                   ("stroke", INK), ("stroke-width", 1.5)]))
        parts.append(_textElement(stage1X + 3.0, plotTop + FONT_SIZE_PX, "stage 1", "start", cssClass="stage1-label",
                                  extra=[("data-x", _dataNumber(0.0))]))
        parts.append("</g>")

    panelSeries = [(SERIES_REMNANT, remnants, "FLR (mL)", "mL", 0, panels[0])]
    if hasSflr:
        panelSeries.append((SERIES_SFLR, sflrValues, "sFLR (%)", "%", 1, panels[1]))
    # The shared x axis first: its grid lines belong under every panel's data.
    parts.extend(_xAxis(xScale, plotTop, plotBottom, "x", xTitle, height - 8.0))
    titleX = 8.0 + AXIS_TITLE_SIZE_PX * 0.8

    # Geometry of both panels before any label, so that a label of one panel also keeps clear of
    # the other's markers and lines (labels may use the gap between the panels).
    placer = _LabelPlacer((plotLeft + 2.0, plotTop - 4.0, width - 2.0, plotBottom - 1.0))
    panelGeometry = []
    for series, values, axisTitle, unit, decimals, (panelTop, panelBottom) in panelSeries:
        low, high, ticks, tickDecimals = yTicks(values, (panelTop, panelBottom))
        yScale = _Scale(low, high, panelBottom, panelTop, ticks, tickDecimals)
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
        parts.extend(_yAxis(yScale, plotLeft, plotRight, series, axisTitle, titleX, _STYLES[series][0]))
        if series == SERIES_SFLR and thresholdY is not None:
            parts.extend(_thresholdLine(placer, threshold, thresholdText, thresholdY, plotLeft, plotRight))
        parts.append(_polyline(series, pixels))
        labels = []
        for (point, value), (x, y) in zip(plotted, pixels):
            valueText = f"{value:.{decimals}f} {unit}"
            tooltip = f"{point['role']} {point['studyDate'].isoformat()}: {valueText}"
            parts.append(
                _pointElement(
                    series, x, y, point["day"], value,
                    extra=[("data-y-axis", series), ("data-role", point["role"]), ("data-date", point["studyDate"].isoformat())],
                    tooltip=tooltip,
                )
            )
            placement = placer.tryPlace(valueText, _pointLabelCandidates(x, y))
            if placement is not None:
                # A value that cannot be written clear of the others is left out rather than
                # overprinted: it stays in the point's tooltip and in the report's table.
                labelX, labelY, anchor = placement
                labels.append(_haloText(labelX, labelY, valueText, anchor, "value-label", _STYLES[series][0]))
        # Labels after every marker of the series, so that no marker hides a label.
        parts.extend(labels)
        parts.append("</g>")

    title = "Future liver remnant growth: FLR volume (mL)" + (" and sFLR (%)" if hasSflr else "")
    title += " against " + xTitle.lower()
    if planLabel:
        title += f"; plan: {planLabel}"
    if thresholdText and hasSflr:
        title += f"; {thresholdText}"
    return _svgDocument(width, height, title, parts, "alpps-chart alpps-growth-chart")


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
    return [_finiteOrNone(item) for item in items]


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
        start, end = (_finiteOrNone(value) for value in window)
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

    ``curves``: a ``mebrofeninUptake.TimeActivityCurves``, or a dict of lists in either form
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
    width, height = _checkedSize(widthPx, heightPx)
    values = [value for curve in series.values() for value in curve if value is not None]
    if yScale not in ("auto", "linear", "log"):
        raise ValueError(f"Time-activity chart: yScale {yScale!r}: expected 'auto', 'linear' or 'log'")
    positive = min(values) > 0
    if yScale == "log" and not positive:
        raise ValueError("Time-activity chart: a log scale needs count rates > 0: expected yScale 'linear' for curves with zeros")
    peaks = [max(value for value in curve if value is not None) for curve in series.values()]
    logarithmic = yScale == "log" or (yScale == "auto" and positive and max(peaks) >= LOG_SCALE_PEAK_RATIO * min(peaks))

    legendItems = [("series", _CURVE_LABELS[name], _STYLES[name]) for name in series]
    if window is not None:
        legendItems.append(("band", "Uptake window", None))
    if decayCorrected is not None:
        legendItems.append(("note", "decay-corrected to injection" if decayCorrected else "as counted (not decay-corrected)", None))
    legendParts, legendHeight = _legend(legendItems, 8.0, 4.0, width - 16.0)

    bandHeight = 16.0 if window is not None else 0.0
    plotTop = 4.0 + legendHeight + 4.0 + bandHeight + 4.0
    plotBottom = height - (4.0 + FONT_SIZE_PX + 6.0 + AXIS_TITLE_SIZE_PX + 8.0)
    targetY = max(2.0, (plotBottom - plotTop) / 36.0)
    if logarithmic:
        yLow, yHigh, yTickValues, yDecimals = logTicks(min(values), max(values), targetY)
    else:
        # 2 % headroom: a flat total-FOV curve would otherwise run along the plot's top edge.
        yLow, yHigh, yTickValues, yDecimals = linearTicks(0.0, max(values) * 1.02, targetY, includeZero=True)
    plotLeft = 8.0 + AXIS_TITLE_SIZE_PX + 6.0 + _tickLabelWidth(yTickValues, yDecimals) + 10.0
    plotRight = width - 16.0
    scaleY = _Scale(yLow, yHigh, plotBottom, plotTop, yTickValues, yDecimals, logarithmic)

    minutes = [None if time is None else time / SECONDS_PER_MINUTE for time in times]
    finiteMinutes = [value for value in minutes if value is not None]
    xLowData, xHighData = min(finiteMinutes + [0.0]), max(finiteMinutes)
    if window is not None:
        xLowData = min(xLowData, window[0] / SECONDS_PER_MINUTE)
        xHighData = max(xHighData, window[1] / SECONDS_PER_MINUTE)
    xLow, xHigh, xTickValues, xDecimals = linearTicks(xLowData, xHighData, max(2.0, (plotRight - plotLeft) / 60.0))
    scaleX = _Scale(xLow, xHigh, plotLeft, plotRight, xTickValues, xDecimals)

    parts = list(legendParts)
    if window is not None:
        start, end = (scaleX.pixel(value / SECONDS_PER_MINUTE) for value in window)
        parts.append(
            _tag(
                "rect",
                [
                    ("class", "uptake-window"), ("data-start-seconds", _dataNumber(window[0])), ("data-end-seconds", _dataNumber(window[1])),
                    ("x", start), ("y", plotTop), ("width", end - start), ("height", plotBottom - plotTop),
                    ("fill", "#999999"), ("fill-opacity", 0.22), ("stroke", "#999999"), ("stroke-width", 0.8),
                ],
            )
        )
        # Above the plot rather than inside it: the curves may pass anywhere in the window.
        label = f"uptake window {window[0]:g}-{window[1]:g} s"
        labelWidth = textWidth(label)
        centre = min(max((start + end) / 2.0, plotLeft + labelWidth / 2.0), width - 4.0 - labelWidth / 2.0)
        parts.append(_textElement(centre, plotTop - 6.0, label, "middle", cssClass="uptake-window-label"))
    yTitle = f"{unit}, log scale" if logarithmic else unit
    parts.extend(_yAxis(scaleY, plotLeft, plotRight, "counts", yTitle, 8.0 + AXIS_TITLE_SIZE_PX * 0.8))
    parts.extend(_xAxis(scaleX, plotTop, plotBottom, "x", "Minutes after injection", height - 8.0))

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
            parts.append(_polyline(name, [(scaleX.pixel(minute), scaleY.pixel(value)) for minute, _time, value in piece]))
        for piece in pieces:
            for minute, time, value in piece:
                parts.append(
                    _pointElement(
                        name, scaleX.pixel(minute), scaleY.pixel(value), minute, value, markerSize,
                        extra=[("data-y-axis", "counts"), ("data-seconds", _dataNumber(time))],
                    )
                )
        parts.append("</g>")

    title = "Mebrofenin time-activity curves: " + ", ".join(_CURVE_LABELS[name].lower() for name in series)
    title += f" ({unit}{', log scale' if logarithmic else ''}) against minutes after injection"
    if window is not None:
        title += f"; uptake window {window[0]:g}-{window[1]:g} s"
    return _svgDocument(width, height, title, parts, "alpps-chart alpps-time-activity-chart")
