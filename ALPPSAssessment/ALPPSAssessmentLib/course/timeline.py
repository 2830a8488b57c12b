"""The patient's time points along the ALPPS course: roles, dates, and the checks that keep them
in a possible order.

A time point lives in the scene as attributes and a node reference on its segmentation node
(role, study date, the plan, the day's laboratory values, the source volume): saved with the
scene, visible in the Data module, and nothing the user entered is kept only in the widget.
"""

import datetime
import json
import re
from dataclasses import dataclass, field
from typing import Optional

# Roles in the order of the ALPPS course (clinical reference section 8); interstage scans may be
# numbered ("interstage 2") when the first one shows too little growth.
ROLE_PRE_STAGE_1 = "pre-stage 1"
ROLE_INTERSTAGE = "interstage"
ROLE_PRE_STAGE_2 = "pre-stage 2"
ROLE_AFTER_STAGE_2 = "after stage 2"
TIME_POINT_ROLES = (ROLE_PRE_STAGE_1, ROLE_INTERSTAGE, ROLE_PRE_STAGE_2, ROLE_AFTER_STAGE_2)
_INTERSTAGE = re.compile(r"^interstage(?: (\d+))?$")

# Attribute names on the segmentation node.
ROLE_ATTRIBUTE = "ALPPS.TimePointRole"
DATE_ATTRIBUTE = "ALPPS.StudyDate"
PLAN_ATTRIBUTE = "ALPPS.Plan"
LABS_ATTRIBUTE = "ALPPS.Labs"
FUNCTION_ATTRIBUTE = "ALPPS.RemnantFunction"
# The full documents of the functional studies of a time point (mebrofenin, gadoxetate), as the
# batch commands write them, so that a report made later from the saved scene can show them.
FUNCTIONAL_STUDIES_ATTRIBUTE = "ALPPS.FunctionalStudies"
VOLUME_REFERENCE_ROLE = "ALPPSSourceVolume"


def roleOrder(role):
    """Position of a role along the course; ValueError for an unknown role."""
    text = str(role).strip().lower()
    match = _INTERSTAGE.match(text)
    if match:
        return 1.0 + (int(match.group(1) or 1) - 1) / 100.0
    order = {ROLE_PRE_STAGE_1: 0.0, ROLE_PRE_STAGE_2: 2.0, ROLE_AFTER_STAGE_2: 3.0}
    if text not in order:
        raise ValueError(
            f"Time point role '{role}' is unknown: expected one of {', '.join(TIME_POINT_ROLES)} "
            "(interstage scans may be numbered, e.g. 'interstage 2')"
        )
    return order[text]


@dataclass
class TimePoint:
    role: str
    studyDate: datetime.date
    segmentationNode: object = None  # vtkMRMLSegmentationNode with Couinaud segments I-VIII
    volumeNode: object = None  # the scan the segmentation was made on (optional)
    planKey: Optional[str] = None  # resection plan of this time point, when it differs
    labs: dict = field(default_factory=dict)  # {"bilirubin": [value, unit], ...}
    # Remnant function measured on this day, e.g. {"flrFunctionPerBsa": 2.4, "flrFunctionPercentPerMin": 4.6}.
    remnantFunction: dict = field(default_factory=dict)

    def __post_init__(self):
        roleOrder(self.role)
        self.role = str(self.role).strip().lower()
        if not isinstance(self.studyDate, datetime.date):
            raise ValueError(f"Study date of the {self.role} time point must be a date, got {self.studyDate!r}")

    @property
    def label(self):
        return f"{self.role} ({self.studyDate.isoformat()})"


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
    """Time points by study date, then by their place in the course."""
    return sorted(timePoints, key=lambda point: (point.studyDate, roleOrder(point.role)))


