"""PythonQt semantics over PySide6, as Slicer's Python sees Qt objects.

What PythonQt does (PythonQt documentation, "Features"; Slicer's script repository uses it this way):
- a Qt property is a Python attribute: ``w.enabled = False``, ``w.text``, ``combo.currentIndex``; a
  property hides a getter of the same name;
- ``obj.connect("clicked(bool)", f)`` connects by the C++ signature; ``obj.signal.connect(f)`` too;
- a slot is called with as many of the signal's arguments as the Python callable takes;
- an exception in a slot is printed, not raised into the emitter.

Stricter than PythonQt on purpose: setting anything that is not a property raises (PythonQt would
add a Python attribute silently), so a misspelt property fails the test instead of doing nothing.
"""

import ctypes
import inspect

from PySide6 import QtCore, QtWidgets

# Exceptions raised in slots, as PythonQt prints them; the harness session asserts on them.
SLOT_ERRORS = []

# PySide6 6.12.0's Signal.emit and SignalInstance.disconnect return True without a reference of
# their own, so every such call from Python (the stand-ins', the connectors', panelBinding's) takes
# one reference from True; on Python 3.11, where True is not immortal, a long run then aborts with
# "bool_dealloc: deallocating True or False". References given to True and never taken back (a list
# holding them would be freed at exit, and the abort come then) keep True alive for any run.
for _ in range(200_000):
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))


def _propertyNames(obj):
    cls = type(obj)
    names = _PROPERTY_NAMES.get(cls)
    if names is None:
        metaObject = QtCore.QObject.metaObject(obj)
        names = _PROPERTY_NAMES[cls] = frozenset(metaObject.property(i).name() for i in range(metaObject.propertyCount()))
    return names


_PROPERTY_NAMES = {}


def _argumentCount(function):
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind == p.VAR_POSITIONAL for p in parameters):
        return None
    # As PythonQtSignalTarget::call counts them (code->co_argcount, less self for a method): every
    # positional parameter, those with a default too, so a slot `f(self, node=None)` gets the node.
    return sum(1 for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))


def pythonQtSlot(function):
    """The callable PythonQt would call: the signal's arguments cut to what it takes; errors recorded."""
    count = _argumentCount(function)

    def slot(*arguments):
        try:
            function(*(arguments if count is None else arguments[:count]))
        except Exception as error:  # PythonQt prints it and returns to the event loop
            SLOT_ERRORS.append(error)

    slot.wrapped = function
    return slot


class PythonQtObject:
    """Mixin placed before the PySide6 class: properties as attributes, connect by C++ signature.

    Stand-ins written in Python list their C++ signal signatures in ``cppSignals``
    ({"currentNodeChanged(vtkMRMLNode*)": "currentNodeChanged"}), because PySide6 registers a
    Python ``Signal(object)`` under a Python type."""

    cppSignals = {}

    def __getattribute__(self, name):
        if name[:1] != "_" and name in _propertyNames(self):
            return QtCore.QObject.property(self, name)
        if name in ("connect", "disconnect"):
            # Shiboken finds QObject's static connect before the mixin's: PythonQt's comes first.
            return PythonQtObject.__dict__[name].__get__(self)
        return super().__getattribute__(name)

    def __setattr__(self, name, value):
        if name[:1] == "_":
            super().__setattr__(name, value)
            return
        if name not in _propertyNames(self):
            raise AttributeError(f"{type(self).__name__} has no Qt property '{name}'")
        if not QtCore.QObject.setProperty(self, name, value):
            raise TypeError(f"{type(self).__name__}.{name} cannot be set to {value!r}")

    def _signalBySignature(self, signature):
        normalized = QtCore.QMetaObject.normalizedSignature(signature).data().decode()
        for cls in type(self).__mro__:
            known = cls.__dict__.get("cppSignals", {})
            if normalized in known:
                return getattr(self, known[normalized])
        metaObject = QtCore.QObject.metaObject(self)
        matches = []
        for index in range(metaObject.methodCount()):
            method = metaObject.method(index)
            if method.methodType() == QtCore.QMetaMethod.Signal and method.methodSignature().data().decode() == normalized:
                matches.append(method.name().data().decode())
        if not matches:
            raise AttributeError(f"{type(self).__name__} has no signal {signature}")
        arguments = normalized[normalized.index("(") + 1:-1]
        return getattr(self, matches[0])[arguments] if arguments else getattr(self, matches[0])

    def connect(self, signature, slot):
        if not callable(slot):
            raise TypeError(f"connect({signature!r}, ...): the slot is not callable")
        wrapper = pythonQtSlot(slot)
        connections = self.__dict__.setdefault("_pythonQtConnections", [])
        connections.append((signature, slot, wrapper))
        self._signalBySignature(signature).connect(wrapper)
        return True

    def disconnect(self, signature, slot):
        connections = self.__dict__.get("_pythonQtConnections", [])
        for entry in list(connections):
            if entry[0] == signature and entry[1] == slot:
                self._signalBySignature(signature).disconnect(entry[2])
                connections.remove(entry)
                return True
        return False


def _pythonQtClass(base):
    return type(base.__name__, (PythonQtObject, base), {"__module__": __name__})


# Qt widget and layout classes the .ui files and module code use, with PythonQt semantics.
QT_WIDGET_CLASSES = {
    cls.__name__: _pythonQtClass(cls)
    for cls in (
        QtWidgets.QWidget,
        QtWidgets.QPushButton,
        QtWidgets.QToolButton,
        QtWidgets.QCheckBox,
        QtWidgets.QComboBox,
        QtWidgets.QDoubleSpinBox,
        QtWidgets.QSpinBox,
        QtWidgets.QLineEdit,
        QtWidgets.QLabel,
        QtWidgets.QTableWidget,
        QtWidgets.QTextEdit,
        QtWidgets.QVBoxLayout,
        QtWidgets.QHBoxLayout,
        QtWidgets.QFormLayout,
        QtWidgets.QGridLayout,
    )
}
