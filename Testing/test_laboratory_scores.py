"""Laboratory scores beside imaging (clinical reference section 7): MELD, ALBI, ICG clearance and
the post-hepatectomy liver failure flags, against values computed by hand from the published
formulas, and the explanations given for unit mistakes."""

import re

import math

import pytest
from ALPPSAssessmentLib.course import albiScore, meldScore
from ALPPSAssessmentLib.course import icgClearance as icg
from ALPPSAssessmentLib.course import laboratoryScores as lab
from ALPPSAssessmentLib.course import laboratoryUnits as labUnits
from ALPPSAssessmentLib.course import liverFailureCriteria as phlf


def close(value, expected, tolerance=1e-3):
    return abs(value - expected) <= tolerance


# --- Units --------------------------------------------------------------------------------------


def test_bilirubinInMgPerDlIsConvertedWithTheClinicalReferenceFactor():
    assert labUnits.bilirubinToUmolPerL(1.0, "mg/dL") == pytest.approx(17.104)
    assert labUnits.bilirubinToUmolPerL(2.5, "mg/dL") == pytest.approx(42.76)  # 2.5 x 17.104
    assert labUnits.bilirubinToUmolPerL(17.0, "umol/L") == 17.0


def test_creatinineInUmolPerLIsDividedByTheStandardFactor():
    assert labUnits.creatinineToMgPerDl(88.42, "umol/L") == pytest.approx(1.0)
    assert labUnits.creatinineToMgPerDl(90, "umol/L") == pytest.approx(1.01787, abs=1e-5)  # 90 / 88.42
    assert labUnits.creatinineToMgPerDl(1.2, "mg/dL") == 1.2
    assert "standard conversion" in labUnits.UNITS["creatinine"].conversion("umol/L").source


def test_albuminInGPerDlIsTimesTen():
    assert labUnits.albuminToGPerL(4.0, "g/dL") == pytest.approx(40.0)
    assert labUnits.albuminToGPerL(35, "g/L") == 35.0


def test_sodiumInMilliequivalentsIsTheSameNumber():
    assert labUnits.sodiumToMmolPerL(138, "mEq/L") == 138.0
    assert labUnits.sodiumToMmolPerL(138, "mmol/L") == 138.0


@pytest.mark.parametrize("unit", ["umol/L", "\u00b5mol/L", "\u03bcmol/l", "UMOL/L", " umol / L "])
def test_unitSpellingsAreTolerated(unit):
    assert labUnits.bilirubinToUmolPerL(20, unit) == 20.0


def test_labValueKeepsWhatWasGiven():
    value = labUnits.labValue("bilirubin", 2.0, "mg/dL")
    assert value.unit == "umol/L" and value.value == pytest.approx(34.208)
    assert (value.givenValue, value.givenUnit) == (2.0, "mg/dL")
    assert value.asDict()["givenUnit"] == "mg/dL"


def test_unknownUnitListsTheAcceptedOnes():
    with pytest.raises(ValueError, match=r"Bilirubin unit 'mmol/L' is not accepted: expected one of 'umol/L', 'mg/dL'"):
        labUnits.bilirubinToUmolPerL(3, "mmol/L")
    with pytest.raises(ValueError, match=r"Albumin 40 has no unit: choose its unit \(g/L or g/dL\); units are never guessed"):
        labUnits.albuminToGPerL(40, None)
    with pytest.raises(ValueError, match=r"Unknown laboratory quantity 'potassium'"):
        labUnits.labValue("potassium", 4, "mmol/L")


def test_albuminInGPerDlGivenAsGPerLIsExplained():
    with pytest.raises(ValueError) as error:
        labUnits.albuminToGPerL(4.0, "g/L")
    message = str(error.value)
    assert message.startswith("Albumin 4 g/L is outside the plausible range 8-70 g/L")
    assert "looks like g/dL (= 40 g/L)" in message


def test_albuminInGPerLGivenAsGPerDlIsExplained():
    with pytest.raises(ValueError, match=re.escape("40 looks like g/L (= 4 g/dL)")):
        labUnits.albuminToGPerL(40, "g/dL")


