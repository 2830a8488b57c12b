"""Static checks of a Slicer scripted module folder: what cannot be run here (the Qt layer) is
checked by reading the files. Each check returns a list of problems (empty when all is well)."""

import ast
import os
import re
import xml.etree.ElementTree as ElementTree

# Widget name suffix -> widget classes that name promises (longest suffixes are tried first).
WIDGET_CLASSES_BY_SUFFIX = {
    "CollapsibleButton": {"ctkCollapsibleButton", "ctkCollapsibleGroupBox"},
    "Button": {"QPushButton", "ctkPushButton", "QToolButton", "ctkCheckablePushButton", "ctkMenuButton"},
    "Selector": {"qMRMLNodeComboBox", "qMRMLSubjectHierarchyComboBox"},
    "CheckBox": {"QCheckBox", "ctkCheckBox"},
    "LineEdit": {"QLineEdit", "ctkPathLineEdit"},
    "SpinBox": {"QSpinBox", "QDoubleSpinBox", "ctkDoubleSpinBox", "qMRMLSpinBox"},
    "SliderWidget": {"ctkSliderWidget", "qMRMLSliderWidget"},
    "ComboBox": {"QComboBox", "ctkComboBox"},
    "TableView": {"qMRMLTableView", "QTableWidget", "QTableView"},
    "TableWidget": {"QTableWidget"},
    "PlotView": {"qMRMLPlotView", "qMRMLPlotWidget"},
    "Label": {"QLabel"},
}

# Parameter type -> widget classes that parameterNodeWrapper's connectGui can bind it to.
WIDGET_CLASSES_BY_PARAMETER_TYPE = {
    # As Slicer 5.8's guiConnectors.py matches them (stricter than 5.12's): the exact widget class.
    "float": {"QDoubleSpinBox", "ctkDoubleSpinBox", "ctkSliderWidget", "qMRMLSliderWidget", "qMRMLSpinBox", "ctkDoubleSlider"},
    "int": {"QSpinBox", "QSlider"},
    "bool": {"QCheckBox", "ctkCheckBox", "QPushButton"},
    "str": {"QLineEdit", "QTextEdit", "QLabel"},
    # A ctkPathLineEdit binds only a pathlib.Path (guiConnectors.ctkPathLineEditToPathConnector).
    "path": {"ctkPathLineEdit", "ctkDirectoryButton"},
    # Annotated[..., Choice([...])]: connectGui binds a combo box only when the choices are declared.
    "choice": {"QComboBox", "ctkComboBox"},
    "node": {"qMRMLNodeComboBox"},
}

REQUIRED_METADATA = ("title", "categories", "contributors", "helpText", "acknowledgementText")


def _read(path):
    with open(path, encoding="utf-8") as stream:
        return stream.read()


def moduleFiles(moduleDirectory):
    """Files that ship with the module: every .py and every file under Resources/."""
    files = []
    for root, directories, names in os.walk(moduleDirectory):
        directories[:] = [name for name in directories if name not in ("__pycache__", "Testing")]
        for name in names:
            path = os.path.relpath(os.path.join(root, name), moduleDirectory).replace(os.sep, "/")
            if path.endswith(".py") or path.startswith("Resources/"):
                files.append(path)
    return sorted(files)


def cmakeListedFiles(moduleDirectory):
    """Files listed in the module's CMakeLists.txt SCRIPTS and RESOURCES, ${MODULE_NAME} expanded."""
    text = _read(os.path.join(moduleDirectory, "CMakeLists.txt"))
    moduleName = re.search(r"set\(MODULE_NAME\s+(\S+?)\s*\)", text).group(1)
    listed = []
    for variable in ("MODULE_PYTHON_SCRIPTS", "MODULE_PYTHON_RESOURCES"):
        match = re.search(r"set\(" + variable + r"\s+(.*?)\)", text, re.S)
        if match:
            for token in match.group(1).split():
                if not token.startswith("#"):
                    listed.append(token.replace("${MODULE_NAME}", moduleName))
    return moduleName, listed


def checkCMakeListsCoverFiles(moduleDirectory):
    _, listed = cmakeListedFiles(moduleDirectory)
    present = moduleFiles(moduleDirectory)
    problems = [f"{path}: not listed in CMakeLists.txt, so Slicer would not install it" for path in present if path not in listed]
    problems += [
        f"{path}: listed in CMakeLists.txt but missing, so configuring the extension fails"
        for path in listed
        if not os.path.isfile(os.path.join(moduleDirectory, path))
    ]
    return problems


