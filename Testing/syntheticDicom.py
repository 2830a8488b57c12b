"""The synthetic patient as a scanner and a Slicer user would hand it over: each time point's CT
written as a DICOM series (pydicom) from the very array the demo measures, and its segmentation
saved as .seg.nrrd by Slicer. Shared by the DICOM export and PACS tests."""

import os
from dataclasses import dataclass

from ALPPSAssessmentLib.report import reportExport
from ALPPSAssessmentLib.dicom import imageSeries
from ALPPSVolumetryLib import syntheticPatient, syntheticPatientScene

# Coarse voxels keep the objects small and the tests fast; the truth is counted on the same grid.
SPACING = (3.0, 3.0, 4.0)


@dataclass
class WrittenTimePoint:
    role: str
    studyDate: object
    ctFolder: str
    segmentationPath: str
    seriesUid: str
    truth: object  # syntheticPatient.SyntheticTimePoint

    def timepointArgument(self):
        return f"{self.studyDate.isoformat()}:{self.ctFolder}:{self.segmentationPath}:{self.role}"


def writeSyntheticPatient(folder, context, timePoints=syntheticPatient.TIME_POINTS):
    """Returns (patient, [WrittenTimePoint])."""
    patient = syntheticPatient.makeSyntheticPatient(spacing=SPACING, timePoints=timePoints)
    written = []
    for index, point in enumerate(patient.timePoints):
        identity = syntheticPatientScene.syntheticIdentity(patient, point, index)
        study = identity.studies[0]
        ctFolder = os.path.join(folder, f"ct-{index + 1}")
        seriesUid, _ = imageSeries.writeCtSeries(
            ctFolder, point.ct, point.ijkToRAS,
            {"name": patient.name, "patientId": patient.patientId, "birthDate": syntheticPatient.PATIENT_BIRTH_DATE, "sex": "F"},
            {"studyInstanceUid": study.studyInstanceUid, "studyDate": point.studyDate, "studyId": study.studyId,
             "accessionNumber": study.accessionNumber, "description": study.studyDescription},
            seriesDescription=f"CT liver {point.role}",
        )
        _, segmentationNode = syntheticPatientScene.addTimePointNodes(context.scene, point, "Synthetic")
        segmentationPath = reportExport.writeSegmentation(segmentationNode, os.path.join(folder, f"segments-{index + 1}.seg.nrrd"))
        written.append(WrittenTimePoint(point.role, point.studyDate, ctFolder, segmentationPath, seriesUid, point))
    return patient, written
