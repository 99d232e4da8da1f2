"""Prompts: content-addressed numbered versions, refs, labels and their history."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.core.errors import BadInput, NotFound
from workbench.core.models import Message, Params, PromptContent
from workbench.storage import Project


def content(text: str, *, model: str = "claude-haiku") -> PromptContent:
    return PromptContent(
        system="Be terse.",
        messages=[Message(role="user", content=text)],
        params=Params(model=model, temperature=0.2),
    )


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    with Project.create(tmp_path / "p.pwb", "Demo") as opened:
        opened.prompts.create("support", "answers tickets")
        yield opened


def test_identical_content_returns_the_existing_version(project: Project) -> None:
    first, created = project.prompts.save_version("support", content("A {{q}}"), note="one")
    assert created and first.version == 1 and first.note == "one"
    again, created = project.prompts.save_version("support", content("A {{q}}"), note="other")
    assert not created and again == first
    second, created = project.prompts.save_version("support", content("B {{q}}"))
    assert created and second.version == 2
    back, created = project.prompts.save_version("support", content("A {{q}}"))
    assert not created and back.version == 1
    assert [v.version for v in project.prompts.get("support").versions] == [1, 2]


def test_a_changed_parameter_is_a_new_version(project: Project) -> None:
    project.prompts.save_version("support", content("A", model="claude-haiku"))
    version, created = project.prompts.save_version("support", content("A", model="claude-opus"))
    assert created and version.version == 2


def test_saved_version_round_trips_with_its_time(project: Project) -> None:
    when = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.UTC)
    saved, _ = project.prompts.save_version("support", content("A"), note="n", created_at=when)
    loaded = project.prompts.resolve("support", 1)
    assert loaded == saved and loaded.created_at == when
    assert loaded.hash == content("A").content_hash()


@pytest.mark.parametrize(
    ("ref", "expected"),
    [(None, 3), ("latest", 3), (2, 2), ("1", 1), ("production", 2), ("staging", 1)],
)
def test_resolve_accepts_numbers_labels_and_latest(
    project: Project, ref: str | int | None, expected: int
) -> None:
    for text in ("A", "B", "C"):
        project.prompts.save_version("support", content(text))
    project.prompts.set_label("support", "production", 2)
    project.prompts.set_label("support", "staging", 1)
    assert project.prompts.resolve("support", ref).version == expected


def test_resolve_errors_name_what_exists(project: Project) -> None:
    with pytest.raises(NotFound, match="no versions yet"):
        project.prompts.resolve("support")
    project.prompts.save_version("support", content("A"))
    with pytest.raises(NotFound, match="no version 9.*versions: 1"):
        project.prompts.resolve("support", 9)
    with pytest.raises(NotFound, match="no label 'prod'"):
        project.prompts.resolve("support", "prod")
    with pytest.raises(NotFound, match="Known prompts: support"):
        project.prompts.resolve("nope")


def test_label_moves_are_recorded_for_rollback_audits(project: Project) -> None:
    for text in ("A", "B"):
        project.prompts.save_version("support", content(text))
    project.prompts.set_label("support", "production", 1)
    project.prompts.set_label("support", "production", 2)
    project.prompts.set_label("support", "production", 1)  # the roll-back
    project.prompts.remove_label("support", "production")
    history = project.prompts.label_history("support", "production")
    assert [event.version for event in history] == [1, 2, 1, None]
    assert project.prompts.get("support").labels == {}
    with pytest.raises(NotFound):
        project.prompts.remove_label("support", "production")


@pytest.mark.parametrize("label", ["latest", "12", "bad name", ""])
def test_labels_that_would_read_as_refs_or_are_malformed_are_refused(
    project: Project, label: str
) -> None:
    project.prompts.save_version("support", content("A"))
    with pytest.raises(BadInput):
        project.prompts.set_label("support", label, 1)


def test_label_must_point_at_an_existing_version(project: Project) -> None:
    with pytest.raises(NotFound):
        project.prompts.set_label("support", "production", 1)


def test_versions_are_immutable_in_the_database(project: Project) -> None:
    project.prompts.save_version("support", content("A"))
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        project.db.execute("UPDATE prompt_versions SET note = 'changed'")
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        project.db.execute("DELETE FROM prompt_versions")
    assert project.prompts.resolve("support").note == ""


def test_a_label_cannot_point_at_another_prompts_version(project: Project) -> None:
    project.prompts.create("other")
    project.prompts.save_version("other", content("A"))
    other_version = project.prompts.version_row_id("other", 1)
    support = project.prompts.row_id("support")
    with pytest.raises(sqlite3.IntegrityError, match="same prompt"):
        project.db.execute(
            "INSERT INTO labels (prompt_id, name, version_id, updated_at) VALUES (?, 'x', ?, '')",
            [support, other_version],
        )


def test_create_rename_and_delete(project: Project) -> None:
    with pytest.raises(BadInput, match="already exists"):
        project.prompts.create("support")
    with pytest.raises(BadInput, match="not a valid prompt name"):
        project.prompts.create("has space")
    project.prompts.save_version("support", content("A"))
    project.prompts.rename("support", "helpdesk")
    assert project.prompts.resolve("helpdesk").version == 1
    with pytest.raises(BadInput, match="saved versions"):
        project.prompts.delete("helpdesk")
    project.prompts.create("draft")
    project.prompts.delete("draft")
    assert project.prompts.names() == ["helpdesk"]
    assert project.prompts.get("helpdesk").description == "answers tickets"
