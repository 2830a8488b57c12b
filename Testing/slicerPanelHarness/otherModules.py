"""Stand-ins for the parts of other Slicer modules the ALPPS panels call, from their documented
Python API (Slicer script repository, ctkDICOMDatabase and DICOMUtils documentation):

- DicomDatabase: ctkDICOMDatabase's read calls over files on disk (isOpen, patients,
  studiesForPatient, seriesForStudy, filesForSeries, fileValue "gggg,eeee", fileForInstance);
- loadSeriesByUID: DICOMUtils.loadSeriesByUID, returning the IDs of every node added while loading
  (here: the volume, read with ALPPS's own loader, and a node a loader added then removed, as
  Slicer's DICOM plugins may);
- the Transforms and Segment Editor module panels: they record the node they are given;
- qSlicerWebWidget: the members the report's PDF code uses, as declared in
  Base/QTGUI/qSlicerWebWidget.h (v5.8.1 and v5.12.3): slot setUrl(QString), slot
  printToPdf(QString, QPageLayout), signals loadFinished(bool) and pdfPrintingFinished(QString,
  bool), emitted later from the event loop as a web page does. It draws no HTML (that is
  Chromium's part): its PDF is an empty page of the layout asked for. ``behaviour`` (a class
  attribute tests may change): "prints", "fails to load" or "never answers".
"""

import collections
import os

import pydicom
from PySide6 import QtCore, QtGui


class qSlicerWebWidget(QtCore.QObject):
    behaviour = "prints"
    loadFinished = QtCore.Signal(bool)
    pdfPrintingFinished = QtCore.Signal(str, bool)

    def setUrl(self, url):
        self.url = url
        if self.behaviour != "never answers":
            QtCore.QTimer.singleShot(0, lambda: self.loadFinished.emit(self.behaviour == "prints"))

    def printToPdf(self, filePath, pageLayout):
        writer = QtGui.QPdfWriter(filePath)
        writer.setPageLayout(pageLayout)
        QtGui.QPainter(writer).end()
        QtCore.QTimer.singleShot(0, lambda: self.pdfPrintingFinished.emit(filePath, True))


class DicomDatabase:
    def __init__(self, files):
        self.isOpen = True
        self._headers = {path: pydicom.dcmread(path, stop_before_pixels=True) for path in files}
        self._tree = collections.defaultdict(lambda: collections.defaultdict(lambda: collections.defaultdict(list)))
        for path, header in sorted(self._headers.items()):
            self._tree[header.PatientID][header.StudyInstanceUID][header.SeriesInstanceUID].append(path)

    def patients(self):
        return list(self._tree)

    def studiesForPatient(self, patientUID):
        return list(self._tree.get(patientUID, {}))

    def seriesForStudy(self, studyUID):
        return [series for studies in self._tree.values() for study, seriesMap in studies.items() if study == studyUID for series in seriesMap]

    def filesForSeries(self, seriesUID):
        return [path for studies in self._tree.values() for seriesMap in studies.values() for series, files in seriesMap.items()
                if series == seriesUID for path in files]

    def fileValue(self, path, tag):
        group, element = (int(part, 16) for part in tag.split(","))
        value = self._headers[path].get((group, element))
        return "" if value is None else str(value.value)

    def fileForInstance(self, instanceUID):
        return next((path for path, header in self._headers.items() if header.SOPInstanceUID == instanceUID), "")


def loadSeriesByUIDFrom(database, scene):
    from ALPPSVolumetryLib.segments import segmentationIO

    def loadSeriesByUID(seriesUIDs):
        loaded = []
        for seriesUID in seriesUIDs:
            files = database.filesForSeries(seriesUID)
            transient = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "loader temporary")
            loaded.append(transient.GetID())
            volumeNode = segmentationIO.loadVolume(scene, os.path.dirname(files[0]))
            scene.RemoveNode(transient)
            loaded.append(volumeNode.GetID())
        return loaded

    return loadSeriesByUID


class TransformsPanel:
    def __init__(self):
        self.editedNode = None

    def setEditedNode(self, node):
        self.editedNode = node


class SegmentEditorPanel:
    class _Editor:
        def __init__(self):
            self.segmentationNode = self.sourceVolumeNode = None

        def setSegmentationNode(self, node):
            self.segmentationNode = node

        def setSourceVolumeNode(self, node):
            self.sourceVolumeNode = node

    def __init__(self):
        self.editor = self._Editor()

    def self(self):
        return self


class ModuleWithPanel:
    """slicer.modules.<name> of another module: its widget representation."""

    def __init__(self, panel):
        self._panel = panel

    def widgetRepresentation(self):
        return self._panel
