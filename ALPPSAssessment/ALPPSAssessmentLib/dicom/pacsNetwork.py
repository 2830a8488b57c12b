"""The hospital's PACS through DICOM networking (pynetdicom): find a patient's studies (C-FIND),
pull them into a folder (C-GET), push result objects (C-STORE). Every wait is bounded; an
unreachable PACS, a refused association or a refused object is a ValueError naming the host,
port and AE titles; a pull writes its folder only when every object has arrived, a push sends
nothing unless the PACS accepts every kind of object in it."""

import os
import shutil
import socket
import tempfile
from dataclasses import dataclass

from ALPPSVolumetryLib.optionalPackages import requirePackage


DEFAULT_TIMEOUT_SECONDS = 30.0
IMAGE_MODALITIES = ("CT", "MR")
_STUDY_FIELDS = ("PatientID", "PatientName", "PatientBirthDate", "StudyInstanceUID", "StudyDate", "StudyTime", "StudyDescription",
                 "AccessionNumber", "ModalitiesInStudy", "NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances")
# The kinds of object a pull accepts: the scans ALPPS measures and the results it writes.
PULLED_STORAGE_CLASSES = (
    "CTImageStorage", "EnhancedCTImageStorage", "MRImageStorage", "EnhancedMRImageStorage", "SegmentationStorage",
    "Comprehensive3DSRStorage", "ComprehensiveSRStorage", "EnhancedSRStorage", "EncapsulatedPDFStorage", "SecondaryCaptureImageStorage",
)


@dataclass
class PacsAddress:
    host: str
    port: int
    calledAet: str = "ANY-SCP"
    callingAet: str = "ALPPS"
    timeoutSeconds: float = DEFAULT_TIMEOUT_SECONDS

    def describe(self):
        return f"PACS {self.calledAet} at {self.host}:{self.port}"


def _checkReachable(address):
    try:
        with socket.create_connection((address.host, address.port), timeout=address.timeoutSeconds):
            pass
    except socket.timeout:
        raise ValueError(f"{address.describe()} did not answer within {address.timeoutSeconds:g} s: check host, port and network") from None
    except OSError as error:
        raise ValueError(f"{address.describe()} is unreachable ({error.strerror or error}): check host and port") from None


def _applicationEntity(address):
    pynetdicom = requirePackage("pynetdicom")
    ae = pynetdicom.AE(ae_title=address.callingAet)
    for name in ("acse_timeout", "dimse_timeout", "network_timeout", "connection_timeout"):
        setattr(ae, name, address.timeoutSeconds)
    return ae


def _associate(address, ae, evt_handlers=(), **options):
    pynetdicom = requirePackage("pynetdicom")
    _checkReachable(address)
    rejections = []

    def onRejected(event):
        # Recorded when the A-ASSOCIATE-RJ arrives: a PACS that then closes the connection at once
        # can otherwise look like an abort.
        primitive = event.assoc.acceptor.primitive
        rejections.append(f"{primitive.result_str}, {primitive.reason_str}" if primitive is not None else "")

    handlers = list(evt_handlers) + [(pynetdicom.evt.EVT_REJECTED, onRejected)]
    association = ae.associate(address.host, address.port, ae_title=address.calledAet, evt_handlers=handlers, **options)
    if association.is_established:
        return association
    if association.is_rejected or rejections:
        reason = f": {rejections[0]}" if rejections and rejections[0] else ""
        raise ValueError(f"{address.describe()} rejected the association{reason} (called AE title '{address.calledAet}', calling AE title "
                         f"'{address.callingAet}': are both configured on the PACS?)")
    raise ValueError(f"{address.describe()} aborted the association (called AE title '{address.calledAet}', calling AE title "
                     f"'{address.callingAet}') or did not answer within {address.timeoutSeconds:g} s")


def _failed(address, what, status):
    code = getattr(status, "Status", None)
    comment = str(status.get("ErrorComment", "")) if status is not None else ""
    return ValueError(f"{address.describe()} answered {what} with status "
                      f"{'none (timeout or aborted)' if code is None else f'0x{int(code):04X}'}{': ' + comment if comment else ''}")


