"""Charts of the HTML report (reportCharts): the SVG is well-formed, every data point lands where
the drawn axes say its value is (the axis mapping is recovered from the tick labels and tick
positions, not taken from the module), the sFLR threshold sits at its value, points follow the
dates, the x axis says when it counts from the first scan, text is escaped, labels stay inside
the chart without overprinting, and bad input is refused with a message naming it."""

import math
import random
import xml.etree.ElementTree as ElementTree
from datetime import date, timedelta

import numpy as np
import pytest
from ALPPSAssessmentLib.functional import functionalSimulator, mebrofeninUptake
from ALPPSAssessmentLib.report import chartDrawing
from ALPPSAssessmentLib.report import reportCharts as charts

SVG = "{http://www.w3.org/2000/svg}"
# Coordinates are written with 2 decimals: a drawn position is within 0.005 px of the exact one.
PIXEL_TOLERANCE = 0.02
KISHI = "Kishi 2009 Ann Surg 250:540; Vauthey 2000 Surgery 127:512"


def timePoint(role, studyDate, days, remnantMl, sflr=None):
    return {
        "role": role,
        "studyDate": studyDate,
        "daysAfterStage1": days,
        "remnantMl": remnantMl,
        "sFLR": sflr,
        "flrBwr": None,
        "percentFLR": None,
        "totalLiverMl": 1600.0,
        "remnantFunction": {},
    }


def demoLikeDocument(shuffle=False, withStage1=True, withSflr=True, planLabel="Right trisectionectomy"):
    """The shape of hypertrophyToDict with the numbers of the demo patient."""
    points = [
        timePoint("pre-stage 1", "2026-03-02", -3, 240.75, 14.573065060481122),
        timePoint("interstage", "2026-03-12", 7, 366.744375, 22.19974927285768),
        timePoint("pre-stage 2", "2026-03-15", 10, 391.86, 23.7200468311532),
    ]
    points[2]["remnantFunction"] = {"flrFunctionPerBsa": 2.18}
    if shuffle:
        points = [points[2], points[0], points[1]]
    for point in points:
        if not withStage1:
            point["daysAfterStage1"] = None
        if not withSflr:
            point["sFLR"] = None
    return {
        "plan": {"key": "right_trisectionectomy", "label": planLabel},
        "stage1Date": "2026-03-05" if withStage1 else None,
        "timePoints": points,
        "intervals": [],
        "sinceFirst": [],
        "warnings": [],
    }


# --- Reading the drawing back ------------------------------------------------------------------


def parse(svg):
    root = ElementTree.fromstring(svg)  # raises on malformed XML
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    width, height = float(root.get("width")), float(root.get("height"))
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    assert width > 0 and height > 0
    assert root[0].tag == f"{SVG}title" and root[0].text
    return root


def classed(root, name):
    return [element for element in root.iter() if name in (element.get("class") or "").split()]


def axisMapping(root, name):
    """value -> pixel of the axis called name, fitted to its drawn ticks: each tick's label text is
    the value and its tick mark the position. Checks that the ticks are consistent and 1-2-5."""
    (axis,) = [element for element in classed(root, "axis") if element.get("data-axis") == name]
    logarithmic = axis.get("data-scale") == "log"
    values, positions = [], []
    for tick in classed(axis, "tick"):
        (mark,) = classed(tick, "tick-mark")
        (label,) = tick.findall(f"{SVG}text")
        value = float(label.text)
        if name == "x":
            assert float(mark.get("x1")) == float(mark.get("x2"))
            position = float(mark.get("x1"))
            assert float(label.get("x")) == pytest.approx(position, abs=PIXEL_TOLERANCE)
        else:
            assert float(mark.get("y1")) == float(mark.get("y2"))
            position = float(mark.get("y1"))
            assert float(label.get("y")) == pytest.approx(position + 0.35 * chartDrawing.FONT_SIZE_PX, abs=PIXEL_TOLERANCE)
        values.append(math.log10(value) if logarithmic else value)
        positions.append(position)
    assert len(values) >= 2, f"axis {name} needs two ticks to be read"
    steps = np.diff(values) if not logarithmic else np.diff([10.0**v for v in values])
    mantissas = {round(step / 10.0 ** math.floor(math.log10(step)), 6) for step in steps} if not logarithmic else set()
    assert mantissas <= {1.0, 2.0, 5.0}, f"axis {name} steps {steps} are not 1-2-5"
    if logarithmic:
        tickMantissas = {round(10.0**v / 10.0 ** math.floor(v + 1e-9), 6) for v in values}
        assert tickMantissas <= {1.0, 2.0, 5.0}
    slope, intercept = np.polyfit(values, positions, 1)
    residuals = np.asarray(positions) - (slope * np.asarray(values) + intercept)
    assert np.max(np.abs(residuals)) < PIXEL_TOLERANCE, f"axis {name} ticks are not evenly placed"

    def pixel(value):
        return slope * (math.log10(value) if logarithmic else value) + intercept

    return pixel, axis


