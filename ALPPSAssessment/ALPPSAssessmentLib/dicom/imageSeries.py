"""A scalar volume written as a single-frame DICOM CT series (pydicom): the synthetic patient's
scans as a scanner would send them, so that the DICOM results can reference a real source series.

Slicer holds volumes in RAS with voxels indexed [k, j, i]; DICOM describes slices in LPS, with
rows along j and columns along i, one file per k.
"""

import datetime
import os

import numpy as np

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"


def _lps(vector):
    return [-float(vector[0]), -float(vector[1]), float(vector[2])]


def _decimal(value):
    return f"{value:.6f}".rstrip("0").rstrip(".") or "0"


def writeCtSeries(folder, voxels, ijkToRAS, patient, study, seriesDescription="CT", seriesNumber=1):
    """Write ``voxels`` (int16 [k, j, i], Hounsfield units) as one file per slice in ``folder``.

    ``patient``: {name, patientId, birthDate (YYYYMMDD), sex}; ``study``: {studyInstanceUid,
    studyDate (datetime.date), studyId, accessionNumber, description}. Returns the series'
    (SeriesInstanceUID, [paths in slice order])."""
    import pydicom
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    voxels = np.asarray(voxels)
    if voxels.ndim != 3 or voxels.dtype != np.int16:
        raise ValueError(f"A CT series needs int16 voxels indexed [k, j, i]; got {voxels.dtype} of shape {voxels.shape}")
    matrix = np.asarray(ijkToRAS, dtype=float)
    spacing = np.linalg.norm(matrix[:3, :3], axis=0)
    rowDirection, columnDirection = matrix[:3, 0] / spacing[0], matrix[:3, 1] / spacing[1]
    os.makedirs(folder, exist_ok=True)
    seriesUid, frameOfReferenceUid = generate_uid(), generate_uid()
    studyDate = study["studyDate"].strftime("%Y%m%d")
    now = datetime.datetime.now()
    paths = []
    for k in range(voxels.shape[0]):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CT_IMAGE_STORAGE
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        dataset = pydicom.Dataset()
        dataset.file_meta = meta
        dataset.SpecificCharacterSet = "ISO_IR 192"
        dataset.SOPClassUID, dataset.SOPInstanceUID = CT_IMAGE_STORAGE, meta.MediaStorageSOPInstanceUID
        dataset.PatientName, dataset.PatientID = patient["name"], patient["patientId"]
        dataset.PatientBirthDate, dataset.PatientSex = patient.get("birthDate", ""), patient.get("sex", "")
        dataset.StudyInstanceUID, dataset.StudyDate, dataset.StudyTime = study["studyInstanceUid"], studyDate, "090000"
        dataset.StudyID, dataset.AccessionNumber = study.get("studyId", "1"), study.get("accessionNumber", "")
        dataset.StudyDescription, dataset.ReferringPhysicianName = study.get("description", ""), ""
        dataset.Modality, dataset.SeriesInstanceUID, dataset.SeriesNumber = "CT", seriesUid, seriesNumber
        dataset.SeriesDescription, dataset.SeriesDate, dataset.SeriesTime = seriesDescription, studyDate, "090000"
        dataset.FrameOfReferenceUID, dataset.PositionReferenceIndicator = frameOfReferenceUid, ""
        dataset.Manufacturer = "ALPPS synthetic patient"
        dataset.InstanceNumber = k + 1
        dataset.ContentDate, dataset.ContentTime = now.strftime("%Y%m%d"), now.strftime("%H%M%S")
        dataset.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        dataset.PatientOrientation = ""
        dataset.ImagePositionPatient = [_decimal(value) for value in _lps(matrix[:3, :3] @ [0, 0, k] + matrix[:3, 3])]
        dataset.ImageOrientationPatient = [_decimal(value) for value in _lps(rowDirection) + _lps(columnDirection)]
        dataset.PixelSpacing = [_decimal(spacing[1]), _decimal(spacing[0])]  # between rows, between columns
        dataset.SliceThickness = _decimal(spacing[2])
        dataset.SamplesPerPixel, dataset.PhotometricInterpretation = 1, "MONOCHROME2"
        dataset.Rows, dataset.Columns = int(voxels.shape[1]), int(voxels.shape[2])
        dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit, dataset.PixelRepresentation = 16, 16, 15, 1
        dataset.RescaleIntercept, dataset.RescaleSlope, dataset.RescaleType = "0", "1", "HU"
        dataset.KVP, dataset.AcquisitionNumber = "120", 1
        dataset.PixelData = np.ascontiguousarray(voxels[k]).astype("<i2").tobytes()
        path = os.path.join(folder, f"CT{k + 1:04d}.dcm")
        dataset.save_as(path, enforce_file_format=True)
        paths.append(path)
    return seriesUid, paths
