"""The panel harness itself: PythonQt semantics, the stand-ins' documented behaviour, and that
anything it does not know fails loudly (a harness that accepted everything would prove nothing)."""

import pathlib
import typing

import pytest

pytest.importorskip("PySide6.QtWidgets", reason="PySide6 is not installed: the panel harness needs it")

import slicer  # noqa: E402
from slicerPanelHarness import SlicerSession, parameterNodeWrapper, uiLoader  # noqa: E402
from slicerPanelHarness.mrmlWidgets import qMRMLNodeComboBox, qMRMLTableView  # noqa: E402
from slicerPanelHarness.pythonQt import QT_WIDGET_CLASSES, SLOT_ERRORS  # noqa: E402


@pytest.fixture
def session(tmp_path):
    with SlicerSession(tmp_path) as running:
        yield running


def test_propertiesAreAttributesAndUnknownOnesRaise(session):
    button = QT_WIDGET_CLASSES["QPushButton"]()
    button.enabled = False
    button.text = "Compute"
    assert button.enabled is False and button.text == "Compute"
    with pytest.raises(AttributeError, match="no Qt property 'enabeld'"):
        button.enabeld = True
    spin = QT_WIDGET_CLASSES["QDoubleSpinBox"]()
    with pytest.raises(TypeError):
        spin.value = object()
    spin.maximum = 10.0
    spin.value = 25.0
    assert spin.value == 10.0  # Qt clamps, as in Slicer


def test_connectByCppSignatureCutsArgumentsAndRecordsErrors(session):
    button = QT_WIDGET_CLASSES["QPushButton"]()
    calls = []
    button.connect("clicked(bool)", lambda: calls.append("no argument"))
    button.connect("clicked(bool)", lambda checked: calls.append(checked))
    button.click()
    assert calls == ["no argument", False]
    with pytest.raises(AttributeError, match="no signal clicked\\(int\\)"):
        button.connect("clicked(int)", calls.append)
    button.connect("clicked(bool)", lambda: 1 / 0)
    button.click()
    assert len(SLOT_ERRORS) == 1 and isinstance(SLOT_ERRORS[0], ZeroDivisionError)
    SLOT_ERRORS.clear()


def test_nodeSelectorListsTheScenesNodesOfItsClasses(session):
    scene = slicer.mrmlScene
    selector = qMRMLNodeComboBox()
    selector.nodeTypes = ["vtkMRMLScalarVolumeNode"]
    selector.noneEnabled = True
    changes = []
    selector.connect("currentNodeChanged(vtkMRMLNode*)", changes.append)
    selector.setMRMLScene(scene)
    volume = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "CT")
    labelmap = scene.AddNewNodeByClass("vtkMRMLLabelMapVolumeNode", "labels")  # a subclass: listed
    hidden = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "hidden")
    hidden.SetHideFromEditors(True)
    scene.AddNewNodeByClass("vtkMRMLTableNode", "table")
    assert selector.nodes() == [volume, labelmap] and selector.currentNode() is None  # none allowed: nothing chosen
    selector.showChildNodeTypes = False
    assert selector.nodes() == [volume]
    selector.setCurrentNode(volume)
    scene.RemoveNode(volume)
    assert selector.currentNode() is None and changes == [volume, None]  # the last node went: none
    # As Qt's combo box: when the current row goes, the row now at its place (the next node) is current.
    second = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "CT 2")
    third = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "CT 3")
    selector.setCurrentNode(second)
    scene.RemoveNode(second)
    assert selector.currentNode() is third
    selector.setCurrentNode(labelmap)  # not listed any more (showChildNodeTypes off): none
    assert selector.currentNode() is None
    strict = qMRMLNodeComboBox()
    strict.nodeTypes = ["vtkMRMLModelNode"]
    strict.addEnabled = strict.removeEnabled = strict.renameEnabled = False
    strict.setMRMLScene(scene)
    assert strict.currentNode() is None
    model = scene.AddNewNodeByClass("vtkMRMLModelNode")
    assert strict.currentNode() is model  # the first row inserted into an empty drop-down becomes current
    tables = qMRMLNodeComboBox()
    tables.nodeTypes = ["vtkMRMLTableNode"]
    tables.setMRMLScene(scene)
    assert tables.currentNode() is None  # action items make it non-empty: nothing chosen for the user
    created = tables.addNode()
    assert tables.currentNode() is created and created.IsA("vtkMRMLTableNode")
    view = qMRMLTableView()
    view.setMRMLTableNode(labelmap)
    assert view.mrmlTableNode() is None  # a table view keeps table nodes only


def test_uiLoaderRefusesWhatItDoesNotKnow(session, tmp_path):
    ui = tmp_path / "broken.ui"
    ui.write_text('<ui version="4.0"><widget class="qMRMLWidget" name="top"><layout class="QVBoxLayout" name="l"><item>'
                  '<widget class="qMRMLSegmentSelectorWidget" name="x"/></item></layout></widget></ui>')
    with pytest.raises(uiLoader.UiLoadError, match="no widget class 'qMRMLSegmentSelectorWidget'"):
        uiLoader.loadUi(str(ui))
    ui.write_text('<ui version="4.0"><widget class="qMRMLWidget" name="top"><layout class="QVBoxLayout" name="l"><item>'
                  '<widget class="qMRMLNodeComboBox" name="x"><property name="nodeType"><string>a</string></property></widget>'
                  '</item></layout></widget></ui>')
    with pytest.raises(AttributeError, match="no Qt property 'nodeType'"):
        uiLoader.loadUi(str(ui))


