"""Scorers: small named factories, one per expectation type, each returning a closure.

`build_scorer(expectation)` checks the expectation once (an invalid regex or JSON Schema is a
`BadInput` naming it, raised before any call is paid for) and returns ``score(output, call)``,
which gives a `ScoreResult`. Type names are promptfoo's. Scoring is separate from generation, so
stored outputs can be scored again without new calls.

Text comparisons are Unicode-aware: both sides are NFC-normalised (so "é" typed two ways
matches), and the case-insensitive ones use ``str.casefold`` ("STRASSE" icontains "straße").
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from workbench.core.errors import BadInput
from workbench.core.models import TOOL_EXPECTATION_TYPES, Expectation

# A judge verdict is a 1–5 score; `llm-rubric` passes at this score unless a threshold is set.
DEFAULT_RUBRIC_THRESHOLD = 4.0
# contains-json tries a JSON parse at each "{" or "[": bound the attempts so a huge output full
# of braces stays linear enough.
MAX_JSON_CANDIDATES = 10_000
_QUOTE_CHARS = 60


@dataclass(frozen=True)
class ScoreResult:
    """The outcome of one expectation: pass/fail, a 0–1 score and a one-sentence reason."""

    passed: bool
    score: float
    reason: str


@dataclass(frozen=True)
class CallFacts:
    """What a scorer may look at besides the output text.

    :param input: the case's input as text (its variables), for the judge's ``{{input}}``
    :param latency_ms: the provider's latency for the call, when known
    :param cost_usd: the call's cost, None when unknown (no price for the model)
    """

    call_id: int | None = None
    model: str = ""
    input: str = ""
    vars: Mapping[str, str] = field(default_factory=dict)
    latency_ms: float | None = None
    cost_usd: float | None = None
    tool_calls: tuple[Mapping[str, Any], ...] = ()
    """The call's tool calls: ``{"id", "name", "input"}`` each."""
    tools: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """The version's tools by name (their input schemas check the arguments)."""
    output_schema: Mapping[str, Any] | None = None
    """The version's structured-output schema, if it has one."""


Scorer = Callable[[str, CallFacts], ScoreResult]
JudgeVerdict = tuple[int | None, str]
"""(score 1–5 or None when the judge gave none, reason)."""
JudgeFn = Callable[[str, str, CallFacts], JudgeVerdict]
"""``judge(rubric, output, call)``: how `llm-rubric` obtains a verdict."""


def quote(text: str, limit: int = _QUOTE_CHARS) -> str:
    """A short quoted form of `text` for reasons (long values are cut with an ellipsis)."""
    text = str(text)
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def describe(expectation: Expectation, index: int | None = None) -> str:
    """``expectation 2 (icontains 'venv')``: how messages name an expectation."""
    number = "" if index is None else f" {index + 1}"
    value = expectation.value
    if expectation.type in ("cost", "latency"):
        value = expectation.threshold if expectation.threshold is not None else value
    shown = "" if value is None else " " + (quote(value) if isinstance(value, str) else str(value))
    if isinstance(value, dict | list):
        shown = " " + quote(json.dumps(value, ensure_ascii=False))
    return f"expectation{number} ({expectation.type}{shown})"


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _result(passed: bool, reason: str, score: float | None = None) -> ScoreResult:
    return ScoreResult(passed, float(passed) if score is None else score, reason)


def _text_value(expectation: Expectation, where: str) -> str:
    value = expectation.value
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        raise BadInput(f"{where} needs a text value", hint="Set `value:` to the text to find.")
    return _nfc(str(value))


# -- text -----------------------------------------------------------------------------------


def equals(value: Any) -> Scorer:
    """The output is exactly `value` (JSON values: the output parses to an equal value)."""
    if isinstance(value, dict | list):

        def score_json(output: str, call: CallFacts) -> ScoreResult:
            parsed = _parse_json(output)
            if parsed is _NO_JSON:
                return _result(False, "the output is not JSON, so it cannot equal the expected")
            if parsed == value:
                return _result(True, "the output's JSON equals the expected value")
            return _result(False, "the output's JSON differs from the expected value")

        return score_json
    expected = _nfc(str(value))

    def score(output: str, call: CallFacts) -> ScoreResult:
        text = _nfc(output)
        if text == expected:
            return _result(True, "the output equals the expected text")
        at = next(
            (i for i, (a, b) in enumerate(zip(text, expected, strict=False)) if a != b),
            min(len(text), len(expected)),
        )
        return _result(
            False,
            f"the output differs from the expected text at character {at + 1} "
            f"({len(text)} vs {len(expected)} characters)",
        )

    return score


def contains(value: str, *, ignore_case: bool = False, negate: bool = False) -> Scorer:
    """The output contains `value` (or, negated, does not)."""
    needle = _nfc(value)
    folded = needle.casefold() if ignore_case else needle
    how = " (ignoring case)" if ignore_case else ""

    def score(output: str, call: CallFacts) -> ScoreResult:
        text = _nfc(output)
        found = folded in (text.casefold() if ignore_case else text)
        if negate:
            verb = "contains" if found else "does not contain"
            return _result(not found, f"the output {verb} {quote(needle)}{how}")
        verb = "contains" if found else "does not contain"
        return _result(found, f"the output {verb} {quote(needle)}{how}")

    return score


