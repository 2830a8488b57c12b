"""Laboratory scores shown beside imaging (clinical reference section 7), each in its own file:
units and conversions in ``laboratoryUnits``, MELD (with dialysis, floors and caps) and the MELD
flag before stage 2 in ``meldScore``, ALBI in ``albiScore``, ICG clearance in ``icgClearance``,
and the post-hepatectomy liver failure (PHLF) flags in ``liverFailureCriteria``. This file holds
their definitions as one table.

Where they sit in the ALPPS course (section 8): MELD before stage 2, when MELD > 10 carries a
higher 90-day mortality; ALBI and ICG clearance with the imaging of liver function; the PHLF flags
after stage 2, from the postoperative laboratory values.

Every score and flag has one definition (``SCORE_DEFINITIONS``: label, unit, definition,
reference, status as marked in the clinical reference) for tables, reports and JSON. Flags are
``clinicalCriteria.Flag`` records: "met" means the criterion for going ahead holds (MELD <= 10,
no 50-50 sign, peak bilirubin <= 7 mg/dL), as everywhere in the extension; the clinician decides.

Not implemented on purpose:
- the ISGLS grade of PHLF (Rahbari 2011): grades A/B/C are defined by the clinical management
  the patient needs, which laboratory values cannot tell; its definition is listed
  (``computed`` False) so that a report can say that it is not computed.
- the ALPPS risk score (Linecker, Ann Surg 2016): the clinical reference confirms only the
  published risk tables; the point weights and the stage-2 equation are [unchecked], and it says
  not to ship a calculator for them until they are confirmed against the paper.
"""

from .albiScore import ALBI_DEFINITIONS
from .icgClearance import ICG_DEFINITIONS
from .liverFailureCriteria import LIVER_FAILURE_DEFINITIONS
from .meldScore import MELD_DEFINITIONS

# Every score and flag of section 7, in the order tables list them.
SCORE_DEFINITIONS = {**MELD_DEFINITIONS, **ALBI_DEFINITIONS, **ICG_DEFINITIONS, **LIVER_FAILURE_DEFINITIONS}
