"""Every scorer: pass and fail, JavaScript text rules, huge outputs, and clear errors for bad
expectations. (The types added for promptfoo's assertions: test_scorer_types.py; the verdicts
against promptfoo itself: test_promptfoo_parity.py.)"""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.core.errors import BadInput
from workbench.core.models import EXPECTATION_TYPES, Expectation
from workbench.services.scorers import (
    CallFacts,
    ScoreResult,
    build_scorer,
    check_expectations,
    describe,
)

CALL = CallFacts(call_id=1, model="m", input="q", latency_ms=1200.0, cost_usd=0.002)


def score(
    kind: str, output: str, value: Any = None, call: CallFacts = CALL, **kw: Any
) -> ScoreResult:
    return build_scorer(Expectation(type=kind, value=value, **kw))(output, call)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "value", "good", "bad"),
    [
        ("equals", "Paris", "Paris", "Paris."),
        ("contains", "venv", "use a venv here", "use a VENV here"),
        ("icontains", "venv", "use a VENV here", "use conda"),
        ("not-contains", "secret", "nothing here", "the secret is"),
        ("not-icontains", "secret", "nothing here", "the SECRET is"),
        ("starts-with", "Yes", "Yes, you can.", " Yes, you can."),
        ("regex", r"\b30 days\b", "within 30 days.", "within 300 days."),
        ("not-regex", r"\d{3}-\d{4}", "no phone", "call 555-0142"),
        ("min-length", 5, "12345", "1234"),
        ("max-length", 5, "12345", "123456"),
        ("is-json", None, '{"a": 1}', "{'a': 1}"),
        ("contains-json", None, 'Here: {"a": [1, 2]} done', "no json [1, 2] here"),
    ],
)
def test_each_text_scorer_passes_and_fails(kind: str, value: Any, good: str, bad: str) -> None:
    assert score(kind, good, value).passed, score(kind, good, value).reason
    result = score(kind, bad, value)
    assert not result.passed and result.score == 0.0 and result.reason


def test_every_expectation_type_has_a_scorer() -> None:
    values = {
        "is-valid-json-schema": {"type": "object"},
        "llm-rubric": "polite",
        "cost": 1,
        "latency": 1,
        "min-length": 1,
        "max-length": 1,
        "is-json": None,
        "contains-json": None,
        "contains-any": ["x", "y"],
        "contains-all": ["x", "y"],
        "icontains-any": ["x", "y"],
        "icontains-all": ["x", "y"],
        "word-count": 1,
        "is-refusal": None,
        "finish-reason": "stop",
        "python": "len(output) > 0",
        "levenshtein": "x",
        "tool-args-contain": {"x": {}},
        "tool-args-equal": {"x": {}},
    }
    for kind in EXPECTATION_TYPES:
        base = kind.removeprefix("not-")
        extra: dict[str, Any] = {}
        if kind == "assert-set":
            extra = {"assert": [{"type": "contains", "value": "x"}]}
        expectation = Expectation.model_validate(
            {"type": kind, "value": values.get(base, "x"), **extra}
        )
        assert isinstance(build_scorer(expectation)("x", CALL), ScoreResult)


def test_equals_with_a_json_value_compares_parsed_json() -> None:
    assert score("equals", '{"b": 2, "a": 1}', {"a": 1, "b": 2}).passed
    assert not score("equals", '{"a": 2}', {"a": 1}).passed
    assert "not JSON" in score("equals", "nope", {"a": 1}).reason
    assert "character 6" in score("equals", "Paris!", "Paris").reason


def test_json_schema_validation_reports_the_failing_path() -> None:
    schema = {
        "type": "object",
        "required": ["answer"],
        "properties": {"answer": {"type": "string"}},
    }
    assert score("is-valid-json-schema", '{"answer": "yes"}', schema).passed
    # As promptfoo's is-json: JSON.parse of the whole output, so a code fence is not JSON.
    assert not score("is-valid-json-schema", '```json\n{"answer": "yes"}\n```', schema).passed
    bad = score("is-valid-json-schema", '{"answer": 3}', schema)
    assert not bad.passed and "answer" in bad.reason
    assert not score("is-valid-json-schema", "not json", schema).passed
    assert score("contains-json", 'Sure! {"answer": "x"} hope that helps', schema).passed
    assert score("is-json", '{"answer": "x"}', schema).passed


def test_text_rules_are_javascript_s() -> None:
    # promptfoo compares with toLowerCase and ===: no case folding, no NFC.
    assert not score("icontains", "WEISSE STRASSE", "straße").passed
    assert score("icontains", "ÄPFEL", "äpfel").passed
    assert not score("contains", "caf\u0065\u0301", "café").passed  # NFD output, NFC value
    assert score("equals", "Ἀθῆναι", "Ἀθῆναι").passed
    assert not score("max-length", "🙂" * 5, 5).passed  # UTF-16 units: each emoji is 2
    assert score("max-length", "🙂" * 5, 10).passed
    assert not score("regex", "naïve café", r"caf\w").passed  # \w is ASCII in JavaScript
    assert not score("regex", "\u0663", r"\d").passed  # so is \d
    assert not score("regex", "12\n", r"^\d+$").passed  # $ is the very end
    assert score("not-icontains", "日本語のテキスト", "english").passed
    assert score("equals", "true", True).passed and score("equals", "3", 3.0).passed