def checkPython39Syntax(moduleDirectory):
    """Every .py parses as Python 3.9, and no annotation evaluated at run time uses 'X | Y'."""
    problems = []
    for path in moduleFiles(moduleDirectory):
        if not path.endswith(".py"):
            continue
        source = _read(os.path.join(moduleDirectory, path))
        try:
            tree = ast.parse(source, filename=path, feature_version=(3, 9))
        except SyntaxError as error:
            problems.append(f"{path}:{error.lineno}: not Python 3.9 syntax ({error.msg})")
            continue
        if "from __future__ import annotations" in source:
            continue
        for node in ast.walk(tree):
            annotations = []
            if isinstance(node, ast.AnnAssign):
                annotations.append(node.annotation)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
                annotations += [argument.annotation for argument in arguments if argument.annotation]
                if node.returns:
                    annotations.append(node.returns)
            for annotation in annotations:
                if any(isinstance(part, ast.BinOp) and isinstance(part.op, ast.BitOr) for part in ast.walk(annotation)):
                    problems.append(f"{path}:{annotation.lineno}: 'X | Y' annotation fails on Python 3.9 (use Optional/Union)")
    return problems


def _classes(tree):
    return [node for node in tree.body if isinstance(node, ast.ClassDef)]


def _decoratorNames(classNode):
    names = []
    for decorator in classNode.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        names.append(target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", ""))
    return names


def _baseNames(classNode):
    return [base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "") for base in classNode.bases]


def _annotationKind(annotation):
    """'node:<class>', 'float', 'int', 'bool', 'str', 'path' or 'other' for a parameter annotation."""
    if isinstance(annotation, ast.Subscript):  # Annotated[float, WithinRange(...)], Optional[...]
        inner = annotation.slice
        if isinstance(inner, ast.Tuple):
            validators = [v.func for v in inner.elts[1:] if isinstance(v, ast.Call)]
            if any(getattr(v, "id", getattr(v, "attr", "")) == "Choice" for v in validators):
                return "choice"
            inner = inner.elts[0]
        return _annotationKind(inner)
    name = annotation.attr if isinstance(annotation, ast.Attribute) else getattr(annotation, "id", "")
    if name.startswith("vtkMRML"):
        return "node:" + name
    if name in ("Path", "PurePath", "PosixPath", "WindowsPath"):
        return "path"
    return name if name in ("float", "int", "bool", "str") else "other"


def _annotatedFields(classNode):
    return {
        statement.target.id: statement.annotation
        for statement in classNode.body
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)
    }


def parameterPacks(directory):
    """{class name: {field: kind}} of every @parameterPack class in the .py files under
    ``directory`` (wherever the class is defined, also inside a function that builds it)."""
    packs = {}
    for root, directories, names in os.walk(directory):
        directories[:] = [name for name in directories if name not in ("__pycache__", "Testing", ".venv", ".git")]
        for name in names:
            if name.endswith(".py"):
                for node in ast.walk(ast.parse(_read(os.path.join(root, name)))):
                    if isinstance(node, ast.ClassDef) and "parameterPack" in _decoratorNames(node):
                        packs[node.name] = {field: _annotationKind(annotation) for field, annotation in _annotatedFields(node).items()}
    return packs


def parameterFields(moduleSource, packs=None):
    """{field: kind} of the module's @parameterNodeWrapper class; a field holding a parameter pack
    (a class of ``packs``, see parameterPacks) gives one "field.value" per value of the pack, the
    names its widgets bind to."""
    tree = ast.parse(moduleSource)
    packs = packs or {}
    for classNode in _classes(tree):
        if "parameterNodeWrapper" in _decoratorNames(classNode):
            fields = {}
            for name, annotation in _annotatedFields(classNode).items():
                packName = getattr(annotation, "id", getattr(annotation, "attr", ""))
                if packName in packs:
                    fields.update({f"{name}.{value}": kind for value, kind in packs[packName].items()})
                else:
                    fields[name] = _annotationKind(annotation)
            return fields
    return {}


def _parametersWithoutWidget(moduleSource):
    tree = ast.parse(moduleSource)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "PARAMETERS_WITHOUT_WIDGET" for t in node.targets):
            return set(ast.literal_eval(node.value))
    return set()


def uiWidgets(uiPath):
    """{widget name: (class, {property: value})} of a Qt Designer .ui file."""
    widgets = {}
    for element in ElementTree.parse(uiPath).iter("widget"):
        properties = {}
        for prop in element.findall("property"):
            values = [child for child in prop]
            if not values:
                continue
            value = values[0]
            if value.tag == "stringlist":
                properties[prop.get("name")] = [item.text or "" for item in value.findall("string")]
            else:
                properties[prop.get("name")] = value.text or ""
        widgets[element.get("name")] = (element.get("class"), properties)
    return widgets


