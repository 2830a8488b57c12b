"""The scenarios Slicer's self-tests run, run here on slicer-core with real MRML nodes."""

import pytest
from ALPPSAssessmentLib import selfTestScenarios as assessmentScenarios
from ALPPSVolumetryLib import selfTestScenarios as volumetryScenarios

SCENARIOS = [("ALPPSVolumetry", s) for s in volumetryScenarios.SCENARIOS] + [
    ("ALPPSAssessment", s) for s in assessmentScenarios.SCENARIOS
]


@pytest.mark.parametrize("module,scenario", SCENARIOS, ids=[f"{m}.{s.__name__}" for m, s in SCENARIOS])
def test_selfTestScenario(module, scenario, slicerContext, tmp_path):
    scenario(slicerContext.scene, str(tmp_path))
