"""Time-activity curves of the dynamic planar mebrofenin series (clinical reference section 5):
liver ROI, blood pool (heart) ROI and total field of view (FOV), as count rates in counts/s at each
frame's mid-time (s after injection), from the frames and ROIs or from a table the camera software
exported; checked on construction, and corrected for 99mTc decay to injection time.

Timing. Every time is in seconds after injection (t = 0 s is the injection, which the dynamic
series must start with: the blood-pool integral runs from it). A frame is given by its start and
duration (s) or by its mid-time (s); ``TimeActivityCurves`` stores mid-times and, when known,
durations. Conversions to minutes are explicit (``SECONDS_PER_MINUTE``).

Decay. 99mTc decays with a half-life of 6.01 h (21636 s): about 1.1 % over a 6-minute series.
Liver and blood decay alike, so L/B does not change, but integral_0^t B does, which biases k by
about half the decay over the window. The curves are therefore corrected to injection time
before the fit, frame by frame, for the decay during the frame: the average count rate of a frame
[s, s + d] is multiplied by exp(lambda s) x lambda d / (1 - exp(-lambda d)), lambda = ln 2 / T1/2
(exp(lambda t_mid) when durations are unknown). ``TimeActivityCurves.decayCorrected`` says
whether the stored rates are already corrected (a camera may have done it); they are never
corrected twice.

Arrays are numpy; images [frame, row, column] (as Slicer's arrayFromVolume).
"""

import math
import re
from dataclasses import dataclass, replace
from typing import Dict, Optional

import numpy as np

# --- Units and constants -----------------------------------------------------------------------

SECONDS_PER_MINUTE = 60.0
SECONDS_PER_HOUR = 3600.0
TC99M_HALF_LIFE_HOURS = 6.01
TC99M_HALF_LIFE_SECONDS = TC99M_HALF_LIFE_HOURS * SECONDS_PER_HOUR
TC99M_DECAY_CONSTANT_PER_SECOND = math.log(2.0) / TC99M_HALF_LIFE_SECONDS

COUNTS_PER_SECOND = "counts/s"
COUNTS = "counts"

MIN_FRAMES = 3
# Frames whose edges overlap by more than this (s) are refused; rounding of start times is not.
FRAME_TIME_TOLERANCE_SECONDS = 1e-3


# --- Checked inputs ----------------------------------------------------------------------------


def _vector(values, name, expected):
    if values is None:
        raise ValueError(f"{name} is missing: expected {expected}")
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} {values!r} is not a list of numbers: expected {expected}") from None
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise ValueError(f"{name} has shape {array.shape}: expected one value per frame ({expected})")
    if not np.all(np.isfinite(array)):
        index = int(np.flatnonzero(~np.isfinite(array))[0])
        raise ValueError(f"{name} has a non-finite value ({array[index]}) at frame {index}: expected {expected}")
    return array


# --- Time-activity curves ----------------------------------------------------------------------


