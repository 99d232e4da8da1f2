"""Scorers: one per expectation type, each a closure ``score(output, call) -> ScoreResult``.

`build_scorer(expectation)` checks the expectation once (a bad regex, schema or value is a
`BadInput` naming it, raised before any call is paid for). Every type that carries a promptfoo
name gives promptfoo 0.123's verdict on the same output, read from its source: comparisons are
exact (no Unicode normalisation, no code-fence stripping), ``icontains`` lower-cases like
JavaScript's ``toLowerCase`` (no case folding), regexes match as JavaScript matches
(`js_regex`), lengths count UTF-16 units, and JSON is read as ``JSON.parse`` and promptfoo's
extraction read it (`scorer_json`). A ``not-`` type inverts the verdict; an error (a timeout, a
failing python check, an unknown cost) fails either way, as in promptfoo.

Every evaluation has a time limit (`TIME_LIMIT_S`; python checks `PYTHON_TIME_LIMIT_S`): a
catastrophic regex or a check that hangs ends as an error verdict instead of a hang.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.core.errors import BadInput
from workbench.core.models import TOOL_EXPECTATION_TYPES, Expectation
from workbench.services import js_regex, scorer_code, scorer_json
from workbench.services.scorer_text import (
    js_lower,
    js_string,
    js_word_count,
    levenshtein_utf16,
    looks_like_refusal,
    strict_equal,
    utf16_len,
)

# A judge verdict is a 1–5 score; `llm-rubric` passes at this score unless a threshold is set.
DEFAULT_RUBRIC_THRESHOLD = 4.0
DEFAULT_LEVENSHTEIN_THRESHOLD = 5.0  # promptfoo's default
TIME_LIMIT_S = 5.0
_QUOTE_CHARS = 60
# promptfoo names the finish reason the OpenAI way; the API's stop_reason maps onto it.
FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
    "pause_turn": "pause_turn",
}


@dataclass(frozen=True)
class ScoreResult:
    """The outcome of one expectation: pass/fail, a 0–1 score and a one-sentence reason.

    `error` is True when no verdict could be reached (timeout, failing check): it fails, and a
    ``not-`` type does not turn it into a pass.
    """

    passed: bool
    score: float
    reason: str
    error: bool = False


@dataclass(frozen=True)
class CallFacts:
    """What a scorer may look at besides the output text.

    :param input: the case's input as text (its variables), for the judge's ``{{input}}``
    :param latency_ms: the provider's latency for the call, when known
    :param cost_usd: the call's cost, None when unknown (no price for the model)
    :param stop_reason: the API's stop reason (``end_turn``, ``max_tokens``...), when known
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
    stop_reason: str | None = None
    prompt: str = ""


Scorer = Callable[[str, CallFacts], ScoreResult]
JudgeVerdict = tuple[int | None, str]
"""(score 1–5 or None when the judge gave none, reason)."""
JudgeFn = Callable[[str, str, CallFacts], JudgeVerdict]
"""``judge(rubric, output, call)``: how `llm-rubric` obtains a verdict."""


_SHOWN_CONTROLS = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def quote(text: str, limit: int = _QUOTE_CHARS) -> str:
    """A short quoted form of `text` for reasons: ``'\\d+ days'`` as written (backslashes are
    not doubled), line breaks shown as ``\\n``, long values cut with an ellipsis."""
    text = str(text)
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    shown = "".join(
        _SHOWN_CONTROLS.get(c, f"\\x{ord(c):02x}" if ord(c) < 0x20 else c) for c in text
    )
    return f"'{shown}'"


def describe(expectation: Expectation, index: int | None = None) -> str:
    """``expectation 2 (icontains 'venv')``: how messages name an expectation."""
    number = "" if index is None else f" {index + 1}"
    value = expectation.value
    if base_type(expectation.type) in ("cost", "latency"):
        value = expectation.threshold if expectation.threshold is not None else value
    if expectation.type == "assert-set":
        value = f"{len(expectation.assert_ or [])} expectations"
    shown = "" if value is None else " " + (quote(value) if isinstance(value, str) else str(value))
    if isinstance(value, dict | list):
        shown = " " + quote(json.dumps(value, ensure_ascii=False))
    return f"expectation{number} ({expectation.type}{shown})"


def base_type(kind: str) -> str:
    """`kind` without its ``not-`` prefix."""
    return kind[4:] if kind.startswith("not-") else kind


