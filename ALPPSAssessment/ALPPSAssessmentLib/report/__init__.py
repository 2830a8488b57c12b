"""The patient report for the liver tumour board: one document built from the scene
(``patientReport``), its first page's verdict (``decisionSummary``), HTML (``reportHtml``), charts
(``reportCharts``, drawn by ``chartDrawing``), pictures (``slicePictures`` and ``threeDPicture``,
on what ``reportImages`` holds for both), the report folder with JSON and CSV (``reportExport``)
and printing inside Slicer (``reportInSlicer``)."""
