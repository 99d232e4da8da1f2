"""Per-model rate limits of the fake server, enforced like the real API's token buckets.

Each model has up to three buckets (requests, input tokens, output tokens) that refill
continuously at ``limit / window_s`` and hold at most ``limit``. A request needs one request
and its input tokens up front and an output bucket that is not empty; its output tokens are
taken when the answer is known. Every ``/v1/messages`` answer carries the
``anthropic-ratelimit-*`` headers; a refusal is a 429 with ``retry-after``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from workbench.testing.fake_batches import rfc3339
from workbench.testing.fake_scale_config import RateLimit

Header = tuple[str, str]
# Header name part for each bucket, in the order the real API sends them.
KINDS = ("requests", "input-tokens", "output-tokens")


@dataclass(slots=True)
class Bucket:
    """A continuously refilling allowance."""

    limit: int
    window_s: float
    level: float
    updated: float

    @property
    def rate(self) -> float:
        return self.limit / self.window_s

    def refill(self, now: float) -> None:
        self.level = min(self.limit, self.level + (now - self.updated) * self.rate)
        self.updated = now

    def wait_for(self, amount: float) -> float:
        """Seconds until ``amount`` is available (amounts above the limit wait a full refill)."""
        needed = min(amount, self.limit) - self.level
        return max(0.0, needed / self.rate)

    def headers(self, kind: str, wall_now: float) -> list[Header]:
        remaining = max(0, math.floor(self.level))
        full_in = (self.limit - max(0.0, self.level)) / self.rate
        return [
            (f"anthropic-ratelimit-{kind}-limit", str(self.limit)),
            (f"anthropic-ratelimit-{kind}-remaining", str(remaining)),
            (f"anthropic-ratelimit-{kind}-reset", rfc3339(wall_now + full_in)),
        ]


@dataclass(slots=True)
class Admission:
    """The verdict on one request: ``retry_after_s`` is None when it may go ahead."""

    headers: list[Header]
    retry_after_s: float | None = None
    limited_by: str | None = None


class RateLimiter:
    """The buckets of every model; all calls happen on the server's loop thread."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._clock, self._wall = clock, wall_clock
        self._buckets: dict[tuple[str, str], Bucket] = {}
        self._limits: Mapping[str, RateLimit] = {}

    def configure(self, limits: Mapping[str, RateLimit]) -> None:
        """New limits; buckets whose limit changed start full again."""
        if limits != self._limits:
            self._limits = limits
            self._buckets.clear()

    def clear(self) -> None:
        self._buckets.clear()

    def admit(self, model: str, input_tokens: int) -> Admission:
        """Take one request and ``input_tokens`` from ``model``'s buckets, or refuse."""
        buckets = self._model_buckets(model)
        if not buckets:
            return Admission([])
        needs = {"requests": 1.0, "input-tokens": float(input_tokens), "output-tokens": 1.0}
        waits = {kind: b.wait_for(needs[kind]) for kind, b in buckets.items()}
        worst = max(waits, key=lambda k: waits[k])
        if waits[worst] > 0:
            return Admission(self._headers(buckets), waits[worst], worst)
        for kind in ("requests", "input-tokens"):
            if kind in buckets:
                buckets[kind].level -= needs[kind]
        return Admission(self._headers(buckets))

    def spend_output(self, model: str, output_tokens: int) -> list[Header]:
        """Take the answer's output tokens (the bucket may go below zero); fresh headers."""
        buckets = self._model_buckets(model)
        if "output-tokens" in buckets:
            buckets["output-tokens"].level -= output_tokens
        return self._headers(buckets)

    def _model_buckets(self, model: str) -> dict[str, Bucket]:
        spec = self._limits.get(model) or self._limits.get("*")
        if spec is None:
            return {}
        now = self._clock()
        out: dict[str, Bucket] = {}
        for kind, limit in zip(
            KINDS, (spec.requests, spec.input_tokens, spec.output_tokens), strict=True
        ):
            if limit is None:
                continue
            bucket = self._buckets.get((model, kind))
            if bucket is None:
                bucket = self._buckets[(model, kind)] = Bucket(limit, spec.window_s, limit, now)
            bucket.refill(now)
            out[kind] = bucket
        return out

    def _headers(self, buckets: Mapping[str, Bucket]) -> list[Header]:
        wall = self._wall()
        headers: list[Header] = []
        for kind in KINDS:
            if kind in buckets:
                headers += buckets[kind].headers(kind, wall)
        return headers


def retry_after_header(seconds: float) -> Header:
    """Whole seconds, rounded up, as the real API sends them (at least 1)."""
    return ("retry-after", str(max(1, math.ceil(seconds))))
