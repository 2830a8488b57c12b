"""A Slicer-like application around the real module files: the slicer-core scene of
alpps.headless.SlicerContext, PySide6 widgets with PythonQt semantics, and stand-ins for what only
the Slicer application has (see the package docstring for the list and their behaviour)."""

import contextlib
import importlib
import importlib.util
import os
import pkgutil
import re
import sys
import types

from PySide6 import QtCore, QtGui, QtPrintSupport, QtWidgets
from PySide6.QtCore import Property

import slicer
import slicer.util
import slicer_core
from alpps.headless import SlicerContext

from . import mrmlWidgets, otherModules, parameterNodeWrapper, pythonQt, scriptedModule, uiLoader

REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULE_NAMES = ("ALPPSVolumetry", "ALPPSAssessment")

# Classes the Markups loadable module adds to `slicer` when it is created (Slicer imports its
# vtkSlicerMarkupsModule*Python packages then); before that only core MRML classes are there.
_MARKUPS_NAME = re.compile(r"^vtk\w*Markups")
_LOADABLE_MODULE_PACKAGE = re.compile(r"^vtkSlicer\w+Module")


class ModuleInstantiationError(RuntimeError):
    """What Slicer reports as "Fail to instantiate module"."""


class ModulePanel(mrmlWidgets.qMRMLWidget):
    """qSlicerScriptedLoadableModuleWidget: the panel a module widget builds into."""

    def __init__(self):
        super().__init__()
        self._entered = False
        self.setLayout(pythonQt.QT_WIDGET_CLASSES["QVBoxLayout"]())

    isEntered = Property(bool, lambda self: self._entered)


class _ModuleEntry:
    """slicer.modules.<name>: the module's representation, created on first use as in Slicer."""

    def __init__(self, session, name):
        self._session, self._name = session, name

    def widgetRepresentation(self):
        return self._session._panel(self._name)


class _Application:
    """slicer.app: only what the panels call."""

    def __init__(self, session):
        self._session = session
        self.overrideCursorDepth = 0

    def testingEnabled(self):
        return False

    def setOverrideCursor(self, cursor):
        self.overrideCursorDepth += 1

    def restoreOverrideCursor(self):
        self.overrideCursorDepth -= 1

    def processEvents(self):
        QtWidgets.QApplication.processEvents()

    def layoutManager(self):
        return None  # no views here: code that needs them must say so

    def moduleManager(self):
        raise NotImplementedError("slicer.app.moduleManager() is not in the harness")


class _Button:
    def __init__(self, text):
        self.text = text


class _MessageBox:
    """qt.QMessageBox as the panels use it (Qt documentation): buttons added by text or standard
    button, exec_() waits for the user, clickedButton() is the one pressed. The session's answers
    say which button the user presses (by its text); an unexpected question fails the test."""

    AcceptRole, RejectRole, Cancel, Ok = 0, 1, "Cancel", "OK"

    def __init__(self, session, parent=None):
        self._session, self._title, self._text, self._buttons, self._clicked = session, "", "", [], None

    def setWindowTitle(self, title):
        self._title = title

    def setText(self, text):
        self._text = text

    def addButton(self, button, role=None):
        token = _Button(str(button))
        self._buttons.append(token)
        return token

    def exec_(self):
        answer = self._session._answer(f"{self._title} {self._text}", str)
        self._clicked = next((b for b in self._buttons if b.text == answer), None)
        if self._clicked is None:
            raise AssertionError(f"the answer '{answer}' is not a button of '{self._text}'")
        return 0

    def clickedButton(self):
        return self._clicked


