"""Monthly projection: what N calls a day would cost per (prompt version, model).

`services.tier.monthly_projection` prices one call at each group's measured mean tokens
(input, output, cache writes and reads) with and without the Batch API discount; the pane
computes both at one call a day, so changing N or the checkbox only multiplies.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHeaderView,
    QLabel,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from workbench.services.tier import DAYS_PER_MONTH
from workbench.ui.charts.chart_base import NO_DATA, ChartBox, fmt_usd, version_label

COLUMNS = (
    "Prompt version",
    "Model",
    "Measured calls",
    "Mean input",
    "Mean output",
    "Cache write",
    "Cache read",
    "Cost / call",
    "Per day",
    "Per month",
)
NUMERIC_FROM = 2


def _tokens(value: float | None) -> str:
    return "unknown" if value is None else f"{value:,.0f}"


class ProjectionTable(ChartBox):
    """A table (not a plot): projected cost per (prompt version, model)."""

    TITLE = "Monthly projection"
    CSV_NAME = "monthly-projection"

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.calls_per_day = QSpinBox()
        self.calls_per_day.setRange(0, 1_000_000_000)
        self.calls_per_day.setSingleStep(1000)
        self.calls_per_day.setGroupSeparatorShown(True)
        self.calls_per_day.setValue(10_000)
        self.calls_per_day.setAccessibleName("Calls per day")
        label = QLabel("calls/day")
        label.setBuddy(self.calls_per_day)
        self.batch = QCheckBox("Batch API discount")
        self.batch.setToolTip(
            "Price the calls as Message Batches (half price, results within 24 h)"
        )
        self.controls.addWidget(self.calls_per_day)
        self.controls.addWidget(label)
        self.controls.addWidget(self.batch)
        self.calls_per_day.valueChanged.connect(lambda _v: self.redraw())
        self.batch.toggled.connect(lambda _on: self.redraw())
        self._rows: list[dict[str, Any]] = []

    def make_body(self) -> QWidget:
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.setAccessibleName(self.TITLE)
        return self.table

    def projected_rows(self) -> list[dict[str, Any]]:
        """Rows scaled to the chosen calls per day, most expensive first (unknown last)."""
        source = self.data.projection_batch if self.batch.isChecked() else self.data.projection
        per_day = self.calls_per_day.value()
        out = []
        for row in source:
            per_call = row.get("cost_per_call_usd")
            daily = None if per_call is None else per_call * per_day
            out.append(
                {
                    **row,
                    "calls_per_day": per_day,
                    "daily_cost_usd": daily,
                    "monthly_cost_usd": None if daily is None else daily * DAYS_PER_MONTH,
                }
            )
        out.sort(key=lambda r: (r["monthly_cost_usd"] is None, -(r["monthly_cost_usd"] or 0)))
        return out

    def redraw(self) -> None:
        self._rows = rows = self.projected_rows()
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            cells = (
                version_label(row.get("prompt_name"), row.get("version")),
                str(row.get("model")),
                f"{row.get('measured_calls', 0):,}",
                _tokens(row.get("mean_input_tokens")),
                _tokens(row.get("mean_output_tokens")),
                _tokens(row.get("mean_cache_creation_tokens")),
                _tokens(row.get("mean_cache_read_tokens")),
                fmt_usd(row.get("cost_per_call_usd")),
                fmt_usd(row.get("daily_cost_usd")),
                fmt_usd(row.get("monthly_cost_usd")),
            )
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c >= NUMERIC_FROM:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(r, c, item)
        if not self.data.calls:
            self.set_note(NO_DATA)
        else:
            batch = " with the Batch API discount" if self.batch.isChecked() else ""
            self.set_note(
                f"{self.calls_per_day.value():,} calls a day for {DAYS_PER_MONTH} days{batch}, "
                "each at the group's mean measured tokens (prompt-cache writes and reads "
                "included) and today's prices. Unknown: the model has no price."
            )

    def csv_table(self) -> tuple[list[str], list[list[Any]]]:
        keys = [
            "prompt_name", "version", "model", "measured_calls", "mean_input_tokens",
            "mean_output_tokens", "mean_cache_creation_tokens", "mean_cache_read_tokens",
            "batch", "price_from", "cost_per_call_usd", "calls_per_day", "daily_cost_usd",
            "monthly_cost_usd",
        ]  # fmt: skip
        rows = []
        for row in self._rows:
            values = dict(row, batch=self.batch.isChecked())
            rows.append([values.get(k) for k in keys])
        return keys, rows
