import importlib
import sys
import tempfile

import slicer
import vtk
from slicer import vtkMRMLScalarVolumeNode, vtkMRMLSegmentationNode, vtkMRMLTableNode
from slicer.i18n import tr as _
from slicer.i18n import translate
from slicer.parameterNodeWrapper import parameterNodeWrapper
from slicer.ScriptedLoadableModule import (
    ScriptedLoadableModule,
    ScriptedLoadableModuleLogic,
    ScriptedLoadableModuleTest,
    ScriptedLoadableModuleWidget,
)
from slicer.util import VTKObservationMixin

from ALPPSVolumetryLib import resultsTable, selfTestScenarios

# Submodules in dependency order, re-imported by Reload so that edits to the Lib take effect.
_LIB_MODULES = (
    "ALPPSVolumetryLib.couinaud",
    "ALPPSVolumetryLib.segmentVolumes",
    "ALPPSVolumetryLib.segmentRecognition",
    "ALPPSVolumetryLib.resultsTable",
    "ALPPSVolumetryLib.segmentationImport",
    "ALPPSVolumetryLib.segmentationIO",
    "ALPPSVolumetryLib.syntheticPatient",
    "ALPPSVolumetryLib.syntheticPatientScene",
    "ALPPSVolumetryLib.selfTestScenarios",
)


class ALPPSVolumetry(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = _("ALPPS Volumetry")
        self.parent.categories = [translate("qSlicerAbstractCoreModule", "Quantification")]
        self.parent.dependencies = ["Segmentations"]
        self.parent.contributors = ["ALPPS extension developers"]
        self.parent.helpText = _(
            "Couinaud segment volumetry for ALPPS planning: voxel-based volume (mL) of every segment "
            "of a segmentation made in the Segment Editor or by TotalSegmentator, counted on the "
            "segmentation's own labelmap. Results go to a table node saved with the scene. "
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


class ALPPSVolumetryWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    def __init__(self, parent=None):
        ScriptedLoadableModuleWidget.__init__(self, parent)
        VTKObservationMixin.__init__(self)
        self.logic = None
        self._parameterNode = None
        self._parameterNodeGuiTag = None

    def setup(self):
        ScriptedLoadableModuleWidget.setup(self)
        uiWidget = slicer.util.loadUI(self.resourcePath("UI/ALPPSVolumetry.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)
        self.logic = ALPPSVolumetryLogic()

        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.StartCloseEvent, self.onSceneStartClose)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndCloseEvent, self.onSceneEndClose)
        self.ui.computeVolumesButton.connect("clicked(bool)", self.onComputeVolumes)
        self.ui.openSegmentEditorButton.connect("clicked(bool)", self.onOpenSegmentEditor)
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
        if not self._parameterNode.sourceVolume:
            self._parameterNode.sourceVolume = slicer.mrmlScene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
        if not self._parameterNode.segmentation:
            self._parameterNode.segmentation = slicer.mrmlScene.GetFirstNodeByClass("vtkMRMLSegmentationNode")

    def setParameterNode(self, inputParameterNode):
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
            self.removeObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._updateButtonStates)
        self._parameterNode = inputParameterNode
        if self._parameterNode:
            self._parameterNodeGuiTag = self._parameterNode.connectGui(self.ui)
            self.addObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._updateButtonStates)
            self._updateButtonStates()

    def _updateButtonStates(self, caller=None, event=None):
        hasSegmentation = bool(self._parameterNode and self._parameterNode.segmentation)
        self.ui.computeVolumesButton.enabled = hasSegmentation
        self.ui.computeVolumesButton.toolTip = (
            _("Measure every segment (mL)") if hasSegmentation else _("Select a segmentation first")
        )
        self.ui.openSegmentEditorButton.enabled = hasSegmentation

    def onComputeVolumes(self):
        with slicer.util.tryWithErrorDisplay(_("Failed to compute segment volumes."), waitCursor=True):
            tableNode = self.logic.computeSegmentVolumes(
                self._parameterNode.segmentation, self._parameterNode.segmentVolumeTable
            )
            self._parameterNode.segmentVolumeTable = tableNode
            self.ui.segmentVolumeTableView.setMRMLTableNode(tableNode)

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
        for name in _LIB_MODULES:
            if name in sys.modules:
                importlib.reload(sys.modules[name])
        ScriptedLoadableModuleWidget.onReload(self)


class ALPPSVolumetryLogic(ScriptedLoadableModuleLogic):
    """GUI-free: the algorithms live in ALPPSVolumetryLib and take nodes as arguments."""

    def __init__(self):
        ScriptedLoadableModuleLogic.__init__(self)

    def getParameterNode(self):
        return ALPPSVolumetryParameterNode(super().getParameterNode())

    def computeSegmentVolumes(self, segmentationNode, tableNode=None):
        """Voxel volume (mL) of every segment into ``tableNode`` (created when None); returns the table."""
        _, tableNode = resultsTable.measureSegmentVolumesIntoTable(segmentationNode, tableNode)
        return tableNode


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
