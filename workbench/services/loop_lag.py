"""Keeps recorded latency honest: a saturated event loop delays reading responses, so the engine
would log its own queueing as the provider's latency (DESIGN.md §9). `LoopLagGuard` measures
how late the loop wakes up and holds back new calls while it is late.
"""

from __future__ import annotations

import asyncio
import time


class LoopLagGuard:
    """Samples event-loop lag every `interval_s`; `wait_until_responsive` blocks while it is high.

    :param threshold_ms: lag above which new calls wait (None disables the guard)
    """

    def __init__(self, threshold_ms: float | None = 4.0, interval_s: float = 0.005) -> None:
        self.threshold_ms = threshold_ms
        self.interval_s = interval_s
        self.lag_ms = 0.0
        self.max_lag_ms = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.threshold_ms is not None and self._task is None:
            self._task = asyncio.create_task(self._sample())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _sample(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(self.interval_s)
            late = (time.perf_counter() - before - self.interval_s) * 1000
            # Smoothed so one slow callback does not stall admissions.
            self.lag_ms = 0.7 * self.lag_ms + 0.3 * max(0.0, late)
            self.max_lag_ms = max(self.max_lag_ms, late)

    async def wait_until_responsive(self, in_flight: int) -> None:
        """Wait while the loop lags, but never when nothing is in flight (progress guaranteed)."""
        if self.threshold_ms is None:
            return
        while in_flight > 0 and self.lag_ms > self.threshold_ms:
            await asyncio.sleep(self.interval_s)
