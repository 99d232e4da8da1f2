"""`workbench price PROJECT MODEL --input USD --output USD`: enter a price for a model.

Only click and the standard library at the top (start-up time); the services load when the
command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click


@click.command("price")
@click.argument("project", type=click.Path(path_type=Path))
@click.argument("model")
@click.option(
    "--input",
    "input_usd",
    type=click.FloatRange(min=0),
    required=True,
    help="USD per million input tokens.",
)
@click.option(
    "--output",
    "output_usd",
    type=click.FloatRange(min=0),
    required=True,
    help="USD per million output tokens.",
)
@click.option(
    "--cache-read",
    type=click.FloatRange(min=0),
    help="USD per million cache-read tokens (default 0.1 x input).",
)
@click.option(
    "--cache-write",
    type=click.FloatRange(min=0),
    help="USD per million 5-minute cache-write tokens (default 1.25 x input).",
)
@click.option(
    "--from",
    "effective_from",
    type=click.DateTime(["%Y-%m-%d"]),
    help="The date the price applies from (default today).",
)
def price(
    project: Path,
    model: str,
    input_usd: float,
    output_usd: float,
    cache_read: float | None,
    cache_write: float | None,
    effective_from: Any,
) -> None:
    """Enter a price for MODEL (e.g. one the default table lacks, so --budget can be checked)."""
    import math

    from workbench.core.errors import BadInput
    from workbench.services.project_models import add_price
    from workbench.services.projects import open_project

    rates = (("--input", input_usd), ("--output", output_usd), ("--cache-read", cache_read))
    for name, value in (*rates, ("--cache-write", cache_write)):
        if value is not None and not math.isfinite(value):
            raise BadInput(f"{name} must be a finite number of USD", field=name)
    with open_project(project) as proj:
        row = add_price(
            proj,
            model,
            input_usd=input_usd,
            output_usd=output_usd,
            cache_read=cache_read,
            cache_write_5m=cache_write,
            effective_from=effective_from.date() if effective_from else None,
        )
    click.echo(
        f"{model}: ${row.input:g} input, ${row.output:g} output per million tokens "
        f"from {row.effective_from}",
        err=True,
    )
