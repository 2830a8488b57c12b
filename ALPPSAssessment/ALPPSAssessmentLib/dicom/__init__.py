"""DICOM in and out: the index of patients, studies and series of a folder or of Slicer's DICOM
database (``dicomIndex``, its headers read by ALPPSVolumetryLib.inputs.dicomFolder) and the studies it
proposes as time points (``timePointProposals``); the results as DICOM objects for the hospital's
PACS: the segmentation as DICOM SEG, the measurements as a TID 1500 structured report, the
patient report as Encapsulated PDF, the whole set written by ``resultsExport``; query, pull and
push through DICOM networking (``pacsNetwork``).

highdicom and pynetdicom are not bundled with Slicer: imported lazily (optionalPackages)."""
