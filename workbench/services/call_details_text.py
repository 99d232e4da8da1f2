"""How a call's tool calls, structured output and thinking read in the grid and the inspector
(plain functions, so the grid model and the inspector say it the same way)."""

from __future__ import annotations

import json
from typing import Any

MAX_ARG_CHARS = 400


def tool_call_text(call: dict[str, Any], *, indent: int | None = 2) -> str:
    """``lookup_order`` then its arguments as pretty JSON."""
    arguments = json.dumps(call.get("input") or {}, indent=indent, ensure_ascii=False)
    if len(arguments) > MAX_ARG_CHARS:
        arguments = arguments[: MAX_ARG_CHARS - 1] + "…"
    joint = "\n" if indent is not None else " "
    return f"tool call: {call.get('name', '?')}{joint}{arguments}"


def tool_calls_text(details: dict[str, Any] | None, *, compact: bool = False) -> str:
    """Every tool call of a call, one block each (compact: one line each); "" for none."""
    calls = (details or {}).get("tool_calls") or []
    if compact:
        return "\n".join(tool_call_text(c, indent=None) for c in calls)
    return "\n\n".join(tool_call_text(c) for c in calls)


def structured_text(output: str) -> str | None:
    """A JSON object or array answer, pretty-printed; None when the output is not one."""
    text = output.strip()
    if not text.startswith(("{", "[")):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if isinstance(value, dict) and all(not isinstance(v, dict | list) for v in value.values()):
        # A flat object reads best as one "key: value" line each.
        return "\n".join(f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in value.items())
    return json.dumps(value, indent=2, ensure_ascii=False)


def cell_body(output: str, details: dict[str, Any] | None) -> str:
    """What a grid cell shows under its stats line: tool calls first, then the text or JSON."""
    parts = [tool_calls_text(details, compact=True)] if (details or {}).get("tool_calls") else []
    shown = structured_text(output)
    text = shown if shown is not None else output
    if text.strip():
        parts.append(text)
    return "\n".join(parts)


def thinking_title(details: dict[str, Any] | None) -> str:
    tokens = (details or {}).get("thinking_tokens")
    return f"Thinking ({tokens:,} tokens)" if tokens else "Thinking"
