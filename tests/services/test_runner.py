"""The run engine end to end: plan, execute, log, cache, cancel, resume, budget, faults."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from workbench.core.errors import BadInput
from workbench.core.models import Example, Message, Params, PromptContent
from workbench.inference import make_provider
from workbench.inference.retry import RetryPolicy
from workbench.services.analytics import run_report
from workbench.services.planner import make_plan
from workbench.services.project_models import model_catalog, price_table, seed_defaults
from workbench.services.run_service import resume_run, spend_summary, start_run
from workbench.services.runner import RunEngine, RunOptions
from workbench.storage.project import Project
from workbench.testing.fake_anthropic import FakeAnthropicServer

FAKE_KEY = "sk-ant-test-FAKEKEY-runner-7731"
FAST_RETRIES = RetryPolicy(max_attempts=4, base_delay_s=0.01, max_delay_s=0.05)


def _project(tmp_path: Path, examples: int = 6) -> Project:
    project = Project.create(tmp_path / "p.pwb", "test")
    seed_defaults(project)
    project.prompts.create("answer")
    project.prompts.save_version(
        "answer",
        PromptContent(
            system="You answer questions about {{product}}.",
            messages=[Message(role="user", content="{{question}}")],
            params=Params(model="claude-haiku-5-5", max_tokens=200),
        ),
        note="first",
    )
    project.datasets.create("qs")
    project.datasets.add_examples(
        "qs",
        [
            Example(
                vars={"product": "QuizCraft", "question": f"Question number {i}?"},
                tags=["t" if i % 2 else "u"],
            )
            for i in range(examples)
        ],
    )
    return project


def _plan(project: Project, **kw: object):
    return make_plan(
        project,
        prompts=["answer@1"],
        dataset="qs",
        catalog=model_catalog(project),
        prices=price_table(project),
        **kw,  # type: ignore[arg-type]
    )


def _anthropic(server: FakeAnthropicServer):
    return make_provider(
        "anthropic", api_key=FAKE_KEY, base_url=server.base_url, policy=FAST_RETRIES
    )


def test_plan_expands_cells_and_estimates_cost(tmp_path: Path) -> None:
    with _project(tmp_path) as project:
        plan = _plan(project, models=["claude-haiku-5-5", "claude-sonnet-5-5"], repeats=2)
        assert len(plan.cells) == 6 * 2 * 2
        assert plan.ok
        assert plan.estimates["claude-sonnet-5-5"].cells == 12
        assert plan.estimated_cost is not None and plan.estimated_cost > 0
        tagged = _plan(project, tags=["t"])
        assert len(tagged.cells) == 3


def test_plan_lists_missing_variables_with_example_ids(tmp_path: Path) -> None:
    with _project(tmp_path, examples=2) as project:
        ids = project.datasets.add_examples("qs", [Example(vars={"question": "no product"})])
        plan = _plan(project)
        assert not plan.ok
        assert any(f"#{ids[0]}" in p and "product" in p for p in plan.problems)


def test_unknown_model_cost_is_unknown_not_zero(tmp_path: Path) -> None:
    with _project(tmp_path, examples=2) as project, FakeAnthropicServer() as server:
        plan = _plan(project, models=["my-custom-model"])
        assert plan.estimated_cost is None
        assert any("no price" in w for w in plan.warnings)
        provider = _anthropic(server)

        async def go() -> object:
            try:
                return await start_run(project, plan, provider)
            finally:
                await provider.aclose()

        outcome = asyncio.run(go())
        rows = project.runs.run_grid(outcome.run_id)  # type: ignore[attr-defined]
        assert rows and all(r.cost_usd is None for r in rows)
        assert outcome.totals["unpriced_calls"] == 2  # type: ignore[attr-defined]
        assert outcome.progress.unpriced == 2  # type: ignore[attr-defined]


def test_synthetic_calls_cost_nothing(tmp_path: Path) -> None:
    with _project(tmp_path, examples=2) as project:
        outcome = asyncio.run(start_run(project, _plan(project), make_provider("echo")))
        rows = project.runs.run_grid(outcome.run_id)
        assert rows and all(r.cost_usd == 0.0 for r in rows)
        assert outcome.totals["spend_usd"] == 0.0


def test_echo_run_logs_every_call_and_reports(tmp_path: Path) -> None:
    with _project(tmp_path) as project:
        plan = _plan(project, models=["claude-haiku-5-5", "claude-opus-5-5"])
        outcome = asyncio.run(start_run(project, plan, make_provider("echo")))
        assert outcome.status == "done"
        rows = project.runs.run_grid(outcome.run_id)
        assert len(rows) == 12 and all(r.status == "done" for r in rows)
        assert all("QuizCraft" in r.output and r.synthetic for r in rows)
        call = project.runs.get_call(rows[0].call_id)
        assert call.request["system"] == "You answer questions about QuizCraft."
        assert call.version_id == project.prompts.version_row_id("answer", 1)
        report = run_report(project, outcome.run_id)
        assert {g["model"] for g in report} == {"claude-haiku-5-5", "claude-opus-5-5"}
        assert all(g["calls"] == 6 and g["errors"] == 0 for g in report)


def test_identical_requests_are_served_from_the_cache(tmp_path: Path) -> None:
    with _project(tmp_path) as project, FakeAnthropicServer() as server:
        first = asyncio.run(start_run(project, _plan(project), _anthropic(server)))
        assert first.progress.cached == 0 and first.progress.spend_usd > 0
        sent = server.stats()["messages_requests"]
        second = asyncio.run(start_run(project, _plan(project), _anthropic(server)))
        assert second.progress.cached == 6 and second.progress.spend_usd == 0
        assert server.stats()["messages_requests"] == sent
        fresh = asyncio.run(
            start_run(
                project, _plan(project), _anthropic(server), options=RunOptions(use_cache=False)
            )
        )
        assert fresh.progress.cached == 0
        assert server.stats()["messages_requests"] == sent + 6


def test_faults_end_as_successes_or_error_cells_with_attempts(tmp_path: Path) -> None:
    with _project(tmp_path, examples=40) as project, FakeAnthropicServer(seed=7) as server:
        server.script(
            {"fault": "429", "probability": 0.03, "retry_after": 0.01},
            {"fault": "529", "probability": 0.03},
            {"fault": "500", "probability": 0.02},
            {"fault": "midstream_error", "probability": 0.02},
            {"fault": "400", "probability": 0.02},
        )
        plan = _plan(project, models=["claude-haiku-5-5", "claude-sonnet-5-5"])
        outcome = asyncio.run(
            start_run(
                project,
                plan,
                _anthropic(server),
                options=RunOptions(concurrency=8, use_cache=False),
            )
        )
        assert outcome.status == "done"
        rows = project.runs.run_grid(outcome.run_id)
        assert len(rows) == 80
        assert all(r.status in ("done", "error") for r in rows)
        for row in rows:
            call = project.runs.get_call(row.call_id)
            assert call.attempts, "every call records its attempts"
            assert all(a.request_id or a.status is None for a in call.attempts)
            if row.status == "error":
                assert row.error_type and row.error_message
        retried = [r for r in rows if len(project.runs.get_call(r.call_id).attempts) > 1]
        assert retried, "some calls were retried"


def test_authentication_failure_pauses_the_run(tmp_path: Path) -> None:
    with _project(tmp_path) as project, FakeAnthropicServer() as server:
        server.script({"fault": "401"})
        outcome = asyncio.run(
            start_run(
                project, _plan(project), _anthropic(server), options=RunOptions(concurrency=1)
            )
        )
        assert outcome.status == "failed"
        assert "API key" in (outcome.reason or "")
        assert server.stats()["messages_requests"] <= 2


def test_cancel_then_resume_runs_only_unfinished_cells(tmp_path: Path) -> None:
    with _project(tmp_path, examples=30) as project, FakeAnthropicServer(latency_ms=150) as server:
        engines: list[RunEngine] = []

        async def go():
            task = asyncio.create_task(
                start_run(
                    project,
                    _plan(project),
                    _anthropic(server),
                    options=RunOptions(concurrency=4),
                    engine_ready=engines.append,
                )
            )
            await asyncio.sleep(0.5)
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            engines[0].cancel()
            outcome = await task
            return outcome, loop.time() - t0

        outcome, took = asyncio.run(go())
        assert outcome.status == "cancelled"
        assert took < 1.0
        cells = project.runs.cells(outcome.run_id)
        done = [c for c in cells if c.status == "done"]
        assert 0 < len(done) < 30
        assert all(c.status in ("done", "cancelled") for c in cells)
        server.reset_stats()
        resumed = asyncio.run(
            resume_run(
                project,
                outcome.run_id,
                _anthropic(server),
                options=RunOptions(concurrency=8, use_cache=False),
            )
        )
        assert resumed.status == "done"
        assert server.stats()["messages_requests"] == 30 - len(done)
        assert all(c.status == "done" for c in project.runs.cells(outcome.run_id))
        # The stored totals (the run header's figures) cover the whole run, both sessions, and
        # equal what `workbench report --run` reads from the logged calls.
        totals = project.runs.get_run(outcome.run_id).totals
        report = spend_summary(project, outcome.run_id)
        assert totals["spend_usd"] == report.real_usd and report.real_usd is not None
        assert totals["spend_usd"] > 0
        assert totals["cells"] == 30 and totals["done"] == 30
        assert totals["resumed_cells"] == 30 - len(done)
        assert totals["elapsed_s"] >= outcome.totals["elapsed_s"]


def test_budget_stops_a_running_run(tmp_path: Path) -> None:
    with _project(tmp_path, examples=30) as project, FakeAnthropicServer() as server:
        outcome = asyncio.run(
            start_run(
                project,
                _plan(project),
                _anthropic(server),
                options=RunOptions(concurrency=1, budget_usd=0.0005, use_cache=False),
            )
        )
        assert outcome.status == "cancelled"
        assert "budget" in (outcome.reason or "")
        assert outcome.progress.done < 30


def test_plan_with_problems_is_refused(tmp_path: Path) -> None:
    with _project(tmp_path, examples=1) as project:
        project.datasets.add_examples("qs", [Example(vars={})])
        with pytest.raises(BadInput, match="problems"):
            asyncio.run(start_run(project, _plan(project), make_provider("echo")))


def test_api_key_never_lands_in_any_file(tmp_path: Path) -> None:
    with _project(tmp_path) as project, FakeAnthropicServer() as server:
        server.script(
            {"fault": "500", "request_number": [1, 2]}, {"fault": "400", "request_number": [5]}
        )
        asyncio.run(start_run(project, _plan(project), _anthropic(server)))
        server.script({"fault": "401"})
        asyncio.run(
            start_run(
                project, _plan(project), _anthropic(server), options=RunOptions(use_cache=False)
            )
        )
        project.db.execute("PRAGMA wal_checkpoint(FULL)")
    needle = FAKE_KEY.encode()
    touched = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert touched
    for path in touched:
        assert needle not in path.read_bytes(), f"API key found in {path}"


def test_report_json_groups(tmp_path: Path) -> None:
    with _project(tmp_path) as project:
        outcome = asyncio.run(start_run(project, _plan(project), make_provider("echo")))
        groups = run_report(project, outcome.run_id)
        json.dumps(groups)
        assert groups[0]["prompt_name"] == "answer" and groups[0]["version"] == 1


def test_count_tokens_replaces_the_heuristic_estimate(tmp_path: Path) -> None:
    from workbench.services.planner import count_input_tokens

    with _project(tmp_path) as project, FakeAnthropicServer() as server:
        plan = _plan(project, models=["claude-haiku-5-5", "claude-sonnet-5-5"])
        heuristic = plan.estimates["claude-haiku-5-5"].input_tokens
        provider = _anthropic(server)

        async def go() -> bool:
            try:
                return await count_input_tokens(
                    plan,
                    provider,
                    catalog=model_catalog(project),
                    prices=price_table(project),
                )
            finally:
                await provider.aclose()

        assert asyncio.run(go())
        assert plan.token_source == "count_tokens"
        assert server.stats()["by_endpoint"].get("POST /v1/messages/count_tokens", 0) == 12
        assert plan.estimates["claude-haiku-5-5"].input_tokens > 0
        assert heuristic > 0


def test_models_api_list_is_cached_in_the_project(tmp_path: Path) -> None:
    from workbench.services.project_models import refresh_models

    with _project(tmp_path) as project, FakeAnthropicServer() as server:
        provider = _anthropic(server)

        async def go():
            try:
                return await refresh_models(project, provider)
            finally:
                await provider.aclose()

        models = asyncio.run(go())
        ids = {m.id for m in models}
        assert "claude-haiku-5-5" in ids
        cached = {m.id: m for m in project.catalog.list_models(sources=["api"])}
        assert set(cached) == ids
        # Capabilities come from the curated data even though the API does not list them.
        assert "temperature" in cached["claude-haiku-5-5"].rejected_params


def test_listener_hears_streamed_text_and_a_reset_before_a_retry(tmp_path: Path) -> None:
    from workbench.services.runner import NullListener

    class Recorder(NullListener):
        def __init__(self) -> None:
            self.texts: dict[int, str] = {}
            self.resets: list[int] = []

        def on_cell_text(self, cell_id: int, delta: str) -> None:
            self.texts[cell_id] = self.texts.get(cell_id, "") + delta

        def on_cell_reset(self, cell_id: int) -> None:
            self.resets.append(cell_id)
            self.texts[cell_id] = ""

    with _project(tmp_path, examples=1) as project, FakeAnthropicServer() as server:
        server.script({"fault": "midstream_error", "request_number": [1], "after_deltas": 2})
        recorder = Recorder()
        outcome = asyncio.run(
            start_run(project, _plan(project), _anthropic(server), listener=recorder)
        )
        (row,) = project.runs.run_grid(outcome.run_id)
        assert row.status == "done"
        assert recorder.resets == [row.cell_id]
        assert recorder.texts[row.cell_id] == row.output