def checkUiMatchesCode(moduleDirectory):
    moduleName, _ = cmakeListedFiles(moduleDirectory)
    source = _read(os.path.join(moduleDirectory, moduleName + ".py"))
    uiPath = os.path.join(moduleDirectory, "Resources", "UI", moduleName + ".ui")
    widgets = uiWidgets(uiPath)
    problems = []
    for name in sorted(set(re.findall(r"self\.ui\.(\w+)", source))):
        if name not in widgets:
            problems.append(f"self.ui.{name} is used in {moduleName}.py but {moduleName}.ui has no such widget")
            continue
        for suffix in sorted(WIDGET_CLASSES_BY_SUFFIX, key=len, reverse=True):
            if name.endswith(suffix):
                if widgets[name][0] not in WIDGET_CLASSES_BY_SUFFIX[suffix]:
                    problems.append(
                        f"self.ui.{name} is a {widgets[name][0]} in {moduleName}.ui; its name promises one of "
                        f"{sorted(WIDGET_CLASSES_BY_SUFFIX[suffix])}"
                    )
                break
    fields = parameterFields(source, parameterPacks(os.path.dirname(os.path.abspath(moduleDirectory))))
    bound = {}
    for name, (className, properties) in widgets.items():
        parameter = properties.get("SlicerParameterName")
        if not parameter:
            continue
        bound[parameter] = name
        if parameter not in fields:
            problems.append(f"widget {name} is bound to '{parameter}', which is not a field of the parameter node")
            continue
        kind = fields[parameter]
        if kind.startswith("node:"):
            nodeClass = kind.split(":", 1)[1]
            if className != "qMRMLNodeComboBox" or nodeClass not in properties.get("nodeTypes", []):
                problems.append(f"widget {name} for node parameter '{parameter}' must be a qMRMLNodeComboBox of {nodeClass}")
        elif kind in WIDGET_CLASSES_BY_PARAMETER_TYPE and className not in WIDGET_CLASSES_BY_PARAMETER_TYPE[kind]:
            problems.append(f"widget {name} ({className}) cannot hold the {kind} parameter '{parameter}'")
    exempt = _parametersWithoutWidget(source)
    for field in sorted(set(fields) - set(bound) - exempt):
        problems.append(f"parameter '{field}' has no widget in {moduleName}.ui (or list it in PARAMETERS_WITHOUT_WIDGET)")
    return problems


def _strings(node):
    return [part.value for part in ast.walk(node) if isinstance(part, ast.Constant) and isinstance(part.value, str)]


def checkModuleMetadata(moduleDirectory):
    moduleName, _ = cmakeListedFiles(moduleDirectory)
    tree = ast.parse(_read(os.path.join(moduleDirectory, moduleName + ".py")))
    found = {}
    for classNode in _classes(tree):
        if "ScriptedLoadableModule" not in _baseNames(classNode):
            continue
        for node in ast.walk(classNode):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Attribute) and target.attr in REQUIRED_METADATA:
                        found[target.attr] = "".join(_strings(node.value)).strip()
    return [f"module metadata '{key}' is empty or missing in {moduleName}.py" for key in REQUIRED_METADATA if not found.get(key)]


def checkSelfTestRunsEveryScenario(moduleDirectory):
    """The Slicer test class has a test_<name> method for every scenario pytest runs."""
    moduleName, _ = cmakeListedFiles(moduleDirectory)
    scenarioPath = os.path.join(moduleDirectory, moduleName + "Lib", "selfTestScenarios.py")
    if not os.path.isfile(scenarioPath):
        return [f"{moduleName}Lib/selfTestScenarios.py is missing"]
    scenarios = []
    for node in ast.parse(_read(scenarioPath)).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "SCENARIOS" for t in node.targets):
            scenarios = [element.id for element in node.value.elts]
    tree = ast.parse(_read(os.path.join(moduleDirectory, moduleName + ".py")))
    methods = set()
    for classNode in _classes(tree):
        if "ScriptedLoadableModuleTest" in _baseNames(classNode):
            methods |= {node.name for node in classNode.body if isinstance(node, ast.FunctionDef)}
    return [f"{moduleName}Test has no test_{name} for scenario {name}" for name in scenarios if "test_" + name not in methods]


