""" "Run eval set against the bar": a dataset, prompt@label, models and a minimum pass rate in,
pass/fail per prompt version × model out — the same `run_eval` and the same verdict
(`bar_met`) as `workbench eval`, with progress and cancel.

The eval runs on a worker thread of the global pool over a connection of its own (the run
engine writes through its own writer connection), so the project thread stays free for edits
while it runs; progress is polled from the engine's listener by a GUI-thread timer.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from workbench.services.evals import EvalReport, bar_met, run_eval
from workbench.services.project_session import Project
from workbench.services.run_service import MissingApiKey, choose_provider, connect_in_thread
from workbench.services.runner import NullListener, Progress, RunEngine, RunOptions
from workbench.ui.context import Change, ProjectChange, ProjectContext
from workbench.ui.operations import Operation, describe_error
from workbench.ui.theme import color, current_theme
from workbench.ui.widgets.eval_views import _fill, _note, _table, percent

RESULT_HEADERS = ["Prompt version", "Model", "Cases", "Passed", "Pass rate", "95 % interval", ""]
POLL_MS = 100
MET_STYLE = "padding: 6px; font-weight: bold; border: 1px solid {}; background: {};"


class _ProgressHolder(NullListener):
    """The engine's listener on the worker thread: keeps the latest progress for the GUI."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.progress: Progress | None = None

    def on_progress(self, progress: Progress) -> None:
        with self.lock:
            self.progress = dataclasses.replace(progress)


def prompt_refs(project: Project) -> list[str]:
    """``name@label`` for every label, then ``name@vN`` for every version (newest first)."""
    refs: list[str] = []
    for prompt in project.prompts.list():
        refs += [f"{prompt.name}@{label}" for label in prompt.labels]
        refs += [f"{prompt.name}@v{v.version}" for v in reversed(prompt.versions)]
    return refs


