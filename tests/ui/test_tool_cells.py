"""Run grid cells with tool calls and structured output, and the inspector's folded thinking,
over the loopback fake server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from quiz_project_support import HAIKU, make_project
from test_run_grid import FAKE_KEY, Screen, texts

from workbench.core.models import PromptContent, Settings
from workbench.testing.fake_anthropic import FakeAnthropicServer
from workbench.ui.models.run_grid_model import CALL_ID_ROLE
from workbench.ui.widgets.call_inspector import CallInspector

AGENT = {
    "system": "You look quiz orders up.",
    "messages": [
        {
            "role": "user",
            "content": 'Order for {{topic}} [[tool:lookup_order {"order_id": "{{level}}-1"}]]',
        }
    ],
    "params": {"model": HAIKU, "max_tokens": 2000},
    "tools": [
        {
            "name": "lookup_order",
            "description": "Look up an order.",
            "input_schema": {"type": "object", "properties": {"order_id": {"type": "string"}}},
        }
    ],
    "thinking": {"type": "adaptive"},
}
CLASSIFY = {
    "messages": [{"role": "user", "content": "Classify {{topic}} ({{level}})."}],
    "params": {"model": HAIKU, "max_tokens": 300},
    "output_schema": {
        "type": "object",
        "properties": {"category": {"enum": ["science", "history"]}, "hard": {"type": "boolean"}},
        "required": ["category", "hard"],
    },
}


@pytest.fixture
def screen(qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Screen]:
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
    with FakeAnthropicServer() as server:
        project = make_project(tmp_path, examples=3)
        project.set_settings(Settings(base_url=server.base_url, default_concurrency=4))
        for name, content in (("agent", AGENT), ("classify", CLASSIFY)):
            project.prompts.create(name)
            project.prompts.save_version(name, PromptContent.model_validate(content))
        shown = Screen(qtbot, project, demo=False)
        yield shown
        shown.close()


def test_cells_show_tool_calls_and_structured_output(
    qtbot: QtBot, screen: Screen, artifacts_dir: Path
) -> None:
    outcome = screen.run(screen.plan(["agent@1", "classify@1"], [HAIKU]))
    assert getattr(outcome, "status", None) == "done", screen.errors
    rows = texts(screen.grid)
    agent_cells = [row[0] for row in rows]
    classify_cells = [row[1] for row in rows]
    assert all("tool call: lookup_order" in cell for cell in agent_cells), agent_cells
    assert 'tool call: lookup_order {"order_id": "hard-1"}' in agent_cells[0]
    assert "thinking" in agent_cells[0]
    assert all("category: " in cell and "hard: " in cell for cell in classify_cells)
    qtbot.wait(50)
    assert screen.grid.grab().save(str(artifacts_dir / "run_grid_tool_calls.png"))

    call_id = screen.grid.proxy.index(0, 0).data(CALL_ID_ROLE)
    inspector = CallInspector(screen.ctx)
    qtbot.addWidget(inspector)
    inspector.resize(760, 820)
    inspector.show()
    inspector.show_call(call_id)
    details = inspector.details
    assert details.isVisible() and details.tools.text().startswith("tool call: lookup_order")
    assert details.fold.text().startswith("Thinking (") and "tokens)" in details.fold.text()
    assert not details.thinking.isVisible()  # folded until asked for
    details.fold.click()
    assert details.thinking.isVisible() and details.thinking.toPlainText().startswith("Let me")
    qtbot.wait(50)
    assert inspector.grab().save(str(artifacts_dir / "call_inspector_tool_call.png"))
    classify_call = screen.grid.proxy.index(0, 1).data(CALL_ID_ROLE)
    inspector.show_call(classify_call)
    assert details.structured.isVisible() and not details.fold.isVisible()
    qtbot.wait(50)
    assert inspector.grab().save(str(artifacts_dir / "call_inspector_structured.png"))
