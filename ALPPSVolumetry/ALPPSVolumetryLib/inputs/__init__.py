"""Input refused before it is measured, with one line naming the input and what was expected:
image and segmentation files (``imageFileChecks``, ``segmentationFileChecks``), the one DICOM
folder reader (``dicomFolder``), DICOM series and their checks (``dicomSeries``,
``dicomSeriesChecks``), uneven slice spacing (``unevenSlices``), scene bundles (``sceneBundles``),
panel values (``inputChecks``) and the patient's identity across inputs (``patientIdentity``)."""
