"""What the ALPPS Assessment panel shows, decided without Qt so that it is tested headless: the
DICOM patients offered, the studies table, the study to load, and the assessment's messages."""

from .report import decisionSummary

DICOM_DATABASE_NOT_OPEN = "The DICOM database is not open: import the studies in the DICOM module first"


def dicomPatientEntries(database):
    """(label "Name (ID)", patient UID) per patient of Slicer's DICOM database (ctkDICOMDatabase)."""
    entries = []
    for patientUID in database.patients():
        files = [f for study in database.studiesForPatient(patientUID) for series in database.seriesForStudy(study)
                 for f in database.filesForSeries(series)[:1]]
        if files:
            entries.append((f"{database.fileValue(files[0], '0010,0010')} ({database.fileValue(files[0], '0010,0020')})", patientUID))
        else:
            entries.append((f"{patientUID} ()", patientUID))
    return entries


def studyRows(proposals):
    """Study date, description, series to load, notes: one row per proposed time point."""
    return [
        (
            proposal.studyDate.isoformat() if proposal.studyDate else "no StudyDate",
            proposal.studyDescription,
            proposal.series.seriesDescription if proposal.series else "none",
            "; ".join([proposal.reason] + list(proposal.warnings)),
        )
        for proposal in proposals
    ]


def proposalToLoad(proposals, row):
    """The proposal of the selected table row, when it has a series to load; ValueError otherwise."""
    if row < 0 or row >= len(proposals) or proposals[row].series is None:
        raise ValueError("Select a study with a CT or MR series to load")
    return proposals[row]


def scanOfSegmentation(segmentationNode):
    """The scan a segmentation was drawn on (its reference geometry volume), or None: proposed as
    the time point's scan for a segmentation without a stored time point."""
    if segmentationNode is None:
        return None
    node = segmentationNode.GetNodeReference(segmentationNode.GetReferenceImageGeometryReferenceRole())
    return node if node is not None and node.IsA("vtkMRMLScalarVolumeNode") else None


# A functional results table refers to the time point's segmentation it was measured for.
MEASURED_FOR_REFERENCE = "ALPPS.measuredFor"


def tagMeasuredFor(resultTable, segmentationNode):
    resultTable.SetNodeReferenceID(MEASURED_FOR_REFERENCE, segmentationNode.GetID() if segmentationNode is not None else None)


def checkMeasuredFor(resultTable, segmentationNode):
    """Refuse to store results with a time point other than the one they were measured for (the
    selection may have changed since): ValueError naming both."""
    measuredFor = resultTable.GetNodeReference(MEASURED_FOR_REFERENCE) if resultTable is not None else None
    if measuredFor is not None and measuredFor is not segmentationNode:
        selected = segmentationNode.GetName() if segmentationNode is not None else "no time point"
        raise ValueError(f"The results shown were measured for '{measuredFor.GetName()}', not for '{selected}': "
                         "select that time point to store them, or measure again for this one")


def decisionSummaryText(outputs):
    """The summary at the top of the panel: the same function, and so the same words, as page 1 of
    the patient report."""
    return "\n".join(decisionSummary.decisionSummary(decisionSummary.summaryDocument(outputs.result, outputs.readiness)).lines())


def assessmentMessages(outputs):
    """The warnings line after an update: the measurement's warnings, then the after-stage-2 flags."""
    return "\n".join(list(outputs.result.warnings) + [flag.line() for flag in outputs.afterStage2Flags])
