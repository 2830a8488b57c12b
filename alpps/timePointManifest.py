"""Time points from a file (`--timepoints course.csv` or `course.json`) instead of `--timepoint
DATE:VOLUME:SEGMENTATION[:ROLE]` options, so that paths with colons (C:\\scans\\...) or spaces
need no quoting, and the laboratory values and remnant function of each scan stand beside it.

CSV: a header row with the columns date, role, volume, segmentation, labels, labs, remnant
function (only date and segmentation required; Excel's byte-order mark is fine). JSON: a list
of objects with the keys date, role, volume, segmentation, labels, labs, remnantFunction, or
{"timePoints": [...]}. labels, labs and remnant function read as on the command line
('1=Segment I,2=Segment II'; 'bilirubin=20 umol/L,inr=1.1'; 'flrFunctionPerBsa=2.4') or, in
JSON, as objects. Relative paths are relative to the manifest's folder.
"""

import csv
import json
import os
from dataclasses import dataclass
from typing import Optional

from ALPPSVolumetryLib.inputs import inputChecks

_COLUMNS = {"date": "date", "role": "role", "volume": "volume", "segmentation": "segmentation", "labels": "labels", "labs": "labs",
            "remnantfunction": "remnantFunction"}


@dataclass
class ManifestEntry:
    date: str
    segmentation: str
    volume: Optional[str] = None
    role: Optional[str] = None
    labels: Optional[str] = None
    labs: Optional[str] = None
    remnantFunction: Optional[str] = None


def _key(name):
    return "".join(character for character in str(name).lower() if character.isalnum())


def _asText(value, separator="="):
    if value is None:
        return None
    if isinstance(value, dict):
        return ",".join(f"{key}{separator}{item}" for key, item in value.items())
    text = str(value).strip()
    return text or None


def _rows(path):
    if path.lower().endswith(".json"):
        try:
            with open(path, encoding="utf-8-sig") as stream:
                document = json.load(stream)
        except UnicodeDecodeError as error:
            raise ValueError(f"--timepoints file '{path}' is not UTF-8 text ({error.reason} at byte {error.start})") from None
        except json.JSONDecodeError as error:
            raise ValueError(f"--timepoints file '{path}' is not valid JSON ({error.msg}, line {error.lineno} column {error.colno})") from None
        rows = document.get("timePoints") if isinstance(document, dict) else document
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise ValueError(f"--timepoints file '{path}' must hold a list of time points (objects with date, segmentation, ...)")
        return rows
    try:
        with open(path, newline="", encoding="utf-8-sig") as stream:
            return list(csv.DictReader(stream))
    except UnicodeDecodeError as error:
        raise ValueError(f"--timepoints file '{path}' is not UTF-8 text ({error.reason} at byte {error.start})") from None
    except csv.Error as error:
        raise ValueError(f"--timepoints file '{path}' is not a readable CSV table ({error})") from None


def readManifest(path):
    """The time points listed in ``path`` as ManifestEntry records (paths made absolute)."""
    inputChecks.checkedInputFile(path, "--timepoints file")
    rows = _rows(path)
    if not rows:
        raise ValueError(f"--timepoints file '{path}' lists no time points: expected a header and one row per scan")
    folder = os.path.dirname(os.path.abspath(path))
    entries = []
    for number, row in enumerate(rows, start=1):
        values = {}
        for name, value in row.items():
            if name is None:
                raise ValueError(f"--timepoints file '{path}', time point {number}: more cells than columns (a comma in a path? quote it)")
            key = _COLUMNS.get(_key(name))
            if key is None:
                raise ValueError(f"--timepoints file '{path}': unknown column '{name}': expected {', '.join(sorted(set(_COLUMNS.values())))}")
            if key in values:
                raise ValueError(f"--timepoints file '{path}': column '{name}' appears twice")
            values[key] = value
        separator = {"labs": "=", "labels": "=", "remnantFunction": "="}
        texts = {key: _asText(value, separator.get(key, "=")) for key, value in values.items()}
        if not texts.get("date") or not texts.get("segmentation"):
            raise ValueError(f"--timepoints file '{path}', time point {number}: expected at least a date and a segmentation")
        for key in ("volume", "segmentation"):
            if texts.get(key):
                texts[key] = os.path.join(folder, os.path.expanduser(texts[key]))
        entries.append(ManifestEntry(**texts))
    return entries


def mergeManifest(arguments):
    """Put the manifest's time points, laboratory values and remnant function among the options,
    as if they had been typed one by one; refuse a manifest beside --timepoint."""
    path = getattr(arguments, "timepoints", None)
    if not path:
        arguments.manifestEntries = None
        return
    if getattr(arguments, "timepoint", None):
        raise ValueError("give either --timepoints FILE or --timepoint options, not both")
    entries = readManifest(path)
    arguments.manifestEntries = entries
    for entry in entries:
        if entry.labs:
            arguments.labs_of_day = (arguments.labs_of_day or []) + [f"{entry.date}:{entry.labs}"]
        if entry.remnantFunction:
            if not hasattr(arguments, "remnant_function_of_day"):
                raise ValueError(f"--timepoints file '{path}': this command takes no remnant function")
            arguments.remnant_function_of_day = (arguments.remnant_function_of_day or []) + [f"{entry.date}:{entry.remnantFunction}"]


def manifestPaths(arguments):
    return [path for entry in (getattr(arguments, "manifestEntries", None) or ()) for path in (entry.volume, entry.segmentation) if path]
