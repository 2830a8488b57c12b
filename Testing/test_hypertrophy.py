"""Hypertrophy tracking: the worked examples of the clinical reference through the public
functions, and `alpps hypertrophy` on the synthetic patient's scans."""

import datetime
import json
import re

import pytest
from ALPPSAssessmentLib.course import hypertrophy, timeline
from ALPPSVolumetryLib import syntheticPatient, syntheticPatientScene

from alpps import cli


def test_workedExampleDegreeOfHypertrophyAndKineticGrowthRate():
    """Clinical reference section 4: sFLR 18 % -> 30 % in 9 days: DH 12 pp, KGR 9.33 %/week."""
    dh = hypertrophy.degreeOfHypertrophy(18.0, 30.0)
    assert dh == pytest.approx(12.0)
    assert round(hypertrophy.kineticGrowthRate(dh, 9), 2) == 9.33


def test_workedExampleRelativeGrowth():
    """FLR 300 -> 500 mL in 9 days: +66.67 %, 7.41 %/day, 22.2 mL/day."""
    growth = hypertrophy.volumeGrowth(300.0, 500.0, 9)
    assert round(growth.relativeGrowthPercent, 2) == 66.67
    assert round(growth.relativeGrowthPercentPerDay, 2) == 7.41
    assert round(growth.absoluteGrowthMlPerDay, 1) == 22.2


def test_sameDayScansHaveNoRateAndBadVolumesAreNamed():
    assert hypertrophy.volumeGrowth(300.0, 320.0, 0).relativeGrowthPercentPerDay is None
    assert hypertrophy.kineticGrowthRate(5.0, 0) is None
    with pytest.raises(ValueError, match="remnant before is 0"):
        hypertrophy.volumeGrowth(0.0, 10.0, 3, "remnant")
    with pytest.raises(ValueError, match="date order"):
        hypertrophy.volumeGrowth(10.0, 12.0, -2)


def test_rolesAndDates():
    assert timeline.roleOrder("Interstage 2") > timeline.roleOrder("interstage") > timeline.roleOrder("pre-stage 1")
    with pytest.raises(ValueError, match="'stage 3' is unknown"):
        timeline.TimePoint("stage 3", datetime.date(2026, 1, 1))
    with pytest.raises(ValueError, match="'12/03/2026' is not a date"):
        timeline.parseStudyDate("12/03/2026")
    assert timeline.parseStudyDate("20260312") == datetime.date(2026, 3, 12)
    stage1 = datetime.date(2026, 3, 5)
    with pytest.raises(ValueError, match=r"interstage \(2026-03-01\) scan is before the stage 1 date"):
        timeline.checkCourse([timeline.TimePoint("interstage", datetime.date(2026, 3, 1))], stage1)
    with pytest.raises(ValueError, match="Two time points have the role 'interstage'"):
        timeline.checkCourse([timeline.TimePoint("interstage", datetime.date(2026, 3, 9)), timeline.TimePoint("interstage", datetime.date(2026, 3, 12))])
    assert cli._inferredRoles([datetime.date(2026, 3, 2), datetime.date(2026, 3, 12), datetime.date(2026, 3, 15)], stage1) == [
        "pre-stage 1",
        "interstage",
        "interstage 2",
    ]


