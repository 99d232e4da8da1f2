"""JSON Lines datasets: one example per line, either ``{"vars": {...}, "tags": [...], "note": ...,
"expect": [...]}`` or a flat object of variables (where ``tags`` and ``note`` keep their meaning).
Every bad line is reported with its number; the good lines are still returned."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from workbench.core.models import Example
from workbench.services.dataset_formats import (
    ParseResult,
    Source,
    check_variable,
    read_source,
    seen_columns,
    split_tags,
    validation_message,
)

_STRUCTURED_KEYS = {"vars", "tags", "note", "expect"}


def _text_value(key: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    kind = "an object" if isinstance(value, dict) else "a list"
    raise ValueError(f"variable '{key}' must be text, a number or a boolean, not {kind}")


def _tags_value(value: Any) -> list[str]:
    if isinstance(value, str):
        return split_tags(value)
    if isinstance(value, list) and all(isinstance(t, str) for t in value):
        return list(dict.fromkeys(t.strip() for t in value if t.strip()))
    raise ValueError("'tags' must be a list of strings (or one comma-separated string)")


def _json_example(obj: dict[str, Any]) -> Example:
    structured = "vars" in obj
    if structured:
        unknown = sorted(set(obj) - _STRUCTURED_KEYS)
        if unknown:
            raise ValueError(
                f"unknown key(s) {', '.join(unknown)} next to 'vars' "
                "(allowed: vars, tags, note, expect)"
            )
        raw_vars = obj["vars"]
        if not isinstance(raw_vars, dict):
            raise ValueError("'vars' must be an object of variable names to values")
    else:
        raw_vars = {k: v for k, v in obj.items() if k not in ("tags", "note")}
    values: dict[str, str] = {}
    for key, value in raw_vars.items():
        problem = check_variable(key)
        if problem:
            raise ValueError(problem)
        values[key] = _text_value(key, value)
    note = obj.get("note", "")
    if not isinstance(note, str):
        raise ValueError("'note' must be a string")
    expect = obj.get("expect", []) if structured else []
    if not isinstance(expect, list):
        raise ValueError("'expect' must be a list of expectations")
    return Example(vars=values, tags=_tags_value(obj.get("tags", [])), note=note, expect=expect)


def parse_jsonl(source: Source) -> ParseResult:
    """Parse JSON Lines: one example object per line; blank lines are skipped."""
    text, encoding, _ = read_source(source)
    result = ParseResult(encoding=encoding)
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            result.errors.append((number, f"not valid JSON ({exc.msg} at column {exc.colno})"))
            continue
        if not isinstance(obj, dict):
            kind = type(obj).__name__.replace("dict", "object").replace("str", "string")
            result.errors.append((number, f"expected a JSON object, found a {kind}"))
            continue
        try:
            example = _json_example(obj)
        except ValidationError as exc:
            result.errors.append((number, validation_message(exc)))
            continue
        except ValueError as exc:
            result.errors.append((number, str(exc)))
            continue
        result.examples.append(example)
        result.lines.append(number)
    result.columns = seen_columns(result.examples)
    return result
