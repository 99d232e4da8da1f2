"""Batch runs over the fake server: submit, partial results, a new process collects, cancel,
expiry, per-request errors, resume and the per-batch limits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from answer_project_support import answer_project

from workbench.inference.batches import AnthropicBatches
from workbench.services.batch_runs import (
    BatchLimits,
    batch_estimate,
    cancel,
    collect,
    open_batch_runs,
    resume_batch_run,
    submit_batch_run,
)
from workbench.services.planner import make_plan
from workbench.services.project_models import model_catalog, price_table
from workbench.storage.project import Project
from workbench.testing.fake_anthropic import FakeAnthropicServer


@pytest.fixture(scope="module")
def server() -> Iterator[FakeAnthropicServer]:
    with FakeAnthropicServer() as running:
        yield running


@pytest.fixture
def fake(server: FakeAnthropicServer) -> FakeAnthropicServer:
    server.configure(batches={}, faults=[])
    server.reset_stats()
    return server


def _project(path: Path, examples: int) -> Project:
    return answer_project(path, examples)


def _plan(project: Project):
    return make_plan(
        project,
        prompts=["answer@1"],
        dataset="qs",
        catalog=model_catalog(project),
        prices=price_table(project),
    )


def _client(server: FakeAnthropicServer) -> AnthropicBatches:
    return AnthropicBatches(api_key="k", base_url=server.base_url)


async def _with_client(server: FakeAnthropicServer, fn):  # type: ignore[no-untyped-def]
    client = _client(server)
    try:
        return await fn(client)
    finally:
        await client.aclose()


def test_submit_then_a_later_process_collects_every_answer_once(
    tmp_path: Path, fake: FakeAnthropicServer
) -> None:
    fake.configure(batches={"processing_s": 0.5})
    path = tmp_path / "p.pwb"
    with _project(path, 7) as project:
        plan = _plan(project)
        estimate = batch_estimate(plan, price_table(project))
        assert estimate is not None and plan.estimated_cost is not None
        assert estimate == pytest.approx(plan.estimated_cost / 2)
        limits = BatchLimits(max_requests=3)
        report = asyncio.run(
            _with_client(fake, lambda c: submit_batch_run(project, plan, c, limits=limits))
        )
        run_id = report.run_id
        assert report.submitted == 7 and len(report.batches) == 3  # 3 + 3 + 1
        assert report.run_status == "interrupted"
        # The ids are in the project before anything is collected.
        assert len(project.batches.batches(run_id, open_only=True)) == 3
    # "The terminal was closed": a new process opens the project and collects.
    time.sleep(0.6)
    with Project.open(path) as project:
        assert open_batch_runs(project) == [run_id]
        reports = asyncio.run(_with_client(fake, lambda c: collect(project, c, run_id)))
        assert reports[0].stored == 7 and reports[0].errors == 0
        assert reports[0].run_status == "done"
        rows = project.runs.run_grid(run_id)
        assert len(rows) == 7 and all(r.status == "done" for r in rows)
        call = project.runs.get_call(rows[0].call_id)
        assert call.output.startswith('Regarding "Question')
        again = asyncio.run(_with_client(fake, lambda c: collect(project, c, run_id)))
        assert again[0].stored == 0
        calls = list(project.db.query("SELECT count(*) AS n FROM calls WHERE run_id = ?", [run_id]))
        assert calls[0]["n"] == 7
        assert open_batch_runs(project) == []


def test_batch_price_is_half_the_live_price(tmp_path: Path, fake: FakeAnthropicServer) -> None:
    with _project(tmp_path / "p.pwb", 2) as project:
        report = asyncio.run(
            _with_client(fake, lambda c: submit_batch_run(project, _plan(project), c))
        )
        asyncio.run(
            _with_client(fake, lambda c: collect(project, c, report.run_id, wait=True, poll_s=0.05))
        )
        prices = price_table(project)
        for row in project.runs.run_grid(report.run_id):
            call = project.runs.get_call(row.call_id)
            from workbench.inference.base import Usage

            usage = Usage(call.input_tokens, call.output_tokens)
            live = prices.cost_for("claude-haiku-5-5", usage, __import__("datetime").date.today())
            assert call.cost_usd == pytest.approx(live / 2)


def test_partial_results_collect_the_ended_batches_only(
    tmp_path: Path, fake: FakeAnthropicServer
) -> None:
    class SecondBatchSlow(AnthropicBatches):
        async def create(self, encoded: list[bytes]):  # type: ignore[no-untyped-def]
            created = await super().create(encoded)
            fake.configure(batches={"processing_s": 30})  # every later batch is slow
            return created

    with _project(tmp_path / "p.pwb", 4) as project:
        plan = _plan(project)

        async def go() -> tuple:
            client = SecondBatchSlow(api_key="k", base_url=fake.base_url)
            try:
                report = await submit_batch_run(
                    project, plan, client, limits=BatchLimits(max_requests=2)
                )
                await asyncio.sleep(0.05)
                partial = await collect(project, client, report.run_id)
                again = await resume_batch_run(project, report.run_id, client)
                return report, partial[0], again
            finally:
                await client.aclose()

        report, partial, again = asyncio.run(go())
        assert report.submitted == 4 and len(report.batches) == 2
        assert partial.stored == 2 and partial.open_batches == 1
        assert partial.run_status == "interrupted"
        statuses = sorted(r.status for r in project.runs.run_grid(report.run_id))
        assert statuses == ["done", "done", "pending", "pending"]
        assert again.submitted == 0, "cells in an open batch are never sent again"


def test_errors_and_expiry_become_error_cells_that_resume_resends(
    tmp_path: Path, fake: FakeAnthropicServer
) -> None:
    with _project(tmp_path / "p.pwb", 4) as project:
        fake.configure(batches={"faults": [{"fault": "529", "request_number": 2}]})
        first = asyncio.run(
            _with_client(fake, lambda c: submit_batch_run(project, _plan(project), c))
        )
        reports = asyncio.run(
            _with_client(fake, lambda c: collect(project, c, first.run_id, wait=True, poll_s=0.05))
        )
        assert reports[0].stored == 4 and reports[0].errors == 1
        errors = [r for r in project.runs.run_grid(first.run_id) if r.status == "error"]
        assert len(errors) == 1 and errors[0].error_type == "overloaded"
        # Resume: only the failed cell goes out again; now the batch expires.
        fake.configure(batches={"processing_s": 10, "expire_s": 0.05})
        again = asyncio.run(
            _with_client(fake, lambda c: resume_batch_run(project, first.run_id, c))
        )
        assert again.submitted == 1
        time.sleep(0.1)
        expired = asyncio.run(_with_client(fake, lambda c: collect(project, c, first.run_id)))
        assert expired[0].errors == 1
        grid = project.runs.run_grid(first.run_id)
        assert [r.error_type for r in grid if r.status == "error"] == ["expired"]
        fake.configure(batches={})
        last = asyncio.run(_with_client(fake, lambda c: resume_batch_run(project, first.run_id, c)))
        assert last.submitted == 1
        final = asyncio.run(
            _with_client(fake, lambda c: collect(project, c, first.run_id, wait=True, poll_s=0.05))
        )
        assert final[0].run_status == "done"
        assert all(r.status == "done" for r in project.runs.run_grid(first.run_id))


def test_cancel_turns_unprocessed_requests_into_error_cells(
    tmp_path: Path, fake: FakeAnthropicServer
) -> None:
    with _project(tmp_path / "p.pwb", 3) as project:
        fake.configure(batches={"processing_s": 30})
        report = asyncio.run(
            _with_client(fake, lambda c: submit_batch_run(project, _plan(project), c))
        )
        rows = asyncio.run(_with_client(fake, lambda c: cancel(project, c, report.run_id)))
        assert rows[0]["status"] in ("canceling", "ended")
        done = asyncio.run(
            _with_client(fake, lambda c: collect(project, c, report.run_id, wait=True, poll_s=0.05))
        )
        assert done[0].errors == 3
        grid = project.runs.run_grid(report.run_id)
        assert {r.error_type for r in grid} == {"cancelled"}


def test_cached_answers_are_never_submitted(tmp_path: Path, fake: FakeAnthropicServer) -> None:
    with _project(tmp_path / "p.pwb", 3) as project:
        first = asyncio.run(
            _with_client(fake, lambda c: submit_batch_run(project, _plan(project), c))
        )
        asyncio.run(
            _with_client(fake, lambda c: collect(project, c, first.run_id, wait=True, poll_s=0.05))
        )
        created = fake.stats()["by_endpoint"].get("POST /v1/messages/batches", 0)
        second = asyncio.run(
            _with_client(fake, lambda c: submit_batch_run(project, _plan(project), c))
        )
        assert second.cached == 3 and second.submitted == 0 and second.run_status == "done"
        assert fake.stats()["by_endpoint"].get("POST /v1/messages/batches", 0) == created


def test_byte_limit_splits_batches(tmp_path: Path, fake: FakeAnthropicServer) -> None:
    with _project(tmp_path / "p.pwb", 5) as project:
        report = asyncio.run(
            _with_client(
                fake,
                lambda c: submit_batch_run(
                    project, _plan(project), c, limits=BatchLimits(max_bytes=600)
                ),
            )
        )
        assert report.submitted == 5 and len(report.batches) >= 2


def test_a_refused_batch_leaves_the_run_resumable(
    tmp_path: Path, fake: FakeAnthropicServer
) -> None:
    from workbench.inference.base import ProviderError

    with _project(tmp_path / "p.pwb", 3) as project:
        fake.configure(batches={"max_requests": 2})
        with pytest.raises(ProviderError, match="at most 2 requests"):
            asyncio.run(_with_client(fake, lambda c: submit_batch_run(project, _plan(project), c)))
        run_id = project.runs.latest_run_id()
        assert run_id is not None
        run = project.runs.get_run(run_id)
        assert run.status == "interrupted" and "never submitted" in run.status_reason
        fake.configure(batches={})
        again = asyncio.run(_with_client(fake, lambda c: resume_batch_run(project, run_id, c)))
        assert again.submitted == 3
