"""Scale benchmarks: pacing by rate-limit headers, Message Batches, automatic prompt caching.

Prints figures and ratios measured in one run against the fake server (in a subprocess, so it
does not share our GIL); never a timed test.

(a) a simulated limit of 60 requests and 40 000 input tokens per window, 300 calls: wall time
    against the limit-bound minimum and the share of 429s, pacing vs AIMD only. Time is scaled
    down 10x: the window is 6 s instead of a minute (same shape, 10x faster).
(b) a 10 000-request batch run: submit in one process, collect in another (the first has
    exited), every answer stored exactly once; peak RSS of 1 000 vs 10 000 requests.
(c) the sample's support-answer prompt over its 20 support questions with and without
    automatic caching: cache-read tokens and the cost ratio.

Usage: ``python bench/scale.py [--only a|b|c] [--window 6]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "projects" / "quizcraft.yaml"
FAKE_KEY = "sk-ant-bench-FAKEKEY-scale"
LIMIT_REQUESTS, LIMIT_INPUT = 60, 40_000


def _project(path: Path, calls: int, system_chars: int) -> Any:
    from workbench.core.models import Example, Message, Params, PromptContent
    from workbench.services.project_models import seed_defaults
    from workbench.storage.project import Project

    project = Project.create(path, "bench")
    seed_defaults(project)
    project.prompts.create("p")
    system = ("You are a careful assistant; answer from the notes. " * 200)[:system_chars]
    project.prompts.save_version(
        "p",
        PromptContent(
            system=system,
            messages=[Message(role="user", content="Question {{n}}: reply briefly.")],
            params=Params(model="claude-haiku-5-5", max_tokens=64),
        ),
    )
    project.datasets.create("d")
    project.datasets.add_examples("d", [Example(vars={"n": str(i)}) for i in range(calls)])
    return project


def _plan(project: Any, prompt: str = "p", dataset: str = "d") -> Any:
    from workbench.services.planner import make_plan
    from workbench.services.project_models import model_catalog, price_table

    return make_plan(
        project,
        prompts=[prompt],
        dataset=dataset,
        catalog=model_catalog(project),
        prices=price_table(project),
    )


# -- (a) pacing ------------------------------------------------------------------------------


def child_pacing(base_url: str, pace: bool, window_s: float) -> dict[str, Any]:
    from workbench.inference import make_provider
    from workbench.services.run_service import start_run
    from workbench.services.runner import RunOptions
    from workbench.testing.fake_anthropic import RemoteControl

    calls, system_chars = 300, 2000
    control = RemoteControl(base_url)
    control.configure(
        rate_limits={
            "*": {"requests": LIMIT_REQUESTS, "input_tokens": LIMIT_INPUT, "window_s": window_s}
        }
    )
    control.reset_stats()
    with tempfile.TemporaryDirectory() as tmp:
        project = _project(Path(tmp) / "a.pwb", calls, system_chars)
        plan = _plan(project)
        provider = make_provider("anthropic", api_key=FAKE_KEY, base_url=base_url)
        options = RunOptions(concurrency=16, use_cache=False, pace=pace)
        t0 = time.perf_counter()
        outcome = asyncio.run(start_run(project, plan, provider, options=options))
        wall = time.perf_counter() - t0
        tokens = [r[0] for r in project.db.execute("SELECT input_tokens FROM calls")]
        project.close()
    stats = control.stats()
    total_in = sum(t or 0 for t in tokens)
    rate_req, rate_in = LIMIT_REQUESTS / window_s, LIMIT_INPUT / window_s
    # Both buckets start full: only what exceeds one window's allowance has to wait.
    minimum = max(
        max(0, calls - LIMIT_REQUESTS) / rate_req, max(0, total_in - LIMIT_INPUT) / rate_in
    )
    return {
        "pace": pace,
        "wall_s": wall,
        "minimum_s": minimum,
        "done": outcome.progress.done,
        "errors": outcome.progress.errors,
        "requests": stats["messages_requests"],
        "rate_limited": stats["rate_limited"],
        "input_tokens": total_in,
    }


# -- (b) batches -----------------------------------------------------------------------------


def child_batch(base_url: str, step: str, path: str, calls: int) -> dict[str, Any]:
    from workbench.inference.batches import AnthropicBatches
    from workbench.services import batch_runs
    from workbench.storage.project import Project

    t0 = time.perf_counter()
    out: dict[str, Any] = {"step": step}

    async def with_client(fn: Any) -> Any:
        client = AnthropicBatches(api_key=FAKE_KEY, base_url=base_url)
        try:
            return await fn(client)
        finally:
            await client.aclose()

    if step == "submit":
        project = _project(Path(path), calls, 200)
        plan = _plan(project)
        report = asyncio.run(with_client(lambda c: batch_runs.submit_batch_run(project, plan, c)))
        out.update(run_id=report.run_id, submitted=report.submitted, batches=len(report.batches))
    else:
        project = Project.open(Path(path))
        run_id = project.runs.latest_run_id()
        polls = 0

        def count(rows: list[dict[str, Any]]) -> None:
            nonlocal polls
            polls += 1

        reports = asyncio.run(
            with_client(
                lambda c: batch_runs.collect(
                    project, c, run_id, wait=True, poll_s=0.5, on_update=count
                )
            )
        )
        rows = list(
            project.db.query(
                "SELECT count(*) AS calls, count(DISTINCT cell_id) AS cells, "
                "sum(error_type IS NULL) AS ok FROM calls WHERE run_id = ?",
                [run_id],
            )
        )[0]
        out.update(
            stored=reports[0].stored,
            polls=polls,
            calls=rows["calls"],
            distinct_cells=rows["cells"],
            ok=rows["ok"],
            run_status=reports[0].run_status,
        )
    project.close()
    out["wall_s"] = time.perf_counter() - t0
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


# -- (c) caching -----------------------------------------------------------------------------


def child_caching(base_url: str, mode: str) -> dict[str, Any]:
    """``mode``: off, auto (the shipped minimums), forced (minimums ignored: what-if only)."""
    from workbench.inference import make_provider
    from workbench.services import prompt_caching
    from workbench.services.projects import open_project
    from workbench.services.run_service import start_run
    from workbench.services.runner import RunOptions

    if mode == "forced":
        prompt_caching._minimums = lambda: (("*", 0),)  # type: ignore[assignment]
    with open_project(SAMPLE) as project:
        plan = _plan(project, "support-answer@2", "support-questions")
        preview = prompt_caching.preview_plan(plan, None)
        provider = make_provider("anthropic", api_key=FAKE_KEY, base_url=base_url)
        options = RunOptions(concurrency=1, use_cache=False, auto_cache=mode != "off")
        outcome = asyncio.run(start_run(project, plan, provider, options=options))
        rows = list(
            project.db.query(
                "SELECT sum(input_tokens) AS input, sum(cache_read_tokens) AS reads, "
                "sum(cache_creation_tokens) AS writes, sum(cost_usd) AS cost, count(*) AS n "
                "FROM calls WHERE run_id = ?",
                [outcome.run_id],
            )
        )[0]
    return {"mode": mode, "prefix_tokens": preview.prefix_tokens, **rows}


# -- driver ----------------------------------------------------------------------------------


def _child(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "WORKBENCH_NO_KEYRING": "1", "PYTHONPATH": str(ROOT)},
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _server(config: dict[str, Any]) -> tuple[Any, str]:
    from workbench.testing.fake_anthropic import start_subprocess

    return start_subprocess(latency_ms=20, extra_args=["--config", json.dumps(config)])


def bench_pacing(window_s: float) -> None:
    from workbench.testing.fake_anthropic import stop_subprocess

    print(
        f"(a) limit {LIMIT_REQUESTS} requests + {LIMIT_INPUT} input tokens per {window_s:g} s "
        f"(a minute scaled {60 / window_s:g}x down), 300 calls, c=16, 20 ms latency"
    )
    for pace in (True, False):
        proc, url = _server({})
        try:
            r = _child("pacing", url, "1" if pace else "0", str(window_s))
        finally:
            stop_subprocess(proc)
        share = r["rate_limited"] / r["requests"] * 100 if r["requests"] else 0.0
        name = "pacing by headers" if pace else "AIMD only (today)"
        print(
            f"    {name:18}: wall {r['wall_s']:.1f} s vs limit-bound minimum {r['minimum_s']:.1f} s "
            f"= {r['wall_s'] / r['minimum_s']:.3f}x; {r['rate_limited']} of {r['requests']} "
            f"requests answered 429 ({share:.1f} %); {r['done']} cells, {r['errors']} errors"
        )


def bench_batches() -> None:
    from workbench.testing.fake_anthropic import stop_subprocess

    print("(b) batch runs: submit in one process, collect in another, fake batches take 6 s")
    rss = {}
    for calls in (1000, 10_000):
        proc, url = _server({"batches": {"processing_s": 6}})
        try:
            with tempfile.TemporaryDirectory() as tmp:
                path = str(Path(tmp) / "b.pwb")
                sub = _child("batch", url, "submit", path, str(calls))
                col = _child("batch", url, "collect", path, str(calls))
        finally:
            stop_subprocess(proc)
        once = col["calls"] == col["distinct_cells"] == calls == col["ok"]
        rss[calls] = max(sub["peak_rss_mb"], col["peak_rss_mb"])
        print(
            f"    {calls:>6} requests: submit {sub['wall_s']:.1f} s ({sub['batches']} batch), "
            f"collect {col['wall_s']:.1f} s over {col['polls']} polls; {col['calls']} calls for "
            f"{col['distinct_cells']} cells -> {'each stored exactly once' if once else 'MISMATCH'}; "
            f"peak RSS submit {sub['peak_rss_mb']:.0f} MB, collect {col['peak_rss_mb']:.0f} MB"
        )
    print(f"    peak RSS ratio 10 000 / 1 000 requests: {rss[10_000] / rss[1000]:.2f}")


def bench_caching() -> None:
    from workbench.testing.fake_anthropic import stop_subprocess

    print("(c) support-answer@2 over the 20 support questions, haiku-5-5 prices")
    results = {}
    for mode in ("off", "auto", "forced"):
        proc, url = _server({})
        try:
            results[mode] = _child("caching", url, mode)
        finally:
            stop_subprocess(proc)
    off = results["off"]
    for mode, label in (
        ("off", "no automatic caching"),
        ("auto", "automatic caching (shipped minimums)"),
        ("forced", "what-if: minimum ignored"),
    ):
        r = results[mode]
        print(
            f"    {label:37}: cache reads {r['reads']} tokens, writes {r['writes']}, "
            f"uncached input {r['input']}, cost ${r['cost']:.5f} = {r['cost'] / off['cost']:.3f}x"
        )
    print(
        f"    the shared prefix is ~{results['forced']['prefix_tokens']} tokens (4 chars a token), "
        "below the 1 024-token minimum, so automatic caching rightly leaves it unmarked"
        if results["auto"]["reads"] == 0
        else ""
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["a", "b", "c"])
    parser.add_argument("--window", type=float, default=6.0, help="seconds per limit window")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, url, *rest = args.child
        if kind == "pacing":
            print(json.dumps(child_pacing(url, rest[0] == "1", float(rest[1]))))
        elif kind == "batch":
            print(json.dumps(child_batch(url, rest[0], rest[1], int(rest[2]))))
        else:
            print(json.dumps(child_caching(url, rest[0])))
        return
    print(f"scale benchmarks on {os.cpu_count()} cores (fake server in a subprocess)\n")
    if args.only in (None, "c"):
        bench_caching()
    if args.only in (None, "b"):
        bench_batches()
    if args.only in (None, "a"):
        bench_pacing(args.window)


if __name__ == "__main__":
    main()