def _limit(limit_s: float | None) -> float:
    # Read at call time, so a changed TIME_LIMIT_S applies to scorers already built.
    return TIME_LIMIT_S if limit_s is None else limit_s


def _result(passed: bool, reason: str, score: float | None = None) -> ScoreResult:
    return ScoreResult(passed, float(passed) if score is None else score, reason)


def _error(reason: str) -> ScoreResult:
    return ScoreResult(False, 0.0, f"error: {reason}", error=True)


def _text(value: Any, where: str) -> str:
    if value is None or value == "" or isinstance(value, dict | list):
        raise BadInput(f"{where} needs a text value", hint="Set `value:` to the text to find.")
    return js_string(value)


def _texts(value: Any, where: str) -> list[str]:
    """A list value, or a comma-separated string (promptfoo splits it the same way)."""
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list) or not value:
        raise BadInput(f"{where} needs a list of texts", hint="For example value: [refund, return]")
    return [js_string(v) for v in value]


# -- text -----------------------------------------------------------------------------------


def equals(value: Any) -> Scorer:
    """The output is exactly `value` (an object or list value: the output parses to it)."""
    if isinstance(value, dict | list):

        def score_json(output: str, call: CallFacts) -> ScoreResult:
            parsed = scorer_json.parse_json(output)
            if parsed is scorer_json.NO_JSON:
                return _result(False, "the output is not JSON, so it cannot equal the expected")
            if strict_equal(parsed, value):
                return _result(True, "the output's JSON equals the expected value")
            return _result(False, "the output's JSON differs from the expected value")

        return score_json
    expected = js_string(value)

    def score(output: str, call: CallFacts) -> ScoreResult:
        if output == expected:
            return _result(True, "the output equals the expected text")
        at = next(
            (i for i, (a, b) in enumerate(zip(output, expected, strict=False)) if a != b),
            min(len(output), len(expected)),
        )
        return _result(
            False,
            f"the output differs from the expected text at character {at + 1} "
            f"({len(output)} vs {len(expected)} characters)",
        )

    return score


def contains(needles: list[str], *, ignore_case: bool, mode: str) -> Scorer:
    """The output contains the needle (`mode` "one"), any of them ("any") or all ("all")."""
    wanted = [js_lower(n) for n in needles] if ignore_case else needles
    how = " (ignoring case)" if ignore_case else ""

    def score(output: str, call: CallFacts) -> ScoreResult:
        text = js_lower(output) if ignore_case else output
        missing = [shown for shown, n in zip(needles, wanted, strict=True) if n not in text]
        if mode == "one":
            verb = "does not contain" if missing else "contains"
            return _result(not missing, f"the output {verb} {quote(needles[0])}{how}")
        if mode == "any":
            ok = len(missing) < len(needles)
            verb = "contains one of" if ok else "contains none of"
            return _result(ok, f"the output {verb} {quote(', '.join(needles))}{how}")
        if missing:
            return _result(False, f"the output lacks {quote(', '.join(missing))}{how}")
        return _result(True, f"the output contains all of {quote(', '.join(needles))}{how}")

    return score


def starts_with(prefix: str) -> Scorer:
    """The output begins with `prefix` (exactly; leading spaces count)."""

    def score(output: str, call: CallFacts) -> ScoreResult:
        ok = output.startswith(prefix)
        verb = "starts" if ok else "does not start"
        return _result(ok, f"the output {verb} with {quote(prefix)}")

    return score


def regex(pattern: str, *, where: str, limit_s: float | None = None) -> Scorer:
    """The output has a match for the JavaScript regex `pattern` (see `js_regex`)."""
    try:
        compiled = js_regex.compile_js(pattern)
    except Exception as exc:  # regex.error, or a translation the package rejects
        raise BadInput(
            f"{where} has an invalid regular expression {quote(pattern)}: {exc}",
            hint="Fix the pattern (JavaScript RegExp syntax, as in promptfoo).",
        ) from None

    def score(output: str, call: CallFacts) -> ScoreResult:
        try:
            match = js_regex.search(compiled, output, _limit(limit_s))
        except js_regex.RegexTimeout as exc:
            return _error(f"the regex {quote(pattern)} was stopped: {exc}")
        if match:
            return _result(True, f"the output matches {quote(pattern)} at {quote(match[0])}")
        return _result(False, f"the output does not match {quote(pattern)}")

    return score


