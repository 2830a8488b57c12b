"""`alpps dicom-export` and `alpps pacs query|pull|push`: ALPPS results as DICOM objects, and the
hospital's PACS reached through DICOM networking. Registered into the `alpps` parser by
``addCommands``."""


from . import __version__


def _commandDicomExport(arguments):
    from ALPPSAssessmentLib.course import timeline
    from ALPPSAssessmentLib.dicom import resultsExport
    from ALPPSAssessmentLib.report.reportRequest import ReportRequest
    from ALPPSVolumetryLib.planning import resectionPlans

    from . import cli
    from .headless import SlicerContext

    if bool(arguments.scene) == bool(arguments.timepoint):
        raise ValueError("give either --scene BUNDLE.mrb (with --dicom FOLDER) or one --timepoint per scan")
    if arguments.scene and not arguments.dicom:
        raise ValueError("--scene needs --dicom FOLDER, the DICOM series its scans were read from")
    stage1Date = timeline.parseStudyDate(arguments.stage1_date, "stage 1 date") if arguments.stage1_date else None
    plan = resectionPlans.parsePlan(arguments.plan)
    settings = cli._settingsFromArguments(arguments)
    with SlicerContext() as context:
        if arguments.scene:
            from ALPPSAssessmentLib.dicom import sceneSources

            context.loadSceneBundle(arguments.scene)
            points = sceneSources.timePointsOnDicomSeries(context.scene, arguments.dicom)
        else:
            points = [point for point, _ in cli._loadTimePoints(context.scene, arguments, stage1Date)]
        for point in points:
            cli._storeRoleCorrections(point.segmentationNode, arguments.role)
        request = ReportRequest(
            plan, settings, stage1Date, arguments.stage1_liver_failure, timePoints=points, anonymise=arguments.anonymise,
            pseudonym=arguments.pseudonym,
            remnantFunctionPerBsa=arguments.remnant_function_per_bsa,
        )
        manifest = resultsExport.exportDicomResults(arguments.out, context.scene, request, withPdf=not arguments.no_pdf)
    for note in manifest["notes"]:
        print(f"note: {note}")
    print(f"DICOM results{' (pseudonymised)' if arguments.anonymise else ''} written to {arguments.out}:")
    for item in manifest["objects"]:
        print(f"  {item['timePoint']:<14} {item['what']:<34} {item['path']}")
    return 0


def _address(arguments):
    from ALPPSAssessmentLib.dicom import pacsNetwork

    if not 0 < arguments.port < 65536:
        raise ValueError(f"--port {arguments.port} is not a TCP port: expected 1-65535")
    if arguments.timeout <= 0:
        raise ValueError(f"--timeout {arguments.timeout:g} must be a positive number of seconds")
    for option, title in (("--called-aet", arguments.called_aet), ("--calling-aet", arguments.calling_aet)):
        if not title.strip() or len(title) > 16:
            raise ValueError(f"{option} '{title}' is not an AE title: expected 1-16 characters")
    return pacsNetwork.PacsAddress(arguments.host, arguments.port, arguments.called_aet, arguments.calling_aet, arguments.timeout)


def _dicomDate(text, option):
    from ALPPSAssessmentLib.course import timeline

    return timeline.parseStudyDate(text, f"{option} date").strftime("%Y%m%d") if text else ""


def _queriedStudies(arguments, address):
    from ALPPSAssessmentLib.dicom import pacsNetwork

    return pacsNetwork.findStudies(address, arguments.patient_id or "", arguments.patient_name or "",
                                   _dicomDate(arguments.date_from, "--from"), _dicomDate(arguments.date_to, "--to"))


def _commandPacsQuery(arguments):
    address = _address(arguments)
    studies = _queriedStudies(arguments, address)
    print(f"{len(studies)} stud{'y' if len(studies) == 1 else 'ies'} on {address.describe()}")
    for study in studies:
        print(f"  {study['StudyDate'] or '--------'}  {study['PatientID']:<14} {study['ModalitiesInStudy']:<14} "
              f"{study['NumberOfStudyRelatedInstances']:>6} objects  {study['StudyDescription']}  {study['StudyInstanceUID']}")
    if arguments.json:
        from .cli import _writeJson

        _writeJson(arguments.json, {"software": {"name": "ALPPS", "version": __version__}, "pacs": vars(address), "studies": studies})
    return 0


def _commandPacsPull(arguments):
    from ALPPSAssessmentLib.dicom import pacsNetwork

    address = _address(arguments)
    if arguments.study:
        uids = list(arguments.study)
    elif arguments.patient_id or arguments.patient_name:
        uids = [study["StudyInstanceUID"] for study in _queriedStudies(arguments, address)]
        if not uids:
            raise ValueError(f"No study on {address.describe()} matches the patient and dates given")
    else:
        raise ValueError("give --study UID (repeat) or --patient-id (with --from/--to) to choose what to pull")
    received = pacsNetwork.pullStudies(address, uids, arguments.out, requireImages=not arguments.any_modality)
    for uid, count in received.items():
        print(f"  {uid}: {count} objects")
    print(f"Pulled into {arguments.out}; next: alpps dicom-index {arguments.out}")
    return 0


