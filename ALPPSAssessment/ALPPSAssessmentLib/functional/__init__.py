"""Functional imaging of a time point: registration of a functional image to the time point's CT
(``imageRegistration``) and its overlay (``functionalOverlay``), 99mTc-mebrofenin (time-activity
curves in ``mebrofeninCurves``, from dynamic series in ``dynamicSeries``; the uptake rate MUR in
``mebrofeninUptake``; the remnant's SPECT share FLR-C in ``remnantCountShare``; FLR-F, per BSA and
its flags in ``mebrofeninRemnantFunction``; the path from the scene in ``mebrofeninWorkflow``), gadoxetate MRI indices (``gadoxetateIndices``, ``gadoxetateWorkflow``)
and the synthetic functional studies used by the demo and the tests (``functionalSimulator``)."""
