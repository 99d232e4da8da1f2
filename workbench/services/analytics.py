"""Latency, tokens, cost and error figures per model and prompt version (numpy, no row loops)."""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.storage.call_columns import call_columns
from workbench.storage.project import Project


def _float(values: list[Any]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def percentile(values: np.ndarray, q: float) -> float | None:
    """The q-th percentile of the finite values, or None when there are none."""
    finite = values[np.isfinite(values)]
    return float(np.percentile(finite, q)) if finite.size else None


def summarize_groups(columns: dict[str, list[Any]], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """Group calls by `keys` (e.g. ("model", "prompt_name", "version")) and summarise each group."""
    n = len(columns["id"])
    if n == 0:
        return []
    latency = _float(columns["latency_ms"])
    ttft = _float(columns["ttft_ms"])
    cost = _float(columns["cost_usd"])
    errors = np.array([e is not None for e in columns["error_type"]])
    cached = np.array([c is not None for c in columns["cached_from"]])
    tokens = {
        k: _float(columns[k])
        for k in ("input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens")
    }
    labels = list(zip(*(columns[k] for k in keys), strict=True))
    uniq: dict[tuple[Any, ...], int] = {}
    group = np.fromiter(
        (uniq.setdefault(lab, len(uniq)) for lab in labels), dtype=np.int64, count=n
    )
    out = []
    for label, index in sorted(uniq.items(), key=lambda item: tuple(str(x) for x in item[0])):
        mask = group == index
        live = mask & ~errors & ~cached  # latency only from real, successful calls
        calls = int(mask.sum())
        known_cost = cost[mask & ~errors]
        unknown_cost = bool(np.isnan(known_cost).any())
        row: dict[str, Any] = dict(zip(keys, label, strict=True))
        row.update(
            calls=calls,
            errors=int((mask & errors).sum()),
            error_rate=float((mask & errors).sum() / calls),
            cache_hits=int((mask & cached).sum()),
            p50_latency_ms=percentile(latency[live], 50),
            p95_latency_ms=percentile(latency[live], 95),
            p99_latency_ms=percentile(latency[live], 99),
            p50_ttft_ms=percentile(ttft[live], 50),
            p95_ttft_ms=percentile(ttft[live], 95),
            cost_usd=None if unknown_cost else float(np.nansum(known_cost)),
        )
        for name, values in tokens.items():
            row[name] = int(np.nansum(values[mask]))
        ok_calls = int((mask & ~errors).sum())
        row["cost_per_1k_calls_usd"] = (
            None if row["cost_usd"] is None or not ok_calls else row["cost_usd"] / ok_calls * 1000
        )
        out.append(row)
    return out


def run_report(project: Project, run_id: int | None = None) -> list[dict[str, Any]]:
    """Per model and prompt version: calls, errors, latency percentiles, tokens, cost, cache hits."""
    columns = call_columns(project.db, run_id=run_id)
    return summarize_groups(columns, ("model", "prompt_name", "version"))
