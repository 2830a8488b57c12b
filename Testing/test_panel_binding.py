"""Issue 19 through the panel harness: both modules instantiate at a normal Slicer start-up (only
core MRML classes in `slicer` while their files run), and every setting survives leaving and
re-entering a module, scene close and reload, with Slicer 5.8's and 5.12's binding behaviour."""

import pytest

pytest.importorskip("PySide6.QtWidgets", reason="PySide6 is not installed: the panel harness needs it")

import slicer  # noqa: E402
from panelSettings import boundWidgets, changeAsAUserWould, shownValue  # noqa: E402
from slicerPanelHarness import SlicerSession  # noqa: E402

BINDINGS = ("5.8", "5.12")
MODULES = ("ALPPSVolumetry", "ALPPSAssessment")


@pytest.fixture(params=BINDINGS)
def session(request, tmp_path):
    with SlicerSession(tmp_path, request.param) as running:
        yield running


def test_harnessHidesMarkupsUntilTheMarkupsModuleLoads(tmp_path):
    with SlicerSession(tmp_path) as running:
        assert not hasattr(slicer, "vtkMRMLMarkupsFiducialNode")
        assert not hasattr(slicer, "vtkSlicerSegmentationsModuleLogic") and not hasattr(slicer, "vtkMRMLSequenceBrowserNode")
        assert slicer.vtkMRMLSegmentationNode and slicer.vtkMRMLSequenceNode and slicer.vtkMRMLTableNode  # core MRML
        running.loadMarkupsModule()
        assert slicer.vtkMRMLMarkupsFiducialNode().IsA("vtkMRMLMarkupsNode")
        running.loadOtherLoadableModules()
        assert slicer.vtkSlicerSegmentationsModuleLogic and slicer.vtkMRMLSequenceBrowserNode
    assert hasattr(slicer, "vtkMRMLMarkupsFiducialNode") and hasattr(slicer, "vtkSlicerSegmentationsModuleLogic")  # restored


def test_bothModulesInstantiateAtStartUp(session):
    session.startSlicer()
    for name in MODULES:
        session.enter(name)
    assert session.takeErrors() == []


def _storedAsShown(widget, stored):
    """A parameter value as its widget shows it: a combo box shows str(choice), a path line edit str(path)."""
    return str(stored) if type(widget).__name__ in ("QComboBox", "ctkPathLineEdit") else stored


def _changeEverySetting(ui, folder):
    changed = {}
    for name, widget in boundWidgets(ui).items():
        if type(widget).__name__ != "qMRMLNodeComboBox":
            changed[name] = changeAsAUserWould(widget, folder)
    return changed


@pytest.mark.parametrize("module", MODULES)
def test_everySettingSurvivesLeavingAndReentering(session, module, tmp_path):
    session.startSlicer()
    other = [name for name in MODULES if name != module][0]
    session.enter(module)
    changed = _changeEverySetting(session.ui(module), tmp_path)
    assert len(changed) >= 15
    for _ in range(2):
        session.enter(other)
        session.enter(module)
    widgets = boundWidgets(session.ui(module))
    parameterNode = session.widget(module).logic.getParameterNode()
    kept = {name: shownValue(widgets[name]) for name in changed}
    assert kept == changed
    for name, value in changed.items():
        assert _storedAsShown(widgets[name], parameterNode.getValue(name)) == value, name
    assert session.takeErrors() == []


@pytest.mark.parametrize("module", MODULES)
def test_noConnectorSurvivesReload(session, module, tmp_path):
    """After Reload the old panel's widgets no longer write the parameter node."""
    session.startSlicer()
    session.enter(module)
    oldUi = session.ui(module)
    session.reloadModule(module)
    parameterNode = session.widget(module).logic.getParameterNode()
    before = {name: parameterNode.getValue(name) for name in boundWidgets(oldUi)}
    _changeEverySetting(oldUi, tmp_path)
    after = {name: parameterNode.getValue(name) for name in boundWidgets(oldUi)}
    assert after == before
    assert session.takeErrors() == []