def length(bound: int, *, minimum: bool) -> Scorer:
    """At least (`minimum`) or at most `bound` characters, counted as JavaScript's ``length``
    counts them (UTF-16 units: an emoji is 2), so the promptfoo export agrees."""

    def score(output: str, call: CallFacts) -> ScoreResult:
        n = utf16_len(output)
        ok = n >= bound if minimum else n <= bound
        word = "at least" if minimum else "at most"
        return _result(ok, f"the output has {n} characters (UTF-16); {word} {bound} expected")

    return score


def levenshtein(expected: str, threshold: float, limit_s: float | None = None) -> Scorer:
    """The edit distance (UTF-16 units) to `expected` is at most `threshold`."""

    def score(output: str, call: CallFacts) -> ScoreResult:
        limit = _limit(limit_s)
        distance = levenshtein_utf16(output, expected, deadline=time.monotonic() + limit)
        if distance is None:
            return _error(f"the edit distance took longer than {limit:g} s")
        ok = distance <= threshold
        return _result(ok, f"the edit distance is {distance}; at most {threshold:g} allowed")

    return score


def word_count(value: Any, where: str) -> Scorer:
    """Exactly `value` words, or between ``{min, max}`` (JavaScript's whitespace splits words)."""
    if isinstance(value, dict):
        low, high = value.get("min"), value.get("max")
        if (low is None and high is None) or set(value) - {"min", "max"}:
            raise BadInput(f"{where} needs a number or {{min, max}}", hint="value: {min: 5}")
    else:
        try:
            low = high = int(float(value))
        except (TypeError, ValueError):
            raise BadInput(f"{where} needs a number of words or {{min, max}}") from None

    def score(output: str, call: CallFacts) -> ScoreResult:
        n = js_word_count(output)
        ok = (low is None or n >= low) and (high is None or n <= high)
        want = f"exactly {low}" if low == high else f"between {low or 0} and {high or '∞'}"
        return _result(ok, f"the output has {n} words; {want} expected")

    return score


def is_refusal() -> Scorer:
    """The output declines to answer (an empty output counts as a refusal)."""

    def score(output: str, call: CallFacts) -> ScoreResult:
        if not output.strip():
            return _result(True, "the output is empty, which counts as a refusal", 0.0)
        if looks_like_refusal(output):
            return _result(True, "the output is a refusal")
        return _result(False, "the output is not a refusal")

    return score


def finish_reason(expected: str) -> Scorer:
    """The call stopped for `expected` (promptfoo's names: stop, length, tool_calls...)."""

    def score(output: str, call: CallFacts) -> ScoreResult:
        if not call.stop_reason:
            return _result(False, "the provider gave no stop reason")
        got = FINISH_REASONS.get(call.stop_reason, call.stop_reason)
        ok = got.lower() == expected.lower()
        return _result(ok, f"the call stopped for {quote(got)}; {quote(expected)} expected")

    return score


# -- JSON -----------------------------------------------------------------------------------


def _schema_check(value: Any, validator: Any) -> ScoreResult:
    if validator is None:
        return _result(True, "the output is valid JSON")
    problem = scorer_json.schema_error(value, validator)
    if problem is None:
        return _result(True, "the output's JSON matches the schema")
    return _result(False, f"the output's JSON does not match the schema {problem}")


def is_json(schema: Any = None, *, where: str = "the expectation") -> Scorer:
    """The whole output is JSON (optionally valid against a JSON Schema)."""
    validator = None if schema in (None, "") else scorer_json.validator(schema, where)

    def score(output: str, call: CallFacts) -> ScoreResult:
        value = scorer_json.parse_json(output)
        if value is scorer_json.NO_JSON:
            return _result(False, "the output is not valid JSON")
        return _schema_check(value, validator)

    return score


def contains_json(
    schema: Any = None, *, where: str = "the expectation", limit_s: float | None = None
) -> Scorer:
    """The output holds a JSON object (any of them valid against the schema, when one is set)."""
    validator = None if schema in (None, "") else scorer_json.validator(schema, where)

    def score(output: str, call: CallFacts) -> ScoreResult:
        deadline = time.monotonic() + _limit(limit_s)
        try:
            found = scorer_json.extract_json_objects(output, deadline=deadline)
        except scorer_json.JsonTimeout as exc:
            return _error(str(exc))
        if not found:
            return _result(False, "the output contains no JSON object")
        if validator is None:
            return _result(True, f"the output contains {len(found)} JSON object(s)")
        results = [_schema_check(value, validator) for value in found]
        return next((r for r in results if r.passed), results[-1])

    return score


