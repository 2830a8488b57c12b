"""The extension's catalog metadata agrees with itself and points at files that exist."""

import json
import os
import re
import struct

from conftest import REPOSITORY

RAW_PREFIX = "https://raw.githubusercontent.com/alpps-slicer/SlicerALPPS/main/"


def _cmakeVariable(name):
    with open(os.path.join(REPOSITORY, "CMakeLists.txt")) as stream:
        return re.search(r"set\(" + name + r'\s+"([^"]*)"\)', stream.read()).group(1)


def _pngSize(path):
    with open(path, "rb") as stream:
        header = stream.read(24)
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


def test_catalogEntryMatchesTheCMakeMetadata():
    with open(os.path.join(REPOSITORY, "ALPPS.json")) as stream:
        entry = json.load(stream)
    assert entry["category"] == _cmakeVariable("EXTENSION_CATEGORY") == "Quantification"
    assert entry["scm_url"].startswith("https://github.com/alpps-slicer/SlicerALPPS")
    with open(os.path.join(REPOSITORY, "CMakeLists.txt")) as stream:
        assert re.search(r"^project\(ALPPS\)", stream.read(), re.M), "project name must equal the catalog entry name"
    assert len(_cmakeVariable("EXTENSION_DESCRIPTION")) > 80


def test_iconAndScreenshotUrlsPointAtFilesInTheRepository():
    for url in [_cmakeVariable("EXTENSION_ICONURL")] + _cmakeVariable("EXTENSION_SCREENSHOTURLS").split():
        assert url.startswith(RAW_PREFIX), url
        assert os.path.isfile(os.path.join(REPOSITORY, url[len(RAW_PREFIX) :])), url
    assert _pngSize(os.path.join(REPOSITORY, "ALPPS.png")) == (128, 128)
    for module in ("ALPPSVolumetry", "ALPPSAssessment"):
        assert _pngSize(os.path.join(REPOSITORY, module, "Resources", "Icons", module + ".png")) == (128, 128)
