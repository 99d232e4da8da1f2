"""Reliability figures: what the fake server answered against what was stored and journalled when
writes fail, a 401 comes or SIGTERM arrives mid-run, and what the resume then sends.

Scenarios (DESIGN.md §10): a 4 MB tmpfs filling up mid-run (needs root to mount; skipped
otherwise), an injected write error, another process holding the write lock for 12 s mid-run
(a real `workbench run` subprocess), a 401 mid-run, and SIGTERM to a real `workbench run`.
"paid twice" counts answered requests beyond one per cell over the run and its resume; calls cut
off in flight by a cancel are shown apart (they were never received).

Usage: ``python bench/write_failures.py [--cells 300]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench.core.models import Example, Message, Params, PromptContent
from workbench.inference import make_provider
from workbench.inference.retry import RetryPolicy
from workbench.services.planner import make_plan
from workbench.services.project_models import model_catalog, price_table, seed_defaults
from workbench.services.run_service import resume_run, start_run
from workbench.services.runner import RunOptions, RunOutcome
from workbench.storage.journal import pending_journals, read_journal
from workbench.storage.project import Project
from workbench.storage.runs_repo import RunsRepo
from workbench.testing.fake_anthropic import FakeAnthropicServer

FAKE_KEY = "sk-ant-bench-FAKEKEY-reliability"
POLICY = RetryPolicy(max_attempts=3, base_delay_s=0.01, max_delay_s=0.05)


def make_project(path: Path, cells: int, padding: int = 0) -> Path:
    with Project.create(path, "bench") as project:
        seed_defaults(project)
        project.prompts.create("p")
        project.prompts.save_version(
            "p",
            PromptContent(
                messages=[Message(role="user", content="Item {{n}}: say something. {{pad}}")],
                params=Params(model="claude-haiku-5-5", max_tokens=64),
            ),
        )
        project.datasets.create("d")
        project.datasets.add_examples(
            "d", [Example(vars={"n": str(i), "pad": "x" * padding}) for i in range(cells)]
        )
    return path


def provider(server: FakeAnthropicServer) -> Any:
    return make_provider("anthropic", api_key=FAKE_KEY, base_url=server.base_url, policy=POLICY)


async def start(path: Path, server: FakeAnthropicServer, concurrency: int = 8) -> RunOutcome:
    with Project.open(path) as project:
        plan = make_plan(
            project, prompts=["p"], dataset="d", catalog=model_catalog(project),
            prices=price_table(project),
        )  # fmt: skip
        chosen = provider(server)
        try:
            options = RunOptions(concurrency=concurrency)
            return await start_run(project, plan, chosen, options=options)
        finally:
            await chosen.aclose()


async def resume(path: Path, server: FakeAnthropicServer) -> RunOutcome:
    with Project.open(path) as project:
        chosen = provider(server)
        try:
            return await resume_run(project, 1, chosen, options=RunOptions(concurrency=8))
        finally:
            await chosen.aclose()


def stored_done(path: Path) -> int:
    with Project.open(path, read_only=True) as project:
        return sum(1 for c in project.runs.cells(1) if c.status == "done")


def report(
    name: str, path: Path, server: FakeAnthropicServer, cells: int, cut_off: int = 0
) -> None:
    """Print the figures of one scenario after its run: then resume and count again."""
    answered = server.stats()["by_outcome"]["ok"]
    journalled = sum(len(read_journal(p)) for p in pending_journals(path))
    stored = stored_done(path)
    server.reset_stats()
    outcome = asyncio.run(resume(path, server))
    sent = server.stats()["messages_requests"]
    answered_again = server.stats()["by_outcome"]["ok"]
    final = stored_done(path)
    paid_twice = answered + answered_again - cells - cut_off
    why = f": {outcome.reason}" if outcome.reason else ""
    print(
        f"{name}: {answered} answered, {stored} stored + {journalled} journalled; resume sent "
        f"{sent} for {cells - stored - journalled} missing -> {final}/{cells} done "
        f"({outcome.status}{why}), {paid_twice} paid twice"
        + (f", {cut_off} cut off in flight by the cancel" if cut_off else "")
    )


def disk_full(root: Path, cells: int) -> None:
    disk = root / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        print("tmpfs 4 MB: skipped (cannot mount a tmpfs here; needs root)")
        return
    cells = min(cells, 120)  # a 4 MB disk holds about 150 such calls with their WAL
    try:
        path = make_project(disk / "p.pwb", cells, padding=500)
        with FakeAnthropicServer(latency_ms=10) as server:

            async def run_and_fill() -> None:
                task = asyncio.create_task(start(path, server, concurrency=8))
                while server.stats()["by_outcome"]["ok"] < cells // 5:
                    await asyncio.sleep(0.002)
                with contextlib.suppress(OSError), (disk / "filler").open("wb", buffering=0) as out:
                    while True:
                        out.write(b"\0" * 65536)
                await task

            asyncio.run(run_and_fill())
            (disk / "filler").unlink(missing_ok=True)
            report("tmpfs 4 MB full mid-run", path, server, cells)
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def injected(root: Path, cells: int) -> None:
    path = make_project(root / "injected.pwb", cells)
    real: Callable[..., list[int]] = RunsRepo.record_calls
    batches = {"n": 0}

    def failing(self: RunsRepo, records: Any) -> list[int]:
        batches["n"] += 1
        if batches["n"] > 20:
            raise sqlite3.OperationalError("disk I/O error")
        return real(self, records)

    with FakeAnthropicServer(latency_ms=20) as server:
        RunsRepo.record_calls = failing  # type: ignore[method-assign]
        try:
            asyncio.run(start(path, server))
        finally:
            RunsRepo.record_calls = real  # type: ignore[method-assign]
        report("injected I/O error after 20 commits", path, server, cells)


def workbench(args: list[str], server: FakeAnthropicServer) -> subprocess.Popen[str]:
    env = {**os.environ, "ANTHROPIC_API_KEY": FAKE_KEY, "ANTHROPIC_BASE_URL": server.base_url}
    return subprocess.Popen(
        [sys.executable, "-m", "workbench", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_requests(server: FakeAnthropicServer, count: int) -> None:
    while server.stats()["messages_requests"] < count:
        time.sleep(0.002)


def lock_mid_run(root: Path, cells: int) -> None:
    path = make_project(root / "lock.pwb", cells)
    with FakeAnthropicServer(latency_ms=40) as server:
        proc = workbench(["run", str(path), "--prompt", "p", "--dataset", "d"], server)
        wait_requests(server, cells // 10)
        other = sqlite3.connect(path, isolation_level=None, timeout=10)
        other.execute("BEGIN IMMEDIATE")
        time.sleep(12)
        other.execute("ROLLBACK")
        other.close()
        _, err = proc.communicate(timeout=60)
        journalled = sum(len(read_journal(p)) for p in pending_journals(path))
        print(
            f"lock held 12 s mid-run: `workbench run` exited {proc.returncode}, "
            f"{journalled} answers journalled; it said: {err.strip().splitlines()[-1]}"
        )
        Project.open(path).close()  # the next open writes the journal into the project
        report("lock held 12 s mid-run (after reopening)", path, server, cells)


def auth_mid_run(root: Path, cells: int) -> None:
    path = make_project(root / "auth.pwb", cells)
    with FakeAnthropicServer(latency_ms=50) as server:
        server.script({"fault": "401", "request_number": cells // 3})
        asyncio.run(start(path, server))
        server.script()
        report("401 mid-run", path, server, cells)


def sigterm_mid_run(root: Path, cells: int) -> None:
    path = make_project(root / "sigterm.pwb", cells)
    with FakeAnthropicServer(latency_ms=20) as server:
        proc = workbench(["run", str(path), "--prompt", "p", "--dataset", "d"], server)
        wait_requests(server, cells // 3)
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
        answered = server.stats()["by_outcome"]["ok"]
        cut_off = answered - stored_done(path)
        print(f"SIGTERM mid-run: `workbench run` exited {proc.returncode}")
        report("SIGTERM mid-run", path, server, cells, cut_off=cut_off)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wb-reliability-") as tmp:
        root = Path(tmp)
        os.environ["XDG_STATE_HOME"] = str(root / "state")  # the journal's fallback folder
        for scenario in (disk_full, injected, lock_mid_run, auth_mid_run, sigterm_mid_run):
            scenario(root, args.cells)


if __name__ == "__main__":
    main()
