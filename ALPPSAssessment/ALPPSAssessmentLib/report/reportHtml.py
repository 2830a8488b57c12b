"""The patient report as one self-contained HTML file: pictures embedded as data URIs, charts as
inline SVG, no script, no external resource, so it opens offline in any browser and prints on A4.

Every number is read from the report document by its JSON pointer and carries that pointer in a
``data-pointer`` attribute, so what the page shows can be checked against the JSON export.
"""

import base64
import copy
import datetime
import html
import math
import re

from ALPPSVolumetryLib.criteria import clinicalCriteria
from ALPPSVolumetryLib.results.resultFields import PLAN_FIELDS, SEGMENT_FIELDS, VOLUME_DEFINITIONS

from ..course.timePointCourse import GROWTH_FIELDS, TIME_POINT_FIELDS
from ..functional.mebrofeninWorkflow import REMNANT_FUNCTION_FIELDS
from . import decisionSummary, reportCharts

STATE_CLASS = {"met": "met", "not met": "notmet", "borderline": "borderline", "unknown": "unknown"}

_STYLE = """
@page { size: A4 portrait; margin: 14mm 12mm 16mm 12mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Segoe UI", Arial, sans-serif; font-size: 10pt; color: #111; margin: 0 auto; max-width: 186mm; line-height: 1.35; }
h1 { font-size: 16pt; margin: 0 0 2mm 0; }
h2 { font-size: 12pt; margin: 6mm 0 2mm 0; border-bottom: 1px solid #888; padding-bottom: 1mm; break-after: avoid; page-break-after: avoid; }
h3 { font-size: 10.5pt; margin: 3mm 0 1mm 0; break-after: avoid; page-break-after: avoid; }
table { border-collapse: collapse; width: 100%; margin: 1mm 0 2mm 0; break-inside: auto; font-size: 9pt; }
table.keep, section.keep { break-inside: avoid; page-break-inside: avoid; }
tr { break-inside: avoid; page-break-inside: avoid; }
th, td { border: 1px solid #bbb; padding: 0.8mm 1.5mm; text-align: left; vertical-align: top; }
th { background: #eef1f4; font-weight: 600; }
td.n { text-align: right; white-space: nowrap; }
th.n { text-align: right; }
table.fields td:first-child { white-space: nowrap; }
td.flags { font-size: 8pt; color: #333; border-top: none; padding-left: 5mm; }
table.kv { table-layout: fixed; }
table.kv td:first-child, table.kv th:first-child { width: 36%; }
table.kv td.n, table.kv th.n { width: 28%; white-space: normal; }
.banner { border: 2px solid #b35900; background: #fff4e5; padding: 2mm 3mm; margin: 2mm 0 3mm 0; font-size: 9pt; }
.identity { display: flex; flex-wrap: wrap; gap: 1mm 8mm; margin: 1mm 0; }
.identity div { min-width: 40mm; }
.label { color: #555; font-size: 8.5pt; }
.met { color: #0a6b2d; font-weight: 600; }
.notmet { color: #b00020; font-weight: 700; }
.unknown { color: #6b6b6b; font-style: italic; }
.borderline { color: #a05a00; font-weight: 700; }
.figure { break-inside: avoid; page-break-inside: avoid; margin: 2mm 0; }
.figure img, .figure svg { max-width: 100%; height: auto; border: 1px solid #ccc; }
.pictures { display: flex; flex-wrap: wrap; gap: 3mm; }
.pictures .figure { flex: 1 1 88mm; max-width: 92mm; break-inside: avoid; page-break-inside: avoid; }
.pictures .figure img { width: 100%; }
.caption { font-size: 8.5pt; color: #333; }
.small { font-size: 8.5pt; }
.mono { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 7.5pt; word-break: break-all; }
.warning { color: #8a4b00; }
.decision { border: 2px solid #334; padding: 2mm 3mm; margin: 3mm 0; break-inside: avoid; page-break-inside: avoid; }
.decision .verdict { font-size: 11.5pt; font-weight: 700; margin-bottom: 1.5mm; }
.decision table { margin: 0; }
.decision td { border: none; border-bottom: 1px solid #ddd; padding: 0.6mm 1.5mm; }
.decision td:first-child { white-space: nowrap; }
.alert { border: 2px solid #b00020; background: #fdecee; color: #8a0015; padding: 1.5mm 3mm; margin: 2mm 0; font-weight: 700; }
.legend { display: flex; flex-wrap: wrap; gap: 1mm 4mm; font-size: 8pt; margin: 1mm 0 2mm 0; }
.swatch { display: inline-block; width: 3.2mm; height: 3.2mm; border: 1px solid #555; margin-right: 1mm; vertical-align: -0.5mm; }
section.keep-heading h2 { break-after: avoid; page-break-after: avoid; }
footer { margin-top: 6mm; border-top: 1px solid #888; padding-top: 1mm; font-size: 8pt; color: #444; }
@media print { .pagebreak { break-before: page; page-break-before: always; } }
"""


