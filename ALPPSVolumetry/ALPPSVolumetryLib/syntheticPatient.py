"""A synthetic ALPPS patient whose every volume is known exactly.

A liver-shaped phantom (a large right lobe and a tapering left lobe, flattened below, with a
groove for the inferior vena cava) in an abdomen with realistic CT values, divided into
Couinaud segments I-VIII by planes as in the Bismuth scheme, with tumours, spleen, inferior
vena cava, portal and hepatic veins as tubes. Several time points follow the ALPPS course:
after stage 1 (portal ligation and in-situ split) the left lateral section (II-III) grows.

Everything is drawn on the voxel grid, so the true volume of each structure is its voxel
count times the voxel volume, counted here with numpy independently of Slicer. Only numpy is
used, so the same patient is built inside Slicer (self-tests) and outside it (demo, pytest).
"""

import datetime
from dataclasses import dataclass, field

import numpy as np

from .segments.couinaud import SEGMENT_IDS

# Patient-level facts of the synthetic patient.
# A made-up identity, distinctive enough that a test can tell it has left an anonymised report.
PATIENT_NAME = "Quill^Marjorie"
PATIENT_ID = "SYN-48213"
PATIENT_BIRTH_DATE = "19610417"
PATIENT_SEX = "F"
PATIENT_HEIGHT_CM = 172.0
PATIENT_WEIGHT_KG = 78.0
STAGE1_DATE = datetime.date(2026, 3, 5)

# CT attenuation (HU) in the portal venous phase.
HU_AIR = -1000
HU_FAT = -95
HU_BODY_WALL = 45
HU_BONE = 420
HU_LIVER = 105
HU_TUMOUR = 50
HU_SPLEEN = 115
HU_PORTAL_VEIN = 175
HU_HEPATIC_VEIN = 160
HU_CAVA_AND_AORTA = 165
NOISE_SD_HU = 12.0

# Time points: (role, days after stage 1, scale of the left lobe along x, y, z).
# The scales were chosen so that segments II+III grow by about 65 % at day 7 and 78 % at
# day 10 (checked by the tests), the course the ALPPS registry reports (clinical reference section 4).
TIME_POINTS = (
    ("pre-stage 1", -3, 1.00),
    ("interstage", 7, 1.222),
    ("pre-stage 2", 10, 1.26),
)

# Couinaud planes of the phantom (RAS mm): the IVC axis (x, y), the horizontal normals of the
# vertical right and middle hepatic vein planes through it, and the umbilical fissure plane.
IVC_AXIS_XY = (15.0, -50.0)
RIGHT_HEPATIC_VEIN_NORMAL = (0.62, -0.78)
MIDDLE_HEPATIC_VEIN_NORMAL = (1.0, -0.10)
UMBILICAL_FISSURE_POINT = (4.0, -45.0)
UMBILICAL_FISSURE_NORMAL = (0.90, 0.44)

# Laboratory values on the day of each scan: {role: {quantity: [value, unit]}} (plausible
# values for a patient with a normal liver recovering from stage 1).
LABS = {
    "pre-stage 1": {"bilirubin": [9.0, "umol/L"], "creatinine": [0.9, "mg/dL"], "inr": [1.0, ""], "albumin": [41.0, "g/L"]},
    "interstage": {"bilirubin": [22.0, "umol/L"], "creatinine": [1.0, "mg/dL"], "inr": [1.2, ""], "albumin": [33.0, "g/L"]},
    "pre-stage 2": {"bilirubin": [15.0, "umol/L"], "creatinine": [0.9, "mg/dL"], "inr": [1.1, ""], "albumin": [36.0, "g/L"]},
}

# Veins as capsules: (name, start, end, radius), RAS mm. The hepatic veins join the IVC at the top;
# the portal vein trunk rises from below to the bifurcation and divides into right and left pedicles.
HEPATIC_VEINS = (
    ("RHV", (15.0, -46.0, 62.0), (88.0, 22.0, -22.0), 4.5),
    ("MHV", (15.0, -46.0, 62.0), (24.0, 58.0, -28.0), 4.0),
    ("LHV", (15.0, -46.0, 62.0), (-62.0, 20.0, 32.0), 3.5),
)
PORTAL_VEINS = (
    ("Portal vein trunk", (22.0, -12.0, -110.0), (12.0, -14.0, 2.0), 7.0),
    ("Right portal pedicle", (12.0, -14.0, 2.0), (72.0, -4.0, 6.0), 5.0),
    ("Left portal pedicle", (12.0, -14.0, 2.0), (-42.0, 22.0, 14.0), 4.0),
)