def starts_with(value: str) -> Scorer:
    """The output begins with `value` (exactly; leading spaces count)."""
    prefix = _nfc(value)

    def score(output: str, call: CallFacts) -> ScoreResult:
        ok = _nfc(output).startswith(prefix)
        verb = "starts" if ok else "does not start"
        return _result(ok, f"the output {verb} with {quote(prefix)}")

    return score


def regex(pattern: str, *, negate: bool = False, where: str = "the expectation") -> Scorer:
    """The output has a match for `pattern` (``re.search``; or, negated, has none)."""
    try:
        compiled = re.compile(_nfc(pattern))
    except re.error as exc:
        raise BadInput(
            f"{where} has an invalid regular expression {quote(pattern)}: {exc}",
            hint="Fix the pattern (Python `re` syntax).",
        ) from None

    def score(output: str, call: CallFacts) -> ScoreResult:
        match = compiled.search(_nfc(output))
        if negate:
            if match:
                return _result(False, f"the output matches {quote(pattern)} at {quote(match[0])}")
            return _result(True, f"the output does not match {quote(pattern)}")
        if match:
            return _result(True, f"the output matches {quote(pattern)}")
        return _result(False, f"the output does not match {quote(pattern)}")

    return score


def length(bound: int, *, minimum: bool) -> Scorer:
    """The output has at least (`minimum`) or at most `bound` characters."""

    def score(output: str, call: CallFacts) -> ScoreResult:
        n = len(output)
        ok = n >= bound if minimum else n <= bound
        word = "at least" if minimum else "at most"
        return _result(ok, f"the output has {n} characters; {word} {bound} expected")

    return score


# -- JSON -----------------------------------------------------------------------------------

_NO_JSON: Any = object()
_FENCE = re.compile(r"^\s*```[A-Za-z0-9_-]*\s*\n(.*?)\n?```\s*$", re.DOTALL)


def _parse_json(output: str) -> Any:
    """The output as JSON (a whole-output ``` fence is allowed), or `_NO_JSON`."""
    text = output.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return _NO_JSON


def find_json(output: str) -> Any:
    """The first JSON object or array embedded anywhere in `output`, or `_NO_JSON`."""
    decoder = json.JSONDecoder()
    tried = 0
    for match in re.finditer(r"[{\[]", output):
        tried += 1
        if tried > MAX_JSON_CANDIDATES:
            break
        try:
            value, _ = decoder.raw_decode(output, match.start())
        except (ValueError, RecursionError):
            continue
        return value
    return _NO_JSON


def _validator(schema: Any, where: str) -> Any:
    import jsonschema  # lazy: only evals with schemas pay for it

    if not isinstance(schema, dict | bool):
        raise BadInput(
            f"{where} needs a JSON Schema object as its value",
            hint='For example {"type": "object", "required": ["answer"]}.',
        )
    try:
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise BadInput(
            f"{where} has an invalid JSON Schema: {exc.message}",
            hint="Fix the schema (JSON Schema draft 2020-12 or the one its $schema names).",
        ) from None
    return cls(schema)


def _schema_check(value: Any, validator: Any) -> ScoreResult:
    if validator is None:
        return _result(True, "the output is valid JSON")
    error = next(iter(validator.iter_errors(value)), None)
    if error is None:
        return _result(True, "the output's JSON matches the schema")
    path = "/".join(str(p) for p in error.absolute_path) or "(root)"
    return _result(False, f"the output's JSON does not match the schema at {path}: {error.message}")


def is_json(schema: Any = None, *, where: str = "the expectation") -> Scorer:
    """The whole output is JSON (optionally valid against a JSON Schema)."""
    validator = None if schema is None else _validator(schema, where)

    def score(output: str, call: CallFacts) -> ScoreResult:
        value = _parse_json(output)
        if value is _NO_JSON:
            return _result(False, "the output is not valid JSON")
        return _schema_check(value, validator)

    return score


def contains_json(schema: Any = None, *, where: str = "the expectation") -> Scorer:
    """The output holds a JSON object or array somewhere (optionally valid against a schema)."""
    validator = None if schema is None else _validator(schema, where)

    def score(output: str, call: CallFacts) -> ScoreResult:
        value = _parse_json(output)
        if value is _NO_JSON or not isinstance(value, dict | list):
            value = find_json(output)
        if value is _NO_JSON:
            return _result(False, "the output contains no JSON object or array")
        return _schema_check(value, validator)

    return score


# -- call facts and the judge -----------------------------------------------------------------


