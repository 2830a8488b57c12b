"""Results as Slicer table nodes: numbers stored as numbers, units and definitions in the
column properties, so that they survive save and reload and export cleanly to CSV."""

import vtk

from .couinaud import segmentIdFromName
from .segmentVolumes import VOLUME_METHOD, segmentVolumes

SEGMENT_VOLUME_COLUMNS = (
    # name, vtk array class, unit, description
    ("Segment", vtk.vtkStringArray, "", "Segment name in the segmentation"),
    ("Couinaud segment", vtk.vtkStringArray, "", "Couinaud segment recognised from the name (empty if none)"),
    ("Voxel count", vtk.vtkLongLongArray, "voxels", "Voxels of the segment on its binary labelmap"),
    ("Volume", vtk.vtkDoubleArray, "mL", "Segment volume: " + VOLUME_METHOD),
    ("Empty", vtk.vtkStringArray, "", "'yes' when the segment has no voxels"),
)


def resetTableColumns(tableNode, columns):
    """Empty ``tableNode`` and give it typed columns: (name, vtk array class, unit, description)."""
    table = tableNode.GetTable()
    table.Initialize()
    for name, arrayClass, unit, description in columns:
        array = arrayClass()
        array.SetName(name)
        table.AddColumn(array)
        tableNode.SetColumnUnitLabel(name, unit)
        tableNode.SetColumnDescription(name, description)
    return table


def numberOrNaN(value):
    """Tables hold numbers; a value that could not be computed is NaN (shown empty), never 0."""
    return float("nan") if value is None else float(value)


def writeTableRows(tableNode, columns, rows, attributes=None):
    """Replace the content of ``tableNode``: typed columns (see resetTableColumns), one row per
    tuple of values in column order, and table attributes (saved with the scene)."""
    table = resetTableColumns(tableNode, columns)
    for row in rows:
        for column, value in enumerate(row):
            table.GetColumn(column).InsertNextValue(value)
    for name, value in (attributes or {}).items():
        tableNode.SetAttribute(name, value)
    table.Modified()
    tableNode.Modified()
    return tableNode


def writeSegmentVolumeTable(tableNode, volumes):
    """Fill ``tableNode`` with one row per ``SegmentVolume``."""
    rows = []
    for volume in volumes:
        couinaudId, subSegment = segmentIdFromName(volume.name)
        rows.append(
            (volume.name, (couinaudId or "") + (subSegment or ""), volume.voxelCount, volume.volumeMl, "yes" if volume.isEmpty else "no")
        )
    return writeTableRows(tableNode, SEGMENT_VOLUME_COLUMNS, rows)


def measureSegmentVolumesIntoTable(segmentationNode, tableNode=None):
    """Measure every segment and write the table (a new one in the segmentation's scene when
    ``tableNode`` is None). Returns (volumes, tableNode): the widget, the batch command and the
    tests all go through here."""
    if segmentationNode is None:
        raise ValueError("No segmentation selected: choose the segmentation holding the liver segments")
    volumes = segmentVolumes(segmentationNode)
    if tableNode is None:
        tableNode = segmentationNode.GetScene().AddNewNodeByClass(
            "vtkMRMLTableNode", f"{segmentationNode.GetName()} segment volumes"
        )
    writeSegmentVolumeTable(tableNode, volumes)
    return volumes, tableNode


COUINAUD_COLUMNS = (
    ("Couinaud segment", vtk.vtkStringArray, "", "Couinaud segment (IVa superior, IVb inferior when IV is split)"),
    ("Volume", vtk.vtkDoubleArray, "mL", "Segment volume: " + VOLUME_METHOD),
    ("Tumour inside", vtk.vtkDoubleArray, "mL", "Voxels of the segment inside any tumour segment"),
    ("Tumour-free volume", vtk.vtkDoubleArray, "mL", "Segment volume minus its tumour voxels (functional volume)"),
    ("Share of liver", vtk.vtkDoubleArray, "%", "Segment volume / total liver volume (union of I-VIII) x 100"),
    ("Segments", vtk.vtkStringArray, "", "Segments of the segmentation that make up this Couinaud segment"),
)

