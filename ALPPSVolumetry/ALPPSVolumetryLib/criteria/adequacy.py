"""Adequacy flags for the future liver remnant, and soft plausibility checks of segment volumes.

Decision support only: a flag says whether a number reaches a published threshold and which
source the threshold comes from; the clinician decides. Thresholds depend on the liver
condition, which the user gives, and every one can be overridden with its own source
(clinical reference section 2). Plausibility checks (section 3) only warn: they catch
segmentations whose proportions look unusual, never block a result.
"""

import dataclasses
from dataclasses import dataclass
from typing import List, Optional

from . import clinicalCriteria
from .bodySize import checkedNumber
from .clinicalCriteria import BORDERLINE, MET, NOT_MET, UNKNOWN  # noqa: F401 (the states, re-exported)
from ..segments.couinaud import SEGMENT_IDS
from ..planning.remnantRatios import FLR_BWR, RATIO_DEFINITIONS, SFLR


@dataclass(frozen=True)
class LiverCondition:
    key: str
    label: str
    sflrCutoff: clinicalCriteria.Cutoff
    flrBwrCutoff: Optional[clinicalCriteria.Cutoff]  # None: the clinical reference gives no threshold


LIVER_CONDITIONS = {
    condition.key: condition
    for condition in (
        LiverCondition("normal", "Normal liver", clinicalCriteria.SFLR_NORMAL, clinicalCriteria.FLR_BWR_NORMAL),
        LiverCondition("chemotherapy", "After extensive chemotherapy / steatosis", clinicalCriteria.SFLR_CHEMOTHERAPY, None),
        LiverCondition("cirrhosis", "Cirrhosis or otherwise injured liver", clinicalCriteria.SFLR_CIRRHOSIS, clinicalCriteria.FLR_BWR_CIRRHOSIS),
    )
}

# A threshold is a percentage strictly between these bounds.
_PERCENT_BOUNDS = (0.0, 100.0)
# An sFLR threshold below 1 % is never meant: it is a fraction typed for a percentage (0.25 for 25 %).
_SMALLEST_SFLR_MINIMUM_PERCENT = 1.0


def _liverCondition(condition):
    if not isinstance(condition, str) or condition.strip().lower() not in LIVER_CONDITIONS:
        raise ValueError(f"Unknown liver condition {condition!r}: expected one of {', '.join(LIVER_CONDITIONS)}")
    return LIVER_CONDITIONS[condition.strip().lower()]


def _thresholdPercent(value, name):
    expected = f"a percentage between {_PERCENT_BOUNDS[0]:g} and {_PERCENT_BOUNDS[1]:g} (exclusive)"
    percent = checkedNumber(value, name, expected)
    if not _PERCENT_BOUNDS[0] < percent < _PERCENT_BOUNDS[1]:
        raise ValueError(f"{name} {percent:g} % is out of range: expected {expected}")
    return percent


