"""Binding a panel's widgets to its parameter node the same way on Slicer 5.8 and 5.10+.

- `connectGui` returns None on 5.8 (fixed in 5.10), so its connections could never be removed: each
  module entry added a set, and the old ones reset every drop-down to its first choice when the new
  ones refilled them. `connectParametersToGui` returns the tag on every version, so it is used here
  with the widgets found as `connectGui` finds them (their SlicerParameterName property).
- 5.8's line-edit connector rewrites the text on every parameter change, moving the cursor to the
  end while the user types; a line edit here gets a connector that writes only a different text.

Only the Slicer application runs this (it needs `slicer.parameterNodeWrapper` and Qt widgets).
"""


def _lineEditConnector(lineEdit):
    from slicer.parameterNodeWrapper import GuiConnector

    class LineEditKeepingCursor(GuiConnector):
        @staticmethod
        def canRepresent(widget, datatype):
            return False  # used only when given explicitly

        @staticmethod
        def create(widget, datatype):
            return None

        def __init__(self, widget):
            super().__init__()
            self._widget = widget

        def _connect(self):
            self._widget.textChanged.connect(self.changed)

        def _disconnect(self):
            self._widget.textChanged.disconnect(self.changed)

        def widget(self):
            return self._widget

        def read(self):
            return self._widget.text

        def write(self, value):
            if value != self._widget.text:
                self._widget.text = value

    return LineEditKeepingCursor(lineEdit)


def boundWidgets(ui):
    """{parameter name: widget} for the widgets of a childWidgetVariables object that name one."""
    found = {}
    for widget in vars(ui).values():
        name = widget.property("SlicerParameterName") if hasattr(widget, "property") else None
        if name:
            found[name] = widget
    return found


def connectPanel(parameterNode, ui, lineEditClass):
    """Connect the bound widgets of ``ui`` to ``parameterNode``; returns the tag for disconnectPanel."""
    mapping = {}
    for name, widget in boundWidgets(ui).items():
        mapping[name] = _lineEditConnector(widget) if type(widget) is lineEditClass else widget
    return parameterNode.connectParametersToGui(mapping)


def disconnectPanel(parameterNode, tag):
    if parameterNode is not None and tag is not None:
        parameterNode.disconnectGui(tag)