def findStudies(address, patientId="", patientName="", dateFrom="", dateTo="", studyInstanceUid=""):
    """Studies matching the keys (DICOM wildcards allowed in name and ID; dates YYYYMMDD, either
    end open), as dicts of _STUDY_FIELDS, oldest first."""
    import pydicom
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind

    ae = _applicationEntity(address)
    ae.add_requested_context(StudyRootQueryRetrieveInformationModelFind)
    query = pydicom.Dataset()
    query.QueryRetrieveLevel = "STUDY"
    for field in _STUDY_FIELDS:
        setattr(query, field, "")
    query.PatientID, query.PatientName, query.StudyInstanceUID = patientId, patientName, studyInstanceUid
    query.StudyDate = f"{dateFrom}-{dateTo}" if (dateFrom or dateTo) else ""
    association = _associate(address, ae)
    studies = []
    try:
        for status, identifier in association.send_c_find(query, StudyRootQueryRetrieveInformationModelFind):
            if status is None or status.Status not in (0x0000, 0xFF00, 0xFF01):
                raise _failed(address, "the study query (C-FIND)", status)
            if status.Status in (0xFF00, 0xFF01) and identifier is not None:
                studies.append({field: _text(identifier.get(field, "")) for field in _STUDY_FIELDS})
    finally:
        association.release()
    return sorted(studies, key=lambda study: (study["StudyDate"], study["StudyTime"]))


def findSeriesModalities(address, studyInstanceUid):
    """The modalities of a study's series (SERIES-level C-FIND), for a PACS that leaves
    ModalitiesInStudy out of its study answers."""
    import pydicom
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind

    ae = _applicationEntity(address)
    ae.add_requested_context(StudyRootQueryRetrieveInformationModelFind)
    query = pydicom.Dataset()
    query.QueryRetrieveLevel, query.StudyInstanceUID, query.SeriesInstanceUID, query.Modality = "SERIES", studyInstanceUid, "", ""
    association = _associate(address, ae)
    modalities = []
    try:
        for status, identifier in association.send_c_find(query, StudyRootQueryRetrieveInformationModelFind):
            if status is None or status.Status not in (0x0000, 0xFF00, 0xFF01):
                raise _failed(address, "the series query (C-FIND)", status)
            if identifier is not None and status.Status in (0xFF00, 0xFF01):
                modalities.append(str(identifier.get("Modality", "")))
    finally:
        association.release()
    return sorted({modality for modality in modalities if modality})


def _text(value):
    from pydicom.multival import MultiValue

    return "\\".join(str(item) for item in value) if isinstance(value, (list, tuple, MultiValue)) else str(value)


