import importlib
import sys
import tempfile
from typing import Annotated

import qt
import slicer
from ALPPSAssessmentLib import (
    assessmentWorkflow,
    laboratoryScores,
    selfTestScenarios,
    stageTwoReadiness,
    timeline,
)
from ALPPSVolumetryLib import adequacy, bodySize, resectionPlans
from slicer import (
    vtkMRMLPlotChartNode,
    vtkMRMLScalarVolumeNode,
    vtkMRMLSegmentationNode,
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

_LIB_MODULES = (
    "ALPPSAssessmentLib.timeline",
    "ALPPSAssessmentLib.dicomIndex",
    "ALPPSAssessmentLib.growthMetrics",
    "ALPPSAssessmentLib.hypertrophy",
    "ALPPSAssessmentLib.laboratoryScores",
    "ALPPSAssessmentLib.stageTwoReadiness",
    "ALPPSAssessmentLib.assessmentWorkflow",
    "ALPPSAssessmentLib.selfTestScenarios",
)

# Roles offered in the time point editor (more interstage scans can be typed in the batch tool).
EDITOR_ROLES = ["pre-stage 1", "interstage", "interstage 2", "interstage 3", "pre-stage 2", "after stage 2"]

# Laboratory value field -> (its unit field or None).
LAB_PARAMETERS = {
    "bilirubin": "bilirubinUnit",
    "creatinine": "creatinineUnit",
    "albumin": "albuminUnit",
    "inr": None,
    "prothrombinTimePercent": None,
    "sodium": None,
    "icgPdr": None,
}


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
            "chart; the segmentations can be stepped through by day. "
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
    heightCm: Annotated[float, WithinRange(0.0, 300.0)] = 0.0
    weightKg: Annotated[float, WithinRange(0.0, 500.0)] = 0.0
    bsaFormula: Annotated[str, Choice(list(bodySize.BSA_FORMULAS))] = bodySize.DEFAULT_BSA_FORMULA
    stlvFormula: Annotated[str, Choice(list(bodySize.STLV_FORMULAS))] = bodySize.DEFAULT_STLV_FORMULA
    liverCondition: Annotated[str, Choice(list(adequacy.LIVER_CONDITIONS))] = "normal"
    plan: Annotated[str, Choice(list(resectionPlans.PRESETS))] = "right_trisectionectomy"
    caudateInRemnant: bool = True
    allowDifferentPlans: bool = False
    stage1LiverFailure: Annotated[str, Choice(list(stageTwoReadiness.LIVER_FAILURE_ANSWERS))] = "unknown"
    # FLR-F/BSA from mebrofenin before stage 2 (%/min/m2); 0 means not measured.
    remnantFunctionPerBsa: Annotated[float, WithinRange(0.0, 20.0)] = 0.0
    # Time point editor: what is stored on the selected segmentation.
    timePointSegmentation: vtkMRMLSegmentationNode
    timePointVolume: vtkMRMLScalarVolumeNode
    timePointRole: Annotated[str, Choice(EDITOR_ROLES)] = "pre-stage 1"
    timePointDate: str = ""
    # Laboratory values of that day; 0 means not measured.
    bilirubin: Annotated[float, WithinRange(0.0, 2000.0)] = 0.0
    bilirubinUnit: Annotated[str, Choice(list(laboratoryScores.UNITS["bilirubin"].units))] = "umol/L"
    creatinine: Annotated[float, WithinRange(0.0, 2000.0)] = 0.0
    creatinineUnit: Annotated[str, Choice(list(laboratoryScores.UNITS["creatinine"].units))] = "mg/dL"
    albumin: Annotated[float, WithinRange(0.0, 100.0)] = 0.0
    albuminUnit: Annotated[str, Choice(list(laboratoryScores.UNITS["albumin"].units))] = "g/L"
    inr: Annotated[float, WithinRange(0.0, 20.0)] = 0.0
    prothrombinTimePercent: Annotated[float, WithinRange(0.0, 200.0)] = 0.0
    sodium: Annotated[float, WithinRange(0.0, 200.0)] = 0.0
    icgPdr: Annotated[float, WithinRange(0.0, 60.0)] = 0.0
    timePointTable: vtkMRMLTableNode
    growthTable: vtkMRMLTableNode
    readinessTable: vtkMRMLTableNode
    growthChart: vtkMRMLPlotChartNode


# The chart is shown in the Plots layout, not in the panel.
PARAMETERS_WITHOUT_WIDGET = ("growthChart",)


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
        self._proposals = []
        self.initializeParameterNode()

    def cleanup(self):
        self.removeObservers()

    def enter(self):
        self.initializeParameterNode()

    def exit(self):
        self.setParameterNode(None)

    def onSceneStartClose(self, caller, event):
        self.setParameterNode(None)

    def onSceneEndClose(self, caller, event):
        if self.parent.isEntered:
            self.initializeParameterNode()

    def initializeParameterNode(self):
        self.setParameterNode(self.logic.getParameterNode())

    def setParameterNode(self, inputParameterNode):
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
        self._parameterNode = inputParameterNode
        if self._parameterNode:
            self._parameterNodeGuiTag = self._parameterNode.connectGui(self.ui)

    def onTimePointSegmentationChanged(self, segmentationNode):
        # Show what is already stored on this scan, so that editing never starts from blank fields.
        if self._parameterNode and segmentationNode:
            self.logic.loadTimePointIntoEditor(self._parameterNode, segmentationNode)

    def onStoreTimePoint(self):
        with slicer.util.tryWithErrorDisplay(_("Failed to store the time point."), waitCursor=True):
            self.logic.storeTimePoint(self._parameterNode)

    def onRemoveTimePoint(self):
        with slicer.util.tryWithErrorDisplay(_("Failed to remove the time point."), waitCursor=False):
            if self._parameterNode.timePointSegmentation:
                timeline.clearTimePoint(self._parameterNode.timePointSegmentation)

    def onUpdateAssessment(self):
        with slicer.util.tryWithErrorDisplay(_("Failed to update the assessment."), waitCursor=True):
            outputs = self.logic.updateAssessment(self._parameterNode)
            self.ui.timePointTableView.setMRMLTableNode(self._parameterNode.timePointTable)
            self.ui.growthTableView.setMRMLTableNode(self._parameterNode.growthTable)
            self.ui.readinessTableView.setMRMLTableNode(self._parameterNode.readinessTable)
            flags = [f"{flag.label}: {flag.state}" for flag in outputs.afterStage2Flags]
            self.ui.warningsLabel.text = "\n".join(outputs.result.warnings + flags)
            if self._parameterNode.growthChart:
                slicer.modules.plots.logic().ShowChartInLayout(self._parameterNode.growthChart)

    def onRefreshDicomPatients(self):
        # Slicer's DICOM database: patients by name; their studies are proposed in date order.
        database = slicer.dicomDatabase
        combo = self.ui.dicomPatientComboBox
        combo.clear()
        if not database or not database.isOpen:
            self.ui.dicomStatusLabel.text = _("The DICOM database is not open: import the studies in the DICOM module first")
            return
        for patientUID in database.patients():
            files = [f for study in database.studiesForPatient(patientUID) for s in database.seriesForStudy(study) for f in database.filesForSeries(s)[:1]]
            name = database.fileValue(files[0], "0010,0010") if files else patientUID
            combo.addItem(f"{name} ({database.fileValue(files[0], '0010,0020') if files else ''})", patientUID)

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
            for row, proposal in enumerate(self._proposals):
                table.insertRow(row)
                series = proposal.series.seriesDescription if proposal.series else _("none")
                date = proposal.studyDate.isoformat() if proposal.studyDate else _("no StudyDate")
                for column, text in enumerate((date, proposal.studyDescription, series, "; ".join([proposal.reason] + proposal.warnings))):
                    table.setItem(row, column, qt.QTableWidgetItem(text))
            self.ui.dicomStatusLabel.text = "\n".join(dicomIndex.warnings)

    def onLoadStudy(self):
        # Slicer's own DICOM loading files the scan under its patient and study in the subject hierarchy.
        with slicer.util.tryWithErrorDisplay(_("Failed to load the study."), waitCursor=True):
            row = self.ui.dicomStudiesTableWidget.currentRow()
            if row < 0 or row >= len(self._proposals) or self._proposals[row].series is None:
                raise ValueError(_("Select a study with a CT or MR series to load"))
            proposal = self._proposals[row]
            from DICOMLib import DICOMUtils

            loadedNodeIDs = DICOMUtils.loadSeriesByUID([proposal.series.seriesInstanceUID])
            volumes = [slicer.mrmlScene.GetNodeByID(i) for i in loadedNodeIDs if slicer.mrmlScene.GetNodeByID(i).IsA("vtkMRMLScalarVolumeNode")]
            if not volumes:
                raise ValueError(_("The series could not be loaded as a volume"))
            self._parameterNode.timePointVolume = volumes[0]
            self._parameterNode.timePointSegmentation = assessmentWorkflow.createSegmentationForScan(volumes[0])
            if proposal.studyDate:
                self._parameterNode.timePointDate = proposal.studyDate.isoformat()

    def onReload(self):
        for name in _LIB_MODULES:
            if name in sys.modules:
                importlib.reload(sys.modules[name])
        ScriptedLoadableModuleWidget.onReload(self)


class ALPPSAssessmentLogic(ScriptedLoadableModuleLogic):
    """GUI-free: the algorithms live in ALPPSAssessmentLib and take nodes as arguments."""

    def __init__(self):
        ScriptedLoadableModuleLogic.__init__(self)

    def getParameterNode(self):
        return ALPPSAssessmentParameterNode(super().getParameterNode())

    @staticmethod
    def _labsOf(parameterNode):
        return assessmentWorkflow.labsFromValues(
            {
                name: (getattr(parameterNode, name), getattr(parameterNode, unitField) if unitField else laboratoryScores.UNITS[name].canonicalUnit)
                for name, unitField in LAB_PARAMETERS.items()
            }
        )

    def storeTimePoint(self, parameterNode):
        """Store the editor's role, date and laboratory values on the selected segmentation."""
        return assessmentWorkflow.storeTimePointFromValues(
            parameterNode.timePointSegmentation,
            parameterNode.timePointVolume,
            parameterNode.timePointRole,
            parameterNode.timePointDate,
            self._labsOf(parameterNode),
        )

    def loadTimePointIntoEditor(self, parameterNode, segmentationNode):
        point = timeline.timePointOfNode(segmentationNode)
        if point is None:
            return
        parameterNode.timePointRole = point.role if point.role in EDITOR_ROLES else EDITOR_ROLES[1]
        parameterNode.timePointDate = point.studyDate.isoformat()
        parameterNode.timePointVolume = point.volumeNode
        for name, unitField in LAB_PARAMETERS.items():
            value, unit = point.labs.get(name, (0.0, None))
            setattr(parameterNode, name, float(value))
            if unitField and unit:
                setattr(parameterNode, unitField, unit)

    def updateAssessment(self, parameterNode):
        """Measure every stored time point into the tables and the growth chart; returns the result."""
        outputs = assessmentWorkflow.updateAssessment(
            parameterNode.parameterNode.GetScene(),
            parameterNode.plan,
            parameterNode.caudateInRemnant,
            assessmentWorkflow.settingsFromPanel(parameterNode),
            parameterNode.stage1Date,
            parameterNode.allowDifferentPlans,
            None,
            parameterNode.timePointTable,
            parameterNode.growthTable,
            parameterNode.readinessTable,
            parameterNode.stage1LiverFailure,
            parameterNode.stage2Date,
            parameterNode.remnantFunctionPerBsa or None,
        )
        parameterNode.timePointTable = outputs.timePointTable
        parameterNode.growthTable = outputs.growthTable
        parameterNode.readinessTable = outputs.readinessTable
        parameterNode.growthChart = outputs.chart
        return outputs


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
