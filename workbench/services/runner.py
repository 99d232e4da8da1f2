"""The run engine: executes a plan's cells concurrently, streams progress, logs every call.

Qt-free asyncio; the CLI runs it with `asyncio.run`, the GUI on a worker thread with its own loop.
All SQL happens on one writer thread (its own connection) so the event loop never waits on disk,
and each finished call is committed in one transaction before it counts as done. When the project
cannot be written, the writer (`call_writer.CallWriter`) journals every answered call instead and
the engine starts no more calls; the run ends "failed" with one message.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from workbench.core.models import PromptContent
from workbench.core.records import CallRecord, Cell
from workbench.inference.base import CallResult, Provider
from workbench.services.call_writer import CallWriter
from workbench.services.model_list import ModelCatalog
from workbench.services.pacing import Pacing
from workbench.services.pricing import PriceTable
from workbench.services.prompt_caching import PrefixCaching, run_prefix_caching
from workbench.services.rendering import FileSource, RenderedRequest, render_request
from workbench.services.throttle import ModelThrottle
from workbench.storage.runs_repo import RunsRepo
from workbench.storage.write_errors import ProjectWriteError

if TYPE_CHECKING:
    from workbench.services.live_scoring import CellVerdict

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
    def on_cell_scored(self, verdict: CellVerdict) -> None: ...


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

    def on_cell_scored(self, verdict: CellVerdict) -> None:
        """A finished cell's expectations were scored (runs over examples with expectations)."""


