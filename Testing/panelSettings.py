"""Helpers for panel tests: what a user changes in a panel's bound widgets and how to read it back.
Adding a field to a panel needs nothing here: every widget with a SlicerParameterName is found
and given a value other than the one it shows, by its widget class."""

import pathlib

from PySide6 import QtCore


def boundWidgets(ui):
    """{parameter name: widget} of the widgets bound through SlicerParameterName."""
    found = {}
    for widget in vars(ui).values():
        if isinstance(widget, QtCore.QObject):
            name = QtCore.QObject.property(widget, "SlicerParameterName")
            if name:
                found[name] = widget
    return found


def shownValue(widget):
    kind = type(widget).__name__
    if kind in ("QComboBox", "ctkComboBox"):
        return widget.currentText
    if kind in ("QCheckBox", "QPushButton"):
        return widget.checked
    if kind in ("QDoubleSpinBox", "ctkSliderWidget", "QSpinBox"):
        return widget.value
    if kind == "QLineEdit":
        return widget.text
    if kind == "ctkPathLineEdit":
        return widget.currentPath
    if kind == "qMRMLNodeComboBox":
        return widget.currentNode()
    raise AssertionError(f"no reading for a {kind}")


def changeAsAUserWould(widget, folder):
    """Give a bound widget a value other than the one shown, through the widget; returns the value shown."""
    kind = type(widget).__name__
    if kind in ("QComboBox", "ctkComboBox"):
        widget.currentIndex = widget.count - 1 if widget.currentIndex != widget.count - 1 else 0
    elif kind in ("QCheckBox", "QPushButton"):
        widget.checked = not widget.checked
    elif kind in ("QDoubleSpinBox", "ctkSliderWidget"):
        target = round(widget.minimum + (widget.maximum - widget.minimum) * 0.37, widget.decimals)
        widget.value = target if target != widget.value else widget.maximum
    elif kind == "QLineEdit":
        widget.text = "2026-01-0" + ("2" if widget.text.endswith("1") else "1")
    elif kind == "ctkPathLineEdit":
        path = pathlib.Path(folder) / "report"
        path.mkdir(exist_ok=True)
        widget.currentPath = str(path)
    elif kind == "qMRMLNodeComboBox":
        return widget.currentNode()  # node choices are made by the scenarios, with real nodes
    else:
        raise AssertionError(f"no user change for a {kind}")
    return shownValue(widget)


def tableColumn(tableNode, name):
    """The values of one column of a table node, by its name (failing with the names it has)."""
    table = tableNode.GetTable()
    array = table.GetColumnByName(name)
    assert array is not None, f"no column '{name}' in {tableNode.GetName()}: " + ", ".join(
        table.GetColumnName(c) for c in range(table.GetNumberOfColumns()))
    return [array.GetValue(row) for row in range(table.GetNumberOfRows())]
