import tempfile
from typing import Annotated, Union

import qt
import slicer
import vtk
from ALPPSVolumetryLib import (
    libraryReload,
    panelBinding,
    selfTestScenarios,
    totalSegmentatorRun,
    volumetryPanel,
    volumetryWorkflow,
)
from ALPPSVolumetryLib.criteria import patientBody
from ALPPSVolumetryLib.planning import planDisplay
from ALPPSVolumetryLib.results import resultsTable
from ALPPSVolumetryLib.segments import segmentRecognition
from ALPPSVolumetryLib.markupsNodeClasses import vtkMRMLMarkupsFiducialNode, vtkMRMLMarkupsPlaneNode
from slicer import (
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

# Parameter-node field of each preset's check box.
PLAN_FIELDS = {
    "planRightHepatectomy": "right_hepatectomy",
    "planRightTrisectionectomy": "right_trisectionectomy",
    "planLeftHepatectomy": "left_hepatectomy",
    "planLeftTrisectionectomy": "left_trisectionectomy",
    "planLeftLateralSectionectomy": "left_lateral_sectionectomy",
    "planRightPosteriorSectionectomy": "right_posterior_sectionectomy",
    "planRightAnteriorSectionectomy": "right_anterior_sectionectomy",
    "planCentralHepatectomy": "central_hepatectomy",
}

# Bound by hand, not by connectGui: the plans to show are the ones last computed.
PARAMETERS_WITHOUT_WIDGET = ("planToShow",)

# Labels showing results of the scene (cleared when it closes).
RESULT_LABELS = ("warningsLabel",)

PatientBody = patientBody.patientBodyPack()


class ALPPSVolumetry(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = _("ALPPS Volumetry")
        self.parent.categories = [translate("qSlicerAbstractCoreModule", "Quantification")]
        self.parent.dependencies = ["Segmentations"]
        self.parent.contributors = ["ALPPS extension developers"]
        self.parent.helpText = _(
            "Couinaud segment volumetry for ALPPS planning: voxel-based volume (mL) of every Couinaud segment "
            "of a segmentation made in the Segment Editor or by TotalSegmentator, tumour volume inside each, "
            "and for each resection plan the future liver remnant (FLR): %FLR measured and functional, "
            "standardised FLR (sFLR, Vauthey 2002 by default), FLR-to-body-weight ratio and FLR/BSA, with "
            "adequacy flags for the liver condition (thresholds configurable, sources shown). "
            "A parenchyma-sparing alternative (each tumour with a 1 or 10 mm margin, distances to the major "
            "veins with contacts flagged) is compared with the major plans. "
            "Results are tables saved with the scene; flags are decision support. "
            "See the <a href='https://github.com/alpps-slicer/SlicerALPPS#readme'>documentation</a>."
        )
        self.parent.acknowledgementText = _(
            "Developed for liver surgery planning with ALPPS (Associating Liver Partition and Portal vein "
            "ligation for Staged hepatectomy). Built on 3D Slicer's Segmentations module. Formulas and "
            "thresholds are cited in the module's reports and in the extension README."
        )


@parameterNodeWrapper
class ALPPSVolumetryParameterNode:
    sourceVolume: vtkMRMLScalarVolumeNode
    segmentation: vtkMRMLSegmentationNode
    segmentVolumeTable: vtkMRMLTableNode
    couinaudTable: vtkMRMLTableNode
    planTable: vtkMRMLTableNode
    # Height, weight, formulas and liver condition: shared with the Assessment panel's parameter node.
    body: PatientBody
    # Threshold overrides; 0 keeps the published default of the liver condition.
    sflrThresholdPercent: Annotated[float, WithinRange(0.0, 100.0)] = 0.0
    flrBwrThresholdPercent: Annotated[float, WithinRange(0.0, 10.0)] = 0.0
    thresholdSource: str = ""
    planRightHepatectomy: bool = True
    planRightTrisectionectomy: bool = True
    planLeftHepatectomy: bool = False
    planLeftTrisectionectomy: bool = False
    planLeftLateralSectionectomy: bool = False
    planRightPosteriorSectionectomy: bool = False
    planRightAnteriorSectionectomy: bool = False
    planCentralHepatectomy: bool = False
    caudateInRemnant: bool = True
    customPlan: str = ""
    planToShow: str = ""
    # Segments from landmarks, when only a whole-liver segment exists.
    landmarks: vtkMRMLMarkupsFiducialNode
    # Virtual transection: a plane, or points along a curved cut, and a point in the remnant.
    transection: Union[vtkMRMLMarkupsPlaneNode, vtkMRMLMarkupsFiducialNode, None]  # None: the wrapper writes it as the default
    remnantPoint: vtkMRMLMarkupsFiducialNode
    transectionTable: vtkMRMLTableNode
    # Parenchyma-sparing alternative: margin around each tumour, vessel contact distance.
    sparingMarginMm: Annotated[float, Choice([1.0, 10.0])] = 1.0
    contactDistanceMm: Annotated[float, WithinRange(0.1, 5.0)] = 1.0
    tumourTable: vtkMRMLTableNode
    sparingPlanTable: vtkMRMLTableNode


class ALPPSVolumetryWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    def __init__(self, parent=None):
        ScriptedLoadableModuleWidget.__init__(self, parent)
        VTKObservationMixin.__init__(self)
        self.logic = None
        self._parameterNode = None
        self._parameterNodeGuiTag = None
        self._followedSegmentation = None

    def setup(self):
        ScriptedLoadableModuleWidget.setup(self)
        uiWidget = slicer.util.loadUI(self.resourcePath("UI/ALPPSVolumetry.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)
        self.logic = ALPPSVolumetryLogic()

        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.StartCloseEvent, self.onSceneStartClose)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndCloseEvent, self.onSceneEndClose)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndImportEvent, self.onSceneEndImport)
        self.ui.computeVolumesButton.connect("clicked(bool)", self.onComputeVolumes)
        self.ui.openSegmentEditorButton.connect("clicked(bool)", self.onOpenSegmentEditor)
        self.ui.totalSegmentatorButton.connect("clicked(bool)", self.onTotalSegmentator)
        self.ui.showPlanButton.connect("clicked(bool)", self.onShowPlan)
        self.ui.segmentsFromLandmarksButton.connect("clicked(bool)", self.onSegmentsFromLandmarks)
        self.ui.transectionButton.connect("clicked(bool)", self.onTransection)
        self.ui.sparingButton.connect("clicked(bool)", self.onParenchymaSparing)
        self.ui.segmentationSelector.connect("currentNodeChanged(vtkMRMLNode*)", self._updateSegmentRoleTable)
        self.ui.segmentRolesTableWidget.connect("cellChanged(int,int)", self.onSegmentRoleEdited)
        self.ui.planToShowComboBox.connect("currentTextChanged(QString)", self.onPlanToShowChanged)
        hasTotalSegmentator = hasattr(slicer.modules, "totalsegmentator")
        self.ui.totalSegmentatorButton.visible = hasTotalSegmentator
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

    def onSceneEndImport(self, caller, event):
        # A loaded scene's node references are resolved only now: offer its computed plans.
        if self._parameterNode:
            self._onParameterNodeModified()

    def initializeParameterNode(self):
        self.setParameterNode(self.logic.getParameterNode())
        proposedScan, proposedSegmentation = volumetryPanel.proposedInputs(slicer.mrmlScene)
        if not self._parameterNode.sourceVolume:
            self._parameterNode.sourceVolume = proposedScan
        if not self._parameterNode.segmentation:
            self._parameterNode.segmentation = proposedSegmentation

    def setParameterNode(self, inputParameterNode):
        if self._parameterNode:
            panelBinding.disconnectPanel(self._parameterNode, self._parameterNodeGuiTag)
            self._parameterNodeGuiTag = None
            self.removeObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._onParameterNodeModified)
        self._parameterNode = inputParameterNode
        # The corrections stored with the parameter node are those of its segmentation.
        self._followedSegmentation = self._parameterNode.segmentation if self._parameterNode else None
        if not self._parameterNode:
            self._offerPlansToShow([])
        if self._parameterNode:
            self._parameterNodeGuiTag = panelBinding.connectPanel(self._parameterNode, self.ui, qt.QLineEdit)
            self.addObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._onParameterNodeModified)
            self._offerPlansToShow(volumetryPanel.planKeysOfTable(self._parameterNode.planTable))
            self._updateButtonStates()
            self._updateSegmentRoleTable(self._parameterNode.segmentation)

    def _onParameterNodeModified(self, caller=None, event=None):
        # A scene loaded into the parameter node brings its plan table: offer its plans.
        self._offerPlansToShow(volumetryPanel.planKeysOfTable(self._parameterNode.planTable))
        self._followSelectedSegmentation()
        self._updateButtonStates()

    def _followSelectedSegmentation(self):
        """Show the selected segmentation's roles (corrections are kept on its segments) and results."""
        selected = self._parameterNode.segmentation
        if selected is self._followedSegmentation:
            return
        previous = self._followedSegmentation
        self._followedSegmentation = selected
        with slicer.util.NodeModify(self._parameterNode.parameterNode):
            if previous is not None:
                # Show this segmentation's own results (or none yet): never another's.
                for field, table in volumetryPanel.resultTablesOf(slicer.mrmlScene, selected).items():
                    if getattr(self._parameterNode, field) is not table:
                        setattr(self._parameterNode, field, table)
        self._updateSegmentRoleTable(selected)

    def _updateButtonStates(self, caller=None, event=None):
        parameters = self._parameterNode
        states = volumetryPanel.buttonStates(
            hasSegmentation=bool(parameters and parameters.segmentation),
            hasSourceVolume=bool(parameters and parameters.sourceVolume),
            hasPlanToShow=bool(parameters and parameters.planToShow),
            hasLandmarks=bool(parameters and parameters.landmarks),
            hasTransection=bool(parameters and parameters.transection),
            hasRemnantPoint=bool(parameters and parameters.remnantPoint),
        )
        for name, state in states.items():
            button = getattr(self.ui, name)
            button.enabled = state.enabled
            if state.toolTip is not None:
                button.toolTip = _(state.toolTip)

    def _updateSegmentRoleTable(self, segmentationNode=None):
        """The correctable mapping: one row per segment, its recognised role, and the role used."""
        table = self.ui.segmentRolesTableWidget
        table.blockSignals(True)
        try:
            table.setRowCount(0)
            if not self._parameterNode:
                return
            rows = volumetryPanel.segmentRoleRows(segmentationNode)
            table.setColumnCount(3)
            table.setHorizontalHeaderLabels([_("Segment"), _("Recognised as"), _("Role used")])
            for row, (segmentId, name, recognized, role) in enumerate(rows):
                table.insertRow(row)
                for column, text in enumerate((name, recognized, role)):
                    item = qt.QTableWidgetItem(text)
                    item.setData(qt.Qt.UserRole, segmentId)
                    if column < 2:
                        # Name and recognised role are shown, not edited.
                        item.setFlags(qt.Qt.ItemIsSelectable | qt.Qt.ItemIsEnabled)
                    table.setItem(row, column, item)
        finally:
            table.blockSignals(False)

    def onSegmentRoleEdited(self, row, column):
        if column != 2:
            return
        item = self.ui.segmentRolesTableWidget.item(row, column)
        with slicer.util.tryWithErrorDisplay(_("Unknown segment role."), waitCursor=False):
            # Kept on the segment: the Assessment panel, the report and the saved scene see it.
            segmentRecognition.storeRoleCorrection(self._parameterNode.segmentation, item.data(qt.Qt.UserRole), item.text())

    def onComputeVolumes(self):
        with slicer.util.tryWithErrorDisplay(_("Failed to compute the volumetry."), waitCursor=True):
            self._parameterNode.segmentVolumeTable = self.logic.computeSegmentVolumes(
                self._parameterNode.segmentation, self._parameterNode.segmentVolumeTable
            )
            result = self.logic.computeVolumetry(self._parameterNode)
            self.ui.couinaudTableView.setMRMLTableNode(self._parameterNode.couinaudTable)
            self.ui.planTableView.setMRMLTableNode(self._parameterNode.planTable)
            self._offerPlansToShow([plan.key for plan in result.plans])
            self.ui.warningsLabel.text = volumetryPanel.volumetryWarnings(result)

    def _offerPlansToShow(self, computedPlanKeys):
        """Fill the plan-to-show list, keeping the chosen plan while it is still offered."""
        keys, shown = volumetryPanel.plansToOffer(computedPlanKeys, self._parameterNode.planToShow if self._parameterNode else "")
        combo = self.ui.planToShowComboBox
        if [combo.itemText(index) for index in range(combo.count)] == keys and combo.currentText == shown:
            return
        combo.blockSignals(True)  # refilling is not a choice of the user
        try:
            combo.clear()
            for key in keys:
                combo.addItem(key)
            combo.currentIndex = combo.findText(shown)
        finally:
            combo.blockSignals(False)
        if self._parameterNode and self._parameterNode.planToShow != shown:
            self._parameterNode.planToShow = shown

    def onPlanToShowChanged(self, text):
        if self._parameterNode:
            self._parameterNode.planToShow = text

    def onShowPlan(self):
        with slicer.util.tryWithErrorDisplay(_("Failed to show the plan."), waitCursor=True):
            planNode = self.logic.showPlan(self._parameterNode)
            planNode.CreateClosedSurfaceRepresentation()
            self._parameterNode.segmentation.GetDisplayNode().SetVisibility(False)

    def onSegmentsFromLandmarks(self):
        with slicer.util.tryWithErrorDisplay(_("Failed to create segments from the landmarks."), waitCursor=True):
            self.logic.createSegmentsFromLandmarks(self._parameterNode)
            self._updateSegmentRoleTable(self._parameterNode.segmentation)

    def onTransection(self):
        with slicer.util.tryWithErrorDisplay(_("Failed to cut the liver."), waitCursor=True):
            self.logic.measureTransection(self._parameterNode)
            self.ui.transectionTableView.setMRMLTableNode(self._parameterNode.transectionTable)
            self._parameterNode.segmentation.CreateClosedSurfaceRepresentation()
            self._updateSegmentRoleTable(self._parameterNode.segmentation)

    def onParenchymaSparing(self):
        with slicer.util.tryWithErrorDisplay(_("Failed to analyse the parenchyma-sparing alternative."), waitCursor=True):
            comparison = self.logic.analyseParenchymaSparing(self._parameterNode)
            self.ui.tumourTableView.setMRMLTableNode(self._parameterNode.tumourTable)
            self.ui.sparingPlanTableView.setMRMLTableNode(self._parameterNode.sparingPlanTable)
            self._parameterNode.segmentation.CreateClosedSurfaceRepresentation()
            self.ui.warningsLabel.text = "\n".join(w for result in comparison.marginPlans for w in result.warnings)

    def onTotalSegmentator(self):
        # TotalSegmentator is an optional extension: only offered when it is installed.
        volumeNode = self._parameterNode.sourceVolume
        task = totalSegmentatorRun.taskForModality(totalSegmentatorRun.scanModality(volumeNode))
        if task is None:
            task = totalSegmentatorRun.taskForModality(self._askCtOrMr(volumeNode.GetName()))
            if task is None:
                return
        totalSegmentatorLogic = slicer.util.getModuleLogic("TotalSegmentator")
        with slicer.util.tryWithErrorDisplay(_("TotalSegmentator failed."), waitCursor=True):
            # As TotalSegmentator's own panel does: PyTorch and TotalSegmentator are installed on
            # first use, and some installations only work after a restart, which it asks for.
            try:
                totalSegmentatorLogic.setupPythonRequirements()
            except Exception as error:
                if not totalSegmentatorRun.restartRequired(error):
                    raise
                if slicer.util.confirmOkCancelDisplay(
                    _("TotalSegmentator installed the Python packages it needs; Slicer must restart to use them.\nPress OK to restart."),
                    _("Confirm application restart"),
                    detailedText=str(error),
                ):
                    slicer.util.restart()
                return
            segmentationNode = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLSegmentationNode", volumeNode.GetName() + " liver segments")
            totalSegmentatorLogic.process(volumeNode, segmentationNode, task=task)
            volumetryWorkflow.checkTotalSegmentatorLiverSegments(segmentationNode)
            self._parameterNode.segmentation = segmentationNode

    def _askCtOrMr(self, volumeName):
        """The scan's modality when its DICOM header is not at hand: 'CT', 'MR' or '' (cancelled)."""
        box = qt.QMessageBox(slicer.util.mainWindow())
        box.setWindowTitle(_("TotalSegmentator"))
        box.setText(_("Is '{name}' a CT or an MR scan? TotalSegmentator has a liver segment model for each.").format(name=volumeName))
        for modality in totalSegmentatorRun.TASK_BY_MODALITY:
            box.addButton(modality, qt.QMessageBox.AcceptRole)
        box.addButton(qt.QMessageBox.Cancel)
        box.exec_()
        clicked = box.clickedButton()
        return clicked.text if clicked is not None and clicked.text in totalSegmentatorRun.TASK_BY_MODALITY else ""

    def onOpenSegmentEditor(self):
        # Painting belongs to the Segment Editor: hand it this segmentation and source volume.
        segmentationNode = self._parameterNode.segmentation
        sourceVolumeNode = self._parameterNode.sourceVolume
        slicer.util.selectModule("SegmentEditor")
        editor = slicer.modules.segmenteditor.widgetRepresentation().self().editor
        editor.setSegmentationNode(segmentationNode)
        if sourceVolumeNode:
            editor.setSourceVolumeNode(sourceVolumeNode)

    def onReload(self):
        libraryReload.reloadPackages("ALPPSVolumetryLib")
        ScriptedLoadableModuleWidget.onReload(self)


