"""Draws Documentation/alpps-demo-segments.png, the README and catalog picture: the synthetic
patient's CT with its Couinaud segments before stage 1 and before stage 2 (segments II-III grown).

Run with the headless install plus matplotlib: `.venv/bin/python Utilities/makeScreenshot.py`.
"""

import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPOSITORY, "ALPPSVolumetry"))

from ALPPSVolumetryLib.segments import couinaud
from ALPPSVolumetryLib import syntheticPatient  # noqa: E402


def main():
    patient = syntheticPatient.makeSyntheticPatient()
    colors = ListedColormap([(0, 0, 0, 0)] + [couinaud.SEGMENT_COLOR[s] + (0.55,) for s in couinaud.SEGMENT_IDS])
    figure, axes = plt.subplots(2, 2, figsize=(10, 8.4), facecolor="black")
    for column, point in enumerate((patient.timePoints[0], patient.timePoints[-1])):
        spacing = np.abs(np.diag(point.ijkToRAS)[:3])
        axial = point.ct.shape[0] * 60 // 100
        coronal = point.ct.shape[1] * 55 // 100
        views = (
            (point.ct[axial], point.couinaudLabels[axial], spacing[1] / spacing[0], "axial"),
            (point.ct[::-1, coronal, :], point.couinaudLabels[::-1, coronal, :], spacing[2] / spacing[0], "coronal"),
        )
        flr = point.trueVolumesMl["II"] + point.trueVolumesMl["III"]
        for row, (image, labels, aspect, name) in enumerate(views):
            axis = axes[row, column]
            axis.imshow(image, cmap="gray", vmin=-160, vmax=240, aspect=aspect)
            axis.imshow(labels, cmap=colors, vmin=0, vmax=8, aspect=aspect, interpolation="nearest")
            axis.set_axis_off()
            axis.set_title(
                f"{point.role}, day {point.daysAfterStage1:+d} ({name}): II+III {flr:.0f} mL",
                color="white",
                fontsize=11,
            )
    figure.tight_layout()
    output = os.path.join(REPOSITORY, "Documentation", "alpps-demo-segments.png")
    os.makedirs(os.path.dirname(output), exist_ok=True)
    figure.savefig(output, dpi=80, facecolor="black")
    print(output)


if __name__ == "__main__":
    main()
