"""A patient's studies proposed as time points, in date order, each with the CT or MR series that
would be loaded and why; from a DICOM index of a folder or of Slicer's DICOM database. The roles
(pre-stage 1, interstage ...) are left to the user.
"""

import datetime
from dataclasses import dataclass, field
from typing import List, Optional

from ALPPSVolumetryLib.inputs.dicomFolder import ImageSeries, seriesSortKey

from .dicomIndex import isoText, seriesLabel

VOLUME_MODALITIES = ("CT", "MR")


@dataclass
class TimePointProposal:
    """A study proposed as a time point; its role (pre-stage 1, interstage ...) is the user's choice."""

    studyInstanceUID: str
    studyDate: Optional[datetime.date]
    studyTime: Optional[datetime.time]
    studyDescription: str
    accessionNumber: str
    series: Optional[ImageSeries]  # the CT/MR series that would be loaded, None when there is none
    files: List[str]  # that series' files in slice order, ready for segmentationIO.loadVolume
    reason: str  # why this series (or why none)
    warnings: List[str] = field(default_factory=list)


def findPatient(index, patientId, patientName=None):
    """The patient with this PatientID (and name, needed only when several patients lack an ID)."""
    matches = [patient for patient in index.patients if patient.patientId == patientId]
    if patientName is not None:
        matches = [patient for patient in matches if patient.patientName == patientName]
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(f"'{patient.patientId}' ({patient.patientName})" for patient in index.patients) or "none"
    if not matches:
        raise ValueError(f"Patient ID '{patientId}' is not in the DICOM index of '{index.folder}': expected one of {known}")
    raise ValueError(
        f"Patient ID '{patientId}' matches {len(matches)} patients in '{index.folder}' ({known}): give the patient name as well"
    )


def proposedTimePoints(index, patientId, patientName=None):
    """The patient's studies in date order (undated last) as time point proposals.

    Each proposal names the CT or MR series that would be loaded: the one with the most slices
    (ties go to the lowest series number, and are said). Roles are not assigned.
    """
    patient = findPatient(index, patientId, patientName)
    proposals = []
    for study in patient.studies:
        series, reason = _chooseVolumeSeries(study)
        warnings = list(study.warnings) + ([f"{seriesLabel(series)}: {w}" for w in series.warnings] if series else [])
        proposals.append(
            TimePointProposal(
                studyInstanceUID=study.studyInstanceUID,
                studyDate=study.studyDate,
                studyTime=study.studyTime,
                studyDescription=study.studyDescription,
                accessionNumber=study.accessionNumber,
                series=series,
                files=list(series.files) if series else [],
                reason=reason,
                warnings=warnings,
            )
        )
    return proposals


def _chooseVolumeSeries(study):
    volumeSeries = [series for series in study.series if series.modality in VOLUME_MODALITIES]
    candidates = [series for series in volumeSeries if not series.multiFrame and series.sliceCount >= 2]
    if not candidates:
        if any(series.multiFrame for series in volumeSeries):
            return None, "its CT/MR images are multi-frame (enhanced) objects only: load them with Slicer's DICOM module"
        if volumeSeries:
            return None, "no CT/MR series with more than one slice (only single images such as localizers)"
        present = sorted({series.modality for series in study.series} | {other.modality or other.kind for other in study.otherObjects})
        return None, f"no CT or MR image series in this study (found: {', '.join(present) or 'nothing loadable'})"
    candidates.sort(key=lambda series: (-series.sliceCount,) + seriesSortKey(series))
    chosen = candidates[0]
    reason = f"{seriesLabel(chosen)} has the most slices ({chosen.sliceCount})"
    others = candidates[1:]
    if others:
        reason += " of the study's CT/MR series; others: " + ", ".join(f"{seriesLabel(s)} ({s.sliceCount} slices)" for s in others)
        ties = [series for series in others if series.sliceCount == chosen.sliceCount]
        if ties:
            reason += (
                f". {len(ties)} other series have as many slices (e.g. another contrast phase): the lowest series "
                "number was taken; choose the phase you measure on"
            )
    else:
        reason += ", the only CT/MR volume in the study"
    return chosen, reason


def proposalToDict(proposal):
    return {
        "studyInstanceUID": proposal.studyInstanceUID,
        "studyDate": isoText(proposal.studyDate),
        "studyTime": isoText(proposal.studyTime),
        "studyDescription": proposal.studyDescription,
        "accessionNumber": proposal.accessionNumber,
        "seriesInstanceUID": proposal.series.seriesInstanceUID if proposal.series else None,
        "seriesDescription": proposal.series.seriesDescription if proposal.series else None,
        "modality": proposal.series.modality if proposal.series else None,
        "sliceCount": proposal.series.sliceCount if proposal.series else 0,
        "files": list(proposal.files),
        "reason": proposal.reason,
        "warnings": list(proposal.warnings),
    }
