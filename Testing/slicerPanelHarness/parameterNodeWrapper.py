"""Stand-in for slicer.parameterNodeWrapper, written from its documentation (Slicer's developer guide,
"Parameter nodes") and the behaviour read in Slicer's sources at v5.8.1 and v5.12.3; no Slicer code.

- ``@parameterNodeWrapper`` reads the class annotations when the class is created (so every
  annotated type must exist then), keeps typed fields with defaults in a vtkMRMLScriptedModuleNode
  (strings in parameters, nodes as node references), writes defaults the first time, and checks
  Choice and WithinRange on every write.
- Each wrapper instance keeps its own GUI connections. A widget change writes the parameter unless
  that same instance is updating its widgets; every parameter node modification rewrites all the
  instance's widgets.
- ``@parameterPack`` groups typed fields (validated on every write, defaults from the class); a
  wrapper field holding a pack stores each value as its own parameter "field.value" (the pack is
  "in" the node when its first value is), reads as a pack bound to the node whose every write
  stores the whole pack, and is reached by dotted names in getValue/setValue/dataType and in a
  widget's SlicerParameterName ("body.heightCm"), as Slicer's parameterPack.py and wrapper.py do
  (identical at v5.8.1 and v5.12.3).
- ``BINDING.version`` chooses the behaviour that differs between releases:
  "5.8": ``connectGui`` returns None (so ``disconnectGui`` of its result does nothing), a line
         edit's text is written on every parameter change (the cursor jumps to the end), and
         ``disconnectGui`` leaves the instance's observer on the parameter node;
  "5.12": ``connectGui`` returns the tag, a line edit is written only when its text differs, and
         ``disconnectGui`` removes the observer.
  ``connectParametersToGui`` returns the tag in both.
- Widgets bind by their exact class, by the rules of Testing/moduleStaticChecks.py
  (WIDGET_CLASSES_BY_PARAMETER_TYPE, as strict as 5.8); a combo box needs Choice, and its
  connector clears and refills it when created (emitting currentIndexChanged, as Qt does).
"""

import pathlib
import types
import typing

import slicer
import vtk

from moduleStaticChecks import WIDGET_CLASSES_BY_PARAMETER_TYPE

SlicerParameterNamePropertyName = "SlicerParameterName"

BINDING = types.SimpleNamespace(version="5.12")


class Choice:
    def __init__(self, choices):
        self.choices = list(choices)


class WithinRange:
    def __init__(self, minimum, maximum):
        self.minimum, self.maximum = minimum, maximum


class Default:
    def __init__(self, value):
        self.value = value


def _split(annotation):
    if typing.get_origin(annotation) is typing.Annotated:
        base, *extras = typing.get_args(annotation)
        return base, extras
    return annotation, []


def _isNodeClass(cls):
    return isinstance(cls, type) and issubclass(cls, slicer.vtkMRMLNode)


