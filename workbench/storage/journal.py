"""Answered calls the project file could not take, kept in an fsynced append-only file.

When a write fails mid-run (full disk, a lock held too long, an I/O error, a damaged schema) the
run engine appends every answered call here instead, so nothing paid for is lost. The file sits
beside the project (``<project>.unsaved-calls``); when that cannot be written either (the disk
is full) it goes to the user's state folder, keyed by the project's absolute path. The next open
or resume writes the calls into the project before anything is sent, then deletes the file.

One JSON object per line; each append starts with a newline so a line torn by a crash never
swallows the next one, and unreadable lines are skipped. Requests hold no API key (the key
travels in a header, never in the request body), so the file holds none either.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workbench.core.records import Attempt, CallRecord
from workbench.storage.runs_repo import RunsRepo

JOURNAL_SUFFIX = ".unsaved-calls"
_FORMAT = 1


class JournalWriteError(OSError):
    """Neither the project's folder nor the state folder could take the answered calls."""


def journal_paths(project_path: Path) -> list[Path]:
    """Where the journal of `project_path` may be: beside it first, then the state folder."""
    project_path = Path(project_path)
    return [
        project_path.with_name(project_path.name + JOURNAL_SUFFIX),
        _fallback_path(project_path),
    ]


def _fallback_path(project_path: Path) -> Path:
    import platformdirs

    key = hashlib.sha256(str(project_path.resolve()).encode("utf-8")).hexdigest()[:16]
    folder = platformdirs.user_state_path("prompt-workbench", appauthor=False)
    return folder / "unsaved-calls" / f"{project_path.stem}-{key}{JOURNAL_SUFFIX}"


def _encode(record: CallRecord) -> str:
    data = dataclasses.asdict(record)
    return json.dumps({"format": _FORMAT, "call": data}, ensure_ascii=False, allow_nan=False)


def _decode(line: str) -> CallRecord | None:
    try:
        data = json.loads(line)
        call = dict(data["call"])
        call["attempts"] = [Attempt(**a) for a in call.get("attempts") or []]
        return CallRecord(**call)
    except (ValueError, TypeError, KeyError):
        return None  # a line torn by a crash while it was written


def _fsync_folder(folder: Path) -> None:
    if os.name == "nt":
        return  # Windows cannot open a folder; its metadata is journalled by NTFS
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _append(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    existed = path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        size = os.fstat(fd).st_size
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except OSError:
            # Take back a partial line so the file holds only whole records.
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)
                if not existed:
                    os.unlink(path)
            raise
    finally:
        os.close(fd)
    if not existed:
        _fsync_folder(path.parent)


class CallJournal:
    """Appends answered calls durably for one project; sticks to the first place that works."""

    def __init__(self, project_path: Path) -> None:
        self.project_path = Path(project_path)
        self._candidates = journal_paths(self.project_path)
        self.path: Path | None = None  # where the calls went, once one append succeeded
        self.count = 0

    def append(self, records: Sequence[CallRecord]) -> Path:
        """Write `records` and fsync; returns the file. Raises `JournalWriteError`."""
        if not records:
            return self.path or self._candidates[0]
        data = ("\n" + "\n".join(_encode(r) for r in records) + "\n").encode("utf-8")
        errors: list[str] = []
        for candidate in self._candidates:
            try:
                _append(candidate, data)
            except OSError as exc:
                errors.append(f"{candidate}: {exc.strerror or exc}")
                # A place that failed once is not trusted again (a half-full disk may take the
                # next small write and leave the records split over two files for no reason).
                self._candidates = [c for c in self._candidates if c != candidate]
                continue
            self.path = candidate
            self.count += len(records)
            return candidate
        raise JournalWriteError("; ".join(errors) or "no place left to keep the answered calls")


def read_journal(path: Path) -> list[CallRecord]:
    """Every whole record in the journal file at `path` (none if it does not exist)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    records = []
    for line in text.splitlines():
        if line.strip():
            record = _decode(line)
            if record is not None:
                records.append(record)
    return records


def pending_journals(project_path: Path) -> list[Path]:
    """The journal files waiting to be written into `project_path`."""
    return [p for p in journal_paths(project_path) if p.is_file()]


def apply_journals(runs: RunsRepo, project_path: Path) -> int:
    """Write every journalled call into the project (once: calls already there are skipped),
    then delete the journal files; returns the number of calls written.

    Raises the storage error when the project cannot take them, leaving the journals in place.
    """
    applied = 0
    repo = runs
    for path in pending_journals(project_path):
        records = read_journal(path)
        with runs.db.atomic():
            fresh = [r for r in records if not repo.has_call(r)]
            repo.record_calls(fresh)
        applied += len(fresh)
        path.unlink()
        _fsync_folder(path.parent)
    return applied


def journal_summary(project_path: Path) -> dict[str, Any]:
    """What waits in the journals of `project_path`: files and number of calls."""
    files = pending_journals(project_path)
    return {"files": [str(f) for f in files], "calls": sum(len(read_journal(f)) for f in files)}


def apply_journals_on_open(runs: RunsRepo, project_path: Path) -> int:
    """`apply_journals` for a project just opened for writing; a failure leaves the journals
    for the run engine, which refuses to send anything until they are written."""
    if not pending_journals(project_path):
        return 0
    try:
        return apply_journals(runs, project_path)
    except Exception:  # noqa: BLE001 - reported by the next run or resume, in words
        return 0
