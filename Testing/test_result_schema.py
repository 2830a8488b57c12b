"""One result schema: every output of a plan and of a Couinaud segment (panel table, `alpps`
print, JSON, report CSV and HTML) shows the fields of resultFields with the same label, unit and
shown value. The checks walk the field lists, so a field added there cannot be left out of an
output."""

import csv
import html.parser
import re

import pytest
from ALPPSAssessmentLib.report import reportExport, reportHtml
from ALPPSVolumetryLib.criteria import bodySize
from ALPPSVolumetryLib.planning import futureLiverRemnant
from ALPPSVolumetryLib.results import resultsTable
from ALPPSVolumetryLib.criteria.clinicalCriteria import formatShown
from ALPPSVolumetryLib.results.resultFields import PLAN_FIELDS, SEGMENT_FIELDS

from alpps.printing import formatVolumetry

PLAN_KEY = "right_trisectionectomy"


def _volumetryResult():
    """One plan with tumour in its remnant (so every field has a value) and two segments; numbers
    chosen so that rounding halves and several digits are exercised."""
    settings = futureLiverRemnant.VolumetrySettings(heightCm=172.0, weightKg=81.5)
    body = bodySize.standardLiverVolume(settings.heightCm, settings.weightKg)
    plan = futureLiverRemnant.remnantMetrics(
        PLAN_KEY, "Right trisectionectomy", ("I", "II", "III"), ("IV", "V", "VI", "VII", "VIII"),
        412.345, 3.005, (1650.25, 40.125, True), body, settings, 27.655,
    )
    segments = [
        futureLiverRemnant.SegmentResult("II", 180.25, 1.005, 179.245, 10.925, ["Segment II"]),
        futureLiverRemnant.SegmentResult("III", 129.875, 0.0, 129.875, 7.87, ["Segment III"]),
    ]
    return futureLiverRemnant.VolumetryResult(
        segmentationName="schema case", segments=segments, totalLiverMl=1650.25, totalTumourMl=40.125, tumourVolumesMl={},
        body=body, settings=settings, plans=[plan], warnings=[], segmentRoles=[],
    )


def _expected(fields, record):
    """(title with unit, shown value) of every field: what each output must show."""
    return {field.titleWithUnit(): field.shownText(field.valueOf(record)) for field in fields}


def _tableShown(tableNode, fields, row):
    """What the panel table holds for the fields: title with the column's unit, and the stored
    number shown with the field's digits (an interval from its low and high columns)."""
    table = tableNode.GetTable()
    shown = {}
    for field in fields:
        names = [f"{field.title} low", f"{field.title} high"] if field.isInterval else [field.title]
        assert all(tableNode.GetColumnUnitLabel(name) == field.unit for name in names), field.title
        values = [table.GetColumnByName(name).GetValue(row) for name in names]
        text = "-".join(formatShown(value, field.decimals) for value in values)
        shown[field.titleWithUnit()] = text
    return shown


def _printedTable(text, firstHeading, rowName):
    """{heading: cell} of one row of a table `alpps` prints (columns two or more spaces apart)."""
    lines = text.splitlines()
    header = next(index for index, line in enumerate(lines) if line.strip().startswith(firstHeading + " "))
    headings = re.split(r"\s{2,}", lines[header].strip())
    row = next(line for line in lines[header + 1:] if line.strip().split()[0] == rowName)
    return dict(zip(headings, re.split(r"\s{2,}", row.strip())))


def _csvShown(path, fields, keyColumn, key):
    with open(path, encoding="utf-8") as stream:
        row = next(item for item in csv.DictReader(stream) if item[keyColumn] == key)
    shown = {}
    for field in fields:
        title = field.titleWithUnit()
        cells = [row[f"{title} low"], row[f"{title} high"]] if field.isInterval else [row[title]]
        shown[title] = "-".join(formatShown(float(cell), field.decimals) for cell in cells)
    return shown


class _TableRows(html.parser.HTMLParser):
    """The text of every table row's cells."""

    def __init__(self):
        super().__init__()
        self.rows, self._cell = [], None

    def handle_starttag(self, tag, attributes):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(self._cell.replace("\u2013", "-").replace("\u00a0", " "))
            self._cell = None


def _htmlRows(text):
    parser = _TableRows()
    parser.feed(text)
    return parser.rows


