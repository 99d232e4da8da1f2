"""Domain types: strict validation and content identity."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from workbench.core.models import Bundle, Example, Params, PromptContent, PromptVersion


def _content(**params: object) -> PromptContent:
    return PromptContent(
        system="Be brief.",
        messages=[{"role": "user", "content": "{{q}}"}],  # type: ignore[list-item]
        params=Params(model="claude-haiku-5-5", **params),  # type: ignore[arg-type]
    )


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValidationError, match="temprature"):
        Params.model_validate({"model": "m", "temprature": 0.2})


def test_identical_content_has_identical_hash_and_note_is_not_part_of_it() -> None:
    a = PromptVersion(version=1, note="first", **_content().model_dump())
    b = PromptVersion(version=2, note="other", **_content().model_dump())
    assert a.hash == b.hash
    assert _content(temperature=0.5).content_hash() != _content().content_hash()


def test_first_message_must_be_user() -> None:
    with pytest.raises(ValidationError, match="role 'user'"):
        PromptContent(messages=[{"role": "assistant", "content": "x"}], params={"model": "m"})  # type: ignore[list-item,arg-type]


def test_example_vars_become_text() -> None:
    ex = Example.model_validate({"vars": {"count": 3, "empty": None}})
    assert ex.vars == {"count": "3", "empty": ""}


def test_bundle_label_must_point_at_existing_version() -> None:
    with pytest.raises(ValidationError, match="version 9"):
        Bundle.model_validate(
            {
                "name": "x",
                "prompts": [
                    {
                        "name": "p",
                        "labels": {"production": 9},
                        "versions": [
                            {
                                "version": 1,
                                "messages": [{"role": "user", "content": "hi"}],
                                "params": {"model": "m"},
                            }
                        ],
                    }
                ],
            }
        )


def test_duplicate_dataset_names_rejected() -> None:
    with pytest.raises(ValidationError, match="duplicate dataset"):
        Bundle.model_validate({"name": "x", "datasets": [{"name": "d"}, {"name": "d"}]})