@pytest.mark.parametrize("module", MODULES)
def test_sceneCloseWithThePanelOpenStartsFromDefaults(session, module, tmp_path):
    session.startSlicer()
    session.enter(module)
    _changeEverySetting(session.ui(module), tmp_path)
    session.closeScene()
    widget = session.widget(module)
    wrapper = widget.logic.getParameterNode()
    for name, field in type(wrapper).allParameters.items():
        if field.kind != "node":
            assert getattr(wrapper, name) == field.default, name
    # The panel is bound to the new parameter node: a change reaches it.
    changed = _changeEverySetting(session.ui(module), tmp_path)
    widgets = boundWidgets(session.ui(module))
    for name, value in changed.items():
        assert _storedAsShown(widgets[name], wrapper.getValue(name)) == value, name
    assert session.takeErrors() == []


def test_typingADateKeepsTheCursor(session):
    session.startSlicer()
    session.enter("ALPPSAssessment")
    lineEdit = session.ui("ALPPSAssessment").stage1DateLineEdit
    lineEdit.text = "2026-0315"
    lineEdit.cursorPosition = 7
    lineEdit.insert("-")  # the user types the missing dash in the middle
    assert lineEdit.text == "2026-03-15"
    assert lineEdit.cursorPosition == 8
    assert session.widget("ALPPSAssessment").logic.getParameterNode().stage1Date == "2026-03-15"


# The signal each bound widget class's connector listens to (C++ signature as Qt registers it).
_BINDING_SIGNALS = {
    "QComboBox": "currentIndexChanged(int)",
    "QCheckBox": "toggled(bool)",
    "QDoubleSpinBox": "valueChanged(double)",
    "ctkSliderWidget": "valueChanged(double)",
    "QLineEdit": "textChanged(QString)",
    "ctkPathLineEdit": "currentPathChanged(QString)",
    "qMRMLNodeComboBox": "currentNodeChanged(PyObject)",
}


def _listeners(ui):
    from PySide6 import QtCore

    return {name: widget.receivers(QtCore.SIGNAL(_BINDING_SIGNALS[type(widget).__name__])) for name, widget in boundWidgets(ui).items()}


@pytest.mark.parametrize("module", MODULES)
def test_exactlyOneConnectorPerWidgetWhileEntered(session, module):
    """Counted on the widgets' signals: one connector each while the module is shown, none when it
    is not, however often it is entered, and after a scene close with the panel open."""
    session.startSlicer()
    other = [name for name in MODULES if name != module][0]
    session.enter(module)
    ui = session.ui(module)
    session.enter(other)
    idle = _listeners(ui)  # the module's own slots only
    for _ in range(3):
        session.enter(module)
        assert _listeners(ui) == {name: count + 1 for name, count in idle.items()}
        session.enter(other)
        assert _listeners(ui) == idle
    session.enter(module)
    session.closeScene()
    assert _listeners(ui) == {name: count + 1 for name, count in idle.items()}
    oldUi = ui
    session.reloadModule(module)
    assert _listeners(oldUi) == idle


@pytest.mark.parametrize("module", MODULES)
def test_aSceneSavedBeforeThePatientBodyPackKeepsItsValues(session, module):
    """Until the body fields became one pack they were stored at the top of the parameter node
    ("heightCm"); such a scene's values are read into the pack ("body.heightCm") and shown."""
    session.startSlicer()
    node = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLScriptedModuleNode")
    node.SetSingletonTag(module)
    node.SetAttribute("ModuleName", module)
    saved = {"heightCm": "172.0", "weightKg": "78.0", "bsaFormula": "dubois", "stlvFormula": "urata", "liverCondition": "cirrhosis"}
    for name, value in saved.items():
        node.SetParameter(name, value)
    session.enter(module)
    body = session.widget(module).logic.getParameterNode().body
    assert (body.heightCm, body.weightKg, body.bsaFormula, body.stlvFormula, body.liverCondition) == (172.0, 78.0, "dubois", "urata", "cirrhosis")
    assert not any(node.HasParameter(name) for name in saved)
    ui = session.ui(module)
    assert (ui.heightSpinBox.value, ui.weightSpinBox.value) == (172.0, 78.0)
    assert session.takeErrors() == []
