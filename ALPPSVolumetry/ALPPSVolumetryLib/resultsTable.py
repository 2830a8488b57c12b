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


def writeSegmentVolumeTable(tableNode, volumes):
    """Fill ``tableNode`` with one row per ``SegmentVolume``."""
    table = resetTableColumns(tableNode, SEGMENT_VOLUME_COLUMNS)
    columns = [table.GetColumn(index) for index in range(table.GetNumberOfColumns())]
    for volume in volumes:
        couinaudId, subSegment = segmentIdFromName(volume.name)
        columns[0].InsertNextValue(volume.name)
        columns[1].InsertNextValue((couinaudId or "") + (subSegment or ""))
        columns[2].InsertNextValue(volume.voxelCount)
        columns[3].InsertNextValue(volume.volumeMl)
        columns[4].InsertNextValue("yes" if volume.isEmpty else "no")
    table.Modified()
    tableNode.Modified()
    return tableNode


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
