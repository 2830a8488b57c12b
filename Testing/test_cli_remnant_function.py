"""`alpps hypertrophy --remnant-function DATE:KEY=VALUE,...`: the remnant function measured at each
time point goes with that time point, its growth between time points appears in the JSON and
printout, the readiness checklist reads the latest one, and mistakes are named."""

import json
import re

import pytest
from ALPPSVolumetryLib import syntheticPatient, syntheticPatientScene

from alpps import cli


@pytest.fixture
def scanArguments(slicerContext, tmp_path):
    """`alpps hypertrophy` arguments for the synthetic patient's three scans written as .seg.nrrd."""
    patient = syntheticPatient.makeSyntheticPatient(spacing=(4.0, 4.0, 4.0))
    arguments = ["hypertrophy", "--stage1-date", patient.stage1Date.isoformat(), "--height", "172", "--weight", "78"]
    for index, point in enumerate(patient.timePoints):
        _, segmentationNode = syntheticPatientScene.addTimePointNodes(slicerContext.scene, point, f"C{index}")
        path = str(tmp_path / f"scan{index}.seg.nrrd")
        storageNode = segmentationNode.CreateDefaultStorageNode()
        storageNode.SetFileName(path)
        assert storageNode.WriteData(segmentationNode)
        arguments += ["--timepoint", f"{point.studyDate.isoformat()}::{path}"]
    return patient, arguments


def _run(arguments, tmp_path, name="growth.json"):
    jsonPath = str(tmp_path / name)
    assert cli.main(arguments + ["--json", jsonPath]) == 0
    with open(jsonPath) as stream:
        return json.load(stream)


def test_remnantFunctionPerTimePointGrowsAndReachesTheChecklist(scanArguments, tmp_path, capsys):
    patient, arguments = scanArguments
    first, second, last = (point.studyDate.isoformat() for point in patient.timePoints)
    function = [
        "--remnant-function", f"{second}:flrFunctionPerBsa=2.0,murPercentPerMin=10,flrSharePercent=35.5",
        "--remnant-function", f"{last}:flrFunctionPerBsa=2.9,flrFunctionPercentPerMin=5.6,murPercentPerMin=12,flrSharePercent=37",
    ]
    document = _run(arguments + function, tmp_path)
    stored = [point["remnantFunction"] for point in document["timePoints"]]
    assert stored[0] == {}
    assert stored[1] == {"flrFunctionPerBsa": 2.0, "murPercentPerMin": 10.0, "flrSharePercent": 35.5}
    assert stored[2] == {"flrFunctionPerBsa": 2.9, "flrFunctionPercentPerMin": 5.6, "murPercentPerMin": 12.0, "flrSharePercent": 37.0}
    # Interstage (day 7) to pre-stage 2 (day 10): 2.0 -> 2.9 is +45 %, 15 %/day.
    assert document["sinceStage1"][0]["remnantFunctionGrowth"] is None
    growth = document["intervals"][0]["remnantFunctionGrowth"]
    assert growth["before"] == 2.0 and growth["after"] == 2.9 and growth["unit"] == "%/min/m2"
    assert growth["relativeGrowthPercent"] == pytest.approx(45.0) and growth["relativeGrowthPercentPerDay"] == pytest.approx(15.0)
    readiness = {item["criterion"]: item for item in document["readiness"]}
    assert readiness["remnantFunction"]["value"] == 2.9 and readiness["remnantFunction"]["state"] == "met"
    printed = capsys.readouterr().out
    assert "Remnant function (FLR-F/BSA, %/min/m2) by time point" in printed and "2.00 -> 2.90 (+45.0 %)" in printed
    # --remnant-function-per-bsa still works, and wins over the stored latest value.
    document = _run(arguments + function + ["--remnant-function-per-bsa", "2.5"], tmp_path, "override.json")
    readiness = {item["criterion"]: item for item in document["readiness"]}
    assert readiness["remnantFunction"]["value"] == 2.5 and readiness["remnantFunction"]["state"] == "not met"
    # Only the old option, as before: the checklist reads it, nothing is stored per time point.
    document = _run(arguments + ["--remnant-function-per-bsa", "2.8"], tmp_path, "old.json")
    assert [point["remnantFunction"] for point in document["timePoints"]] == [{}, {}, {}]
    assert {item["criterion"]: item for item in document["readiness"]}["remnantFunction"]["value"] == 2.8


def test_remnantFunctionMistakesAreNamed(scanArguments, tmp_path, capsys):
    patient, arguments = scanArguments
    last = patient.timePoints[-1].studyDate.isoformat()
    assert cli.main(arguments + ["--remnant-function", "2026-04-01:flrFunctionPerBsa=2.4"]) == 2
    error = capsys.readouterr().err
    assert "Remnant function dated 2026-04-01 matches no time point (time points: 2026-03-02, 2026-03-12, 2026-03-15)" in error
    assert cli.main(arguments + ["--remnant-function", f"{last}:flrFunction=2.4"]) == 2
    assert re.search("key 'flrFunction' in .* is unknown: expected KEY=VALUE with KEY one of flrFunctionPerBsa", capsys.readouterr().err)
    assert cli.main(arguments + ["--remnant-function", "2.4"]) == 2
    assert re.search("must read DATE:KEY=VALUE", capsys.readouterr().err)
    assert cli.main(arguments + ["--remnant-function", f"{last}:murPercentPerMin=high"]) == 2
    assert re.search("value 'murPercentPerMin=high' must be a number", capsys.readouterr().err)
    assert cli.main(arguments + ["--remnant-function", f"{last}:murPercentPerMin=12", "--remnant-function", f"{last}:flrFunctionPerBsa=2.4"]) == 2
    assert re.search(f"gives {last} twice", capsys.readouterr().err)
    assert cli.main(arguments + ["--remnant-function", f"{last}:flrSharePercent=135"]) == 2
    assert "flrSharePercent=135 is above 100 %" in capsys.readouterr().err
    assert cli.main(arguments + ["--remnant-function", "2026-13-15:flrFunctionPerBsa=2.4"]) == 2
    assert "'2026-13-15' is not a date" in capsys.readouterr().err
