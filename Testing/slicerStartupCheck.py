"""Run inside a real Slicer started normally with the extension's module paths (the GitHub
workflow's "Modules load at start-up" step): both modules were instantiated at start-up, both
panels enter, and a drop-down choice and the cursor of a date being typed survive leaving and
re-entering (issue 19: on Slicer 5.8 both were lost). Exits with status 1 listing what failed.

    Slicer --no-splash --testing --additional-module-paths ALPPSVolumetry ALPPSAssessment \
        --python-script Testing/slicerStartupCheck.py
"""

import slicer

problems = []
print("Slicer", slicer.app.applicationVersion)
for name in ("ALPPSVolumetry", "ALPPSAssessment"):
    if not hasattr(slicer.modules, name.lower()):
        problems.append(f"module {name} was not instantiated at start-up")

if not problems:
    # Entering runs each widget's setup() and enter(), as a user opening the module does.
    slicer.util.selectModule("ALPPSVolumetry")
    slicer.util.selectModule("ALPPSAssessment")
    assessment = slicer.util.getModuleWidget("ALPPSAssessment")
    combo = assessment.ui.planComboBox
    combo.currentIndex = combo.count - 1
    chosen = combo.currentText
    lineEdit = assessment.ui.stage1DateLineEdit
    lineEdit.text = "2026-0315"
    lineEdit.cursorPosition = 7
    lineEdit.insert("-")
    if lineEdit.cursorPosition != 8:
        problems.append(f"the cursor of the stage 1 date jumped to {lineEdit.cursorPosition} while typing (expected 8)")
    for _ in range(2):
        slicer.util.selectModule("ALPPSVolumetry")
        slicer.util.selectModule("ALPPSAssessment")
    if combo.currentText != chosen or assessment.logic.getParameterNode().plan != chosen:
        problems.append(f"the plan '{chosen}' was not kept after leaving the module: shows '{combo.currentText}'")

for problem in problems:
    print("FAILED:", problem)
print("start-up check:", "failed" if problems else "passed")
slicer.util.exit(1 if problems else 0)
