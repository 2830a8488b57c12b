"""The `alpps` options checked before a command runs: numbers, names, duplicates, outputs.

Every refusal is one line naming the option and what was expected, exit status 2 (cli.main
prints ValueError, FileNotFoundError and the SystemExit texts of the parsers that way).
"""

import argparse
import json
import os

from ALPPSVolumetryLib.inputs import inputChecks
from ALPPSVolumetryLib.segments import labelPresets


class OneLineParser(argparse.ArgumentParser):
    """argparse with its refusals on one line (its default prints the usage block first)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: {message} (see '{self.prog} --help')\n")


_EXAMPLES = {
    "demo": ("Run every capability on a built-in synthetic patient whose true volumes are known, and write a scene "
             "bundle, JSON, CSV and a patient report.", "alpps demo --out demo-output"),
    "segment-volumes": ("Voxel volume (mL) of every segment of a .seg.nrrd or label map.",
                        "alpps segment-volumes --segmentation labels.nii.gz --labels 1=Segment I,2=Segment II\n"
                        "  alpps segment-volumes --segmentation totalseg.nii.gz --labels total"),
    "volumetry": ("Couinaud segment volumes, total liver volume and the future liver remnant (FLR, sFLR, FLR-to-body-weight "
                  "ratio) of resection plans.",
                  "alpps volumetry --volume ct/ --segmentation segments.seg.nrrd --height 172 --weight 70 --plan right_hepatectomy"),
    "hypertrophy": ("Remnant growth between scans (degree of hypertrophy, kinetic growth rate, %/day, mL/day) and the "
                    "stage 2 readiness checklist.",
                    "alpps hypertrophy --timepoint 2026-03-02:ct1.nrrd:seg1.seg.nrrd --timepoint 2026-03-12:ct2.nrrd:seg2.seg.nrrd "
                    "--stage1-date 2026-03-05 --height 172 --weight 70\n"
                    "  alpps hypertrophy --timepoints course.csv --height 172 --weight 70"),
    "sparing": ("Tumour-vessel distances and a margin-based parenchyma-sparing resection beside major plans.",
                "alpps sparing --segmentation segments.seg.nrrd --margin 1 --margin 10 --height 172 --weight 70"),
    "function": ("Remnant function from functional imaging (mebrofenin SPECT or gadoxetate MRI).",
                 "alpps function mebrofenin --help"),
    "mebrofenin": ("99mTc-mebrofenin hepatobiliary scintigraphy: uptake rate (MUR) and the remnant's share and function.",
                   "alpps function mebrofenin --ct ct.nrrd --segmentation segments.seg.nrrd --spect spect.nrrd "
                   "--curves curves.csv --height 172 --weight 70"),
    "gadoxetate": ("Gadoxetate MRI: liver-to-spleen and liver-to-muscle ratios, enhancement, HUI and remnant HUI.",
                   "alpps function gadoxetate --segmentation segments.seg.nrrd --hbp hbp.nrrd --pre pre.nrrd "
                   "--muscle-point=-40,20,10"),
    "report": ("One patient's report from a scene bundle or from scans: HTML (A4), JSON, CSV and .seg.nrrd.",
               "alpps report --scene course.mrb --out report\n"
               "  alpps report --timepoints course.json --out report --anonymise"),
    "dicom-index": ("Patients, studies (by date) and series of a folder of DICOM files, with every problem found.",
                    "alpps dicom-index /media/cdrom --json index.json"),
    "benchmark": ("Timing and memory of volumetry, sparing or registration on synthetic data.", "alpps benchmark volumetry --repeats 3"),
}


TIMEPOINTS_HELP = ("instead of --timepoint: a CSV or JSON file listing the scans, one per row: date, role, volume, segmentation, "
                   "labels, labs, remnant function (paths relative to the file; colons and spaces need no quoting)")


def describeSubcommands(parser):
    """Give every subcommand (and sub-subcommand) a description and an example in its --help."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, subparser in action.choices.items():
                if name in _EXAMPLES:
                    description, example = _EXAMPLES[name]
                    subparser.description = description
                    subparser.epilog = f"example:\n  {example}"
                    subparser.formatter_class = argparse.RawDescriptionHelpFormatter
                describeSubcommands(subparser)


# --- label mappings and names ------------------------------------------------------------------


def _noDuplicatePairs(path):
    def hook(pairs):
        keys = [key for key, _ in pairs]
        repeated = sorted({key for key in keys if keys.count(key) > 1})
        if repeated:
            raise ValueError(f"--labels file '{path}' gives label(s) {', '.join(repeated)} twice: expected each label value once")
        return dict(pairs)

    return hook