def test_creatinineInUmolPerLGivenAsMgPerDlIsExplained():
    with pytest.raises(ValueError) as error:
        labUnits.creatinineToMgPerDl(90, "mg/dL")
    assert "Creatinine 90 mg/dL is outside the plausible range 0.1-25 mg/dL" in str(error.value)
    assert "looks like umol/L (= 1.018 mg/dL)" in str(error.value)


def test_creatinineInMgPerDlGivenAsUmolPerLIsExplained():
    with pytest.raises(ValueError, match=re.escape("looks like mg/dL (= 88.42 umol/L)")):
        labUnits.creatinineToMgPerDl(1.0, "umol/L")


def test_bilirubinInUmolPerLGivenAsMgPerDlIsExplained():
    # 85 mg/dL would be 1453.8 umol/L, above any adult bilirubin.
    with pytest.raises(ValueError, match=re.escape("85 looks like umol/L (= 4.97 mg/dL)")):
        labUnits.bilirubinToUmolPerL(85, "mg/dL")


def test_lowBilirubinInUmolPerLIsPlausible():
    # 1.2 could be mg/dL typed as umol/L, but it is also a real (low) value in umol/L: accepted.
    assert labUnits.bilirubinToUmolPerL(1.2, "umol/L") == 1.2
    # Below 1 umol/L no assay measures: a mg/dL value.
    with pytest.raises(ValueError, match=re.escape("0.5 looks like mg/dL (= 8.552 umol/L)")):
        labUnits.bilirubinToUmolPerL(0.5, "umol/L")


def test_inrAndProthrombinPercentAreNeverConfused():
    with pytest.raises(ValueError) as error:
        labUnits.labValue("inr", 45, "")
    assert "looks like a prothrombin time as % of normal (PT %)" in str(error.value)
    assert "never converted into an INR" in str(error.value)
    with pytest.raises(ValueError) as error:
        labUnits.labValue("prothrombinTimePercent", 1.8, "%")
    assert "looks like an INR" in str(error.value)
    with pytest.raises(ValueError, match=re.escape("0.45 looks like a fraction (= 45 %)")):
        labUnits.labValue("prothrombinTimePercent", 0.45, "%")


@pytest.mark.parametrize("value", ["40", None, True, float("nan"), float("inf")])
def test_nonNumbersAreRefusedWithTheirName(value):
    with pytest.raises(ValueError, match=r"^Albumin .* not a (finite )?number"):
        labUnits.albuminToGPerL(value, "g/L")


def test_negativeValueIsRefused():
    with pytest.raises(ValueError, match=r"Bilirubin -3 umol/L is negative: expected umol/L or mg/dL"):
        labUnits.bilirubinToUmolPerL(-3, "umol/L")


def test_plausibleRangesAreDocumentedInTheUnitTable():
    assert labUnits.UNITS["albumin"].plausibleRange == (8.0, 70.0)
    assert labUnits.UNITS["bilirubin"].plausibleRange[1] == pytest.approx(855.2)  # 50 mg/dL
    assert labUnits.UNITS["creatinine"].canonicalUnit == "mg/dL"
    assert labUnits.UNITS["inr"].canonicalUnit == ""
    assert set(labUnits.UNITS["albumin"].units) == {"g/L", "g/dL"}


# --- MELD ---------------------------------------------------------------------------------------


def test_meldHandComputed():
    # 9.57 ln 1.5 + 3.78 ln 2 + 11.2 ln 1.4 + 6.43 = 3.8803 + 2.6201 + 3.7685 + 6.43 = 16.6989
    result = meldScore.meld(labUnits.labValue("bilirubin", 2.0, "mg/dL"), 1.5, 1.4)
    assert close(result.score, 16.6989)
    assert result.rounded == 17
    assert result.adjustments == ()
    assert result.bilirubinMgPerDl == pytest.approx(2.0)


