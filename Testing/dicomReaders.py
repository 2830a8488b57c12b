"""The independent readers of the DICOM objects ALPPS writes: dcmqi (PyPI, test extra) and
dicom3tools' dciodvfy (Debian); a test needing one skips with the reason when it is absent."""

import glob
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

_DCMQI = ("segimage2itkimage", "tid1500reader")


def tool(name):
    path = shutil.which(name) or shutil.which(name, path=os.path.dirname(sys.executable))
    if path is None:
        pytest.skip(f"{name} is not installed ({'pip install dcmqi' if name in _DCMQI else 'apt-get install dicom3tools'})")
    return path


def dcmqiVoxelCounts(segPath, folder):
    """{segment label: voxel count} of a DICOM SEG as dcmqi's segimage2itkimage reads it."""
    import SimpleITK as sitk

    return {label: int(np.count_nonzero(sitk.GetArrayFromImage(image))) for label, image in dcmqiSegments(segPath, folder).items()}


def physicalCentroid(image, value=None):
    """Centroid (LPS mm) of an image's non-zero voxels (or those equal to ``value``)."""
    import SimpleITK as sitk

    array = sitk.GetArrayFromImage(image)
    k, j, i = np.nonzero(array if value is None else array == value)
    return np.array(image.TransformContinuousIndexToPhysicalPoint((float(i.mean()), float(j.mean()), float(k.mean()))))


def dcmqiSegments(segPath, folder):
    """{segment label: SimpleITK image} of a DICOM SEG as dcmqi's segimage2itkimage writes them."""
    import SimpleITK as sitk

    os.makedirs(folder, exist_ok=True)
    subprocess.run([tool("segimage2itkimage"), "--inputDICOM", segPath, "--outputDirectory", folder], check=True, capture_output=True, timeout=300)
    with open(os.path.join(folder, "meta.json"), encoding="utf-8") as stream:
        labels = {item["labelID"]: item["SegmentLabel"] for group in json.load(stream)["segmentAttributes"] for item in group}
    return {labels[int(os.path.basename(path).split(".")[0])]: sitk.ReadImage(path) for path in glob.glob(os.path.join(folder, "*.nrrd"))}


def tid1500Measurements(srPath, jsonPath):
    """The measurement groups of a TID 1500 SR as dcmqi's tid1500reader reads them."""
    subprocess.run([tool("tid1500reader"), "--inputDICOM", srPath, "--outputMetadata", jsonPath], check=True, capture_output=True, timeout=120)
    with open(jsonPath, encoding="utf-8") as stream:
        return json.load(stream)["Measurements"]


def dciodvfyMessages(path):
    """(errors, warnings) dciodvfy reports for a DICOM file."""
    completed = subprocess.run([tool("dciodvfy"), path], capture_output=True, text=True, timeout=120)
    lines = (completed.stdout + completed.stderr).splitlines()
    return [line for line in lines if line.startswith("Error")], [line for line in lines if line.startswith("Warning")]
