"""The verdict-parity eval set: fixed outputs and expectations covering every type that carries
a promptfoo name (and the workbench's own types, through their promptfoo equivalents).

Each case is one example whose output the fake server returns verbatim (its scripted-reply
marker), so `workbench eval` and `promptfoo eval` score the very same text. The bundle built
from these cases is what `bench/promptfoo_parity.py` runs through promptfoo to make the table
tests/services/data/promptfoo_parity.json, and what test_promptfoo_parity.py runs through the
workbench. llm-rubric is left out: its verdict is the judge model's, not a rule's.
"""

from __future__ import annotations

from typing import Any

import yaml

from workbench.testing.fake_text import scripted_reply_marker

MODEL = "claude-haiku-4-5"  # a model promptfoo has a price for, so `cost` is defined in both
LATENCY_MS = 60  # the fake server's time per call: `latency` below 10 ms fails in both

Case = tuple[str, str, list[dict[str, Any]]]


def _e(kind: str, value: Any = None, **more: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": kind}
    if value is not None:
        out["value"] = value
    out.update(more)
    return out


SCHEMA_FORMATS = {
    "type": "object",
    "required": ["email", "day"],
    "properties": {
        "email": {"type": "string", "format": "email"},
        "day": {"type": "string", "format": "date"},
    },
}
SCHEMA_ANSWER = {"type": "object", "required": ["answer"]}

CASES: list[Case] = [
    (
        "equals-text",
        "Paris",
        [_e("equals", "Paris"), _e("not-equals", "Paris"), _e("equals", "paris")],
    ),
    ("equals-number", "3", [_e("equals", 3), _e("not-equals", 4)]),
    ("equals-bool", "true", [_e("equals", True)]),
    ("equals-empty", "", [_e("equals", ""), _e("is-json"), _e("is-refusal")]),
    (
        "json-plain",
        '{"b": 2, "a": 1}',
        [
            _e("equals", {"a": 1, "b": 2}),
            _e("not-equals", {"a": 1}),
            _e("is-json"),
            _e("not-is-json"),
        ],
    ),
    ("json-padded", '  {"a": 1}\n', [_e("is-json"), _e("equals", {"a": 1})]),
    ("json-nan", '{"a": NaN}', [_e("is-json"), _e("contains-json")]),
    (
        "json-fenced",
        '```json\n{"a": 1}\n```',
        [
            _e("equals", {"a": 1}),
            _e("is-json"),
            _e("contains-json"),
            _e("is-valid-json-schema", {"type": "object"}),
            _e("not-is-valid-json-schema", {"type": "object"}),
        ],
    ),
    (
        "json-array",
        "Result: [1, 2, 3]",
        [_e("contains-json"), _e("not-contains-json"), _e("is-json")],
    ),
    (
        "json-second-object",
        'first {"x": 1} then {"answer": "yes"}',
        [_e("contains-json", SCHEMA_ANSWER), _e("not-contains-json", SCHEMA_ANSWER)],
    ),
    ("json-yaml-flow", "here {a: 1, b: two}", [_e("contains-json"), _e("is-json")]),
    (
        "json-comment",
        '{"a": 1, // note\n"b": 2}',
        [_e("contains-json", {"type": "object", "required": ["b"]})],
    ),
    (
        "json-truncated",
        'Sure: {"answer": "yes"',
        [_e("contains-json", SCHEMA_ANSWER), _e("is-json")],
    ),
    ("json-brace-only", "no json { here", [_e("contains-json")]),
    (
        "schema-formats-bad",
        '{"email": "not-an-email", "day": "2026-02-30"}',
        [
            _e("is-json", SCHEMA_FORMATS),
            _e("is-json", {"type": "object"}),
            _e("not-is-json", SCHEMA_FORMATS),
        ],
    ),
    (
        "schema-formats-ok",
        '{"email": "ann@example.com", "day": "2028-02-29"}',
        [_e("is-json", SCHEMA_FORMATS)],
    ),
    (
        "arabic-digits",
        "رقم ٣٤٥",
        [_e("regex", r"\d+"), _e("not-regex", r"\d"), _e("regex", "[٠-٩]+")],
    ),
    (
        "trailing-newline",
        "42\n",
        [
            _e("regex", r"^\d+$"),
            _e("regex", r"^\d+\s*$"),
            _e("equals", "42"),
            _e("starts-with", "42"),
        ],
    ),
    ("regex-dot-cr", "a\rb", [_e("regex", "a.b"), _e("regex", r"a\sb")]),
    ("regex-word", "café", [_e("regex", r"^\w+$"), _e("regex", r"\bcaf")]),
    ("regex-nbsp", "a\u00a0b", [_e("regex", r"a\sb"), _e("not-regex", r"\S\s\S")]),
    ("regex-named", "2026-2026", [_e("regex", r"(?<y>\d{4})-\k<y>")]),
    (
        "utf16-length",
        "🙂🙂🙂",
        [
            _e("max-length", 3),
            _e("max-length", 6),
            _e("min-length", 6),
            _e("not-min-length", 7),
            _e("not-max-length", 5),
        ],
    ),
    (
        "case-folding",
        "WEISSE STRASSE",
        [_e("icontains", "straße"), _e("icontains", "weisse"), _e("not-icontains", "straße")],
    ),
    ("dotted-i", "İSTANBUL", [_e("icontains", "istanbul"), _e("icontains", "STANBUL")]),
    ("nfc", "cafe\u0301", [_e("contains", "café"), _e("equals", "cafe\u0301")]),
    (
        "template-braces",
        "Use {{name}} here",
        [
            _e("contains", "{{name}}"),
            _e("equals", "Use {{name}} here"),
            _e("not-contains", "{{"),
            _e("contains-any", ["{{name}}", "absent"]),
        ],
    ),
    (
        "any-all",
        "Refunds take 30 days",
        [
            _e("contains-any", ["refund", "30 days"]),
            _e("contains-any", ["money", "weeks"]),
            _e("contains-all", ["Refunds", "days"]),
            _e("contains-all", ["Refunds", "weeks"]),
            _e("icontains-any", ["REFUND", "money"]),
            _e("icontains-all", ["refunds", "DAYS"]),
            _e("icontains-all", ["refunds", "WEEKS"]),
            _e("not-contains-any", ["weeks", "months"]),
            _e("not-contains-all", ["Refunds", "days"]),
            _e("not-icontains-any", ["REFUNDS"]),
            _e("not-icontains-all", ["refunds", "WEEKS"]),
            _e("contains-any", "money, 30 days"),
        ],
    ),
    (
        "starts",
        "  Yes, you can.",
        [_e("starts-with", "Yes"), _e("not-starts-with", "Yes"), _e("starts-with", "  Yes")],
    ),
    (
        "levenshtein",
        "kitten",
        [
            _e("levenshtein", "sitting"),
            _e("levenshtein", "sitting", threshold=2),
            _e("not-levenshtein", "sitting", threshold=2),
            _e("levenshtein", "🙂kitten", threshold=1),
        ],
    ),
    (
        "word-count",
        " one two  three\nfour\u3000five ",
        [
            _e("word-count", 5),
            _e("word-count", {"min": 6}),
            _e("word-count", {"max": 5}),
            _e("word-count", {"min": 1, "max": 3}),
            _e("not-word-count", 5),
        ],
    ),
    ("refusal", "I'm sorry, but I can't help with that.", [_e("is-refusal"), _e("not-is-refusal")]),
    ("refusal-curly", "I can\u2019t assist with that request.", [_e("is-refusal")]),
    (
        "not-refusal",
        "Sure, here is the recipe you asked for.",
        [_e("is-refusal"), _e("not-is-refusal")],
    ),
    (
        "finish-reason",
        "A complete answer.",
        [
            _e("finish-reason", "stop"),
            _e("finish-reason", "length"),
            _e("not-finish-reason", "length"),
        ],
    ),
    (
        "python",
        "The answer is 42",
        [
            _e("python", "'42' in output"),
            _e("python", "len(output) > 100"),
            _e("python", "len(output) / 100"),
            _e("python", "len(output) / 100", threshold=0.5),
            _e("python", "{'pass': True, 'score': 1, 'reason': 'ok'}"),
            _e("not-python", "'42' in output"),
            _e("python", "words = output.split()\nreturn len(words) == 4"),
            _e("python", "1 / 0"),
        ],
    ),
    (
        "cost-latency",
        "Short.",
        [
            _e("cost", threshold=1.0),
            _e("cost", threshold=1e-9),
            _e("not-cost", threshold=1e-9),
            _e("latency", threshold=60_000),
            _e("latency", threshold=10),
            _e("not-latency", threshold=10),
        ],
    ),
    (
        "assert-set-all",
        "The answer is 42",
        [_e("assert-set", assert_=[_e("contains", "42"), _e("contains", "nope")])],
    ),
    (
        "assert-set-threshold",
        "The answer is 42",
        [_e("assert-set", threshold=0.5, assert_=[_e("contains", "42"), _e("contains", "nope")])],
    ),
]


def _expectation(raw: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in raw.items() if k != "assert_"}
    if "assert_" in raw:
        out["assert"] = [_expectation(e) for e in raw["assert_"]]
    return out


def bundle_text() -> str:
    """The parity bundle: one prompt echoing the case's scripted reply, one dataset of CASES."""
    bundle = {
        "workbench": 1,
        "name": "promptfoo-parity",
        "prompts": [
            {
                "name": "reply",
                "versions": [
                    {
                        "version": 1,
                        "messages": [{"role": "user", "content": "{{reply}}"}],
                        "params": {"model": MODEL, "max_tokens": 200},
                    }
                ],
            }
        ],
        "datasets": [
            {
                "name": "parity",
                "examples": [
                    {
                        "vars": {"id": name, "reply": scripted_reply_marker(output)},
                        "expect": [_expectation(e) for e in expectations],
                    }
                    for name, output, expectations in CASES
                ],
            }
        ],
    }
    return yaml.safe_dump(bundle, sort_keys=False, allow_unicode=True)
