"""Analytics against hand-computed fixtures: percentiles, rates, cost, pass rate, tier, frontier."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from workbench.core.errors import BadInput
from workbench.core.records import CallRecord
from workbench.services.analytics import (
    CallFrame,
    column,
    group_percentiles,
    latency_distribution,
    load_calls,
    over_time,
    report_tables,
    run_report,
    series,
    summarize,
)
from workbench.services.project_models import price_table, seed_defaults
from workbench.services.tier import (
    cheapest_meeting,
    monthly_projection,
    pareto_frontier,
    tier_decision,
)
from workbench.storage.call_columns import CALL_FIELDS
from workbench.storage.import_repo import LateFeedback
from workbench.storage.labels_repo import LabelsRepo, ScoreRow
from workbench.storage.project import Project

DAY1 = dt.datetime(2026, 5, 4, 12, tzinfo=dt.UTC).timestamp()
DAY2 = DAY1 + 86_400


def _call(model: str, latency: float | None, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(CALL_FIELDS)
    row.update(
        id=0,
        run_id=1,
        source="run",
        model=model,
        prompt_name="p",
        version=1,
        latency_ms=latency,
        is_error=0,
        is_cached=0,
        finished_at=DAY1,
    )
    row.update(kw)
    return row


def _frame(rows: list[dict[str, Any]]) -> CallFrame:
    for i, row in enumerate(rows, start=1):
        row["id"] = i
    return CallFrame.from_columns({k: [r[k] for r in rows] for k in CALL_FIELDS})


def _fixture() -> CallFrame:
    """Model a: 4 live calls (100..400 ms), one error, one cache hit; model b: 2 live calls."""
    a = [
        _call("a", 100, ttft_ms=10, cost_usd=0.001, input_tokens=100, output_tokens=10,
              passed=1, feedback=1),
        _call("a", 200, ttft_ms=20, cost_usd=0.001, input_tokens=300, output_tokens=30,
              passed=1, feedback=-1),
        _call("a", 300, ttft_ms=30, cost_usd=0.002, input_tokens=200, output_tokens=20,
              cache_read_tokens=1000, passed=0),
        _call("a", 400, ttft_ms=40, cost_usd=0.002, input_tokens=200, output_tokens=20,
              finished_at=DAY2),
        _call("a", 5000, is_error=1, finished_at=DAY2),
        _call("a", 100, cost_usd=0.0, input_tokens=100, output_tokens=10, is_cached=1),
    ]  # fmt: skip
    b = [
        _call("b", 1000, cost_usd=0.01, input_tokens=1000, output_tokens=100, version=2),
        _call("b", 3000, cost_usd=0.03, input_tokens=1000, output_tokens=300, version=2,
              source="import"),
    ]  # fmt: skip
    return _frame(a + b)


def test_percentiles_rates_tokens_and_cost_per_model() -> None:
    a, b = summarize(_fixture(), ("model",))
    assert (a["model"], a["calls"], a["errors"], a["cache_hits"]) == ("a", 6, 1, 1)
    assert a["error_rate"] == pytest.approx(1 / 6)
    # live latencies 100, 200, 300, 400 (the error and the cache hit are left out)
    assert a["p50_latency_ms"] == pytest.approx(250)
    assert a["p95_latency_ms"] == pytest.approx(385)  # 300 + 0.85 * 100
    assert a["p99_latency_ms"] == pytest.approx(397)
    assert a["p50_ttft_ms"] == pytest.approx(25)
    assert a["cost_usd"] == pytest.approx(0.006)
    assert a["cost_per_call_usd"] == pytest.approx(0.0015)  # 0.006 over 4 live calls
    assert a["cost_per_1k_calls_usd"] == pytest.approx(1.5)
    assert a["input_tokens"] == 900 and a["cache_read_tokens"] == 1000
    assert a["mean_input_tokens"] == pytest.approx(200)
    assert a["mean_cache_read_tokens"] == pytest.approx(250)
    assert (a["judged"], a["pass_rate"]) == (3, pytest.approx(2 / 3))
    assert (a["rated"], a["thumbs_down_rate"]) == (2, pytest.approx(0.5))
    assert b["p50_latency_ms"] == pytest.approx(2000)
    assert b["p95_latency_ms"] == pytest.approx(2900)
    assert b["pass_rate"] is None and b["thumbs_down_rate"] is None
    assert b["cost_per_call_usd"] == pytest.approx(0.02)


def test_groups_by_version_source_run_and_day() -> None:
    tables = report_tables(_fixture())
    assert [(r["prompt_name"], r["version"], r["calls"]) for r in tables["version"]] == [
        ("p", 1, 6),
        ("p", 2, 2),
    ]
    assert [(r["source"], r["calls"]) for r in tables["source"]] == [("import", 1), ("run", 7)]
    assert [r["day"] for r in tables["day"]] == ["2026-05-04", "2026-05-05"]
    assert [(r["day"], r["model"], r["calls"]) for r in tables["day_model"]] == [
        ("2026-05-04", "a", 4),
        ("2026-05-04", "b", 2),
        ("2026-05-05", "a", 2),
    ]
    assert tables["run"][0]["run_id"] == 1


def test_unknown_cost_is_none_not_zero() -> None:
    frame = _frame([_call("x", 100, cost_usd=None), _call("x", 200, cost_usd=0.5)])
    (row,) = summarize(frame, ("model",))
    assert row["cost_usd"] is None and row["cost_per_call_usd"] is None


def test_versions_sort_numerically_and_empty_input_gives_nothing() -> None:
    frame = _frame(
        [_call("m", 1, version=10), _call("m", 1, version=2), _call("m", 1, version=None)]
    )
    assert [r["version"] for r in summarize(frame, ("version",))] == [2, 10, None]
    assert summarize(_frame([]), ("model",)) == []
    assert latency_distribution(_frame([])) == {}


def test_group_percentiles_match_numpy() -> None:
    rng = np.random.default_rng(7)
    values = rng.lognormal(6, 1, 5000)
    values[::17] = np.nan
    index = rng.integers(0, 5, 5000)
    got = group_percentiles(values, index, 6, (50, 95, 99))
    for g in range(5):
        finite = values[(index == g) & np.isfinite(values)]
        assert got[:, g] == pytest.approx(np.percentile(finite, [50, 95, 99]))
    assert np.isnan(got[:, 5]).all()  # an empty group


def test_chart_arrays() -> None:
    frame = _fixture()
    dist = latency_distribution(frame)
    assert dist["a"].tolist() == [100, 200, 300, 400]
    assert dist["b"].tolist() == [1000, 3000]
    assert latency_distribution(frame, metric="ttft_ms")["a"].tolist() == [10, 20, 30, 40]
    daily = over_time(frame, by="model", metrics=("p50_latency_ms", "error_rate"))
    assert daily["a"]["t"].tolist() == [DAY1 - 12 * 3600, DAY2 - 12 * 3600]
    assert daily["a"]["p50_latency_ms"].tolist() == [200, 400]
    assert daily["a"]["error_rate"].tolist() == [0, 0.5]
    rows = summarize(frame, ("model", "version"))
    trend = series(rows, x="version", y="pass_rate", by="model")
    assert trend["a"][0].tolist() == [1] and trend["a"][1][0] == pytest.approx(2 / 3)
    assert np.isnan(trend["b"][1]).all()
    assert column(rows, "calls").tolist() == [6, 2]


GROUPS = [
    {"model": "haiku", "pass_rate": 0.85, "p95_latency_ms": 900, "cost_per_call_usd": 0.0005},
    {"model": "sonnet", "pass_rate": 0.90, "p95_latency_ms": 2000, "cost_per_call_usd": 0.002},
    {"model": "opus", "pass_rate": 0.95, "p95_latency_ms": 12000, "cost_per_call_usd": 0.01},
    {"model": "tiny", "pass_rate": 0.70, "p95_latency_ms": 300, "cost_per_call_usd": 0.0001},
    {"model": "odd", "pass_rate": 0.88, "p95_latency_ms": 800, "cost_per_call_usd": 0.003},
    {"model": "new", "pass_rate": None, "p95_latency_ms": 800, "cost_per_call_usd": 0.00001},
]


def test_tier_decision_picks_the_cheapest_model_meeting_the_bar() -> None:
    assert tier_decision(GROUPS, 0.8, 10) == (
        "cheapest model meeting pass rate ≥ 80 % and p95 ≤ 10 s: haiku "
        "(pass rate 85 %, p95 0.9 s, $0.5 per 1 000 calls)"
    )
    assert cheapest_meeting(GROUPS, 0.89, 10)["model"] == "sonnet"  # type: ignore[index]
    assert cheapest_meeting(GROUPS, 0.9, 1.5) is None
    answer = tier_decision(GROUPS, 0.99, 10)
    assert answer.endswith("none of 6; the best pass rate is opus (95 %, p95 12 s)")
    unknown = tier_decision([GROUPS[-1]], 0.8, 10)
    assert unknown.endswith("unknown: no call has a pass rate yet (label outputs or run an eval)")
    with pytest.raises(BadInput, match="fraction"):
        tier_decision(GROUPS, 80, 10)


def test_tier_decision_names_the_prompt_version() -> None:
    rows = [dict(GROUPS[0], prompt_name="support-answer", version=3)]
    assert "haiku with support-answer v3 (" in tier_decision(rows, 0.8, 10)


def test_pareto_frontier() -> None:
    frontier = pareto_frontier(GROUPS)
    assert [p["model"] for p in frontier] == ["tiny", "haiku", "sonnet", "opus"]
    assert pareto_frontier([]) == []
    flat = pareto_frontier(GROUPS, x="p95_latency_ms", y="pass_rate")
    assert [p["model"] for p in flat] == ["tiny", "odd", "sonnet", "opus"]


# --- against a project file ---------------------------------------------------------------------


def _record(model: str, latency: float, **kw: Any) -> CallRecord:
    return CallRecord(
        model=model,
        request={"model": model},
        request_hash="h",
        started_at=DAY1,
        finished_at=DAY1,
        latency_ms=latency,
        **kw,
    )


@pytest.fixture
def project(tmp_path: Path):  # type: ignore[no-untyped-def]
    with Project.create(tmp_path / "a.pwb", "analytics") as proj:
        seed_defaults(proj)
        yield proj


def test_pass_rate_uses_labels_over_scores_and_late_feedback(project: Project) -> None:
    runs = project.runs
    run_id = runs.create_run(provider="echo", synthetic=True, plan={}, cells=[])
    ids = runs.record_calls(
        [
            _record("m", 100, run_id=run_id, feedback=1),
            _record("m", 200, run_id=run_id),
            _record("m", 300, run_id=run_id),
            _record("m", 400, run_id=run_id),
        ]
    )
    labels = LabelsRepo(project)
    fail = ScoreRow(index=0, type="contains", passed=False, score=0.0, reason="")
    ok = ScoreRow(index=1, type="contains", passed=True, score=1.0, reason="")
    labels.replace_scores([(ids[0], None, [ok, fail]), (ids[1], None, [ok]), (ids[2], None, [ok])])
    labels.set_label(ids[0], verdict="pass")  # a person overrules the failed expectation
    labels.set_label(ids[2], verdict="fail")
    project.imports.store_import(
        plan={},
        records=[],
        external_ids=[],
        late_feedback=[LateFeedback(ids[0], -1, DAY2), LateFeedback(ids[3], 1, DAY2)],
        totals={},
    )
    frame = load_calls(project, run_id=run_id)
    assert frame["passed"].tolist()[:3] == [1, 1, 0] and np.isnan(frame["passed"][3])
    feedback = frame["feedback"]  # the late line wins over the call's own thumbs
    assert (feedback[0], feedback[3]) == (-1, 1) and np.isnan(feedback[1:3]).all()
    (row,) = run_report(project, run_id)
    assert (row["judged"], row["pass_rate"]) == (3, pytest.approx(2 / 3))
    assert (row["rated"], row["thumbs_down_rate"]) == (2, 0.5)


def test_monthly_projection_prices_mean_tokens(project: Project) -> None:
    model = "claude-haiku-5-5"
    run_id = project.runs.create_run(provider="echo", synthetic=False, plan={}, cells=[])
    project.runs.record_calls(
        [
            _record(model, 100, run_id=run_id, input_tokens=900, output_tokens=100,
                    cache_creation_tokens=0, cache_read_tokens=400, cost_usd=0.001),
            _record(model, 100, run_id=run_id, input_tokens=1100, output_tokens=300,
                    cache_creation_tokens=200, cache_read_tokens=600, cost_usd=0.001),
            _record(model, 100, run_id=run_id, error_type="overloaded"),
            _record("no-such-model", 100, run_id=run_id, input_tokens=5, output_tokens=5),
        ]
    )  # fmt: skip
    at = dt.date(2026, 12, 1)
    price = price_table(project).lookup(model, at)
    assert price is not None
    expected = (1000 * price.input + 200 * price.output + 100 * price.cache_write_5m
                + 500 * price.cache_read) / 1e6  # fmt: skip
    plain = {r["model"]: r for r in monthly_projection(project, 1000, at=at)}
    row = plain[model]
    assert row["measured_calls"] == 2
    assert row["mean_input_tokens"] == 1000 and row["mean_cache_creation_tokens"] == 100
    assert row["cost_per_call_usd"] == pytest.approx(expected)
    assert row["daily_cost_usd"] == pytest.approx(expected * 1000)
    assert row["monthly_cost_usd"] == pytest.approx(expected * 1000 * 30)
    assert plain["no-such-model"]["monthly_cost_usd"] is None
    batch = {r["model"]: r for r in monthly_projection(project, 1000, at=at, batch=True)}
    discounted = expected * (1 - price.batch_discount)
    assert batch[model]["cost_per_call_usd"] == pytest.approx(discounted)
    with pytest.raises(BadInput):
        monthly_projection(project, -1)


def test_one_call_gives_every_figure_without_warnings() -> None:
    import warnings

    frame = _frame([_call("solo", 120, ttft_ms=30, cost_usd=0.002, passed=1)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (row,) = summarize(frame, ("model",))
        assert row["p50_latency_ms"] == row["p99_latency_ms"] == 120
        assert latency_distribution(frame)["solo"].tolist() == [120]
        assert over_time(frame)["solo"]["p95_latency_ms"].tolist() == [120]
        assert pareto_frontier([row]) == [row]
        assert tier_decision([row], 0.5, 1).endswith(
            ": solo (pass rate 100 %, p95 0.12 s, $2 per 1 000 calls)"
        )
        assert (
            over_time(_frame([])) == {}
            and summarize(frame.where(np.zeros(1, bool)), ("model",)) == []
        )


def test_filters_select_by_prompt_source_and_time(project: Project) -> None:
    from workbench.core.models import Message, Params, PromptContent

    project.prompts.create("ask")
    project.prompts.save_version(
        "ask",
        PromptContent(
            system="s", messages=[Message(role="user", content="q")], params=Params(model="m")
        ),
    )
    linked = project.prompts.version_row_id("ask", 1)
    run_id = project.runs.create_run(provider="echo", synthetic=True, plan={}, cells=[])
    late = _record("m", 3, run_id=run_id, version_id=linked)
    late.finished_at = DAY2
    project.runs.record_calls(
        [
            _record("m", 1, run_id=run_id, version_id=linked),
            _record("m", 2, run_id=run_id, source="import", prompt_name="ask", prompt_version=7),
            late,
            _record("m", 4, run_id=run_id, source="import", prompt_name="other", prompt_version=1),
        ]
    )
    by_prompt = load_calls(project, prompt_name="ask")
    assert by_prompt["latency_ms"].tolist() == [1, 2, 3]
    assert by_prompt["version"].tolist() == [1, 7, 1]
    assert load_calls(project, source="import")["prompt_name"].tolist() == ["ask", "other"]
    assert load_calls(project, since=DAY2)["latency_ms"].tolist() == [3]
    assert load_calls(project, until=DAY2)["latency_ms"].tolist() == [1, 2, 4]
    assert len(load_calls(project, run_id=run_id + 1)) == 0
