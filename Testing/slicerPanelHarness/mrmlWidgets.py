"""Stand-ins for the CTK and qMRML widgets the ALPPS .ui files use, written from CTK's and Slicer's
documented behaviour (class documentation and the public headers' Q_PROPERTY, slots and signals),
not from their code. Each has only the properties, slots and signals listed here; anything else
raises (see pythonQt.PythonQtObject).

Behaviour kept, because the panels depend on it:
- qMRMLNodeComboBox lists the scene's nodes whose class is one of ``nodeTypes`` (subclasses too
  while ``showChildNodeTypes``), hidden nodes left out; follows node addition and removal and
  scene close as Qt's combo box follows its model (when the current node is removed the next
  listed node becomes current, or none); setCurrentNode of an unlisted node selects none; emits
  currentNodeChanged(vtkMRMLNode*) and currentNodeIDChanged(QString) when the selection changes
  (qMRMLNodeComboBox.cxx setCurrentNodeIDInternal, Qt's qcombobox.cpp rowsRemoved).
- qMRMLTableView shows the table node it is given (setMRMLTableNode takes any node and keeps only a
  table node, as the C++ slot's SafeDownCast does).
- qMRMLTransformSliders shows one transform node; slots setMRMLScene, setMRMLTransformNode,
  resetUnactiveSliders; signal valuesChanged().
- qMRMLWidget re-emits setMRMLScene as mrmlSceneChanged(vtkMRMLScene*), which the .ui files
  connect to their children.
- ctkPathLineEdit keeps ``currentPath`` and emits currentPathChanged(QString); ``filters`` accepts
  CTK's Filter flag names only.
- ctkSliderWidget: a double value clamped to [minimum, maximum] and rounded to ``decimals``, emits
  valueChanged(double).
- ctkCollapsibleButton: ``text`` and ``collapsed``, emits contentsCollapsed(bool).
"""

import weakref

import shiboken6
import vtk
from PySide6 import QtCore, QtWidgets
from PySide6.QtCore import Property, Signal, Slot

from .pythonQt import PythonQtObject, pythonQtSlot


class qMRMLWidget(PythonQtObject, QtWidgets.QWidget):
    mrmlSceneChanged = Signal(object)
    cppSignals = {"mrmlSceneChanged(vtkMRMLScene*)": "mrmlSceneChanged"}

    def __init__(self, parent=None):
        QtWidgets.QWidget.__init__(self, parent)
        self._scene = None

    @Slot(object)
    def setMRMLScene(self, scene):
        self._scene = scene
        self.mrmlSceneChanged.emit(scene)

    def mrmlScene(self):
        return self._scene


class ctkCollapsibleButton(PythonQtObject, QtWidgets.QWidget):
    contentsCollapsed = Signal(bool)
    cppSignals = {"contentsCollapsed(bool)": "contentsCollapsed"}

    def __init__(self, parent=None):
        QtWidgets.QWidget.__init__(self, parent)
        self._text = ""
        self._collapsed = False

    def _getText(self):
        return self._text

    def _setText(self, text):
        self._text = text

    def _getCollapsed(self):
        return self._collapsed

    def _setCollapsed(self, collapsed):
        if collapsed != self._collapsed:
            self._collapsed = collapsed
            self.contentsCollapsed.emit(collapsed)

    text = Property(str, _getText, _setText)
    collapsed = Property(bool, _getCollapsed, _setCollapsed)


# CTK's ctkPathLineEdit::Filter flags (they mirror QDir::Filter).
PATH_FILTERS = {
    "Dirs": 0x001, "Files": 0x002, "Drives": 0x004, "NoSymLinks": 0x008, "AllEntries": 0x007,
    "Readable": 0x010, "Writable": 0x020, "Executable": 0x040, "Modified": 0x080, "Hidden": 0x100,
    "System": 0x200, "AllDirs": 0x400, "CaseSensitive": 0x800, "NoDot": 0x2000, "NoDotDot": 0x4000,
    "NoDotAndDotDot": 0x6000, "NoFilter": -1,
}


