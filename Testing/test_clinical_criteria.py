"""Clinical criteria: growth counted from stage 1 (clinical reference section 4, corrected), the worked examples
through the Lib and through `alpps hypertrophy --json`, the interval growth between later scans,
what happens without a stage 1 date, and every growth and laboratory cut-off at, just below and
just above its value as displayed."""

import datetime
import json
from types import SimpleNamespace

import pytest
from ALPPSAssessmentLib.course import hypertrophy, timeline
from ALPPSAssessmentLib import selfTestScenarios
from ALPPSVolumetryLib.criteria import clinicalCriteria

from alpps import cli

STAGE_1 = datetime.date(2026, 3, 2)


def _scan(role, daysAfterStage1, flrMl, sflr=None):
    """What the hypertrophy formulas read of a measured time point."""
    plan = SimpleNamespace(ratioRemnantMl=flrMl, resectedMl=1000.0, sFLR=sflr)
    return SimpleNamespace(role=role, studyDate=STAGE_1 + datetime.timedelta(days=daysAfterStage1), plan=plan,
                           totalLiverMl=flrMl + 1000.0, remnantFunction={})


def test_workedExampleKgrIsPerWeekSinceStage1NotBetweenScans():
    # Baseline 21 days before stage 1, interstage scan 7 days after; sFLR 18 % -> 30 %.
    growth = hypertrophy.growthInterval(_scan("pre-stage 1", -21, 300.0, 18.0), _scan("interstage", 7, 500.0, 30.0),
                                          STAGE_1, hypertrophy.SINCE_STAGE_1)
    assert growth.degreeOfHypertrophyPp == pytest.approx(12.0)
    assert f"{growth.kineticGrowthRatePercentPerWeek:.2f}" == "12.00"  # not 3.00 over the 28 days between scans
    assert growth.days == 28 and growth.rateDays == 7 and growth.timeBase == "since stage 1"


def test_workedExampleRelativeGrowthPerDaySinceStage1():
    # FLR 300 -> 500 mL, scan 9 days after stage 1: +66.67 %, 7.41 %/day, 22.2 mL/day, whatever the baseline's date.
    for baselineDay in (-1, -21, -40):
        growth = hypertrophy.growthInterval(_scan("pre-stage 1", baselineDay, 300.0), _scan("interstage", 9, 500.0),
                                              STAGE_1, hypertrophy.SINCE_STAGE_1)
        assert f"{growth.remnant.relativeGrowthPercent:.2f}" == "66.67"
        assert f"{growth.remnant.relativeGrowthPercentPerDay:.2f}" == "7.41"
        assert f"{growth.remnant.absoluteGrowthMlPerDay:.1f}" == "22.2"


def test_workedExampleIntervalGrowthBetweenTwoInterstageScans():
    # Day 7 (450 mL) and day 14 (520 mL): interval +15.56 %, 2.22 %/day.
    growth = hypertrophy.growthInterval(_scan("interstage", 7, 450.0, 28.0), _scan("interstage 2", 14, 520.0, 32.0))
    assert growth.timeBase == "interval" and growth.rateDays == 7
    assert f"{growth.remnant.relativeGrowthPercent:.2f}" == "15.56"
    assert f"{growth.remnant.relativeGrowthPercentPerDay:.2f}" == "2.22"
    assert growth.kineticGrowthRatePercentPerWeek is None and "from stage 1" in growth.notComputed["kineticGrowthRatePercentPerWeek"]


def test_theIssuesScheduleNoLongerUnderstatesGrowthFourfold():
    # Baseline 21 days before, interstage 7 days after, FLR 300 -> 420 mL, sTLV 1500 mL.
    before, after = _scan("pre-stage 1", -21, 300.0, 20.0), _scan("interstage", 7, 420.0, 28.0)
    growth = hypertrophy.growthInterval(before, after, STAGE_1, hypertrophy.SINCE_STAGE_1)
    assert growth.kineticGrowthRatePercentPerWeek == pytest.approx(8.0)  # was 2.00 over 28 days
    assert growth.remnant.relativeGrowthPercentPerDay == pytest.approx(40.0 / 7)  # 5.71, was 1.43
    assert clinicalCriteria.evaluate(clinicalCriteria.GROWTH_PER_DAY, growth.remnant.relativeGrowthPercentPerDay).state == "met"


