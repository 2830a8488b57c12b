"""ALBI score and grade from bilirubin and albumin (clinical reference section 7), shown with
the imaging of liver function (section 8).
"""

import math
from dataclasses import dataclass, field

from ALPPSVolumetryLib.criteria.bodySize import CHECKED, checkedNumber
from ALPPSVolumetryLib.results.quantityDefinition import QuantityDefinition

from .laboratoryUnits import ALBUMIN, BILIRUBIN, DIMENSIONLESS, canonicalValue

JOHNSON_2015 = "Johnson 2015 J Clin Oncol 33:550 (ALBI grade)"

ALBI = "albi"
ALBI_GRADE = "albiGrade"

# ALBI (section 7, [checked in code]): 0.66 log10(bilirubin umol/L) - 0.085 albumin g/L. Some
# implementations use Johnson's -0.0852; the clinical reference's -0.085 is used (its worked
# example, bilirubin 10 and albumin 40 -> -2.740, needs -0.085).
ALBI_BILIRUBIN_COEFFICIENT = 0.66
ALBI_ALBUMIN_COEFFICIENT = -0.085
ALBI_GRADE_1_AT_MOST = -2.60
ALBI_GRADE_2_AT_MOST = -1.39

ALBI_DEFINITIONS = {
    definition.key: definition
    for definition in (
        QuantityDefinition(
            ALBI,
            "ALBI score",
            DIMENSIONLESS,
            f"{ALBI_BILIRUBIN_COEFFICIENT:g} log10(bilirubin umol/L) - {-ALBI_ALBUMIN_COEFFICIENT:g} albumin (g/L); "
            "not rounded before grading",
            JOHNSON_2015,
            CHECKED,
            3,
        ),
        QuantityDefinition(
            ALBI_GRADE,
            "ALBI grade",
            DIMENSIONLESS,
            f"grade 1: ALBI <= {ALBI_GRADE_1_AT_MOST:.2f}; grade 2: {ALBI_GRADE_1_AT_MOST:.2f} < ALBI <= "
            f"{ALBI_GRADE_2_AT_MOST:.2f}; grade 3: ALBI > {ALBI_GRADE_2_AT_MOST:.2f}",
            JOHNSON_2015,
            CHECKED,
            0,
        ),
    )
}


@dataclass(frozen=True)
class AlbiResult:
    score: float  # unrounded; the grade is taken from it
    grade: int  # 1, 2 or 3
    bilirubinUmolPerL: float
    albuminGPerL: float
    definition: QuantityDefinition = field(default=ALBI_DEFINITIONS[ALBI], repr=False)

    def asDict(self):
        return {
            "score": self.score,
            "grade": self.grade,
            "bilirubinUmolPerL": self.bilirubinUmolPerL,
            "albuminGPerL": self.albuminGPerL,
            "definition": self.definition.asDict(),
            "gradeDefinition": ALBI_DEFINITIONS[ALBI_GRADE].asDict(),
        }


def albiGrade(score):
    """ALBI grade (1, 2, 3) of an unrounded ALBI score."""
    value = checkedNumber(score, "ALBI score", "a number (e.g. -2.74)")
    if value <= ALBI_GRADE_1_AT_MOST:
        return 1
    if value <= ALBI_GRADE_2_AT_MOST:
        return 2
    return 3


def albi(bilirubinUmolPerL, albuminGPerL):
    """ALBI score and grade from bilirubin (umol/L) and albumin (g/L), numbers in those units or
    ``LabValue`` records (e.g. ``labValue('albumin', 4.0, 'g/dL')``)."""
    bilirubin = canonicalValue(BILIRUBIN, bilirubinUmolPerL)
    albumin = canonicalValue(ALBUMIN, albuminGPerL)
    score = ALBI_BILIRUBIN_COEFFICIENT * math.log10(bilirubin) + ALBI_ALBUMIN_COEFFICIENT * albumin
    return AlbiResult(score=score, grade=albiGrade(score), bilirubinUmolPerL=bilirubin, albuminGPerL=albumin)
