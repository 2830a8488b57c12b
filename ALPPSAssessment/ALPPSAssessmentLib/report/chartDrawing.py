"""Drawing the report's charts as inline SVG: the palette and series styles, text and its width,
nice tick values on linear and log scales, axes, markers, legends, labels placed clear of each
other, and the SVG document around them (the charts themselves are in ``reportCharts``).

Every plotted data point is an element of class "point" with data-series, data-x and data-y (in
the units of the axes) so that tests and tools can map the drawing back to the data; every axis
is a ``<g class="axis" data-axis=... data-scale=...>`` whose ticks carry their value as the label
text at the tick mark's position. Only the standard library is used, so the module imports
wherever the report is written (Slicer, the ``alpps`` command, a bare Python).
"""

import math
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
STYLES = {
    SERIES_REMNANT: (BLUE, None, "circle", True),
    SERIES_SFLR: (VERMILLION, "6 3", "square", True),
    SERIES_LIVER: (BLUE, None, "circle", True),
    SERIES_BLOOD: (VERMILLION, "6 3", "square", True),
    # Hollow diamonds: a third grey level would not be told apart from the other two in print.
    SERIES_TOTAL: (BLUISH_GREEN, "2 2", "diamond", False),
}
THRESHOLD_DASH = "9 3 2 3"  # dash-dot: unlike both data series' dashes


# --- Numbers and text ----------------------------------------------------------------------------


def finiteOrNone(value):
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


def dataNumber(value):
    # Machine-readable values keep 12 significant digits: exact enough to check, short to read.
    return f"{value:.12g}"


def _attribute(value):
    return escape(str(value), {'"': "&quot;"})


def tag(name, attributes, text=None):
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


def textElement(x, y, label, anchor="start", size=FONT_SIZE_PX, cssClass=None, fill=INK, extra=(), tooltip=None):
    content = escape(label)
    if tooltip is not None:
        # A <title> child shows the full text on hover when the visible one had to be shortened.
        content = f"<title>{escape(tooltip)}</title>{content}"
    attributes = [("class", cssClass), ("x", float(x)), ("y", float(y)), ("text-anchor", anchor)]
    if size != FONT_SIZE_PX:
        attributes.append(("font-size", size))
    if fill != INK:
        attributes.append(("fill", fill))
    return tag("text", attributes + list(extra), content)


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


class Scale:
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


def tickLabelWidth(ticks, decimals):
    scale = Scale(0.0, 1.0, 0.0, 1.0, ticks, decimals)
    return max(textWidth(scale.label(value)) for value in ticks)


# --- Drawing helpers -----------------------------------------------------------------------------


def xAxis(scale, top, bottom, name, title, titleY):
    """Vertical grid lines over top-bottom, and the tick marks, labels and title under bottom."""
    grid = [
        tag("line", [("x1", scale.pixel(v)), ("y1", float(top)), ("x2", scale.pixel(v)), ("y2", float(bottom))])
        for v in scale.ticks
    ]
    parts = [f'<g class="grid" stroke="{GRID}" stroke-width="1">' + "".join(grid) + "</g>"]
    parts.append(f'<g class="axis" data-axis="{name}" data-scale="{scale.kind}">')
    parts.append(tag("line", [("x1", scale.pixelLow), ("y1", float(bottom)), ("x2", scale.pixelHigh), ("y2", float(bottom)), ("stroke", MUTED)]))
    for value in scale.ticks:
        x = scale.pixel(value)
        parts.append(
            f'<g class="tick" data-value="{dataNumber(value)}">'
            + tag("line", [("class", "tick-mark"), ("x1", x), ("y1", float(bottom)), ("x2", x), ("y2", bottom + 4.0), ("stroke", MUTED)])
            + textElement(x, bottom + 4.0 + FONT_SIZE_PX, scale.label(value), "middle")
            + "</g>"
        )
    centre = (scale.pixelLow + scale.pixelHigh) / 2.0
    parts.append(textElement(centre, titleY, title, "middle", AXIS_TITLE_SIZE_PX, "axis-title"))
    parts.append("</g>")
    return parts


