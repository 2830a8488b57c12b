"""Codes of the DICOM objects ALPPS writes: SNOMED CT for anatomy (clinical reference section 3),
DCM for report structure, UCUM for units, and a private coding scheme (designator 99ALPPS,
README 'ALPPS in PACS') for the ALPPS concepts no standard names.

``VOLUMETRY_MEASUREMENTS`` and ``GROWTH_MEASUREMENTS`` are the one table from the result records
(volumetryToDict, hypertrophyToDict) to coded measurements: fields are read there by name, so a
changed record changes the report here and nowhere else.
"""

from collections import namedtuple

PRIVATE_SCHEME = "99ALPPS"
PRIVATE_SCHEME_NAME = "ALPPS extension private codes"

Code = namedtuple("Code", "value scheme meaning")

ANATOMICAL_STRUCTURE = Code("123037004", "SCT", "Anatomical Structure")
MORPHOLOGICALLY_ALTERED_STRUCTURE = Code("49755003", "SCT", "Morphologically Altered Structure")
NEOPLASM = Code("108369006", "SCT", "Neoplasm")
LIVER = Code("10200004", "SCT", "Liver")
VOLUME = Code("118565006", "SCT", "Volume")
CT_PROCEDURE = Code("25045-6", "LN", "CT unspecified body region")
ALPPS_PROCEDURE = Code("ALPPS000", PRIVATE_SCHEME, "ALPPS two-stage hepatectomy assessment")

# Couinaud units that SNOMED CT does not code (segment IV split by the portal plane).
SUBSEGMENT_CODES = {
    "IVa": Code("ALPPS001", PRIVATE_SCHEME, "Couinaud hepatic segment IVa"),
    "IVb": Code("ALPPS002", PRIVATE_SCHEME, "Couinaud hepatic segment IVb"),
}
FUTURE_LIVER_REMNANT = Code("ALPPS010", PRIVATE_SCHEME, "Future liver remnant")
RESECTED_LIVER = Code("ALPPS011", PRIVATE_SCHEME, "Liver to be resected")

TUMOUR_FREE_VOLUME = Code("ALPPS020", PRIVATE_SCHEME, "Tumour-free volume")
TUMOUR_VOLUME_INSIDE = Code("ALPPS021", PRIVATE_SCHEME, "Tumour volume inside")
SHARE_OF_LIVER = Code("ALPPS022", PRIVATE_SCHEME, "Share of total liver volume")
STANDARDISED_FLR = Code("ALPPS030", PRIVATE_SCHEME, "Standardised future liver remnant (sFLR)")
PERCENT_FLR = Code("ALPPS031", PRIVATE_SCHEME, "Future liver remnant share of liver (%FLR)")
FUNCTIONAL_PERCENT_FLR = Code("ALPPS032", PRIVATE_SCHEME, "Functional %FLR (tumour excluded)")
FLR_BODY_WEIGHT_RATIO = Code("ALPPS033", PRIVATE_SCHEME, "FLR to body weight ratio (FLR-BWR)")
FLR_PER_BSA = Code("ALPPS034", PRIVATE_SCHEME, "FLR per body surface area")
DEGREE_OF_HYPERTROPHY = Code("ALPPS040", PRIVATE_SCHEME, "Degree of hypertrophy (DH)")
KINETIC_GROWTH_RATE = Code("ALPPS041", PRIVATE_SCHEME, "Kinetic growth rate (KGR)")
RELATIVE_GROWTH = Code("ALPPS042", PRIVATE_SCHEME, "FLR relative growth")
RELATIVE_GROWTH_PER_DAY = Code("ALPPS043", PRIVATE_SCHEME, "FLR relative growth per day")
ABSOLUTE_GROWTH_PER_DAY = Code("ALPPS044", PRIVATE_SCHEME, "FLR absolute growth per day")
GROWTH_GROUP = Code("ALPPS045", PRIVATE_SCHEME, "FLR growth between scans")
READINESS_GROUP = Code("ALPPS050", PRIVATE_SCHEME, "Stage 2 readiness checklist")
READINESS_STATES = {
    "met": Code("ALPPS051", PRIVATE_SCHEME, "Criterion met"),
    "not met": Code("ALPPS052", PRIVATE_SCHEME, "Criterion not met"),
    "unknown": Code("ALPPS053", PRIVATE_SCHEME, "Criterion unknown"),
    "borderline": Code("ALPPS054", PRIVATE_SCHEME, "Criterion borderline"),
}
# Readiness criteria by the checklist's key; a criterion added later gets ALPPSR + the first 8 hex
# digits of the SHA-1 of its key (stable, and documented in the README).
READINESS_CRITERIA = {
    "sFLR": "ALPPS060",
    "flrBwr": "ALPPS061",
    "kineticGrowthRate": "ALPPS062",
    "relativeGrowthPerDay": "ALPPS063",
    "meld": "ALPPS064",
    "noLiverFailureAfterStage1": "ALPPS065",
    "remnantFunction": "ALPPS066",
}

