import pytest
from ALPPSVolumetryLib.segments import couinaud


@pytest.mark.parametrize(
    "name,expected",
    [
        ("II", ("II", None)),
        ("2", ("II", None)),
        ("S2", ("II", None)),
        ("s 2", ("II", None)),
        ("Segment 2", ("II", None)),
        ("Segment II", ("II", None)),
        ("Couinaud segment II", ("II", None)),
        ("liver_segment_2", ("II", None)),
        ("Liver segment 8", ("VIII", None)),
        ("caudate", ("I", None)),
        ("Caudate lobe", ("I", None)),
        ("S1", ("I", None)),
        ("IVa", ("IV", "a")),
        ("Segment 4b", ("IV", "b")),
        ("VII", ("VII", None)),
        ("seg. 6", ("VI", None)),
        ("IIa", (None, None)),
        ("Segment 9", (None, None)),
        ("Spleen", (None, None)),
        ("Tumour 1", (None, None)),
        ("liver", (None, None)),
    ],
)
def test_namesPeopleTypeAreRecognised(name, expected):
    assert couinaud.segmentIdFromName(name) == expected


def test_everySegmentHasItsSnomedCode():
    assert [couinaud.segmentIdFromCode(couinaud.SNOMED_CODE[s]) for s in couinaud.SEGMENT_IDS] == list(couinaud.SEGMENT_IDS)
    assert couinaud.SNOMED_CODE["I"] == "71133005" and couinaud.SNOMED_CODE["VIII"] == "277962002"
    assert "SCT^277956007^Couinaud hepatic segment II" in couinaud.terminologyEntry("II")
