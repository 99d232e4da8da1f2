"""The quality-vs-cost and pass-rate charts show their evidence: n, the 95 % interval per
point, the datasets and label sources, a warning for thin or mixed evidence, synthetic cost at
list prices, and markers that stay visible when values coincide."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from charts_support import MODELS, add_synthetic_calls, run_echo_sample
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from workbench.services.chart_evidence import LIST_PRICE_BASIS
from workbench.ui.charts import ChartsPane
from workbench.ui.context import ProjectContext

HAIKU = MODELS[0]


@pytest.fixture
def demo(qtbot: QtBot, ctx: ProjectContext) -> Iterator[ChartsPane]:
    project = ctx.require()
    run_echo_sample(project)
    add_synthetic_calls(project, per_pair=6)  # thin on purpose: 6 cases per point
    widget = ChartsPane(ctx)
    qtbot.addWidget(widget)
    widget.resize(1100, 700)
    with qtbot.waitSignal(widget.updated, timeout=10_000):
        widget.show()
    yield widget
    widget.close()


def test_frontier_points_show_n_interval_and_list_price_basis(
    qtbot: QtBot, demo: ChartsPane, artifacts_dir: Path
) -> None:
    frontier = demo.select_chart("Quality vs cost")
    QApplication.processEvents()
    points = frontier._points
    assert points and all(p["ci95"] is not None for p in points)
    assert all(p["cost_basis"] == LIST_PRICE_BASIS for p in points)  # all synthetic
    assert all(p["tier_cost_per_call_usd"] > 0 for p in points)  # never a $0 tie
    note = frontier.note.text()
    assert "95 % intervals (Wilson)" in note and "Fewer than 10 cases" in note
    assert LIST_PRICE_BASIS in note
    answer = frontier.answer.text()
    assert LIST_PRICE_BASIS in answer and "n = 6, 95 % CI" in answer
    assert "only 6 case(s): a hint, not an answer" in answer
    drawn = set(zip(frontier._drawn_x.round(9), frontier._drawn_y.round(9), strict=True))
    assert len(drawn) == len(points)  # no marker hides another
    p = points[0]
    text = frontier.hover_text(float(frontier._drawn_x[0]), float(frontier._drawn_y[0]))
    assert text is not None and f"{p['passes']}/{p['judged']}" in text and "95 % CI" in text
    assert "recorded spend" in text  # the estimate never replaces what was spent
    low, high = frontier.intervals.opts["bottom"], frontier.intervals.opts["top"]
    assert np.all(np.asarray(low) >= 0) and np.all(np.asarray(high) >= 0)
    header, rows = frontier.csv_table()
    row = dict(zip(header, rows[0], strict=True))
    assert row["ci95_low"] == p["ci95"][0] and row["cost_basis"] == LIST_PRICE_BASIS
    assert row["judged"] == p["judged"] and row["passes"] == p["passes"]
    assert row["recorded_cost_per_1k_calls_usd"] == p["cost_per_1k_calls_usd"]  # spend kept apart
    assert demo.grab().save(str(artifacts_dir / "charts_evidence_frontier.png"))


def test_pass_rate_points_show_interval_and_keep_markers_apart(
    qtbot: QtBot, demo: ChartsPane, artifacts_dir: Path
) -> None:
    chart = demo.select_chart("Pass rate")
    QApplication.processEvents()
    xs = [x for *_, x, _rate, _row in chart._points]
    assert len(set(xs)) == len(xs)  # each model beside the other at one version
    model, version, x, rate, row = next(p for p in chart._points if p[0] == HAIKU)
    text = chart.hover_text(x, rate * 100)
    assert text is not None and "95 % CI" in text and "fewer than 10 cases" in text
    assert "Whiskers: 95 % interval" in chart.note.text()
    assert demo.grab().save(str(artifacts_dir / "charts_evidence_pass_rate.png"))
