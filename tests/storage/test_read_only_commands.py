"""Read-only means read-only: older schemas, read-only places, and files that are not files.

`info`, `report`, `check`, `bundle export` and `export` on a project saved at an older schema
version leave its bytes identical (the upgrade happens in an in-memory copy). A healthy project
on a read-only file system, or one the user may not write, gets its own message instead of
"damaged". A FIFO, socket or device named as the project is refused at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.cli.main import main
from workbench.core.errors import ProjectFileError
from workbench.formats.bundle_yaml import load_bundle, save_bundle
from workbench.services.projects import create_project
from workbench.storage import Project, check_project
from workbench.storage.migrations import migration_names, schema_version
from workbench.storage.schema_guard import expected_schema, read_schema

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "projects" / "quizcraft.yaml"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rewind_one_migration(conn: sqlite3.Connection) -> None:
    """Undo the last migration's schema: drop what it created, put back what it replaced."""
    older, _ = expected_schema(schema_version() - 1)
    current = read_schema(conn)
    order = {"trigger": 0, "view": 1, "index": 2, "table": 3}
    for obj in sorted(current.values(), key=lambda o: order[o.type]):
        if obj.type == "table" and obj.name in older and older[obj.name].sql != obj.sql:
            _drop_added_columns(conn, obj.name, older[obj.name].sql or "")
        elif obj.name not in older or older[obj.name].sql != obj.sql:
            conn.execute(f'DROP {obj.type.upper()} IF EXISTS "{obj.name}"')
    for obj in sorted(older.values(), key=lambda o: -order[o.type]):
        if obj.name not in read_schema(conn) and obj.sql:
            conn.execute(obj.sql)


def _drop_added_columns(conn: sqlite3.Connection, table: str, older_sql: str) -> None:
    """Undo ``ALTER TABLE ... ADD COLUMN`` (dropping the table would lose its rows): its
    triggers go first (the older schema puts them back), then the columns the older lacks."""
    scratch = sqlite3.connect(":memory:")
    scratch.execute(older_sql)
    kept = {row[1] for row in scratch.execute(f'PRAGMA table_info("{table}")')}
    scratch.close()
    triggers = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", [table]
    ).fetchall()
    for (name,) in triggers:
        conn.execute(f'DROP TRIGGER "{name}"')
    for row in conn.execute(f'PRAGMA table_info("{table}")').fetchall():
        if row[1] not in kept:
            conn.execute(f'ALTER TABLE "{table}" DROP COLUMN "{row[1]}"')


def _older_project(path: Path) -> Path:
    """The sample project as the previous schema version saved it (with its runs and data);
    its prompts that use tools, schemas or thinking are left out: no older file held them."""
    sample = load_bundle(SAMPLE)
    sample.prompts = [
        p for p in sample.prompts if not any(v.uses_later_fields() for v in p.versions)
    ]
    plain = path.with_suffix(".yaml")
    save_bundle(sample, plain)
    create_project(path, bundle=plain)
    conn = sqlite3.connect(path)
    _rewind_one_migration(conn)
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = ?", [migration_names()[-1]])
    conn.execute(f"PRAGMA user_version = {schema_version() - 1}")
    conn.commit()
    conn.close()
    report = check_project(path)
    assert report.ok and report.schema_version == schema_version() - 1, report.problems
    return path


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


def test_read_only_commands_never_upgrade_an_older_project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _older_project(tmp_path / "old.pwb")
    before = _sha256(path)
    commands = [
        ["info", str(path)],
        ["info", str(path), "--json"],
        ["report", str(path)],
        ["check", str(path)],
        ["check", str(path), "--json"],
        ["models", str(path)],
        ["bundle", "export", str(path), "-o", str(tmp_path / "b.yaml")],
        ["export", str(path), "--format", "jsonl", "--dataset", "support-questions",
         "-o", str(tmp_path / "cases.jsonl")],
        ["export", str(path), "--format", "production", "-o", str(tmp_path / "prod.json")],
    ]  # fmt: skip
    for args in commands:
        code, out, err = _cli(args, capsys)
        assert code == 0, (args, err)
        assert _sha256(path) == before, args
        assert not path.with_name(path.name + ".lock").exists()
    code, out, err = _cli(["info", str(path)], capsys)
    assert "open it for writing once to upgrade it" in err
    assert "support-answer" in out
    with Project.open(path, read_only=True) as project:
        assert project.read_only and "older schema" in (project.read_only_reason or "")
    # Opening it for writing is what upgrades it.
    with Project.open(path) as project:
        assert project.schema_version == schema_version()
    assert check_project(path).ok


