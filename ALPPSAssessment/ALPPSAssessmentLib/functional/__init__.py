"""Functional imaging of a time point: registration of a functional image to the time point's CT
(``imageRegistration``) and its overlay (``functionalOverlay``), 99mTc-mebrofenin uptake
(``mebrofeninUptake``, dynamic series in ``dynamicSeries``, the remnant's share in
``mebrofeninWorkflow``), gadoxetate MRI indices (``gadoxetateIndices``, ``gadoxetateWorkflow``)
and the synthetic functional studies used by the demo and the tests (``functionalSimulator``)."""