def call_details(result: CallResult) -> dict[str, Any] | None:
    """The tool calls and thinking of a result, for storing with the call (None: neither)."""
    details: dict[str, Any] = {}
    if result.tool_calls:
        details["tool_calls"] = result.tool_calls
    if result.thinking:
        details["thinking"] = result.thinking
    if result.usage.thinking_tokens:
        details["thinking_tokens"] = result.usage.thinking_tokens
    return details or None


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
        details=call_details(result),
        attempts=list(result.attempts),
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
        details=cached.get("details"),
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
        files: FileSource | None = None,
    ) -> None:
        self.provider = provider
        self.files = files
        self.prices = prices
        self.catalog = catalog
        self.options = options or RunOptions()
        self.listener: RunListener = listener or NullListener()
        self._writer = CallWriter(
            connect, on_failure=lambda reason: self._stop_starting(reason, "failed")
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._task_error: BaseException | None = None
        self._stop_reason: str | None = None
        self._stop_status = "cancelled"
        self._throttles: dict[str, ModelThrottle] = {}
        self.pacing = Pacing(enabled=self.options.pace)
        self.caching = PrefixCaching()
        self._today = dt.date.today()

    # -- writer thread -----------------------------------------------------------------------
    async def db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(repo, *args)` on the writer thread (see `CallWriter.db`)."""
        return await self._writer.db(fn, *args)

    def close(self) -> None:
        self._writer.close()

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
        self._stop_starting(reason, status)
        for task in list(self._tasks):
            task.cancel()

    def _stop_starting(self, reason: str, status: str) -> None:
        """Start no more calls; those in flight finish, so what they answer is kept."""
        if self._stop_reason is None:
            self._stop_reason = reason
            self._stop_status = status

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None and self._task_error is None:
            self._task_error = task.exception()  # retrieved here, reported when the run ends

    # -- execution -----------------------------------------------------------------------------
    async def execute(
        self, run_id: int, cells: list[Cell], contents: dict[int, PromptContent]
    ) -> RunOutcome:
        """Run `cells` (all pending) of run `run_id` and finish the run row.

        Cancelling the task that awaits this ends the run as "cancelled" (finished calls kept)
        and then re-raises the cancellation.
        """
        self._loop = asyncio.get_running_loop()
        progress = Progress(run_id=run_id, total=len(cells))
        started = time.monotonic()
        limit = asyncio.Semaphore(max(1, self.options.concurrency))
        use_cache = self.options.use_cache and not any(c.repeat > 0 for c in cells)
        self.caching = run_prefix_caching(
            cells, contents, enabled=self.options.auto_cache, files=self.files
        )
        self.listener.on_progress(progress)
        started_tasks: list[asyncio.Task[None]] = []

        async def run_one(cell: Cell) -> None:
            try:
                await self._run_cell(cell, contents[cell.version_id], progress, started, use_cache)
            finally:
                limit.release()

        cancelled_from_outside = False
        try:
            for cell in cells:
                await limit.acquire()
                if self._stop_reason is not None:
                    limit.release()
                    break
                task = asyncio.create_task(run_one(cell))
                self._tasks.add(task)
                started_tasks.append(task)
                task.add_done_callback(self._task_done)
            if started_tasks:
                await asyncio.gather(*started_tasks, return_exceptions=True)
        except asyncio.CancelledError:
            # The caller was cancelled (asyncio.run on Ctrl+C or a forwarded SIGTERM): stop
            # like `cancel()` and still finish the run row before passing the cancellation on.
            cancelled_from_outside = True
            self._stop("cancelled", "cancelled")
            await asyncio.gather(*started_tasks, return_exceptions=True)
        # Calls finished just before a cancel are still queued for the writer: keep them.
        await self._writer.drain()

        progress.elapsed_s = time.monotonic() - started
        status, reason = await self._finish(run_id, progress)
        progress.status = status
        self.listener.on_progress(progress)
        if cancelled_from_outside:
            raise asyncio.CancelledError
        return RunOutcome(run_id, status, reason, progress, self._totals(progress))

    def _totals(self, progress: Progress) -> dict[str, Any]:
        return {
            "cells": progress.total,
            "done": progress.done,
            "errors": progress.errors,
            "cached": progress.cached,
            "spend_usd": round(progress.spend_usd, 8),
            "unpriced_calls": progress.unpriced,
            "elapsed_s": round(progress.elapsed_s, 3),
            **self._writer.failure_totals(),
        }

    async def _finish(self, run_id: int, progress: Progress) -> tuple[str, str | None]:
        """Mark unfinished cells and write the run's final status; returns (status, reason)."""
        if self._writer.failure is not None:
            message = self._writer.failure_message(run_id)
            # One attempt: the project may be writable again (a lock released). If not, the
            # run stays "running" and the next open marks it interrupted; either way it resumes.
            with contextlib.suppress(Exception):
                await self.db(RunsRepo.fail_run, run_id, message, self._totals(progress))
            return "failed", message
        if self._task_error is not None:
            error = self._task_error
            self._stop_starting(f"internal error ({type(error).__name__}: {error})", "failed")
        status, reason = (
            (self._stop_status, self._stop_reason) if self._stop_reason else ("done", None)
        )
        try:
            if self._stop_reason is not None:
                await self.db(RunsRepo.mark_unfinished_cells, run_id, "cancelled")
            await self.db(_finish_run, run_id, status, reason, self._totals(progress))
        except ProjectWriteError as exc:
            # Every answer is stored; only the run's own row could not be updated. It stays
            # "running" until the next open marks it interrupted, and resumes like any other.
            self._writer.fail(exc)
            return "failed", self._writer.failure_message(run_id)
        return status, reason

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
            thinking=(
                self.catalog.accepted_thinking(cell.model, content) if self.catalog else None
            ),
            files=self.files,
            timeout_s=self.options.timeout_s,
        )
        rendered.request = self.caching.apply(cell.version_id, rendered.request)
        links = {"run_id": cell.run_id, "cell_id": cell.id, "version_id": cell.version_id}
        self.listener.on_cell_started(cell)
        try:
            record = await self._answer(
                rendered,
                model=cell.model,
                use_cache=use_cache,
                progress=progress,
                on_text=lambda delta: self.listener.on_cell_text(cell.id, delta),
                on_retry=lambda: self.listener.on_cell_reset(cell.id),
                links=links,
            )
        except ProjectWriteError:
            return  # the cache could not be read, so nothing was sent; a resume runs the cell
        # Shielded: once a call has been paid for, cancellation must not lose its record.
        call_id = await asyncio.shield(self._writer.persist(record))
        progress.done += 1
        progress.errors += 0 if record.ok else 1
        progress.cached += 1 if record.cached_from is not None else 0
        progress.spend_usd += record.cost_usd or 0.0
        progress.unpriced += 1 if record.ok and record.cost_usd is None else 0
        progress.elapsed_s = time.monotonic() - started
        cell.status = "done" if record.ok else "error"
        cell.call_id = call_id
        # A call kept in the journal has no id yet (0 is no call: views look it up and skip).
        self.listener.on_cell_finished(cell, call_id or 0, record)
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
        call_id = await asyncio.shield(self._writer.persist(record))
        if call_id is None:  # kept in the journal: the project cannot be written now
            raise ProjectWriteError(self._writer.failure or "the project could not be written")
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
            try:
                cached = await self.db(RunsRepo.find_cached, rendered.hash, synthetic)
            except ProjectWriteError as exc:
                self._writer.fail(exc)
                raise
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
            async with self.pacing.slot(rendered.request) as paced:
                call_started = time.time()  # the pacing wait is not the model's latency
                result = paced.result = await self.provider.call(
                    rendered.request, on_text=on_text, on_backoff=backoff
                )
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
            # Calls already in flight go on: whatever they answer is paid for and kept.
            self._stop_starting(
                f"{result.error_message or 'authentication failed'} — set a valid API key, "
                "then resume the run",
                "failed",
            )
        return record

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
    before = repo.get_run(run_id).totals or {}
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
