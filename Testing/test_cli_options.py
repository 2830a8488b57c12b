"""The `alpps` options: help for every command, one-line refusals with exit status 2 for every
mistaken option, outputs never overwriting inputs, Slicer's reader log kept back."""

import json
import os
import re
import subprocess
import sys

import pytest

import badInputs as bad
from alpps import cli

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMMANDS = ["demo", "segment-volumes", "volumetry", "hypertrophy", "sparing", "function mebrofenin", "function gadoxetate",
            "report", "dicom-index", "benchmark"]


def test_helpOfEveryCommandHasADescriptionAndAnExample(capsys):
    completed = subprocess.run([sys.executable, "-m", "alpps.cli", "--help"], capture_output=True, text=True, cwd=REPOSITORY)
    assert completed.returncode == 0 and "hypertrophy" in completed.stdout, completed.stderr
    for command in COMMANDS:
        with pytest.raises(SystemExit) as done:
            cli.main(command.split() + ["--help"])
        assert done.value.code == 0
        text = capsys.readouterr().out
        assert "example:\n  alpps " in text, command
        assert "--verbose" in text, command
    with pytest.raises(SystemExit):
        cli.main(["hypertrophy", "--help"])
    assert "%/day" in capsys.readouterr().out


@pytest.fixture
def labelMap(tmp_path):
    return bad.writeImage(str(tmp_path / "labels.nii.gz"), bad.phantomLabels())


def _refused(capsys, argv, expected):
    status = cli.main(argv)
    captured = capsys.readouterr()
    error = captured.err.strip()
    assert status == 2, (argv, captured.out, error)
    assert len(error.splitlines()) == 1, error
    assert re.search(expected, error), error
    assert "Traceback" not in error and "\x1b[" not in error
    return error


def test_labelMappingMistakesAreRefused(labelMap, tmp_path, capsys):
    base = ["segment-volumes", "--segmentation", labelMap, "--labels"]
    _refused(capsys, base + ["1=A,1=B"], r"gives label 1 twice \('A' and 'B'\)")
    _refused(capsys, base + ["1=A,2=A"], r"gives the name 'A' to labels 1 and 2")
    _refused(capsys, base + ["1="], r"label 1 has no name")
    _refused(capsys, base + ["0=Background"], r"label value 0 is not above 0")
    _refused(capsys, base + ["one=Segment I"], r"'one' is not an integer label value")
    _refused(capsys, base + ["everything"], r"neither VALUE=NAME pairs, a .json file nor a preset")
    broken = tmp_path / "names.json"
    broken.write_text('{"1": "Segment I",')
    _refused(capsys, base + [str(broken)], r"--labels file '.*names.json' is not valid JSON")
    broken.write_bytes(b'{"1": "Segment \xff"}')
    _refused(capsys, base + [str(broken)], r"--labels file '.*names.json' is not UTF-8 text")
    broken.write_text('{"1": "A", "1": "B"}')
    _refused(capsys, base + [str(broken)], r"gives label\(s\) 1 twice")
    (tmp_path / "folder.json").mkdir()
    _refused(capsys, base + [str(tmp_path / "folder.json")], r"--labels file '.*folder.json' is a folder: expected a file")
    withBom = tmp_path / "bom.json"
    withBom.write_bytes('{"1": "Segment I", "2": "Segment II"}'.encode("utf-8-sig"))
    assert cli.main(base + [str(withBom)]) == 0
    assert "Segment II" in capsys.readouterr().out


