"""`workbench run`: plan, check the budget, execute with a progress line, print a summary."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

import click

from workbench.cli.exit_codes import ExitCode
from workbench.cli.formatting import format_table, safe, usd
from workbench.core.errors import BadInput
from workbench.services.planner import EXPECTED_OUTPUT_TOKENS, RunPlan
from workbench.services.runner import NullListener, Progress, RunEngine, RunOptions, RunOutcome


class TerminalProgress(NullListener):
    """A one-line progress display on a terminal, at most ~10 updates a second."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._last = 0.0

    def on_progress(self, p: Progress) -> None:
        now = time.monotonic()
        final = p.status != "running"
        if not self.enabled or (now - self._last < 0.1 and not final):
            return
        self._last = now
        eta = p.eta_s
        eta_text = f" ETA {eta:.0f}s" if eta else ""
        line = (
            f"\r{p.done}/{p.total} done, {p.errors} errors, {p.cached} cached, "
            f"{p.in_flight} in flight, {_spend(p.spend_usd, p.unpriced)}{eta_text}   "
        )
        click.echo(line, nl=final, err=True)


def _spend(spend_usd: float, unpriced: int) -> str:
    # Calls without a price have an unknown cost: never shown as $0.
    text = f"${spend_usd:.4f}"
    return f"{text} + {unpriced} call(s) of unknown cost" if unpriced else text


def _plan_table(plan_dict: dict[str, Any]) -> str:
    rows = [
        [
            m,
            str(e["cells"]),
            str(e["input_tokens"]),
            f"{e['output_tokens']} (p90 {e['output_tokens_high']})",
            str(e["max_output_tokens"]),
            usd(e["cost_usd"]),
            usd(e["worst_cost_usd"]),
        ]
        for m, e in plan_dict["estimates"].items()
    ]
    headers = ["model", "cells", "est. input tok", "est. output tok", "max output tok"]
    return format_table([*headers, "expected cost", "worst case"], rows)


def _show_plan(plan: RunPlan, as_json: bool) -> None:
    """Print the preflight: per-model estimates, how they were made, problems and warnings."""
    for problem in plan.problems[:20]:
        click.echo(f"error: {safe(problem)}", err=True)
    for warning in plan.warnings:
        click.echo(f"warning: {safe(warning)}", err=True)
    if as_json:
        return
    click.echo(_plan_table(plan.to_dict()), err=True)
    history = sum(e.history_calls for e in plan.estimates.values())
    output_source = (
        f"the median (p90 high) of {history} earlier call(s) of the same version and model"
        if history
        else f"a prior of {EXPECTED_OUTPUT_TOKENS} tokens per call (capped by max_tokens)"
    )
    click.echo(
        f"input tokens by {safe(plan.token_source)}; output tokens from {output_source}", err=True
    )
    if plan.synthetic:
        click.echo("synthetic provider: nothing is paid", err=True)
    else:
        click.echo(
            f"expected {usd(plan.estimated_cost)}, high {usd(plan.high_cost)}, "
            f"worst case {usd(plan.worst_case_cost)}",
            err=True,
        )


def _show_cache_preview(plan: RunPlan, prices: Any, files: Any = None) -> None:
    from workbench.services.prompt_caching import preview_plan

    preview = preview_plan(plan, prices, files)
    if preview.groups:
        click.echo(
            f"prompt caching: a shared prefix of ~{preview.prefix_tokens} tokens is cached for "
            f"{preview.cached_requests} calls, expected saving {usd(preview.saving_usd)}",
            err=True,
        )


#: Ctrl+C, a CI timeout (SIGTERM) and a closed terminal (SIGHUP) all cancel a run gracefully.
CANCEL_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
_SIGNAL_WORDS = {"SIGINT": "from the keyboard", "SIGTERM": "by SIGTERM", "SIGHUP": "by SIGHUP"}


class SignalCancel:
    """While active, Ctrl+C, SIGTERM and SIGHUP cancel the attached engine gracefully (before an
    engine exists, nothing is paid yet, so they interrupt at once); `.received` names the signal.
    """

    def __init__(self) -> None:
        self.received: str | None = None
        self._engine: RunEngine | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> SignalCancel:
        for signum in CANCEL_SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()

    def attach(self, engine: RunEngine) -> None:
        """The engine to cancel (passed as `engine_ready`)."""
        self._engine = engine

    def _handle(self, signum: int, frame: object) -> None:
        name = signal.Signals(signum).name
        self.received = name
        if self._engine is None:
            raise KeyboardInterrupt
        click.echo("\ncancelling… (finished calls are kept; resume with --resume)", err=True)
        self._engine.cancel(f"cancelled {_SIGNAL_WORDS.get(name, name)}")