def test_parameterWrapperChecksTypesAtClassCreationAndOnWrite(session):
    with pytest.raises(TypeError, match="cannot be None"):
        @parameterNodeWrapper.parameterNodeWrapper
        class UnionWithoutNone:
            node: typing.Union[slicer.vtkMRMLScalarVolumeNode, slicer.vtkMRMLTableNode]

    @parameterNodeWrapper.parameterNodeWrapper
    class Parameters:
        unit: typing.Annotated[str, parameterNodeWrapper.Choice(["ms", "s"])] = "ms"
        size: typing.Annotated[float, parameterNodeWrapper.WithinRange(0.0, 5.0)] = 1.0
        folder: pathlib.Path
        table: slicer.vtkMRMLTableNode

    node = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLScriptedModuleNode")
    parameters = Parameters(node)
    assert (parameters.unit, parameters.size, parameters.folder, parameters.table) == ("ms", 1.0, pathlib.Path(), None)
    with pytest.raises(ValueError, match="not one of"):
        parameters.unit = "min"
    with pytest.raises(ValueError, match="outside"):
        parameters.size = 6.0
    with pytest.raises(TypeError):
        parameters.table = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLScalarVolumeNode")
    parameters.size = 2.5
    assert node.GetParameter("size") == "2.5" and Parameters(node).size == 2.5


@pytest.mark.parametrize(("version", "tagFromConnectGui"), [("5.8", False), ("5.12", True)])
def test_connectGuiTagFollowsTheSlicerVersion(tmp_path, version, tagFromConnectGui):
    with SlicerSession(tmp_path, version):
        @parameterNodeWrapper.parameterNodeWrapper
        class Parameters:
            text: str = ""

        lineEdit = QT_WIDGET_CLASSES["QLineEdit"]()
        lineEdit.setProperty("SlicerParameterName", "text")
        ui = type("ui", (), {})()
        ui.lineEdit = lineEdit
        parameters = Parameters(slicer.mrmlScene.AddNewNodeByClass("vtkMRMLScriptedModuleNode"))
        assert (parameters.connectGui(ui) is not None) is tagFromConnectGui
        assert isinstance(parameters.connectParametersToGui({"text": lineEdit}), int)
        lineEdit.text = "abc"
        assert parameters.text == "abc"


def test_parameterPackIsStoredValueByValueAndBoundByDottedName(session):
    """As Slicer's parameterPack.py and wrapper.py (v5.8.1 = v5.12.3): each value is the parameter
    "field.value", validated on write; the pack is read bound to the node, a write through it
    stores the pack; widgets and getValue/setValue reach a value by its dotted name."""

    @parameterNodeWrapper.parameterPack
    class Body:
        heightCm: typing.Annotated[float, parameterNodeWrapper.WithinRange(0.0, 300.0)] = 0.0
        formula: typing.Annotated[str, parameterNodeWrapper.Choice(["a", "b"])] = "a"

    with pytest.raises(ValueError, match="fails the validation"):
        @parameterNodeWrapper.parameterPack
        class Refused:
            size: typing.Annotated[float, parameterNodeWrapper.WithinRange(0.0, 1.0)] = 2.0

    @parameterNodeWrapper.parameterNodeWrapper
    class Parameters:
        body: Body

    node = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLScriptedModuleNode")
    parameters = Parameters(node)
    assert (node.GetParameter("body.heightCm"), node.GetParameter("body.formula")) == ("0.0", "a")
    assert parameters.body == Body() and parameters.getValue("body.formula") == "a"
    parameters.body.heightCm = 172.0
    assert node.GetParameter("body.heightCm") == "172.0" and Parameters(node).body.heightCm == 172.0
    with pytest.raises(ValueError, match="outside"):
        parameters.body.heightCm = 301.0
    with pytest.raises(ValueError, match="not one of"):
        parameters.setValue("body.formula", "c")
    with pytest.raises(ValueError, match="no member 'weightKg'"):
        parameters.getValue("body.weightKg")
    assert typing.get_args(parameters.dataType("body.formula"))[0] is str
    # The pack counts as present when its first value is: a node holding only that keeps it.
    other = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLScriptedModuleNode")
    other.SetParameter("body.heightCm", "160.0")
    other.SetParameter("body.formula", "b")
    assert (Parameters(other).body.heightCm, Parameters(other).body.formula) == (160.0, "b")
    spin, combo = QT_WIDGET_CLASSES["QDoubleSpinBox"](), QT_WIDGET_CLASSES["QComboBox"]()
    spin.maximum = 300.0
    parameters.connectParametersToGui({"body.heightCm": spin, "body.formula": combo})
    assert spin.value == 172.0 and combo.currentText == "a"
    spin.value = 180.0
    combo.currentIndex = 1
    assert node.GetParameter("body.heightCm") == "180.0" and parameters.body.formula == "b"
    parameters.body = Body(heightCm=150.0)
    assert spin.value == 150.0 and combo.currentText == "a"