def test_hypertrophyCommandOnTheSyntheticScans(slicerContext, tmp_path, capsys):
    patient = syntheticPatient.makeSyntheticPatient(spacing=(3.0, 3.0, 3.0))
    arguments = ["hypertrophy", "--plan", "right_trisectionectomy", "--stage1-date", patient.stage1Date.isoformat()]
    for index, point in enumerate(patient.timePoints):
        _, segmentationNode = syntheticPatientScene.addTimePointNodes(slicerContext.scene, point, f"P{index}")
        path = str(tmp_path / f"timepoint{index}.seg.nrrd")
        storageNode = segmentationNode.CreateDefaultStorageNode()
        storageNode.SetFileName(path)
        assert storageNode.WriteData(segmentationNode)
        arguments += ["--timepoint", f"{point.studyDate.isoformat()}::{path}:{point.role}"]
    jsonPath = str(tmp_path / "growth.json")
    labs = f"{patient.timePoints[-1].studyDate.isoformat()}:bilirubin=20 umol/L,creatinine=1.2 mg/dL,inr=1.1,albumin=40 g/L,icgPdr=18 %/min"
    extra = ["--height", "172", "--weight", "78", "--labs", labs, "--stage1-liver-failure", "no", "--remnant-function-per-bsa", "2.4", "--json", jsonPath]
    assert cli.main(arguments + extra) == 0
    printed = capsys.readouterr().out
    assert "KGR" in printed and "Stage 2 readiness" in printed
    with open(jsonPath) as stream:
        document = json.load(stream)
    truths = [sum(point.trueVolumesMl[s] for s in ("I", "II", "III")) for point in patient.timePoints]
    assert [p["remnantMl"] for p in document["timePoints"]] == pytest.approx(truths, rel=1e-9)
    assert [p["daysAfterStage1"] for p in document["timePoints"]] == [-3, 7, 10]
    # Growth since stage 1 from the last scan before it (day -3), rates per day since stage 1 (7 and 10 days).
    toInterstage, toStage2 = document["sinceStage1"]
    assert toStage2["remnant"]["relativeGrowthPercent"] == pytest.approx((truths[2] / truths[0] - 1) * 100, rel=1e-9)
    assert toStage2["remnant"]["relativeGrowthPercentPerDay"] == pytest.approx((truths[2] / truths[0] - 1) * 100 / 10, rel=1e-9)
    assert toStage2["remnant"]["absoluteGrowthMlPerDay"] == pytest.approx((truths[2] - truths[0]) / 10, rel=1e-9)
    first, second, third = document["timePoints"]
    assert toInterstage["degreeOfHypertrophyPp"] == pytest.approx(second["sFLR"] - first["sFLR"], rel=1e-12)
    assert toInterstage["kineticGrowthRatePercentPerWeek"] == pytest.approx((second["sFLR"] - first["sFLR"]) / (7 / 7.0), rel=1e-12)
    assert toInterstage["timeBase"] == "since stage 1" and toInterstage["rateDays"] == 7 and toInterstage["days"] == 10
    assert "days since stage 1 (stage 1 on" in toInterstage["timeBaseText"]
    # Between the two interstage-period scans: interval growth, per day between them, no KGR.
    (interval,) = document["intervals"]
    assert interval["timeBase"] == "interval" and interval["rateDays"] == 3
    assert interval["degreeOfHypertrophyPp"] == pytest.approx(third["sFLR"] - second["sFLR"], rel=1e-12)
    assert interval["remnant"]["relativeGrowthPercentPerDay"] == pytest.approx((truths[2] / truths[1] - 1) * 100 / 3, rel=1e-9)
    assert interval["kineticGrowthRatePercentPerWeek"] is None and "from stage 1" in interval["notComputed"]["kineticGrowthRatePercentPerWeek"]
    assert document["schemaVersion"] == 2
    assert document["definitions"]["kineticGrowthRate"]["unit"] == "%/week"
    readiness = {item["criterion"]: item for item in document["readiness"]}
    assert readiness["meld"]["value"] == 10 and readiness["noLiverFailureAfterStage1"]["state"] == "met"
    assert readiness["remnantFunction"]["value"] == 2.4 and readiness["remnantFunction"]["state"] == "not met"
    assert document["timePoints"][-1]["labs"]["bilirubin"] == [20.0, "umol/L"]
    scores = document["timePoints"][-1]["scores"]
    # ALBI = 0.66 log10(20) - 0.085 x 40 = 0.8587 - 3.4 = -2.541 (grade 2); R15 = 100 exp(-0.15 x 18) = 6.72 %.
    assert scores["albi"]["score"] == pytest.approx(-2.5413, abs=1e-3) and scores["albi"]["grade"] == 2
    assert scores["icg"]["r15Percent"] == pytest.approx(6.7206, abs=1e-3)
    last = document["timePoints"][-1]
    assert scores["icg"]["remnantPdrPercentPerMin"] == pytest.approx(18.0 * last["remnantMl"] / last["totalLiverMl"], rel=1e-9)
    assert "scores" in document["timePoints"][0] and document["timePoints"][0]["scores"] == {}


def test_hypertrophyCommandNamesBadTimePoints(capsys):
    assert cli.main(["hypertrophy", "--timepoint", "2026-03-02::a.seg.nrrd", "--labs", "2026-03-02:bilirubin=twenty umol/L"]) == 2
    assert re.search("QUANTITY=VALUE UNIT", capsys.readouterr().err)
    assert cli.main(["hypertrophy", "--timepoint", "2026-03-02:only-two"]) == 2
    assert re.search("DATE:VOLUME:SEGMENTATION", capsys.readouterr().err)
    assert cli.main(["hypertrophy", "--timepoint", "2026-13-02::missing.seg.nrrd"]) == 2
    assert "'2026-13-02' is not a date" in capsys.readouterr().err


def _measuredSyntheticCourse(scene, labsOfLast):
    from ALPPSAssessmentLib.course import timePointCourse
    from ALPPSVolumetryLib.planning import futureLiverRemnant, resectionPlans

    patient = syntheticPatient.makeSyntheticPatient(spacing=(3.0, 3.0, 3.0))
    points = []
    for index, point in enumerate(patient.timePoints):
        _, segmentationNode = syntheticPatientScene.addTimePointNodes(scene, point, f"R{index}")
        labs = labsOfLast if index == len(patient.timePoints) - 1 else {}
        points.append(timeline.TimePoint(point.role, point.studyDate, segmentationNode, labs=labs))
    settings = futureLiverRemnant.VolumetrySettings(heightCm=patient.heightCm, weightKg=patient.weightKg)
    return timePointCourse.measureHypertrophy(points, resectionPlans.presetPlan("right_trisectionectomy"), settings, patient.stage1Date)