@dataclass(frozen=True)
class TimeActivityCurves:
    """Count rates (counts/s) of the three regions of a dynamic planar series, one value per frame.

    ``midTimesSeconds``: frame mid-times in seconds after injection (strictly increasing, >= 0).
    ``frameDurationsSeconds``: frame durations (s), or None when only mid-times are known (a table).
    ``liver``, ``bloodPool``, ``totalFieldOfView``: mean count rate over each frame (counts/s) in
    the liver ROI, the blood-pool (heart) ROI and the whole field of view.
    ``decayCorrected``: True when the rates are already corrected for 99mTc decay to injection time
    (t = 0 s); False when they are as counted (the usual case; ``mebrofeninUptakeRate`` corrects).
    Validated on construction: missing or non-increasing timing, overlapping frames, negative or
    non-finite counts and mismatched lengths are refused with a ValueError.
    """

    midTimesSeconds: np.ndarray
    liver: np.ndarray
    bloodPool: np.ndarray
    totalFieldOfView: np.ndarray
    frameDurationsSeconds: Optional[np.ndarray] = None
    decayCorrected: bool = False
    source: str = ""
    unit: str = COUNTS_PER_SECOND

    def __post_init__(self):
        times = self.midTimesSeconds
        if times is None:
            raise ValueError(
                "Dynamic series has no frame timing: expected the frame mid-times (or start times and durations) "
                "in seconds after injection"
            )
        times = _vector(times, "Frame mid-times", "seconds after injection, one per frame")
        if times.size < MIN_FRAMES:
            raise ValueError(f"Dynamic series has {times.size} frame(s): expected at least {MIN_FRAMES} frames")
        if times[0] < 0:
            raise ValueError(
                f"Frame mid-time {times[0]:g} s is before the injection: expected seconds after injection (>= 0)"
            )
        steps = np.diff(times)
        if np.any(steps <= 0):
            index = int(np.flatnonzero(steps <= 0)[0])
            raise ValueError(
                f"Frame times are not increasing: frame {index + 1} at {times[index + 1]:g} s follows frame {index} "
                f"at {times[index]:g} s: expected strictly increasing times in seconds after injection"
            )
        object.__setattr__(self, "midTimesSeconds", times)
        durations = self.frameDurationsSeconds
        if durations is not None:
            durations = _vector(durations, "Frame durations", "seconds, one per frame")
            if durations.size != times.size:
                raise ValueError(
                    f"Frame durations have {durations.size} values for {times.size} frames: expected one duration "
                    "(s) per frame"
                )
            if np.any(durations <= 0):
                index = int(np.flatnonzero(durations <= 0)[0])
                raise ValueError(f"Frame {index} has duration {durations[index]:g} s: expected a positive duration in s")
            ends = times + durations / 2.0
            starts = times - durations / 2.0
            if starts[0] < -FRAME_TIME_TOLERANCE_SECONDS:
                raise ValueError(
                    f"Frame 0 starts at {starts[0]:g} s, before the injection: expected times in seconds after injection"
                )
            overlap = ends[:-1] - starts[1:] > FRAME_TIME_TOLERANCE_SECONDS
            if np.any(overlap):
                index = int(np.flatnonzero(overlap)[0])
                raise ValueError(
                    f"Frames {index} and {index + 1} overlap ({starts[index]:g}-{ends[index]:g} s and "
                    f"{starts[index + 1]:g}-{ends[index + 1]:g} s): expected consecutive frames"
                )
            object.__setattr__(self, "frameDurationsSeconds", durations)
        for name, label in (("liver", "Liver"), ("bloodPool", "Blood-pool"), ("totalFieldOfView", "Total field of view")):
            values = _vector(getattr(self, name), f"{label} curve", f"count rates in {COUNTS_PER_SECOND}, one per frame")
            if values.size != times.size:
                raise ValueError(
                    f"{label} curve has {values.size} values for {times.size} frame times: expected one value per frame"
                )
            if np.any(values < 0):
                index = int(np.flatnonzero(values < 0)[0])
                raise ValueError(
                    f"{label} curve has negative counts ({values[index]:g} {COUNTS_PER_SECOND}) at frame {index}: "
                    "expected counts >= 0"
                )
            object.__setattr__(self, name, values)
        object.__setattr__(self, "decayCorrected", bool(self.decayCorrected))

    @property
    def frameCount(self):
        return int(self.midTimesSeconds.size)

    def frameEdgesSeconds(self):
        """(starts, ends) of the frames in s: from the durations, or, without them, halfway between
        mid-times (the first frame as long before its mid-time as after it, never before 0 s)."""
        times = self.midTimesSeconds
        if self.frameDurationsSeconds is not None:
            return times - self.frameDurationsSeconds / 2.0, times + self.frameDurationsSeconds / 2.0
        halfway = (times[:-1] + times[1:]) / 2.0
        starts = np.concatenate(([max(0.0, times[0] - (halfway[0] - times[0]))], halfway))
        ends = np.concatenate((halfway, [times[-1] + (times[-1] - halfway[-1])]))
        return starts, ends

    def decayCorrectionFactors(self):
        """Per-frame factors that correct the mean count rate of a frame to injection time (99mTc).
        With durations: exp(lambda s) x lambda d / (1 - exp(-lambda d)) for the frame [s, s + d];
        without: exp(lambda t_mid). All ones when the curves are already corrected."""
        if self.decayCorrected:
            return np.ones(self.frameCount)
        decay = TC99M_DECAY_CONSTANT_PER_SECOND
        if self.frameDurationsSeconds is None:
            return np.exp(decay * self.midTimesSeconds)
        starts = self.midTimesSeconds - self.frameDurationsSeconds / 2.0
        durations = self.frameDurationsSeconds
        return np.exp(decay * starts) * decay * durations / -np.expm1(-decay * durations)

    def decayCorrectedToInjection(self):
        """A copy with every curve corrected for 99mTc decay to injection time (itself if it is)."""
        if self.decayCorrected:
            return self
        factors = self.decayCorrectionFactors()
        return replace(
            self,
            liver=self.liver * factors,
            bloodPool=self.bloodPool * factors,
            totalFieldOfView=self.totalFieldOfView * factors,
            decayCorrected=True,
        )

    def asDict(self):
        return {
            "unit": self.unit,
            "timeUnit": "s after injection (frame mid-time)",
            "midTimesSeconds": self.midTimesSeconds.tolist(),
            "frameDurationsSeconds": None if self.frameDurationsSeconds is None else self.frameDurationsSeconds.tolist(),
            "liver": self.liver.tolist(),
            "bloodPool": self.bloodPool.tolist(),
            "totalFieldOfView": self.totalFieldOfView.tolist(),
            "decayCorrected": self.decayCorrected,
            "source": self.source,
        }


