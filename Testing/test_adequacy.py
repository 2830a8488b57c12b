"""Adequacy flags by liver condition (clinical reference section 2) and soft plausibility checks
of segment proportions (section 3)."""

import re

import pytest
from ALPPSVolumetryLib.criteria import adequacy


def flagStates(flags):
    return {flag.criterion: flag.state for flag in flags}


# Minimum sFLR and FLR-BWR (%) per condition as the clinical reference's table gives them.
PUBLISHED_THRESHOLDS = {
    "normal": (20.0, 0.5),
    "chemotherapy": (30.0, None),
    "cirrhosis": (40.0, 0.8),
}


def test_defaultThresholdsAreThePublishedOnes():
    assert set(adequacy.LIVER_CONDITIONS) == set(PUBLISHED_THRESHOLDS)
    for condition, (sflr, flrBwr) in PUBLISHED_THRESHOLDS.items():
        thresholds = adequacy.defaultThresholds(condition)
        assert (thresholds.sflrMinimumPercent, thresholds.flrBwrMinimumPercent) == (sflr, flrBwr)


def test_thresholdSourcesAreCitedAsInTheClinicalReference():
    normal = adequacy.defaultThresholds("normal")
    assert "Kishi 2009 Ann Surg 250:540" in normal.sflrSource
    assert "Vauthey 2000 Surgery 127:512" in normal.sflrSource
    assert "Truant 2007 JACS 204:22" in normal.flrBwrSource
    assert "Zurich ALPPS trial inclusion (0.5 % / 0.8 %)" in normal.flrBwrSource
    # Corrected reference: 30 % after chemotherapy is Shindoh 2013, 40 % in cirrhosis Kubota 1997 /
    # Azoulay (neither Kishi nor Vauthey studied cirrhosis), both cited from a review, unchecked.
    chemotherapy, cirrhosis = adequacy.defaultThresholds("chemotherapy"), adequacy.defaultThresholds("cirrhosis")
    assert "Shindoh 2013 Ann Surg Oncol 20:2493" in chemotherapy.sflrSource and chemotherapy.sflrStatus == "unchecked"
    assert cirrhosis.sflrSource.startswith("Kubota 1997 Hepatology 26:1176") and "Kishi 2009" not in cirrhosis.sflrSource
    assert cirrhosis.sflrStatus == "unchecked"
    assert cirrhosis.flrBwrSource == "Zurich ALPPS trial inclusion (0.5 % / 0.8 %)"
    assert "25 %" in adequacy.LIVER_CONDITIONS["normal"].sflrCutoff.note


@pytest.mark.parametrize("condition", sorted(PUBLISHED_THRESHOLDS))
def test_eachThresholdAtJustBelowAndJustAboveAsDisplayed(condition):
    """The published risk group is <= the cut-off (Kishi, Truant): a value shown equal to the
    cut-off is not met; one shown a last digit above it is met."""
    sflrMinimum, flrBwrMinimum = PUBLISHED_THRESHOLDS[condition]
    sflr = lambda value: flagStates(adequacy.assessAdequacy(value, None, condition))["sFLR"]  # noqa: E731
    assert sflr(sflrMinimum - 0.01) == "not met"
    assert sflr(sflrMinimum) == "not met"
    assert sflr(sflrMinimum + 0.004) == "not met"  # shown as the cut-off itself (2 decimals)
    assert sflr(sflrMinimum + 0.005) == "met"  # shown one digit above
    assert sflr(sflrMinimum + 0.01) == "met"
    if flrBwrMinimum is None:
        # No published FLR-BWR threshold for this condition: no statement, however large the value.
        assert flagStates(adequacy.assessAdequacy(None, 5.0, condition))["flrBwr"] == "unknown"
    else:
        bwr = lambda value: flagStates(adequacy.assessAdequacy(None, value, condition))["flrBwr"]  # noqa: E731
        assert bwr(flrBwrMinimum - 0.001) == "not met"
        assert bwr(flrBwrMinimum) == "not met"
        assert bwr(flrBwrMinimum + 0.0004) == "not met"  # shown as 0.500 (3 decimals)
        assert bwr(flrBwrMinimum + 0.001) == "met"
    for flag in adequacy.assessAdequacy(50.0, 1.0, condition):
        assert flag.unit == "%" and flag.condition == condition
        if flag.threshold is not None:
            assert flag.comparison == ">" and flag.riskGroup.endswith(f"<= {flag.threshold:g} %")


def test_resolutionIntervalContainingTheCutoffIsBorderline():
    flags = adequacy.assessAdequacy(21.0, 0.52, "normal", sflrInterval=(19.8, 22.2), flrBwrInterval=(0.51, 0.53))
    assert flagStates(flags) == {"sFLR": "borderline", "flrBwr": "met"}
    assert "resolution interval 19.80-22.20 %" in flags[0].describe()
    # The interval just missing the cut-off leaves the state to the value.
    assert flagStates(adequacy.assessAdequacy(21.0, None, "normal", sflrInterval=(20.01, 21.99)))["sFLR"] == "met"