def pointer(*keys):
    """RFC 6901 JSON pointer of a path of keys."""
    return "".join("/" + str(key).replace("~", "~0").replace("/", "~1") for key in keys)


def resolvePointer(document, text):
    value = document
    for raw in text.split("/")[1:]:
        key = raw.replace("~1", "/").replace("~0", "~")
        value = value[int(key)] if isinstance(value, list) else value[key]
    return value


def formatNumber(value, decimals):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    # Rounded as the flags compare it (clinicalCriteria.shownNumber), so a number and its state agree.
    shown = clinicalCriteria.shownNumber(value, decimals)
    return f"{shown:,.{decimals}f}".replace(",", "\u2009") if abs(shown) >= 10000 else f"{shown:.{decimals}f}"


class _Page:
    def __init__(self, document):
        self.document = document
        self.parts = []

    def add(self, text):
        self.parts.append(text)

    def number(self, keys, decimals, unit=""):
        """The value at ``keys`` with its pointer; '–' for a value that was not computed."""
        path = pointer(*keys)
        value = resolvePointer(self.document, path)
        shown = formatNumber(value, decimals)
        unitText = f"\u00a0{html.escape(displayUnit(unit))}" if unit and value is not None else ""
        return f'<span class="num" data-pointer="{html.escape(path)}" data-decimals="{decimals}">{shown}</span>{unitText}'


    def field(self, base, field, withUnit=False):
        """A result field's value (resultFields) at ``base`` with the field's digits; a resolution
        interval as low–high, each end with its pointer."""
        keys = tuple(base) + tuple(field.path)
        unit = field.unit if withUnit else ""
        # A growth of a volume that was not measured (no deportalised liver) has no record to point into.
        if resolvePointer(self.document, pointer(*keys[:-1])) is None:
            return "–"
        if not field.isInterval:
            return self.number(keys, field.decimals, unit)
        if resolvePointer(self.document, pointer(*keys)) is None:
            return "–"
        return f"{self.number(keys + (0,), field.decimals)}–{self.number(keys + (1,), field.decimals, unit)}"


def _fieldHeading(field):
    return _e(displayUnit(field.titleWithUnit()))


def _fieldRows(page, fields, bases):
    """One table row per field and one column per record (``bases``: the records' paths): records
    side by side, as clinicians compare plans and scans."""
    return "".join(
        f"<tr><td>{_fieldHeading(field)}</td>" + "".join(f"<td class='n'>{page.field(base, field)}</td>" for base in bases) + "</tr>"
        for field in fields
    )


def displayUnit(unit):
    """Units as the report writes them, one way everywhere: m² and µmol (the JSON keeps ASCII)."""
    if not unit:
        return ""
    return re.sub(r"m2\b", "m²", unit).replace("umol", "µmol")


def _g(number):
    return "" if number is None else _e(f"{number:g}")