def test_withoutAStage1DateRatesAreNotComputedAndSayWhy():
    growth = hypertrophy.growthInterval(_scan("pre-stage 1", -21, 300.0, 20.0), _scan("interstage", 7, 420.0, 28.0),
                                          None, hypertrophy.SINCE_STAGE_1)
    assert growth.degreeOfHypertrophyPp == pytest.approx(8.0) and growth.remnant.relativeGrowthPercent == pytest.approx(40.0)
    for key in hypertrophy.RATE_KEYS:
        assert "stage 1 date is not given" in growth.notComputed[key]
    assert growth.kineticGrowthRatePercentPerWeek is None and growth.remnant.relativeGrowthPercentPerDay is None
    assert growth.remnant.absoluteGrowthMlPerDay is None
    onStage1 = hypertrophy.growthInterval(_scan("pre-stage 1", -2, 300.0, 20.0), _scan("interstage", 0, 310.0, 21.0),
                                            STAGE_1, hypertrophy.SINCE_STAGE_1)
    assert onStage1.kineticGrowthRatePercentPerWeek is None and "day of stage 1" in onStage1.notComputed["relativeGrowthPercentPerDay"]


# --- cut-offs at, just below and just above the value as displayed ------------------------------------


@pytest.mark.parametrize(
    "cutoff,value,expected",
    [
        # KGR < 2 %/week is the risk group (Shindoh), two decimals.
        (clinicalCriteria.KGR, 1.99, "not met"),
        (clinicalCriteria.KGR, 1.994, "not met"),  # shown 1.99
        (clinicalCriteria.KGR, 1.995, "met"),  # shown 2.00: not below 2
        (clinicalCriteria.KGR, 2.0, "met"),
        (clinicalCriteria.KGR, 2.01, "met"),
        # Growth <= 4.1 %/day is the risk group (Tomassini).
        (clinicalCriteria.GROWTH_PER_DAY, 4.09, "not met"),
        (clinicalCriteria.GROWTH_PER_DAY, 4.1, "not met"),
        (clinicalCriteria.GROWTH_PER_DAY, 4.104, "not met"),  # shown 4.10
        (clinicalCriteria.GROWTH_PER_DAY, 4.105, "met"),  # shown 4.11
        (clinicalCriteria.GROWTH_PER_DAY, 4.11, "met"),
        # MELD > 10 is the risk group (Schadde), an integer.
        (clinicalCriteria.MELD_BEFORE_STAGE_2, 9, "met"),
        (clinicalCriteria.MELD_BEFORE_STAGE_2, 10, "met"),
        (clinicalCriteria.MELD_BEFORE_STAGE_2, 11, "not met"),
        # sFLR <= 20 % (Kishi), FLR-BWR <= 0.5 % (Truant).
        (clinicalCriteria.SFLR_NORMAL, 19.99, "not met"),
        (clinicalCriteria.SFLR_NORMAL, 20.0, "not met"),
        (clinicalCriteria.SFLR_NORMAL, 20.01, "met"),
        (clinicalCriteria.FLR_BWR_NORMAL, 0.499, "not met"),
        (clinicalCriteria.FLR_BWR_NORMAL, 0.5, "not met"),
        (clinicalCriteria.FLR_BWR_NORMAL, 0.501, "met"),
        # 50-50 parts: PT < 50 %, bilirubin > 50 umol/L are the risk groups.
        (clinicalCriteria.FIFTY_FIFTY_PROTHROMBIN, 49, "not met"),
        (clinicalCriteria.FIFTY_FIFTY_PROTHROMBIN, 50, "met"),
        (clinicalCriteria.FIFTY_FIFTY_BILIRUBIN, 50, "met"),
        (clinicalCriteria.FIFTY_FIFTY_BILIRUBIN, 51, "not met"),
    ],
)
def test_eachCutoffComparedAsPublishedOnTheValueAsDisplayed(cutoff, value, expected):
    flag = clinicalCriteria.evaluate(cutoff, value)
    assert flag.state == expected, flag.describe()
    # What a reader sees never contradicts the state: the displayed number against the cut-off.
    shown = float(flag.shownValue)
    inRiskGroup = {"<": shown < cutoff.threshold, "<=": shown <= cutoff.threshold, ">": shown > cutoff.threshold}[cutoff.riskWhen]
    assert inRiskGroup == (expected == "not met")


