"""Plain-text tables and numbers for the command line, and the one escape for data in them.

Everything the CLI prints that came from data (dataset text, prompt and model names, file
names, error messages quoting them) goes through `safe` or `safe_json` first, so a name can
never move the cursor, retitle the window, print a hyperlink or reverse the line's direction.
"""

from __future__ import annotations

import re
from typing import Any

from workbench.services.money import usd as money_usd

# C0 controls (ESC starts CSI and OSC sequences), DEL, C1 controls (0x9b is a one-byte CSI),
# and the invisible characters that reorder or break a line: bidi marks, embeddings, overrides
# and isolates (U+202E shows text backwards), and the Unicode line and paragraph separators.
_BIDI_AND_SEPARATORS = "\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI_AND_SEPARATORS}]")
_UNSAFE_KEEPING_NEWLINES = re.compile(f"[\x00-\x09\x0b-\x1f\x7f-\x9f{_BIDI_AND_SEPARATORS}]")
# json.dumps already escapes C0; these it leaves raw when ensure_ascii is off.
_UNSAFE_IN_JSON = re.compile(f"[\x7f-\x9f{_BIDI_AND_SEPARATORS}]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(value: object, *, multiline: bool = False) -> str:
    """`value` as text a terminal only displays: control characters become visible escapes.

    ESC becomes ``\\x1b``, U+202E ``\\u202e``, a newline ``\\n`` (kept as a line break when
    `multiline`); everything else, including non-ASCII letters, is unchanged.
    """
    text = value if isinstance(value, str) else str(value)
    pattern = _UNSAFE_KEEPING_NEWLINES if multiline else _UNSAFE
    return pattern.sub(_escape, text)


def safe_json(text: str) -> str:
    """JSON text with C1 and bidi characters written as ``\\uXXXX`` (still the same JSON)."""
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def ms(value: float | None) -> str:
    return "—" if value is None else f"{value / 1000:.2f}s" if value >= 1000 else f"{value:.0f}ms"


def usd(value: float | None) -> str:
    """The one money format (`services.money.usd`)."""
    return money_usd(value, unknown="unknown")


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    """Columns padded to their widest cell; every cell is escaped with `safe`."""
    headers = [safe(h) for h in headers]
    rows = [[safe(c) for c in r] for r in rows]
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


def split_csv(value: str | None) -> list[str]:
    """`a, b,,c` -> ["a", "b", "c"]: the comma-separated lists of --models, --tags and friends."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]
