"""Resection plans (Brisbane 2000 terminology): which Couinaud segments are removed and which
form the future liver remnant (clinical reference section 3)."""

from dataclasses import dataclass

from ..segments.couinaud import SEGMENT_IDS

# key: (Brisbane 2000 name, removed segments). The remnant is every other segment.
PRESETS = {
    "right_hepatectomy": ("Right hepatectomy", ("V", "VI", "VII", "VIII")),
    "right_trisectionectomy": (
        "Right trisectionectomy (extended right hepatectomy; classic ALPPS stage 2)",
        ("IV", "V", "VI", "VII", "VIII"),
    ),
    "left_hepatectomy": ("Left hepatectomy", ("II", "III", "IV")),
    "left_trisectionectomy": ("Left trisectionectomy (extended left hepatectomy)", ("II", "III", "IV", "V", "VIII")),
    "left_lateral_sectionectomy": ("Left lateral sectionectomy", ("II", "III")),
    "right_posterior_sectionectomy": ("Right posterior sectionectomy", ("VI", "VII")),
    "right_anterior_sectionectomy": ("Right anterior sectionectomy", ("V", "VIII")),
    "central_hepatectomy": ("Central hepatectomy", ("IV", "V", "VIII")),
}
ALIASES = {"extended_right_hepatectomy": "right_trisectionectomy", "extended_left_hepatectomy": "left_trisectionectomy"}

# Units a remnant may name: the eight segments, or the halves of IV when IV is split (ALPPS
# variants keep part of IV).
PLAN_UNITS = ("I", "II", "III", "IV", "IVa", "IVb", "V", "VI", "VII", "VIII")


@dataclass(frozen=True)
class ResectionPlan:
    key: str
    label: str
    remnantSegments: tuple  # Couinaud segments (or IVa/IVb) left in the patient
    caudateInRemnant: bool = True

    @property
    def resectedSegments(self):
        kept = set(self.remnantSegments)
        if "IVa" in kept and "IVb" in kept:
            kept.add("IV")
        removed = []
        for segment in SEGMENT_IDS:
            if segment in kept:
                continue
            if segment == "IV" and ("IVa" in kept or "IVb" in kept):
                removed.append("IVb" if "IVa" in kept else "IVa")
                continue
            removed.append(segment)
        return tuple(removed)


def presetPlan(key, caudateInRemnant=True):
    """A preset plan; with ``caudateInRemnant=False`` segment I is resected too (for example
    in perihilar cholangiocarcinoma)."""
    key = ALIASES.get(key, key)
    if key not in PRESETS:
        raise ValueError(f"Resection plan '{key}' is unknown: expected one of {', '.join(sorted(PRESETS))} or a custom segment set")
    label, removed = PRESETS[key]
    remnant = [segment for segment in SEGMENT_IDS if segment not in removed]
    if not caudateInRemnant:
        remnant.remove("I")
        label += ", segment I resected"
    if not remnant:
        raise ValueError(f"Resection plan '{key}' leaves no remnant")
    return ResectionPlan(key=key if caudateInRemnant else key + "_without_caudate", label=label, remnantSegments=tuple(remnant), caudateInRemnant=caudateInRemnant)


def customPlan(name, remnantSegments):
    """A plan given by the segments that remain, e.g. ('I', 'II', 'III', 'IVb') for an ALPPS
    variant keeping the inferior part of IV."""
    remnant = []
    for segment in remnantSegments:
        segment = str(segment).strip()
        if segment not in PLAN_UNITS:
            raise ValueError(f"Custom plan '{name}': '{segment}' is not a Couinaud segment (expected {', '.join(PLAN_UNITS)})")
        if segment not in remnant:
            remnant.append(segment)
    if not remnant:
        raise ValueError(f"Custom plan '{name}' names no remnant segment")
    if "IV" in remnant and ("IVa" in remnant or "IVb" in remnant):
        raise ValueError(f"Custom plan '{name}' names IV together with IVa/IVb: name IV or its halves")
    key = "custom_" + "".join(character if character.isalnum() else "_" for character in name.lower()).strip("_")
    return ResectionPlan(key=key, label=f"Custom: {name}", remnantSegments=tuple(remnant), caudateInRemnant="I" in remnant)


def parsePlan(text):
    """'right_hepatectomy', 'right_hepatectomy:no-caudate' or 'custom:NAME=I,II,III,IVb'."""
    text = text.strip()
    if text.lower().startswith("custom:"):
        name, _, segments = text[len("custom:") :].partition("=")
        if not segments:
            raise ValueError(f"Custom plan '{text}' must read custom:NAME=I,II,III")
        return customPlan(name.strip(), [segment for segment in segments.split(",") if segment.strip()])
    key, _, option = text.partition(":")
    if option and option.strip().lower() not in ("no-caudate", "without-caudate"):
        raise ValueError(f"Plan option '{option}' in '{text}' is unknown: expected 'no-caudate'")
    return presetPlan(key.strip().lower(), caudateInRemnant=not option)