def test_meldTakesBilirubinInUmolPerLAndCreatinineInUmolPerL():
    # bilirubin 51.312 umol/L = 3 mg/dL; creatinine 90 umol/L = 1.01787 mg/dL; INR 1.2:
    # 9.57 ln 1.01787 + 3.78 ln 3 + 11.2 ln 1.2 + 6.43 = 0.1695 + 4.1527 + 2.0420 + 6.43 = 12.7943
    result = meldScore.meld(51.312, labUnits.labValue("creatinine", 90, "umol/L"), 1.2)
    assert close(result.score, 12.7943)
    assert result.rounded == 13


def test_meldValuesBelowOneAreSetToOne():
    # bilirubin 0.5 mg/dL, creatinine 0.7 mg/dL, INR 0.9: all set to 1.0, every logarithm 0: 6.43
    result = meldScore.meld(labUnits.labValue("bilirubin", 0.5, "mg/dL"), 0.7, 0.9)
    assert result.score == pytest.approx(6.43)
    assert result.rounded == 6
    assert len(result.adjustments) == 3
    assert "INR 0.9 set to 1.0" in result.adjustments


def test_meldCreatinineIsCappedAtFour():
    # creatinine 6.0 -> 4.0; bilirubin 1 mg/dL, INR 1: 9.57 ln 4 + 6.43 = 13.2668 + 6.43 = 19.6968
    result = meldScore.meld(17.104, 6.0, 1.0)
    assert close(result.score, 19.6968)
    assert result.rounded == 20
    assert result.creatinineMgPerDl == 6.0  # the value given is kept
    assert any("capped at 4.0" in adjustment for adjustment in result.adjustments)


def test_meldIsCappedAtForty():
    # creatinine 4, bilirubin 30 mg/dL, INR 3: 13.2668 + 12.8565 + 12.3045 + 6.43 = 44.858 -> 40
    result = meldScore.meld(labUnits.labValue("bilirubin", 30, "mg/dL"), 4.0, 3.0)
    assert result.score == 40.0 and result.rounded == 40


def test_meldRefusesUnitMistakes():
    with pytest.raises(ValueError, match=r"Creatinine 90 mg/dL .*looks like umol/L"):
        meldScore.meld(20, 90, 1.1)
    with pytest.raises(ValueError, match=r"Albumin was given where Creatinine is expected"):
        meldScore.meld(20, labUnits.labValue("albumin", 40, "g/L"), 1.1)


def test_meldDefinitionSaysWhatIsRounded():
    definition = lab.SCORE_DEFINITIONS["meld"]
    assert definition.status == "checked"
    assert "9.57 ln(creatinine mg/dL)" in definition.definition and "+ 6.43" in definition.definition
    assert "nearest integer" in definition.definition


@pytest.mark.parametrize(
    "inr,unrounded,rounded,state",
    [
        (1.45, 10.5915, 11, "not met"),  # 11.2 ln 1.45 + 6.43: in the risk group MELD > 10
        (1.43, 10.4360, 10, "met"),  # above 10 unrounded, but the reported MELD is 10: as displayed
        (1.3, 9.3685, 9, "met"),
    ],
)
def test_meldAboveTenBeforeStage2(inr, unrounded, rounded, state):
    result = meldScore.meld(17.104, 1.0, inr)
    assert close(result.score, unrounded)
    flag = meldScore.meldBeforeStage2Flag(result)
    assert (flag.value, flag.threshold, flag.comparison, flag.state) == (rounded, 10, "<=", state)
    assert flag.riskGroup == "MELD > 10" and flag.shownValue == str(rounded)
    assert "Schadde 2015" in flag.source and "OR 4.9" in flag.source
    assert flag.status == "checked"


def test_meldFlagWithoutMeldIsUnknown():
    flag = meldScore.meldBeforeStage2Flag(None)
    assert flag.state == "unknown" and flag.value is None and flag.reason


def test_meldFlagHasTheAdequacyFlagFields():
    stored = meldScore.meldBeforeStage2Flag(meldScore.meld(17.104, 1.0, 1.45)).asDict()
    for key in ("criterion", "label", "value", "unit", "threshold", "comparison", "state", "source"):
        assert key in stored
    assert stored["criterion"] in lab.SCORE_DEFINITIONS


# --- ALBI ---------------------------------------------------------------------------------------


