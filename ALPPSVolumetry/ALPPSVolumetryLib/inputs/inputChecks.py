"""Checks every ALPPS input passes before it is used: files, numbers, dates, names.

Each check raises ValueError (FileNotFoundError for a missing file) with one sentence naming the
input and what was expected, so that the command line can print it as is (exit status 2) and
the panels can show it in a message box. No Qt, no Slicer: the same checks serve both.
"""

import datetime
import math
import os


def checkedInputFile(path, what="Input file"):
    """``path`` as given, once it is known to be an existing, readable, non-empty file."""
    if path is None or str(path).strip() == "":
        raise ValueError(f"{what}: no file given: expected a path")
    path = str(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{what} '{path}' does not exist")
    if os.path.isdir(path):
        raise ValueError(f"{what} '{path}' is a folder: expected a file")
    if not os.path.isfile(path):
        raise ValueError(f"{what} '{path}' is not a regular file (a device or pipe?): expected a file")
    try:
        with open(path, "rb") as stream:
            first = stream.read(1)
    except OSError as error:
        raise ValueError(f"{what} '{path}' cannot be read ({error.strerror or error})") from None
    if not first:
        raise ValueError(f"{what} '{path}' is empty (0 bytes)")
    return path


def checkedInputFolder(path, what="Input folder"):
    if not os.path.exists(path):
        raise FileNotFoundError(f"{what} '{path}' does not exist")
    if not os.path.isdir(path):
        raise ValueError(f"{what} '{path}' is a file: expected a folder")
    if not os.access(path, os.R_OK | os.X_OK):
        raise ValueError(f"{what} '{path}' cannot be read")
    return path


def checkedNumber(value, what, low=None, high=None, unit="", allowZero=True):
    """``value`` as a float once it is finite and within [low, high] (either may be None)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} '{value}' is not a number") from None
    shown = f"{unit}" if unit else ""
    if not math.isfinite(number):
        raise ValueError(f"{what} is {value}: expected a finite number{(' in ' + shown) if shown else ''}")
    if not allowZero and number == 0:
        raise ValueError(f"{what} is 0: expected a value other than 0")
    if (low is not None and number < low) or (high is not None and number > high):
        if low is not None and high is not None:
            expected = f"between {low:g} and {high:g} {shown}".rstrip()
        elif low is not None:
            expected = f"at least {low:g} {shown}".rstrip()
        else:
            expected = f"at most {high:g} {shown}".rstrip()
        raise ValueError(f"{what} is {number:g}: expected {expected}")
    return number


def checkedName(text, what):
    """A segment, role or vessel name: not empty once spaces are stripped."""
    name = "" if text is None else str(text).strip()
    if not name:
        raise ValueError(f"{what} is empty: expected a name")
    return name


# Scans dated before the first CT scanners (1971) are typing errors; a course of ALPPS takes
# weeks to months, so a date years before the first scan is one too.
EARLIEST_PLAUSIBLE_DATE = datetime.date(1971, 10, 1)
MAXIMUM_DAYS_BEFORE_FIRST_SCAN = 3 * 365


def checkedPastDate(date, what, today=None):
    """``date`` once it is not in the future and not before CT existed."""
    today = today or datetime.date.today()
    if date > today:
        raise ValueError(f"{what} {date.isoformat()} is in the future (today is {today.isoformat()}): expected the date it happened")
    if date < EARLIEST_PLAUSIBLE_DATE:
        raise ValueError(f"{what} {date.isoformat()} is before {EARLIEST_PLAUSIBLE_DATE.year}: expected the date of this course")
    return date


def checkedDateNearScans(date, what, scanDates):
    """A date given beside the scans (stage 1, laboratory values) once it lies within the course:
    not in the future and at most a few years before the first scan."""
    checkedPastDate(date, what)
    if scanDates:
        first = min(scanDates)
        if (first - date).days > MAXIMUM_DAYS_BEFORE_FIRST_SCAN:
            raise ValueError(
                f"{what} {date.isoformat()} is {(first - date).days} days before the first scan ({first.isoformat()}): "
                f"expected a date within {MAXIMUM_DAYS_BEFORE_FIRST_SCAN // 365} years of the scans (a typing error?)"
            )
    return date


def checkedOutputPath(path, inputs, what="Output"):
    """Refuse an output that is one of the inputs or lies inside an input folder (or holds an input
    file it would overwrite); ``inputs`` are paths of files and folders read."""
    if path is None:
        return path
    target = os.path.realpath(path)
    for given in inputs:
        if not given:
            continue
        source = os.path.realpath(given)
        if target == source:
            raise ValueError(f"{what} '{path}' is the input '{given}': expected a new path, so that the input is not overwritten")
        if os.path.isdir(source) and os.path.commonpath([source, target]) == source:
            raise ValueError(f"{what} '{path}' lies inside the input folder '{given}': expected a path outside the inputs")
    return path