TUMOURS = (
    # name, centre (RAS mm), radius mm
    ("Tumour 1", (54.0, -8.0, 32.0), 18.0),
    ("Tumour 2", (78.0, 5.0, -26.0), 12.0),
    ("Tumour 3", (-2.0, 30.0, 16.0), 8.0),
)


@dataclass
class SyntheticTimePoint:
    """One scan of the synthetic patient: CT, label arrays on the CT grid, and true volumes."""

    role: str
    daysAfterStage1: int
    studyDate: datetime.date
    ct: np.ndarray  # int16, indexed [k, j, i] as slicer.util.arrayFromVolume returns it
    ijkToRAS: np.ndarray  # 4x4
    couinaudLabels: np.ndarray  # uint8, 0 outside liver, 1..8 = segments I..VIII
    structures: dict = field(default_factory=dict)  # name -> bool array (may overlap segments)
    trueVolumesMl: dict = field(default_factory=dict)  # name -> mL (voxel count x voxel volume)
    trueVoxelCounts: dict = field(default_factory=dict)

    @property
    def voxelVolumeMl(self):
        return abs(np.linalg.det(self.ijkToRAS[:3, :3])) / 1000.0


@dataclass
class SyntheticPatient:
    name: str
    patientId: str
    heightCm: float
    weightKg: float
    stage1Date: datetime.date
    timePoints: list


def _gridCoordinates(shape, ijkToRAS):
    """RAS coordinates (mm) of every voxel centre, as three float32 arrays indexed [k, j, i]."""
    k, j, i = np.meshgrid(
        np.arange(shape[0], dtype=np.float32),
        np.arange(shape[1], dtype=np.float32),
        np.arange(shape[2], dtype=np.float32),
        indexing="ij",
    )
    m = ijkToRAS.astype(np.float32)
    return tuple(m[axis, 0] * i + m[axis, 1] * j + m[axis, 2] * k + m[axis, 3] for axis in range(3))


def _ellipsoid(r, centre, radii):
    x, y, z = r
    return (
        ((x - centre[0]) / radii[0]) ** 2 + ((y - centre[1]) / radii[1]) ** 2 + ((z - centre[2]) / radii[2]) ** 2
    ) <= 1.0


def _cylinderZ(r, centreXY, radius, zRange=(-1e9, 1e9)):
    x, y, z = r
    return ((x - centreXY[0]) ** 2 + (y - centreXY[1]) ** 2 <= radius**2) & (z >= zRange[0]) & (z <= zRange[1])


def _tube(r, start, end, radius):
    """Voxels within ``radius`` of the segment start-end: a vessel as a capsule."""
    x, y, z = r
    start = np.asarray(start, dtype=np.float32)
    axis = np.asarray(end, dtype=np.float32) - start
    length2 = float(axis @ axis)
    t = ((x - start[0]) * axis[0] + (y - start[1]) * axis[1] + (z - start[2]) * axis[2]) / length2
    t = np.clip(t, 0.0, 1.0)
    return (x - start[0] - t * axis[0]) ** 2 + (y - start[1] - t * axis[1]) ** 2 + (
        z - start[2] - t * axis[2]
    ) ** 2 <= radius**2


def _side(r, point, normal):
    """True on the side of the plane (through point, with normal) that the normal points to."""
    x, y, z = r
    return (x - point[0]) * normal[0] + (y - point[1]) * normal[1] + (z - point[2]) * normal[2] > 0


def defaultGeometry(spacing=(1.5, 1.5, 2.5)):
    """Grid of an abdominal CT as Slicer holds it: IJK to RAS with the usual LPS-stored
    direction diag(-1, -1, 1), covering x -160..160, y -140..120, z -110..110 mm (RAS)."""
    extentRAS = ((-160.0, 160.0), (-140.0, 120.0), (-110.0, 110.0))
    dims = [int(round((hi - lo) / s)) for (lo, hi), s in zip(extentRAS, spacing)]
    ijkToRAS = np.eye(4)
    ijkToRAS[0, 0] = -spacing[0]
    ijkToRAS[1, 1] = -spacing[1]
    ijkToRAS[2, 2] = spacing[2]
    # First voxel at the right-posterior-inferior... corner as stored: x and y run from + to -.
    ijkToRAS[:3, 3] = (extentRAS[0][1] - spacing[0] / 2, extentRAS[1][1] - spacing[1] / 2, extentRAS[2][0] + spacing[2] / 2)
    shape = (dims[2], dims[1], dims[0])  # [k, j, i]
    return shape, ijkToRAS