class ALPPSVolumetryLogic(ScriptedLoadableModuleLogic):
    """GUI-free: the algorithms live in ALPPSVolumetryLib and take nodes as arguments."""

    def __init__(self):
        ScriptedLoadableModuleLogic.__init__(self)

    def getParameterNode(self):
        node = super().getParameterNode()
        patientBody.adoptTopLevelValues(node)
        return ALPPSVolumetryParameterNode(node)

    def computeSegmentVolumes(self, segmentationNode, tableNode=None):
        """Voxel volume (mL) of every segment into ``tableNode`` (created when None); returns the table."""
        _, tableNode = resultsTable.measureSegmentVolumesIntoTable(segmentationNode, tableNode)
        volumetryPanel.tagResultTable(tableNode, "segmentVolumeTable", segmentationNode)
        return tableNode

    @staticmethod
    def plansOf(parameterNode):
        selected = [key for field, key in PLAN_FIELDS.items() if getattr(parameterNode, field)]
        return volumetryWorkflow.plansFromSelection(selected, parameterNode.caudateInRemnant, parameterNode.customPlan)

    @staticmethod
    def _settingsOf(parameterNode):
        return patientBody.volumetrySettings(
            parameterNode.body, parameterNode.sflrThresholdPercent, parameterNode.flrBwrThresholdPercent, parameterNode.thresholdSource
        )

    def computeVolumetry(self, parameterNode):
        """Couinaud volumes and every selected plan into the parameter node's tables; returns the result."""
        result, couinaudTable, planTable = volumetryWorkflow.runVolumetryIntoTables(
            parameterNode.segmentation,
            self.plansOf(parameterNode),
            self._settingsOf(parameterNode),
            parameterNode.couinaudTable,
            parameterNode.planTable,
        )
        volumetryPanel.rememberPlanKeys(planTable, [plan.key for plan in result.plans])
        volumetryPanel.tagResultTable(couinaudTable, "couinaudTable", parameterNode.segmentation)
        volumetryPanel.tagResultTable(planTable, "planTable", parameterNode.segmentation)
        parameterNode.couinaudTable = couinaudTable
        parameterNode.planTable = planTable
        return result

    def createSegmentsFromLandmarks(self, parameterNode):
        """Couinaud segments I-VIII from the whole-liver segment and the landmark points."""
        return volumetryWorkflow.createCouinaudSegmentsFromLandmarks(
            parameterNode.segmentation,
            parameterNode.landmarks,
        )

    def measureTransection(self, parameterNode):
        """Cut the liver along the transection and measure the remnant into the transection table."""
        plan, tableNode = volumetryWorkflow.runTransection(
            parameterNode.segmentation,
            parameterNode.transection,
            parameterNode.remnantPoint,
            self._settingsOf(parameterNode),
            parameterNode.transectionTable,
        )
        volumetryPanel.tagResultTable(tableNode, "transectionTable", parameterNode.segmentation)
        parameterNode.transectionTable = tableNode
        return plan

    def analyseParenchymaSparing(self, parameterNode):
        """Tumour-vessel distances and the margin-based plan beside the selected major plans; the
        resection areas and vessel contacts become segments (replacing earlier ones)."""
        segmentationNode = parameterNode.segmentation
        comparison, tumourTable, sparingPlanTable = volumetryWorkflow.runParenchymaSparing(
            segmentationNode,
            parameterNode.sparingMarginMm,
            self.plansOf(parameterNode),
            self._settingsOf(parameterNode),
            parameterNode.contactDistanceMm,
            parameterNode.tumourTable,
            parameterNode.sparingPlanTable,
        )
        volumetryPanel.tagResultTable(tumourTable, "tumourTable", segmentationNode)
        volumetryPanel.tagResultTable(sparingPlanTable, "sparingPlanTable", segmentationNode)
        parameterNode.tumourTable = tumourTable
        parameterNode.sparingPlanTable = sparingPlanTable
        return comparison

    def showPlan(self, parameterNode):
        """Remnant versus resected liver of the chosen plan as a segmentation for the 3D view."""
        plans = {plan.key: plan for plan in self.plansOf(parameterNode)}
        if parameterNode.planToShow not in plans:
            raise ValueError(f"Plan '{parameterNode.planToShow}' is not among the selected plans")
        return planDisplay.showPlan(
            parameterNode.segmentation,
            plans[parameterNode.planToShow],
        )


