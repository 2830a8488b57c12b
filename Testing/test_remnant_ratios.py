"""Future liver remnant ratios (clinical reference section 2): the worked example, the
definitions that label each number, and the refusal of impossible volumes."""

import pytest
from ALPPSVolumetryLib.criteria import bodySize
from ALPPSVolumetryLib.planning import remnantRatios


def printed(value, text):
    """``value`` equals the number printed as ``text`` to the precision it is printed with."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    return round(value, decimals) == float(text)


def test_workedExample():
    # FLR 400 mL, H 170, W 70 -> BSA 1.8181, sTLV 1509.66, sFLR 26.50 %, FLR-BWR 0.571 %.
    body = bodySize.standardLiverVolume(170, 70)
    assert printed(body.bsaM2, "1.8181")
    assert printed(body.stlvMl, "1509.66")
    assert printed(remnantRatios.standardisedFutureLiverRemnant(400, body.stlvMl), "26.50")
    assert printed(remnantRatios.remnantToBodyWeightRatio(400, 70), "0.571")


def test_measuredAndFunctionalRemnant():
    assert remnantRatios.measuredFutureLiverRemnantPercent(400, 1600) == 25.0
    # (400 - 40) / (1600 - 160) x 100 = 360 / 1440 x 100 = 25 %.
    # All tumour inside the remnant lowers its share: (400 - 100) / (1600 - 100) x 100 = 20 %.
    assert remnantRatios.functionalFutureLiverRemnantPercent(400, 40, 1600, 160) == 25.0
    assert remnantRatios.functionalFutureLiverRemnantPercent(400, 100, 1600, 100) == 20.0
    # Tumour only outside the remnant raises the remnant's functional share: 400 / 1200.
    assert printed(remnantRatios.functionalFutureLiverRemnantPercent(400, 0, 1600, 400), "33.33")


def test_remnantPerBodySurfaceArea():
    assert remnantRatios.remnantPerBodySurfaceArea(400, 2.0) == 200.0


def test_wholeLiverAndEmptyRemnantAreAccepted():
    # FLR equal to TLV (nothing resected) and a zero FLR are numbers, not input mistakes.
    assert remnantRatios.measuredFutureLiverRemnantPercent(1600, 1600) == 100.0
    assert remnantRatios.measuredFutureLiverRemnantPercent(0, 1600) == 0.0


def test_everyRatioHasItsUnitAndMethod():
    definitions = remnantRatios.RATIO_DEFINITIONS
    assert set(definitions) == {"sFLR", "percentFLR", "functionalPercentFLR", "flrBwr", "flrPerBsa"}
    assert {key: definition.unit for key, definition in definitions.items()} == {
        "sFLR": "%",
        "percentFLR": "%",
        "functionalPercentFLR": "%",
        "flrBwr": "%",
        "flrPerBsa": "mL/m2",
    }
    assert "MD Anderson" in definitions["sFLR"].definition
    assert "tumour" in definitions["functionalPercentFLR"].definition
    assert "1000" in definitions["flrBwr"].definition
    assert all(definition.label and definition.definition for definition in definitions.values())


@pytest.mark.parametrize(
    "call,pattern",
    [
        (lambda: remnantRatios.standardisedFutureLiverRemnant(-1, 1500), r"Future liver remnant \(FLR\) -1 mL is negative"),
        (lambda: remnantRatios.standardisedFutureLiverRemnant(400, 0), r"Standard total liver volume \(sTLV\) is 0 mL"),
        (lambda: remnantRatios.standardisedFutureLiverRemnant(400, float("nan")), r"Standard total liver volume \(sTLV\) nan"),
        (lambda: remnantRatios.standardisedFutureLiverRemnant("400", 1500), r"Future liver remnant \(FLR\) '400' is not a number"),
        (lambda: remnantRatios.measuredFutureLiverRemnantPercent(1700, 1600), r"Future liver remnant \(FLR\) 1700 mL is larger than total liver volume \(TLV\) 1600 mL"),
        (lambda: remnantRatios.measuredFutureLiverRemnantPercent(400, 0), r"Total liver volume \(TLV\) is 0 mL"),
        (lambda: remnantRatios.measuredFutureLiverRemnantPercent(400, -5), r"Total liver volume \(TLV\) -5 mL is negative"),
        (lambda: remnantRatios.functionalFutureLiverRemnantPercent(1700, 0, 1600, 0), r"Future liver remnant \(FLR\) 1700 mL is larger than total liver volume"),
        (lambda: remnantRatios.functionalFutureLiverRemnantPercent(400, 500, 1600, 600), r"Tumour inside the FLR 500 mL is larger than the FLR 400 mL"),
        (lambda: remnantRatios.functionalFutureLiverRemnantPercent(400, 50, 1600, 1700), r"Total tumour volume 1700 mL is larger than total liver volume \(TLV\) 1600 mL"),
        (lambda: remnantRatios.functionalFutureLiverRemnantPercent(400, 50, 1600, 20), r"Tumour inside the FLR 50 mL is larger than total tumour volume 20 mL"),
        (lambda: remnantRatios.functionalFutureLiverRemnantPercent(400, 0, 1600, 1300), r"Tumour outside the FLR 1300 mL is larger than the liver outside the FLR"),
        (lambda: remnantRatios.functionalFutureLiverRemnantPercent(400, 400, 400, 400), r"Tumour-free liver volume \(TLV - all tumour\) is 0 mL"),
        (lambda: remnantRatios.functionalFutureLiverRemnantPercent(400, -1, 1600, 0), r"Tumour inside the FLR -1 mL is negative"),
        (lambda: remnantRatios.remnantToBodyWeightRatio(400, 0), r"Weight 0 kg must be positive"),
        (lambda: remnantRatios.remnantToBodyWeightRatio(400, 154 * 2.2046), r"Weight 339\.508 kg .*looks like pounds \(= 154\.0 kg\)"),
        (lambda: remnantRatios.remnantPerBodySurfaceArea(400, 0), r"Body surface area \(BSA\) 0 m2 must be positive"),
        (lambda: remnantRatios.remnantPerBodySurfaceArea(-400, 1.8), r"Future liver remnant \(FLR\) -400 mL is negative"),
    ],
)
def test_impossibleVolumesAreRefused(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()
