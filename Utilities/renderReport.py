"""Look at a report as a reader will: print the HTML to an A4 PDF in headless Chromium, turn the
pages into PNG (pdftoppm) and tile chosen pages into one picture (the README's).

    python Utilities/renderReport.py alpps-demo/report/alpps-report.html --out report-pages --tile 1,2,5 \
        --picture Documentation/alpps-report.png

Needs Debian's chromium and poppler-utils (apt-get install chromium poppler-utils).
"""

import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import vtk
from vtk.util import numpy_support

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-pdf-header-footer")


def printToPdf(htmlPath, pdfPath):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("renderReport: chromium is not installed (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={pdfPath}",
                        "file://" + os.path.abspath(htmlPath)], check=True, capture_output=True, timeout=180)
    return pdfPath


def pdfToPngs(pdfPath, outputDirectory, dpi):
    if shutil.which("pdftoppm") is None:
        raise SystemExit("renderReport: pdftoppm is not installed (apt-get install poppler-utils)")
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", pdfPath, os.path.join(outputDirectory, "page")], check=True)
    return sorted(glob.glob(os.path.join(outputDirectory, "page-*.png")))


def _read(path):
    reader = vtk.vtkPNGReader()
    reader.SetFileName(path)
    reader.Update()
    image = reader.GetOutput()
    columns, rows, _ = image.GetDimensions()
    array = numpy_support.vtk_to_numpy(image.GetPointData().GetScalars()).reshape(rows, columns, -1)
    return array[::-1, :, :3]


def tile(paths, outputPath, gap=8):
    pages = [_read(path) for path in paths]
    height = max(page.shape[0] for page in pages)
    row = np.full((height, sum(page.shape[1] for page in pages) + gap * (len(pages) - 1), 3), 96, np.uint8)
    x = 0
    for page in pages:
        row[: page.shape[0], x : x + page.shape[1]] = page
        x += page.shape[1] + gap
    image = vtk.vtkImageData()
    image.SetDimensions(row.shape[1], row.shape[0], 1)
    image.GetPointData().SetScalars(numpy_support.numpy_to_vtk(np.ascontiguousarray(row[::-1]).reshape(-1, 3)))
    writer = vtk.vtkPNGWriter()
    writer.SetFileName(outputPath)
    writer.SetInputData(image)
    writer.Write()
    return outputPath


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html")
    parser.add_argument("--out", required=True, help="folder for report.pdf and page-N.png")
    parser.add_argument("--dpi", type=int, default=70)
    parser.add_argument("--tile", help="pages to put side by side, e.g. 1,2,5")
    parser.add_argument("--picture", help="where to write the tiled picture")
    arguments = parser.parse_args(argv)
    os.makedirs(arguments.out, exist_ok=True)
    pdf = printToPdf(arguments.html, os.path.join(arguments.out, "report.pdf"))
    pages = pdfToPngs(pdf, arguments.out, arguments.dpi)
    print(f"{len(pages)} A4 pages: {', '.join(pages)}")
    if arguments.tile:
        chosen = [pages[int(number) - 1] for number in arguments.tile.split(",")]
        print(f"tiled into {tile(chosen, arguments.picture or os.path.join(arguments.out, 'tiled.png'))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
