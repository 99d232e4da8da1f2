"""Cost per model and per prompt version: grouped bars, one colour per model.

The first group is every version together (cost per model); the others are one per prompt
version. The measure is cost per 1 000 calls (what a tier costs) or the total spent so far.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox

from workbench.ui.charts.chart_base import (
    NO_DATA,
    ChartBox,
    fmt_usd,
    model_colour,
    version_label,
)
from workbench.ui.theme import current_theme

MEASURES = {
    "cost_per_1k_calls_usd": ("Cost per 1 000 calls", "USD per 1 000 calls"),
    "cost_usd": ("Total spent", "USD spent"),
}
ALL_VERSIONS = "all versions"
GROUP_WIDTH = 0.8
LABELLED_BARS = 24  # value labels on top of the bars up to this many bars


class CostChart(ChartBox):
    """Bars of cost per (prompt version, model), plus per model over all versions."""

    TITLE = "Cost per model and prompt version"
    CSV_NAME = "cost-per-model-and-version"

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.measure = QComboBox()
        self.measure.setAccessibleName("Cost measure")
        for key, (text, _) in MEASURES.items():
            self.measure.addItem(text, key)
        self.measure.currentIndexChanged.connect(lambda _i: self.redraw())
        self.controls.addWidget(self.measure)
        self._bars: dict[int, pg.BarGraphItem] = {}  # one per model slot, created once
        self._labels: list[pg.TextItem] = []  # a pool of value labels, reused
        # (group label, model, x, width, value) for hover and CSV
        self._cells: list[tuple[str, str, float, float, float | None, dict[str, Any]]] = []

    def _bar(self, slot: int) -> pg.BarGraphItem:
        if slot not in self._bars:
            bar = pg.BarGraphItem(x=[], height=[], width=0.1)
            self.plot.addItem(bar)
            self._bars[slot] = bar
        return self._bars[slot]

    def _label(self, index: int) -> pg.TextItem:
        while len(self._labels) <= index:
            item = pg.TextItem(anchor=(0.5, 1))
            self.plot.addItem(item)
            self._labels.append(item)
        self._labels[index].setColor(current_theme().chart_fg)  # again after a theme switch
        return self._labels[index]

    def redraw(self) -> None:
        key = self.measure.currentData() or "cost_per_1k_calls_usd"
        self.axis_label("left", MEASURES[key][1])
        data = self.data
        groups: list[tuple[str, list[dict[str, Any]]]] = [(ALL_VERSIONS, data.by_model)]
        for prompt, version in data.versions():
            rows = [
                r
                for r in data.by_version_model
                if r.get("prompt_name") == prompt and r.get("version") == version
            ]
            groups.append((version_label(prompt, version), rows))
        models = data.models
        width = GROUP_WIDTH / max(len(models), 1)
        self._cells = []
        unknown: set[str] = set()
        for slot, model in enumerate(models):
            xs, heights = [], []
            for g, (label, rows) in enumerate(groups):
                row = next((r for r in rows if r.get("model") == model), None)
                if row is None:
                    continue
                x = g - GROUP_WIDTH / 2 + width * (slot + 0.5)
                value = row.get(key)
                self._cells.append((label, model, x, width, value, row))
                if value is None:
                    unknown.add(model)
                xs.append(x)
                heights.append(value if value is not None else 0.0)
            colour = model_colour(model, data.all_models)
            self._bar(slot).setOpts(
                x=np.array(xs),
                height=np.array(heights),
                width=width * 0.92,
                brush=colour,
                pen=pg.mkPen(colour.darker(130)),
            )
            self._bar(slot).setVisible(True)
        for slot, bar in self._bars.items():
            if slot >= len(models):
                bar.setVisible(False)
        labelled = self._cells if len(self._cells) <= LABELLED_BARS else []
        for i, (_g, _m, x, _w, value, _r) in enumerate(labelled):
            label = self._label(i)
            label.setText(_short_usd(value))
            label.setPos(x, value or 0.0)
            label.setVisible(True)
        for label in self._labels[len(labelled) :]:
            label.setVisible(False)
        ticks = [(g, label) for g, (label, _) in enumerate(groups)] if models else []
        self.plot.getAxis("bottom").setTicks([ticks, []])
        top = max((v for *_, v, _r in self._cells if v is not None), default=0.0)
        self.plot.setXRange(-0.6, max(len(groups), 1) - 0.4, padding=0)
        self.plot.setYRange(0, top * 1.12 if top > 0 else 1.0, padding=0)
        if not models:
            self.set_note(NO_DATA)
        elif unknown:
            self.set_note(
                "No bar where the cost is unknown (the model has no price in this project): "
                + ", ".join(sorted(unknown))
            )
        else:
            self.set_note("Cost of real calls only: errors and response-cache hits are left out.")

    def hover_text(self, x: float, y: float) -> str | None:
        key = self.measure.currentData() or "cost_per_1k_calls_usd"
        for label, model, cx, width, value, row in self._cells:
            if abs(x - cx) <= width / 2:
                return (
                    f"{model} · {label}\n{MEASURES[key][0]}: {fmt_usd(value)}\n"
                    f"per call {fmt_usd(row.get('cost_per_call_usd'))} · "
                    f"total {fmt_usd(row.get('cost_usd'))} · {row.get('calls', 0):,} calls"
                )
        return None

    def csv_table(self) -> tuple[list[str], list[list[Any]]]:
        header = [
            "group",
            "model",
            "calls",
            "cost_per_call_usd",
            "cost_per_1k_calls_usd",
            "cost_usd",
        ]
        rows = [
            [
                label,
                model,
                row.get("calls"),
                row.get("cost_per_call_usd"),
                row.get("cost_per_1k_calls_usd"),
                row.get("cost_usd"),
            ]
            for label, model, _x, _w, _v, row in self._cells
        ]
        return header, rows


def _short_usd(value: float | None) -> str:
    """A bar's value label: ``$4.64``, ``$0.25`` or ``?`` when unknown."""
    if value is None:
        return "?"
    return f"${value:,.2f}" if value >= 0.01 or value == 0 else f"${value:.4f}"
