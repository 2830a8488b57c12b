"""Which numbers a kind of result shows, each with the QuantityDefinition that says its label,
unit and digits: the panel tables, the `alpps` print, the JSON documents, the report's CSV and
HTML tables are all derived from these lists, so a field added here appears in every output
with the same heading, unit and shown value.

A field reads its number by a path of attribute names (or keys) and, for a resolution interval,
an index; the same path reads the result record and its JSON form, whose keys are the record's
attribute names.
"""

from dataclasses import dataclass

from .clinicalCriteria import formatShown, withUnit
from .futureLiverRemnant import VOLUME_DEFINITIONS
from .remnantRatios import RATIO_DEFINITIONS

NOT_COMPUTED = "-"


@dataclass(frozen=True)
class ResultField:
    definition: object  # quantityDefinition.QuantityDefinition
    path: tuple  # attribute names (or JSON keys) leading to the number
    heading: str = ""  # the column heading; the definition's short label when empty
    isInterval: bool = False  # the value is a (low, high) resolution interval

    @property
    def key(self):
        """The JSON key of the field's number in its record."""
        return self.path[-1]

    @property
    def unit(self):
        return self.definition.unit

    @property
    def decimals(self):
        return self.definition.decimals

    @property
    def title(self):
        return self.heading or self.definition.shortLabel or self.definition.label

    def titleWithUnit(self):
        # 'Days after stage 1', not 'Days after stage 1 (days)'.
        if not self.unit or self.unit.lower() in self.title.lower():
            return self.title
        return f"{self.title} ({self.unit})"

    def description(self):
        """What the number means, for a column's description."""
        return f"{self.definition.label}: {self.definition.definition}"

    def valueOf(self, record):
        """The field's number (or (low, high) for an interval) in a result record or its JSON form;
        None when it was not computed."""
        value = record
        for name in self.path:
            if value is None:
                return None
            value = value[name] if isinstance(value, dict) else getattr(value, name)
        if self.isInterval and value is not None:
            return (value[0], value[1])
        return value

    def shownText(self, value):
        """The value as every output shows it: the definition's digits, halves up, as the flags
        compare it; an interval as low-high."""
        if value is None:
            return NOT_COMPUTED
        if self.isInterval:
            return f"{formatShown(value[0], self.decimals)}-{formatShown(value[1], self.decimals)}"
        return formatShown(value, self.decimals)

    def shownWithUnit(self, record):
        value = self.valueOf(record)
        return self.shownText(value) if value is None else withUnit(self.shownText(value), self.unit)

    def jsonValue(self, record):
        value = self.valueOf(record)
        if value is None:
            return None
        return [float(bound) for bound in value] if self.isInterval else value


def jsonNumbers(record, fields):
    """The numbers of ``record`` as its JSON form holds them: {key: number, or [low, high]}."""
    return {field.key: field.jsonValue(record) for field in fields}


def definitionsOf(fields):
    """The JSON documents' "definitions" of the fields: label, unit and formula by key."""
    return {field.definition.key: field.definition.summary() for field in fields}


def _ratio(key, heading=""):
    return ResultField(RATIO_DEFINITIONS[key], (key,), heading)


def _volume(key, heading=""):
    return ResultField(VOLUME_DEFINITIONS[key], (key,), heading)


# A Couinaud segment (futureLiverRemnant.SegmentResult).
SEGMENT_FIELDS = (
    _volume("volumeMl"),
    _volume("tumourMl"),
    _volume("tumourFreeMl"),
    _volume("shareOfLiverPercent"),
)

# A resection plan's remnant (futureLiverRemnant.PlanResult).
PLAN_FIELDS = (
    _volume("remnantMl"),
    _volume("resectedMl"),
    _volume("tumourInRemnantMl"),
    _volume("tumourFreeRemnantMl"),
    ResultField(VOLUME_DEFINITIONS["remnantIntervalMl"], ("remnantIntervalMl",), isInterval=True),
    _ratio("percentFLR"),
    _ratio("functionalPercentFLR"),
    _ratio("sFLR"),
    ResultField(RATIO_DEFINITIONS["sFLR"], ("sFLRInterval",), "sFLR interval", isInterval=True),
    _ratio("flrBwr"),
    ResultField(RATIO_DEFINITIONS["flrBwr"], ("flrBwrInterval",), "FLR-BWR interval", isInterval=True),
    _ratio("flrPerBsa"),
)


def fieldByKey(fields, key):
    return next(field for field in fields if field.key == key)
