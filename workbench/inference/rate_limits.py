"""The organisation's rate limits as the API reports them on every response.

``anthropic-ratelimit-{requests,input-tokens,output-tokens}-{limit,remaining,reset}`` give each
limit, what is left of it and when it is fully replenished (RFC 3339); ``retry-after`` comes
with a 429. Parsed into plain data so the service layer can pace without touching headers.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from dataclasses import dataclass

from workbench.inference.retry import parse_retry_after

KINDS = ("requests", "input_tokens", "output_tokens")


@dataclass(frozen=True, slots=True)
class Quota:
    """One limit at the moment of a response.

    :param limit: the most allowed per window (the API's windows are a minute)
    :param remaining: what was left when the response was sent
    :param reset_in_s: seconds until the allowance is full again (None if not sent)
    """

    limit: int
    remaining: int
    reset_in_s: float | None = None


@dataclass(frozen=True, slots=True)
class RateLimitSnapshot:
    """What one response said about the limits; a field is None when its headers were absent."""

    requests: Quota | None = None
    input_tokens: Quota | None = None
    output_tokens: Quota | None = None
    retry_after_s: float | None = None

    @property
    def empty(self) -> bool:
        return all(getattr(self, kind) is None for kind in KINDS) and self.retry_after_s is None

    def quota(self, kind: str) -> Quota | None:
        """The quota for ``kind`` (one of KINDS)."""
        value: Quota | None = getattr(self, kind)
        return value


def parse_rate_limit_headers(
    headers: Mapping[str, str] | None, *, now: float | None = None
) -> RateLimitSnapshot | None:
    """The snapshot in ``headers``, or None when they carry no rate-limit information.

    :param now: wall clock (epoch seconds) the reset times are measured from
    """
    if not headers:
        return None
    # One pass keeping only our headers, lower-cased: plain dicts are case-sensitive.
    headers = {
        key.lower(): value
        for key, value in headers.items()
        if key[:1] in "aArR" and key.lower().startswith(("anthropic-ratelimit-", "retry-after"))
    }
    if not headers:
        return None
    now = time.time() if now is None else now
    quotas = {kind: _quota(headers, kind.replace("_", "-"), now) for kind in KINDS}
    snapshot = RateLimitSnapshot(
        requests=quotas["requests"],
        input_tokens=quotas["input_tokens"],
        output_tokens=quotas["output_tokens"],
        retry_after_s=parse_retry_after(headers),
    )
    return None if snapshot.empty else snapshot


def _quota(headers: Mapping[str, str], kind: str, now: float) -> Quota | None:
    limit = _int(headers.get(f"anthropic-ratelimit-{kind}-limit"))
    remaining = _int(headers.get(f"anthropic-ratelimit-{kind}-remaining"))
    if limit is None or remaining is None or limit <= 0:
        return None
    reset = _reset_in(headers.get(f"anthropic-ratelimit-{kind}-reset"), now)
    return Quota(limit, max(0, min(remaining, limit)), reset)


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        return None


def _reset_in(value: str | None, now: float) -> float | None:
    if not value:
        return None
    try:
        at = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return max(0.0, at.timestamp() - now)
