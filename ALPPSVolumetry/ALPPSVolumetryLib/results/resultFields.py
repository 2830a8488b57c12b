"""Which numbers a kind of result shows, each with the QuantityDefinition that says its label,
unit and digits: the panel tables, the `alpps` print, the JSON documents, the report's CSV and
HTML tables are all derived from these lists, so a field added here appears in every output
with the same heading, unit and shown value. The volumes' definitions are here
(VOLUME_DEFINITIONS); the ratios' are remnantRatios.RATIO_DEFINITIONS.

A field reads its number by a path of attribute names, which are also the keys of the record's
JSON form, so one path reads both; a resolution interval is one field whose value is (low, high).
"""

from dataclasses import dataclass

from ..criteria.clinicalCriteria import formatShown, withUnit
from .quantityDefinition import QuantityDefinition
from ..planning.remnantRatios import RATIO_DEFINITIONS
from ..segments.segmentVolumes import VOLUME_METHOD

NOT_COMPUTED = "-"

# Volumes are shown to 0.1 mL, far below what a voxel's size resolves; tumour left in a remnant
# to 0.01 mL so that a little is not shown as none.
VOLUME_DEFINITIONS = {
    definition.key: definition
    for definition in (
        QuantityDefinition("volumeMl", "Volume", "mL", VOLUME_METHOD, decimals=1, shortLabel="Volume"),
        QuantityDefinition(
            "tumourMl", "Tumour volume inside", "mL", "voxels of the segment inside any tumour segment", decimals=1,
            shortLabel="Tumour inside",
        ),
        QuantityDefinition(
            "tumourFreeMl", "Tumour-free volume", "mL", "segment volume minus its tumour voxels (functional volume)", decimals=1,
            shortLabel="Tumour-free volume",
        ),
        QuantityDefinition(
            "shareOfLiverPercent", "Share of liver", "%", "segment volume / total liver volume x 100", decimals=1,
            shortLabel="Share of liver",
        ),
        QuantityDefinition(
            "totalLiverMl", "Total liver volume (TLV)", "mL", "union of Couinaud segments I-VIII; " + VOLUME_METHOD, decimals=1,
            shortLabel="TLV",
        ),
        QuantityDefinition(
            "totalTumourMl", "Total tumour volume", "mL", "union of tumour segments inside the liver", decimals=1,
            shortLabel="Total tumour",
        ),
        QuantityDefinition("remnantMl", "Future liver remnant (FLR)", "mL", "union of the remnant segments", decimals=1, shortLabel="FLR"),
        QuantityDefinition("resectedMl", "Resected volume", "mL", "total liver volume minus FLR", decimals=1, shortLabel="Resected"),
        QuantityDefinition(
            "tumourInRemnantMl", "Tumour inside the remnant", "mL", "tumour voxels within the remnant segments: a warning when above 0",
            decimals=2, shortLabel="Tumour in FLR",
        ),
        QuantityDefinition(
            "tumourFreeRemnantMl", "Tumour-free FLR", "mL", "FLR minus the tumour inside it; the FLR that enters sFLR, FLR-BWR and FLR/BSA",
            decimals=1, shortLabel="Tumour-free FLR",
        ),
        QuantityDefinition(
            "remnantIntervalMl", "Resolution interval of the FLR", "mL",
            "tumour-free FLR +- (boundary face area x half the voxel size across it), summed per axis: a worst-case "
            "bound from the voxel size; a flag is borderline when its interval contains the cut-off",
            decimals=1, shortLabel="FLR interval",
        ),
    )
}


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


def _ratio(key):
    return ResultField(RATIO_DEFINITIONS[key], (key,))


def _volume(key):
    return ResultField(VOLUME_DEFINITIONS[key], (key,))


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
