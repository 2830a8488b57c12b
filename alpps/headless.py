"""A Slicer-like context on slicer-core, so that ALPPS logic runs without the Slicer application.

Inside Slicer the application builds the scene, the application logic and every module logic.
Outside it nobody does, and several things then fail quietly (segment conversions cannot create
a binary labelmap until the Segmentations logic has registered its converter rules; a
sequence browser cannot be created before the Sequences logic exists; reading a .mrb needs a
cache manager). This module builds the same wiring, in the order Slicer uses, once per context.
"""

import os
import shutil
import tempfile

import slicer
from vtkmodules.vtkCommonCore import VTK_STRING, vtkCollection, vtkCommand, vtkOutputWindow

# Module logics ALPPS relies on, under the names Slicer registers them with.
# The application logic keeps weak pointers only, so the context holds the references.
_MODULE_LOGIC_CLASSES = (
    ("Colors", "vtkSlicerColorLogic"),
    ("Segmentations", "vtkSlicerSegmentationsModuleLogic"),
    ("Volumes", "vtkSlicerVolumesLogic"),
    ("Tables", "vtkSlicerTablesLogic"),
    ("Markups", "vtkSlicerMarkupsLogic"),
    ("Plots", "vtkSlicerPlotsLogic"),
    ("SubjectHierarchy", "vtkSlicerSubjectHierarchyModuleLogic"),
    ("Sequences", "vtkSlicerSequencesLogic"),
    ("Transforms", "vtkSlicerTransformLogic"),
)


class SlicerContext:
    """A scene with its application logic and module logics, as the Slicer application has them.

    ``installGlobals=True`` also sets ``slicer.mrmlScene`` so that the ``slicer.util`` helpers
    that look it up work; ALPPS logic itself always receives the scene or nodes explicitly.
    """

    def __init__(self, workDirectory=None, installGlobals=True):
        self._ownsWorkDirectory = workDirectory is None
        self.workDirectory = workDirectory or tempfile.mkdtemp(prefix="alpps-slicer-")
        os.makedirs(self.workDirectory, exist_ok=True)
        self.scene = slicer.vtkMRMLScene()
        self.applicationLogic = slicer.vtkSlicerApplicationLogic()
        self.applicationLogic.SetMRMLScene(self.scene)
        self.applicationLogic.SetSliceLogics(vtkCollection())
        self.applicationLogic.SetViewLogics(vtkCollection())
        self.applicationLogic.SetTemporaryPath(self._subdirectory("temp"))
        # The colour logic looks for Slicer's colour files under the home and share directories;
        # the wheel ships none, so point both at empty folders (it then builds the built-in tables).
        self.applicationLogic.SetHomeDirectory(self._subdirectory("home"))
        self.applicationLogic.SetShareDirectory("share")  # relative to the home directory
        self._subdirectory(os.path.join("home", "share", "ColorFiles"))
        self.moduleLogics = {}
        for moduleName, className in _MODULE_LOGIC_CLASSES:
            logic = getattr(slicer, className)()
            logic.SetMRMLApplicationLogic(self.applicationLogic)
            logic.SetMRMLScene(self.scene)
            self.applicationLogic.SetModuleLogic(moduleName, logic)
            self.moduleLogics[moduleName] = logic
        # Reading scene bundles goes through the data I/O manager and its cache.
        self._remoteIOLogic = slicer.vtkMRMLRemoteIOLogic()
        self._remoteIOLogic.SetMRMLScene(self.scene)
        self._remoteIOLogic.GetCacheManager().SetRemoteCacheDirectory(self._subdirectory("cache"))
        self._dataIOManagerLogic = slicer.vtkDataIOManagerLogic()
        self._dataIOManagerLogic.SetMRMLApplicationLogic(self.applicationLogic)
        self._dataIOManagerLogic.SetMRMLScene(self.scene)
        self.scene.SetDataIOManager(self._remoteIOLogic.GetDataIOManager())
        self.scene.SetCacheManager(self._remoteIOLogic.GetCacheManager())
        if installGlobals:
            slicer.mrmlScene = self.scene

    def _subdirectory(self, name):
        path = os.path.join(self.workDirectory, name)
        os.makedirs(path, exist_ok=True)
        return path

    def moduleLogic(self, moduleName):
        try:
            return self.moduleLogics[moduleName]
        except KeyError:
            raise KeyError(
                f"The headless context has no '{moduleName}' module logic; "
                f"available: {', '.join(sorted(self.moduleLogics))}"
            ) from None

    def saveSceneBundle(self, path):
        """Write the whole scene as a Slicer scene bundle (.mrb) that Slicer opens as is."""
        if not path.lower().endswith(".mrb"):
            raise ValueError(f"Scene bundle path '{path}' must end in .mrb")
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        if not self.scene.WriteToMRB(path):
            raise IOError(f"Slicer could not write the scene bundle '{path}'")
        return path

    def loadSceneBundle(self, path):
        """Replace the scene's content with a .mrb, as File > Load scene does in Slicer."""
        from ALPPSVolumetryLib.inputs.sceneBundles import UnpackedSceneBundle

        # Unpacked here (every entry checked first) rather than by Slicer's ReadFromMRB, which
        # trusts entry names and changes the working directory while it unzips.
        with UnpackedSceneBundle(path, self._subdirectory("bundles")) as sceneFile:
            self.scene.Clear(False)
            self.scene.SetURL(sceneFile)
            connected = self.scene.Connect()
            self.scene.SetURL(os.path.abspath(path))
            # Relative file names are resolved against the root folder: never the removed unpacked one.
            self.scene.SetRootDirectory(os.path.dirname(os.path.abspath(path)))
        if not connected:
            raise IOError(f"Slicer could not read the scene bundle '{path}'")
        return self.scene

    def close(self):
        self.scene.Clear(True)
        if slicer.__dict__.get("mrmlScene") is self.scene:
            del slicer.mrmlScene
        if self._ownsWorkDirectory:
            shutil.rmtree(self.workDirectory, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *excinfo):
        self.close()


class VTKErrorCollector:
    """Collects VTK error messages, which VTK only prints and never raises.

    Used as ``with VTKErrorCollector() as errors: ...``; ``errors.messages`` then lists them.
    """

    def __init__(self):
        self.messages = []
        self._observerTag = None
        self._outputWindow = None

    def _onError(self, caller, event, callData=None):
        self.messages.append(str(callData) if callData is not None else event)

    _onError.CallDataType = VTK_STRING

    def __enter__(self):
        self._outputWindow = vtkOutputWindow.GetInstance()
        self._observerTag = self._outputWindow.AddObserver(vtkCommand.ErrorEvent, self._onError)
        return self

    def __exit__(self, *excinfo):
        self._outputWindow.RemoveObserver(self._observerTag)