def _e(text):
    return html.escape("" if text is None else str(text))


def _state(flag):
    """A flag's state in the one wording of clinicalCriteria, with 'unchecked' where it applies."""
    state = flag["state"]
    unchecked = f' <span class="small">[{_e(flag["status"])}]</span>' if flag.get("status", "checked") != "checked" else ""
    return f'<span class="{STATE_CLASS.get(state, "unknown")}">{_e(clinicalCriteria.STATE_WORDS.get(state, state))}</span>{unchecked}'


def _dateOrDay(point):
    day = point.get("daysAfterStage1")
    dayText = "" if day is None else f" (day {day:+d})"
    return f"{_e(point['studyDate'])}{dayText}"


def _age(age):
    if age is None:
        return "–"
    return f"{_e(age)} years" if isinstance(age, int) else _e(age)  # '90 or older' when anonymised


def _header(page):
    document = page.document
    patient = document["patient"]
    page.add("<h1>ALPPS liver volumetry and function: tumour board report</h1>")
    page.add(f'<div class="banner"><strong>Decision support.</strong> {_e(document["report"]["decisionSupport"])}</div>')
    rows = [
        ("Patient", _e(patient.get("displayName") or patient.get("name") or "not given")),
        ("Patient ID", _e(patient.get("patientId") or "not given")),
        ("Birth date", _e(patient.get("birthDate") or ("removed" if document["report"]["anonymised"] else "not given"))),
        ("Age at first scan", _age(patient.get("ageYearsAtFirstScan"))),
        ("Sex", _e(patient.get("sex") or "–")),
        ("Height", page.number(("patient", "heightCm"), 0, "cm")),
        ("Weight", page.number(("patient", "weightKg"), 1, "kg")),
        ("BSA", page.number(("patient", "bsaM2"), 2, "m²")),
        ("Standard liver volume", page.number(("patient", "standardLiverVolumeMl"), 0, "mL")),
        ("Liver condition", _e(patient.get("liverCondition"))),
        ("Stage 1", _e(document.get("stage1Date") or "not given")),
        ("Plan followed", _e(document["plan"]["label"])),
    ]
    page.add('<div class="identity">' + "".join(f'<div><span class="label">{label}</span><br>{value}</div>' for label, value in rows) + "</div>")
    if document["report"]["anonymised"]:
        page.add(f'<p class="small"><strong>Anonymised report.</strong> {_e(document["report"].get("anonymisation"))}</p>')


def _decision(page):
    """Page 1: the verdict, the figures that carry it and the tumour left in the remnant."""
    summary = decisionSummary.decisionSummary(page.document)
    counts = summary.counts
    cssClass = "notmet" if counts["not met"] else ("borderline" if counts["borderline"] else ("unknown" if counts["unknown"] else "met"))
    page.add('<div class="decision">')
    page.add(f'<div class="verdict"><span class="{cssClass}">{_e(summary.verdict)}</span></div>')
    for warning in summary.warnings:
        page.add(f'<div class="alert">Tumour left in the remnant: {_e(warning)}</div>')
    if summary.scan:
        page.add(f'<div class="small">At the {_e(summary.scan)}:</div><table>')
        for figure in summary.figures:
            shown = "–" if figure.keys is None else page.number(figure.keys, figure.decimals, figure.unit)
            page.add(f"<tr><td>{_e(figure.label)}</td><td class='n'>{shown}</td><td class='small'>{_e(displayUnit(figure.detail))}</td></tr>")
        page.add("</table>")
    page.add("</div>")


