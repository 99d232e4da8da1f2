"""The status bar's Message Batches panel: shown for open batches, Collect stores the answers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from workbench.inference.batches import AnthropicBatches
from workbench.services.batch_runs import submit_batch_run
from workbench.services.planner import make_plan
from workbench.services.project_models import model_catalog, price_table
from workbench.testing.fake_anthropic import FakeAnthropicServer
from workbench.ui.batch_watch import summarise
from workbench.ui.context import ProjectContext
from workbench.ui.main_window import MainWindow


def test_summary_text() -> None:
    rows = [
        {"run_id": 3, "status": "in_progress", "requests": 10, "counts": {"processing": 4}},
        {"run_id": 4, "status": "ended", "requests": 5, "counts": {}},
        {"run_id": 2, "status": "collected", "requests": 7, "counts": {"processing": 0}},
    ]
    assert summarise(rows) == (
        "2 Message Batches open (runs #3, #4): 6 of 15 requests done when last checked"
    )
    assert summarise(rows[2:]) == ""


def test_open_batches_show_and_collect_in_the_main_window(
    qtbot: QtBot,
    ctx: ProjectContext,
    qsettings: QSettings,
    artifacts_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = ctx.require()
    with FakeAnthropicServer() as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-FAKE-gui")
        monkeypatch.setenv("WORKBENCH_NO_KEYRING", "1")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
        plan = make_plan(
            project,
            prompts=["support-answer@2"],
            dataset="support-evals",
            catalog=model_catalog(project),
            prices=price_table(project),
        )

        async def submit() -> int:
            client = AnthropicBatches(api_key="k", base_url=server.base_url)
            try:
                return (await submit_batch_run(project, plan, client)).run_id
            finally:
                await client.aclose()

        run_id = asyncio.run(submit())
        window = MainWindow(ctx, settings=qsettings, remember_layout=False)
        qtbot.addWidget(window)
        window.show()
        watch = window.batch_watch
        assert watch.isVisible()
        assert f"run #{run_id}" in watch.label.text()
        # Opening the project asks the API in the background how far the batches are.
        qtbot.waitUntil(lambda: "10 of 10 requests done" in watch.label.text(), timeout=20_000)
        qtbot.wait(50)
        assert window.grab().save(str(artifacts_dir / "batch_watch_open.png"))
        with qtbot.waitSignal(watch.collected, timeout=20_000) as got:
            watch.button.click()
        assert sum(r.stored for r in got.args[0]) == 10
        assert "no Message Batch is open" in watch.label.text() or not watch.isVisible()
        rows = project.runs.run_grid(run_id)
        assert all(r.status == "done" for r in rows)
        window.close()
