"""Substitution rules of `{{variable}}` templates, including property-based checks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.core.errors import MissingVariables
from workbench.core.templates import check, extract_variables, render, variables_of

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True)
any_text = st.text(max_size=60)


def test_extract_in_first_seen_order_without_duplicates() -> None:
    assert extract_variables("{{b}} {{ a }} {{b}} {{c.d}} {{x-y}}") == ["b", "a", "c.d", "x-y"]


def test_render_substitutes_with_spaces_inside_braces() -> None:
    assert render("Hi {{ name }}, {{name}}!", {"name": "Ada"}) == "Hi Ada, Ada!"


def test_missing_variables_are_all_named() -> None:
    with pytest.raises(MissingVariables) as err:
        render("{{a}} {{b}} {{c}}", {"b": "1"})
    assert err.value.missing == ["a", "c"]
    assert "a, c" in err.value.user_message


def test_escape_writes_literal_braces() -> None:
    assert render(r"\{{name}} is {{name}}", {"name": "x"}) == "{{name}} is x"
    assert extract_variables(r"\{{name}}") == []


def test_unformed_braces_are_left_alone() -> None:
    assert render("{{ }} {{1abc}} {x} }}", {}) == "{{ }} {{1abc}} {x} }}"


def test_check_reports_missing_and_unused() -> None:
    result = check(["{{a}}", "{{b}}"], {"a": "1", "z": "2"})
    assert result.missing == ["b"]
    assert result.unused == ["z"]
    assert not result.ok


def test_variables_across_texts() -> None:
    assert variables_of(["{{a}}", "{{b}} {{a}}"]) == ["a", "b"]


@given(name=names, value=any_text)
def test_values_are_inserted_literally_never_expanded(name: str, value: str) -> None:
    # Single pass: whatever the value holds, including {{...}} or \{{, appears verbatim.
    assert render("<{{" + name + "}}>", {name: value, "other": "BOOM"}) == f"<{value}>"


@given(name=names, value=st.text(max_size=20))
def test_value_containing_template_syntax_is_not_expanded(name: str, value: str) -> None:
    payload = "{{" + name + "}}" + value
    assert render("{{" + name + "}}", {name: payload}) == payload


@given(text=st.text(alphabet=st.characters(blacklist_characters="{}\\"), max_size=80))
def test_text_without_braces_renders_unchanged(text: str) -> None:
    assert render(text, {}) == text
    assert extract_variables(text) == []


@given(parts=st.lists(st.tuples(st.text(alphabet="abc xyz.\n", max_size=8), names), max_size=6))
def test_render_equals_concatenation_of_parts(parts: list[tuple[str, str]]) -> None:
    template = "".join(f"{text}{{{{{name}}}}}" for text, name in parts)
    values = {name: f"<{name.upper()}>" for _, name in parts}
    expected = "".join(f"{text}<{name.upper()}>" for text, name in parts)
    assert render(template, values) == expected
    assert set(extract_variables(template)) == {name for _, name in parts}
