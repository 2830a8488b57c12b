"""One time point's measurements as a DICOM TID 1500 Measurement Report (highdicom.sr): one
volumetric ROI group per segment of its DICOM SEG, each number referencing the segment it was
measured on; the latest time point's report also holds the growth of the remnant and the stage 2
readiness checklist (TID 1501 groups). The numbers are read from the result records by the
table in ``codes``."""

from pydicom.uid import generate_uid

from ALPPSVolumetryLib.optionalPackages import requirePackage

from . import codes
from .segmentationObject import LIVER_KEY

COMPREHENSIVE_3D_SR_STORAGE = "1.2.840.10008.5.1.4.1.1.88.34"


def _concept(code):
    hd = requirePackage("highdicom")
    return hd.sr.CodedConcept(code.value, code.scheme, code.meaning)


def _measurements(record, table):
    hd = requirePackage("highdicom")
    result = []
    for measure in table:
        value = codes.fieldValue(record, measure.field)
        if value is None:
            continue
        method = (record.get("methods") or {}).get(measure.field) or measure.method
        result.append(hd.sr.Measurement(
            name=_concept(measure.concept), value=value, unit=_concept(codes.UNITS[measure.unit]), method=_concept(method),
        ))
    return result


def segmentRecords(volumetry, planKey):
    """{SEG key: (record, measurement table)} of one time point's volumetry (volumetryToDict)."""
    records = {("couinaud", unit): (segment, codes.SEGMENT_MEASUREMENTS) for unit, segment in volumetry["segments"].items()}
    records[LIVER_KEY] = (volumetry["liver"], codes.LIVER_MEASUREMENTS)
    for name, volumeMl in volumetry["liver"]["tumourVolumesMl"].items():
        records[("tumour", name)] = ({"volumeMl": volumeMl}, codes.TUMOUR_MEASUREMENTS)
    plan = volumetry["plans"][planKey]
    records[("remnant", planKey)] = (codes.remnantRecord(plan, volumetry.get("patient")), codes.REMNANT_MEASUREMENTS)
    records[("resected", planKey)] = (plan, codes.RESECTED_MEASUREMENTS)
    return records


def gridDifferences(volumetry, planKey, segmentation):
    """{segment label: (volume of its SEG voxels, volume measured)} where they differ: a
    segmentation drawn on another grid than its CT is resampled onto the CT's for the SEG."""
    records = segmentRecords(volumetry, planKey)
    differences = {}
    for key, number in segmentation.segmentNumbers.items():
        if key not in records:
            continue
        record, table = records[key]
        measured = codes.fieldValue(record, table[0].field)
        onGrid = segmentation.voxelCounts[key] * segmentation.voxelVolumeMl
        if measured is not None and abs(onGrid - measured) > 1e-9 * max(1.0, measured):
            differences[str(segmentation.dataset.SegmentSequence[number - 1].SegmentLabel)] = (onGrid, measured)
    return differences


def _growthGroups(growth, latestRole):
    hd = requirePackage("highdicom")
    groups = []
    for words, item in codes.growthItems(growth):
        if item["to"]["role"] != latestRole:
            continue
        label = codes.growthLabel(words, item)
        measurements = _measurements(item, codes.GROWTH_MEASUREMENTS)
        if measurements:
            groups.append(hd.sr.MeasurementsAndQualitativeEvaluations(
                tracking_identifier=hd.sr.TrackingIdentifier(uid=generate_uid(), identifier=label),
                finding_type=_concept(codes.GROWTH_GROUP), measurements=measurements,
            ))
    return groups


def _readinessGroup(readiness):
    hd = requirePackage("highdicom")
    evaluations, measurements = [], []
    for item in readiness:
        name = codes.readinessCriterionCode(item["criterion"], item["label"])
        evaluations.append(hd.sr.QualitativeEvaluation(name=_concept(name), value=_concept(codes.readinessStateCode(item["state"]))))
        if item.get("value") is not None and item.get("unit") in codes.UNITS:
            measurements.append(hd.sr.Measurement(name=_concept(name), value=float(item["value"]), unit=_concept(codes.UNITS[item["unit"]])))
    return hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=generate_uid(), identifier="Stage 2 readiness checklist"),
        finding_type=_concept(codes.READINESS_GROUP), measurements=measurements or None, qualitative_evaluations=evaluations,
    )


def buildMeasurementReport(volumetry, planKey, segmentation, sourceDatasets, growth=None, readiness=None, latestRole=None,
                           seriesNumber=400, softwareVersion="", seriesDescription="ALPPS measurements"):
    """The TID 1500 report of one time point. ``volumetry``: volumetryToDict of its segmentation;
    ``segmentation``: its SegmentationObject; ``growth`` (hypertrophyToDict) and ``readiness``
    (readinessToList) only for the latest time point (``latestRole``)."""
    hd = requirePackage("highdicom")
    segDataset = segmentation.dataset
    sourceSeries = hd.sr.SourceSeriesForSegmentation(sourceDatasets[0].SeriesInstanceUID)
    groups = []
    records = segmentRecords(volumetry, planKey)
    for key, number in segmentation.segmentNumbers.items():
        if key not in records:
            continue  # IV as the union of IVa and IVb when the volumetry has no IV of its own
        record, table = records[key]
        description = segDataset.SegmentSequence[number - 1]
        findingType = description.SegmentedPropertyTypeCodeSequence[0]
        groups.append(hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations(
            tracking_identifier=hd.sr.TrackingIdentifier(uid=description.TrackingUID, identifier=str(description.SegmentLabel)),
            referenced_segment=hd.sr.ReferencedSegment(
                sop_class_uid=segDataset.SOPClassUID, sop_instance_uid=segDataset.SOPInstanceUID, segment_number=number,
                source_series=sourceSeries,
            ),
            finding_type=hd.sr.CodedConcept(findingType.CodeValue, findingType.CodingSchemeDesignator, findingType.CodeMeaning),
            finding_sites=[hd.sr.FindingSite(_concept(codes.LIVER))],
            measurements=_measurements(record, table),
        ))
    if growth is not None:
        groups += _growthGroups(growth, latestRole)
    if readiness:
        groups.append(_readinessGroup(readiness))
    observer = hd.sr.ObserverContext(
        observer_type=hd.sr.CodedConcept("121007", "DCM", "Device"),
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(uid=generate_uid(), name="ALPPS", model_name="ALPPS"),
    )
    content = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=observer),
        procedure_reported=[_concept(codes.CT_PROCEDURE), _concept(codes.ALPPS_PROCEDURE)],
        imaging_measurements=groups,
    )
    report = hd.sr.Comprehensive3DSR(
        evidence=[segDataset] + list(sourceDatasets),
        content=content,
        series_instance_uid=generate_uid(),
        series_number=seriesNumber,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer="ALPPS extension for 3D Slicer",
        is_complete=True,
        series_description=seriesDescription[:64],
        software_versions=softwareVersion or "unknown",
    )
    return codes.declarePrivateScheme(report)