PATIENT_REPORT = Code("ALPPS200", PRIVATE_SCHEME, "ALPPS patient report")

# Methods: the formula a number was made with, as the method of its measurement.
METHOD_VOXEL_COUNT = Code("ALPPS100", PRIVATE_SCHEME, "Voxel count x voxel volume")
METHOD_TUMOUR_FREE = Code("ALPPS101", PRIVATE_SCHEME, "Volume minus tumour voxels inside it")
METHOD_SFLR = Code("ALPPS102", PRIVATE_SCHEME, "sFLR = FLR / sTLV x 100 (MD Anderson)")
METHOD_SFLR_TUMOUR_FREE = Code("ALPPS108", PRIVATE_SCHEME, "sFLR = tumour-free FLR / sTLV x 100 (MD Anderson)")
METHOD_FLR_BWR_TUMOUR_FREE = Code("ALPPS109", PRIVATE_SCHEME, "FLR-BWR = tumour-free FLR / (weight kg x 1000) x 100")
METHOD_FLR_PER_BSA_TUMOUR_FREE = Code("ALPPS114", PRIVATE_SCHEME, "Tumour-free FLR / BSA")
METHOD_PERCENT_FLR = Code("ALPPS103", PRIVATE_SCHEME, "%FLR = FLR / TLV x 100")
METHOD_FUNCTIONAL_FLR = Code("ALPPS104", PRIVATE_SCHEME, "(FLR - tumour in FLR) / (TLV - tumour) x 100")
METHOD_FLR_BWR = Code("ALPPS105", PRIVATE_SCHEME, "FLR-BWR = FLR / (weight kg x 1000) x 100")
METHOD_FLR_PER_BSA = Code("ALPPS106", PRIVATE_SCHEME, "FLR / BSA")
METHOD_SHARE = Code("ALPPS107", PRIVATE_SCHEME, "Segment volume / TLV x 100")
METHOD_DH = Code("ALPPS110", PRIVATE_SCHEME, "DH = sFLR after - sFLR before (Shindoh 2013)")
METHOD_KGR = Code("ALPPS111", PRIVATE_SCHEME, "KGR = DH / weeks since stage 1 (Shindoh 2013)")
METHOD_RELATIVE_GROWTH = Code("ALPPS112", PRIVATE_SCHEME, "(FLR after - FLR before) / FLR before x 100")
METHOD_PER_DAY = Code("ALPPS113", PRIVATE_SCHEME, "Growth / days of the interval")

UNITS = {
    "mL": Code("mL", "UCUM", "milliliter"),
    "%": Code("%", "UCUM", "percent"),
    "pp": Code("%", "UCUM", "percent"),  # percentage points: a difference of percentages
    "mL/m2": Code("mL/m2", "UCUM", "milliliter per square meter"),
    "%/week": Code("%/wk", "UCUM", "percent per week"),
    "%/day": Code("%/d", "UCUM", "percent per day"),
    "mL/day": Code("mL/d", "UCUM", "milliliter per day"),
    "%/min/m2": Code("%/min/m2", "UCUM", "percent per minute per square meter"),
    "": Code("1", "UCUM", "no units"),
}