class ctkPathLineEdit(PythonQtObject, QtWidgets.QWidget):
    currentPathChanged = Signal(str)
    cppSignals = {"currentPathChanged(QString)": "currentPathChanged"}
    uiSets = {f"ctkPathLineEdit::{name}": value for name, value in PATH_FILTERS.items()}

    def __init__(self, parent=None):
        QtWidgets.QWidget.__init__(self, parent)
        self._path = ""
        self._filters = PATH_FILTERS["AllEntries"] | PATH_FILTERS["NoDotAndDotDot"]

    def _getPath(self):
        return self._path

    def _setPath(self, path):
        if path != self._path:
            self._path = path
            self.currentPathChanged.emit(path)

    def _getFilters(self):
        return self._filters

    def _setFilters(self, filters):
        self._filters = int(filters)

    currentPath = Property(str, _getPath, _setPath)
    filters = Property(int, _getFilters, _setFilters)


class ctkSliderWidget(PythonQtObject, QtWidgets.QWidget):
    valueChanged = Signal(float)
    cppSignals = {"valueChanged(double)": "valueChanged"}

    def __init__(self, parent=None):
        QtWidgets.QWidget.__init__(self, parent)
        self._range = [0.0, 99.0]
        self._value = 0.0
        self._decimals = 2
        self._steps = [1.0, 10.0]
        self._suffix = ""

    def _clamped(self, value):
        return round(min(max(float(value), self._range[0]), self._range[1]), self._decimals)

    def _getValue(self):
        return self._value

    def _setValue(self, value):
        value = self._clamped(value)
        if value != self._value:
            self._value = value
            self.valueChanged.emit(value)

    def _getMinimum(self):
        return self._range[0]

    def _setMinimum(self, value):
        self._range[0] = float(value)
        self._setValue(self._value)

    def _getMaximum(self):
        return self._range[1]

    def _setMaximum(self, value):
        self._range[1] = float(value)
        self._setValue(self._value)

    def _getDecimals(self):
        return self._decimals

    def _setDecimals(self, decimals):
        self._decimals = int(decimals)

    def _getSingleStep(self):
        return self._steps[0]

    def _setSingleStep(self, step):
        self._steps[0] = float(step)

    def _getPageStep(self):
        return self._steps[1]

    def _setPageStep(self, step):
        self._steps[1] = float(step)

    def _getSuffix(self):
        return self._suffix

    def _setSuffix(self, suffix):
        self._suffix = suffix

    value = Property(float, _getValue, _setValue)
    minimum = Property(float, _getMinimum, _setMinimum)
    maximum = Property(float, _getMaximum, _setMaximum)
    decimals = Property(int, _getDecimals, _setDecimals)
    singleStep = Property(float, _getSingleStep, _setSingleStep)
    pageStep = Property(float, _getPageStep, _setPageStep)
    suffix = Property(str, _getSuffix, _setSuffix)


def _observeScene(owner, scene, callback):
    """Observe node addition/removal and scene close on ``scene`` for ``owner`` (one set at a time).
    The observers end with the widget: Qt deletes a widget with its parent, and a callback into a
    deleted widget would crash."""
    for observed, tag in owner.__dict__.get("_sceneObservations", []):
        observed.RemoveObserver(tag)
        if (observed, tag) in SCENE_OBSERVATIONS:
            SCENE_OBSERVATIONS.remove((observed, tag))
    owner._sceneObservations = []
    if scene is None:
        return
    ownerReference = weakref.ref(owner)

    def onSceneEvent(caller, eventName):
        alive = ownerReference()
        if alive is not None and shiboken6.isValid(alive):
            callback()

    tags = [scene.AddObserver(event, onSceneEvent) for event in (scene.NodeAddedEvent, scene.NodeRemovedEvent, scene.EndCloseEvent, scene.EndImportEvent)]
    owner._sceneObservations = [(scene, tag) for tag in tags]
    SCENE_OBSERVATIONS.extend(owner._sceneObservations)


# Every scene observation of the stand-ins, removed when the harness session ends (before its
# scene is destroyed, whose last events would otherwise reach widgets Qt has deleted).
SCENE_OBSERVATIONS = []


def removeSceneObservers():
    while SCENE_OBSERVATIONS:
        scene, tag = SCENE_OBSERVATIONS.pop()
        scene.RemoveObserver(tag)