def checkNodeUnionsAllowNone(moduleDirectory):
    """A parameter that may hold one of several node classes must also allow None: the wrapper
    writes None as the default when the parameter node is created, and Union[A, B] has no
    serializer for it (TypeError in setup(): the panel stays empty). Slicer's parameter-node
    guide: 'typing.Union[vtkMRMLModelNode, vtkMRMLScalarVolumeNode, None] ... The None is necessary'."""
    moduleName, _ = cmakeListedFiles(moduleDirectory)
    tree = ast.parse(_read(os.path.join(moduleDirectory, moduleName + ".py")))
    problems = []
    for classNode in _classes(tree):
        if "parameterNodeWrapper" not in _decoratorNames(classNode):
            continue
        for statement in classNode.body:
            if not (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)):
                continue
            annotation = statement.annotation
            if not (isinstance(annotation, ast.Subscript) and getattr(annotation.value, "id", getattr(annotation.value, "attr", "")) == "Union"):
                continue
            members = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
            names = [getattr(member, "id", getattr(member, "attr", None)) for member in members]
            allowsNone = any(isinstance(member, ast.Constant) and member.value is None for member in members) or "None" in names
            if any(name and name.startswith("vtkMRML") for name in names) and not allowsNone:
                problems.append(f"parameter '{statement.target.id}' is a Union of nodes without None: write Union[..., None]")
    return problems


# Classes of Slicer's loadable modules (Markups, Segmentations, Sequences, Volume rendering, ...):
# they join the `slicer` namespace only when their module is created, after every "ALPPS..." module
# (Slicer creates modules in alphabetical order). Core MRML classes (scalar volume, segmentation,
# table, plot, sequence, transform) are always there.
_LOADABLE_MODULE_CLASS = re.compile(
    r"^vtkMRML(Markups|Annotation|SequenceBrowser|SegmentEditor|VolumeRendering|CropVolume|ColorLegend)\w*$|^vtkSlicer\w+(Logic|Widget)$"
)


def checkNoLoadableModuleClassAtImport(moduleDirectory):
    """The module file must not take a loadable module's class from `slicer` while it runs (top-level
    import, or a name evaluated at class creation such as a parameter annotation): Slicer would
    report "Fail to instantiate module" at a normal start-up (issue 19)."""
    moduleName, _ = cmakeListedFiles(moduleDirectory)
    tree = ast.parse(_read(os.path.join(moduleDirectory, moduleName + ".py")))
    problems = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "slicer":
            problems += [f"{moduleName}.py:{node.lineno}: 'from slicer import {alias.name}' runs before the module providing it is loaded"
                         for alias in node.names if _LOADABLE_MODULE_CLASS.match(alias.name)]
    for classNode in _classes(tree):
        for statement in classNode.body:
            if isinstance(statement, ast.AnnAssign):
                for part in ast.walk(statement.annotation):
                    if (isinstance(part, ast.Attribute) and getattr(part.value, "id", "") == "slicer"
                            and _LOADABLE_MODULE_CLASS.match(part.attr)):
                        problems.append(f"{moduleName}.py:{statement.lineno}: annotation 'slicer.{part.attr}' is evaluated before the "
                                        "module providing it is loaded")
    return problems


# House plan (README, "For developers"): a Lib file a reader can hold in mind, a thin module file.
MAXIMUM_LIB_FILE_LINES = 700
MAXIMUM_MODULE_FILE_LINES = 600


def checkFileSizes(moduleDirectory):
    """No Lib file over MAXIMUM_LIB_FILE_LINES lines, the module file under MAXIMUM_MODULE_FILE_LINES."""
    problems = []
    moduleName = os.path.basename(os.path.normpath(moduleDirectory))
    for path in moduleFiles(moduleDirectory):
        if not path.endswith(".py"):
            continue
        lines = _read(os.path.join(moduleDirectory, path)).count("\n")
        if path == moduleName + ".py" and lines >= MAXIMUM_MODULE_FILE_LINES:
            problems.append(f"{path}: {lines} lines, a module file stays under {MAXIMUM_MODULE_FILE_LINES} (move logic into the Lib)")
        elif path != moduleName + ".py" and lines > MAXIMUM_LIB_FILE_LINES:
            problems.append(f"{path}: {lines} lines, over {MAXIMUM_LIB_FILE_LINES} (split it by what it computes)")
    return problems


ALL_CHECKS = (
    checkFileSizes,
    checkCMakeListsCoverFiles,
    checkPython39Syntax,
    checkUiMatchesCode,
    checkModuleMetadata,
    checkSelfTestRunsEveryScenario,
    checkNodeUnionsAllowNone,
    checkNoLoadableModuleClassAtImport,
)


def allProblems(moduleDirectory):
    return [problem for check in ALL_CHECKS for problem in check(moduleDirectory)]
