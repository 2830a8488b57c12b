"""The Qt layer cannot run here, so its files are checked by reading them. Each check must pass
on the real modules and fail on a fixture broken in exactly the way it guards against."""

import os
import re
import shutil

import moduleStaticChecks as checks
import pytest
from conftest import MODULE_DIRECTORIES

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


@pytest.mark.parametrize("moduleDirectory", MODULE_DIRECTORIES, ids=os.path.basename)
def test_realModulesPassEveryCheck(moduleDirectory):
    assert checks.allProblems(moduleDirectory) == []


@pytest.fixture
def fixtureModule(tmp_path):
    target = tmp_path / "FixtureModule"
    shutil.copytree(os.path.join(FIXTURES, "FixtureModule"), target)
    assert checks.allProblems(str(target)) == [], "the intact fixture must pass"
    return target


def _edit(path, old, new):
    text = path.read_text()
    assert old in text, f"fixture no longer contains {old!r}"
    path.write_text(text.replace(old, new, 1))


def test_unlistedFileIsCaught(fixtureModule):
    shutil.copy(os.path.join(FIXTURES, "unlistedHelper.py"), fixtureModule / "FixtureModuleLib" / "unlistedHelper.py")
    assert checks.checkCMakeListsCoverFiles(str(fixtureModule)) == [
        "FixtureModuleLib/unlistedHelper.py: not listed in CMakeLists.txt, so Slicer would not install it"
    ]


def test_listedButMissingFileIsCaught(fixtureModule):
    (fixtureModule / "Resources" / "UI" / "FixtureModule.ui").unlink()
    assert any("Resources/UI/FixtureModule.ui: listed" in p for p in checks.checkCMakeListsCoverFiles(str(fixtureModule)))


def test_oversizedLibFileAndModuleFileAreCaught(fixtureModule):
    with open(fixtureModule / "FixtureModuleLib" / "selfTestScenarios.py", "a") as stream:
        stream.write("\n" * checks.MAXIMUM_LIB_FILE_LINES)
    with open(fixtureModule / "FixtureModule.py", "a") as stream:
        stream.write("\n" * checks.MAXIMUM_MODULE_FILE_LINES)
    problems = checks.checkFileSizes(str(fixtureModule))
    assert [problem.split(":")[0] for problem in problems] == ["FixtureModule.py", "FixtureModuleLib/selfTestScenarios.py"]


def test_python310SyntaxIsCaught(fixtureModule):
    with open(fixtureModule / "FixtureModuleLib" / "selfTestScenarios.py", "a") as stream:
        stream.write("\n\ndef kind(value):\n    match value:\n        case 1:\n            return 'one'\n")
    (problem,) = checks.checkPython39Syntax(str(fixtureModule))
    assert problem.startswith("FixtureModuleLib/selfTestScenarios.py:") and "not Python 3.9 syntax" in problem


def test_unionAnnotationIsCaught(fixtureModule):
    _edit(fixtureModule / "FixtureModule.py", "inputVolume: vtkMRMLScalarVolumeNode", "inputVolume: vtkMRMLScalarVolumeNode | None")
    (problem,) = checks.checkPython39Syntax(str(fixtureModule))
    assert "'X | Y' annotation" in problem


def test_codeUsingAMissingWidgetIsCaught(fixtureModule):
    _edit(fixtureModule / "FixtureModule.py", 'self.ui.statusLabel.text = "done"', 'self.ui.resultLabel.text = "done"')
    assert checks.checkUiMatchesCode(str(fixtureModule)) == [
        "self.ui.resultLabel is used in FixtureModule.py but FixtureModule.ui has no such widget"
    ]


def test_widgetOfTheWrongClassIsCaught(fixtureModule):
    _edit(fixtureModule / "Resources" / "UI" / "FixtureModule.ui", '<widget class="QPushButton" name="applyButton">', '<widget class="QLabel" name="applyButton">')
    (problem,) = checks.checkUiMatchesCode(str(fixtureModule))
    assert problem.startswith("self.ui.applyButton is a QLabel")


def test_unknownParameterNameIsCaught(fixtureModule):
    _edit(fixtureModule / "Resources" / "UI" / "FixtureModule.ui", "<string>threshold</string>", "<string>thresholdValue</string>")
    problems = checks.checkUiMatchesCode(str(fixtureModule))
    assert "widget thresholdSliderWidget is bound to 'thresholdValue', which is not a field of the parameter node" in problems
    assert any(p.startswith("parameter 'threshold' has no widget") for p in problems)


def test_parameterWithoutWidgetIsCaught(fixtureModule):
    _edit(fixtureModule / "FixtureModule.py", "    threshold:", "    invert: bool = False\n    threshold:")
    assert checks.checkUiMatchesCode(str(fixtureModule)) == [
        "parameter 'invert' has no widget in FixtureModule.ui (or list it in PARAMETERS_WITHOUT_WIDGET)"
    ]


def test_nodeSelectorOfTheWrongNodeTypeIsCaught(fixtureModule):
    _edit(fixtureModule / "Resources" / "UI" / "FixtureModule.ui", "<string>vtkMRMLScalarVolumeNode</string>", "<string>vtkMRMLModelNode</string>")
    (problem,) = checks.checkUiMatchesCode(str(fixtureModule))
    assert "must be a qMRMLNodeComboBox of vtkMRMLScalarVolumeNode" in problem


def test_emptyMetadataIsCaught(fixtureModule):
    _edit(fixtureModule / "FixtureModule.py", '"Fixture acknowledgement."', '""')
    assert checks.checkModuleMetadata(str(fixtureModule)) == [
        "module metadata 'acknowledgementText' is empty or missing in FixtureModule.py"
    ]