@contextlib.contextmanager
def _read_only_mount(tmp_path: Path) -> Iterator[Path]:
    """A small tmpfs holding a healthy project, remounted read-only (root only)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a read-only file system needs root")
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(folder)], check=True,
                       capture_output=True)  # fmt: skip
    except (subprocess.CalledProcessError, OSError) as exc:
        pytest.skip(f"cannot mount a tmpfs here: {exc}")
    try:
        create_project(folder / "p.pwb", bundle=SAMPLE)
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True, capture_output=True)
        yield folder / "p.pwb"
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False, capture_output=True)


def test_a_healthy_project_on_a_read_only_file_system(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with _read_only_mount(tmp_path) as path:
        before = _sha256(path)
        code, out, err = _cli(["info", str(path)], capsys)
        assert code == 0 and "support-answer" in out, err
        code, out, _ = _cli(["check", str(path)], capsys)
        assert code == 0 and out.strip().endswith("ok"), out
        with pytest.raises(ProjectFileError, match="read-only file system") as raised:
            Project.open(path)
        assert "damaged" not in str(raised.value) and "backup" not in str(raised.value)
        code, _, err = _cli(
            ["run", str(path), "--prompt", "support-answer@production", "--dataset",
             "support-questions", "--provider", "echo"], capsys,
        )  # fmt: skip
        assert code == 2 and "read-only file system" in err and "damaged" not in err, err
        assert _sha256(path) == before


PERMISSION_SCRIPT = """
import sys
from workbench.storage import Project
from workbench.core.errors import ProjectFileError
from workbench.formats.bundle_yaml import load_bundle, save_bundle
with Project.open(sys.argv[1], read_only=True) as project:
    print("read", project.name)
try:
    Project.open(sys.argv[1])
except ProjectFileError as exc:
    print("refused", exc)
"""


def test_a_project_the_user_may_not_write(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    path = folder / "p.pwb"
    create_project(path, bundle=SAMPLE)
    path.chmod(0o444)
    folder.chmod(0o555)
    before = _sha256(path)
    prefix: list[str] = []
    if os.geteuid() == 0:
        # Root ignores file modes; without the DAC capabilities the modes apply to it too.
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: permissions cannot be tested")
        prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]
    try:
        result = subprocess.run(
            [*prefix, sys.executable, "-c", PERMISSION_SCRIPT, str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    finally:
        folder.chmod(0o755)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("read "), result.stdout
    assert "refused" in result.stdout and "permission to write" in result.stdout, result.stdout
    assert "damaged" not in result.stdout and "backup" not in result.stdout
    assert _sha256(path) == before


@pytest.mark.parametrize("kind", ["fifo", "socket", "device"])
@pytest.mark.parametrize("command", ["info", "check", "run"])
def test_a_fifo_socket_or_device_is_refused_at_once(
    tmp_path: Path, kind: str, command: str
) -> None:
    path = tmp_path / "p.pwb"
    held: socket.socket | None = None
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        held = socket.socket(socket.AF_UNIX)
        held.bind(str(path))
    else:
        path = Path("/dev/zero")
    extra = ["--prompt", "p", "--dataset", "d", "--provider", "echo"] if command == "run" else []
    try:
        result = subprocess.run(
            [sys.executable, "-m", "workbench", command, str(path), *extra],
            capture_output=True,
            text=True,
            timeout=60,  # a FIFO that is opened blocks forever: the timeout is the failure
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    finally:
        if held is not None:
            held.close()
    expected = {"fifo": "named pipe", "socket": "a socket", "device": "a device"}[kind]
    # `check` reports problems on stdout with exit 1; every other command refuses with exit 2.
    code, text = (1, result.stdout) if command == "check" else (2, result.stderr)
    assert result.returncode == code, result.stderr
    assert expected in text and "not a project file" in text
    assert len(text.strip().splitlines()) == 1