def centre(marker):
    tag = marker.tag.replace(SVG, "")
    if tag == "circle":
        return float(marker.get("cx")), float(marker.get("cy"))
    if tag == "rect":
        return float(marker.get("x")) + float(marker.get("width")) / 2, float(marker.get("y")) + float(marker.get("height")) / 2
    if tag == "polygon":
        corners = [tuple(map(float, pair.split(","))) for pair in marker.get("points").split()]
        return sum(x for x, _ in corners) / len(corners), sum(y for _, y in corners) / len(corners)
    raise AssertionError(f"unexpected marker {tag}")


def assertPointsOnAxes(root):
    """Every point's centre is where the drawn axes put its data-x and data-y."""
    points = classed(root, "point")
    assert points
    xPixel, _ = axisMapping(root, "x")
    yPixels = {}
    for point in points:
        axisName = point.get("data-y-axis")
        if axisName not in yPixels:
            yPixels[axisName] = axisMapping(root, axisName)[0]
        x, y = centre(point)
        assert x == pytest.approx(xPixel(float(point.get("data-x"))), abs=PIXEL_TOLERANCE)
        assert y == pytest.approx(yPixels[axisName](float(point.get("data-y"))), abs=PIXEL_TOLERANCE)
    return points


def texts(root, cssClass=None):
    """Visible text elements (not the white halo copies), optionally of one class."""
    found = [element for element in root.iter(f"{SVG}text") if element.get("class") != "halo"]
    return [element for element in found if cssClass is None or element.get("class") == cssClass]


def visibleText(element):
    """The text of an element without its tooltip <title>."""
    return "".join(part for part in [element.text or ""] + [child.tail or "" for child in element])


def textBox(element):
    size = float(element.get("font-size", chartDrawing.FONT_SIZE_PX))
    label = visibleText(element)
    x, y = float(element.get("x")), float(element.get("y"))
    width = chartDrawing.textWidth(label, size)
    left = {"start": x, "middle": x - width / 2, "end": x - width}[element.get("text-anchor", "start")]
    return left, y - 0.76 * size, left + width, y + 0.24 * size


# --- Growth chart ------------------------------------------------------------------------------


def test_growthPointsLandOnTheirValues():
    document = demoLikeDocument()
    root = parse(charts.growthChartSvg(document, 20.0, KISHI))
    points = assertPointsOnAxes(root)
    bySeries = {}
    for point in points:
        bySeries.setdefault(point.get("data-series"), []).append(point)
    assert sorted(bySeries) == ["remnantMl", "sFLR"]
    for series in ("remnantMl", "sFLR"):
        drawn = {p.get("data-role"): (float(p.get("data-x")), float(p.get("data-y"))) for p in bySeries[series]}
        expected = {t["role"]: (float(t["daysAfterStage1"]), t[series]) for t in document["timePoints"]}
        assert drawn.keys() == expected.keys()
        for role, (day, value) in drawn.items():
            assert day == expected[role][0] and value == pytest.approx(expected[role][1], rel=1e-10)
    # Markers differ by shape between the series (greyscale print), and the units are on the axes.
    assert {p.tag for p in bySeries["remnantMl"]} == {f"{SVG}circle"}
    assert {p.tag for p in bySeries["sFLR"]} == {f"{SVG}rect"}
    axisTitles = [visibleText(t) for t in texts(root, "axis-title")]
    assert axisTitles == ["Days after stage 1", "FLR (mL)", "sFLR (%)"]
    # Each point has its value written beside it.
    values = sorted(visibleText(t) for t in texts(root, "value-label"))
    assert values == sorted(["241 mL", "367 mL", "392 mL", "14.6 %", "22.2 %", "23.7 %"])


