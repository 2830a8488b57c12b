"""ALPPSVolumetry algorithms: free of Slicer's GUI, shared by the Slicer module, the batch
command ``alpps`` and the tests. Each submodule is named for what it computes."""

# The extension's version: the one source for the Slicer modules, the batch package and reports.
__version__ = "0.1.0"
