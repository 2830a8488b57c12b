"""One time point's segmentation as a DICOM SEG (highdicom) on the grid of its source CT series:
the Couinaud segments, the liver (their union, the volume the total liver volume counts), each
tumour, and the plan's remnant and resected liver, each coded (``codes``).

Every segment is resampled by Slicer onto the CT's own voxels, so the SEG frames are the CT
slices; the voxel counts written are returned to check against the volumetry."""

from collections import namedtuple

import numpy as np
from ALPPSVolumetryLib.segments import couinaud
from ALPPSVolumetryLib import imageGrid
from ALPPSVolumetryLib.segments.dicomSegmentation import DERIVED_SEGMENT_FAMILY
from ALPPSVolumetryLib.segments.segmentRecognition import ROLE_TUMOUR, SegmentRoles

from ALPPSVolumetryLib.optionalPackages import requirePackage

from . import codes

SEGMENTATION_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"
MANUFACTURER = "ALPPS extension for 3D Slicer"
# Positions of the volume's slices and of the DICOM files must agree to this (mm).
POSITION_TOLERANCE_MM = 0.01

SegmentMask = namedtuple("SegmentMask", "key label category propertyType mask derived")
SegmentationObject = namedtuple("SegmentationObject", "dataset segmentNumbers voxelCounts voxelVolumeMl")


def remnantKey(planKey):
    return ("remnant", planKey)


def resectedKey(planKey):
    return ("resected", planKey)


LIVER_KEY = ("liver",)


def couinaudKey(unit):
    return ("couinaud", unit)


def tumourKey(name):
    return ("tumour", name)


def _concept(code):
    hd = requirePackage("highdicom")
    return hd.sr.CodedConcept(code.value, code.scheme, code.meaning)


def _couinaudCode(unit):
    if unit in codes.SUBSEGMENT_CODES:
        return codes.SUBSEGMENT_CODES[unit]
    return codes.Code(couinaud.SNOMED_CODE[unit], "SCT", couinaud.CODE_MEANING[unit])


def segmentMasks(segmentationNode, volumeNode, plan):
    """The SEG's segments as boolean arrays [k, j, i] on ``volumeNode``'s grid, in SEG order."""
    roles = SegmentRoles(segmentationNode)
    units = roles.couinaudUnits()
    missing = roles.missingCouinaudSegments()
    if missing:
        raise ValueError(f"Segmentation '{segmentationNode.GetName()}' lacks Couinaud segment(s) {', '.join(missing)}: "
                         "the DICOM SEG holds the segments the volumetry measured")

    def onGrid(segmentIds):
        return imageGrid.segmentMaskOnVolumeGrid(segmentationNode, segmentIds, volumeNode)

    masks, unitMasks = [], {}
    order = [unit for unit in ("I", "II", "III", "IV", "IVa", "IVb", "V", "VI", "VII", "VIII") if unit in units]
    for unit in order:
        unitMasks[unit] = onGrid([units[unit]])
        masks.append(SegmentMask(couinaudKey(unit), f"Segment {unit}", codes.ANATOMICAL_STRUCTURE, _couinaudCode(unit), unitMasks[unit], False))
    if "IVa" in units:
        # The volumetry reports IV as the union of its halves: the SEG holds that union too.
        unitMasks["IV"] = unitMasks["IVa"] | unitMasks["IVb"]
        masks.insert(order.index("IVa"), SegmentMask(couinaudKey("IV"), "Segment IV", codes.ANATOMICAL_STRUCTURE,
                                                     _couinaudCode("IV"), unitMasks["IV"], True))
    liver = np.zeros_like(unitMasks["I"])
    for unit in couinaud.SEGMENT_IDS:
        liver |= unitMasks[unit]
    masks.append(SegmentMask(LIVER_KEY, "Liver", codes.ANATOMICAL_STRUCTURE, codes.LIVER, liver, True))
    for segmentId in roles.segmentsWithRole(ROLE_TUMOUR):
        name = roles.names[segmentId]
        masks.append(SegmentMask(tumourKey(name), name, codes.MORPHOLOGICALLY_ALTERED_STRUCTURE, codes.NEOPLASM, onGrid([segmentId]), False))
    remnant = np.zeros_like(liver)
    for unit in plan.remnantSegments:
        remnant |= unitMasks[unit]
    # Voxels shared by a remnant and a resected segment belong to the remnant, as in the volumetry.
    masks.append(SegmentMask(remnantKey(plan.key), f"Future liver remnant, plan {plan.key}", codes.ANATOMICAL_STRUCTURE,
                             codes.FUTURE_LIVER_REMNANT, remnant, True))
    masks.append(SegmentMask(resectedKey(plan.key), f"Resected liver, plan {plan.key}", codes.ANATOMICAL_STRUCTURE,
                             codes.RESECTED_LIVER, liver & ~remnant, True))
    return masks


