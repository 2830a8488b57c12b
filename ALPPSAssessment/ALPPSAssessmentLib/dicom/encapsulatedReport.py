"""The patient report as a DICOM Encapsulated PDF in the latest study: printed to A4 by headless
Chromium (as a reader's browser prints it), wrapped with pydicom in the patient and study of
the latest scan."""

import datetime
import os
import shutil
import subprocess
import tempfile

from . import codes

ENCAPSULATED_PDF_STORAGE = "1.2.840.10008.5.1.4.1.1.104.1"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-pdf-header-footer")
PRINT_TIMEOUT_SECONDS = 180
# Patient and study attributes the PDF takes from the scan of its study.
_PATIENT_AND_STUDY = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID", "StudyDate", "StudyTime",
                      "StudyID", "AccessionNumber", "ReferringPhysicianName", "StudyDescription")


def chromiumPath():
    return shutil.which("chromium") or shutil.which("chromium-browser")


def printReportPdf(htmlPath, pdfPath):
    """Print the HTML report to an A4 PDF with headless Chromium. Returns None when done, else the
    reason it was not (Chromium absent, or its failure)."""
    chromium = chromiumPath()
    if chromium is None:
        return "Chromium is not installed (apt-get install chromium): no PDF of the report"
    with tempfile.TemporaryDirectory() as profile:
        try:
            completed = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={pdfPath}",
                                        "file://" + os.path.abspath(htmlPath)], capture_output=True, text=True, timeout=PRINT_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            return f"Chromium did not print the report within {PRINT_TIMEOUT_SECONDS} s"
    if not os.path.isfile(pdfPath) or os.path.getsize(pdfPath) == 0:
        return f"Chromium printed no PDF (exit status {completed.returncode}): {completed.stderr.strip()[-300:]}"
    return None


def encapsulatePdf(pdfBytes, studyDataset, title="ALPPS patient report", seriesNumber=500, softwareVersion=""):
    """A DICOM Encapsulated PDF of ``pdfBytes`` in the patient and study of ``studyDataset`` (a
    slice of the study's scan)."""
    import pydicom
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    if not pdfBytes.startswith(b"%PDF-"):
        raise ValueError("The report to encapsulate is not a PDF (it does not start with %PDF-)")
    now = datetime.datetime.now()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ENCAPSULATED_PDF_STORAGE
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset = pydicom.Dataset()
    dataset.file_meta = meta
    dataset.SpecificCharacterSet = "ISO_IR 192"
    dataset.SOPClassUID, dataset.SOPInstanceUID = ENCAPSULATED_PDF_STORAGE, meta.MediaStorageSOPInstanceUID
    for keyword in _PATIENT_AND_STUDY:
        setattr(dataset, keyword, studyDataset.get(keyword, ""))
    dataset.Modality, dataset.SeriesInstanceUID, dataset.SeriesNumber = "DOC", generate_uid(), seriesNumber
    dataset.SeriesDescription = title
    dataset.Manufacturer, dataset.SoftwareVersions = "ALPPS extension for 3D Slicer", softwareVersion or "unknown"
    dataset.ConversionType = "WSD"  # workstation
    dataset.InstanceNumber = 1
    dataset.ContentDate, dataset.ContentTime = now.strftime("%Y%m%d"), now.strftime("%H%M%S")
    dataset.AcquisitionDateTime = now.strftime("%Y%m%d%H%M%S")
    dataset.BurnedInAnnotation = "YES"  # the report names the patient
    dataset.DocumentTitle = title
    concept = pydicom.Dataset()
    concept.CodeValue, concept.CodingSchemeDesignator, concept.CodeMeaning = codes.PATIENT_REPORT
    dataset.ConceptNameCodeSequence = [concept]
    dataset.MIMETypeOfEncapsulatedDocument = "application/pdf"
    dataset.EncapsulatedDocumentLength = len(pdfBytes)
    dataset.EncapsulatedDocument = pdfBytes + (b"\0" if len(pdfBytes) % 2 else b"")
    return codes.declarePrivateScheme(dataset)
