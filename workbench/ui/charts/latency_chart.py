"""Latency per model: a violin of total latency with time to first token beside it, p50 / p95
marks on both, and the seed's alert line (p95 above 10 s)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem

from workbench.services.chart_data import Violin
from workbench.ui.charts.chart_base import (
    NO_DATA,
    ChartBox,
    fmt_seconds,
    lighter,
    model_colour,
    short_model,
)
from workbench.ui.theme import Theme, current_theme

ALERT_P95_S = 10.0
OFFSET = 0.2  # ttft sits left of the model's tick, total latency right of it
HALF_WIDTH = 0.17
LABELLED_MODELS = 5  # beyond this the p50/p95 labels would overlap; tooltips still tell


def violin_path(violin: Violin, centre: float, half: float = HALF_WIDTH) -> QPainterPath:
    """A closed outline: widths per bin mirrored around `centre`, from the fastest to p99."""
    mids = (violin.edges[:-1] + violin.edges[1:]) / 2
    ys = np.concatenate(([violin.edges[0]], mids, [violin.edges[-1]]))
    ws = np.concatenate(([0.0], violin.widths, [0.0])) * half
    xs = np.concatenate((centre + ws, centre - ws[::-1]))
    path = pg.arrayToQPath(xs, np.concatenate((ys, ys[::-1])))
    path.closeSubpath()
    return path


class LatencyChart(ChartBox):
    """Latency distribution per model (seconds)."""

    TITLE = "Latency per model"
    CSV_NAME = "latency-per-model"

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.axis_label("left", "seconds")
        # labelled on the left, where the fastest (and shortest) model sits
        self.alert = self.reference(ALERT_P95_S, "alert: p95 > 10 s", "alert", at=0.02)
        self._shapes: list[QGraphicsPathItem] = []  # a pool: two per model, reused
        self.p50_marks = pg.PlotDataItem(connect="pairs")
        self.p95_marks = pg.PlotDataItem(connect="pairs")
        self.plot.addItem(self.p50_marks)
        self.plot.addItem(self.p95_marks)
        self._labels: list[pg.TextItem] = []
        self._rows: list[tuple[str, str, Violin, float]] = []  # model, metric, violin, centre
        self.restyle(current_theme())

    def restyle(self, theme: Theme) -> None:
        super().restyle(theme)
        self.p50_marks.setPen(pg.mkPen(theme.chart_ink, width=3))
        self.p95_marks.setPen(pg.mkPen(theme.chart_ink, width=2, style=Qt.PenStyle.DotLine))

    def _shape(self, index: int) -> QGraphicsPathItem:
        while len(self._shapes) <= index:  # grows once per new model, then only reused
            item = QGraphicsPathItem()
            item.setZValue(-1)
            self.plot.addItem(item)
            self._shapes.append(item)
        return self._shapes[index]

    def _label(self, index: int) -> pg.TextItem:
        while len(self._labels) <= index:
            item = pg.TextItem(anchor=(0, 0.5))
            self.plot.addItem(item)
            self._labels.append(item)
        self._labels[index].setColor(current_theme().chart_fg)  # again after a theme switch
        return self._labels[index]

    def redraw(self) -> None:
        data = self.data
        models = [m for m in data.models if m in data.latency or m in data.ttft]
        self._rows = []
        marks: dict[str, list[float]] = {"x50": [], "y50": [], "x95": [], "y95": []}
        shape_count = label_count = 0
        for i, model in enumerate(models):
            colour = model_colour(model, data.all_models)
            for metric, violins, centre, alpha in (
                ("time to first token", data.ttft, i - OFFSET, 90),
                ("total latency", data.latency, i + OFFSET, 200),
            ):
                violin = violins.get(model)
                if violin is None:
                    continue
                item = self._shape(shape_count)
                shape_count += 1
                item.setPath(violin_path(violin, centre))
                item.setBrush(QBrush(lighter(colour, alpha)))
                item.setPen(QPen(colour, 0))
                item.setVisible(True)
                self._rows.append((model, metric, violin, centre))
                for q, value in (("50", violin.p50), ("95", violin.p95)):
                    marks["x" + q] += [centre - HALF_WIDTH, centre + HALF_WIDTH]
                    marks["y" + q] += [value, value]
                if metric == "total latency" and len(models) <= LABELLED_MODELS:
                    for q, value in (("p50", violin.p50), ("p95", violin.p95)):
                        label = self._label(label_count)
                        label_count += 1
                        label.setText(f"{q} {value:.2f} s")
                        label.setPos(centre + HALF_WIDTH + 0.02, value)
                        label.setVisible(True)
        for item in self._shapes[shape_count:]:
            item.setVisible(False)
        for label in self._labels[label_count:]:
            label.setVisible(False)
        self.p50_marks.setData(np.array(marks["x50"]), np.array(marks["y50"]))
        self.p95_marks.setData(np.array(marks["x95"]), np.array(marks["y95"]))
        ticks = [(i, short_model(m)) for i, m in enumerate(models)]
        self.plot.getAxis("bottom").setTicks([ticks, []])
        top = max([v.p99 for _, _, v, _ in self._rows] + [ALERT_P95_S])
        # room on the right of the last model for its p50/p95 labels
        self.plot.setXRange(-0.55, max(len(models), 1) - 1 + 0.8, padding=0)
        self.plot.setYRange(0, top * 1.08, padding=0)
        if not models:
            self.set_note(NO_DATA)
        else:
            self.set_note(
                "Per model: left (pale) time to first token, right total latency; the shapes "
                "run from the fastest call to p99. Solid mark p50, dotted mark p95."
            )

    def hover_text(self, x: float, y: float) -> str | None:
        for model, metric, violin, centre in self._rows:
            if abs(x - centre) <= HALF_WIDTH + 0.02:
                return (
                    f"{model} — {metric}\n"
                    f"p50 {fmt_seconds(violin.p50)} · p95 {fmt_seconds(violin.p95)} · "
                    f"p99 {fmt_seconds(violin.p99)}\n"
                    f"slowest {fmt_seconds(violin.max)} · {violin.n:,} calls"
                )
        return None

    def csv_table(self) -> tuple[list[str], list[list[Any]]]:
        header = ["model", "metric", "calls", "p50_s", "p95_s", "p99_s", "max_s"]
        rows = [[m, metric, v.n, v.p50, v.p95, v.p99, v.max] for m, metric, v, _ in self._rows]
        return header, rows