# -- call facts, user code and the judge ---------------------------------------------------------


def cost(limit_usd: float) -> Scorer:
    """The call cost at most `limit_usd` (an unknown cost is an error, never assumed $0)."""

    def score(output: str, call: CallFacts) -> ScoreResult:
        if call.cost_usd is None:
            return _error("the call's cost is unknown (no price for its model)")
        ok = call.cost_usd <= limit_usd
        return _result(ok, f"the call cost ${call.cost_usd:.6f}; at most ${limit_usd:.6f} allowed")

    return score


def latency(limit_ms: float) -> Scorer:
    """The call's latency was at most `limit_ms` milliseconds (unknown: an error)."""

    def score(output: str, call: CallFacts) -> ScoreResult:
        if call.latency_ms is None:
            return _error("the call's latency is unknown")
        ok = call.latency_ms <= limit_ms
        return _result(
            ok, f"the call took {call.latency_ms:.0f} ms; at most {limit_ms:.0f} ms allowed"
        )

    return score


def python_check(value: str, threshold: float | None, base_dir: Path | None) -> Scorer:
    """The user's python check (see `scorer_code`), run in a subprocess with a time limit."""
    check = scorer_code.parse_value(value, base_dir)
    if check.code:
        try:
            compile(check.code, "<python expectation>", "exec")
        except SyntaxError as exc:
            raise BadInput(f"python expectation has a syntax error: {exc.msg}") from None

    def score(output: str, call: CallFacts) -> ScoreResult:
        context = {"vars": dict(call.vars), "prompt": call.prompt, "model": call.model}
        try:
            result = scorer_code.run_check(check, output, context, scorer_code.PYTHON_TIME_LIMIT_S)
            passed, points, reason = scorer_code.verdict(result, threshold)
        except scorer_code.CodeError as exc:
            return _error(str(exc))
        return _result(passed, reason, points)

    return score


def llm_rubric(
    rubric: str, judge: JudgeFn, *, threshold: float = DEFAULT_RUBRIC_THRESHOLD
) -> Scorer:
    """A judge model scores the output 1–5 against `rubric`; passes at `threshold` or above."""

    def score(output: str, call: CallFacts) -> ScoreResult:
        verdict, reason = judge(rubric, output, call)
        if verdict is None:
            return ScoreResult(False, 0.0, f"no judge score: {reason}", error=True)
        ok = verdict >= threshold
        return _result(
            ok, f"the judge scored {verdict}/5 (pass at {threshold:g}): {reason}", (verdict - 1) / 4
        )

    return score


def _no_judge(rubric: str, output: str, call: CallFacts) -> JudgeVerdict:
    return None, "no judge is available here (an LLM judge needs a provider)"


def assert_set(members: list[tuple[Expectation, Scorer]], threshold: float | None) -> Scorer:
    """All members pass, or, with a `threshold`, their weighted mean score reaches it."""

    def score(output: str, call: CallFacts) -> ScoreResult:
        results = [(e, s(output, call)) for e, s in members]
        total = sum(e.weight for e, _ in results)
        mean = sum(r.score * e.weight for e, r in results) / total if total else 0.0
        failed = [r for _, r in results if not r.passed]
        if threshold is not None:
            ok = mean >= threshold
            sign = "≥" if ok else "<"
            return _result(ok, f"the set scored {mean:.2f} {sign} {threshold:g}", mean)
        if failed:
            return _result(
                False, f"{len(failed)} of {len(results)} failed: {failed[0].reason}", mean
            )
        return _result(True, f"all {len(results)} passed", mean)

    return score


def _negate(scorer: Scorer) -> Scorer:
    def score(output: str, call: CallFacts) -> ScoreResult:
        result = scorer(output, call)
        if result.error:
            return result
        return ScoreResult(not result.passed, float(not result.passed), f"not: {result.reason}")

    return score


# -- dispatch -------------------------------------------------------------------------------


