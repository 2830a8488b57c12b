"""Stand-ins for slicer.ScriptedLoadableModule, written from Slicer's developer guide ("Scripted
module" and the module template): the module object fills its parent's descriptive attributes; the
widget gets its parent panel and that panel's layout, ``resourcePath``, ``setup``, ``cleanup`` and a
``onReload`` that reloads the module file; the logic finds or creates its singleton parameter node
(a vtkMRMLScriptedModuleNode tagged with the module name)."""

import os
import unittest

import slicer


class ModuleDescription:
    """qSlicerScriptedLoadableModule's Python-visible attributes; others raise."""

    _ATTRIBUTES = ("title", "categories", "dependencies", "contributors", "helpText", "acknowledgementText", "hidden", "icon")

    def __init__(self, path):
        object.__setattr__(self, "path", path)

    def __setattr__(self, name, value):
        if name not in self._ATTRIBUTES:
            raise AttributeError(f"qSlicerScriptedLoadableModule has no attribute '{name}'")
        object.__setattr__(self, name, value)


class ScriptedLoadableModule:
    def __init__(self, parent):
        self.parent = parent
        self.moduleName = type(self).__name__

    def resourcePath(self, filename):
        return os.path.join(os.path.dirname(self.parent.path), "Resources", filename)


class ScriptedLoadableModuleWidget:
    def __init__(self, parent=None):
        self.moduleName = type(self).__name__[: -len("Widget")] if type(self).__name__.endswith("Widget") else type(self).__name__
        self.developerMode = False
        if parent is None:
            raise NotImplementedError("the harness always gives the widget its module panel")
        self.parent = parent
        self.layout = parent.layout()

    def resourcePath(self, filename):
        return os.path.join(os.path.dirname(slicer.util.modulePath(self.moduleName)), "Resources", filename)

    def setup(self):
        pass  # the developer section (reload buttons) is left out: developerMode is False

    def cleanup(self):
        pass

    def onReload(self):
        slicer.util.reloadScriptedModule(self.moduleName)


class ScriptedLoadableModuleLogic:
    def __init__(self, parent=None):
        name = type(self).__name__
        self.moduleName = name[: -len("Logic")] if name.endswith("Logic") else name
        self.isSingletonParameterNode = True

    def getParameterNode(self):
        node = slicer.mrmlScene.GetSingletonNode(self.moduleName, "vtkMRMLScriptedModuleNode")
        if node is None:
            node = slicer.vtkMRMLScriptedModuleNode()
            node.SetSingletonTag(self.moduleName)
            node.SetAttribute("ModuleName", self.moduleName)
            node.SetHideFromEditors(True)
            node = slicer.mrmlScene.AddNode(node)
        elif node.GetAttribute("ModuleName") != self.moduleName:
            node.SetAttribute("ModuleName", self.moduleName)
        return node


class ScriptedLoadableModuleTest(unittest.TestCase):
    def delayDisplay(self, message, msec=None):
        print(message)