def _mask(mask, name, shape):
    if mask is None:
        raise ValueError(f"{name} is missing: expected a boolean mask of shape {shape} (rows, columns)")
    array = np.asarray(mask)
    if array.shape != tuple(shape):
        raise ValueError(f"{name} has shape {array.shape}: expected the frame shape {tuple(shape)} (rows, columns)")
    array = array != 0 if array.dtype != bool else array
    if not array.any():
        raise ValueError(f"{name} is empty (no pixel set): expected a region drawn on the frames")
    return array


def timeActivityCurvesFromFrames(
    frames, frameStartSeconds, frameDurationSeconds, liverMask, bloodPoolMask, fieldOfViewMask=None, decayCorrected=False
):
    """Time-activity curves from a dynamic planar series.

    ``frames``: counts per pixel, shape (T, rows, columns) (one anterior or geometric-mean view per
    frame). ``frameStartSeconds``: T start times in s after injection; ``frameDurationSeconds``: one
    duration (s) for all frames or T durations. Masks: (rows, columns) booleans; ``fieldOfViewMask``
    None means the whole frame. Each curve is the sum of the counts in its ROI divided by the frame
    duration (counts/s) at the frame mid-time (start + duration / 2). ``decayCorrected`` says whether
    the frames were already corrected for decay by the camera (normally not).
    """
    if frames is None:
        raise ValueError("Dynamic frames are missing: expected counts as an array (frames, rows, columns)")
    counts = np.asarray(frames, dtype=float)
    if counts.ndim != 3 or counts.shape[0] < 1 or min(counts.shape[1:]) < 1:
        raise ValueError(f"Dynamic frames have shape {counts.shape}: expected counts as (frames, rows, columns)")
    if not np.all(np.isfinite(counts)):
        raise ValueError("Dynamic frames contain non-finite values: expected counts >= 0")
    if np.any(counts < 0):
        frame = int(np.flatnonzero((counts < 0).any(axis=(1, 2)))[0])
        raise ValueError(f"Dynamic frame {frame} has negative counts: expected counts >= 0")
    frameCount = counts.shape[0]
    if frameStartSeconds is None:
        raise ValueError(
            "Dynamic series has no frame timing: expected the frame start times in seconds after injection"
        )
    starts = _vector(frameStartSeconds, "Frame start times", "seconds after injection, one per frame")
    if starts.size != frameCount:
        raise ValueError(f"Frame start times have {starts.size} values for {frameCount} frames: expected one per frame")
    if frameDurationSeconds is None:
        raise ValueError("Frame durations are missing: expected the duration of each frame in seconds")
    durations = _vector(frameDurationSeconds, "Frame durations", "seconds, one value or one per frame")
    if durations.size == 1:
        durations = np.full(frameCount, durations[0])
    if durations.size != frameCount:
        raise ValueError(f"Frame durations have {durations.size} values for {frameCount} frames: expected one or one per frame")
    if np.any(durations <= 0):
        index = int(np.flatnonzero(durations <= 0)[0])
        raise ValueError(f"Frame {index} has duration {durations[index]:g} s: expected a positive duration in s")
    if np.any(np.diff(starts) <= 0):
        index = int(np.flatnonzero(np.diff(starts) <= 0)[0])
        raise ValueError(
            f"Frame start times are not increasing: frame {index + 1} at {starts[index + 1]:g} s follows frame {index} "
            f"at {starts[index]:g} s: expected strictly increasing times in seconds after injection"
        )
    shape = counts.shape[1:]
    liver = _mask(liverMask, "Liver ROI", shape)
    blood = _mask(bloodPoolMask, "Blood-pool (heart) ROI", shape)
    view = np.ones(shape, dtype=bool) if fieldOfViewMask is None else _mask(fieldOfViewMask, "Field-of-view ROI", shape)
    curves = {}
    regions = (
        ("liver", "Liver ROI", liver, "the liver"),
        ("bloodPool", "Blood-pool (heart) ROI", blood, "the heart"),
        ("totalFieldOfView", "Field of view", view, "the injected activity"),
    )
    for name, label, mask, where in regions:
        sums = counts[:, mask].sum(axis=1)
        if not np.any(sums > 0):
            raise ValueError(f"{label} has zero counts in every frame: expected the ROI over {where}")
        curves[name] = sums / durations
    return TimeActivityCurves(
        midTimesSeconds=starts + durations / 2.0,
        frameDurationsSeconds=durations,
        decayCorrected=decayCorrected,
        source=f"dynamic frames {counts.shape[0]} x {shape[0]} x {shape[1]} (ROI sums / frame duration)",
        **curves,
    )


