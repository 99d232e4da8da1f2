"""The sample's tool-using agent and structured-output classifier, run and scored offline."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import jsonschema

from tests.services.test_runner import _anthropic
from workbench.core.templates import check
from workbench.formats.bundle_yaml import load_bundle
from workbench.services.evals import score_run_async
from workbench.services.planner import make_plan
from workbench.services.project_models import model_catalog, price_table
from workbench.services.projects import open_project
from workbench.services.run_service import start_run
from workbench.testing.fake_anthropic import FakeAnthropicServer

SAMPLE = Path(__file__).resolve().parents[2] / "projects" / "quizcraft.yaml"


def test_the_agent_and_classifier_fit_their_datasets() -> None:
    bundle = load_bundle(SAMPLE)
    prompts = {p.name: p for p in bundle.prompts}
    datasets = {d.name: d for d in bundle.datasets}
    agent = prompts["support-agent"].versions[0]
    assert [t.name for t in agent.tools] == ["lookup_order", "search_docs"]
    assert prompts["ticket-classifier"].versions[0].output_schema is not None
    for prompt, dataset in (("support-agent", "agent-tickets"), ("ticket-classifier", "tickets")):
        version = prompts[prompt].versions[0]
        for example in datasets[dataset].examples:
            assert check(version.texts(), example.vars).ok and example.expect
    kinds = {e.type for ex in datasets["agent-tickets"].examples for e in ex.expect}
    assert {"tool-called", "tool-args-contain", "not-tool-called", "tool-call-f1"} <= kinds


def test_the_sample_runs_and_scores_over_the_fake_server() -> None:
    with open_project(SAMPLE) as project, FakeAnthropicServer() as server:
        results = {}
        for prompt, dataset in (
            ("support-agent", "agent-tickets"),
            ("ticket-classifier", "tickets"),
        ):
            plan = make_plan(
                project,
                prompts=[prompt],
                dataset=dataset,
                models=["claude-haiku-5-5", "claude-opus-5-5"],
                catalog=model_catalog(project),
                prices=price_table(project),
            )
            outcome = asyncio.run(start_run(project, plan, _anthropic(server)))
            assert outcome.status == "done"
            results[prompt] = (
                outcome.run_id,
                asyncio.run(score_run_async(project, outcome.run_id)),
            )
        run_id, _report = results["ticket-classifier"]
        schema = project.prompts.resolve("ticket-classifier").output_schema
        for row in project.runs.run_grid(run_id):
            jsonschema.validate(json.loads(row.output or ""), schema)  # type: ignore[arg-type]
        _, classifier = results["ticket-classifier"]
        scored = [r for case in classifier.cases for r in case.results]
        assert all(r.passed for r in scored if r.type == "is-valid-output-schema")
        _, agent = results["support-agent"]
        # Natural questions and tool_choice auto: the fake server calls no tool unless scripted,
        # so "no tool" cases pass and "called lookup_order" cases fail, with reasons.
        by_type = {}
        for case in agent.cases:
            for r in case.results:
                by_type.setdefault(r.type, []).append(r)
        assert all(r.passed for r in by_type["not-tool-called"])
        assert all(not r.passed and "called no tool" in r.reason for r in by_type["tool-called"])
