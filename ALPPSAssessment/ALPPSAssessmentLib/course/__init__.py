"""The patient's course over time: time points stored in the scene (``timeline``), the hypertrophy
formulas of clinical reference section 4 (``hypertrophy``: DH, KGR, growth per day), volumes and
growth along the time points with their tables and chart (``timePointCourse``), laboratory scores
(listed in ``laboratoryScores``: units in ``laboratoryUnits``, ``meldScore``, ``albiScore``,
``icgClearance``, the liver failure flags after stage 2 in ``liverFailureCriteria``) and the
stage 2 readiness checklist (``stageTwoReadiness``)."""
