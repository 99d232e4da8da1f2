"""The production table over imported logs, and `workbench monitor` on logs that breach each
threshold in turn (exit 1), or none (exit 0)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from workbench.core.models import AlertThresholds, ProductionSettings
from workbench.core.records import CallRecord
from workbench.services.logs_import import import_logs
from workbench.services.monitoring import (
    ensure_hallucination_tag,
    format_value,
    monitor,
    parse_window,
    review_sample,
)
from workbench.services.production_export import set_production_settings
from workbench.services.projects import create_project
from workbench.storage.project import Project

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "projects" / "quizcraft.yaml"
PROMPT = "support-answer"
DAY = 86_400.0
NOW = time.time()
HISTORY_DAYS = 15  # a week in the window and a week of baseline before it


def _stamp(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).isoformat().replace("+00:00", "Z")


def _line(at: float, n: int, **kw: Any) -> dict[str, Any]:
    line: dict[str, Any] = {
        "timestamp": _stamp(at),
        "prompt": PROMPT,
        "version_id": f"{PROMPT}@v2",
        "model": "claude-haiku-5-5",
        "vars": {"question": f"Question {n}?"},
        "output": "An answer.",
        "latency_ms": 800.0 + n % 7,
        "input_tokens": 400,
        "output_tokens": 100,
        "user_id": f"u{n % 5}",
        "call_id": f"c-{n}",
    }
    line.update(kw)
    return {k: v for k, v in line.items() if v is not None}


Tweak = Callable[[int, dict[str, Any]], dict[str, Any]]


def _healthy(last_day: Tweak | None = None) -> list[dict[str, Any]]:
    """Ten calls a day for 15 days; `last_day` may change the calls of the last 24 hours."""
    lines = []
    for day in range(HISTORY_DAYS):
        for i in range(10):
            n = day * 10 + i
            line = _line(NOW - day * DAY - 3600 - i * 60, n)
            if day == 0 and last_day is not None:
                line = last_day(i, line)
            lines.append(line)
    return lines


def _project(tmp_path: Path, lines: list[dict[str, Any]]) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "q.pwb"
    create_project(path, bundle=SAMPLE)
    log = tmp_path / "calls.jsonl"
    log.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    with Project.open(path) as project:
        report = import_logs(project, log)
        assert not report.errors and report.calls == len(lines)
    return path


def _metrics(path: Path, **kw: Any) -> dict[str, Any]:
    with Project.open(path, read_only=True) as project:
        report = monitor(project, now=NOW, **kw)
    (health,) = report.prompts
    return {m.key: m for m in health.metrics} | {"_report": report, "_health": health}


def _down(i: int, line: dict[str, Any]) -> dict[str, Any]:
    return {**line, "feedback": "down" if i < 3 else "up"}


BREACHES: dict[str, Tweak] = {
    "p95_latency_s": lambda i, line: {**line, "latency_ms": 20_000.0},
    "error_rate": lambda i, line: (
        {**line, "error": "RateLimitError", "output": "", "input_tokens": None}
        | {"output_tokens": None}
        if i == 0
        else line
    ),
    "cost_per_user_per_day": lambda i, line: {**line, "input_tokens": 4000, "output_tokens": 1000},
    "thumbs_down_rate": _down,
}


def test_a_healthy_log_breaches_nothing(tmp_path: Path) -> None:
    metrics = _metrics(_project(tmp_path, _healthy()))
    report, health = metrics["_report"], metrics["_health"]
    assert not report.breached and report.breaches() == []
    assert (health.calls_day, health.calls_week) == (10, 70)
    assert metrics["p95_latency_s"].week.value == pytest.approx(0.806, abs=0.001)
    assert metrics["error_rate"].day.value == 0
    cost = metrics["cost_per_user_per_day"]
    assert cost.day.value == pytest.approx(cost.week.value)  # the same spend every day
    assert cost.day.threshold == pytest.approx(2 * cost.day.value)  # 2x the 7-day median
    assert "median of 7 day(s)" in cost.day.detail
    assert metrics["thumbs_down_rate"].week.value is None  # nobody rated anything
    assert len(health.trend) == 7 and [p.calls for p in health.trend] == [10] * 7


@pytest.mark.parametrize("key", sorted(BREACHES))
def test_each_threshold_breached_in_turn(tmp_path: Path, key: str) -> None:
    metrics = _metrics(_project(tmp_path, _healthy(BREACHES[key])))
    breached = {k for k, m in metrics.items() if not k.startswith("_") and m.breached}
    assert breached == {key}
    assert metrics[key].day.breached
    assert metrics["_report"].breaches()[0].startswith(f"{PROMPT}: ")


def test_hallucination_and_review_verdicts_feed_their_rates(tmp_path: Path) -> None:
    path = _project(tmp_path, _healthy())
    with Project.open(path) as project:
        ensure_hallucination_tag(project)
        ensure_hallucination_tag(project)  # twice is fine
        sample = review_sample(project, n=20, now=NOW, seed=3)
        assert len(sample) == 20 and len(set(sample)) == 20
        for call_id in sample[:2]:
            project.labels.set_label(call_id, verdict="fail", tags=["hallucination"])
        for call_id in sample[2:]:
            project.labels.set_label(call_id, verdict="pass")
        assert not set(review_sample(project, n=100, now=NOW)) & set(sample)  # reviewed once
    metrics = _metrics(path)
    halluc, thumbs = metrics["hallucination_rate"].week, metrics["thumbs_down_rate"].week
    assert (halluc.value, halluc.detail, halluc.breached) == (0.1, "2 of 20", True)
    assert (thumbs.value, thumbs.detail, thumbs.breached) == (0.1, "2 of 20", False)


def test_a_drop_of_the_weekly_eval_pass_rate(tmp_path: Path) -> None:
    path = _project(tmp_path, _healthy())
    with Project.open(path) as project:
        for ago, passes in ((10 * DAY, 9), (3600.0, 7)):
            run = project.runs.create_run(
                provider="echo", synthetic=False, plan={}, cells=[], kind="eval"
            )
            version = project.prompts.version_row_id(PROMPT, 2)
            ids = project.runs.record_calls(
                [
                    CallRecord(
                        model="m",
                        request={},
                        request_hash=f"h{ago}-{i}",
                        started_at=NOW - ago,
                        finished_at=NOW - ago,
                        run_id=run,
                        version_id=version,
                    )
                    for i in range(10)
                ]
            )
            for i, call_id in enumerate(ids):
                project.labels.set_label(call_id, verdict="pass" if i < passes else "fail")
            project.runs.set_status(run, "done")
            finished = dt.datetime.fromtimestamp(NOW - ago, dt.UTC).isoformat()
            project.db.execute("UPDATE runs SET finished_at = ? WHERE id = ?", [finished, run])
    drop = _metrics(path)["eval_pass_rate_drop"]
    assert drop.week.value == pytest.approx(0.2) and drop.week.breached
    assert drop.week.detail == "90% → 70%"


def test_saved_thresholds_and_a_set_cost_baseline_are_used(tmp_path: Path) -> None:
    path = _project(tmp_path, _healthy())
    alerts = AlertThresholds(p95_latency_s=0.5, cost_baseline_usd=0.00005)
    with Project.open(path) as project:
        set_production_settings(project, PROMPT, ProductionSettings(alerts=alerts))
    metrics = _metrics(path)
    assert metrics["p95_latency_s"].week.breached
    cost = metrics["cost_per_user_per_day"].week
    assert cost.breached and cost.threshold == pytest.approx(0.0001)
    assert cost.value == pytest.approx(0.00018)  # two calls a user a day at $0.00009
    assert cost.detail.endswith("(set)")


def test_windows_and_values_are_read_and_shown() -> None:
    assert parse_window("7d") == 7 and parse_window("36h") == 1.5
    for bad in ("", "7", "week", "0d", "365d"):
        with pytest.raises(Exception, match="since|window|outside"):
            parse_window(bad)
    assert format_value(0.025, "%") == "2.5 %"
    assert format_value(1.5, "s") == "1.50 s"
    assert format_value(None, "$") == "—"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workbench", "monitor", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_monitor_command_exit_codes(tmp_path: Path) -> None:
    healthy = _cli(str(_project(tmp_path / "ok", _healthy())))
    assert healthy.returncode == 0, healthy.stderr
    assert "p95 latency" in healthy.stdout and "last 7 days" in healthy.stdout
    for key, tweak in BREACHES.items():
        path = _project(tmp_path / key, _healthy(tweak))
        done = _cli(str(path), "--since", "7d")
        assert done.returncode == 1, (key, done.stdout, done.stderr)
        assert "BREACHED" in done.stdout and "ALERT support-answer:" in done.stderr
        as_json = json.loads(_cli(str(path), "--json").stdout)
        assert as_json["breached"] is True
        (health,) = as_json["prompts"]
        assert [m["key"] for m in health["metrics"] if m["day"]["breached"]] == [key]
    bad = _cli(str(tmp_path / "ok" / "q.pwb"), "--since", "soon")
    assert bad.returncode == 2 and "soon" in bad.stderr
