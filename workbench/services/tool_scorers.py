"""Expectations on tool calls and structured output.

Names follow promptfoo where it has one: ``tool-call-f1`` (F1 of the tool names called against
the expected ones). promptfoo's ``is-valid-openai-tools-call`` checks OpenAI-format calls; ours,
``is-valid-tools-call``, checks Anthropic ``tool_use`` arguments against the version's tools.
The others have no promptfoo counterpart and are named in its style (docs/eval-formats.md):

* ``tool-called`` (value: a tool name): that tool was called;
* ``not-tool-called`` (value: a tool name, or none): that tool, or any tool, was not called;
* ``tool-args-contain`` / ``tool-args-equal`` (value: ``{tool_name: {arg: value}}``): a call to
  that tool has arguments containing / equal to the given ones (nested mappings by subset);
* ``is-valid-tools-call``: at least one call, every call names a defined tool, and its arguments
  follow that tool's input_schema;
* ``is-valid-output-schema``: the output is JSON following the version's output schema.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator

from workbench.core.errors import BadInput
from workbench.core.models import Expectation, PromptContent
from workbench.services.scorers import CallFacts, Scorer, ScoreResult, quote

DEFAULT_F1_THRESHOLD = 1.0


def _result(passed: bool, reason: str, score: float | None = None) -> ScoreResult:
    return ScoreResult(passed, float(passed) if score is None else score, reason)


def _names(call: CallFacts) -> list[str]:
    return [str(c.get("name")) for c in call.tool_calls]


def _called_text(call: CallFacts) -> str:
    names = _names(call)
    return f"called {', '.join(names)}" if names else "called no tool"


def tool_called(name: str) -> Scorer:
    def score(output: str, call: CallFacts) -> ScoreResult:
        passed = name in _names(call)
        return _result(passed, f"{name} was called" if passed else _called_text(call))

    return score


def not_tool_called(name: str | None) -> Scorer:
    def score(output: str, call: CallFacts) -> ScoreResult:
        names = _names(call)
        passed = (name not in names) if name else not names
        if passed:
            return _result(True, f"{name} was not called" if name else "no tool was called")
        return _result(False, _called_text(call))

    return score


def contains_subset(actual: Any, expected: Any) -> bool:
    """Whether `expected` is a subset of `actual`: mappings by key (recursively), else equal."""
    if isinstance(expected, Mapping):
        return isinstance(actual, Mapping) and all(
            key in actual and contains_subset(actual[key], value) for key, value in expected.items()
        )
    return bool(actual == expected)


def tool_args(expected: Mapping[str, Any], *, exact: bool) -> Scorer:
    def score(output: str, call: CallFacts) -> ScoreResult:
        for name, wanted in expected.items():
            inputs = [c.get("input") for c in call.tool_calls if c.get("name") == name]
            if not inputs:
                return _result(False, f"{name} was not called ({_called_text(call)})")
            matched = any((a == wanted) if exact else contains_subset(a, wanted) for a in inputs)
            if not matched:
                shown = quote(json.dumps(inputs[0], ensure_ascii=False, sort_keys=True))
                verb = "equal" if exact else "contain"
                want = quote(json.dumps(wanted, ensure_ascii=False, sort_keys=True))
                return _result(False, f"{name} arguments {shown} do not {verb} {want}")
        return _result(True, "the arguments match")

    return score


def valid_tools_call(output: str, call: CallFacts) -> ScoreResult:
    """Every call names a defined tool whose input_schema its arguments follow."""
    if not call.tool_calls:
        return _result(False, "no tool was called")
    for tool_call in call.tool_calls:
        name = str(tool_call.get("name"))
        tool = call.tools.get(name)
        if tool is None:
            return _result(False, f"{name} is not one of the version's tools")
        error = _first_error(tool_call.get("input"), tool.get("input_schema") or {})
        if error:
            return _result(False, f"{name} arguments: {error}")
    return _result(True, f"{len(call.tool_calls)} tool call(s) follow their schemas")


def _first_error(value: Any, schema: Mapping[str, Any]) -> str | None:
    errors = sorted(Draft202012Validator(schema).iter_errors(value), key=lambda e: list(e.path))
    if not errors:
        return None
    first = errors[0]
    where = "/".join(str(p) for p in first.absolute_path) or "(root)"
    return f"at '{where}': {first.message}"


def tool_call_f1(expected: list[str], threshold: float) -> Scorer:
    """promptfoo's tool-call-f1: F1 of the set of tool names called against `expected`."""
    wanted = set(expected)

    def score(output: str, call: CallFacts) -> ScoreResult:
        called = set(_names(call))
        hits = len(called & wanted)
        precision = hits / len(called) if called else 0.0
        recall = hits / len(wanted) if wanted else 0.0
        f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
        if not called and not wanted:
            f1 = 1.0
        reason = f"F1 {f1:.2f} (threshold {threshold:g}): {_called_text(call)}"
        return _result(f1 >= threshold, reason, f1)

    return score


def valid_output_schema(output: str, call: CallFacts) -> ScoreResult:
    if call.output_schema is None:
        return _result(False, "the version has no output schema")
    try:
        value = json.loads(output)
    except json.JSONDecodeError as exc:
        return _result(False, f"the output is not JSON ({exc.msg} at character {exc.pos})")
    error = _first_error(value, call.output_schema)
    return _result(error is None, error or "the output follows the output schema")


def build_tool_scorer(expectation: Expectation, where: str) -> Scorer:
    """The scorer for a tool or output-schema expectation; `BadInput` on an unusable value."""
    kind, value = expectation.type, expectation.value
    if kind == "tool-called":
        if not isinstance(value, str) or not value:
            raise BadInput(f"{where} needs the tool name as its value")
        return tool_called(value)
    if kind == "not-tool-called":
        if value is not None and not isinstance(value, str):
            raise BadInput(f"{where} takes a tool name, or no value for 'no tool at all'")
        return not_tool_called(value or None)
    if kind in ("tool-args-contain", "tool-args-equal"):
        if not isinstance(value, dict) or not value:
            raise BadInput(
                f"{where} needs a mapping of tool name to arguments",
                hint="e.g. value: {lookup_order: {order_id: A-1042}}",
            )
        for name, args in value.items():
            if not isinstance(args, dict):
                raise BadInput(f"{where}: the arguments of '{name}' must be a mapping")
        return tool_args(value, exact=kind == "tool-args-equal")
    if kind == "is-valid-tools-call":
        return valid_tools_call
    if kind == "tool-call-f1":
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise BadInput(f"{where} needs the expected tool name(s) as its value")
        threshold = DEFAULT_F1_THRESHOLD if expectation.threshold is None else expectation.threshold
        if not 0 <= threshold <= 1:
            raise BadInput(f"{where} has threshold {threshold:g}; F1 runs from 0 to 1")
        return tool_call_f1(names, threshold)
    if kind == "is-valid-output-schema":
        return valid_output_schema
    raise BadInput(f"{where}: unknown expectation type '{kind}'")  # pragma: no cover


def tool_facts(details: Mapping[str, Any] | None, content: PromptContent | None) -> dict[str, Any]:
    """The `CallFacts` fields tool expectations read: the call's tool calls, the version's
    tools and output schema."""
    return {
        "tool_calls": tuple((details or {}).get("tool_calls") or ()),
        "tools": {t.name: t.model_dump(mode="json") for t in content.tools} if content else {},
        "output_schema": content.output_schema if content else None,
    }
