"""The parts of the report that need the Slicer application (its views and DICOM database):
pictures captured from the user's own views, and DICOM SEG export through Slicer's DICOM plugin.
Imported only inside Slicer; the PDF (Qt printing) is in the module file, the only place that may
use Qt; everything else about the report lives in patientReport, reportHtml and reportExport,
shared with the batch command.
"""

import os

import slicer
import vtk


def _viewPng(view):
    """PNG bytes of what a slice or 3D view shows (rendered first, so it is current)."""
    from vtk.util import numpy_support

    view.forceRender()
    grabber = vtk.vtkWindowToImageFilter()
    grabber.SetInput(view.renderWindow())
    grabber.ReadFrontBufferOff()
    grabber.Update()
    writer = vtk.vtkPNGWriter()
    writer.SetWriteToMemory(True)
    writer.SetInputData(grabber.GetOutput())
    writer.Write()
    return numpy_support.vtk_to_numpy(writer.GetResult()).tobytes()


def captureViewPictures(volumeNode, segmentationNode, plan, centreRAS=None):
    """Axial (Red), coronal (Green) and 3D pictures from Slicer's views, with the time point's
    scan and segmentation shown as the user sees them; returns [{"title", "caption", "png"}]."""
    layoutManager = slicer.app.layoutManager()
    layoutManager.setLayout(slicer.vtkMRMLLayoutNode.SlicerLayoutFourUpView)
    slicer.util.setSliceViewerLayers(background=volumeNode, fit=True)
    segmentationNode.CreateClosedSurfaceRepresentation()
    slicer.app.processEvents()
    pictures = []
    for viewName, orientation in (("Red", "Axial"), ("Green", "Coronal")):
        sliceWidget = layoutManager.sliceWidget(viewName)
        sliceWidget.mrmlSliceNode().SetOrientation(orientation)
        sliceWidget.sliceLogic().FitSliceToAll()
        if centreRAS is not None:
            sliceWidget.mrmlSliceNode().JumpSliceByCentering(*centreRAS)
        offset = sliceWidget.sliceLogic().GetSliceOffset()
        pictures.append({
            "title": f"{orientation} slice ({viewName} view)",
            "caption": f"{volumeNode.GetName()}, {orientation.lower()} at {offset:.1f} mm, segments of "
                       f"{segmentationNode.GetName()} as displayed; plan {plan.label} (remnant: {', '.join(plan.remnantSegments)}).",
            "png": _viewPng(sliceWidget.sliceView()),
        })
    threeDView = layoutManager.threeDWidget(0).threeDView()
    threeDView.rotateToViewAxis(3)  # anterior: the patient faces the reader
    threeDView.resetFocalPoint()
    threeDView.resetCamera()
    pictures.append({
        "title": "3D view: remnant versus resected liver",
        "caption": f"Anterior view of {segmentationNode.GetName()} as displayed in Slicer (plan {plan.label}).",
        "png": _viewPng(threeDView),
    })
    return pictures


def exportDicomSeg(segmentationNode, outputFolder, seriesDescription="ALPPS Couinaud segments"):
    """DICOM SEG of a segmentation through Slicer's own DICOM export (the DICOMSegmentationPlugin
    of Slicer 5.12+, or of the QuantitativeReporting extension before). Returns the folder;
    raises ValueError saying what is missing."""
    plugins = getattr(slicer.modules, "dicomPlugins", {})
    if "DICOMSegmentationPlugin" not in plugins:
        raise ValueError("DICOM SEG export needs Slicer 5.12 or later, or the QuantitativeReporting extension (Extensions Manager)")
    database = slicer.dicomDatabase
    if database is None or not database.isOpen:
        raise ValueError("Slicer's DICOM database is not open: open the DICOM module once")
    referenceVolume = segmentationNode.GetNodeReference(segmentationNode.GetReferenceImageGeometryReferenceRole())
    if referenceVolume is None:
        raise ValueError(f"Segmentation '{segmentationNode.GetName()}' has no reference volume: DICOM SEG needs the CT it was drawn on")
    instanceUids = (referenceVolume.GetAttribute("DICOM.instanceUIDs") or "").split()
    if not instanceUids or not all(database.fileForInstance(uid) for uid in instanceUids):
        raise ValueError(f"Scan '{referenceVolume.GetName()}' was not loaded from the DICOM database: DICOM SEG refers to the "
                         "DICOM images, so load the study through the DICOM module first")
    import DICOMSegmentationPlugin

    # The exporter's empty-segment test reads the binary labelmap (absent for a surface import).
    segmentationNode.CreateBinaryLabelmapRepresentation()
    exporterClass = DICOMSegmentationPlugin.DICOMSegmentationExporter
    segmentIds = exporterClass.getSegmentIDs(segmentationNode)
    exporter = exporterClass(segmentationNode)  # makes a temporary folder: cleaned up below
    try:
        nonEmpty = exporter.getNonEmptySegmentIDs(segmentIds)
    finally:
        exporter.cleanup()
    if len(nonEmpty) != len(segmentIds):
        empty = [segmentationNode.GetSegmentation().GetSegment(segmentId).GetName() for segmentId in segmentIds if segmentId not in nonEmpty]
        raise ValueError(f"Segmentation '{segmentationNode.GetName()}' has empty segments ({', '.join(empty)}): remove them before DICOM export")
    shNode = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(segmentationNode.GetScene())
    segmentationItem = shNode.GetItemByDataNode(segmentationNode)
    shNode.SetItemParent(segmentationItem, shNode.GetItemParent(shNode.GetItemByDataNode(referenceVolume)))
    plugin = plugins["DICOMSegmentationPlugin"]()
    exportables = plugin.examineForExport(segmentationItem)
    if not exportables:
        raise ValueError(f"Slicer's DICOM plugin offers no DICOM SEG export for '{segmentationNode.GetName()}'")
    os.makedirs(outputFolder, exist_ok=True)
    for exportable in exportables:
        exportable.directory = outputFolder
        exportable.setTag("SeriesDescription", seriesDescription)
    error = plugin.export(exportables)
    if error:
        raise ValueError(f"DICOM SEG export of '{segmentationNode.GetName()}' failed: {error}")
    return outputFolder
