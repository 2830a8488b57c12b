"""Headless side of the ALPPS Slicer extension: the Slicer-like runtime on slicer-core, the
batch command ``alpps`` and the demo. The algorithms themselves live in the modules' Lib
packages (ALPPSVolumetryLib, ALPPSAssessmentLib), which Slicer loads as they are."""

from ALPPSVolumetryLib import __version__  # noqa: F401
