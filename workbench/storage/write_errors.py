"""Why a project could not be written, in words a user can act on.

SQLite reports a held write lock as "database is locked" and a full disk as "database or disk is
full"; the run engine and the CLI show these as one sentence naming the cause and, for a lock,
the process holding it when the operating system tells us (Linux ``/proc/locks``).
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

from sqlite_utils import Database

from workbench.core.errors import ProjectFileError

#: how long a write waits for another connection's lock before giving up (sqlite3 ``timeout``)
BUSY_TIMEOUT_S = 5.0
# SQLite's WAL write lock is a POSIX lock on this byte of the ``-shm`` file.
_WAL_WRITE_LOCK_BYTE = 120


class ProjectWriteError(ProjectFileError):
    """The project file could not be written (lock, full disk, I/O error, damaged schema)."""


def database_path(db: Database) -> Path:
    """The file behind a connection's main database."""
    for row in db.execute("PRAGMA database_list").fetchall():
        if row[1] == "main":
            return Path(row[2])
    raise ProjectFileError("the connection has no main database")


def lock_holder_description(path: Path) -> str | None:
    """Which other process holds the SQLite write lock on `path`, e.g. "process 812 (python3)"."""
    try:
        inode = os.stat(path.with_name(path.name + "-shm")).st_ino
        with open("/proc/locks", encoding="ascii", errors="replace") as locks:
            lines = locks.read().splitlines()
    except OSError:
        return None  # not Linux, or no shared-memory file yet
    for line in lines:
        fields = line.split()
        if "->" in fields:  # a waiter, not a holder
            continue
        try:
            kind, pid, where, start = fields[3], int(fields[4]), fields[5], fields[6]
        except (IndexError, ValueError):
            continue
        if kind != "WRITE" or not where.endswith(f":{inode}"):
            continue
        if start != str(_WAL_WRITE_LOCK_BYTE):
            continue
        if pid == os.getpid():
            return "another connection in this process"
        return f"process {pid}{_command_name(pid)}"
    return None


def _command_name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as comm:
            return f" ({comm.read().strip()})"
    except OSError:
        return ""


def describe_write_error(exc: BaseException, path: Path) -> str | None:
    """Why writing `path` failed, as a clause ("the disk is full"), or None when `exc` is not a
    storage error. Callers prefix it: "p.pwb could not be written: <clause>."."""
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorname", "") or ""
        text = str(exc)
        if code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
            holder = lock_holder_description(path) or "another process"
            return f"{holder} held its write lock for more than {BUSY_TIMEOUT_S:g} s"
        if code == "SQLITE_FULL" or "disk is full" in text:
            return "the disk is full"
        if code.startswith("SQLITE_IOERR") or "disk I/O error" in text:
            return f"an I/O error occurred ({text})"
        if code.startswith("SQLITE_READONLY"):
            return f"the file cannot be written any more ({text})"
        if code.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "no such" in text:
            return f"the file is damaged ({text}); `workbench check` describes it"
        return text
    if isinstance(exc, OSError):
        if exc.errno == errno.ENOSPC:
            return "the disk is full"
        return str(exc.strerror or exc)
    return None
