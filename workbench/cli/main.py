"""The `workbench` command line (DESIGN.md §6).

Start-up must stay well under a second, so this module imports only click and the standard library
at the top; every command imports what it needs when it runs. Errors a user can act on are
`WorkbenchError`s: one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from workbench import __version__
from workbench.cli.exit_codes import ExitCode
from workbench.cli.formatting import safe, safe_json, split_csv
from workbench.cli.params import FiniteFloatRange
from workbench.core.errors import WorkbenchError


class WorkbenchGroup(click.Group):
    """A group whose first argument may be a project path instead of a command.

    `workbench demo.pwb` opens the GUI on that project; `workbench new …` runs a command.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            ctx.meta["workbench.project"] = args[0]
            args = args[1:]
        return super().parse_args(ctx, args)


def fail(message: str, code: int = ExitCode.BAD_INPUT) -> NoReturn:
    """Print one line on stderr and exit."""
    click.echo(f"error: {safe(message)}", err=True)
    sys.exit(code)


def write_crash_log(exc: BaseException) -> Path:
    """Save the traceback of an unexpected error for a bug report; returns the file."""
    import datetime as dt
    import traceback

    import platformdirs

    folder = Path(platformdirs.user_log_dir("prompt-workbench", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"crash-{dt.datetime.now():%Y%m%d-%H%M%S}.log"
    path.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
    return path


def echo_json(data: Any) -> None:
    click.echo(safe_json(json.dumps(data, indent=2, ensure_ascii=False, default=str)))


@click.group(
    cls=WorkbenchGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--demo",
    is_flag=True,
    help="Open the sample project with the offline echo provider (synthetic responses).",
)
@click.option(
    "--selftest",
    is_flag=True,
    help="Start headless, open the sample project, run a few echo cells, quit (for installers).",
)
@click.option("--read-only", is_flag=True, help="Open the project read-only.")
@click.version_option(__version__, prog_name="workbench")
@click.pass_context
def cli(ctx: click.Context, demo: bool, selftest: bool, read_only: bool) -> None:
    """Prompt Workbench: versioned prompts, side-by-side model runs, eval sets and exports.

    Run `workbench [PROJECT]` to open the desktop app, or one of the commands below.
    PROJECT may be a .pwb project file or a .yaml bundle (loaded into a temporary project).
    """
    if ctx.invoked_subcommand is not None:
        return
    project = ctx.meta.get("workbench.project")
    from workbench.app import start_gui  # lazy: pulls in Qt

    sys.exit(start_gui(project=project, demo=demo, selftest=selftest, read_only=read_only))


@cli.command()
@click.argument("project", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--from",
    "bundle",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Create it from this text bundle (.yaml).",
)
@click.option("--name", help="Project name (default: the bundle's name or the file name).")
def new(project: Path, bundle: Path | None, name: str | None) -> None:
    """Create a project file, empty or from a bundle."""
    from workbench.services.projects import create_project

    created = create_project(project, bundle=bundle, name=name)
    click.echo(safe(f"created {project} ({created})"))


@cli.command()
@click.argument("project", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def info(project: Path, as_json: bool) -> None:
    """Show prompts, versions, labels, datasets and runs."""
    from workbench.services.projects import open_project, project_info
    from workbench.services.run_service import spend_summary

    with open_project(project, read_only=True) as proj:
        data = project_info(proj)
        spend = spend_summary(proj)
    data["spend"] = spend.to_dict()
    if as_json:
        echo_json(data)
        return
    if data.get("read_only_reason"):
        click.echo(f"note: {safe(data['read_only_reason'])}", err=True)
    click.echo(safe(f"{data['name']}  ({data['path']}, schema v{data['schema_version']})"))
    click.echo("Prompts:")
    for p in data["prompts"]:
        labels = ", ".join(f"{k}→v{v}" for k, v in p["labels"].items()) or "no labels"
        click.echo(
            safe(f"  {p['name']}: {p['versions']} version(s), latest v{p['latest']}; {labels}")
        )
    click.echo("Datasets:")
    for d in data["datasets"]:
        click.echo(safe(f"  {d['name']}: {d['examples']} example(s)"))
    runs = data.get("runs", [])
    click.echo(f"Runs: {len(runs)}")
    for r in runs[-5:]:
        if r.get("kind") == "import":
            click.echo(safe(f"  #{r['id']} imported production logs, {r['created_at']}"))
        else:
            click.echo(
                safe(
                    f"  #{r['id']} {r.get('kind', 'run')} {r['status']} "
                    f"{r['done'] or 0}/{r['cells']} cells, {r['created_at']}"
                )
            )
    from workbench.cli.formatting import format_spend

    click.echo(format_spend(spend))


@cli.command()
@click.argument("project", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def check(project: Path, as_json: bool) -> None:
    """Integrity report (SQLite checks and our invariants). Never modifies the file."""
    from workbench.services.integrity import check_project_file

    report = check_project_file(project)
    if as_json:
        echo_json({"ok": report.ok, "problems": report.problems, "notes": report.notes})
    elif report.ok:
        click.echo(safe(f"{project}: ok"))
    else:
        for problem in report.problems:
            click.echo(safe(f"{project}: {problem}"))
    for note in [] if as_json else report.notes:
        click.echo(safe(f"{project}: note: {note}"))
    sys.exit(ExitCode.OK if report.ok else ExitCode.FAILED)


@cli.group()
def bundle() -> None:
    """Convert between a project file and its text bundle (.yaml)."""


@bundle.command("export")
@click.argument("project", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Bundle file to write (- for stdout).",
)
def bundle_export(project: Path, output: Path) -> None:
    """Write the project as a git-friendly text bundle."""
    from workbench.formats.atomic import write_text_atomic
    from workbench.services.projects import export_bundle_text, open_project

    with open_project(project, read_only=True) as proj:
        text = export_bundle_text(proj)
    if str(output) == "-":
        # YAML escapes control characters but not bidi overrides: a terminal gets them escaped.
        click.echo(safe(text, multiline=True) if sys.stdout.isatty() else text, nl=False)
    else:
        write_text_atomic(output, text)
        click.echo(safe(f"wrote {output}"), err=True)


@cli.command()
@click.argument("project", type=click.Path(path_type=Path))
@click.option(
    "--prompt", "prompts", multiple=True, help="NAME[@VER|@LABEL]; repeat for several versions."
)
@click.option("--dataset", help="Dataset whose examples to run.")
@click.option("--tags", help="Only examples with one of these tags (comma-separated).")
@click.option("--models", help="Comma-separated model ids (default: each version's own model).")
@click.option(
    "--repeat",
    "repeats",
    type=click.IntRange(1, 100),
    default=1,
    show_default=True,
    help="Samples per cell.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 256),
    help="Calls in flight (default: the project setting).",
)
@click.option(
    "--per-model-concurrency",
    type=click.IntRange(1, 256),
    help="Calls in flight per model (default: --concurrency); halves on 429/529, then recovers.",
)
@click.option(
    "--budget",
    type=FiniteFloatRange(min=0),
    help="Refuse a plan whose worst case (see --budget-basis) is above USD, and stop the run "
    "when spend reaches it.",
)
@click.option(
    "--budget-basis",
    type=click.Choice(["worst", "expected"]),
    default="worst",
    show_default=True,
    help="What --budget compares before the run: the worst case (every call writes max_tokens) "
    "or the expected cost.",
)
@click.option(
    "--no-cache", is_flag=True, help="Always call the model, even for a request answered before."
)
@click.option(
    "--provider",
    type=click.Choice(["anthropic", "echo"]),
    default="anthropic",
    show_default=True,
    help="echo = offline, returns the rendered prompt.",
)
@click.option(
    "--resume",
    "resume_id",
    type=int,
    help="Resume run ID: run only its missing, failed or cancelled cells.",
)
@click.option(
    "--timeout",
    type=FiniteFloatRange(min=1, max=86_400),
    default=600,
    show_default=True,
    help="Seconds allowed per attempt.",
)
@click.option(
    "--dry-run", is_flag=True, help="Show the plan (cells, tokens, estimated cost) and stop."
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print a JSON summary with the run id and totals."
)
@click.option(
    "--batch",
    is_flag=True,
    help="Submit as Message Batches (half price, results within 24 h); see `workbench batch`.",
)
def run(
    project: Path,
    prompts: tuple[str, ...],
    dataset: str | None,
    tags: str | None,
    models: str | None,
    repeats: int,
    concurrency: int | None,
    per_model_concurrency: int | None,
    budget: float | None,
    budget_basis: str,
    no_cache: bool,
    provider: str,
    resume_id: int | None,
    timeout: float,
    dry_run: bool,
    as_json: bool,
    batch: bool = False,
) -> None:
    """Run prompt versions x examples x models and log every call."""
    from workbench.cli.run import execute_run_command

    code = execute_run_command(
        project=project,
        prompts=list(prompts),
        dataset=dataset,
        tags=split_csv(tags),
        models=split_csv(models),
        repeats=repeats,
        concurrency=concurrency,
        per_model_concurrency=per_model_concurrency,
        budget=budget,
        budget_basis=budget_basis,
        use_cache=not no_cache,
        provider_name=provider,
        resume_id=resume_id,
        timeout=timeout,
        dry_run=dry_run,
        as_json=as_json,
        batch=batch,
    )
    sys.exit(code)


@cli.command()
@click.argument("project", type=click.Path(path_type=Path))
@click.option("--run", "run_id", type=int, help="Only this run (default: every logged call).")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def report(project: Path, run_id: int | None, as_json: bool) -> None:
    """Latency p50/p95, tokens, cost, errors and cache hits per model and prompt version."""
    from workbench.services.analytics import run_report
    from workbench.services.projects import open_project
    from workbench.services.run_service import spend_summary

    with open_project(project, read_only=True) as proj:
        if run_id is not None:
            proj.runs.get_run(run_id)  # a clear error for an unknown run
        rows = run_report(proj, run_id)
        spend = spend_summary(proj, run_id)
    if as_json:
        echo_json({"run": run_id, "groups": rows, "spend": spend.to_dict()})
        return
    if not rows:
        click.echo("no calls logged yet")
        return
    from workbench.cli.formatting import format_report, format_spend

    click.echo(format_report(rows))
    click.echo(format_spend(spend))


@cli.command()
@click.argument("project", type=click.Path(path_type=Path))
@click.option(
    "--refresh",
    is_flag=True,
    help="Fetch the list from the Models API and cache it in the project.",
)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def models(project: Path, refresh: bool, as_json: bool) -> None:
    """The models this project knows: ids, limits, parameters they refuse, price."""
    import asyncio
    import datetime as dt

    from workbench.services.project_models import model_catalog, price_table, refresh_models
    from workbench.services.projects import open_project

    with open_project(project, read_only=not refresh) as proj:
        if refresh:
            from workbench.services.run_service import choose_provider

            async def fetch() -> int:
                provider = choose_provider(proj, "anthropic")
                try:
                    return len(await refresh_models(proj, provider))
                finally:
                    await provider.aclose()

            click.echo(f"fetched {asyncio.run(fetch())} model(s) from the Models API", err=True)
        catalog, prices = model_catalog(proj), price_table(proj)
        today = dt.date.today()
        rows = []
        for m in catalog.models():
            price = prices.lookup(m.id, today)
            rows.append(
                {
                    "id": m.id,
                    "display_name": m.display_name,
                    "tier": m.tier,
                    "max_input_tokens": m.max_input_tokens,
                    "max_output_tokens": m.max_output_tokens,
                    "rejected_params": m.rejected_params,
                    "input_usd_per_mtok": price.input if price else None,
                    "output_usd_per_mtok": price.output if price else None,
                }
            )
    if as_json:
        echo_json(rows)
        return
    from workbench.cli.formatting import format_table

    def money(value: float | None) -> str:
        return "unknown" if value is None else f"${value:g}"

    click.echo(
        format_table(
            ["model", "tier", "max in", "max out", "$/Mtok in", "$/Mtok out", "refuses"],
            [
                [
                    r["id"],
                    r["tier"],
                    str(r["max_input_tokens"] or "?"),
                    str(r["max_output_tokens"] or "?"),
                    money(r["input_usd_per_mtok"]),
                    money(r["output_usd_per_mtok"]),
                    ", ".join(r["rejected_params"]) or "—",
                ]
                for r in rows
            ],
        )
    )


# Commands that live in their own modules (each imports only click at the top, for start-up time).
from workbench.cli.batch import batch  # noqa: E402
from workbench.cli.eval import eval_command, export_command  # noqa: E402
from workbench.cli.logs import logs  # noqa: E402
from workbench.cli.monitor import monitor_command  # noqa: E402
from workbench.cli.prices import price  # noqa: E402

cli.add_command(eval_command)
cli.add_command(export_command)
cli.add_command(logs)
cli.add_command(monitor_command)
cli.add_command(price)
cli.add_command(batch)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning user errors into one line and exit code 2."""
    try:
        cli.main(args=argv, prog_name="workbench", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        fail("aborted", ExitCode.INTERRUPTED)
    except click.UsageError as exc:
        # One line: what is wrong and where to look (click's own form adds usage lines).
        command = exc.ctx.command_path if exc.ctx is not None else "workbench"
        fail(f"{exc.format_message()} (see '{command} --help')")
    except click.ClickException as exc:
        exc.show()
        sys.exit(ExitCode.BAD_INPUT)
    except WorkbenchError as exc:
        fail(exc.user_message, exc.exit_code)
    except KeyboardInterrupt:
        fail("interrupted", ExitCode.INTERRUPTED)
    except Exception as exc:  # a bug: one line for the user, the traceback in a crash log
        log = write_crash_log(exc)
        fail(f"internal error ({type(exc).__name__}: {exc}); details in {log}", ExitCode.INTERNAL)
    sys.exit(ExitCode.OK)
