"""Every published cut-off the extension compares a number with, and the one flag type that says
how a number stands against it (clinical reference sections 2, 4, 5, 6, 7).

A cut-off is recorded as its source publishes it: the comparison that defines the *risk group*
(Kishi: sFLR <= 20 %; Shindoh: KGR < 2 %/week; Tomassini: growth <= 4.1 %/day ...). A flag
always states the criterion for going ahead, the opposite side of that comparison, so that one
vocabulary holds everywhere (panels, checklist, CLI, JSON, report):

- met: the value is outside the risk group (the criterion for going ahead holds);
- not met: the value is in the risk group;
- borderline: the value's resolution interval (what the scan's voxels allow) contains the cut-off,
  so the scan cannot tell met from not met;
- unknown: the value (or the cut-off) is missing; the flag says why.

The value compared is the value as displayed (rounded to the cut-off's digits), so that a reader
never sees a number that contradicts its state. A cut-off marked unchecked in the clinical
reference, or a number computed with an unchecked formula, makes the flag unchecked, and every
output shows that.
"""

import dataclasses
import math
import numbers
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Optional, Tuple

CHECKED = "checked"
UNCHECKED = "unchecked"
USER_DEFINED = "user-defined"

MET = "met"
NOT_MET = "not met"
BORDERLINE = "borderline"
UNKNOWN = "unknown"
FLAG_STATES = (MET, NOT_MET, BORDERLINE, UNKNOWN)
# One wording per state, for every output.
STATE_WORDS = {
    MET: "met",
    NOT_MET: "not met",
    BORDERLINE: "borderline",
    UNKNOWN: "unknown",
}

# The comparison that puts a value in the risk group, and its opposite (the go-ahead criterion).
_RISK_TESTS = {
    "<": lambda value, cutoff: value < cutoff,
    "<=": lambda value, cutoff: value <= cutoff,
    ">": lambda value, cutoff: value > cutoff,
    ">=": lambda value, cutoff: value >= cutoff,
}
OPPOSITE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}

# --- Sources (clinical reference) ------------------------------------------------------------------

KISHI_2009 = "Kishi 2009 Ann Surg 250:540"
VAUTHEY_2000 = "Vauthey 2000 Surgery 127:512"
SHINDOH_2013_CHEMOTHERAPY = "Shindoh 2013 Ann Surg Oncol 20:2493 (more than 12 cycles of chemotherapy)"
KUBOTA_1997 = (
    "Kubota 1997 Hepatology 26:1176 / Azoulay, as cited in a review (PMC6422720); neither Kishi nor Vauthey "
    "studied cirrhosis"
)
TRUANT_2007 = "Truant 2007 JACS 204:22"
ZURICH_ALPPS_TRIAL = "Zurich ALPPS trial inclusion (0.5 % / 0.8 %)"
SHINDOH_2013_KGR = "Shindoh 2013 JACS 216:201"
TOMASSINI_2020 = "Tomassini 2020 HPB (ALPPS: FLR growth per day and FLR-F/BSA before stage 2)"
SCHADDE_2015 = "Schadde 2015 Ann Surg 262:780 (International ALPPS Registry: MELD > 10 before stage 2, OR 4.9 for 90-day mortality)"
DE_GRAAF_2010 = "de Graaf 2010 J Gastrointest Surg 14:369 (99mTc-mebrofenin hepatobiliary scintigraphy)"
NOTAKE_2021 = "Notake 2021 BJS Open (rHUI < 0.410 predicted PHLF grade B/C)"
BALZAN_2005 = "Balzan 2005 Ann Surg 242:824 (50-50 criteria on postoperative day 5)"
MULLEN_2007 = "Mullen 2007 JACS 204:854 (peak bilirubin > 7 mg/dL)"

MUR_NORMALISATION_UNCHECKED = (
    "the normalisation of the mebrofenin uptake rate behind FLR-F/BSA is unchecked (clinical reference section 5): "
    "it moves MUR by 20-26 % on simulated curves"
)


