"""Every retry rule of AnthropicProvider, against scripted faults of the loopback fake server."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from workbench.inference import CallRequest, CallResult, RetryPolicy
from workbench.inference.anthropic_provider import AnthropicProvider
from workbench.testing.fake_anthropic import FakeAnthropicServer

FAKE_KEY = "sk-ant-test-FAKEKEY-1234"
MODEL = "claude-haiku-5-5"
FAST = RetryPolicy(base_delay_s=0.01, max_delay_s=0.05)


def make_request(**overrides: Any) -> CallRequest:
    values: dict[str, Any] = {
        "model": MODEL,
        "system": "Be brief.",
        "messages": [{"role": "user", "content": "Hello"}],
        "max_tokens": 100,
        "timeout_s": 5.0,
    }
    values.update(overrides)
    return CallRequest(**values)


def call(
    fake: FakeAnthropicServer,
    request: CallRequest | None = None,
    policy: RetryPolicy = FAST,
    **kwargs: Any,
) -> CallResult:
    async def run() -> CallResult:
        provider = AnthropicProvider(api_key=FAKE_KEY, base_url=fake.base_url, policy=policy)
        try:
            return await provider.call(request or make_request(), **kwargs)
        finally:
            await provider.aclose()

    return asyncio.run(run())


def test_429_honours_retry_after(fake: FakeAnthropicServer) -> None:
    fake.script({"request_number": 1, "fault": "429", "retry_after": 0.4})
    backoffs: list[tuple[str, float, str]] = []
    started = time.perf_counter()
    result = call(fake, on_backoff=lambda *args: backoffs.append(args))
    assert time.perf_counter() - started >= 0.4
    assert result.ok and len(result.attempts) == 2
    first = result.attempts[0]
    assert (first.status, first.error_type, first.retry_after_s) == (429, "rate_limit", 0.4)
    assert first.backoff_s is not None and first.backoff_s >= 0.4
    assert result.total_ms >= 400
    assert len(backoffs) == 1 and backoffs[0][0] == MODEL and backoffs[0][1] >= 0.4
    assert "retry-after" in backoffs[0][2]


def test_retry_after_ms_is_honoured(fake: FakeAnthropicServer) -> None:
    fake.script({"request_number": 1, "fault": "529", "retry_after_ms": 300})
    result = call(fake)
    assert result.ok and result.attempts[0].retry_after_s == pytest.approx(0.3)
    assert result.total_ms >= 300


@pytest.mark.parametrize(
    ("fault", "error_type"),
    [("529", "overloaded"), ("500", "server_error"), ("504", "timeout")],
)
def test_server_errors_are_retried(fake: FakeAnthropicServer, fault: str, error_type: str) -> None:
    fake.script({"request_number": [1, 2], "fault": fault})
    result = call(fake)
    assert result.ok
    assert [a.error_type for a in result.attempts] == [error_type, error_type, None]
    assert [a.status for a in result.attempts] == [int(fault), int(fault), 200]
    assert fake.stats()["messages_requests"] == 3


def test_every_attempt_keeps_its_request_id(fake: FakeAnthropicServer) -> None:
    fake.script({"request_number": [1, 2], "fault": "529"})
    result = call(fake)
    ids = [a.request_id for a in result.attempts]
    assert len(ids) == 3 and all(ids) and len(set(ids)) == 3
    assert result.request_id == ids[-1]


def test_connection_reset_is_retried(fake: FakeAnthropicServer) -> None:
    fake.script({"request_number": 1, "fault": "reset"})
    result = call(fake)
    assert result.ok
    first = result.attempts[0]
    assert first.error_type == "connection" and first.status is None


def test_hang_times_out_and_is_retried(fake: FakeAnthropicServer) -> None:
    fake.script({"request_number": 1, "fault": "hang"})
    started = time.perf_counter()
    result = call(fake, make_request(timeout_s=0.3))
    assert result.ok
    assert result.attempts[0].error_type == "timeout"
    assert 300 <= result.attempts[0].duration_ms < 2000
    assert time.perf_counter() - started < 3


def test_timeouts_exhaust_the_attempts(fake: FakeAnthropicServer) -> None:
    fake.script({"fault": "hang", "hang_s": 2})
    result = call(fake, make_request(timeout_s=0.1), policy=RetryPolicy(max_attempts=2))
    assert not result.ok and result.error_type == "timeout"
    assert len(result.attempts) == 2
    assert "2 attempts" in (result.error_message or "")


def test_midstream_error_is_retried_from_scratch(fake: FakeAnthropicServer) -> None:
    fake.script({"request_number": 1, "fault": "midstream_error", "after_deltas": 3})
    events: list[str] = []
    result = call(
        fake,
        on_text=lambda text: events.append("text"),
        on_backoff=lambda *args: events.append("backoff"),
    )
    assert result.ok
    assert result.attempts[0].error_type == "stream_error"
    assert result.attempts[0].status == 200  # the stream had begun
    # Three deltas of the failed stream, the signal that they are void, then a fresh stream.
    assert events[:4] == ["text", "text", "text", "backoff"]
    assert events.count("text") == 3 + result.usage.output_tokens
    assert result.partial_text and result.text.startswith(result.partial_text)
    assert result.text != result.partial_text


def test_midstream_error_keeps_partial_text_when_it_gives_up(fake: FakeAnthropicServer) -> None:
    fake.script({"fault": "midstream_error", "after_deltas": 2})
    result = call(fake, policy=RetryPolicy(max_attempts=2, base_delay_s=0.01))
    assert not result.ok and result.error_type == "stream_error"
    assert result.text == ""
    assert result.partial_text and len(result.attempts) == 2
    assert "overloaded_error" in (result.error_message or "")


def test_malformed_event_is_retried(fake: FakeAnthropicServer) -> None:
    fake.script({"request_number": 1, "fault": "malformed"})
    result = call(fake)
    assert result.ok and result.attempts[0].error_type == "malformed_response"


def test_malformed_json_body_is_retried(fake: FakeAnthropicServer) -> None:
    fake.script({"request_number": 1, "fault": "malformed"})
    result = call(fake, make_request(stream=False))
    assert result.ok and result.attempts[0].error_type == "malformed_response"


@pytest.mark.parametrize(
    ("fault", "error_type"),
    [
        ("400", "invalid_request"),
        ("401", "authentication"),
        ("403", "permission"),
        ("404", "not_found"),
        ("413", "request_too_large"),
    ],
)
def test_client_errors_are_not_retried(
    fake: FakeAnthropicServer, fault: str, error_type: str
) -> None:
    fake.script({"fault": fault})
    result = call(fake)
    assert not result.ok and result.error_type == error_type
    assert len(result.attempts) == 1 and fake.stats()["messages_requests"] == 1
    assert result.attempts[0].status == int(fault)
    assert result.request_id and result.error_message and f"HTTP {fault}" in result.error_message
    assert result.auth_failed == (fault in ("401", "403"))


def test_x_should_retry_false_stops(fake: FakeAnthropicServer) -> None:
    fake.script({"fault": "529", "should_retry": False})
    result = call(fake)
    assert not result.ok and result.error_type == "overloaded"
    assert len(result.attempts) == 1
    assert "x-should-retry" in (result.error_message or "")


def test_gives_up_after_max_attempts(fake: FakeAnthropicServer) -> None:
    fake.script({"fault": "500"})
    result = call(fake, policy=RetryPolicy(max_attempts=3, base_delay_s=0.01))
    assert not result.ok and result.error_type == "server_error"
    assert len(result.attempts) == 3 and fake.stats()["messages_requests"] == 3
    assert all(a.backoff_s is not None for a in result.attempts[:2])
    assert result.attempts[2].backoff_s is None


async def cancel_and_watch(
    fake: FakeAnthropicServer, task: asyncio.Task[CallResult]
) -> tuple[float, float]:
    """Cancel ``task``; return (seconds until it ended, seconds until the server saw the
    connection close). Measured before the provider's pool is closed, so the cancellation
    itself must have closed the socket."""
    started = time.perf_counter()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    ended = time.perf_counter() - started
    while fake.stats()["connections_open"] and time.perf_counter() - started < 2:
        await asyncio.sleep(0.01)
    return ended, time.perf_counter() - started


def test_cancel_closes_a_hung_request_within_a_second(fake: FakeAnthropicServer) -> None:
    fake.script({"fault": "hang"})

    async def run() -> tuple[float, float]:
        provider = AnthropicProvider(api_key=FAKE_KEY, base_url=fake.base_url, policy=FAST)
        try:
            task = asyncio.create_task(provider.call(make_request(timeout_s=60)))
            deadline = time.perf_counter() + 5
            while fake.stats()["in_flight"] == 0:
                assert time.perf_counter() < deadline, "the request never reached the server"
                await asyncio.sleep(0.01)
            return await cancel_and_watch(fake, task)
        finally:
            await provider.aclose()

    ended, closed = asyncio.run(run())
    assert ended < 1.0 and closed < 1.0
    stats = fake.stats()
    assert stats["connections_open"] == 0 and stats["in_flight"] == 0


def test_cancel_mid_stream_closes_the_connection(fake: FakeAnthropicServer) -> None:
    fake.configure(ttft_ms=0, token_interval_ms=100)

    async def run() -> tuple[float, float]:
        provider = AnthropicProvider(api_key=FAKE_KEY, base_url=fake.base_url, policy=FAST)
        first = asyncio.Event()
        try:
            task = asyncio.create_task(
                provider.call(make_request(timeout_s=60), on_text=lambda _: first.set())
            )
            await asyncio.wait_for(first.wait(), 5)
            return await cancel_and_watch(fake, task)
        finally:
            await provider.aclose()

    ended, closed = asyncio.run(run())
    assert ended < 1.0 and closed < 1.0


def test_the_key_never_appears_in_any_result(fake: FakeAnthropicServer) -> None:
    faults = ["401", "403", "400", "413", "429", "500", "529", "reset", "midstream_error"]
    results = []
    for fault in faults:
        fake.script({"fault": fault, "retry_after": 0})
        results.append(call(fake, policy=RetryPolicy(max_attempts=2, base_delay_s=0.01)))
    fake.script({"fault": "malformed"})
    results.append(call(fake, make_request(stream=False), policy=RetryPolicy(max_attempts=1)))
    fake.script({"fault": "hang", "hang_s": 1})
    results.append(call(fake, make_request(timeout_s=0.1), policy=RetryPolicy(max_attempts=1)))
    fake.script()
    results.append(call(fake))
    assert sum(not r.ok for r in results) == len(results) - 1
    blob = json.dumps([r.to_dict() for r in results]).encode()
    assert FAKE_KEY.encode() not in blob
    assert b"FAKEKEY" not in blob