def test_albiWorkedExampleOfTheClinicalReference():
    # 0.66 log10(10) - 0.085 x 40 = 0.66 - 3.4 = -2.740
    result = albiScore.albi(10, 40)
    assert f"{result.score:.3f}" == "-2.740"
    assert result.grade == 1


@pytest.mark.parametrize(
    "bilirubin,albumin,expected,grade",
    [
        (20, 35, -2.1163, 2),  # 0.66 x 1.30103 - 2.975
        (100, 25, -0.8050, 3),  # 0.66 x 2 - 2.125
        (10, 38.4, -2.6040, 1),  # 0.66 - 3.264: just below -2.60
        (10, 38.3, -2.5955, 2),  # 0.66 - 3.2555: just above -2.60
    ],
)
def test_albiHandComputedAndGraded(bilirubin, albumin, expected, grade):
    result = albiScore.albi(bilirubin, albumin)
    assert close(result.score, expected, 1e-4)
    assert result.grade == grade


def test_albiGradeBoundariesBelongToTheLowerGrade():
    assert albiScore.albiGrade(-2.60) == 1
    assert albiScore.albiGrade(-1.39) == 2
    assert albiScore.albiGrade(-1.389) == 3


def test_albiWithAlbuminInGPerDl():
    result = albiScore.albi(labUnits.labValue("bilirubin", 10, "umol/L"), labUnits.labValue("albumin", 4.0, "g/dL"))
    assert f"{result.score:.3f}" == "-2.740"


def test_albiRefusesAlbuminInGPerDlAsANumber():
    with pytest.raises(ValueError, match=re.escape("looks like g/dL (= 40 g/L)")):
        albiScore.albi(10, 4.0)


# --- ICG ----------------------------------------------------------------------------------------


def test_icgR15FromPdrHandComputed():
    # 100 exp(-0.15 x 20) = 100 e^-3 = 4.9787 %
    assert close(icg.icgR15FromPdr(20), 4.9787, 1e-4)
    # 100 exp(-0.15 x 8) = 100 e^-1.2 = 30.1194 %
    assert close(icg.icgR15FromPdr(8), 30.1194, 1e-4)


def test_icgPdrFromR15HandComputed():
    # -ln(0.10) / 0.15 = 2.302585 / 0.15 = 15.3506 %/min
    assert close(icg.icgPdrFromR15(10), 15.3506, 1e-4)


@pytest.mark.parametrize("pdr", [3.0, 12.5, 18.0, 25.0, 40.0])
def test_icgRoundTrip(pdr):
    assert icg.icgPdrFromR15(icg.icgR15FromPdr(pdr)) == pytest.approx(pdr, rel=1e-12)


def test_icgRefusesAFractionForAPercentage():
    with pytest.raises(ValueError, match=re.escape("0.18 looks like a fraction (= 18 %/min)")):
        icg.icgR15FromPdr(0.18)
    with pytest.raises(ValueError, match=r"ICG retention at 15 min \(R15\) 120 % is outside the plausible range"):
        icg.icgPdrFromR15(120)


def test_remnantPdr():
    # 18 %/min x 400 / 1600 = 4.5 %/min
    assert icg.remnantPdr(18, 400, 1600) == pytest.approx(4.5)
    with pytest.raises(ValueError, match=r"larger than total liver volume"):
        icg.remnantPdr(18, 1700, 1600)


def test_icgUnitsAreLabelled():
    assert lab.SCORE_DEFINITIONS["icgR15"].unit == "%"
    assert lab.SCORE_DEFINITIONS["icgPdr"].unit == "%/min"
    assert lab.SCORE_DEFINITIONS["remnantPdr"].unit == "%/min"


# --- Post-hepatectomy liver failure -------------------------------------------------------------


def test_fiftyFiftySignPresentIsNotMet():
    """Go-ahead polarity: the 50-50 sign of liver failure present means the criterion is not met."""
    flag = phlf.fiftyFiftyRule(40, 60, 5)
    assert flag.state == "not met"
    assert [part.state for part in flag.parts] == ["not met", "not met"]
    assert "Balzan 2005" in flag.source and flag.status == "checked"


