"""Functional imaging of a time point: registration of a functional image to the time point's CT
(``imageRegistration``) and its overlay (``functionalOverlay``); 99mTc-mebrofenin: time-activity
curves (``mebrofeninCurves``, from dynamic series in ``dynamicSeries``), the uptake rate MUR
(``mebrofeninUptake``), the remnant's share of the SPECT counts FLR-C (``remnantCountShare``),
FLR-F, per BSA and its flags (``mebrofeninRemnantFunction``) and the path from the scene
(``mebrofeninWorkflow``); gadoxetate MRI indices (``gadoxetateIndices``, ``gadoxetateWorkflow``)
and the synthetic functional studies used by the demo and the tests (``functionalSimulator``)."""
