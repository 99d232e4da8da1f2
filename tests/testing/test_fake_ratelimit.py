"""Rate limits of the fake server: token buckets per model and the real API's headers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx2
import pytest

from workbench.testing.fake_anthropic import FakeAnthropicServer
from workbench.testing.fake_ratelimit import RateLimiter
from workbench.testing.fake_scale_config import RateLimit

HAIKU = "claude-haiku-5-5"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def server() -> Iterator[FakeAnthropicServer]:
    with FakeAnthropicServer() as running:
        yield running


@pytest.fixture
def http(server: FakeAnthropicServer) -> Iterator[httpx2.Client]:
    server.configure(rate_limits={}, faults=[])
    server.reset_stats()
    with httpx2.Client(base_url=server.base_url, headers={"x-api-key": "k"}) as client:
        yield client


def body(text: str = "hello there", model: str = HAIKU, stream: bool = False) -> dict:
    return {
        "model": model,
        "max_tokens": 20,
        "stream": stream,
        "messages": [{"role": "user", "content": text}],
    }


def test_buckets_refill_continuously() -> None:
    clock = Clock()
    limiter = RateLimiter(clock, clock)
    limiter.configure({"*": RateLimit(requests=2, window_s=10)})
    assert limiter.admit("m", 5).retry_after_s is None
    assert limiter.admit("m", 5).retry_after_s is None
    refused = limiter.admit("m", 5)
    assert refused.retry_after_s == pytest.approx(5.0) and refused.limited_by == "requests"
    clock.now += 5
    assert limiter.admit("m", 5).retry_after_s is None


def test_input_tokens_limit_and_headers() -> None:
    clock = Clock()
    limiter = RateLimiter(clock, clock)
    limiter.configure({HAIKU: RateLimit(input_tokens=100, window_s=60)})
    admitted = limiter.admit(HAIKU, 60)
    headers = dict(admitted.headers)
    assert headers["anthropic-ratelimit-input-tokens-limit"] == "100"
    assert headers["anthropic-ratelimit-input-tokens-remaining"] == "40"
    reset = dt.datetime.fromisoformat(headers["anthropic-ratelimit-input-tokens-reset"])
    assert reset.timestamp() == pytest.approx(clock.now + 36, abs=0.01)  # 60 tokens at 100/min
    refused = limiter.admit(HAIKU, 60)
    assert refused.limited_by == "input-tokens"
    assert refused.retry_after_s == pytest.approx(12.0)  # 20 more tokens at 100/60 per s
    assert limiter.admit("other-model", 10**6).retry_after_s is None  # no "*" entry


def test_output_tokens_are_taken_after_the_answer() -> None:
    clock = Clock()
    limiter = RateLimiter(clock, clock)
    limiter.configure({"*": RateLimit(output_tokens=50, window_s=60)})
    assert limiter.admit("m", 1).retry_after_s is None
    limiter.spend_output("m", 80)  # the bucket goes below zero
    refused = limiter.admit("m", 1)
    assert refused.limited_by == "output-tokens"
    assert refused.retry_after_s == pytest.approx(31 * 60 / 50)


def test_server_sends_headers_and_429_with_retry_after(
    server: FakeAnthropicServer, http: httpx2.Client
) -> None:
    server.configure(rate_limits={"*": {"requests": 2, "output_tokens": 10_000, "window_s": 60}})
    first = http.post("/v1/messages", json=body())
    assert first.status_code == 200
    assert first.headers["anthropic-ratelimit-requests-limit"] == "2"
    assert first.headers["anthropic-ratelimit-requests-remaining"] == "1"
    assert int(first.headers["anthropic-ratelimit-output-tokens-remaining"]) < 10_000
    streamed = http.post("/v1/messages", json=body(stream=True))
    assert streamed.status_code == 200
    assert streamed.headers["anthropic-ratelimit-requests-remaining"] == "0"
    refused = http.post("/v1/messages", json=body())
    assert refused.status_code == 429
    assert refused.json()["error"]["type"] == "rate_limit_error"
    assert int(refused.headers["retry-after"]) >= 29
    assert 29_000 <= int(refused.headers["retry-after-ms"]) <= 30_000
    stats = server.stats()
    assert stats["rate_limited"] == 1 and stats["by_outcome"]["429"] == 1


def test_limits_are_per_model(server: FakeAnthropicServer, http: httpx2.Client) -> None:
    server.configure(rate_limits={HAIKU: {"requests": 1}})
    assert http.post("/v1/messages", json=body()).status_code == 200
    assert http.post("/v1/messages", json=body()).status_code == 429
    other = http.post("/v1/messages", json=body(model="claude-opus-5-5"))
    assert other.status_code == 200
    assert "anthropic-ratelimit-requests-limit" not in other.headers
