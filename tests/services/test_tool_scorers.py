"""Expectations on tool calls and structured output: unit cases and an eval over the fake server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.services.test_runner import _anthropic
from workbench.core.errors import BadInput
from workbench.core.models import Example, Expectation, PromptContent
from workbench.services.evals import score_run_async
from workbench.services.planner import make_plan
from workbench.services.project_models import model_catalog, price_table
from workbench.services.projects import seed_defaults
from workbench.services.run_service import start_run
from workbench.services.scorers import CallFacts, build_scorer
from workbench.storage.project import Project
from workbench.testing.fake_anthropic import FakeAnthropicServer

ORDER = {
    "type": "object",
    "properties": {"order_id": {"type": "string"}, "items": {"type": "array"}},
    "required": ["order_id"],
}
TOOLS = {"lookup_order": {"name": "lookup_order", "input_schema": ORDER}}
CALL = CallFacts(
    tool_calls=(
        {
            "id": "t1",
            "name": "lookup_order",
            "input": {"order_id": "A-7", "opts": {"x": 1, "y": 2}},
        },
    ),
    tools=TOOLS,
    output_schema={"type": "object", "required": ["category"]},
)
NO_CALL = CallFacts(tools=TOOLS)


def score(kind: str, value: object = None, call: CallFacts = CALL, output: str = "", **kw: object):
    expectation = Expectation(type=kind, value=value, **kw)  # type: ignore[arg-type]
    return build_scorer(expectation)(output, call)


def test_called_and_not_called() -> None:
    assert score("tool-called", "lookup_order").passed
    failed = score("tool-called", "search_docs")
    assert not failed.passed and failed.reason == "called lookup_order"
    assert score("not-tool-called", "search_docs").passed
    assert not score("not-tool-called").passed
    assert score("not-tool-called", call=NO_CALL).reason == "no tool was called"


def test_arguments_contain_and_equal() -> None:
    assert score("tool-args-contain", {"lookup_order": {"opts": {"x": 1}}}).passed
    wrong = score("tool-args-contain", {"lookup_order": {"order_id": "B-1"}})
    assert not wrong.passed and 'do not contain \'{"order_id": "B-1"}\'' in wrong.reason
    assert not score("tool-args-equal", {"lookup_order": {"order_id": "A-7"}}).passed
    exact = {"lookup_order": {"order_id": "A-7", "opts": {"x": 1, "y": 2}}}
    assert score("tool-args-equal", exact).passed
    assert "was not called" in score("tool-args-contain", exact, call=NO_CALL).reason


def test_arguments_valid_against_the_tool_schema() -> None:
    assert score("is-valid-tools-call").passed
    bad = CallFacts(
        tool_calls=({"name": "lookup_order", "input": {"order_id": 7, "items": "x"}},), tools=TOOLS
    )
    result = score("is-valid-tools-call", call=bad)
    assert not result.passed and result.reason.startswith("lookup_order arguments: at 'items'")
    unknown = CallFacts(tool_calls=({"name": "nope", "input": {}},), tools=TOOLS)
    assert "not one of the version's tools" in score("is-valid-tools-call", call=unknown).reason
    assert not score("is-valid-tools-call", call=NO_CALL).passed


def test_tool_call_f1() -> None:
    half = score("tool-call-f1", ["lookup_order", "search_docs"], threshold=0.6)
    assert half.passed and half.score == pytest.approx(2 / 3)
    assert not score("tool-call-f1", ["lookup_order", "search_docs"]).passed
    assert score("tool-call-f1", "lookup_order").score == 1.0


def test_output_schema() -> None:
    assert score("is-valid-output-schema", output='{"category": "bug"}').passed
    missing = score("is-valid-output-schema", output="{}")
    assert not missing.passed and "'category' is a required property" in missing.reason
    assert "not JSON" in score("is-valid-output-schema", output="nope").reason
    assert "no output schema" in score("is-valid-output-schema", call=NO_CALL, output="{}").reason


@pytest.mark.parametrize(
    ("kind", "value"),
    [("tool-called", None), ("tool-args-contain", "x"), ("tool-args-equal", {"t": 1})],
)
def test_unusable_values_are_named(kind: str, value: object) -> None:
    with pytest.raises(BadInput):
        build_scorer(Expectation(type=kind, value=value))  # type: ignore[arg-type]


def test_an_eval_scores_tool_calls_and_structured_output_from_the_fake_server(
    tmp_path: Path,
) -> None:
    agent = {
        "messages": [{"role": "user", "content": "{{question}}"}],
        "params": {"model": "claude-haiku-5-5"},
        "tools": [{"name": "lookup_order", "input_schema": ORDER}],
    }
    classify = {
        "messages": [{"role": "user", "content": "{{question}}"}],
        "params": {"model": "claude-haiku-5-5"},
        "output_schema": {
            "type": "object",
            "properties": {"category": {"enum": ["billing", "bug"]}},
            "required": ["category"],
        },
    }
    expect = [
        Expectation(type="tool-called", value="lookup_order"),
        Expectation(type="tool-args-contain", value={"lookup_order": {"order_id": "A-7"}}),
        Expectation(type="is-valid-tools-call"),
    ]
    with Project.create(tmp_path / "p.pwb", "t") as project, FakeAnthropicServer() as server:
        seed_defaults(project)
        for name, content in (("agent", agent), ("classify", classify)):
            project.prompts.create(name)
            project.prompts.save_version(name, PromptContent.model_validate(content))
        project.datasets.create("qs")
        marker = 'Where is A-7? [[tool:lookup_order {"order_id": "A-7"}]]'
        project.datasets.add_examples(
            "qs",
            [
                Example(vars={"question": marker}, expect=expect),
                Example(vars={"question": "Hello"}, expect=expect),
            ],
        )
        project.datasets.create("tickets")
        project.datasets.add_examples(
            "tickets",
            [
                Example(
                    vars={"question": "My card was charged twice"},
                    expect=[Expectation(type="is-valid-output-schema")],
                )
            ],
        )
        reports = []
        for prompt, dataset in (("agent", "qs"), ("classify", "tickets")):
            plan = make_plan(
                project,
                prompts=[prompt],
                dataset=dataset,
                catalog=model_catalog(project),
                prices=price_table(project),
            )
            outcome = asyncio.run(start_run(project, plan, _anthropic(server)))
            reports.append(asyncio.run(score_run_async(project, outcome.run_id)))
    agent_report, classify_report = reports
    passed = [case.passed for case in agent_report.cases]
    assert passed == [True, False]
    assert classify_report.cases[0].passed


def test_the_promptfoo_export_keeps_tool_expectations_as_metadata(tmp_path: Path) -> None:
    from workbench.services.eval_exports import promptfoo_config
    from workbench.services.projects import open_project

    sample = Path(__file__).resolve().parents[2] / "projects" / "quizcraft.yaml"
    with open_project(sample) as project:
        config = promptfoo_config(project, "agent-tickets", ["support-agent"])
    first, *_rest, last = config["tests"]
    assert "assert" not in first
    assert [e["type"] for e in first["metadata"]["workbench_expectations"]] == [
        "tool-called",
        "is-valid-tools-call",
        "tool-args-contain",
    ]
    assert last["assert"] == [
        {"type": "tool-call-f1", "value": ["lookup_order", "search_docs"], "threshold": 0.6}
    ]
    assert config["providers"][0]["config"]["tools"][0]["name"] == "lookup_order"