class qMRMLNodeComboBox(PythonQtObject, QtWidgets.QWidget):
    currentNodeChanged = Signal(object)
    currentNodeIDChanged = Signal(str)
    nodeAdded = Signal(object)
    nodeAboutToBeRemoved = Signal(object)
    cppSignals = {
        "currentNodeChanged(vtkMRMLNode*)": "currentNodeChanged",
        "currentNodeIDChanged(QString)": "currentNodeIDChanged",
        "nodeAdded(vtkMRMLNode*)": "nodeAdded",
        "nodeAboutToBeRemoved(vtkMRMLNode*)": "nodeAboutToBeRemoved",
    }

    def __init__(self, parent=None):
        QtWidgets.QWidget.__init__(self, parent)
        self._scene = None
        self._current = None
        self._flags = {"noneEnabled": False, "addEnabled": True, "removeEnabled": True, "renameEnabled": False,
                       "editEnabled": False, "showChildNodeTypes": True, "showHidden": False, "selectNodeUponCreation": True}
        self._nodeTypes = []
        self._baseName = ""

    def _flag(name):
        return Property(bool, lambda self: self._flags[name], lambda self, value: self._setFlag(name, value))

    noneEnabled = _flag("noneEnabled")
    addEnabled = _flag("addEnabled")
    removeEnabled = _flag("removeEnabled")
    renameEnabled = _flag("renameEnabled")
    editEnabled = _flag("editEnabled")
    showChildNodeTypes = _flag("showChildNodeTypes")
    showHidden = _flag("showHidden")
    selectNodeUponCreation = _flag("selectNodeUponCreation")
    del _flag

    def _setFlag(self, name, value):
        self._flags[name] = bool(value)
        self._refresh()

    def _getNodeTypes(self):
        return list(self._nodeTypes)

    def _setNodeTypes(self, nodeTypes):
        self._nodeTypes = [str(name) for name in nodeTypes]
        self._refresh()

    def _getBaseName(self):
        return self._baseName

    def _setBaseName(self, name):
        self._baseName = name

    nodeTypes = Property("QStringList", _getNodeTypes, _setNodeTypes)
    baseName = Property(str, _getBaseName, _setBaseName)

    def _accepts(self, node):
        if node is None or node.GetScene() is not self._scene:
            return False
        if node.GetHideFromEditors() and not self._flags["showHidden"]:
            return False
        if self._flags["showChildNodeTypes"]:
            return any(node.IsA(name) for name in self._nodeTypes)
        return node.GetClassName() in self._nodeTypes

    def nodes(self):
        """The nodes the drop-down lists, in scene order (not a qMRMLNodeComboBox method: for tests)."""
        if self._scene is None:
            return []
        found = []
        for index in range(self._scene.GetNumberOfNodes()):
            node = self._scene.GetNthNode(index)
            if self._accepts(node):
                found.append(node)
        return found

    def _select(self, node):
        if node is not self._current:
            self._current = node
            self.currentNodeChanged.emit(node)
            self.currentNodeIDChanged.emit(node.GetID() if node else "")

    def _rows(self, nodes):
        """The drop-down's rows as Qt holds them: "None" first when enabled, the nodes, then the
        action items ("Create new ...", "Rename", "Delete") when any is enabled."""
        actions = ["action"] if any(self._flags[name] for name in ("addEnabled", "removeEnabled", "renameEnabled")) else []
        return (["none"] if self._flags["noneEnabled"] else []) + list(nodes) + actions

    def _refresh(self):
        """Follow the scene as QComboBox follows its model (qcombobox.cpp, rowsRemoved/rowsInserted):
        when the current node's row goes, the row now at its position becomes current (the next
        node, or None / an action item, which qMRMLNodeComboBox turns into no node); the first row
        inserted into an empty drop-down becomes current."""
        before = self.__dict__.get("_listed", [])
        nodes = self.nodes()
        self._listed = nodes
        if self._current is not None and not self._accepts(self._current):
            rowsBefore = self._rows(before)
            oldRow = rowsBefore.index(self._current) if self._current in rowsBefore else 0
            rows = self._rows(nodes)
            replacement = rows[min(len(rows) - 1, oldRow)] if rows else None
            self._select(replacement if not isinstance(replacement, str) else None)
        elif self._current is None and not self._rows(before) and nodes:
            self._select(self._rows(nodes)[0] if not isinstance(self._rows(nodes)[0], str) else None)

    @Slot(object)
    def setMRMLScene(self, scene):
        self._scene = scene
        _observeScene(self, scene, self._refresh)
        self._current = self._current if self._accepts(self._current) else None
        self._listed = self.nodes()

    def mrmlScene(self):
        return self._scene

    def currentNode(self):
        return self._current

    def currentNodeID(self):
        return self._current.GetID() if self._current else ""

    @Slot(object)
    def setCurrentNode(self, node):
        if node is not None and not self._accepts(node):
            node = None  # a node it does not list: the C++ widget shows None (or nothing)
        self._select(node)

    @Slot(str)
    def setCurrentNodeID(self, nodeID):
        self.setCurrentNode(self._scene.GetNodeByID(nodeID) if self._scene and nodeID else None)

    def nodeCount(self):
        return len(self.nodes())

    def nodeFromIndex(self, index):
        return self.nodes()[index]

    def addNode(self, className=None):
        """What "Create new ..." in the drop-down does: a node of the first type, selected."""
        if not self._flags["addEnabled"]:
            raise RuntimeError("this node selector does not allow adding nodes")
        className = className or self._nodeTypes[0]
        node = self._scene.AddNewNodeByClass(className, self._baseName or self._scene.GetUniqueNameByString(className[7:-4]))
        self.nodeAdded.emit(node)
        if self._flags["selectNodeUponCreation"]:
            self._select(node)
        return node

    def removeCurrentNode(self):
        if not self._flags["removeEnabled"]:
            raise RuntimeError("this node selector does not allow removing nodes")
        if self._current is not None:
            self.nodeAboutToBeRemoved.emit(self._current)
            self._scene.RemoveNode(self._current)


