"""The patient's time points along the ALPPS course, and their volumes as a timeline table."""

import datetime
from dataclasses import dataclass, field

import vtk
from ALPPSVolumetryLib.resultsTable import resetTableColumns

# Roles in the order of the ALPPS course (clinical reference section 8).
TIME_POINT_ROLES = ("pre-stage 1", "interstage", "pre-stage 2", "after stage 2")


@dataclass
class TimePoint:
    role: str
    studyDate: datetime.date
    segmentVolumes: list = field(default_factory=list)  # ALPPSVolumetryLib SegmentVolume records

    def __post_init__(self):
        if self.role not in TIME_POINT_ROLES:
            raise ValueError(f"Time point role '{self.role}' is unknown: expected one of {', '.join(TIME_POINT_ROLES)}")
        if not isinstance(self.studyDate, datetime.date):
            raise ValueError(f"Study date of the {self.role} time point must be a date, got {self.studyDate!r}")


def daysAfterStage1(studyDate, stage1Date):
    return (studyDate - stage1Date).days


def sortedTimePoints(timePoints):
    """Time points by study date; two of them on one date with different roles keep role order."""
    return sorted(timePoints, key=lambda point: (point.studyDate, TIME_POINT_ROLES.index(point.role)))


TIMELINE_COLUMNS = (
    ("Role", vtk.vtkStringArray, "", "Time point along the ALPPS course"),
    ("Study date", vtk.vtkStringArray, "", "Study date (ISO 8601)"),
    ("Days after stage 1", vtk.vtkIntArray, "days", "Study date minus the date of ALPPS stage 1"),
    ("Segments total", vtk.vtkDoubleArray, "mL", "Sum of the segments' voxel volumes listed for the time point"),
)


def writeTimelineTable(tableNode, timePoints, stage1Date, segmentNames):
    """One row per time point, in date order, with the summed volume of ``segmentNames``."""
    table = resetTableColumns(tableNode, TIMELINE_COLUMNS)
    for point in sortedTimePoints(timePoints):
        byName = {volume.name: volume for volume in point.segmentVolumes}
        missing = [name for name in segmentNames if name not in byName or byName[name].isEmpty]
        if missing:
            raise ValueError(
                f"The {point.role} time point of {point.studyDate.isoformat()} lacks or has empty segments: "
                f"{', '.join(missing)}"
            )
        table.GetColumn(0).InsertNextValue(point.role)
        table.GetColumn(1).InsertNextValue(point.studyDate.isoformat())
        table.GetColumn(2).InsertNextValue(daysAfterStage1(point.studyDate, stage1Date))
        table.GetColumn(3).InsertNextValue(sum(byName[name].volumeMl for name in segmentNames))
    table.Modified()
    tableNode.Modified()
    return tableNode
