"""The patient's body as both panels ask for it: height, weight, the body surface area and standard
liver volume formulas, and the liver condition the remnant thresholds depend on. One Slicer
parameter pack, the `body` field of both modules' parameter nodes; a widget binds a value by the
dotted name (SlicerParameterName `body.heightCm`), and the parameter node stores each value as
the parameter `body.heightCm` ...

The pack needs Slicer's `slicer.parameterNodeWrapper`, which the headless slicer-core lacks, so
it is built when a module file first asks for it (`patientBodyPack`), not at import: the batch
command and the tests import this Lib without it."""

from typing import Annotated

from . import adequacy, bodySize
from .. import volumetryWorkflow

PACK_FIELD = "body"
FIELDS = ("heightCm", "weightKg", "bsaFormula", "stlvFormula", "liverCondition")

_pack = []


def patientBodyPack():
    """The @parameterPack class PatientBody (one class for both modules)."""
    if not _pack:
        from slicer.parameterNodeWrapper import Choice, WithinRange, parameterPack

        @parameterPack
        class PatientBody:
            # 0 means not entered (sFLR and FLR-BWR are then not computed, never zero).
            heightCm: Annotated[float, WithinRange(0.0, 300.0)] = 0.0
            weightKg: Annotated[float, WithinRange(0.0, 500.0)] = 0.0
            bsaFormula: Annotated[str, Choice(list(bodySize.BSA_FORMULAS))] = bodySize.DEFAULT_BSA_FORMULA
            stlvFormula: Annotated[str, Choice(list(bodySize.STLV_FORMULAS))] = bodySize.DEFAULT_STLV_FORMULA
            liverCondition: Annotated[str, Choice(list(adequacy.LIVER_CONDITIONS))] = "normal"

        _pack.append(PatientBody)
    return _pack[0]


def packedName(name):
    """The parameter name of a value of the pack ("heightCm" -> "body.heightCm"); other names as given."""
    return f"{PACK_FIELD}.{name}" if name in FIELDS else name


def adoptTopLevelValues(scriptedModuleNode):
    """A scene saved before the pack keeps these values as top-level parameters (`heightCm`):
    move them to the pack's names (`body.heightCm`) before the parameter node is wrapped, so that
    they are read instead of the defaults. Only such a scene writes top-level names: when present
    they are the values the user entered, even over defaults the wrapper wrote meanwhile."""
    if scriptedModuleNode is None:
        return
    for name in FIELDS:
        if scriptedModuleNode.HasParameter(name):
            scriptedModuleNode.SetParameter(packedName(name), scriptedModuleNode.GetParameter(name))
            scriptedModuleNode.UnsetParameter(name)


def volumetrySettings(body, sflrThresholdPercent=0.0, flrBwrThresholdPercent=0.0, thresholdSource=""):
    """VolumetrySettings from the pack (0 = not entered) and the threshold overrides, if any."""
    return volumetryWorkflow.settingsFromValues(
        body.heightCm, body.weightKg, body.bsaFormula, body.stlvFormula, body.liverCondition,
        sflrThresholdPercent, flrBwrThresholdPercent, thresholdSource,
    )


def bodySurfaceArea(body):
    """BSA (m2) by the pack's formula, or None when height or weight is not entered."""
    if not body.heightCm or not body.weightKg:
        return None
    return bodySize.bodySurfaceArea(body.heightCm, body.weightKg, body.bsaFormula)
