"""Demo data for the charts tests, screenshots and bench (not a test module).

`run_echo_sample` runs the sample project through the run service with the offline echo
provider; `add_synthetic_calls` adds realistic latencies, tokens, costs, errors and scores for
three models x three versions of `support-answer` (plus production imports with thumbs), so pass
rate and the frontier mean something; `synthetic_frame` builds a `CallFrame` of any size
directly, without a project.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import numpy as np

from workbench.core.records import CallRecord
from workbench.inference import make_provider
from workbench.services.analytics import CallFrame
from workbench.services.planner import make_plan
from workbench.services.pricing import PriceTable, Usage
from workbench.services.project_models import model_catalog, price_table
from workbench.services.run_service import start_run
from workbench.services.runner import RunOptions
from workbench.storage.labels_repo import ScoreRow
from workbench.storage.project import Project

PROMPT = "support-answer"
MODELS = ("claude-haiku-5-5", "claude-sonnet-5-5", "claude-opus-5-5")
START = dt.datetime(2026, 11, 10, tzinfo=dt.UTC).timestamp()
DAYS = 14
# Pass rate per (model, version): bigger tiers pass more often, later versions help every tier.
PASS = {
    MODELS[0]: (0.58, 0.70, 0.76),
    MODELS[1]: (0.74, 0.84, 0.90),
    MODELS[2]: (0.83, 0.90, 0.93),
}
MEDIAN_S = {MODELS[0]: 1.1, MODELS[1]: 2.6, MODELS[2]: 4.2}
ERROR_RATE = {MODELS[0]: 0.003, MODELS[1]: 0.004, MODELS[2]: 0.006}


def run_echo_sample(project: Project) -> int:
    """Run `support-answer` (production label) over the sample dataset with the echo provider."""
    plan = make_plan(
        project,
        prompts=[PROMPT],
        dataset="support-questions",
        catalog=model_catalog(project),
        prices=price_table(project),
    )
    outcome = asyncio.run(
        start_run(project, plan, make_provider("echo"), options=RunOptions(concurrency=8))
    )
    assert outcome.status == "done", outcome
    return outcome.run_id


def _passes(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    """Exactly round(rate * n) passes in a random order, so the charts show the rates above."""
    out = np.zeros(n, dtype=bool)
    out[: round(rate * n)] = True
    rng.shuffle(out)
    return out


def add_synthetic_calls(project: Project, *, per_pair: int = 150, seed: int = 7) -> int:
    """Add synthetic calls (a run per version, one import run); returns how many were added."""
    rng = np.random.default_rng(seed)
    prices = price_table(project)
    total = 0
    for version in (1, 2, 3):
        version_id = project.prompts.version_row_id(PROMPT, version)
        run_id = project.runs.create_run(
            provider="synthetic", synthetic=True, plan={"demo": "charts"}, cells=[]
        )
        records, passed = [], []
        for model in MODELS:
            records += _calls(rng, prices, model, version, version_id, run_id, per_pair, "run")
            passed.append(_passes(rng, per_pair, PASS[model][version - 1]))
        ids = project.runs.record_calls(records)
        verdicts = np.concatenate(passed)
        project.labels.replace_scores(
            [
                (call_id, None, [ScoreRow(0, "contains", bool(ok), None, "")])
                for call_id, ok, record in zip(ids, verdicts, records, strict=True)
                if record.error_type is None
            ]
        )
        project.runs.set_status(run_id, "done")
        total += len(records)
    # Production traffic on the labelled version: imports with thumbs, no scores.
    import_run = project.runs.create_run(
        provider="import", synthetic=True, plan={"demo": "imports"}, cells=[], kind="import"
    )
    version_id = project.prompts.version_row_id(PROMPT, 2)
    imported = _calls(rng, prices, MODELS[0], 2, version_id, import_run, 3 * per_pair, "import")
    for record in imported:
        record.feedback = int(rng.choice([1, 1, 1, -1]))
    project.runs.record_calls(imported)
    project.runs.set_status(import_run, "done")
    return total + len(imported)


def _calls(
    rng: np.random.Generator,
    prices: PriceTable,
    model: str,
    version: int,
    version_id: int,
    run_id: int,
    n: int,
    source: str,
) -> list[CallRecord]:
    latency = rng.lognormal(np.log(MEDIAN_S[model] * 1000), 0.4, n)
    ttft = latency * rng.uniform(0.12, 0.3, n)
    finished = START + np.sort(rng.random(n)) * DAYS * 86_400
    # Opus has a bad day (day 7) that crosses the 2 % error-rate alert.
    errors = rng.random(n) < ERROR_RATE[model]
    if model == MODELS[2]:
        errors[np.flatnonzero((finished - START) // 86_400 == 6)[::6]] = True
    tokens_in = rng.integers(700, 1100, n) + 120 * version
    tokens_out = rng.integers(150, 320, n)
    cache_read = 600 if version == 3 else 0  # v3 caches its long system prompt
    out = []
    for i in range(n):
        at = dt.datetime.fromtimestamp(float(finished[i]), dt.UTC)
        usage = Usage(int(tokens_in[i]), int(tokens_out[i]), 0, int(cache_read))
        failed = bool(errors[i])
        out.append(
            CallRecord(
                model=model,
                request={"demo": i, "model": model, "version": version, "source": source},
                request_hash=f"demo-{source}-{version}-{model}-{i}-{run_id}",
                started_at=float(finished[i] - latency[i] / 1000),
                finished_at=float(finished[i]),
                output="" if failed else f"Synthetic answer {i} from {model}.",
                input_tokens=None if failed else usage.input_tokens,
                output_tokens=None if failed else usage.output_tokens,
                cache_creation_tokens=None if failed else 0,
                cache_read_tokens=None if failed else usage.cache_read_input_tokens,
                cost_usd=None if failed else prices.cost_for(model, usage, at),
                latency_ms=float(latency[i]),
                ttft_ms=None if failed else float(ttft[i]),
                total_ms=float(latency[i]),
                error_type="overloaded_error" if failed else None,
                synthetic=True,
                source=source,
                run_id=run_id,
                version_id=version_id,
            )
        )
    return out


def synthetic_frame(n: int, *, seed: int = 3, models: int = 3, versions: int = 3) -> CallFrame:
    """A `CallFrame` of `n` calls built in numpy (for 100 000-call tests without a project)."""
    rng = np.random.default_rng(seed)
    names = np.array([f"claude-tier{i}-5" for i in range(models)], dtype=object)
    model = rng.integers(0, models, n)
    version = rng.integers(1, versions + 1, n)
    latency = rng.lognormal(7 + 0.4 * model, 0.45)
    is_error = rng.random(n) < 0.02
    passed = np.where(
        rng.random(n) < 0.3, (rng.random(n) < 0.6 + 0.1 * model).astype(float), np.nan
    )
    return CallFrame.from_columns(
        {
            "id": np.arange(1, n + 1),
            "run_id": rng.integers(1, 4, n),
            "source": np.where(rng.random(n) < 0.3, "import", "run").astype(object),
            "model": names[model],
            "version_id": version,
            "prompt_name": np.full(n, "answer", dtype=object),
            "version": version,
            "latency_ms": latency,
            "ttft_ms": latency * 0.3,
            "input_tokens": rng.integers(200, 3000, n),
            "output_tokens": rng.integers(20, 600, n),
            "cache_creation_tokens": np.zeros(n),
            "cache_read_tokens": np.where(rng.random(n) < 0.5, 1000, 0),
            "cost_usd": np.where(is_error, np.nan, (model + 1) * 0.001 * rng.random(n)),
            "is_error": is_error,
            "is_cached": rng.random(n) < 0.01,
            "finished_at": START + rng.random(n) * DAYS * 86_400,
            "feedback": rng.choice([np.nan, np.nan, 1.0, -1.0], n),
            "passed": passed,
        }
    )