def _readiness(page):
    document = page.document
    readiness = document["readiness"]
    at = next((item["note"].split(";")[0] for item in readiness if item.get("note", "").startswith("at the ")), "")
    page.add(f"<h2>Stage 2 readiness checklist{(' ' + _e(at)) if at else ''}</h2>")
    page.add('<table><tr><th>Criterion</th><th class="n">Value</th><th class="n">Met when</th><th>State</th><th>Source (population)</th></tr>')
    for index, item in enumerate(readiness):
        threshold = "–" if item["threshold"] is None else f"{_e(item['comparison'])} {_g(item['threshold'])} {_e(displayUnit(item['unit']))}"
        note = "; ".join(part for part in (item.get("reason"), (item.get("note") or "").replace(at, "").strip("; ")) if part)
        source = _e(item["source"]) + (f" ({_e(item['population'])})" if item.get("population") else "")
        page.add(
            f"<tr><td>{_e(item['label'])}</td><td class='n'>{page.number(('readiness', index, 'value'), item['decimals'], item['unit'])}</td>"
            f"<td class='n'>{threshold}</td><td>{_state(item)}</td><td class='small'>{source}"
            + (f"<br><i>{_e(note)}</i>" if note else "") + "</td></tr>"
        )
    page.add("</table>")
    page.add('<p class="small">"met": the value as displayed is outside the published risk group (the criterion for going ahead); '
             '"borderline": the cut-off lies within the value\'s resolution interval; "unchecked": the formula or cut-off is not '
             "confirmed against the primary paper (clinical reference). The team decides.</p>")


def _planTable(page):
    document = page.document
    index = len(document["timePoints"]) - 1
    point = document["timePoints"][index]
    plans = point["volumetry"]["plans"]
    bases = [("timePoints", index, "volumetry", "plans", key) for key in plans]
    page.add(f"<section class='keep'><h2>Future liver remnant at the {_e(point['role'])} scan ({_dateOrDay(point)})</h2>")
    header = "".join(f"<th class='n'>{_e(plan['label'])}<br><span class='small'>remnant {_e(', '.join(plan['remnantSegments']))}</span></th>"
                     for plan in plans.values())
    page.add(f'<table class="keep fields"><tr><th>Quantity</th>{header}</tr>' + _fieldRows(page, PLAN_FIELDS, bases))
    adequacy = "".join(
        "<td class='small'>" + "<br>".join(
            f"{_e(flag['label'])}: {_state(flag)} ({_e(flag['comparison'])} {_g(flag['threshold'])} {_e(displayUnit(flag['unit']))}; "
            f"{_e(flag['source'])})" for flag in plan["flags"]) + "</td>"
        for plan in plans.values()
    )
    page.add(f"<tr><td>Adequacy</td>{adequacy}</tr></table>")
    for plan in plans.values():
        tumourFlag = plan.get("tumourFlag")
        if tumourFlag and tumourFlag["state"] == "not met":
            page.add(f"<p class='notmet small'>Warning: {_e(tumourFlag['reason'])}</p>")
        for warning in [w for w in (plan.get("warnings") or ()) if not tumourFlag or w != tumourFlag["reason"]]:
            page.add(f"<p class='warning small'>{_e(plan['label'])}: {_e(warning)}</p>")
    page.add(
        '<p class="small">%FLR = FLR / total liver volume; functional %FLR excludes tumour volume; '
        "sFLR = FLR / standardised total liver volume; FLR-BWR = FLR (mL, 1 g/mL) / body weight (g) x 100; sFLR, FLR-BWR and "
        "FLR/BSA use the tumour-free FLR; intervals are resolution intervals (half a voxel across the remnant's boundary).</p></section>"
    )


