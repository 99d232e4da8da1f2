"""The offline demo answers tool-using and structured-output prompts differently per tier."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from workbench.inference.base import CallRequest
from workbench.inference.demo_provider import DemoProvider
from workbench.services.evals import run_eval
from workbench.services.projects import create_project, open_project
from workbench.services.run_service import choose_provider
from workbench.services.runner import RunOptions

SAMPLE = Path(__file__).resolve().parents[2] / "projects" / "quizcraft.yaml"
TIERS = ("claude-haiku-5-5", "claude-sonnet-5-5", "claude-opus-5-5")
TOOLS = [{"name": "lookup_order"}, {"name": "search_docs"}]


def _call(model: str, text: str, **request: object) -> object:
    message = [{"role": "user", "content": text}]
    call = CallRequest(model=model, messages=message, max_tokens=300, **request)  # type: ignore[arg-type]
    return asyncio.run(DemoProvider(time_scale=0).call(call))


def test_a_tool_prompt_gets_tool_calls_and_haiku_takes_only_the_first_tool() -> None:
    question = "Please cancel order QC-7781, and how do refunds work?"
    opus = _call(TIERS[2], question, tools=TOOLS)
    haiku = _call(TIERS[0], question, tools=TOOLS)
    assert opus.stop_reason == "tool_use"  # type: ignore[attr-defined]
    assert [c["name"] for c in opus.tool_calls] == ["lookup_order", "search_docs"]  # type: ignore[attr-defined]
    assert opus.tool_calls[0]["input"] == {"order_id": "QC-7781"}  # type: ignore[attr-defined]
    assert [c["name"] for c in haiku.tool_calls] == ["search_docs"]  # type: ignore[attr-defined]
    thanks = _call(TIERS[1], "Thanks, that's all for today!", tools=TOOLS)
    assert thanks.tool_calls == [] and thanks.stop_reason == "end_turn"  # type: ignore[attr-defined]


def test_a_schema_prompt_gets_json_and_haiku_misreads_a_how_question() -> None:
    ticket = "Classify this ticket:\n\nHow do I change the email address on my account?"
    schema = {"type": "object"}
    opus = json.loads(_call(TIERS[2], ticket, output_schema=schema).text)  # type: ignore[attr-defined]
    haiku = json.loads(_call(TIERS[0], ticket, output_schema=schema).text)  # type: ignore[attr-defined]
    assert opus["category"] == "account" and haiku["category"] == "how-to"
    assert opus["summary"].startswith("How do I change")


def test_the_samples_tool_and_json_evals_separate_the_tiers(tmp_path: Path) -> None:
    path = tmp_path / "q.pwb"
    create_project(path, bundle=SAMPLE)

    async def rates() -> dict[tuple[str, str], tuple[int, int]]:
        found = {}
        with open_project(path) as project:
            provider = choose_provider(project, "demo")
            for dataset, prompt in (
                ("agent-tickets", "support-agent@1"),
                ("tickets", "ticket-classifier@1"),
            ):
                report = await run_eval(
                    project,
                    dataset=dataset,
                    prompts=[prompt],
                    models=list(TIERS),
                    provider=provider,
                    options=RunOptions(concurrency=8),
                )
                for group in report.groups:
                    found[(dataset, group.model)] = (group.passed, group.cases)
        return found

    found = asyncio.run(rates())
    for dataset in ("agent-tickets", "tickets"):
        haiku, sonnet, opus = (found[(dataset, model)] for model in TIERS)
        assert sonnet[0] == sonnet[1] and opus[0] == opus[1], (dataset, found)
        assert haiku[0] < haiku[1], (dataset, found)  # the cheapest tier misses some