_TABLE_ALIASES = {
    "time": ("time", "times", "timeseconds", "time_s", "t", "midtime", "midtimeseconds", "start", "starttime", "startseconds"),
    "duration": ("duration", "durations", "durationseconds", "duration_s", "frameduration", "framedurationseconds"),
    "liver": ("liver", "liverroi"),
    "blood": ("blood", "bloodpool", "heart", "bloodpoolroi", "heartroi"),
    "total": ("total", "totalfov", "fov", "fieldofview", "totalfieldofview", "field of view"),
}
_TABLE_ORDER = ("time", "liver", "blood", "total", "duration")
TIME_IS_MID = "mid"
TIME_IS_START = "start"
VALUES_PER_SECOND = "countsPerSecond"
VALUES_PER_FRAME = "countsPerFrame"


def _columnName(name):
    # Units in brackets ('Time (s)', 'Liver [counts/s]') are dropped before matching.
    text = re.sub(r"[\(\[].*?[\)\]]", "", str(name))
    key = text.strip().lower().replace(" ", "").replace("-", "").replace("_", "")
    for column, aliases in _TABLE_ALIASES.items():
        if key in (alias.replace(" ", "").replace("_", "") for alias in aliases):
            return column
    raise ValueError(
        f"Time-activity table column {name!r} is not recognised: expected time (s), liver, blood (heart), total "
        "(field of view) and optionally duration (s)"
    )


