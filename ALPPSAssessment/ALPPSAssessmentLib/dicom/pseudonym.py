"""Pseudonymised copies of the source scans, made before any result object is derived from them,
so that every object written (the CT copies, SEG, SR and PDF) carries the same pseudonym and the
same new UIDs, and the references between them still resolve.

Name and patient ID become the pseudonym; birth date (emptied), addresses, other IDs, institution, staff
and device names and private elements are removed; accession number and study ID emptied; every
instance UID (study, series, SOP instance, frame of reference, and references to them) replaced
by a new one, the same old UID always by the same new one. Dates are kept (DICOM PS3.15 option
'Retain Longitudinal Temporal Information With Full Dates'): growth is measured between them."""

import copy

_REMOVED = (
    "PatientBirthTime", "PatientAddress", "OtherPatientIDs", "OtherPatientIDsSequence", "OtherPatientNames",
    "PatientBirthName", "PatientMotherBirthName", "PatientTelephoneNumbers", "MedicalRecordLocator", "IssuerOfPatientID",
    "PatientComments", "AdditionalPatientHistory", "InstitutionName", "InstitutionAddress", "InstitutionalDepartmentName",
    "PerformingPhysicianName", "OperatorsName", "PhysiciansOfRecord", "NameOfPhysiciansReadingStudy", "RequestingPhysician",
    "StationName", "DeviceSerialNumber", "RequestAttributesSequence", "ReferencedPatientSequence", "ReferencedStudySequence",
)
_EMPTIED = ("PatientBirthDate", "ReferringPhysicianName", "AccessionNumber", "StudyID")
# UI elements that name a kind of thing (SOP class, transfer syntax, coding scheme), not an instance.
_KEPT_UIDS = ("TransferSyntaxUID", "ImplementationClassUID", "CodingSchemeUID", "ContextGroupExtensionCreatorUID",
              "MappingResourceUID", "PrivateInformationCreatorUID")
METHOD = "ALPPS: new UIDs, pseudonym, identifiers removed, dates kept"


class Pseudonymiser:
    def __init__(self, pseudonym):
        if not pseudonym or not str(pseudonym).strip():
            raise ValueError("The pseudonym is empty: expected a name to put in place of the patient's")
        self.pseudonym = str(pseudonym).strip()
        self.uids = {}

    def uid(self, old):
        from pydicom.uid import generate_uid

        return self.uids.setdefault(str(old), generate_uid())

    def _remapUids(self, dataset, element):
        if element.VR == "UI" and element.keyword not in _KEPT_UIDS and not element.keyword.endswith("ClassUID") and element.value:
            if element.VM > 1:
                element.value = [self.uid(value) for value in element.value]
            else:
                element.value = self.uid(element.value)

    def dataset(self, original):
        """A pseudonymised copy of ``original`` (the original is not changed)."""
        dataset = copy.deepcopy(original)
        dataset.remove_private_tags()
        for keyword in _REMOVED:
            if keyword in dataset:
                delattr(dataset, keyword)
        for keyword in _EMPTIED:
            if keyword in dataset:
                setattr(dataset, keyword, "")
        # A pseudonym is one name component: the trailing caret says so (DICOM PS3.5 6.2.1.2).
        dataset.PatientName = self.pseudonym if "^" in self.pseudonym else f"{self.pseudonym}^"
        dataset.PatientID = self.pseudonym
        dataset.walk(self._remapUids)
        if getattr(dataset, "file_meta", None) is not None and "MediaStorageSOPInstanceUID" in dataset.file_meta:
            dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
        dataset.PatientIdentityRemoved = "YES"
        dataset.DeidentificationMethod = METHOD
        return dataset