class qMRMLTableView(PythonQtObject, QtWidgets.QWidget):
    def __init__(self, parent=None):
        QtWidgets.QWidget.__init__(self, parent)
        self._scene = None
        self._tableNode = None

    @Slot(object)
    def setMRMLScene(self, scene):
        self._scene = scene
        if self._tableNode is not None and self._tableNode.GetScene() is not scene:
            self._tableNode = None

    def mrmlScene(self):
        return self._scene

    @Slot(object)
    def setMRMLTableNode(self, node):
        self._tableNode = node if node is not None and node.IsA("vtkMRMLTableNode") else None

    def mrmlTableNode(self):
        return self._tableNode

    def shownCells(self):
        """The column names and rows the view shows (for tests; the C++ view reads the same vtkTable)."""
        if self._tableNode is None:
            return [], []
        table = self._tableNode.GetTable()
        columns = [table.GetColumnName(c) for c in range(table.GetNumberOfColumns())]
        rows = [[table.GetValue(r, c).ToString() for c in range(len(columns))] for r in range(table.GetNumberOfRows())]
        return columns, rows


class qMRMLTransformSliders(PythonQtObject, QtWidgets.QWidget):
    valuesChanged = Signal()
    cppSignals = {"valuesChanged()": "valuesChanged"}
    uiEnums = {"qMRMLTransformSliders::TRANSLATION": 0, "qMRMLTransformSliders::ROTATION": 1}

    def __init__(self, parent=None):
        QtWidgets.QWidget.__init__(self, parent)
        self._scene = None
        self._transformNode = None
        self._title = ""
        self._type = 0
        self._minMaxVisible = True

    def _getTitle(self):
        return self._title

    def _setTitle(self, title):
        self._title = title

    def _getType(self):
        return self._type

    def _setType(self, value):
        self._type = int(value)

    def _getMinMaxVisible(self):
        return self._minMaxVisible

    def _setMinMaxVisible(self, visible):
        self._minMaxVisible = bool(visible)

    Title = Property(str, _getTitle, _setTitle)
    TypeOfTransform = Property(int, _getType, _setType)
    minMaxVisible = Property(bool, _getMinMaxVisible, _setMinMaxVisible)

    @Slot(object)
    def setMRMLScene(self, scene):
        self._scene = scene

    @Slot(object)
    def setMRMLTransformNode(self, node):
        self._transformNode = node if node is not None and node.IsA("vtkMRMLTransformNode") else None

    def mrmlTransformNode(self):
        return self._transformNode

    @Slot()
    def resetUnactiveSliders(self):
        pass

    def shownTranslation(self):
        """Translation (mm) the sliders show (for tests)."""
        if self._transformNode is None:
            return None
        matrix = vtk.vtkMatrix4x4()
        self._transformNode.GetMatrixTransformToParent(matrix)
        return [matrix.GetElement(row, 3) for row in range(3)]


STAND_IN_CLASSES = {
    cls.__name__: cls
    for cls in (qMRMLWidget, ctkCollapsibleButton, ctkPathLineEdit, ctkSliderWidget, qMRMLNodeComboBox, qMRMLTableView, qMRMLTransformSliders)
}

__all__ = list(STAND_IN_CLASSES) + ["STAND_IN_CLASSES", "PATH_FILTERS", "pythonQtSlot", "QtCore"]