def test_workedExampleFlags():
    # sFLR 26.50 % and FLR-BWR 0.571 %: enough for a normal liver, not after chemotherapy or in cirrhosis.
    assert flagStates(adequacy.assessAdequacy(26.50, 0.571, "normal")) == {"sFLR": "met", "flrBwr": "met"}
    assert flagStates(adequacy.assessAdequacy(26.50, 0.571, "chemotherapy")) == {"sFLR": "not met", "flrBwr": "unknown"}
    assert flagStates(adequacy.assessAdequacy(26.50, 0.571, "cirrhosis")) == {"sFLR": "not met", "flrBwr": "not met"}


def test_missingValueIsUnknown():
    flags = adequacy.assessAdequacy(None, None, "normal")
    assert flagStates(flags) == {"sFLR": "unknown", "flrBwr": "unknown"}
    assert all(flag.value is None and flag.threshold is not None for flag in flags)
    assert flagStates(adequacy.assessAdequacy(10.0, None, "normal")) == {"sFLR": "not met", "flrBwr": "unknown"}


def test_flagTextSupportsDecisionsWithoutCallingThemSafe():
    flags = adequacy.assessAdequacy(26.496, 0.5714, "normal") + adequacy.assessAdequacy(None, None, "chemotherapy")
    texts = [flag.describe() for flag in flags]
    assert texts[0].startswith("sFLR 26.50 % (> 20 %): met")
    assert "0.571 %" in texts[1] and "Truant 2007 JACS 204:22" in texts[1]
    assert "no threshold" in texts[3]
    assert "[unchecked]" in texts[2]  # 30 % after chemotherapy: citation unchecked
    for text in texts + [flag.source for flag in flags] + [flag.label for flag in flags]:
        assert "safe" not in text.lower()


def test_overridesReplaceValuesAndSayWhatTheyReplace():
    thresholds = adequacy.defaultThresholds("normal").withOverrides(sflrMinimumPercent=25.0, source="local protocol")
    assert thresholds.sflrMinimumPercent == 25.0
    assert thresholds.sflrSource.startswith("local protocol") and "20 %" in thresholds.sflrSource
    assert thresholds.flrBwrMinimumPercent == 0.5  # untouched
    assert flagStates(adequacy.assessAdequacy(22.0, 0.6, "normal", thresholds))["sFLR"] == "not met"
    assert flagStates(adequacy.assessAdequacy(22.0, 0.6, "normal"))["sFLR"] == "met"
    # A threshold the reference does not give can be supplied, and then decides.
    chemo = adequacy.defaultThresholds("chemotherapy").withOverrides(flrBwrMinimumPercent=0.6, source="local protocol")
    flags = adequacy.assessAdequacy(35.0, 0.55, "chemotherapy", chemo)
    assert flagStates(flags) == {"sFLR": "met", "flrBwr": "not met"}
    assert flags[1].source.startswith("local protocol")
    # The defaults themselves are unchanged.
    assert adequacy.defaultThresholds("normal").sflrMinimumPercent == 20.0


@pytest.mark.parametrize(
    "overrides,pattern",
    [
        ({"sflrMinimumPercent": 0}, r"sFLR minimum 0 % is out of range"),
        ({"sflrMinimumPercent": 100}, r"sFLR minimum 100 % is out of range"),
        ({"sflrMinimumPercent": -5}, r"sFLR minimum -5 % is out of range"),
        ({"sflrMinimumPercent": 0.25}, r"sFLR minimum 0\.25 % looks like a fraction.*25 %"),
        ({"flrBwrMinimumPercent": 150}, r"FLR-BWR minimum 150 % is out of range"),
        ({"flrBwrMinimumPercent": float("nan")}, r"FLR-BWR minimum nan is not a finite number"),
        ({"flrBwrMinimumPercent": "0.5"}, r"FLR-BWR minimum '0.5' is not a number"),
        ({"sflrMinimumPercent": 25, "source": ""}, r"Threshold source '' is empty"),
    ],
)
def test_badOverridesAreRefused(overrides, pattern):
    with pytest.raises(ValueError, match=pattern):
        adequacy.defaultThresholds("normal").withOverrides(**overrides)


def test_badConditionOrValuesAreRefused():
    with pytest.raises(ValueError, match=r"Unknown liver condition 'fatty'.*normal, chemotherapy, cirrhosis"):
        adequacy.assessAdequacy(30, 0.6, "fatty")
    with pytest.raises(ValueError, match=r"Thresholds are for liver condition 'normal'.*'cirrhosis'"):
        adequacy.assessAdequacy(30, 0.6, "cirrhosis", adequacy.defaultThresholds("normal"))
    with pytest.raises(ValueError, match=r"Standardised future liver remnant \(sFLR\) -3 % is negative"):
        adequacy.assessAdequacy(-3, 0.6, "normal")
    with pytest.raises(ValueError, match=r"FLR to body weight ratio \(FLR-BWR\) nan is not a finite number"):
        adequacy.assessAdequacy(30, float("nan"), "normal")