def checkSlicesMatchVolume(sourceDatasets, volumeNode):
    """The DICOM files must be the volume's slices, in its k order: else the SEG frames would lie
    on the wrong slices. ValueError naming the first slice that differs."""
    ijkToRAS = imageGrid.nodeIjkToRas(volumeNode)
    dimensions = volumeNode.GetImageData().GetDimensions()
    if len(sourceDatasets) != dimensions[2]:
        raise ValueError(f"Scan '{volumeNode.GetName()}' has {dimensions[2]} slices but its DICOM series {len(sourceDatasets)} files")
    for k, dataset in enumerate(sourceDatasets):
        ras = ijkToRAS[:3, :3] @ [0, 0, k] + ijkToRAS[:3, 3]
        lps = np.array([-ras[0], -ras[1], ras[2]])
        position = np.array([float(value) for value in dataset.ImagePositionPatient])
        if np.abs(position - lps).max() > POSITION_TOLERANCE_MM or (int(dataset.Rows), int(dataset.Columns)) != (dimensions[1], dimensions[0]):
            raise ValueError(
                f"DICOM slice {k + 1} of scan '{volumeNode.GetName()}' (SOP instance {dataset.SOPInstanceUID}) is not the volume's "
                f"slice {k}: position {position.round(3).tolist()} vs {lps.round(3).tolist()} (LPS mm)"
            )


def buildSegmentation(segmentationNode, volumeNode, sourceDatasets, plan, seriesNumber=300,
                      seriesDescription="ALPPS segmentation", softwareVersion=""):
    """The DICOM SEG of the time point: a SegmentationObject with the highdicom dataset, the segment
    number of each key (``couinaudKey``, ``LIVER_KEY``, ``tumourKey``, ``remnantKey``,
    ``resectedKey``) and its voxel count on the CT grid."""
    hd = requirePackage("highdicom")
    from pydicom.uid import generate_uid

    checkSlicesMatchVolume(sourceDatasets, volumeNode)
    masks = segmentMasks(segmentationNode, volumeNode, plan)
    algorithm = hd.AlgorithmIdentificationSequence(
        name="ALPPS", version=softwareVersion or "unknown",
        family=_concept(codes.Code(*DERIVED_SEGMENT_FAMILY)),
    )
    descriptions = []
    for number, segment in enumerate(masks, 1):
        descriptions.append(hd.seg.SegmentDescription(
            segment_number=number,
            segment_label=segment.label[:64],
            segmented_property_category=_concept(segment.category),
            segmented_property_type=_concept(segment.propertyType),
            algorithm_type="AUTOMATIC" if segment.derived else "MANUAL",
            algorithm_identification=algorithm if segment.derived else None,
            tracking_uid=generate_uid(),
            tracking_id=segment.label[:64],
            anatomic_regions=[_concept(codes.LIVER)] if segment.key[0] == "tumour" else None,
        ))
    pixels = np.stack([segment.mask for segment in masks], axis=-1)
    dataset = hd.seg.Segmentation(
        source_images=sourceDatasets,
        pixel_array=pixels,
        segmentation_type="BINARY",
        segment_descriptions=descriptions,
        series_instance_uid=generate_uid(),
        series_number=seriesNumber,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer=MANUFACTURER,
        manufacturer_model_name="ALPPS",
        software_versions=softwareVersion or "unknown",
        device_serial_number="none",
        content_label="ALPPS",
        content_description=seriesDescription[:64],
        series_description=seriesDescription[:64],
    )
    voxelVolumeMl = float(abs(np.linalg.det(imageGrid.nodeIjkToRas(volumeNode)[:3, :3]))) / 1000.0
    codes.declarePrivateScheme(dataset)
    return SegmentationObject(
        dataset,
        {segment.key: number for number, segment in enumerate(masks, 1)},
        {segment.key: int(np.count_nonzero(segment.mask)) for segment in masks},
        voxelVolumeMl,
    )
