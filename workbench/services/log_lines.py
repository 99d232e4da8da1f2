"""Checking one line of a production call log (JSONL), as docs/production.md defines it.

Call lines are what `RenderedPrompt.log_record` of the runtime loader writes, feedback lines what
`feedback_record` writes; people may also write them by hand, so every problem is reported as a
`LineError` naming the line and the field, never as an exception from deeper down.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass
from typing import Any

FEEDBACK = {"up": 1, "down": -1}  # stored as integers in calls.feedback and call_feedback
_VERSION_ID = re.compile(r"(?P<name>.+)@v(?P<version>[0-9]+)(?:#(?P<hash>[0-9a-fA-F]{4,64}))?")
_ERROR_TYPE = re.compile(r"[A-Za-z_][\w.]{0,79}")

# Ranges a real call lies in. Anything outside is a bad line, never a crash further down
# (a year-9999 time at -14:00 is in year 10000 UTC; 10**30 tokens do not fit SQLite's integer).
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(3000, 1, 1, tzinfo=dt.UTC)
MAX_TOKENS = 10**12
MAX_MILLISECONDS = 7 * 86_400_000.0  # a week: no model call takes longer
MAX_VERSION = 10**9


class LineError(Exception):
    """One bad line: its 1-based number and what is wrong with it."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message
        super().__init__(f"line {line}: {message}")


@dataclass(slots=True)
class CallLine:
    """A checked call line (field names as stored, tokens under the workbench's names)."""

    line: int
    timestamp: float  # seconds since the epoch, UTC
    prompt: str
    version: int
    hash_prefix: str | None
    model: str
    output: str
    latency_ms: float
    vars: dict[str, str] | None = None
    system: str | None = None
    messages: list[dict[str, str]] | None = None
    ttft_ms: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_tokens: int | None = None
    cache_read_tokens: int | None = None
    user_id: str | None = None
    feedback: int | None = None
    call_id: str | None = None
    request_id: str | None = None
    error: str | None = None

    @property
    def version_label(self) -> str:
        tail = f"#{self.hash_prefix}" if self.hash_prefix else ""
        return f"{self.prompt}@v{self.version}{tail}"

    @property
    def error_type(self) -> str | None:
        """`error` when it reads as an exception name, else "error" (the message is kept too)."""
        if self.error is None:
            return None
        return self.error if _ERROR_TYPE.fullmatch(self.error) else "error"


@dataclass(slots=True)
class FeedbackLine:
    """A checked feedback line: thumbs for the call line with the same `call_id`."""

    line: int
    call_id: str
    feedback: int
    timestamp: float | None


class _Fields:
    """Typed access to one line's JSON object; every problem names the field."""

    def __init__(self, obj: dict[str, Any], line: int) -> None:
        self.obj = obj
        self.line = line

    def bad(self, key: str, expected: str) -> LineError:
        return LineError(self.line, f"'{key}' must be {expected}")

    def text(self, key: str, *, required: bool = False, empty_ok: bool = False) -> str | None:
        value = self.obj.get(key)
        if value is None:
            if required:
                raise LineError(self.line, f"'{key}' is required")
            return None
        if not isinstance(value, str) or (not empty_ok and not value.strip()):
            raise self.bad(key, "a string" if empty_ok else "a non-empty string")
        return value

    def number(self, key: str, *, required: bool = False) -> float | None:
        value = self.obj.get(key)
        if value is None:
            if required:
                raise LineError(self.line, f"'{key}' is required")
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0 <= value <= MAX_MILLISECONDS  # also refuses NaN and Infinity
        ):
            raise self.bad(key, f"a number of milliseconds from 0 to {MAX_MILLISECONDS:.0f}")
        return float(value)

    def count(self, *keys: str) -> int | None:
        """A token count under the first of `keys` present (the API's or the workbench's name)."""
        for key in keys:
            value = self.obj.get(key)
            if value is None:
                continue
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not 0 <= value <= MAX_TOKENS
            ):
                raise self.bad(key, f"a whole number from 0 to {MAX_TOKENS:_}".replace("_", " "))
            return value
        return None

    def timestamp(self, *, required: bool) -> float | None:
        text = self.text("timestamp", required=required)
        if text is None:
            return None
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise self.bad("timestamp", "ISO 8601, e.g. 2026-05-04T09:12:44Z") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)  # documented: no zone means UTC
        try:
            # Compare in UTC: 9999-12-31T23:00-14:00 is already year 10000 there.
            in_range = EARLIEST <= moment <= LATEST
        except (OverflowError, ValueError):
            in_range = False
        if not in_range:
            raise self.bad("timestamp", "a time between 1970 and 3000 (UTC)")
        return moment.timestamp()

    def user_id(self) -> str | None:
        """Any scalar id (Django's integer ``user.id`` included), kept as a string."""
        value = self.obj.get("user_id")
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.bad("user_id", "a string or a number")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.bad("user_id", "a string or a finite number")
        text = value if isinstance(value, str) else _scalar_text(value)
        if not text.strip():
            raise self.bad("user_id", "a non-empty string or a number")
        return text

    def variables(self) -> dict[str, str] | None:
        value = self.obj.get("vars")
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.bad("vars", 'an object of strings, e.g. {"question": "…"}')
        out = {}
        for name, item in value.items():
            if isinstance(item, dict | list) or item is None:
                raise self.bad(f"vars.{name}", "a string")
            out[name] = item if isinstance(item, str) else _scalar_text(item)
        return out

    def messages(self) -> list[dict[str, str]] | None:
        value = self.obj.get("messages")
        if value is None:
            return None
        if not isinstance(value, list) or not value:
            raise self.bad("messages", 'a non-empty list of {"role", "content"} objects')
        for index, message in enumerate(value):
            if (
                not isinstance(message, dict)
                or message.get("role") not in ("user", "assistant")
                or not isinstance(message.get("content"), str)
            ):
                raise self.bad(
                    f"messages[{index}]", 'an object with "role" (user|assistant) and "content"'
                )
        return [{"role": m["role"], "content": m["content"]} for m in value]

    def feedback(self, *, required: bool) -> int | None:
        value = self.obj.get("feedback")
        if value is None and not required:
            return None
        if value not in FEEDBACK:
            raise self.bad("feedback", '"up" or "down"' + ("" if required else " (or null)"))
        return FEEDBACK[value]