def test_thresholdLineSitsAtTheThreshold():
    root = parse(charts.growthChartSvg(demoLikeDocument(), 20.0, KISHI))
    sflrPixel, _ = axisMapping(root, "sFLR")
    (line,) = classed(root, "threshold")
    assert line.get("data-y") == "20"
    assert float(line.get("y1")) == float(line.get("y2")) == pytest.approx(sflrPixel(20.0), abs=PIXEL_TOLERANCE)
    assert line.get("stroke-dasharray")
    xPixel, _ = axisMapping(root, "x")
    # The line spans the whole panel, past the first and last scan.
    assert float(line.get("x1")) < xPixel(-3) and float(line.get("x2")) > xPixel(10)
    (label,) = texts(root, "threshold-label")
    assert visibleText(label).startswith("sFLR cut-off 20 %")
    # The source is always readable in full: in the legend, or on the line.
    legend = [visibleText(t) for t in classed(root, "legend")[0].iter(f"{SVG}text")]
    assert f"sFLR cut-off 20 % (at or below: risk group); {KISHI}" in legend
    # And the line label lies on its line (just above or below it).
    assert abs(float(label.get("y")) - sflrPixel(20.0)) < 2 * chartDrawing.FONT_SIZE_PX


def test_thresholdAboveEveryValueWidensTheAxis():
    root = parse(charts.growthChartSvg(demoLikeDocument(), 30.0, "Kishi 2009"))
    sflrPixel, axis = axisMapping(root, "sFLR")
    top = max(float(t.get("data-value")) for t in classed(axis, "tick"))
    assert top >= 30.0
    (line,) = classed(root, "threshold")
    assert float(line.get("y1")) == pytest.approx(sflrPixel(30.0), abs=PIXEL_TOLERANCE)


def test_pointsFollowTheStudyDates():
    root = parse(charts.growthChartSvg(demoLikeDocument(shuffle=True), 20.0, KISHI))
    for series in ("remnantMl", "sFLR"):
        points = [p for p in classed(root, "point") if p.get("data-series") == series]
        dates = [p.get("data-date") for p in points]
        assert dates == ["2026-03-02", "2026-03-12", "2026-03-15"]
        xs = [centre(p)[0] for p in points]
        assert xs == sorted(xs) and len(set(xs)) == 3
        # The line joins the markers in date order.
        (line,) = [e for e in classed(root, "series-line") if e.get("data-series") == series]
        vertices = [tuple(map(float, pair.split(","))) for pair in line.get("points").split()]
        for vertex, point in zip(vertices, points):
            assert vertex == pytest.approx(centre(point), abs=PIXEL_TOLERANCE)
    roles = [visibleText(t) for t in texts(root, "role-label")]
    assert roles == ["pre-stage 1", "interstage", "pre-stage 2"]


def test_xAxisCountsFromTheFirstScanWithoutStage1Date():
    document = demoLikeDocument(shuffle=True, withStage1=False)
    root = parse(charts.growthChartSvg(document, 20.0, KISHI))
    title = [visibleText(t) for t in texts(root, "axis-title")][0]
    assert title.startswith("Days since first scan") and "stage 1" in title
    assertPointsOnAxes(root)
    remnant = [p for p in classed(root, "point") if p.get("data-series") == "remnantMl"]
    assert [float(p.get("data-x")) for p in remnant] == [0.0, 10.0, 13.0]
    # One missing day is enough: mixing origins on one axis would misplace the points.
    document = demoLikeDocument()
    document["timePoints"][1]["daysAfterStage1"] = None
    root = parse(charts.growthChartSvg(document))
    assert [visibleText(t) for t in texts(root, "axis-title")][0].startswith("Days since first scan")
    root = parse(charts.growthChartSvg(demoLikeDocument()))
    assert [visibleText(t) for t in texts(root, "axis-title")][0] == "Days after stage 1"