@dataclass(frozen=True)
class Cutoff:
    """A published cut-off: the risk group is ``value <riskWhen> threshold``."""

    key: str
    label: str  # the quantity in clinicians' words, e.g. 'sFLR'
    threshold: float
    unit: str
    riskWhen: str  # comparison defining the risk group, as published
    source: str
    population: str
    status: str  # CHECKED, UNCHECKED or USER_DEFINED
    decimals: int  # digits the value is shown (and compared) with
    note: str = ""

    def __post_init__(self):
        if self.riskWhen not in _RISK_TESTS:
            raise ValueError(f"Cut-off {self.key}: comparison {self.riskWhen!r} is unknown: expected one of {', '.join(_RISK_TESTS)}")

    @property
    def comparison(self):
        """The go-ahead criterion's comparison: met when ``value <comparison> threshold``."""
        return OPPOSITE[self.riskWhen]

    def thresholdText(self):
        return withUnit(f"{self.threshold:g}", self.unit)

    def criterionText(self):
        """'sFLR > 20 %': what 'met' means."""
        return f"{self.label} {self.comparison} {self.thresholdText()}"

    def riskGroupText(self):
        return f"{self.label} {self.riskWhen} {self.thresholdText()}"

    def withThreshold(self, threshold, source="user-defined threshold", population=None):
        """A copy with another threshold whose source says what it replaces."""
        if not isinstance(source, str) or not source.strip():
            raise ValueError(f"Threshold source {source!r} is empty: expected where the new threshold comes from")
        value = checkedNumber(threshold, f"{self.label} threshold", f"a number in {self.unit or 'no unit'}")
        return dataclasses.replace(
            self,
            threshold=value,
            source=f"{source} (replaces {self.riskGroupText()} as risk group: {self.source})",
            population=population if population is not None else "not stated",
            status=USER_DEFINED,
        )

    def asDict(self):
        values = dataclasses.asdict(self)
        values.update(comparison=self.comparison, criterion=self.criterionText(), riskGroup=self.riskGroupText())
        return values


def withUnit(text, unit):
    return f"{text} {unit}" if unit else f"{text}"


