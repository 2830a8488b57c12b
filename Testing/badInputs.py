"""Damaged and implausible inputs made on the fly from good ones (no binary fixtures): image
files written by SimpleITK (an independent writer) and then cut or patched byte by byte, and
DICOM series copied from ../shared/data and then altered with pydicom."""

import gzip
import os
import shutil
import struct

import numpy as np


def writeImage(path, array, spacing=(1.5, 1.5, 2.0), origin=(0.0, 0.0, 0.0), compress=None):
    """``array`` [k, j, i] written by SimpleITK."""
    import SimpleITK as sitk

    image = sitk.GetImageFromArray(np.asarray(array))
    image.SetSpacing(tuple(float(value) for value in spacing))
    image.SetOrigin(origin)
    sitk.WriteImage(image, str(path), useCompression=path.endswith(".gz") if compress is None else compress)
    return str(path)


def phantomLabels(shape=(20, 24, 28), dtype=np.uint8):
    """Two boxes labelled 1 and 2: 6x8x10 = 480 and 4x4x4 = 64 voxels."""
    labels = np.zeros(shape, dtype=dtype)
    labels[2:8, 2:10, 2:12] = 1
    labels[12:16, 12:16, 12:16] = 2
    return labels


def noisyLabels(shape=(40, 40, 40), seed=3):
    """Labels 0-3 at random: data that compresses poorly, so that a cut lands in the voxel data."""
    return np.random.default_rng(seed).integers(0, 4, size=shape).astype(np.uint8)


def truncated(source, target, fraction=None, keep=None):
    data = open(source, "rb").read()
    size = keep if keep is not None else int(len(data) * fraction)
    open(target, "wb").write(data[:size])
    return str(target)


def patched(source, target, offset, fmt, *values):
    """Copy of an uncompressed file with ``struct.pack(fmt, *values)`` written at ``offset``."""
    data = bytearray(open(source, "rb").read())
    packed = struct.pack(fmt, *values)
    data[offset : offset + len(packed)] = packed
    open(target, "wb").write(bytes(data))
    return str(target)


def patchedGzip(source, target, offset, fmt, *values):
    """Copy of a .nii.gz with bytes of its decoded stream replaced (then compressed again)."""
    data = bytearray(gzip.decompress(open(source, "rb").read()))
    packed = struct.pack(fmt, *values)
    data[offset : offset + len(packed)] = packed
    open(target, "wb").write(gzip.compress(bytes(data)))
    return str(target)


def nrrdWithHeader(source, target, replace):
    """Copy of a NRRD whose header lines are changed: ``replace`` {old text: new text}."""
    data = open(source, "rb").read()
    end = data.index(b"\n\n")
    header = data[:end].decode("latin-1")
    for old, new in replace.items():
        assert old in header, old
        header = header.replace(old, new)
    open(target, "wb").write(header.encode("latin-1") + data[end:])
    return str(target)


def damagedMiddle(source, target):
    """A compressed file with garbage in the middle of its stream."""
    data = bytearray(open(source, "rb").read())
    middle = len(data) // 2
    data[middle : middle + 64] = b"\xff" * 64
    open(target, "wb").write(bytes(data))
    return str(target)


# --- a good course of scans ----------------------------------------------------------------------

COUINAUD_LABELS = ",".join(f"{value}=Segment {numeral}" for value, numeral in enumerate(("I", "II", "III", "IV", "V", "VI", "VII", "VIII"), 1))


def writeOnGrid(path, labels, ijkToRAS):
    """A label array [k, j, i] written by SimpleITK on the grid of the 4x4 IJK-to-RAS matrix."""
    import SimpleITK as sitk

    image = sitk.GetImageFromArray(labels)
    spacing = np.linalg.norm(ijkToRAS[:3, :3], axis=0)
    lps = np.diag([-1.0, -1.0, 1.0])
    image.SetSpacing(tuple(float(value) for value in spacing))
    image.SetDirection(tuple(float(value) for value in (lps @ ijkToRAS[:3, :3] / spacing).ravel()))
    image.SetOrigin(tuple(float(value) for value in lps @ ijkToRAS[:3, 3]))
    sitk.WriteImage(image, str(path))
    return str(path)


def syntheticCourse(scene, folder, count=3, spacing=(4.0, 4.0, 4.0)):
    """The synthetic patient's first ``count`` scans as CT .nrrd and Couinaud label map .nii.gz
    files in ``folder``: (patient, [(date text, CT path, label map path)])."""
    from ALPPSVolumetryLib import syntheticPatient, syntheticPatientScene

    patient = syntheticPatient.makeSyntheticPatient(spacing=spacing)
    os.makedirs(folder, exist_ok=True)
    entries = []
    for index, point in enumerate(patient.timePoints[:count]):
        volumeNode, _ = syntheticPatientScene.addTimePointNodes(scene, point, f"C{index}")
        ct = os.path.join(folder, f"ct{index}.nrrd")
        storage = volumeNode.CreateDefaultStorageNode()
        storage.SetFileName(ct)
        assert storage.WriteData(volumeNode)
        labels = writeOnGrid(os.path.join(folder, f"labels{index}.nii.gz"), point.couinaudLabels, point.ijkToRAS)
        entries.append((point.studyDate.isoformat(), ct, labels))
    return patient, entries


# --- DICOM -------------------------------------------------------------------------------------


def ircadSlices(sharedData):
    """The IRCAD CT's slice files in anatomical order (names carry no order)."""
    from ALPPSAssessmentLib.dicom import dicomIndex

    index = dicomIndex.indexDicomFolder(os.path.join(sharedData, "ircad1", "PATIENT_DICOM"))
    return index.patients[0].studies[0].series[0].files


def dicomCopy(files, target, count=8, start=40):
    """``count`` neighbouring slices copied into folder ``target``; returns their paths in order."""
    os.makedirs(target, exist_ok=True)
    copies = []
    for number, path in enumerate(files[start : start + count]):
        copy = os.path.join(str(target), f"slice{number:03d}.dcm")
        shutil.copyfile(path, copy)
        copies.append(copy)
    return copies


def editDicom(path, change):
    import pydicom

    dataset = pydicom.dcmread(path)
    change(dataset)
    dataset.save_as(path)
