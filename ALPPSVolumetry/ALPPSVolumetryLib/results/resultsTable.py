"""Results as Slicer table nodes: numbers stored as numbers, units and definitions in the
column properties, so that they survive save and reload and export cleanly to CSV."""

# VTK classes from their own modules: `import vtk` loads all of VTK (a third of a second of the
# batch command's start-up).
from vtkmodules.vtkCommonCore import vtkDoubleArray, vtkLongLongArray, vtkStringArray

from ..segments.couinaud import segmentIdFromName
from .resultFields import PLAN_FIELDS, SEGMENT_FIELDS
from ..segments.segmentVolumes import segmentVolumes, VOLUME_METHOD

SEGMENT_VOLUME_COLUMNS = (
    # name, vtk array class, unit, description
    ("Segment", vtkStringArray, "", "Segment name in the segmentation"),
    ("Couinaud segment", vtkStringArray, "", "Couinaud segment recognised from the name (empty if none)"),
    ("Voxel count", vtkLongLongArray, "voxels", "Voxels of the segment on its binary labelmap"),
    ("Volume", vtkDoubleArray, "mL", "Segment volume: " + VOLUME_METHOD),
    ("Empty", vtkStringArray, "", "'yes' when the segment has no voxels"),
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


def fieldColumns(fields):
    """Table columns of result fields (resultFields): a number column per field, two (low, high)
    for a resolution interval, headed and described by the field's definition."""
    columns = []
    for field in fields:
        if field.isInterval:
            columns += [(f"{field.title} {end}", vtkDoubleArray, field.unit, f"{end.capitalize()} end. {field.description()}")
                        for end in ("low", "high")]
        else:
            columns.append((field.title, vtkDoubleArray, field.unit, field.description()))
    return tuple(columns)


def fieldCells(record, fields):
    """The row cells of ``record`` for fieldColumns(fields): NaN where a number was not computed."""
    cells = []
    for field in fields:
        value = field.valueOf(record)
        if field.isInterval:
            cells += [numberOrNaN(bound) for bound in (value or (None, None))]
        else:
            cells.append(numberOrNaN(value))
    return tuple(cells)


COUINAUD_COLUMNS = (
    (("Couinaud segment", vtkStringArray, "", "Couinaud segment (IVa superior, IVb inferior when IV is split)"),)
    + fieldColumns(SEGMENT_FIELDS)
    + (("Segments", vtkStringArray, "", "Segments of the segmentation that make up this Couinaud segment"),)
)

PLAN_COLUMNS = (
    (
        ("Plan", vtkStringArray, "", "Resection plan (Brisbane 2000 terminology) or custom segment set"),
        ("Remnant segments", vtkStringArray, "", "Couinaud segments left in the patient"),
    )
    + fieldColumns(PLAN_FIELDS)
    + (
        ("Adequacy", vtkStringArray, "", "met = above the published risk group; borderline = cut-off within the resolution interval; "
         "unchecked where the formula or cut-off is"),
    )
)


def writeCouinaudTable(tableNode, result):
    rows = [(segment.segment,) + fieldCells(segment, SEGMENT_FIELDS) + (", ".join(segment.segmentNames),) for segment in result.segments]
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
    flags = plan.flags + ([plan.tumourFlag] if plan.tumourFlag is not None else [])
    return (
        (plan.label, remnantText if remnantText is not None else ", ".join(plan.remnantSegments))
        + fieldCells(plan, PLAN_FIELDS)
        + ("; ".join(_flagText(flag) for flag in flags),)
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