def test_huge_outputs_are_scored_quickly() -> None:
    huge = ("lorem ipsum { dolor [ sit } amet " * 200_000) + '{"done": true}'  # ~6.6 MB
    started = time.perf_counter()
    assert score("contains", huge, '"done"').passed
    assert score("not-icontains", huge, "needle").passed
    assert score("regex", huge, r"done\W+true").passed
    assert not score("is-json", huge).passed
    assert not score("max-length", huge, 1000).passed
    # Every "{" starts a candidate, as in promptfoo; the time limit bounds the search.
    result = score("contains-json", huge)
    assert result.passed or result.error
    assert time.perf_counter() - started < 20


def test_invalid_regex_is_a_clear_bad_input_naming_the_expectation() -> None:
    with pytest.raises(BadInput) as info:
        build_scorer(Expectation(type="regex", value="(unclosed"))
    message = str(info.value)
    assert "regex" in message and "(unclosed" in message and "invalid regular expression" in message


def test_invalid_schema_and_values_are_clear_errors() -> None:
    cases = [
        Expectation(type="is-valid-json-schema", value={"type": "no-such-type"}),
        Expectation(type="is-valid-json-schema", value=None),
        Expectation(type="is-json", value="not a schema"),
        Expectation(type="min-length", value="ten"),
        Expectation(type="max-length", value=2.5),
        Expectation(type="contains", value=None),
        Expectation(type="cost", value=-1),
        Expectation(type="llm-rubric", value="polite", threshold=7),
        Expectation(type="equals", value=None),
    ]
    for expectation in cases:
        with pytest.raises(BadInput) as info:
            build_scorer(expectation)
        assert expectation.type in str(info.value), str(info.value)


def test_check_expectations_names_the_position() -> None:
    expectations = [Expectation(type="contains", value="a"), Expectation(type="regex", value="[")]
    with pytest.raises(BadInput, match=r"example 3, expectation 2 \(regex"):
        check_expectations(expectations, where="example 3")


def test_cost_and_latency_use_the_threshold() -> None:
    assert score("cost", "", threshold=0.01).passed
    assert not score("cost", "", threshold=0.001).passed
    unknown = score("cost", "", threshold=1.0, call=CallFacts(cost_usd=None))
    assert not unknown.passed and unknown.error and "unknown" in unknown.reason  # never $0
    assert not score("not-cost", "", threshold=1.0, call=CallFacts(cost_usd=None)).passed
    assert score("latency", "", threshold=2000).passed
    assert not score("latency", "", value=1000).passed
    assert "1200 ms" in score("latency", "", value=1000).reason


def test_llm_rubric_uses_the_judge_and_its_threshold() -> None:
    seen: list[tuple[str, str]] = []

    def judge(rubric: str, output: str, call: CallFacts) -> tuple[int | None, str]:
        seen.append((rubric, output))
        return {"great": 5, "meh": 3}.get(output), f"judged {output}"

    rubric = Expectation(type="llm-rubric", value="Is friendly")
    assert build_scorer(rubric, judge=judge)("great", CALL).passed
    meh = build_scorer(rubric, judge=judge)("meh", CALL)
    assert not meh.passed and meh.score == 0.5 and "3/5" in meh.reason
    lenient = Expectation(type="llm-rubric", value="Is friendly", threshold=3)
    assert build_scorer(lenient, judge=judge)("meh", CALL).passed
    none = build_scorer(rubric, judge=judge)("???", CALL)
    assert not none.passed and "no judge score" in none.reason
    assert seen[0] == ("Is friendly", "great")
    assert "no judge" in build_scorer(rubric)("x", CALL).reason  # validation-only scorer


def test_describe_names_type_and_value() -> None:
    assert (
        describe(Expectation(type="icontains", value="venv"), 1)
        == "expectation 2 (icontains 'venv')"
    )
    assert "0.5" in describe(Expectation(type="cost", threshold=0.5))


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=40), st.text(min_size=1, max_size=10), st.text(max_size=40))
def test_contains_finds_any_inserted_text(before: str, needle: str, after: str) -> None:
    output = before + needle + after
    assert score("contains", output, needle).passed
    assert not score("not-contains", output, needle).passed
    for kind in ("icontains", "regex", "starts-with", "is-json", "contains-json"):
        value = {"regex": "x", "is-json": None, "contains-json": None}.get(kind, needle)
        score(kind, output, value)  # never raises on any text
