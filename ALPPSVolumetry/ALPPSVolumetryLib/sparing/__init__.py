"""The parenchyma-sparing alternative (clinical reference section 9), by what each file holds:

- ``tumourVesselAnalysis``: per tumour its volume, largest diameter, Couinaud segment(s) and the
  shortest distance to each major vessel, with the contact flag and the contact voxels;
- ``majorVessels``: which segments are the major vessels (by name, code, or as the user says);
- ``marginGeometry``: the resection volume a margin around each tumour takes, its separate areas;
- ``marginVolumetry``: the plan that margin leaves (remnant, %FLR, sFLR, flags, laparoscopic
  guidance) and its comparison with the major hepatectomy and ALPPS plans;
- ``sparingResults``: the table rows and the JSON of the findings and plans;
- ``sparingDisplay``: what goes into the scene: the tables, the resection areas and the vessel
  contacts as segments;
- ``sparingInputs``: the margins, contact distance, tumour and liver segments, checked;
- ``segmentBoxes``: segments read on boxes of voxels around the tumours, and the distance and
  neighbourhood operations on them.

Ultrasound-guided parenchyma-sparing hepatectomy (PSH) removes each tumour with a narrow margin
and may detach a tumour from a major hepatic vein or portal pedicle instead of sacrificing the
vessel. What the surgeon needs from imaging: per tumour its volume, largest diameter, Couinaud
segment(s) and the shortest distance to each major vessel (contact at <= 1 mm); the parenchyma
a margin-based resection removes, the number of separate resection areas (laparoscopic PSH is
advised for at most 3), and the remnant it leaves, beside the remnant of a major hepatectomy.

Everything is measured on the segments as painted, on the segmentation's own binary labelmap
grid, in millimetres (physical spacing, anisotropic voxels and LPS/oblique directions included):
each voxel stands for the box it covers, its centre is the point a coordinate refers to. The
definitions are given where each quantity is computed.

Speed: every computation runs on a box around the tumour (plus the margin, or plus the part of
the vessel that can be nearest), never on the whole scan. For the vessel distance the box is
bounded by a distance that an actual tumour voxel - vessel voxel pair reaches, so the pair that
realises the shortest distance is always inside it and the cropped distance map is exact there.
"""
