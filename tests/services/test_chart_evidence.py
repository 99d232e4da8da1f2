"""The evidence behind the tier answer: n, Wilson intervals, sources, datasets, list prices."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.services.analytics import CallFrame
from workbench.services.chart_data import compute_chart_data
from workbench.services.chart_evidence import (
    LIST_PRICE_BASIS,
    evidence_note,
    spread_overlaps,
)
from workbench.services.evals import wilson_interval
from workbench.services.pricing import PriceTable

HAIKU, OPUS = "claude-haiku-5-5", "claude-opus-5-5"


def _frame(models: list[str], passed: list[float], human: list[float], runs: list[int], *,
           cost: float = 0.0) -> CallFrame:  # fmt: skip
    n = len(models)
    ones = np.ones(n)
    return CallFrame.from_columns(
        {
            "id": np.arange(1, n + 1),
            "run_id": np.array(runs, dtype=float),
            "source": np.full(n, "run", dtype=object),
            "model": np.array(models, dtype=object),
            "version_id": ones,
            "prompt_name": np.full(n, "answer", dtype=object),
            "version": ones,
            "latency_ms": 900 * ones,
            "ttft_ms": 300 * ones,
            "input_tokens": 1000 * ones,
            "output_tokens": 100 * ones,
            "cache_creation_tokens": np.zeros(n),
            "cache_read_tokens": np.zeros(n),
            "cost_usd": cost * ones,
            "is_error": np.zeros(n, dtype=bool),
            "is_cached": np.zeros(n, dtype=bool),
            "finished_at": 1.8e9 + np.arange(n),
            "feedback": np.full(n, np.nan),
            "passed": np.array(passed, dtype=float),
            "human_verdict": np.array(human, dtype=float),
        }
    )


def test_synthetic_calls_are_priced_at_list_prices_never_as_spend() -> None:
    frame = _frame([HAIKU] * 3 + [OPUS] * 3, [1, 1, 0, 1, 1, 1], [0] * 6, [1] * 6)
    prices = PriceTable.default()
    data = compute_chart_data(frame, prices=prices, synthetic_runs=np.array([1.0]))
    rows = {r["model"]: r for r in data.by_version_model}
    for model, row in rows.items():
        assert row["cost_per_call_usd"] == 0.0  # spend stays $0
        assert row["cost_basis"] == LIST_PRICE_BASIS
        projected = next(p for p in data.projection if p["model"] == model)
        assert row["tier_cost_per_call_usd"] == pytest.approx(projected["cost_per_call_usd"])
    assert rows[HAIKU]["tier_cost_per_call_usd"] < rows[OPUS]["tier_cost_per_call_usd"]
    real = compute_chart_data(_frame([HAIKU], [1], [0], [2], cost=0.01), prices=prices)
    assert real.by_version_model[0]["cost_basis"] == "spend"
    assert real.by_version_model[0]["tier_cost_per_call_usd"] == pytest.approx(0.01)


def test_each_point_carries_n_its_interval_its_sources_and_datasets() -> None:
    frame = _frame([HAIKU, HAIKU, OPUS, OPUS], [1, 0, 1, 1], [0, 0, 1, 1], [1, 1, 2, 2])
    data = compute_chart_data(frame, run_datasets={1: "faq", 2: "support"})
    rows = {r["model"]: r for r in data.by_version_model}
    assert rows[HAIKU]["judged"] == 2 and rows[HAIKU]["passes"] == 1
    assert rows[HAIKU]["ci95"] == pytest.approx(wilson_interval(1, 2))
    assert rows[HAIKU]["label_sources"] == ["scored cases"] and rows[HAIKU]["datasets"] == ["faq"]
    assert rows[OPUS]["label_sources"] == ["human labels"]
    assert rows[OPUS]["datasets"] == ["support"]
    note = evidence_note(data.by_version_model)
    assert "from faq, support" in note
    assert (
        "Sources are mixed — human labels only: opus-5-5 v1; scored cases only: haiku-5-5 v1"
        in (note)
    )
    assert "different datasets" in note
    assert "Fewer than 10 cases: haiku-5-5 v1 (n=2), opus-5-5 v1 (n=2)" in note


def test_no_warning_when_the_evidence_is_one_kind_and_enough() -> None:
    n = 40
    frame = _frame([HAIKU] * n, [1.0] * n, [0.0] * n, [1] * n)
    note = evidence_note(compute_chart_data(frame, run_datasets={1: "faq"}).by_version_model)
    assert "⚠" not in note and "40 scored case(s)" in note


def test_identical_points_are_spread_and_distinct_ones_kept() -> None:
    xs, ys = np.array([1.0, 1.0, 1.0, 5.0]), np.array([80.0, 80.0, 80.0, 50.0])
    dx, dy = spread_overlaps(xs, ys, x_step=0.1, y_step=1.0)
    drawn = set(zip(dx.round(6).tolist(), dy.round(6).tolist(), strict=True))
    assert len(drawn) == 4  # nothing hidden
    assert (dx[0], dy[0]) == (1.0, 80.0) and (dx[3], dy[3]) == (5.0, 50.0)