def _reportDocument(result):
    """The parts of a report document the plan and segment tables and the CSV export read."""
    return {
        "timePoints": [{"role": "pre-stage 2", "studyDate": "2026-03-15", "daysAfterStage1": 10,
                        "volumetry": futureLiverRemnant.volumetryToDict(result)}],
        "hypertrophy": {"sinceStage1": [], "intervals": []},
        "readiness": [],
    }


def _htmlOf(document, section):
    page = reportHtml._Page(document)
    section(page)
    return "\n".join(page.parts)


def test_everyOutputOfAPlanShowsTheSameFields(slicerContext, tmp_path):
    result = _volumetryResult()
    plan = result.plans[0]
    expected = _expected(PLAN_FIELDS, plan)
    assert "-" not in expected.values() and expected["sFLR (%)"] == formatShown(plan.sFLR, 2)

    tableNode = slicerContext.scene.AddNewNodeByClass("vtkMRMLTableNode")
    resultsTable.writePlanTable(tableNode, result)
    assert _tableShown(tableNode, PLAN_FIELDS, 0) == expected

    printed = _printedTable(formatVolumetry(result), "plan", PLAN_KEY)
    assert {title: printed[title] for title in expected} == expected

    document = _reportDocument(result)
    numbers = document["timePoints"][0]["volumetry"]["plans"][PLAN_KEY]
    assert {field.titleWithUnit(): field.shownText(field.valueOf(numbers)) for field in PLAN_FIELDS} == expected

    paths = reportExport.writeCsvFiles(str(tmp_path), document)
    assert _csvShown(paths["plans"], PLAN_FIELDS, "plan", PLAN_KEY) == expected

    rows = {row[0]: row[1] for row in _htmlRows(_htmlOf(document, reportHtml._planTable)) if len(row) == 2}
    assert {reportHtml.displayUnit(title): rows[reportHtml.displayUnit(title)] for title in expected} == {
        reportHtml.displayUnit(title): shown for title, shown in expected.items()}


def test_everyOutputOfASegmentShowsTheSameFields(slicerContext, tmp_path):
    result = _volumetryResult()
    segment = result.segments[0]
    expected = _expected(SEGMENT_FIELDS, segment)

    tableNode = slicerContext.scene.AddNewNodeByClass("vtkMRMLTableNode")
    resultsTable.writeCouinaudTable(tableNode, result)
    assert _tableShown(tableNode, SEGMENT_FIELDS, 0) == expected

    printed = _printedTable(formatVolumetry(result), "segment", segment.segment)
    assert {title: printed[title] for title in expected} == expected

    document = _reportDocument(result)
    paths = reportExport.writeCsvFiles(str(tmp_path), document)
    assert _csvShown(paths["segments"], SEGMENT_FIELDS, "Couinaud segment", segment.segment) == expected

    rows = _htmlRows(_htmlOf(document, reportHtml._segmentTable))
    header, row = rows[0], next(row for row in rows if row[0] == segment.segment)
    # The volume at each scan under the scan's heading, the other fields at the latest scan.
    volume, others = SEGMENT_FIELDS[0], SEGMENT_FIELDS[1:]
    assert row[1] == expected[volume.titleWithUnit()]
    assert [cell.replace(", latest", "") for cell in header[2:]] == [reportHtml.displayUnit(field.titleWithUnit()) for field in others]
    assert row[2:] == [expected[field.titleWithUnit()] for field in others]


@pytest.mark.parametrize("fields", [PLAN_FIELDS, SEGMENT_FIELDS], ids=["plan", "segment"])
def test_fieldsHaveTheirDefinitionsInTheJsonDocument(fields):
    document = futureLiverRemnant.volumetryToDict(_volumetryResult())
    for field in fields:
        definition = document["definitions"][field.definition.key]
        assert (definition["label"], definition["unit"]) == (field.definition.label, field.unit)


def test_sFLRIsShownWithTheDigitsTheCutoffCompares():
    from ALPPSVolumetryLib.criteria import adequacy

    sflr = next(field for field in PLAN_FIELDS if field.key == "sFLR")
    bwr = next(field for field in PLAN_FIELDS if field.key == "flrBwr")
    sflrCutoff, bwrCutoff = adequacy.defaultThresholds("normal").cutoffs()
    assert (sflr.decimals, bwr.decimals) == (sflrCutoff.decimals, bwrCutoff.decimals)



