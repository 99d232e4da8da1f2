"""SIGKILL a real `workbench run` at many moments: nothing committed is lost or half-written, and
`--resume` finishes the rest without re-sending finished cells (DESIGN.md §10)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workbench.core.models import Example, Message, Params, PromptContent
from workbench.services.project_models import seed_defaults
from workbench.storage.check import check_project
from workbench.storage.project import Project
from workbench.testing.fake_anthropic import FakeAnthropicServer

KILLS = 20
EXAMPLES = 250  # x 2 models = 500 cells


def _template(path: Path) -> Path:
    with Project.create(path, "crash") as project:
        seed_defaults(project)
        project.prompts.create("p")
        project.prompts.save_version(
            "p",
            PromptContent(
                messages=[Message(role="user", content="Item {{n}}: say something.")],
                params=Params(model="claude-haiku-5-5", max_tokens=64),
            ),
        )
        project.datasets.create("d")
        project.datasets.add_examples("d", [Example(vars={"n": str(i)}) for i in range(EXAMPLES)])
    return path


def _workbench(args: list[str], base_url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ANTHROPIC_API_KEY": "sk-ant-test-FAKE", "ANTHROPIC_BASE_URL": base_url}
    return subprocess.Popen(
        [sys.executable, "-m", "workbench", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
def test_sigkill_mid_run_then_resume(tmp_path: Path) -> None:
    template = _template(tmp_path / "template.pwb")
    rng = random.Random(20261127)
    # Kill points spread over the whole run, by number of requests the server has seen.
    kill_points = sorted(rng.sample(range(5, 2 * EXAMPLES * 2 - 20, 7), KILLS))
    kill_points = [max(1, k // 2) for k in kill_points]
    with FakeAnthropicServer(latency_ms=15) as server:
        for attempt, kill_at in enumerate(kill_points):
            project_path = tmp_path / f"run{attempt}.pwb"
            shutil.copy(template, project_path)
            server.reset_stats()
            proc = _workbench(
                [
                    "run",
                    str(project_path),
                    "--prompt",
                    "p",
                    "--dataset",
                    "d",
                    "--models",
                    "claude-haiku-5-5,claude-sonnet-5-5",
                    "--concurrency",
                    "8",
                ],
                server.base_url,
            )
            deadline = time.monotonic() + 60
            while server.stats()["messages_requests"] < kill_at and proc.poll() is None:
                assert time.monotonic() < deadline, "run did not progress"
                time.sleep(0.002)
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)

            report = check_project(project_path)
            assert report.ok, report.problems
            with Project.open(project_path, read_only=True) as project:
                cells = project.runs.cells(1)
                assert len(cells) == 2 * EXAMPLES
                done = [c for c in cells if c.status == "done"]
                rows = project.runs.run_grid(1)
                for row in rows:
                    if row.status == "done":
                        assert row.call_id and row.output, "a done cell has its whole call"
                    else:
                        assert row.call_id is None, "no partial rows"
                calls = project.db.execute("SELECT count(*) FROM calls").fetchone()[0]
                assert calls == len(done)
                attempts_missing = project.db.execute(
                    "SELECT count(*) FROM calls k WHERE NOT EXISTS "
                    "(SELECT 1 FROM attempts a WHERE a.call_id = k.id)"
                ).fetchone()[0]
                assert attempts_missing == 0
            sent_before = server.stats()["messages_requests"]
            assert sent_before >= len(done)

            server.reset_stats()
            resume = _workbench(
                ["run", str(project_path), "--resume", "1", "--no-cache"], server.base_url
            )
            _, err = resume.communicate(timeout=120)
            assert resume.returncode == 0, err.decode()
            assert server.stats()["messages_requests"] == 2 * EXAMPLES - len(done)
            with Project.open(project_path, read_only=True) as project:
                assert all(c.status == "done" for c in project.runs.cells(1))
                assert project.runs.get_run(1).status == "done"
            project_path.unlink()
