"""The file is ours before we write to it: planted triggers and views, dropped tables and columns.

Each tampered project is built from the sample bundle, edited behind the app's back with plain
sqlite3, and then: `check` names every difference, a run refuses to write (exit 2, one line), and
the planted trigger's side-effect table stays empty. A trigger planted while the project is open
cannot run either (the connection's authorizer refuses it).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from workbench.cli.main import main
from workbench.core.errors import ProjectFileError
from workbench.services.projects import create_project
from workbench.storage import Project, check_project
from workbench.storage.check import APPLICATION_ID
from workbench.storage.migrations import migration_names, migrations, schema_version
from workbench.storage.schema_guard import audit_schema, expected_schema

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "projects" / "quizcraft.yaml"

REWRITE_OUTPUTS = (
    "CREATE TRIGGER zz_rewrite AFTER INSERT ON calls BEGIN "
    "INSERT INTO stolen (what) VALUES ('rewrite ' || NEW.id); END"
)
COPY_REQUESTS = "CREATE TRIGGER zz_copy AFTER INSERT ON calls BEGIN INSERT INTO stolen (what) VALUES (NEW.request_json); END"  # noqa: E501
HIDDEN_TABLE = "CREATE TABLE stolen (what TEXT)"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sample(path: Path) -> Path:
    create_project(path, bundle=SAMPLE)
    return path


def _tamper(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()


def _stolen_rows(path: Path) -> int:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM stolen").fetchone()[0])
    finally:
        conn.close()


def _run(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "run",
                str(path),
                "--prompt",
                "support-answer@production",
                "--dataset",
                "support-questions",
                "--models",
                "claude-haiku-5-5",
                "--provider",
                "echo",
            ]
        )
    _, err = capsys.readouterr()
    return int(exit_info.value.code or 0), err


def test_a_fresh_project_matches_the_schema_the_migrations_build(tmp_path: Path) -> None:
    path = _sample(tmp_path / "p.pwb")
    assert check_project(path).ok
    conn = sqlite3.connect(path)
    try:
        assert audit_schema(conn, schema_version()) == []
    finally:
        conn.close()
    objects, columns = expected_schema(schema_version())
    assert {"calls", "attempts", "calls_no_update", "calls_run"} <= set(objects)
    assert "output_text" in columns["calls"] or len(columns["calls"]) > 5


@pytest.mark.parametrize("version", range(1, schema_version() + 1))
def test_every_schema_version_is_audited_against_its_own_migrations(
    tmp_path: Path, version: int
) -> None:
    conn = sqlite3.connect(tmp_path / "old.pwb")
    names = migration_names()
    migrations.apply(Database(conn), stop_before=names[version] if version < len(names) else None)
    assert audit_schema(conn, version) == []
    assert audit_schema(conn, schema_version()) == [] or version < schema_version()
    conn.close()


PLANTED = {
    "trigger rewriting outputs": ((HIDDEN_TABLE, REWRITE_OUTPUTS), ["foreign trigger 'zz_rewrite' on calls"]),
    "trigger copying requests": ((HIDDEN_TABLE, COPY_REQUESTS), ["foreign trigger 'zz_copy' on calls", "foreign table 'stolen'"]),
    "our trigger replaced by a look-alike": (
        (
            HIDDEN_TABLE,
            "DROP TRIGGER calls_no_update",
            "CREATE TRIGGER calls_no_update AFTER INSERT ON calls BEGIN "
            "INSERT INTO stolen (what) VALUES (NEW.id); END",
        ),
        ["trigger 'calls_no_update' on calls was replaced"],
    ),
    "foreign view": ((HIDDEN_TABLE, "CREATE VIEW zz_view AS SELECT * FROM calls"), ["foreign view 'zz_view'"]),
}  # fmt: skip


@pytest.mark.parametrize("planted", PLANTED.values(), ids=list(PLANTED))
def test_planted_sql_is_named_by_check_and_never_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], planted: tuple[tuple[str, ...], list[str]]
) -> None:
    path = _sample(tmp_path / "p.pwb")
    statements, expected = planted
    _tamper(path, *statements)
    before = _sha256(path)
    report = check_project(path)
    for name in expected:
        assert any(name in problem for problem in report.problems), report.problems
    code, err = _run(path, capsys)
    assert code == 2, err
    assert "schema Prompt Workbench did not create" in err and "workbench check" in err
    assert [line for line in err.splitlines() if line.startswith("error:")] == [
        err.strip().splitlines()[-1]
    ]
    assert _stolen_rows(path) == 0
    assert _sha256(path) == before


def test_a_dropped_table_or_column_is_named_and_the_run_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _sample(tmp_path / "p.pwb")
    _tamper(path, "DROP TABLE attempts", "ALTER TABLE calls DROP COLUMN user_id")
    report = check_project(path)
    assert "missing table 'attempts'" in report.problems
    assert "missing index 'attempts_call'" in report.problems
    assert "missing column calls.user_id" in report.problems
    code, err = _run(path, capsys)
    assert code == 2 and "schema Prompt Workbench did not create" in err, err
    with Project.open(path) as project:
        assert project.read_only and "open read-only" in (project.read_only_reason or "")
        with pytest.raises(ProjectFileError, match="open read-only"):
            project.set_name("x")


def test_a_trigger_planted_while_the_project_is_open_cannot_run(tmp_path: Path) -> None:
    path = _sample(tmp_path / "p.pwb")
    with Project.open(path) as project:
        assert not project.read_only
        _tamper(
            path,
            HIDDEN_TABLE,
            "CREATE TRIGGER zz_meta AFTER UPDATE ON meta BEGIN "
            "INSERT INTO stolen (what) VALUES (NEW.value); END",
            # A look-alike with one of our trigger names may not write either.
            "CREATE TRIGGER prompts_no_delete AFTER INSERT ON meta BEGIN "
            "INSERT INTO stolen (what) VALUES (NEW.value); END",
        )
        with pytest.raises(sqlite3.DatabaseError, match="not authorized"):
            project.set_name("renamed")
        with pytest.raises(sqlite3.DatabaseError, match="not authorized"):
            project.catalog.set_meta("new-key", 1)
    assert _stolen_rows(path) == 0


def test_every_connection_distrusts_the_schema(tmp_path: Path) -> None:
    path = _sample(tmp_path / "p.pwb")
    for read_only in (False, True):
        with Project.open(path, read_only=read_only) as project:
            assert project.db.execute("PRAGMA trusted_schema").fetchone()[0] == 0


def test_check_reports_a_newer_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _sample(tmp_path / "p.pwb")
    _tamper(path, f"PRAGMA user_version = {schema_version() + 1}")
    report = check_project(path)
    assert report.schema_version == schema_version() + 1
    assert any("newer than this build" in note for note in report.notes), report.notes
    with pytest.raises(SystemExit):
        main(["check", str(path)])
    out, _ = capsys.readouterr()
    assert f"note: schema version {schema_version() + 1} is newer than this build" in out


def test_check_prints_schema_notes_and_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _sample(tmp_path / "p.pwb")
    _tamper(path, HIDDEN_TABLE, REWRITE_OUTPUTS)
    with pytest.raises(SystemExit) as exit_info:
        main(["check", str(path)])
    out, _ = capsys.readouterr()
    assert exit_info.value.code == 1
    assert "foreign trigger 'zz_rewrite' on calls" in out


def test_the_application_id_still_marks_a_tampered_file_as_ours(tmp_path: Path) -> None:
    # A foreign schema is not "not ours": it opens (read-only) so the user can export their data.
    path = _sample(tmp_path / "p.pwb")
    _tamper(path, HIDDEN_TABLE)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    conn.close()
    with Project.open(path, read_only=True) as project:
        assert project.read_only and "foreign table 'stolen'" in (project.read_only_reason or "")
        assert project.prompts.list()


def test_reading_a_project_with_a_dropped_table_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _sample(tmp_path / "p.pwb")
    _tamper(path, "PRAGMA foreign_keys = OFF", "DROP TABLE attempts", "DROP TABLE cells")
    before = _sha256(path)
    with pytest.raises(SystemExit) as exit_info:
        main(["info", str(path)])
    _, err = capsys.readouterr()
    assert exit_info.value.code == 2, err
    assert "missing table 'cells'" in err and "internal error" not in err
    assert _sha256(path) == before


def test_a_trigger_planted_mid_run_never_fires(tmp_path: Path) -> None:
    from workbench.inference import make_provider
    from workbench.services.planner import make_plan
    from workbench.services.project_models import model_catalog, price_table
    from workbench.services.run_service import start_run
    from workbench.services.runner import NullListener

    path = _sample(tmp_path / "p.pwb")

    class PlantAfterFirstCall(NullListener):
        planted = False

        def on_cell_finished(self, cell: object, call_id: int, record: object) -> None:
            if not self.planted:
                self.planted = True
                conn = sqlite3.connect(path, timeout=10)
                conn.execute(HIDDEN_TABLE)
                conn.execute(COPY_REQUESTS)
                conn.commit()
                conn.close()

    listener = PlantAfterFirstCall()
    with Project.open(path) as project:
        plan = make_plan(
            project,
            prompts=["support-answer@production"],
            dataset="support-questions",
            models=["claude-haiku-5-5"],
            catalog=model_catalog(project),
            prices=price_table(project),
        )
        with contextlib.suppress(Exception):  # how a failed write ends the run is not this test's
            asyncio.run(start_run(project, plan, make_provider("echo"), listener=listener))
    assert listener.planted
    assert _stolen_rows(path) == 0
    assert any("foreign trigger 'zz_copy'" in p for p in check_project(path).problems)