PLAN_COLUMNS = (
    ("Plan", vtk.vtkStringArray, "", "Resection plan (Brisbane 2000 terminology) or custom segment set"),
    ("Remnant segments", vtk.vtkStringArray, "", "Couinaud segments left in the patient"),
    ("FLR", vtk.vtkDoubleArray, "mL", "Future liver remnant: union of the remnant segments"),
    ("Resected", vtk.vtkDoubleArray, "mL", "Total liver volume minus FLR"),
    ("Tumour in FLR", vtk.vtkDoubleArray, "mL", "Tumour voxels inside the remnant: a warning when above 0"),
    ("Tumour-free FLR", vtk.vtkDoubleArray, "mL", "FLR minus the tumour inside it: the FLR of sFLR, FLR-BWR and FLR/BSA"),
    ("FLR interval low", vtk.vtkDoubleArray, "mL", "Resolution interval of the tumour-free FLR: half a voxel across its boundary"),
    ("FLR interval high", vtk.vtkDoubleArray, "mL", "Resolution interval of the tumour-free FLR: half a voxel across its boundary"),
    ("%FLR measured", vtk.vtkDoubleArray, "%", "FLR / TLV x 100 (TLV = union of segments I-VIII)"),
    ("%FLR functional", vtk.vtkDoubleArray, "%", "(FLR - tumour in FLR) / (TLV - all tumour) x 100; empty without tumours"),
    ("sFLR", vtk.vtkDoubleArray, "%", "Tumour-free FLR / standard liver volume x 100 (formulas in the table attributes)"),
    ("FLR-BWR", vtk.vtkDoubleArray, "%", "Tumour-free FLR (mL) / (body weight kg x 1000) x 100"),
    ("FLR/BSA", vtk.vtkDoubleArray, "mL/m2", "Tumour-free FLR / body surface area"),
    ("Adequacy", vtk.vtkStringArray, "", "met = above the published risk group; borderline = cut-off within the resolution interval; "
     "unchecked where the formula or cut-off is"),
)


def writeCouinaudTable(tableNode, result):
    rows = [
        (segment.segment, segment.volumeMl, segment.tumourMl, segment.tumourFreeMl, segment.shareOfLiverPercent, ", ".join(segment.segmentNames))
        for segment in result.segments
    ]
    attributes = {
        "ALPPS.TotalLiverVolumeMl": repr(result.totalLiverMl),
        "ALPPS.TotalTumourVolumeMl": repr(result.totalTumourMl),
        "ALPPS.VolumeMethod": VOLUME_METHOD,
    }
    return writeTableRows(tableNode, COUINAUD_COLUMNS, rows, attributes)


def _flagText(flag):
    return flag.line()


def writePlanTable(tableNode, result):
    """One row per plan, so that plans read side by side; formulas and thresholds used are stored
    as table attributes, saved with the scene."""
    return writePlanRows(tableNode, result.plans, result.settings, result.body)


def planRow(plan, remnantText=None):
    """One plan as a row of PLAN_COLUMNS (the Volumetry panel's plan table and the
    parenchyma-sparing comparison)."""
    return (
        plan.label,
        remnantText if remnantText is not None else ", ".join(plan.remnantSegments),
        plan.remnantMl,
        plan.resectedMl,
        plan.tumourInRemnantMl,
        numberOrNaN(plan.tumourFreeRemnantMl),
        numberOrNaN(plan.remnantIntervalMl[0] if plan.remnantIntervalMl else None),
        numberOrNaN(plan.remnantIntervalMl[1] if plan.remnantIntervalMl else None),
        plan.percentFLR,
        numberOrNaN(plan.functionalPercentFLR),
        numberOrNaN(plan.sFLR),
        numberOrNaN(plan.flrBwr),
        numberOrNaN(plan.flrPerBsa),
        "; ".join(_flagText(flag) for flag in plan.flags + ([plan.tumourFlag] if plan.tumourFlag is not None else [])),
    )


def thresholdAttributes(settings):
    """The cut-offs behind a plan table's flags, as table attributes saved with the scene."""
    sflrCutoff, bwrCutoff = settings.adequacyThresholds().cutoffs()
    attributes = {"ALPPS.LiverCondition": settings.liverCondition}
    for key, cutoff in (("ALPPS.SFLRThreshold", sflrCutoff), ("ALPPS.FLRBWRThreshold", bwrCutoff)):
        if cutoff is not None:
            attributes[key] = f"met when {cutoff.criterionText()}; risk group {cutoff.riskGroupText()} ({cutoff.source}; {cutoff.status})"
    return attributes


def writePlanRows(tableNode, plans, settings, body):
    rows = [planRow(plan) for plan in plans]
    attributes = thresholdAttributes(settings)
    if body is not None:
        attributes["ALPPS.BSA"] = f"{body.bsaM2:.4f} m2 ({body.bsaFormula.label})"
        attributes["ALPPS.StandardLiverVolume"] = f"{body.stlvMl:.2f} mL ({body.stlvFormula.label})"
    return writeTableRows(tableNode, PLAN_COLUMNS, rows, attributes)
