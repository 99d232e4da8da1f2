"""Analytics benchmark: time to recompute every chart's figures over 100 000 logged calls.

The compute half of issue 7's benchmark (the redraw half belongs to the charts pane). Builds a
project with N calls (4 models x 3 prompt versions, runs and imports, 30 days, a fifth of them
scored, some thumbs) through `RunsRepo.record_calls`, then times each step of a full recompute:
reading the columns, every grouping, the latency/ttft distributions, the daily series, the
frontier and tier answer, and the monthly projection. Also times importing a JSONL log.
Prints figures measured in one run (median of --repeat); never a timed test.

Usage: ``python bench/charts_compute.py [--calls 100000] [--repeat 5] [--import-lines 20000]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

MODELS = ("claude-haiku-5-5", "claude-sonnet-5-5", "claude-opus-5-5", "claude-fable-5-2")
START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC).timestamp()


def build(path: Path, calls: int) -> float:
    """Create the project with `calls` calls; returns seconds spent writing the calls."""
    from workbench.core.models import Message, Params, PromptContent
    from workbench.core.records import CallRecord
    from workbench.services.project_models import seed_defaults
    from workbench.storage.labels_repo import LabelsRepo, ScoreRow
    from workbench.storage.project import Project

    rng = np.random.default_rng(42)
    with Project.create(path, "bench") as project:
        seed_defaults(project)
        project.prompts.create("answer")
        version_rows = []
        for v in range(1, 4):
            content = PromptContent(
                system=f"Answer briefly (v{v}).",
                messages=[Message(role="user", content="{{q}}")],
                params=Params(model=MODELS[0], max_tokens=300),
            )
            project.prompts.save_version("answer", content, note=f"v{v}")
            version_rows.append(project.prompts.version_row_id("answer", v))
        model = rng.integers(0, len(MODELS), calls)
        version = rng.integers(0, 3, calls)
        latency = rng.lognormal(7 + 0.3 * model, 0.5)
        errors = rng.random(calls) < 0.02
        finished = START + rng.random(calls) * 30 * 86_400
        tokens_in = rng.integers(200, 3000, calls)
        tokens_out = rng.integers(20, 600, calls)
        cache_read = np.where(rng.random(calls) < 0.5, 1000, 0)
        source = np.where(rng.random(calls) < 0.3, "import", "run")
        feedback = rng.choice([None, None, None, 1, -1], calls)
        price = np.array([1e-6, 3e-6, 5e-6, 8e-6])[model]  # per input token; output costs 5x
        records = [
            CallRecord(
                model=MODELS[model[i]],
                request={"i": i},
                request_hash=f"h{i}",
                started_at=float(finished[i] - latency[i] / 1000),
                finished_at=float(finished[i]),
                output="x",
                input_tokens=None if errors[i] else int(tokens_in[i]),
                output_tokens=None if errors[i] else int(tokens_out[i]),
                cache_creation_tokens=0,
                cache_read_tokens=int(cache_read[i]),
                cost_usd=None
                if errors[i]
                else float(price[i] * (tokens_in[i] + 5 * tokens_out[i])),
                latency_ms=float(latency[i]),
                ttft_ms=float(latency[i] * 0.3),
                error_type="overloaded_error" if errors[i] else None,
                source=str(source[i]),
                version_id=version_rows[version[i]],
                feedback=feedback[i],
            )
            for i in range(calls)
        ]
        run_id = project.runs.create_run(provider="bench", synthetic=True, plan={}, cells=[])
        for record in records:
            record.run_id = run_id
        t0 = time.perf_counter()
        ids = project.runs.record_calls(records)
        written = time.perf_counter() - t0
        labels = LabelsRepo(project)
        scored = rng.random(calls) < 0.2
        passes = rng.random(calls) < 0.74 + 0.06 * model  # bigger tiers pass more often
        labels.replace_scores(
            [
                (ids[i], None, [ScoreRow(0, "contains", bool(passes[i]), None, "")])
                for i in np.flatnonzero(scored)
            ]
        )
    return written


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median milliseconds of `repeat` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), result


def everything(project: Any) -> Any:
    """What the charts pane recomputes after a change: one read, every figure."""
    from workbench.services import analytics, tier

    frame = analytics.load_calls(project)
    tables = analytics.report_tables(frame)
    return (
        tables,
        analytics.latency_distribution(frame),
        analytics.latency_distribution(frame, metric="ttft_ms"),
        analytics.over_time(frame, metrics=("p95_latency_ms", "error_rate", "pass_rate")),
        tier.pareto_frontier(tables["version_model"]),
        tier.tier_decision(tables["model"], 0.8, 10),
        tier.monthly_projection(project, 10_000, frame=frame),
    )


def recompute(path: Path, repeat: int) -> None:
    from workbench.services import analytics, tier
    from workbench.storage.project import Project

    with Project.open(path, read_only=True) as project:
        load_ms, frame = timed(lambda: analytics.load_calls(project), repeat)
        print(
            f"{'read ' + format(len(frame), ',') + ' calls into numpy columns':<40} {load_ms:8.1f} ms"
        )
        for name, keys in analytics.GROUPINGS.items():
            ms, rows = timed(lambda keys=keys: analytics.summarize(frame, keys), repeat)
            print(f"summarize by {name:<14} ({len(rows):4d} groups) {ms:8.1f} ms")
        steps: list[tuple[str, Callable[[], Any]]] = [
            ("latency distribution per model", lambda: analytics.latency_distribution(frame)),
            (
                "ttft distribution per model",
                lambda: analytics.latency_distribution(frame, metric="ttft_ms"),
            ),
            (
                "daily p95 / error rate / pass rate",
                lambda: analytics.over_time(
                    frame, metrics=("p95_latency_ms", "error_rate", "pass_rate", "cost_usd")
                ),
            ),
        ]
        per_version = analytics.summarize(frame, ("prompt_name", "version", "model"))
        per_model = analytics.summarize(frame, ("model",))
        steps += [
            ("pareto frontier + tier answer", lambda: (tier.pareto_frontier(per_version), tier.tier_decision(per_model, 0.8, 10))),
            ("monthly projection", lambda: tier.monthly_projection(project, 10_000, frame=frame)),
        ]  # fmt: skip
        for label, fn in steps:
            ms, _ = timed(fn, repeat)
            print(f"{label:<40} {ms:8.1f} ms")
        total, _ = timed(lambda: everything(project), repeat)
        print(f"{'everything, from a fresh read':<40} {total:8.1f} ms")
        print(tier.tier_decision(per_model, 0.8, 10))


def import_bench(folder: Path, lines: int) -> None:
    from workbench.services.logs_import import import_logs
    from workbench.storage.project import Project

    path = folder / "import.pwb"
    with Project.create(path, "import") as project:
        log = folder / "calls.jsonl"
        with log.open("w", encoding="utf-8") as handle:
            for i in range(lines):
                line = {
                    "timestamp": "2026-11-20T10:00:00Z",
                    "prompt": "answer",
                    "version_id": "answer@v1#0123456789ab",
                    "model": MODELS[i % 4],
                    "vars": {"q": f"question {i}"},
                    "output": "an answer",
                    "latency_ms": 800 + i % 500,
                    "input_tokens": 1000,
                    "output_tokens": 100,
                    "call_id": f"c-{i}",
                }
                handle.write(json.dumps(line) + "\n")
        t0 = time.perf_counter()
        report = import_logs(project, log)
        seconds = time.perf_counter() - t0
    print(
        f"import {report.calls:,} JSONL lines: {seconds:.2f} s ({report.calls / seconds:,.0f} lines/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--import-lines", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wb-bench-") as tmp:
        path = Path(tmp) / "bench.pwb"
        t0 = time.perf_counter()
        written = build(path, args.calls)
        print(
            f"built {args.calls:,} calls in {time.perf_counter() - t0:.1f} s "
            f"(record_calls: {args.calls / written:,.0f} calls/s)"
        )
        recompute(path, args.repeat)
        if args.import_lines:
            import_bench(Path(tmp), args.import_lines)


if __name__ == "__main__":
    main()