def checkedNumber(value, name, expected):
    """``value`` as a float; ValueError naming ``name`` and what was ``expected`` when it is not a
    finite number (booleans and text are refused: they are input mistakes, not numbers)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} {value!r} is not a number: expected {expected}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} {value} is not a finite number: expected {expected}")
    return value


def shownNumber(value, decimals):
    """The number as displayed with ``decimals`` digits, halves up on its decimal text, as a reader
    rounds (Python's round() and format() round halves to even and see binary fractions: 2.675 -> 2.67)."""
    if value is None:
        return None
    return float(Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def formatShown(value, decimals):
    return f"{shownNumber(value, decimals):.{decimals}f}"


@dataclass(frozen=True)
class Flag:
    """How one value stands against one cut-off (or a combined rule, with ``parts``).

    ``state`` is one of FLAG_STATES; ``comparison`` and ``threshold`` state the go-ahead criterion
    (met when value <comparison> threshold); ``riskGroup`` the risk group as published.
    """

    criterion: str
    label: str
    value: Optional[float]
    unit: str
    threshold: Optional[float]
    comparison: str
    state: str
    source: str
    status: str
    decimals: int = 2
    riskGroup: str = ""
    population: str = ""
    interval: Optional[Tuple[float, float]] = None  # resolution interval of the value
    reason: str = ""  # why unknown, or a note on the state
    note: str = ""
    condition: str = ""  # liver condition the cut-off belongs to (adequacy)
    conditionLabel: str = ""
    parts: Tuple["Flag", ...] = field(default=())

    @property
    def stateText(self):
        return STATE_WORDS[self.state]

    @property
    def shownValue(self):
        return None if self.value is None else formatShown(self.value, self.decimals)

    def criterionText(self):
        if self.threshold is None:
            return self.comparison
        return f"{self.comparison} {withUnit(f'{self.threshold:g}', self.unit)}"

    def describe(self):
        """One line for tables, the CLI and reports, e.g.
        'sFLR 26.50 % (> 20 %): met [Kishi 2009 ...]'."""
        if self.parts:
            measured = "; ".join(part.describe() for part in self.parts)
            text = f"{self.label} ({self.comparison}): {self.stateText}"
        else:
            value = "not available" if self.value is None else self.valueText()
            criterion = f" ({self.criterionText()})" if self.criterionText() else ""
            text = f"{self.label} {value}{criterion}: {self.stateText}"
            measured = ""
        if self.reason:
            text += f" ({self.reason})"
        if self.status != CHECKED:
            text += f" [{self.status}]"
        details = "; ".join(item for item in (self.source, f"population: {self.population}" if self.population else "") if item)
        text += f" [{details}]" if details else ""
        return f"{text} - {measured}" if measured else text

    @classmethod
    def fromDict(cls, values):
        """The flag of its JSON form (``asDict``)."""
        known = {item.name for item in dataclasses.fields(cls)}
        fields = {key: value for key, value in values.items() if key in known}
        fields["parts"] = tuple(cls.fromDict(part) for part in values.get("parts") or ())
        if fields.get("interval") is not None:
            fields["interval"] = tuple(fields["interval"])
        return cls(**fields)

    def valueText(self):
        """The value as displayed with its unit, and its resolution interval when it has one."""
        if self.value is None:
            return "-"
        text = withUnit(self.shownValue, self.unit)
        if self.interval is not None:
            low, high = (formatShown(bound, self.decimals) for bound in self.interval)
            text += f" (resolution interval {low}-{withUnit(high, self.unit)})"
        return text

    def line(self):
        """Value, criterion and state without the sources: for tables and console lists."""
        unchecked = f" [{self.status}]" if self.status != CHECKED else ""
        why = f" ({self.reason})" if self.reason else ""
        criterion = f" ({self.criterionText()})" if self.criterionText() else ""
        value = "" if self.value is None and not self.threshold else f" {self.valueText()}"
        return f"{self.label}{value}{criterion}: {self.stateText}{unchecked}{why}"

    def asDict(self):
        values = dataclasses.asdict(self)
        values["stateText"] = self.stateText
        values["shownValue"] = self.shownValue
        values["interval"] = list(self.interval) if self.interval is not None else None
        return values


def isInRiskGroup(cutoff, value):
    return _RISK_TESTS[cutoff.riskWhen](shownNumber(value, cutoff.decimals), cutoff.threshold)


def evaluate(cutoff, value, interval=None, reason="", status=None, note="", label=None, condition="", conditionLabel=""):
    """The flag of ``value`` against ``cutoff``; ``interval`` (low, high) is the value's resolution
    interval, ``status`` overrides the cut-off's when the value comes from an unchecked formula."""
    if value is not None:
        value = checkedNumber(value, cutoff.label, f"a value in {cutoff.unit or 'no unit'}")
    if value is None:
        state = UNKNOWN
    elif interval is not None and shownNumber(min(interval), cutoff.decimals) <= cutoff.threshold <= shownNumber(max(interval), cutoff.decimals):
        state = BORDERLINE
    else:
        state = NOT_MET if isInRiskGroup(cutoff, value) else MET
    if value is None and not reason:
        reason = f"no {cutoff.label}"
    # The flag is as checked as the least checked of its cut-off and the formula behind its value.
    statuses = {cutoff.status, status or CHECKED}
    worst = next(level for level in (UNCHECKED, USER_DEFINED, CHECKED) if level in statuses)
    return Flag(
        criterion=cutoff.key,
        label=label or cutoff.label,
        value=value,
        unit=cutoff.unit,
        threshold=cutoff.threshold,
        comparison=cutoff.comparison,
        state=state,
        source=cutoff.source,
        status=worst,
        decimals=cutoff.decimals,
        riskGroup=cutoff.riskGroupText(),
        population=cutoff.population,
        interval=None if interval is None else (float(min(interval)), float(max(interval))),
        reason=_borderlineReason(cutoff, interval) if state == BORDERLINE and not reason else reason,
        note=note or cutoff.note,
        condition=condition,
        conditionLabel=conditionLabel,
    )


def _borderlineReason(cutoff, interval):
    low, high = (formatShown(bound, cutoff.decimals) for bound in (min(interval), max(interval)))
    return f"the cut-off {cutoff.thresholdText()} lies within the resolution interval {low}-{withUnit(high, cutoff.unit)}"


def combinedState(states):
    """A rule whose conditions must all hold for the risk sign: the go-ahead criterion is met as
    soon as one condition is outside its risk group, not met when all are in it."""
    if MET in states:
        return MET
    if all(state == NOT_MET for state in states):
        return NOT_MET
    if BORDERLINE in states:
        return BORDERLINE
    return UNKNOWN


def flagCounts(flags):
    """How many flags are in each state (for verdicts)."""
    return {state: sum(1 for flag in flags if flag.state == state) for state in FLAG_STATES}


# --- The cut-offs ------------------------------------------------------------------------------------

SFLR_NORMAL = Cutoff(
    "sFLR", "sFLR", 20.0, "%", "<=", f"{KISHI_2009}; {VAUTHEY_2000}", "normal liver, major hepatectomy", UNCHECKED, 2,
    note=f"many centres use sFLR > 25 % ({VAUTHEY_2000}); citations as given in a review (PMC6422720), primary papers unchecked",
)
SFLR_CHEMOTHERAPY = Cutoff(
    "sFLR", "sFLR", 30.0, "%", "<=", SHINDOH_2013_CHEMOTHERAPY, "after extensive chemotherapy / steatosis", UNCHECKED, 2,
    note="citation as given in a review (PMC6422720); primary paper unchecked",
)
SFLR_CIRRHOSIS = Cutoff(
    "sFLR", "sFLR", 40.0, "%", "<=", KUBOTA_1997, "cirrhosis or otherwise injured liver", UNCHECKED, 2,
    note="primary papers unchecked",
)
FLR_BWR_NORMAL = Cutoff(
    "flrBwr", "FLR-BWR", 0.5, "%", "<=", f"{TRUANT_2007}; {ZURICH_ALPPS_TRIAL}", "normal liver", CHECKED, 3,
)
FLR_BWR_CIRRHOSIS = Cutoff(
    "flrBwr", "FLR-BWR", 0.8, "%", "<=", ZURICH_ALPPS_TRIAL, "cirrhosis or otherwise injured liver", CHECKED, 3,
)
KGR = Cutoff(
    "kineticGrowthRate", "KGR", 2.0, "%/week", "<", SHINDOH_2013_KGR, "portal vein embolisation (PVE), not ALPPS", CHECKED, 2,
    note="hepatic insufficiency 21.6 % vs 0 % after PVE; a PVE cut-off: in ALPPS, where growth is about ten times faster, it is nearly always met",
)
GROWTH_PER_DAY = Cutoff(
    "relativeGrowthPerDay", "FLR growth per day", 4.1, "%/day", "<=", TOMASSINI_2020, "ALPPS before stage 2", CHECKED, 2,
    note="relative growth per day since stage 1; the denominator in Tomassini 2020 is unchecked",
)
MELD_BEFORE_STAGE_2 = Cutoff("meldBeforeStage2", "MELD", 10, "", ">", SCHADDE_2015, "ALPPS before stage 2", CHECKED, 0)
FLR_FUNCTION_DE_GRAAF = Cutoff(
    "flrFunctionBsaBelowDeGraaf", "FLR-F/BSA", 2.69, "%/min/m2", "<", DE_GRAAF_2010, "major liver resection (not ALPPS)", CHECKED, 2,
    note=MUR_NORMALISATION_UNCHECKED,
)
FLR_FUNCTION_ALPPS = Cutoff(
    "flrFunctionBsaBelowAlppsStage2", "FLR-F/BSA", 2.7, "%/min/m2", "<=", TOMASSINI_2020, "ALPPS before stage 2", CHECKED, 2,
    note=MUR_NORMALISATION_UNCHECKED,
)
REMNANT_HUI = Cutoff(
    "remnantHuiBelow", "rHUI", 0.410, "L", "<", NOTAKE_2021, "biliary cancer, major hepatectomy (not ALPPS)", CHECKED, 3,
    note="HUI formula unchecked (Yamada 2011); litres inferred from the cut-off's size (clinical reference section 6)",
)
FIFTY_FIFTY_PROTHROMBIN = Cutoff(
    "fiftyFifty.prothrombinTime", "Prothrombin time", 50.0, "%", "<", BALZAN_2005, "after hepatectomy, day 5", CHECKED, 0,
)
FIFTY_FIFTY_BILIRUBIN = Cutoff(
    "fiftyFifty.bilirubin", "Bilirubin", 50.0, "umol/L", ">", BALZAN_2005, "after hepatectomy, day 5", CHECKED, 0,
)
LAPAROSCOPIC_RESECTION_AREAS = Cutoff(
    "laparoscopicResectionAreas", "Resection areas", 3, "", ">",
    "clinical reference section 9: laparoscopic parenchyma-sparing hepatectomy is advised for at most 3 resection areas",
    "parenchyma-sparing hepatectomy", UNCHECKED, 0,
)
PEAK_BILIRUBIN = Cutoff(
    "peakBilirubin", "Peak postoperative bilirubin", 7.0, "mg/dL", ">", MULLEN_2007, "after hepatectomy", CHECKED, 1,
)
