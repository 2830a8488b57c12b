"""The patient's time points along the ALPPS course, and their liver volume as a timeline table."""

import datetime
from dataclasses import dataclass

import vtk
from ALPPSVolumetryLib.resultsTable import resetTableColumns
from ALPPSVolumetryLib.segmentRecognition import requireCouinaudSegments
from ALPPSVolumetryLib.segmentOverlap import unionVolume
from ALPPSVolumetryLib.segmentVolumes import VOLUME_METHOD

# Roles in the order of the ALPPS course (clinical reference section 8).
TIME_POINT_ROLES = ("pre-stage 1", "interstage", "pre-stage 2", "after stage 2")


@dataclass
class TimePoint:
    role: str
    studyDate: datetime.date
    segmentationNode: object = None  # vtkMRMLSegmentationNode holding Couinaud segments I-VIII

    def __post_init__(self):
        if self.role not in TIME_POINT_ROLES:
            raise ValueError(f"Time point role '{self.role}' is unknown: expected one of {', '.join(TIME_POINT_ROLES)}")
        if not isinstance(self.studyDate, datetime.date):
            raise ValueError(f"Study date of the {self.role} time point must be a date, got {self.studyDate!r}")


def parseStudyDate(text, what="study date"):
    """A date typed as YYYY-MM-DD (ISO 8601) or read from DICOM as YYYYMMDD."""
    value = str(text).strip()
    for pattern in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return datetime.datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"The {what} '{text}' is not a date: expected YYYY-MM-DD")


def daysAfterStage1(studyDate, stage1Date):
    return (studyDate - stage1Date).days


def sortedTimePoints(timePoints):
    """Time points by study date; two of them on one date keep the order of their roles."""
    return sorted(timePoints, key=lambda point: (point.studyDate, TIME_POINT_ROLES.index(point.role)))


def liverVolumeMl(segmentationNode):
    """Liver volume (mL) as the union of Couinaud segments I-VIII (a union, not a sum)."""
    recognized = requireCouinaudSegments(segmentationNode)
    segmentIds = [segmentId for ids in recognized.values() for segmentId in ids]
    count, volume = unionVolume(segmentationNode, segmentIds)
    if count == 0:
        raise ValueError(f"Couinaud segments of '{segmentationNode.GetName()}' are all empty")
    return volume


TIMELINE_COLUMNS = (
    ("Role", vtk.vtkStringArray, "", "Time point along the ALPPS course"),
    ("Study date", vtk.vtkStringArray, "", "Study date (ISO 8601)"),
    ("Days after stage 1", vtk.vtkIntArray, "days", "Study date minus the date of ALPPS stage 1"),
    ("Liver volume", vtk.vtkDoubleArray, "mL", "Union of Couinaud segments I-VIII; " + VOLUME_METHOD),
    ("Segmentation", vtk.vtkStringArray, "", "Segmentation node the volume was measured on"),
)


def writeTimelineTable(tableNode, timePoints, stage1Date):
    """One row per time point, in date order; returns the rows as plain dictionaries."""
    rows = []
    for point in sortedTimePoints(timePoints):
        if point.segmentationNode is None:
            raise ValueError(f"The {point.role} time point of {point.studyDate.isoformat()} has no segmentation")
        rows.append(
            {
                "role": point.role,
                "studyDate": point.studyDate.isoformat(),
                "daysAfterStage1": daysAfterStage1(point.studyDate, stage1Date),
                "liverVolumeMl": liverVolumeMl(point.segmentationNode),
                "segmentation": point.segmentationNode.GetName(),
            }
        )
    table = resetTableColumns(tableNode, TIMELINE_COLUMNS)
    for row in rows:
        for column, key in enumerate(("role", "studyDate", "daysAfterStage1", "liverVolumeMl", "segmentation")):
            table.GetColumn(column).InsertNextValue(row[key])
    table.Modified()
    tableNode.Modified()
    return rows


def timePointsFromEntries(entries):
    """Time points from what the user entered per role: ``[(role, segmentationNode, dateText)]``.

    A role with neither a segmentation nor a date is skipped; one with only one of them is an
    error naming the role, so that nothing the user entered is dropped silently.
    """
    timePoints = []
    for role, segmentationNode, dateText in entries:
        hasDate = bool(dateText and str(dateText).strip())
        if segmentationNode is None and not hasDate:
            continue
        if segmentationNode is None:
            raise ValueError(f"The {role} time point has a study date but no segmentation: select its segmentation")
        if not hasDate:
            raise ValueError(
                f"The {role} time point ('{segmentationNode.GetName()}') has no study date: enter it as YYYY-MM-DD"
            )
        timePoints.append(TimePoint(role, parseStudyDate(dateText, f"{role} study date"), segmentationNode))
    if not timePoints:
        raise ValueError("No time point entered: select a segmentation and a study date for at least one time point")
    return timePoints


def measureTimelineIntoTable(timePoints, stage1Date, tableNode=None):
    """Write the timeline into ``tableNode`` (a new table in the segmentations' scene when None);
    returns (rows, tableNode). Shared by the module widget, the batch command and the tests."""
    if tableNode is None:
        scene = timePoints[0].segmentationNode.GetScene()
        tableNode = scene.AddNewNodeByClass("vtkMRMLTableNode", "ALPPS timeline")
    return writeTimelineTable(tableNode, timePoints, stage1Date), tableNode
