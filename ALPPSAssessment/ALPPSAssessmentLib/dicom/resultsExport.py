"""`alpps dicom-export`: every time point's DICOM SEG and TID 1500 report, and the patient report
as Encapsulated PDF in the latest study, written to a new folder with a manifest
(alpps-dicom-export.json) of the objects, their segments' voxel counts and the numbers reported.

The numbers come from one report document (patientReport.buildReportDocument), the same the
HTML, CSV and PDF are written from. The folder is written aside and moved into place only when
complete: on any error nothing is left in it."""

import dataclasses
import json
import os
import re
import shutil
import tempfile

from ..report import patientReport, reportExport
from . import encapsulatedReport, measurementReport, pseudonym, segmentationObject

MANIFEST = "alpps-dicom-export.json"
SCHEMA = "alpps-dicom-export/1"
IMAGE_MODALITIES = ("CT", "MR")
SEG_FILE, SR_FILE, PDF_FILE = "SEG.dcm", "SR.dcm", "REPORT-PDF.dcm"


def _folderName(role):
    return re.sub(r"[^A-Za-z0-9]+", "-", role).strip("-").lower()


def sourceDatasets(point):
    """The DICOM slices (pixel data included) the time point's scan was read from, in the volume's
    slice order; ValueError when the scan is not a DICOM image series."""
    import pydicom

    volumeNode = point.volumeNode
    if volumeNode is None:
        raise ValueError(f"Time point {point.label} has no scan: DICOM results reference the CT series they were measured on")
    storage = volumeNode.GetStorageNode()
    files = [storage.GetNthFileName(index) for index in range(storage.GetNumberOfFileNames())] if storage else []
    files = files or ([storage.GetFileName()] if storage is not None and storage.GetFileName() else [])
    datasets = []
    for path in files:
        try:
            datasets.append(pydicom.dcmread(path))
        except (pydicom.errors.InvalidDicomError, OSError):
            raise ValueError(
                f"Time point {point.label}: scan '{volumeNode.GetName()}' was not read from a DICOM series ('{path}'): DICOM SEG and "
                "SR must reference their source CT; give the scan as its DICOM folder"
            ) from None
    if not datasets:
        raise ValueError(f"Time point {point.label}: scan '{volumeNode.GetName()}' has no files: give the scan as its DICOM folder")
    modality = str(datasets[0].get("Modality", ""))
    if modality not in IMAGE_MODALITIES:
        raise ValueError(f"Time point {point.label}: series {datasets[0].SeriesInstanceUID} is modality '{modality}', "
                         f"not an image series ({' or '.join(IMAGE_MODALITIES)})")
    return datasets


def withFrameOfReference(datasets, notes):
    """A series without a Frame of Reference UID (legal for a CT, required by a SEG) gets one for the
    results, derived from its series UID (the same every time); the scan itself is not changed."""
    if datasets[0].get("FrameOfReferenceUID"):
        return datasets
    from pydicom.uid import generate_uid

    uid = generate_uid(entropy_srcs=["ALPPS frame of reference", str(datasets[0].SeriesInstanceUID)])
    notes.append(f"Series {datasets[0].SeriesInstanceUID} has no Frame of Reference UID: its SEG and SR carry {uid}, derived from "
                 "the series UID")
    copies = []
    for dataset in datasets:
        copy = dataset.copy()
        copy.FrameOfReferenceUID = uid
        copies.append(copy)
    return copies


def _checkOutputFree(outputDirectory):
    if os.path.exists(outputDirectory) and (not os.path.isdir(outputDirectory) or os.listdir(outputDirectory)):
        raise ValueError(f"Output folder '{outputDirectory}' exists and is not empty: expected a new or empty folder")


def _startOutput(outputDirectory):
    _checkOutputFree(outputDirectory)
    parent = os.path.dirname(os.path.abspath(outputDirectory))
    os.makedirs(parent, exist_ok=True)
    return tempfile.mkdtemp(prefix=".alpps-dicom-export-", dir=parent)


def _finishOutput(staging, outputDirectory):
    if os.path.isdir(outputDirectory):
        os.rmdir(outputDirectory)  # empty, checked at the start
    os.rename(staging, outputDirectory)


def _entry(what, role, path, dataset, staging):
    return {"what": what, "timePoint": role, "path": os.path.relpath(path, staging), "sopClassUid": str(dataset.SOPClassUID),
            "sopInstanceUid": str(dataset.SOPInstanceUID), "seriesInstanceUid": str(dataset.SeriesInstanceUID),
            "studyInstanceUid": str(dataset.StudyInstanceUID)}


def _reportPdf(document, points, request, studyDataset, softwareVersion):
    """The Encapsulated PDF, or (None, reason) when the report cannot be printed."""
    with tempfile.TemporaryDirectory() as folder:
        pictures, notes = reportExport.reportPictures(points[-1], request.plan, with3D=False)
        _, paths = reportExport.writePatientReport(folder, document, pictures, (), request.anonymise, request.pseudonym, notes)
        pdfPath = os.path.join(folder, "report.pdf")
        reason = encapsulatedReport.printReportPdf(paths["html"], pdfPath)
        if reason:
            return None, reason
        with open(pdfPath, "rb") as stream:
            return encapsulatedReport.encapsulatePdf(stream.read(), studyDataset, softwareVersion=softwareVersion), None


