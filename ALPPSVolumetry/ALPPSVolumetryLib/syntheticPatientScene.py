"""The synthetic patient's scans as Slicer nodes: a CT volume and a segmentation per time point."""

from .segments import couinaud
from .inputs import patientIdentity
from .segments.segmentationImport import addVolumeFromArray, importLabelArray, importMaskArrays
from .syntheticPatient import PATIENT_BIRTH_DATE, PATIENT_SEX, TUMOURS

# Display colours (RGB 0-1) of the non-Couinaud structures, close to Slicer's anatomy colours.
STRUCTURE_COLORS = {
    "Spleen": (0.61, 0.40, 0.37),
    "Inferior vena cava": (0.00, 0.59, 0.81),
    "Portal vein": (0.00, 0.59, 0.81),
    "Hepatic veins": (0.00, 0.36, 0.69),
}
STRUCTURE_COLORS.update({name: (0.90, 0.90, 0.15) for name, _, _ in TUMOURS})


def couinaudSegmentName(segmentId):
    return f"Segment {segmentId}"


def syntheticIdentity(patient, timePoint, index):
    """The DICOM identity a real scan of this time point would carry (made-up UIDs under 2.25)."""
    studyDate = timePoint.studyDate.strftime("%Y%m%d")
    return patientIdentity.PatientIdentity(
        name=patient.name,
        patientId=patient.patientId,
        birthDate=PATIENT_BIRTH_DATE,
        sex=PATIENT_SEX,
        studies=[
            patientIdentity.StudyIdentity(
                studyDate=studyDate,
                studyId=f"{index + 1}",
                studyDescription=f"CT liver {timePoint.role}",
                studyInstanceUid=f"2.25.48213{index + 1}{studyDate}",
                accessionNumber=f"ACC{studyDate}{index + 1}",
            )
        ],
        seriesUids=[f"2.25.48213{index + 1}{studyDate}.2"],
    )


def addTimePointNodes(scene, timePoint, patientName, identity=None):
    """Add the CT and the segmentation of one time point; returns (volumeNode, segmentationNode).

    Couinaud segments I-VIII share one layer (they partition the liver); tumours and veins
    overlap them, so Slicer keeps them in further layers, as after painting in the Segment Editor
    with overlap allowed.
    """
    label = f"{timePoint.role} {timePoint.studyDate.isoformat()}"
    volumeNode = addVolumeFromArray(scene, f"{patientName} CT {label}", timePoint.ct, timePoint.ijkToRAS)
    segmentationNode = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", f"{patientName} segments {label}")
    segmentationNode.CreateDefaultDisplayNodes()
    segmentationNode.SetReferenceImageGeometryParameterFromVolumeNode(volumeNode)
    names = {value: couinaudSegmentName(segmentId) for value, segmentId in enumerate(couinaud.SEGMENT_IDS, 1)}
    colors = {value: couinaud.SEGMENT_COLOR[segmentId] for value, segmentId in enumerate(couinaud.SEGMENT_IDS, 1)}
    segmentIds = importLabelArray(segmentationNode, timePoint.couinaudLabels, timePoint.ijkToRAS, names, colors)
    segmentation = segmentationNode.GetSegmentation()
    for value, segmentId in enumerate(couinaud.SEGMENT_IDS, 1):
        segmentation.GetSegment(segmentIds[value]).SetTag("TerminologyEntry", couinaud.terminologyEntry(segmentId))
    importMaskArrays(segmentationNode, timePoint.structures, timePoint.ijkToRAS, STRUCTURE_COLORS)
    if identity is not None:
        patientIdentity.placeUnderPatientStudy(scene, volumeNode, identity)
        patientIdentity.placeUnderPatientStudy(scene, segmentationNode, patientIdentity.PatientIdentity(
            identity.name, identity.patientId, identity.birthDate, identity.sex, identity.studies))
    return volumeNode, segmentationNode
