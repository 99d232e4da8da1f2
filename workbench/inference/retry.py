"""The workbench's one retry policy (the SDK's own retries are off: ``max_retries=0``).

`RetryPolicy.decide` is pure: it looks at the attempt number, the HTTP status, the response
headers and the kind of failure, and says whether to retry and after how long. Jitter comes
from an injectable ``rand`` so tests are deterministic.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

# Never retried whatever the server says: the same request will fail the same way, and
# 401/403 mean every call with this key will (the run engine pauses instead).
NEVER_RETRY_STATUSES = frozenset({400, 401, 403, 404, 413})
RETRY_STATUSES = frozenset({408, 409, 429})
# Failures without a usable HTTP status that are worth another try.
RETRY_KINDS = frozenset(
    {
        "timeout",
        "connection",
        "stream_error",
        "malformed_response",
        "rate_limit",
        "overloaded",
        "server_error",
    }
)
# Failures about the request itself (or the caller) that another try cannot fix.
NO_RETRY_KINDS = frozenset(
    {
        "authentication",
        "permission",
        "invalid_request",
        "not_found",
        "request_too_large",
        "cancelled",
    }
)


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether to retry, after how many seconds, and why (shown in the attempts list)."""

    retry: bool
    delay_s: float
    reason: str
    retry_after_s: float | None = None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When and how long to back off.

    :param max_attempts: attempts in all, the first included (6 = 1 try + 5 retries)
    :param base_delay_s: backoff ceiling for the first retry; doubles per retry
    :param max_delay_s: backoff ceiling never exceeds this
    :param jitter: "full jitter" (uniform in [0, ceiling]) so concurrent calls that failed
        together do not retry together; False waits the ceiling exactly
    :param max_retry_after_s: a server-requested wait (``retry-after``) is honoured at any
        length up to this; a longer one ends the call instead of holding a slot for ages
    :param retry_after_spread: a server-requested wait is stretched by up to this fraction
        (never shortened), again so that calls told the same thing spread out
    """

    max_attempts: int = 6
    base_delay_s: float = 0.5
    max_delay_s: float = 60.0
    jitter: bool = True
    max_retry_after_s: float = 600.0
    retry_after_spread: float = 0.1

    def backoff_s(self, attempt_number: int, rand: Callable[[], float] = random.random) -> float:
        """Exponential backoff with full jitter after attempt ``attempt_number`` (1-based)."""
        exponent = min(max(attempt_number - 1, 0), 60)
        ceiling = min(self.max_delay_s, self.base_delay_s * (2.0**exponent))
        return ceiling * rand() if self.jitter else ceiling

    def decide(
        self,
        attempt_number: int,
        status: int | None,
        headers: Mapping[str, str] | None,
        error_kind: str | None,
        *,
        rand: Callable[[], float] = random.random,
        now: Callable[[], float] = time.time,
    ) -> Decision:
        """Decide what to do after failed attempt ``attempt_number`` (1-based).

        :param status: HTTP status of an error response; None when none arrived, and ignored
            for ``stream_error``/``malformed_response`` (the stream had already begun with 200)
        :param headers: that response's headers (case-insensitive mapping or plain dict)
        :param error_kind: one of base.ERROR_TYPES
        """
        in_stream = error_kind in ("stream_error", "malformed_response")
        if in_stream:
            status = None  # the 200 that opened the stream says nothing about the failure
        label = _label(status, error_kind)
        if status is None and error_kind in NO_RETRY_KINDS:
            return Decision(False, 0.0, f"{label} is not retryable")
        if status in NEVER_RETRY_STATUSES:
            return Decision(False, 0.0, f"{label} is not retryable")

        retryable = _retryable(status, error_kind)
        should = _header(headers, "x-should-retry")
        if should is not None and not in_stream:
            verdict = should.strip().lower()
            if verdict == "false":
                return Decision(False, 0.0, f"{label}; server said x-should-retry: false")
            if verdict == "true":
                retryable = True
        if not retryable:
            return Decision(False, 0.0, f"{label} is not retryable")
        if attempt_number >= self.max_attempts:
            return Decision(False, 0.0, f"{label}; gave up after {attempt_number} attempts")

        retry_after = parse_retry_after(headers, now=now)
        if retry_after is not None and retry_after > 0:
            if retry_after > self.max_retry_after_s:
                return Decision(
                    False,
                    0.0,
                    f"{label}; server asked to wait {retry_after:.0f} s, more than the "
                    f"{self.max_retry_after_s:.0f} s limit",
                    retry_after,
                )
            delay = retry_after * (1.0 + self.retry_after_spread * rand())
            return Decision(True, delay, f"{label}; retry-after {retry_after:g} s", retry_after)
        delay = self.backoff_s(attempt_number, rand)
        return Decision(True, delay, f"{label}; backing off {delay:.2f} s")


def parse_retry_after(
    headers: Mapping[str, str] | None, *, now: Callable[[], float] = time.time
) -> float | None:
    """Seconds the server asked to wait: ``retry-after-ms``, else ``retry-after`` (seconds or
    an HTTP date). None when absent or unparseable; never negative."""
    value = _header(headers, "retry-after-ms")
    if value is not None:
        try:
            return max(float(value) / 1000.0, 0.0)
        except ValueError:
            pass
    value = _header(headers, "retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    parsed = email.utils.parsedate_tz(value)
    if parsed is None:
        return None
    return max(float(email.utils.mktime_tz(parsed)) - now(), 0.0)


def _retryable(status: int | None, error_kind: str | None) -> bool:
    if status is not None:
        return status in RETRY_STATUSES or status >= 500
    return error_kind in RETRY_KINDS


def _label(status: int | None, error_kind: str | None) -> str:
    if status is not None:
        return f"HTTP {status} {error_kind or ''}".rstrip()
    return error_kind or "error"


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    """Case-insensitive header lookup that works on plain dicts too."""
    if not headers:
        return None
    value = headers.get(name)
    if value is not None:
        return value
    for key, val in headers.items():
        if key.lower() == name:
            return val
    return None