def pullStudies(address, studyInstanceUids, outputDirectory, requireImages=True):
    """C-GET of each study into ``outputDirectory/<StudyInstanceUID>/<SOPInstanceUID>.dcm``. With
    ``requireImages`` a study without a CT or MR series is refused before anything is pulled.
    Returns {StudyInstanceUID: number of objects}."""
    pynetdicom = requirePackage("pynetdicom")
    import pydicom
    from pynetdicom import sop_class
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelGet

    if not studyInstanceUids:
        raise ValueError("No study to pull: give --study UID or a patient whose studies the query finds")
    for uid in studyInstanceUids:
        found = findStudies(address, studyInstanceUid=uid)
        if not found:
            raise ValueError(f"{address.describe()} has no study {uid}")
        modalities = [m for m in found[0]["ModalitiesInStudy"].split("\\") if m] or findSeriesModalities(address, uid)
        if requireImages and not set(modalities) & set(IMAGE_MODALITIES):
            raise ValueError(f"Study {uid} on {address.describe()} holds no CT or MR series (modalities: {', '.join(m for m in modalities if m) or 'none'}): "
                             "nothing to measure")
    if os.path.exists(outputDirectory) and os.listdir(outputDirectory):
        raise ValueError(f"Output folder '{outputDirectory}' exists and is not empty: expected a new or empty folder")
    parent = os.path.dirname(os.path.abspath(outputDirectory))
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".alpps-pacs-pull-", dir=parent)
    received = {}

    def store(event):
        dataset = event.dataset
        dataset.file_meta = event.file_meta
        folder = os.path.join(staging, str(dataset.StudyInstanceUID))
        os.makedirs(folder, exist_ok=True)
        dataset.save_as(os.path.join(folder, f"{dataset.SOPInstanceUID}.dcm"), enforce_file_format=True)
        received[str(dataset.StudyInstanceUID)] = received.get(str(dataset.StudyInstanceUID), 0) + 1
        return 0x0000

    try:
        ae = _applicationEntity(address)
        ae.add_requested_context(StudyRootQueryRetrieveInformationModelGet)
        roles = []
        for name in PULLED_STORAGE_CLASSES:
            uid = getattr(sop_class, name)
            ae.add_requested_context(uid)
            roles.append(pynetdicom.build_role(uid, scp_role=True))
        association = _associate(address, ae, evt_handlers=[(pynetdicom.evt.EVT_C_STORE, store)], ext_neg=roles)
        try:
            for uid in studyInstanceUids:
                query = pydicom.Dataset()
                query.QueryRetrieveLevel, query.StudyInstanceUID = "STUDY", uid
                final = None
                for status, _ in association.send_c_get(query, StudyRootQueryRetrieveInformationModelGet):
                    if status is None:
                        raise _failed(address, f"the retrieval of study {uid} (C-GET)", None)
                    final = status
                if final is None or final.Status != 0x0000:
                    raise _failed(address, f"the retrieval of study {uid} (C-GET)", final)
                if not received.get(uid):
                    raise ValueError(f"{address.describe()} sent no object of study {uid}")
        finally:
            association.release()
        if os.path.isdir(outputDirectory):
            os.rmdir(outputDirectory)
        os.rename(staging, outputDirectory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return received


def _dicomFiles(folder):
    import pydicom

    if not os.path.isdir(folder):
        raise ValueError(f"Folder to push '{folder}' does not exist or is not a folder")
    datasets = []
    for root, _, names in os.walk(folder):
        for name in sorted(names):
            path = os.path.join(root, name)
            if not name.lower().endswith(".dcm") and not _hasDicomPreamble(path):
                continue  # a manifest, a .seg.nrrd...: not for the PACS
            try:
                dataset = pydicom.dcmread(path)
            except (pydicom.errors.InvalidDicomError, OSError) as error:
                raise ValueError(f"'{path}' is not a readable DICOM file ({error}): nothing was sent") from None
            if "SOPClassUID" not in dataset or "SOPInstanceUID" not in dataset or "TransferSyntaxUID" not in dataset.file_meta:
                raise ValueError(f"'{path}' has no SOP class, instance UID or transfer syntax: nothing was sent")
            datasets.append((path, dataset))
    if not datasets:
        raise ValueError(f"Folder '{folder}' holds no DICOM files to push")
    return datasets


def _hasDicomPreamble(path):
    try:
        with open(path, "rb") as stream:
            return stream.read(132)[128:] == b"DICM"
    except OSError:
        return False


def pushFolder(address, folder):
    """C-STORE of every DICOM file below ``folder`` (named .dcm or starting with the DICOM preamble);
    returns the number stored. Nothing is sent
    unless every file reads and the PACS accepts every kind of object among them."""
    datasets = _dicomFiles(folder)
    ae = _applicationEntity(address)
    kinds = {}
    for _, dataset in datasets:
        kinds.setdefault(str(dataset.SOPClassUID), set()).add(str(dataset.file_meta.TransferSyntaxUID))
    if len(kinds) > 128:
        raise ValueError(f"Folder '{folder}' holds {len(kinds)} kinds of object: one association carries at most 128")
    for uid, syntaxes in kinds.items():
        ae.add_requested_context(uid, sorted(syntaxes))
    association = _associate(address, ae)
    try:
        accepted = {context.abstract_syntax for context in association.accepted_contexts}
        refused = sorted(uid for uid in kinds if uid not in accepted)
        if refused:
            names = ", ".join(_sopName(uid) for uid in refused)
            raise ValueError(f"{address.describe()} does not accept {names}: nothing was sent")
        for path, dataset in datasets:
            status = association.send_c_store(dataset)
            if status is None or status.Status not in (0x0000, 0xB000, 0xB007, 0xB006):
                raise _failed(address, f"the storage of '{path}' (C-STORE)", status)
    finally:
        association.release()
    return len(datasets)


def _sopName(uid):
    from pydicom.uid import UID

    return f"{UID(uid).name} ({uid})"