def _commandPacsPush(arguments):
    from ALPPSAssessmentLib.dicom import pacsNetwork

    address = _address(arguments)
    count = pacsNetwork.pushFolder(address, arguments.folder)
    print(f"Stored {count} objects from {arguments.folder} on {address.describe()}")
    return 0


def _addPacsCommands(subcommands):
    from ALPPSAssessmentLib.dicom import pacsNetwork

    pacs = subcommands.add_parser("pacs", help="query, pull from and push to a PACS (DICOM C-FIND, C-GET, C-STORE)")
    actions = pacs.add_subparsers(dest="action", required=True)

    def connection(parser):
        parser.add_argument("--host", required=True, help="the PACS's host name or address")
        parser.add_argument("--port", required=True, type=int, help="the PACS's DICOM port")
        parser.add_argument("--called-aet", default="ANY-SCP", help="the PACS's AE title")
        parser.add_argument("--calling-aet", default="ALPPS", help="this computer's AE title, as configured on the PACS")
        parser.add_argument("--timeout", type=float, default=pacsNetwork.DEFAULT_TIMEOUT_SECONDS,
                            help="seconds to wait for connection and each answer (default %(default)g)")

    def selection(parser):
        parser.add_argument("--patient-id", help="patient ID (DICOM wildcards * and ? allowed)")
        parser.add_argument("--patient-name", help="patient name, e.g. 'Quill^M*'")
        parser.add_argument("--from", dest="date_from", help="first study date (YYYY-MM-DD)")
        parser.add_argument("--to", dest="date_to", help="last study date (YYYY-MM-DD)")

    query = actions.add_parser("query", help="a patient's studies, by date")
    connection(query)
    selection(query)
    query.add_argument("--json", help="write the studies as JSON to this path")
    query.set_defaults(run=_commandPacsQuery)
    pull = actions.add_parser("pull", help="retrieve studies into a new folder (for alpps dicom-index and hypertrophy)")
    connection(pull)
    selection(pull)
    pull.add_argument("--study", action="append", help="StudyInstanceUID to pull (repeat); default: every study the selection finds")
    pull.add_argument("--out", required=True, help="new (or empty) folder")
    pull.add_argument("--any-modality", action="store_true", help="also pull studies without a CT or MR series")
    pull.set_defaults(run=_commandPacsPull)
    push = actions.add_parser("push", help="store every DICOM file of a folder (e.g. alpps dicom-export's) on the PACS")
    push.add_argument("folder", help="folder of DICOM files")
    connection(push)
    push.set_defaults(run=_commandPacsPush)


def _addMeasurementOptions(parser):
    parser.add_argument("--plan", default="right_trisectionectomy", help="resection plan whose remnant and resected liver are written")
    parser.add_argument("--stage1-date", help="date of ALPPS stage 1 (YYYY-MM-DD)")
    parser.add_argument("--labels", help="label maps only: '1=Segment I,2=Segment II,...' or a JSON file")
    parser.add_argument("--height", type=float, help="body height in cm (for sFLR and FLR-BWR)")
    parser.add_argument("--weight", type=float, help="body weight in kg")
    parser.add_argument("--liver-condition", default="normal", choices=("normal", "chemotherapy", "cirrhosis"))
    parser.add_argument("--bsa-formula", help="mosteller (default), dubois, haycock")
    parser.add_argument("--stlv-formula", default="vauthey", help="vauthey (default), urata, heinemann, um_mosteller, um_dubois, feng")
    parser.add_argument("--labs", dest="labs_of_day", action="append", help="laboratory values of a time point, as for 'alpps hypertrophy'")
    parser.add_argument("--stage1-liver-failure", default="unknown", choices=("unknown", "no", "yes"), help="liver failure after stage 1")
    parser.add_argument("--remnant-function-per-bsa", type=float, help="FLR-F/BSA (%%/min/m2) before stage 2")
    parser.add_argument("--role", action="append", help="correct a segment's role: 'SEGMENT=ROLE'")


def addCommands(subcommands):
    """Add dicom-export and pacs to the `alpps` subcommands."""
    export = subcommands.add_parser(
        "dicom-export", help="DICOM SEG and TID 1500 measurement report per time point, the report as Encapsulated PDF"
    )
    export.add_argument("--timepoint", action="append",
                        help="DATE:CT_DICOM_FOLDER:SEGMENTATION[:ROLE] (repeat); SEGMENTATION a .seg.nrrd, DICOM SEG or label map")
    export.add_argument("--scene", help="instead of --timepoint: a scene bundle (.mrb) with stored time points")
    export.add_argument("--dicom", help="with --scene: folder of the DICOM series the scene's scans were read from")
    export.add_argument("--out", required=True, help="new (or empty) output folder")
    export.add_argument("--anonymise", action="store_true", help="pseudonymise: new UIDs and the pseudonym in every object, CT copies included")
    export.add_argument("--pseudonym", default="Anonymised", help="name and patient ID of the pseudonymised objects")
    export.add_argument("--no-pdf", action="store_true", help="leave out the Encapsulated PDF of the report")
    _addMeasurementOptions(export)
    export.set_defaults(run=_commandDicomExport, remnant_function_of_day=None)
    _addPacsCommands(subcommands)
