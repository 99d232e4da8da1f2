"""Runs through the Message Batches API: half price, results within 24 hours.

A batch run is an ordinary run whose cells are answered by batches instead of live calls.
Each batch id is stored the moment the API returns it, so closing the app or the terminal
loses nothing; `collect` (any later process) writes each answer once, priced at the batch
rate, in the same transaction that marks its request stored. Cache hits are written at once
and never submitted; errored, expired and cancelled requests become error cells that a resume
submits again. Writes go through the project's own connection in pages: collecting is not
latency-bound like a live run, so no writer thread is needed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.core.errors import BadInput
from workbench.core.models import PromptContent
from workbench.core.records import CallRecord, Cell
from workbench.inference.batches import (
    REQUEST_OVERHEAD_BYTES,
    AnthropicBatches,
    BatchStatus,
    encoded_request,
)
from workbench.services.file_source import project_file_source
from workbench.services.planner import RunPlan
from workbench.services.pricing import PriceTable
from workbench.services.project_models import model_catalog, price_table
from workbench.services.prompt_caching import run_prefix_caching
from workbench.services.rendering import RenderedRequest, render_request
from workbench.services.runner import record_from_cache, record_from_result
from workbench.storage.project import Project

# The API's per-batch limits (Message Batches documentation): whichever is reached first.
MAX_REQUESTS_PER_BATCH = 100_000
MAX_BYTES_PER_BATCH = 256 * 1024 * 1024
WRITE_PAGE = 500  # answers per transaction while collecting
WAITING = "waiting for Message Batches; collect with `workbench batch collect`"


@dataclass(frozen=True, slots=True)
class BatchLimits:
    """Per-batch limits; smaller ones let tests split a run into several batches."""

    max_requests: int = MAX_REQUESTS_PER_BATCH
    max_bytes: int = MAX_BYTES_PER_BATCH


@dataclass
class BatchReport:
    """What a submit, status or collect did and where the run stands."""

    run_id: int
    submitted: int = 0
    cached: int = 0
    stored: int = 0
    errors: int = 0
    batches: list[dict[str, Any]] = field(default_factory=list)
    run_status: str = "interrupted"

    @property
    def open_batches(self) -> int:
        return sum(1 for b in self.batches if b["status"] != "collected")


def make_batches_client(base_url: str | None = None) -> AnthropicBatches:
    """The Message Batches client with the key from the keyring or the environment."""
    from workbench.inference.keys import require_api_key

    return AnthropicBatches(api_key=require_api_key(), base_url=base_url)


def batch_estimate(plan: RunPlan, prices: PriceTable, today: dt.date | None = None) -> float | None:
    """The plan's estimated cost at the batch price (None if any model's price is unknown)."""
    total = 0.0
    for est in plan.estimates.values():
        cost = prices.estimate_cost(
            est.model, est.input_tokens, est.output_tokens, today or dt.date.today(), batch=True
        )
        if cost is None:
            return None
        total += cost
    return total


def chunk_requests(encoded: list[tuple[int, str, str, bytes]], limits: BatchLimits) -> list[list]:
    """Split ``(cell_id, custom_id, hash, bytes)`` into batches within both limits."""
    budget = limits.max_bytes - REQUEST_OVERHEAD_BYTES
    chunks: list[list[tuple[int, str, str, bytes]]] = []
    current: list[tuple[int, str, str, bytes]] = []
    size = 0
    for item in encoded:
        length = len(item[3]) + 1
        if length > budget:
            raise BadInput(
                f"cell #{item[0]}: its request alone is over the batch size limit",
                hint="Run it without --batch.",
            )
        if current and (len(current) >= limits.max_requests or size + length > budget):
            chunks.append(current)
            current, size = [], 0
        current.append(item)
        size += length
    if current:
        chunks.append(current)
    return chunks


class _Renderer:
    """Renders a run's cells exactly as the live engine would."""

    def __init__(self, project: Project, contents: dict[int, PromptContent]) -> None:
        self._catalog = model_catalog(project)
        self._contents = contents
        self.files = project_file_source(project)

    def __call__(self, cell: Cell) -> RenderedRequest:
        content = self._contents[cell.version_id]
        return render_request(
            content,
            cell.example_vars,
            model=cell.model,
            accepted=self._catalog.accepted_params(cell.model, content.params),
            thinking=self._catalog.accepted_thinking(cell.model, content),
            files=self.files,
        )