def cost(limit_usd: float) -> Scorer:
    """The call cost at most `limit_usd` (an unknown cost fails: it is never assumed $0)."""

    def score(output: str, call: CallFacts) -> ScoreResult:
        if call.cost_usd is None:
            return _result(False, "the call's cost is unknown (no price for its model)")
        ok = call.cost_usd <= limit_usd
        return _result(ok, f"the call cost ${call.cost_usd:.6f}; at most ${limit_usd:.6f} allowed")

    return score


def latency(limit_ms: float) -> Scorer:
    """The call's latency was at most `limit_ms` milliseconds."""

    def score(output: str, call: CallFacts) -> ScoreResult:
        if call.latency_ms is None:
            return _result(False, "the call's latency is unknown")
        ok = call.latency_ms <= limit_ms
        return _result(
            ok, f"the call took {call.latency_ms:.0f} ms; at most {limit_ms:.0f} ms allowed"
        )

    return score


def llm_rubric(
    rubric: str, judge: JudgeFn, *, threshold: float = DEFAULT_RUBRIC_THRESHOLD
) -> Scorer:
    """A judge model scores the output 1–5 against `rubric`; passes at `threshold` or above."""

    def score(output: str, call: CallFacts) -> ScoreResult:
        verdict, reason = judge(rubric, output, call)
        if verdict is None:
            return _result(False, f"no judge score: {reason}", 0.0)
        ok = verdict >= threshold
        return _result(
            ok, f"the judge scored {verdict}/5 (pass at {threshold:g}): {reason}", (verdict - 1) / 4
        )

    return score


def _no_judge(rubric: str, output: str, call: CallFacts) -> JudgeVerdict:
    return None, "no judge is available here (an LLM judge needs a provider)"


# -- dispatch -------------------------------------------------------------------------------


def _number(expectation: Expectation, where: str, *, integer: bool = False) -> float:
    raw = expectation.threshold if expectation.threshold is not None else expectation.value
    if expectation.type in ("min-length", "max-length"):
        raw = expectation.value if expectation.value is not None else expectation.threshold
    try:
        if isinstance(raw, bool) or raw is None:
            raise ValueError
        number = float(raw)
        if number < 0 or (integer and number != int(number)):
            raise ValueError
    except (TypeError, ValueError):
        kind = "a whole number" if integer else "a number"
        raise BadInput(
            f"{where} needs {kind} (0 or more), not {quote(str(raw))}",
            hint="Set `value:` (or `threshold:` for cost and latency).",
        ) from None
    return number


def build_scorer(
    expectation: Expectation, *, judge: JudgeFn | None = None, where: str | None = None
) -> Scorer:
    """The scorer for one expectation; raises `BadInput` naming it when its value is unusable.

    :param judge: how `llm-rubric` gets a verdict; None builds one that always reports that
        no judge is available (enough for validating expectations)
    :param where: how to name the expectation in errors (default: `describe(expectation)`)
    """
    where = where or describe(expectation)
    kind = expectation.type
    if kind == "equals":
        if expectation.value is None:
            raise BadInput(f"{where} needs a value to compare with")
        return equals(expectation.value)
    if kind in ("contains", "icontains", "not-contains", "not-icontains"):
        return contains(
            _text_value(expectation, where),
            ignore_case="icontains" in kind,
            negate=kind.startswith("not-"),
        )
    if kind == "starts-with":
        return starts_with(_text_value(expectation, where))
    if kind in ("regex", "not-regex"):
        return regex(_text_value(expectation, where), negate=kind == "not-regex", where=where)
    if kind == "is-json":
        return is_json(expectation.value, where=where)
    if kind == "contains-json":
        return contains_json(expectation.value, where=where)
    if kind == "is-valid-json-schema":
        if expectation.value is None:
            raise BadInput(f"{where} needs a JSON Schema as its value")
        return is_json(expectation.value, where=where)
    if kind in ("min-length", "max-length"):
        return length(int(_number(expectation, where, integer=True)), minimum=kind == "min-length")
    if kind == "cost":
        return cost(_number(expectation, where))
    if kind == "latency":
        return latency(_number(expectation, where))
    if kind == "llm-rubric":
        rubric = _text_value(expectation, where)
        threshold = expectation.threshold
        if threshold is not None and not 1 <= threshold <= 5:
            raise BadInput(
                f"{where} has threshold {threshold:g}; judge scores run from 1 to 5",
                hint="Use a threshold between 1 and 5 (default 4).",
            )
        return llm_rubric(
            rubric,
            judge or _no_judge,
            threshold=DEFAULT_RUBRIC_THRESHOLD if threshold is None else threshold,
        )
    if kind in TOOL_EXPECTATION_TYPES:
        from workbench.services.tool_scorers import build_tool_scorer  # it imports this module

        return build_tool_scorer(expectation, where)
    raise BadInput(f"{where}: unknown expectation type '{kind}'")  # pragma: no cover


def check_expectations(expectations: list[Expectation], *, where: str = "") -> None:
    """Build every scorer once so a bad expectation is reported before anything runs."""
    prefix = f"{where}, " if where else ""
    for index, expectation in enumerate(expectations):
        build_scorer(expectation, where=prefix + describe(expectation, index))
