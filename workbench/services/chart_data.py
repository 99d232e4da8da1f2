"""What the charts draw, computed off the GUI thread: one `ChartData` per (calls, filters).

No Qt here: `load_project_data` reads the calls through its own read-only connection and
`compute_chart_data` reduces them with `services.analytics` / `services.tier` to a few arrays
per model, so a redraw only hands small arrays to existing plot items however many calls there
are (100 000 latencies become 40 histogram bins per model).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np

from workbench.core.records import RunSummary
from workbench.services import analytics, tier
from workbench.services.chart_evidence import add_evidence
from workbench.services.pricing import PriceTable
from workbench.services.project_models import price_table
from workbench.storage.project import Project

# Source filter choices: label shown, sources included. Judge calls grade outputs; they are
# not candidates for shipping, so "runs and imports" leaves them out.
SOURCES: dict[str, tuple[str, tuple[str, ...]]] = {
    "all": ("Runs and imports", ("run", "import")),
    "run": ("Workbench runs", ("run",)),
    "import": ("Production imports", ("import",)),
    "judge": ("Judge calls", ("judge",)),
}
VIOLIN_BINS = 40
_SMOOTH = np.array([1.0, 2.0, 3.0, 2.0, 1.0]) / 9.0  # a light blur, so few calls are not spikes


@dataclass(frozen=True)
class ChartFilters:
    """Which calls the charts show."""

    source: str = "all"
    run_id: int | None = None
    prompt_name: str | None = None

    def mask(self, frame: analytics.CallFrame) -> np.ndarray:
        """True for the calls these filters keep (vectorised, no loop over calls)."""
        keep = np.isin(frame["source"], np.array(SOURCES[self.source][1], dtype=object))
        if self.run_id is not None:
            keep &= frame["run_id"] == self.run_id
        if self.prompt_name is not None:
            keep &= frame["prompt_name"] == self.prompt_name
        return np.asarray(keep, dtype=bool)


@dataclass(frozen=True)
class Violin:
    """A latency distribution reduced to a drawable shape: bin edges (s) and relative widths."""

    edges: np.ndarray
    widths: np.ndarray  # 0..1 per bin, the widest bin is 1
    n: int
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, values_ms: np.ndarray) -> Violin:
        """Shape of sorted latencies in ms, cut at p99 so one slow call does not flatten it."""
        s = np.asarray(values_ms, dtype=float) / 1000.0
        p50, p95, p99 = (float(v) for v in np.percentile(s, (50, 95, 99)))
        top = p99 if p99 > s[0] else s[0] + 1e-3
        bins = int(np.clip(2 * np.sqrt(len(s)), 8, VIOLIN_BINS))  # fewer calls, wider bins
        counts, edges = np.histogram(s, bins=bins, range=(float(s[0]), top))
        smooth = np.convolve(counts.astype(float), _SMOOTH, mode="same")
        widths = smooth / smooth.max() if smooth.max() > 0 else smooth
        return cls(edges, widths, len(s), p50, p95, p99, float(s[-1]))


@dataclass
class ChartData:
    """Everything the charts pane draws for one set of calls."""

    calls: int = 0
    synthetic_calls: int = 0
    models: list[str] = field(default_factory=list)  # present, cheapest first
    all_models: list[str] = field(default_factory=list)  # in the whole project (colours)
    by_model: list[dict[str, Any]] = field(default_factory=list)
    by_version_model: list[dict[str, Any]] = field(default_factory=list)
    latency: dict[str, Violin] = field(default_factory=dict)
    ttft: dict[str, Violin] = field(default_factory=dict)
    daily: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    # Projection rows at 1 call a day (cost is linear in calls per day), without and with batch.
    projection: list[dict[str, Any]] = field(default_factory=list)
    projection_batch: list[dict[str, Any]] = field(default_factory=list)

    def versions(self) -> list[tuple[str, int]]:
        """(prompt, version) pairs present, in order."""
        pairs = {
            (str(r["prompt_name"]), int(r["version"]))
            for r in self.by_version_model
            if r.get("prompt_name") is not None and r.get("version") is not None
        }
        return sorted(pairs)


@dataclass
class ProjectCalls:
    """The project's calls as read once; filters are applied to it without reading again."""

    frame: analytics.CallFrame
    prices: PriceTable
    synthetic_runs: np.ndarray
    runs: list[RunSummary]
    prompts: list[str]
    run_datasets: dict[int, str] = field(default_factory=dict)