def test_scenarioMissingFromTheSlicerSelfTestIsCaught(fixtureModule):
    path = fixtureModule / "FixtureModuleLib" / "selfTestScenarios.py"
    text = path.read_text().replace("SCENARIOS = (sceneIsEmpty,)", "def extra(scene, temporaryDirectory):\n    pass\n\n\nSCENARIOS = (sceneIsEmpty, extra)")
    path.write_text(text)
    assert checks.checkSelfTestRunsEveryScenario(str(fixtureModule)) == ["FixtureModuleTest has no test_extra for scenario extra"]


def test_moduleCodeImportsNoQtOutsideTheModuleFile():
    """Logic lives in the Lib packages, which must import neither qt nor ctk."""
    for moduleDirectory in MODULE_DIRECTORIES:
        for path in checks.moduleFiles(moduleDirectory):
            if "Lib/" in path and path.endswith(".py"):
                with open(os.path.join(moduleDirectory, path)) as stream:
                    source = stream.read()
                assert not re.search(r"^\s*(import|from)\s+(qt|ctk)\b", source, re.M), path


def test_comboBoxForAStringWithoutChoicesIsCaught(fixtureModule):
    _edit(fixtureModule / "FixtureModule.py", "    threshold:", "    mode: str = ''\n    threshold:")
    _edit(
        fixtureModule / "Resources" / "UI" / "FixtureModule.ui",
        '<widget class="QLabel" name="statusLabel"/>',
        '<widget class="QLabel" name="statusLabel"/></item><item><widget class="QComboBox" name="modeComboBox">'
        '<property name="SlicerParameterName" stdset="0"><string>mode</string></property></widget>',
    )
    assert checks.checkUiMatchesCode(str(fixtureModule)) == ["widget modeComboBox (QComboBox) cannot hold the str parameter 'mode'"]


def test_pathLineEditForAStrIsCaught(fixtureModule):
    # Slicer's ctkPathLineEdit connector binds pathlib.Path only: a str field would never connect.
    _edit(fixtureModule / "FixtureModule.py", "    threshold:", "    outputFolder: str = ''\n    threshold:")
    _edit(
        fixtureModule / "Resources" / "UI" / "FixtureModule.ui",
        '<widget class="QLabel" name="statusLabel"/>',
        '<widget class="QLabel" name="statusLabel"/></item><item><widget class="ctkPathLineEdit" name="outputFolderPathLineEdit">'
        '<property name="SlicerParameterName" stdset="0"><string>outputFolder</string></property></widget>',
    )
    assert checks.checkUiMatchesCode(str(fixtureModule)) == ["widget outputFolderPathLineEdit (ctkPathLineEdit) cannot hold the str parameter 'outputFolder'"]


def test_unionOfNodesWithoutNoneIsCaught(fixtureModule):
    _edit(fixtureModule / "FixtureModule.py", "    threshold:", "    source: Union[vtkMRMLScalarVolumeNode, vtkMRMLLabelMapVolumeNode]\n    threshold:")
    assert checks.checkNodeUnionsAllowNone(str(fixtureModule)) == ["parameter 'source' is a Union of nodes without None: write Union[..., None]"]
    _edit(fixtureModule / "FixtureModule.py", "vtkMRMLLabelMapVolumeNode]", "vtkMRMLLabelMapVolumeNode, None]")
    assert checks.checkNodeUnionsAllowNone(str(fixtureModule)) == []


@pytest.mark.parametrize("className", ["vtkMRMLMarkupsFiducialNode", "vtkSlicerSegmentationsModuleLogic"])
def test_loadableModuleClassFromSlicerAtImportIsCaught(fixtureModule, className):
    _edit(fixtureModule / "FixtureModule.py", "from slicer import vtkMRMLScalarVolumeNode", f"from slicer import vtkMRMLScalarVolumeNode, {className}")
    (problem,) = checks.checkNoLoadableModuleClassAtImport(str(fixtureModule))
    assert f"'from slicer import {className}' runs before the module providing it is loaded" in problem


def test_loadableModuleClassInAnAnnotationIsCaught(fixtureModule):
    _edit(fixtureModule / "FixtureModule.py", "inputVolume: vtkMRMLScalarVolumeNode", "inputVolume: slicer.vtkMRMLMarkupsPlaneNode")
    (problem,) = checks.checkNoLoadableModuleClassAtImport(str(fixtureModule))
    assert "annotation 'slicer.vtkMRMLMarkupsPlaneNode' is evaluated before" in problem


def test_parameterPackValuesAreBoundByTheirDottedNames(fixtureModule):
    (fixtureModule / "FixtureModuleLib" / "sizePack.py").write_text(
        "from slicer.parameterNodeWrapper import parameterPack\n\n\n@parameterPack\nclass Size:\n    width: float = 1.0\n")
    _edit(fixtureModule / "FixtureModule.py", "    threshold:", "    size: Size\n    threshold:")
    assert checks.checkUiMatchesCode(str(fixtureModule)) == [
        "parameter 'size.width' has no widget in FixtureModule.ui (or list it in PARAMETERS_WITHOUT_WIDGET)"
    ]
    _edit(fixtureModule / "Resources" / "UI" / "FixtureModule.ui", "<string>threshold</string>", "<string>size.width</string>")
    problems = checks.checkUiMatchesCode(str(fixtureModule))
    assert problems == ["parameter 'threshold' has no widget in FixtureModule.ui (or list it in PARAMETERS_WITHOUT_WIDGET)"]
