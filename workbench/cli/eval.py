"""`workbench eval` (the CI gate) and `workbench export` (eval sets and the production config).

Only click and the standard library are imported at module level, so `workbench --help` stays
fast; each command imports the services it needs when it runs. Exit codes (DESIGN.md §6): 0 the
bar is met, 1 it is not, 2 bad input — user errors are `WorkbenchError`s that `workbench.cli.main`
prints as one line.

Register with ``cli.add_command(eval_command)`` and ``cli.add_command(export_command)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from workbench.cli.exit_codes import ExitCode
from workbench.cli.formatting import safe, safe_json, split_csv
from workbench.cli.params import FiniteFloatRange

EXPORT_FORMATS = ("production", "promptfoo", "jsonl", "labels-csv")
_SHOWN_FAILURES = 20


def _summary_lines(report: Any, bar: float) -> list[str]:
    from workbench.cli.formatting import format_table

    rows = []
    for g in report.groups:
        low, high = g.interval
        rate = "n/a" if g.pass_rate is None else f"{g.pass_rate:.1%}"
        verdict = "ok" if g.pass_rate is not None and g.pass_rate >= bar - 1e-12 else "BELOW BAR"
        rows.append(
            [
                f"{g.prompt}@v{g.version}",
                g.model,
                str(g.cases),
                str(g.passed),
                rate,
                f"{low:.0%}–{high:.0%}",
                str(g.errors),
                str(g.skipped),
                verdict,
            ]
        )
    headers = ["prompt", "model", "cases", "passed", "pass rate", "95% CI", "errors", "skipped", ""]
    lines = [format_table(headers, rows)]
    failing = [c for c in report.cases if not c.skipped and not c.passed]
    for case in failing[:_SHOWN_FAILURES]:
        why = (
            f"call failed: {case.error}"
            if case.error
            else "; ".join(f.reason for f in case.failures)
        )
        lines.append(f"FAIL {case.prompt}@v{case.version} {case.model} {case.name}: {why}")
    if len(failing) > _SHOWN_FAILURES:
        lines.append(f"… and {len(failing) - _SHOWN_FAILURES} more failing case(s)")
    return lines


@contextlib.contextmanager
def _signals_cancel() -> Iterator[None]:
    """SIGTERM and SIGHUP act like Ctrl+C, which `asyncio.run` turns into cancelling the eval
    (the engine keeps finished calls and marks the run cancelled) and then KeyboardInterrupt."""

    def forward(signum: int, frame: Any) -> None:
        handler = signal.getsignal(signal.SIGINT)
        if callable(handler):
            handler(signal.SIGINT, frame)
        else:
            raise KeyboardInterrupt

    names = [n for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n)]
    previous = {n: signal.signal(getattr(signal, n), forward) for n in names}
    try:
        yield
    finally:
        for name, handler in previous.items():
            signal.signal(getattr(signal, name), handler)


@click.command("eval")
@click.argument("project", type=click.Path(path_type=Path))
@click.option("--dataset", required=True, help="Dataset whose examples (with expectations) to run.")
@click.option(
    "--prompt",
    "prompts",
    multiple=True,
    required=True,
    help="NAME[@VER|@LABEL]; repeat to compare versions.",
)
@click.option("--models", help="Comma-separated model ids (default: each version's own model).")
@click.option(
    "--min-pass-rate",
    type=FiniteFloatRange(0, 1),
    help="The bar each prompt version x model must meet (default: the project's min_pass_rate).",
)
@click.option(
    "--junit", type=click.Path(dir_okay=False, path_type=Path), help="Write JUnit XML here."
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the full report as JSON here (- for stdout).",
)
@click.option(
    "--provider",
    type=click.Choice(["anthropic", "echo"]),
    default="anthropic",
    show_default=True,
    help="echo = offline, returns the rendered prompt.",
)
@click.option("--judge-model", help="Model for llm-rubric (default: the llm-judge prompt's).")
@click.option(
    "--concurrency", type=click.IntRange(1, 256), help="Calls in flight (default: project setting)."
)
@click.option("--no-cache", is_flag=True, help="Call the model even for requests answered before.")
@click.option(
    "--replay",
    is_flag=True,
    help="No API calls: answer unchanged requests from recorded calls, skip the changed ones.",
)
@click.option(
    "--recording",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Project file (.pwb) whose calls --replay answers from (default: PROJECT itself).",
)
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    help="--json report of the last production run: fail if a pass rate dropped below it.",
)
@click.option(
    "--max-drop",
    type=FiniteFloatRange(0, 1),
    help="With --baseline: the largest pass-rate drop allowed (0.05 = 5 points; default the "
    "prompt's production alert eval_pass_rate_drop).",
)
def eval_command(
    project: Path,
    dataset: str,
    prompts: tuple[str, ...],
    models: str | None,
    min_pass_rate: float | None,
    junit: Path | None,
    json_path: Path | None,
    provider: str,
    judge_model: str | None,
    concurrency: int | None,
    no_cache: bool,
    replay: bool,
    recording: Path | None,
    baseline: Path | None,
    max_drop: float | None,
) -> None:
    """Run an eval set and check the bar: exit 0 met, 1 not met, 2 bad input.

    PROJECT may be a .pwb file or a .yaml bundle (evaluated in a temporary project).
    """
    code = run_eval_command(
        project=project,
        dataset=dataset,
        prompts=list(prompts),
        models=split_csv(models),
        min_pass_rate=min_pass_rate,
        junit=junit,
        json_path=json_path,
        provider_name=provider,
        judge_model=judge_model,
        concurrency=concurrency,
        use_cache=not no_cache,
        replay=replay,
        recording=recording,
        baseline=baseline,
        max_drop=max_drop,
    )
    sys.exit(code)


def run_eval_command(
    *,
    project: Path,
    dataset: str,
    prompts: list[str],
    models: list[str],
    min_pass_rate: float | None,
    junit: Path | None,
    json_path: Path | None,
    provider_name: str,
    judge_model: str | None,
    concurrency: int | None,
    use_cache: bool,
    replay: bool = False,
    recording: Path | None = None,
    baseline: Path | None = None,
    max_drop: float | None = None,
) -> int:
    """The body of `workbench eval`; returns the exit code.

    With `replay`, no API call is made (see `workbench.services.replay`): cells whose request
    is unchanged are scored from the recording, changed ones are skipped, and the bar applies to
    the (version, model)s that have replayed cases.
    """
    from workbench.cli.run import TerminalProgress
    from workbench.formats.atomic import write_text_atomic
    from workbench.services.eval_baseline import (
        load_baseline,
        pass_rate_drops,
        project_max_drops,
    )
    from workbench.services.evals import EvalReport, run_eval
    from workbench.services.junit import write_junit
    from workbench.services.projects import open_project
    from workbench.services.run_service import choose_provider
    from workbench.services.runner import RunOptions

    to_stdout = json_path is not None and str(json_path) == "-"
    # Read before the run, so a missing or wrong baseline costs no call.
    baseline_rates = None if baseline is None else load_baseline(baseline)
    with contextlib.ExitStack() as stack:
        proj = stack.enter_context(open_project(project))
        bar = proj.settings.min_pass_rate if min_pass_rate is None else min_pass_rate
        options = RunOptions(
            concurrency=concurrency or proj.settings.default_concurrency,
            # A replay answers through its provider, so costs come from the recorded tokens.
            use_cache=use_cache and not replay,
        )
        chosen = (
            replay_provider(stack, proj, project, recording)
            if replay
            else choose_provider(proj, provider_name)
        )
        listener = TerminalProgress(enabled=sys.stderr.isatty())

        async def go() -> EvalReport:
            try:
                return await run_eval(
                    proj,
                    dataset=dataset,
                    prompts=prompts,
                    models=models or None,
                    provider=chosen,
                    options=options,
                    listener=listener,
                    judge_model=judge_model,
                )
            finally:
                await chosen.aclose()

        try:
            with _signals_cancel():
                report = asyncio.run(go())
        except KeyboardInterrupt:
            click.echo(
                "error: eval cancelled; finished calls are kept and the run is marked cancelled",
                err=True,
            )
            return ExitCode.INTERRUPTED
        limits = project_max_drops(proj, prompts) if max_drop is None else max_drop
    if report.run_status == "failed":
        click.echo(
            f"error: the eval run #{report.run_id} failed: "
            + safe(report.run_reason or "the provider refused the calls; check ANTHROPIC_API_KEY"),
            err=True,
        )
        return ExitCode.FAILED
    met = report.meets(bar, replayed=replay) and report.run_status == "done"
    drops = [] if baseline_rates is None else pass_rate_drops(report, baseline_rates, limits)
    met = met and not drops
    if junit is not None:
        write_junit(report, junit)
    if json_path is not None:
        text = json.dumps(report.to_dict(bar), indent=2, ensure_ascii=False) + "\n"
        if to_stdout:
            click.echo(safe_json(text), nl=False)
        else:
            write_text_atomic(json_path, text)
    for line in _summary_lines(report, bar):
        click.echo(safe(line, multiline=True), err=to_stdout)
    for drop in drops:
        click.echo(safe(drop.describe()), err=to_stdout)
    if replay:
        answered = sum(1 for c in report.cases if not c.skip_reason)
        click.echo(
            f"replay: {answered} of {len(report.cases)} case(s) answered from the recording; "
            f"{report.replay_skipped} changed case(s) skipped (they need an API key to run)",
            err=to_stdout,
        )
    status = "met" if met else "NOT met"
    if report.run_status != "done":
        status += f" (the run was {report.run_status})"
    click.echo(f"eval run #{report.run_id}: bar {bar:.0%} {status}", err=to_stdout)
    return ExitCode.OK if met else ExitCode.FAILED


def replay_provider(
    stack: contextlib.ExitStack, proj: Any, project: Path, recording: Path | None
) -> Any:
    """The `ReplayProvider` over `recording`, or over PROJECT's own calls when it is a .pwb."""
    from workbench.core.errors import BadInput
    from workbench.services.replay import ReplayProvider, open_recording

    if recording is not None:
        return ReplayProvider(stack.enter_context(open_recording(recording)))
    if Path(project).suffix != ".pwb":
        raise BadInput(
            "--replay from a bundle needs --recording FILE.pwb (a bundle holds no calls)",
            field="--recording",
            hint="Pass the project file the last keyed eval run wrote (see docs/ci.md).",
        )
    return ReplayProvider(proj.runs)


