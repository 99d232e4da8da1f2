"""The stdlib production loader: loading, rendering, rollout decisions and log lines."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from workbench.core.errors import MissingVariables as CoreMissingVariables
from workbench.core.templates import render as core_render
from workbench.runtime import (
    FORMAT,
    MissingVariables,
    Registry,
    RegistryError,
    extract_variables,
    feedback_record,
    render_template,
    rollout_bucket,
)

HASH = "ab" * 32


def _entry(**overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "version": 3,
        "version_id": f"support-answer@v3#{HASH[:12]}",
        "content_hash": HASH,
        "label": "production",
        "model": "claude-haiku-4-5",
        "params": {"max_tokens": 300, "temperature": 0.2, "stop_sequences": ["END"]},
        "cache": {"system": False, "prefix_messages": 0},
        "system": "You answer for {{ company }}.",
        "messages": [
            {"role": "user", "content": "Q: {{question}}"},
            {"role": "assistant", "content": "A:"},
        ],
        "variables": ["company", "question"],
        "feature_flag": {"enabled": True, "staff_only": False, "rollout_percent": 100},
        "kill_switch": False,
        "alerts": {
            "p95_latency_s": 10.0,
            "error_rate": 0.02,
            "cost_per_user_per_day_usd": 1.0,
            "eval_pass_rate_drop": 0.05,
            "thumbs_down_rate": 0.1,
        },
    }
    entry.update(overrides)
    return entry


def _export(**prompts: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "format_version": 1,
        "exported_at": "2026-01-01T00:00:00Z",
        "project": "demo",
        "workbench_version": "0.1.0",
        "label": "production",
        "skipped": [],
        "prompts": prompts or {"support-answer": _entry()},
    }


def _flagged(*, enabled: bool = True, staff_only: bool = False, percent: float = 0) -> Registry:
    flag = {"enabled": enabled, "staff_only": staff_only, "rollout_percent": percent}
    return Registry(_export(feat=_entry(feature_flag=flag)))


# --- rendering -------------------------------------------------------------------------------


def test_render_substitutes_variables_and_carries_the_version_id() -> None:
    rendered = Registry(_export()).render("support-answer", company="ACME", question="hi?")
    assert rendered.system == "You answer for ACME."
    assert rendered.messages == [
        {"role": "user", "content": "Q: hi?"},
        {"role": "assistant", "content": "A:"},
    ]
    assert rendered.version_id == f"support-answer@v3#{HASH[:12]}"
    assert rendered.content_hash == HASH
    assert rendered.model == "claude-haiku-4-5"
    assert rendered.params["max_tokens"] == 300


def test_missing_variables_are_all_named_in_one_error() -> None:
    with pytest.raises(MissingVariables) as err:
        Registry(_export()).render("support-answer", question="x")
    assert err.value.missing == ["company"]
    assert "support-answer" in str(err.value) and "company" in str(err.value)
    with pytest.raises(MissingVariables) as err:
        Registry(_export()).render("support-answer")
    assert err.value.missing == ["company", "question"]


def test_values_may_come_as_a_mapping_even_with_names_that_are_not_identifiers() -> None:
    entry = _entry(
        system="", messages=[{"role": "user", "content": "{{name}} {{user.first-name}}"}]
    )
    registry = Registry(_export(p=entry))
    rendered = registry.render("p", {"user.first-name": "Ada"}, name="N")
    assert rendered.messages[0]["content"] == "N Ada"
    assert registry.variables("p") == ["name", "user.first-name"]


def test_values_are_inserted_once_never_expanded_and_escapes_write_braces() -> None:
    entry = _entry(messages=[{"role": "user", "content": r"\{{question}} {{question}}"}])
    rendered = Registry(_export(p=entry)).render("p", company="{{question}}", question=3)
    assert rendered.system == "You answer for {{question}}."
    assert rendered.messages[0]["content"] == "{{question}} 3"


def test_unknown_prompt_names_the_known_ones() -> None:
    with pytest.raises(RegistryError, match="no prompt 'nope'.*support-answer"):
        Registry(_export()).render("nope")


names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.\-]{0,6}", fullmatch=True)
pieces = st.one_of(
    st.text(alphabet="{}\\ ab\n", max_size=6),
    names.map(lambda n: "{{" + n + "}}"),
    names.map(lambda n: "{{ " + n + " }}"),
    names.map(lambda n: "\\{{" + n + "}}"),
)


@given(parts=st.lists(pieces, max_size=8), values=st.dictionaries(names, st.text(max_size=8)))
def test_runtime_templates_agree_with_the_workbench(
    parts: list[str], values: dict[str, str]
) -> None:
    text = "".join(parts)
    from workbench.core.templates import extract_variables as core_extract

    assert extract_variables(text) == core_extract(text)
    try:
        expected = core_render(text, values)
    except CoreMissingVariables:
        assert any(v not in values for v in extract_variables(text))
        return
    assert render_template(text, values) == expected


# --- SDK arguments and log lines ---------------------------------------------------------------


def test_anthropic_kwargs_put_sampling_in_extra_body() -> None:
    rendered = Registry(_export()).render("support-answer", company="A", question="q")
    assert rendered.to_anthropic_kwargs() == {
        "model": "claude-haiku-4-5",
        "max_tokens": 300,
        "system": "You answer for A.",
        "messages": [{"role": "user", "content": "Q: q"}, {"role": "assistant", "content": "A:"}],
        "stop_sequences": ["END"],
        "extra_body": {"temperature": 0.2},
    }


def test_anthropic_kwargs_mark_cache_breakpoints() -> None:
    entry = _entry(cache={"system": True, "prefix_messages": 1}, params={"max_tokens": 5})
    kwargs = Registry(_export(p=entry)).render("p", company="A", question="q").to_anthropic_kwargs()
    ephemeral = {"type": "ephemeral"}
    assert kwargs["system"] == [
        {"type": "text", "text": "You answer for A.", "cache_control": ephemeral}
    ]
    assert kwargs["messages"][0] == {
        "role": "user",
        "content": [{"type": "text", "text": "Q: q", "cache_control": ephemeral}],
    }
    assert "extra_body" not in kwargs and "stop_sequences" not in kwargs


def test_log_record_holds_the_documented_fields() -> None:
    rendered = Registry(_export()).render(
        "support-answer", {"company": "A", "question": "q", "unused": "secret"}
    )
    line = rendered.log_record(
        output="Hello",
        latency_ms=812.5,
        input_tokens=10,
        output_tokens=3,
        cache_read_input_tokens=0,
        user_id="u-1",
        feedback="up",
        call_id="c-1",
        timestamp="2026-01-01T00:00:00Z",
    )
    assert line == {
        "type": "call",
        "timestamp": "2026-01-01T00:00:00Z",
        "prompt": "support-answer",
        "version": 3,
        "version_id": rendered.version_id,
        "content_hash": HASH,
        "model": "claude-haiku-4-5",
        "vars": {"company": "A", "question": "q"},  # values the prompt does not use stay out
        "output": "Hello",
        "latency_ms": 812.5,
        "input_tokens": 10,
        "output_tokens": 3,
        "cache_read_input_tokens": 0,
        "user_id": "u-1",
        "feedback": "up",
        "call_id": "c-1",
    }
    json.dumps(line)  # one JSONL line
    private = rendered.log_record(output="", latency_ms=1, log_vars=False)
    assert "vars" not in private and private["messages"] == rendered.messages
    assert private["timestamp"].endswith("Z")


def test_feedback_must_be_up_or_down() -> None:
    assert feedback_record("c-1", "down", timestamp="t") == {
        "type": "feedback",
        "timestamp": "t",
        "call_id": "c-1",
        "feedback": "down",
    }
    with pytest.raises(RegistryError):
        feedback_record("c-1", "meh")
    rendered = Registry(_export()).render("support-answer", company="A", question="q")
    with pytest.raises(RegistryError):
        rendered.log_record(output="", latency_ms=1, feedback="yes")


# --- feature flag, rollout and kill switch -----------------------------------------------------


def test_rollout_reaches_its_percentage_of_users() -> None:
    registry = _flagged(percent=10)
    enabled = sum(registry.is_enabled("feat", user_id=f"user-{i}") for i in range(100_000))
    assert 9_000 <= enabled <= 11_000


def test_rollout_is_stable_per_user_and_only_grows_as_the_percentage_rises() -> None:
    users = [f"user-{i}" for i in range(2_000)]
    five, ten, ten_again = _flagged(percent=5), _flagged(percent=10), _flagged(percent=10)
    at5 = {u for u in users if five.is_enabled("feat", user_id=u)}
    at10 = {u for u in users if ten.is_enabled("feat", user_id=u)}
    again = {u for u in users if ten_again.is_enabled("feat", user_id=u)}
    assert at10 == again
    assert at5 < at10
    assert rollout_bucket("feat", 42) == rollout_bucket("feat", "42")
    assert 0 <= rollout_bucket("feat", "x") < 10_000


def test_buckets_differ_between_prompts_so_the_same_users_are_not_always_first() -> None:
    users = [f"user-{i}" for i in range(2_000)]
    a = {u for u in users if rollout_bucket("a", u) < 1_000}
    b = {u for u in users if rollout_bucket("b", u) < 1_000}
    assert a != b


def test_kill_switch_turns_everyone_off_staff_included() -> None:
    entry = _entry(kill_switch=True)
    registry = Registry(_export(feat=entry))
    assert not registry.is_enabled("feat", user_id="u", is_staff=True)
    assert not registry.is_enabled("feat", user_id="u")
    assert registry.kill_switch("feat")


def test_disabled_flag_is_off_even_for_staff() -> None:
    registry = _flagged(enabled=False, percent=100)
    assert not registry.is_enabled("feat", user_id="u", is_staff=True)


def test_staff_only_serves_staff_and_nobody_else() -> None:
    registry = _flagged(staff_only=True, percent=100)
    assert registry.is_enabled("feat", user_id="u", is_staff=True)
    assert registry.is_enabled("feat", is_staff=True)
    assert not registry.is_enabled("feat", user_id="u")
    assert not registry.is_enabled("feat")


def test_anonymous_users_only_at_full_rollout() -> None:
    assert not _flagged(percent=99.99).is_enabled("feat")
    assert _flagged(percent=100).is_enabled("feat")
    assert not _flagged(percent=0).is_enabled("feat", user_id="u")


# --- loading ---------------------------------------------------------------------------------


def test_load_json_and_yaml_with_a_loader(tmp_path: Path) -> None:
    data = _export()
    (tmp_path / "p.json").write_text(json.dumps(data), encoding="utf-8")
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    from_json = Registry.load(tmp_path / "p.json")
    from_yaml = Registry.load(tmp_path / "p.yaml", loader=yaml.safe_load)
    assert from_json.names() == from_yaml.names() == ["support-answer"]
    assert from_json.project == "demo" and from_json.label == "production"
    assert from_json.alerts("support-answer")["p95_latency_s"] == 10.0
    with pytest.raises(RegistryError, match="loader=yaml.safe_load"):
        Registry.load(tmp_path / "p.yaml")


def test_load_reports_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="cannot read"):
        Registry.load(tmp_path / "absent.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "format": \n}', encoding="utf-8")
    with pytest.raises(RegistryError, match=r"bad\.json:3: not valid JSON"):
        Registry.load(bad)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "something-else"}, "not a Prompt Workbench production export"),
        ({"format_version": 2}, "newer than this loader knows"),
        ({"prompts": []}, "'prompts' must be an object"),
    ],
)
def test_wrong_files_are_refused_with_a_fix(change: dict[str, Any], message: str) -> None:
    with pytest.raises(RegistryError, match=message):
        Registry({**_export(), **change})


@pytest.mark.parametrize(
    ("field", "value", "where"),
    [
        ("messages", [], "prompts.p.messages"),
        ("messages", [{"role": "system", "content": "x"}], r"prompts.p.messages\[0\]"),
        ("params", {}, "prompts.p.params.max_tokens"),
        ("kill_switch", "no", "prompts.p.kill_switch"),
        ("feature_flag", {"enabled": True, "staff_only": False, "rollout_percent": 101}, "rollout"),
    ],
)
def test_malformed_prompts_name_the_field(field: str, value: Any, where: str) -> None:
    with pytest.raises(RegistryError, match=where):
        Registry(_export(p=_entry(**{field: value})))


def test_a_top_level_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(RegistryError, match="top level"):
        Registry([])  # type: ignore[arg-type]


def test_registry_keeps_its_own_copy_of_the_data() -> None:
    data = _export()
    registry = Registry(data)
    original = copy.deepcopy(data)
    data["prompts"]["support-answer"]["system"] = "changed"
    registry.prompt("support-answer")["model"] = "changed too"
    assert registry.prompt("support-answer") == original["prompts"]["support-answer"]
    assert "support-answer" in registry and len(registry) == 1
