"""The patient report for the liver tumour board: one plain document (JSON-able dict) holding
every number the report shows, built from the time points stored in a scene by the same logic the
panels and the batch commands use. The HTML, the CSV files and the JSON export are all written
from this one document, so they cannot disagree.

The document embeds the batch commands' own documents unchanged (``volumetryToDict`` per time
point, ``hypertrophyToDict``, ``readinessToList``, the functional studies' documents), so the
README's description of those schemas holds inside the report too.
"""

import datetime
import hashlib
import os
import re

import numpy as np
from ALPPSVolumetryLib.criteria import clinicalCriteria
from ALPPSVolumetryLib.planning import futureLiverRemnant
from ALPPSVolumetryLib import imageGrid
from ALPPSVolumetryLib.inputs import patientIdentity
from ALPPSVolumetryLib.segments import segmentVolumes
from ALPPSVolumetryLib.segments.segmentationIO import IMPORTED_FROM_ATTRIBUTE

from ..course import stageTwoReadiness, timeline, timePointCourse

SCHEMA = "alpps-patient-report/1"
DECISION_SUPPORT_STATEMENT = (
    "Decision support only. These figures are measurements of the images and segmentations listed "
    "under Inputs, computed as described under Methods; they depend on the correctness of those "
    "segmentations and do not replace the judgement of the multidisciplinary team. "
    "This software is not a certified medical device."
)
ANONYMISED_NAME = "Anonymised"
REMOVED = "[removed]"
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_DICOM_DATE = re.compile(r"\b(\d{4})(\d{2})(\d{2})\b")
# Identifiers shorter than this are only removed where they stand as whole fields: replacing a
# 1-character study ID inside free text would destroy numbers.
_MIN_SUBSTRING_LENGTH = 4