def yAxis(scale, left, right, name, title, titleX, colour=INK):
    """Horizontal grid lines over left-right, tick marks and labels left of left, and a rotated title."""
    grid = [tag("line", [("x1", float(left)), ("y1", scale.pixel(v)), ("x2", float(right)), ("y2", scale.pixel(v))]) for v in scale.ticks]
    parts = [f'<g class="grid" stroke="{GRID}" stroke-width="1">' + "".join(grid) + "</g>"]
    parts.append(f'<g class="axis" data-axis="{_attribute(name)}" data-scale="{scale.kind}">')
    parts.append(tag("line", [("x1", float(left)), ("y1", scale.pixelLow), ("x2", float(left)), ("y2", scale.pixelHigh), ("stroke", MUTED)]))
    for value in scale.ticks:
        y = scale.pixel(value)
        parts.append(
            f'<g class="tick" data-value="{dataNumber(value)}">'
            + tag("line", [("class", "tick-mark"), ("x1", left - 4.0), ("y1", y), ("x2", float(left)), ("y2", y), ("stroke", MUTED)])
            # 0.35 em below the tick centres the digits on it without relying on dominant-baseline,
            # which some HTML-to-PDF renderers ignore.
            + textElement(left - 6.0, y + 0.35 * FONT_SIZE_PX, scale.label(value), "end")
            + "</g>"
        )
    middle = (scale.pixelLow + scale.pixelHigh) / 2.0
    parts.append(
        textElement(
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


def pointElement(series, x, y, dataX, dataY, size=1.0, extra=(), tooltip=None):
    colour, _dash, shape, filled = STYLES[series]
    name, geometry = _markerShape(shape, x, y, colour, filled, size)
    attributes = [("class", "point"), ("data-series", series), ("data-x", dataNumber(dataX)), ("data-y", dataNumber(dataY))]
    attributes += list(extra) + geometry + [("stroke-width", 1.2)]
    if tooltip is None:
        return tag(name, attributes)
    return tag(name, attributes, f"<title>{escape(tooltip)}</title>")


def polyline(series, pixels):
    colour, dash, _shape, _filled = STYLES[series]
    points = " ".join(f"{_coordinate(x)},{_coordinate(y)}" for x, y in pixels)
    attributes = [("class", "series-line"), ("data-series", series), ("points", points), ("fill", "none"), ("stroke", colour), ("stroke-width", 1.8)]
    if dash:
        attributes.append(("stroke-dasharray", dash))
    return tag("polyline", attributes)


def _legendSample(kind, style, x, y):
    """A 24 px sample of a legend entry at (x, y = the text's vertical centre)."""
    if kind == "band":
        return tag("rect", [("x", float(x)), ("y", y - 5.0), ("width", 24.0), ("height", 10.0), ("fill", "#999999"), ("fill-opacity", 0.25), ("stroke", "#999999")])
    colour, dash = style[0], style[1]
    line = [("x1", float(x)), ("y1", float(y)), ("x2", x + 24.0), ("y2", float(y)), ("stroke", colour), ("stroke-width", 1.8)]
    if dash:
        line.append(("stroke-dasharray", dash))
    parts = [tag("line", line)]
    if kind == "series":
        name, geometry = _markerShape(style[2], x + 12.0, float(y), colour, style[3])
        parts.append(tag(name, geometry + [("stroke-width", 1.2)]))
    return "".join(parts)


def legend(items, left, top, maxWidth):
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
            textElement(
                x + sample, centre + 0.35 * FONT_SIZE_PX, shown, fill=MUTED if kind == "note" else INK,
                tooltip=label if shown != label else None,
            )
        )
        x += width
    parts.append("</g>")
    return parts, (row + 1) * rowHeight


class LabelPlacer:
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


def haloText(x, y, label, anchor, cssClass, fill=INK, tooltip=None):
    """A label over a white outline copy, legible across grid and guide lines in print. A copy
    rather than paint-order, which older HTML-to-PDF renderers ignore (they would draw the white
    outline over the letters)."""
    halo = textElement(
        x, y, label, anchor, cssClass="halo", fill="#FFFFFF",
        extra=[("stroke", "#FFFFFF"), ("stroke-width", 3), ("stroke-linejoin", "round"), ("aria-hidden", "true")],
    )
    return halo + textElement(x, y, label, anchor, cssClass=cssClass, fill=fill, tooltip=tooltip)


def thresholdLine(placer, threshold, thresholdText, y, plotLeft, plotRight):
    """The dash-dot sFLR threshold line and its label: the full text with its source where it fits
    clear of the data, otherwise a short one (the legend always carries the source)."""
    parts = [
        tag(
            "line",
            [
                ("class", "threshold"), ("data-axis", SERIES_SFLR), ("data-y", dataNumber(threshold)),
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
    parts.append(haloText(x, baseline, text, anchor, "threshold-label", tooltip=thresholdText if text != thresholdText else None))
    return parts


def pointLabelCandidates(x, y):
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


def checkedSize(widthPx, heightPx):
    sizes = []
    for value, name, minimum in ((widthPx, "widthPx", MIN_WIDTH_PX), (heightPx, "heightPx", MIN_HEIGHT_PX)):
        number = finiteOrNone(value)
        if number is None or number < minimum:
            raise ValueError(f"Chart {name} {value!r} is too small or not a number: expected at least {minimum} px")
        sizes.append(number)
    return sizes


def svgDocument(width, height, title, parts, cssClass):
    opening = tag(
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
