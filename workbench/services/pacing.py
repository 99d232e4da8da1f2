"""Pacing each model ahead of its rate limits, so 429s become rare instead of the signal.

Per model and per limit (requests, input tokens, output tokens) a client-side token bucket
refills at the rate the API's headers imply and is charged, before each call, with that
call's estimated cost (one request, its input tokens, its expected output). Each response's
``remaining`` resets the bucket to the server's truth, less what was admitted after that call
(the server may not have seen those yet). The first call of each model goes alone, so a burst
cannot overrun a small limit before any header is known; if its response carries no headers
(the echo provider, a proxy that strips them) that model is not paced at all. The AIMD
throttle in ``throttle.py`` stays the fallback for 429s that still happen.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from workbench.inference.base import CallRequest, CallResult
from workbench.inference.echo import estimate_tokens
from workbench.inference.rate_limits import KINDS, RateLimitSnapshot

# The API's limits are per minute; used when a response gives no reset time to derive the rate.
DEFAULT_WINDOW_S = 60.0
# Output tokens are unknown before the call: charge a typical answer, capped by max_tokens.
EXPECTED_OUTPUT_TOKENS = 400


@dataclass(slots=True)
class Ticket:
    """One admitted call: what it was charged and how much had been admitted before it."""

    model: str
    costs: tuple[float, float, float]
    admitted_before: tuple[float, float, float]


@dataclass(slots=True)
class _Bucket:
    limit: float
    rate: float  # units per second
    level: float
    updated: float

    def refill(self, now: float) -> None:
        self.level = min(self.limit, self.level + (now - self.updated) * self.rate)
        self.updated = now

    def wait_for(self, amount: float) -> float:
        needed = min(amount, self.limit) - self.level
        return max(0.0, needed / self.rate) if self.rate > 0 else 0.0


def estimate_cost(request: CallRequest) -> tuple[float, float, float]:
    """(requests, input tokens, output tokens) one call is expected to use."""
    tokens_in = estimate_tokens(request.system) if request.system else 0
    tokens_in += sum(estimate_tokens(m["content"]) for m in request.messages)
    return 1.0, float(tokens_in), float(min(EXPECTED_OUTPUT_TOKENS, request.max_tokens))


@dataclass(slots=True)
class Slot:
    """Held while a paced call runs; the caller stores the call's result in it."""

    result: CallResult | None = None


