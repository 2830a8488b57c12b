"""Reload of a module's Lib package for Slicer's developer "Reload": every submodule already
imported, found by walking the package (no hand-kept list to forget a file in), reloaded after the
submodules it imports, so that a name taken at import time (`from .x import y`, a constant read
from another submodule) comes from the reloaded module."""

import ast
import importlib
import os
import pkgutil
import sys


def _importedSiblings(package, path):
    """Names of the package's submodules that the file at ``path`` imports."""
    with open(path, encoding="utf-8") as stream:
        tree = ast.parse(stream.read(), filename=path)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level == 1:
                found.add(base.split(".")[0] if base else None)
                if not base:
                    found.update(alias.name for alias in node.names)
            elif base == package.__name__:
                found.update(alias.name for alias in node.names)
            elif base.startswith(package.__name__ + "."):
                found.add(base.split(".")[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(package.__name__ + "."):
                    found.add(alias.name.split(".")[1])
    found.discard(None)
    return found


def reloadOrder(packageName):
    """The package's submodules, each after those it imports (sorted by name where free)."""
    package = importlib.import_module(packageName)
    directory = os.path.dirname(package.__file__)
    names = sorted(info.name for info in pkgutil.iter_modules(package.__path__))
    dependencies = {name: _importedSiblings(package, os.path.join(directory, name + ".py")) & set(names) for name in names}
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
    return [f"{packageName}.{name}" for name in ordered]


def reloadPackages(*packageNames):
    """Reload the imported submodules of each package, in dependency order; returns their names."""
    reloaded = []
    for packageName in packageNames:
        for name in reloadOrder(packageName):
            if name in sys.modules:
                importlib.reload(sys.modules[name])
                reloaded.append(name)
    return reloaded
