"""Pacing by the rate-limit headers: the buckets alone, then a run against the fake server."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from answer_project_support import answer_project

from workbench.inference import make_provider
from workbench.inference.base import CallRequest, CallResult
from workbench.inference.rate_limits import Quota, RateLimitSnapshot
from workbench.inference.retry import RetryPolicy
from workbench.services.pacing import ModelPacer, Pacing, estimate_cost
from workbench.services.planner import make_plan
from workbench.services.project_models import model_catalog, price_table
from workbench.services.run_service import start_run
from workbench.services.runner import RunOptions
from workbench.storage.project import Project
from workbench.testing.fake_anthropic import FakeAnthropicServer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def snapshot(requests: Quota | None = None, tokens: Quota | None = None) -> RateLimitSnapshot:
    return RateLimitSnapshot(requests=requests, input_tokens=tokens)


def test_estimate_counts_system_messages_and_expected_output() -> None:
    request = CallRequest(
        model="m", system="x" * 40, messages=[{"role": "user", "content": "y" * 80}], max_tokens=50
    )
    assert estimate_cost(request) == (1.0, 30.0, 50.0)


def test_unknown_limits_never_wait_then_headers_set_the_pace() -> None:
    clock = Clock()
    pacer = ModelPacer("m", clock)
    costs = (1.0, 100.0, 10.0)
    assert pacer.delay_for(costs) == 0 and not pacer.active
    ticket = asyncio.run(pacer.acquire(costs))
    assert ticket is not None
    # 60 requests a minute, 1 left, full again in 59 s -> 1 per second.
    pacer.finished(ticket, snapshot(requests=Quota(60, 1, 59.0)))
    assert pacer.active
    assert pacer.delay_for(costs) == 0  # the one that is left
    asyncio.run(pacer.acquire(costs))
    assert pacer.delay_for(costs) == pytest.approx(1.0)
    clock.now += 0.5
    assert pacer.delay_for(costs) == pytest.approx(0.5)


def test_calls_admitted_after_the_observed_one_still_count() -> None:
    clock = Clock()
    pacer = ModelPacer("m", clock)
    costs = (1.0, 500.0, 10.0)
    probe = asyncio.run(pacer.acquire(costs))
    assert probe is not None
    pacer.finished(probe, snapshot(tokens=Quota(1000, 1000, None)))
    first = asyncio.run(pacer.acquire(costs))
    assert first is not None
    asyncio.run(pacer.acquire(costs))  # in flight: the server may not have seen it
    pacer.observe(first, snapshot(tokens=Quota(1000, 500, 30.0)))
    # 500 left on the server minus the 500 charged since: the next call must wait for 500
    # tokens at (1000 - 500) / 30 s per second.
    assert pacer.delay_for(costs) == pytest.approx(30.0)


def test_retry_after_blocks_until_it_passes() -> None:
    clock = Clock()
    pacer = ModelPacer("m", clock)
    ticket = asyncio.run(pacer.acquire((1.0, 1.0, 1.0)))
    assert ticket is not None
    limits = RateLimitSnapshot(requests=Quota(10, 0, 6.0), retry_after_s=4.0)
    pacer.finished(ticket, limits)
    assert pacer.delay_for((1.0, 1.0, 1.0)) == pytest.approx(4.0 + 0.6)


def test_a_first_answer_without_headers_turns_pacing_off() -> None:
    async def go() -> tuple[object, object]:
        pacer = ModelPacer("m")
        probe = await pacer.acquire((1.0, 1.0, 1.0))
        waiting = asyncio.create_task(pacer.acquire((1.0, 1.0, 1.0)))
        await asyncio.sleep(0.01)
        assert not waiting.done(), "the others wait for the first answer"
        assert probe is not None
        pacer.finished(probe, None)
        return await waiting, pacer.paced

    assert asyncio.run(go()) == (None, False)


def test_a_cancelled_first_call_releases_the_others() -> None:
    async def go() -> bool:
        pacing = Pacing()
        request = CallRequest(model="m", messages=[{"role": "user", "content": "x"}], max_tokens=5)
        with pytest.raises(asyncio.CancelledError):
            async with pacing.slot(request):
                raise asyncio.CancelledError
        ticket = await asyncio.wait_for(pacing.before_call(request), 1.0)
        return ticket is not None

    assert asyncio.run(go())


def test_disabled_pacing_hands_out_no_tickets() -> None:
    pacing = Pacing(enabled=False)
    request = CallRequest(model="m", messages=[{"role": "user", "content": "x"}], max_tokens=5)
    assert asyncio.run(pacing.before_call(request)) is None
    pacing.after_call(None, CallResult())


def _project(tmp_path: Path, examples: int) -> Project:
    return answer_project(tmp_path / "p.pwb", examples)


def _run(project: Project, server: FakeAnthropicServer, pace: bool) -> float:
    plan = make_plan(
        project,
        prompts=["answer@1"],
        dataset="qs",
        catalog=model_catalog(project),
        prices=price_table(project),
    )
    provider = make_provider(
        "anthropic",
        api_key="k",
        base_url=server.base_url,
        policy=RetryPolicy(max_attempts=20, base_delay_s=0.01, max_delay_s=0.05),
    )
    options = RunOptions(concurrency=16, use_cache=False, pace=pace)
    started = time.monotonic()
    outcome = asyncio.run(start_run(project, plan, provider, options=options))
    assert outcome.status == "done" and outcome.progress.errors == 0
    return time.monotonic() - started


def test_a_paced_run_meets_almost_no_429s(tmp_path: Path) -> None:
    # 10 requests per second with a burst of 5: 40 calls need about 3.5 s either way.
    with _project(tmp_path, 40) as project, FakeAnthropicServer(latency_ms=5) as server:
        server.configure(rate_limits={"*": {"requests": 5, "window_s": 0.5}})
        _run(project, server, pace=True)
        paced = server.stats()
        assert paced["messages_requests"] - paced["rate_limited"] == 40
        assert paced["rate_limited"] <= 2
        server.reset_stats()
        _run(project, server, pace=False)
        unpaced = server.stats()["rate_limited"]
    assert unpaced > paced["rate_limited"]
