"""`check_project`: a read-only integrity report that never changes the file."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from workbench.core.models import Example, Message, Params, PromptContent
from workbench.storage import Project, check_project
from workbench.storage.migrations import schema_version


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _project(path: Path) -> Path:
    with Project.create(path, "Checked") as project:
        for name in ("support", "other"):
            project.prompts.create(name)
            for text in ("A", "B"):
                project.prompts.save_version(
                    name,
                    PromptContent(
                        messages=[Message(role="user", content=f"{name} {text}")],
                        params=Params(model="m"),
                    ),
                )
        project.prompts.set_label("support", "production", 1)
        project.datasets.create("smoke")
        project.datasets.add_examples("smoke", [Example(vars={"q": "1"})])
    return path


def _tamper(path: Path, *statements: str) -> None:
    """Edit the file behind the app's back, as a hand edit or a bug elsewhere could."""
    conn = sqlite3.connect(path)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()


def test_a_healthy_project_checks_ok_and_is_untouched(tmp_path: Path) -> None:
    path = _project(tmp_path / "p.pwb")
    before = _sha256(path)
    report = check_project(path)
    assert report.ok, report.problems
    assert report.schema_version == schema_version()
    assert _sha256(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.pwb"]  # no -wal/-shm left behind


TAMPERING: dict[str, tuple[Callable[[Path], None], str]] = {
    "version content edited": (
        lambda p: _tamper(
            p,
            "DROP TRIGGER prompt_versions_no_update",
            "UPDATE prompt_versions SET system = 'sneaky' WHERE version = 2",
        ),
        "stored hash does not match its content",
    ),
    "label points at another prompt": (
        lambda p: _tamper(
            p,
            "DROP TRIGGER labels_same_prompt_update",
            "UPDATE labels SET version_id = (SELECT MAX(id) FROM prompt_versions)",
        ),
        "label 'production' points at another prompt's version",
    ),
    "dangling foreign key": (
        lambda p: _tamper(
            p,
            "INSERT INTO examples (dataset_id, position, vars_json, tags_json, expect_json, "
            "created_at) VALUES (42, 0, '{}', '[]', '[]', '')",
        ),
        "foreign key: examples",
    ),
    "unreadable example": (
        lambda p: _tamper(p, "UPDATE examples SET vars_json = '{\"bad name\": 1}'"),
        "dataset 'smoke' example 1 cannot be read",
    ),
    "user_version out of step": (
        lambda p: _tamper(p, "PRAGMA user_version = 0"),
        "user_version is 0",
    ),
    "not a project at all": (
        lambda p: p.write_bytes(b"hello" * 100),
        "not a SQLite database",
    ),
}


@pytest.mark.parametrize("tamper", TAMPERING.values(), ids=list(TAMPERING))
def test_problems_are_reported_without_changing_the_file(
    tmp_path: Path, tamper: tuple[Callable[[Path], None], str]
) -> None:
    path = _project(tmp_path / "p.pwb")
    damage, expected = tamper
    damage(path)
    before = _sha256(path)
    report = check_project(path)
    assert not report.ok
    assert any(expected in problem for problem in report.problems), report.problems
    assert _sha256(path) == before


def test_damaged_pages_are_reported(tmp_path: Path) -> None:
    path = _project(tmp_path / "p.pwb")
    with path.open("r+b") as handle:  # invert the header of page 3, a b-tree page
        handle.seek(2 * 4096)
        header = handle.read(12)
        handle.seek(2 * 4096)
        handle.write(bytes(b ^ 0xFF for b in header))
    before = _sha256(path)
    report = check_project(path)
    assert not report.ok
    assert "integrity" in report.problems[0] or "malformed" in report.problems[0]
    assert _sha256(path) == before


def test_check_while_another_writer_holds_the_file(tmp_path: Path) -> None:
    path = _project(tmp_path / "p.pwb")
    with Project.open(path) as project:
        project.prompts.create("fresh")  # sits in the WAL, not yet in the main file
        report = check_project(path)
    assert report.ok, report.problems