@click.command("export")
@click.argument("project", type=click.Path(path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(EXPORT_FORMATS), required=True, help="What to write."
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
    help="File to write.",
)  # fmt: skip
@click.option("--dataset", help="Dataset to export (promptfoo, jsonl).")
@click.option(
    "--prompt", "prompts", multiple=True, help="NAME[@VER|@LABEL] (promptfoo; labels-csv filter)."
)
@click.option("--models", help="Comma-separated models (promptfoo; default: each version's).")
@click.option("--run", "run_id", type=int, help="Only calls of this run (labels-csv).")
@click.option("--label", help="Which label's versions to export (production; default production).")
@click.option("--skip-unlabelled", is_flag=True, help="Leave out prompts without the label.")
@click.option(
    "--with-loader", is_flag=True, help="Also write the stdlib loader prompt_registry.py."
)
def export_command(
    project: Path,
    fmt: str,
    output: Path,
    dataset: str | None,
    prompts: tuple[str, ...],
    models: str | None,
    run_id: int | None,
    label: str | None,
    skip_unlabelled: bool,
    with_loader: bool,
) -> None:
    """Export the production config, an eval set (promptfoo, JSONL) or labelled calls (CSV)."""
    from workbench.core.errors import BadInput
    from workbench.services.projects import open_project

    if fmt in ("promptfoo", "jsonl") and not dataset:
        raise BadInput(f"--format {fmt} needs --dataset NAME", field="--dataset")
    if fmt == "promptfoo" and not prompts:
        raise BadInput("--format promptfoo needs --prompt NAME[@VER|@LABEL]", field="--prompt")
    with open_project(project, read_only=True) as proj:
        if fmt == "production":
            from workbench.services.production_export import export_production

            data = export_production(
                proj,
                output,
                label=label or "production",
                skip_unlabelled=skip_unlabelled,
                write_loader=with_loader,
            )
            what = f"{len(data.get('prompts', {}))} prompt(s)"
        elif fmt == "promptfoo":
            from workbench.services.eval_exports import export_promptfoo

            assert dataset is not None
            config = export_promptfoo(
                proj, dataset, list(prompts), output, split_csv(models) or None
            )
            what = f"{len(config['tests'])} test(s) x {len(config['providers'])} provider(s)"
        elif fmt == "jsonl":
            from workbench.services.eval_exports import export_jsonl

            assert dataset is not None
            what = f"{export_jsonl(proj, dataset, output)} case(s)"
        else:
            from workbench.services.eval_exports import export_labels_csv

            prompt_name = prompts[0].partition("@")[0] if prompts else None
            count = export_labels_csv(proj, output, run_id=run_id, prompt=prompt_name)
            what = f"{count} labelled call(s)"
    click.echo(safe(f"wrote {output} ({what})"), err=True)
