"""The command line contract: exit codes, one-line errors, JSON output (in-process and real
subprocesses)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from workbench.cli.main import cli, main
from workbench.testing.fake_anthropic import FakeAnthropicServer

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "projects" / "quizcraft.yaml"


def wb(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    path = tmp_path / "demo.pwb"
    result = wb("new", str(path), "--from", str(SAMPLE))
    assert result.returncode == 0, result.stderr
    return path


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ("new", "info", "check", "bundle", "run", "report"):
        assert command in result.output


def test_every_command_has_help_text() -> None:
    for name, command in cli.commands.items():
        assert command.help, f"{name} has no help text"


def test_info_json_in_a_subprocess(demo: Path) -> None:
    result = wb("info", str(demo), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {p["name"] for p in data["prompts"]} == {
        "support-answer",
        "summarize",
        "support-agent",
        "ticket-classifier",
    }
    assert data["schema_version"] >= 2


def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_main(["info", str(tmp_path / "missing.pwb")], capsys)
    assert code == 2
    assert err.count("\n") == 1 and "missing.pwb" in err and "Traceback" not in err


def test_bad_bundle_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "workbench: 1\nname: x\nprompts:\n  - name: p\n    versions:\n      - version: 1\n        messages: [{role: user, content: hi}]\n        params: {model: m, temprature: 2}\n"
    )
    result = wb("new", str(tmp_path / "x.pwb"), "--from", str(bad))
    assert result.returncode == 2
    assert "bad.yaml:8" in result.stderr and "temprature" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.pwb").exists()


def test_new_refuses_existing_file(demo: Path) -> None:
    before = demo.read_bytes()
    result = wb("new", str(demo))
    assert result.returncode == 2 and "already exists" in result.stderr
    assert demo.read_bytes() == before


def test_check_reports_ok_and_never_writes(demo: Path) -> None:
    before = demo.read_bytes()
    result = wb("check", str(demo))
    assert result.returncode == 0 and "ok" in result.stdout
    assert demo.read_bytes() == before


def test_bundle_round_trip_is_byte_identical(demo: Path, tmp_path: Path) -> None:
    first = tmp_path / "a.yaml"
    second = tmp_path / "b.yaml"
    assert wb("bundle", "export", str(demo), "-o", str(first)).returncode == 0
    assert wb("new", str(tmp_path / "again.pwb"), "--from", str(first)).returncode == 0
    assert wb("bundle", "export", str(tmp_path / "again.pwb"), "-o", str(second)).returncode == 0
    assert first.read_bytes() == second.read_bytes()


def test_run_and_report_with_echo(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(
        [
            "run",
            str(demo),
            "--prompt",
            "support-answer@production",
            "--dataset",
            "support-questions",
            "--models",
            "claude-haiku-5-5",
            "--provider",
            "echo",
            "--json",
        ],
        capsys,
    )
    assert code == 0, err
    summary = json.loads(out)
    assert summary["status"] == "done" and summary["totals"]["done"] == 20
    code, out, _ = run_main(
        ["report", str(demo), "--run", str(summary["run_id"]), "--json"], capsys
    )
    groups = json.loads(out)["groups"]
    assert groups[0]["calls"] == 20 and groups[0]["version"] == 2


def test_run_missing_variables_exit_2_before_any_call(demo: Path, tmp_path: Path) -> None:
    result = wb(
        "run",
        str(demo),
        "--prompt",
        "summarize",
        "--dataset",
        "support-questions",
        "--provider",
        "echo",
    )
    assert result.returncode == 2
    assert "missing variable" in result.stderr and "text" in result.stderr


def test_run_budget_refuses_expensive_plan(demo: Path) -> None:
    with FakeAnthropicServer() as server:
        result = wb(
            "run",
            str(demo),
            "--prompt",
            "support-answer",
            "--dataset",
            "support-questions",
            "--models",
            "claude-opus-5-5",
            "--budget",
            "0.0001",
            env={"ANTHROPIC_API_KEY": "sk-ant-test-FAKE", "ANTHROPIC_BASE_URL": server.base_url},
        )
        assert result.returncode == 2 and "budget" in result.stderr
        assert server.stats()["messages_requests"] == 0
    # Synthetic calls cost nothing, so the offline provider never meets a budget.
    echo = wb(
        "run",
        str(demo),
        "--prompt",
        "support-answer",
        "--dataset",
        "support-questions",
        "--budget",
        "0.0001",
        "--provider",
        "echo",
        "--json",
    )
    assert echo.returncode == 0, echo.stderr
    assert json.loads(echo.stdout)["totals"]["spend_usd"] == 0


def test_run_without_key_says_how_to_set_one(demo: Path) -> None:
    result = wb(
        "run",
        str(demo),
        "--prompt",
        "support-answer",
        "--dataset",
        "support-questions",
        env={"WORKBENCH_NO_KEYRING": "1"},
    )
    assert result.returncode == 2
    assert "ANTHROPIC_API_KEY" in result.stderr and "Traceback" not in result.stderr


def test_run_against_fake_server_from_a_bundle_path(tmp_path: Path) -> None:
    with FakeAnthropicServer() as server:
        result = wb(
            "run",
            str(SAMPLE),
            "--prompt",
            "support-answer@2",
            "--dataset",
            "support-evals",
            "--json",
            env={"ANTHROPIC_API_KEY": "sk-ant-test-FAKE", "ANTHROPIC_BASE_URL": server.base_url},
        )
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["totals"]["done"] == 10
        assert server.stats()["messages_requests"] == 10


def test_unknown_run_id_is_bad_input(demo: Path) -> None:
    result = wb("report", str(demo), "--run", "99")
    assert result.returncode == 2 and "#99" in result.stderr


def test_report_and_info_tables_as_text(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(
        ["run", str(demo), "--prompt", "summarize", "--dataset", "summaries", "--provider", "echo"],
        capsys,
    )
    assert code == 0, err
    code, out, _ = run_main(["report", str(demo)], capsys)
    assert code == 0
    header, *rows = out.strip().splitlines()
    assert header.split()[:3] == ["model", "prompt", "calls"] and header.split()[-1] == "pass"
    assert rows and "summarize@v3" in rows[0]
    code, out, _ = run_main(["info", str(demo)], capsys)
    assert code == 0 and "#1 run done 5/5 cells" in out


def test_unexpected_errors_are_one_line_with_a_crash_log(
    demo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr("workbench.services.projects.project_info", boom)
    code, _, err = run_main(["info", str(demo)], capsys)
    assert code == 3
    assert err.count("\n") == 1 and "simulated bug" in err and "Traceback" not in err
    log = Path(err.rsplit("details in ", 1)[1].strip())
    assert "RuntimeError: simulated bug" in log.read_text()