def test_growthWithoutSflrHasOnePanelAndSaysWhy():
    root = parse(charts.growthChartSvg(demoLikeDocument(withSflr=False), 20.0, KISHI))
    points = assertPointsOnAxes(root)
    assert {p.get("data-series") for p in points} == {"remnantMl"}
    assert classed(root, "threshold") == []
    assert [a.get("data-axis") for a in classed(root, "axis")] == ["x", "remnantMl"]
    assert any("sFLR not available" in visibleText(t) for t in texts(root))


def test_aMissingVolumeLeavesThatPointOut():
    document = demoLikeDocument()
    document["timePoints"][1]["remnantMl"] = None
    root = parse(charts.growthChartSvg(document, 20.0))
    assertPointsOnAxes(root)
    remnant = [p.get("data-role") for p in classed(root, "point") if p.get("data-series") == "remnantMl"]
    assert remnant == ["pre-stage 1", "pre-stage 2"]
    # Its role and sFLR are still shown.
    assert [visibleText(t) for t in texts(root, "role-label")] == ["pre-stage 1", "interstage", "pre-stage 2"]


def test_singleTimePointIsDrawn():
    document = demoLikeDocument()
    document["timePoints"] = document["timePoints"][2:]
    root = parse(charts.growthChartSvg(document, 20.0, KISHI))
    assert len(assertPointsOnAxes(root)) == 2


def test_textIsEscaped():
    hostile = "a<&>b \"q\""
    document = demoLikeDocument(planLabel=hostile)
    document["timePoints"][1]["role"] = "inter<&>stage"
    svg = charts.growthChartSvg(document, 20.0, hostile)
    assert "&lt;&amp;&gt;" in svg
    assert "<&>" not in svg
    root = parse(svg)
    assert hostile in root[0].text
    assert "inter<&>stage" in [visibleText(t) for t in texts(root, "role-label")]
    assert "inter<&>stage" in [p.get("data-role") for p in classed(root, "point")]
    assert any(hostile in visibleText(t) for t in texts(root))


@pytest.mark.parametrize("size", [(640, 300), (480, 240), (800, 420)])
@pytest.mark.parametrize("threshold", [20.0, 30.0])
def test_labelsStayInsideTheChartWithoutOverlapping(size, threshold):
    document = demoLikeDocument()
    # Crowded: two more scans close together.
    document["timePoints"] += [
        timePoint("interstage 2", "2026-03-13", 8, 380.0, 23.0),
        timePoint("after stage 2", "2026-03-20", 15, 520.0, 31.5),
    ]
    root = parse(charts.growthChartSvg(document, threshold, KISHI, *size))
    width, height = size
    labels = [t for t in texts(root) if t.get("transform") is None]
    for element in labels:
        left, top, right, bottom = textBox(element)
        assert left >= 0 and right <= width and top >= 0 and bottom <= height, visibleText(element)
    placed = [textBox(t) for t in labels if t.get("class") in ("value-label", "threshold-label", "role-label")]
    for index, first in enumerate(placed):
        for second in placed[index + 1:]:
            overlap = first[0] < second[2] and second[0] < first[2] and first[1] < second[3] and second[1] < first[3]
            assert not overlap