@pytest.mark.parametrize(
    "pt,bilirubin",
    [
        (50, 60),  # PT not below 50 %
        (40, 50),  # bilirubin not above 50 umol/L
        (70, 20),
    ],
)
def test_fiftyFiftySignAbsentIsMet(pt, bilirubin):
    assert phlf.fiftyFiftyRule(pt, bilirubin, 5).state == "met"


def test_fiftyFiftyOnAnotherDayIsUnknown():
    flag = phlf.fiftyFiftyRule(40, 60, 3)
    assert flag.state == "unknown"
    assert "day 3" in flag.reason and "day 5" in flag.reason


def test_fiftyFiftyWithoutDayIsUnknown():
    flag = phlf.fiftyFiftyRule(40, 60, None)
    assert flag.state == "unknown" and "day" in flag.reason


def test_fiftyFiftyWithoutProthrombinTime():
    flag = phlf.fiftyFiftyRule(None, 60, 5)
    assert flag.state == "unknown"
    assert "prothrombin time" in flag.reason and "INR is not converted" in flag.reason
    # A bilirubin that fails its condition decides the rule without PT.
    assert phlf.fiftyFiftyRule(None, 30, 5).state == "met"


def test_fiftyFiftyBilirubinInMgPerDl():
    # 3.0 mg/dL = 51.312 umol/L > 50
    assert phlf.fiftyFiftyRule(40, labUnits.labValue("bilirubin", 3.0, "mg/dL"), 5).state == "not met"


def test_fiftyFiftyRefusesAnInr():
    with pytest.raises(ValueError, match=r"INR was given where Prothrombin time \(% of normal\) is expected"):
        phlf.fiftyFiftyRule(labUnits.labValue("inr", 1.8, ""), 60, 5)
    with pytest.raises(ValueError, match=r"1.8 looks like an INR"):
        phlf.fiftyFiftyRule(1.8, 60, 5)


@pytest.mark.parametrize("day", [-1, 5.5, "5"])
def test_fiftyFiftyRefusesBadDays(day):
    with pytest.raises(ValueError, match=r"Postoperative day"):
        phlf.fiftyFiftyRule(40, 60, day)


def test_peakBilirubinAboveSevenMgPerDl():
    # 7 mg/dL x 17.104 = 119.728 umol/L
    assert phlf.PEAK_BILIRUBIN_ABOVE_UMOL_PER_L == pytest.approx(119.728)
    flag = phlf.peakBilirubinFlag([35, 125, 90])
    # Compared in mg/dL as shown (one decimal): 125 umol/L = 7.3 mg/dL > 7: the risk sign.
    assert (flag.shownValue, flag.state, flag.unit) == ("7.3", "not met", "mg/dL")
    assert flag.value == pytest.approx(125 / 17.104)
    assert "Mullen 2007" in flag.source and flag.status == "checked"
    assert phlf.peakBilirubinFlag([35, 119.7, 90]).state == "met"  # 6.998 mg/dL, shown 7.0
    assert phlf.peakBilirubinFlag([labUnits.labValue("bilirubin", 7.1, "mg/dL")]).state == "not met"
    assert phlf.peakBilirubinFlag([labUnits.labValue("bilirubin", 7.0, "mg/dL")]).state == "met"
    assert phlf.peakBilirubinFlag([labUnits.labValue("bilirubin", 7.04, "mg/dL")]).state == "met"  # shown 7.0
    assert phlf.peakBilirubinFlag([labUnits.labValue("bilirubin", 7.05, "mg/dL")]).state == "not met"  # shown 7.1


def test_peakBilirubinWithoutValuesIsUnknown():
    flag = phlf.peakBilirubinFlag([])
    assert flag.state == "unknown" and flag.value is None


def test_peakBilirubinRefusesASingleNumber():
    with pytest.raises(ValueError, match=r"not a list"):
        phlf.peakBilirubinFlag(125)


# --- Definitions --------------------------------------------------------------------------------


