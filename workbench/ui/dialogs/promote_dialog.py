"""Promote to eval case (E): a labelled output becomes an example in a dataset, with the
expectations a good answer must meet and its provenance (call, prompt version, model).

Expectations offered (promptfoo names): the output as reference (`equals`), a keyword
(`icontains`), a regular expression (`regex`, checked as you type) and a rubric for the LLM judge
(`llm-rubric`, threshold 1–5). The write is `services.evals.promote_call`.
"""

from __future__ import annotations

import re

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from workbench.core.models import Expectation
from workbench.services.call_case import CaseLoader
from workbench.services.evals import promote_call
from workbench.services.project_session import Project
from workbench.services.scorers import DEFAULT_RUBRIC_THRESHOLD
from workbench.ui.context import Change, ProjectContext
from workbench.ui.operations import ProjectOp
from workbench.ui.theme import css, themed_style
from workbench.ui.widgets.label_bar import label_summary

NEW_DATASET = "New dataset…"


def _plain(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label


class PromoteDialog(QDialog):
    """Turns call `call_id` into an eval case; `promoted(example_id, dataset)` on success."""

    promoted = Signal(int, str)

    def __init__(self, ctx: ProjectContext, call_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        project = ctx.require()
        self.case = CaseLoader(project).load(call_id)
        self.label = project.labels.get(call_id)
        self.setWindowTitle(f"Promote call #{call_id} to an eval case")
        self.example_id: int | None = None

        case = self.case
        origin = f"Call #{call_id} · {case.version_text} · {case.model} · {case.origin_text}"
        self.provenance = _plain(origin)
        self.provenance.setStyleSheet("font-weight: bold;")
        self.provenance.setAccessibleName("Provenance")
        self.label_text = _plain(f"Label: {label_summary(self.label)}")
        self.synthetic = _plain("offline demo — synthetic responses (not from a model)")
        themed_style(self.synthetic, lambda t: t.banner_style())
        self.synthetic.setVisible(case.synthetic)
        self.inputs = QPlainTextEdit(case.vars_text())
        self.inputs.setReadOnly(True)
        self.inputs.setAccessibleName("Input variables")
        self.inputs.setMaximumHeight(96)
        self.output = QPlainTextEdit(case.output or "(no output)")
        self.output.setReadOnly(True)
        self.output.setAccessibleName("Output")
        self.output.setMaximumHeight(96)

        self.dataset = QComboBox()
        self.dataset.setAccessibleName("Target dataset")
        self.dataset.addItems([*project.datasets.names(), NEW_DATASET])
        if case.dataset and self.dataset.findText(case.dataset) >= 0:
            self.dataset.setCurrentText(case.dataset)
        self.new_name = QLineEdit()
        self.new_name.setPlaceholderText("Name of the new dataset, e.g. eval-cases")
        self.new_name.setAccessibleName("New dataset name")
        self.note = QLineEdit(self.label.note if self.label else "")
        self.note.setAccessibleName("Note")
        self.tags = QLineEdit(", ".join(self.label.tags) if self.label else "")
        self.tags.setAccessibleName("Tags")
        self.tags.setPlaceholderText("comma-separated, e.g. tone, regression")
        target = QFormLayout()
        target.addRow("&Dataset", self.dataset)
        target.addRow("New &name", self.new_name)
        target.addRow("N&ote", self.note)
        target.addRow("T&ags", self.tags)

        self.use_equals = QCheckBox("The &output as reference (equals)")
        self.use_equals.setToolTip(case.output[:2000] or "(this call has no output)")
        self.use_equals.setEnabled(bool(case.output))
        self.use_keyword = QCheckBox("&Keyword (icontains)")
        self.keyword = QLineEdit()
        self.keyword.setAccessibleName("Keyword")
        self.keyword_status = _plain()
        self.use_regex = QCheckBox("&Regex")
        self.regex = QLineEdit()
        self.regex.setAccessibleName("Regular expression")
        self.regex_status = _plain()
        self.use_rubric = QCheckBox("R&ubric (llm-rubric)")
        self.rubric = QPlainTextEdit()
        self.rubric.setAccessibleName("Rubric")
        self.rubric.setPlaceholderText("What the judge checks, e.g. 'One question, at the level'")
        self.rubric.setMaximumHeight(70)
        self.rubric.setTabChangesFocus(True)
        self.threshold = QSpinBox()
        self.threshold.setRange(1, 5)
        self.threshold.setValue(int(DEFAULT_RUBRIC_THRESHOLD))
        self.threshold.setPrefix("pass at ")
        self.threshold.setSuffix(" / 5")
        self.threshold.setAccessibleName("Rubric threshold")
        grid = QGridLayout()
        grid.addWidget(self.use_equals, 0, 0, 1, 3)
        grid.addWidget(self.use_keyword, 1, 0)
        grid.addWidget(self.keyword, 1, 1)
        grid.addWidget(self.keyword_status, 1, 2)
        grid.addWidget(self.use_regex, 2, 0)
        grid.addWidget(self.regex, 2, 1)
        grid.addWidget(self.regex_status, 2, 2)
        grid.addWidget(self.use_rubric, 3, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.rubric, 3, 1)
        grid.addWidget(self.threshold, 3, 2, Qt.AlignmentFlag.AlignTop)
        grid.setColumnStretch(1, 3)
        grid.setColumnStretch(2, 2)
        expectations = QGroupBox("Expectations a good answer meets")
        expectations.setLayout(grid)

        self.error = _plain()
        self.error.setStyleSheet(css("bad"))
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Add to dataset")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.provenance)
        layout.addWidget(self.label_text)
        layout.addWidget(self.synthetic)
        previews = QGridLayout()
        previews.addWidget(_plain("Input variables (the new example gets these)"), 0, 0)
        previews.addWidget(_plain("Output"), 0, 1)
        previews.addWidget(self.inputs, 1, 0)
        previews.addWidget(self.output, 1, 1)
        layout.addLayout(previews)
        layout.addLayout(target)
        layout.addWidget(expectations)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.resize(720, 560)

        # A failing output is no reference for "equals": say what a good answer contains instead.
        self.use_equals.setChecked(
            bool(case.output) and (self.label is None or self.label.verdict != "fail")
        )
        self.keyword.textChanged.connect(lambda t: self._tick(self.use_keyword, t))
        self.regex.textChanged.connect(lambda t: self._tick(self.use_regex, t))
        self.rubric.textChanged.connect(
            lambda: self._tick(self.use_rubric, self.rubric.toPlainText())
        )
        for box in (self.use_equals, self.use_keyword, self.use_regex, self.use_rubric):
            box.toggled.connect(self._validate)
        self.dataset.currentTextChanged.connect(self._validate)
        self.new_name.textChanged.connect(self._validate)
        self._validate()
        self.dataset.setFocus()

    def _tick(self, box: QCheckBox, text: str) -> None:
        if text.strip() and not box.isChecked():
            box.setChecked(True)
        self._validate()

    # -- validation --------------------------------------------------------------------------
    def regex_problem(self) -> str | None:
        """Why the regex cannot be used (None when it compiles)."""
        try:
            re.compile(self.regex.text())
        except re.error as exc:
            return f"Invalid regex: {exc}"
        return None

    def _validate(self) -> bool:
        """Update the live notes and the OK button; True when the case can be added."""
        output = self.case.output
        self.new_name.setEnabled(self.dataset.currentText() == NEW_DATASET)
        keyword = self.keyword.text().strip()
        if keyword:
            found = keyword.casefold() in output.casefold()
            self._status(
                self.keyword_status, found, "this output contains it", "not in this output"
            )
        else:
            self.keyword_status.clear()
        problem = self.regex_problem() if self.regex.text() else None
        if problem:
            self.regex_status.setText(problem)
            self.regex_status.setStyleSheet(css("bad"))
        elif self.regex.text():
            found = re.search(self.regex.text(), output) is not None
            self._status(self.regex_status, found, "matches this output", "no match in this output")
        else:
            self.regex_status.clear()
        reasons = []
        if self.dataset.currentText() == NEW_DATASET and not self.new_name.text().strip():
            reasons.append("Name the new dataset.")
        if not self.expectations():
            reasons.append("Choose at least one expectation.")
        if self.use_keyword.isChecked() and not keyword:
            reasons.append("Type the keyword, or untick it.")
        if self.use_regex.isChecked() and (problem or not self.regex.text()):
            reasons.append(problem or "Type the regex, or untick it.")
        if self.use_rubric.isChecked() and not self.rubric.toPlainText().strip():
            reasons.append("Write the rubric, or untick it.")
        self.error.setText(" ".join(reasons))
        self.ok.setEnabled(not reasons)
        return not reasons

    @staticmethod
    def _status(label: QLabel, good: bool, yes: str, no: str) -> None:
        label.setText(f"✓ {yes}" if good else f"• {no}")
        label.setStyleSheet(css("good" if good else "muted"))

    def expectations(self) -> list[Expectation]:
        out = []
        if self.use_equals.isChecked():
            out.append(Expectation(type="equals"))  # no value: promote_call takes the output
        if self.use_keyword.isChecked() and self.keyword.text().strip():
            out.append(Expectation(type="icontains", value=self.keyword.text().strip()))
        if self.use_regex.isChecked() and self.regex.text() and not self.regex_problem():
            out.append(Expectation(type="regex", value=self.regex.text()))
        if self.use_rubric.isChecked() and self.rubric.toPlainText().strip():
            out.append(
                Expectation(
                    type="llm-rubric",
                    value=self.rubric.toPlainText().strip(),
                    threshold=float(self.threshold.value()),
                )
            )
        return out

    def target_dataset(self) -> str:
        name = self.dataset.currentText()
        return self.new_name.text().strip() if name == NEW_DATASET else name

    # -- writing -----------------------------------------------------------------------------
    def accept(self) -> None:
        if not self._validate():
            return
        name = self.target_dataset()
        tags = [t.strip() for t in self.tags.text().split(",") if t.strip()]
        new_dataset = self.dataset.currentText() == NEW_DATASET
        call_id, expectations, note = self.case.call_id, self.expectations(), self.note.text()

        def promote(project: Project) -> int:
            if new_dataset:
                project.datasets.create(name)
            try:
                return promote_call(
                    project, call_id, name, expectations, note=note.strip(), tags=tags
                )
            except BaseException:
                if new_dataset:
                    project.datasets.delete(name)  # no empty dataset left behind a failure
                raise

        self.ok.setEnabled(False)
        ProjectOp(self, self.ctx, promote, change=Change.DATASETS, detail=name).success(
            lambda example_id: self._promoted(example_id, name)
        ).failure(self._failed).run()

    def _promoted(self, example_id: int, name: str) -> None:
        self.example_id = example_id
        self.promoted.emit(example_id, name)
        super().accept()

    def _failed(self, message: str) -> None:
        self.ok.setEnabled(True)
        self.error.setText(message)