def _scalar_text(value: int | float) -> str:
    """A number as text; an integral float (``42.0``) reads as the integer it is."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _version(f: _Fields, prompt: str) -> tuple[int, str | None]:
    """(version number, content hash prefix) from `version_id`, `version` and `content_hash`."""
    number = f.obj.get("version")
    if number is not None and (
        isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= MAX_VERSION
    ):
        raise f.bad("version", f"a version number from 1 to {MAX_VERSION}")
    digest = f.text("content_hash")
    version_id = f.text("version_id")
    if version_id is None and number is None:
        raise LineError(
            f.line, "'version_id' is required (e.g. \"support-answer@v3#3f1c0a9b7e21\")"
        )
    if version_id is not None:
        match = _VERSION_ID.fullmatch(version_id)
        if match is None:
            raise f.bad("version_id", 'of the form "<prompt>@v<number>#<hash>"')
        if len(match["version"]) > 9:
            raise f.bad("version_id", f"a version number from 1 to {MAX_VERSION}")
        if match["name"] != prompt:
            raise LineError(
                f.line, f"'version_id' names prompt '{match['name']}' but 'prompt' is '{prompt}'"
            )
        if number is not None and number != int(match["version"]):
            raise LineError(f.line, f"'version' {number} disagrees with 'version_id' {version_id}")
        number = int(match["version"])
        digest = digest or match["hash"]
    if digest is not None and not re.fullmatch(r"[0-9a-fA-F]{4,64}", digest):
        raise f.bad("content_hash", "hexadecimal digits")
    assert number is not None  # one of the two was given, checked above
    return int(number), digest.lower() if digest else None


def _call_line(f: _Fields) -> CallLine:
    timestamp = f.timestamp(required=True)
    prompt = f.text("prompt", required=True)
    assert timestamp is not None and prompt is not None
    version, digest = _version(f, prompt)
    model = f.text("model", required=True)
    output = f.text("output", required=True, empty_ok=True)
    latency = f.number("latency_ms", required=True)
    assert model is not None and output is not None and latency is not None
    variables, system, messages = f.variables(), f.text("system", empty_ok=True), f.messages()
    if variables is None and messages is None:
        raise LineError(f.line, "needs 'vars' (the template variables) or 'system' + 'messages'")
    return CallLine(
        line=f.line,
        timestamp=timestamp,
        prompt=prompt,
        version=version,
        hash_prefix=digest,
        model=model,
        output=output,
        latency_ms=latency,
        vars=variables,
        system=system,
        messages=messages,
        ttft_ms=f.number("ttft_ms"),
        input_tokens=f.count("input_tokens"),
        output_tokens=f.count("output_tokens"),
        cache_creation_tokens=f.count("cache_creation_input_tokens", "cache_creation_tokens"),
        cache_read_tokens=f.count("cache_read_input_tokens", "cache_read_tokens"),
        user_id=f.user_id(),
        feedback=f.feedback(required=False),
        call_id=f.text("call_id"),
        request_id=f.text("request_id"),
        error=f.text("error"),
    )


def parse_line(text: str, line: int) -> CallLine | FeedbackLine:
    """Check one JSONL line; raises `LineError` saying what is wrong with it."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LineError(line, f"is not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise LineError(line, "is not valid JSON (too deeply nested)") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise LineError(line, f"is not valid JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise LineError(line, "must be a JSON object")
    f = _Fields(obj, line)
    kind = obj.get("type", "call")
    if kind == "feedback":
        call_id = f.text("call_id", required=True)
        feedback = f.feedback(required=True)
        assert call_id is not None and feedback is not None
        return FeedbackLine(line, call_id, feedback, f.timestamp(required=False))
    if kind in ("call", None):
        return _call_line(f)
    raise f.bad("type", '"call" or "feedback"')