def _segmentTable(page):
    document = page.document
    points = document["timePoints"]
    volume, latestFields = SEGMENT_FIELDS[0], SEGMENT_FIELDS[1:]
    page.add("<section class='keep'><h2>Couinaud segment volumes</h2>")
    header = "".join(f'<th class="n">{_e(point["role"])}<br><span class="small">{_dateOrDay(point)}</span></th>' for point in points)
    latestHeader = "".join(f'<th class="n">{_fieldHeading(field)}, latest</th>' for field in latestFields)
    page.add(f'<table><tr><th>Segment</th>{header}{latestHeader}</tr>')
    latest = len(points) - 1
    for segmentId in points[latest]["volumetry"]["segments"]:
        cells = "".join(
            f"<td class='n'>{page.field(('timePoints', index, 'volumetry', 'segments', segmentId), volume)}</td>"
            if segmentId in point["volumetry"]["segments"] else "<td class='n'>–</td>"
            for index, point in enumerate(points)
        )
        base = ("timePoints", latest, "volumetry", "segments", segmentId)
        latestCells = "".join(f"<td class='n'>{page.field(base, field)}</td>" for field in latestFields)
        page.add(f"<tr><td>{_e(segmentId)}</td>{cells}{latestCells}</tr>")
    for key, definition in (("totalLiverVolumeMl", VOLUME_DEFINITIONS["totalLiverMl"]), ("totalTumourVolumeMl", VOLUME_DEFINITIONS["totalTumourMl"])):
        cells = "".join(f"<td class='n'>{page.number(('timePoints', index, 'volumetry', 'liver', key), definition.decimals)}</td>"
                        for index in range(len(points)))
        page.add(f"<tr><th>{_e(definition.label)}</th>{cells}{'<td></td>' * len(latestFields)}</tr>")
    page.add("</table>")
    page.add(f'<p class="small">{_e(volume.title)} in {_e(volume.unit)} (voxel count x voxel volume). Segments may be drawn by hand, '
             "by TotalSegmentator or from landmarks; check the segmentation pictures below.</p></section>")


def _growth(page, chartSvg):
    document = page.document
    growth = document["hypertrophy"]
    page.add(f"<h2>Hypertrophy of the remnant ({_e(growth['plan']['label'])})</h2>")
    header = "".join(f"<th class='n'>{_e(point['role'])}<br><span class='small'>{_dateOrDay(point)}</span></th>" for point in growth["timePoints"])
    bases = [("hypertrophy", "timePoints", index) for index in range(len(growth["timePoints"]))]
    # The days are in the column headings already.
    fields = [field for field in TIME_POINT_FIELDS if field.key != "daysAfterStage1"]
    page.add(f"<table class='fields'><tr><th>Scan</th>{header}</tr>{_fieldRows(page, fields, bases)}</table>")
    page.add("<section class='keep'>")
    intervals = [("sinceStage1", index, item) for index, item in enumerate(growth["sinceStage1"])]
    intervals += [("intervals", index, item) for index, item in enumerate(growth["intervals"])]
    if intervals:
        # One column per interval, as the scans above: a row per growth figure fits A4 however many.
        header = "".join(
            f"<th class='n'>{_e(item['from']['role'])} → {_e(item['to']['role'])}<br><span class='small'>{_e(item['timeBase'])}</span></th>"
            for _, _, item in intervals
        )
        bases = [("hypertrophy", group, index) for group, index, _ in intervals]
        page.add(f"<table class='fields'><tr><th>Growth</th>{header}</tr>{_fieldRows(page, GROWTH_FIELDS, bases)}</table>")
    page.add("</section>")
    if chartSvg:
        page.add(f'<div class="figure">{chartSvg}<div class="caption">Remnant volume and sFLR across the time points.</div></div>')
    for warning in growth.get("warnings") or ():
        page.add(f'<p class="warning small">{_e(warning)}</p>')


def _riskFlag(flag):
    """Functional flags in the one vocabulary: the criterion for going ahead, and its state."""
    return f"{_e(flag.get('comparison', ''))} {_g(flag.get('threshold'))} {_e(displayUnit(flag.get('unit', '')))}: {_state(flag)}"