class ModelPacer:
    """The three buckets of one model; `acquire` waits until the call fits."""

    def __init__(self, model: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.model = model
        self._clock = clock
        self._buckets: list[_Bucket | None] = [None, None, None]
        self._admitted = [0.0, 0.0, 0.0]  # running totals charged, per kind
        self._turn = asyncio.Lock()  # first come, first served
        self._probed = asyncio.Event()  # set once the first call has come back
        self._probing = False
        self.paced = True  # False once a response came back without any rate-limit header
        self.waited_s = 0.0

    @property
    def active(self) -> bool:
        """True once any limit is known."""
        return any(b is not None for b in self._buckets)

    def delay_for(self, costs: tuple[float, float, float]) -> float:
        """Seconds until a call with ``costs`` fits every known bucket (0: now)."""
        now = self._clock()
        wait = 0.0
        for bucket, cost in zip(self._buckets, costs, strict=True):
            if bucket is not None:
                bucket.refill(now)
                wait = max(wait, bucket.wait_for(cost))
        return wait

    async def acquire(self, costs: tuple[float, float, float]) -> Ticket | None:
        """Wait (in arrival order) until the call fits, then charge it; None: not paced."""
        if not self._probed.is_set():
            if not self._probing:
                self._probing = True
                return self._charge(costs)
            started = self._clock()
            await self._probed.wait()
            self.waited_s += self._clock() - started
        if not self.paced:
            return None
        async with self._turn:
            while (wait := self.delay_for(costs)) > 0:
                self.waited_s += wait
                await asyncio.sleep(wait)
            return self._charge(costs)

    def _charge(self, costs: tuple[float, float, float]) -> Ticket:
        for bucket, cost in zip(self._buckets, costs, strict=True):
            if bucket is not None:
                bucket.level -= cost
        before = (self._admitted[0], self._admitted[1], self._admitted[2])
        for i, cost in enumerate(costs):
            self._admitted[i] += cost
        return Ticket(self.model, costs, before)

    def finished(self, ticket: Ticket, snapshot: RateLimitSnapshot | None) -> None:
        """A call came back: learn from its headers; the first one decides whether to pace."""
        if snapshot is not None:
            self.observe(ticket, snapshot)
        if not self._probed.is_set():
            self.paced = snapshot is not None
            self._probed.set()

    def abandoned(self) -> None:
        """A call ended without a result (cancelled): never leave the others waiting on it."""
        self._probed.set()

    def observe(self, ticket: Ticket, snapshot: RateLimitSnapshot) -> None:
        """Take the server's view from the response to ``ticket``'s call."""
        now = self._clock()
        for i, kind in enumerate(KINDS):
            quota = snapshot.quota(kind)
            if quota is None:
                continue
            # Charged after this call was admitted: the server may not have counted it yet.
            since = self._admitted[i] - ticket.admitted_before[i] - ticket.costs[i]
            rate = _rate(quota.limit, quota.remaining, quota.reset_in_s)
            bucket = self._buckets[i]
            if bucket is None:
                bucket = self._buckets[i] = _Bucket(quota.limit, rate, quota.limit, now)
            bucket.limit, bucket.rate = float(quota.limit), rate
            bucket.refill(now)
            bucket.level = min(float(quota.remaining), bucket.limit) - max(0.0, since)
        if snapshot.retry_after_s:
            # A 429 despite pacing: nothing fits until the server says so.
            for bucket in self._buckets:
                if bucket is not None:
                    bucket.level = min(bucket.level, -bucket.rate * snapshot.retry_after_s)


def _rate(limit: int, remaining: int, reset_in_s: float | None) -> float:
    """Refill per second: the gap to full over the time to full, else the limit per minute."""
    if reset_in_s and reset_in_s > 0.001 and limit - remaining >= 1:
        return (limit - remaining) / reset_in_s
    return limit / DEFAULT_WINDOW_S


class Pacing:
    """Pacers for every model of a run; the engine's one hook around each provider call."""

    def __init__(self, *, enabled: bool = True, clock: Callable[[], float] = time.monotonic):
        self.enabled = enabled
        self._clock = clock
        self._pacers: dict[str, ModelPacer] = {}

    def pacer(self, model: str) -> ModelPacer:
        found = self._pacers.get(model)
        if found is None:
            found = self._pacers[model] = ModelPacer(model, self._clock)
        return found

    @contextlib.asynccontextmanager
    async def slot(self, request: CallRequest) -> AsyncIterator[Slot]:
        """Wait until ``request`` fits, then hold the call; set ``slot.result`` inside."""
        ticket = await self.before_call(request)
        slot = Slot()
        try:
            yield slot
        finally:
            if slot.result is not None:
                self.after_call(ticket, slot.result)
            elif ticket is not None:
                self.pacer(ticket.model).abandoned()

    async def before_call(self, request: CallRequest) -> Ticket | None:
        """Wait until ``request`` fits its model's known limits; None when not pacing."""
        if not self.enabled:
            return None
        return await self.pacer(request.model).acquire(estimate_cost(request))

    def after_call(self, ticket: Ticket | None, result: CallResult) -> None:
        """Feed the response's rate-limit headers back into the model's buckets."""
        if ticket is not None:
            self.pacer(ticket.model).finished(ticket, result.rate_limits)

    @property
    def waited_s(self) -> float:
        """Total seconds calls waited for the pacer (for progress and benchmarks)."""
        return sum(p.waited_s for p in self._pacers.values())