def test_everyCutoffIsDefinedOnceWithItsSourcePopulationAndStatus():
    cutoffs = [value for value in vars(clinicalCriteria).values() if isinstance(value, clinicalCriteria.Cutoff)]
    assert len(cutoffs) >= 14
    for cutoff in cutoffs:
        assert cutoff.source and cutoff.population and cutoff.status in ("checked", "unchecked")
        assert cutoff.riskWhen in ("<", "<=", ">", ">=")
    assert clinicalCriteria.SFLR_CIRRHOSIS.status == "unchecked" and "Kubota" in clinicalCriteria.SFLR_CIRRHOSIS.source
    assert "PVE" in clinicalCriteria.KGR.population and "nearly always met" in clinicalCriteria.KGR.note


# --- through the batch command ------------------------------------------------------------------------


def _boxSegmentationFile(scene, path, remnantMl):
    """Segments I-III hold ``remnantMl`` (slabs of 10 x 10 voxels of 0.1 mL), IV-VIII 1000 mL, saved as .seg.nrrd."""
    node = selfTestScenarios.boxSegmentation(scene, str(path), remnantMl)
    storage = node.CreateDefaultStorageNode()
    storage.SetFileName(str(path))
    assert storage.WriteData(node)
    return str(path)


@pytest.fixture
def boxScans(slicerContext, tmp_path):
    baseline = _boxSegmentationFile(slicerContext.scene, tmp_path / "baseline.seg.nrrd", 300.0)
    interstage = _boxSegmentationFile(slicerContext.scene, tmp_path / "interstage.seg.nrrd", 420.0)
    dates = (STAGE_1 - datetime.timedelta(days=21), STAGE_1 + datetime.timedelta(days=7))
    return ["hypertrophy", "--plan", "right_trisectionectomy", "--height", "170", "--weight", "70",
            "--timepoint", f"{dates[0].isoformat()}::{baseline}", "--timepoint", f"{dates[1].isoformat()}::{interstage}"]


def test_hypertrophyJsonNamesTheTimeBaseAndTheChecklistUsesIt(boxScans, tmp_path, capsys):
    jsonPath = tmp_path / "growth.json"
    assert cli.main(boxScans + ["--stage1-date", STAGE_1.isoformat(), "--json", str(jsonPath)]) == 0
    printed = capsys.readouterr().out
    document = json.loads(jsonPath.read_text())
    (growth,) = document["sinceStage1"]
    assert document["intervals"] == [] and growth["timeBase"] == "since stage 1" and growth["rateDays"] == 7
    assert growth["remnant"]["relativeGrowthPercentPerDay"] == pytest.approx(40.0 / 7, rel=1e-9)
    assert growth["remnant"]["absoluteGrowthMlPerDay"] == pytest.approx(120.0 / 7, rel=1e-9)
    first, second = document["timePoints"]
    assert growth["kineticGrowthRatePercentPerWeek"] == pytest.approx(second["sFLR"] - first["sFLR"], rel=1e-9)  # one week
    readiness = {item["criterion"]: item for item in document["readiness"]}
    assert readiness["kineticGrowthRate"]["value"] == pytest.approx(growth["kineticGrowthRatePercentPerWeek"])
    assert readiness["relativeGrowthPerDay"]["value"] == pytest.approx(40.0 / 7) and readiness["relativeGrowthPerDay"]["state"] == "met"
    assert "since stage 1" in printed and "5.71 %/day" in printed


def test_hypertrophyWithoutStage1DateSaysRatesAreNotComputed(boxScans, tmp_path, capsys):
    jsonPath = tmp_path / "growth.json"
    assert cli.main(boxScans + ["--json", str(jsonPath)]) == 0
    printed = capsys.readouterr().out
    document = json.loads(jsonPath.read_text())
    (growth,) = document["sinceStage1"]
    assert growth["kineticGrowthRatePercentPerWeek"] is None and growth["remnant"]["relativeGrowthPercentPerDay"] is None
    assert "stage 1 date is not given" in growth["notComputed"]["relativeGrowthPercentPerDay"]
    readiness = {item["criterion"]: item for item in document["readiness"]}
    assert readiness["kineticGrowthRate"]["state"] == "unknown" and "stage 1 date" in readiness["kineticGrowthRate"]["reason"]
    assert "%/day not computed" in printed and "give its date" in printed


