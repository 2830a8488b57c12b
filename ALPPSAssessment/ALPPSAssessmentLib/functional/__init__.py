"""Functional imaging of a time point: registration of a functional image to the time point's CT
(``imageRegistration``) and its overlay and display (``functionalOverlay``); 99mTc-mebrofenin:
time-activity curves (``mebrofeninCurves``, from dynamic series in ``dynamicSeries``), the uptake
rate MUR (``mebrofeninUptake``), the remnant's share of the SPECT counts FLR-C
(``remnantCountShare``), FLR-F, per BSA and its flags (``mebrofeninRemnantFunction``) and the path
from the scene (``mebrofeninWorkflow``); gadoxetate MRI indices (formulas in ``gadoxetateIndices``,
measured on the images in ``gadoxetateImages``, the time point's measurement in
``gadoxetateWorkflow``) and the synthetic functional studies and images used by the demo, the
tests and the benchmark (``functionalSimulator``). Image grids are ``ALPPSVolumetryLib.imageGrid``."""