class _Field:
    def __init__(self, name, annotation, default):
        self.name = name
        self.annotation = annotation
        self.base, extras = _split(annotation)
        self.choice = next((e for e in extras if isinstance(e, Choice)), None)
        self.range = next((e for e in extras if isinstance(e, WithinRange)), None)
        if typing.get_origin(self.base) is typing.Union:
            members = typing.get_args(self.base)
            self.nodeClasses = [m for m in members if m is not type(None)]
            self.allowsNone = type(None) in members
            if not all(_isNodeClass(m) for m in self.nodeClasses):
                raise TypeError(f"parameter '{name}': no serializer for {self.base}")
            self.kind = "node"
        elif _isNodeClass(self.base):
            self.nodeClasses, self.allowsNone, self.kind = [self.base], True, "node"
        elif self.base in (bool, int, float, str):
            self.kind = self.base.__name__
        elif isinstance(self.base, type) and issubclass(self.base, pathlib.PurePath):
            self.kind = "path"
        elif isParameterPack(self.base):
            self.kind = "pack"
        else:
            raise TypeError(f"parameter '{name}': the harness has no serializer for {self.base}")
        self.default = default if default is not _NO_DEFAULT else {
            "bool": False, "int": 0, "float": 0.0, "str": "", "node": None}.get(self.kind, None)
        if self.kind in ("path", "pack") and default is _NO_DEFAULT:
            self.default = self.base()

    def check(self, value):
        if self.kind == "pack":
            if not isinstance(value, self.base):
                raise ValueError(f"parameter '{self.name}' must be a {self.base.__name__}, got {value!r}")
            return value
        if self.kind == "node":
            if value is None:
                if not self.allowsNone:
                    raise TypeError(f"parameter '{self.name}' cannot be None: {self.annotation} has no None")
                return value
            if not any(isinstance(value, cls) for cls in self.nodeClasses):
                raise TypeError(f"parameter '{self.name}' must be one of {[c.__name__ for c in self.nodeClasses]}, got {value.GetClassName()}")
            return value
        if self.kind == "path":
            return self.base(value)
        if not isinstance(value, self.base) and not (self.base is float and isinstance(value, int) and not isinstance(value, bool)):
            raise TypeError(f"parameter '{self.name}' must be {self.base.__name__}, got {value!r}")
        if self.choice is not None and value not in self.choice.choices:
            raise ValueError(f"parameter '{self.name}': {value!r} is not one of {self.choice.choices}")
        if self.range is not None and not self.range.minimum <= value <= self.range.maximum:
            raise ValueError(f"parameter '{self.name}': {value} is outside [{self.range.minimum}, {self.range.maximum}]")
        return self.base(value)

    def _subfields(self):
        return [(f"{self.name}.{name}", field) for name, field in self.base.allParameters.items()]

    def isIn(self, node):
        if self.kind == "pack":
            # As Slicer's ParameterPackSerializer.isIn: the pack is there when its first value is.
            return self.base.allParameters[next(iter(self.base.allParameters))].renamed(f"{self.name}.").isIn(node)
        return node.HasParameter(self.name)

    def write(self, node, value):
        value = self.check(value)
        if self.kind == "pack":
            with NodeModify(node):
                for name, field in value.allParameters.items():
                    field.renamed(f"{self.name}.").write(node, getattr(value, name))
            return
        if self.kind == "node":
            node.SetParameter(self.name, "")
            node.SetNodeReferenceID(self.name, value.GetID() if value is not None else None)
        else:
            node.SetParameter(self.name, str(value))

    def renamed(self, prefix):
        """This field stored under ``prefix + name`` (a pack's value inside a wrapper field)."""
        copy = _Field.__new__(_Field)
        copy.__dict__.update(self.__dict__, name=prefix + self.name)
        return copy

    def read(self, node):
        if self.kind == "pack":
            values = {name: field.renamed(f"{self.name}.").read(node) for name, field in self.base.allParameters.items()}
            return _observedPack(self.base, node, self, values)
        if self.kind == "node":
            return node.GetNodeReference(self.name)
        text = node.GetParameter(self.name)
        if self.kind == "bool":
            return text == "True"
        if self.kind == "path":
            return self.base(text)
        return self.base(text)


_NO_DEFAULT = object()


def _splitDotted(dottedName):
    """"x" -> ("x", None); "x.y.z" -> ("x", "y.z")."""
    top, _, rest = dottedName.partition(".")
    return top, rest or None


# --- parameter packs ----------------------------------------------------------------------------


def isParameterPack(obj):
    return getattr(obj, "_is_parameterPack", False)


def _packField(packClass, dottedName):
    top, rest = _splitDotted(dottedName)
    if top not in packClass.allParameters:
        raise ValueError(f"{packClass.__name__} has no member '{top}'")
    field = packClass.allParameters[top]
    if rest is None:
        return field
    if field.kind != "pack":
        raise ValueError(f"{field.base} is not a parameter pack but expects to have '{rest}'")
    return _packField(field.base, rest)


