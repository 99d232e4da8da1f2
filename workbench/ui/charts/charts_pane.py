"""The Charts tab: a filter bar, a shared model legend, and one sub-tab per chart.

The pane reads the project's calls on a worker thread (its own read-only connection) when the
project, its runs or its labels change, and only while it is on screen; filters reuse the
calls already read. Results land on the GUI thread, where each chart updates the plot items
it created once (DESIGN §9).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.services.chart_data import (
    ChartData,
    ProjectCalls,
    compute_chart_data,
    load_project_data,
)
from workbench.ui.charts.chart_base import ChartBox, model_colour
from workbench.ui.charts.cost_chart import CostChart
from workbench.ui.charts.error_rate_chart import ErrorRateChart
from workbench.ui.charts.filter_bar import ChartFilterBar
from workbench.ui.charts.frontier_chart import FrontierChart
from workbench.ui.charts.latency_chart import LatencyChart
from workbench.ui.charts.pass_rate_chart import PassRateChart
from workbench.ui.charts.projection_table import ProjectionTable
from workbench.ui.context import Change, ProjectChange, ProjectContext
from workbench.ui.operations import Operation, describe_error

DEMO_NOTE = "offline demo — synthetic responses"
RELOAD_ON = Change.PROJECT | Change.RUNS | Change.LABELS | Change.PRICES | Change.PROMPTS
DEBOUNCE_MS = 150


class ChartsPane(QWidget):
    """Every chart of the open project; `updated` is emitted after each redraw."""

    updated = Signal()

    def __init__(self, ctx: ProjectContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.data = ChartData()
        self.calls: ProjectCalls | None = None
        self._stale = True  # the calls must be read again
        self._deferred = False  # a refresh waits until the pane is shown
        self._busy = False
        self._again = False
        self._generation = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._start)

        self.filter_bar = ChartFilterBar()
        self.filter_bar.changed.connect(lambda _f: self.refresh(reload=False))
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setShortcut(QKeySequence("F5"))
        self.refresh_button.setToolTip("Read the calls again (F5)")
        self.refresh_button.clicked.connect(lambda: self.refresh(reload=True))
        self.filter_bar.layout().addWidget(self.refresh_button)
        self.legend = QHBoxLayout()
        self.legend.setContentsMargins(8, 0, 8, 0)
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setAccessibleName("Charts status")
        self.demo_note = QLabel()
        self.demo_note.setTextFormat(Qt.TextFormat.PlainText)
        self.demo_note.setWordWrap(True)  # never let a sentence set the window's minimum width
        self.demo_note.setStyleSheet(
            "background: #fcf4d6; color: #684e00; border: 1px solid #f1c21b; padding: 3px;"
        )
        self.demo_note.hide()

        self.latency = LatencyChart()
        self.cost = CostChart()
        self.pass_rate = PassRateChart()
        self.frontier = FrontierChart()
        self.errors = ErrorRateChart()
        self.projection = ProjectionTable()
        self.charts: dict[str, ChartBox] = {
            "Latency": self.latency,
            "Cost": self.cost,
            "Pass rate": self.pass_rate,
            "Quality vs cost": self.frontier,
            "Errors": self.errors,
            "Projection": self.projection,
        }
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        for name, chart in self.charts.items():
            self.tabs.addTab(chart, name)
            chart.exported.connect(self._on_exported)
        self.frontier.bar_changed.connect(lambda rate, _p95: self.pass_rate.set_bar(rate))

        # Neither the legend nor the status line may widen the window: they clip instead.
        legend_box = QWidget()
        legend_box.setLayout(self.legend)
        for widget in (legend_box, self.status):
            widget.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.status.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 8, 0)
        top.addWidget(legend_box, 3)
        top.addWidget(self.status, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self.demo_note)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)
        ctx.changed.connect(self._on_project_changed)
        self._on_project_changed(ProjectChange(Change.PROJECT, ctx.project))

    # -- reacting to the project -------------------------------------------------------------

    def _on_project_changed(self, change: ProjectChange) -> None:
        # The project's bar sets X and Y; an API-key or export change must not undo the user's.
        bar_changed = change.touches(Change.PROJECT | Change.SETTINGS)
        if bar_changed and self.ctx.project is not None:
            settings = self.ctx.project.settings
            self.frontier.set_bar(settings.min_pass_rate, settings.max_p95_latency_s)
            self.pass_rate.set_bar(settings.min_pass_rate)
        if change.touches(Change.PROJECT):
            self._generation += 1
            self.calls = None
            self.filter_bar.set_choices([], [])
            if self.ctx.project is None:
                self.show_data(ChartData())
                self.status.setText("No project is open.")
                return
        if change.touches(RELOAD_ON):
            self.refresh(reload=True)

    def refresh(self, *, reload: bool = True) -> None:
        """Recompute (reading the calls again when `reload`), now if shown, else when shown."""
        self._stale = self._stale or reload
        if not self.isVisible():
            self._deferred = True
            return
        self._timer.start()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._deferred:
            self._deferred = False
            self._timer.start()

    @property
    def busy(self) -> bool:
        return self._busy or self._timer.isActive()

    def _start(self) -> None:
        project = self.ctx.project
        if project is None:
            return
        if self._busy:
            self._again = True
            return
        self._busy = True
        generation, path, filters = self._generation, project.path, self.filter_bar.filters()
        calls = None if self._stale or self.calls is None else self.calls
        self._stale = False
        self.status.setText("Reading calls…" if calls is None else "Updating…")

        def work() -> tuple[ProjectCalls, ChartData]:
            source = calls or load_project_data(path)
            return source, compute_chart_data(
                source.frame,
                filters,
                prices=source.prices,
                synthetic_runs=source.synthetic_runs,
                run_datasets=source.run_datasets,
            )

        Operation(self, work).success(lambda r: self._on_computed(generation, calls, r)).failure(
            self._on_failed
        ).run()

    def _on_computed(
        self, generation: int, reused: ProjectCalls | None, result: tuple[ProjectCalls, ChartData]
    ) -> None:
        self._busy = False
        if generation == self._generation:
            source, data = result
            self.calls = source
            if reused is None:
                self.filter_bar.set_choices(source.runs, source.prompts)
            self.show_data(data)
        if self._again:
            self._again = False
            self._start()

    def _on_failed(self, exc: BaseException) -> None:
        self._busy = False
        self.status.setText(f"Charts could not be computed: {describe_error(exc)}")
        if self._again:
            self._again = False
            self._start()

    # -- drawing -----------------------------------------------------------------------------

    def show_data(self, data: ChartData) -> None:
        """Redraw every chart with `data` (existing plot items, new data)."""
        self.data = data
        for chart in self.charts.values():
            chart.show_data(data)
        self._update_legend(data)
        self._update_status(data)
        self.updated.emit()

    def _update_legend(self, data: ChartData) -> None:
        while self.legend.count():
            item = self.legend.takeAt(0)
            if item is not None and item.widget() is not None:
                item.widget().deleteLater()
        for model in data.models:
            swatch = QLabel()
            swatch.setFixedSize(12, 12)
            swatch.setStyleSheet(f"background: {model_colour(model, data.all_models).name()};")
            name = QLabel(model)
            name.setTextFormat(Qt.TextFormat.PlainText)
            self.legend.addWidget(swatch)
            self.legend.addWidget(name)
            self.legend.addSpacing(10)

    def _update_status(self, data: ChartData) -> None:
        versions = len(data.versions())
        self.status.setText(
            f"{data.calls:,} calls · {len(data.models)} model(s) · {versions} prompt version(s)"
        )
        if data.synthetic_calls:
            self.demo_note.setText(
                f"{DEMO_NOTE}: {data.synthetic_calls:,} of {data.calls:,} calls are synthetic "
                "(offline demo), so their outputs, latency, tokens and cost are not a real model's."
            )
        self.demo_note.setVisible(bool(data.synthetic_calls))

    def _on_exported(self, path: str) -> None:
        self.status.setText(f"Saved {Path(path).name}")

    def chart_names(self) -> list[str]:
        return list(self.charts)

    def select_chart(self, name: str) -> Any:
        chart = self.charts[name]
        self.tabs.setCurrentWidget(chart)
        return chart
