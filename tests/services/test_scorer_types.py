"""The expectation types promptfoo users reach for, each tested with cases from promptfoo's
documentation (promptfoo.dev/docs/configuration/expected-outputs/), plus the time limit every
evaluation has and the clear message for `javascript`."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from workbench.core.errors import WorkbenchError
from workbench.core.models import Example, Expectation, Message, Params, PromptContent
from workbench.inference import make_provider
from workbench.services import scorer_code, scorers
from workbench.services.evals import run_eval
from workbench.services.project_models import seed_defaults
from workbench.services.scorers import CallFacts, ScoreResult, build_scorer
from workbench.storage.project import Project

CALL = CallFacts(call_id=1, model="m", stop_reason="end_turn", latency_ms=900.0, cost_usd=0.01)


def verdict(raw: dict[str, Any], output: str, call: CallFacts = CALL) -> ScoreResult:
    return build_scorer(Expectation.model_validate(raw))(output, call)


@pytest.mark.parametrize(
    ("raw", "output", "passed"),
    [
        # contains-any / contains-all / icontains-any / icontains-all (docs: "Contains-Any")
        ({"type": "contains-any", "value": ["Hello", "Hi"]}, "Hi there!", True),
        ({"type": "contains-any", "value": ["Hello", "Hi"]}, "Good morning", False),
        ({"type": "contains-any", "value": "Hello, Hi"}, "Hi there", True),  # comma list
        ({"type": "contains-all", "value": ["Hello", "world"]}, "Hello, world!", True),
        ({"type": "contains-all", "value": ["Hello", "world"]}, "Hello there", False),
        ({"type": "icontains-any", "value": ["hello", "HI"]}, "hi THERE", True),
        ({"type": "icontains-all", "value": ["HELLO", "World"]}, "hello world", True),
        ({"type": "icontains-all", "value": ["HELLO", "moon"]}, "hello world", False),
        # starts-with and not-starts-with
        ({"type": "starts-with", "value": "Yes"}, "Yes, I can help.", True),
        ({"type": "not-starts-with", "value": "Sorry"}, "Sorry, no.", False),
        # not- on the older types
        ({"type": "not-equals", "value": "Paris"}, "London", True),
        ({"type": "not-is-json"}, "plain words", True),
        ({"type": "not-is-json"}, '{"a": 1}', False),
        # levenshtein (docs: value 'hello world', threshold 5)
        ({"type": "levenshtein", "value": "hello world", "threshold": 5}, "hallo world", True),
        ({"type": "levenshtein", "value": "hello world", "threshold": 5}, "goodbye moon", False),
        ({"type": "levenshtein", "value": "kitten"}, "sitting", True),  # default threshold 5
        # word-count (docs: exact 50, a range, min only, max only)
        ({"type": "word-count", "value": 3}, "one two three", True),
        ({"type": "word-count", "value": {"min": 2, "max": 4}}, "one two three", True),
        ({"type": "word-count", "value": {"min": 5}}, "one two three", False),
        ({"type": "word-count", "value": {"max": 2}}, "one two three", False),
        # is-refusal (an empty answer counts as one)
        ({"type": "is-refusal"}, "I cannot help with that request.", True),
        ({"type": "is-refusal"}, "As an AI, I must decline.", True),
        ({"type": "is-refusal"}, "", True),
        ({"type": "is-refusal"}, "Here is the summary you asked for.", False),
        ({"type": "not-is-refusal"}, "Here is the summary you asked for.", True),
        # python: an expression over output and context, several lines, a number, a dict
        ({"type": "python", "value": "output.lower().count('positive') > 0"}, "Positive!", True),
        ({"type": "python", "value": "'bananas' in output"}, "apples", False),
        ({"type": "python", "value": "len(context['vars']['q']) == 3"}, "x", True),
        ({"type": "python", "value": "x = output.split()\nreturn len(x) >= 2"}, "a b", True),
        ({"type": "python", "value": "0.4", "threshold": 0.5}, "x", False),
        ({"type": "python", "value": "0.4"}, "x", True),  # a score above 0 passes
        ({"type": "python", "value": "{'pass': False, 'score': 0, 'reason': 'no'}"}, "x", False),
        # assert-set (docs: threshold 0.5 over its assertions)
        (
            {
                "type": "assert-set",
                "threshold": 0.5,
                "assert": [
                    {"type": "contains", "value": "hello"},
                    {"type": "contains", "value": "world"},
                ],
            },
            "hello there",
            True,
        ),
        (
            {
                "type": "assert-set",
                "assert": [{"type": "contains", "value": "a"}, {"type": "is-json"}],
            },
            "a",
            False,
        ),
    ],
)
def test_promptfoo_documented_cases(raw: dict[str, Any], output: str, passed: bool) -> None:
    result = verdict(raw, output, CallFacts(vars={"q": "abc"}, stop_reason="end_turn"))
    assert result.passed is passed, result.reason
    assert not result.error and result.reason


def test_finish_reason_uses_promptfoo_s_names() -> None:
    assert verdict({"type": "finish-reason", "value": "stop"}, "x").passed
    truncated = CallFacts(stop_reason="max_tokens")
    assert verdict({"type": "finish-reason", "value": "length"}, "x", truncated).passed
    assert verdict({"type": "not-finish-reason", "value": "length"}, "x").passed
    unknown = verdict({"type": "finish-reason", "value": "stop"}, "x", CallFacts())
    assert not unknown.passed and "no stop reason" in unknown.reason


def test_python_file_function(tmp_path: Path) -> None:
    (tmp_path / "checks.py").write_text(
        "def is_polite(output, context):\n"
        "    return {'pass': 'please' in output, 'score': 1.0, 'reason': 'looked for please'}\n",
        encoding="utf-8",
    )
    raw = Expectation(type="python", value="checks.py:is_polite")
    scorer = build_scorer(raw, base_dir=tmp_path)
    assert scorer("yes please", CALL).passed
    assert not scorer("no", CALL).passed
    prefixed = build_scorer(
        Expectation(type="python", value="file://checks.py:is_polite"), base_dir=tmp_path
    )
    assert prefixed("please", CALL).reason == "looked for please"


def test_python_errors_are_error_verdicts_that_not_cannot_flip() -> None:
    broken = verdict({"type": "python", "value": "1 / 0"}, "x")
    assert broken.error and not broken.passed and "ZeroDivisionError" in broken.reason
    assert not verdict({"type": "not-python", "value": "1 / 0"}, "x").passed
    assert verdict({"type": "python", "value": "'abc'"}, "x").error  # not a bool, number or dict


def test_a_hanging_python_check_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scorer_code, "PYTHON_TIME_LIMIT_S", 1.0)
    result = verdict({"type": "python", "value": "__import__('time').sleep(30)"}, "x")
    assert result.error and not result.passed and "longer than 1 s" in result.reason


def test_a_catastrophic_regex_ends_as_an_error_verdict_naming_the_expectation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scorers, "TIME_LIMIT_S", 0.3)
    with Project.create(tmp_path / "r.pwb", "r") as project:
        seed_defaults(project)
        project.prompts.create("echo")
        project.prompts.save_version(
            "echo",
            PromptContent(
                messages=[Message(role="user", content="{{text}}")],
                params=Params(model="claude-haiku-5-5", max_tokens=8000),
            ),
        )
        project.datasets.create("d")
        expect = [
            Expectation(type="regex", value="(a+)+$"),
            Expectation(type="contains", value="a"),
        ]
        project.datasets.add_examples(
            "d", [Example(vars={"text": "a" * 5000 + "!"}, expect=expect)]
        )
        report = asyncio.run(
            run_eval(project, dataset="d", prompts=["echo"], provider=make_provider("echo"))
        )
    (case,) = report.cases
    regex_row, contains_row = case.results
    assert not regex_row.passed and not case.passed
    assert regex_row.reason.startswith("expectation 1 (regex '(a+)+$'): error:")
    assert "stopped" in regex_row.reason
    assert contains_row.passed  # the other expectations are still scored


def test_javascript_is_refused_when_the_bundle_loads(tmp_path: Path) -> None:
    from workbench.formats.bundle_yaml import load_bundle

    bundle = tmp_path / "b.yaml"
    bundle.write_text(
        "workbench: 1\nname: b\ndatasets:\n  - name: d\n    examples:\n"
        "      - vars: {q: x}\n        expect:\n          - type: javascript\n"
        "            value: output.length > 3\n",
        encoding="utf-8",
    )
    with pytest.raises(WorkbenchError) as info:
        load_bundle(bundle)
    message = str(info.value)
    assert "javascript" in message and "Node" in message and "python" in message


def test_schema_patterns_match_as_javascript_within_a_time_limit() -> None:
    digits = {"type": "object", "properties": {"a": {"type": "string", "pattern": "^\\d+$"}}}
    assert verdict({"type": "is-json", "value": digits}, '{"a": "12"}').passed
    assert not verdict({"type": "is-json", "value": digits}, '{"a": "\u0663"}').passed
    slow = {"type": "object", "properties": {"a": {"type": "string", "pattern": "(a+)+$"}}}
    result = verdict({"type": "is-json", "value": slow}, '{"a": "' + "a" * 5000 + '!"}')
    assert not result.passed and "time limit" in result.reason
