"""Reload of a module's Lib package for Slicer's developer "Reload": every submodule already
imported, found by walking the package and its sub-packages (no hand-kept list to forget a file
in), reloaded after the submodules it imports, so that a name taken at import time
(`from .x import y`, a constant read from another submodule) comes from the reloaded module."""

import ast
import importlib
import importlib.util
import os
import pkgutil
import sys


def _moduleFiles(package):
    """{module name: source file} of the package, its sub-packages and their modules."""
    files = {}
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        directory = info.module_finder.path
        leaf = info.name.rsplit(".", 1)[1]
        path = os.path.join(directory, leaf, "__init__.py") if info.ispkg else os.path.join(directory, leaf + ".py")
        if os.path.isfile(path):
            files[info.name] = path
    return files


def _importedNames(moduleName, path, isPackage, packages):
    """Absolute names of the modules (or module attributes) the file at ``path`` imports. For
    `from <package> import x` from inside that package only x counts: the package's __init__ may
    itself import the importer; a sub-package imported from outside it comes first."""
    with open(path, encoding="utf-8") as stream:
        tree = ast.parse(stream.read(), filename=path)
    anchor = moduleName if isPackage else moduleName.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), anchor) if node.level else (node.module or "")
            if base not in packages or base != anchor and not anchor.startswith(base + "."):
                found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def reloadOrder(packageName):
    """The package's modules (sub-packages included), each after those it imports (by name where free)."""
    package = importlib.import_module(packageName)
    files = _moduleFiles(package)
    names = sorted(files)
    packages = {name for name, path in files.items() if path.endswith("__init__.py")} | {packageName}
    dependencies = {
        name: {other for other in _importedNames(name, files[name], name in packages, packages) if other in files and other != name}
        for name in names
    }
    ordered, done = [], set()

    def visit(name, path):
        if name in done:
            return
        if name in path:
            raise ImportError(f"{packageName}: circular import {' -> '.join(path + [name])}")
        for dependency in sorted(dependencies[name]):
            visit(dependency, path + [name])
        done.add(name)
        ordered.append(name)

    for name in names:
        visit(name, [])
    return ordered


def reloadPackages(*packageNames):
    """Reload the imported modules of each package, in dependency order; returns their names."""
    reloaded = []
    for packageName in packageNames:
        for name in reloadOrder(packageName):
            if name in sys.modules:
                importlib.reload(sys.modules[name])
                reloaded.append(name)
    return reloaded
