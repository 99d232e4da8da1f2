"""The retry policy is pure: every rule checked without a network."""

from __future__ import annotations

import email.utils

import pytest

from workbench.inference.retry import RetryPolicy, parse_retry_after

POLICY = RetryPolicy()


def half() -> float:
    return 0.5


def one() -> float:
    return 1.0


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 529])
def test_retryable_statuses_are_retried(status: int) -> None:
    decision = POLICY.decide(1, status, {}, None, rand=half)
    assert decision.retry
    assert decision.delay_s == pytest.approx(0.25)  # full jitter: half of base 0.5


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413])
def test_client_errors_are_never_retried(status: int) -> None:
    decision = POLICY.decide(1, status, {"x-should-retry": "true"}, None, rand=half)
    assert not decision.retry
    assert str(status) in decision.reason


@pytest.mark.parametrize(
    "kind", ["timeout", "connection", "stream_error", "malformed_response", "overloaded"]
)
def test_transport_and_stream_failures_are_retried(kind: str) -> None:
    assert POLICY.decide(1, None, None, kind, rand=half).retry


def test_mid_stream_error_is_retried_although_the_stream_began_with_200() -> None:
    assert POLICY.decide(2, 200, {}, "stream_error", rand=half).retry


@pytest.mark.parametrize("kind", ["authentication", "invalid_request", "cancelled"])
def test_request_faults_without_status_are_not_retried(kind: str) -> None:
    assert not POLICY.decide(1, None, None, kind).retry


def test_backoff_doubles_and_is_capped() -> None:
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=5.0, jitter=False, max_attempts=20)
    delays = [policy.decide(n, 500, {}, None).delay_s for n in range(1, 6)]
    assert delays == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_full_jitter_scales_the_ceiling_by_the_injected_random() -> None:
    policy = RetryPolicy(base_delay_s=1.0)
    assert policy.decide(3, 503, {}, None, rand=lambda: 0.25).delay_s == pytest.approx(1.0)
    assert policy.decide(3, 503, {}, None, rand=lambda: 0.0).delay_s == 0.0


def test_gives_up_after_max_attempts() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert policy.decide(2, 529, {}, None).retry
    decision = policy.decide(3, 529, {}, None)
    assert not decision.retry
    assert "3 attempts" in decision.reason


def test_retry_after_seconds_is_honoured_exactly_when_spread_is_zero() -> None:
    policy = RetryPolicy(retry_after_spread=0.0)
    decision = policy.decide(1, 429, {"retry-after": "7"}, "rate_limit", rand=one)
    assert decision.retry and decision.delay_s == 7.0 and decision.retry_after_s == 7.0


def test_retry_after_is_never_shortened_by_jitter() -> None:
    decision = POLICY.decide(1, 429, {"Retry-After": "2"}, None, rand=lambda: 0.0)
    assert decision.delay_s == 2.0
    assert POLICY.decide(1, 429, {"retry-after": "2"}, None, rand=one).delay_s <= 2.2 + 1e-9


def test_retry_after_ms_wins_over_retry_after() -> None:
    headers = {"retry-after-ms": "1500", "retry-after": "9"}
    assert parse_retry_after(headers) == 1.5


def test_retry_after_http_date() -> None:
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=lambda: now) == pytest.approx(30.0)


def test_retry_after_garbage_falls_back_to_backoff() -> None:
    assert parse_retry_after({"retry-after": "soon"}) is None
    decision = POLICY.decide(1, 429, {"retry-after": "soon"}, None, rand=half)
    assert decision.retry and decision.delay_s == pytest.approx(0.25)


def test_long_retry_after_is_honoured_at_any_length_up_to_the_limit() -> None:
    policy = RetryPolicy(retry_after_spread=0.0)
    assert policy.decide(1, 429, {"retry-after": "300"}, None).delay_s == 300.0
    decision = policy.decide(1, 429, {"retry-after": "900"}, None)
    assert not decision.retry and "900" in decision.reason


def test_x_should_retry_false_stops_a_retryable_status() -> None:
    decision = POLICY.decide(1, 529, {"x-should-retry": "false"}, None)
    assert not decision.retry and "x-should-retry" in decision.reason


def test_x_should_retry_true_retries_an_otherwise_final_status() -> None:
    assert not POLICY.decide(1, 422, {}, None).retry
    assert POLICY.decide(1, 422, {"x-should-retry": "true"}, None).retry
