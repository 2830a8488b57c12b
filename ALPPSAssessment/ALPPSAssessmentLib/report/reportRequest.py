"""What a patient report is made from, as one record: the panel's button, `alpps report`, the demo
and the DICOM results export each fill one and hand it whole to the report functions, so every
input and its default is written down here once."""

import datetime
from dataclasses import dataclass
from typing import Any, Optional, Sequence, Tuple

from .patientReport import ANONYMISED_NAME


@dataclass
class ReportRequest:
    plan: Any  # resectionPlans.ResectionPlan followed over time
    settings: Any  # futureLiverRemnant.VolumetrySettings: body size, formulas, liver condition, thresholds
    stage1Date: Optional[datetime.date] = None  # without it the growth rates are not computed, and the report says so
    stage1LiverFailure: str = "unknown"  # the answer to the readiness checklist's question (stageTwoReadiness.LIVER_FAILURE_ANSWERS)
    comparisonPlans: Sequence = ()  # plans measured beside ``plan`` at every time point
    # timeline.TimePoint list; None: those stored in the scene.
    timePoints: Optional[Sequence] = None
    # patientIdentity.PatientIdentity; None: read from the subject hierarchy above the scans.
    identity: Any = None
    # Measured before stage 2 (FLR-F/BSA, %/min/m2); None when not measured.
    remnantFunctionPerBsa: Optional[float] = None
    # Allow time points stored with another plan than ``plan`` (otherwise refused by name).
    allowDifferentPlans: bool = False
    # Every file is written from the anonymised document, the patient named ``pseudonym``.
    anonymise: bool = False
    pseudonym: str = ANONYMISED_NAME
    # [{"title", "caption", "png"}] captured by the caller (Slicer's views); None: drawn offscreen.
    pictures: Optional[list] = None
    with3D: bool = True  # draw the 3D picture when drawing offscreen
    # Files the report was made from: (description, path) such as a scene bundle, and
    # (description, node) such as functional images; scans and segmentations are always listed.
    inputFiles: Sequence[Tuple[str, str]] = ()
    extraInputNodes: Sequence[Tuple[str, Any]] = ()
    createdUtc: Optional[str] = None  # "YYYY-MM-DDTHH:MM:SSZ"; None: now
