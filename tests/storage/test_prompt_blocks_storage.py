"""Versions with tools, blocks and schemas in the project file; files stored by hash; m007."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.core.test_blocks import rich
from workbench.core.models import Message, Params, PromptContent
from workbench.storage import Project
from workbench.storage.check import check_project
from workbench.storage.migrations import schema_version


def test_a_rich_version_round_trips_through_the_project(tmp_path: Path) -> None:
    path = tmp_path / "p.pwb"
    with Project.create(path, "Demo") as project:
        project.prompts.create("agent")
        saved, created = project.prompts.save_version("agent", rich())
        assert created
    with Project.open(path, read_only=True) as project:
        back = project.prompts.resolve("agent", 1)
    assert back.content() == rich()
    assert back.hash == rich().content_hash() == saved.hash
    assert check_project(path).ok


def test_files_are_stored_once_by_content(tmp_path: Path) -> None:
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "a.png").write_bytes(b"\x89PNG same")
    with Project.create(tmp_path / "p.pwb", "Demo") as project:
        first = project.files.add_from_disk("./img/a.png", tmp_path, "image/png")
        second = project.files.add_bytes("img\\b.png", b"\x89PNG same", "image/png")
        assert first.hash == second.hash
        assert project.files.paths() == ["img/a.png", "img/b.png"]
        assert project.files.get("img/a.png") == first
        assert project.files.get("missing.png") is None
        (count,) = project.db.execute("SELECT count(*) FROM files").fetchone()
        assert count == 1


def _downgrade_to_m006(path: Path) -> None:
    """Turn a fresh project file into one written before m007 existed."""
    conn = sqlite3.connect(path)
    with conn:
        # Later migrations first (m008: the Try panel's draft calls).
        conn.execute("DROP TRIGGER draft_calls_no_update")
        conn.execute("DROP TRIGGER draft_calls_no_delete")
        conn.execute("DROP TABLE draft_calls")
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm008_draft_calls'")
        conn.execute("DROP TRIGGER call_details_no_update")
        conn.execute("DROP TRIGGER call_details_no_delete")
        conn.execute("DROP TABLE call_details")
        conn.execute("DROP TRIGGER files_no_update")
        conn.execute("DROP TRIGGER files_no_delete")
        conn.execute("DROP TABLE file_paths")
        conn.execute("DROP TABLE files")
        conn.execute("DROP TRIGGER prompt_versions_no_update")
        conn.execute("ALTER TABLE prompt_versions DROP COLUMN extras_json")
        conn.execute(
            "CREATE TRIGGER prompt_versions_no_update BEFORE UPDATE ON prompt_versions "
            "BEGIN SELECT RAISE(ABORT, 'prompt versions are immutable'); END"
        )
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm007_prompt_blocks'")
        conn.execute("PRAGMA user_version = 6")
    conn.close()


def test_a_project_made_before_blocks_migrates_and_keeps_its_version_ids(tmp_path: Path) -> None:
    path = tmp_path / "old.pwb"
    plain = PromptContent(
        system="Be terse.",
        messages=[Message(role="user", content="{{q}}")],
        params=Params(model="claude-haiku-5-5", temperature=0.2),
    )
    with Project.create(path, "Old") as project:
        project.prompts.create("p")
        old, _ = project.prompts.save_version("p", plain)
    _downgrade_to_m006(path)
    with Project.open(path) as project:
        assert project.schema_version == schema_version()  # m007 and every later one applied
        assert project.prompts.resolve("p", 1).hash == old.hash
        again, created = project.prompts.save_version("p", plain)
        assert not created and again.version == 1
        newer, created = project.prompts.save_version("p", rich())
        assert created and newer.version == 2
    assert check_project(path).ok


def test_the_sample_goes_through_a_project_and_back_byte_identical(tmp_path: Path) -> None:
    from workbench.formats.bundle_yaml import dump_bundle, load_bundle
    from workbench.storage.bundle import export_bundle, import_bundle

    sample = Path(__file__).resolve().parents[2] / "projects" / "quizcraft.yaml"
    bundle = load_bundle(sample)
    with Project.create(tmp_path / "s.pwb", bundle.name) as project:
        import_bundle(project, bundle)
    with Project.open(tmp_path / "s.pwb", read_only=True) as project:
        again = export_bundle(project)
    assert dump_bundle(again) == sample.read_text(encoding="utf-8")