def parseLabelMapping(text):
    """'1=Segment I,2=Segment II', a JSON file {"1": "Segment I", ...} or a preset (total,
    liver_segments) -> {1: 'Segment I', ...}; duplicates, empty names and non-integers refused."""
    if text is None:
        return None
    preset = labelPresets.presetLabels(text)
    if preset is not None:
        return preset
    if text.lower().endswith(".json"):
        inputChecks.checkedInputFile(text, "--labels file")
        try:
            with open(text, encoding="utf-8-sig") as stream:
                raw = json.load(stream, object_pairs_hook=_noDuplicatePairs(text))
        except UnicodeDecodeError as error:
            raise ValueError(f"--labels file '{text}' is not UTF-8 text ({error.reason} at byte {error.start})") from None
        except json.JSONDecodeError as error:
            raise ValueError(f"--labels file '{text}' is not valid JSON ({error.msg}, line {error.lineno} column {error.colno})") from None
        if not isinstance(raw, dict):
            raise ValueError(f"--labels file '{text}' holds a {type(raw).__name__}: expected an object {{\"1\": \"Segment I\", ...}}")
        items = list(raw.items())
    else:
        if "=" not in text:
            raise ValueError(
                f"--labels '{text}' is neither VALUE=NAME pairs, a .json file nor a preset: expected e.g. 1=Segment I,2=Segment II, "
                f"or one of {', '.join(sorted(labelPresets.PRESETS))}"
            )
        items = [item.split("=", 1) if "=" in item else (item, None) for item in text.split(",") if item.strip()]
    mapping, names = labelPresets.LabelNames(), {}
    for value, name in items:
        try:
            number = int(str(value).strip())
        except ValueError:
            raise ValueError(f"--labels '{text}': '{value}' is not an integer label value: expected e.g. 1=Segment I,2=Segment II") from None
        if number <= 0:
            raise ValueError(f"--labels '{text}': label value {number} is not above 0 (0 is the background)")
        if name is None or not str(name).strip():
            raise ValueError(f"--labels '{text}': label {number} has no name: expected VALUE=NAME")
        name = str(name).strip()
        if number in mapping:
            raise ValueError(f"--labels '{text}' gives label {number} twice ('{mapping[number]}' and '{name}'): expected each label once")
        if name.lower() in names:
            raise ValueError(f"--labels '{text}' gives the name '{name}' to labels {names[name.lower()]} and {number}: expected one label per name")
        mapping[number] = name
        names[name.lower()] = number
    return mapping


def parseRoleCorrections(items):
    """{segment: role} from 'SEGMENT=ROLE' options; a segment given twice or an empty part refused."""
    overrides = {}
    for item in items or ():
        segment, separator, role = item.rpartition("=")
        if not separator or not segment.strip() or not role.strip():
            raise ValueError(f"--role '{item}' must read SEGMENT=ROLE, e.g. 'Lesion 2=tumour' or 'S4=IV'")
        segment = segment.strip()
        if segment in overrides:
            raise ValueError(f"--role gives segment '{segment}' twice ('{overrides[segment]}' and '{role.strip()}'): expected one role per segment")
        overrides[segment] = role.strip()
    return overrides


def parseVessels(items):
    vessels = {}
    for item in items or ():
        name, separator, segment = item.partition("=")
        if not separator or not name.strip() or not segment.strip():
            raise ValueError(f"--vessel '{item}' must read NAME=SEGMENT, e.g. 'right hepatic vein=RHV'")
        if name.strip() in vessels:
            raise ValueError(f"--vessel gives '{name.strip()}' twice: expected each vessel once")
        vessels[name.strip()] = segment.strip()
    return vessels or None


# --- numbers -----------------------------------------------------------------------------------

# (option attribute, option, lowest, highest, unit, zero allowed): plausible ranges; the
# clinical ones (height, weight) are checked by bodySize with unit hints.
_NUMBERS = (
    ("sflr_threshold", "--sflr-threshold", 0.0, 100.0, "%", False),
    ("bwr_threshold", "--bwr-threshold", 0.0, 5.0, "%", False),
    ("remnant_function_per_bsa", "--remnant-function-per-bsa", 0.0, 30.0, "%/min/m2", False),
    ("contact_distance", "--contact-distance", 0.0, 50.0, "mm", True),
    ("roi_radius", "--roi-radius", 1.0, 100.0, "mm", True),
    ("voi_margin", "--voi-margin", 0.0, 50.0, "mm", True),
    ("repeats", "--repeats", 1, 100, "", True),
)


def _checkNumbers(arguments):
    for attribute, option, low, high, unit, allowZero in _NUMBERS:
        value = getattr(arguments, attribute, None)
        if value is not None:
            inputChecks.checkedNumber(value, option, low, high, unit, allowZero)
    for value in getattr(arguments, "margin", None) or ():
        inputChecks.checkedNumber(value, "--margin", 0.0, 50.0, "mm")
    for value in getattr(arguments, "size", None) or ():
        inputChecks.checkedNumber(value, "--size", 8, 4096, "voxels")
    for option in ("muscle_point", "spleen_point", "liver_point"):
        for text in getattr(arguments, option, None) or ():
            for part in text.split(","):
                try:
                    inputChecks.checkedNumber(part, f"--{option.replace('_', '-')} coordinate", -5000.0, 5000.0, "mm")
                except ValueError:
                    raise ValueError(f"--{option.replace('_', '-')} '{text}' must read X,Y,Z with finite RAS coordinates in mm, e.g. 12.5,-80,20") from None