async def submit_batch_run(
    project: Project,
    plan: RunPlan,
    client: AnthropicBatches,
    *,
    use_cache: bool = True,
    limits: BatchLimits | None = None,
) -> BatchReport:
    """Create the run and its cells, answer cache hits, submit the rest as batches."""
    if not plan.ok:
        raise BadInput("the run plan has problems: " + "; ".join(plan.problems[:3]))
    project.require_writable("start a batch run")
    run_id = project.runs.create_run(
        provider="anthropic-batch", synthetic=False, plan=plan.to_dict(), cells=plan.cells
    )
    return await _submit(project, run_id, client, use_cache, limits or BatchLimits())


async def resume_batch_run(
    project: Project,
    run_id: int,
    client: AnthropicBatches,
    *,
    use_cache: bool = True,
    limits: BatchLimits | None = None,
) -> BatchReport:
    """Submit again every cell of the run that has no answer and is in no open batch."""
    project.require_writable("resume a batch run")
    project.runs.get_run(run_id)  # NotFound for a wrong id
    return await _submit(project, run_id, client, use_cache, limits or BatchLimits())


async def _submit(
    project: Project, run_id: int, client: AnthropicBatches, use_cache: bool, limits: BatchLimits
) -> BatchReport:
    repo = project.batches
    busy = repo.cells_in_open_batches(run_id)
    cells = [c for c in project.runs.cells(run_id) if c.status != "done" and c.id not in busy]
    contents = project.runs.version_contents(run_id)
    render = _Renderer(project, contents)
    caching = run_prefix_caching(cells, contents, files=render.files)
    use_cache = use_cache and not any(c.repeat > 0 for c in cells)
    report = BatchReport(run_id)
    hits: list[CallRecord] = []
    encoded: list[tuple[int, str, str, bytes]] = []
    for cell in cells:
        rendered = render(cell)
        cached = project.runs.find_cached(rendered.hash, False) if use_cache else None
        if cached is not None:
            hits.append(
                record_from_cache(
                    cached,
                    model=cell.model,
                    request=rendered.as_dict(),
                    run_id=cell.run_id,
                    cell_id=cell.id,
                    version_id=cell.version_id,
                )
            )
            continue
        custom_id = f"cell-{cell.id}"
        request = caching.apply(cell.version_id, rendered.request)
        encoded.append((cell.id, custom_id, rendered.hash, encoded_request(custom_id, request)))
    if hits:
        project.runs.record_calls(hits)
        report.cached = len(hits)
    try:
        for chunk in chunk_requests(encoded, limits):
            status = await client.create([item[3] for item in chunk])
            # Stored before anything else can fail: the batch is paid for from here on.
            repo.add_batch(
                run_id,
                status.id,
                [(cell_id, custom_id, h) for cell_id, custom_id, h, _ in chunk],
                expires_at=status.expires_at,
            )
            report.submitted += len(chunk)
    finally:
        # Even when a later batch is refused, the run must not stay "running".
        _settle_run(project, run_id, report)
    return report


async def refresh(
    project: Project, client: AnthropicBatches, run_id: int | None = None
) -> list[dict[str, Any]]:
    """Ask the API about every open batch (of one run, or all) and store what it says."""
    repo = project.batches
    for row in repo.batches(run_id, open_only=True):
        status = await client.retrieve(row["batch_id"])
        repo.update_status(row["id"], status.processing_status, status.counts, status.ended_at)
    return repo.batches(run_id)