class ALPPSVolumetryTest(ScriptedLoadableModuleTest):
    """Runs ALPPSVolumetryLib.selfTestScenarios, the same scenarios pytest runs on slicer-core."""

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

    def test_segmentVolumesEqualSyntheticTruth(self):
        self._runScenario(selfTestScenarios.segmentVolumesEqualSyntheticTruth)

    def test_unionCountsOverlapOnce(self):
        self._runScenario(selfTestScenarios.unionCountsOverlapOnce)

    def test_resultsTableSurvivesSceneReload(self):
        self._runScenario(selfTestScenarios.resultsTableSurvivesSceneReload)

    def test_emptyInputIsRejectedByName(self):
        self._runScenario(selfTestScenarios.emptyInputIsRejectedByName)

    def test_remnantOfEveryPlanEqualsSyntheticTruth(self):
        self._runScenario(selfTestScenarios.remnantOfEveryPlanEqualsSyntheticTruth)

    def test_volumetryTablesSurviveSceneReload(self):
        self._runScenario(selfTestScenarios.volumetryTablesSurviveSceneReload)

    def test_segmentsFromLandmarksPartitionTheLiver(self):
        self._runScenario(selfTestScenarios.segmentsFromLandmarksPartitionTheLiver)

    def test_transectionRemnantMatchesThePlane(self):
        self._runScenario(selfTestScenarios.transectionRemnantMatchesThePlane)

    def test_parenchymaSparingBesideMajorPlans(self):
        self._runScenario(selfTestScenarios.parenchymaSparingBesideMajorPlans)
