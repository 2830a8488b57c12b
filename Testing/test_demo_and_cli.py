import csv
import json
import re
import os
import subprocess
import sys

import pytest
from ALPPSVolumetryLib import syntheticPatient

from alpps import cli
from alpps.demo import CSV_FILE, JSON_FILE, SCENE_BUNDLE, runDemo
from alpps.headless import SlicerContext


@pytest.fixture(scope="module")
def demoOutput(tmp_path_factory):
    """`alpps demo` itself, run once as a user runs it."""
    outputDirectory = tmp_path_factory.mktemp("demo")
    completed = subprocess.run(
        [sys.executable, "-m", "alpps.cli", "demo", "--out", str(outputDirectory)],
        capture_output=True,
        text=True,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    assert completed.returncode == 0, completed.stderr
    return str(outputDirectory), completed.stdout


def test_demoPrintsMeasuredAgainstTruth(demoOutput):
    _, stdout = demoOutput
    assert "pre-stage 1 (2026-03-02, day -3 after stage 1)" in stdout
    assert "Segment VIII" in stdout and "truth (mL)" in stdout


def test_demoJsonAndCsvHoldTheTrueVolumes(demoOutput):
    outputDirectory, _ = demoOutput
    with open(os.path.join(outputDirectory, JSON_FILE)) as stream:
        document = json.load(stream)
    patient = syntheticPatient.makeSyntheticPatient()
    assert [point["role"] for point in document["timePoints"]] == ["pre-stage 1", "interstage", "pre-stage 2"]
    for point, truth in zip(document["timePoints"], patient.timePoints):
        for name, segment in point["segments"].items():
            key = segment["couinaudSegment"] or name
            assert segment["voxelCount"] == truth.trueVoxelCounts[key], name
            assert segment["volumeMl"] == pytest.approx(truth.trueVolumesMl[key], rel=1e-12)
    for point, truth in zip(document["timePoints"], patient.timePoints):
        plan = point["volumetry"]["plans"]["right_trisectionectomy"]
        flr = sum(truth.trueVolumesMl[s] for s in ("I", "II", "III"))
        assert plan["remnantMl"] == pytest.approx(flr, rel=1e-12)
        assert plan["sFLR"] == pytest.approx(100.0 * flr / point["volumetry"]["patient"]["standardLiverVolumeMl"], rel=1e-12)
    for row, truth in zip(document["hypertrophy"]["timePoints"], patient.timePoints):
        assert row["totalLiverMl"] == pytest.approx(truth.trueVolumesMl["Liver"], rel=1e-12)
        assert row["remnantMl"] == pytest.approx(sum(truth.trueVolumesMl[s] for s in ("I", "II", "III")), rel=1e-12)
    mebrofenin = document["function"]["mebrofenin"]
    assert mebrofenin["uptake"]["murPercentPerMin"] == pytest.approx(mebrofenin["trueMurPercentPerMin"], rel=0.05)
    # VOIs as drawn: the share runs low by the blur's spill-out, within 2.5 points (see the simulator tests).
    assert -2.5 <= mebrofenin["remnantShare"]["percent"] - mebrofenin["trueRemnantSharePercent"] <= 0.0
    readiness = {item["criterion"]: item for item in document["readiness"]}
    assert readiness["remnantFunction"]["value"] == pytest.approx(mebrofenin["remnantFunction"]["flrFunctionPerBsa"])
    sinceStage1 = document["hypertrophy"]["sinceStage1"][-1]
    growth = sinceStage1["remnant"]
    assert 60.0 <= growth["relativeGrowthPercent"] <= 80.0
    # Per day since stage 1, not per day since the baseline scan three days before it.
    days = document["timePoints"][-1]["daysAfterStage1"]
    assert sinceStage1["timeBase"] == "since stage 1" and sinceStage1["rateDays"] == days
    assert growth["relativeGrowthPercentPerDay"] == pytest.approx(growth["relativeGrowthPercent"] / days, rel=1e-12)
    with open(os.path.join(outputDirectory, CSV_FILE), newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == sum(len(point["segments"]) for point in document["timePoints"])
    first = rows[0]
    assert float(first["volume (mL)"]) == pytest.approx(document["timePoints"][0]["segments"][first["segment"]]["volumeMl"], abs=0.0005)


def test_demoWritesThePatientReport(demoOutput):
    outputDirectory, stdout = demoOutput
    from ALPPSAssessmentLib.report import reportExport

    reportDirectory = os.path.join(outputDirectory, "report")
    for name in (reportExport.REPORT_HTML, reportExport.REPORT_JSON, reportExport.NUMBERS_CSV, "segmentation-pre-stage-2.seg.nrrd"):
        assert os.path.getsize(os.path.join(reportDirectory, name)) > 1000, name
    with open(os.path.join(reportDirectory, reportExport.REPORT_JSON)) as stream:
        report = json.load(stream)
    assert report["patient"]["patientId"] == syntheticPatient.PATIENT_ID
    assert [picture["title"].split(",")[0] for picture in report["pictures"]] == ["Axial slice", "Coronal slice", "3D view"]
    assert "report/alpps-report.html" in stdout


def test_demoSceneBundleReopensWithEveryNode(demoOutput, tmp_path):
    outputDirectory, _ = demoOutput
    with open(os.path.join(outputDirectory, JSON_FILE)) as stream:
        document = json.load(stream)
    with SlicerContext(workDirectory=str(tmp_path / "reopen")) as context:
        context.loadSceneBundle(os.path.join(outputDirectory, SCENE_BUNDLE))
        scene = context.scene
        for point in document["timePoints"]:
            volumeNode = scene.GetFirstNodeByName(point["volumeNode"])
            assert volumeNode is not None and volumeNode.GetImageData() is not None
            segmentationNode = scene.GetFirstNodeByName(point["segmentationNode"])
            segmentation = segmentationNode.GetSegmentation()
            # The first scan also holds the parenchyma-sparing resection areas the demo adds.
            measured = [s for s in segmentation.GetSegmentIDs() if not segmentation.GetSegment(s).HasTag("ALPPS.ParenchymaSparing")]
            assert len(measured) == len(point["segments"])
            tableNode = scene.GetFirstNodeByName(point["tableNode"])
            assert tableNode.GetNumberOfRows() == len(point["segments"])
            assert scene.GetFirstNodeByName(point["couinaudTableNode"]).GetNumberOfRows() == 8
            planTable = scene.GetFirstNodeByName(point["planTableNode"])
            assert planTable.GetNumberOfRows() == len(point["volumetry"]["plans"])
            assert planTable.GetAttribute("ALPPS.LiverCondition") == "normal"
        shown = scene.GetFirstNodeByName(document["timePoints"][0]["segmentationNode"] + " - " + document["timePoints"][0]["volumetry"]["plans"]["right_trisectionectomy"]["label"])
        assert shown is not None and shown.GetSegmentation().GetNumberOfSegments() == 2
        timePointTable = scene.GetFirstNodeByName("ALPPS time points")
        assert timePointTable.GetNumberOfRows() == 3 and timePointTable.GetColumnUnitLabel("FLR") == "mL"
        assert scene.GetFirstNodeByName("ALPPS growth").GetNumberOfRows() == 3
        assert scene.GetFirstNodeByName("ALPPS stage 2 readiness").GetNumberOfRows() == len(document["readiness"])
        assert scene.GetFirstNodeByName("ALPPS tumours and vessels").GetNumberOfRows() == 3
        spect = scene.GetFirstNodeByName("Synthetic mebrofenin SPECT")
        assert spect is not None and spect.GetParentTransformNode() is not None, "the SPECT is registered to the CT"
        assert scene.GetFirstNodeByName("Mebrofenin time-activity curves") is not None
        assert scene.GetFirstNodeByName("Synthetic gadoxetate MRI hepatobiliary phase") is not None
        assert scene.GetFirstNodeByName("ALPPS parenchyma-sparing plans").GetNumberOfRows() == 4  # 2 major + 2 margins
        assert scene.GetFirstNodeByClass("vtkMRMLPlotChartNode").GetNumberOfPlotSeriesNodes() == 3
        from ALPPSAssessmentLib.course import timeline

        assert [point.role for point in timeline.timePointsInScene(scene)] == ["pre-stage 1", "interstage", "pre-stage 2"]


def test_segmentVolumesCommandReadsALabelMapAndWritesJson(slicerContext, tmp_path, capsys):
    from ALPPSVolumetryLib.segments import segmentationImport

    timePoint = syntheticPatient.makeTimePoint("pre-stage 1", -3, 1.0, spacing=(3.0, 3.0, 3.0))
    labelmapNode = segmentationImport.addVolumeFromArray(
        slicerContext.scene, "labels", timePoint.couinaudLabels, timePoint.ijkToRAS, labelmap=True
    )
    labelPath = str(tmp_path / "couinaud.nrrd")
    storageNode = labelmapNode.CreateDefaultStorageNode()
    storageNode.SetFileName(labelPath)
    assert storageNode.WriteData(labelmapNode)
    jsonPath = str(tmp_path / "volumes.json")
    mapping = ",".join(f"{value}=Segment {name}" for value, name in enumerate(("I", "II", "III", "IV", "V", "VI", "VII", "VIII"), 1))
    assert cli.main(["segment-volumes", "--segmentation", labelPath, "--labels", mapping, "--json", jsonPath]) == 0
    printed = capsys.readouterr().out
    assert "Segment VIII" in printed and "volume (mL)" in printed
    with open(jsonPath) as stream:
        document = json.load(stream)
    assert document["volumeUnit"] == "mL"
    assert document["segments"]["Segment II"]["volumeMl"] == pytest.approx(timePoint.trueVolumesMl["II"], rel=1e-9)


def test_cliReportsBadInputWithoutTraceback(tmp_path, capsys):
    assert cli.main(["segment-volumes", "--segmentation", str(tmp_path / "absent.seg.nrrd")]) == 2
    assert "absent.seg.nrrd" in capsys.readouterr().err
    assert cli.main(["segment-volumes", "--segmentation", "x.nrrd", "--labels", "one=Segment I"]) == 2
    assert re.search("is not an integer label value", capsys.readouterr().err)


def test_runDemoInAGivenContextKeepsTheScene(slicerContext, tmp_path):
    document = runDemo(str(tmp_path), spacing=(4.0, 4.0, 4.0), context=slicerContext)
    # One segmentation per time point, the plan display of the first one and the remnant outline over the SPECT of the last.
    assert slicerContext.scene.GetNumberOfNodesByClass("vtkMRMLSegmentationNode") == len(document["timePoints"]) + 2
    composites = {node.GetLayoutName(): node for node in slicerContext.scene.GetNodesByClass("vtkMRMLSliceCompositeNode")}
    foregrounds = {name: slicerContext.scene.GetNodeByID(node.GetForegroundVolumeID()).GetName() for name, node in composites.items()}
    assert foregrounds["Red"] == foregrounds["Yellow"] == document["function"]["mebrofenin"]["overlay"]["map"]
    assert foregrounds["Green"] == document["function"]["gadoxetateOverlay"]["map"]


def test_sparingCommandComparesWithTheMajorPlans(slicerContext, tmp_path, capsys):
    from ALPPSVolumetryLib import syntheticPatientScene

    timePoint = syntheticPatient.makeTimePoint("pre-stage 1", -3, 1.0, spacing=(3.0, 3.0, 3.0))
    _, segmentationNode = syntheticPatientScene.addTimePointNodes(slicerContext.scene, timePoint, "Sparing")
    path = str(tmp_path / "case.seg.nrrd")
    storageNode = segmentationNode.CreateDefaultStorageNode()
    storageNode.SetFileName(path)
    assert storageNode.WriteData(segmentationNode)
    jsonPath = str(tmp_path / "sparing.json")
    assert cli.main(["sparing", "--segmentation", path, "--margin", "1", "--height", "172", "--weight", "78", "--json", jsonPath]) == 0
    printed = capsys.readouterr().out
    assert "Plans side by side" in printed and "laparoscopic guidance" in printed
    with open(jsonPath) as stream:
        document = json.load(stream)
    assert [tumour["name"] for tumour in document["tumours"]] == ["Tumour 1", "Tumour 2", "Tumour 3"]
    (sparing,) = document["parenchymaSparing"]
    assert sparing["marginMm"] == 1.0 and sparing["laparoscopic"]["maximumAreas"] == 3
    total = timePoint.trueVolumesMl["Liver"]
    assert sparing["remnantMl"] + sparing["resectedMl"] == pytest.approx(total, rel=1e-9)
    assert sparing["remnantMl"] > document["plans"]["right_hepatectomy"]["remnantMl"]
