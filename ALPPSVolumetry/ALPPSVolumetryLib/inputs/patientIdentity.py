"""Who and which study a scan belongs to, kept where Slicer keeps it: on the subject hierarchy
patient and study items above the volume (attributes ``DICOM.PatientName``, ``DICOM.PatientID``...).

Slicer's DICOM module fills these when it loads a series; the headless path does the same from
the series' first header, so the report finds a patient's identifiers in one place, and knows
exactly which identifiers an anonymised report must leave out.
"""

from dataclasses import dataclass, field
from typing import List

import slicer
from vtkmodules.vtkCommonCore import vtkIdList

_CONSTANTS = slicer.vtkMRMLSubjectHierarchyConstants
PATIENT_ATTRIBUTES = {
    "name": _CONSTANTS.GetDICOMPatientNameAttributeName(),
    "patientId": _CONSTANTS.GetDICOMPatientIDAttributeName(),
    "birthDate": _CONSTANTS.GetDICOMPatientBirthDateAttributeName(),
    "sex": _CONSTANTS.GetDICOMPatientSexAttributeName(),
}
STUDY_ATTRIBUTES = {
    "studyDate": _CONSTANTS.GetDICOMStudyDateAttributeName(),
    "studyId": _CONSTANTS.GetDICOMStudyIDAttributeName(),
    "studyDescription": _CONSTANTS.GetDICOMStudyDescriptionAttributeName(),
    "studyInstanceUid": _CONSTANTS.GetDICOMStudyInstanceUIDAttributeName(),
}
# Slicer's DICOM plugins also leave these on the loaded volume node.
INSTANCE_UIDS_ATTRIBUTE = "DICOM.instanceUIDs"
ACCESSION_ATTRIBUTE = "DICOM.AccessionNumber"


@dataclass
class StudyIdentity:
    studyDate: str = ""  # as DICOM has it: YYYYMMDD
    studyId: str = ""
    studyDescription: str = ""
    studyInstanceUid: str = ""
    accessionNumber: str = ""


@dataclass
class PatientIdentity:
    name: str = ""  # DICOM person name: Family^Given^Middle
    patientId: str = ""
    birthDate: str = ""  # YYYYMMDD
    sex: str = ""
    studies: List[StudyIdentity] = field(default_factory=list)
    seriesUids: List[str] = field(default_factory=list)

    @property
    def isEmpty(self):
        return not (self.name or self.patientId or self.birthDate)

    def displayName(self):
        """'Family, Given Middle' from the DICOM person name."""
        parts = [part.strip() for part in self.name.split("^")]
        family, given = parts[0], " ".join(part for part in parts[1:] if part)
        return f"{family}, {given}" if family and given else family or given


def _text(dataset, keyword):
    value = dataset.get(keyword, "") if dataset is not None else ""
    return "" if value is None else str(value).strip()


def identityFromDicomDataset(dataset):
    """PatientIdentity (with its one study and series) from a pydicom header."""
    study = StudyIdentity(
        studyDate=_text(dataset, "StudyDate"),
        studyId=_text(dataset, "StudyID"),
        studyDescription=_text(dataset, "StudyDescription"),
        studyInstanceUid=_text(dataset, "StudyInstanceUID"),
        accessionNumber=_text(dataset, "AccessionNumber"),
    )
    series = _text(dataset, "SeriesInstanceUID")
    return PatientIdentity(
        name=_text(dataset, "PatientName"),
        patientId=_text(dataset, "PatientID"),
        birthDate=_text(dataset, "PatientBirthDate"),
        sex=_text(dataset, "PatientSex"),
        studies=[study],
        seriesUids=[series] if series else [],
    )


def _findChild(shNode, parentItem, level, uid, name):
    for item in _childIds(shNode, parentItem):
        if shNode.GetItemLevel(item) != level:
            continue
        if uid and shNode.GetItemUID(item, _CONSTANTS.GetDICOMUIDName()) == uid:
            return item
        if not uid and shNode.GetItemName(item) == name:
            return item
    return 0


def _childIds(shNode, parentItem):
    ids = vtkIdList()
    shNode.GetItemChildren(parentItem, ids)
    return [ids.GetId(index) for index in range(ids.GetNumberOfIds())]