def run_exit_code(outcome: RunOutcome, signalled: bool) -> int:
    """0 done (at least one call answered well, or nothing left to do); 130 cancelled by a
    signal; 1 otherwise: failed, every call failed, or stopped at the budget."""
    totals = outcome.totals
    if outcome.status == "cancelled" and signalled:
        return ExitCode.INTERRUPTED
    if outcome.status != "done":
        return ExitCode.FAILED
    if totals.get("done", 0) and totals.get("errors", 0) >= totals["done"]:
        return ExitCode.FAILED
    return ExitCode.OK


def execute_run_command(
    *,
    project: Path,
    prompts: list[str],
    dataset: str | None,
    tags: list[str],
    models: list[str],
    repeats: int,
    concurrency: int | None,
    per_model_concurrency: int | None,
    budget: float | None,
    budget_basis: str = "worst",
    use_cache: bool,
    provider_name: str,
    resume_id: int | None,
    timeout: float,
    dry_run: bool,
    as_json: bool,
    batch: bool = False,
) -> int:
    if batch:
        from workbench.cli.batch import submit_run_as_batch

        if resume_id is None and (not prompts or not dataset):
            raise BadInput("--prompt and --dataset are required (or --resume RUN_ID)", field="run")
        return submit_run_as_batch(
            project,
            prompts=prompts,
            dataset=dataset or "",
            tags=tags,
            models=models,
            repeats=repeats,
            budget=budget,
            use_cache=use_cache,
            resume_id=resume_id,
            dry_run=dry_run,
            as_json=as_json,
        )
    from workbench.services.file_source import project_file_source
    from workbench.services.project_models import price_table
    from workbench.services.projects import open_project
    from workbench.services.run_service import (
        MissingApiKey,
        RunRequest,
        choose_provider,
        ensure_runnable,
        plan_run,
        resume_run,
        start_run,
    )

    if resume_id is None and (not prompts or not dataset):
        raise BadInput("--prompt and --dataset are required (or --resume RUN_ID)", field="run")
    basis = "expected" if budget_basis == "expected" else "worst"
    with open_project(project, read_only=dry_run) as proj:
        options = RunOptions(
            concurrency=concurrency or proj.settings.default_concurrency,
            per_model_concurrency=per_model_concurrency,
            budget_usd=budget,
            use_cache=use_cache,
            timeout_s=timeout,
        )
        listener = TerminalProgress(enabled=sys.stderr.isatty() and not as_json)
        signals = SignalCancel()
        plan: RunPlan | None = None

        async def go() -> RunOutcome | None:
            nonlocal plan
            try:
                provider = choose_provider(proj, provider_name)
            except MissingApiKey:
                if not dry_run:
                    raise
                provider = None  # a dry run without a key estimates with the heuristic
            try:
                if resume_id is None:
                    assert dataset is not None
                    request = RunRequest(
                        prompts=tuple(prompts),
                        dataset=dataset,
                        models=tuple(models),
                        tags=tuple(tags),
                        repeats=repeats,
                        budget_usd=budget,
                        budget_basis=basis,
                    )
                    plan = await plan_run(proj, request, provider)
                    _show_plan(plan, as_json)
                    if not as_json:
                        _show_cache_preview(plan, price_table(proj), project_file_source(proj))
                    if dry_run:
                        ensure_runnable(plan)
                        return None
                    assert provider is not None
                    return await start_run(
                        proj,
                        plan,
                        provider,
                        options=options,
                        listener=listener,
                        engine_ready=signals.attach,
                    )
                assert provider is not None
                return await resume_run(
                    proj,
                    resume_id,
                    provider,
                    options=options,
                    listener=listener,
                    engine_ready=signals.attach,
                )
            finally:
                if provider is not None:
                    await provider.aclose()

        with signals:
            outcome = asyncio.run(go())
    if outcome is None:  # dry run
        assert plan is not None
        if as_json:
            click.echo(json.dumps({"plan": plan.to_dict()}, indent=2))
        return ExitCode.OK
    summary = {
        "run_id": outcome.run_id,
        "status": outcome.status,
        "reason": outcome.reason,
        "totals": outcome.totals,
        "estimated_cost_usd": plan.estimated_cost if plan else None,
        "worst_case_cost_usd": plan.worst_case_cost if plan else None,
    }
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        t = outcome.totals
        click.echo(
            f"run #{outcome.run_id} {outcome.status}: {t['done']}/{t['cells']} cells, "
            f"{t['errors']} errors, {t['cached']} cached, "
            f"spend {_spend(t['spend_usd'], t.get('unpriced_calls', 0))}, "
            f"{t['elapsed_s']:.1f}s"
            + (
                f" — {safe(outcome.reason)}"
                if outcome.reason and outcome.status != "failed"
                else ""
            )
        )
    if outcome.status == "failed" and outcome.reason:
        click.echo(f"error: {safe(outcome.reason)}", err=True)
    return run_exit_code(outcome, signals.received is not None)
