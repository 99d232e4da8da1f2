"""An answered call is never lost (DESIGN.md §10): a failed write (injected, disk full, dropped
table, a lock held too long), a 401 mid-run and SIGTERM/SIGHUP. In each, what the fake server
answered is counted against what was stored and journalled, and a resume must send exactly the
missing cells (so nothing is paid twice)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from workbench.core.errors import WorkbenchError
from workbench.core.models import Example, Message, Params, PromptContent
from workbench.inference import make_provider
from workbench.inference.retry import RetryPolicy
from workbench.services.planner import make_plan
from workbench.services.project_models import model_catalog, price_table, seed_defaults
from workbench.services.run_service import resume_run, start_run
from workbench.services.runner import RunOptions, RunOutcome
from workbench.storage.journal import journal_paths, pending_journals, read_journal
from workbench.storage.project import Project
from workbench.storage.runs_repo import RunsRepo
from workbench.storage.write_errors import ProjectWriteError
from workbench.testing.fake_anthropic import FakeAnthropicServer

FAKE_KEY = "sk-ant-test-FAKEKEY-reliability-5150"
FAST_RETRIES = RetryPolicy(max_attempts=3, base_delay_s=0.01, max_delay_s=0.05)


@pytest.fixture(autouse=True)
def _collect_earlier_garbage() -> None:
    # Clients other tests left unclosed log "never retrieved" when collected; not ours to judge.
    gc.collect()


@pytest.fixture(autouse=True)
def _state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The journal's fallback folder lives under the test's own folder."""
    state = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    return state


def _make_project(path: Path, examples: int, *, padding: int = 0, expect: bool = False) -> Path:
    with Project.create(path, "reliability") as project:
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
        rows = [
            Example(
                vars={"n": str(i), "pad": "x" * padding},
                expect=[{"type": "contains", "value": "Item"}] if expect else [],  # type: ignore[list-item]
            )
            for i in range(examples)
        ]
        project.datasets.add_examples("d", rows)
    return path


def _provider(server: FakeAnthropicServer) -> Any:
    return make_provider(
        "anthropic", api_key=FAKE_KEY, base_url=server.base_url, policy=FAST_RETRIES
    )


async def _start(path: Path, server: FakeAnthropicServer, **options: Any) -> RunOutcome:
    with Project.open(path) as project:
        plan = make_plan(
            project,
            prompts=["p"],
            dataset="d",
            catalog=model_catalog(project),
            prices=price_table(project),
        )
        provider = _provider(server)
        try:
            return await start_run(project, plan, provider, options=RunOptions(**options))
        finally:
            await provider.aclose()


async def _resume(path: Path, server: FakeAnthropicServer, run_id: int = 1) -> RunOutcome:
    with Project.open(path) as project:
        provider = _provider(server)
        try:
            return await resume_run(project, run_id, provider, options=RunOptions(concurrency=8))
        finally:
            await provider.aclose()


def _stored(path: Path, run_id: int = 1) -> tuple[int, int]:
    """(calls answered well, cells done) stored in the project file."""
    with Project.open(path, read_only=True) as project:
        ok = project.db.execute(
            "SELECT count(*) FROM calls WHERE run_id = ? AND error_type IS NULL", [run_id]
        ).fetchone()[0]
        done = sum(1 for c in project.runs.cells(run_id) if c.status == "done")
    return int(ok), done


def _journalled(path: Path) -> int:
    return sum(len(read_journal(p)) for p in pending_journals(path))


def _assert_no_key_at_rest(*paths: Path) -> None:
    for path in paths:
        if path.is_file():
            assert FAKE_KEY.encode() not in path.read_bytes(), f"API key in {path}"


def _resume_pays_only_the_missing(
    path: Path, server: FakeAnthropicServer, cells: int, first_hashes: Counter[str]
) -> None:
    """Reopen (which applies the journal), resume, and check nothing answered is sent again."""
    answered = server.stats()["by_outcome"]["ok"]
    ok, done = _stored(path)  # the open above applied the journal
    assert ok == answered, f"{answered} answered, {ok} stored after reopening"
    assert not pending_journals(path), "the journal is removed once applied"
    server.reset_stats()
    outcome = asyncio.run(_resume(path, server))
    assert outcome.status == "done", outcome.reason
    assert server.stats()["messages_requests"] == cells - done
    ok_after, done_after = _stored(path)
    assert done_after == cells
    paid = first_hashes + Counter(server.stats()["by_body_hash"])
    assert max(paid.values()) == 1, "a request was sent twice"


