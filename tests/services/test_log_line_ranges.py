"""Every field of a log line is range-checked: a bad line is reported by number and skipped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from workbench.runtime import Registry
from workbench.services.log_lines import LineError, parse_line
from workbench.services.logs_import import import_logs
from workbench.services.production_export import build_production_export
from workbench.services.projects import create_project
from workbench.storage.project import Project

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "projects" / "quizcraft.yaml"
T = "2026-11-20T10:00:00Z"


@pytest.fixture
def project_path(tmp_path: Path) -> Path:
    path = tmp_path / "q.pwb"
    create_project(path, bundle=SAMPLE)
    return path


@pytest.fixture
def good(project_path: Path) -> dict[str, Any]:
    with Project.open(project_path, read_only=True) as project:
        registry = Registry(build_production_export(project, skip_unlabelled=True))
    rendered = registry.render("support-answer", question="How do I install?")
    return rendered.log_record(output="Answer.", latency_ms=800.0, timestamp=T, user_id="u-1")


BAD_FIELDS: list[tuple[str, Any, str]] = [
    ("timestamp", "9999-12-31T23:00:00-14:00", "'timestamp' must be a time between"),
    ("timestamp", "0001-01-01T00:30:00+14:00", "'timestamp' must be a time between"),
    ("timestamp", "1900-01-01T00:00:00Z", "'timestamp' must be a time between"),
    ("input_tokens", 10**30, "'input_tokens' must be a whole number from 0"),
    ("output_tokens", -1, "'output_tokens' must be a whole number from 0"),
    ("cache_read_input_tokens", 2**63, "'cache_read_input_tokens' must be a whole number"),
    ("latency_ms", 1e300, "'latency_ms' must be a number of milliseconds"),
    ("latency_ms", float("inf"), "'latency_ms' must be a number of milliseconds"),
    ("latency_ms", float("nan"), "'latency_ms' must be a number of milliseconds"),
    ("ttft_ms", -5, "'ttft_ms' must be a number of milliseconds"),
    ("version", 10**20, "'version' must be a version number from 1"),
    ("version_id", "support-answer@v" + "9" * 5000, "'version_id' must be a version number"),
    ("user_id", {"id": 3}, "'user_id' must be a string or a number"),
    ("user_id", True, "'user_id' must be a string or a number"),
]


@pytest.mark.parametrize(("key", "value", "message"), BAD_FIELDS)
def test_out_of_range_fields_are_bad_lines(
    good: dict[str, Any], key: str, value: Any, message: str
) -> None:
    line = {**good, key: value}
    if key == "version_id":
        line.pop("version")
    with pytest.raises(LineError, match=message.replace("(", r"\(")) as caught:
        parse_line(json.dumps(line), 7)
    assert caught.value.line == 7


def test_a_huge_integer_is_a_bad_line_not_a_crash() -> None:
    with pytest.raises(LineError, match="is not valid JSON"):
        parse_line('{"input_tokens": ' + "9" * 5000 + "}", 3)


def test_scalar_user_ids_become_strings(good: dict[str, Any]) -> None:
    for given, kept in ((42, "42"), (42.0, "42"), ("u-7", "u-7")):
        parsed = parse_line(json.dumps({**good, "user_id": given}), 1)
        assert parsed.user_id == kept  # type: ignore[union-attr]


def test_one_bad_line_never_aborts_an_import(
    project_path: Path, good: dict[str, Any], tmp_path: Path
) -> None:
    lines = [json.dumps({**good, "call_id": "ok-1"})]
    for i, (key, value, _message) in enumerate(BAD_FIELDS):
        line = {**good, key: value, "call_id": f"bad-{i}"}
        if key == "version_id":
            line.pop("version")
        lines.append(json.dumps(line))
    lines.append('{"input_tokens": ' + "9" * 5000 + "}")
    lines.append(json.dumps({**good, "call_id": "ok-2", "user_id": 12345}))
    log = tmp_path / "calls.jsonl"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with Project.open(project_path) as project:
        report = import_logs(project, log)
        assert report.calls == 2
        assert [e.line for e in report.errors] == list(range(2, len(BAD_FIELDS) + 3))
        users = {project.runs.get_call(i).user_id for i in (1, 2)}
        assert users == {"u-1", "12345"}


def test_the_shared_system_prompt_is_stored_once(
    project_path: Path, good: dict[str, Any], tmp_path: Path
) -> None:
    log = tmp_path / "calls.jsonl"
    log.write_text(
        "".join(json.dumps({**good, "call_id": f"c-{i}"}) + "\n" for i in range(50)),
        encoding="utf-8",
    )
    with Project.open(project_path) as project:
        import_logs(project, log)
        (count,) = project.db.execute("SELECT COUNT(*) FROM request_texts").fetchone()
        assert count == 2  # the system prompt, and the model and parameters around it
        (stored,) = project.db.execute("SELECT request_json FROM calls WHERE id = 7").fetchone()
        assert '"$base"' in stored and "QuizCraft" not in stored and "max_tokens" not in stored
        call = project.runs.get_call(7)  # readers see the request as logged
        assert call.request["system"].startswith("You are the support assistant for QuizCraft")
        assert call.request["vars"] == {"question": "How do I install?"}
