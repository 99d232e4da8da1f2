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
from workbench.services.pricing import PriceTable
from workbench.services.rendering import RenderedRequest, render_request
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
    """

    concurrency: int = 8
    per_model_concurrency: int | None = None
    budget_usd: float | None = None
    use_cache: bool = True
    timeout_s: float = 600.0


@dataclass
class Progress:
    run_id: int
    total: int
    done: int = 0
    errors: int = 0
    cached: int = 0
    in_flight: int = 0
    spend_usd: float = 0.0
    unpriced: int = 0
    """Answered calls whose model has no price: their cost is unknown, not in `spend_usd`."""
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
    """What a view hears about a run. The engine calls every method, so a listener implements
    all of them (subclass `NullListener` to keep only the ones it cares about)."""

    def on_progress(self, progress: Progress) -> None: ...
    def on_cell_started(self, cell: Cell) -> None: ...
    def on_cell_text(self, cell_id: int, delta: str) -> None: ...
    def on_cell_reset(self, cell_id: int) -> None: ...
    def on_cell_finished(self, cell: Cell, call_id: int, record: CallRecord) -> None: ...


class NullListener:
    """A listener that ignores everything."""

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


def record_from_cache(
    cached: dict[str, Any], *, model: str, request: dict[str, Any], **links: Any
) -> CallRecord:
    """The log record of an answer reused from an identical earlier request; `links` as for
    `record_from_result`."""
    now = time.time()
    return CallRecord(
        model=model,
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
        **links,
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
            "unpriced_calls": progress.unpriced,
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
        links = {"run_id": cell.run_id, "cell_id": cell.id, "version_id": cell.version_id}
        self.listener.on_cell_started(cell)
        record = await self._answer(
            rendered,
            model=cell.model,
            use_cache=use_cache,
            progress=progress,
            on_text=lambda delta: self.listener.on_cell_text(cell.id, delta),
            on_retry=lambda: self.listener.on_cell_reset(cell.id),
            links=links,
        )
        # Shielded: once a call has been paid for, cancellation must not lose its record.
        call_id = await asyncio.shield(self._persist(record))
        progress.done += 1
        progress.errors += 0 if record.ok else 1
        progress.cached += 1 if record.cached_from is not None else 0
        progress.spend_usd += record.cost_usd or 0.0
        progress.unpriced += 1 if record.ok and record.cost_usd is None else 0
        progress.elapsed_s = time.monotonic() - started
        cell.status = "done" if record.ok else "error"
        cell.call_id = call_id
        self.listener.on_cell_finished(cell, call_id, record)
        self.listener.on_progress(progress)
        budget = self.options.budget_usd
        if budget is not None and progress.spend_usd >= budget:
            self._stop(f"the budget of ${budget:.2f} was reached", "cancelled")

    async def call(
        self,
        content: PromptContent,
        values: dict[str, str],
        *,
        model: str,
        use_cache: bool = True,
        **links: Any,
    ) -> tuple[CallRecord, int]:
        """One call outside a run's cells (the LLM judge), on the same path as a cell: the
        model's throttle, the provider's retries, this engine's prices and request cache, and
        the writer thread. `links` are CallRecord fields (source, version_id, prompt_name…).
        Returns the record and its call id once committed."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        accepted = self.catalog.accepted_params(model, content.params) if self.catalog else None
        rendered = render_request(
            content, values, model=model, accepted=accepted, timeout_s=self.options.timeout_s
        )
        record = await self._answer(
            rendered,
            model=model,
            use_cache=use_cache and self.options.use_cache,
            progress=None,
            on_text=None,
            on_retry=None,
            links=links,
        )
        call_id = await asyncio.shield(self._persist(record))
        return record, call_id

    async def _answer(
        self,
        rendered: RenderedRequest,
        *,
        model: str,
        use_cache: bool,
        progress: Progress | None,
        on_text: Callable[[str], None] | None,
        on_retry: Callable[[], None] | None,
        links: dict[str, Any],
    ) -> CallRecord:
        """The record of one request: an identical earlier answer, or a throttled provider
        call priced at this engine's prices."""
        request = rendered.as_dict()
        synthetic = self.provider.synthetic
        if use_cache:
            cached = await self.db(RunsRepo.find_cached, rendered.hash, synthetic)
            if cached is not None:
                return record_from_cache(cached, model=model, request=request, **links)
        throttle = self._throttle(model)
        await throttle.acquire()
        if progress is not None:
            progress.in_flight += 1
        call_started = time.time()
        ok = False

        def backoff(backoff_model: str, delay_s: float, reason: str) -> None:
            throttle.backoff(backoff_model, delay_s, reason)
            # The next attempt streams from scratch, so what the view showed so far is void.
            if on_retry is not None:
                on_retry()

        try:
            result = await self.provider.call(rendered.request, on_text=on_text, on_backoff=backoff)
            ok = result.ok
        finally:
            if progress is not None:
                progress.in_flight -= 1
            await throttle.release(success=ok)
        record = record_from_result(
            result,
            model=model,
            request=request,
            request_hash=rendered.hash,
            started_at=call_started,
            cost=self._cost(model, result, synthetic) if result.ok else None,
            synthetic=synthetic,
            **links,
        )
        if result.auth_failed:
            self._stop(
                f"{result.error_message or 'authentication failed'} — set a valid API key, "
                "then resume the run",
                "failed",
            )
        return record

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

    def _cost(self, model: str, result: CallResult, synthetic: bool) -> float | None:
        if synthetic:
            return 0.0  # an offline answer is not billed by anyone
        if self.prices is None:
            return None
        return self.prices.cost_for(model, result.usage, self._today)


def _finish_run(
    repo: RunsRepo, run_id: int, status: str, reason: str | None, totals: dict[str, Any]
) -> None:
    """Store the run's outcome with totals for the *whole* run, every resume included: the
    spend is read back from its logged calls (as `workbench report` reads it) and the elapsed
    time adds up, so the run header, the status bar and the report agree."""
    before = repo.get_run(run_id).get("totals") or {}
    spend = repo.spend_split(run_id)
    cumulative = dict(totals)
    cumulative["spend_usd"] = round(spend["real_usd"], 8)
    cumulative["unpriced_calls"] = spend["unpriced_calls"]
    cumulative["synthetic_calls"] = spend["synthetic_calls"]
    cumulative["elapsed_s"] = round(float(before.get("elapsed_s") or 0) + totals["elapsed_s"], 3)
    if before:
        cells = repo.cells(run_id)
        cumulative["resumed_cells"] = totals["cells"]  # what this session ran
        cumulative["cells"] = len(cells)
        cumulative["done"] = sum(c.status == "done" for c in cells)
        cumulative["errors"] = sum(c.status == "error" for c in cells)
    repo.set_status(run_id, status, reason=reason, totals=cumulative)