def test_readinessChecklistOfTheSyntheticPatient(slicerContext):
    from ALPPSAssessmentLib.course import stageTwoReadiness

    # Bilirubin 20 umol/L, creatinine 1.2 mg/dL, INR 1.1: MELD = 9.57 ln 1.2 + 3.78 ln 1 + 11.2 ln 1.1 + 6.43
    # (bilirubin 1.169 mg/dL): 9.57*0.18232 + 3.78*0.15617 + 11.2*0.09531 + 6.43 = 9.83 -> 10.
    labs = {"bilirubin": [20.0, "umol/L"], "creatinine": [1.2, "mg/dL"], "inr": [1.1, ""]}
    result = _measuredSyntheticCourse(slicerContext.scene, labs)
    criteria = {item.criterion: item for item in stageTwoReadiness.readinessChecklist(result, "no")}
    latest, first = result.timePoints[-1], result.timePoints[0]
    low, high = latest.plan.sFLRInterval
    assert criteria["sFLR"].value == pytest.approx(latest.plan.sFLR)
    assert criteria["sFLR"].state == ("borderline" if low <= 20.0 <= high else "met")
    # Since stage 1 (day 10), not over the 13 days since the baseline scan on day -3.
    kgr = (latest.plan.sFLR - first.plan.sFLR) / (10 / 7.0)
    assert criteria["kineticGrowthRate"].value == pytest.approx(kgr) and criteria["kineticGrowthRate"].state == "met"
    assert "nearly always met" in criteria["kineticGrowthRate"].note
    perDay = (latest.plan.remnantMl / first.plan.remnantMl - 1) * 100 / 10
    assert criteria["relativeGrowthPerDay"].value == pytest.approx(perDay)
    assert criteria["meld"].value == 10 and criteria["meld"].state == "met"
    assert criteria["noLiverFailureAfterStage1"].state == "met"
    assert criteria["remnantFunction"].state == "unknown" and "not available" in criteria["remnantFunction"].reason
    assert criteria["remnantFunction"].status == "unchecked"
    unknownLabs = {item.criterion: item for item in stageTwoReadiness.readinessChecklist(_measuredSyntheticCourse(slicerContext.scene, {}), "yes")}
    assert unknownLabs["meld"].state == "unknown" and unknownLabs["noLiverFailureAfterStage1"].state == "not met"
    with pytest.raises(ValueError, match="'maybe' is not an answer"):
        stageTwoReadiness.readinessChecklist(result, "maybe")


def test_remnantFunctionPerTimePointGrowsAndFeedsTheChecklist(slicerContext):
    from ALPPSAssessmentLib.course import stageTwoReadiness, timePointCourse
    from ALPPSVolumetryLib.planning import futureLiverRemnant, resectionPlans

    patient = syntheticPatient.makeSyntheticPatient(spacing=(4.0, 4.0, 4.0))
    functionPerBsa = {"pre-stage 1": 1.6, "interstage": 2.0, "pre-stage 2": 2.9}
    points = []
    for index, point in enumerate(patient.timePoints):
        _, segmentationNode = syntheticPatientScene.addTimePointNodes(slicerContext.scene, point, f"F{index}")
        stored = timeline.TimePoint(point.role, point.studyDate, segmentationNode, remnantFunction={"flrFunctionPerBsa": functionPerBsa[point.role]})
        timeline.storeTimePoint(stored)
        points.append(timeline.timePointOfNode(segmentationNode))  # read back from the node's attributes
    settings = futureLiverRemnant.VolumetrySettings(heightCm=patient.heightCm, weightKg=patient.weightKg)
    result = timePointCourse.measureHypertrophy(points, resectionPlans.presetPlan("right_trisectionectomy"), settings, patient.stage1Date)
    first = result.sinceStage1[0].remnantFunctionGrowth
    assert first["before"] == 1.6 and first["after"] == 2.0
    assert first["relativeGrowthPercent"] == pytest.approx(25.0)
    assert first["relativeGrowthPercentPerDay"] == pytest.approx(2.5)  # 10 days apart
    criteria = {item.criterion: item for item in stageTwoReadiness.readinessChecklist(result, "no")}
    assert criteria["remnantFunction"].value == 2.9 and criteria["remnantFunction"].state == "met"
    assert timePointCourse.hypertrophyToDict(result)["timePoints"][0]["remnantFunction"] == {"flrFunctionPerBsa": 1.6}
