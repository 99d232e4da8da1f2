"""Pass rate across prompt versions: one trend line per model, and the project's bar."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg

from workbench.services.chart_evidence import MIN_CASES, evidence_note
from workbench.ui.charts.chart_base import (
    BAR_COLOUR,
    HOVER_PX,
    NO_DATA,
    ChartBox,
    fmt_percent,
    model_colour,
    reference_line,
    version_label,
)

MODEL_OFFSET = 0.12  # x units between models at one version
MAX_N_LABELS = 15  # more points than this: n only on hover, the labels would crowd


class PassRateChart(ChartBox):
    """Pass rate (%) per prompt version, a line per model; lines break between prompts."""

    TITLE = "Pass rate across prompt versions"
    CSV_NAME = "pass-rate-per-version"

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.axis_label("left", "pass rate (%)")
        self.bar_line = reference_line(self.plot, 80.0, "bar: 80 %", BAR_COLOUR)
        self._lines: dict[int, pg.PlotDataItem] = {}  # one per model slot, created once
        self._points: list[tuple[str, str, float, float, dict[str, Any]]] = []
        self.intervals = pg.ErrorBarItem(pen=pg.mkPen("#8d8d8d", width=1), beam=0.08)
        self.plot.addItem(self.intervals)
        self._n_labels: list[pg.TextItem] = []

    def set_bar(self, min_pass_rate: float) -> None:
        """Move the reference line to the pass-rate bar (a fraction)."""
        self.bar_line.setValue(min_pass_rate * 100)
        self.bar_line.label.setFormat(f"bar: {min_pass_rate * 100:g} %")

    def _line(self, slot: int) -> pg.PlotDataItem:
        if slot not in self._lines:
            line = pg.PlotDataItem(connect="finite", symbol="o", symbolSize=8)
            self.plot.addItem(line)
            self._lines[slot] = line
        return self._lines[slot]

    def redraw(self) -> None:
        data = self.data
        versions = data.versions()
        # x positions: versions in order, a gap between prompts so no line joins two prompts
        xs: dict[tuple[str, int], float] = {}
        ticks, x = [], 0.0
        for i, (prompt, version) in enumerate(versions):
            if i and versions[i - 1][0] != prompt:
                x += 1.0
            xs[(prompt, version)] = x
            ticks.append((x, version_label(prompt, version)))
            x += 1.0
        self._points = []
        rated = False
        for slot, model in enumerate(data.models):
            # Each model a little to the side, so equal pass rates keep every marker visible.
            nudge = (slot - (len(data.models) - 1) / 2) * MODEL_OFFSET
            px, py = [], []
            previous: str | None = None
            for (prompt, version), vx in xs.items():
                row = next(
                    (
                        r
                        for r in data.by_version_model
                        if (r.get("prompt_name"), r.get("version"), r.get("model"))
                        == (prompt, version, model)
                    ),
                    None,
                )
                rate = row.get("pass_rate") if row else None
                if previous is not None and previous != prompt:
                    px.append(np.nan)  # break the line between prompts
                    py.append(np.nan)
                previous = prompt
                px.append(vx + nudge)
                py.append(np.nan if rate is None else rate * 100)
                if rate is not None and row is not None:
                    rated = True
                    label = version_label(prompt, version)
                    self._points.append((model, label, vx + nudge, rate, row))
            colour = model_colour(model, data.all_models)
            line = self._line(slot)
            xs_, ys_ = np.array(px, dtype=float), np.array(py, dtype=float)
            if not np.isfinite(ys_).any():  # pyqtgraph warns on a curve of NaN only
                xs_, ys_ = np.zeros(0), np.zeros(0)
            line.setData(xs_, ys_)
            line.setPen(pg.mkPen(colour, width=2))
            line.setSymbolBrush(colour)
            line.setSymbolPen(pg.mkPen("w"))
            line.setVisible(True)
        for slot, line in self._lines.items():
            if slot >= len(data.models):
                line.setVisible(False)
        self._draw_intervals()
        self.plot.getAxis("bottom").setTicks([ticks, []])
        self.plot.setXRange(-0.5, max(x, 1.0) - 0.5, padding=0)
        self.plot.setYRange(0, 105, padding=0)
        if not data.models:
            self.set_note(NO_DATA)
        elif not rated:
            self.set_note(
                "No pass rate yet: label outputs in the run grid or run an eval to score them."
            )
        else:
            self.set_note(
                "Pass rate of labelled or scored calls; a person's verdict wins. Whiskers: 95 % "
                "interval. " + evidence_note([row for *_, row in self._points], with_cost=False)
            )

    def hover_text(self, x: float, y: float) -> str | None:
        best = min(
            (
                (self.near(x, y, px, rate * 100), m, v, rate, row)
                for m, v, px, rate, row in self._points
            ),
            default=None,
            key=lambda t: t[0],
        )
        if best is None or best[0] > HOVER_PX:
            return None
        _, model, version, rate, row = best
        interval = row.get("ci95")
        ci = f", 95 % CI {fmt_percent(interval[0])}–{fmt_percent(interval[1])}" if interval else ""
        thin = f"\nfewer than {MIN_CASES} cases: a hint" if row.get("judged", 0) < MIN_CASES else ""
        sources = " and ".join(row.get("label_sources", []))
        datasets = ", ".join(row.get("datasets", []))
        return (
            f"{model} · {version}\npass rate {fmt_percent(rate)} "
            f"({row.get('judged', 0):,} judged of {row.get('calls', 0):,} calls{ci}){thin}"
            + (f"\nfrom {sources}" if sources else "")
            + (f"\ndatasets: {datasets}" if datasets else "")
        )

    def _draw_intervals(self) -> None:
        xs = np.array([p[2] for p in self._points], dtype=float)
        ys = np.array([p[3] * 100 for p in self._points], dtype=float)
        ci = [p[4].get("ci95") or (p[3], p[3]) for p in self._points]
        lows = np.array([c[0] * 100 for c in ci], dtype=float)
        highs = np.array([c[1] * 100 for c in ci], dtype=float)
        self.intervals.setData(x=xs, y=ys, top=highs - ys, bottom=ys - lows)
        shown = self._points if len(self._points) <= MAX_N_LABELS else []
        while len(self._n_labels) < len(shown):
            item = pg.TextItem(color="#525252", anchor=(0.5, -0.15))  # under its point
            self.plot.addItem(item)
            self._n_labels.append(item)
        for item, (_m, _v, x, rate, row) in zip(self._n_labels, shown, strict=False):
            item.setText(f"n={row.get('judged', 0)}")
            item.setPos(x, rate * 100)
            item.setVisible(True)
        for item in self._n_labels[len(shown) :]:
            item.setVisible(False)

    def csv_table(self) -> tuple[list[str], list[list[Any]]]:
        header = ["model", "prompt_version", "pass_rate", "judged", "calls"]
        rows = [
            [m, v, rate, row.get("judged"), row.get("calls")]
            for m, v, _x, rate, row in self._points
        ]
        return header, rows
