"""The Charts tab: every chart with 0, 1 and 100 000 calls, the sample data, hover, export, the
tier answer, filters, the projection, and its place in the main window."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from charts_support import (
    MODELS,
    add_synthetic_calls,
    run_echo_sample,
    synthetic_frame,
)
from PySide6.QtCore import QPointF, QSettings, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QFileDialog
from pytestqt.qtbot import QtBot
from quiz_project_support import assert_fonts_render

from workbench.services.analytics import CallFrame
from workbench.services.chart_data import compute_chart_data
from workbench.services.pricing import PriceTable
from workbench.ui.charts import ChartsPane
from workbench.ui.charts.chart_base import ChartBox, fmt_usd
from workbench.ui.charts.latency_chart import OFFSET
from workbench.ui.context import Change, ProjectContext
from workbench.ui.main_window import CHARTS_TAB, MainWindow
from workbench.ui.theme import current_theme

SONNET, HAIKU = MODELS[1], MODELS[0]


@pytest.fixture
def pane(qtbot: QtBot) -> Iterator[ChartsPane]:
    """A pane with no project, shown at a realistic size; tests feed it ChartData."""
    widget = ChartsPane(ProjectContext())
    qtbot.addWidget(widget)
    widget.resize(1000, 640)
    widget.show()
    yield widget
    widget.close()


@pytest.fixture
def demo(qtbot: QtBot, ctx: ProjectContext) -> Iterator[ChartsPane]:
    """The sample project after an echo run and the synthetic calls, in a shown pane."""
    project = ctx.require()
    run_echo_sample(project)
    add_synthetic_calls(project)
    widget = ChartsPane(ctx)
    qtbot.addWidget(widget)
    widget.resize(1000, 640)
    with qtbot.waitSignal(widget.updated, timeout=10_000):
        widget.show()
    yield widget
    widget.close()


def _paint_every_chart(pane: ChartsPane) -> None:
    for name in pane.chart_names():
        chart = pane.select_chart(name)
        QApplication.processEvents()
        assert not chart.grab().isNull()  # a full paint of the chart as it is now


def _frame_with(n: int) -> CallFrame:
    frame = synthetic_frame(n)
    if n:
        assert not frame["is_error"][0] and not frame["is_cached"][0]
    return frame


@pytest.mark.parametrize("calls", [0, 1, 100_000])
def test_every_chart_draws_0_1_and_100000_calls(
    pane: ChartsPane, calls: int, artifacts_dir: Path
) -> None:
    data = compute_chart_data(_frame_with(calls), prices=PriceTable.default())
    assert data.calls == calls
    pane.show_data(data)
    _paint_every_chart(pane)
    pane.select_chart("Quality vs cost")
    QApplication.processEvents()
    assert pane.grab().save(str(artifacts_dir / f"charts_{calls}_calls.png"))
    if calls == 0:
        assert "No calls" in pane.latency.note.text()
        assert pane.projection.table.rowCount() == 0
    else:
        assert pane.latency.csv_table()[1], "a latency row per model and metric"
        assert pane.projection.table.rowCount() == len(data.projection)
    # a second, different set reuses the same plot items (created once, then setData)
    items = len(pane.latency.plot.items)
    pane.show_data(compute_chart_data(_frame_with(min(calls, 50))))
    pane.show_data(data)
    assert len(pane.latency.plot.items) == items


def test_sample_data_screenshots(
    qtbot: QtBot, demo: ChartsPane, qsettings: QSettings, artifacts_dir: Path
) -> None:
    data = demo.data
    assert data.calls > 1800 and set(data.models) == set(MODELS)
    assert data.models == [HAIKU, SONNET, MODELS[2]]  # cheapest first
    assert data.synthetic_calls == data.calls
    assert (
        demo.demo_note.isVisible() and "offline demo — synthetic responses" in demo.demo_note.text()
    )
    answer = demo.frontier.answer.text()
    assert answer.startswith("cheapest model meeting pass rate ≥ 80 % and p95 ≤ 10 s: ")
    assert f"{SONNET} with support-answer v2" in answer
    assert_fonts_render(demo, "Latency p95 ≥ ≤ — · $ 1 000 calls")
    for name in demo.chart_names():
        demo.select_chart(name)
        qtbot.wait(30)
        slug = name.lower().replace(" ", "_")
        assert demo.grab().save(str(artifacts_dir / f"charts_{slug}.png"))


def test_charts_tab_in_the_main_window(
    qtbot: QtBot, ctx: ProjectContext, qsettings: QSettings, artifacts_dir: Path
) -> None:
    add_synthetic_calls(ctx.require())
    window = MainWindow(ctx, settings=qsettings, remember_layout=False)
    qtbot.addWidget(window)
    window.show()
    try:
        assert window.tabs.tabText(CHARTS_TAB) == "Charts"
        go = next(a for a in window.actions() if a.text() == "Go to Charts")
        assert go.shortcut().toString() == "Alt+4" and go.statusTip()
        with qtbot.waitSignal(window.charts.updated, timeout=10_000):
            go.trigger()
        assert window.tabs.currentWidget() is window.charts
        window.charts.select_chart("Quality vs cost")
        action = window.actions_by_name["import_logs"]
        assert action.shortcut().toString() == "Ctrl+Shift+L" and action.isEnabled()
        assert action.statusTip()
        qtbot.wait(50)
        assert window.grab().save(str(artifacts_dir / "charts_main_window.png"))
    finally:
        window.close()


def test_hover_tooltips_give_exact_values(demo: ChartsPane) -> None:
    data = demo.data
    haiku = data.latency[HAIKU]
    demo.select_chart("Latency")
    QApplication.processEvents()
    text = demo.latency.hover_text(0 + OFFSET, haiku.p50)
    assert text is not None and text.startswith(f"{HAIKU} — total latency")
    assert f"p50 {haiku.p50:.3f} s" in text and f"p95 {haiku.p95:.3f} s" in text
    assert demo.latency.hover_text(0.5, 1.0) is None  # between two shapes
    # the real mouse path: a scene position over the shape gives the same text
    box = demo.latency.plot.getViewBox()
    demo.latency._on_mouse_moved(box.mapViewToScene(QPointF(0 + OFFSET, haiku.p50)))
    assert demo.latency.last_tooltip == text

    demo.select_chart("Quality vs cost")
    QApplication.processEvents()
    point = next(r for r in data.by_version_model if r["model"] == SONNET and r["version"] == 2)
    x, y = point["cost_per_1k_calls_usd"], point["pass_rate"] * 100
    text = demo.frontier.hover_text(x, y)
    assert text is not None and text.startswith(f"{SONNET} · support-answer v2")
    assert f"pass rate {point['pass_rate'] * 100:.1f} %" in text
    assert f"${x:,.2f} per 1 000 calls" in text

    demo.select_chart("Cost")
    QApplication.processEvents()
    label, model, bx, _w, value, _row = demo.cost._cells[0]
    text = demo.cost.hover_text(bx, 0.0)
    assert text is not None and f"{model} · {label}" in text and fmt_usd(value) in text

    demo.select_chart("Pass rate")
    QApplication.processEvents()
    model, version, px, rate, _row = demo.pass_rate._points[0]
    text = demo.pass_rate.hover_text(px, rate * 100)
    assert text is not None and f"pass rate {rate * 100:.1f} %" in text

    demo.select_chart("Errors")
    QApplication.processEvents()
    model, day, rate, calls = max(demo.errors._points, key=lambda p: p[2])
    text = demo.errors.hover_text(day, rate * 100)
    assert text is not None and f"error rate {rate * 100:.1f} %" in text and f"of {calls:,}" in text


def test_export_png_and_csv_write_files(
    qtbot: QtBot, pane: ChartsPane, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = synthetic_frame(500)
    frame.arrays["prompt_name"][:] = "=HYPERLINK(evil)"  # a formula-like prompt name
    pane.show_data(compute_chart_data(frame, prices=PriceTable.default()))
    chosen: list[str] = []

    def save_as(_parent: object, _title: str, name: str, _filter: str) -> tuple[str, str]:
        chosen.append(name)
        return str(tmp_path / Path(name).stem), ""  # no suffix: the chart adds it

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_as)
    for name in pane.chart_names():
        chart: ChartBox = pane.select_chart(name)
        QApplication.processEvents()
        with qtbot.waitSignal(chart.exported, timeout=2000) as png:
            qtbot.mouseClick(chart.png_button, Qt.MouseButton.LeftButton)
        assert not QImage(png.args[0]).isNull()
        with qtbot.waitSignal(chart.exported, timeout=2000) as written:
            qtbot.mouseClick(chart.csv_button, Qt.MouseButton.LeftButton)
        rows = list(csv.reader(Path(written.args[0]).read_text(encoding="utf-8").splitlines()))
        assert rows[0] == chart.csv_table()[0] and len(rows) > 1
        cells = [c for row in rows[1:] for c in row]
        assert not any(c.startswith(("=", "+", "@")) for c in cells)
    assert chosen[:2] == ["latency-per-model.png", "latency-per-model.csv"]
    cost = (tmp_path / "cost-per-model-and-version.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK(evil) v1" in cost
    assert pane.status.text() == "Saved monthly-projection.csv"


def test_the_tier_answer_follows_x_and_y(qtbot: QtBot, demo: ChartsPane) -> None:
    frontier = demo.select_chart("Quality vs cost")
    assert (frontier.min_pass.value(), frontier.max_p95.value()) == (80, 10.0)  # project bar

    def type_into(box: object, text: str) -> None:
        box.setFocus()  # type: ignore[attr-defined]
        box.selectAll()  # type: ignore[attr-defined]
        qtbot.keyClicks(box, text)
        qtbot.keyClick(box, Qt.Key.Key_Return)

    type_into(frontier.min_pass, "75")
    assert "≥ 75 %" in frontier.answer.text()
    assert f"{HAIKU} with support-answer v3" in frontier.answer.text()
    assert demo.pass_rate.bar_line.value() == 75
    type_into(frontier.max_p95, "1.5")
    assert "p95 ≤ 1.5 s: none of" in frontier.answer.text()
    type_into(frontier.max_p95, "10")
    type_into(frontier.min_pass, "99")
    assert "none of 9; the best pass rate is claude-opus-5-5 with support-answer v3" in (
        frontier.answer.text()
    )
    # amber (the banner colour): no tier meets the bar
    assert current_theme().banner_bg.name() in frontier.answer.styleSheet()
    front = {(row[1], row[2]) for row in frontier.csv_table()[1] if row[7]}
    assert {(1, HAIKU), (2, HAIKU), (3, HAIKU)} <= front  # the cheap end of the frontier


def test_source_run_and_prompt_filters(qtbot: QtBot, demo: ChartsPane) -> None:
    bar = demo.filter_bar
    everything = demo.data.calls
    with qtbot.waitSignal(demo.updated, timeout=5000):
        bar.source.setCurrentIndex(bar.source.findData("import"))
    assert demo.data.models == [HAIKU] and 0 < demo.data.calls < everything
    assert demo.data.versions() == [("support-answer", 2)]
    with qtbot.waitSignal(demo.updated, timeout=5000):
        bar.source.setCurrentIndex(bar.source.findData("all"))
    assert demo.data.calls == everything
    run_index = next(i for i in range(bar.run.count()) if "· demo" in bar.run.itemText(i))
    with qtbot.waitSignal(demo.updated, timeout=5000):
        bar.run.setCurrentIndex(run_index)
    assert 0 < demo.data.calls < everything
    with qtbot.waitSignal(demo.updated, timeout=5000):
        bar.run.setCurrentIndex(0)
        bar.prompt.setCurrentIndex(bar.prompt.findData("summarize"))
    assert demo.data.calls == 0 and "No calls" in demo.cost.note.text()


def test_projection_scales_with_calls_per_day_and_batch(qtbot: QtBot, demo: ChartsPane) -> None:
    table = demo.select_chart("Projection")
    monthly = {(r["version"], r["model"]): r["monthly_cost_usd"] for r in table.projected_rows()}
    table.calls_per_day.setValue(20_000)
    doubled = {(r["version"], r["model"]): r["monthly_cost_usd"] for r in table.projected_rows()}
    assert all(doubled[k] == pytest.approx(2 * v) for k, v in monthly.items() if v is not None)
    qtbot.mouseClick(table.batch, Qt.MouseButton.LeftButton)
    batch = {(r["version"], r["model"]): r["monthly_cost_usd"] for r in table.projected_rows()}
    assert all(batch[k] < doubled[k] for k in doubled if doubled[k])
    assert "Batch API discount" in table.note.text()
    assert table.table.item(0, 1).text() == "claude-opus-5-5"  # the dearest first


def test_new_calls_and_settings_reach_the_pane(qtbot: QtBot, demo: ChartsPane) -> None:
    project = demo.ctx.require()
    before = demo.data.calls
    run_echo_sample(project)
    with qtbot.waitSignal(demo.updated, timeout=10_000):
        demo.ctx.notify(Change.RUNS, None)
    assert demo.data.calls == before + 20
    settings = project.settings.model_copy(update={"min_pass_rate": 0.9, "max_p95_latency_s": 6})
    project.set_settings(settings)
    demo.ctx.notify(Change.SETTINGS)
    assert (demo.frontier.min_pass.value(), demo.frontier.max_p95.value()) == (90, 6.0)
    assert "claude-sonnet-5-5 with support-answer v3" in demo.frontier.answer.text()


def test_a_hidden_pane_waits_until_shown(qtbot: QtBot, ctx: ProjectContext) -> None:
    widget = ChartsPane(ctx)
    qtbot.addWidget(widget)
    ctx.notify(Change.RUNS, None)
    qtbot.wait(300)
    assert widget.data.calls == 0 and not widget.busy  # nothing read while off screen
    add_synthetic_calls(ctx.require(), per_pair=10)
    with qtbot.waitSignal(widget.updated, timeout=10_000):
        widget.show()
    assert widget.data.calls == 10 * 9 + 30
    widget.close()
