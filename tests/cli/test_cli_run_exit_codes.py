"""`workbench run` exit codes for runs that do not succeed, and numeric options that accept only
finite numbers in range (one line on stderr, exit 2, nothing sent)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.cli.main import main
from workbench.core.models import Example, Message, Params, PromptContent
from workbench.services.project_models import seed_defaults
from workbench.storage.project import Project
from workbench.testing.fake_anthropic import FakeAnthropicServer

FAKE_KEY = "sk-ant-test-FAKEKEY-exit-codes-77"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "p.pwb"
    with Project.create(path, "exit codes") as proj:
        seed_defaults(proj)
        proj.prompts.create("p")
        proj.prompts.save_version(
            "p",
            PromptContent(
                messages=[Message(role="user", content="Item {{n}}")],
                params=Params(model="claude-haiku-5-5", max_tokens=32),
            ),
        )
        proj.datasets.create("d")
        proj.datasets.add_examples("d", [Example(vars={"n": str(i)}) for i in range(4)])
    return path


def _run(path: Path, server: FakeAnthropicServer, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ANTHROPIC_API_KEY": FAKE_KEY, "ANTHROPIC_BASE_URL": server.base_url}
    return subprocess.run(
        [sys.executable, "-m", "workbench", "run", str(path), "--prompt", "p", "--dataset", "d"]
        + list(extra),
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_a_run_where_every_call_failed_exits_1(project: Path) -> None:
    with FakeAnthropicServer() as server:
        server.script({"fault": "400"})
        result = _run(project, server, "--json")
    assert result.returncode == 1, result.stderr
    summary = json.loads(result.stdout)
    assert summary["status"] == "done"
    assert summary["totals"]["errors"] == summary["totals"]["done"] == 4


def test_a_run_with_some_good_calls_exits_0(project: Path) -> None:
    with FakeAnthropicServer() as server:
        server.script({"fault": "400", "request_number": 1})
        result = _run(project, server, "--concurrency", "1")
    assert result.returncode == 0, result.stderr


def test_a_run_that_ends_failed_exits_1_with_its_reason(project: Path) -> None:
    with FakeAnthropicServer() as server:
        server.script({"fault": "401"})
        result = _run(project, server, "--concurrency", "1")
    assert result.returncode == 1, result.stderr
    assert "error: " in result.stderr and "resume" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--budget", "nan"),
        ("--budget", "inf"),
        ("--budget", "-1"),
        ("--timeout", "nan"),
        ("--timeout", "inf"),
        ("--timeout", "-5"),
        ("--timeout", "0"),
        ("--concurrency", "-1"),
        ("--concurrency", "0"),
        ("--concurrency", "nan"),
        ("--per-model-concurrency", "-3"),
        ("--per-model-concurrency", "inf"),
        ("--repeat", "0"),
        ("--repeat", "nan"),
    ],
)
def test_numeric_run_options_accept_only_finite_numbers_in_range(
    project: Path, option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", str(project), "--prompt", "p", "--dataset", "d", option, value])
    _, err = capsys.readouterr()
    assert exit_info.value.code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert option in lines[0] and lines[0].startswith("error: ")


@pytest.mark.parametrize("option", ["--min-pass-rate", "--max-drop"])
@pytest.mark.parametrize("value", ["nan", "inf", "-0.1", "1.5"])
def test_eval_fractions_accept_only_finite_numbers_in_range(
    project: Path, option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["eval", str(project), "--prompt", "p", "--dataset", "d", option, value])
    _, err = capsys.readouterr()
    assert exit_info.value.code == 2
    assert len(err.strip().splitlines()) == 1 and option in err
