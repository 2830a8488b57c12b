"""Panel test harness: the real module files (ALPPSVolumetry.py, ALPPSAssessment.py and their .ui
files) executed over PySide6 with PythonQt semantics and a real slicer-core scene. Test-only: it is
not part of the extension.

- pythonQt: properties as attributes, connect by C++ signature, unknown properties raise;
- mrmlWidgets: qMRMLNodeComboBox, qMRMLTableView, qMRMLTransformSliders, qMRMLWidget,
  ctkCollapsibleButton, ctkPathLineEdit, ctkSliderWidget stand-ins;
- uiLoader: slicer.util.loadUI over those classes (unknown class, property or signal raises);
- parameterNodeWrapper: typed fields and GUI binding with Slicer 5.8 or 5.12 behaviour;
- scriptedModule: ScriptedLoadableModule, ...Widget, ...Logic, ...Test;
- session: slicer.app, slicer.modules, slicer.util helpers, module start-up in alphabetical order
  (the classes of Markups and of the other loadable modules join `slicer` only when those modules
  are created, after the ALPPS files ran), enter/exit, scene close, reload;
- otherModules: the DICOM database, DICOMUtils.loadSeriesByUID, the Transforms and Segment Editor
  panels, qSlicerWebWidget (its PDF printing contract, no rendering). VTKObservationMixin is
  slicer-core's own.

Extending it: a new parameter field bound in a .ui needs nothing here when its widget class is
already known (Testing/panelSettings.py finds every SlicerParameterName widget, changes it as a user
would and reads it back, so the leave/re-enter, reload and scene-close tests cover it at once). A
new widget class needs its class in pythonQt.QT_WIDGET_CLASSES (Qt) or a stand-in in mrmlWidgets
(CTK/qMRML, with only the documented properties, slots and signals), its binding rule in
Testing/moduleStaticChecks.py and a connector in parameterNodeWrapper, and a reading and a user
change in panelSettings.

What it cannot prove: that Slicer's real Qt, CTK and qMRML classes behave as the stand-ins do,
rendering, and Slicer's DICOM browser and exporters (see README, "What the panel harness proves").
"""

from .session import ModuleInstantiationError, SlicerSession  # noqa: F401