# --- files -------------------------------------------------------------------------------------

_INPUT_OPTIONS = ("segmentation", "volume", "ct", "spect", "curves", "hbp", "pre", "t1_pre", "t1_hbp", "scene", "folder", "timepoints")


def _timepointPaths(text):
    parts = text.split(":")
    return [part for part in parts[1:3] if part]


def inputPaths(arguments):
    from .timePointManifest import manifestPaths

    paths = [getattr(arguments, option, None) for option in _INPUT_OPTIONS] + manifestPaths(arguments)
    labels = getattr(arguments, "labels", None)
    if labels and labels.lower().endswith(".json"):
        paths.append(labels)
    for text in getattr(arguments, "timepoint", None) or ():
        paths.extend(_timepointPaths(text))
    return [path for path in paths if path]


def checkArguments(arguments):
    """Everything about the options that can be refused before any file is read."""
    from .timePointManifest import mergeManifest

    _checkNumbers(arguments)
    mergeManifest(arguments)
    for option, what in (("curves", "--curves"),):
        if getattr(arguments, option, None):
            inputChecks.checkedInputFile(getattr(arguments, option), what)
    inputs = inputPaths(arguments)
    json_ = getattr(arguments, "json", None)
    if json_:
        if os.path.isdir(json_):
            raise ValueError(f"--json '{json_}' is a folder: expected the path of a new .json file")
        inputChecks.checkedOutputPath(json_, inputs, "--json")
    out = getattr(arguments, "out", None)
    if out:
        if os.path.exists(out) and not os.path.isdir(out):
            raise ValueError(f"--out '{out}' is a file: expected a folder for the output files")
        inputChecks.checkedOutputPath(out, inputs, "--out")


def checkedInputFile(path, what):
    return inputChecks.checkedInputFile(path, what)


def checkCourseDates(scanDates, stage1Date=None):
    """Scan dates not in the future nor before CT existed; the stage 1 date likewise and within a
    few years of the first scan (a typing error otherwise)."""
    for date in scanDates:
        inputChecks.checkedPastDate(date, "Scan date")
    if stage1Date is not None:
        inputChecks.checkedDateNearScans(stage1Date, "Stage 1 date", scanDates)


# --- running a command -------------------------------------------------------------------------


def addVerboseOption(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                addVerboseOption(subparser)
            return
    parser.add_argument("--verbose", action="store_true", help="show the log of Slicer's readers (VTK, ITK) and tracebacks")
    if any(option in parser._option_string_actions for option in ("--volume", "--ct", "--hbp", "--timepoint")):
        parser.add_argument("--allow-uneven-spacing", action="store_true",
                            help="resample a DICOM series whose slice spacing varies (linear interpolation between slices) "
                                 "instead of refusing it; a note says so")


def runChecked(arguments):
    """Run the chosen command: refusals (ValueError, missing files, the parsers' SystemExit texts)
    as one line with exit status 2; the log of Slicer's C++ readers kept back unless --verbose."""
    import logging
    import sys

    from .nativeLog import NativeLogCapture

    command = " ".join(part for part in ("alpps", arguments.command, getattr(arguments, "modality", None)) if part)
    verbose = getattr(arguments, "verbose", False)
    notes = logging.StreamHandler(sys.stdout)
    notes.setFormatter(logging.Formatter("note: %(message)s"))
    logger = logging.getLogger("ALPPSVolumetryLib")
    logger.addHandler(notes)
    import contextlib

    from ALPPSVolumetryLib.inputs.unevenSlices import UnevenSpacingAllowed

    capture = NativeLogCapture()
    unevenSpacing = UnevenSpacingAllowed() if getattr(arguments, "allow_uneven_spacing", False) else contextlib.nullcontext()
    try:
        with capture, unevenSpacing:
            checkArguments(arguments)
            return arguments.run(arguments)
    except SystemExit as exit_:
        if not isinstance(exit_.code, str):
            raise
        message = exit_.code[len("alpps: "):] if exit_.code.startswith("alpps: ") else exit_.code
        message = message.split(": ", 1)[1] if message.startswith(command + ": ") else message
        print(f"{command}: {message}", file=sys.stderr)
        return 2
    except (ValueError, OSError) as error:
        print(f"{command}: {error}{capture.summary(str(error))}", file=sys.stderr)
        return 2
    except Exception as error:  # noqa: BLE001 - a bug must still end in one line, not a traceback
        if verbose:
            raise
        print(f"{command}: unexpected error ({type(error).__name__}: {error}); run with --verbose for details and please report it",
              file=sys.stderr)
        return 1
    finally:
        logger.removeHandler(notes)
        if verbose and capture.text:
            sys.stderr.write(capture.text)
