"""Decisions on top of the analytics: which tier to ship, the quality-vs-cost frontier, and what
a month of traffic would cost.

All three take the summary rows of `services.analytics.summarize` (one per model, or per prompt
version × model), so the charts pane, the CLI and the tests share one set of figures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from workbench.core.errors import BadInput
from workbench.services.analytics import TOKEN_KINDS, CallFrame, load_calls, summarize
from workbench.services.pricing import PriceTable, Usage, compute_cost
from workbench.services.project_models import price_table
from workbench.storage.project import Project

Row = Mapping[str, Any]
DAYS_PER_MONTH = 30


def _percent(fraction: float) -> str:
    return f"{fraction * 100:.3g} %"


def _seconds(ms: float) -> str:
    return f"{ms / 1000:.3g} s"


def describe_group(row: Row) -> str:
    """``claude-haiku-5-5`` or ``claude-haiku-5-5 with support-answer v3``."""
    model = str(row.get("model") or "?")
    if row.get("prompt_name"):
        version = f" v{row['version']}" if row.get("version") is not None else ""
        return f"{model} with {row['prompt_name']}{version}"
    return model


def pareto_frontier(
    points: Sequence[Row], *, x: str = "cost_per_call_usd", y: str = "pass_rate"
) -> list[Row]:
    """The points no other point beats on both cheaper `x` and higher `y`, by ascending `x`.

    Points missing either value are left out (an unknown cost or pass rate cannot be compared).
    """
    known = [p for p in points if p.get(x) is not None and p.get(y) is not None]
    frontier: list[Row] = []
    for point in sorted(known, key=lambda p: (p[x], -p[y])):  # groups, not calls
        if not frontier or point[y] > frontier[-1][y]:
            frontier.append(point)
    return frontier


def _check_bar(min_pass_rate: float, max_p95_s: float) -> None:
    if not 0 <= min_pass_rate <= 1:
        raise BadInput(
            f"the pass-rate bar must be a fraction from 0 to 1, not {min_pass_rate}.",
            field="min_pass_rate",
            hint="Write 0.8 for 80 %.",
        )
    if not max_p95_s > 0:
        raise BadInput(
            f"the p95 bar must be more than 0 seconds, not {max_p95_s}.", field="max_p95_s"
        )


def meets_bar(row: Row, min_pass_rate: float, max_p95_s: float) -> bool:
    """Whether a group's pass rate and p95 latency are both known and within the bar."""
    rate, p95 = row.get("pass_rate"), row.get("p95_latency_ms")
    return (
        rate is not None and p95 is not None and rate >= min_pass_rate and p95 <= max_p95_s * 1000
    )


def cheapest_meeting(
    groups: Sequence[Row],
    min_pass_rate: float,
    max_p95_s: float,
    *,
    cost_key: str = "cost_per_call_usd",
) -> Row | None:
    """The group with the lowest known cost per call among those meeting the bar, or None.

    :param cost_key: the cost to compare (`tier_cost_per_call_usd` prices synthetic calls at
        list prices, see `services.chart_evidence`)
    """
    _check_bar(min_pass_rate, max_p95_s)
    fit = [
        g for g in groups if meets_bar(g, min_pass_rate, max_p95_s) and g.get(cost_key) is not None
    ]
    return min(fit, key=lambda g: (g[cost_key], -g["pass_rate"]), default=None)


THIN_CASES = 10  # as `chart_evidence.MIN_CASES`: fewer judged cases make a hint, not an answer


def _evidence(row: Row) -> str:
    """``, n = 12, 95 % CI 61.1–97.2 %`` when the row carries its evidence (else "")."""
    interval = row.get("ci95")
    if "ci95" not in row:
        return ""
    ci = f", 95 % CI {interval[0] * 100:.1f}–{interval[1] * 100:.1f} %" if interval else ""
    return f", n = {row.get('judged', 0)}{ci}"


def _thin(row: Row) -> str:
    if "ci95" in row and (row.get("judged") or 0) < THIN_CASES:
        return f" — only {row.get('judged', 0)} case(s): a hint, not an answer"
    return ""