def _liverAndSegments(r, leftLobeScale):
    """Liver mask and Couinaud label array for a given growth of the left lobe."""
    # Right lobe, and a left lobe that grows about its attachment near the umbilical fissure.
    rightLobe = _ellipsoid(r, (46.0, -5.0, 6.0), (70.0, 72.0, 63.0))
    attachment = np.array((5.0, 12.0, 30.0))
    baseCentre = np.array((-26.0, 14.0, 30.0))
    baseRadii = np.array((60.0, 48.0, 30.0))
    scale = np.array((leftLobeScale, 0.5 + 0.5 * leftLobeScale, 0.5 + 0.5 * leftLobeScale))
    leftLobe = _ellipsoid(r, attachment + (baseCentre - attachment) * scale, baseRadii * scale)
    x, y, z = r
    liver = rightLobe | leftLobe
    # Flattened visceral (inferior) surface, rising towards the left.
    liver &= z > -54.0 - 0.18 * x
    # Groove for the inferior vena cava, and the gallbladder fossa on the visceral surface.
    liver &= ~_cylinderZ(r, (15.0, -50.0), 14.0)
    liver &= ~_ellipsoid(r, (34.0, 54.0, -46.0), (14.0, 22.0, 19.0))

    labels = np.zeros(liver.shape, dtype=np.uint8)
    ivc = IVC_AXIS_XY + (0.0,)
    superior = _side(r, (0.0, 0.0, 6.0), (0.0, 0.12, 1.0))  # transverse portal plane
    # Vertical planes through the IVC along the hepatic veins (normals point to the patient's right).
    rightOfCantlie = _side(r, ivc, MIDDLE_HEPATIC_VEIN_NORMAL + (0.0,))  # middle hepatic vein: right vs left liver
    posteriorOfRightVein = _side(r, ivc, RIGHT_HEPATIC_VEIN_NORMAL + (0.0,))  # right hepatic vein: VI/VII vs V/VIII
    medialOfFissure = _side(r, UMBILICAL_FISSURE_POINT + (0.0,), UMBILICAL_FISSURE_NORMAL + (0.0,))  # IV vs II/III
    segmentTwoSide = _side(r, (-44.0, 14.0, 28.0), (0.0, -0.62, 0.78))  # left hepatic vein: II vs III
    caudate = _ellipsoid(r, (-2.0, -36.0, 2.0), (28.0, 19.0, 38.0))

    right = liver & rightOfCantlie
    left = liver & ~rightOfCantlie
    labels[right & posteriorOfRightVein & superior] = 7
    labels[right & posteriorOfRightVein & ~superior] = 6
    labels[right & ~posteriorOfRightVein & superior] = 8
    labels[right & ~posteriorOfRightVein & ~superior] = 5
    labels[left & medialOfFissure] = 4
    labels[left & ~medialOfFissure & segmentTwoSide] = 2
    labels[left & ~medialOfFissure & ~segmentTwoSide] = 3
    labels[liver & caudate] = 1
    return liver, labels


def pointOnVeinPlane(normal, distance, height):
    """A point of the vertical plane through the IVC axis with this horizontal normal (x, y),
    ``distance`` mm from the axis along the vein, at height ``height`` (RAS mm)."""
    normal = np.asarray(normal, dtype=float)
    direction = np.array((-normal[1], normal[0])) / np.linalg.norm(normal)
    x, y = np.asarray(IVC_AXIS_XY) + distance * direction
    return [float(x), float(y), float(height)]


def anatomicalLandmarks():
    """Where a user would click the landmarks of plane-based Couinaud division on this phantom
    (RAS mm, labels as typed on markups points), taken from the planes _liverAndSegments draws."""
    return {
        "IVC": [IVC_AXIS_XY[0], IVC_AXIS_XY[1], 40.0],
        "RHV": pointOnVeinPlane(RIGHT_HEPATIC_VEIN_NORMAL, 60.0, 20.0),
        "MHV": pointOnVeinPlane(MIDDLE_HEPATIC_VEIN_NORMAL, 60.0, 20.0),
        # The fissure plane misses the IVC axis by 7.7 mm: the point is where it crosses the
        # front of the left lobe, 70 mm from its reference point, as a user clicks the fissure.
        "UF": [UMBILICAL_FISSURE_POINT[0] - 0.44 * 70.0, UMBILICAL_FISSURE_POINT[1] + 0.90 * 70.0, 20.0],
        # On the (7 degree tilted) portal plane, at the portal bifurcation (12, -14).
        "portal bifurcation": [12.0, -14.0, 6.0 + 0.12 * 14.0],
        # On the II/III plane, which passes within 3 mm of the portal bifurcation.
        "LHV": [-44.0, 14.0, 28.0],
    }