def timeActivityCurvesFromTable(table, timeIs=TIME_IS_MID, values=VALUES_PER_SECOND, decayCorrected=False):
    """Time-activity curves from a table a user brings (exported from the camera software).

    ``table``: either columns, a dict {column: list} with columns time, liver, blood and total (and
    optionally duration), names case-insensitive ('heart' or 'bloodPool' for blood, 'fov' for
    total, 'timeSeconds' ...), or rows: dicts with those keys, or sequences in the order
    (time s, liver, blood, total[, duration s]).
    ``timeIs``: 'mid' (default: frame mid-times, s after injection) or 'start' (frame start times,
    which needs durations). ``values``: 'countsPerSecond' (default) or 'countsPerFrame' (divided by
    the durations, which are then needed). ``decayCorrected``: whether the values are already
    corrected for decay to injection time.
    """
    if timeIs not in (TIME_IS_MID, TIME_IS_START):
        raise ValueError(f"timeIs {timeIs!r} is unknown: expected '{TIME_IS_MID}' (frame mid-times) or '{TIME_IS_START}'")
    if values not in (VALUES_PER_SECOND, VALUES_PER_FRAME):
        raise ValueError(f"values {values!r} is unknown: expected '{VALUES_PER_SECOND}' or '{VALUES_PER_FRAME}'")
    if table is None:
        raise ValueError("Time-activity table is missing: expected columns time (s), liver, blood, total")
    columns: Dict[str, list] = {}
    if isinstance(table, dict):
        for name, column in table.items():
            key = _columnName(name)
            if key in columns:
                raise ValueError(f"Time-activity table has two {key} columns (one is {name!r}): expected one of each")
            columns[key] = column
    else:
        rows = list(table)
        if not rows:
            raise ValueError("Time-activity table has no rows: expected one row per frame")
        if all(isinstance(row, dict) for row in rows):
            keys = {name: _columnName(name) for name in rows[0]}
            for key in keys.values():
                columns[key] = []
            for index, row in enumerate(rows):
                if set(row) != set(keys):
                    raise ValueError(
                        f"Time-activity table row {index} has columns {sorted(row)}: expected the columns of the first "
                        f"row {sorted(keys)}"
                    )
                for name, key in keys.items():
                    columns[key].append(row[name])
        else:
            width = len(rows[0]) if not isinstance(rows[0], (str, bytes)) else 0
            if width not in (4, 5):
                raise ValueError(
                    f"Time-activity table row 0 {rows[0]!r} has {width} values: expected (time s, liver, blood, total"
                    "[, duration s])"
                )
            for index, row in enumerate(rows):
                if isinstance(row, (str, bytes)) or len(row) != width:
                    raise ValueError(f"Time-activity table row {index} {row!r} does not have {width} values like row 0")
            for position, key in enumerate(_TABLE_ORDER[:width]):
                columns[key] = [row[position] for row in rows]
    if "time" not in columns:
        raise ValueError(
            "Time-activity table has no time column: expected frame times in seconds after injection (column 'time')"
        )
    for key, label in (("liver", "liver"), ("blood", "blood (heart)"), ("total", "total (field of view)")):
        if key not in columns:
            raise ValueError(f"Time-activity table has no {label} column: expected columns time, liver, blood, total")
    times = _vector(columns["time"], "Frame times", "seconds after injection, one per frame")
    durations = None
    if "duration" in columns:
        durations = _vector(columns["duration"], "Frame durations", "seconds, one per frame")
        if durations.size != times.size:
            raise ValueError(f"Frame durations have {durations.size} values for {times.size} frames: expected one per frame")
    if durations is None and (timeIs == TIME_IS_START or values == VALUES_PER_FRAME):
        needed = "frame start times" if timeIs == TIME_IS_START else "counts per frame"
        raise ValueError(f"Time-activity table gives {needed} without a duration column: expected durations in seconds")
    mids = times + durations / 2.0 if timeIs == TIME_IS_START else times
    curves = {}
    for key, name in (("liver", "liver"), ("blood", "bloodPool"), ("total", "totalFieldOfView")):
        column = _vector(columns[key], f"{key.capitalize()} column", "counts, one per frame")
        if column.size == times.size and values == VALUES_PER_FRAME:
            if np.any(durations <= 0):
                raise ValueError("Frame durations must be positive: expected seconds > 0")
            column = column / durations
        curves[name] = column
    return TimeActivityCurves(
        midTimesSeconds=mids,
        frameDurationsSeconds=durations,
        decayCorrected=decayCorrected,
        source=f"time-activity table ({times.size} frames, times as frame {timeIs} times, values in {values})",
        **curves,
    )
