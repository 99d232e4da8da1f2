"""The project file (``*.pwb``): create, open (validate, lock, migrate), back up, close.

Opening never modifies a file it refuses: the header is read with plain ``open()``, the write
lock is a sidecar ``<file>.lock``, and ``PRAGMA quick_check`` and the schema audit run on a
read-only connection before the file is opened for writing. A read-only open never writes: an
older schema is upgraded in an in-memory copy, never in the file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import sqlite3
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from sqlite_utils import Database

from workbench.core.errors import BadInput, ProjectFileError
from workbench.core.models import Settings
from workbench.storage.batches_repo import BatchesRepo
from workbench.storage.check import (
    APPLICATION_ID,
    connect_read_only,
    inspect_database,
    read_header,
    read_only_place,
    wal_path,
)
from workbench.storage.datasets_repo import DatasetsRepo
from workbench.storage.files_repo import FilesRepo
from workbench.storage.import_repo import ImportRepo
from workbench.storage.journal import apply_journals_on_open
from workbench.storage.labels_repo import LabelsRepo
from workbench.storage.migrations import apply_migrations, schema_version
from workbench.storage.models_repo import ModelsRepo
from workbench.storage.monitoring_repo import MonitoringRepo
from workbench.storage.prompts_repo import PromptsRepo
from workbench.storage.runs_repo import RunsRepo
from workbench.storage.schema_guard import audit_schema, guard_connection
from workbench.storage.write_errors import BUSY_TIMEOUT_S, describe_write_error

PathLike = str | os.PathLike[str]
READ_ONLY_ON_REQUEST = "It was opened read-only."
_WIN_LOCK_OFFSET = 1 << 30  # Windows locks are mandatory: lock a byte far from the text we read


@dataclass(frozen=True)
class LockHolder:
    """Who holds a project open for writing, as written in its lock file."""

    pid: int | None
    host: str

    def describe(self) -> str:
        pid = f"process {self.pid}" if self.pid is not None else "another process"
        return f"{pid} on {self.host}" if self.host else pid


class ProjectLocked(ProjectFileError):
    """The project is already open for writing elsewhere; `.holder` says by whom."""

    def __init__(self, path: Path, holder: LockHolder) -> None:
        self.holder = holder
        super().__init__(
            f"{path} is already open for writing by {holder.describe()}.",
            hint="Close it there, or open it read-only.",
        )


def lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def _read_holder(fd: int) -> LockHolder:
    os.lseek(fd, 0, os.SEEK_SET)
    lines = os.read(fd, 512).decode("utf-8", "replace").splitlines()
    pid = int(lines[0]) if lines and lines[0].strip().isdigit() else None
    return LockHolder(pid, lines[1].strip() if len(lines) > 1 else "")


def _try_lock(fd: int, *, shared: bool = False) -> bool:
    """Take a non-blocking lock on `fd`; False when another process holds it."""
    try:
        if sys.platform == "win32":
            import msvcrt

            os.lseek(fd, _WIN_LOCK_OFFSET, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, _WIN_LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)


def lock_holder(path: PathLike) -> LockHolder | None:
    """Who holds `path` open for writing, or None; probes without creating anything."""
    try:
        fd = os.open(lock_path(Path(path)), os.O_RDWR)
    except OSError:
        return None
    try:
        if _try_lock(fd, shared=True):
            _unlock(fd)
            return None  # a stale file left by a crash: the OS dropped its lock
        return _read_holder(fd)
    finally:
        os.close(fd)


class _WriteLock:
    """An exclusive lock on ``<project>.lock`` holding our pid and host name."""

    def __init__(self, path: Path) -> None:
        self.project_path = path
        self.path = lock_path(path)
        self._fd: int | None = None

    def acquire(self) -> None:
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                place = read_only_place(self.project_path)
                detail = place if place is not None else exc.strerror
                raise ProjectFileError(
                    f"{self.project_path} cannot be opened for writing ({detail}).",
                    hint="Open it read-only, or copy it to a folder you can write.",
                ) from exc
            if not _try_lock(fd):
                holder = _read_holder(fd)
                os.close(fd)
                raise ProjectLocked(self.project_path, holder)
            # A releasing holder unlinks the file: make sure we locked the one still at the path.
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n{socket.gethostname()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        # Unlink while still holding the lock, so a waiter that opened this inode retries.
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        with contextlib.suppress(OSError):
            _unlock(self._fd)
        os.close(self._fd)
        self._fd = None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def _check_project_name(name: str) -> None:
    if not isinstance(name, str) or not name.strip():
        raise BadInput("A project needs a name.", field="name")


def _schema_reason(path: Path, problems: list[str]) -> str | None:
    """The read-only reason for a schema we did not build (None when it is exactly ours)."""
    if not problems:
        return None
    more = f" and {len(problems) - 1} more" if len(problems) > 1 else ""
    return (
        f"{path.name} has a schema Prompt Workbench did not create ({problems[0]}{more}), so it "
        f"is open read-only; `workbench check {path.name}` names every difference."
    )


def _read_only_reason(
    path: Path, version: int, requested: bool, problems: list[str] | None = None
) -> str | None:
    """Why the project must open read-only (None: writable); raise if it cannot open at all."""
    known = schema_version()
    if version > known:
        return (
            f"{path.name} was saved by a newer Prompt Workbench (schema {version}; this build "
            f"knows {known}), so it is open read-only."
        )
    if version == 0:
        raise ProjectFileError(
            f"{path} was never fully created (it has no schema).",
            hint="Create the project again.",
        )
    foreign = _schema_reason(path, problems or [])
    if foreign is not None:
        return foreign
    if version < known and requested:
        return (
            f"{path.name} uses an older schema ({version}; this build uses {known}), so it is "
            "open read-only; open it for writing once to upgrade it."
        )
    return READ_ONLY_ON_REQUEST if requested else None


def _open_read_only_db(path: Path, version: int) -> Database:
    """A connection that cannot write; an older schema is upgraded in an in-memory copy."""
    conn = connect_read_only(path)
    if version < schema_version():
        copy = sqlite3.connect(":memory:", check_same_thread=False)
        try:
            conn.backup(copy)
        finally:
            conn.close()
        guard_connection(copy)
        with contextlib.suppress(sqlite3.Error):  # a tampered schema may refuse to upgrade
            apply_migrations(Database(copy, execute_plugins=False))
        conn = copy
    conn.execute("PRAGMA query_only = ON")
    return Database(conn, execute_plugins=False)


def _writable_if_still_ours(path: Path, version: int) -> tuple[Database | None, str | None]:
    """A writable connection once the schema is audited on it, before its first write.

    The file may have changed since the read-only audit; if it is no longer ours, the
    connection is closed and the read-only reason returned instead.
    """
    db = _connect_writable(path)
    try:
        reason = _schema_reason(path, audit_schema(db.conn, version))
    except BaseException:
        db.close()
        raise
    if reason is None:
        return db, None
    db.close()
    return None, reason


def _connect_writable(path: Path) -> Database:
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, check_same_thread=False)
    guard_connection(conn)
    conn.execute("PRAGMA foreign_keys = ON")
    if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return Database(conn, execute_plugins=False)


class Project:
    """An open project file. Use `Project.create` / `Project.open`, then `close()` (or `with`).

    Repositories (each takes this project): `prompts`, `datasets`, `catalog` (models, prices and
    metadata), `runs`, `labels`, `imports`, `monitoring`, `batches`. `db` is for storage modules only.
    """

    def __init__(
        self,
        path: Path,
        db: Database,
        *,
        read_only_reason: str | None = None,
        lock: _WriteLock | None = None,
    ) -> None:
        self.path = path
        self.db = db
        self.read_only_reason = read_only_reason
        self._lock = lock
        self.prompts = PromptsRepo(self)
        self.datasets = DatasetsRepo(self)
        self.catalog = ModelsRepo(self)
        self.runs = RunsRepo(self)
        self.imports = ImportRepo(self)
        self.monitoring = MonitoringRepo(self)
        self.batches = BatchesRepo(self)
        self.labels = LabelsRepo(self)
        self.files = FilesRepo(self)
        #: what the schema audit found on open (missing or foreign objects); empty when ours
        self.schema_problems: list[str] = []

    # -- opening and closing ---------------------------------------------------------------

    @classmethod
    def create(cls, path: PathLike, name: str, *, description: str = "") -> Project:
        """Create a new project at `path` (refused if anything exists there) and open it."""
        target = Path(path)
        _check_project_name(name)
        if target.exists() or target.is_symlink():
            raise ProjectFileError(f"{target} already exists; choose a new file name.")
        if not target.parent.is_dir():
            raise ProjectFileError(f"{target}: the folder {target.parent} does not exist.")
        lock = _WriteLock(target)
        lock.acquire()
        db: Database | None = None
        created = False
        try:
            with target.open("xb"):  # claim the name atomically; SQLite fills the empty file
                created = True
            conn = sqlite3.connect(str(target), check_same_thread=False)
            conn.execute("PRAGMA trusted_schema = OFF")
            # application_id first, in rollback mode, so the main file's header is ours at once.
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.close()
            db = _connect_writable(target)
            apply_migrations(db)
            project = cls(target, db, lock=lock)
            with db.atomic():
                project.catalog.set_meta("name", name)
                project.catalog.set_meta("description", description)
                project.catalog.set_meta("settings", Settings().model_dump(mode="json"))
                project.catalog.set_meta("created_at", _now())
            return project
        except BaseException as exc:
            if db is not None:
                db.close()
            if created:  # never remove a file someone else put there meanwhile
                for leftover in (target, wal_path(target), target.with_name(target.name + "-shm")):
                    with contextlib.suppress(OSError):
                        leftover.unlink()
            lock.release()
            if isinstance(exc, (ProjectFileError, KeyboardInterrupt)):
                raise
            raise ProjectFileError(f"{target} could not be created ({exc}).") from exc

    @classmethod
    def open(cls, path: PathLike, *, read_only: bool = False) -> Project:
        """Open an existing project, refusing with one sentence and the file untouched if it fails.

        Order: the 100-byte header (missing, folder, FIFO or device, empty, not SQLite, truncated,
        not ours); a read-only file system or missing permission; the write lock
        (`ProjectLocked`); ``quick_check`` and the schema audit on a read-only connection. A newer
        schema, or one with objects we did not create (or missing ones), opens read-only with
        `read_only_reason`. Otherwise the schema is audited again on the writable connection
        before its first write, then migrated.
        """
        target = Path(path)
        read_header(target)
        if not read_only and (place := read_only_place(target)) is not None:
            raise ProjectFileError(
                f"{target} cannot be opened for writing: {place}.",
                hint="Open it read-only, or copy it to a folder you can write.",
            )
        lock = None if read_only else _WriteLock(target)
        if lock is not None:
            lock.acquire()
        db: Database | None = None
        try:
            version, problems = inspect_database(target)
            reason = _read_only_reason(target, version, read_only, problems)
            if reason is None:
                db, reason = _writable_if_still_ours(target, version)
            if db is None:
                if lock is not None:
                    lock.release()
                    lock = None
                db = _open_read_only_db(target, version)
            else:
                apply_migrations(db)
            project = cls(target, db, read_only_reason=reason, lock=lock)
            project.schema_problems = problems
            if reason is None:
                # We hold the write lock, so a run still marked 'running' lost its process.
                project.runs.mark_stale_runs_interrupted()
                apply_journals_on_open(project.runs, target)
            return project
        except BaseException as exc:
            if db is not None:
                db.close()
            if lock is not None:
                lock.release()
            if isinstance(exc, sqlite3.Error):
                why = describe_write_error(exc, target) or str(exc)
                raise ProjectFileError(f"{target} could not be opened: {why}.") from exc
            raise

    @staticmethod
    def connect_writer(path: PathLike) -> Database:
        """A second writable connection (e.g. for the run engine's thread); the caller closes it.

        Only for a project this process already holds open for writing, so the lock, the checks
        and the migrations have been done; SQLite's WAL serialises the two writers.
        """
        target = Path(path)
        holder = lock_holder(target)
        if holder is None or holder.pid != os.getpid() or holder.host != socket.gethostname():
            raise ProjectFileError(
                f"{target} is not open for writing in this process, so a writer cannot connect."
            )
        return _connect_writable(target)

    @contextlib.contextmanager
    def explaining_schema_errors(self) -> Iterator[None]:
        """Turn a query that fails on a tampered schema (a dropped table) into one clear error."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            if not self.schema_problems:
                raise
            raise ProjectFileError(
                f"{self.path} cannot be read ({exc}): {self.schema_problems[0]}.",
                hint=f"`workbench check {self.path.name}` names every difference; "
                "restore it from a backup.",
            ) from exc

    def connect_same(self) -> Project:
        """Another connection to this open project, for the calling thread; the caller closes it.

        It holds no lock of its own (this project keeps it) and keeps the read-only reason, so
        a write through it is refused the same way.
        """
        if self.read_only:
            # The file's own version: an older one is upgraded in memory again, as on open.
            probe = connect_read_only(self.path)
            try:
                version = probe.execute("PRAGMA user_version").fetchone()[0]
            finally:
                probe.close()
            db = _open_read_only_db(self.path, version)
        else:
            db = self.connect_writer(self.path)
        return Project(self.path, db, read_only_reason=self.read_only_reason)

    def close(self) -> None:
        """Close the connection and release the write lock (safe to call twice)."""
        with contextlib.suppress(sqlite3.ProgrammingError):
            self.db.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> Project:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "writable"
        return f"<Project {str(self.path)!r} {mode}>"

    # -- properties --------------------------------------------------------------------------

    @property
    def read_only(self) -> bool:
        return self.read_only_reason is not None

    @property
    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    @property
    def name(self) -> str:
        return str(self.catalog.get_meta("name", ""))

    @property
    def description(self) -> str:
        return str(self.catalog.get_meta("description", ""))

    @property
    def settings(self) -> Settings:
        return Settings.model_validate(self.catalog.get_meta("settings", {}))

    def set_name(self, name: str, *, description: str | None = None) -> None:
        """Rename the project (and optionally replace its description)."""
        _check_project_name(name)
        self.require_writable("rename the project")
        with self.db.atomic():
            self.catalog.set_meta("name", name)
            if description is not None:
                self.catalog.set_meta("description", description)

    def set_settings(self, settings: Settings) -> None:
        self.require_writable("change settings")
        with self.db.atomic():
            self.catalog.set_meta("settings", settings.model_dump(mode="json"))

    def require_writable(self, action: str = "change the project") -> None:
        """Raise `ProjectFileError` when this project is open read-only."""
        if self.read_only_reason == READ_ONLY_ON_REQUEST:
            raise ProjectFileError(
                f"Cannot {action}: {self.path} is open read-only.",
                hint="Open it for writing to make changes.",
            )
        if self.read_only_reason is not None:
            raise ProjectFileError(
                f"Cannot {action}: {self.path} is open read-only.",
                hint=self.read_only_reason,
            )

    # -- copies ------------------------------------------------------------------------------

    def checkpoint(self) -> bool:
        """Copy every committed change from the WAL into the main file (a plain file copy then
        holds it). PASSIVE: never waits on another connection; True when the WAL was copied
        completely, False when a reader still pinned older frames (they follow next time)."""
        if self.read_only:
            return True
        try:
            busy, log, done = self.db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error:
            return False  # e.g. another writer mid-transaction: the next checkpoint catches up
        return not busy and (log == -1 or done >= log)

    def backup_to(self, dest: PathLike) -> Path:
        """Write a consistent copy to `dest` (replacing it) with SQLite's backup API; "Save as"."""
        target = Path(dest)
        if target.exists() and target.resolve() == self.path.resolve():
            raise ProjectFileError(f"{target} is this project itself; choose another file name.")
        if not target.parent.is_dir():
            raise ProjectFileError(f"{target}: the folder {target.parent} does not exist.")
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        try:
            copy = guard_connection(sqlite3.connect(str(partial)))
            try:
                self.db.conn.backup(copy)
                copy.execute("PRAGMA journal_mode = WAL")
            finally:
                copy.close()  # the last close checkpoints, so the copy is one self-contained file
            os.replace(partial, target)
        except (OSError, sqlite3.Error) as exc:
            with contextlib.suppress(OSError):
                partial.unlink()
            raise ProjectFileError(f"{target} could not be written ({exc}).") from exc
        return target