# (field of the record, concept, unit, method): a field that is None (not computed, e.g. sFLR
# without height and weight) is left out of the report, never written as 0.
Measure = namedtuple("Measure", "field concept unit method")
SEGMENT_MEASUREMENTS = (  # volumetryToDict()["segments"][unit]
    Measure("volumeMl", VOLUME, "mL", METHOD_VOXEL_COUNT),
    Measure("tumourMl", TUMOUR_VOLUME_INSIDE, "mL", METHOD_VOXEL_COUNT),
    Measure("tumourFreeMl", TUMOUR_FREE_VOLUME, "mL", METHOD_TUMOUR_FREE),
    Measure("shareOfLiverPercent", SHARE_OF_LIVER, "%", METHOD_SHARE),
)
LIVER_MEASUREMENTS = (  # volumetryToDict()["liver"]
    Measure("totalLiverVolumeMl", VOLUME, "mL", METHOD_VOXEL_COUNT),
    Measure("totalTumourVolumeMl", TUMOUR_VOLUME_INSIDE, "mL", METHOD_VOXEL_COUNT),
)
REMNANT_MEASUREMENTS = (  # volumetryToDict()["plans"][plan key]
    Measure("remnantMl", VOLUME, "mL", METHOD_VOXEL_COUNT),
    Measure("tumourInRemnantMl", TUMOUR_VOLUME_INSIDE, "mL", METHOD_VOXEL_COUNT),
    Measure("tumourFreeRemnantMl", TUMOUR_FREE_VOLUME, "mL", METHOD_TUMOUR_FREE),
    Measure("sFLR", STANDARDISED_FLR, "%", METHOD_SFLR),
    Measure("percentFLR", PERCENT_FLR, "%", METHOD_PERCENT_FLR),
    Measure("functionalPercentFLR", FUNCTIONAL_PERCENT_FLR, "%", METHOD_FUNCTIONAL_FLR),
    Measure("flrBwr", FLR_BODY_WEIGHT_RATIO, "%", METHOD_FLR_BWR),
    Measure("flrPerBsa", FLR_PER_BSA, "mL/m2", METHOD_FLR_PER_BSA),
)
RESECTED_MEASUREMENTS = (Measure("resectedMl", VOLUME, "mL", METHOD_VOXEL_COUNT),)
TUMOUR_MEASUREMENTS = (Measure("volumeMl", VOLUME, "mL", METHOD_VOXEL_COUNT),)  # {"volumeMl": tumourVolumesMl[name]}
# The growth lists of hypertrophyToDict that the report holds, by key, with the words that tell
# them apart in the report (whichever the record has: the growth from stage 1 replaces the
# growth from the first scan).
GROWTH_KINDS = (("sinceStage1", "from stage 1"), ("sinceFirst", "from first scan"), ("intervals", "interval"))
GROWTH_MEASUREMENTS = (  # an item of a GROWTH_KINDS list; "remnant.x" is read inside "remnant"
    Measure("remnant.relativeGrowthPercent", RELATIVE_GROWTH, "%", METHOD_RELATIVE_GROWTH),
    Measure("remnant.relativeGrowthPercentPerDay", RELATIVE_GROWTH_PER_DAY, "%/day", METHOD_PER_DAY),
    Measure("remnant.absoluteGrowthMlPerDay", ABSOLUTE_GROWTH_PER_DAY, "mL/day", METHOD_PER_DAY),
    Measure("degreeOfHypertrophyPp", DEGREE_OF_HYPERTROPHY, "pp", METHOD_DH),
    Measure("kineticGrowthRatePercentPerWeek", KINETIC_GROWTH_RATE, "%/week", METHOD_KGR),
)