def _course():
    """Two scans of one plan, before and after stage 1, and the growth between them."""
    import datetime

    from ALPPSAssessmentLib.course import hypertrophy, timePointCourse

    settings = futureLiverRemnant.VolumetrySettings(heightCm=172.0, weightKg=81.5)
    body = bodySize.standardLiverVolume(settings.heightCm, settings.weightKg)
    stage1 = datetime.date(2026, 3, 5)
    points = []
    for role, day, remnant, total in (("pre-stage 1", -3, 300.125, 1550.5), ("interstage", 7, 452.875, 1702.25)):
        plan = futureLiverRemnant.remnantMetrics(PLAN_KEY, "Right trisectionectomy", ("I", "II", "III"), ("IV",), remnant, 1.005,
                                                 (total, 20.5, True), body, settings, 25.125)
        points.append(timePointCourse.MeasuredTimePoint(role, stage1 + datetime.timedelta(days=day), day, f"{role} segmentation",
                                                        total, plan))
    since = [hypertrophy.growthInterval(points[0], points[1], stage1, hypertrophy.SINCE_STAGE_1)]
    return timePointCourse.HypertrophyResult(PLAN_KEY, "Right trisectionectomy", settings, stage1, points, [], since, [])


def test_everyOutputOfTheCourseShowsTheSameFields(slicerContext, tmp_path):
    from ALPPSAssessmentLib.course import timePointCourse
    from alpps.printing import formatHypertrophy

    result = _course()
    growth = timePointCourse.hypertrophyToDict(result)
    point, interval = growth["timePoints"][1], growth["sinceStage1"][0]
    expectedPoint = _expected(timePointCourse.TIME_POINT_FIELDS, point)
    expectedGrowth = _expected(timePointCourse.GROWTH_FIELDS, result.sinceStage1[0])
    assert "-" not in expectedPoint.values()
    assert _expected(timePointCourse.GROWTH_FIELDS, interval) == expectedGrowth

    tableNode = slicerContext.scene.AddNewNodeByClass("vtkMRMLTableNode")
    timePointCourse.writeTimePointTable(tableNode, result)
    assert _tableShown(tableNode, timePointCourse.TIME_POINT_FIELDS, 1) == expectedPoint
    timePointCourse.writeGrowthTable(tableNode, result)
    shownGrowth = _tableShown(tableNode, timePointCourse.GROWTH_FIELDS, 0)
    # The table holds no row part for the deportalised liver's growth when it was not measured: NaN.
    assert {title: text for title, text in shownGrowth.items() if text != "nan"} == {
        title: text for title, text in expectedGrowth.items() if text != "-"}

    lines = formatHypertrophy(result).splitlines()
    header = next(index for index, line in enumerate(lines) if line.strip().startswith("time point "))
    headings = re.split(r"\s{2,}", lines[header].strip())
    printed = dict(zip(headings, re.split(r"\s{2,}", lines[header + 2].strip())))
    assert printed["time point"] == "interstage" and {title: printed[title] for title in expectedPoint} == expectedPoint

    paths = reportExport.writeCsvFiles(str(tmp_path), {"timePoints": [], "hypertrophy": growth, "readiness": []})
    with open(paths["growth"], encoding="utf-8") as stream:
        row = next(csv.DictReader(stream))
    assert {title: row[title] and formatShown(float(row[title]), field.decimals) or "-"
            for title, field in ((field.titleWithUnit(), field) for field in timePointCourse.GROWTH_FIELDS)} == expectedGrowth

    rows = _htmlRows(_htmlOf({"hypertrophy": growth}, lambda page: reportHtml._growth(page, None)))
    shown = {row[0]: row[2] for row in rows if len(row) == 3}
    assert {title: shown[reportHtml.displayUnit(title)] for title in expectedPoint if title != "Days after stage 1"} == {
        title: text for title, text in expectedPoint.items() if title != "Days after stage 1"}
    growthHeader = next(row for row in rows if row and row[0] == "Growth")
    growthRows = {row[0]: row[1] for row in rows[rows.index(growthHeader) + 1:] if len(row) == 2}
    assert {reportHtml.displayUnit(title): growthRows[reportHtml.displayUnit(title)] for title in expectedGrowth} == {
        reportHtml.displayUnit(title): text for title, text in expectedGrowth.items()}