async def collect(
    project: Project,
    client: AnthropicBatches,
    run_id: int | None = None,
    *,
    wait: bool = False,
    poll_s: float = 30.0,
    on_update: Callable[[list[dict[str, Any]]], None] | None = None,
) -> list[BatchReport]:
    """Store the answers of every ended batch; with ``wait``, poll until none is open."""
    project.require_writable("collect batch results")
    repo = project.batches
    runs = [run_id] if run_id is not None else repo.runs_with_open_batches()
    reports = {r: BatchReport(r) for r in runs}
    while True:
        rows = await refresh(project, client, run_id)
        if on_update is not None:
            on_update(rows)
        for row in rows:
            if row["status"] == "ended" and row["run_id"] in reports:
                await _collect_batch(project, client, row, reports[row["run_id"]])
        for rid, report in reports.items():
            _settle_run(project, rid, report)
        if not wait or not any(r.open_batches for r in reports.values()):
            return list(reports.values())
        await asyncio.sleep(poll_s)


async def cancel(
    project: Project, client: AnthropicBatches, run_id: int | None = None
) -> list[dict[str, Any]]:
    """Ask the API to cancel every batch still in progress; collect then stores what ran."""
    project.require_writable("cancel batches")
    repo = project.batches
    for row in repo.batches(run_id, open_only=True):
        if row["status"] == "in_progress":
            status = await client.cancel(row["batch_id"])
            repo.update_status(row["id"], status.processing_status, status.counts, status.ended_at)
    return repo.batches(run_id)


async def _collect_batch(
    project: Project, client: AnthropicBatches, row: dict[str, Any], report: BatchReport
) -> None:
    repo = project.batches
    pending = repo.pending_cells(row["id"])
    if pending:
        cells = {c.id: c for c in project.runs.cells(row["run_id"])}
        render = _Renderer(project, project.runs.version_contents(row["run_id"]))
        prices, today = price_table(project), dt.date.today()
        started = _epoch(row["created_at"])
        page: list[tuple[str, CallRecord]] = []
        async for custom_id, result in client.results(row["batch_id"]):
            link = pending.pop(custom_id, None)
            if link is None:
                continue  # stored by an earlier collect, or not ours
            cell = cells[link["cell_id"]]
            rendered = render(cell)
            cost = (
                prices.cost_for(cell.model, result.usage, today, batch=True) if result.ok else None
            )
            record = record_from_result(
                result,
                model=cell.model,
                request=rendered.as_dict(),
                request_hash=link["request_hash"],
                started_at=started,
                cost=cost,
                synthetic=False,
                run_id=cell.run_id,
                cell_id=cell.id,
                version_id=cell.version_id,
            )
            page.append((custom_id, record))
            report.stored += 1
            report.errors += 0 if result.ok else 1
            if len(page) >= WRITE_PAGE:
                repo.store_results(row["id"], page)
                page = []
        if page:
            repo.store_results(row["id"], page)
        if pending:
            # The API ended the batch without a result for these: never leave them hanging.
            missing = [
                (cid, _missing(cells[link["cell_id"]], link, render))
                for cid, link in pending.items()
            ]
            repo.store_results(row["id"], missing)
            report.errors += len(missing)
    repo.mark_collected(row["id"])


def _missing(cell: Cell, link: dict[str, Any], render: _Renderer) -> CallRecord:
    now = time.time()
    return CallRecord(
        model=cell.model,
        request=render(cell).as_dict(),
        request_hash=link["request_hash"],
        started_at=now,
        finished_at=now,
        error_type="server_error",
        error_message="the batch ended without a result for this request; resume to send it again",
        run_id=cell.run_id,
        cell_id=cell.id,
        version_id=cell.version_id,
    )


