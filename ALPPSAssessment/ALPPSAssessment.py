import os
import pathlib
import re
import tempfile
from typing import Annotated, Union

import qt
import slicer
from ALPPSAssessmentLib import assessmentPanel, assessmentWorkflow, loadedNodes, panelActions, selfTestScenarios
from ALPPSAssessmentLib.functional import functionalOverlay, imageRegistration
from ALPPSAssessmentLib.course import laboratoryUnits, stageTwoReadiness, timeline
from ALPPSVolumetryLib.inputs import dicomSeriesChecks
from ALPPSVolumetryLib import libraryReload, panelBinding
from ALPPSVolumetryLib.criteria import patientBody
from ALPPSVolumetryLib.planning import resectionPlans
from ALPPSVolumetryLib.markupsNodeClasses import vtkMRMLMarkupsFiducialNode
from slicer import (
    vtkMRMLLinearTransformNode,
    vtkMRMLPlotChartNode,
    vtkMRMLScalarVolumeNode,
    vtkMRMLSegmentationNode,
    vtkMRMLSequenceNode,
    vtkMRMLTableNode,
)
from slicer.i18n import tr as _
from slicer.i18n import translate
from slicer.parameterNodeWrapper import Choice, WithinRange, parameterNodeWrapper
from slicer.ScriptedLoadableModule import (
    ScriptedLoadableModule,
    ScriptedLoadableModuleLogic,
    ScriptedLoadableModuleTest,
    ScriptedLoadableModuleWidget,
)
from slicer.util import VTKObservationMixin

PatientBody = patientBody.patientBodyPack()