def test_onlyNamedLabelsAreMeasuredAndTheOthersNoted(labelMap, capsys):
    assert cli.main(["segment-volumes", "--segmentation", labelMap, "--labels", "2=Segment II"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"Segment II +64 +0\.29", out) and "Label 1" not in out
    assert "note: label map" in out and "label value(s) 1 not named in the label mapping, left out" in out


def test_outputsNeverOverwriteInputs(labelMap, tmp_path, capsys):
    before = open(labelMap, "rb").read()
    _refused(capsys, ["segment-volumes", "--segmentation", labelMap, "--json", labelMap], r"--json '.*labels.nii.gz' is the input")
    assert open(labelMap, "rb").read() == before
    folder = tmp_path / "dicom"
    folder.mkdir()
    _refused(capsys, ["dicom-index", str(folder), "--json", str(folder / "index.json")], r"lies inside the input folder")
    _refused(capsys, ["segment-volumes", "--segmentation", labelMap, "--json", str(tmp_path)], r"--json '.*' is a folder")


NUMBER_CASES = [
    (["--remnant-function-per-bsa", "nan"], r"--remnant-function-per-bsa is nan: expected a finite number"),
    (["--remnant-function-per-bsa", "-5"], r"--remnant-function-per-bsa is -5: expected between 0 and 30"),
    (["--remnant-function-per-bsa", "1e9"], r"--remnant-function-per-bsa is 1e\+09: expected between 0 and 30"),
    (["--remnant-function-per-bsa", "0"], r"is 0: expected a value other than 0"),
    (["--remnant-function-per-bsa", "inf"], r"expected a finite number"),
    (["--height", "nan"], r"Height"),
    (["--weight", "-70"], r"Weight -70 kg must be positive"),
]


@pytest.mark.parametrize("extra, expected", NUMBER_CASES, ids=[" ".join(case[0]) for case in NUMBER_CASES])
def test_numbersAreChecked(labelMap, capsys, extra, expected):
    _refused(capsys, ["hypertrophy", "--timepoint", f"2026-03-02::{labelMap}"] + extra, expected)


def test_otherNumbersDuplicatesAndDates(labelMap, capsys):
    seg = ["--segmentation", labelMap]
    _refused(capsys, ["sparing"] + seg + ["--margin", "nan"], r"--margin is nan")
    _refused(capsys, ["sparing"] + seg + ["--margin", "-1"], r"--margin is -1: expected between 0 and 50 mm")
    _refused(capsys, ["sparing"] + seg + ["--contact-distance", "inf"], r"--contact-distance is inf")
    _refused(capsys, ["sparing"] + seg + ["--role", "Label 1=tumour", "--role", "Label 1=II"], r"--role gives segment 'Label 1' twice")
    _refused(capsys, ["sparing"] + seg + ["--role", "Label 1="], r"--role 'Label 1=' must read SEGMENT=ROLE")
    _refused(capsys, ["sparing"] + seg + ["--vessel", "RHV=Label 1", "--vessel", "RHV=Label 2"], r"--vessel gives 'RHV' twice")
    _refused(capsys, ["volumetry"] + seg + ["--sflr-threshold", "250"], r"--sflr-threshold is 250: expected between 0 and 100 %")
    _refused(capsys, ["benchmark", "--repeats", "0"], r"--repeats is 0: expected between 1 and 100")
    _refused(capsys, ["function", "gadoxetate"] + seg + ["--hbp", labelMap, "--muscle-point=nan,1,2"], r"--muscle-point 'nan,1,2' must read X,Y,Z")
    timepoint = ["hypertrophy", "--timepoint", f"2026-03-02::{labelMap}", "--timepoint", f"2026-03-12::{labelMap}"]
    _refused(capsys, timepoint + ["--labs", "2026-03-02:bilirubin=20 umol/L", "--labs", "2026-03-02:inr=1.1"], r"--labs gives 2026-03-02 twice")
    _refused(capsys, timepoint + ["--labs", "2026-03-02:bilirubin=nan umol/L"], r"--labs bilirubin is nan")
    _refused(capsys, timepoint + ["--labs", "2026-03-02:bilirubin=-20 umol/L"], r"--labs bilirubin is -20: expected at least 0")
    _refused(capsys, ["hypertrophy", "--timepoint", f"9999-12-31::{labelMap}"], r"Scan date 9999-12-31 is in the future")
    _refused(capsys, ["hypertrophy", "--timepoint", f"2062-03-02::{labelMap}"], r"Scan date 2062-03-02 is in the future")
    _refused(capsys, ["hypertrophy", "--timepoint", f"1962-03-02::{labelMap}"], r"Scan date 1962-03-02 is before 1971")
    _refused(capsys, timepoint + ["--stage1-date", "2016-03-05"], r"Stage 1 date 2016-03-05 is 3649 days before the first scan")
    _refused(capsys, timepoint + ["--stage1-date", "2099-03-05"], r"Stage 1 date 2099-03-05 is in the future")


def test_argparseRefusalsAreOneLineWithStatus2(capsys):
    for argv in (["volumetry"], ["volumetry", "--segmentation", "x", "--height", "tall"], ["nothing"]):
        with pytest.raises(SystemExit) as done:
            cli.main(argv)
        assert done.value.code == 2
        error = capsys.readouterr().err.strip()
        assert len(error.splitlines()) == 1 and error.startswith("alpps"), error


def test_curvesFromExcelWithByteOrderMarkAndFoldersNamed(tmp_path):
    from alpps.cli import _readCurvesCsv

    rows = "time,liver,blood,total\n" + "".join(f"{t},{100 + t},{1000 - t},{2000}\n" for t in range(0, 600, 20))
    plain, excel = tmp_path / "plain.csv", tmp_path / "excel.csv"
    plain.write_text(rows)
    excel.write_bytes(rows.encode("utf-8-sig"))

    def outcome(path):
        try:
            return repr(_readCurvesCsv(str(path)))
        except ValueError as error:
            return str(error).replace(str(path), "PATH")

    assert outcome(excel) == outcome(plain)
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(ValueError, match="folder.csv' is a folder: expected a file"):
        _readCurvesCsv(str(tmp_path / "folder.csv"))
    latin = tmp_path / "latin.csv"
    latin.write_bytes("time,liver,blood,total\n0,1,2,3\xe9\n".encode("latin-1"))
    with pytest.raises(ValueError, match="latin.csv' is not a UTF-8 CSV table"):
        _readCurvesCsv(str(latin))


def test_readerLogIsKeptBackWithoutColourCodes(capfd):
    """VTK writes its errors straight to the process's standard error: inside the capture none
    reaches it, the text is kept, and the summary quotes the first error without colour codes."""
    import vtk

    from alpps.nativeLog import NativeLogCapture

    capture = NativeLogCapture()
    with capture:
        reader = vtk.vtkNrrdReader()
        reader.SetFileName("/nonexistent/missing.nrrd")
        reader.Update()
        os.write(2, b"\x1b[31m2026-12-07 12:38:51.008 (   1.846s) [    7F5976BEAB80]vtkMRMLSegmentationStor:1516   ERR| "
                    b"Error writing NRRD file\x1b[0m\n")
    assert capfd.readouterr().err == ""
    assert "missing.nrrd" in capture.text
    summary = capture.summary("'x' could not be read as a volume")
    assert summary.startswith(" (reader log: ") and "\x1b[" not in summary and "log line(s) with --verbose" in summary
    assert capture.summary("Label map 'x' holds NaN voxel values") == ""


def test_totalSegmentatorPresetsNameTheLabels(sharedData, tmp_path, capsys):
    """Shared README: in TotalSegmentator's 'total' map of the example CT, label 5 (liver) is
    699.44 mL; IRCAD's Couinaud labels 1-8 follow the 'liver_segments' numbering."""
    total = os.path.join(sharedData, "totalsegmentator", "example_ct_dicom_seg.nii.gz")
    jsonPath = str(tmp_path / "total.json")
    assert cli.main(["segment-volumes", "--segmentation", total, "--labels", "total", "--json", jsonPath]) == 0
    out = capsys.readouterr().out
    segments = json.load(open(jsonPath))["segments"]
    assert segments["Liver"]["volumeMl"] == pytest.approx(699.44, abs=0.005)
    assert "Spleen" in segments and "note: label map" in out and "not named in the label mapping, left out" in out
    ircad = os.path.join(sharedData, "ircad1", "couinaud_labels.nii.gz")
    assert cli.main(["segment-volumes", "--segmentation", ircad, "--labels", "totalsegmentator:liver_segments", "--json", jsonPath]) == 0
    segments = json.load(open(jsonPath))["segments"]
    expected = {"Segment I": 40.60, "Segment II": 160.68, "Segment III": 65.71, "Segment IV": 165.84, "Segment V": 177.14,
                "Segment VI": 149.86, "Segment VII": 390.94, "Segment VIII": 313.32}
    assert {name: round(value["volumeMl"], 2) for name, value in segments.items()} == pytest.approx(expected, abs=0.011)
