"""The worker side of a GUI run: a QThread running the engine on its own asyncio loop, and the
locked buffer its listener fills for the GUI thread to drain (see `RunController`)."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import threading
from typing import Any

from PySide6.QtCore import QObject, QThread

from workbench.core.records import CallRecord, Cell
from workbench.services.planner import RunPlan
from workbench.services.run_service import (
    choose_provider,
    connect_in_thread,
    resume_run,
    start_run,
)
from workbench.services.runner import Progress, RunEngine, RunOptions, RunOutcome

DEMO_CHUNK_DELAY_S = 0.02
Event = tuple[str, int, Any]
"""("started", cell_id, (version_id, model, repeat, position)), ("reset", cell_id, None),
("finished", cell_id, call_id) or ("scored", cell_id, CellVerdict)"""


class EventBuffer:
    """The engine's `RunListener` on the worker thread: fills a buffer the GUI timer drains."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[Event] = []
        self.texts: dict[int, list[str]] = {}
        self.progress: Progress | None = None

    def on_progress(self, progress: Progress) -> None:
        copy = dataclasses.replace(progress)  # the engine keeps mutating its own
        with self.lock:
            self.progress = copy

    def on_cell_started(self, cell: Cell) -> None:
        key = (cell.version_id, cell.model, cell.repeat, cell.position)
        with self.lock:
            self.events.append(("started", cell.id, key))

    def on_cell_text(self, cell_id: int, delta: str) -> None:
        with self.lock:
            self.texts.setdefault(cell_id, []).append(delta)

    def on_cell_reset(self, cell_id: int) -> None:
        """A retry starts the call again: text not yet delivered is void, and the view must
        drop what it already shows."""
        with self.lock:
            self.texts.pop(cell_id, None)
            self.events.append(("reset", cell_id, None))

    def on_cell_finished(self, cell: Cell, call_id: int, record: CallRecord) -> None:
        with self.lock:
            self.events.append(("finished", cell.id, call_id))

    def on_cell_scored(self, verdict: Any) -> None:
        """The cell's call was scored as it landed (a `live_scoring.CellVerdict`)."""
        with self.lock:
            self.events.append(("scored", verdict.cell_id, verdict))

    def take(self) -> tuple[list[Event], dict[int, list[str]], Progress | None]:
        with self.lock:
            taken = self.events, self.texts, self.progress
            self.events, self.texts, self.progress = [], {}, None
        return taken

    def put_back(
        self,
        events: list[Event],
        texts: dict[int, list[str]],
        progress: Progress | None,
    ) -> None:
        """Return what `take` gave, ahead of anything that arrived since."""
        with self.lock:
            resets = {cell_id for kind, cell_id, _ in self.events if kind == "reset"}
            self.events = events + self.events
            for cell_id, pieces in texts.items():
                if cell_id not in resets:  # text from before a newer reset is void
                    self.texts[cell_id] = pieces + self.texts.get(cell_id, [])
            if self.progress is None:
                self.progress = progress


class RunThread(QThread):
    """Runs one `start_run` / `resume_run` on its own asyncio loop."""

    def __init__(
        self,
        parent: QObject,
        *,
        project: Any,
        demo: bool,
        options: RunOptions,
        provider_name: str | None = None,
        buffer: EventBuffer,
        plan: RunPlan | None = None,
        run_id: int | None = None,
    ) -> None:
        super().__init__(parent)
        self.project, self.demo = project, demo
        self.provider_name = provider_name or ("demo" if demo else "anthropic")
        self.options, self.buffer, self.plan, self.run_id = options, buffer, plan, run_id
        self.outcome: RunOutcome | None = None
        self.failure: BaseException | None = None
        self._lock = threading.Lock()
        self._engine: RunEngine | None = None
        self._cancel_reason: str | None = None

    def cancel(self, reason: str) -> None:
        """Thread-safe; works before the engine exists too."""
        with self._lock:
            self._cancel_reason = reason
            engine = self._engine
        if engine is not None:
            engine.cancel(reason)

    def _engine_ready(self, engine: RunEngine) -> None:
        with self._lock:
            self._engine = engine
            reason = self._cancel_reason
        if reason is not None:
            engine.cancel(reason)

    def run(self) -> None:
        try:
            self.outcome = asyncio.run(self._main())
        except BaseException as exc:  # noqa: BLE001 - handed to the GUI thread as an error
            self.failure = exc
        finally:
            with self._lock:
                self._engine = None  # its loop is closed: a late cancel() must not reach it

    async def _main(self) -> RunOutcome:
        # The project over this thread's own connection; the GUI's keeps the lock.
        project = connect_in_thread(self.project)
        try:
            # The provider is built here: importing the SDK takes ~2 s and must not block the
            # GUI. Collections are paused meanwhile and everything alive afterwards (Qt
            # wrappers, the SDK's thousands of type objects) moves to the permanent generation:
            # a full collection walking them all holds the GIL, freezing the window for
            # 100-200 ms at a time.
            gc.disable()
            try:
                provider = choose_provider(
                    project,
                    self.provider_name,
                    stream_delay_s=DEMO_CHUNK_DELAY_S,
                )
            finally:
                gc.freeze()
                gc.enable()
            try:
                common: dict[str, Any] = dict(
                    options=self.options, listener=self.buffer, engine_ready=self._engine_ready
                )
                if self.plan is not None:
                    return await start_run(project, self.plan, provider, **common)
                assert self.run_id is not None
                return await resume_run(project, self.run_id, provider, **common)
            finally:
                await provider.aclose()
        finally:
            project.close()
