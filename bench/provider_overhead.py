"""How much the Anthropic provider costs per call, against the fake server in a subprocess.

The server runs in its own process so it does not share this process's GIL; it answers every
call after a fixed latency. For each concurrency and mode (streamed / JSON) this prints calls
per second, client CPU ms per call (``time.process_time`` of this process), the ratio of the
wall time to the ideal ``calls × latency / concurrency`` and the median recorded latency.
If the target rate is missed at the highest concurrency, a cProfile of that case follows.

Usage: ``python bench/provider_overhead.py [--latency-ms 50] [--scale 1.0] [--profile]``
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import statistics
import sys
import time
from dataclasses import dataclass

from workbench.inference import CallRequest, CallResult
from workbench.inference.anthropic_provider import AnthropicProvider
from workbench.testing.fake_anthropic import RemoteControl, start_subprocess, stop_subprocess

FAKE_KEY = "sk-ant-bench-FAKEKEY-0000"
TARGET_CALLS_PER_S = 300.0
CONCURRENCIES = (1, 8, 32)
# Calls per case: enough for a stable rate, few enough that the whole run stays under a minute.
CALLS = {1: 40, 8: 240, 32: 1200}


@dataclass
class Case:
    concurrency: int
    stream: bool
    calls: int
    wall_s: float
    cpu_s: float
    failures: int
    median_latency_ms: float

    def row(self, latency_s: float) -> str:
        ideal = self.calls * latency_s / self.concurrency
        mode = "stream" if self.stream else "json"
        return (
            f"{self.concurrency:>5} {mode:>7} {self.calls:>6} {self.calls / self.wall_s:>9.1f}"
            f" {self.cpu_s * 1000 / self.calls:>9.2f} {self.wall_s / ideal:>7.2f}"
            f" {self.median_latency_ms:>10.1f} {self.failures:>5}"
        )


def make_request(i: int, stream: bool) -> CallRequest:
    return CallRequest(
        model="claude-haiku-5-5",
        system="You are a support agent. Answer in two sentences.",
        messages=[{"role": "user", "content": f"Where is parcel number {i % 50}?"}],
        max_tokens=200,
        stream=stream,
        timeout_s=30,
    )


async def run_case(provider: AnthropicProvider, concurrency: int, calls: int, stream: bool) -> Case:
    results: list[CallResult] = []
    counter = iter(range(calls))

    async def worker() -> None:
        for i in counter:
            results.append(await provider.call(make_request(i, stream)))

    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    latencies = [r.latency_ms for r in results if r.latency_ms is not None]
    return Case(
        concurrency,
        stream,
        calls,
        wall,
        cpu,
        sum(not r.ok for r in results),
        statistics.median(latencies) if latencies else float("nan"),
    )


async def run_all(base_url: str, scale: float) -> list[Case]:
    provider = AnthropicProvider(api_key=FAKE_KEY, base_url=base_url)
    try:
        await run_case(provider, 8, 40, True)  # warm-up: connections, caches
        cases = []
        for concurrency in CONCURRENCIES:
            for stream in (True, False):
                calls = max(concurrency, int(CALLS[concurrency] * scale))
                cases.append(await run_case(provider, concurrency, calls, stream))
        return cases
    finally:
        await provider.aclose()


async def profile_case(base_url: str, stream: bool) -> str:
    provider = AnthropicProvider(api_key=FAKE_KEY, base_url=base_url)
    try:
        await run_case(provider, 32, 64, stream)
        profiler = cProfile.Profile()
        profiler.enable()
        await run_case(provider, 32, 600, stream)
        profiler.disable()
    finally:
        await provider.aclose()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the call counts")
    parser.add_argument("--profile", action="store_true", help="always print a cProfile")
    args = parser.parse_args(argv)

    proc, base_url = start_subprocess(latency_ms=args.latency_ms, extra_args=["--no-body-hashes"])
    try:
        started = time.perf_counter()
        cases = asyncio.run(run_all(base_url, args.scale))
        stats = RemoteControl(base_url).stats()
        latency_s = args.latency_ms / 1000.0
        print(
            f"fake server latency {args.latency_ms:g} ms (subprocess), python {sys.version.split()[0]}"
        )
        print("conc.    mode  calls   calls/s  CPU ms/c  wall/ideal  median ms  fail")
        for case in cases:
            print(case.row(latency_s))
        print(
            f"server saw {stats['messages_requests']} calls on {stats['connections_total']} "
            f"connections; total run {time.perf_counter() - started:.1f} s"
        )
        top = [c for c in cases if c.concurrency == max(CONCURRENCIES)]
        slow = [c for c in top if c.calls / c.wall_s < TARGET_CALLS_PER_S]
        for case in slow:
            print(f"below {TARGET_CALLS_PER_S:.0f} calls/s at concurrency {case.concurrency}")
        if slow or args.profile:
            for stream in sorted({c.stream for c in slow} or {True, False}):
                print(f"\ncProfile, concurrency 32, {'stream' if stream else 'json'}:")
                print(asyncio.run(profile_case(base_url, stream)))
    finally:
        stop_subprocess(proc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
