"""The run engine: executes a plan's cells concurrently, streams progress, logs every call.

Qt-free asyncio; the CLI runs it with `asyncio.run`, the GUI on a worker thread with its own loop.
All SQL happens on one writer thread (its own connection) so the event loop never waits on disk,
and each finished call is committed in one transaction before it counts as done.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from workbench.core.models import PromptContent
from workbench.core.records import AttemptRecord, CallRecord, Cell
from workbench.inference.base import CallResult, Provider
from workbench.services.model_catalog import ModelCatalog
from workbench.services.pacing import Pacing
from workbench.services.pricing import PriceTable
from workbench.services.prompt_caching import PrefixCaching, run_prefix_caching
from workbench.services.rendering import render_request
from workbench.services.throttle import ModelThrottle
from workbench.storage.runs_repo import RunsRepo

T = TypeVar("T")


@dataclass
class RunOptions:
    """How to execute a run.

    :param concurrency: calls in flight at once, across all models
    :param per_model_concurrency: calls in flight per model (default: `concurrency`)
    :param budget_usd: stop starting calls once the run's actual spend reaches this
    :param use_cache: reuse an identical earlier answer from this project (not with repeats > 1)
    :param timeout_s: limit for one attempt of one call
    :param auto_cache: mark the prompt prefix the run's cells share for prompt caching where
        it is long enough and reused (a version that marks caching itself is left alone)
    :param pace: pace each model ahead of the rate limits its responses report (AIMD on 429s
        stays the fallback either way)
    """

    concurrency: int = 8
    per_model_concurrency: int | None = None
    budget_usd: float | None = None
    use_cache: bool = True
    timeout_s: float = 600.0
    pace: bool = True
    auto_cache: bool = True


@dataclass
class Progress:
    run_id: int
    total: int
    done: int = 0
    errors: int = 0
    cached: int = 0
    in_flight: int = 0
    spend_usd: float = 0.0
    elapsed_s: float = 0.0
    status: str = "running"

    @property
    def eta_s(self) -> float | None:
        if not self.done or self.done >= self.total:
            return None if self.done < self.total else 0.0
        return self.elapsed_s / self.done * (self.total - self.done)


@dataclass
class RunOutcome:
    run_id: int
    status: str
    reason: str | None
    progress: Progress
    totals: dict[str, Any] = field(default_factory=dict)


class RunListener(Protocol):
    """What a view wants to hear; every method is optional (see `NullListener`)."""

    def on_progress(self, progress: Progress) -> None: ...
    def on_cell_started(self, cell: Cell) -> None: ...
    def on_cell_text(self, cell_id: int, delta: str) -> None: ...
    def on_cell_reset(self, cell_id: int) -> None: ...
    def on_cell_finished(self, cell: Cell, call_id: int, record: CallRecord) -> None: ...


class NullListener:
    def on_progress(self, progress: Progress) -> None:
        pass

    def on_cell_started(self, cell: Cell) -> None:
        pass

    def on_cell_text(self, cell_id: int, delta: str) -> None:
        pass

    def on_cell_reset(self, cell_id: int) -> None:
        """A retry starts: text streamed so far for this cell no longer counts."""

    def on_cell_finished(self, cell: Cell, call_id: int, record: CallRecord) -> None:
        pass


def record_from_result(
    result: CallResult,
    *,
    model: str,
    request: dict[str, Any],
    request_hash: str,
    started_at: float,
    cost: float | None,
    synthetic: bool,
    **links: Any,
) -> CallRecord:
    """The log record of a provider call; `links` are CallRecord fields such as run_id, cell_id,
    version_id, source, prompt_name and prompt_version."""
    usage = result.usage
    return CallRecord(
        model=model,
        request=request,
        request_hash=request_hash,
        started_at=started_at,
        finished_at=time.time(),
        output=result.text,
        stop_reason=result.stop_reason,
        input_tokens=usage.input_tokens if result.ok else None,
        output_tokens=usage.output_tokens if result.ok else None,
        cache_creation_tokens=usage.cache_creation_input_tokens if result.ok else None,
        cache_read_tokens=usage.cache_read_input_tokens if result.ok else None,
        cost_usd=cost,
        latency_ms=result.latency_ms,
        ttft_ms=result.ttft_ms,
        total_ms=result.total_ms,
        error_type=result.error_type,
        error_message=result.error_message,
        partial_text=result.partial_text or None,
        request_id=result.request_id,
        synthetic=synthetic,
        attempts=[
            AttemptRecord(
                a.number,
                a.request_id,
                a.status,
                a.error_type,
                a.error_message,
                a.started_at,
                a.duration_ms,
                a.retry_after_s,
                a.backoff_s,
            )
            for a in result.attempts
        ],
        **links,
    )


def record_from_cache(cached: dict[str, Any], *, cell: Cell, request: dict[str, Any]) -> CallRecord:
    now = time.time()
    return CallRecord(
        model=cell.model,
        request=request,
        request_hash=cached["request_hash"],
        started_at=now,
        finished_at=now,
        output=cached["output"],
        stop_reason=cached["stop_reason"],
        input_tokens=cached["input_tokens"],
        output_tokens=cached["output_tokens"],
        cache_creation_tokens=cached["cache_creation_tokens"],
        cache_read_tokens=cached["cache_read_tokens"],
        cost_usd=0.0,  # a cached answer costs nothing
        latency_ms=cached["latency_ms"],
        ttft_ms=cached["ttft_ms"],
        total_ms=0.0,
        request_id=cached["request_id"],
        cached_from=cached["id"],
        synthetic=bool(cached["synthetic"]),
        run_id=cell.run_id,
        cell_id=cell.id,
        version_id=cell.version_id,
    )


class RunEngine:
    """Executes cells of one run. Create one per run; `cancel()` may be called from any thread.

    :param connect: opens the storage connection; called on the engine's writer thread
    """

    def __init__(
        self,
        *,
        connect: Callable[[], RunsRepo],
        provider: Provider,
        prices: PriceTable | None = None,
        catalog: ModelCatalog | None = None,
        options: RunOptions | None = None,
        listener: RunListener | None = None,
    ) -> None:
        self.provider = provider
        self.prices = prices
        self.catalog = catalog
        self.options = options or RunOptions()
        self.listener: RunListener = listener or NullListener()
        self._connect = connect
        self._repo: RunsRepo | None = None
        self._writer = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="workbench-writer", initializer=self._open_repo
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        # Group commit: records that finish while a write is in progress go in the next batch.
        self._write_batch: list[tuple[CallRecord, asyncio.Future[int]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._stop_reason: str | None = None
        self._stop_status = "cancelled"
        self._throttles: dict[str, ModelThrottle] = {}
        self.pacing = Pacing(enabled=self.options.pace)
        self.caching = PrefixCaching()
        self._today = dt.date.today()

    # -- writer thread -----------------------------------------------------------------------
    def _open_repo(self) -> None:
        self._repo = self._connect()

    async def db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(repo, *args)` on the writer thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, lambda: fn(self._require_repo(), *args))

    def _require_repo(self) -> RunsRepo:
        assert self._repo is not None, "writer connection not open"
        return self._repo

    def close(self) -> None:
        def _close() -> None:
            if self._repo is not None:
                self._repo.db.close()
                self._repo = None

        self._writer.submit(_close).result()
        self._writer.shutdown(wait=True)

    # -- control -------------------------------------------------------------------------------
    def cancel(self, reason: str = "cancelled by the user") -> None:
        """Stop starting calls and abort those in flight; thread-safe."""
        loop = self._loop
        if loop is None:
            self._stop_reason = reason
            return
        # After the run ended its loop is closed and there is nothing left to stop.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._stop, reason, "cancelled")

    def _stop(self, reason: str, status: str) -> None:
        if self._stop_reason is None:
            self._stop_reason = reason
            self._stop_status = status
        for task in list(self._tasks):
            task.cancel()

    # -- execution -----------------------------------------------------------------------------
    async def execute(
        self, run_id: int, cells: list[Cell], contents: dict[int, PromptContent]
    ) -> RunOutcome:
        """Run `cells` (all pending) of run `run_id` and finish the run row."""
        self._loop = asyncio.get_running_loop()
        progress = Progress(run_id=run_id, total=len(cells))
        started = time.monotonic()
        limit = asyncio.Semaphore(max(1, self.options.concurrency))
        use_cache = self.options.use_cache and not any(c.repeat > 0 for c in cells)
        self.caching = run_prefix_caching(cells, contents, enabled=self.options.auto_cache)
        self.listener.on_progress(progress)

        async def run_one(cell: Cell) -> None:
            try:
                await self._run_cell(cell, contents[cell.version_id], progress, started, use_cache)
            finally:
                limit.release()

        for cell in cells:
            await limit.acquire()
            if self._stop_reason is not None:
                limit.release()
                break
            task = asyncio.create_task(run_one(cell))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        # Calls finished just before a cancel are still queued for the writer: keep them.
        while self._flusher is not None and not self._flusher.done():
            await asyncio.shield(self._flusher)

        progress.elapsed_s = time.monotonic() - started
        if self._stop_reason is not None:
            await self.db(RunsRepo.mark_unfinished_cells, run_id, "cancelled")
            status, reason = self._stop_status, self._stop_reason
        else:
            status, reason = "done", None
        totals = {
            "cells": progress.total,
            "done": progress.done,
            "errors": progress.errors,
            "cached": progress.cached,
            "spend_usd": round(progress.spend_usd, 8),
            "elapsed_s": round(progress.elapsed_s, 3),
        }
        await self.db(_finish_run, run_id, status, reason, totals)
        progress.status = status
        self.listener.on_progress(progress)
        return RunOutcome(run_id, status, reason, progress, totals)

    def _throttle(self, model: str) -> ModelThrottle:
        throttle = self._throttles.get(model)
        if throttle is None:
            per_model = self.options.per_model_concurrency or self.options.concurrency
            throttle = self._throttles[model] = ModelThrottle(per_model)
        return throttle

    async def _run_cell(
        self,
        cell: Cell,
        content: PromptContent,
        progress: Progress,
        started: float,
        use_cache: bool,
    ) -> None:
        accepted = (
            self.catalog.accepted_params(cell.model, content.params) if self.catalog else None
        )
        rendered = render_request(
            content,
            cell.example_vars,
            model=cell.model,
            accepted=accepted,
            timeout_s=self.options.timeout_s,
        )
        rendered.request = self.caching.apply(cell.version_id, rendered.request)
        request = rendered.as_dict()
        synthetic = bool(getattr(self.provider, "synthetic", False))
        self.listener.on_cell_started(cell)
        record: CallRecord | None = None
        if use_cache:
            cached = await self.db(RunsRepo.find_cached, rendered.hash, synthetic)
            if cached is not None:
                record = record_from_cache(cached, cell=cell, request=request)
        if record is None:
            throttle = self._throttle(cell.model)
            await throttle.acquire()
            progress.in_flight += 1
            call_started = time.time()
            ok = False
            try:
                async with self.pacing.slot(rendered.request) as paced:
                    call_started = time.time()
                    result = paced.result = await self.provider.call(
                        rendered.request,
                        on_text=lambda delta: self.listener.on_cell_text(cell.id, delta),
                        on_backoff=lambda model, delay, reason: self._on_backoff(
                            cell, throttle, model, delay, reason
                        ),
                    )
                ok = result.ok
            finally:
                progress.in_flight -= 1
                await throttle.release(success=ok)
            cost = self._cost(cell.model, result) if result.ok else None
            record = record_from_result(
                result,
                model=cell.model,
                request=request,
                request_hash=rendered.hash,
                started_at=call_started,
                cost=cost,
                synthetic=synthetic,
                run_id=cell.run_id,
                cell_id=cell.id,
                version_id=cell.version_id,
            )
            if result.auth_failed:
                self._stop(
                    f"{result.error_message or 'authentication failed'} — set a valid API key, "
                    "then resume the run",
                    "failed",
                )
        # Shielded: once a call has been paid for, cancellation must not lose its record.
        call_id = await asyncio.shield(self._persist(record))
        progress.done += 1
        progress.errors += 0 if record.ok else 1
        progress.cached += 1 if record.cached_from is not None else 0
        progress.spend_usd += record.cost_usd or 0.0
        progress.elapsed_s = time.monotonic() - started
        cell.status = "done" if record.ok else "error"
        cell.call_id = call_id
        self.listener.on_cell_finished(cell, call_id, record)
        self.listener.on_progress(progress)
        budget = self.options.budget_usd
        if budget is not None and progress.spend_usd >= budget:
            self._stop(f"the budget of ${budget:.2f} was reached", "cancelled")

    def _on_backoff(
        self, cell: Cell, throttle: ModelThrottle, model: str, delay_s: float, reason: str
    ) -> None:
        throttle.backoff(model, delay_s, reason)
        # The next attempt streams from scratch, so what the view showed so far is void.
        reset = getattr(self.listener, "on_cell_reset", None)  # optional for listeners
        if reset is not None:
            reset(cell.id)

    def _persist(self, record: CallRecord) -> asyncio.Future[int]:
        """Queue `record` for the writer; the future resolves to its call id once committed."""
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._write_batch.append((record, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return future

    async def _flush(self) -> None:
        # One transaction per batch: under load many calls share a commit, when idle each call
        # is committed on its own as soon as it finishes.
        while self._write_batch:
            batch, self._write_batch = self._write_batch, []
            try:
                ids = await self.db(RunsRepo.record_calls, [record for record, _ in batch])
            except BaseException as exc:  # noqa: BLE001 - handed to every waiter
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                continue
            for (_, future), call_id in zip(batch, ids, strict=True):
                if not future.done():
                    future.set_result(call_id)

    def _cost(self, model: str, result: CallResult) -> float | None:
        if self.prices is None:
            return None
        return self.prices.cost_for(model, result.usage, self._today)


def _finish_run(
    repo: RunsRepo, run_id: int, status: str, reason: str | None, totals: dict[str, Any]
) -> None:
    repo.set_status(run_id, status, reason=reason, totals=totals)