def test_everyDefinitionHasUnitReferenceAndStatus():
    for key, definition in lab.SCORE_DEFINITIONS.items():
        assert definition.key == key
        assert definition.label and definition.definition and definition.reference
        assert definition.status in ("checked", "unchecked")
        assert isinstance(definition.unit, str)
        assert definition.asDict()["status"] == definition.status


def test_statusesFollowTheClinicalReference():
    statuses = {key: definition.status for key, definition in lab.SCORE_DEFINITIONS.items()}
    assert statuses == {
        "meld": "checked",
        "meldBeforeStage2": "checked",
        "albi": "checked",
        "albiGrade": "checked",
        # The ICG line carries no status mark in the clinical reference.
        "icgR15": "unchecked",
        "icgPdr": "unchecked",
        "remnantPdr": "unchecked",
        "fiftyFifty": "checked",
        "peakBilirubin": "checked",
        "isgls": "unchecked",
    }


def test_isglsGradeAndAlppsRiskScoreAreNotComputed():
    assert lab.SCORE_DEFINITIONS["isgls"].computed is False
    for module in (lab, labUnits, meldScore, albiScore, icg, phlf):
        assert not [name for name in dir(module) if "isgls" in name.lower() and callable(getattr(module, name))]
        assert not [name for name in dir(module) if "risk" in name.lower() or "linecker" in name.lower()]


# --- Units never guessed; MELD with dialysis (clinical reference section 7) -------------------------


@pytest.mark.parametrize("quantity,value", [("bilirubin", 8), ("creatinine", 1.2), ("albumin", 40), ("sodium", 140)])
@pytest.mark.parametrize("unit", [None, "", "  "])
def test_aValueWithoutItsUnitIsRefused(quantity, value, unit):
    with pytest.raises(ValueError, match=r"has no unit: choose its unit"):
        labUnits.labValue(quantity, value, unit)


def test_bilirubinEightMgPerDlIsNeverTakenForUmolPerL():
    """8 mg/dL typed as '8' used to pass as 8 umol/L (plausible in both units) and lowered MELD:
    false reassurance. Without a unit it is refused; with it, MELD follows the formula."""
    with pytest.raises(ValueError, match="Bilirubin 8 has no unit"):
        labUnits.labValue("bilirubin", 8, None)
    expected = 9.57 * math.log(1.5) + 3.78 * math.log(8) + 11.2 * math.log(1.4) + 6.43
    result = meldScore.meld(labUnits.labValue("bilirubin", 8, "mg/dL"), labUnits.labValue("creatinine", 1.5, "mg/dL"), 1.4)
    assert result.score == pytest.approx(expected)
    misread = meldScore.meld(labUnits.labValue("bilirubin", 8, "umol/L"), labUnits.labValue("creatinine", 1.5, "mg/dL"), 1.4)
    assert misread.score == pytest.approx(expected - 3.78 * math.log(8))  # bilirubin floored at 1 mg/dL


def test_meldWithDialysisSetsCreatinineToFour():
    # Creatinine 1.2 mg/dL after two dialyses in the week before counts as 4.0 (UNOS rule).
    withDialysis = meldScore.meld(17.104, 1.2, 1.0, dialysis=True)
    assert withDialysis.score == pytest.approx(9.57 * math.log(4.0) + 6.43)
    assert any("dialys" in adjustment and "4.0" in adjustment for adjustment in withDialysis.adjustments)
    without = meldScore.meld(17.104, 1.2, 1.0)
    assert without.score == pytest.approx(9.57 * math.log(1.2) + 6.43) and not without.adjustments
    # Floors and caps are said: creatinine 5.0 capped at 4.0, INR 0.9 set to 1.0.
    capped = meldScore.meld(17.104, 5.0, 0.9)
    assert any("capped at 4.0" in item for item in capped.adjustments) and any("INR 0.9 set to 1.0" in item for item in capped.adjustments)
    with pytest.raises(ValueError, match="Dialysis 'yes' is not an answer"):
        meldScore.meld(17.104, 1.2, 1.0, dialysis="yes")
    flag = meldScore.meldBeforeStage2Flag(withDialysis)
    assert "dialys" in flag.note
