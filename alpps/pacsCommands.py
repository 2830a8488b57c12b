"""`alpps dicom-export` and `alpps pacs query|pull|push`: ALPPS results as DICOM objects, and the
hospital's PACS reached through DICOM networking. Registered into the `alpps` parser by
``addCommands``."""

import os

from . import __version__


def _commandDicomExport(arguments):
    from ALPPSAssessmentLib import timeline
    from ALPPSAssessmentLib.dicomExport import resultsExport
    from ALPPSVolumetryLib import resectionPlans

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
            from ALPPSAssessmentLib.dicomExport import sceneSources

            context.loadSceneBundle(arguments.scene)
            points = sceneSources.timePointsOnDicomSeries(context.scene, arguments.dicom)
        else:
            points = [point for point, _ in cli._loadTimePoints(context.scene, arguments, stage1Date)]
        manifest = resultsExport.exportDicomResults(
            arguments.out, context.scene, points, plan, settings, stage1Date, arguments.stage1_liver_failure, arguments.anonymise,
            arguments.pseudonym, cli._parseRoleOverrides(arguments.role), arguments.remnant_function_per_bsa, withPdf=not arguments.no_pdf,
        )
    for note in manifest["notes"]:
        print(f"note: {note}")
    print(f"DICOM results{' (pseudonymised)' if arguments.anonymise else ''} written to {arguments.out}:")
    for item in manifest["objects"]:
        print(f"  {item['timePoint']:<14} {item['what']:<34} {item['path']}")
    return 0


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
