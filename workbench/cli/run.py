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
from workbench.cli.formatting import format_table, usd
from workbench.core.errors import BadInput
from workbench.services.planner import RunPlan
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
            f"{p.in_flight} in flight, ${p.spend_usd:.4f}{eta_text}   "
        )
        click.echo(line, nl=final, err=True)


def _plan_table(plan_dict: dict[str, Any]) -> str:
    rows = [
        [m, str(e["cells"]), str(e["input_tokens"]), str(e["output_tokens"]), usd(e["cost_usd"])]
        for m, e in plan_dict["estimates"].items()
    ]
    return format_table(["model", "cells", "est. input tok", "est. output tok", "est. cost"], rows)


def _show_plan(plan: RunPlan, budget: float | None, as_json: bool) -> None:
    """Print the preflight table; refuse a plan whose estimate exceeds the budget."""
    if not as_json:
        click.echo(_plan_table(plan.to_dict()), err=True)
        click.echo(f"input tokens estimated by {plan.token_source}", err=True)
    estimate = plan.estimated_cost
    if budget is not None and estimate is not None and estimate > budget:
        raise BadInput(
            f"the estimated cost {usd(estimate)} exceeds the budget ${budget:.2f}",
            field="--budget",
            hint="Raise --budget, or run fewer examples, models or repeats.",
        )


def _show_cache_preview(plan: RunPlan, prices: Any) -> None:
    from workbench.services.prompt_caching import preview_plan

    preview = preview_plan(plan, prices)
    if preview.groups:
        click.echo(
            f"prompt caching: a shared prefix of ~{preview.prefix_tokens} tokens is cached for "
            f"{preview.cached_requests} calls, expected saving {usd(preview.saving_usd)}",
            err=True,
        )


def _install_sigint(engine: RunEngine) -> None:
    # First Ctrl+C cancels gracefully (finished calls are kept, the run is resumable).
    def handler(signum: int, frame: object) -> None:
        click.echo("\ncancelling… (finished calls are kept; resume with --resume)", err=True)
        engine.cancel("cancelled from the keyboard")

    signal.signal(signal.SIGINT, handler)


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
    from workbench.inference import make_provider
    from workbench.inference.keys import MissingApiKey
    from workbench.services.planner import count_input_tokens, make_plan
    from workbench.services.project_catalog import model_catalog, price_table
    from workbench.services.projects import open_project
    from workbench.services.run_service import resume_run, start_run

    if resume_id is None and (not prompts or not dataset):
        raise BadInput("--prompt and --dataset are required (or --resume RUN_ID)", field="run")
    with open_project(project, read_only=dry_run) as proj:
        options = RunOptions(
            concurrency=concurrency or proj.settings.default_concurrency,
            per_model_concurrency=per_model_concurrency,
            budget_usd=budget,
            use_cache=use_cache,
            timeout_s=timeout,
        )
        plan = None
        if resume_id is None:
            assert dataset is not None
            plan = make_plan(
                proj,
                prompts=prompts,
                dataset=dataset,
                models=models or None,
                tags=tags,
                repeats=repeats,
                catalog=model_catalog(proj),
                prices=price_table(proj),
            )
            if not plan.ok:
                for problem in plan.problems[:20]:
                    click.echo(f"error: {problem}", err=True)
                raise BadInput(
                    f"{len(plan.problems)} problem(s) in the run plan; nothing was sent",
                    hint="Fix the examples or the prompt, then run again.",
                )
            for warning in plan.warnings:
                click.echo(f"warning: {warning}", err=True)
        listener = TerminalProgress(enabled=sys.stderr.isatty() and not as_json)

        async def go() -> RunOutcome | None:
            try:
                provider = make_provider(provider_name)
            except MissingApiKey:
                if not dry_run:
                    raise
                provider = None  # a dry run without a key estimates with the heuristic
            try:
                if plan is not None:
                    if provider is not None and provider_name == "anthropic":
                        await count_input_tokens(
                            proj,
                            plan,
                            provider,
                            catalog=model_catalog(proj),
                            prices=price_table(proj),
                        )
                    _show_plan(plan, budget, as_json)
                    if not as_json:
                        _show_cache_preview(plan, price_table(proj))
                    if dry_run:
                        return None
                    assert provider is not None
                    return await start_run(
                        proj,
                        plan,
                        provider,
                        options=options,
                        listener=listener,
                        engine_ready=_install_sigint,
                    )
                assert resume_id is not None and provider is not None
                return await resume_run(
                    proj,
                    resume_id,
                    provider,
                    options=options,
                    listener=listener,
                    engine_ready=_install_sigint,
                )
            finally:
                if provider is not None:
                    await provider.aclose()

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
    }
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        t = outcome.totals
        click.echo(
            f"run #{outcome.run_id} {outcome.status}: {t['done']}/{t['cells']} cells, "
            f"{t['errors']} errors, {t['cached']} cached, spend {usd(t['spend_usd'])}, "
            f"{t['elapsed_s']:.1f}s" + (f" — {outcome.reason}" if outcome.reason else "")
        )
    return ExitCode.OK if outcome.status == "done" else ExitCode.FAILED
