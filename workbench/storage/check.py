"""Validating a project file without changing it: the SQLite header, quick and full checks.

Everything here opens the file read-only (``open(..., "rb")`` or a ``mode=ro`` SQLite URI), so a
file that fails a check is byte-for-byte what it was before.

Cost of ``PRAGMA quick_check`` (run before every open): it reads every page once, so it is
linear in the file size. Measured on the 2-core dev VM for a 99 MB project: 0.16 s with the file in
the OS page cache, 2.3 s right after dropping the caches (disk-bound; the pages it reads are then
cached for the app). ``integrity_check`` took 0.17 s warm on the same file.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import struct
from dataclasses import dataclass, field
from pathlib import Path

from workbench.core.errors import ProjectFileError, WorkbenchError
from workbench.storage.migrations import migration_names, schema_version
from workbench.storage.schema_guard import applied_migrations, audit_schema, guard_connection

APPLICATION_ID = 0x50574231  # "PWB1"
SQLITE_MAGIC = b"SQLite format 3\x00"
HEADER_SIZE = 100
_MAX_LISTED = 20  # problems listed per check; the rest are counted


@dataclass(frozen=True)
class Header:
    """The fields of the 100-byte SQLite header that we validate."""

    page_size: int
    page_count: int
    user_version: int
    application_id: int


def wal_path(path: Path) -> Path:
    """The write-ahead log beside `path` (it may hold pages newer than the main file)."""
    return path.with_name(path.name + "-wal")


def _has_wal(path: Path) -> bool:
    try:
        return wal_path(path).stat().st_size > 0
    except OSError:
        return False


def read_header(path: Path) -> Header:
    """Validate that `path` is a whole Prompt Workbench project file by its header alone.

    Raises `ProjectFileError` (one sentence naming the file) for a missing path, a folder, an
    empty or short file, a file that is not SQLite, a damaged header, a truncated file, and a
    SQLite database that is not ours. Reads only; never connects.
    """
    if not path.exists():
        raise ProjectFileError(f"{path}: no such project file.", hint="Check the path.")
    if path.is_dir():
        raise ProjectFileError(f"{path} is a folder, not a project file.")
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise ProjectFileError(f"{path} cannot be read ({exc.strerror}).") from exc
    if not stat.S_ISREG(mode):
        # Reading a FIFO or a device would block or never end: refuse before opening it.
        raise ProjectFileError(f"{path} is {_kind(mode)}, not a project file.")
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            raw = handle.read(HEADER_SIZE)
    except OSError as exc:
        raise ProjectFileError(f"{path} cannot be read ({exc.strerror}).") from exc
    # SQLite treats an empty file as a new database and would write to it: refuse first.
    if size == 0:
        raise ProjectFileError(
            f"{path} is empty (0 bytes), so it is not a Prompt Workbench project."
        )
    if not raw.startswith(SQLITE_MAGIC):
        raise ProjectFileError(
            f"{path} is not a Prompt Workbench project (it is not a SQLite database)."
        )
    if len(raw) < HEADER_SIZE:
        raise ProjectFileError(f"{path} is truncated ({size} bytes); restore it from a backup.")
    (page_size,) = struct.unpack(">H", raw[16:18])
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        raise ProjectFileError(
            f"{path} has a damaged SQLite header (page size {page_size}); restore it from a backup."
        )
    change_counter, page_count = struct.unpack(">II", raw[24:32])
    (valid_for,) = struct.unpack(">I", raw[92:96])
    (user_version,) = struct.unpack(">I", raw[60:64])
    (application_id,) = struct.unpack(">I", raw[68:72])
    # The in-header size is trustworthy only when valid-for matches the change counter, and a
    # non-empty WAL may hold pages the main file does not have yet.
    if change_counter == valid_for and not _has_wal(path) and size < page_count * page_size:
        raise ProjectFileError(
            f"{path} is truncated: its header says {page_count * page_size} bytes but the file "
            f"has {size}; restore it from a backup."
        )
    if size % page_size:
        raise ProjectFileError(
            f"{path} is truncated ({size} bytes is not a whole number of "
            f"{page_size}-byte pages); restore it from a backup."
        )
    if application_id != APPLICATION_ID:
        raise ProjectFileError(
            f"{path} is a SQLite database but not a Prompt Workbench project "
            f"(application id {application_id:#010x})."
        )
    return Header(page_size, page_count, user_version, application_id)


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _cannot_write_here(exc: sqlite3.Error) -> bool:
    """True when SQLite failed because it may not create or write a file, not from damage."""
    name = getattr(exc, "sqlite_errorname", "")
    return name.startswith(("SQLITE_CANTOPEN", "SQLITE_READONLY", "SQLITE_PERM", "SQLITE_AUTH"))


def read_only_place(path: Path) -> str | None:
    """Why `path` cannot be written here (read-only file system, no permission), or None."""
    for target in (path, path.parent):
        try:
            if os.statvfs(target).f_flag & os.ST_RDONLY:
                return f"{path} is on a read-only file system"
        except (OSError, AttributeError):
            pass
        if not os.access(target, os.W_OK):
            what = "the file" if target == path else f"its folder {target}"
            return f"you do not have permission to write {what}"
    return None


def connect_read_only(path: Path, *, immutable: bool = False) -> sqlite3.Connection:
    """A guarded read-only connection; `immutable` skips locking and the WAL (none must exist)."""
    uri = path.resolve().as_uri() + ("?immutable=1" if immutable else "?mode=ro")
    conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
    try:
        guard_connection(conn)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.DatabaseError as exc:
        conn.close()
        if immutable or not _cannot_write_here(exc):
            raise
        if _has_wal(path):
            raise ProjectFileError(
                f"{path} cannot be read here: {read_only_place(path) or 'its folder is read-only'}"
                ", and its write-ahead log (-wal file) still holds changes.",
                hint="Open it once for writing where it can be written, or copy it elsewhere.",
            ) from exc
    # A read-only folder: WAL mode cannot create its -shm file, so read the file as it is.
    conn = sqlite3.connect(path.resolve().as_uri() + "?immutable=1", uri=True)
    return guard_connection(conn)


def _damaged(path: Path, detail: str) -> ProjectFileError:
    # quick_check reports many lines under a "*** in database main ***" banner; show the first.
    lines = [line for line in detail.splitlines() if line.strip() and not line.startswith("***")]
    detail = lines[0] if lines else "unknown damage"
    return ProjectFileError(
        f"{path} is damaged (SQLite reports: {detail}); restore it from a backup.",
        hint=f"`workbench check {path.name}` lists every problem.",
    )


def inspect_database(path: Path) -> tuple[int, list[str]]:
    """Read-only: quick_check, the application id, then the schema audit.

    Returns (user_version, schema problems); the problems are empty for a schema newer than this
    build's (it cannot be compared) and name every foreign or missing object otherwise.
    """
    try:
        conn = connect_read_only(path)
        try:
            rows = [r[0] for r in conn.execute("PRAGMA quick_check(5)").fetchall()]
            application_id = conn.execute("PRAGMA application_id").fetchone()[0]
            user_version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            problems = _schema_problems(conn, user_version) if rows == ["ok"] else []
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise _damaged(path, str(exc)) from exc
    if rows != ["ok"]:
        raise _damaged(path, rows[0])
    if application_id != APPLICATION_ID:
        raise ProjectFileError(
            f"{path} is a SQLite database but not a Prompt Workbench project "
            f"(application id {application_id:#010x})."
        )
    return user_version, problems


def _schema_problems(conn: sqlite3.Connection, version: int) -> list[str]:
    """The audit at the file's version, plus a mismatch between it and the applied migrations."""
    if version > schema_version():
        return []
    applied = applied_migrations(conn)
    if applied != migration_names()[:version]:
        return [f"user_version is {version} but the applied migrations are {applied or 'none'}"]
    return audit_schema(conn, version) if version else []


