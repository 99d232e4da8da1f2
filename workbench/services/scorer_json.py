"""JSON for the scorers, read the way promptfoo 0.123 reads it.

* `parse_json`: ``JSON.parse(output)`` — the whole output, surrounding whitespace allowed, no
  code fences, no ``NaN``/``Infinity``.
* `extract_json_objects`: promptfoo's extraction for ``contains-json``: every ``{`` starts a
  candidate that runs to its balancing ``}`` (braces counted naively, strings included) or, cut
  off, to the end of the text with the missing ``}`` added; ``//`` comments are dropped and the
  candidate is read as JSON, else as YAML flow syntax (so ``{a: 1}`` counts). Only objects are
  found, never a bare array; a found object's text is skipped, so nested objects are found only
  inside a candidate that did not parse.
* `validator`: JSON Schema (draft 7 unless ``$schema`` names another, as Ajv defaults to) with
  ``format`` checked — ``email`` and ``date`` as Ajv's ajv-formats checks them, the rest by
  jsonschema's `FormatChecker`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from typing import Any

import yaml

from workbench.core.errors import BadInput

NO_JSON: Any = object()
MAX_CANDIDATE_CHARS = 100_000  # promptfoo's maxJsonLength
PATTERN_TIME_LIMIT_S = 2.0
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: far faster


class JsonTimeout(Exception):
    """Extraction ran past its time limit."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(text: str) -> Any:
    """`text` as JSON exactly as ``JSON.parse`` reads it, or `NO_JSON`."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return NO_JSON


def _drop_slash_comments(text: str) -> str:
    """``// comment`` to end of line removed outside quotes (and not in ``scheme://``)."""
    lines = []
    for line in text.split("\n"):
        quote = ""
        for i, char in enumerate(line):
            if quote:
                backslashes = len(line[:i]) - len(line[:i].rstrip("\\"))
                if char == quote and backslashes % 2 == 0:
                    quote = ""
            elif char == '"' or (char == "'" and not line[i - 1 : i].isalpha()):
                quote = char
            elif line.startswith("//", i) and line[max(0, i - 1) : i] != ":":
                line = line[:i]
                break
        lines.append(line)
    return "\n".join(lines)


def _load_candidate(text: str) -> Any:
    value = parse_json(text)
    if value is not NO_JSON:
        return value
    try:
        return yaml.load(_drop_slash_comments(text), Loader=_LOADER)
    except (yaml.YAMLError, RecursionError, ValueError):
        return NO_JSON


def extract_json_objects(text: str, *, deadline: float | None = None) -> list[Any]:
    """Every JSON object promptfoo's ``contains-json`` finds in `text` (see the module doc)."""
    found: list[Any] = []
    i = 0
    length = len(text)
    while i < length:
        start = text.find("{", i)
        if start < 0:
            break
        if deadline is not None and time.monotonic() > deadline:
            raise JsonTimeout("looking for JSON ran past the time limit")
        opened, closed = 1, 0
        j = start + 1
        limit = min(start + MAX_CANDIDATE_CHARS, length)
        next_i = start + 1
        while j < limit and opened > closed:
            char = text[j]
            opened += char == "{"
            closed += char == "}"
            j += 1
            if opened == closed or j == length or j == start + MAX_CANDIDATE_CHARS:
                candidate = text[start:j] + "}" * (opened - closed)
                value = _load_candidate(candidate)
                if isinstance(value, dict | list):
                    found.append(value)
                    next_i = j
                    break
                if opened == closed:
                    break
        i = next_i
    return found


# -- schemas --------------------------------------------------------------------------------

# ajv-formats' "fast" email: local part of atext runs, then dot-separated DNS labels.
_EMAIL = re.compile(
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$",
    re.IGNORECASE | re.ASCII,
)
_DATE = re.compile(r"^(\d\d\d\d)-(\d\d)-(\d\d)$", re.ASCII)


def _is_email(value: object) -> bool:
    return not isinstance(value, str) or bool(_EMAIL.match(value))


def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    match = _DATE.match(value)
    if not match:
        return False
    try:
        dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return False
    return True


def _format_checker() -> Any:
    import jsonschema

    checker = jsonschema.FormatChecker()
    checker.checks("email")(_is_email)
    checker.checks("date")(_is_date)
    return checker


def validator(schema: Any, where: str) -> Any:
    """A validator for `schema` that checks formats; `BadInput` naming `where` if invalid."""
    import jsonschema  # lazy: only evals with schemas pay for it

    if not isinstance(schema, dict | bool):
        raise BadInput(
            f"{where} needs a JSON Schema object as its value",
            hint='For example {"type": "object", "required": ["answer"]}.',
        )
    try:
        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise BadInput(
            f"{where} has an invalid JSON Schema: {exc.message}",
            hint="Fix the schema (JSON Schema draft 7, or the draft its $schema names).",
        ) from None
    return _with_js_patterns(cls)(schema, format_checker=_format_checker())


def _with_js_patterns(cls: Any) -> Any:
    """`cls` whose ``pattern`` keyword matches as JavaScript does (Ajv), with a time limit, so a
    catastrophic pattern in a schema cannot hang the eval either."""
    import jsonschema

    from workbench.services import js_regex

    def pattern(validator: Any, value: str, instance: Any, schema: Any) -> Any:
        if not validator.is_type(instance, "string"):
            return
        try:
            found = js_regex.search(js_regex.compile_js(value), instance, PATTERN_TIME_LIMIT_S)
        except js_regex.RegexTimeout:
            yield jsonschema.ValidationError(f"the pattern {value!r} ran past its time limit")
            return
        except Exception:  # noqa: BLE001 - an invalid pattern: leave it to the schema check
            return
        if found is None:
            shown = instance if len(instance) <= 40 else instance[:39] + "…"
            yield jsonschema.ValidationError(f"{shown!r} does not match {value!r}")

    return jsonschema.validators.extend(cls, {"pattern": pattern})


def schema_error(value: Any, schema_validator: Any) -> str | None:
    """Why `value` fails the schema (path and message), or None when it is valid."""
    error = next(iter(schema_validator.iter_errors(value)), None)
    if error is None:
        return None
    path = "/".join(str(p) for p in error.absolute_path) or "(root)"
    return f"at {path}: {error.message}"