def checkCourse(timePoints, stage1Date=None):
    """Refuse time points whose dates contradict their roles (a pre-stage 1 scan after an
    interstage scan, an interstage scan before stage 1...), naming both."""
    ordered = sortedTimePoints(timePoints)
    if stage1Date is not None and len(ordered) > 1 and all(point.studyDate < stage1Date for point in ordered):
        raise ValueError(
            f"The stage 1 date {stage1Date.isoformat()} is after every scan ({', '.join(p.studyDate.isoformat() for p in ordered)}): "
            "growth is counted from stage 1, so check the stage 1 date"
        )
    for earlier, later in zip(ordered, ordered[1:]):
        if roleOrder(later.role) < roleOrder(earlier.role):
            raise ValueError(
                f"Dates out of order: the {later.label} scan is dated before or with the {earlier.label} scan; "
                "check the study dates and roles"
            )
        if later.role == ROLE_PRE_STAGE_1 and earlier.role == ROLE_PRE_STAGE_1:
            # Files, tables and DICOM series are kept per role: one baseline per course.
            raise ValueError(
                f"Two scans before stage 1 ({earlier.studyDate} and {later.studyDate}): growth is counted from the last scan "
                "before stage 1; give only that one as the pre-stage 1 time point"
            )
        if roleOrder(later.role) == roleOrder(earlier.role):
            raise ValueError(f"Two time points have the role '{later.role}' ({earlier.studyDate} and {later.studyDate}): number interstage scans, e.g. 'interstage 2'")
    if stage1Date is not None:
        for point in ordered:
            order = roleOrder(point.role)
            if order == 0.0 and point.studyDate > stage1Date:
                raise ValueError(f"The {point.label} scan is after the stage 1 date {stage1Date.isoformat()}")
            if order >= 1.0 and point.studyDate < stage1Date:
                raise ValueError(f"The {point.label} scan is before the stage 1 date {stage1Date.isoformat()}")
    return ordered


# --- storage in the scene ---------------------------------------------------------------------


def storeTimePoint(point):
    """Write a time point onto its segmentation node (attributes and a volume reference)."""
    node = point.segmentationNode
    if node is None:
        raise ValueError(f"The {point.label} time point has no segmentation to store it on")
    node.SetAttribute(ROLE_ATTRIBUTE, point.role)
    node.SetAttribute(DATE_ATTRIBUTE, point.studyDate.isoformat())
    node.SetAttribute(PLAN_ATTRIBUTE, point.planKey or "")
    node.SetAttribute(LABS_ATTRIBUTE, json.dumps(point.labs, sort_keys=True))
    node.SetAttribute(FUNCTION_ATTRIBUTE, json.dumps(point.remnantFunction, sort_keys=True))
    node.SetNodeReferenceID(VOLUME_REFERENCE_ROLE, point.volumeNode.GetID() if point.volumeNode else None)
    return node


def timePointOfNode(segmentationNode):
    """The time point stored on a segmentation node, or None when it is not one."""
    role = segmentationNode.GetAttribute(ROLE_ATTRIBUTE)
    if not role:
        return None
    labsText = segmentationNode.GetAttribute(LABS_ATTRIBUTE) or "{}"
    try:
        labs = json.loads(labsText)
    except ValueError:
        raise ValueError(f"Laboratory values stored on '{segmentationNode.GetName()}' are unreadable: {labsText}") from None
    return TimePoint(
        role=role,
        studyDate=parseStudyDate(segmentationNode.GetAttribute(DATE_ATTRIBUTE), f"study date of '{segmentationNode.GetName()}'"),
        segmentationNode=segmentationNode,
        volumeNode=segmentationNode.GetNodeReference(VOLUME_REFERENCE_ROLE),
        planKey=segmentationNode.GetAttribute(PLAN_ATTRIBUTE) or None,
        labs=labs,
        remnantFunction=json.loads(segmentationNode.GetAttribute(FUNCTION_ATTRIBUTE) or "{}"),
    )


def timePointsInScene(scene):
    """Every time point stored in the scene, in date order."""
    points = []
    for index in range(scene.GetNumberOfNodesByClass("vtkMRMLSegmentationNode")):
        point = timePointOfNode(scene.GetNthNodeByClass(index, "vtkMRMLSegmentationNode"))
        if point is not None:
            points.append(point)
    return sortedTimePoints(points)


def storeFunctionalStudy(segmentationNode, modality, document):
    """Keep one functional study's document (JSON-able dict) with the time point of ``segmentationNode``."""
    studies = functionalStudiesOfNode(segmentationNode)
    studies[modality] = document
    segmentationNode.SetAttribute(FUNCTIONAL_STUDIES_ATTRIBUTE, json.dumps(studies, sort_keys=True))


def functionalStudiesOfNode(segmentationNode):
    """{modality: document} stored with a time point; {} when none."""
    text = segmentationNode.GetAttribute(FUNCTIONAL_STUDIES_ATTRIBUTE) or "{}"
    try:
        return json.loads(text)
    except ValueError:
        raise ValueError(f"Functional studies stored on '{segmentationNode.GetName()}' are unreadable") from None


def clearTimePoint(segmentationNode):
    for attribute in (ROLE_ATTRIBUTE, DATE_ATTRIBUTE, PLAN_ATTRIBUTE, LABS_ATTRIBUTE, FUNCTION_ATTRIBUTE, FUNCTIONAL_STUDIES_ATTRIBUTE):
        segmentationNode.RemoveAttribute(attribute)
    segmentationNode.RemoveNodeReferenceIDs(VOLUME_REFERENCE_ROLE)
