"""Estimates you can plan on: output length from the project's history, expected and worst
case, sampled token counting over the whole plan, the one budget rule, unpriced models.

All calls go to the fake Anthropic server over loopback; its answers are 20-120 tokens long,
seeded by the request, so a repeated request answers as long as it did before.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from workbench.core.errors import BadInput
from workbench.core.models import Example, Message, Params, PromptContent
from workbench.inference import make_provider
from workbench.inference.retry import RetryPolicy
from workbench.services.estimates import PRIOR_OUTPUT_TOKENS, guess_output
from workbench.services.planner import RunPlan
from workbench.services.project_models import seed_defaults
from workbench.services.projects import create_project
from workbench.services.run_service import RunRequest, plan_run, start_run
from workbench.services.runner import RunOptions, RunOutcome
from workbench.storage.project import Project
from workbench.testing.fake_anthropic import FakeAnthropicServer

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "projects" / "quizcraft.yaml"
FAKE_KEY = "sk-ant-test-FAKEKEY-estimates-3310"
FAST = RetryPolicy(max_attempts=2, base_delay_s=0.01, max_delay_s=0.02)


def _provider(server: FakeAnthropicServer):  # type: ignore[no-untyped-def]
    return make_provider("anthropic", api_key=FAKE_KEY, base_url=server.base_url, policy=FAST)


def _plan(project: Project, request: RunRequest, server: FakeAnthropicServer) -> RunPlan:
    async def go() -> RunPlan:
        provider = _provider(server)
        try:
            return await plan_run(project, request, provider)
        finally:
            await provider.aclose()

    return asyncio.run(go())


def _run(
    project: Project, plan: RunPlan, server: FakeAnthropicServer, **options: object
) -> RunOutcome:
    async def go() -> RunOutcome:
        provider = _provider(server)
        try:
            return await start_run(
                project,
                plan,
                provider,
                options=RunOptions(**options),  # type: ignore[arg-type]
            )
        finally:
            await provider.aclose()

    return asyncio.run(go())


def test_output_guess_is_the_median_with_p90_high_capped_by_max_tokens() -> None:
    assert guess_output([], 1000) == guess_output([], 1000)
    prior = guess_output([], 1000)
    assert (prior.expected, prior.high, prior.worst, prior.history) == (
        PRIOR_OUTPUT_TOKENS,
        1000,
        1000,
        0,
    )
    assert guess_output([], 100).expected == 100  # the prior never exceeds max_tokens
    guess = guess_output([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 1000)
    assert (guess.expected, guess.high, guess.history) == (55, 91, 10)
    assert guess_output([500, 700, 900], 600).expected == 600


def test_the_next_runs_preflight_is_within_15_percent_of_its_cost(tmp_path: Path) -> None:
    """The figure for the note: the sample project, one earlier run, then the next run."""
    path = tmp_path / "quizcraft.pwb"
    create_project(path, bundle=SAMPLE)
    request = RunRequest(prompts=("support-answer@2",), dataset="support-questions")
    with Project.open(path) as project, FakeAnthropicServer() as server:
        first = _plan(project, request, server)
        assert all(e.history_calls == 0 for e in first.estimates.values())
        _run(project, first, server)
        plan = _plan(project, request, server)
        assert plan.token_source == "count_tokens"
        assert all(e.history_calls == len(plan.cells) for e in plan.estimates.values())
        expected = plan.estimated_cost
        worst = plan.worst_case_cost
        assert expected is not None and worst is not None
        outcome = _run(project, plan, server, use_cache=False)
        actual = outcome.totals["spend_usd"]
        error = (expected - actual) / actual
        print(
            f"\npreflight after one run: expected ${expected:.6f}, actual ${actual:.6f} "
            f"({error:+.1%}); worst case ${worst:.6f}; before any run the prior said "
            f"${first.estimated_cost:.6f} ({(first.estimated_cost or 0) / actual - 1:+.1%})"
        )
        assert abs(error) <= 0.15
        assert worst >= actual


def _many_examples(tmp_path: Path, count: int) -> Project:
    project = Project.create(tmp_path / "many.pwb", "many")
    seed_defaults(project)
    project.prompts.create("p")
    project.prompts.save_version(
        "p",
        PromptContent(
            system="You answer briefly.",
            messages=[Message(role="user", content="{{q}}")],
            params=Params(model="claude-haiku-5-5", max_tokens=1000),
        ),
    )
    project.datasets.create("d")
    project.datasets.add_examples(
        "d",
        [Example(vars={"q": f"Question {i}: " + "tell me more " * (i % 37)}) for i in range(count)],
    )
    return project


def test_sampled_token_counting_extrapolates_to_the_whole_plan(tmp_path: Path) -> None:
    with _many_examples(tmp_path, 450) as project, FakeAnthropicServer() as server:
        request = RunRequest(prompts=("p@1",), dataset="d")
        plan = _plan(project, request, server)
        assert plan.token_source == "count_tokens (sampled 200 of 450 requests)"
        assert server.stats()["by_endpoint"]["POST /v1/messages/count_tokens"] == 200
        from workbench.services.planner import count_input_tokens

        exact = _plan(project, request, server)

        async def count_all() -> bool:
            provider = _provider(server)
            try:
                return await count_input_tokens(exact, provider, max_requests=1000)
            finally:
                await provider.aclose()

        assert asyncio.run(count_all()) and exact.token_source == "count_tokens"
        sampled = plan.estimates["claude-haiku-5-5"].input_tokens
        full = exact.estimates["claude-haiku-5-5"].input_tokens
        assert abs(sampled - full) / full < 0.05
        assert plan.estimates["claude-haiku-5-5"].cells == 450


def test_budget_compares_the_worst_case_unless_told_expected(tmp_path: Path) -> None:
    with _many_examples(tmp_path, 20) as project, FakeAnthropicServer() as server:
        base = RunRequest(prompts=("p@1",), dataset="d")
        plan = _plan(project, base, server)
        expected, worst = plan.estimated_cost, plan.worst_case_cost
        assert expected is not None and worst is not None and expected < worst
        between = (expected + worst) / 2
        refused = _plan(
            project, RunRequest(prompts=("p@1",), dataset="d", budget_usd=between), server
        )
        assert any("worst-case cost" in p and "exceeds the budget" in p for p in refused.problems)
        with pytest.raises(BadInput, match="worst-case"):
            _run(project, refused, server)
        assert server.stats()["messages_requests"] == 0
        allowed = _plan(
            project,
            RunRequest(prompts=("p@1",), dataset="d", budget_usd=between, budget_basis="expected"),
            server,
        )
        assert allowed.ok


def test_a_model_without_a_price_refuses_a_budget(tmp_path: Path) -> None:
    with _many_examples(tmp_path, 3) as project, FakeAnthropicServer() as server:
        request = RunRequest(prompts=("p@1",), dataset="d", models=("my-own-model",))
        plan = _plan(project, request, server)
        assert plan.ok and plan.estimated_cost is None and plan.worst_case_cost is None
        with_budget = _plan(
            project,
            RunRequest(prompts=("p@1",), dataset="d", models=("my-own-model",), budget_usd=1000.0),
            server,
        )
        (problem,) = with_budget.problems
        assert "no price for my-own-model" in problem
        with pytest.raises(BadInput, match="no price"):
            _run(project, with_budget, server, budget_usd=1000.0)
        assert server.stats()["messages_requests"] == 0
