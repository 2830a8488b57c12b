"""What a DICOM load gave: DICOMUtils.loadSeriesByUID returns the IDs of every node added while
loading, and a loader may have removed some of them again before it returns."""


def scalarVolumesAmong(scene, nodeIDs):
    """The scalar volume nodes among ``nodeIDs`` still in ``scene``, in their order."""
    volumes = []
    for nodeID in nodeIDs or []:
        node = scene.GetNodeByID(nodeID)
        if node is not None and node.IsA("vtkMRMLScalarVolumeNode"):
            volumes.append(node)
    return volumes
