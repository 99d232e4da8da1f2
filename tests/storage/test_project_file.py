"""Creating, reopening, locking, backing up and closing a project file."""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

import pytest

from workbench.core.errors import BadInput, ProjectFileError
from workbench.core.models import Message, Params, PromptContent, Settings
from workbench.storage import Project, ProjectLocked
from workbench.storage.check import APPLICATION_ID
from workbench.storage.migrations import migration_names, schema_version
from workbench.storage.project import lock_holder, lock_path

CONTENT = PromptContent(
    messages=[Message(role="user", content="Hi {{name}}")], params=Params(model="claude-haiku")
)


def _header(path: Path) -> tuple[int, int]:
    """(user_version, application_id) read straight from the file's SQLite header."""
    raw = path.read_bytes()[:100]
    return struct.unpack(">I", raw[60:64])[0], struct.unpack(">I", raw[68:72])[0]


def test_create_writes_our_header_wal_and_meta(tmp_path: Path) -> None:
    path = tmp_path / "new.pwb"
    with Project.create(path, "Demo", description="about") as project:
        assert (project.name, project.description) == ("Demo", "about")
        assert project.settings == Settings()
        assert project.schema_version == schema_version() == len(migration_names())
        assert project.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert project.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert not project.read_only and project.read_only_reason is None
    assert _header(path) == (schema_version(), APPLICATION_ID)
    assert not lock_path(path).exists()


def test_create_refuses_an_existing_path_or_missing_folder(tmp_path: Path) -> None:
    existing = tmp_path / "there.pwb"
    existing.write_bytes(b"keep me")
    with pytest.raises(ProjectFileError, match="already exists"):
        Project.create(existing, "X")
    assert existing.read_bytes() == b"keep me"
    with pytest.raises(ProjectFileError, match="does not exist"):
        Project.create(tmp_path / "nope" / "x.pwb", "X")


def test_reopen_keeps_data_and_records_migrations(tmp_path: Path) -> None:
    path = tmp_path / "p.pwb"
    with Project.create(path, "Demo") as project:
        project.set_settings(Settings(default_concurrency=3))
        project.prompts.create("greet")
        project.prompts.save_version("greet", CONTENT)
    with Project.open(path) as project:
        assert project.settings.default_concurrency == 3
        assert project.prompts.resolve("greet").version == 1
        applied = [r[0] for r in project.db.execute("SELECT name FROM _sqlite_migrations")]
        assert applied == migration_names()


def test_second_writer_in_same_process_is_refused_until_close(tmp_path: Path) -> None:
    path = tmp_path / "p.pwb"
    first = Project.create(path, "Demo")
    holder = lock_holder(path)
    assert holder is not None and holder.pid is not None
    with pytest.raises(ProjectLocked) as raised:
        Project.open(path)
    assert raised.value.holder == holder
    first.close()
    first.close()  # idempotent
    assert lock_holder(path) is None
    Project.open(path).close()


def test_stale_lock_file_from_a_crash_does_not_block(tmp_path: Path) -> None:
    path = tmp_path / "p.pwb"
    Project.create(path, "Demo").close()
    lock_path(path).write_text("999999\nelsewhere\n")  # nobody holds an OS lock on it
    assert lock_holder(path) is None
    with Project.open(path) as project:
        assert project.name == "Demo"


def test_read_only_open_refuses_every_write(tmp_path: Path) -> None:
    path = tmp_path / "p.pwb"
    Project.create(path, "Demo").close()
    with Project.open(path, read_only=True) as project:
        assert project.read_only
        for write in (
            lambda: project.set_settings(Settings()),
            lambda: project.set_name("New"),
            lambda: project.prompts.create("x"),
            lambda: project.datasets.create("x"),
            lambda: project.catalog.upsert_models([], "api"),
        ):
            with pytest.raises(ProjectFileError, match="is open read-only"):
                write()
        assert lock_holder(path) is None  # read-only opens take no lock


def test_backup_to_writes_a_consistent_openable_copy(tmp_path: Path) -> None:
    source = tmp_path / "p.pwb"
    copy = tmp_path / "copy.pwb"
    with Project.create(source, "Demo") as project:
        project.prompts.create("greet")
        project.prompts.save_version("greet", CONTENT, note="first")
        assert project.backup_to(copy) == copy
        with pytest.raises(ProjectFileError, match="this project itself"):
            project.backup_to(source)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.pwb", "p.pwb"]
    with Project.open(copy) as restored:
        assert restored.prompts.resolve("greet").note == "first"
        assert restored.schema_version == schema_version()


def test_older_schema_read_only_opens_without_upgrading_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "p.pwb"
    Project.create(path, "Demo").close()
    before = path.read_bytes()
    newer = schema_version() + 1
    monkeypatch.setattr("workbench.storage.project.schema_version", lambda: newer)
    with Project.open(path, read_only=True) as project:
        assert project.read_only and project.name == "Demo"
        assert "older schema" in (project.read_only_reason or "")
        assert "open it for writing once to upgrade it" in (project.read_only_reason or "")
    assert path.read_bytes() == before


def test_a_file_whose_creation_never_finished_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.pwb"
    Project.create(path, "Demo").close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 0")
    conn.close()
    with pytest.raises(ProjectFileError, match="never fully created"):
        Project.open(path)
    assert lock_holder(path) is None


def test_a_project_needs_a_name(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="needs a name"):
        Project.create(tmp_path / "p.pwb", " ")
    assert not (tmp_path / "p.pwb").exists()


def test_a_second_writer_connection_needs_the_project_open_here(tmp_path: Path) -> None:
    path = tmp_path / "p.pwb"
    Project.create(path, "Demo").close()
    with pytest.raises(ProjectFileError, match="not open for writing in this process"):
        Project.connect_writer(path)
    with Project.open(path) as project:
        writer = Project.connect_writer(path)
        try:
            with writer.atomic():
                writer.execute("INSERT INTO meta (key, value) VALUES ('from_worker', '1')")
        finally:
            writer.close()
        assert project.catalog.get_meta("from_worker") == 1
        assert writer is not project.db