def test_crowdedCoursesNeverOverprint():
    """Random but fixed courses of 2-6 scans at three chart sizes: no label leaves the chart or
    overprints another; a value that finds no clear place is left out, never more than a few."""
    written = possible = 0
    for seed in range(60):
        generator = random.Random(seed)
        days = sorted(generator.sample(range(-5, 25), generator.randint(2, 6)))
        firstMl = generator.uniform(200.0, 500.0)
        standardLiverMl = firstMl / generator.uniform(0.12, 0.2)
        roles = ["pre-stage 1", "interstage", "interstage 2", "interstage 3", "pre-stage 2", "after stage 2"]
        points = []
        for role, day in zip(roles, days):
            volume = firstMl * (1.0 + 0.06 * max(day, 0) * generator.uniform(0.5, 1.5))
            studyDate = (date(2026, 3, 10) + timedelta(days=day)).isoformat()
            points.append(timePoint(role, studyDate, day, volume, 100.0 * volume / standardLiverMl))
        width, height = generator.choice([(640, 300), (480, 240), (800, 400)])
        root = parse(charts.growthChartSvg({"timePoints": points}, generator.choice([20, 25, 30, 40]), KISHI, width, height))
        assertPointsOnAxes(root)
        labels = [t for t in texts(root) if t.get("transform") is None]
        for element in labels:
            left, top, right, bottom = textBox(element)
            assert left >= 0 and right <= width and top >= 0 and bottom <= height, (seed, visibleText(element))
        placed = [textBox(t) for t in labels if t.get("class") in ("value-label", "threshold-label", "role-label")]
        for index, first in enumerate(placed):
            for second in placed[index + 1:]:
                assert not (first[0] < second[2] and second[0] < first[2] and first[1] < second[3] and second[1] < first[3]), seed
        assert len(texts(root, "threshold-label")) == 1
        written += len(texts(root, "value-label"))
        possible += 2 * len(points)
        # Every value is at least in its point's tooltip.
        for point in classed(root, "point"):
            assert point.find(f"{SVG}title").text.startswith(point.get("data-role"))
    assert written >= 0.95 * possible


@pytest.mark.parametrize(
    "document, message",
    [
        (None, "hypertrophyDocument is NoneType"),
        ({}, "no time points"),
        ({"timePoints": []}, "no time points"),
        ([timePoint("interstage", "2026-03-12", 7, 300.0)], "hypertrophyDocument is list"),
        ({"timePoints": [timePoint("interstage", "2026-03-12", 7, None)]}, "no time point has a remnant volume"),
        ({"timePoints": [timePoint("interstage", "12.03.2026", 7, 300.0)]}, "expected an ISO date"),
        ({"timePoints": [timePoint("interstage", "2026-03-12", 7, -3.0)]}, "remnantMl -3"),
        ({"timePoints": ["interstage"]}, "time point 0 is str"),
    ],
)
def test_growthChartRefusesBadInput(document, message):
    with pytest.raises(ValueError, match=message) as error:
        charts.growthChartSvg(document)
    assert "expected" in str(error.value)


@pytest.mark.parametrize("threshold", [0.0, 150.0, "20", float("nan")])
def test_growthChartRefusesABadThreshold(threshold):
    with pytest.raises(ValueError, match="sFLR threshold .*expected a percentage"):
        charts.growthChartSvg(demoLikeDocument(), threshold)


def test_tooSmallAChartIsRefused():
    with pytest.raises(ValueError, match="widthPx 100 .*expected at least"):
        charts.growthChartSvg(demoLikeDocument(), widthPx=100)


# --- Time-activity curves ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def simulatedStudy():
    study = functionalSimulator.simulateDynamicStudy(0.12, seed=11)
    return study.curves, mebrofeninUptake.mebrofeninUptakeRate(study.curves)


