"""Writing one patient's report folder: the HTML report, the JSON document, the numbers as CSV
and the segmentations as .seg.nrrd; the same for the panel's button and `alpps report`."""

import csv
import dataclasses
import hashlib
import json
import os
import re

from ALPPSVolumetryLib.inputs.imageFileChecks import checkImageFile
from ALPPSVolumetryLib.results.resultFields import PLAN_FIELDS, SEGMENT_FIELDS

from ..course.timePointCourse import GROWTH_FIELDS
from . import patientReport, reportHtml

REPORT_HTML = "alpps-report.html"
REPORT_JSON = "alpps-report.json"
NUMBERS_CSV = "alpps-report-numbers.csv"
SEGMENTS_CSV = "alpps-report-segment-volumes.csv"
PLANS_CSV = "alpps-report-plans.csv"
GROWTH_CSV = "alpps-report-growth.csv"
READINESS_CSV = "alpps-report-readiness.csv"


def reportPictures(timePoint, plan, with3D=True):
    """Axial and coronal slices of the time point's scan with its segments, and the 3D view of
    remnant versus resected liver (offscreen when there is no screen). Returns (pictures, notes):
    what cannot be drawn is named in a note, never left out silently."""
    from . import slicePictures, threeDPicture

    pictures, notes = [], []
    label = f"{timePoint.role} scan"
    if timePoint.volumeNode is None:
        notes.append(f"No slice pictures: the {label} has no image volume stored with its segmentation")
    else:
        # Half-millimetre pixels: sharp on paper; sliceImages caps the picture at 520 px.
        slices = slicePictures.sliceImages(timePoint.volumeNode, timePoint.segmentationNode, plan, pixelMm=0.5)
        for orientation in ("axial", "coronal"):
            image = slices[orientation]
            pictures.append({"title": f"{orientation.capitalize()} slice, {label}", "caption": image.caption, "png": image.png,
                             "legend": image.legend})
    if with3D:
        try:
            image = threeDPicture.render3D(timePoint.segmentationNode, plan)
            pictures.append({"title": f"3D view, {label}: remnant versus resected liver", "caption": image.caption, "png": image.png,
                             "legend": image.legend})
        except threeDPicture.RenderingUnavailable as error:
            notes.append(f"No 3D picture: {error}")
    return pictures, notes


def _numericLeaves(value, keys=()):
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, (int, float)):
        yield reportHtml.pointer(*keys), value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _numericLeaves(item, keys + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _numericLeaves(item, keys + (index,))


def _writeCsv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)


def _csvNumber(value):
    return "" if value is None else repr(float(value)) if isinstance(value, float) else value


def _fieldHeadings(fields):
    """CSV column headings of result fields: a resolution interval takes two columns."""
    headings = []
    for field in fields:
        title = field.titleWithUnit()
        headings += [f"{title} low", f"{title} high"] if field.isInterval else [title]
    return headings


def _fieldCells(record, fields):
    """The fields' numbers unrounded (the CSV is for further analysis); '' where not computed."""
    cells = []
    for field in fields:
        value = field.valueOf(record)
        if field.isInterval:
            cells += [_csvNumber(bound) for bound in (value or (None, None))]
        else:
            cells.append(_csvNumber(value))
    return tuple(cells)


def _flagsText(flags):
    return "; ".join(f"{flag['label']} {flag['state']}" + (f" [{flag['status']}]" if flag["status"] != "checked" else "") for flag in flags)


def writeCsvFiles(outputDirectory, document):
    """The report's numbers as CSV: every number of the JSON by its pointer (complete by
    construction), and readable tables of segments, plans, growth and readiness whose columns are
    the result fields (resultFields, timePointCourse) that every output shows."""
    paths = {}
    paths["numbers"] = os.path.join(outputDirectory, NUMBERS_CSV)
    _writeCsv(paths["numbers"], ["json pointer", "value"], [(path, _csvNumber(value)) for path, value in _numericLeaves(document)])
    rows, planRows = [], []
    for point in document["timePoints"]:
        when = (point["role"], point["studyDate"], "" if point["daysAfterStage1"] is None else point["daysAfterStage1"])
        for segmentId, segment in point["volumetry"]["segments"].items():
            rows.append(when + (segmentId,) + _fieldCells(segment, SEGMENT_FIELDS))
        for key, plan in point["volumetry"]["plans"].items():
            planRows.append(when + (key, plan["label"]) + _fieldCells(plan, PLAN_FIELDS) + (_flagsText(plan["flags"]),))
    when = ["time point", "study date", "days after stage 1"]
    paths["segments"] = os.path.join(outputDirectory, SEGMENTS_CSV)
    _writeCsv(paths["segments"], when + ["Couinaud segment"] + _fieldHeadings(SEGMENT_FIELDS), rows)
    paths["plans"] = os.path.join(outputDirectory, PLANS_CSV)
    _writeCsv(paths["plans"], when + ["plan", "plan label"] + _fieldHeadings(PLAN_FIELDS) + ["flags"], planRows)
    growth = document["hypertrophy"]
    growthRows = [
        (item["timeBase"], item["from"]["role"], item["to"]["role"]) + _fieldCells(item, GROWTH_FIELDS)
        for group in ("sinceStage1", "intervals") for item in growth[group]
    ]
    paths["growth"] = os.path.join(outputDirectory, GROWTH_CSV)
    _writeCsv(paths["growth"], ["time base", "from", "to"] + _fieldHeadings(GROWTH_FIELDS), growthRows)
    paths["readiness"] = os.path.join(outputDirectory, READINESS_CSV)
    _writeCsv(paths["readiness"], ["criterion", "label", "value", "unit", "met when", "threshold", "state", "status", "source",
                                   "population", "reason", "note"],
              [(item["criterion"], item["label"], _csvNumber(item["value"]), item["unit"], item["comparison"], _csvNumber(item["threshold"]),
                item["state"], item["status"], item["source"], item["population"], item["reason"], item["note"])
               for item in document["readiness"]])
    return paths


