"""The Production tab over imported logs: the table, red when breached, the daily trend, and the
weekly review sample walked in the real review queue feeding the hallucination rate."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QTabWidget
from pytestqt.qtbot import QtBot

from workbench.services.logs_import import import_logs
from workbench.ui.context import Change, ProjectContext
from workbench.ui.review_queue import ReviewQueue
from workbench.ui.widgets.production_view import (
    BREACHED_FG,
    REVIEW_TEXT,
    TABLE_COLUMNS,
    ProductionView,
)

DAY = 86_400.0
NOW = time.time()


def _lines() -> list[dict[str, Any]]:
    """Ten calls a day of support-answer for 15 days; the last day is slow."""
    lines = []
    for day in range(15):
        for i in range(10):
            n = day * 10 + i
            at = NOW - day * DAY - 3600 - i * 60
            lines.append(
                {
                    "timestamp": dt.datetime.fromtimestamp(at, dt.UTC).isoformat(),
                    "prompt": "support-answer",
                    "version_id": "support-answer@v2",
                    "model": "claude-haiku-5-5",
                    "vars": {"question": f"How do I do thing {n}?"},
                    "output": f"Answer {n}: open Settings and follow the steps.",
                    "latency_ms": 14_000.0 if day == 0 else 900.0 + i,
                    "input_tokens": 400,
                    "output_tokens": 100,
                    "user_id": f"u{n % 5}",
                    "call_id": f"c-{n}",
                    **({"feedback": "up"} if n % 9 == 0 else {}),
                }
            )
    return lines


def _import(ctx: ProjectContext, tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    log.write_text("".join(json.dumps(x) + "\n" for x in _lines()), encoding="utf-8")
    report = import_logs(ctx.require(), log)
    assert report.calls == 150 and not report.errors
    ctx.notify(Change.RUNS, report.run_id)


def _cell(view: ProductionView, metric: str, column: int) -> Any:
    for row in range(view.table.rowCount()):
        if view.table.item(row, 0).text() == metric:
            return view.table.item(row, column)
    raise AssertionError(f"no row {metric}")


def test_production_tab_table_trend_and_weekly_review(
    qtbot: QtBot, ctx: ProjectContext, tmp_path: Path, artifacts_dir: Path
) -> None:
    _import(ctx, tmp_path)
    tabs = QTabWidget()
    review = ReviewQueue(ctx)

    def open_review(ids: list[int]) -> None:
        review.review_calls(ids)
        tabs.setCurrentWidget(review)

    view = ProductionView(ctx, open_review=open_review)
    view.now, view.seed = NOW, 5
    tabs.addTab(view, "Production")
    tabs.addTab(review, "Review")
    qtbot.addWidget(tabs)
    tabs.resize(1150, 760)
    with qtbot.waitSignal(view.refreshed, timeout=10_000):
        tabs.show()
    qtbot.waitExposed(tabs)

    assert [view.table.horizontalHeaderItem(i).text() for i in range(5)] == list(TABLE_COLUMNS)
    p95_day = _cell(view, "p95 latency", 1)
    assert p95_day.text() == "14.00 s" and p95_day.foreground().color() == BREACHED_FG
    assert _cell(view, "p95 latency", 3).text() == "> 10 s"
    error_day = _cell(view, "error rate", 1)
    assert error_day.text() == "0.0 %" and error_day.foreground().color() != BREACHED_FG
    assert _cell(view, "hallucination rate", 2).text() == "—"  # nothing reviewed yet
    assert "Above threshold: p95 latency" in view.summary.text()
    assert view.trend.rowCount() == 7
    assert view.trend.item(0, 2).foreground().color() == BREACHED_FG  # the slow last day
    assert view.trend.item(1, 2).foreground().color() != BREACHED_FG
    qtbot.wait(30)
    tabs.grab().save(str(artifacts_dir / "production_tab.png"))

    # The weekly review: 20 random imported calls of the last 7 days in the review queue.
    assert view.review_button.text() == REVIEW_TEXT
    view.review_button.click()
    qtbot.waitUntil(lambda: review.reviewing, timeout=10_000)
    assert tabs.currentWidget() is review and len(review.cases) == 20
    project = ctx.require()
    sample = [case.call_id for case in review.cases]
    week_ago = NOW - 7 * DAY
    assert all(project.runs.get_call(i).finished_at >= week_ago for i in sample)
    for call_id in sample[:3]:
        project.labels.set_label(call_id, verdict="fail", tags=["hallucination"])
    for call_id in sample[3:]:
        project.labels.set_label(call_id, verdict="pass")
    ctx.notify(Change.LABELS, sample)
    review.finish()

    with qtbot.waitSignal(view.refreshed, timeout=10_000):
        tabs.setCurrentWidget(view)
    halluc = _cell(view, "hallucination rate", 2)
    assert halluc.text() == "15.0 %" and halluc.foreground().color() == BREACHED_FG
    assert "3 of 20" in _cell(view, "hallucination rate", 4).text()
    thumbs = _cell(view, "thumbs-down rate", 2)
    assert thumbs.text() != "—"  # the reviewers' verdicts count where users gave no thumbs
    qtbot.wait(30)
    tabs.grab().save(str(artifacts_dir / "production_tab_after_review.png"))
    tabs.close()


def test_production_tab_without_imports_says_what_to_do(qtbot: QtBot, ctx: ProjectContext) -> None:
    view = ProductionView(ctx, open_review=lambda ids: None)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.refreshed, timeout=10_000):
        view.show()
    assert "No production calls imported" in view.status.text()
    assert view.table.rowCount() == 0
    view.close()
