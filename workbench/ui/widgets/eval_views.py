"""The Evals tab: pass rate per (prompt version, model) with its 95 % Wilson interval, the cases
that flipped between two versions, and how often the LLM judge agrees with people.

Figures come from stored scores (`services.evals`); runs over datasets with expectations are
scored as they land, and "Re-score" scores a run's stored outputs again without new model calls.
"Run eval set against the bar…" and "Export eval set…" open their dialogs
(`eval_run_dialog`, `eval_export_dialog`). Reading and scoring run in the background.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.services.evals import (
    Agreement,
    GroupRate,
    Regression,
    judge_agreement,
    regression,
    score_run,
    stored_pass_rates,
)
from workbench.services.project_session import Project
from workbench.ui.context import Change, ProjectChange, ProjectContext
from workbench.ui.operations import ProjectOp

RATE_HEADERS = ["Prompt version", "Model", "Cases", "Passed", "Pass rate", "95 % interval"]
FLIP_HEADERS = ["Change", "Row", "Model", "Repeat", "Why it fails now"]
RELOAD_ON = Change.PROJECT | Change.RUNS | Change.LABELS | Change.DATASETS | Change.PROMPTS
ANY_MODEL = "any model"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f} %"


def _table(headers: Sequence[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return table


def _fill(table: QTableWidget, rows: Sequence[Sequence[str]]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            item = QTableWidgetItem(text)
            item.setToolTip(text)
            table.setItem(r, c, item)


def _note(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label


class EvalsPane(QWidget):
    """Pass rates, a regression view and judge–human agreement; `updated` after each refresh."""

    updated = Signal()

    def __init__(self, ctx: ProjectContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.rates: list[GroupRate] = []
        self.agreement: Agreement | None = None
        self.flips: Regression | None = None
        self._deferred = False
        self.busy = False

        self.run_choice = QComboBox()
        self.run_choice.setAccessibleName("Runs to count")
        self.rescore_button = QPushButton("Re-&score run")
        self.rescore_button.setToolTip(
            "Score the chosen run's stored outputs against the current expectations (no new calls)"
        )
        self.rescore_button.clicked.connect(self.rescore)
        self.run_eval_button = QPushButton("&Run eval set against the bar…")
        self.run_eval_button.setToolTip(
            "Dataset, prompt@label, models and a minimum pass rate → pass/fail per model "
            "(the same result as `workbench eval`)"
        )
        self.run_eval_button.clicked.connect(self.open_run_eval)
        self.export_button = QPushButton("E&xport eval set…")
        self.export_button.setToolTip("Write a dataset as a promptfoo config or as JSONL")
        self.export_button.clicked.connect(self.open_export)
        self.dialog: Any = None
        self.status = _note()
        self.status.setStyleSheet("color: #525252;")
        top = QHBoxLayout()
        top.addWidget(QLabel("Runs:"))
        top.addWidget(self.run_choice, 1)
        top.addWidget(self.rescore_button)
        top.addWidget(self.run_eval_button)
        top.addWidget(self.export_button)

        self.rate_table = _table(RATE_HEADERS)
        self.rate_table.setAccessibleName("Pass rate per prompt version and model")
        rates = QGroupBox("Pass rate per prompt version and model")
        QVBoxLayout(rates).addWidget(self.rate_table)

        self.prompt_choice = QComboBox()
        self.prompt_choice.setAccessibleName("Prompt")
        self.base_choice, self.head_choice = QComboBox(), QComboBox()
        self.base_choice.setAccessibleName("Base version")
        self.head_choice.setAccessibleName("New version")
        self.model_choice = QComboBox()
        self.model_choice.setAccessibleName("Model")
        self.compare_button = QPushButton("&Compare")
        self.compare_button.clicked.connect(self.compare)
        pick = QHBoxLayout()
        for text, widget in (
            ("Prompt", self.prompt_choice),
            ("from", self.base_choice),
            ("to", self.head_choice),
            ("on", self.model_choice),
        ):
            pick.addWidget(QLabel(text))
            pick.addWidget(widget, 1)
        pick.addWidget(self.compare_button)
        self.flip_summary = _note("Choose two versions and press Compare.")
        self.flip_table = _table(FLIP_HEADERS)
        self.flip_table.setAccessibleName("Cases that flipped")
        flips = QGroupBox("Regression between two versions")
        flips_layout = QVBoxLayout(flips)
        flips_layout.addLayout(pick)
        flips_layout.addWidget(self.flip_summary)
        flips_layout.addWidget(self.flip_table)

        self.agreement_text = _note()
        self.confusion = QTableWidget(2, 2)
        self.confusion.setAccessibleName("Judge and human verdicts")
        self.confusion.setHorizontalHeaderLabels(["Judge: pass", "Judge: fail"])
        self.confusion.setVerticalHeaderLabels(["People: pass", "People: fail"])
        self.confusion.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.confusion.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.confusion.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.confusion.setMaximumHeight(110)
        agreement = QGroupBox("LLM judge vs people")
        agreement_layout = QVBoxLayout(agreement)
        agreement_layout.addWidget(self.agreement_text)
        agreement_layout.addWidget(self.confusion)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(rates, 3)
        layout.addWidget(flips, 3)
        layout.addWidget(agreement, 2)
        self.prompt_choice.currentTextChanged.connect(self._fill_versions)
        self.run_choice.currentIndexChanged.connect(lambda _i: self.refresh())
        ctx.changed.connect(self._on_context_changed)
        self._fill_choices()
        self.refresh()

    # -- choices -------------------------------------------------------------------------------
    def _fill_choices(self) -> None:
        project = self.ctx.project
        self.run_choice.blockSignals(True)
        self.run_choice.clear()
        self.run_choice.addItem("All runs", None)
        self.prompt_choice.clear()
        self.model_choice.clear()
        self.model_choice.addItem(ANY_MODEL, None)
        if project is not None:
            for run in reversed(project.runs.summaries()):
                if run.kind in ("run", "eval"):
                    self.run_choice.addItem(f"#{run.id} {run.kind} · {run.status}", run.id)
            self.prompt_choice.addItems([p.name for p in project.prompts.list()])
            for model in project.catalog.list_models():
                self.model_choice.addItem(model.id, model.id)
        self.run_choice.blockSignals(False)
        self._fill_versions(self.prompt_choice.currentText())

    def _fill_versions(self, name: str) -> None:
        project = self.ctx.project
        versions: list[int] = []
        if project is not None and name:
            prompt = next((p for p in project.prompts.list() if p.name == name), None)
            versions = [v.version for v in prompt.versions] if prompt else []
        for combo, pick in ((self.base_choice, -2), (self.head_choice, -1)):
            combo.clear()
            for number in versions:
                combo.addItem(f"v{number}", number)
            if versions:
                combo.setCurrentIndex(max(0, len(versions) + pick))

    # -- figures -------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read pass rates and agreement again (now if shown, else when next shown)."""
        project = self.ctx.project
        if project is None:
            self._show(([], None))
            return
        if not self.isVisible():
            self._deferred = True
            return
        run_id = self.run_choice.currentData()
        self.busy = True
        self.status.setText("Reading scores…")

        def work(own: Project) -> tuple[list[GroupRate], Agreement]:
            return stored_pass_rates(own, run_id=run_id), judge_agreement(own, run_id=run_id)

        ProjectOp(self, self.ctx, work).success(self._show).failure(self._failed).run()

    def _show(self, result: tuple[list[GroupRate], Agreement | None]) -> None:
        self.busy = False
        self.rates, self.agreement = result
        rows = []
        for g in self.rates:
            low, high = g.interval
            rows.append(
                [
                    f"{g.prompt}@v{g.version}",
                    g.model,
                    str(g.cases),
                    str(g.passed),
                    percent(g.pass_rate),
                    f"{percent(low)} – {percent(high)}",
                ]
            )
        _fill(self.rate_table, rows)
        self.status.setText(
            f"{sum(g.cases for g in self.rates)} scored cases in {len(self.rates)} group(s)."
            if self.rates
            else "No scored cases yet: give examples expectations (E promotes an output), "
            "then run them or re-score a run."
        )
        self._show_agreement(self.agreement)
        self.updated.emit()

    def _show_agreement(self, agreement: Agreement | None) -> None:
        table = agreement.table if agreement else {}
        for r, human in enumerate(("pass", "fail")):
            for c, judge in enumerate(("pass", "fail")):
                count = table.get(human, {}).get(judge, 0)
                item = QTableWidgetItem(str(count))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.confusion.setItem(r, c, item)
        if agreement is None or not agreement.total:
            self.agreement_text.setText(
                "No call has both a human verdict (P/F) and an LLM-judge score yet."
            )
        else:
            self.agreement_text.setText(
                f"The judge agrees with people on {agreement.agree} of {agreement.total} calls "
                f"({percent((agreement.percent or 0) / 100)})."
            )

    def _failed(self, message: str) -> None:
        self.busy = False
        self.status.setText(message)
        self.updated.emit()

    def rescore(self) -> None:
        """Score the chosen run (or the latest) again from its stored outputs."""
        project = self.ctx.project
        run_id = self.run_choice.currentData()
        if project is None:
            return
        run_id = run_id or project.runs.latest_run_id(None)
        if run_id is None or self.ctx.read_only:
            self.status.setText("Nothing to re-score: no run, or the project is read-only.")
            return
        self.busy = True
        self.status.setText(f"Re-scoring run #{run_id}…")
        ProjectOp(self, self.ctx, lambda own: score_run(own, run_id), change=Change.LABELS).failure(
            self._failed
        ).run()

    def open_run_eval(self) -> Any:
        """Open "Run eval set against the bar" (non-modal); returns the dialog."""
        from workbench.ui.widgets.eval_run_dialog import EvalRunDialog

        if self.ctx.project is None:
            return None
        self.dialog = EvalRunDialog(self.ctx, self)
        self.dialog.open()
        return self.dialog

    def open_export(self) -> Any:
        """Open "Export eval set" (non-modal); returns the dialog."""
        from workbench.ui.widgets.eval_export_dialog import EvalExportDialog

        if self.ctx.project is None:
            return None
        self.dialog = EvalExportDialog(self.ctx, self)
        self.dialog.open()
        return self.dialog

    def compare(self) -> None:
        """The regression view between the chosen versions."""
        project = self.ctx.project
        name = self.prompt_choice.currentText()
        base, head = self.base_choice.currentData(), self.head_choice.currentData()
        if project is None or not name or base is None or head is None:
            return
        model = self.model_choice.currentData()
        self.flip_summary.setText("Comparing…")
        ProjectOp(
            self, self.ctx, lambda own: regression(own, name, base, head, model=model)
        ).success(self._show_flips).failure(self.flip_summary.setText).run()

    def _show_flips(self, result: Regression) -> None:
        self.flips = result
        rows: list[list[str]] = []
        for change, flips in (("pass → fail", result.broke), ("fail → pass", result.fixed)):
            for f in flips:
                row = "—" if f.position is None else str(f.position + 1)
                rows.append([change, row, f.model, str(f.repeat + 1), "; ".join(f.reasons)])
        _fill(self.flip_table, rows)
        self.flip_summary.setText(
            f"{result.prompt} v{result.base} → v{result.head}: {len(result.broke)} broke "
            f"(pass → fail) · {len(result.fixed)} fixed · {result.still_passing} still passing "
            f"· {result.still_failing} still failing"
        )
        self.updated.emit()

    # -- staying current ---------------------------------------------------------------------
    def _on_context_changed(self, change: ProjectChange) -> None:
        if change.touches(Change.PROJECT | Change.RUNS | Change.PROMPTS):
            self._fill_choices()
        if change.touches(RELOAD_ON):
            self.refresh()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._deferred:
            self._deferred = False
            self.refresh()
