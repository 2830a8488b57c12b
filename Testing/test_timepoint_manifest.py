"""`--timepoints FILE` (CSV or JSON) gives the same result as the same scans typed as
`--timepoint` options, also for paths with colons and spaces, and its mistakes are named."""

import json
import os
import shutil

import pytest

import badInputs as bad
from alpps import cli


@pytest.fixture
def course(slicerContext, tmp_path):
    return bad.syntheticCourse(slicerContext.scene, str(tmp_path / "scans"), count=3)


def _hypertrophy(arguments, jsonPath, capsys):
    status = cli.main(["hypertrophy", "--height", "172", "--weight", "78"] + arguments + ["--json", jsonPath])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    with open(jsonPath) as stream:
        document = json.load(stream)
    document.pop("software", None)
    return document


def test_manifestMatchesTimepointOptions(course, tmp_path, capsys):
    patient, entries = course
    stage1 = ["--stage1-date", patient.stage1Date.isoformat()]
    labs = ["--labs", f"{entries[-1][0]}:bilirubin=20 umol/L,inr=1.1"]
    typed = [item for date, ct, labels in entries for item in ("--timepoint", f"{date}:{ct}:{labels}")]
    reference = _hypertrophy(typed + ["--labels", bad.COUINAUD_LABELS] + stage1 + labs, str(tmp_path / "typed.json"), capsys)
    assert [point["role"] for point in reference["timePoints"]] == ["pre-stage 1", "interstage", "interstage 2"]

    # The same scans moved to a folder whose name holds a colon and spaces (C:\... on Windows).
    awkward = tmp_path / "course 2026: ALPPS"
    shutil.copytree(os.path.dirname(entries[0][1]), awkward / "scans")
    manifest = awkward / "course.csv"
    rows = ["date,role,volume,segmentation,labels,labs"]
    for index, (date, ct, labels) in enumerate(entries):
        lab = "bilirubin=20 umol/L,inr=1.1" if index == len(entries) - 1 else ""
        rows.append(f'{date},,scans/{os.path.basename(ct)},scans/{os.path.basename(labels)},"{bad.COUINAUD_LABELS}","{lab}"')
    manifest.write_bytes(("\n".join(rows) + "\n").encode("utf-8-sig"))  # as Excel saves it
    fromCsv = _hypertrophy(["--timepoints", str(manifest)] + stage1, str(tmp_path / "csv.json"), capsys)
    assert fromCsv == reference

    document = {"timePoints": [
        {"date": date, "volume": f"scans/{os.path.basename(ct)}", "segmentation": f"scans/{os.path.basename(labels)}",
         "labels": {str(value): f"Segment {numeral}" for value, numeral in enumerate(("I", "II", "III", "IV", "V", "VI", "VII", "VIII"), 1)},
         **({"labs": {"bilirubin": "20 umol/L", "inr": "1.1"}} if index == len(entries) - 1 else {})}
        for index, (date, ct, labels) in enumerate(entries)]}
    (awkward / "course.json").write_text(json.dumps(document))
    fromJson = _hypertrophy(["--timepoints", str(awkward / "course.json")] + stage1, str(tmp_path / "json.json"), capsys)
    assert fromJson == reference


def _refused(capsys, argv, expected):
    import re

    assert cli.main(argv) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and re.search(expected, error), error


def test_manifestMistakesAreNamed(course, tmp_path, capsys):
    _, entries = course
    date, ct, labels = entries[0]
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"date,scan,segmentation\n{date},{ct},{labels}\n")
    _refused(capsys, ["hypertrophy", "--timepoints", str(manifest)], r"unknown column 'scan'")
    manifest.write_text(f"date,volume\n{date},{ct}\n")
    _refused(capsys, ["hypertrophy", "--timepoints", str(manifest)], r"time point 1: expected at least a date and a segmentation")
    manifest.write_text("date,segmentation\n")
    _refused(capsys, ["hypertrophy", "--timepoints", str(manifest)], r"lists no time points")
    manifest.write_text(f"date,segmentation\n{date},{labels},extra\n")
    _refused(capsys, ["hypertrophy", "--timepoints", str(manifest)], r"more cells than columns")
    manifest.write_text(f"date,segmentation\n{date},{labels}\n")
    _refused(capsys, ["hypertrophy", "--timepoints", str(manifest), "--timepoint", f"{date}::{labels}"], r"either --timepoints FILE or --timepoint")
    broken = tmp_path / "m.json"
    broken.write_text("[{")
    _refused(capsys, ["hypertrophy", "--timepoints", str(broken)], r"--timepoints file '.*m.json' is not valid JSON")
    broken.write_text('{"date": "x"}')
    _refused(capsys, ["hypertrophy", "--timepoints", str(broken)], r"must hold a list of time points")
    _refused(capsys, ["hypertrophy", "--timepoints", str(tmp_path)], r"--timepoints file '.*' is a folder")
    _refused(capsys, ["hypertrophy"], r"no scans given")
    manifest.write_text(f"date,segmentation\n2099-01-01,{labels}\n")
    _refused(capsys, ["hypertrophy", "--timepoints", str(manifest)], r"Scan date 2099-01-01 is in the future")