def parameterPack(cls=None):
    """A class of typed, validated values with defaults, usable as one field of a parameter node wrapper."""
    if cls is None:
        return parameterPack
    hints = typing.get_type_hints(cls, include_extras=True)
    if not hints:
        raise ValueError("Unable to find any members in parameterPack")
    fields = {name: _Field(name, annotation, cls.__dict__.get(name, _NO_DEFAULT)) for name, annotation in hints.items()}
    for field in fields.values():
        try:
            field.check(field.default)
        except Exception as error:
            raise ValueError(f"The default parameter of '{field.default}' fails the validation checks:\n  {error}") from None

    def __init__(self, **values):
        unknown = set(values) - set(fields)
        if unknown:
            raise TypeError(f"__init__() got an unexpected keyword argument '{sorted(unknown)[0]}'")
        for name, field in fields.items():
            object.__setattr__(self, f"_{name}_value", field.check(values.get(name, field.default)))

    def _property(field):
        def setter(self, value):
            object.__setattr__(self, f"_{field.name}_value", field.check(value))
            self._save()
        return property(lambda self: getattr(self, f"_{field.name}_value"), setter)

    def __eq__(self, other):
        return isinstance(other, packClass) and all(getattr(self, name) == getattr(other, name) for name in fields)

    def getValue(self, dottedName):
        top, rest = _splitDotted(dottedName)
        _packField(packClass, top)
        value = getattr(self, top)
        return value if rest is None else value.getValue(rest)

    def setValue(self, dottedName, value):
        top, rest = _splitDotted(dottedName)
        _packField(packClass, top)
        if rest is None:
            setattr(self, top, value)
        else:
            getattr(self, top).setValue(rest, value)
            self._save()

    def __repr__(self):
        return f"{cls.__name__}({', '.join(f'{name}={getattr(self, name)!r}' for name in fields)})"

    namespace = {k: v for k, v in cls.__dict__.items() if k not in fields and k not in ("__dict__", "__weakref__")}
    namespace.update(allParameters=fields, _is_parameterPack=True, __init__=__init__, __eq__=__eq__, __repr__=__repr__,
                     getValue=getValue, setValue=setValue, _save=lambda self: None,
                     dataType=staticmethod(lambda dottedName: _packField(packClass, dottedName).annotation))
    namespace.update({name: _property(field) for name, field in fields.items()})
    packClass = type(cls.__name__, (), namespace)
    return packClass


def _observedPack(packClass, node, field, values):
    """A pack read from a parameter node: each write stores the whole pack in the node (Slicer's
    ObservedParameterPack._save), so ``wrapper.body.heightCm = 170`` reaches the scene."""
    pack = packClass(**values)
    object.__setattr__(pack, "_save", lambda: field.write(node, pack))
    return pack


class GuiConnector:
    """The documented connector contract: onChanged(callback) connects (None disconnects),
    changed() calls the callback, read()/write() convert between widget and value."""

    def __init__(self):
        self._callback = None

    def onChanged(self, callback):
        self._callback = callback
        if callback is None:
            self._disconnect()
        else:
            self._connect()

    def changed(self, *ignored):
        if self._callback:
            self._callback()

    def _connect(self):
        raise NotImplementedError

    def _disconnect(self):
        raise NotImplementedError

    def widget(self):
        raise NotImplementedError

    def read(self):
        raise NotImplementedError

    def write(self, value):
        raise NotImplementedError


class _SignalConnector(GuiConnector):
    signal = None

    def __init__(self, widget, field):
        super().__init__()
        self._widget = widget
        self._field = field

    def _connect(self):
        getattr(self._widget, self.signal).connect(self.changed)

    def _disconnect(self):
        getattr(self._widget, self.signal).disconnect(self.changed)

    def widget(self):
        return self._widget


