"""Production monitoring: the seed's table over imported call logs, against each prompt's alerts.

For every prompt with imported calls, each metric is measured over the last day and over the
last `days` days (both end now) and compared with the prompt's alert thresholds
(`core.models.AlertThresholds`; docs/production.md#monitoring gives the rules). A daily trend
(24-hour bins ending now) goes with it. `workbench monitor` prints it and the Production tab
shows it; both read it from here.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from workbench.core.errors import BadInput, NotFound
from workbench.core.models import AlertThresholds
from workbench.core.records import RunSummary
from workbench.services.analytics import load_calls
from workbench.services.production_export import get_production_settings
from workbench.storage.monitoring_repo import HALLUCINATION_TAG, ProductionCall
from workbench.storage.project import Project

DAY_S = 86_400.0
BASELINE_DAYS = 7  # the trailing median of the cost per user per day looks back this far
REVIEW_SAMPLE = 20
_WINDOW = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([dh])\s*")


def parse_window(text: str) -> float:
    """Days in a window written ``7d`` or ``36h`` (from one hour to 90 days)."""
    match = _WINDOW.fullmatch(text or "")
    if match is None:
        raise BadInput(f"'{text}' is not a window", field="since", hint="Write 7d or 24h.")
    days = float(match[1]) / (24 if match[2] == "h" else 1)
    if not 1 / 24 <= days <= 90:
        raise BadInput(f"'{text}' is outside 1h–90d", field="since", hint="Write 7d or 24h.")
    return days


@dataclass(frozen=True)
class Cell:
    """A metric over one window: its value, the threshold it is compared with, and the verdict."""

    value: float | None
    threshold: float | None = None
    breached: bool = False
    detail: str = ""


@dataclass(frozen=True)
class Metric:
    """One row of the table. `unit`: "s", "%" (values are fractions), "$" or "pts" (fraction)."""

    key: str
    label: str
    unit: str
    rule: str  # the alert rule in words, e.g. "> 10 s"
    day: Cell
    week: Cell

    @property
    def breached(self) -> bool:
        return self.day.breached or self.week.breached


@dataclass(frozen=True)
class DayPoint:
    """One 24-hour bin of the trend (`end` is when it ends, seconds since the epoch)."""

    end: float
    calls: int
    p95_latency_s: float | None
    error_rate: float | None
    cost_per_user: float | None
    thumbs_down_rate: float | None


@dataclass(frozen=True)
class PromptHealth:
    """The table of one prompt."""

    prompt: str
    calls_day: int
    calls_week: int
    metrics: list[Metric]
    trend: list[DayPoint]

    @property
    def breached(self) -> bool:
        return any(m.breached for m in self.metrics)


@dataclass(frozen=True)
class MonitorReport:
    """Every prompt's table; `breached` when any threshold is."""

    now: float
    days: float
    prompts: list[PromptHealth] = field(default_factory=list)

    @property
    def breached(self) -> bool:
        return any(p.breached for p in self.prompts)

    def breaches(self) -> list[str]:
        """One line per breached metric and window, e.g. ``support-answer: p95 latency …``."""
        out = []
        for health in self.prompts:
            for m in health.metrics:
                for name, cell in (("last day", m.day), (f"last {self.days:g} days", m.week)):
                    if cell.breached:
                        shown = format_value(cell.value, m.unit)
                        out.append(f"{health.prompt}: {m.label} {shown} {m.rule} ({name})")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "now": _iso(self.now),
            "days": self.days,
            "breached": self.breached,
            "breaches": self.breaches(),
            "prompts": [
                {**asdict(p), "breached": p.breached, "trend": [asdict(d) for d in p.trend]}
                for p in self.prompts
            ],
        }


def _iso(moment: float) -> str:
    return dt.datetime.fromtimestamp(moment, dt.UTC).isoformat(timespec="seconds")


def format_value(value: float | None, unit: str) -> str:
    """A metric value for a table cell: ``1.8 s``, ``2.5 %``, ``$0.0123``, ``12.0 pts``."""
    if value is None or not math.isfinite(value):
        return "—"
    if unit == "%":
        return f"{value * 100:.1f} %"
    if unit == "pts":
        return f"{value * 100:.1f} pts"
    if unit == "$":
        return f"${value:.4f}"
    return f"{value:.2f} s"


# --- the figures -----------------------------------------------------------------------------


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _percentile(calls: Sequence[ProductionCall], q: float) -> float | None:
    values = [c.latency_ms for c in calls if c.latency_ms is not None]
    return float(np.percentile(values, q)) / 1000.0 if values else None


def _thumbs(calls: Sequence[ProductionCall]) -> tuple[int, int]:
    """(down, rated): the user's thumbs, else a reviewer's verdict (fail = down, pass = up)."""
    down = rated = 0
    for c in calls:
        vote = c.feedback
        if vote is None and c.verdict is not None:
            vote = -1 if c.verdict == "fail" else 1
        if vote is not None:
            rated += 1
            down += vote < 0
    return down, rated


