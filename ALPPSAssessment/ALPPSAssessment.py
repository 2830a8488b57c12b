import importlib
import sys
import tempfile

import slicer
from slicer import vtkMRMLSegmentationNode, vtkMRMLTableNode
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

from ALPPSAssessmentLib import selfTestScenarios, timeline

_LIB_MODULES = (
    "ALPPSAssessmentLib.timeline",
    "ALPPSAssessmentLib.selfTestScenarios",
)


class ALPPSAssessment(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = _("ALPPS Assessment")
        self.parent.categories = [translate("qSlicerAbstractCoreModule", "Quantification")]
        self.parent.dependencies = ["ALPPSVolumetry"]
        self.parent.contributors = ["ALPPS extension developers"]
        self.parent.helpText = _(
            "Follows an ALPPS patient across time points (before stage 1, interstage, before stage 2): "
            "the liver volume of each scan, measured as the union of Couinaud segments I-VIII by the "
            "ALPPS Volumetry logic, in a timeline table saved with the scene. "
            "See the <a href='https://github.com/alpps-slicer/SlicerALPPS#readme'>documentation</a>."
        )
        self.parent.acknowledgementText = _(
            "Developed for liver surgery planning with ALPPS. Growth definitions follow Shindoh et al., "
            "J Am Coll Surg 2013, and the ALPPS registry (Schadde et al. 2014), as cited in the README."
        )


@parameterNodeWrapper
class ALPPSAssessmentParameterNode:
    stage1Date: str
    preStage1Segmentation: vtkMRMLSegmentationNode
    preStage1Date: str
    interstageSegmentation: vtkMRMLSegmentationNode
    interstageDate: str
    preStage2Segmentation: vtkMRMLSegmentationNode
    preStage2Date: str
    timelineTable: vtkMRMLTableNode


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
        self.ui.updateTimelineButton.connect("clicked(bool)", self.onUpdateTimeline)
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

    def onUpdateTimeline(self):
        with slicer.util.tryWithErrorDisplay(_("Failed to update the timeline."), waitCursor=True):
            tableNode = self.logic.updateTimeline(self._parameterNode)
            self._parameterNode.timelineTable = tableNode
            self.ui.timelineTableView.setMRMLTableNode(tableNode)

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

    def updateTimeline(self, parameterNode):
        """Liver volume at every entered time point into the timeline table; returns the table."""
        timePoints = timeline.timePointsFromEntries(
            [
                ("pre-stage 1", parameterNode.preStage1Segmentation, parameterNode.preStage1Date),
                ("interstage", parameterNode.interstageSegmentation, parameterNode.interstageDate),
                ("pre-stage 2", parameterNode.preStage2Segmentation, parameterNode.preStage2Date),
            ]
        )
        stage1Date = timeline.parseStudyDate(parameterNode.stage1Date, "stage 1 date")
        _, tableNode = timeline.measureTimelineIntoTable(timePoints, stage1Date, parameterNode.timelineTable)
        return tableNode


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

    def test_timelineFollowsSyntheticGrowth(self):
        self._runScenario(selfTestScenarios.timelineFollowsSyntheticGrowth)

    def test_incompleteEntriesAreRejectedByName(self):
        self._runScenario(selfTestScenarios.incompleteEntriesAreRejectedByName)