def exportDicomResults(outputDirectory, scene, request, withPdf=True):
    """Write the DICOM results of the report ``request`` (reportRequest.ReportRequest; its time
    points' scans read from DICOM, pseudonymised when it is anonymised) to the new folder
    ``outputDirectory``; returns the manifest."""
    from ALPPSVolumetryLib import __version__

    _checkOutputFree(outputDirectory)  # before the measuring, which takes a while
    points = sorted(request.timePoints, key=lambda point: point.studyDate)
    sources = [sourceDatasets(point) for point in points]  # refuse non-DICOM scans before measuring
    document = patientReport.buildReportDocument(scene, dataclasses.replace(request, timePoints=points))
    plan, anonymise, pseudonymText = request.plan, request.anonymise, request.pseudonym
    # Identifiers in the manifest's strings (node names, paths) follow the objects: pseudonymised too.
    shown = patientReport.anonymiseDocument(document, pseudonymText) if anonymise else document
    staging = _startOutput(outputDirectory)
    try:
        renamer = pseudonym.Pseudonymiser(pseudonymText) if anonymise else None
        manifest = {"schema": SCHEMA, "software": {"name": "ALPPS", "version": __version__}, "anonymised": anonymise,
                    "plan": plan.key, "objects": [], "timePoints": [], "notes": []}
        for index, (point, datasets) in enumerate(zip(points, sources)):
            folder = os.path.join(staging, _folderName(point.role))
            os.makedirs(folder)
            datasets = withFrameOfReference(datasets, manifest["notes"])
            if renamer is not None:
                datasets = [renamer.dataset(dataset) for dataset in datasets]
                os.makedirs(os.path.join(folder, "CT"))
                for number, dataset in enumerate(datasets, 1):
                    path = os.path.join(folder, "CT", f"{number:04d}.dcm")
                    dataset.save_as(path, enforce_file_format=True)
                manifest["objects"].append(_entry("scan (pseudonymised copy)", point.role, os.path.join(folder, "CT"), datasets[0], staging))
            measured = shown["timePoints"][index]
            seg = segmentationObject.buildSegmentation(point.segmentationNode, point.volumeNode, datasets, plan,
                                                       softwareVersion=__version__, seriesDescription=f"ALPPS segmentation, {point.role}")
            differences = measurementReport.gridDifferences(measured["volumetry"], plan.key, seg)
            if differences:
                label, (onGrid, volume) = max(differences.items(), key=lambda item: abs(item[1][0] - item[1][1]))
                manifest["notes"].append(
                    f"Time point {point.role}: the segmentation lies on another grid than its CT; resampled onto the CT's grid for the "
                    f"SEG, {len(differences)} segment volumes differ from the measured ones, most '{label}' ({onGrid:.2f} vs {volume:.2f} mL); "
                    "the SR reports the measured volumes")
            latest = index == len(points) - 1
            sr = measurementReport.buildMeasurementReport(
                measured["volumetry"], plan.key, seg, datasets, shown["hypertrophy"] if latest else None,
                shown["readiness"] if latest else None, point.role, softwareVersion=__version__,
                seriesDescription=f"ALPPS measurements, {point.role}",
            )
            for what, dataset, name in (("DICOM SEG", seg.dataset, SEG_FILE), ("TID 1500 measurement report", sr, SR_FILE)):
                path = os.path.join(folder, name)
                dataset.save_as(path, enforce_file_format=True)
                manifest["objects"].append(_entry(what, point.role, path, dataset, staging))
            manifest["timePoints"].append({
                "role": point.role, "studyDate": measured["studyDate"], "volumetry": measured["volumetry"],
                "segments": {str(seg.dataset.SegmentSequence[number - 1].SegmentLabel): {
                    "segmentNumber": number, "key": list(key), "voxelCount": seg.voxelCounts[key],
                    "volumeMl": seg.voxelCounts[key] * seg.voxelVolumeMl} for key, number in seg.segmentNumbers.items()},
            })
        manifest["hypertrophy"], manifest["readiness"] = shown["hypertrophy"], shown["readiness"]
        if withPdf:
            pdf, reason = _reportPdf(document, points, request, datasets[0], __version__)
            if pdf is None:
                manifest["notes"].append(reason)
            else:
                path = os.path.join(staging, _folderName(points[-1].role), PDF_FILE)
                pdf.save_as(path, enforce_file_format=True)
                manifest["objects"].append(_entry("patient report (Encapsulated PDF)", points[-1].role, path, pdf, staging))
        if anonymise:
            manifest["pseudonym"] = pseudonymText
        with open(os.path.join(staging, MANIFEST), "w", encoding="utf-8") as stream:
            json.dump(manifest, stream, indent=2)
        _finishOutput(staging, outputDirectory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest
