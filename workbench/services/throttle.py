"""Per-model admission control: a concurrency limit that halves on rate limits and recovers
slowly (AIMD), plus a pause honouring the server's retry-after for that model.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

THROTTLE_REASONS = ("rate_limit", "overloaded")


class ModelThrottle:
    """Limits concurrent calls to one model and slows down when the API pushes back.

    :param max_limit: the most calls in flight for this model
    :param recover_every: successes needed before the limit grows by one again
    """

    def __init__(self, max_limit: int, *, recover_every: int = 5) -> None:
        self.max_limit = max(1, max_limit)
        self.limit = self.max_limit
        self.in_use = 0
        self.paused_until = 0.0
        self.recover_every = recover_every
        self._successes = 0
        self._changed = asyncio.Condition()

    async def acquire(self) -> None:
        async with self._changed:
            while True:
                wait = self.paused_until - time.monotonic()
                if wait <= 0 and self.in_use < self.limit:
                    self.in_use += 1
                    return
                timeout = wait if wait > 0 else None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout)

    async def release(self, *, success: bool) -> None:
        async with self._changed:
            self.in_use -= 1
            if success:
                self._successes += 1
                if self._successes >= self.recover_every and self.limit < self.max_limit:
                    self.limit += 1
                    self._successes = 0
            self._changed.notify_all()

    def backoff(self, model: str, delay_s: float, reason: str) -> None:
        """Provider callback before a retry sleep: pause new calls and shrink the limit."""
        if reason in THROTTLE_REASONS or "rate" in reason or "overload" in reason:
            self.paused_until = max(self.paused_until, time.monotonic() + delay_s)
            self.limit = max(1, self.limit // 2)
            self._successes = 0
