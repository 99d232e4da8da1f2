"""Run-engine benchmark against the fake Anthropic server (in a subprocess, so it does not share
our GIL). Prints figures and ratios measured in one run; never a timed test.

Cases (issue "Run engine", DESIGN.md §9):
1. latency-bound: 1 000 calls, 200 ms latency, concurrency 20 -> wall vs 1.1 x ideal + 1 s
2. CPU-bound: 5 000 calls, 50 ms latency, concurrency 32 -> calls/s, CPU ms per call, peak RSS
3. recorded median latency vs the server's latency at concurrency 32 (200 ms and 50 ms)
4. peak RSS of a 1 000-call vs a 10 000-call run -> flat (results stream to disk)

Each case runs in a child process so its peak RSS is its own.
Usage: ``python bench/run_engine.py [--scale 0.2]`` (scale shrinks the call counts for a quick look)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FAKE_KEY = "sk-ant-bench-FAKEKEY-0000"


def child(calls: int, latency_ms: float, concurrency: int, base_url: str) -> dict[str, float]:
    """Run one case in this (child) process and return its figures."""
    from workbench.core.models import Example, Message, Params, PromptContent
    from workbench.inference import make_provider
    from workbench.services.planner import make_plan
    from workbench.services.project_models import model_catalog, price_table, seed_defaults
    from workbench.services.run_service import start_run
    from workbench.services.runner import RunOptions
    from workbench.storage.project import Project

    with tempfile.TemporaryDirectory() as tmp:
        project = Project.create(Path(tmp) / "bench.pwb", "bench")
        seed_defaults(project)
        project.prompts.create("p")
        project.prompts.save_version(
            "p",
            PromptContent(
                system="You are a terse assistant.",
                messages=[Message(role="user", content="Question {{n}}: reply briefly.")],
                params=Params(model="claude-haiku-5-5", max_tokens=64),
            ),
        )
        project.datasets.create("d")
        project.datasets.add_examples("d", [Example(vars={"n": str(i)}) for i in range(calls)])
        plan = make_plan(
            project,
            prompts=["p"],
            dataset="d",
            catalog=model_catalog(project),
            prices=price_table(project),
        )
        provider = make_provider("anthropic", api_key=FAKE_KEY, base_url=base_url)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        cpu0, wall0 = time.process_time(), time.perf_counter()
        outcome = asyncio.run(
            start_run(
                project,
                plan,
                provider,
                options=RunOptions(concurrency=concurrency, use_cache=False),
            )
        )
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        latencies = [
            r[0]
            for r in project.db.execute("SELECT latency_ms FROM calls WHERE error_type IS NULL")
        ]
        project.close()
    return {
        "calls": calls,
        "done": outcome.progress.done,
        "errors": outcome.progress.errors,
        "wall_s": wall,
        "cpu_ms_per_call": cpu * 1000 / calls,
        "calls_per_s": calls / wall,
        "ideal_s": calls * latency_ms / 1000 / concurrency,
        "median_latency_ms": statistics.median(latencies) if latencies else float("nan"),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_before_run_mb": rss_before / 1024,
    }


def run_case(calls: int, latency_ms: float, concurrency: int) -> dict[str, float]:
    from workbench.testing.fake_anthropic import start_subprocess, stop_subprocess

    server, base_url = start_subprocess(latency_ms=latency_ms)
    try:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                str(calls),
                str(latency_ms),
                str(concurrency),
                base_url,
            ],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "WORKBENCH_NO_KEYRING": "1"},
        )
    finally:
        stop_subprocess(server)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply call counts (e.g. 0.2)")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        calls, latency, conc, url = args.child
        print(json.dumps(child(int(calls), float(latency), int(conc), url)))
        return

    def n(x: int) -> int:
        return max(50, int(x * args.scale))

    print(f"run engine benchmark on {os.cpu_count()} cores (fake server in a subprocess)\n")
    r = run_case(n(1000), 200, 20)
    budget = 1.1 * r["ideal_s"] + 1
    print(
        f"1. latency-bound {r['calls']} calls, 200 ms, c=20: wall {r['wall_s']:.2f} s, ideal "
        f"{r['ideal_s']:.2f} s, ratio {r['wall_s'] / r['ideal_s']:.3f}; budget 1.1x+1s = {budget:.2f} s "
        f"-> {'MET' if r['wall_s'] <= budget else 'MISSED'} ({r['errors']} errors)"
    )
    r = run_case(n(5000), 50, 32)
    print(
        f"2. CPU-bound {r['calls']} calls, 50 ms, c=32: {r['calls_per_s']:.0f} calls/s, "
        f"{r['cpu_ms_per_call']:.2f} CPU ms/call, peak RSS {r['peak_rss_mb']:.0f} MB, "
        f"wall/ideal {r['wall_s'] / r['ideal_s']:.2f}"
    )
    for latency in (200, 50):
        r = run_case(n(1500), latency, 32)
        ratio = r["median_latency_ms"] / latency
        print(
            f"3. recorded median latency at c=32, server {latency} ms: {r['median_latency_ms']:.1f} ms, "
            f"ratio {ratio:.3f} -> {'within 10%' if ratio <= 1.10 else 'OVER 10%'}"
        )
    small, large = run_case(n(1000), 5, 32), run_case(n(10000), 5, 32)
    growth = (
        large["peak_rss_mb"] - large["rss_before_run_mb"],
        small["peak_rss_mb"] - small["rss_before_run_mb"],
    )
    print(
        f"4. peak RSS {small['calls']} calls: {small['peak_rss_mb']:.0f} MB; {large['calls']} calls: "
        f"{large['peak_rss_mb']:.0f} MB; ratio {large['peak_rss_mb'] / small['peak_rss_mb']:.3f} "
        f"(growth during run {growth[1]:.1f} MB vs {growth[0]:.1f} MB)"
    )


if __name__ == "__main__":
    main()