@dataclass(frozen=True)
class AdequacyThresholds:
    """The sFLR and FLR-BWR cut-offs (%) applied for one liver condition, each with its source.
    As published, the risk group is a value at or below the cut-off: adequate means strictly above."""

    condition: str
    sflrMinimumPercent: Optional[float]
    flrBwrMinimumPercent: Optional[float]
    sflrSource: Optional[str]
    flrBwrSource: Optional[str]
    sflrStatus: str = clinicalCriteria.CHECKED
    flrBwrStatus: str = clinicalCriteria.CHECKED

    def withOverrides(self, sflrMinimumPercent=None, flrBwrMinimumPercent=None, source="user-defined threshold"):
        """A copy with the given cut-offs replaced; their source says what they replace, so that a
        report never hides that a default was changed."""
        changes = {}
        overriding = sflrMinimumPercent is not None or flrBwrMinimumPercent is not None
        if overriding and (not isinstance(source, str) or not source.strip()):
            raise ValueError(f"Threshold source {source!r} is empty: expected where the new threshold comes from")
        if sflrMinimumPercent is not None:
            value = _thresholdPercent(sflrMinimumPercent, "sFLR minimum")
            if value < _SMALLEST_SFLR_MINIMUM_PERCENT:
                raise ValueError(
                    f"sFLR minimum {value:g} % looks like a fraction: expected a percentage (e.g. {value * 100:g} %)"
                )
            changes["sflrMinimumPercent"] = value
            changes["sflrSource"] = _overrideSource(source, self.sflrMinimumPercent, self.sflrSource)
            changes["sflrStatus"] = clinicalCriteria.USER_DEFINED
        if flrBwrMinimumPercent is not None:
            changes["flrBwrMinimumPercent"] = _thresholdPercent(flrBwrMinimumPercent, "FLR-BWR minimum")
            changes["flrBwrSource"] = _overrideSource(source, self.flrBwrMinimumPercent, self.flrBwrSource)
            changes["flrBwrStatus"] = clinicalCriteria.USER_DEFINED
        return dataclasses.replace(self, **changes)

    def cutoffs(self):
        """(sFLR cut-off, FLR-BWR cut-off or None) as ``clinicalCriteria.Cutoff`` records."""
        liver = _liverCondition(self.condition)

        def cutoff(base, value, source, status):
            if value is None:
                return None
            if base is None:  # a user-defined FLR-BWR cut-off where the reference gives none
                base = clinicalCriteria.FLR_BWR_NORMAL
            if value == base.threshold and source == base.source:
                return base
            return dataclasses.replace(base, threshold=value, source=source, status=status, population="not stated")

        return (
            cutoff(liver.sflrCutoff, self.sflrMinimumPercent, self.sflrSource, self.sflrStatus),
            cutoff(liver.flrBwrCutoff, self.flrBwrMinimumPercent, self.flrBwrSource, self.flrBwrStatus),
        )


def _overrideSource(source, previous, previousSource):
    if previous is None:
        return f"{source} (no default threshold for this condition)"
    return f"{source} (replaces {previous:g} %: {previousSource})"


def defaultThresholds(condition):
    """The clinical reference's thresholds for a liver condition ('normal', 'chemotherapy', 'cirrhosis')."""
    liver = _liverCondition(condition)
    bwr = liver.flrBwrCutoff
    return AdequacyThresholds(
        condition=liver.key,
        sflrMinimumPercent=liver.sflrCutoff.threshold,
        flrBwrMinimumPercent=None if bwr is None else bwr.threshold,
        sflrSource=liver.sflrCutoff.source,
        flrBwrSource=None if bwr is None else bwr.source,
        sflrStatus=liver.sflrCutoff.status,
        flrBwrStatus=clinicalCriteria.CHECKED if bwr is None else bwr.status,
    )


def _flag(criterion, value, cutoff, liver, interval, status, reason):
    definition = RATIO_DEFINITIONS[criterion]
    if value is not None:
        value = checkedNumber(value, definition.label, f"a percentage ({definition.unit})")
        if value < 0:
            raise ValueError(f"{definition.label} {value:g} {definition.unit} is negative: expected a percentage >= 0")
    if cutoff is None:
        return clinicalCriteria.Flag(
            criterion=criterion, label=definition.shortLabel, value=value, unit=definition.unit, threshold=None, comparison="",
            state=UNKNOWN, source="", status=clinicalCriteria.CHECKED, decimals=definition.decimals,
            interval=interval, reason=f"no threshold in the clinical reference for {liver.label.lower()}",
            condition=liver.key, conditionLabel=liver.label,
        )
    return clinicalCriteria.evaluate(
        cutoff, value, interval=interval, status=status, reason=reason if value is None else "",
        label=definition.shortLabel, condition=liver.key, conditionLabel=liver.label,
    )


def assessAdequacy(sflrPercent, flrBwrPercent, condition, thresholds=None, sflrInterval=None, flrBwrInterval=None,
                   sflrStatus=None, missingReason="needs height and weight") -> List[clinicalCriteria.Flag]:
    """One flag per criterion (sFLR, FLR-BWR). A value of None (e.g. no height/weight) gives
    'unknown', as does a condition without a threshold for that criterion. The intervals are the
    values' resolution intervals (borderline when they contain the cut-off); ``sflrStatus`` is the
    status of the standard liver volume formula behind the sFLR (unchecked for Vauthey)."""
    liver = _liverCondition(condition)
    thresholds = thresholds if thresholds is not None else defaultThresholds(liver.key)
    if thresholds.condition != liver.key:
        raise ValueError(
            f"Thresholds are for liver condition '{thresholds.condition}' but the assessment is for '{liver.key}': "
            "expected thresholds of the same condition"
        )
    sflrCutoff, bwrCutoff = thresholds.cutoffs()
    return [
        _flag(SFLR, sflrPercent, sflrCutoff, liver, sflrInterval, sflrStatus, missingReason),
        _flag(FLR_BWR, flrBwrPercent, bwrCutoff, liver, flrBwrInterval, None, missingReason),
    ]