def _no_stray_task_errors(caplog: pytest.LogCaptureFixture) -> None:
    stray = [r.getMessage() for r in caplog.records if "never retrieved" in r.getMessage()]
    assert not [m for m in stray if "workbench" in m], stray


# -- injected write failures (always run) ---------------------------------------------------------


def test_injected_write_failure_journals_every_answer_and_resume_pays_none_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="asyncio")
    path = _make_project(tmp_path / "p.pwb", 40)
    real = RunsRepo.record_calls
    state = {"batches": 0, "broken": True}

    def failing(self: RunsRepo, records: Any) -> list[int]:
        state["batches"] += 1
        if state["broken"] and state["batches"] > 3:
            raise sqlite3.OperationalError("disk I/O error")
        return real(self, records)

    monkeypatch.setattr(RunsRepo, "record_calls", failing)
    with FakeAnthropicServer(latency_ms=20) as server:
        outcome = asyncio.run(_start(path, server, concurrency=4))
        answered = server.stats()["by_outcome"]["ok"]
        first = Counter(server.stats()["by_body_hash"])
        assert outcome.status == "failed"
        reason = outcome.reason or ""
        assert "p.pwb could not be written: an I/O error occurred" in reason
        assert "No answered call was lost" in reason
        assert "--resume 1" in reason
        assert answered < 40, "the engine stopped starting calls"
        beside = journal_paths(path)[0]
        assert beside.is_file()
        _assert_no_key_at_rest(beside, path)
        state["broken"] = False
        with Project.open(path, read_only=True) as project:  # read-only: the journal waits
            stored_before = project.db.execute(
                "SELECT count(*) FROM calls WHERE error_type IS NULL"
            ).fetchone()[0]
        assert stored_before + _journalled(path) == answered
        assert outcome.totals["stored"] == stored_before
        assert outcome.totals["journalled"] == answered - stored_before > 0
        Project.open(path).close()  # the next open for writing applies the journal
        _resume_pays_only_the_missing(path, server, 40, first)
    _no_stray_task_errors(caplog)


def test_a_dropped_table_mid_run_fails_the_run_and_resume_sends_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="asyncio")
    path = _make_project(tmp_path / "p.pwb", 30)
    with FakeAnthropicServer(latency_ms=20) as server:

        async def run_and_drop() -> RunOutcome:
            task = asyncio.create_task(_start(path, server, concurrency=2))
            while server.stats()["by_outcome"]["ok"] < 6:
                await asyncio.sleep(0.005)
            other = sqlite3.connect(path, timeout=10)
            other.execute("DROP TABLE attempts")
            other.commit()
            other.close()
            return await task

        outcome = asyncio.run(run_and_drop())
        answered = server.stats()["by_outcome"]["ok"]
        assert outcome.status == "failed"
        assert "is damaged (no such table: attempts)" in (outcome.reason or "")
        with Project.open(path, read_only=True) as project:
            stored = project.db.execute("SELECT count(*) FROM calls").fetchone()[0]
        assert stored + _journalled(path) == answered
        server.reset_stats()
        with pytest.raises(WorkbenchError) as refused:
            asyncio.run(_resume(path, server))
        assert server.stats()["messages_requests"] == 0, "nothing is sent while answers wait"
        # Refused by the schema check on open (read-only) or, failing that, by the journal.
        assert "attempts" in str(refused.value)
        assert _journalled(path) == answered - stored, "the journal is kept until written"
    _no_stray_task_errors(caplog)


