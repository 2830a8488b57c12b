"""The demo's synthetic patient as DICOM results, checked by the independent readers: writes each
time point's CT (demo spacing, the arrays the demo measures) as a DICOM series and its
segmentation as .seg.nrrd, runs `alpps dicom-export`, then dcmqi's segimage2itkimage and
tid1500reader and dicom3tools' dciodvfy on every object, and prints what they say.

    .venv/bin/python Utilities/dicomDemo.py --out alpps-dicom-demo

Needs pip's dcmqi (test extra) and Debian's dicom3tools; Chromium for the report PDF.
"""

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "..", "Testing"), os.path.join(HERE, "..", "ALPPSVolumetry"), os.path.join(HERE, "..", "ALPPSAssessment")]


def _tool(name):
    return shutil.which(name) or shutil.which(name, path=os.path.dirname(sys.executable))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="new folder")
    parser.add_argument("--spacing", type=float, nargs=3, default=(1.5, 1.5, 2.5), help="voxel size in mm (default: the demo's)")
    arguments = parser.parse_args()
    import numpy as np
    import SimpleITK as sitk
    import syntheticDicom

    from alpps import cli
    from alpps.headless import SlicerContext

    syntheticDicom.SPACING = tuple(arguments.spacing)
    with SlicerContext() as context:
        patient, written = syntheticDicom.writeSyntheticPatient(os.path.join(arguments.out, "input"), context)
    results = os.path.join(arguments.out, "results")
    options = ["dicom-export", "--out", results, "--plan", "right_trisectionectomy", "--stage1-date", patient.stage1Date.isoformat(),
               "--height", str(patient.heightCm), "--weight", str(patient.weightKg), "--stage1-liver-failure", "no"]
    for point in written:
        options += ["--timepoint", point.timepointArgument()]
    if cli.main(options) != 0:
        return 2
    with open(os.path.join(results, "alpps-dicom-export.json"), encoding="utf-8") as stream:
        manifest = json.load(stream)
    for point, entry in zip(written, manifest["timePoints"]):
        folder = os.path.join(results, point.role.replace(" ", "-"))
        dcmqiFolder = os.path.join(arguments.out, "dcmqi", point.role.replace(" ", "-"))
        os.makedirs(dcmqiFolder)
        subprocess.run([_tool("segimage2itkimage"), "--inputDICOM", os.path.join(folder, "SEG.dcm"), "--outputDirectory", dcmqiFolder],
                       check=True, capture_output=True)
        with open(os.path.join(dcmqiFolder, "meta.json"), encoding="utf-8") as stream:
            labels = {item["labelID"]: item["SegmentLabel"] for group in json.load(stream)["segmentAttributes"] for item in group}
        print(f"\n{point.role}: segimage2itkimage voxel counts (ALPPS count, phantom truth where it has one)")
        for path in sorted(glob.glob(os.path.join(dcmqiFolder, "*.nrrd")), key=lambda p: int(os.path.basename(p).split(".")[0])):
            label = labels[int(os.path.basename(path).split(".")[0])]
            count = int(np.count_nonzero(sitk.GetArrayFromImage(sitk.ReadImage(path))))
            key = label.split(" ", 1)[1] if label.startswith("Segment ") else label
            truth = point.truth.trueVoxelCounts.get(key)
            print(f"  {label:<50} {count:>8} {entry['segments'][label]['voxelCount']:>8} {'' if truth is None else truth:>8}")
        readerJson = os.path.join(dcmqiFolder, "sr.json")
        subprocess.run([_tool("tid1500reader"), "--inputDICOM", os.path.join(folder, "SR.dcm"), "--outputMetadata", readerJson],
                       check=True, capture_output=True)
        with open(readerJson, encoding="utf-8") as stream:
            groups = json.load(stream)["Measurements"]
        print(f"{point.role}: tid1500reader, first measurement of each group")
        for group in groups:
            item = group["measurementItems"][0] if group.get("measurementItems") else None
            shown = f"{item['quantity']['CodeMeaning']} = {float(item['value']):.3f} {item['units']['CodeValue']}" if item else "-"
            print(f"  {group['TrackingIdentifier']:<58} {shown}")
    print("\ndciodvfy (errors and warnings, counted)")
    for item in manifest["objects"]:
        path = os.path.join(results, item["path"])
        if os.path.isdir(path):
            continue
        completed = subprocess.run([_tool("dciodvfy"), path], capture_output=True, text=True)
        lines = [line for line in (completed.stdout + completed.stderr).splitlines() if line.startswith(("Error", "Warning"))]
        counts = {}
        for line in lines:
            counts[line] = counts.get(line, 0) + 1
        print(f"  {item['path']}: {sum(1 for line in lines if line.startswith('Error'))} errors")
        for line, count in counts.items():
            print(f"    {count} x {line}")
    for note in manifest["notes"]:
        print(f"note: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
