"""The chart numbers computed from a call frame (Qt-free)."""

from __future__ import annotations

import numpy as np

from workbench.services.analytics import CallFrame
from workbench.services.chart_data import ChartData, compute_chart_data


def _frame(n: int) -> CallFrame:
    ones = np.ones(n)
    return CallFrame.from_columns(
        {
            "id": np.arange(1, n + 1),
            "run_id": np.ones(n, dtype=int),
            "source": np.full(n, "run", dtype=object),
            "model": np.full(n, "claude-tier0-5", dtype=object),
            "version_id": np.ones(n, dtype=int),
            "prompt_name": np.full(n, "answer", dtype=object),
            "version": np.ones(n, dtype=int),
            "latency_ms": 900 * ones,
            "ttft_ms": 300 * ones,
            "input_tokens": 200 * ones,
            "output_tokens": 20 * ones,
            "cache_creation_tokens": np.zeros(n),
            "cache_read_tokens": np.zeros(n),
            "cost_usd": 0.001 * ones,
            "is_error": np.zeros(n, dtype=bool),
            "is_cached": np.zeros(n, dtype=bool),
            "finished_at": 1.8e9 + np.arange(n),
            "feedback": np.full(n, np.nan),
            "passed": np.full(n, np.nan),
        }
    )


def test_chart_data_of_an_empty_frame_is_empty() -> None:
    data = compute_chart_data(_frame(0))
    assert data == ChartData(calls=0, all_models=[])
    assert np.isfinite(compute_chart_data(_frame(3)).by_model[0]["calls"])


def test_a_synthetic_call_without_a_run_counts_as_synthetic() -> None:
    # A try of an unsaved draft has no run, so only the call's own flag marks it synthetic.
    columns = dict(_frame(4).arrays)
    columns.pop("day")
    columns["run_id"] = np.array([1, 1, np.nan, np.nan])
    columns["is_synthetic"] = np.array([False, False, True, True])
    frame = CallFrame.from_columns(columns)
    assert compute_chart_data(frame).synthetic_calls == 2
    assert compute_chart_data(frame, synthetic_runs=np.array([1.0])).synthetic_calls == 4
