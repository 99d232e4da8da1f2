"""The one way the GUI runs slow work, modelled on Anki's CollectionOp.

`ProjectOp(parent, ctx, op, change=Change.PROMPTS).success(cb).failure(cb).run()` is for work on
the open project, every write included: `op(project)` runs on the project worker thread with a
connection opened for it there, and on success one typed `ProjectChange` is broadcast.
`Operation(parent, fn)` is for work that needs no project connection (parsing or writing a file).

Work functions run off the GUI thread and must not touch widgets; `success` and `failure`
callbacks run on the GUI thread (queued signal delivery).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from workbench.core.errors import WorkbenchError
from workbench.services.project_session import Project, thread_connection
from workbench.services.projects import checkpoint_project

if TYPE_CHECKING:
    from workbench.ui.context import Change, ProjectContext

T = TypeVar("T")

# Operations alive until their callbacks ran; without this the bridge could be collected early.
_RUNNING: set[Operation] = set()


class _Bridge(QObject):
    done = Signal(object)
    failed = Signal(object)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], bridge: _Bridge) -> None:
        super().__init__()
        self.fn = fn
        self.bridge = bridge

    def run(self) -> None:
        try:
            result = self.fn()
        except BaseException as exc:  # noqa: BLE001 - reported to the GUI, never swallowed
            exc.__workbench_traceback__ = traceback.format_exc()  # type: ignore[attr-defined]
            self.bridge.failed.emit(exc)
        else:
            self.bridge.done.emit(result)


class _Call(QRunnable):
    def __init__(self, fn: Callable[[], None]) -> None:
        super().__init__()
        self.fn = fn

    def run(self) -> None:
        self.fn()


def describe_error(exc: BaseException) -> str:
    """One sentence for the user: our own errors as written, anything else as a short report."""
    if isinstance(exc, WorkbenchError):
        return exc.user_message
    return f"Unexpected error: {type(exc).__name__}: {exc}"


class Operation:
    """Background work with GUI-thread callbacks."""

    def __init__(
        self, parent: QObject | None, fn: Callable[[], Any], *, pool: QThreadPool | None = None
    ) -> None:
        self._fn = fn
        self._pool = pool
        self._bridge = _Bridge(parent)
        self._on_success: Callable[[Any], None] | None = None
        self._on_failure: Callable[[BaseException], None] | None = None
        self._bridge.done.connect(self._finish_ok)
        self._bridge.failed.connect(self._finish_err)

    def success(self, callback: Callable[[Any], None]) -> Operation:
        self._on_success = callback
        return self

    def failure(self, callback: Callable[[BaseException], None]) -> Operation:
        self._on_failure = callback
        return self

    def run(self) -> Operation:
        _RUNNING.add(self)
        (self._pool or QThreadPool.globalInstance()).start(_Job(self._fn, self._bridge))
        return self

    def _finish_ok(self, result: Any) -> None:
        _RUNNING.discard(self)
        if self._on_success is not None:
            self._on_success(result)

    def _finish_err(self, exc: BaseException) -> None:
        _RUNNING.discard(self)
        if self._on_failure is not None:
            self._on_failure(exc)
        else:
            from PySide6.QtWidgets import QApplication, QMessageBox

            QMessageBox.warning(
                QApplication.activeWindow(), "Prompt Workbench", describe_error(exc)
            )


_PROJECT_POOL: list[QThreadPool] = []


def project_pool() -> QThreadPool:
    """The one thread project operations run on, in the order they were started.

    One thread, so a later edit never overtakes an earlier one (an undo never lands before the
    edit it undoes); slow work without a project (`Operation`) keeps the global pool.
    """
    if not _PROJECT_POOL:
        pool = QThreadPool()
        pool.setMaxThreadCount(1)
        _PROJECT_POOL.append(pool)
    return _PROJECT_POOL[0]


def wait_for_project_ops(msecs: int = 30_000) -> bool:
    """Block until every started project operation ran (for quitting and for tests)."""
    return project_pool().waitForDone(msecs)


class ProjectOp(Generic[T]):
    """Work on the open project with a connection of its own thread, then one typed broadcast.

    `op(project)` gets a connection to the open project opened for this operation on the
    project worker thread (never the GUI thread's). On success `success(result)` runs on the GUI
    thread, then `ctx.notify(change, detail)` tells every screen; `detail_of(result)` names the
    item when only the result knows it. A failure (a `WorkbenchError` above all) broadcasts
    nothing and becomes `failure(message)` with `describe_error`'s one sentence; without a
    failure callback the message is shown in a warning box. Each repository write is one
    transaction, so a refused write leaves the project as it was.
    """

    def __init__(
        self,
        parent: QObject,
        ctx: ProjectContext,
        op: Callable[[Project], T],
        *,
        change: Change | None = None,
        detail: Any = None,
        detail_of: Callable[[T], Any] | None = None,
    ) -> None:
        self._parent = parent
        self._ctx = ctx
        self._op = op
        self._change = change
        self._detail = detail
        self._detail_of = detail_of
        self._on_success: Callable[[T], None] | None = None
        self._on_failure: Callable[[str], None] | None = None
        self._project: Project | None = None

    def success(self, callback: Callable[[T], None]) -> ProjectOp[T]:
        self._on_success = callback
        return self

    def failure(self, callback: Callable[[str], None]) -> ProjectOp[T]:
        self._on_failure = callback
        return self

    def run(self) -> ProjectOp[T]:
        """Start the operation (the GUI thread returns at once)."""
        self._project = self._ctx.require()
        Operation(self._parent, self._work, pool=project_pool()).success(self._finish_ok).failure(
            self._finish_err
        ).run()
        return self

    def run_and_wait(self) -> bool:
        """Run it and wait, for a caller that must know the outcome before it goes on.

        Only where the user is already waiting on a decision ("Save before closing?"): the
        write still happens on the project thread, after every operation started before it.
        True when it succeeded (the callbacks have run either way).
        """
        self._project = self._ctx.require()
        outcome: list[Any] = []

        def work() -> None:
            try:
                outcome.append((True, self._work()))
            except Exception as exc:  # noqa: BLE001 - reported through the failure callback
                outcome.append((False, exc))

        pool = project_pool()
        pool.start(_Call(work))
        pool.waitForDone()
        ok, value = outcome[0]
        if ok:
            self._finish_ok(value)
        else:
            self._finish_err(value)
        return bool(ok)

    def _work(self) -> T:
        assert self._project is not None
        with thread_connection(self._project) as own:
            result = self._op(own)
            if self._change is not None:
                # A write: into the .pwb itself at once, so a copy of the file holds it.
                checkpoint_project(own)
            return result

    def _finish_ok(self, result: T) -> None:
        if self._ctx.project is not self._project:
            return  # the project was closed meanwhile: its screens are gone, nothing to tell
        if self._on_success is not None:
            self._on_success(result)
        if self._change is not None:
            detail = self._detail_of(result) if self._detail_of is not None else self._detail
            self._ctx.notify(self._change, detail, initiator=self._parent)

    def _finish_err(self, exc: BaseException) -> None:
        message = describe_error(exc)
        if self._on_failure is not None:
            self._on_failure(message)
            return
        from PySide6.QtWidgets import QMessageBox, QWidget

        window = self._parent.window() if isinstance(self._parent, QWidget) else None
        QMessageBox.warning(window, "Prompt Workbench", message)
