"""Word-level diff: exact round trips, whole-word changes, merged pieces."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from workbench.core.diff import changed, side_text, tokenize, word_diff


def test_identical_texts_are_one_equal_piece() -> None:
    assert word_diff("same text", "same text") == [("equal", "same text")]
    assert not changed(word_diff("same text", "same text"))


def test_changed_word_is_a_delete_then_an_insert() -> None:
    ops = word_diff("Answer the customer politely.", "Answer the customer briefly.")
    assert ops == [
        ("equal", "Answer the customer "),
        ("delete", "politely"),
        ("insert", "briefly"),
        ("equal", "."),
    ]


def test_insertion_and_deletion_alone() -> None:
    assert word_diff("a c", "a b c") == [("equal", "a "), ("insert", "b "), ("equal", "c")]
    assert word_diff("a b c", "a c") == [("equal", "a "), ("delete", "b "), ("equal", "c")]


def test_empty_sides() -> None:
    assert word_diff("", "") == []
    assert word_diff("", "new") == [("insert", "new")]
    assert word_diff("old", "") == [("delete", "old")]


def test_punctuation_and_variables_are_separate_tokens() -> None:
    assert tokenize("Hi, {{name}}!") == ["Hi", ",", " ", "{{", "name", "}}!"]


def test_unicode_words_are_whole_tokens() -> None:
    ops = word_diff("café au lait", "café noir")
    assert ("equal", "café ") in ops
    assert side_text(ops, "a") == "café au lait"


@given(st.text(max_size=80), st.text(max_size=80))
def test_sides_rebuild_both_texts(a: str, b: str) -> None:
    ops = word_diff(a, b)
    assert side_text(ops, "a") == a
    assert side_text(ops, "b") == b
    # adjacent pieces never share an op (they are merged)
    assert all(x[0] != y[0] for x, y in zip(ops, ops[1:], strict=False))
    assert changed(ops) == (a != b)