def makeTimePoint(role, daysAfterStage1, leftLobeScale, spacing=(1.5, 1.5, 2.5), seed=0):
    shape, ijkToRAS = defaultGeometry(spacing)
    r = _gridCoordinates(shape, ijkToRAS)
    liver, labels = _liverAndSegments(r, leftLobeScale)

    structures = {}
    for name, centre, radius in TUMOURS:
        structures[name] = _ellipsoid(r, centre, (radius, radius, radius)) & liver
    structures["Spleen"] = _ellipsoid(r, (-108.0, -42.0, 22.0), (42.0, 30.0, 58.0))
    structures["Inferior vena cava"] = _cylinderZ(r, (15.0, -50.0), 11.0, (-110.0, 110.0))
    portal = np.zeros(liver.shape, dtype=bool)
    for _, start, end, radius in PORTAL_VEINS:
        portal |= _tube(r, start, end, radius)
    structures["Portal vein"] = portal & ~structures["Inferior vena cava"]
    hepaticVeins = np.zeros(liver.shape, dtype=bool)
    for _, start, end, radius in HEPATIC_VEINS:
        hepaticVeins |= _tube(r, start, end, radius)
    structures["Hepatic veins"] = hepaticVeins & liver

    x, y, z = r
    body = ((x / 152.0) ** 2 + ((y + 12.0) / 118.0) ** 2) <= 1.0
    bodyWall = body & ~(((x / 140.0) ** 2 + ((y + 12.0) / 106.0) ** 2) <= 1.0)
    spine = _cylinderZ(r, (0.0, -98.0), 20.0)
    aorta = _cylinderZ(r, (-18.0, -72.0), 11.0)
    rng = np.random.default_rng(seed)
    ct = np.full(shape, HU_AIR, dtype=np.float32)
    ct[body] = HU_FAT
    ct[bodyWall] = HU_BODY_WALL
    ct[spine] = HU_BONE
    ct[aorta | structures["Inferior vena cava"]] = HU_CAVA_AND_AORTA
    ct[structures["Spleen"]] = HU_SPLEEN
    ct[liver] = HU_LIVER
    ct[structures["Portal vein"]] = HU_PORTAL_VEIN
    ct[structures["Hepatic veins"]] = HU_HEPATIC_VEIN
    for name, _, _ in TUMOURS:
        ct[structures[name]] = HU_TUMOUR
    ct[body] += rng.normal(0.0, NOISE_SD_HU, size=int(body.sum())).astype(np.float32)

    voxelVolumeMl = abs(np.linalg.det(ijkToRAS[:3, :3])) / 1000.0
    counts = {segmentId: int(np.count_nonzero(labels == value)) for value, segmentId in enumerate(SEGMENT_IDS, 1)}
    counts["Liver"] = int(np.count_nonzero(liver))
    counts.update({name: int(np.count_nonzero(mask)) for name, mask in structures.items()})
    return SyntheticTimePoint(
        role=role,
        daysAfterStage1=daysAfterStage1,
        studyDate=STAGE1_DATE + datetime.timedelta(days=daysAfterStage1),
        ct=np.round(ct).astype(np.int16),
        ijkToRAS=ijkToRAS,
        couinaudLabels=labels,
        structures=structures,
        trueVoxelCounts=counts,
        trueVolumesMl={name: count * voxelVolumeMl for name, count in counts.items()},
    )


def makeSyntheticPatient(spacing=(1.5, 1.5, 2.5), timePoints=TIME_POINTS):
    """The synthetic patient with all its time points (about 1 s per time point at the default
    spacing; pass a coarser spacing for quick tests)."""
    return SyntheticPatient(
        name=PATIENT_NAME,
        patientId=PATIENT_ID,
        heightCm=PATIENT_HEIGHT_CM,
        weightKg=PATIENT_WEIGHT_KG,
        stage1Date=STAGE1_DATE,
        timePoints=[
            makeTimePoint(role, days, scale, spacing=spacing, seed=index)
            for index, (role, days, scale) in enumerate(timePoints)
        ],
    )