# -- disk full through a real tmpfs ------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "disk"
    folder.mkdir()
    if sys.platform != "linux":
        pytest.skip("tmpfs needs Linux")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a 4 MB tmpfs here ({mounted.stderr.strip() or 'not root'})")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _fill(folder: Path, leave_bytes: int) -> Path:
    """Fill the disk, then free `leave_bytes`."""
    filler = folder / "filler"
    with contextlib.suppress(OSError), filler.open("wb", buffering=0) as out:
        while True:
            out.write(b"\0" * 65536)
    size = filler.stat().st_size
    os.truncate(filler, max(0, size - leave_bytes))
    return filler


def test_disk_full_on_a_4mb_tmpfs_loses_no_answer(
    small_disk: Path, _state_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="asyncio")
    path = _make_project(small_disk / "p.pwb", 60, padding=3000)
    with FakeAnthropicServer(latency_ms=10) as server:

        async def run_and_fill() -> tuple[RunOutcome, Path]:
            task = asyncio.create_task(_start(path, server, concurrency=4))
            while server.stats()["by_outcome"]["ok"] < 8:
                await asyncio.sleep(0.002)
            filler = _fill(small_disk, 0)  # the disk fills up mid-run
            return await task, filler

        outcome, filler = asyncio.run(run_and_fill())
        answered = server.stats()["by_outcome"]["ok"]
        first = Counter(server.stats()["by_body_hash"])
        assert outcome.status == "failed"
        assert "could not be written: the disk is full" in (outcome.reason or "")
        assert "No answered call was lost" in (outcome.reason or "")
        # Beside the project there was no room either: the state folder took the answers.
        journals = pending_journals(path)
        assert journals and all(_state_home in p.parents for p in journals)
        _assert_no_key_at_rest(*journals)
        with Project.open(path, read_only=True) as project:
            stored = project.db.execute("SELECT count(*) FROM calls").fetchone()[0]
        assert 0 < stored < answered
        assert stored + _journalled(path) == answered
        print(f"tmpfs 4 MB: {answered} answered, {stored} stored, {answered - stored} journalled")
        filler.unlink()
        Project.open(path).close()
        _resume_pays_only_the_missing(path, server, 60, first)
    _no_stray_task_errors(caplog)


# -- a write lock held by another connection ---------------------------------------------------


def test_a_lock_held_when_the_run_starts_is_said_in_words(tmp_path: Path) -> None:
    path = _make_project(tmp_path / "p.pwb", 5)
    with FakeAnthropicServer() as server, Project.open(path) as project:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            plan = make_plan(
                project,
                prompts=["p"],
                dataset="d",
                catalog=model_catalog(project),
                prices=price_table(project),
            )

            async def go() -> RunOutcome:
                provider = _provider(server)
                try:
                    return await start_run(project, plan, provider)
                finally:
                    await provider.aclose()

            started = time.monotonic()
            with pytest.raises(ProjectWriteError) as refused:
                asyncio.run(go())
            assert time.monotonic() - started < 30, "the wait is bounded"
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert "held its write lock for more than 5 s" in str(refused.value)
        assert server.stats()["messages_requests"] == 0