def tier_decision(
    groups: Sequence[Row],
    min_pass_rate: float,
    max_p95_s: float,
    *,
    cost_key: str = "cost_per_call_usd",
) -> str:
    """The answer in words: "cheapest model meeting pass rate ≥ X % and p95 ≤ Y s: …".

    :param groups: `summarize` rows per model (or per prompt version × model)
    :param min_pass_rate: the bar as a fraction (0.8 for 80 %)
    :param max_p95_s: the latency bar in seconds
    :param cost_key: as for `cheapest_meeting`; a row's `cost_basis` other than spend is named
    """
    best = cheapest_meeting(groups, min_pass_rate, max_p95_s, cost_key=cost_key)
    question = (
        f"cheapest model meeting pass rate ≥ {_percent(min_pass_rate)} and p95 ≤ {max_p95_s:g} s: "
    )
    if best is not None:
        per_1k = best[cost_key] * 1000
        basis = best.get("cost_basis")
        priced = f", {basis}" if basis and basis != "spend" else ""
        return question + (
            f"{describe_group(best)} (pass rate {_percent(best['pass_rate'])}{_evidence(best)}, "
            f"p95 {_seconds(best['p95_latency_ms'])}, ${per_1k:.4g} per 1 000 calls{priced})"
            + _thin(best)
        )
    rated = [g for g in groups if g.get("pass_rate") is not None]
    if not rated:
        return question + "unknown: no call has a pass rate yet (label outputs or run an eval)"
    top = max(rated, key=lambda g: g["pass_rate"])
    p95 = top.get("p95_latency_ms")
    latency = f", p95 {_seconds(p95)}" if p95 is not None else ""
    return question + (
        f"none of {len(groups)}; the best pass rate is {describe_group(top)} "
        f"({_percent(top['pass_rate'])}{latency})"
    )


def monthly_projection(
    project: Project,
    calls_per_day: float,
    *,
    batch: bool = False,
    days: int = DAYS_PER_MONTH,
    at: dt.date | dt.datetime | None = None,
    prices: PriceTable | None = None,
    frame: CallFrame | None = None,
    **filters: Any,
) -> list[dict[str, Any]]:
    """Projected cost of `calls_per_day` calls per (prompt version, model), from measured tokens.

    A call is priced at the mean input, output, cache-write (5-minute TTL) and cache-read tokens
    of that group's real successful calls (no errors, no response-cache hits; rounded to whole
    tokens), at the prices in force on `at` (default today), with the Batch API discount when
    `batch`. Cost is None where the model has no price.

    :param frame: the calls to measure, when already loaded (else read with `filters`)
    :param filters: which calls to measure, as `storage.call_columns.call_columns` takes them
    """
    if not calls_per_day >= 0:
        raise BadInput(
            f"calls per day must be 0 or more, not {calls_per_day}.", field="calls_per_day"
        )
    table = prices or price_table(project)
    when = at or dt.datetime.now(dt.UTC)
    out = []
    calls = frame if frame is not None else load_calls(project, **filters)
    for row in summarize(calls, ("prompt_name", "version", "model")):
        means = {k: row[f"mean_{k}"] for k in TOKEN_KINDS}
        price = table.lookup(row["model"], when)
        per_call = None
        if price is not None and means["input_tokens"] is not None:
            usage = Usage(*(round(means[k] or 0) for k in TOKEN_KINDS))
            per_call = float(compute_cost(usage, price, batch=batch))
        daily = None if per_call is None else per_call * calls_per_day
        out.append(
            {
                "prompt_name": row["prompt_name"],
                "version": row["version"],
                "model": row["model"],
                "measured_calls": row["calls"] - row["errors"] - row["cache_hits"],
                **{f"mean_{k}": means[k] for k in TOKEN_KINDS},
                "calls_per_day": calls_per_day,
                "batch": batch,
                "price_from": price.effective_from.isoformat() if price is not None else None,
                "cost_per_call_usd": per_call,
                "cost_per_1k_calls_usd": None if per_call is None else per_call * 1000,
                "daily_cost_usd": daily,
                "monthly_cost_usd": None if daily is None else daily * days,
            }
        )
    return out