@dataclass
class CheckReport:
    """The result of `check_project`: ``ok`` when `problems` is empty; `notes` are informational."""

    path: Path
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    schema_version: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def check_project(path: str | os.PathLike[str]) -> CheckReport:
    """Full integrity report for a project file; read-only, never modifies the file."""
    from workbench.storage.project import lock_holder  # lazy: project imports this module

    target = Path(path)
    report = CheckReport(target)
    try:
        read_header(target)
    except ProjectFileError as exc:
        report.problems.append(exc.user_message)
        return report
    # Without a WAL or a writer, an immutable connection leaves no -wal/-shm files behind.
    immutable = not _has_wal(target) and lock_holder(target) is None
    try:
        conn = connect_read_only(target, immutable=immutable)
    except ProjectFileError as exc:
        report.problems.append(exc.user_message)
        return report
    except sqlite3.DatabaseError as exc:
        report.problems.append(f"cannot open the database: {exc}")
        return report
    try:
        _check_database(conn, report)
    except sqlite3.DatabaseError as exc:
        report.problems.append(f"the database is malformed: {exc}")
    finally:
        conn.close()
    return report


def _listed(report: CheckReport, problems: list[str]) -> None:
    report.problems.extend(problems[:_MAX_LISTED])
    if len(problems) > _MAX_LISTED:
        report.problems.append(f"… and {len(problems) - _MAX_LISTED} more like these")


