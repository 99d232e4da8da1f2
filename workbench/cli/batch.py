"""`workbench batch status|collect|cancel PROJECT [RUN]` and the body of `run --batch`.

Batch ids live in the project from the moment they exist, so these commands work from any
later terminal. Only click and the standard library at the top (start-up time).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import click

from workbench.cli.exit_codes import ExitCode
from workbench.cli.formatting import format_table, usd

_HEADERS = ["run", "batch", "status", "requests", "processing", "ok", "errored", "ended early"]


@click.group("batch")
def batch() -> None:
    """Message Batches of runs started with `workbench run --batch` (half price, within 24 h)."""


def _show(rows: list[dict[str, Any]], as_json: bool, extra: dict[str, Any] | None = None) -> None:
    from workbench.services.batch_runs import status_rows

    if as_json:
        click.echo(json.dumps({"batches": rows, **(extra or {})}, indent=2, default=str))
    elif rows:
        click.echo(format_table(_HEADERS, status_rows(rows)))
    else:
        click.echo("no Message Batches")


def _with_client(project: Path, run_id: int | None, action: str, **kw: Any) -> Any:
    from workbench.services import batch_runs
    from workbench.services.projects import open_project

    with open_project(project) as proj:

        async def go() -> Any:
            client = batch_runs.make_batches_client()
            try:
                if action == "status":
                    return await batch_runs.refresh(proj, client, run_id)
                if action == "cancel":
                    return await batch_runs.cancel(proj, client, run_id)
                reports = await batch_runs.collect(proj, client, run_id, **kw)
                return reports, batch_runs.list_batches(proj, run_id)
            finally:
                await client.aclose()

        return asyncio.run(go())


@batch.command("status")
@click.argument("project", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("run_id", type=int, required=False)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def status_command(project: Path, run_id: int | None, as_json: bool) -> None:
    """Ask the API how the batches of RUN (default: every run) are doing."""
    _show(_with_client(project, run_id, "status"), as_json)


@batch.command("collect")
@click.argument("project", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("run_id", type=int, required=False)
@click.option("--wait", is_flag=True, help="Poll until every batch has ended and is stored.")
@click.option(
    "--poll",
    "poll_s",
    type=click.FloatRange(min=0.01),
    default=30.0,
    show_default=True,
    help="Seconds between polls with --wait.",
)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def collect_command(
    project: Path, run_id: int | None, wait: bool, poll_s: float, as_json: bool
) -> None:
    """Store the answers of every ended batch (each once); exit 1 while some are still open."""
    reports, rows = _with_client(project, run_id, "collect", wait=wait, poll_s=poll_s)
    summary = [
        {
            "run_id": r.run_id,
            "stored": r.stored,
            "errors": r.errors,
            "open_batches": r.open_batches,
            "run_status": r.run_status,
        }
        for r in reports
    ]
    _show(rows, as_json, {"runs": summary})
    if not as_json:
        for r in summary:
            click.echo(
                f"run #{r['run_id']}: stored {r['stored']} answers ({r['errors']} errors), "
                f"{r['open_batches']} batches still open, run {r['run_status']}"
            )
    open_left = any(r["open_batches"] for r in summary)
    raise SystemExit(ExitCode.FAILED if open_left else ExitCode.OK)


@batch.command("cancel")
@click.argument("project", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("run_id", type=int, required=False)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def cancel_command(project: Path, run_id: int | None, as_json: bool) -> None:
    """Cancel the batches of RUN still in progress; `collect` then stores what had run."""
    _show(_with_client(project, run_id, "cancel"), as_json)


def submit_run_as_batch(
    project: Path,
    *,
    prompts: list[str],
    dataset: str,
    tags: list[str],
    models: list[str],
    repeats: int,
    budget: float | None,
    use_cache: bool,
    resume_id: int | None,
    dry_run: bool,
    as_json: bool,
) -> int:
    """`workbench run --batch`: preflight at batch price, submit, print the batch ids."""
    from workbench.core.errors import BadInput
    from workbench.services import batch_runs
    from workbench.services.planner import make_plan
    from workbench.services.project_models import model_catalog, price_table
    from workbench.services.projects import open_project

    with open_project(project, read_only=dry_run) as proj:
        plan = None
        if resume_id is None:
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
            estimate = batch_runs.batch_estimate(plan, price_table(proj))
            live = plan.estimated_cost
            if not as_json:
                click.echo(
                    f"{len(plan.cells)} cells as Message Batches: estimated {usd(estimate)} "
                    f"at batch price (live {usd(live)}); results within 24 h",
                    err=True,
                )
            if budget is not None and estimate is not None and estimate > budget:
                raise BadInput(
                    f"the estimated batch cost {usd(estimate)} exceeds the budget ${budget:.2f}",
                    field="--budget",
                )
            if dry_run:
                if as_json:
                    click.echo(json.dumps({"plan": plan.to_dict(), "batch_cost_usd": estimate}))
                return ExitCode.OK

        async def go() -> batch_runs.BatchReport:
            client = batch_runs.make_batches_client()
            try:
                if plan is not None:
                    return await batch_runs.submit_batch_run(
                        proj, plan, client, use_cache=use_cache
                    )
                assert resume_id is not None
                return await batch_runs.resume_batch_run(
                    proj, resume_id, client, use_cache=use_cache
                )
            finally:
                await client.aclose()

        report = asyncio.run(go())
    if as_json:
        click.echo(
            json.dumps(
                {
                    "run_id": report.run_id,
                    "submitted": report.submitted,
                    "cached": report.cached,
                    "batches": [b["batch_id"] for b in report.batches],
                    "run_status": report.run_status,
                },
                indent=2,
            )
        )
    else:
        click.echo(
            f"run #{report.run_id}: {report.submitted} requests in {report.open_batches} "
            f"Message Batches, {report.cached} from the cache. Collect with: "
            f"workbench batch collect {project} {report.run_id} --wait"
        )
    return ExitCode.OK
