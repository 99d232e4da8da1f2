"""`workbench logs import`: the summary line, bad lines by number, exit codes 0 and 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.cli.logs import logs
from workbench.cli.main import cli, main
from workbench.services.projects import create_project

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "projects" / "quizcraft.yaml"
LINE = {
    "timestamp": "2026-11-20T10:00:00Z",
    "prompt": "support-answer",
    "version_id": "support-answer@v2#946299e1b9b9",
    "model": "claude-haiku-5-5",
    "vars": {"question": "How do I install?"},
    "output": "Use pip.",
    "latency_ms": 900,
    "input_tokens": 1000,
    "output_tokens": 100,
}


@pytest.fixture(autouse=True)
def _registered(monkeypatch: pytest.MonkeyPatch) -> None:
    # The lead registers `logs` in cli.py; until then (and after) the test sees it exactly once.
    monkeypatch.setitem(cli.commands, "logs", logs)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "q.pwb"
    create_project(path, bundle=SAMPLE)
    return path


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


def _log(path: Path, lines: list[object]) -> Path:
    path.write_text(
        "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n",
        encoding="utf-8",
    )
    return path


def test_import_reports_counts_and_bad_lines(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = _log(tmp_path / "calls.jsonl", [LINE, "oops", {**LINE, "model": 3}, LINE])
    code, out, err = _run(["logs", "import", str(project), str(log)], capsys)
    assert code == 0
    assert out.startswith("imported 2, skipped 2 into run #1")
    assert f"{log}:2: is not valid JSON" in err
    assert f"{log}:3: 'model' must be a non-empty string" in err


def test_nothing_imported_exits_2(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = _log(tmp_path / "bad.jsonl", [f"not json {i}" for i in range(12)])
    code, out, err = _run(["logs", "import", str(project), str(bad)], capsys)
    assert code == 2
    assert out.startswith("imported 0, skipped 12")
    assert f"{bad}:10: is not valid JSON" in err and f"{bad}:11:" not in err
    assert "… and 2 more bad line(s)" in err
    assert "no line could be imported" in err

    empty = _log(tmp_path / "empty.jsonl", [""])
    code, _, err = _run(["logs", "import", str(project), str(empty)], capsys)
    assert code == 2 and "it has no log lines" in err


def test_reimporting_the_same_file_is_not_an_error(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = _log(tmp_path / "calls.jsonl", [{**LINE, "call_id": "a"}, {**LINE, "call_id": "b"}])
    assert _run(["logs", "import", str(project), str(log)], capsys)[0] == 0
    code, out, _ = _run(["logs", "import", str(project), str(log), "--json"], capsys)
    assert code == 0
    report = json.loads(out)
    assert (report["imported"], report["duplicates"], report["run_id"]) == (0, 2, None)


def test_file_and_project_errors_are_one_line(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(["logs", "import", str(project), str(tmp_path / "none.jsonl")], capsys)
    assert code == 2 and err.strip().endswith("no such file. Check the path.")
    assert "Traceback" not in err
    code, _, err = _run(["logs", "import", str(SAMPLE), str(tmp_path / "x.jsonl")], capsys)
    assert code == 2 and "not a bundle" in err