def placeUnderPatientStudy(scene, node, identity, studyIndex=0):
    """Put ``node`` under the subject hierarchy patient and study items of ``identity`` (created
    when missing, found by patient ID and StudyInstanceUID), as Slicer's DICOM loading does."""
    shNode = scene.GetSubjectHierarchyNode()
    if shNode is None:
        raise ValueError("The scene has no subject hierarchy: create it through the SubjectHierarchy logic first")
    uidName = _CONSTANTS.GetDICOMUIDName()
    patientItem = _findChild(shNode, shNode.GetSceneItemID(), _CONSTANTS.GetDICOMLevelPatient(), identity.patientId, identity.displayName())
    if not patientItem:
        patientItem = shNode.CreateSubjectItem(shNode.GetSceneItemID(), identity.displayName() or identity.patientId or "Patient")
        shNode.SetItemLevel(patientItem, _CONSTANTS.GetDICOMLevelPatient())
        if identity.patientId:
            shNode.SetItemUID(patientItem, uidName, identity.patientId)
        for key, attribute in PATIENT_ATTRIBUTES.items():
            shNode.SetItemAttribute(patientItem, attribute, getattr(identity, key))
    parentItem = patientItem
    if identity.studies:
        study = identity.studies[studyIndex]
        studyItem = _findChild(shNode, patientItem, _CONSTANTS.GetDICOMLevelStudy(), study.studyInstanceUid, study.studyDescription or study.studyDate)
        if not studyItem:
            studyItem = shNode.CreateStudyItem(patientItem, study.studyDescription or study.studyDate or "Study")
            if study.studyInstanceUid:
                shNode.SetItemUID(studyItem, uidName, study.studyInstanceUid)
            for key, attribute in STUDY_ATTRIBUTES.items():
                shNode.SetItemAttribute(studyItem, attribute, getattr(study, key))
            shNode.SetItemAttribute(studyItem, ACCESSION_ATTRIBUTE, study.accessionNumber)
        parentItem = studyItem
    nodeItem = shNode.GetItemByDataNode(node) or shNode.CreateItem(parentItem, node)
    shNode.SetItemParent(nodeItem, parentItem)
    if identity.seriesUids:
        shNode.SetItemUID(nodeItem, uidName, identity.seriesUids[0])
    return patientItem


def identityOfNodes(scene, nodes):
    """The PatientIdentity above ``nodes`` in the subject hierarchy (empty when they are under no
    patient), with every study and series met. Several patients are refused: a report is per patient."""
    shNode = scene.GetSubjectHierarchyNode()
    identity = PatientIdentity()
    if shNode is None:
        return identity
    uidName = _CONSTANTS.GetDICOMUIDName()
    patients = {}
    for node in nodes:
        if node is None:
            continue
        item = shNode.GetItemByDataNode(node)
        if not item:
            continue
        seriesUid = shNode.GetItemUID(item, uidName)
        if seriesUid and seriesUid not in identity.seriesUids:
            identity.seriesUids.append(seriesUid)
        parent = shNode.GetItemParent(item)
        while parent and parent != shNode.GetSceneItemID():
            level = shNode.GetItemLevel(parent)
            if level == _CONSTANTS.GetDICOMLevelStudy():
                study = StudyIdentity(**{key: shNode.GetItemAttribute(parent, attribute) for key, attribute in STUDY_ATTRIBUTES.items()})
                study.studyInstanceUid = study.studyInstanceUid or shNode.GetItemUID(parent, uidName)
                study.accessionNumber = shNode.GetItemAttribute(parent, ACCESSION_ATTRIBUTE)
                if study not in identity.studies:
                    identity.studies.append(study)
            elif level == _CONSTANTS.GetDICOMLevelPatient():
                values = {key: shNode.GetItemAttribute(parent, attribute) for key, attribute in PATIENT_ATTRIBUTES.items()}
                if not values["name"] and not values["patientId"]:
                    values["name"] = shNode.GetItemName(parent)
                patients[(values["patientId"], values["name"])] = values
            parent = shNode.GetItemParent(parent)
    if len(patients) > 1:
        listing = "; ".join(f"'{name}' (ID '{patientId}')" for patientId, name in patients)
        raise ValueError(f"The scans of this report belong to {len(patients)} patients ({listing}): expected one patient per report")
    if patients:
        for key, value in next(iter(patients.values())).items():
            setattr(identity, key, value)
    return identity
