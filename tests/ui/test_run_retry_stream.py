"""A streamed cell whose stream fails mid-way and is retried shows only the new attempt's text
(the engine tells the GUI listener `on_cell_reset`; the grid starts the cell again)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from quiz_project_support import HAIKU, make_project

from workbench.core.models import Settings
from workbench.services.planner import make_plan
from workbench.services.project_models import model_catalog, price_table
from workbench.testing.fake_anthropic import FakeAnthropicServer
from workbench.ui.context import ProjectContext
from workbench.ui.run_controller import RunController
from workbench.ui.widgets.run_grid import RunGrid


@pytest.fixture
def server() -> Iterator[FakeAnthropicServer]:
    with FakeAnthropicServer(ttft_ms=20, token_interval_ms=15) as running:
        yield running


def test_a_retried_stream_shows_only_the_new_attempts_text(
    qtbot: QtBot,
    tmp_path: Path,
    server: FakeAnthropicServer,
    monkeypatch: pytest.MonkeyPatch,
    artifacts_dir: Path,
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-FAKE")
    project = make_project(tmp_path, examples=1)
    project.set_settings(Settings(base_url=server.base_url, default_concurrency=1))
    # The first stream breaks after 8 deltas; the retry streams the whole answer.
    server.script({"fault": "midstream_error", "request_number": 1, "after_deltas": 8})
    ctx = ProjectContext()
    ctx.set_project(project)
    controller = RunController(ctx)
    grid = RunGrid(ctx)
    grid.attach(controller)
    qtbot.addWidget(grid)
    grid.resize(900, 400)
    grid.show()
    shown: list[str] = []  # what the grid's cell held after each delta it was given
    finished: dict[int, int] = {}
    controller.cell_text.connect(
        lambda cell_id, _delta: shown.append(
            next(c.stream for c in grid.model.cells.values() if c.cell_id == cell_id)
        )
    )
    controller.cell_finished.connect(lambda cell_id, call_id: finished.update({cell_id: call_id}))
    plan = make_plan(
        project,
        prompts=["quiz@1"],
        dataset="topics",
        models=[HAIKU],
        catalog=model_catalog(project),
        prices=price_table(project),
    )
    try:
        with qtbot.waitSignal(controller.run_finished, timeout=30_000) as blocker:
            assert controller.start(plan)
        assert blocker.args[0].status == "done"
        (call_id,) = finished.values()
        call = project.runs.get_call(call_id)
        attempts = project.db.execute(
            "SELECT count(*) FROM attempts WHERE call_id = ?", [call_id]
        ).fetchone()[0]
        assert attempts == 2  # the scripted failure really was retried
        final = call.output
        assert shown and len(shown[-1]) > 0
        # Every state the grid showed is the start of the final answer: never the discarded
        # attempt's text followed by the new one.
        stale = [text for text in shown if not final.startswith(text)]
        assert not stale, f"the grid showed a discarded attempt's text: {stale[0][:120]!r}"
        grid.grab().save(str(artifacts_dir / "run_grid_after_retried_stream.png"))
    finally:
        controller.cancel()
        controller.wait()
        grid.close()
        ctx.close()


def test_the_gui_listener_implements_every_run_listener_method() -> None:
    from workbench.services.runner import RunListener
    from workbench.ui.run_worker import EventBuffer

    wanted = [name for name in vars(RunListener) if name.startswith("on_")]
    assert "on_cell_reset" in wanted
    missing = [name for name in wanted if name not in vars(EventBuffer)]
    assert not missing, f"EventBuffer lacks {missing}"
