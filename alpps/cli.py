"""The `alpps` batch command: the extension's logic without the Slicer application."""

import argparse
import json
import sys

from . import __version__


def _parseLabelMapping(text):
    """'1=Segment I,2=Segment II' or a JSON file {"1": "Segment I", ...} -> {1: 'Segment I', ...}."""
    if text is None:
        return None
    if text.lower().endswith(".json"):
        with open(text, encoding="utf-8") as stream:
            raw = json.load(stream)
    else:
        raw = dict(item.split("=", 1) for item in text.split(",") if item.strip())
    try:
        return {int(value): str(name).strip() for value, name in raw.items()}
    except ValueError:
        raise SystemExit(f"alpps: --labels '{text}' must map integer label values to names, e.g. 1=Segment I,2=Segment II")


def _commandDemo(arguments):
    from .demo import formatDemoSummary, runDemo

    document = runDemo(arguments.out)
    print(formatDemoSummary(document))
    print(f"\nWrote {', '.join(document['outputs'].values())} to {arguments.out}")
    if arguments.json:
        _writeJson(arguments.json, document)
    return 0


def _commandSegmentVolumes(arguments):
    from ALPPSVolumetryLib import segmentationIO, segmentVolumes

    from .headless import SlicerContext

    with SlicerContext() as context:
        segmentationNode = segmentationIO.loadSegmentation(
            context.scene, arguments.segmentation, _parseLabelMapping(arguments.labels)
        )
        volumes = segmentVolumes.segmentVolumes(segmentationNode)
    print(f"{'segment':<28} {'voxels':>10} {'volume (mL)':>12}")
    for volume in volumes:
        note = "  (empty)" if volume.isEmpty else ""
        print(f"{volume.name:<28} {volume.voxelCount:>10d} {volume.volumeMl:>12.2f}{note}")
    print(f"method: {segmentVolumes.VOLUME_METHOD}")
    if arguments.json:
        _writeJson(
            arguments.json,
            {
                "software": {"name": "ALPPS", "version": __version__},
                "segmentation": arguments.segmentation,
                "volumeMethod": segmentVolumes.VOLUME_METHOD,
                "volumeUnit": "mL",
                "segments": {
                    volume.name: {"voxelCount": volume.voxelCount, "volumeMl": volume.volumeMl, "empty": volume.isEmpty}
                    for volume in volumes
                },
            },
        )
    return 0


def _writeJson(path, document):
    with open(path, "w", encoding="utf-8") as stream:
        json.dump(document, stream, indent=2)
    print(f"JSON written to {path}")


def buildParser():
    parser = argparse.ArgumentParser(
        prog="alpps",
        description="ALPPS liver volumetry and assessment without the Slicer application (same logic as the Slicer extension).",
    )
    parser.add_argument("--version", action="version", version=f"alpps {__version__}")
    subcommands = parser.add_subparsers(dest="command", required=True)

    demo = subcommands.add_parser("demo", help="run every capability on the built-in synthetic patient")
    demo.add_argument("--out", required=True, help="output folder for the scene bundle (.mrb), JSON and CSV")
    demo.add_argument("--json", help="also write the JSON document to this path")
    demo.set_defaults(run=_commandDemo)

    volumes = subcommands.add_parser("segment-volumes", help="voxel volume (mL) of every segment of a segmentation")
    volumes.add_argument("--segmentation", required=True, help=".seg.nrrd, or a label map (NRRD, NIfTI, MHA)")
    volumes.add_argument("--labels", help="label map only: '1=Segment I,2=Segment II,...' or a JSON file")
    volumes.add_argument("--json", help="write the volumes as JSON to this path")
    volumes.set_defaults(run=_commandSegmentVolumes)
    return parser


def main(argv=None):
    arguments = buildParser().parse_args(argv)
    try:
        return arguments.run(arguments)
    except (ValueError, FileNotFoundError, IOError) as error:
        print(f"alpps {arguments.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
