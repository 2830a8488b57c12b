"""ALPPSAssessment algorithms: free of Slicer's GUI, shared by the Slicer module, the batch
command ``alpps`` and the tests. Volumes always come from ALPPSVolumetryLib (one source)."""
