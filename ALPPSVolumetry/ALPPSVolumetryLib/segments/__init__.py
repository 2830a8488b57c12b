"""The segmentation and what its segments are: Couinaud units (``couinaud``), roles recognised from
names and terminology or corrected by the user and kept on the segments (``segmentRecognition``),
counting voxels once (``labelCounting``, ``segmentVolumes``, ``segmentOverlap``), the liver's
composition by role (``liverComposition``), and segmentations and label maps read, imported and
placed on a grid (``segmentationIO``, ``segmentationImport``, ``segmentationGrid``,
``dicomSegmentation``, ``labelPresets``)."""