# --- Plausibility (soft checks) ---------------------------------------------------------------


@dataclass(frozen=True)
class PlausibleShare:
    """Usual share of the liver volume (%) taken by a group of Couinaud segments."""

    label: str
    segments: tuple
    lowPercent: float
    highPercent: float
    note: str = ""


def _aroundMean(label, segments, meanPercent, spreadPercent):
    """A share published as mean +- spread: warn outside that band."""
    return PlausibleShare(
        label, segments, meanPercent - spreadPercent, meanPercent + spreadPercent, f"{meanPercent:g} % +- {spreadPercent:g} %"
    )


PLAUSIBLE_SHARES = (
    PlausibleShare("Segment VIII", ("VIII",), 11.0, 38.0, "mean 26 %"),
    _aroundMean("Right liver (segments V-VIII)", ("V", "VI", "VII", "VIII"), 65.0, 4.5),
    PlausibleShare("Segment I (caudate)", ("I",), 3.0, 6.0),
    # II+III: the reference only says "often < 20 %", which is no range to check against: no warning.
)

# Total liver volume per BSA in non-diseased livers (L/m2).
PLAUSIBLE_LIVER_PER_BSA_L_PER_M2 = (0.6, 1.3)
ML_PER_L = 1000.0

_SOFT_CHECK = "soft plausibility check, not an error: review the segmentation"


def plausibilityWarnings(segmentVolumesMl, totalLiverMl, bsaM2=None) -> List[str]:
    """Warnings (text) when segment shares or liver size fall outside their usual ranges.

    ``segmentVolumesMl``: Couinaud id ('I'..'VIII') -> mL. A check whose segments are not all
    given is skipped. ``bsaM2`` None skips the liver-per-BSA check.
    """
    total = checkedNumber(totalLiverMl, "Total liver volume (TLV)", "a volume in mL")
    if total <= 0:
        raise ValueError(f"Total liver volume (TLV) {total:g} mL must be positive: expected a volume in mL")
    volumes = {}
    for segment, volume in segmentVolumesMl.items():
        if segment not in SEGMENT_IDS:
            raise ValueError(f"Segment {segment!r} is not a Couinaud segment: expected one of {', '.join(SEGMENT_IDS)}")
        if volume is None:
            continue
        volume = checkedNumber(volume, f"Segment {segment} volume", "a volume in mL")
        if volume < 0:
            raise ValueError(f"Segment {segment} volume {volume:g} mL is negative: expected a volume in mL (>= 0)")
        volumes[segment] = volume
    warnings = []
    for share in PLAUSIBLE_SHARES:
        if not all(segment in volumes for segment in share.segments):
            continue
        percent = sum(volumes[segment] for segment in share.segments) / total * 100.0
        if not share.lowPercent <= percent <= share.highPercent:
            note = f" ({share.note})" if share.note else ""
            warnings.append(
                f"{share.label} is {percent:.2f} % of the liver volume, outside the usual "
                f"{share.lowPercent:g}-{share.highPercent:g} %{note}: {_SOFT_CHECK}"
            )
    if bsaM2 is not None:
        bsa = checkedNumber(bsaM2, "Body surface area (BSA)", "square metres (e.g. 1.82)")
        if bsa <= 0:
            raise ValueError(f"Body surface area (BSA) {bsa:g} m2 must be positive: expected square metres (e.g. 1.82)")
        low, high = PLAUSIBLE_LIVER_PER_BSA_L_PER_M2
        litresPerM2 = total / ML_PER_L / bsa
        if not low <= litresPerM2 <= high:
            warnings.append(
                f"Total liver volume per body surface area is {litresPerM2:.2f} L/m2, outside the usual "
                f"{low:g}-{high:g} L/m2 of non-diseased livers: {_SOFT_CHECK}"
            )
    return warnings