class _CheckConnector(_SignalConnector):
    signal = "toggled"

    def __init__(self, widget, field):
        super().__init__(widget, field)
        if type(widget).__name__ == "QPushButton":
            widget.checkable = True

    def read(self):
        return self._widget.checked

    def write(self, value):
        self._widget.checked = value


class _NumberConnector(_SignalConnector):
    signal = "valueChanged"

    def read(self):
        return self._field.base(self._widget.value)

    def write(self, value):
        self._widget.value = value


class _ComboConnector(_SignalConnector):
    signal = "currentIndexChanged"

    def __init__(self, widget, field):
        super().__init__(widget, field)
        if field.choice is None:
            raise RuntimeError(f"parameter '{field.name}': a combo box needs the Choice annotation")
        widget.clear()
        for choice in field.choice.choices:
            widget.addItem(str(choice))

    def read(self):
        return self._field.choice.choices[self._widget.currentIndex]

    def write(self, value):
        self._widget.currentIndex = self._field.choice.choices.index(value)


class _LineEditConnector(_SignalConnector):
    signal = "textChanged"

    def read(self):
        return self._widget.text

    def write(self, value):
        if BINDING.version == "5.8" or value != self._widget.text:
            self._widget.text = value


class _LabelConnector(_SignalConnector):
    def _connect(self):
        pass

    def _disconnect(self):
        pass

    def read(self):
        return self._widget.text

    def write(self, value):
        self._widget.text = value


class _PathConnector(_SignalConnector):
    signal = "currentPathChanged"

    def read(self):
        return self._field.base(self._widget.currentPath)

    def write(self, value):
        self._widget.currentPath = str(value)


class _NodeConnector(_SignalConnector):
    signal = "currentNodeChanged"

    def __init__(self, widget, field):
        super().__init__(widget, field)
        widget.nodeTypes = [cls.__name__ for cls in field.nodeClasses]

    def read(self):
        return self._widget.currentNode()

    def write(self, value):
        self._widget.setCurrentNode(value)


_CONNECTORS = {"bool": _CheckConnector, "float": _NumberConnector, "int": _NumberConnector, "choice": _ComboConnector,
               "str": None, "path": _PathConnector, "node": _NodeConnector}


def _connectorFor(widget, field):
    className = type(widget).__name__
    kind = "choice" if field.choice is not None and className in WIDGET_CLASSES_BY_PARAMETER_TYPE["choice"] else field.kind
    if className not in WIDGET_CLASSES_BY_PARAMETER_TYPE.get(kind, ()):
        raise RuntimeError(f"parameter '{field.name}' ({kind}) cannot be connected to a {className}")
    if kind == "str":
        return (_LineEditConnector if className == "QLineEdit" else _LabelConnector)(widget, field)
    return _CONNECTORS[kind](widget, field)


class NodeModify:
    def __init__(self, node):
        self.node = node

    def __enter__(self):
        self.wasModifying = self.node.StartModify()

    def __exit__(self, *excinfo):
        self.node.EndModify(self.wasModifying)


