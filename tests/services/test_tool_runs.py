"""Runs of tool-using, thinking, image-reading versions over the fake server: what is stored."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from tests.services.test_runner import _anthropic
from workbench.core.models import Example, PromptContent
from workbench.inference.base import Usage
from workbench.services.planner import make_plan
from workbench.services.project_models import model_catalog, price_table
from workbench.services.projects import seed_defaults
from workbench.services.run_service import start_run
from workbench.storage.project import Project
from workbench.testing.fake_anthropic import FakeAnthropicServer

AGENT = {
    "system": "You are QuizCraft support.",
    "messages": [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "{{question}}"},
                {"type": "image", "var": "screenshot"},
            ],
        }
    ],
    "params": {"model": "claude-haiku-5-5", "max_tokens": 3000},
    "tools": [
        {
            "name": "lookup_order",
            "description": "Look up an order.",
            "input_schema": {
                "type": "object",
                "properties": {"order_id": {"type": "string"}},
                "required": ["order_id"],
            },
        }
    ],
    "thinking": {"type": "enabled", "budget_tokens": 1024},
}


def _project(tmp_path: Path) -> Project:
    (tmp_path / "shots").mkdir()
    (tmp_path / "shots" / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x01" * 7500)
    project = Project.create(tmp_path / "p.pwb", "test")
    seed_defaults(project)
    project.prompts.create("agent")
    project.prompts.save_version("agent", PromptContent.model_validate(AGENT))
    project.datasets.create("tickets")
    project.datasets.add_examples(
        "tickets",
        [
            Example(
                vars={
                    "question": 'Where is A-7? [[tool:lookup_order {"order_id": "A-7"}]]',
                    "screenshot": "shots/a.png",
                }
            ),
            Example(vars={"question": "How do I reset?", "screenshot": "shots/a.png"}),
        ],
    )
    return project


def test_tool_calls_and_thinking_are_stored_with_each_call_and_costed(tmp_path: Path) -> None:
    with _project(tmp_path) as project, FakeAnthropicServer() as server:
        catalog, prices = model_catalog(project), price_table(project)
        plan = make_plan(
            project,
            prompts=["agent"],
            dataset="tickets",
            models=["claude-haiku-5-5", "claude-opus-4-5"],
            catalog=catalog,
            prices=prices,
        )
        assert plan.ok
        # Haiku 5.5 takes only adaptive thinking: the budget is not sent, and the plan says so.
        assert any("claude-haiku-5-5 does not accept enabled thinking" in w for w in plan.warnings)
        outcome = asyncio.run(start_run(project, plan, _anthropic(server)))
        assert outcome.status == "done"
        rows = {(r.model, r.position): r for r in project.runs.run_grid(outcome.run_id)}
        opus_tool = project.runs.get_call(rows[("claude-opus-4-5", 0)].call_id)
        assert opus_tool.stop_reason == "tool_use"
        details = opus_tool.details
        assert [(c["name"], c["input"]) for c in details["tool_calls"]] == [
            ("lookup_order", {"order_id": "A-7"})
        ]
        assert details["thinking"] and 0 < details["thinking_tokens"] < opus_tool.output_tokens
        # Thinking is billed as output: the cost is the price of all output tokens.
        usage = Usage(opus_tool.input_tokens, opus_tool.output_tokens)
        expected = prices.cost_for("claude-opus-4-5", usage, dt.date.today())
        assert opus_tool.cost_usd == expected
        haiku_tool = project.runs.get_call(rows[("claude-haiku-5-5", 0)].call_id)
        assert "thinking" not in haiku_tool.details
        assert haiku_tool.details["tool_calls"][0]["input"] == {"order_id": "A-7"}
        answered = project.runs.get_call(rows[("claude-haiku-5-5", 1)].call_id)
        assert answered.details is None and answered.stop_reason == "end_turn"
        # The image went as a block: the request log names it by hash.
        source = opus_tool.request["messages"][0]["content"][1]["source"]
        assert source["type"] == "sha256" and source["media_type"] == "image/png"
        # A cached answer keeps its tool calls.
        again = asyncio.run(start_run(project, plan, _anthropic(server)))
        cached_rows = project.runs.run_grid(again.run_id)
        assert again.progress.cached == 4
        cached = next(r for r in cached_rows if r.model == "claude-opus-4-5" and r.position == 0)
        assert project.runs.get_call(cached.call_id).details == details