def _settle_run(project: Project, run_id: int, report: BatchReport) -> None:
    """Finish the run once no batch is open; until then it waits, marked as such."""
    repo = project.batches
    report.batches = repo.batches(run_id)
    cells = project.runs.cells(run_id)
    done = sum(1 for c in cells if c.status == "done")
    errors = sum(1 for c in cells if c.status == "error")
    totals = {
        "cells": len(cells),
        "done": done,
        "errors": errors,
        "cached": report.cached,
        "spend_usd": round(project.runs.spend(run_id), 8),
        "elapsed_s": 0.0,
        "batches": len(report.batches),
    }
    if report.open_batches:
        report.run_status = "interrupted"
        project.runs.set_status(run_id, "interrupted", reason=WAITING, totals=totals)
    else:
        unfinished = len(cells) - done - errors
        report.run_status = "done" if unfinished == 0 else "interrupted"
        reason = None if unfinished == 0 else f"{unfinished} cells were never submitted; resume"
        project.runs.set_status(run_id, report.run_status, reason=reason, totals=totals)


def _epoch(iso: str | None) -> float:
    if not iso:
        return time.time()
    return dt.datetime.fromisoformat(iso).timestamp()


def list_batches(project: Project, run_id: int | None = None) -> list[dict[str, Any]]:
    """The stored batches (of one run, or all) as last seen, without asking the API."""
    return project.batches.batches(run_id)


def submit_open_project(
    path: Path, plan: RunPlan, base_url: str | None = None, use_cache: bool = True
) -> BatchReport:
    """`submit_batch_run` for a project this process holds open (the app), from a background
    thread, on a connection of its own."""
    project = Project(Path(path), Project.connect_writer(path))
    try:

        async def go() -> BatchReport:
            client = make_batches_client(base_url)
            try:
                return await submit_batch_run(project, plan, client, use_cache=use_cache)
            finally:
                await client.aclose()

        return asyncio.run(go())
    finally:
        project.close()


def refresh_open_project(path: Path, base_url: str | None = None) -> list[dict[str, Any]]:
    """`refresh` (ask the API about open batches) for the app, from a background thread."""
    project = Project(Path(path), Project.connect_writer(path))
    try:

        async def go() -> list[dict[str, Any]]:
            client = make_batches_client(base_url)
            try:
                return await refresh(project, client)
            finally:
                await client.aclose()

        return asyncio.run(go())
    finally:
        project.close()


def collect_open_project(path: Path, base_url: str | None = None) -> list[BatchReport]:
    """Collect every ended batch of a project this process holds open (the app), from a
    background thread: it gets a connection of its own, as the run engine's writer does."""
    project = Project(Path(path), Project.connect_writer(path))
    try:

        async def go() -> list[BatchReport]:
            client = make_batches_client(base_url)
            try:
                return await collect(project, client)
            finally:
                await client.aclose()

        return asyncio.run(go())
    finally:
        project.close()


def open_batch_runs(project: Project) -> list[int]:
    """Runs with batches not yet collected (the app checks these when it opens a project)."""
    return project.batches.runs_with_open_batches()


def status_rows(batches: Iterable[dict[str, Any]]) -> list[list[str]]:
    """Table rows for a view: run, batch id, status, requests, succeeded/errored/expired."""
    rows = []
    for b in batches:
        counts = b["counts"]
        rows.append(
            [
                str(b["run_id"]),
                b["batch_id"],
                b["status"],
                str(b["requests"]),
                str(counts.get("processing", "")),
                str(counts.get("succeeded", "")),
                str(counts.get("errored", "")),
                str(counts.get("canceled", 0) + counts.get("expired", 0) if counts else ""),
            ]
        )
    return rows


__all__ = [
    "BatchLimits",
    "BatchReport",
    "BatchStatus",
    "batch_estimate",
    "cancel",
    "chunk_requests",
    "collect",
    "collect_open_project",
    "list_batches",
    "make_batches_client",
    "open_batch_runs",
    "refresh",
    "refresh_open_project",
    "resume_batch_run",
    "status_rows",
    "submit_open_project",
    "submit_batch_run",
]