def _isoDate(dicomOrIso):
    """'YYYYMMDD' or 'YYYY-MM-DD' -> 'YYYY-MM-DD', '' when empty or not a date."""
    text = (dicomOrIso or "").strip()
    for pattern in ("%Y%m%d", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    return ""


def _ageYears(birthDate, onDate):
    if not birthDate or onDate is None:
        return None
    born = datetime.date.fromisoformat(birthDate)
    return onDate.year - born.year - ((onDate.month, onDate.day) < (born.month, born.day))


# --- checksums of the inputs ------------------------------------------------------------------


def fileSha256(path, chunkBytes=1 << 20):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(chunkBytes), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _storageFiles(node):
    """The files a node was read from (every slice of a DICOM series), those that still exist."""
    storage = node.GetStorageNode() if hasattr(node, "GetStorageNode") else None
    names = []
    if storage is not None:
        names = [storage.GetNthFileName(index) for index in range(storage.GetNumberOfFileNames())] or [storage.GetFileName()]
    names = [name for name in names if name] or [node.GetAttribute(IMPORTED_FROM_ATTRIBUTE) or ""]
    # Absolute paths, each once: Slicer lists the archetype both as given and resolved.
    return [name for name in dict.fromkeys(os.path.abspath(name) for name in names if name) if os.path.isfile(name)]


def _geometryDigest(digest, ijkToRAS):
    digest.update(np.round(ijkToRAS, 6).tobytes())


def _imageDigest(digest, imageData, ijkToRAS):
    from vtk.util import numpy_support

    digest.update(np.asarray(imageData.GetExtent(), dtype=np.int64).tobytes())
    _geometryDigest(digest, ijkToRAS)
    scalars = imageData.GetPointData().GetScalars()
    if scalars is not None:
        digest.update(str(scalars.GetDataTypeAsString()).encode())
        digest.update(numpy_support.vtk_to_numpy(scalars).tobytes())


def _segmentDigest(digest, labelmap, labelValue):
    """A segment's voxels, whatever padding or layer it is stored with: the geometry, and the
    mask cropped to its bounding box, placed by the box's IJK position."""
    from vtk.util import numpy_support

    _geometryDigest(digest, imageGrid.imageToWorld(labelmap))
    scalars = labelmap.GetPointData().GetScalars()
    extent = labelmap.GetExtent()
    if scalars is None or extent[1] < extent[0]:
        digest.update(b"empty")
        return
    shape = (extent[5] - extent[4] + 1, extent[3] - extent[2] + 1, extent[1] - extent[0] + 1)
    mask = numpy_support.vtk_to_numpy(scalars).reshape(shape) == labelValue
    if not mask.any():
        digest.update(b"empty")
        return
    box = [np.flatnonzero(mask.any(axis=axes)) for axes in ((1, 2), (0, 2), (0, 1))]
    low = [int(indices[0]) for indices in box]
    high = [int(indices[-1]) + 1 for indices in box]
    digest.update(np.array([low[2] + extent[0], low[1] + extent[2], low[0] + extent[4]], dtype=np.int64).tobytes())
    digest.update(np.packbits(mask[low[0]:high[0], low[1]:high[1], low[2]:high[2]]).tobytes())
    digest.update(np.array([h - lo for lo, h in zip(low, high)], dtype=np.int64).tobytes())


def contentSha256(node):
    """A checksum of what a volume or segmentation node holds (voxels and geometry), the same for
    a node read from DICOM, NRRD or a scene bundle: it identifies the data, whatever its file."""
    digest = hashlib.sha256()
    if node.IsA("vtkMRMLSegmentationNode"):
        segmentation = node.GetSegmentation()
        if not segmentation.ContainsRepresentation("Binary labelmap"):
            node.CreateBinaryLabelmapRepresentation()
        for index in range(segmentation.GetNumberOfSegments()):
            segmentId = segmentation.GetNthSegmentID(index)
            segment = segmentation.GetSegment(segmentId)
            # The name, not the ID (imports draw random IDs); label values and layers are storage detail.
            digest.update(f"{segment.GetName()}".encode())
            labelmap = segment.GetRepresentation("Binary labelmap")
            if labelmap is not None:
                _segmentDigest(digest, labelmap, segment.GetLabelValue())
    elif node.IsA("vtkMRMLVolumeNode") and node.GetImageData() is not None:
        _imageDigest(digest, node.GetImageData(), imageGrid.nodeIjkToRas(node))
    else:
        raise ValueError(f"'{node.GetName()}' is neither a volume nor a segmentation: no content checksum")
    return digest.hexdigest()


def inputEntry(description, node=None, path=None):
    """One row of the report's input list: what it is, where it came from, its checksums."""
    entry = {"description": description, "node": None, "files": [], "fileSha256": None, "contentSha256": None}
    if node is not None:
        entry["node"] = node.GetName()
        entry["contentSha256"] = contentSha256(node)
        files = _storageFiles(node)
    else:
        files = [os.path.abspath(path)] if path else []
    if path and node is not None:
        files = [os.path.abspath(path)]
    if files:
        entry["files"] = files
        if len(files) == 1:
            entry["fileSha256"] = fileSha256(files[0])
        else:
            # A DICOM series: the checksum of the sorted list of its files' checksums.
            entry["fileSha256"] = hashlib.sha256("\n".join(sorted(fileSha256(f) for f in files)).encode()).hexdigest()
    return entry


# --- the document -----------------------------------------------------------------------------


def _collectSources(value, found):
    """Every reference cited anywhere in the document (keys named source/reference), in order."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str) and item and (key.lower().endswith("source") or key.lower().endswith("reference")):
                # Literature only (it carries a year); "entered by the team" is a source, not a reference.
                if re.search(r"\b(19|20)\d{2}\b", item):
                    found.setdefault(item, None)
            else:
                _collectSources(item, found)
    elif isinstance(value, list):
        for item in value:
            _collectSources(item, found)
    return found


def _methods(document):
    latest = document["timePoints"][-1]["volumetry"]
    patient = latest["patient"] or {}
    methods = [
        {"topic": "Volumes", "text": f"{latest['volumeMethod']}; Couinaud segments as segmented (method per segment in the segment table)."},
        {"topic": "Future liver remnant", "text": "union of the remnant segments of the plan; tumour volume inside the remnant reported apart "
         "(functional %FLR excludes tumour); overlapping segments are never counted twice."},
    ]
    for key, what in (("bsaFormula", "Body surface area"), ("stlvFormula", "Standardised total liver volume (sTLV)")):
        formula = patient.get(key)
        if formula:
            methods.append({"topic": what, "text": f"{formula['label']}: {formula['equation']} ({formula['inputs']}). {formula['reference']}"})
    thresholds = latest["thresholds"]
    bwr = "no FLR-BWR cut-off for this condition" if thresholds["flrBwrMinimumPercent"] is None else (
        f"FLR-BWR <= {thresholds['flrBwrMinimumPercent']:g} % ({thresholds['flrBwrSource']}; {thresholds['flrBwrStatus']})")
    methods.append({
        "topic": "Remnant thresholds",
        "text": f"liver condition '{thresholds['condition']}', risk groups as published: sFLR <= {thresholds['sflrMinimumPercent']:g} % "
        f"({thresholds['sflrSource']}; {thresholds['sflrStatus']}); {bwr}. A criterion is met when the value as displayed is above "
        "its cut-off; borderline when the value's resolution interval (half a voxel across the tumour-free remnant's boundary, "
        "a worst-case bound from the voxel size) contains the cut-off. sFLR, FLR-BWR and FLR/BSA use the tumour-free remnant.",
    })
    methods.append({
        "topic": "Growth time base",
        "text": "DH from the last scan before stage 1; KGR = DH per week since stage 1 (Shindoh 2013; a PVE cut-off, nearly always "
        "met in ALPPS); %/day and mL/day per day since stage 1; growth between two scans after stage 1 is interval growth, "
        "per day between them, and is not used by the checklist.",
    })
    for key, definition in document["hypertrophy"]["definitions"].items():
        methods.append({"topic": definition["label"], "text": f"{definition['definition']} ({definition['unit']})"})
    for study in document["functionalStudies"]:
        mebrofenin = study["studies"].get("mebrofenin")
        if mebrofenin:
            uptake = mebrofenin.get("uptake", {})
            methods.append({"topic": "Mebrofenin uptake rate", "text": f"{uptake.get('method', '')} {uptake.get('reference', '')}".strip()
                            + f" Normalisation in use: {uptake.get('normalisationDefinition', 'as described above')}; unchecked: "
                            + clinicalCriteria.MUR_NORMALISATION_UNCHECKED + "; every FLR-F/BSA flag is marked unchecked."})
            share = mebrofenin.get("remnantShare", {})
            methods.append({"topic": "Remnant share of mebrofenin uptake (FLR-C)", "text": f"{share.get('method', '')} {share.get('reference', '')}".strip()})
    return methods


def buildReportDocument(scene, request):
    """The report document of one patient, from ``request`` (reportRequest.ReportRequest): its
    plan followed over time with the comparison plans measured beside it at every time point, the
    time points (default: those stored in ``scene``), the identity (default: read from the
    subject hierarchy above the scans), and the files and nodes it was made from. Every scan and
    segmentation of the time points is listed with checksums.
    """
    points = timeline.sortedTimePoints(list(request.timePoints) if request.timePoints is not None else timeline.timePointsInScene(scene))
    if not points:
        raise ValueError("No time points to report: store at least one scan with its segmentation as a time point")
    plan, stage1Date = request.plan, request.stage1Date
    plans = [plan] + [other for other in request.comparisonPlans if other.key != plan.key]
    # One volumetry pass per scan gives the growth and every plan of the plan table.
    growth = timePointCourse.measureHypertrophy(points, plan, request.settings, stage1Date, request.allowDifferentPlans, plans)
    readiness = stageTwoReadiness.readinessChecklist(growth, request.stage1LiverFailure, request.remnantFunctionPerBsa)
    nodes = [node for point in points for node in (point.volumeNode, point.segmentationNode) if node is not None]
    identity = request.identity if request.identity is not None else patientIdentity.identityOfNodes(scene, nodes)
    timePointDocuments, functionalStudies, inputs = [], [], []
    for point, measured in zip(points, growth.timePoints):
        timePointDocuments.append({
            "role": point.role,
            "studyDate": point.studyDate.isoformat(),
            "daysAfterStage1": timeline.daysAfterStage1(point.studyDate, stage1Date) if stage1Date else None,
            "segmentation": point.segmentationNode.GetName(),
            "volume": point.volumeNode.GetName() if point.volumeNode is not None else None,
            "volumetry": futureLiverRemnant.volumetryToDict(measured.volumetry),
        })
        studies = timeline.functionalStudiesOfNode(point.segmentationNode)
        if studies or point.remnantFunction:
            functionalStudies.append({"role": point.role, "studyDate": point.studyDate.isoformat(),
                                      "remnantFunction": dict(point.remnantFunction), "studies": studies})
        if point.volumeNode is not None:
            inputs.append(inputEntry(f"Scan, {point.role}", point.volumeNode))
        inputs.append(inputEntry(f"Segmentation, {point.role}", point.segmentationNode))
    inputs.extend(inputEntry(description, node) for description, node in request.extraInputNodes)
    inputs.extend(inputEntry(description, path=path) for description, path in request.inputFiles)
    from ALPPSVolumetryLib import __version__

    body = timePointDocuments[-1]["volumetry"]["patient"] or {}  # None without height and weight
    firstDate = points[0].studyDate
    birthDate = _isoDate(identity.birthDate)
    document = {
        "schema": SCHEMA,
        "software": {"name": "ALPPS", "version": __version__, "volumeMethod": segmentVolumes.VOLUME_METHOD},
        "report": {
            "createdUtc": request.createdUtc or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "anonymised": False,
            "decisionSupport": DECISION_SUPPORT_STATEMENT,
        },
        "patient": {
            "name": identity.name,
            "displayName": identity.displayName(),
            "patientId": identity.patientId,
            "birthDate": birthDate,
            "ageYearsAtFirstScan": _ageYears(birthDate, firstDate),
            "sex": identity.sex,
            "heightCm": body.get("heightCm"),
            "weightKg": body.get("weightKg"),
            "bsaM2": body.get("bsaM2"),
            "standardLiverVolumeMl": body.get("standardLiverVolumeMl"),
            "liverCondition": timePointDocuments[-1]["volumetry"]["liverCondition"],
        },
        "identifiers": {
            "studies": [{**vars(study), "studyDate": _isoDate(study.studyDate)} for study in identity.studies],
            "seriesUids": list(identity.seriesUids),
        },
        "stage1Date": stage1Date.isoformat() if stage1Date else None,
        "plan": {"key": plan.key, "label": plan.label, "remnantSegments": list(plan.remnantSegments),
                 "resectedSegments": list(plan.resectedSegments)},
        "comparisonPlans": [{"key": other.key, "label": other.label} for other in plans[1:]],
        "timePoints": timePointDocuments,
        "hypertrophy": timePointCourse.hypertrophyToDict(growth),
        "readiness": stageTwoReadiness.readinessToList(readiness),
        "stage1LiverFailure": request.stage1LiverFailure,
        "functionalStudies": functionalStudies,
        "inputs": inputs,
        "pictures": [],
    }
    document["methods"] = _methods(document)
    document["references"] = list(_collectSources(document, {}))
    return document


# --- anonymisation ----------------------------------------------------------------------------


def namePartsOf(patient):
    """Every part of the patient's name: DICOM person names split at '^' (components), '='
    (alphabetic, ideographic and phonetic groups), spaces, commas and hyphens."""
    parts = set()
    for text in (patient.get("name") or "", patient.get("displayName") or ""):
        parts.update(part.strip() for part in re.split(r"[\^=\s,\-]+", text))
    return {part for part in parts if part}


def identifyingStrings(document):
    """Every identifier of the patient the document holds: names (whole and by part), IDs, dates,
    UIDs, accession numbers, node names and file paths (a file name may carry a name)."""
    patient, identifiers = document["patient"], document["identifiers"]
    strings = {patient.get("name") or "", patient.get("displayName") or "", patient.get("patientId") or ""}
    strings.update(namePartsOf(patient))
    birthDate = patient.get("birthDate") or ""
    strings.update({birthDate, birthDate.replace("-", "")})
    for study in identifiers["studies"]:
        strings.update({study.get("studyInstanceUid") or "", study.get("accessionNumber") or "", study.get("studyId") or ""})
    strings.update(identifiers["seriesUids"])
    for entry in document["inputs"]:
        strings.add(entry.get("node") or "")
        for path in entry.get("files") or ():
            strings.update({path, os.path.basename(path), os.path.dirname(path)})
    for point in document["timePoints"]:
        strings.update({point.get("segmentation") or "", point.get("volume") or ""})
    return sorted((text for text in strings if text), key=len, reverse=True)


def _relativeDay(isoText, referenceDate, referenceName):
    day = (datetime.date.fromisoformat(isoText) - referenceDate).days
    return f"day {day:+d} ({referenceName})"


def anonymiseDocument(document, pseudonym=ANONYMISED_NAME):
    """A copy of the report document without the patient's identifiers: name, ID and birth date
    are replaced by ``pseudonym`` (or left out), calendar dates become days after stage 1 (after
    the first scan without a stage 1 date), node names become roles, file paths are dropped (their
    checksums stay, so the inputs can still be matched by whoever holds them)."""
    strings = identifyingStrings(document)
    if document.get("stage1Date"):
        reference, referenceName = datetime.date.fromisoformat(document["stage1Date"]), "stage 1 = day 0"
    else:
        reference, referenceName = datetime.date.fromisoformat(document["timePoints"][0]["studyDate"]), "first scan = day 0"
    knownDates = {point["studyDate"] for point in document["timePoints"]}
    knownDates.update(study["studyDate"] for study in document["identifiers"]["studies"] if study.get("studyDate"))
    if document.get("stage1Date"):
        knownDates.add(document["stage1Date"])
    nodeLabels = {}
    for point in document["timePoints"]:
        for key, what in (("segmentation", "segmentation"), ("volume", "scan")):
            if point.get(key):
                nodeLabels[point[key]] = f"{what}, {point['role']}"
    for entry in document["inputs"]:
        if entry.get("node"):
            nodeLabels.setdefault(entry["node"], entry["description"])
    wholeFields = set(strings)
    # A short name part ('Li', 'Wu') is removed where it stands as a word; inside other words it
    # is left, or 'Li' would take the 'li' out of 'liver'.
    shortNameParts = [re.compile(rf"(?<![A-Za-z0-9]){re.escape(part)}(?![A-Za-z0-9])", re.IGNORECASE)
                      for part in namePartsOf(document["patient"]) if len(part) < _MIN_SUBSTRING_LENGTH]

    def scrub(text):
        if text in nodeLabels:
            return nodeLabels[text]
        if text in wholeFields:
            return REMOVED
        for identifier in strings:
            if len(identifier) >= _MIN_SUBSTRING_LENGTH:
                text = re.sub(re.escape(identifier), REMOVED, text, flags=re.IGNORECASE)
        for pattern in shortNameParts:
            text = pattern.sub(REMOVED, text)
        text = _ISO_DATE.sub(lambda match: _relativeDay(match.group(0), reference, referenceName), text)

        def dicomDate(match):
            iso = f"{match.group(1)}-{match.group(2)}-{match.group(3)}"
            return _relativeDay(iso, reference, referenceName) if iso in knownDates else match.group(0)

        return _DICOM_DATE.sub(dicomDate, text)

    def walk(value):
        if isinstance(value, dict):
            return {key: walk(item) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item) for item in value]
        if isinstance(value, str):
            return scrub(value)
        return value

    result = walk(document)  # a new structure: the caller's document stays as it was
    result["patient"].update({"name": pseudonym, "displayName": pseudonym, "patientId": pseudonym, "birthDate": None})
    age = result["patient"].get("ageYearsAtFirstScan")
    if age is not None and age >= 90:
        result["patient"]["ageYearsAtFirstScan"] = "90 or older"  # exact ages above 89 identify (HIPAA Safe Harbor)
    result["identifiers"] = {"studies": [], "seriesUids": []}
    result["report"]["anonymised"] = True
    result["report"]["createdUtc"] = None
    result["report"]["anonymisation"] = (
        "Name, patient ID and birth date replaced or removed; study and series identifiers, accession numbers and "
        f"file paths removed; calendar dates given as days relative to {referenceName.split(' = ')[0]}; age kept in years."
    )
    for entry in result["inputs"]:
        entry["files"] = [REMOVED] * len(entry.get("files") or ())
    return result
