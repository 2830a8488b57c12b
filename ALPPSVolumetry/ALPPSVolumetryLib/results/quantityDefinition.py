"""What a number means wherever it is shown (tables, JSON, reports): label, unit, formula,
source, and whether the clinical reference marks the source as checked. The one definition record
of every quantity: volumes, remnant ratios, growth, laboratory scores, gadoxetate and mebrofenin
indices."""

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class QuantityDefinition:
    key: str
    label: str
    unit: str
    definition: str
    reference: str = ""
    status: str = "checked"  # clinicalCriteria.CHECKED or UNCHECKED, as marked in the clinical reference
    decimals: int = 2  # digits shown in tables and reports, and compared with cut-offs
    note: str = ""
    computed: bool = True  # False: defined for labelling only, never computed here
    shortLabel: str = ""  # as clinicians write it in a table (sFLR, FLR-BWR)

    def summary(self):
        """The short form of the JSON documents' "definitions": label, unit and formula."""
        return {"label": self.label, "unit": self.unit, "definition": self.definition}

    def asDict(self):
        return dataclasses.asdict(self)
