"""Error rate per model per day (UTC), with the seed's alert line (error rate above 2 %)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pyqtgraph as pg

from workbench.ui.charts.chart_base import (
    HOVER_PX,
    NO_DATA,
    ChartBox,
    fmt_percent,
    model_colour,
)
from workbench.ui.theme import current_theme

ALERT_ERROR_RATE = 0.02
DAY_S = 86_400.0


def day_text(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).date().isoformat()


class ErrorRateChart(ChartBox):
    """Daily error rate (%) per model."""

    TITLE = "Error rate per day"
    CSV_NAME = "error-rate-per-day"

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.plot.setAxisItems({"bottom": pg.DateAxisItem(utcOffset=0)})
        self.axis_label("left", "error rate (%)")
        self.alert = self.reference(ALERT_ERROR_RATE * 100, "alert: error rate > 2 %", "alert")
        self._lines: dict[int, pg.PlotDataItem] = {}
        self._points: list[tuple[str, float, float, int]] = []  # model, day, rate, calls
        self.restyle(current_theme())  # the date axis replaced the themed bottom axis

    def _line(self, slot: int) -> pg.PlotDataItem:
        if slot not in self._lines:
            line = pg.PlotDataItem(symbol="o", symbolSize=7)
            self.plot.addItem(line)
            self._lines[slot] = line
        return self._lines[slot]

    def redraw(self) -> None:
        data = self.data
        models = [m for m in data.models if m in data.daily]
        self._points = []
        top, first, last = 0.0, np.inf, -np.inf
        for slot, model in enumerate(models):
            series = data.daily[model]
            t, rate, calls = series["t"], series["error_rate"], series["calls"]
            colour = model_colour(model, data.all_models)
            line = self._line(slot)
            line.setData(t, rate * 100)
            line.setPen(pg.mkPen(colour, width=2))
            line.setSymbolBrush(colour)
            line.setSymbolPen(pg.mkPen(current_theme().chart_bg))
            line.setVisible(True)
            self._points += [
                (model, float(d), float(r), int(c)) for d, r, c in zip(t, rate, calls, strict=True)
            ]
            if len(t):
                top = max(top, float(np.nanmax(rate)))
                first, last = min(first, float(t[0])), max(last, float(t[-1]))
        for slot, line in self._lines.items():
            if slot >= len(models):
                line.setVisible(False)
        if np.isfinite(first):
            self.plot.setXRange(first - DAY_S / 2, last + DAY_S / 2, padding=0.02)
        self.plot.setYRange(0, max(top, ALERT_ERROR_RATE * 1.5) * 100 * 1.15, padding=0)
        if not models:
            self.set_note(NO_DATA)
        else:
            days = int(round((last - first) / DAY_S)) + 1
            self.set_note(
                f"Share of calls that ended in an error, per UTC day ({days} day(s) shown); "
                "retried calls that then succeeded count as successes."
            )

    def hover_text(self, x: float, y: float) -> str | None:
        best = min(
            ((self.near(x, y, d, r * 100), m, d, r, c) for m, d, r, c in self._points),
            default=None,
            key=lambda t: t[0],
        )
        if best is None or best[0] > HOVER_PX:
            return None
        _, model, day, rate, calls = best
        errors = round(rate * calls)
        return f"{model} · {day_text(day)}\nerror rate {fmt_percent(rate)} ({errors} of {calls:,} calls)"

    def csv_table(self) -> tuple[list[str], list[list[Any]]]:
        header = ["model", "day", "error_rate", "calls"]
        return header, [[m, day_text(d), r, c] for m, d, r, c in self._points]