# A liver of 1500 mL whose proportions lie inside every published range: VIII 26 %, V-VIII 65 %,
# I 4 %, II+III 15 %.
TYPICAL_SEGMENTS_ML = {"I": 60.0, "II": 105.0, "III": 120.0, "IV": 240.0, "V": 225.0, "VI": 180.0, "VII": 195.0, "VIII": 375.0}


def test_typicalLiverRaisesNoWarning():
    assert sum(TYPICAL_SEGMENTS_ML.values()) == 1500.0
    assert adequacy.plausibilityWarnings(TYPICAL_SEGMENTS_ML, 1500.0, bsaM2=1.8) == []


def test_leftLateralSectionShareIsNotWarnedAbout():
    # II+III "often < 20 %" is no range: 10 % and 25 % (of the same 1500 mL liver) give no warning.
    for leftLateral in (150.0, 375.0):
        segments = dict(TYPICAL_SEGMENTS_ML, II=leftLateral / 2, III=leftLateral / 2)
        assert adequacy.plausibilityWarnings(segments, 1500.0) == []


@pytest.mark.parametrize(
    "changes,total,bsaM2,pattern",
    [
        # VIII 600 / 1500 = 40 % > 38 %; V-VIII (225+180+195+600)/1500 = 80 % > 69.5 %.
        ({"VIII": 600.0}, 1500.0, None, r"Segment VIII is 40\.00 % of the liver volume, outside the usual 11-38 %.*soft"),
        ({"VIII": 150.0}, 1500.0, None, r"Segment VIII is 10\.00 %.*11-38 %"),
        # V-VIII (225+180+195+375)/1500 = 65 %; with VI 90 mL: 885/1500 = 59 % < 60.5 %.
        ({"VI": 90.0}, 1500.0, None, r"Right liver \(segments V-VIII\) is 59\.00 % .*60\.5-69\.5 % \(65 % \+- 4\.5 %\).*soft"),
        ({"VI": 270.0}, 1500.0, None, r"Right liver \(segments V-VIII\) is 71\.00 %"),
        # I 30 / 1500 = 2 % < 3 %; 105 / 1500 = 7 % > 6 %.
        ({"I": 30.0}, 1500.0, None, r"Segment I \(caudate\) is 2\.00 % of the liver volume, outside the usual 3-6 %.*soft"),
        ({"I": 105.0}, 1500.0, None, r"Segment I \(caudate\) is 7\.00 %"),
        # 1500 mL / 1.0 m2 = 1.5 L/m2 > 1.3; 1500 mL / 2.6 m2 = 0.58 L/m2 < 0.6.
        ({}, 1500.0, 1.0, r"Total liver volume per body surface area is 1\.50 L/m2, outside the usual 0\.6-1\.3 L/m2.*soft"),
        ({}, 1500.0, 2.6, r"per body surface area is 0\.58 L/m2"),
    ],
)
def test_implausibleProportionsAreWarned(changes, total, bsaM2, pattern):
    segments = dict(TYPICAL_SEGMENTS_ML, **changes)
    warnings = adequacy.plausibilityWarnings(segments, total, bsaM2)
    assert any(re.search(pattern, warning) for warning in warnings), warnings


def test_rangeLimitsAreInside():
    # Exactly 11 % (VIII), 60.5 % (V-VIII: 352.5 + 300 + 90 + 165 = 907.5 of 1500), 3 % (I) and
    # 1.3 L/m2 / 0.6 L/m2 are inside their ranges.
    segments = {"I": 45.0, "V": 352.5, "VI": 300.0, "VII": 90.0, "VIII": 165.0}
    assert adequacy.plausibilityWarnings(segments, 1500.0, bsaM2=1500.0 / 1300.0) == []
    assert adequacy.plausibilityWarnings(segments, 1500.0, bsaM2=1500.0 / 600.0) == []


def test_checksWithMissingSegmentsAreSkipped():
    # Only VIII given, 40 %: warned; the right liver and segment I checks need their segments.
    warnings = adequacy.plausibilityWarnings({"VIII": 600.0}, 1500.0)
    assert len(warnings) == 1 and warnings[0].startswith("Segment VIII")


def test_badPlausibilityInputIsRefused():
    with pytest.raises(ValueError, match=r"Segment 'IX' is not a Couinaud segment"):
        adequacy.plausibilityWarnings({"IX": 10.0}, 1500.0)
    with pytest.raises(ValueError, match=r"Segment VIII volume -1 mL is negative"):
        adequacy.plausibilityWarnings({"VIII": -1.0}, 1500.0)
    with pytest.raises(ValueError, match=r"Total liver volume \(TLV\) 0 mL must be positive"):
        adequacy.plausibilityWarnings(TYPICAL_SEGMENTS_ML, 0)
    with pytest.raises(ValueError, match=r"Body surface area \(BSA\) 0 m2 must be positive"):
        adequacy.plausibilityWarnings(TYPICAL_SEGMENTS_ML, 1500.0, bsaM2=0)
