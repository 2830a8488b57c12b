"""What the numbers are compared with: the published cut-offs and the one flag type
(``clinicalCriteria``), adequacy by liver condition (``adequacy``), the body-size formulas BSA and
standard liver volume (``bodySize``) and the patient's body as one parameter pack for both modules
(``patientBody``)."""