def _function(page, timeActivitySvgs):
    document = page.document
    studies = document["functionalStudies"]
    if not studies:
        return
    for index, study in enumerate(studies):
        # The heading stays with its table: no section title alone at the foot of a page.
        page.add("<section class='keep'>" + ("<h2>Liver function</h2>" if index == 0 else "")
                 + f"<h3>{_e(study['role'])} scan ({_e(study['studyDate'])})</h3>")
        base = ("functionalStudies", index)
        function = study.get("remnantFunction") or {}
        rows = [(_e(field.title), page.field(base + ("remnantFunction",), field, withUnit=True), "")
                for field in REMNANT_FUNCTION_FIELDS if field.key in function]
        mebrofenin = study["studies"].get("mebrofenin")
        if mebrofenin:
            for flag in mebrofenin.get("remnantFunction", {}).get("flags", []):
                rows.append((_e(flag.get("label", flag.get("criterion", "flag"))), _riskFlag(flag), _e(flag.get("source", ""))))
            registration = mebrofenin.get("registration")
            if registration:
                rows.append(("SPECT registered to the CT", _e(registration.get("mode", "")),
                             _registrationInWords(page, base + ("studies", "mebrofenin", "registration"), registration)))
        gadoxetate = study["studies"].get("gadoxetate")
        if gadoxetate:
            gbase = base + ("studies", "gadoxetate")
            notComputed = {}
            for region in ("liverIndices", "remnantIndices"):
                where = "Liver" if region == "liverIndices" else "Remnant"
                for key in gadoxetate.get(region, {}).get("values", {}):
                    rows.append((f"{where} {key.upper()} (gadoxetate MRI)", page.number(gbase + (region, "values", key), 3), ""))
                for key, reason in (gadoxetate.get(region, {}).get("missing") or {}).items():
                    notComputed.setdefault(reason, []).append(f"{where.lower()} {key.upper()}")
            # Indices that could not be computed collapse to one line per reason.
            for reason, names in notComputed.items():
                rows.append((f"Not computed: {', '.join(names)}", "–", _e(reason)))
            for key in ("hui", "remnantHui"):
                if gadoxetate.get(key):
                    definition = gadoxetate[key]["definition"]
                    rows.append((_e(definition["label"]), page.number(gbase + (key, "value"), 3, gadoxetate[key]["unit"]), _e(definition.get("reference", ""))))
            if gadoxetate.get("remnantHuiFlag"):
                flag = gadoxetate["remnantHuiFlag"]
                rows.append((_e(flag.get("label", "rHUI flag")), _riskFlag(flag), _e(flag.get("source", ""))))
            for region, indices in (gadoxetate.get("t1Indices") or {}).items():
                tbase = gbase + ("t1Indices", region)
                rows.append((f"{region.capitalize()} T1 pre / HBP (T1 maps)",
                             f"{page.number(tbase + ('t1PreMs',), 0)} / {page.number(tbase + ('t1HbpMs',), 0, 'ms')}", ""))
                rows.append((f"{region.capitalize()} delta R1, T1 reduction rate", f"{page.number(tbase + ('deltaR1PerS',), 3, '1/s')}, "
                             f"{page.number(tbase + ('reductionRate',), 3)}", "reduction rate as a fraction"))
            if gadoxetate.get("remnantFunctionalShare"):
                share = gadoxetate["remnantFunctionalShare"]
                rows.append(("Remnant functional share (gadoxetate voxel map)",
                             f"{_e(clinicalCriteria.formatShown(100.0 * share['share'], 1))}\u00a0%",
                             f"sum of the {_e(share.get('mapKind', 'enhancement'))} map over the remnant / over the liver"))
        page.add('<table class="kv"><tr><th>Quantity</th><th class="n">Value</th><th>Note / source</th></tr>'
                 + "".join(f"<tr><td>{label}</td><td class='n'>{value}</td><td class='small'>{note}</td></tr>" for label, value, note in rows)
                 + "</table></section>")
        segments = (gadoxetate or {}).get("segmentSignals") or {}
        if segments:
            sbase = base + ("studies", "gadoxetate", "segmentSignals")
            unit = gadoxetate["signals"]["unit"]
            page.add(f'<table class="keep"><tr><th>Segment (gadoxetate MRI)</th><th class="n">HBP signal ({_e(unit)})</th>'
                     f'<th class="n">Pre-contrast ({_e(unit)})</th><th class="n">Relative enhancement</th><th class="n">L/S - 1</th></tr>')
            for segmentId in segments:
                page.add(f"<tr><td>{_e(segmentId)}</td><td class='n'>{page.number(sbase + (segmentId, 'hbp'), 1)}</td>"
                         f"<td class='n'>{page.number(sbase + (segmentId, 'pre'), 1)}</td>"
                         f"<td class='n'>{page.number(sbase + (segmentId, 'relativeEnhancement'), 3)}</td>"
                         f"<td class='n'>{page.number(sbase + (segmentId, 'liverToSpleenMinusOne'), 3)}</td></tr>")
            source = gadoxetate.get("spleenSignalFrom")
            page.add(f"</table><p class='small'>Spleen signal from {_e(source or 'no spleen segment or ROI')}.</p>")
        if index in timeActivitySvgs:
            page.add(f'<div class="figure">{timeActivitySvgs[index]}<div class="caption">Mebrofenin time-activity curves '
                     "(counts/s) of the dynamic study; the uptake rate is fitted in the shaded window.</div></div>")