def test_timeActivityPointsLandOnTheirValues(simulatedStudy):
    curves, uptake = simulatedStudy
    root = parse(charts.timeActivityChartSvg(curves, uptake))
    points = assertPointsOnAxes(root)
    # A total field of view ten times the blood pool: log scale, so that the blood curve is readable.
    assert axisMapping(root, "counts")[1].get("data-scale") == "log"
    assert len(points) == 3 * curves.frameCount
    for series, values in (("liver", curves.liver), ("bloodPool", curves.bloodPool), ("totalFieldOfView", curves.totalFieldOfView)):
        drawn = [p for p in points if p.get("data-series") == series]
        assert [float(p.get("data-seconds")) for p in drawn] == pytest.approx(list(curves.midTimesSeconds))
        assert [float(p.get("data-x")) for p in drawn] == pytest.approx(list(curves.midTimesSeconds / 60.0))
        assert [float(p.get("data-y")) for p in drawn] == pytest.approx(list(values))
    assert {p.tag for p in points} == {f"{SVG}circle", f"{SVG}rect", f"{SVG}polygon"}
    axisTitles = [visibleText(t) for t in texts(root, "axis-title")]
    assert axisTitles == ["counts/s, log scale", "Minutes after injection"]


def test_uptakeWindowIsShadedWhereItIs(simulatedStudy):
    curves, uptake = simulatedStudy
    for window in (uptake, uptake.asDict(), (150, 350), [150.0, 350.0]):
        root = parse(charts.timeActivityChartSvg(curves, window))
        xPixel, _ = axisMapping(root, "x")
        (band,) = classed(root, "uptake-window")
        start, width = float(band.get("x")), float(band.get("width"))
        assert start == pytest.approx(xPixel(150.0 / 60.0), abs=PIXEL_TOLERANCE)
        assert start + width == pytest.approx(xPixel(350.0 / 60.0), abs=2 * PIXEL_TOLERANCE)
        (label,) = texts(root, "uptake-window-label")
        assert visibleText(label) == "uptake window 150-350 s"
    root = parse(charts.timeActivityChartSvg(curves))
    assert classed(root, "uptake-window") == []


def test_timeActivityDictFormsDrawTheSame(simulatedStudy):
    curves, _uptake = simulatedStudy
    short = {
        "timeSeconds": curves.midTimesSeconds.tolist(),
        "liver": curves.liver.tolist(),
        "blood": curves.bloodPool.tolist(),
        "total": curves.totalFieldOfView.tolist(),
        "decayCorrected": curves.decayCorrected,
    }
    drawings = [charts.timeActivityChartSvg(form, (150, 350)) for form in (curves, curves.asDict(), short)]
    assert drawings[0] == drawings[1] == drawings[2]


def test_linearScaleAndGaps():
    times = [5.0 + 10.0 * i for i in range(12)]
    liver = [1000.0 + 50.0 * i for i in range(12)]
    blood = [900.0 - 20.0 * i for i in range(12)]
    blood[4] = float("nan")
    liver[7] = None
    root = parse(charts.timeActivityChartSvg({"timeSeconds": times, "liver": liver, "blood": blood}, (60, 100)))
    assert axisMapping(root, "counts")[1].get("data-scale") == "linear"
    points = assertPointsOnAxes(root)
    assert len(points) == 22
    # Each missing value breaks its line in two rather than bridging the frame.
    lines = classed(root, "series-line")
    assert sorted(line.get("data-series") for line in lines) == ["bloodPool", "bloodPool", "liver", "liver"]
    # Zero counts are drawn on a linear axis (a log axis cannot show them).
    liver[0] = 0.0
    root = parse(charts.timeActivityChartSvg({"timeSeconds": times, "liver": liver, "total": [20000.0] * 12}))
    assert axisMapping(root, "counts")[1].get("data-scale") == "linear"
    assertPointsOnAxes(root)
    with pytest.raises(ValueError, match="log scale needs count rates > 0"):
        charts.timeActivityChartSvg({"timeSeconds": times, "liver": liver}, yScale="log")
    root = parse(charts.timeActivityChartSvg({"timeSeconds": times, "liver": blood}, yScale="log"))
    assert axisMapping(root, "counts")[1].get("data-scale") == "log"
    assertPointsOnAxes(root)


