"""`workbench logs import PROJECT FILE.jsonl`: production call logs into a project.

Only click and the standard library at the top (start-up time); the importer loads when the
command runs. Exit 0 when at least one line was imported (or every skipped line had been
imported before), 2 when nothing was, with the first bad lines and their numbers on stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from workbench.cli.exit_codes import ExitCode
from workbench.cli.formatting import safe, safe_json

SHOWN_ERRORS = 10


@click.group("logs")
def logs() -> None:
    """Production call logs: import the JSONL your app writes (docs/logs-format.md)."""


@logs.command("import")
@click.argument("project", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the import report as JSON.")
def import_command(project: Path, file: Path, as_json: bool) -> None:
    """Import FILE (JSONL call and feedback lines) into PROJECT as calls from production.

    Bad lines are reported with their numbers and skipped; good lines are kept. Lines whose
    call_id was imported before are skipped, so importing a growing file again is safe.
    """
    from workbench.core.errors import BadInput
    from workbench.services.logs_import import import_logs
    from workbench.services.projects import is_bundle_path, open_project

    if is_bundle_path(project):
        raise BadInput(
            "logs are imported into a project file, not a bundle.",
            source=str(project),
            hint="Create one with `workbench new PROJECT.pwb --from BUNDLE`, then import into it.",
        )
    with open_project(project) as proj:
        report = import_logs(proj, file)

    if as_json:
        click.echo(safe_json(json.dumps(report.as_dict(), indent=2, ensure_ascii=False)))
    else:
        click.echo(safe(report.summary(), multiline=True))
        for warning in report.warnings:
            click.echo(f"warning: {safe(warning)}", err=True)
        if report.unknown_cost:
            click.echo(
                f"warning: {report.unknown_cost} call(s) have no price for their model, "
                "so their cost is unknown",
                err=True,
            )
    for error in report.errors[:SHOWN_ERRORS]:
        click.echo(safe(f"{file}:{error.line}: {error.message}"), err=True)
    if len(report.errors) > SHOWN_ERRORS:
        click.echo(f"… and {len(report.errors) - SHOWN_ERRORS} more bad line(s)", err=True)

    only_repeats = report.duplicates > 0 and not report.errors
    if report.imported == 0 and not only_repeats:
        reason = "it has no log lines" if report.lines == 0 else "no line could be imported"
        click.echo(safe(f"error: {file}: {reason}; see docs/logs-format.md."), err=True)
        sys.exit(ExitCode.BAD_INPUT)
    sys.exit(ExitCode.OK)