def _registrationInWords(page, base, registration):
    """What was compared, whether it improved, whether it can be trusted: in words."""
    improved = registration.get("metricFinal") is not None and registration.get("metricInitial") is not None and (
        registration["metricFinal"] < registration["metricInitial"])
    words = [
        f"image similarity (mutual information) {'improved' if improved else 'did not improve'}; "
        + ("converged" if registration.get("converged") else "did not converge")
    ]
    if registration.get("rotationDegrees") is not None:
        shift = registration.get("translationMm") or []
        length = float(sum(value * value for value in shift) ** 0.5) if shift else None
        moved = f"corrected by {page.number(base + ('rotationDegrees',), 1, 'degrees')} rotation"
        if length is not None:
            moved += f" and {_e(clinicalCriteria.formatShown(length, 1))} mm shift"
        words.append(moved)
    if registration.get("diceBefore") is not None and registration.get("diceAfter") is not None:
        words.append(
            f"overlap of the SPECT's bright voxels with the CT liver {page.number(base + ('diceBefore',), 2)} → "
            f"{page.number(base + ('diceAfter',), 2)} (low by nature: the SPECT shows functioning tissue, not the liver's outline; "
            "it must not drop)"
        )
    trusted = registration.get("succeeded", registration.get("converged"))
    words.append("usable: check the overlay before relying on FLR-C" if trusted else
                 "NOT trustworthy: " + _e("; ".join(registration.get("failures") or ["see the registration"])))
    return "; ".join(words)


def _pictures(page, pictures):
    notes = page.document["report"].get("notes") or []
    if not pictures and not notes:
        return
    page.add('<h2>Images</h2>')
    for note in notes:
        page.add(f'<p class="warning small">{_e(note)}</p>')
    page.add('<div class="pictures">')
    for picture in pictures:
        data = base64.b64encode(picture["png"]).decode("ascii")
        legend = "".join(f'<span><span class="swatch" style="background:{_e(color)}"></span>{_e(what)}</span>'
                         for what, color in picture.get("legend") or ())
        page.add(f'<div class="figure"><img alt="{_e(picture["title"])}" src="data:image/png;base64,{data}">'
                 + (f'<div class="legend">{legend}</div>' if legend else "")
                 + f'<div class="caption"><strong>{_e(picture["title"])}.</strong> {_e(picture["caption"])}</div></div>')
    page.add("</div>")


def _methods(page):
    document = page.document
    page.add("<section><h2>Methods</h2><table>")
    for method in document["methods"]:
        page.add(f"<tr><td>{_e(method['topic'])}</td><td class='small'>{_e(method['text'])}</td></tr>")
    page.add("</table></section><section class='keep'><h2>References</h2><ol class='small'>")
    for reference in document["references"]:
        page.add(f"<li>{_e(reference)}</li>")
    page.add("</ol></section>")


