"""Quality vs cost per (prompt version, model), the Pareto frontier, and the tier answer.

"Cheapest model meeting pass rate ≥ X % and p95 ≤ Y s: …" comes from `services.tier`, with X
and Y in spin boxes that start at the project's bar (settings min_pass_rate, max_p95_latency_s).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDoubleSpinBox, QLabel, QSpinBox, QVBoxLayout, QWidget

from workbench.services import tier
from workbench.services.chart_evidence import (
    MIN_CASES,
    SPEND_BASIS,
    evidence_note,
    spread_overlaps,
)
from workbench.ui.charts.chart_base import (
    BAR_COLOUR,
    HOVER_PX,
    NO_DATA,
    ChartBox,
    fmt_percent,
    fmt_seconds,
    fmt_usd,
    model_colour,
    reference_line,
    short_model,
    version_label,
)

ANSWER_STYLE = "border: 1px solid {}; background: {}; padding: 6px; font-weight: bold;"
ANSWER_FOUND = ANSWER_STYLE.format("#9ccc9c", "#eef6ee")
ANSWER_NONE = ANSWER_STYLE.format("#f1c21b", "#fcf4d6")
ANSWER_EMPTY = ANSWER_STYLE.format("#c6c6c6", "#f4f4f4")
# The x of a point: measured spend per call, or for synthetic calls their list-price equivalent.
X_KEY = "tier_cost_per_1k_calls_usd"
COST_KEY = "tier_cost_per_call_usd"


def _x(point: dict[str, Any]) -> float | None:
    value = point.get(X_KEY, point.get("cost_per_1k_calls_usd"))
    return None if value is None else float(value)


class FrontierChart(ChartBox):
    """Scatter of pass rate against cost per 1 000 calls, frontier drawn, the answer in words."""

    TITLE = "Quality vs cost"
    CSV_NAME = "quality-vs-cost"
    bar_changed = Signal(float, float)  # min pass rate (fraction), max p95 (s)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.min_pass = QSpinBox()
        self.min_pass.setRange(0, 100)
        self.min_pass.setSuffix(" %")
        self.min_pass.setValue(80)
        self.min_pass.setAccessibleName("Minimum pass rate")
        self.min_pass.setToolTip("X: the pass rate a tier must reach")
        self.max_p95 = QDoubleSpinBox()
        self.max_p95.setRange(0.1, 600.0)
        self.max_p95.setDecimals(1)
        self.max_p95.setSingleStep(0.5)
        self.max_p95.setSuffix(" s")
        self.max_p95.setValue(10.0)
        self.max_p95.setAccessibleName("Maximum p95 latency")
        self.max_p95.setToolTip("Y: the p95 latency a tier must stay within")
        for text, box in (("pass rate ≥", self.min_pass), ("p95 ≤", self.max_p95)):
            label = QLabel(text)
            label.setBuddy(box)
            self.controls.addWidget(label)
            self.controls.addWidget(box)
        self.min_pass.valueChanged.connect(self._on_bar_changed)
        self.max_p95.valueChanged.connect(self._on_bar_changed)
        self.axis_label("left", "pass rate (%)")
        self.axis_label("bottom", "USD per 1 000 calls")
        self.bar_line = reference_line(self.plot, 80.0, "bar: 80 %", BAR_COLOUR)
        self.frontier = pg.PlotDataItem(pen=pg.mkPen("#333", width=1.5, style=Qt.PenStyle.DashLine))
        self.plot.addItem(self.frontier)
        self.intervals = pg.ErrorBarItem(pen=pg.mkPen("#8d8d8d", width=1), beam=0.0)
        self.plot.addItem(self.intervals)
        self.scatter = pg.ScatterPlotItem(size=13, pxMode=True, useCache=True)
        self.plot.addItem(self.scatter)
        self.chosen = pg.ScatterPlotItem(
            size=26, symbol="o", pen=pg.mkPen("#111", width=2), brush=None
        )
        self.plot.addItem(self.chosen)
        self._labels: list[pg.TextItem] = []
        self._points: list[dict[str, Any]] = []
        self._drawn_x = self._drawn_y = np.zeros(0)

    def make_body(self) -> QWidget:
        plot = super().make_body()
        self.answer = QLabel()
        self.answer.setTextFormat(Qt.TextFormat.PlainText)
        self.answer.setWordWrap(True)
        self.answer.setAccessibleName("Tier answer")
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.answer)
        layout.addWidget(plot, 1)
        return body

    # -- the bar -----------------------------------------------------------------------------

    def set_bar(self, min_pass_rate: float, max_p95_s: float) -> None:
        """Set X and Y (e.g. from the project's settings) without losing the user's typing."""
        self.min_pass.setValue(round(min_pass_rate * 100))
        self.max_p95.setValue(max_p95_s)

    def bar(self) -> tuple[float, float]:
        return self.min_pass.value() / 100.0, self.max_p95.value()

    def _on_bar_changed(self) -> None:
        rate, p95 = self.bar()
        self.redraw()
        self.bar_changed.emit(rate, p95)

    # -- drawing -----------------------------------------------------------------------------

    def _label(self, index: int) -> pg.TextItem:
        while len(self._labels) <= index:
            item = pg.TextItem(color="#333", anchor=(-0.08, 1.1))
            self.plot.addItem(item)
            self._labels.append(item)
        return self._labels[index]

    def redraw(self) -> None:
        data = self.data
        rate, p95 = self.bar()
        self.bar_line.setValue(rate * 100)
        self.bar_line.label.setFormat(f"bar: {rate * 100:g} %")
        groups = data.by_version_model
        key = COST_KEY if any(COST_KEY in g for g in groups) else "cost_per_call_usd"
        self.answer.setText(
            tier.tier_decision(groups, rate, p95, cost_key=key) if groups else NO_DATA
        )
        best = tier.cheapest_meeting(groups, rate, p95, cost_key=key) if groups else None
        # green: an answer; amber: no tier meets the bar; grey: nothing to decide on yet
        look = ANSWER_FOUND if best is not None else ANSWER_NONE if groups else ANSWER_EMPTY
        self.answer.setStyleSheet(look)
        points = [g for g in groups if _x(g) is not None and g.get("pass_rate") is not None]
        self._points = points
        xs = np.array([_x(p) for p in points], dtype=float)
        ys = np.array([p["pass_rate"] * 100 for p in points], dtype=float)
        right = float(xs.max()) if len(xs) else 1.0
        x_step = (right if right > 0 else 1.0) * 0.015
        # Drawn positions: identical points fan out a little; hover names the exact values.
        self._drawn_x, self._drawn_y = spread_overlaps(xs, ys, x_step=x_step, y_step=1.2)
        brushes, pens = [], []
        for p in points:
            colour = model_colour(str(p["model"]), data.all_models)
            meets = tier.meets_bar(p, rate, p95)
            brushes.append(pg.mkBrush(colour) if meets else pg.mkBrush("w"))
            pens.append(pg.mkPen(colour, width=2))
        self.scatter.setData(x=self._drawn_x, y=self._drawn_y, brush=brushes, pen=pens)
        lows = np.array([(p.get("ci95") or (p["pass_rate"],) * 2)[0] * 100 for p in points])
        highs = np.array([(p.get("ci95") or (p["pass_rate"],) * 2)[1] * 100 for p in points])
        if len(points):
            self.intervals.setData(
                x=self._drawn_x, y=self._drawn_y, top=highs - self._drawn_y,
                bottom=self._drawn_y - lows,
            )  # fmt: skip
        else:
            self.intervals.setData(x=np.zeros(0), y=np.zeros(0), top=0, bottom=0)
        front = tier.pareto_frontier(
            points, x=X_KEY if key == COST_KEY else "cost_per_1k_calls_usd", y="pass_rate"
        )
        self.frontier.setData(
            np.array([_x(p) for p in front], dtype=float),
            np.array([p["pass_rate"] * 100 for p in front], dtype=float),
        )
        if best is not None and _x(best) is not None:
            i = next(i for i, p in enumerate(points) if p is best) if best in points else None
            bx = float(self._drawn_x[i]) if i is not None else _x(best)
            by = float(self._drawn_y[i]) if i is not None else best["pass_rate"] * 100
            self.chosen.setData(x=[bx], y=[by])
        else:
            self.chosen.setData(x=[], y=[])
        self.plot.setXRange(0, right * 1.2 if right > 0 else 1.0, padding=0)
        low = float(lows.min()) if len(points) else 0.0
        self.plot.setYRange(max(0.0, min(low, rate * 100) - 10), 102, padding=0)
        self._place_labels(points)
        if not groups:
            self.set_note("")
        elif not points:
            self.set_note(
                "Nothing to place yet: a point needs both a known cost and a pass rate "
                "(label outputs or run an eval)."
            )
        else:
            self.set_note(
                "Filled: meets the bar (pass rate and p95); hollow: misses it. Dashed line: the "
                "Pareto frontier (nothing is both cheaper and better). Ringed: the answer. "
                "Whiskers: 95 % interval. " + evidence_note(points)
            )

    def _place_labels(self, points: list[dict[str, Any]]) -> None:
        """Name up to 12 points; a label that would cover an earlier one goes below or to the
        left of its point instead (the exact values are on hover either way)."""
        shown = points if len(points) <= 12 else []
        sx, sy = self.pixel_size()
        taken: list[tuple[float, float, float, float]] = []
        for i, p in enumerate(shown):
            label = self._label(i)
            thin = " ⚠" if (p.get("judged") or 0) < MIN_CASES else ""
            text = f"{short_model(str(p['model']))} v{p['version']} n={p.get('judged', 0)}{thin}"
            label.setText(text)
            x, y = float(self._drawn_x[i]), float(self._drawn_y[i])
            px, py = x / sx if sx else 0.0, -y / sy if sy else 0.0  # screen y grows downwards
            width, height = 7.0 * len(text), 16.0
            boxes = [
                (anchor, (px + left * width, py + top * height, width, height))
                for anchor, left, top in LABEL_SPOTS
            ]
            anchor, box = next(
                (b for b in boxes if not any(_overlap(b[1], other) for other in taken)), boxes[0]
            )
            taken.append(box)
            label.setAnchor(anchor)
            label.setPos(x, y)
            label.setVisible(True)
        for label in self._labels[len(shown) :]:
            label.setVisible(False)

    def hover_text(self, x: float, y: float) -> str | None:
        best = min(
            (
                (self.near(x, y, float(dx), float(dy)), p)
                for p, dx, dy in zip(self._points, self._drawn_x, self._drawn_y, strict=True)
            ),
            default=None,
            key=lambda t: t[0],
        )
        if best is None or best[0] > HOVER_PX:
            return None
        return point_text(best[1])

    def csv_table(self) -> tuple[list[str], list[list[Any]]]:
        rate, p95 = self.bar()
        x_key = X_KEY if any(X_KEY in p for p in self._points) else "cost_per_1k_calls_usd"
        front = {id(p) for p in tier.pareto_frontier(self._points, x=x_key, y="pass_rate")}
        header = [
            "prompt", "version", "model", "cost_per_1k_calls_usd", "pass_rate", "judged",
            "p95_latency_s", "on_frontier", "meets_bar", "passes", "ci95_low", "ci95_high",
            "cost_basis", "recorded_cost_per_1k_calls_usd", "label_sources", "datasets",
        ]  # fmt: skip
        rows = [
            [
                p.get("prompt_name"),
                p.get("version"),
                p["model"],
                _x(p),
                p["pass_rate"],
                p.get("judged"),
                _s(p.get("p95_latency_ms")),
                id(p) in front,
                tier.meets_bar(p, rate, p95),
                p.get("passes"),
                *(p.get("ci95") or (None, None)),
                p.get("cost_basis"),
                p.get("cost_per_1k_calls_usd"),
                "; ".join(p.get("label_sources", [])),
                "; ".join(p.get("datasets", [])),
            ]
            for p in self._points
        ]
        return header, rows


# Where a point's label may go: (anchor, box left and top in label widths/heights from the point);
# right-above first, then right-below, then left-above.
LABEL_SPOTS = (((-0.08, 1.1), 0.08, -1.1), ((-0.08, -0.1), 0.08, 0.1), ((1.08, 1.1), -1.08, -1.1))


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def point_text(p: dict[str, Any]) -> str:
    """A point's exact figures for its tooltip: n, the interval, sources, datasets, cost basis."""
    interval = p.get("ci95")
    ci = f", 95 % CI {fmt_percent(interval[0])}–{fmt_percent(interval[1])}" if interval else ""
    thin = f" — fewer than {MIN_CASES} cases" if (p.get("judged") or 0) < MIN_CASES else ""
    basis = p.get("cost_basis")
    cost = f"{fmt_usd(_x(p))} per 1 000 calls"
    if basis and basis != SPEND_BASIS:  # what was recorded stays visible next to the estimate
        spent = fmt_usd(p.get("cost_per_1k_calls_usd"))
        cost += f" ({basis}; recorded spend {spent} per 1 000 calls)"
    lines = [
        f"{p['model']} · {version_label(p.get('prompt_name'), p.get('version'))}",
        f"pass rate {fmt_percent(p['pass_rate'])} "
        f"({p.get('passes', '?')}/{p.get('judged', 0):,}{ci}){thin}",
        f"{cost} · p95 {fmt_seconds(_s(p.get('p95_latency_ms')))}",
    ]
    if p.get("label_sources"):
        lines.append("from " + " and ".join(p["label_sources"]))
    if p.get("datasets"):
        lines.append("datasets: " + ", ".join(p["datasets"]))
    return "\n".join(lines)


def _s(ms: float | None) -> float | None:
    return None if ms is None else ms / 1000.0