@pytest.mark.parametrize(
    "curves, message",
    [
        (None, "curves are missing"),
        ("liver", "curves are str"),
        ({}, "no times"),
        ({"timeSeconds": [], "liver": []}, "timeSeconds is empty"),
        ({"timeSeconds": [5, 15, 25]}, "no curve given"),
        ({"timeSeconds": [5, 15, 25], "liver": [float("nan")] * 3}, "liver has no finite value"),
        ({"timeSeconds": [5, 15, 25], "liver": [1, 2, 3], "blood": [None, None, None]}, "blood has no finite value"),
        ({"timeSeconds": [5, 15, 25], "liver": [1, 2]}, "liver has 2 values for 3 times"),
        ({"timeSeconds": [5, 15, 25], "liver": [1, -2, 3]}, "negative count rate"),
        ({"timeSeconds": [5, 15, 25], "midTimesSeconds": [5, 15, 25], "liver": [1, 2, 3]}, "both 'midTimesSeconds' and 'timeSeconds'"),
        ({"timeSeconds": [5, 15, 25], "liver": "123"}, "liver is str"),
    ],
)
def test_timeActivityChartRefusesBadCurves(curves, message):
    with pytest.raises(ValueError, match=message) as error:
        charts.timeActivityChartSvg(curves)
    assert "expected" in str(error.value)


@pytest.mark.parametrize("window", [(350, 150), (150,), "150-350", (150, float("nan")), {"windowSeconds": None}])
def test_timeActivityChartRefusesABadWindow(window):
    with pytest.raises(ValueError, match="uptake window .*expected \\(start, end\\)"):
        charts.timeActivityChartSvg({"timeSeconds": [5, 15, 25], "liver": [1, 2, 3]}, window)


# --- Ticks -------------------------------------------------------------------------------------


@pytest.mark.parametrize("low, high", [(-3, 10), (0, 391.86), (0, 23.7), (0.1, 0.37), (0, 20013), (1200, 1260), (7, 7)])
def test_linearTicksAreNiceAndCoverTheData(low, high):
    domainLow, domainHigh, ticks, decimals = chartDrawing.linearTicks(low, high, 5)
    assert domainLow <= low and domainHigh >= high
    assert ticks[0] == domainLow and ticks[-1] == domainHigh and 3 <= len(ticks) <= 11
    steps = {round(b - a, decimals + 2) for a, b in zip(ticks, ticks[1:])}
    assert len(steps) == 1
    (step,) = steps
    assert round(step / 10.0 ** math.floor(math.log10(step)), 6) in (1.0, 2.0, 5.0)


def test_daysAreNeverSplitIntoFractions():
    _low, _high, ticks, decimals = chartDrawing.linearTicks(7, 8, 8, minimumStep=1.0)
    assert decimals == 0 and all(float(t).is_integer() for t in ticks)


def test_logTicksAreOneTwoFive():
    domainLow, domainHigh, ticks, _decimals = chartDrawing.logTicks(760.0, 20013.0, 6)
    assert ticks == [1000.0, 2000.0, 5000.0, 10000.0, 20000.0]
    assert domainLow < 760.0 and domainHigh > 20013.0
    _low, _high, ticks, _decimals = chartDrawing.logTicks(0.5, 5.0e6, 6)
    assert all(round(math.log10(t), 9).is_integer() for t in ticks)


def test_moduleUsesOnlyTheStandardLibrary():
    # The report is written wherever the logic runs; the charts must not pull in plotting packages.
    for module in (charts, chartDrawing):
        with open(module.__file__) as stream:
            source = stream.read()
        imports = {line.split()[1].split(".")[0] or line.split()[1] for line in source.splitlines() if line.startswith(("import ", "from "))}
        # The only import from the package is the drawing module, itself checked here.
        assert imports <= {"math", "collections", "datetime", "xml", ".chartDrawing"}, module.__name__


def test_stage1IsMarkedWhereTheGrowthClockStarts():
    root = parse(charts.growthChartSvg(demoLikeDocument(), 20.0, KISHI))
    xPixel, _ = axisMapping(root, "x")
    (line,) = classed(root, "stage1-line")
    assert float(line.get("x1")) == float(line.get("x2")) == pytest.approx(xPixel(0.0), abs=PIXEL_TOLERANCE)
    (label,) = texts(root, "stage1-label")
    assert visibleText(label) == "stage 1"