class EvalRunDialog(QDialog):
    """Choose the eval set and the bar, run it, read pass/fail per version × model."""

    finished_report = Signal(object)  # the EvalReport, once a run has ended

    def __init__(self, ctx: ProjectContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Run eval set against the bar")
        self.ctx = ctx
        self.report: EvalReport | None = None
        self.bar: float | None = None
        self._engine: RunEngine | None = None
        self._cancelled = False
        self._lock = threading.Lock()
        self._holder = _ProgressHolder()
        project = ctx.require()

        self.dataset = QComboBox()
        self.dataset.setAccessibleName("Dataset")
        self.dataset.addItems(project.datasets.names())
        self.prompt = QComboBox()
        self.prompt.setAccessibleName("Prompt version or label")
        self.prompt.addItems(prompt_refs(project))
        production = self.prompt.findText("@production", Qt.MatchFlag.MatchEndsWith)
        self.prompt.setCurrentIndex(max(0, production))
        self.models = QListWidget()
        self.models.setAccessibleName("Models (none ticked: each version's own model)")
        self.models.setMaximumHeight(110)
        for model in project.catalog.list_models():
            item = QListWidgetItem(model.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.models.addItem(item)
        self.min_pass = QDoubleSpinBox()
        self.min_pass.setAccessibleName("Minimum pass rate")
        self.min_pass.setRange(0, 100)
        self.min_pass.setDecimals(0)
        self.min_pass.setSuffix(" %")
        self.min_pass.setValue(round(project.settings.min_pass_rate * 100))
        form = QFormLayout()
        form.addRow("&Dataset", self.dataset)
        form.addRow("&Prompt", self.prompt)
        form.addRow("&Models", self.models)
        form.addRow("Minimum pass &rate", self.min_pass)

        self.run_button = QPushButton("&Run eval")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("&Cancel run")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Eval progress")
        self.progress.setFormat("%v/%m cases")
        self.progress.setValue(0)
        self.status = _note("Choose the eval set and the bar, then Run eval.")
        self.verdict = _note()
        self.verdict.setVisible(False)
        self.results = _table(RESULT_HEADERS)
        self.results.setAccessibleName("Pass or fail per prompt version and model")
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.verdict)
        layout.addWidget(self.results, 1)
        layout.addWidget(close)
        self.resize(760, 560)
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        self._project = project
        ctx.changed.connect(self._on_context_changed)

    def _on_context_changed(self, change: ProjectChange) -> None:
        if change.touches(Change.PROJECT) and self.running:
            self.cancel()  # the project was closed: stop sending calls for it

    # -- choices -------------------------------------------------------------------------------
    def chosen_models(self) -> list[str]:
        return [
            self.models.item(i).text()
            for i in range(self.models.count())
            if self.models.item(i).checkState() == Qt.CheckState.Checked
        ]

    def set_models(self, models: list[str]) -> None:
        for i in range(self.models.count()):
            item = self.models.item(i)
            checked = item.text() in models
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    # -- running -------------------------------------------------------------------------------
    def start(self) -> None:
        """Run the eval in the background (its progress in the bar, Cancel stops it)."""
        project = self.ctx.project
        if project is None or self.running:
            return
        if project.read_only:
            self.status.setText(f"{project.path.name} is open read-only, so no eval can run.")
            return
        dataset, prompt = self.dataset.currentText(), self.prompt.currentText()
        if not dataset or not prompt:
            self.status.setText("Choose a dataset and a prompt first.")
            return
        models, bar = self.chosen_models(), self.min_pass.value() / 100.0
        provider_name = self.ctx.provider_name  # the demo's synthetic provider, or the API
        concurrency = project.settings.default_concurrency
        self._holder, self._cancelled, self.report = _ProgressHolder(), False, None
        self.bar = bar
        holder = self._holder

        def work() -> EvalReport:
            own = connect_in_thread(project)  # only its path is read on this thread
            try:
                provider = choose_provider(own, provider_name)

                async def go() -> EvalReport:
                    try:
                        return await run_eval(
                            own,
                            dataset=dataset,
                            prompts=[prompt],
                            models=models or None,
                            provider=provider,
                            options=RunOptions(concurrency=concurrency),
                            listener=holder,
                            engine_ready=self._engine_ready,
                        )
                    finally:
                        await provider.aclose()

                return asyncio.run(go())
            finally:
                with self._lock:
                    self._engine = None
                own.close()

        self._set_running(True)
        self.status.setText(f"Running {prompt} over '{dataset}'…")
        Operation(self, work).success(self._on_done).failure(self._on_failed).run()

    def _engine_ready(self, engine: RunEngine) -> None:  # on the worker thread
        with self._lock:
            self._engine = engine
            cancelled = self._cancelled
        if cancelled:
            engine.cancel("cancelled by the user")

    def cancel(self) -> None:
        """Stop the eval: no new calls; what finished is kept and scored."""
        with self._lock:
            self._cancelled = True
            engine = self._engine
        if engine is not None:
            engine.cancel("cancelled by the user")
        self.status.setText("Cancelling…")

    def _set_running(self, on: bool) -> None:
        self.run_button.setEnabled(not on)
        self.cancel_button.setEnabled(on)
        for widget in (self.dataset, self.prompt, self.models, self.min_pass):
            widget.setEnabled(not on)
        if on:
            self.progress.setRange(0, 0)  # busy until the first progress
            self._timer.start()
        else:
            self._timer.stop()

    def _poll(self) -> None:
        with self._holder.lock:
            progress = self._holder.progress
        if progress is not None and progress.total:
            self.progress.setRange(0, progress.total)
            self.progress.setValue(progress.done)

    def _on_failed(self, exc: BaseException) -> None:
        self._set_running(False)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        if isinstance(exc, MissingApiKey):
            self.status.setText(
                "No Anthropic API key is set, so nothing was sent. Save one in Settings, or "
                "open the offline demo."
            )
        else:
            self.status.setText(describe_error(exc))

    def _on_done(self, report: EvalReport) -> None:
        self._set_running(False)
        self._poll()
        self.report = report
        self.show_report(report, self.bar or 0.0)
        if self.ctx.project is self._project:  # else its screens are gone: nothing to tell
            self.ctx.notify(Change.RUNS | Change.LABELS, report.run_id, initiator=self)
        self.finished_report.emit(report)

    # -- the result ----------------------------------------------------------------------------
    def show_report(self, report: EvalReport, bar: float) -> None:
        """Pass/fail per version × model against `bar`, and the overall verdict."""
        rows: list[list[str]] = []
        for g in report.groups:
            low, high = g.interval
            ok = g.pass_rate is not None and g.pass_rate >= bar - 1e-12
            rows.append(
                [
                    f"{g.prompt}@v{g.version}",
                    g.model,
                    str(g.cases),
                    str(g.passed),
                    percent(g.pass_rate),
                    f"{percent(low)} – {percent(high)}",
                    "PASS" if ok else "FAIL",
                ]
            )
        _fill(self.results, rows)
        for r, row in enumerate(rows):
            item = self.results.item(r, len(RESULT_HEADERS) - 1)
            item.setBackground(QBrush(color("pass_bg" if row[-1] == "PASS" else "fail_bg")))
        met = bar_met(report, bar)
        cases = sum(g.cases for g in report.groups)
        state = "met" if met else "NOT met"
        if report.run_status != "done":
            state += f" (the run was {report.run_status})"
        self.verdict.setText(
            f"Eval run #{report.run_id}: bar {bar:.0%} {state} — {cases} scored case(s), "
            f"{report.not_run} not run. Same verdict as `workbench eval`."
        )
        theme = current_theme()
        colours = (theme.good, theme.pass_bg) if met else (theme.bad, theme.fail_bg)
        self.verdict.setStyleSheet(MET_STYLE.format(*(c.name() for c in colours)))
        self.verdict.setVisible(True)
        self.status.setText(
            "Done." if report.run_status == "done" else f"The run was {report.run_status}."
        )

    def result_rows(self) -> list[dict[str, Any]]:
        """The result table as data (for tests and copying)."""
        headers = [h or "verdict" for h in RESULT_HEADERS]
        return [
            {headers[c]: self.results.item(r, c).text() for c in range(self.results.columnCount())}
            for r in range(self.results.rowCount())
        ]

    def reject(self) -> None:
        if self.running:
            self.cancel()  # closing mid-run stops it; the calls made so far are kept
        super().reject()