def test_aStage1DateAfterEveryScanIsRefusedNamingTheDates(boxScans, capsys):
    late = (STAGE_1 + datetime.timedelta(days=30)).isoformat()
    assert cli.main(boxScans + ["--stage1-date", late]) == 2
    error = capsys.readouterr().err
    assert f"stage 1 date {late} is after every scan" in error and "2026-02-09" in error


def test_scansOnTheWrongSideOfStage1AreRefused(slicerContext):
    node = slicerContext.scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "x")
    points = [timeline.TimePoint("pre-stage 1", STAGE_1 + datetime.timedelta(days=2), node),
              timeline.TimePoint("interstage", STAGE_1 + datetime.timedelta(days=7), node)]
    with pytest.raises(ValueError, match=r"pre-stage 1 \(2026-03-04\) scan is after the stage 1 date 2026-03-02"):
        timeline.checkCourse(points, STAGE_1)


def test_section2WorkedExampleThroughTheVolumetryCommand(slicerContext, tmp_path, capsys):
    """FLR 400 mL, 170 cm, 70 kg: BSA 1.8181 m2, sTLV 1509.66 mL, sFLR 26.50 %, FLR-BWR 0.571 %
    (clinical reference section 2), through `alpps volumetry --json`."""
    path = _boxSegmentationFile(slicerContext.scene, tmp_path / "flr400.seg.nrrd", 400.0)
    jsonPath = tmp_path / "volumetry.json"
    assert cli.main(["volumetry", "--segmentation", path, "--plan", "right_trisectionectomy", "--height", "170", "--weight", "70",
                     "--json", str(jsonPath)]) == 0
    document = json.loads(jsonPath.read_text())
    assert f"{document['patient']['bsaM2']:.4f}" == "1.8181" and f"{document['patient']['standardLiverVolumeMl']:.2f}" == "1509.66"
    plan = document["plans"]["right_trisectionectomy"]
    assert plan["remnantMl"] == pytest.approx(400.0) and plan["tumourFlag"] is None
    flags = {flag["criterion"]: flag for flag in plan["flags"]}
    assert flags["sFLR"]["shownValue"] == "26.50" and flags["flrBwr"]["shownValue"] == "0.571"
    # Vauthey's standard liver volume is unchecked in the clinical reference: the sFLR flag says so.
    assert flags["sFLR"]["status"] == "unchecked" and flags["flrBwr"]["status"] == "checked"
    low, high = plan["sFLRInterval"]
    assert low < 26.496 < high
    assert "sFLR 26.50 %" in capsys.readouterr().out


def test_twoScansOnOneDayGiveNoRateAndSayWhy(slicerContext, tmp_path, capsys):
    """Two scans on one day, roles inferred: each gets its own role, and the growth between them
    has no rate per day, with the reason, never a division by zero or an invented error."""
    first = _boxSegmentationFile(slicerContext.scene, tmp_path / "a.seg.nrrd", 300.0)
    second = _boxSegmentationFile(slicerContext.scene, tmp_path / "b.seg.nrrd", 420.0)
    day = (STAGE_1 + datetime.timedelta(days=7)).isoformat()
    jsonPath = tmp_path / "growth.json"
    assert cli.main(["hypertrophy", "--height", "170", "--weight", "70", "--stage1-date", STAGE_1.isoformat(),
                     "--timepoint", f"{day}::{first}", "--timepoint", f"{day}::{second}", "--json", str(jsonPath)]) == 0
    document = json.loads(jsonPath.read_text())
    assert [point["role"] for point in document["timePoints"]] == ["interstage", "interstage 2"]
    (interval,) = document["intervals"]
    assert interval["rateDays"] == 0 and interval["remnant"]["relativeGrowthPercentPerDay"] is None
    assert "share the date" in interval["notComputed"]["relativeGrowthPercentPerDay"]
    assert "share the date" in capsys.readouterr().out


