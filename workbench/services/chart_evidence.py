"""The evidence behind a pass rate or a tier answer: n, the 95 % interval, where the verdicts
came from, and what a synthetic call would cost at list prices.

`add_evidence` decorates `analytics.summarize` rows (per prompt version × model) in place, so a
chart can show per point how many cases it rests on (`judged`), their Wilson interval
(`ci95`), which datasets and label sources they came from, and warn when that is thin or mixed.

Synthetic (offline) calls cost $0 and are never spend. To still compare tiers in a demo, a
group made of synthetic calls gets `tier_cost_per_call_usd` at the list price of its mean
tokens (the price table), with `cost_basis` saying so; real groups keep their measured cost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from workbench.services.analytics import CallFrame, group_calls
from workbench.services.evals import wilson_interval

MIN_CASES = 10  # tier.THIN_CASES says the same in the tier answer
"""Below this many judged cases a pass rate is a hint, not an answer (the 95 % interval of 2
cases spans most of 0–100 %)."""
LIST_PRICE_BASIS = "synthetic — at list prices"
PARTLY_LIST_PRICE_BASIS = "partly synthetic — at list prices"
SPEND_BASIS = "spend"
HUMAN, SCORED = "human labels", "scored cases"
IMPORTED = "production imports"
NO_DATASET = "runs without a dataset"


def _datasets_per_group(
    frame: CallFrame, index: np.ndarray, judged: np.ndarray, run_datasets: Mapping[int, str]
) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    imported = (frame["source"] == "import").astype(float)
    run_ids = np.nan_to_num(frame["run_id"], nan=-1)
    pairs = np.unique(np.stack([index[judged], run_ids[judged], imported[judged]]), axis=1)
    for group, run, is_import in pairs.T.tolist():  # distinct (group, run) pairs: a handful
        name = run_datasets.get(int(run)) if run >= 0 else None
        name = IMPORTED if is_import else name or NO_DATASET
        out.setdefault(int(group), set()).add(name)
    return out


def add_evidence(
    rows: list[dict[str, Any]],
    frame: CallFrame,
    keys: Sequence[str],
    *,
    synthetic: np.ndarray | None = None,
    list_price_per_call: Mapping[tuple[Any, ...], float | None] | None = None,
    run_datasets: Mapping[int, str] | None = None,
) -> list[dict[str, Any]]:
    """Add evidence fields to `rows`, the `summarize(frame, keys)` rows (same order).

    Fields: `passes`, `ci95` (low, high fractions or None), `human_labels`, `scored_cases`,
    `label_sources` (sorted names), `datasets` (sorted names of the judged calls' datasets),
    `synthetic_calls`, `cost_basis`, `tier_cost_per_call_usd`, `tier_cost_per_1k_calls_usd`.

    :param synthetic: True per call of the frame made by the offline provider
    :param list_price_per_call: per group key, the list price of one call at its mean tokens
    :param run_datasets: dataset name per run id
    """
    if not rows:
        return rows
    groups = group_calls(frame, keys)
    g, n = groups.index, len(groups)
    passed = frame["passed"]
    judged = np.isfinite(passed)
    human = judged & (frame.arrays.get("human_verdict", np.zeros(len(frame))) > 0)
    synth = synthetic if synthetic is not None else np.zeros(len(frame), dtype=bool)
    passes = np.bincount(g, weights=(passed == 1).astype(float), minlength=n)
    humans = np.bincount(g, weights=human.astype(float), minlength=n)
    scored = np.bincount(g, weights=(judged & ~human).astype(float), minlength=n)
    synth_calls = np.bincount(g, weights=synth.astype(float), minlength=n)
    datasets = _datasets_per_group(frame, g, judged, run_datasets or {})
    prices = list_price_per_call or {}
    for i, (row, label) in enumerate(zip(rows, groups.labels, strict=True)):
        total = int(row.get("judged") or 0)
        ok = int(passes[i])
        row["passes"] = ok
        row["ci95"] = wilson_interval(ok, total) if total else None
        row["human_labels"], row["scored_cases"] = int(humans[i]), int(scored[i])
        row["label_sources"] = [
            name for name, count in ((HUMAN, humans[i]), (SCORED, scored[i])) if count
        ]
        row["datasets"] = sorted(datasets.get(i, set()))
        row["synthetic_calls"] = int(synth_calls[i])
        cost, basis = row.get("cost_per_call_usd"), SPEND_BASIS
        if synth_calls[i]:
            cost = prices.get(tuple(label))
            basis = LIST_PRICE_BASIS if synth_calls[i] >= row["calls"] else PARTLY_LIST_PRICE_BASIS
        row["cost_basis"] = basis
        row["tier_cost_per_call_usd"] = cost
        row["tier_cost_per_1k_calls_usd"] = None if cost is None else cost * 1000
    return rows


def thin_points(rows: Sequence[Mapping[str, Any]], minimum: int = MIN_CASES) -> list[Mapping]:
    """Rows with a pass rate resting on fewer than `minimum` judged cases."""
    return [r for r in rows if r.get("pass_rate") is not None and (r.get("judged") or 0) < minimum]


def evidence_note(
    rows: Sequence[Mapping[str, Any]], minimum: int = MIN_CASES, *, with_cost: bool = True
) -> str:
    """What the pass rates rest on, in words: datasets, label sources, thin points, mixing
    (and, `with_cost`, how synthetic calls are priced).

    Never silent about mixing: when some points rest on human labels and others on scored
    cases (or on different datasets), the note says which.
    """
    rated = [r for r in rows if r.get("pass_rate") is not None]
    if not rated:
        return ""
    datasets = sorted({d for r in rated for d in r.get("datasets", [])})
    sources = sorted({s for r in rated for s in r.get("label_sources", [])})
    humans = sum(int(r.get("human_labels") or 0) for r in rated)
    scored = sum(int(r.get("scored_cases") or 0) for r in rated)
    parts = [
        f"Evidence: {scored:,} scored case(s) and {humans:,} human label(s)"
        + (f" from {', '.join(datasets)}" if datasets else "")
        + "; 95 % intervals (Wilson) drawn per point."
    ]
    if len(sources) > 1:
        by_source = {
            s: sorted({_name(r) for r in rated if r.get("label_sources") == [s]}) for s in sources
        }
        mixed = sorted({_name(r) for r in rated if len(r.get("label_sources", [])) > 1})
        detail = "; ".join(f"{s} only: {', '.join(v)}" for s, v in by_source.items() if v)
        if mixed:
            detail += ("; " if detail else "") + f"both: {', '.join(mixed)}"
        parts.append(f"⚠ Sources are mixed — {detail}.")
    per_point = {tuple(r.get("datasets", [])) for r in rated}
    if len(per_point) > 1:
        parts.append("⚠ Points rest on different datasets, so they are not the same test.")
    thin = thin_points(rated, minimum)
    if thin:
        listed = ", ".join(f"{_name(r)} (n={r.get('judged', 0)})" for r in thin[:6])
        parts.append(f"⚠ Fewer than {minimum} cases: {listed} — treat as a hint.")
    if with_cost and any(
        r.get("cost_basis") in (LIST_PRICE_BASIS, PARTLY_LIST_PRICE_BASIS) for r in rated
    ):
        parts.append(
            f"Cost of synthetic calls: {LIST_PRICE_BASIS} (their tokens × the price table), "
            "never counted as spend."
        )
    return " ".join(parts)


def _name(row: Mapping[str, Any]) -> str:
    model = str(row.get("model") or "?").replace("claude-", "")
    version = row.get("version")
    return f"{model} v{version}" if version is not None else model


def spread_overlaps(
    xs: np.ndarray, ys: np.ndarray, *, x_step: float, y_step: float
) -> tuple[np.ndarray, np.ndarray]:
    """Drawn positions for points so identical ones stay visible: the k-th copy of a position
    moves by k steps around it (a small ring); the exact values stay in the data for hover."""
    out_x, out_y = xs.astype(float).copy(), ys.astype(float).copy()
    seen: dict[tuple[float, float], int] = {}
    for i, (x, y) in enumerate(zip(xs.tolist(), ys.tolist(), strict=True)):
        key = (round(x / x_step) if x_step else x, round(y / y_step) if y_step else y)
        k = seen.get(key, 0)
        seen[key] = k + 1
        if k:
            angle = (k - 1) * 2 * np.pi / 6
            radius = 1 + (k - 1) // 6
            out_x[i] = x + np.cos(angle) * x_step * radius
            out_y[i] = y + np.sin(angle) * y_step * radius
    return out_x, out_y
