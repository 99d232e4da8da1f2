"""The call inspector: request, response, usage, cost, timings, attempts, cache and synthetic
markers — for calls made through real runs (echo and the fake server) and logged by hand."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QPlainTextEdit
from pytestqt.qtbot import QtBot
from quiz_project_support import HAIKU, assert_fonts_render, make_project

from workbench.core.models import Settings
from workbench.core.records import Attempt, CallRecord
from workbench.services.planner import make_plan
from workbench.services.project_models import model_catalog, price_table
from workbench.services.runner import RunOptions
from workbench.testing.fake_anthropic import FakeAnthropicServer
from workbench.ui.context import ProjectContext
from workbench.ui.run_controller import RunController
from workbench.ui.widgets.call_inspector import SYNTHETIC_TEXT, CallInspector


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[ProjectContext]:
    context = ProjectContext(demo=True, demo_provider="echo")  # reads the echo transcript
    context.set_project(make_project(tmp_path))
    yield context
    context.close()


@pytest.fixture
def inspector(qtbot: QtBot, ctx: ProjectContext) -> CallInspector:
    widget = CallInspector(ctx)
    qtbot.addWidget(widget)
    widget.resize(460, 760)
    widget.show()
    return widget


def run_once(qtbot: QtBot, ctx: ProjectContext, options: RunOptions | None = None) -> int:
    """Run quiz@1 × topics on Haiku through the controller; the run id."""
    project = ctx.require()
    plan = make_plan(
        project,
        prompts=["quiz@1"],
        dataset="topics",
        models=[HAIKU],
        catalog=model_catalog(project),
        prices=price_table(project),
    )
    controller = RunController(ctx)
    with qtbot.waitSignal(controller.run_finished, timeout=20_000) as blocker:
        controller.start(plan, options or RunOptions(concurrency=1))
    controller.wait()
    return blocker.args[0].run_id


def call_ids(ctx: ProjectContext, run_id: int) -> list[int]:
    return [r.call_id for r in ctx.require().runs.run_grid(run_id)]


def test_shows_request_response_usage_and_the_synthetic_marker(
    qtbot: QtBot, ctx: ProjectContext, inspector: CallInspector, artifacts_dir: Path
) -> None:
    call_id = call_ids(ctx, run_once(qtbot, ctx))[0]
    inspector.show_call(call_id)
    assert inspector.title.text() == f"Call #{call_id} · {HAIKU} · quiz@v1"
    assert inspector.markers.isVisible() and SYNTHETIC_TEXT in inspector.markers.text()
    assert not inspector.error.isVisible()
    assert inspector.response.toPlainText() == (
        "[system] You write short quizzes.\n[user] Write a hard question about photosynthesis."
    )
    request = inspector.request.toPlainText()
    assert request.startswith("SYSTEM\nYou write short quizzes.\n\nMESSAGE 1 (user)\n")
    assert '"max_tokens": 200' in request and f'"model": "{HAIKU}"' in request
    assert inspector.facts["Stop reason"].text() == "end_turn"
    assert inspector.facts["Cost"].text().startswith("$0.0000")
    assert inspector.facts["Input tokens"].text() == "17"
    assert inspector.facts["Request id"].text().startswith("echo_")
    assert inspector.attempts.rowCount() == 1
    assert inspector.attempts.item(0, 1).text() == "200"
    assert inspector.tabs.tabText(2) == "&Attempts (1)"
    assert isinstance(inspector.response, QPlainTextEdit)  # plain text, never HTML
    assert_fonts_render(inspector, "Call # · — $0.0000 …")
    inspector.grab().save(str(artifacts_dir / "call_inspector.png"))


def test_cached_call_says_where_it_came_from(
    qtbot: QtBot, ctx: ProjectContext, inspector: CallInspector
) -> None:
    first = call_ids(ctx, run_once(qtbot, ctx))[0]
    second = call_ids(ctx, run_once(qtbot, ctx))[0]
    inspector.show_call(second)
    assert f"a copy of call #{first}, no cost" in inspector.markers.text()
    assert inspector.facts["Cost"].text() == "$0.000000"


def test_retried_call_lists_every_attempt_with_request_ids(
    qtbot: QtBot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    artifacts_dir: Path,
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-FAKE")
    with FakeAnthropicServer(ttft_ms=5) as server:
        server.script({"fault": "429", "request_number": 1, "retry_after": 0.05})
        ctx = ProjectContext()
        project = make_project(tmp_path)
        project.set_settings(Settings(base_url=server.base_url))
        ctx.set_project(project)
        widget = CallInspector(ctx)
        qtbot.addWidget(widget)
        widget.resize(460, 760)
        try:
            run_id = run_once(qtbot, ctx, RunOptions(concurrency=1, use_cache=False))
            widget.show_call(call_ids(ctx, run_id)[0])
            assert widget.attempts.rowCount() == 2
            first = [widget.attempts.item(0, c).text() for c in range(7)]
            assert first[1] == "429" and first[6].startswith("rate_limit")
            assert first[5] != "—" and first[3] == "0.05 s"
            assert widget.attempts.item(1, 1).text() == "200"
            assert not widget.markers.isVisible()  # a real (fake-server) response
            assert widget.response.toPlainText().startswith('Regarding "Write a hard question')
            widget.tabs.setCurrentIndex(2)
            widget.show()
            widget.grab().save(str(artifacts_dir / "call_inspector_attempts.png"))
        finally:
            widget.close()
            ctx.close()


def test_error_call_with_unknown_cost(ctx: ProjectContext, inspector: CallInspector) -> None:
    now = time.time()
    call_id = ctx.require().runs.record_call(
        CallRecord(
            model="claude-unknown-9",
            request={
                "model": "claude-unknown-9",
                "system": "",
                "messages": [{"role": "user", "content": "<b>hi</b>"}],
            },
            request_hash="h",
            started_at=now,
            finished_at=now,
            error_type="overloaded",
            error_message="529 overloaded_error: Overloaded",
            partial_text="<script>half",
            attempts=[Attempt(1, "req_1", 529, "overloaded", "Overloaded", now, 12.0, None, 0.5)],
        )
    )
    inspector.show_call(call_id)
    assert inspector.error.isVisible()
    assert inspector.error.text() == "Error (overloaded): 529 overloaded_error: Overloaded"
    assert inspector.facts["Cost"].text() == "unknown"
    assert inspector.facts["Latency"].text() == "—"
    assert inspector.response.toPlainText() == "[text streamed before an error]\n<script>half"
    assert "<b>hi</b>" in inspector.request.toPlainText()  # markup stays literal text
    assert inspector.attempts.item(0, 4).text() == "0.50 s"


def test_nothing_selected_and_unknown_call(ctx: ProjectContext, inspector: CallInspector) -> None:
    inspector.show_call(0)
    assert inspector.title.text().startswith("Select a finished cell")
    inspector.show_call(999)
    assert inspector.title.text() == "There is no call #999 in this project."
    ctx.close()
    assert inspector.title.text().startswith("Select a finished cell")
