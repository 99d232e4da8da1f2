"""The one way the GUI runs slow work: `Operation(parent, fn).success(cb).failure(cb).run()`.

`fn` runs on Qt's global thread pool and must not touch widgets; `success` and `failure`
callbacks run on the GUI thread (queued signal delivery). Modelled on Anki's CollectionOp.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from workbench.core.errors import WorkbenchError

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


def describe_error(exc: BaseException) -> str:
    """One sentence for the user: our own errors as written, anything else as a short report."""
    if isinstance(exc, WorkbenchError):
        return exc.user_message
    return f"Unexpected error: {type(exc).__name__}: {exc}"


class Operation:
    """Background work with GUI-thread callbacks."""

    def __init__(self, parent: QObject | None, fn: Callable[[], Any]) -> None:
        self._fn = fn
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
        QThreadPool.globalInstance().start(_Job(self._fn, self._bridge))
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