def load_project_data(path: Path) -> ProjectCalls:
    """Read every call of the project at `path` on a connection of this thread's own."""
    with Project.open(path, read_only=True) as reader:
        frame = analytics.load_calls(reader)
        runs = reader.runs.summaries()
        synthetic = np.array([r.id for r in runs if r.synthetic], dtype=float)
        prompts = [p.name for p in reader.prompts.list()]
        datasets = {}
        for run in runs:  # a few runs: which dataset each one ran, for the charts' evidence
            dataset = reader.runs.get_run(run.id).plan.get("dataset")
            if dataset:
                datasets[run.id] = str(dataset)
        return ProjectCalls(frame, price_table(reader), synthetic, runs, prompts, datasets)


def _model_order(rows: list[dict[str, Any]]) -> list[str]:
    """Models cheapest first (unknown cost last), so tiers read left to right."""

    def key(row: dict[str, Any]) -> tuple[bool, float, str]:
        cost = row.get("cost_per_call_usd")
        return (cost is None, cost or 0.0, str(row["model"]))

    return [str(r["model"]) for r in sorted(rows, key=key)]


def compute_chart_data(
    frame: analytics.CallFrame,
    filters: ChartFilters = ChartFilters(),  # noqa: B008 - frozen, so sharing it is safe
    *,
    prices: PriceTable | None = None,
    synthetic_runs: np.ndarray | None = None,
    at: dt.datetime | None = None,
    run_datasets: dict[int, str] | None = None,
) -> ChartData:
    """Reduce `frame` (after `filters`) to what every chart draws.

    :param prices: for the monthly projection (no projection without it)
    :param synthetic_runs: ids of runs made by the offline echo provider, to count their calls
        and to price them at list prices for the tier answer (never as spend)
    :param run_datasets: dataset name per run id, to name the evidence behind pass rates
    """
    all_models = sorted(str(m) for m in frame.codes("model")[1] if m is not None)
    calls = frame.where(filters.mask(frame)) if len(frame) else frame
    data = ChartData(calls=len(calls), all_models=all_models)
    if len(calls) == 0:
        return data
    synthetic = np.zeros(len(calls), dtype=bool)
    if "is_synthetic" in calls.arrays:  # the call's own flag (a try has no run)
        synthetic |= calls["is_synthetic"]
    if synthetic_runs is not None and len(synthetic_runs):
        synthetic |= np.isin(calls["run_id"], synthetic_runs)
    data.synthetic_calls = int(synthetic.sum())
    data.by_model = analytics.summarize(calls, ("model",))
    data.models = _model_order(data.by_model)
    data.by_version_model = analytics.summarize(calls, ("prompt_name", "version", "model"))
    data.latency = {
        str(m): Violin.of(v) for m, v in analytics.latency_distribution(calls).items() if len(v)
    }
    ttft = analytics.latency_distribution(calls, metric="ttft_ms")
    data.ttft = {str(m): Violin.of(v) for m, v in ttft.items() if len(v)}
    daily = analytics.over_time(calls, metrics=("error_rate", "p95_latency_ms"))
    data.daily = {str(m): series for m, series in daily.items()}
    if prices is not None:
        # `project` is only read when no price table is given.
        nobody = cast(Project, None)
        for batch in (False, True):
            rows = tier.monthly_projection(
                nobody, 1.0, batch=batch, at=at, prices=prices, frame=calls
            )
            if batch:
                data.projection_batch = rows
            else:
                data.projection = rows
    list_prices = {
        (r["prompt_name"], r["version"], r["model"]): r["cost_per_call_usd"]
        for r in data.projection
    }
    add_evidence(
        data.by_version_model,
        calls,
        ("prompt_name", "version", "model"),
        synthetic=synthetic,
        list_price_per_call=list_prices,
        run_datasets=run_datasets,
    )
    return data
