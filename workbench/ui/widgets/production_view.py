"""The Production tab: the seed's monitoring table over imported call logs.

Per prompt, each metric over the last day and the last 7 days beside its alert threshold, red
when breached, and a daily trend below. "Review 20 random conversations from the last 7 days"
draws a sample of unreviewed imported calls and opens the review queue on it; the verdicts and
tags given there feed the thumbs-down and hallucination rates when the tab refreshes. Figures
come from `services.monitoring` (what `workbench monitor` prints), computed off the GUI thread.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.services.monitoring import (
    MonitorReport,
    PromptHealth,
    ensure_hallucination_tag,
    format_value,
    monitor,
    review_sample,
)
from workbench.services.project_session import Project
from workbench.ui.context import Change, ProjectChange, ProjectContext
from workbench.ui.operations import ProjectOp, describe_error
from workbench.ui.theme import color, css, themed_style

WINDOW_DAYS = 7
SAMPLE_SIZE = 20
REVIEW_TEXT = f"Review {SAMPLE_SIZE} random conversations from the last {WINDOW_DAYS} days"
TABLE_COLUMNS = ("Metric", "Last day", f"Last {WINDOW_DAYS} days", "Alert when", "Detail")
TREND_COLUMNS = ("Day ending", "Calls", "p95 latency", "Error rate", "Cost / user", "Thumbs down")


def _label(text: str = "", style: str = "") -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setStyleSheet(style)
    return label


def _table(columns: tuple[str, ...], name: str, *, stretch_last: bool = True) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(list(columns))
    table.setAccessibleName(name)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.verticalHeader().setVisible(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(stretch_last)
    return table


def _item(text: str, *, breached: bool = False, number: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if number:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if breached:
        item.setForeground(QBrush(color("bad")))
        item.setBackground(QBrush(color("fail_bg")))
        font = item.font()
        font.setBold(True)
        item.setFont(font)
        item.setToolTip("Above its alert threshold")
    return item


class ProductionView(QWidget):
    """The Production tab. `open_review(call_ids)` is how it hands a sample to the review queue."""

    refreshed = Signal(object)  # MonitorReport

    def __init__(
        self,
        ctx: ProjectContext,
        open_review: Callable[[list[int]], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._open_review = open_review
        self.report: MonitorReport | None = None
        self.now: float | None = None  # tests fix the clock; people see the live one
        self.seed: int | None = None
        self.title = _label("Production", "font-size: 18pt; font-weight: bold;")
        self.status = _label("")
        themed_style(self.status, lambda t: f"color: {t.muted.name()};")
        self.status.setAccessibleName("Production status")
        self.prompt = QComboBox()
        self.prompt.setAccessibleName("Prompt")
        self.prompt.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.prompt.setMinimumWidth(180)
        self.prompt.currentIndexChanged.connect(self._show_prompt)
        self.refresh_button = QPushButton("&Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.review_button = QPushButton(REVIEW_TEXT)
        self.review_button.clicked.connect(self.review)
        self.table = _table(TABLE_COLUMNS, "Monitoring table")
        self.trend = _table(TREND_COLUMNS, "Daily trend", stretch_last=False)
        self.summary = _label("", "font-size: 12pt;")
        self.summary.setAccessibleName("Alert summary")

        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addStretch(1)
        head.addWidget(QLabel("Prompt"))
        head.addWidget(self.prompt)
        head.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.status)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 3)
        layout.addWidget(_label("Daily trend (24-hour bins ending now)", "font-weight: bold;"))
        layout.addWidget(self.trend, 2)
        layout.addWidget(self.review_button, 0, Qt.AlignmentFlag.AlignLeft)
        ctx.changed.connect(self._on_context_changed)
        self._stale = True

    # -- loading -------------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def _on_context_changed(self, change: ProjectChange) -> None:
        # A new project, an import or new labels change the figures: recompute when next seen.
        if not change.touches(Change.PROJECT | Change.RUNS | Change.LABELS | Change.EXPORT):
            return
        self._stale = True
        if self.isVisible():
            self.refresh()

    def refresh(self) -> None:
        """Recompute the table in the background."""
        project = self.ctx.project
        self._stale = False
        if project is None:
            self._show(None)
            return
        self.status.setText("Measuring imported calls…")
        now = self.now

        def work(own: Project) -> MonitorReport:
            return monitor(own, days=WINDOW_DAYS, now=now)

        ProjectOp(self, self.ctx, work).success(self._show).failure(self._failed).run()

    def _failed(self, exc: BaseException) -> None:
        self.status.setText(describe_error(exc))

    def _show(self, report: MonitorReport | None) -> None:
        self.report = report
        current = self.prompt.currentText()
        self.prompt.blockSignals(True)
        self.prompt.clear()
        for health in report.prompts if report else []:
            self.prompt.addItem(health.prompt)
        index = self.prompt.findText(current)
        self.prompt.setCurrentIndex(max(index, 0))
        self.prompt.blockSignals(False)
        self.prompt.setEnabled(self.prompt.count() > 1)
        if report is None or not report.prompts:
            self.status.setText(
                "No production calls imported in the last 7 days. Import your app's call log "
                "(File ▸ Import production logs, or `workbench logs import`) to see its health."
            )
        else:
            at = dt.datetime.fromtimestamp(report.now).strftime("%Y-%m-%d %H:%M")
            self.status.setText(f"From imported call logs, up to {at}.")
        self._show_prompt()
        if report is not None:
            self.refreshed.emit(report)

    def current(self) -> PromptHealth | None:
        if self.report is None or not self.report.prompts:
            return None
        index = max(self.prompt.currentIndex(), 0)
        return self.report.prompts[min(index, len(self.report.prompts) - 1)]

    # -- showing -------------------------------------------------------------------------------
    def _show_prompt(self, *_args: object) -> None:
        health = self.current()
        self.table.setRowCount(0)
        self.trend.setRowCount(0)
        if health is None:
            self.summary.clear()
            return
        breached = [m.label for m in health.metrics if m.breached]
        self.summary.setText(
            f"{health.calls_day} call(s) in the last day, {health.calls_week} in the last "
            f"{WINDOW_DAYS} days. "
            + (f"Above threshold: {', '.join(breached)}." if breached else "All within thresholds.")
        )
        self.summary.setStyleSheet(f"font-size: 12pt; {css('bad' if breached else 'good')}")
        self.table.setRowCount(len(health.metrics))
        for row, m in enumerate(health.metrics):
            details = [c.detail for c in (m.day, m.week) if c.detail]
            cells = [
                _item(m.label),
                _item(format_value(m.day.value, m.unit), breached=m.day.breached, number=True),
                _item(format_value(m.week.value, m.unit), breached=m.week.breached, number=True),
                _item(m.rule or "—"),
                _item(" · ".join(dict.fromkeys(details))),
            ]
            for column, item in enumerate(cells):
                self.table.setItem(row, column, item)
        limits = {m.key: m.day.threshold for m in health.metrics}
        self.trend.setRowCount(len(health.trend))
        for row, point in enumerate(reversed(health.trend)):  # newest first
            day = dt.datetime.fromtimestamp(point.end).strftime("%a %d %b %H:%M")
            p95_limit, err_limit = limits.get("p95_latency_s"), limits.get("error_rate")
            down_limit = limits.get("thumbs_down_rate")
            values = [
                (day, False),
                (str(point.calls), False),
                (format_value(point.p95_latency_s, "s"), _over(point.p95_latency_s, p95_limit)),
                (format_value(point.error_rate, "%"), _over(point.error_rate, err_limit)),
                (format_value(point.cost_per_user, "$"), False),
                (
                    format_value(point.thumbs_down_rate, "%"),
                    _over(point.thumbs_down_rate, down_limit),
                ),
            ]
            for column, (text, over) in enumerate(values):
                self.trend.setItem(row, column, _item(text, breached=over, number=column > 0))

    # -- the weekly review ---------------------------------------------------------------------
    def review(self) -> None:
        """Draw the sample in the background and hand it to the review queue."""
        project = self.ctx.project
        if project is None:
            return
        if project.read_only:
            self.status.setText("The project is open read-only: open it for writing to review.")
            return
        now, seed = self.now, self.seed
        self.review_button.setEnabled(False)

        def work(own: Project) -> list[int]:
            ensure_hallucination_tag(own)  # the tag the hallucination rate counts
            return review_sample(own, n=SAMPLE_SIZE, days=WINDOW_DAYS, now=now, seed=seed)

        ProjectOp(self, self.ctx, work, change=Change.LABELS).success(self._on_sample).failure(
            self._on_sample_failed
        ).run()

    def _on_sample(self, call_ids: list[int]) -> None:
        self.review_button.setEnabled(True)
        if not call_ids:
            self.status.setText("Every production call of the last 7 days has been reviewed.")
            return
        self._stale = True  # the verdicts given there change the rates
        self._open_review(call_ids)

    def _on_sample_failed(self, exc: BaseException) -> None:
        self.review_button.setEnabled(True)
        self.status.setText(describe_error(exc))


def _over(value: float | None, limit: float | None) -> bool:
    return value is not None and limit is not None and value > limit
