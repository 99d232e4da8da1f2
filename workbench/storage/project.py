"""The project file (``*.pwb``): create, open (validate, lock, migrate), back up, close.

Opening never modifies a file it refuses: the header is read with plain ``open()``, the write
lock is a sidecar ``<file>.lock``, and ``PRAGMA quick_check`` runs on a read-only connection
before the file is opened for writing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from sqlite_utils import Database

from workbench.core.errors import BadInput, ProjectFileError
from workbench.core.models import Settings
from workbench.storage.catalog_repo import CatalogRepo
from workbench.storage.check import (
    APPLICATION_ID,
    connect_read_only,
    read_header,
    verify_database,
    wal_path,
)
from workbench.storage.datasets_repo import DatasetsRepo
from workbench.storage.labels_repo import LabelsRepo
from workbench.storage.migrations import apply_migrations, schema_version
from workbench.storage.prompts_repo import PromptsRepo
from workbench.storage.runs_repo import RunsRepo

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


class OlderSchema(ProjectFileError):
    """A read-only open of a project whose schema needs an upgrade (which writes)."""


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
                raise ProjectFileError(
                    f"{self.project_path} cannot be locked for writing ({exc.strerror}).",
                    hint="Open it read-only.",
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


def _read_only_reason(path: Path, version: int, requested: bool) -> str | None:
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
    if version < known and requested:
        # Upgrading writes, so an old schema cannot be read through today's queries.
        raise OlderSchema(
            f"{path} uses an older schema ({version}; this build uses {known}).",
            hint="Open it for writing once to upgrade it.",
        )
    return READ_ONLY_ON_REQUEST if requested else None


def _connect_writable(path: Path) -> Database:
    conn = sqlite3.connect(str(path), timeout=5.0, check_same_thread=False)
    conn.execute("PRAGMA foreign_keys = ON")
    if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return Database(conn, execute_plugins=False)


class Project:
    """An open project file. Use `Project.create` / `Project.open`, then `close()` (or `with`).

    Repositories: `prompts`, `datasets`, `catalog`. `db` is for other storage modules only.
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
        self.catalog = CatalogRepo(self)
        self.runs = RunsRepo(db)
        self.labels = LabelsRepo(self)

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

        Order: the 100-byte header (missing, folder, empty, not SQLite, truncated, not ours);
        the write lock (`ProjectLocked`); ``quick_check`` on a read-only connection; the schema
        version (newer: open read-only with `read_only_reason`). Then migrate and open for writing.
        """
        target = Path(path)
        read_header(target)
        lock = None if read_only else _WriteLock(target)
        if lock is not None:
            lock.acquire()
        try:
            reason = _read_only_reason(target, verify_database(target), read_only)
            if reason is not None:
                if lock is not None:
                    lock.release()
                    lock = None
                db = Database(connect_read_only(target), execute_plugins=False)
            else:
                db = _connect_writable(target)
                apply_migrations(db)
            project = cls(target, db, read_only_reason=reason, lock=lock)
            if reason is None:
                # We hold the write lock, so a run still marked 'running' lost its process.
                project.runs.mark_stale_runs_interrupted()
            return project
        except BaseException as exc:
            if lock is not None:
                lock.release()
            if isinstance(exc, sqlite3.Error):
                raise ProjectFileError(f"{target} could not be opened ({exc}).") from exc
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

    def connect_same(self) -> Project:
        """Another connection to this open project, for the calling thread; the caller closes it.

        It holds no lock of its own (this project keeps it) and keeps the read-only reason, so
        a write through it is refused the same way.
        """
        if self.read_only:
            db = Database(connect_read_only(self.path), execute_plugins=False)
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

    def backup_to(self, dest: PathLike) -> Path:
        """Write a consistent copy to `dest` (replacing it) with SQLite's backup API; "Save as"."""
        target = Path(dest)
        if target.exists() and target.resolve() == self.path.resolve():
            raise ProjectFileError(f"{target} is this project itself; choose another file name.")
        if not target.parent.is_dir():
            raise ProjectFileError(f"{target}: the folder {target.parent} does not exist.")
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        try:
            copy = sqlite3.connect(str(partial))
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
