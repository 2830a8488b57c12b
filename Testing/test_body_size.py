"""Body surface area and standard liver volume against the worked examples of the clinical
reference (section 1), and the explanations given for implausible input."""

import math

import pytest
from ALPPSVolumetryLib.criteria import bodySize


def printed(value, text):
    """``value`` equals the number printed as ``text`` to the precision it is printed with."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    return round(value, decimals) == float(text)


@pytest.mark.parametrize(
    "formula,heightCm,weightKg,expected",
    [
        ("mosteller", 170, 70, "1.8181"),
        ("mosteller", 180, 80, "2.0000"),
        ("dubois", 170, 70, "1.8097"),
        ("haycock", 170, 70, "1.8257"),
    ],
)
def test_bodySurfaceAreaMatchesTheWorkedExamples(formula, heightCm, weightKg, expected):
    assert printed(bodySize.bodySurfaceArea(heightCm, weightKg, formula), expected)


def test_defaultBodySurfaceAreaIsMosteller():
    assert printed(bodySize.bodySurfaceArea(170, 70), "1.8181")


def test_duBoisUsesThePublishedCoefficientNotTheTypo():
    # The typo 0.0087184 gives 2.196 m2 at 170 cm / 70 kg, about 21 % above the published value.
    bsa = bodySize.bodySurfaceArea(170, 70, "dubois")
    assert bsa < 1.9
    assert "0.007184" in bodySize.BSA_FORMULAS["dubois"].equation
    assert "0.0087184" not in bodySize.BSA_FORMULAS["dubois"].equation


@pytest.mark.parametrize(
    "formula,bsaM2,expected",
    [
        ("vauthey", 2.0, "1740.15"),
        ("urata", 2.0, "1414.80"),
        ("heinemann", 2.0, "1799.90"),
        # Not printed in the reference; computed by hand from the published coefficients.
        ("um_mosteller", 2.0, "1347.801"),  # 893.485 x 2 - 439.169
        ("um_dubois", 2.0, "1351.680"),  # 908.204 x 2 - 464.728
        ("feng", 2.0, "1392.246"),  # 758.259 x 2 - 124.272
    ],
)
def test_standardLiverVolumeFromBsa(formula, bsaM2, expected):
    assert printed(bodySize.STLV_FORMULAS[formula].function(bsaM2), expected)


def test_vautheyAtTheMostellerBsaOf170cm70kg():
    # The reference prints "BSA 1.8181 -> 1509.66": 1509.66 is what the unrounded BSA
    # (1.818119 m2) gives; BSA rounded to 1.8181 gives 1509.63.
    result = bodySize.standardLiverVolume(170, 70)
    assert printed(result.bsaM2, "1.8181")
    assert printed(result.stlvMl, "1509.66")
    assert printed(bodySize.STLV_FORMULAS["vauthey"].function(1.8181), "1509.63")


def test_standardLiverVolumeRecordsBothFormulas():
    result = bodySize.standardLiverVolume(170, 70)
    assert result.bsaFormula.key == "mosteller" and result.stlvFormula.key == "vauthey"
    assert result.stlvFormula.status == "unchecked"
    assert "Liver Transpl 2002;8:233" in result.stlvFormula.reference
    stored = result.asDict()
    assert stored["bsaFormula"]["label"] == "Mosteller" and stored["stlvFormula"]["equation"] == "1267.28 x BSA - 794.41"
    assert "function" not in stored["stlvFormula"]


def test_formulaStatusesFollowTheClinicalReference():
    statuses = {key: formula.status for key, formula in {**bodySize.BSA_FORMULAS, **bodySize.STLV_FORMULAS}.items()}
    assert statuses == {
        "mosteller": "checked",
        "dubois": "checked",
        "haycock": "checked",
        "vauthey": "unchecked",
        "urata": "unchecked",
        "heinemann": "checked",
        "um_mosteller": "checked",
        "um_dubois": "checked",
        "feng": "checked",
    }


def test_umVariantsUseTheirOwnBsaFormula():
    mosteller = bodySize.standardLiverVolume(170, 70, "um_mosteller")
    assert mosteller.bsaFormula.key == "mosteller"
    assert printed(mosteller.stlvMl, "1185.29")  # 893.485 x 1.818119 - 439.169
    dubois = bodySize.standardLiverVolume(170, 70, "um_dubois", "dubois")
    assert dubois.bsaFormula.key == "dubois"
    assert printed(dubois.stlvMl, "1178.86")  # 908.204 x 1.809708 - 464.728
    assert bodySize.standardLiverVolume(170, 70, "um_dubois").bsaFormula.key == "dubois"


@pytest.mark.parametrize(
    "stlvFormula,bsaFormula,pattern",
    [
        ("um_dubois", "mosteller", r"um_dubois.*DuBois BSA.*Mosteller BSA \(mosteller\)"),
        ("um_mosteller", "haycock", r"um_mosteller.*Mosteller BSA.*Haycock BSA \(haycock\)"),
    ],
)
def test_umVariantWithAnotherBsaIsRefused(stlvFormula, bsaFormula, pattern):
    with pytest.raises(ValueError, match=pattern):
        bodySize.standardLiverVolume(170, 70, stlvFormula, bsaFormula)


def test_unknownFormulasListTheValidKeys():
    with pytest.raises(ValueError, match=r"Unknown BSA formula 'boyd'.*mosteller, dubois, haycock"):
        bodySize.bodySurfaceArea(170, 70, "boyd")
    with pytest.raises(ValueError, match=r"Unknown standard liver volume formula 'yu'.*vauthey, urata, heinemann"):
        bodySize.standardLiverVolume(170, 70, "yu")
    with pytest.raises(ValueError, match=r"Unknown BSA formula 'boyd'"):
        bodySize.standardLiverVolume(170, 70, "vauthey", "boyd")


def test_formulaKeysIgnoreCase():
    assert bodySize.bodySurfaceArea(170, 70, "DuBois") == bodySize.bodySurfaceArea(170, 70, "dubois")


@pytest.mark.parametrize(
    "heightCm,weightKg,pattern",
    [
        (1.72, 70, r"Height 1\.72 cm is implausible: expected centimetres .*1\.72 looks like metres \(= 172 cm\)"),
        (68, 70, r"Height 68 cm .*120-230 cm.*68 looks like inches \(= 172\.7 cm\)"),
        (170, 300, r"Weight 300 kg .*30-250 kg.*300 looks like pounds \(= 136\.1 kg\)"),
        (170, 154.32, None),  # 70 kg in pounds, but also a plausible weight in kg: accepted
        (float("nan"), 70, r"Height nan is not a finite number"),
        (170, float("nan"), r"Weight nan is not a finite number"),
        (170, float("inf"), r"Weight inf is not a finite number"),
        (0, 70, r"Height 0 cm must be positive"),
        (-170, 70, r"Height -170 cm must be positive"),
        (170, 0, r"Weight 0 kg must be positive"),
        ("170", 70, r"Height '170' is not a number: expected centimetres"),
        (170, None, r"Weight None is not a number: expected kilograms"),
        (True, 70, r"Height True is not a number"),
        (100, 70, r"Height 100 cm is outside the plausible adult range 120-230 cm"),
        (240, 70, r"Height 240 cm is outside the plausible adult range"),
        (170, 20, r"Weight 20 kg is outside the plausible adult range 30-250 kg"),
        (170, 700, r"Weight 700 kg is outside the plausible adult range 30-250 kg: expected kilograms \(e\.g\. 70\)$"),
    ],
)
def test_implausibleBodySizeIsExplained(heightCm, weightKg, pattern):
    if pattern is None:
        assert bodySize.validateBodySize(heightCm, weightKg) == (heightCm, weightKg)
        return
    with pytest.raises(ValueError, match=pattern):
        bodySize.validateBodySize(heightCm, weightKg)
    # Both public calculations validate in the same way.
    with pytest.raises(ValueError, match=pattern):
        bodySize.bodySurfaceArea(heightCm, weightKg)
    with pytest.raises(ValueError, match=pattern):
        bodySize.standardLiverVolume(heightCm, weightKg)


def test_plausibleRangeLimitsAreAccepted():
    assert bodySize.validateBodySize(120, 30) == (120.0, 30.0)
    assert bodySize.validateBodySize(230, 250) == (230.0, 250.0)
    assert math.isclose(bodySize.bodySurfaceArea(230, 250), math.sqrt(230 * 250 / 3600))
