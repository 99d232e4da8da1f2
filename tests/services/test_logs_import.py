"""Importing production call logs: good lines kept, bad lines reported by number and skipped."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from workbench.core.errors import BadInput, ProjectFileError
from workbench.runtime import Registry, feedback_record
from workbench.services.analytics import load_calls, summarize
from workbench.services.logs_import import import_logs, parse_log
from workbench.services.pricing import Usage
from workbench.services.production_export import build_production_export
from workbench.services.project_models import price_table
from workbench.services.projects import create_project
from workbench.storage.project import Project

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "projects" / "quizcraft.yaml"
T = "2026-11-20T10:00:00Z"


def dt_of(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


@pytest.fixture
def project_path(tmp_path: Path) -> Path:
    path = tmp_path / "q.pwb"
    create_project(path, bundle=SAMPLE)
    return path


@pytest.fixture
def registry(project_path: Path) -> Registry:
    with Project.open(project_path, read_only=True) as project:
        return Registry(build_production_export(project, skip_unlabelled=True))


def _write(path: Path, lines: list[Any]) -> Path:
    text = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def _good(registry: Registry, question: str, **kw: Any) -> dict[str, Any]:
    rendered = registry.render("support-answer", question=question)
    defaults: dict[str, Any] = dict(output="Answer.", latency_ms=800.0, timestamp=T)
    return rendered.log_record(**{**defaults, **kw})


def test_good_and_bad_lines(project_path: Path, registry: Registry, tmp_path: Path) -> None:
    good = _good(
        registry,
        "How do I install?",
        input_tokens=1200,
        output_tokens=150,
        cache_read_input_tokens=1000,
        call_id="c-1",
        user_id="u-1",
        request_id="req_1",
    )
    missing_output = {k: v for k, v in good.items() if k not in ("output", "call_id")}
    log = _write(
        tmp_path / "calls.jsonl",
        [
            good,  # 1
            "{not json",  # 2
            "",  # blank lines are not counted
            missing_output,  # 4
            {**good, "call_id": "c-2", "latency_ms": "fast"},  # 5
            {**good, "call_id": "c-3", "version_id": "summarize@v3#d938d4bec4dc"},  # 6
            [1, 2],  # 7
            {**good, "call_id": "c-4", "feedback": "meh"},  # 8
            {"type": "feedback", "call_id": "c-1", "feedback": "down", "timestamp": T},  # 9
            {"type": "feedback", "call_id": "nobody", "feedback": "up"},  # 10
            _good(registry, "Second?", log_vars=False, call_id="c-5", error="RateLimitError"),
        ],
    )
    with Project.open(project_path) as project:
        report = import_logs(project, log)
        assert (report.lines, report.calls, report.feedback) == (10, 2, 1)
        assert (report.imported, report.skipped) == (3, 7)
        assert [e.line for e in report.errors] == [2, 4, 5, 6, 7, 8, 10]
        messages = {e.line: e.message for e in report.errors}
        assert messages[2].startswith("is not valid JSON")
        assert messages[4] == "'output' is required"
        assert "'latency_ms' must be a number" in messages[5]
        assert "names prompt 'summarize' but 'prompt' is 'support-answer'" in messages[6]
        assert messages[7] == "must be a JSON object"
        assert '\'feedback\' must be "up" or "down"' in messages[8]
        assert "call_id 'nobody' matches no call" in messages[10]
        assert report.summary().startswith(f"imported 3, skipped 7 into run #{report.run_id}")

        run = project.runs.get_run(report.run_id)  # type: ignore[arg-type]
        assert (run.kind, run.status, run.totals["calls"]) == ("import", "done", 2)
        first = project.runs.get_call(1)
        assert first.source == "import" and first.feedback == -1  # the later line won
        version_row = project.prompts.version_row_id("support-answer", 2)
        assert (first.version_id, first.prompt_version) == (version_row, 2)
        assert first.request["vars"] == {"question": "How do I install?"}
        rendered = registry.render("support-answer", question="How do I install?")
        assert first.request["system"] == rendered.system
        assert first.request["messages"] == rendered.messages
        assert (first.user_id, first.request_id, first.latency_ms) == ("u-1", "req_1", 800)
        expected = price_table(project).cost_for(
            "claude-haiku-5-5",
            Usage(input_tokens=1200, output_tokens=150, cache_read_input_tokens=1000),
            dt_of(T),
        )
        assert first.cost_usd == pytest.approx(expected)
        assert first.finished_at - first.started_at == pytest.approx(0.8)

        failed = project.runs.get_call(2)  # logged with messages instead of variables
        assert failed.error_type == "RateLimitError" and failed.cost_usd is None
        assert "vars" not in failed.request and failed.request["messages"]

        (row,) = summarize(load_calls(project, source="import"), ("source",))
        assert (row["calls"], row["errors"], row["rated"], row["thumbs_down_rate"]) == (2, 1, 1, 1)


def test_reimport_skips_known_calls_and_applies_late_feedback(
    project_path: Path, registry: Registry, tmp_path: Path
) -> None:
    first = _write(
        tmp_path / "day1.jsonl",
        [
            _good(registry, f"Q{i}?", call_id=f"c-{i}", feedback="up" if i else None)
            for i in range(3)
        ],
    )
    second = _write(
        tmp_path / "day2.jsonl",
        [
            _good(registry, "Q0?", call_id="c-0"),  # already imported
            feedback_record("c-0", "down", timestamp=T),
            feedback_record("c-1", "down", timestamp=T),
            _good(registry, "Q3?", call_id="c-3"),
        ],
    )
    with Project.open(project_path) as project:
        assert import_logs(project, first).calls == 3
        report = import_logs(project, second)
        assert (report.calls, report.feedback, report.duplicates) == (1, 2, 1)
        assert report.errors == []
        again = import_logs(project, second)
        assert (again.calls, again.duplicates, again.imported) == (0, 2, 2)
        feedback = load_calls(project, source="import")["feedback"].tolist()
        assert feedback[:3] == [-1, -1, 1]
        assert project.imports.feedback_history(1) == [
            {"feedback": -1, "at": dt_of(T).timestamp(), "run_id": 2}
        ]  # the second identical feedback line added nothing


def test_unknown_versions_and_models_are_kept_unlinked(
    project_path: Path, registry: Registry, tmp_path: Path
) -> None:
    good = _good(registry, "Hi?", input_tokens=10, output_tokens=10)
    lines = [
        {
            **good,
            "version_id": "support-answer@v9#0123456789ab",
            "version": 9,
            "content_hash": None,
        },
        {**good, "model": "claude-unknown-1"},
        {  # hand-written: version number only, workbench token names
            "timestamp": "2026-11-20T11:00:00",
            "prompt": "support-answer",
            "version": 1,
            "model": "claude-haiku-5-5",
            "vars": {"question": "Plain?"},
            "output": "ok",
            "latency_ms": 5,
            "cache_read_tokens": 7,
        },
    ]
    with Project.open(project_path) as project:
        report = import_logs(project, _write(tmp_path / "x.jsonl", lines))
        assert (report.calls, report.unlinked, report.unknown_cost) == (3, 1, 1)
        assert report.warnings == [
            "support-answer@v9#0123456789ab is not a version in this project: "
            "1 call(s) kept without a link to it"
        ]
        stored = [project.runs.get_call(i) for i in (1, 2, 3)]
        assert stored[0].version_id is None and stored[0].prompt_version == 9
        assert stored[1].cost_usd is None
        assert stored[2].version_id == project.prompts.version_row_id("support-answer", 1)
        assert stored[2].cache_read_tokens == 7
        assert stored[2].finished_at == dt_of("2026-11-20T11:00:00+00:00").timestamp()


def test_parse_reports_non_utf8_and_missing_fields() -> None:
    parsed = parse_log(
        [
            (1, b"\xff\xfe{}\n"),
            (2, b'{"type": "nope"}'),
            (3, b'{"timestamp": "yesterday"}'),
            (4, b'{"timestamp": "2026-01-01T00:00:00Z", "prompt": "p", "version_id": "p@v1",'
                b' "model": "m", "output": "", "latency_ms": 1}'),
            (5, b"\n"),
        ]
    )  # fmt: skip
    assert parsed.lines == 4 and parsed.calls == []
    assert [str(e) for e in parsed.errors] == [
        "line 1: is not UTF-8 text",
        'line 2: \'type\' must be "call" or "feedback"',
        "line 3: 'timestamp' must be ISO 8601, e.g. 2026-05-04T09:12:44Z",
        "line 4: needs 'vars' (the template variables) or 'system' + 'messages'",
    ]


def test_file_problems_are_one_clear_error(project_path: Path, tmp_path: Path) -> None:
    with Project.open(project_path) as project, pytest.raises(BadInput, match="no such file"):
        import_logs(project, tmp_path / "missing.jsonl")
    log = _write(tmp_path / "empty.jsonl", [""])
    with (
        Project.open(project_path, read_only=True) as project,
        pytest.raises(ProjectFileError, match="Cannot import logs"),
    ):
        import_logs(project, log)
    with Project.open(project_path) as project:
        report = import_logs(project, log)
        assert (report.lines, report.imported, report.run_id) == (0, 0, None)
        assert project.runs.summaries() == []


def test_an_imported_call_can_be_promoted_to_an_eval_case(
    project_path: Path, registry: Registry, tmp_path: Path
) -> None:
    from workbench.core.models import Expectation
    from workbench.services.evals import promote_call

    log = _write(tmp_path / "calls.jsonl", [_good(registry, "Can I get a refund?", call_id="r-1")])
    with Project.open(project_path) as project:
        report = import_logs(project, log)
        assert report.imported == 1
        (call_id,) = [
            r[0] for r in project.db.execute("SELECT id FROM calls WHERE source = 'import'")
        ]
        example_id = promote_call(
            project, call_id, "support-evals", [Expectation(type="icontains", value="30 days")]
        )
        examples = dict(project.datasets.get_with_ids("support-evals"))
        assert examples[example_id].vars == {"question": "Can I get a refund?"}
        provenance = project.db.execute(
            "SELECT provenance_json FROM examples WHERE id = ?", [example_id]
        ).fetchone()[0]
        assert json.loads(provenance)["source"] == "import"
