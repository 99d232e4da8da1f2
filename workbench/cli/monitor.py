"""`workbench monitor PROJECT [--since 7d] [--json]`: the production table, for cron and CI.

Only click and the standard library at the top (start-up time); the service loads when the
command runs. Exit 0 when every metric is within its threshold, 1 when one is breached (a cron
job mails its output, a CI job fails), 2 for bad input.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import click

from workbench.cli.exit_codes import ExitCode

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _plain(text: str) -> str:
    """Prompt names come from log files: control characters are shown escaped, never sent."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


@click.command("monitor")
@click.argument("project", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--since", default="7d", show_default=True, help="The long window: 7d, 24h, 30d.")
@click.option("--prompt", default=None, help="Only this prompt.")
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
def monitor_command(project: Path, since: str, prompt: str | None, as_json: bool) -> None:
    """Production health from imported logs against each prompt's alert thresholds.

    For every prompt with calls imported by `workbench logs import`: p50/p95 latency, error
    rate, cost per user per day, eval pass rate drop, thumbs-down and hallucination rate, over
    the last day and the last --since window. Exit 1 when a threshold is breached.
    """
    from workbench.cli.formatting import format_table
    from workbench.services.monitoring import format_value, monitor, parse_window
    from workbench.services.projects import open_project

    days = parse_window(since)
    with open_project(project, read_only=True) as proj:
        report = monitor(proj, days=days, prompt=prompt)

    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    elif not report.prompts:
        click.echo(
            f"no imported calls in the last {since}; import logs with `workbench logs import`"
        )
    else:
        for health in report.prompts:
            click.echo(
                f"{_plain(health.prompt)}: {health.calls_day} call(s) in the last day, "
                f"{health.calls_week} in the last {days:g} days"
            )
            rows = []
            for m in health.metrics:
                cells = []
                for cell in (m.day, m.week):
                    mark = "  BREACHED" if cell.breached else ""
                    cells.append(format_value(cell.value, m.unit) + mark)
                rows.append([m.label, *cells, m.rule or "—"])
            headers = ["metric", "last day", f"last {days:g} days", "alert when"]
            click.echo(format_table(headers, rows))
            click.echo("")
        for line in report.breaches():
            click.echo(f"ALERT {_plain(line)}", err=True)
    sys.exit(ExitCode.FAILED if report.breached else ExitCode.OK)