def _safeFileName(text):
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()


def writeSegmentation(segmentationNode, path):
    """Save a segmentation as .seg.nrrd through Slicer's own storage node (segments, colours and
    terminology kept), without changing where the node itself is stored."""
    scene = segmentationNode.GetScene()
    storage = scene.AddNewNodeByClass("vtkMRMLSegmentationStorageNode")
    try:
        # Slicer resolves a relative file name against the scene's root folder, not the working one.
        storage.SetFileName(os.path.abspath(path))
        written = storage.WriteData(segmentationNode)
        # A full disk leaves a cut file behind (even after a reported success): read it back
        # completely, and remove what is not whole so that no reader meets it later.
        problem = None if written else "Slicer's writer failed"
        if written:
            try:
                checkImageFile(os.path.abspath(path), "Written segmentation", labelmap=True)
            except ValueError as error:
                problem = str(error)
        if problem:
            if os.path.isfile(path):
                os.remove(path)
            raise IOError(f"Segmentation '{segmentationNode.GetName()}' could not be written whole to '{path}' (disk full?): {problem}")
    finally:
        scene.RemoveNode(storage)
    return path


def writePatientReport(outputDirectory, document, pictures=(), segmentations=(), anonymise=False, pseudonym=patientReport.ANONYMISED_NAME,
                       notes=()):
    """Write the report folder; returns (the document written, {what: path}). ``segmentations``:
    [(role, node)] saved as .seg.nrrd, named by role (never by patient). With ``anonymise`` every
    file is written from the anonymised document."""
    os.makedirs(outputDirectory, exist_ok=True)
    document = dict(document, report=dict(document["report"], notes=list(notes)))
    document = patientReport.anonymiseDocument(document, pseudonym) if anonymise else document
    document["pictures"] = [{"title": picture["title"], "caption": picture["caption"], "pngSha256": hashlib.sha256(picture["png"]).hexdigest()}
                            for picture in pictures]
    paths = {"html": os.path.join(outputDirectory, REPORT_HTML), "json": os.path.join(outputDirectory, REPORT_JSON)}
    with open(paths["html"], "w", encoding="utf-8") as stream:
        stream.write(reportHtml.renderReportHtml(document, pictures))
    with open(paths["json"], "w", encoding="utf-8") as stream:
        json.dump(document, stream, indent=2)
    paths.update(writeCsvFiles(outputDirectory, document))
    for role, node in segmentations:
        key = f"segmentation {role}"
        paths[key] = writeSegmentation(node, os.path.join(outputDirectory, f"segmentation-{_safeFileName(role)}.seg.nrrd"))
    return document, paths


def createPatientReport(scene, outputDirectory, request):
    """Everything the report button and `alpps report` do, from ``request``
    (reportRequest.ReportRequest): the document from the time points in ``scene``, pictures of the
    latest scan (the request's, e.g. captured from Slicer's views, or drawn offscreen here), and
    the folder written. Returns (document, paths, notes); the document is the one written
    (anonymised when asked)."""
    from ..course import timeline

    points = timeline.sortedTimePoints(list(request.timePoints) if request.timePoints is not None else timeline.timePointsInScene(scene))
    document = patientReport.buildReportDocument(scene, dataclasses.replace(request, timePoints=points))
    pictures, notes = request.pictures, []
    if pictures is None:
        pictures, notes = reportPictures(points[-1], request.plan, request.with3D)
    written, paths = writePatientReport(outputDirectory, document, pictures, [(point.role, point.segmentationNode) for point in points],
                                        request.anonymise, request.pseudonym, notes)
    return written, paths, notes


ASSESSMENT_MODULE = "ALPPSAssessment"


def assessmentPanelValues(scene):
    """What the ALPPSAssessment panel holds in a saved scene (its parameter node: height, weight,
    stage 1 date, plan...), as strings by parameter name (the patient body's as "body.heightCm",
    also from a scene saved before they were grouped); {} when the scene has none. Lets a report
    made outside Slicer use what the user entered inside it."""
    from ALPPSVolumetryLib.criteria import patientBody

    for index in range(scene.GetNumberOfNodesByClass("vtkMRMLScriptedModuleNode")):
        node = scene.GetNthNodeByClass(index, "vtkMRMLScriptedModuleNode")
        if node.GetAttribute("ModuleName") == ASSESSMENT_MODULE or node.GetSingletonTag() == ASSESSMENT_MODULE:
            values = {name: node.GetParameter(name) for name in node.GetParameterNames()}
            return {**{patientBody.packedName(name): value for name, value in values.items()}, **values}
    return {}