def declarePrivateScheme(dataset):
    """Name the private coding scheme in the object (SOP Common's Coding Scheme Identification), so
    that a reader meeting 99ALPPS knows whose codes they are."""
    import pydicom

    item = pydicom.Dataset()
    item.CodingSchemeDesignator = PRIVATE_SCHEME
    item.CodingSchemeName = PRIVATE_SCHEME_NAME
    item.CodingSchemeResponsibleOrganization = "ALPPS extension for 3D Slicer (README: ALPPS in PACS)"
    dataset.CodingSchemeIdentificationSequence = [item]
    return dataset


def growthLabel(words, item):
    """The tracking identifier of a growth group (at most 64 characters, as DICOM allows)."""
    return f"FLR growth {item['from']['role']} to {item['to']['role']}, {item['days']} d, {words}"[:64]


def growthItems(growth):
    """(words of the kind, item) for every growth item of a hypertrophyToDict record."""
    for key, words in GROWTH_KINDS:
        for item in growth.get(key) or ():
            yield words, item


def fieldValue(record, field):
    """The number at ``field`` ('a.b' reads record['a']['b']) or None when absent or not computed."""
    value = record
    for key in field.split("."):
        if not isinstance(value, dict) or value.get(key) is None:
            return None
        value = value[key]
    return None if isinstance(value, bool) else float(value)


# The ratios whose FLR may be gross or tumour-free: (field, body-size field of volumetryToDict's
# "patient", FLR = value x size / scale, method with the gross FLR, method with the tumour-free FLR).
_REMNANT_RATIOS = (
    ("sFLR", "standardLiverVolumeMl", 100.0, METHOD_SFLR, METHOD_SFLR_TUMOUR_FREE),
    ("flrBwr", "weightKg", 100.0 / 1000.0, METHOD_FLR_BWR, METHOD_FLR_BWR_TUMOUR_FREE),
    ("flrPerBsa", "bsaM2", 1.0, METHOD_FLR_PER_BSA, METHOD_FLR_PER_BSA_TUMOUR_FREE),
)
_RATIO_TOLERANCE = 1e-9


def remnantRecord(plan, patient=None):
    """A plan's record with the tumour-free remnant (the record's own field when it has one, else
    the remnant minus the tumour inside it: clinical reference section 2), and under "methods"
    the formula of each ratio with the FLR that entered it, gross or tumour-free, found from the
    numbers themselves; a ratio that fits neither is refused (ValueError)."""
    record = dict(plan)
    if record.get("tumourFreeRemnantMl") is None and record.get("remnantMl") is not None:
        record["tumourFreeRemnantMl"] = record["remnantMl"] - (record.get("tumourInRemnantMl") or 0.0)
    record["methods"] = {}
    for field, sizeField, scale, grossMethod, tumourFreeMethod in _REMNANT_RATIOS:
        value, size = record.get(field), (patient or {}).get(sizeField)
        if value is None or size is None:
            continue
        implied = value * size / scale
        gross, tumourFree = record["remnantMl"], record["tumourFreeRemnantMl"]
        if abs(implied - gross) <= _RATIO_TOLERANCE * max(1.0, gross):
            record["methods"][field] = grossMethod  # also when no tumour lies in the remnant: both are the same FLR
        elif abs(implied - tumourFree) <= _RATIO_TOLERANCE * max(1.0, tumourFree):
            record["methods"][field] = tumourFreeMethod
        else:
            raise ValueError(f"{field} {value} of plan '{record.get('label', '')}' fits neither the FLR ({gross} mL) nor the tumour-free "
                             f"FLR ({tumourFree} mL) with {sizeField} {size}: not reported")
    return record


def _hashedValue(prefix, key):
    import hashlib

    return prefix + hashlib.sha1(key.encode()).hexdigest()[:8].upper()


def readinessCriterionCode(key, label):
    return Code(READINESS_CRITERIA.get(key) or _hashedValue("ALPPSR", key), PRIVATE_SCHEME, label[:64])


def readinessStateCode(state):
    """The code of a checklist state; a state added later gets ALPPSS + 8 hex digits of its SHA-1."""
    return READINESS_STATES.get(state) or Code(_hashedValue("ALPPSS", state), PRIVATE_SCHEME, f"Criterion {state}"[:64])
