"""`workbench run --batch` and `workbench batch status|collect|cancel`, each command its own
process (the terminal that submitted is gone by the time results are collected)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.testing.fake_anthropic import FakeAnthropicServer

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "projects" / "quizcraft.yaml"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeAnthropicServer]:
    with FakeAnthropicServer() as running:
        yield running


def wb(server: FakeAnthropicServer, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ANTHROPIC_API_KEY": "sk-ant-test-FAKE-batch",
        "ANTHROPIC_BASE_URL": server.base_url,
    }
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.fixture
def demo(tmp_path: Path, server: FakeAnthropicServer) -> Path:
    path = tmp_path / "demo.pwb"
    result = wb(server, "new", str(path), "--from", str(SAMPLE))
    assert result.returncode == 0, result.stderr
    return path


RUN = ("--prompt", "support-answer@2", "--dataset", "support-evals")


def test_submit_status_collect_across_processes(demo: Path, server: FakeAnthropicServer) -> None:
    server.configure(batches={"processing_s": 0.3})
    submitted = wb(server, "run", str(demo), *RUN, "--batch", "--json")
    assert submitted.returncode == 0, submitted.stderr
    info = json.loads(submitted.stdout)
    assert info["submitted"] == 10 and len(info["batches"]) == 1
    status = wb(server, "batch", "status", str(demo), "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["batches"][0]["batch_id"] == info["batches"][0]
    collected = wb(
        server, "batch", "collect", str(demo), str(info["run_id"]), "--wait", "--poll", "0.05"
    )
    assert collected.returncode == 0, collected.stderr
    assert "stored 10 answers" in collected.stdout and "run done" in collected.stdout
    again = wb(server, "batch", "collect", str(demo), "--json")
    assert again.returncode == 0
    assert json.loads(again.stdout)["runs"] == []


def test_preflight_shows_the_batch_price(demo: Path, server: FakeAnthropicServer) -> None:
    result = wb(server, "run", str(demo), *RUN, "--batch", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "at batch price" in result.stderr and "live" in result.stderr


def test_cancel_then_collect_gives_error_cells(demo: Path, server: FakeAnthropicServer) -> None:
    server.configure(batches={"processing_s": 60})
    submitted = wb(server, "run", str(demo), *RUN, "--batch", "--json")
    run_id = str(json.loads(submitted.stdout)["run_id"])
    open_now = wb(server, "batch", "collect", str(demo), run_id)
    assert open_now.returncode == 1 and "1 batches still open" in open_now.stdout
    cancelled = wb(server, "batch", "cancel", str(demo), run_id)
    assert cancelled.returncode == 0, cancelled.stderr
    assert "canceling" in cancelled.stdout or "ended" in cancelled.stdout
    server.configure(batches={})
    collected = wb(server, "batch", "collect", str(demo), run_id, "--wait", "--poll", "0.05")
    assert collected.returncode == 0, collected.stderr
    # Requests finish spread over the processing time, so one may have run before the cancel.
    found = re.search(r"stored 10 answers \((\d+) errors\)", collected.stdout)
    assert found and int(found.group(1)) >= 8, collected.stdout
    resumed = wb(server, "run", str(demo), "--resume", run_id, "--batch", "--json")
    assert json.loads(resumed.stdout)["submitted"] == int(found.group(1))
