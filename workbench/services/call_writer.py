"""The run engine's write path: one writer thread, group commit, and a journal for bad days.

All SQL of a run happens on one thread with its own connection, so the event loop never waits on
disk; calls that finish while a commit is in progress share the next one. When the project cannot
be written (full disk, a lock held too long, an I/O error, a damaged schema) every answered call
goes to an fsynced journal beside the project instead (`workbench.storage.journal`), the engine
is told to start no more calls, and `failure_message` says what happened, where the answers are
and how to resume. The next open or resume writes the journal into the project before anything
is sent.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from workbench.core.records import CallRecord
from workbench.storage.journal import (
    CallJournal,
    JournalWriteError,
    apply_journals,
    journal_summary,
)
from workbench.storage.runs_repo import RunsRepo
from workbench.storage.write_errors import ProjectWriteError, database_path, describe_write_error

T = TypeVar("T")


class CallWriter:
    """Owns the writer thread of one run.

    :param connect: opens the storage connection; called on the writer thread
    :param on_failure: called on the event loop with the reason once the project cannot be
        written (the engine stops starting calls)
    """

    def __init__(self, connect: Callable[[], RunsRepo], on_failure: Callable[[str], None]) -> None:
        self._connect = connect
        self._on_failure = on_failure
        self._repo: RunsRepo | None = None
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="workbench-writer", initializer=self._open
        )
        self.project_path: Path | None = None
        self._journal_applied = False
        # Group commit: records that finish while a write is in progress go in the next batch.
        self._batch: list[tuple[CallRecord, asyncio.Future[int | None]]] = []
        self._flusher: asyncio.Task[None] | None = None
        #: why the project cannot be written (None while it can)
        self.failure: str | None = None
        self._journal: CallJournal | None = None
        self.stored = 0
        self._unsaved: list[CallRecord] = []
        self._unsaved_error: str | None = None

    # -- the thread and its connection -------------------------------------------------------
    def _open(self) -> None:
        self._repo = self._connect()
        self.project_path = database_path(self._repo.db)

    async def db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(repo, *args)` on the writer thread.

        The first call writes answered calls a failed earlier run left in a journal into the
        project, so a resume never sends a request whose answer is held. A storage error comes
        back as a `ProjectWriteError` saying in words what went wrong.
        """
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._on_thread, fn, args)

    def _on_thread(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        assert self._repo is not None, "writer connection not open"
        path = self.project_path or Path("project")
        if not self._journal_applied:
            self._apply_earlier_journal(self._repo, path)
        try:
            return fn(self._repo, *args)
        except Exception as exc:
            cause = describe_write_error(exc, path)
            if cause is None:
                raise
            raise ProjectWriteError(f"{path.name} could not be written: {cause}.") from exc

    def _apply_earlier_journal(self, repo: RunsRepo, path: Path) -> None:
        try:
            apply_journals(repo, path)
        except Exception as exc:
            waiting = journal_summary(path)
            why = describe_write_error(exc, path) or str(exc)
            raise ProjectWriteError(
                f"{waiting['calls']} answered call(s) of an earlier run are kept in "
                f"{', '.join(waiting['files'])} but could not be written into {path.name}: "
                f"{why}. Nothing was sent.",
                hint="Fix that, then run again; the answers stay kept until they are written.",
            ) from exc
        self._journal_applied = True

    def close(self) -> None:
        def _close() -> None:
            if self._repo is not None:
                self._repo.project.close()
                self._repo = None

        self._executor.submit(_close).result()
        self._executor.shutdown(wait=True)

    # -- finished calls ----------------------------------------------------------------------
    def persist(self, record: CallRecord) -> asyncio.Future[int | None]:
        """Queue `record`; the future resolves to its call id once committed, or to None once
        kept in the journal instead. It never fails: a paid answer is never lost."""
        future: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._batch.append((record, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return future

    async def drain(self) -> None:
        """Wait until every queued record is committed or journalled."""
        while self._flusher is not None and not self._flusher.done():
            await asyncio.shield(self._flusher)

    async def _flush(self) -> None:
        # One transaction per batch: under load many calls share a commit, when idle each call
        # is committed on its own as soon as it finishes.
        while self._batch:
            batch, self._batch = self._batch, []
            records = [record for record, _ in batch]
            ids: list[int | None] = []
            try:
                if self.failure is None:
                    try:
                        ids = list(await self.db(RunsRepo.record_calls, records))
                        self.stored += len(records)
                    except Exception as exc:  # noqa: BLE001 - any failed write is handled alike
                        self.fail(exc)
                if self.failure is not None:
                    ids = await self._keep_in_journal(records)
            except BaseException:  # cancelled with the loop: the waiters must not hang
                for _, future in batch:
                    if not future.done():
                        future.cancel()
                raise
            for (_, future), call_id in zip(batch, ids, strict=True):
                if not future.done():
                    future.set_result(call_id)

    def fail(self, exc: BaseException) -> None:
        """The project cannot be written: journal from now on and tell the engine."""
        if self.failure is None:
            if isinstance(exc, ProjectWriteError):
                self.failure = exc.user_message
            else:
                name = self.project_path.name if self.project_path else "the project"
                self.failure = f"{name} could not be written ({exc})."
            self._journal = CallJournal(self.project_path or Path("project.pwb"))
        self._on_failure(self.failure)

    async def _keep_in_journal(self, records: list[CallRecord]) -> list[int | None]:
        assert self._journal is not None
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._executor, self._journal.append, records)
        except JournalWriteError as exc:
            self._unsaved.extend(records)
            self._unsaved_error = str(exc)
        return [None] * len(records)

    # -- reporting ---------------------------------------------------------------------------
    def failure_totals(self) -> dict[str, int]:
        """Where the answered calls went, once a write failed (empty while all is well)."""
        if self.failure is None:
            return {}
        return {
            "stored": self.stored,
            "journalled": self._journal.count if self._journal else 0,
            "unsaved": len(self._unsaved),
        }

    def failure_message(self, run_id: int) -> str:
        """One message: what happened, that nothing answered was lost (or what was), and how to
        resume."""
        path = self.project_path or Path("the project")
        journalled = self._journal.count if self._journal else 0
        answered = self.stored + journalled + len(self._unsaved)
        kept = f"{self.stored} in {path.name}"
        if journalled and self._journal is not None and self._journal.path is not None:
            kept += f", {journalled} in {self._journal.path}"
        message = f"{self.failure} The run stopped starting calls. "
        if self._unsaved:
            message += (
                f"Of {answered} answered call(s), {kept}; {len(self._unsaved)} could not be "
                f"kept anywhere ({self._unsaved_error})."
            )
        else:
            message += f"No answered call was lost: {answered} answered ({kept})."
        if journalled:
            message += " The next open or resume writes the kept ones into the project first."
        return (
            message + f" Resume with: workbench run {path} --resume {run_id} "
            "(only the missing cells are sent)."
        )
