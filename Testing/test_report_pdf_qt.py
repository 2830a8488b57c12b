"""The report's PDF code of the module file (Qt printing) run on Qt 6 through PySide6, when it is
installed (it is not a project dependency; Slicer brings its own Qt): the functions are taken from
ALPPSAssessment.py as written and given a `qt` namespace made of PySide6's classes, as PythonQt
gives Slicer's. Checks that the Qt API used exists on Qt 6 and prints the report to A4."""

import ast
import os
import re
import types

import pytest

MODULE_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "ALPPSAssessment", "ALPPSAssessment.py")
PDF_FUNCTIONS = ("_a4PageLayout", "_printWithWebEngine", "_printWithTextDocument", "htmlToPdf")


def _qtNamespace():
    QtCore = pytest.importorskip("PySide6.QtCore", reason="PySide6 is not installed: the Qt 6 printing check is skipped")
    QtGui = pytest.importorskip("PySide6.QtGui")
    QtPrintSupport = pytest.importorskip("PySide6.QtPrintSupport")
    namespace = types.SimpleNamespace()
    for module in (QtCore, QtGui, QtPrintSupport):
        for name in dir(module):
            if name.startswith("Q"):
                setattr(namespace, name, getattr(module, name))
    return namespace, QtGui


def _application():
    # One QApplication for the whole session (widgets need it; a QGuiApplication would abort them).
    QtWidgets = pytest.importorskip("PySide6.QtWidgets", reason="PySide6 is not installed: the Qt 6 checks are skipped")
    return QtWidgets.QApplication.instance() or QtWidgets.QApplication([])


def _moduleFunctions(namespace):
    with open(MODULE_FILE, encoding="utf-8") as stream:
        tree = ast.parse(stream.read())
    chosen = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name in PDF_FUNCTIONS]
    assert sorted(node.name for node in chosen) == sorted(PDF_FUNCTIONS)
    exec(compile(ast.Module(body=chosen, type_ignores=[]), MODULE_FILE, "exec"), namespace)
    return namespace


def test_reportPdfPrintsOnA4WithQt6TextDocument(tmp_path, monkeypatch):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    qt, _ = _qtNamespace()
    application = _application()
    # Slicer without Qt WebEngine: the text-document printer is used.
    functions = _moduleFunctions({"qt": qt, "os": os, "re": re, "slicer": types.SimpleNamespace(), "_": lambda text: text})
    html = tmp_path / "report.html"
    html.write_text("<html><body><h1>ALPPS report</h1><table border='1'><tr><td>FLR</td><td>391.9 mL</td></tr></table>"
                    + "<svg xmlns='http://www.w3.org/2000/svg'><text>SVGTEXTMARK</text></svg>"
                    + "<p>line</p>" * 200 + "</body></html>", encoding="utf-8")
    pdf = tmp_path / "report.pdf"
    how = functions["htmlToPdf"](str(html), str(pdf))
    assert "text document" in how and pdf.exists()
    data = pdf.read_bytes()
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    assert len(boxes) >= 2 and all(abs(float(w) - 595.0) < 1.5 and abs(float(h) - 842.0) < 1.5 for w, h in boxes)
    del application


@pytest.mark.parametrize("module", ["ALPPSVolumetry", "ALPPSAssessment"])
def test_uiFileLoadsInQt6UiLoader(module, monkeypatch):
    """Qt's own loader reads the .ui (CTK and MRML classes become plain widgets here): catches XML
    that Designer would write differently and widgets Qt cannot place."""
    import xml.etree.ElementTree as ElementTree

    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    QtWidgets = pytest.importorskip("PySide6.QtWidgets", reason="PySide6 is not installed: the Qt 6 .ui check is skipped")
    QtUiTools = pytest.importorskip("PySide6.QtUiTools")
    QtCore = pytest.importorskip("PySide6.QtCore")
    application = _application()
    path = os.path.join(os.path.dirname(MODULE_FILE), "..", module, "Resources", "UI", f"{module}.ui")
    loader = QtUiTools.QUiLoader()
    file = QtCore.QFile(path)
    assert file.open(QtCore.QFile.ReadOnly)
    widget = loader.load(file)
    file.close()
    assert widget is not None, loader.errorString()
    names = {element.get("name") for element in ElementTree.parse(path).iter("widget")} - {None}
    found = {child.objectName() for child in widget.findChildren(QtCore.QObject)} | {widget.objectName()}
    assert names - found == set()
    bound = [child for child in widget.findChildren(QtWidgets.QWidget) if child.property("SlicerParameterName")]
    assert len(bound) >= 10
    del application


@pytest.mark.parametrize("behaviour", ["prints", "fails to load", "never answers"])
def test_reportPdfUsesSlicersWebWidgetAndFallsBackWithoutIt(tmp_path, monkeypatch, behaviour):
    """With Qt WebEngine the web widget prints (A4 as asked); when it cannot load the page or does
    not answer in time, the text-document printer still gives the user the PDF. The web widget is
    the panel harness's stand-in (its declared slots and signals; it renders nothing)."""
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    qt, _ = _qtNamespace()
    application = _application()
    from slicerPanelHarness.otherModules import qSlicerWebWidget

    monkeypatch.setattr(qSlicerWebWidget, "behaviour", behaviour)
    slicer = types.SimpleNamespace(qSlicerWebWidget=qSlicerWebWidget)
    functions = _moduleFunctions({"qt": qt, "os": os, "re": re, "slicer": slicer, "_": lambda text: text})
    html = tmp_path / "report.html"
    html.write_text("<html><body><h1>ALPPS report</h1></body></html>", encoding="utf-8")
    pdf = tmp_path / "report.pdf"
    how = functions["htmlToPdf"](str(html), str(pdf), timeoutMs=200)
    assert ("browser" if behaviour == "prints" else "text document") in how and pdf.exists()
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf.read_bytes())
    assert boxes and all(abs(float(w) - 595.0) < 1.5 and abs(float(h) - 842.0) < 1.5 for w, h in boxes)
    del application
