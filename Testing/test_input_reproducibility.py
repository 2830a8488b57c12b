"""The report's input list is reproducible: the same files give the same checksums whether named
by relative or absolute paths, each input is listed once, and segmentation content checksums
do not depend on the random segment IDs of an import."""

import json
import os

import pytest
from ALPPSAssessmentLib.report import patientReport
from ALPPSVolumetryLib.segments import segmentationIO

import badInputs as bad
from alpps import cli

COUINAUD = bad.COUINAUD_LABELS


@pytest.fixture
def courseFiles(slicerContext, tmp_path):
    return bad.syntheticCourse(slicerContext.scene, str(tmp_path / "inputs"), count=2)


def _reportInputs(arguments, out):
    assert cli.main(arguments + ["--out", out, "--no-3d"]) == 0
    with open(os.path.join(out, "alpps-report.json")) as stream:
        return json.load(stream)["inputs"]


def test_relativeAndAbsolutePathsGiveTheSameInputList(courseFiles, tmp_path, monkeypatch, capsys):
    patient, entries = courseFiles
    common = ["report", "--labels", COUINAUD, "--stage1-date", patient.stage1Date.isoformat(), "--height", "172", "--weight", "78"]
    absolute = common + [item for date, ct, labels in entries for item in ("--timepoint", f"{date}:{ct}:{labels}")]
    first = _reportInputs(absolute, str(tmp_path / "absolute"))
    monkeypatch.chdir(tmp_path / "inputs")
    relative = common + [item for date, ct, labels in entries
                         for item in ("--timepoint", f"{date}:{os.path.basename(ct)}:{os.path.basename(labels)}")]
    second = _reportInputs(relative, "../relative")
    assert second == first
    files = [path for entry in first for path in entry["files"]]
    assert sorted(files) == sorted(path for _, ct, labels in entries for path in (ct, labels))  # each input once, absolute
    for entry in first:
        assert entry["fileSha256"] == patientReport.fileSha256(entry["files"][0])
        assert entry["contentSha256"] is not None
    assert os.path.isfile(tmp_path / "relative" / "alpps-report.html")


def test_contentChecksumIgnoresSegmentIds(slicerContext, tmp_path):
    path = bad.writeImage(str(tmp_path / "labels.nii.gz"), bad.phantomLabels())
    names = {1: "Segment I", 2: "Segment II"}
    one = segmentationIO.loadSegmentation(slicerContext.scene, path, names)
    two = segmentationIO.loadSegmentation(slicerContext.scene, path, names)
    segmentation = two.GetSegmentation()
    oldId = segmentation.GetNthSegmentID(0)
    segment = segmentation.GetSegment(oldId)
    segmentation.RemoveSegment(oldId)
    segmentation.AddSegment(segment, "a_different_id", segmentation.GetNthSegmentID(0))  # same place, another ID
    assert segmentation.GetNthSegmentID(0) == "a_different_id" and oldId != "a_different_id"
    assert patientReport.contentSha256(two) == patientReport.contentSha256(one)
    renamed = segmentationIO.loadSegmentation(slicerContext.scene, path, {1: "Segment I", 2: "Segment 2"})
    assert patientReport.contentSha256(renamed) != patientReport.contentSha256(one)
