"""Builds a Qt Designer .ui file into PythonQt-flavoured widgets, as slicer.util.loadUI does with
Slicer's designer plugins: every class must be known (Qt classes of pythonQt.QT_WIDGET_CLASSES or a
stand-in of mrmlWidgets), every property must exist on it and accept the value, and every
connection must name an existing signal and slot. Anything else raises UiLoadError."""

import xml.etree.ElementTree as ElementTree

import shiboken6

from PySide6 import QtCore, QtWidgets

from .mrmlWidgets import STAND_IN_CLASSES
from .pythonQt import QT_WIDGET_CLASSES, pythonQtSlot


class UiLoadError(Exception):
    pass


def widgetClass(className):
    cls = QT_WIDGET_CLASSES.get(className) or STAND_IN_CLASSES.get(className)
    if cls is None:
        raise UiLoadError(f"no widget class '{className}' (not a Qt class the harness has, nor a CTK/qMRML stand-in)")
    return cls


def _qtFlag(cls, text):
    """'Qt::Horizontal', 'Qt::A|Qt::B', 'ctkPathLineEdit::Dirs|...' to the value Qt or the stand-in defines."""
    value = 0
    for part in text.split("|"):
        scope, _, name = part.strip().partition("::")
        known = {**getattr(cls, "uiEnums", {}), **getattr(cls, "uiSets", {})}
        if part.strip() in known:
            flag = known[part.strip()]
        elif scope == "Qt" and hasattr(QtCore.Qt, name):
            flag = getattr(QtCore.Qt, name)
        elif hasattr(cls, name):
            flag = getattr(cls, name)
        else:
            raise UiLoadError(f"{cls.__name__}: unknown enum or flag value '{part}'")
        value = flag if value == 0 else value | flag
    return value


def _propertyValue(cls, element):
    if len(element) != 1:
        raise UiLoadError(f"property '{element.get('name')}' has {len(element)} values")
    value = element[0]
    tag, text = value.tag, value.text or ""
    if tag in ("string", "cstring"):
        return text
    if tag == "bool":
        return text == "true"
    if tag == "number":
        return int(text)
    if tag == "double":
        return float(text)
    if tag == "stringlist":
        return [item.text or "" for item in value.findall("string")]
    if tag in ("enum", "set"):
        return _qtFlag(cls, text)
    raise UiLoadError(f"property '{element.get('name')}': value type <{tag}> is not handled by the harness")


def _setProperties(widget, element):
    for prop in element.findall("property"):
        name = prop.get("name")
        value = _propertyValue(type(widget), prop)
        if prop.get("stdset") == "0":
            # A dynamic property (SlicerParameterName): Qt keeps it on the object.
            QtCore.QObject.setProperty(widget, name, value)
        else:
            setattr(widget, name, value)


def _buildLayout(element, parentWidget, named):
    layout = widgetClass(element.get("class"))()
    layout.setObjectName(element.get("name") or "")
    if parentWidget is not None:
        parentWidget.setLayout(layout)
    for item in element.findall("item"):
        child = item.find("widget")
        if child is None:
            if item.find("spacer") is not None:
                layout.addStretch() if hasattr(layout, "addStretch") else None
                continue
            raise UiLoadError(f"layout {element.get('name')}: an item other than a widget or spacer")
        widget = _buildWidget(child, None, named)
        if isinstance(layout, QtWidgets.QFormLayout):
            row = int(item.get("row"))
            column = int(item.get("column", "0"))
            role = QtWidgets.QFormLayout.SpanningRole if item.get("colspan") == "2" else (
                QtWidgets.QFormLayout.LabelRole if column == 0 else QtWidgets.QFormLayout.FieldRole)
            layout.setWidget(row, role, widget)
        else:
            layout.addWidget(widget)
    return layout


def _buildWidget(element, parent, named):
    cls = widgetClass(element.get("class"))
    widget = cls(parent)
    widget.setObjectName(element.get("name"))
    named[element.get("name")] = widget
    _setProperties(widget, element)
    for item in element.findall("item"):  # combo box items
        widget.addItem(_propertyValue(cls, item.find("property")))
    layoutElement = element.find("layout")
    if layoutElement is not None:
        _buildLayout(layoutElement, widget, named)
    for child in element.findall("widget"):
        _buildWidget(child, widget, named)
    return widget


def _slotOf(receiver, signature):
    name = signature.split("(", 1)[0]
    slot = getattr(receiver, name, None)
    if not callable(slot):
        raise UiLoadError(f"{type(receiver).__name__} has no slot {signature}")
    return slot


def loadUi(path):
    """The top widget of the .ui file, children built, properties set, connections made."""
    root = ElementTree.parse(path).getroot()
    named = {}
    try:
        top = _buildWidget(root.find("widget"), None, named)
    except Exception:
        # Delete what was built: half-built widgets left to the garbage collector crash Qt later.
        for widget in reversed(list(named.values())):
            if shiboken6.isValid(widget):
                shiboken6.delete(widget)
        raise
    connections = root.find("connections")
    for connection in (connections.findall("connection") if connections is not None else []):
        sender = named.get(connection.findtext("sender"))
        receiver = named.get(connection.findtext("receiver"))
        if sender is None or receiver is None:
            raise UiLoadError(f"connection between unknown widgets {connection.findtext('sender')} -> {connection.findtext('receiver')}")
        slot = _slotOf(receiver, connection.findtext("slot"))
        sender._signalBySignature(connection.findtext("signal")).connect(pythonQtSlot(slot))
    return top
