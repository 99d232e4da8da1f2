"""Parsing the anthropic-ratelimit-* headers, and the provider reporting them per call."""

from __future__ import annotations

import asyncio

import pytest

from workbench.inference import make_provider
from workbench.inference.base import CallRequest, CallResult
from workbench.inference.rate_limits import Quota, parse_rate_limit_headers
from workbench.testing.fake_anthropic import FakeAnthropicServer

NOW = 1_800_000_000.0


def test_parses_every_limit_and_retry_after() -> None:
    headers = {
        "Anthropic-Ratelimit-Requests-Limit": "60",
        "anthropic-ratelimit-requests-remaining": "59",
        "anthropic-ratelimit-requests-reset": "2027-01-15T08:00:01Z",
        "anthropic-ratelimit-input-tokens-limit": "40000",
        "anthropic-ratelimit-input-tokens-remaining": "39000",
        "anthropic-ratelimit-output-tokens-limit": "8000",
        "anthropic-ratelimit-output-tokens-remaining": "9000",
        "retry-after": "3",
        "content-type": "application/json",
    }
    snapshot = parse_rate_limit_headers(headers, now=NOW)
    assert snapshot is not None
    assert snapshot.requests == Quota(60, 59, pytest.approx(1.0))
    assert snapshot.input_tokens == Quota(40000, 39000, None)
    assert snapshot.output_tokens == Quota(8000, 8000, None)  # remaining clamped to the limit
    assert snapshot.retry_after_s == 3.0


def test_no_or_broken_headers_give_none() -> None:
    assert parse_rate_limit_headers(None) is None
    assert parse_rate_limit_headers({"content-type": "text/plain"}) is None
    broken = {
        "anthropic-ratelimit-requests-limit": "lots",
        "anthropic-ratelimit-requests-remaining": "1",
        "anthropic-ratelimit-input-tokens-limit": "10",
        "anthropic-ratelimit-input-tokens-remaining": "5",
        "anthropic-ratelimit-input-tokens-reset": "not a date",
    }
    snapshot = parse_rate_limit_headers(broken, now=NOW)
    assert snapshot is not None and snapshot.requests is None
    assert snapshot.input_tokens == Quota(10, 5, None)


def test_call_result_round_trips_with_rate_limits() -> None:
    snapshot = parse_rate_limit_headers(
        {"anthropic-ratelimit-requests-limit": "5", "anthropic-ratelimit-requests-remaining": "4"}
    )
    result = CallResult(text="hi", rate_limits=snapshot)
    assert CallResult.from_dict(result.to_dict()) == result


def test_provider_reports_the_headers_of_each_call(fake: FakeAnthropicServer) -> None:
    fake.configure(rate_limits={"*": {"requests": 10, "input_tokens": 1000}})
    try:
        provider = make_provider("anthropic", api_key="k", base_url=fake.base_url)
        request = CallRequest(
            model="claude-haiku-5-5",
            messages=[{"role": "user", "content": "hello there"}],
            max_tokens=20,
        )

        async def two() -> list[CallResult]:
            try:
                return [await provider.call(request), await provider.call(request)]
            finally:
                await provider.aclose()

        first, second = asyncio.run(two())
    finally:
        fake.configure(rate_limits={})
    assert first.rate_limits is not None and second.rate_limits is not None
    assert first.rate_limits.requests == Quota(10, 9, pytest.approx(6.0, abs=0.5))
    assert second.rate_limits.requests is not None
    assert second.rate_limits.requests.remaining == 8
    assert second.rate_limits.input_tokens is not None
    assert second.rate_limits.input_tokens.remaining < first.rate_limits.input_tokens.remaining  # type: ignore[union-attr]