def _inputs(page):
    document = page.document
    page.add("<section class='keep'><h2>Inputs and checksums (SHA-256)</h2><table><tr><th>Input</th><th>Node / files</th><th>Checksums</th></tr>")
    for entry in document["inputs"]:
        files = entry.get("files") or []
        where = _e(entry.get("node") or "")
        if files:
            where += f"<br><span class='mono'>{_e(files[0])}</span>" + (f" <span class='small'>and {len(files) - 1} more files</span>" if len(files) > 1 else "")
        sums = []
        if entry.get("fileSha256"):
            sums.append(f"file{'s' if len(files) > 1 else ''}: {_e(entry['fileSha256'])}")
        if entry.get("contentSha256"):
            sums.append(f"content: {_e(entry['contentSha256'])}")
        page.add(f"<tr><td>{_e(entry['description'])}</td><td>{where}</td><td class='mono'>{'<br>'.join(sums)}</td></tr>")
    page.add("</table>")
    page.add('<p class="small">File checksums identify the files as read; content checksums identify the voxels and geometry '
             "whatever the file format (a DICOM series and its NRRD copy have the same content checksum).</p></section>")


def _chartableGrowth(growth):
    """The chart places scans by date; an anonymised report has only 'day N (...)' left, which is
    all the chart shows anyway, so stand-in dates keep the same spacing."""
    points = growth["timePoints"]
    if all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", point["studyDate"] or "") for point in points):
        return growth
    chartable = copy.deepcopy(growth)
    for point in chartable["timePoints"]:
        match = re.match(r"day ([+-]?\d+)", point["studyDate"] or "")
        if match is None:
            raise ValueError(f"Growth chart: study date '{point['studyDate']}' is neither a date nor a day of the course")
        point["studyDate"] = (datetime.date(2000, 1, 1) + datetime.timedelta(days=int(match.group(1)))).isoformat()
    return chartable


def renderReportHtml(document, pictures=(), sflrThresholdPercent=None):
    """The report page. ``pictures``: [{"title", "caption", "png" (bytes)}] shown in the Images
    section; charts are drawn from the document itself."""
    page = _Page(document)
    patient = document["patient"]
    title = f"ALPPS report {patient.get('displayName') or patient.get('patientId') or ''}".strip()
    page.add(f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
             f'<meta name="generator" content="ALPPS {_e(document["software"]["version"])}"><style>{_STYLE}</style></head><body>')
    _header(page)
    _decision(page)
    _readiness(page)
    _planTable(page)
    growthSvg = None
    if len(document["hypertrophy"]["timePoints"]) >= 1:
        thresholds = document["timePoints"][-1]["volumetry"]["thresholds"]
        growthSvg = reportCharts.growthChartSvg(
            _chartableGrowth(document["hypertrophy"]), sflrThresholdPercent if sflrThresholdPercent is not None else thresholds["sflrMinimumPercent"],
            thresholds["sflrSource"],
        )
    _growth(page, growthSvg)
    _segmentTable(page)
    timeActivity = {}
    for index, study in enumerate(document["functionalStudies"]):
        curves = (study["studies"].get("mebrofenin") or {}).get("timeActivityCurves")
        if curves:
            window = (study["studies"]["mebrofenin"].get("uptake") or {}).get("windowSeconds")
            timeActivity[index] = reportCharts.timeActivityChartSvg(curves, window)
    _function(page, timeActivity)
    _pictures(page, pictures)
    _methods(page)
    _inputs(page)
    created = document["report"].get("createdUtc")
    page.add(f"<footer>ALPPS {_e(document['software']['version'])} ({_e(document['schema'])})"
             f"{', created ' + _e(created) if created else ''}. {_e(document['report']['decisionSupport'])}</footer>")
    page.add("</body></html>\n")
    return "\n".join(page.parts)