def _number(expectation: Expectation, where: str, *, integer: bool = False) -> float:
    raw = expectation.threshold if expectation.threshold is not None else expectation.value
    if base_type(expectation.type) in ("min-length", "max-length"):
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
    expectation: Expectation,
    *,
    judge: JudgeFn | None = None,
    where: str | None = None,
    base_dir: Path | None = None,
) -> Scorer:
    """The scorer for one expectation; raises `BadInput` naming it when its value is unusable.

    :param judge: how `llm-rubric` gets a verdict; None builds one that always reports that
        no judge is available (enough for validating expectations)
    :param where: how to name the expectation in errors (default: `describe(expectation)`)
    :param base_dir: where relative ``file:function`` paths of `python` checks start
    """
    where = where or describe(expectation)
    if expectation.type in TOOL_EXPECTATION_TYPES:
        # Tool expectations are scored in their own module; not-tool-called is one of them
        # (its own scorer, not an inverted tool-called).
        from workbench.services.tool_scorers import build_tool_scorer  # it imports this module

        return build_tool_scorer(expectation, where)
    scorer = _build_base(expectation, judge, where, base_dir)
    return _negate(scorer) if expectation.type.startswith("not-") else scorer


def _build_base(
    expectation: Expectation, judge: JudgeFn | None, where: str, base_dir: Path | None
) -> Scorer:
    kind, value = base_type(expectation.type), expectation.value
    if kind == "equals":
        if value is None:
            raise BadInput(f"{where} needs a value to compare with")
        return equals(value)
    if kind in ("contains", "icontains"):
        return contains([_text(value, where)], ignore_case=kind == "icontains", mode="one")
    if kind in ("contains-any", "contains-all", "icontains-any", "icontains-all"):
        return contains(
            _texts(value, where), ignore_case=kind.startswith("i"), mode=kind.rsplit("-")[-1]
        )
    if kind == "starts-with":
        return starts_with(_text(value, where))
    if kind == "regex":
        return regex(_text(value, where), where=where)
    if kind == "is-json":
        return is_json(value, where=where)
    if kind == "contains-json":
        return contains_json(value, where=where)
    if kind == "is-valid-json-schema":
        if value is None:
            raise BadInput(f"{where} needs a JSON Schema as its value")
        return is_json(value, where=where)
    if kind in ("min-length", "max-length"):
        return length(int(_number(expectation, where, integer=True)), minimum=kind == "min-length")
    if kind == "levenshtein":
        threshold = expectation.threshold
        return levenshtein(
            _text(value, where), DEFAULT_LEVENSHTEIN_THRESHOLD if threshold is None else threshold
        )
    if kind == "word-count":
        return word_count(value, where)
    if kind == "is-refusal":
        return is_refusal()
    if kind == "finish-reason":
        return finish_reason(_text(value, where))
    if kind == "python":
        return python_check(_text(value, where), expectation.threshold, base_dir)
    if kind == "cost":
        return cost(_number(expectation, where))
    if kind == "latency":
        return latency(_number(expectation, where))
    if kind == "llm-rubric":
        return _rubric(expectation, judge, where)
    if kind == "assert-set":
        if not expectation.assert_:
            raise BadInput(
                f"{where} has no expectations", hint="List them under `assert:` (see docs)."
            )
        members = [
            (e, build_scorer(e, judge=judge, where=f"{where}, {describe(e, i)}", base_dir=base_dir))
            for i, e in enumerate(expectation.assert_ or [])
        ]
        return assert_set(members, expectation.threshold)
    raise BadInput(f"{where}: unknown expectation type '{kind}'")  # pragma: no cover


def _rubric(expectation: Expectation, judge: JudgeFn | None, where: str) -> Scorer:
    rubric = _text(expectation.value, where)
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


def rubric_expectations(expectations: list[Expectation]) -> list[Expectation]:
    """Every `llm-rubric` (or `not-llm-rubric`) expectation, those inside assert-sets too."""
    found: list[Expectation] = []
    for expectation in expectations:
        if base_type(expectation.type) == "llm-rubric":
            found.append(expectation)
        found.extend(rubric_expectations(expectation.assert_ or []))
    return found


def check_expectations(
    expectations: list[Expectation], *, where: str = "", base_dir: Path | None = None
) -> None:
    """Build every scorer once so a bad expectation is reported before anything runs."""
    prefix = f"{where}, " if where else ""
    for index, expectation in enumerate(expectations):
        build_scorer(expectation, where=prefix + describe(expectation, index), base_dir=base_dir)