def _check_database(conn: sqlite3.Connection, report: CheckReport) -> None:
    integrity = [r[0] for r in conn.execute("PRAGMA integrity_check(100)").fetchall()]
    if integrity != ["ok"]:
        _listed(report, [f"integrity: {line}" for line in integrity])
        return  # invariants over a damaged b-tree would only repeat the same damage
    fk = conn.execute("PRAGMA foreign_key_check").fetchall()
    _listed(
        report, [f"foreign key: {t} row {rowid} points at a missing {p}" for t, rowid, p, _ in fk]
    )
    if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
        report.problems.append("application id is not Prompt Workbench's")
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    report.schema_version = version
    known = schema_version()
    if version > known:
        report.notes.append(
            f"schema version {version} is newer than this build's ({known}): a newer Prompt "
            "Workbench saved it, so only the SQLite structure was checked"
        )
        return
    schema = _schema_problems(conn, version)
    _listed(report, schema)
    if version < known:
        report.notes.append(
            f"schema version {version} is older than this build's ({known}); "
            "open it for writing once to upgrade it"
        )
    try:
        _check_invariants(conn, report)
    except sqlite3.OperationalError:
        if not schema:
            raise
        # A dropped table or column, already named above, stops the invariants' queries.


def _check_invariants(conn: sqlite3.Connection, report: CheckReport) -> None:
    from workbench.storage.datasets_repo import example_from_row
    from workbench.storage.prompts_repo import version_from_row

    conn.row_factory = sqlite3.Row
    problems: list[str] = []
    versions = conn.execute(
        "SELECT v.*, p.name AS prompt FROM prompt_versions v JOIN prompts p ON p.id = v.prompt_id"
    )
    for row in versions:
        where = f"prompt '{row['prompt']}' version {row['version']}"
        try:
            stored = version_from_row(dict(row))
        except (ValueError, WorkbenchError) as exc:
            problems.append(f"{where} cannot be read: {_first_line(exc)}")
            continue
        if stored.hash != row["hash"]:
            problems.append(f"{where}: stored hash does not match its content")
    mislabelled = conn.execute(
        "SELECT p.name AS prompt, l.name FROM labels l JOIN prompts p ON p.id = l.prompt_id "
        "LEFT JOIN prompt_versions v ON v.id = l.version_id WHERE v.prompt_id IS NOT l.prompt_id"
    )
    for row in mislabelled:
        problems.append(f"prompt '{row[0]}' label '{row[1]}' points at another prompt's version")
    examples = conn.execute(
        "SELECT e.*, d.name AS dataset FROM examples e JOIN datasets d ON d.id = e.dataset_id"
    )
    for row in examples:
        try:
            example_from_row(dict(row))
        except (ValueError, WorkbenchError) as exc:
            problems.append(
                f"dataset '{row['dataset']}' example {row['id']} cannot be read: {_first_line(exc)}"
            )
    meta = conn.execute("SELECT key, value FROM meta")
    for key, value in meta:
        try:
            json.loads(value)
        except ValueError:
            problems.append(f"meta '{key}' is not valid JSON")
    _listed(report, problems)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0]
