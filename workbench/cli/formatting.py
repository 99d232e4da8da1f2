"""Plain-text tables and numbers for the command line."""

from __future__ import annotations

from typing import Any


def ms(value: float | None) -> str:
    return "—" if value is None else f"{value / 1000:.2f}s" if value >= 1000 else f"{value:.0f}ms"


def usd(value: float | None) -> str:
    return "unknown" if value is None else f"${value:.4f}"


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def format_report(groups: list[dict[str, Any]]) -> str:
    headers = [
        "model",
        "prompt",
        "calls",
        "errors",
        "cached",
        "p50",
        "p95",
        "ttft p50",
        "in tok",
        "out tok",
        "cache r/w",
        "cost",
        "pass",
    ]
    rows = [
        [
            str(g["model"]),
            f"{g['prompt_name']}@v{g['version']}" if g.get("prompt_name") else "—",
            str(g["calls"]),
            str(g["errors"]),
            str(g["cache_hits"]),
            ms(g["p50_latency_ms"]),
            ms(g["p95_latency_ms"]),
            ms(g["p50_ttft_ms"]),
            str(g["input_tokens"]),
            str(g["output_tokens"]),
            f"{g['cache_read_tokens']}/{g['cache_creation_tokens']}",
            usd(g["cost_usd"]),
            "—" if g.get("pass_rate") is None else f"{g['pass_rate']:.0%}",
        ]
        for g in groups
    ]
    return format_table(headers, rows)


def format_spend(spend: Any) -> str:
    """``Spend: $0.0123 on 40 real call(s); 16 synthetic call(s) (offline, $0) apart``."""
    text = f"Spend: {usd(spend.real_usd)} on {spend.real_calls} real call(s)"
    if spend.unpriced_calls:
        text += f" ({spend.unpriced_calls} without a price)"
    if spend.synthetic_calls:
        text += f"; {spend.synthetic_calls} synthetic call(s) (offline, $0) apart"
    return text