class ALPPSAssessment(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = _("ALPPS Assessment")
        self.parent.categories = [translate("qSlicerAbstractCoreModule", "Quantification")]
        self.parent.dependencies = ["ALPPSVolumetry"]
        self.parent.contributors = ["ALPPS extension developers"]
        self.parent.helpText = _(
            "Follows an ALPPS patient across time points (before stage 1, interstage, before stage 2, after "
            "stage 2). Each scan's segmentation is stored as a time point with its role, study date and the "
            "day's laboratory values. The remnant of the chosen plan is measured at every time point by the "
            "ALPPS Volumetry logic, with growth between scans: degree of hypertrophy (percentage points), "
            "kinetic growth rate (%/week, Shindoh), relative growth (%, %/day) and mL/day, in tables and a "
            "chart; the segmentations can be stepped through by day. Functional imaging of a time point: a SPECT "
            "or MRI registered to its CT (transform adjustable by hand) and shown as an overlay, gadoxetate MRI "
            "indices, and the mebrofenin remnant function from the dynamic series and the SPECT, stored with the "
            "time point for the stage 2 readiness checklist. "
            "See the <a href='https://github.com/alpps-slicer/SlicerALPPS#readme'>documentation</a>."
        )
        self.parent.acknowledgementText = _(
            "Developed for liver surgery planning with ALPPS. Growth definitions follow Shindoh et al., "
            "J Am Coll Surg 2013, and the ALPPS registry (Schadde et al. 2014), as cited in the README."
        )


@parameterNodeWrapper
class ALPPSAssessmentParameterNode:
    stage1Date: str = ""
    stage2Date: str = ""
    # Height, weight, formulas and liver condition: shared with the Volumetry panel's parameter node.
    body: PatientBody
    plan: Annotated[str, Choice(list(resectionPlans.PRESETS))] = "right_trisectionectomy"
    caudateInRemnant: bool = True
    allowDifferentPlans: bool = False
    stage1LiverFailure: Annotated[str, Choice(list(stageTwoReadiness.LIVER_FAILURE_ANSWERS))] = "unknown"
    # FLR-F/BSA from mebrofenin before stage 2 (%/min/m2); 0 means not measured.
    remnantFunctionPerBsa: Annotated[float, WithinRange(0.0, 20.0)] = 0.0
    # Time point editor: what is stored on the selected segmentation.
    timePointSegmentation: vtkMRMLSegmentationNode
    timePointVolume: vtkMRMLScalarVolumeNode
    timePointRole: Annotated[str, Choice(panelActions.EDITOR_ROLES)] = "pre-stage 1"
    timePointDate: str = ""
    # Laboratory values of that day; 0 means not measured.
    bilirubin: Annotated[float, WithinRange(0.0, 2000.0)] = 0.0
    bilirubinUnit: Annotated[str, Choice([""] + list(laboratoryUnits.UNITS["bilirubin"].units))] = ""
    creatinine: Annotated[float, WithinRange(0.0, 2000.0)] = 0.0
    creatinineUnit: Annotated[str, Choice([""] + list(laboratoryUnits.UNITS["creatinine"].units))] = ""
    albumin: Annotated[float, WithinRange(0.0, 100.0)] = 0.0
    albuminUnit: Annotated[str, Choice([""] + list(laboratoryUnits.UNITS["albumin"].units))] = ""
    inr: Annotated[float, WithinRange(0.0, 20.0)] = 0.0
    prothrombinTimePercent: Annotated[float, WithinRange(0.0, 200.0)] = 0.0
    sodium: Annotated[float, WithinRange(0.0, 200.0)] = 0.0
    icgPdr: Annotated[float, WithinRange(0.0, 60.0)] = 0.0
    # Two or more dialyses (or 24 h of CVVHD) in the week before: MELD counts creatinine as 4.0 mg/dL.
    dialysis: bool = False
    timePointTable: vtkMRMLTableNode
    growthTable: vtkMRMLTableNode
    readinessTable: vtkMRMLTableNode
    growthChart: vtkMRMLPlotChartNode
    # Functional imaging of the time point selected above (its scan is the CT, its segmentation the mask).
    functionalVolume: vtkMRMLScalarVolumeNode
    registrationMode: Annotated[str, Choice(list(imageRegistration.MODES))] = imageRegistration.RIGID
    registrationTransform: vtkMRMLLinearTransformNode
    overlayPreset: Annotated[str, Choice(list(functionalOverlay.OVERLAY_PRESETS))] = functionalOverlay.DEFAULT_OVERLAY_PRESET
    overlayOpacity: Annotated[float, WithinRange(0.0, 1.0)] = 0.5
    overlayMap: vtkMRMLScalarVolumeNode
    # Gadoxetate MRI.
    hbpVolume: vtkMRMLScalarVolumeNode
    preContrastVolume: vtkMRMLScalarVolumeNode
    spleenSegment: str = ""
    musclePoints: vtkMRMLMarkupsFiducialNode
    # Optional ROIs placed by the reader: spleen (used instead of the spleen segment) and liver parenchyma.
    spleenPoints: vtkMRMLMarkupsFiducialNode
    liverPoints: vtkMRMLMarkupsFiducialNode
    # Optional T1 maps (pre-contrast, hepatobiliary phase) and the unit their values are in.
    t1PreMap: vtkMRMLScalarVolumeNode
    t1HbpMap: vtkMRMLScalarVolumeNode
    t1Unit: Annotated[str, Choice(["ms", "s"])] = "ms"
    roiRadiusMm: Annotated[float, WithinRange(1.0, 50.0)] = 10.0
    gadoxetateTable: vtkMRMLTableNode
    # Mebrofenin: the dynamic series (a sequence of frames, or a volume whose slices are the frames)
    # with its regions, or a time-activity table; the SPECT. A frame duration of 0 means "from the
    # sequence index".
    dynamicSeries: Union[vtkMRMLSequenceNode, vtkMRMLScalarVolumeNode, None]  # None: the wrapper writes it as the default
    dynamicRegions: vtkMRMLSegmentationNode
    liverRegionSegment: str = ""
    bloodPoolRegionSegment: str = ""
    fieldOfViewRegionSegment: str = ""
    frameDurationSeconds: Annotated[float, WithinRange(0.0, 3600.0)] = 0.0
    firstFrameStartSeconds: Annotated[float, WithinRange(0.0, 3600.0)] = 0.0
    timeActivityTable: vtkMRMLTableNode
    spectVolume: vtkMRMLScalarVolumeNode
    voiMarginMm: Annotated[float, WithinRange(0.0, 30.0)] = 0.0
    mebrofeninTable: vtkMRMLTableNode
    timeActivityChart: vtkMRMLPlotChartNode
    # Patient report: where it is written, whether anonymised (and the name shown instead), PDF too.
    reportFolder: pathlib.Path  # Path() ('.') until the user chooses one
    reportAnonymise: bool = False
    reportPseudonym: str = "Anonymised"
    reportPdf: bool = True


# The charts are shown in the Plots layout, not in the panel.
PARAMETERS_WITHOUT_WIDGET = ("growthChart", "timeActivityChart")

# Labels showing results of the scene (cleared when it closes).
RESULT_LABELS = (
    "decisionSummaryLabel",
    "warningsLabel",
    "registrationStatusLabel",
    "overlayStatusLabel",
    "gadoxetateStatusLabel",
    "mebrofeninStatusLabel",
    "reportStatusLabel",
)


class ALPPSAssessmentWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    def __init__(self, parent=None):
        ScriptedLoadableModuleWidget.__init__(self, parent)
        VTKObservationMixin.__init__(self)
        self.logic = None
        self._parameterNode = None
        self._parameterNodeGuiTag = None

    def setup(self):
        ScriptedLoadableModuleWidget.setup(self)
        uiWidget = slicer.util.loadUI(self.resourcePath("UI/ALPPSAssessment.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)
        self.logic = ALPPSAssessmentLogic()

        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.StartCloseEvent, self.onSceneStartClose)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndCloseEvent, self.onSceneEndClose)
        self.ui.storeTimePointButton.connect("clicked(bool)", self.onStoreTimePoint)
        self.ui.removeTimePointButton.connect("clicked(bool)", self.onRemoveTimePoint)
        self.ui.updateAssessmentButton.connect("clicked(bool)", self.onUpdateAssessment)
        self.ui.timePointSegmentationSelector.connect("currentNodeChanged(vtkMRMLNode*)", self.onTimePointSegmentationChanged)
        self.ui.refreshDicomButton.connect("clicked(bool)", self.onRefreshDicomPatients)
        self.ui.dicomPatientComboBox.connect("currentIndexChanged(int)", self.onDicomPatientChanged)
        self.ui.loadStudyButton.connect("clicked(bool)", self.onLoadStudy)
        self.ui.registerButton.connect("clicked(bool)", self.onRegister)
        self.ui.openTransformsButton.connect("clicked(bool)", self.onOpenTransforms)
        self.ui.showOverlayButton.connect("clicked(bool)", self.onShowOverlay)
        self.ui.measureGadoxetateButton.connect("clicked(bool)", self.onMeasureGadoxetate)
        self.ui.storeGadoxetateButton.connect("clicked(bool)", self.onStoreGadoxetate)
        self.ui.measureMebrofeninButton.connect("clicked(bool)", self.onMeasureMebrofenin)
        self.ui.storeMebrofeninButton.connect("clicked(bool)", self.onStoreMebrofenin)
        self.ui.createReportButton.connect("clicked(bool)", self.onCreateReport)
        self.ui.exportDicomSegButton.connect("clicked(bool)", self.onExportDicomSeg)
        self._proposals = []
        self.initializeParameterNode()

    def cleanup(self):
        # Reload and application exit: the old panel's widgets must stop writing the parameter node.
        self.setParameterNode(None)
        self.removeObservers()

    def enter(self):
        self.initializeParameterNode()

    def exit(self):
        self.setParameterNode(None)

    def onSceneStartClose(self, caller, event):
        self.setParameterNode(None)
        # Results belong to the patient of the closed scene: never leave them next to another one.
        for name in RESULT_LABELS:
            getattr(self.ui, name).text = ""

    def onSceneEndClose(self, caller, event):
        if self.parent.isEntered:
            self.initializeParameterNode()

    def initializeParameterNode(self):
        self.setParameterNode(self.logic.getParameterNode())

    def setParameterNode(self, inputParameterNode):
        if self._parameterNode:
            panelBinding.disconnectPanel(self._parameterNode, self._parameterNodeGuiTag)
            self._parameterNodeGuiTag = None
        self._parameterNode = inputParameterNode
        if self._parameterNode:
            self._parameterNodeGuiTag = panelBinding.connectPanel(self._parameterNode, self.ui, qt.QLineEdit)

    def onTimePointSegmentationChanged(self, segmentationNode):
        # Show what is already stored on this scan, so that editing never starts from blank fields.
        # This slot runs before the GUI connector's: the selection goes into the parameter node
        # first, or the refresh that the editor's writes cause would put the old node back.
        if self._parameterNode and segmentationNode:
            with slicer.util.tryWithErrorDisplay(_("Failed to read the time point stored on this segmentation."), waitCursor=False):
                self._parameterNode.timePointSegmentation = segmentationNode
                panelActions.loadTimePointIntoEditor(self._parameterNode, segmentationNode)

    def onStoreTimePoint(self):
        with slicer.util.tryWithErrorDisplay(_("Failed to store the time point."), waitCursor=True):
            panelActions.storeTimePoint(self._parameterNode)

    def onRemoveTimePoint(self):
        with slicer.util.tryWithErrorDisplay(_("Failed to remove the time point."), waitCursor=False):
            if self._parameterNode.timePointSegmentation:
                timeline.clearTimePoint(self._parameterNode.timePointSegmentation)

    def onUpdateAssessment(self):
        with slicer.util.tryWithErrorDisplay(_("Failed to update the assessment."), waitCursor=True):
            outputs = panelActions.updateAssessment(self._parameterNode)
            self.ui.timePointTableView.setMRMLTableNode(self._parameterNode.timePointTable)
            self.ui.growthTableView.setMRMLTableNode(self._parameterNode.growthTable)
            self.ui.readinessTableView.setMRMLTableNode(self._parameterNode.readinessTable)
            self.ui.warningsLabel.text = assessmentPanel.assessmentMessages(outputs)
            self.ui.decisionSummaryLabel.text = assessmentPanel.decisionSummaryText(outputs)
            if self._parameterNode.growthChart:
                slicer.modules.plots.logic().ShowChartInLayout(self._parameterNode.growthChart)

    def onRefreshDicomPatients(self):
        # Slicer's DICOM database: patients by name; their studies are proposed in date order.
        database = slicer.dicomDatabase
        combo = self.ui.dicomPatientComboBox
        combo.clear()
        if not database or not database.isOpen:
            self.ui.dicomStatusLabel.text = _(assessmentPanel.DICOM_DATABASE_NOT_OPEN)
            return
        for label, patientUID in assessmentPanel.dicomPatientEntries(database):
            combo.addItem(label, patientUID)

    def onDicomPatientChanged(self, index):
        table = self.ui.dicomStudiesTableWidget
        table.setRowCount(0)
        self._proposals = []
        patientUID = self.ui.dicomPatientComboBox.itemData(index)
        if not patientUID:
            return
        with slicer.util.tryWithErrorDisplay(_("Failed to read the patient's studies."), waitCursor=True):
            dicomIndex, self._proposals = assessmentWorkflow.proposalsForDatabasePatient(slicer.dicomDatabase, patientUID)
            table.setColumnCount(4)
            table.setHorizontalHeaderLabels([_("Study date"), _("Description"), _("Series to load"), _("Notes")])
            for row, texts in enumerate(assessmentPanel.studyRows(self._proposals)):
                table.insertRow(row)
                for column, text in enumerate(texts):
                    table.setItem(row, column, qt.QTableWidgetItem(text))
            self.ui.dicomStatusLabel.text = "\n".join(dicomIndex.warnings)

    def onLoadStudy(self):
        # Slicer's own DICOM loading files the scan under its patient and study in the subject hierarchy.
        with slicer.util.tryWithErrorDisplay(_("Failed to load the study."), waitCursor=True):
            proposal = assessmentPanel.proposalToLoad(self._proposals, self.ui.dicomStudiesTableWidget.currentRow())
            from DICOMLib import DICOMUtils

            # The same slice checks as the batch loader (missing, duplicate or truncated slices,
            # uneven spacing, mixed orientation): a damaged series is refused by name, not measured.
            dicomSeriesChecks.checkedDicomSeries(list(proposal.files), _("DICOM series of the study"))
            loadedNodeIDs = DICOMUtils.loadSeriesByUID([proposal.series.seriesInstanceUID])
            volumes = loadedNodes.scalarVolumesAmong(slicer.mrmlScene, loadedNodeIDs)
            if not volumes:
                raise ValueError(_("The series could not be loaded as a volume"))
            self._parameterNode.timePointVolume = volumes[0]
            self._parameterNode.timePointSegmentation = assessmentWorkflow.createSegmentationForScan(volumes[0])
            if proposal.studyDate:
                self._parameterNode.timePointDate = proposal.studyDate.isoformat()

    def onRegister(self):
        with slicer.util.tryWithErrorDisplay(_("Failed to register the functional volume."), waitCursor=True):
            outcome = panelActions.registerFunctionalVolume(self._parameterNode)
            self.ui.registrationStatusLabel.text = outcome.summary

    def onOpenTransforms(self):
        # Manual correction in Slicer's own Transforms module, on the registration's transform.
        with slicer.util.tryWithErrorDisplay(_("Failed to open the transform."), waitCursor=False):
            transformNode = self._parameterNode.registrationTransform
            if transformNode is None:
                raise ValueError(_("No registration transform: register the functional volume first"))
            slicer.util.selectModule("Transforms")
            slicer.modules.transforms.widgetRepresentation().setEditedNode(transformNode)

    def onShowOverlay(self):
        with slicer.util.tryWithErrorDisplay(_("Failed to show the overlay."), waitCursor=True):
            outcome = panelActions.showOverlay(self._parameterNode)
            self.ui.overlayStatusLabel.text = outcome.summary

    def onMeasureGadoxetate(self):
        with slicer.util.tryWithErrorDisplay(_("Failed to measure the gadoxetate MRI."), waitCursor=True):
            outcome = panelActions.measureGadoxetate(self._parameterNode)
            self.ui.gadoxetateTableView.setMRMLTableNode(outcome.tableNode)
            self.ui.gadoxetateStatusLabel.text = outcome.summary

    def onStoreGadoxetate(self):
        with slicer.util.tryWithErrorDisplay(_("Failed to store the gadoxetate result."), waitCursor=False):
            point = panelActions.storeMeasuredFunction(self._parameterNode.gadoxetateTable, self._parameterNode)
            self.ui.gadoxetateStatusLabel.text = _("Stored with the {label} time point").format(label=point.label)

    def onMeasureMebrofenin(self):
        with slicer.util.tryWithErrorDisplay(_("Failed to measure the remnant function."), waitCursor=True):
            outcome = panelActions.measureMebrofenin(self._parameterNode)
            self.ui.mebrofeninTableView.setMRMLTableNode(outcome.tableNode)
            self.ui.mebrofeninStatusLabel.text = outcome.summary
            slicer.modules.plots.logic().ShowChartInLayout(outcome.chartNode)

    def onStoreMebrofenin(self):
        with slicer.util.tryWithErrorDisplay(_("Failed to store the remnant function."), waitCursor=False):
            point = panelActions.storeMeasuredFunction(self._parameterNode.mebrofeninTable, self._parameterNode)
            self.ui.mebrofeninStatusLabel.text = _("Stored with the {label} time point; update the assessment to see it in the checklist").format(
                label=point.label
            )

    def _viewPictures(self):
        """Pictures of the latest scan from the user's own views; None (drawn offscreen instead)
        for an anonymised report, whose views may carry the patient's name in their corners."""
        if self._parameterNode.reportAnonymise:
            return None
        points = timeline.timePointsInScene(slicer.mrmlScene)
        if not points or points[-1].volumeNode is None:
            return None
        from ALPPSAssessmentLib.report import reportInSlicer

        try:
            return reportInSlicer.captureViewPictures(points[-1].volumeNode, points[-1].segmentationNode, panelActions.planOf(self._parameterNode))
        except Exception as error:  # the offscreen pictures are as good; say why the views were not used
            slicer.util.showStatusMessage(_("Views not captured ({error}); pictures drawn offscreen").format(error=error), 5000)
            return None

    def onCreateReport(self):
        with slicer.util.tryWithErrorDisplay(_("Failed to create the report."), waitCursor=True):
            document, paths, notes = panelActions.createReport(self._parameterNode, self._viewPictures())
            lines = [_("Report written to {folder}").format(folder=os.path.dirname(paths["html"]))] + notes
            if self._parameterNode.reportPdf:
                pdfPath = os.path.splitext(paths["html"])[0] + ".pdf"
                lines.append(_("PDF {path}: {how}").format(path=pdfPath, how=htmlToPdf(paths["html"], pdfPath)))
            self.ui.reportStatusLabel.text = "\n".join(lines)
            qt.QDesktopServices.openUrl(qt.QUrl.fromLocalFile(paths["html"]))

    def onExportDicomSeg(self):
        # Slicer's own DICOM export: the SEG refers to the CT's DICOM images and joins its study.
        with slicer.util.tryWithErrorDisplay(_("Failed to export DICOM SEG."), waitCursor=True):
            from ALPPSAssessmentLib.report import reportInSlicer

            segmentationNode = self._parameterNode.timePointSegmentation
            if segmentationNode is None:
                raise ValueError(_("Select the time point's segmentation in the Time point section"))
            folder = os.path.join(panelActions.reportFolderOf(self._parameterNode), "dicom-seg")
            reportInSlicer.exportDicomSeg(segmentationNode, folder)
            self.ui.reportStatusLabel.text = _("DICOM SEG of {name} written to {folder} and added to the DICOM database").format(
                name=segmentationNode.GetName(), folder=folder)

    def onReload(self):
        libraryReload.reloadPackages("ALPPSVolumetryLib", "ALPPSAssessmentLib")
        ScriptedLoadableModuleWidget.onReload(self)


class ALPPSAssessmentLogic(ScriptedLoadableModuleLogic):
    """GUI-free: the algorithms live in ALPPSAssessmentLib and take nodes as arguments; what each
    button does with the parameter node is ALPPSAssessmentLib.panelActions."""

    def __init__(self):
        ScriptedLoadableModuleLogic.__init__(self)

    def getParameterNode(self):
        node = super().getParameterNode()
        patientBody.adoptTopLevelValues(node)
        return ALPPSAssessmentParameterNode(node)


# --- PDF of the report through Qt printing (the only Qt code of the report; Qt5 and Qt6) ---


def _a4PageLayout():
    return qt.QPageLayout(qt.QPageSize(qt.QPageSize.A4), qt.QPageLayout.Portrait, qt.QMarginsF(12, 14, 12, 16), qt.QPageLayout.Millimeter)


def _printWithWebEngine(htmlPath, pdfPath, timeoutMs):
    # Slicer's web widget renders the HTML as a browser does (SVG charts, print CSS); loading the
    # file, not setHtml, avoids Qt's 2 MB limit with embedded pictures.
    web = slicer.qSlicerWebWidget()
    outcome = {}
    loop = qt.QEventLoop()
    timer = qt.QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    web.loadFinished.connect(lambda ok: (outcome.__setitem__("loaded", ok), loop.quit()))
    web.pdfPrintingFinished.connect(lambda path, ok: (outcome.__setitem__("printed", ok), loop.quit()))
    try:
        timer.start(timeoutMs)
        web.setUrl(qt.QUrl.fromLocalFile(htmlPath).toString())
        loop.exec_()
        if not outcome.get("loaded"):
            return False
        timer.start(timeoutMs)
        web.printToPdf(pdfPath, _a4PageLayout())
        loop.exec_()
        return bool(outcome.get("printed")) and os.path.isfile(pdfPath)
    finally:
        web.deleteLater()


def _printWithTextDocument(htmlPath, pdfPath):
    # Without Qt WebEngine: Qt's rich-text printer (tables and pictures; the SVG charts stay in the HTML).
    # Screen resolution: CSS pixel sizes (pictures, fonts) print as in the browser, not 1200 dpi tiny.
    printer = qt.QPrinter(qt.QPrinter.ScreenResolution)
    printer.setOutputFormat(qt.QPrinter.PdfFormat)
    printer.setOutputFileName(pdfPath)
    printer.setPageLayout(_a4PageLayout())
    with open(htmlPath, encoding="utf-8") as stream:
        html = stream.read()
    # Qt's rich text cannot draw SVG: say where the charts are instead of printing their text.
    html = re.sub(r"<svg\b.*?</svg>", "<p><i>(chart: see the HTML report)</i></p>", html, flags=re.S)
    document = qt.QTextDocument()
    document.setHtml(html)
    # Lay the text out on the printable width of A4 (the default layout width is narrower).
    document.setPageSize(qt.QSizeF(printer.pageLayout().paintRectPixels(printer.resolution()).size()))
    document.print_(printer)  # PythonQt maps print_ to print on Qt5 and Qt6
    return os.path.isfile(pdfPath)


def htmlToPdf(htmlPath, pdfPath, timeoutMs=60000):
    """Print the report to an A4 PDF; returns which printer was used, raises when none could."""
    if hasattr(slicer, "qSlicerWebWidget"):
        try:
            if _printWithWebEngine(htmlPath, pdfPath, timeoutMs):
                return _("printed as in a browser (Qt WebEngine)")
        except Exception as error:  # a Slicer built without WebEngine must not cost the user the PDF
            print(f"ALPPS report: Qt WebEngine printing failed ({error}); using Qt's text document printer")
    if _printWithTextDocument(htmlPath, pdfPath):
        return _("printed by Qt's text document printer (charts only in the HTML)")
    raise RuntimeError(f"The PDF '{pdfPath}' could not be printed from '{htmlPath}'")


class ALPPSAssessmentTest(ScriptedLoadableModuleTest):
    """Runs ALPPSAssessmentLib.selfTestScenarios, the same scenarios pytest runs on slicer-core."""

    def setUp(self):
        slicer.mrmlScene.Clear()

    def _runScenario(self, scenario):
        self.delayDisplay(scenario.__doc__.split("\n")[0])
        with tempfile.TemporaryDirectory() as temporaryDirectory:
            scenario(slicer.mrmlScene, temporaryDirectory)

    def runTest(self):
        for scenario in selfTestScenarios.SCENARIOS:
            self.setUp()
            self._runScenario(scenario)

    def test_hypertrophyFollowsSyntheticGrowth(self):
        self._runScenario(selfTestScenarios.hypertrophyFollowsSyntheticGrowth)

    def test_workedExampleOfTheReference(self):
        self._runScenario(selfTestScenarios.workedExampleOfTheReference)

    def test_impossibleTimelinesAreRefusedByName(self):
        self._runScenario(selfTestScenarios.impossibleTimelinesAreRefusedByName)

    def test_functionalImagingOfATimePoint(self):
        self._runScenario(selfTestScenarios.functionalImagingOfATimePoint)