def test_borderlineIsDecidedOnTheIntervalAsDisplayed():
    # Shown as 20.00-24.00 %: the reader sees the cut-off inside the interval, so does the state.
    flag = clinicalCriteria.evaluate(clinicalCriteria.SFLR_NORMAL, 22.0, interval=(20.004, 24.0))
    assert flag.state == "borderline" and "20.00-24.00 %" in flag.describe()
    assert clinicalCriteria.evaluate(clinicalCriteria.SFLR_NORMAL, 22.0, interval=(20.006, 24.0)).state == "met"
    assert clinicalCriteria.evaluate(clinicalCriteria.FLR_BWR_NORMAL, 0.52, interval=(0.5004, 0.54)).state == "borderline"


def test_tumourLeftInTheRemnantIsNeverShownAsZero():
    from ALPPSVolumetryLib.planning import futureLiverRemnant

    flag = futureLiverRemnant.tumourInRemnantFlag(0.004, "Plan")
    assert flag.state == "not met" and flag.shownValue == "0.004" and "0.004 mL of tumour" in flag.reason
    assert futureLiverRemnant.tumourInRemnantFlag(0.0, "Plan").state == "met"


def test_pageOneShowsTheRemnantFunctionTheChecklistCompared(slicerContext):
    """An entered FLR-F/BSA wins over the stored one in the checklist: the summary shows that value,
    and the growth rates carry the status of what they are computed from."""
    from ALPPSAssessmentLib.report import decisionSummary
    from ALPPSAssessmentLib.course import stageTwoReadiness, timePointCourse
    from ALPPSVolumetryLib.planning import futureLiverRemnant, resectionPlans

    points = [
        timeline.TimePoint("pre-stage 1", STAGE_1 - datetime.timedelta(days=21), selfTestScenarios.boxSegmentation(slicerContext.scene, "B", 300.0)),
        timeline.TimePoint("interstage", STAGE_1 + datetime.timedelta(days=7), selfTestScenarios.boxSegmentation(slicerContext.scene, "A", 420.0),
                           remnantFunction={"flrFunctionPerBsa": 2.18}),
    ]
    result = timePointCourse.measureHypertrophy(points, resectionPlans.presetPlan("right_trisectionectomy"),
                                            futureLiverRemnant.VolumetrySettings(170, 70), STAGE_1)
    readiness = stageTwoReadiness.readinessChecklist(result, "no", remnantFunctionPerBsa=2.8)
    summary = decisionSummary.decisionSummary(decisionSummary.summaryDocument(result, readiness))
    (function,) = [figure for figure in summary.figures if figure.label.startswith("Remnant function")]
    assert function.value == 2.8
    byKey = {flag.criterion: flag for flag in readiness}
    assert byKey["remnantFunction"].state == "met"
    # KGR rests on Vauthey's standard liver volume; Tomassini's %/day denominator is unchecked.
    assert byKey["kineticGrowthRate"].status == "unchecked" and byKey["relativeGrowthPerDay"].status == "unchecked"
    checked = futureLiverRemnant.VolumetrySettings(170, 70, stlvFormula="heinemann")
    result = timePointCourse.measureHypertrophy(points, resectionPlans.presetPlan("right_trisectionectomy"), checked, STAGE_1)
    byKey = {flag.criterion: flag for flag in stageTwoReadiness.readinessChecklist(result, "no")}
    assert byKey["kineticGrowthRate"].status == "checked"


def test_aSecondScanBeforeStage1IsRefusedWithTheReason(slicerContext):
    node = slicerContext.scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "x")
    points = [timeline.TimePoint("pre-stage 1", STAGE_1 - datetime.timedelta(days=20), node),
              timeline.TimePoint("pre-stage 1", STAGE_1 - datetime.timedelta(days=2), node),
              timeline.TimePoint("interstage", STAGE_1 + datetime.timedelta(days=7), node)]
    with pytest.raises(ValueError, match=r"Two scans before stage 1 \(2026-02-10 and 2026-02-28\): growth is counted from the last"):
        timeline.checkCourse(points, STAGE_1)