class SlicerSession:
    """``with SlicerSession(tmp_path, "5.8") as session: session.startSlicer(); session.enter("ALPPSVolumetry")``.

    Records what a user would see: ``errorsShown`` (error pop-ups), ``statusMessages``,
    ``openedUrls``; ``pythonQt.SLOT_ERRORS`` holds exceptions raised in slots."""

    def __init__(self, workDirectory, bindingVersion="5.12", answers=None):
        if bindingVersion not in ("5.8", "5.12"):
            raise ValueError(f"binding version '{bindingVersion}': expected 5.8 or 5.12")
        self.workDirectory = str(workDirectory)
        self.bindingVersion = bindingVersion
        self.errorsShown = []
        self.statusMessages = []
        self.openedUrls = []
        self.selectedModules = []
        self.restartRequested = False
        # Answers to questions the panels ask (dialog title -> answer), as a user would give them.
        self.answers = dict(answers or {})
        self.totalSegmentatorLogic = None
        self.loadSeriesByUID = None
        self._modules = {}
        self._widgets = {}
        self._panels = {}
        self._entered = None
        self._undo = []

    # --- set-up and tear-down ---

    def _set(self, owner, name, value):
        missing = object()
        old = owner.get(name, missing) if isinstance(owner, dict) else getattr(owner, name, missing)
        self._undo.append((owner, name, old, missing))
        if isinstance(owner, dict):
            owner[name] = value
        else:
            setattr(owner, name, value)

    def __enter__(self):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        self._application = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
        # The Lib packages are imported first, with the real slicer-core namespace, as the tests do.
        for package in ("ALPPSVolumetryLib", "ALPPSAssessmentLib"):
            imported = importlib.import_module(package)
            for info in pkgutil.iter_modules(imported.__path__):
                if info.name != "reportInSlicer":
                    importlib.import_module(f"{package}.{info.name}")
        self.context = SlicerContext(workDirectory=os.path.join(self.workDirectory, "slicer"))
        self._installNamespaces()
        parameterNodeWrapper.BINDING.version = self.bindingVersion
        pythonQt.SLOT_ERRORS.clear()
        return self

    def __exit__(self, *excinfo):
        for name in list(self._widgets):
            with contextlib.suppress(Exception):
                self._widgets[name].cleanup()
        mrmlWidgets.removeSceneObservers()
        for panel in self._panels.values():
            panel.deleteLater()
        for owner, name, old, missing in reversed(self._undo):
            if old is missing:
                if isinstance(owner, dict):
                    owner.pop(name, None)
                elif hasattr(owner, name):
                    delattr(owner, name)
            elif isinstance(owner, dict):
                owner[name] = old
            else:
                setattr(owner, name, old)
        self.context.close()
        parameterNodeWrapper.BINDING.version = "5.12"

    def _installNamespaces(self):
        qtNamespace = types.ModuleType("qt")
        for module in (QtCore, QtGui, QtPrintSupport, QtWidgets):
            for name in dir(module):
                if name.startswith("Q"):
                    setattr(qtNamespace, name, getattr(module, name))
        qtNamespace.Qt = QtCore.Qt
        for name, cls in pythonQt.QT_WIDGET_CLASSES.items():
            setattr(qtNamespace, name, cls)
        qtNamespace.QDesktopServices = types.SimpleNamespace(openUrl=lambda url: self.openedUrls.append(url.toLocalFile()) or True)
        session = self

        class QMessageBox(_MessageBox):
            def __init__(self, parent=None):
                super().__init__(session, parent)

        qtNamespace.QMessageBox = QMessageBox
        ctkNamespace = types.ModuleType("ctk")
        qmrmlNames = {}
        for name, cls in mrmlWidgets.STAND_IN_CLASSES.items():
            (setattr(ctkNamespace, name, cls) if name.startswith("ctk") else qmrmlNames.__setitem__(name, cls))
        i18n = types.ModuleType("slicer.i18n")
        i18n.tr = lambda text: text
        i18n.translate = lambda context, text: text
        pnw = types.ModuleType("slicer.parameterNodeWrapper")
        for name in ("parameterNodeWrapper", "parameterPack", "Choice", "WithinRange", "Default", "GuiConnector", "SlicerParameterNamePropertyName"):
            setattr(pnw, name, getattr(parameterNodeWrapper, name))
        slm = types.ModuleType("slicer.ScriptedLoadableModule")
        for name in ("ScriptedLoadableModule", "ScriptedLoadableModuleWidget", "ScriptedLoadableModuleLogic", "ScriptedLoadableModuleTest"):
            setattr(slm, name, getattr(scriptedModule, name))
        markupsPackage = types.ModuleType("vtkSlicerMarkupsModuleMRMLPython")
        self._markupsClasses = {name: getattr(slicer, name) for name in dir(slicer) if _MARKUPS_NAME.match(name)}
        for name, cls in self._markupsClasses.items():
            setattr(markupsPackage, name, cls)
        # Every other loadable module's classes (slicer-core builds them as slicer_core.vtkSlicer<Module>Module*).
        self._loadableModuleClasses = {}
        for info in pkgutil.iter_modules(slicer_core.__path__):
            if _LOADABLE_MODULE_PACKAGE.match(info.name):
                package = importlib.import_module(f"slicer_core.{info.name}")
                for name in dir(package):
                    if not name.startswith("_") and hasattr(slicer, name) and name not in self._markupsClasses:
                        self._loadableModuleClasses[name] = getattr(slicer, name)
        dicomUtils = types.ModuleType("DICOMLib.DICOMUtils")
        dicomUtils.loadSeriesByUID = lambda uids: self.loadSeriesByUID(uids)
        dicomLib = types.ModuleType("DICOMLib")
        dicomLib.DICOMUtils = dicomUtils
        for name, module in (("qt", qtNamespace), ("ctk", ctkNamespace), ("slicer.i18n", i18n), ("slicer.parameterNodeWrapper", pnw),
                             ("slicer.ScriptedLoadableModule", slm), ("vtkSlicerMarkupsModuleMRMLPython", markupsPackage),
                             ("DICOMLib", dicomLib), ("DICOMLib.DICOMUtils", dicomUtils)):
            self._set(sys.modules, name, module)
        for name in ("i18n", "parameterNodeWrapper", "ScriptedLoadableModule"):
            self._set(slicer, name, sys.modules[f"slicer.{name}"])
        for name, cls in qmrmlNames.items():
            self._set(slicer, name, cls)
        for name in list(self._markupsClasses) + list(self._loadableModuleClasses):
            self._set(slicer, name, None)
            delattr(slicer, name)
        self.modules = types.SimpleNamespace()
        self.modules.plots = types.SimpleNamespace(logic=lambda: self.context.moduleLogic("Plots"))
        self.transformsPanel = otherModules.TransformsPanel()
        self.segmentEditorPanel = otherModules.SegmentEditorPanel()
        self.modules.transforms = otherModules.ModuleWithPanel(self.transformsPanel)
        self.modules.segmenteditor = otherModules.ModuleWithPanel(self.segmentEditorPanel)
        self._set(slicer, "modules", self.modules)
        self._set(slicer, "app", _Application(self))
        self._set(slicer, "dicomDatabase", None)
        self._set(slicer, "qSlicerWebWidget", otherModules.qSlicerWebWidget)
        util = slicer.util
        for name, function in (
            ("loadUI", self._loadUI),
            ("childWidgetVariables", self._childWidgetVariables),
            ("tryWithErrorDisplay", self._tryWithErrorDisplay),
            ("errorDisplay", lambda text, **kwargs: self.errorsShown.append(text)),
            ("showStatusMessage", lambda text, duration=0: self.statusMessages.append(text)),
            ("selectModule", self._selectModule),
            ("getModuleLogic", self._moduleLogic),
            ("modulePath", lambda name: os.path.join(REPOSITORY, name, name + ".py")),
            ("reloadScriptedModule", self.reloadModule),
            ("confirmOkCancelDisplay", lambda text, windowTitle=None, **kwargs: self._answer(windowTitle or text, bool)),
            ("confirmYesNoDisplay", lambda text, windowTitle=None, **kwargs: self._answer(windowTitle or text, bool)),
            ("restart", self._restart),
            ("mainWindow", lambda: None),
        ):
            self._set(util, name, function)

    # --- what the user sees and answers ---

    def _answer(self, question, kind):
        for key, answer in self.answers.items():
            if key in question:
                return kind(answer)
        raise AssertionError(f"the panel asked '{question}', which the test did not expect")

    def openDicomDatabase(self, files):
        """Slicer's DICOM database holding ``files``; DICOMUtils.loadSeriesByUID loads from it."""
        database = otherModules.DicomDatabase(files)
        slicer.dicomDatabase = database
        self.loadSeriesByUID = otherModules.loadSeriesByUIDFrom(database, slicer.mrmlScene)
        return database

    def _restart(self):
        self.restartRequested = True

    @contextlib.contextmanager
    def _tryWithErrorDisplay(self, message=None, show=True, waitCursor=False):
        try:
            if waitCursor:
                slicer.app.setOverrideCursor(None)
            yield
            if waitCursor:
                slicer.app.restoreOverrideCursor()
        except Exception as error:
            if waitCursor:
                slicer.app.restoreOverrideCursor()
            if show:
                self.errorsShown.append(f"{message}\n\n{error}" if message else str(error))
            raise

    def _loadUI(self, path):
        return uiLoader.loadUi(path)

    @staticmethod
    def _childWidgetVariables(widget):
        ui = types.SimpleNamespace()
        for child in widget.findChildren(QtCore.QObject):
            name = QtCore.QObject.objectName(child)
            if name:
                setattr(ui, name, child)
        return ui

    def _selectModule(self, name):
        self.selectedModules.append(name)

    def _moduleLogic(self, name):
        if name == "TotalSegmentator" and self.totalSegmentatorLogic is not None:
            return self.totalSegmentatorLogic
        raise AttributeError(f"slicer.util.getModuleLogic('{name}'): not in the harness")

    def takeErrors(self):
        """Error pop-ups and slot exceptions since the last call, emptied."""
        errors = self.errorsShown + [f"{type(e).__name__}: {e}" for e in pythonQt.SLOT_ERRORS]
        self.errorsShown.clear()
        pythonQt.SLOT_ERRORS.clear()
        return errors

    # --- the module life cycle ---

    def _executeModuleFile(self, name):
        path = slicer.util.modulePath(name)
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        self._set(sys.modules, name, module)
        spec.loader.exec_module(module)
        return module

    def instantiateModule(self, name):
        """What Slicer's scripted module factory does: run the file, create the module object."""
        try:
            module = self._executeModuleFile(name)
            description = scriptedModule.ModuleDescription(slicer.util.modulePath(name))
            getattr(module, name)(description)
        except Exception as error:
            raise ModuleInstantiationError(f"Fail to instantiate module {name}: {type(error).__name__}: {error}") from error
        self._modules[name] = module
        setattr(self.modules, name.lower(), _ModuleEntry(self, name))
        return module

    def loadMarkupsModule(self):
        """The Markups loadable module is created: its classes join the slicer namespace."""
        for name, cls in self._markupsClasses.items():
            setattr(slicer, name, cls)

    def loadOtherLoadableModules(self):
        """The other loadable modules (Segmentations, Sequences, Volumes, ...) are created."""
        for name, cls in self._loadableModuleClasses.items():
            setattr(slicer, name, cls)

    def startSlicer(self):
        """Modules are created in alphabetical order of their names; "ALPPS..." comes before
        every loadable module, whose classes therefore are not in `slicer` while the ALPPS files run."""
        for name in sorted(MODULE_NAMES):
            self.instantiateModule(name)
        self.loadMarkupsModule()
        self.loadOtherLoadableModules()

    def _panel(self, name):
        if name not in self._widgets:
            panel = ModulePanel()
            panel.setMRMLScene(slicer.mrmlScene)
            widget = getattr(self._modules[name], name + "Widget")(panel)
            widget.setup()
            self._panels[name], self._widgets[name] = panel, widget
            setattr(self.modules, name + "Widget", widget)
        return self._panels[name]

    def widget(self, name):
        self._panel(name)
        return self._widgets[name]

    def ui(self, name):
        return self.widget(name).ui

    def enter(self, name):
        """Select the module in the module panel: the previous one exits, this one enters."""
        widget = self.widget(name)
        self.exitCurrent()
        self._panels[name]._entered = True
        self._entered = name
        widget.enter()
        return widget

    def exitCurrent(self):
        if self._entered is not None:
            self._panels[self._entered]._entered = False
            self._widgets[self._entered].exit()
            self._entered = None

    def closeScene(self):
        """File > Close scene."""
        slicer.mrmlScene.Clear(False)

    def reloadModule(self, name):
        """Developer "Reload": the file runs again, the old widget is cleaned up, a new one is set up
        in the same panel (and entered again when the module is shown)."""
        module = self._executeModuleFile(name)
        self._modules[name] = module
        old = self._widgets.pop(name)
        old.cleanup()
        panel = self._panels[name]
        layout = panel.layout()
        while layout.count():
            item = layout.takeAt(0)
            if item.widget() is not None:
                item.widget().hide()
        widget = getattr(module, name + "Widget")(panel)
        widget.setup()
        self._widgets[name] = widget
        setattr(self.modules, name + "Widget", widget)
        if self._entered == name:
            widget.enter()
        return module