def _cost_per_user(calls: Sequence[ProductionCall]) -> float | None:
    """Cost of calls with a user id over distinct users (per 24-hour bin it is the day's)."""
    users = {c.user_id for c in calls if c.user_id is not None}
    costs = [c.cost_usd for c in calls if c.user_id is not None and c.cost_usd is not None]
    return sum(costs) / len(users) if users and costs else None


class _Window:
    """The calls of one prompt split into 24-hour bins ending at `now`."""

    def __init__(self, calls: Sequence[ProductionCall], now: float, bins: int) -> None:
        self.now = now
        self.bins: list[list[ProductionCall]] = [[] for _ in range(bins)]
        for c in calls:
            index = int((now - c.finished_at) // DAY_S)  # 0 = the last 24 hours
            if 0 <= index < bins:
                self.bins[index].append(c)

    def calls(self, first: int, last: int) -> list[ProductionCall]:
        """Calls of bins first..last-1 (0 = most recent)."""
        return [c for b in self.bins[first:last] for c in b]

    def cost_per_user(self, first: int, last: int) -> float | None:
        """Cost per user per day over bins first..last-1: total over user-days."""
        total, user_days = 0.0, 0
        for b in self.bins[first:last]:
            users = {c.user_id for c in b if c.user_id is not None}
            user_days += len(users)
            total += sum(c.cost_usd for c in b if c.user_id is not None and c.cost_usd is not None)
        return total / user_days if user_days else None

    def daily_costs(self, first: int, last: int) -> list[float]:
        return [v for b in self.bins[first:last] if (v := _cost_per_user(b)) is not None]


def _above(value: float | None, threshold: float | None) -> bool:
    return value is not None and threshold is not None and value > threshold


def _simple(value: float | None, threshold: float, detail: str = "") -> Cell:
    return Cell(value, threshold, _above(value, threshold), detail)


def _cost_cell(win: _Window, first: int, last: int, alerts: AlertThresholds) -> Cell:
    value = win.cost_per_user(first, last)
    baseline: float | None
    if alerts.cost_baseline_usd is not None:
        baseline, where = alerts.cost_baseline_usd, "set"
    else:
        trailing = win.daily_costs(last, last + BASELINE_DAYS)
        baseline = statistics.median(trailing) if trailing else None
        where = f"median of {len(trailing)} day(s) before"
    limit = None if baseline is None else alerts.cost_per_user_per_day_multiple * baseline
    cap = alerts.cost_per_user_per_day_usd
    breached = _above(value, limit) or _above(value, cap)
    detail = "no baseline yet" if baseline is None else f"baseline ${baseline:.4f} ({where})"
    if cap is not None:
        detail += f"; cap ${cap:.2f}"
    return Cell(value, limit, breached, detail)


def _eval_cell(
    rates: list[tuple[float, float]], since: float, now: float, threshold: float
) -> Cell:
    """Drop of the latest eval pass rate in [since, now) from the latest one before it."""
    inside = [r for r in rates if since <= r[0] < now]
    before = [r for r in rates if r[0] < since]
    if not inside:
        return Cell(None, threshold, False, "no eval run in this window")
    current = inside[-1][1]
    if not before:
        return Cell(None, threshold, False, f"pass rate {current:.0%}; no earlier run")
    previous = before[-1][1]
    drop = previous - current
    return Cell(drop, threshold, drop > threshold, f"{previous:.0%} → {current:.0%}")


def _metrics(
    win: _Window, week_bins: int, alerts: AlertThresholds, rates: list[tuple[float, float]]
) -> list[Metric]:
    day, week = win.calls(0, 1), win.calls(0, week_bins)
    limit = alerts.p95_latency_s
    out = [
        Metric(
            "p50_latency_s",
            "p50 latency",
            "s",
            "",
            Cell(_percentile(day, 50)),
            Cell(_percentile(week, 50)),
        ),
        Metric(
            "p95_latency_s",
            "p95 latency",
            "s",
            f"> {limit:g} s",
            _simple(_percentile(day, 95), limit),
            _simple(_percentile(week, 95), limit),
        ),
    ]

    def rate_cells(
        part: Callable[[list[ProductionCall]], tuple[int, int]], limit: float
    ) -> list[Cell]:
        cells = []
        for calls in (day, week):
            num, den = part(calls)
            cells.append(_simple(_ratio(num, den), limit, f"{num} of {den}"))
        return cells

    errors = rate_cells(lambda cs: (sum(c.failed for c in cs), len(cs)), alerts.error_rate)
    out.append(Metric("error_rate", "error rate", "%", f"> {alerts.error_rate:.0%}", *errors))
    multiple = alerts.cost_per_user_per_day_multiple
    out.append(
        Metric(
            "cost_per_user_per_day",
            "cost per user per day",
            "$",
            f"> {multiple:g}× baseline",
            _cost_cell(win, 0, 1, alerts),
            _cost_cell(win, 0, week_bins, alerts),
        )
    )
    drop = alerts.eval_pass_rate_drop
    out.append(
        Metric(
            "eval_pass_rate_drop",
            "eval pass rate drop",
            "pts",
            f"> {drop * 100:g} pts",
            _eval_cell(rates, win.now - DAY_S, win.now, drop),
            _eval_cell(rates, win.now - week_bins * DAY_S, win.now, drop),
        )
    )
    thumbs = rate_cells(_thumbs, alerts.thumbs_down_rate)
    out.append(
        Metric(
            "thumbs_down_rate",
            "thumbs-down rate",
            "%",
            f"> {alerts.thumbs_down_rate:.0%}",
            *thumbs,
        )
    )
    halluc = rate_cells(
        lambda cs: (sum(c.hallucination for c in cs if c.reviewed), sum(c.reviewed for c in cs)),
        alerts.hallucination_rate,
    )
    out.append(
        Metric(
            "hallucination_rate",
            "hallucination rate",
            "%",
            f"> {alerts.hallucination_rate:.0%}",
            *halluc,
        )
    )
    return out


def _trend(win: _Window, bins: int) -> list[DayPoint]:
    points = []
    for i in reversed(range(bins)):
        calls = win.bins[i]
        down, rated = _thumbs(calls)
        points.append(
            DayPoint(
                end=win.now - i * DAY_S,
                calls=len(calls),
                p95_latency_s=_percentile(calls, 95),
                error_rate=_ratio(sum(c.failed for c in calls), len(calls)),
                cost_per_user=_cost_per_user(calls),
                thumbs_down_rate=_ratio(down, rated),
            )
        )
    return points


def _alerts_of(project: Project, prompt: str) -> AlertThresholds:
    try:
        return get_production_settings(project, prompt).alerts
    except NotFound:  # imported calls of a prompt this project does not have: the defaults
        return AlertThresholds()


def _run_time(run: RunSummary) -> float | None:
    text = run.finished_at or run.created_at
    try:
        moment = dt.datetime.fromisoformat(str(text))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def eval_pass_rates(project: Project) -> dict[str, list[tuple[float, float]]]:
    """Per prompt, (finish time, pass rate) of each finished eval run, oldest first."""
    out: dict[str, list[tuple[float, float]]] = {}
    for run in project.runs.summaries():
        at = _run_time(run)
        if run.kind != "eval" or run.status != "done" or at is None:
            continue
        frame = load_calls(project, run_id=run.id)
        passed, names = frame.arrays["passed"], frame.arrays["prompt_name"]
        for name in sorted({n for n in names.tolist() if n is not None}):
            mine = passed[(names == name) & np.isfinite(passed)]
            if len(mine):
                out.setdefault(name, []).append((at, float(mine.mean())))
    for rates in out.values():
        rates.sort()
    return out


def monitor(
    project: Project, *, days: float = 7.0, now: float | None = None, prompt: str | None = None
) -> MonitorReport:
    """The monitoring table of every prompt with imported calls in the last `days` days."""
    now = time.time() if now is None else now
    week_bins = max(1, math.ceil(days))
    bins = week_bins + BASELINE_DAYS
    calls = project.monitoring.production_calls(now - bins * DAY_S, now)
    by_prompt: dict[str, list[ProductionCall]] = {}
    for c in calls:
        by_prompt.setdefault(c.prompt, []).append(c)
    rates = eval_pass_rates(project)
    report = MonitorReport(now=now, days=days)
    for name in sorted(by_prompt):
        if prompt is not None and name != prompt:
            continue
        win = _Window(by_prompt[name], now, bins)
        week = win.calls(0, week_bins)
        if not week:
            continue  # only baseline days: nothing to judge in the window
        report.prompts.append(
            PromptHealth(
                prompt=name,
                calls_day=len(win.bins[0]),
                calls_week=len(week),
                metrics=_metrics(win, week_bins, _alerts_of(project, name), rates.get(name, [])),
                trend=_trend(win, week_bins),
            )
        )
    return report


def review_sample(
    project: Project,
    *,
    n: int = REVIEW_SAMPLE,
    days: float = 7.0,
    now: float | None = None,
    seed: int | None = None,
) -> list[int]:
    """Up to `n` random imported calls of the last `days` days that nobody has reviewed yet."""
    now = time.time() if now is None else now
    calls = project.monitoring.production_calls(now - days * DAY_S, now)
    ids = [c.id for c in calls if not c.reviewed and not c.failed]
    return random.Random(seed).sample(ids, min(n, len(ids)))


def ensure_hallucination_tag(project: Project) -> None:
    """Add the failure tag ``hallucination`` reviewers use, when the project lacks it."""
    project.labels.add_tag(
        HALLUCINATION_TAG, "The answer states something the sources do not support."
    )