def _makeClass(cls):
    hints = typing.get_type_hints(cls, include_extras=True)  # evaluated now, as Slicer does
    fields = {name: _Field(name, annotation, cls.__dict__.get(name, _NO_DEFAULT)) for name, annotation in hints.items()}
    for field in fields.values():
        field.check(field.default)  # a default the field refuses fails here, as in Slicer
    namespace = {"allParameters": fields, "_is_parameter_node_wrapper": True}

    def __init__(self, parameterNode):
        self.parameterNode = parameterNode
        self._guis = {}
        self._nextTag = 0
        self._observerTags = {}
        self._updatingGui = False
        for field in fields.values():
            if not field.isIn(parameterNode):
                field.write(parameterNode, field.default)

    def _property(field):
        return property(lambda self: field.read(self.parameterNode), lambda self, value: self._write(field, value))

    def _write(self, field, value):
        with NodeModify(self.parameterNode):
            field.write(self.parameterNode, value)

    def _checkedName(name):
        top, rest = _splitDotted(name)
        if top not in fields:
            raise ValueError(f"Cannot find a param with the given name: {top}")
        if rest is not None:
            if fields[top].kind != "pack":
                raise ValueError(f"{fields[top].base} is not a parameter pack but expects to have '{rest}'")
            _packField(fields[top].base, rest)
        return top, rest

    def getValue(self, name):
        top, rest = _checkedName(name)
        value = fields[top].read(self.parameterNode)
        return value if rest is None else value.getValue(rest)

    def setValue(self, name, value):
        top, rest = _checkedName(name)
        if rest is None:
            self._write(fields[top], value)
        else:
            with NodeModify(self.parameterNode):
                fields[top].read(self.parameterNode).setValue(rest, value)

    def _fieldOf(name):
        """The field a (possibly dotted) name stands for, to build its connector."""
        top, rest = _checkedName(name)
        return fields[top] if rest is None else _packField(fields[top].base, rest)

    def dataType(self, name):
        return _fieldOf(name).annotation

    def default(self, name):
        return Default(fields[name].default)

    def _updateGui(self):
        if self._updatingGui:
            return
        self._updatingGui = True
        try:
            for mapping in list(self._guis.values()):
                for name, connector in mapping.items():
                    connector.write(self.getValue(name))
        finally:
            self._updatingGui = False

    def connectParametersToGui(self, mapping):
        connectors = {}
        for name, target in mapping.items():
            connectors[name] = target if isinstance(target, GuiConnector) else _connectorFor(target, _fieldOf(name))
        tag = self._nextTag
        self._nextTag += 1
        self._guis[tag] = connectors
        for name, connector in connectors.items():
            connector.write(self.getValue(name))

            def callback(name=name, connector=connector):
                with NodeModify(self.parameterNode):
                    if not self._updatingGui:
                        self.setValue(name, connector.read())

            connector.onChanged(callback)
        self._observerTags[tag] = self.parameterNode.AddObserver(vtk.vtkCommand.ModifiedEvent, lambda caller, event: self._updateGui())
        return tag

    def connectGui(self, gui):
        widgets = gui.findChildren(object) if hasattr(gui, "findChildren") else list(vars(gui).values())
        mapping = {}
        for widget in widgets:
            name = widget.property(SlicerParameterNamePropertyName) if hasattr(widget, "property") else None
            if name:
                mapping[name] = widget
        tag = self.connectParametersToGui(mapping)
        return None if BINDING.version == "5.8" else tag

    def disconnectGui(self, tag):
        if tag in self._guis:
            for connector in self._guis.pop(tag).values():
                connector.onChanged(None)
        if BINDING.version != "5.8" and tag in self._observerTags:
            self.parameterNode.RemoveObserver(self._observerTags.pop(tag))

    def connectedGuiCount(self):
        """Connections this instance still holds (for tests)."""
        return len(self._guis)

    for function in (__init__, _write, getValue, setValue, dataType, default, _updateGui, connectParametersToGui, connectGui, disconnectGui, connectedGuiCount):
        namespace[function.__name__] = function
    namespace["StartModify"] = lambda self: self.parameterNode.StartModify()
    namespace["EndModify"] = lambda self, wasModified: self.parameterNode.EndModify(wasModified)
    namespace["AddObserver"] = lambda self, event, callback, priority=0.0: self.parameterNode.AddObserver(event, callback, priority)
    namespace["RemoveObserver"] = lambda self, tag: self.parameterNode.RemoveObserver(tag)
    namespace["Modified"] = lambda self: self.parameterNode.Modified()
    for field in fields.values():
        namespace[field.name] = _property(field)
    return type(cls.__name__, (), {**{k: v for k, v in cls.__dict__.items() if k not in fields and k not in ("__dict__", "__weakref__")}, **namespace})


def parameterNodeWrapper(cls=None):
    if cls is None:
        return _makeClass
    return _makeClass(cls)
