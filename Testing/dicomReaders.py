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

    os.makedirs(folder, exist_ok=True)
    subprocess.run([tool("segimage2itkimage"), "--inputDICOM", segPath, "--outputDirectory", folder], check=True, capture_output=True, timeout=300)
    with open(os.path.join(folder, "meta.json"), encoding="utf-8") as stream:
        labels = {item["labelID"]: item["SegmentLabel"] for group in json.load(stream)["segmentAttributes"] for item in group}
    counts = {}
    for path in glob.glob(os.path.join(folder, "*.nrrd")):
        number = int(os.path.basename(path).split(".")[0])
        counts[labels[number]] = int(np.count_nonzero(sitk.GetArrayFromImage(sitk.ReadImage(path))))
    return counts


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