def _workbench(args: list[str], server: FakeAnthropicServer, **popen: Any) -> Any:
    env = {
        **os.environ,
        "ANTHROPIC_API_KEY": FAKE_KEY,
        "ANTHROPIC_BASE_URL": server.base_url,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "workbench", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def _wait_for_requests(server: FakeAnthropicServer, proc: Any, count: int) -> None:
    deadline = time.monotonic() + 60
    while server.stats()["messages_requests"] < count:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run did not progress"
        time.sleep(0.002)


def test_cli_run_with_the_lock_held_before_it_starts(tmp_path: Path) -> None:
    path = _make_project(tmp_path / "p.pwb", 5)
    with FakeAnthropicServer() as server:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            proc = _workbench(["run", str(path), "--prompt", "p", "--dataset", "d"], server)
            _, err = proc.communicate(timeout=60)
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert proc.returncode == 2, err
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        assert f"process {os.getpid()}" in lines[0] and "held its write lock" in lines[0]
        assert "internal error" not in err and "OperationalError" not in err
        assert server.stats()["messages_requests"] == 0


def test_cli_run_with_the_lock_held_mid_run_past_the_busy_timeout(tmp_path: Path) -> None:
    cells = 200
    path = _make_project(tmp_path / "p.pwb", cells)
    with FakeAnthropicServer(latency_ms=40) as server:
        proc = _workbench(
            ["run", str(path), "--prompt", "p", "--dataset", "d", "--concurrency", "8"], server
        )
        _wait_for_requests(server, proc, 30)
        other = sqlite3.connect(path, isolation_level=None, timeout=10)
        other.execute("BEGIN IMMEDIATE")
        time.sleep(8)  # longer than the 5 s busy timeout
        other.execute("ROLLBACK")
        other.close()
        out, err = proc.communicate(timeout=60)
        answered = server.stats()["by_outcome"]["ok"]
        first = Counter(server.stats()["by_body_hash"])
        assert proc.returncode == 1, err
        assert f"process {os.getpid()}" in err and "held its write lock" in err
        assert "No answered call was lost" in err
        assert "Traceback" not in err and "never retrieved" not in err
        with Project.open(path, read_only=True) as project:
            stored = project.db.execute("SELECT count(*) FROM calls").fetchone()[0]
            assert project.runs.get_run(1).status == "failed"
        assert stored + _journalled(path) == answered
        assert _journalled(path) > 0
        _assert_no_key_at_rest(path, *pending_journals(path))
        Project.open(path).close()
        _resume_pays_only_the_missing(path, server, cells, first)


# -- authentication failure mid-run ------------------------------------------------------------


def test_401_mid_run_keeps_the_answers_in_flight(tmp_path: Path) -> None:
    cells = 40
    path = _make_project(tmp_path / "p.pwb", cells)
    with FakeAnthropicServer(latency_ms=80) as server:
        server.script({"fault": "401", "request_number": 12})
        outcome = asyncio.run(_start(path, server, concurrency=8))
        answered = server.stats()["by_outcome"]["ok"]
        assert outcome.status == "failed" and "API key" in (outcome.reason or "")
        ok, done = _stored(path)
        assert answered > 11, "calls in flight when the 401 came were not cut off"
        assert ok == answered, f"{answered} answered, {ok} stored"
        server.script()
        server.reset_stats()
        resumed = asyncio.run(_resume(path, server))
        assert resumed.status == "done"
        assert server.stats()["messages_requests"] == cells - done
        assert server.stats()["by_outcome"]["ok"] == cells - answered


# -- signals -------------------------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_signal_cancels_workbench_run_like_ctrl_c(tmp_path: Path, signum: int) -> None:
    cells, concurrency = 300, 4
    path = _make_project(tmp_path / "p.pwb", cells)
    with FakeAnthropicServer(latency_ms=20) as server:
        proc = _workbench(
            ["run", str(path), "--prompt", "p", "--dataset", "d", "--concurrency", "4"], server
        )
        _wait_for_requests(server, proc, 40)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert "Traceback" not in err
        answered = server.stats()["by_outcome"]["ok"]
        with Project.open(path, read_only=True) as project:
            run = project.runs.get_run(1)
            assert run.status == "cancelled"
            assert signal.Signals(signum).name in (run.status_reason or "")
        ok, done = _stored(path)
        # Only the calls cut off in flight are missing; every finished one is stored.
        assert answered - concurrency <= ok <= answered
        server.reset_stats()
        resume = _workbench(["run", str(path), "--resume", "1", "--no-cache"], server)
        _, err = resume.communicate(timeout=120)
        assert resume.returncode == 0, err
        assert server.stats()["messages_requests"] == cells - done
        assert _stored(path)[1] == cells


def test_sigterm_cancels_workbench_eval(tmp_path: Path) -> None:
    cells = 300
    path = _make_project(tmp_path / "p.pwb", cells, expect=True)
    with FakeAnthropicServer(latency_ms=20) as server:
        proc = _workbench(
            ["eval", str(path), "--prompt", "p", "--dataset", "d", "--concurrency", "4"], server
        )
        _wait_for_requests(server, proc, 40)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert "Traceback" not in err and "finished calls are kept" in err
        with Project.open(path, read_only=True) as project:
            assert project.runs.get_run(1).status == "cancelled"
        ok, done = _stored(path)
        assert done >= server.stats()["by_outcome"]["ok"] - 4
