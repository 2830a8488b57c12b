"""What a number means wherever it is shown (tables, JSON, reports): label, unit, formula,
source, and whether the clinical reference marks the source as checked."""

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class QuantityDefinition:
    key: str
    label: str
    unit: str
    definition: str
    reference: str
    status: str  # CHECKED or UNCHECKED, as marked in the clinical reference
    decimals: int
    note: str = ""

    def asDict(self):
        return dataclasses.asdict(self)
