"""Runs in the GUI: the run engine on a worker QThread with its own asyncio loop.

The engine's listener runs on the worker thread and only appends to a locked buffer; a 50 ms
timer on the GUI thread drains it and emits Qt signals. So however many streams are in flight,
the GUI thread handles at most ~20 batches a second, and streamed text for one cell arrives as
one coalesced delta per batch. Order is kept per cell: started, text…, finished.

The worker opens its own connection to the project (`Project.connect_writer`), so the GUI
thread's connection is never used from another thread.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from workbench.core.errors import WorkbenchError
from workbench.services.planner import RunPlan
from workbench.services.run_service import API_KEY_ENV_VAR, MissingApiKey, ensure_runnable
from workbench.services.runner import Progress, RunOptions
from workbench.ui.context import Change, ProjectChange, ProjectContext
from workbench.ui.dialogs.batch_choice import submit_batch
from workbench.ui.operations import describe_error
from workbench.ui.run_worker import EventBuffer, RunThread

FLUSH_MS = 50
# While a run streams, the worker thread keeps the GIL busy; the GUI thread re-enters Python
# for every model/delegate call during a paint and may wait a whole switch interval each time
# (5 ms by default). 1 ms keeps those waits short; measured by bench/ui_responsiveness.py.
RUN_SWITCH_INTERVAL_S = 0.001
NO_KEY_MESSAGE = (
    "No Anthropic API key is set, so nothing was sent. Open Settings to save a key in the OS "
    f"keyring, or set the {API_KEY_ENV_VAR} environment variable and restart; the offline demo "
    "(workbench --demo) needs no key."
)


def progress_text(progress: Progress) -> str:
    """One line for a status bar: ``12/24 done · 1 error · 3 in flight · $0.0123 · ETA 8 s``."""
    parts = [f"{progress.done}/{progress.total} done"]
    if progress.errors:
        parts.append(f"{progress.errors} error{'s' if progress.errors != 1 else ''}")
    if progress.cached:
        parts.append(f"{progress.cached} cached")
    if progress.in_flight:
        parts.append(f"{progress.in_flight} in flight")
    spend = f"${progress.spend_usd:.4f}"
    if progress.unpriced:  # an unknown cost is never shown as $0
        spend += f" + {progress.unpriced} of unknown cost"
    parts.append(spend)
    eta = progress.eta_s
    if progress.status == "running" and eta:
        parts.append(f"ETA {eta:.0f} s" if eta < 120 else f"ETA {eta / 60:.0f} min")
    elif progress.status != "running":
        parts.append(progress.status)
    return " · ".join(parts)


class RunController(QObject):
    """Starts, streams, cancels and resumes runs for the window; one run at a time."""

    run_planned = Signal(object)
    """A plan is about to run (emitted before the worker starts; the grid lays it out)."""
    run_started = Signal(int)
    progress = Signal(object)
    cell_started = Signal(int)
    """A cell's call starts, or starts again for a retry (what it streamed so far is void)."""
    cell_text = Signal(int, str)
    cell_finished = Signal(int, int)
    cell_scored = Signal(object)
    """A finished cell was scored against its expectations (a `live_scoring.CellVerdict`)."""
    run_finished = Signal(object)
    error = Signal(str)
    batch_submitted = Signal(object)
    """A plan went out as Message Batches (a `services.batch_runs.BatchReport`)."""

    def __init__(self, ctx: ProjectContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.run_id: int | None = None
        self.last_progress: Progress | None = None
        self.partial_text: dict[int, str] = {}
        """Text streamed so far by each cell in flight (for a grid opened mid-run)."""
        self.cell_keys: dict[int, tuple[int, str, int, int]] = {}
        """(version_id, model, repeat, position) of each cell started in this run."""
        self._thread: RunThread | None = None
        self._active: set[int] = set()
        self._announced = False
        self._switch_interval = sys.getswitchinterval()
        self._buffer = EventBuffer()
        self._timer = QTimer(self)
        self._timer.setInterval(FLUSH_MS)
        self._timer.timeout.connect(self._flush)
        ctx.changed.connect(self._on_context_changed)

    @property
    def running(self) -> bool:
        return self._thread is not None

    # -- starting ------------------------------------------------------------------------------
    def open_run_dialog(
        self,
        parent_widget: QWidget | None,
        prompts: list[str] | None = None,
        dataset: str | None = None,
    ) -> Any:
        """Open the run dialog (non-modal `open()`); Run in it starts the run. Returns it."""
        from workbench.ui.dialogs.run_dialog import RunDialog

        if not self._can_start():
            return None
        dialog = RunDialog(self.ctx, parent_widget, prompts=prompts, dataset=dataset)
        dialog.accepted.connect(lambda: self._start_from(dialog))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def _start_from(self, dialog: Any) -> None:
        plan, options = dialog.plan, dialog.options()
        if plan is not None and dialog.as_batch.chosen:
            submit_batch(self, plan, options.use_cache)
        elif plan is not None:
            self.start(plan, options)

    def start(self, plan: RunPlan, options: RunOptions | None = None) -> bool:
        """Start executing `plan` in the background; False (and `error`) if it cannot start."""
        if not self._can_start():
            return False
        try:
            ensure_runnable(plan)
        except WorkbenchError as exc:
            self.error.emit(describe_error(exc))
            return False
        self.run_planned.emit(plan)
        return self._launch(options, plan=plan)

    def resume(self, run_id: int, options: RunOptions | None = None) -> bool:
        """Run the cells of `run_id` that are missing, failed or cancelled."""
        if not self._can_start():
            return False
        return self._launch(options, run_id=run_id)

    def _can_start(self) -> bool:
        project = self.ctx.project
        if project is None:
            self.error.emit("Open a project first.")
            return False
        if self.running:
            self.error.emit("A run is already in progress; stop it or wait for it to finish.")
            return False
        if project.read_only:
            self.error.emit(
                f"{project.path.name} is open read-only, so runs cannot be started or resumed."
            )
            return False
        return True

    def _launch(
        self, options: RunOptions | None, *, plan: RunPlan | None = None, run_id: int | None = None
    ) -> bool:
        project = self.ctx.require()
        self._buffer = EventBuffer()
        self.run_id, self.last_progress = run_id, None
        self.partial_text.clear()
        self.cell_keys.clear()
        self._active.clear()
        self._announced = False
        thread = RunThread(
            self,
            project=project,
            demo=self.ctx.demo,
            provider_name=self.ctx.provider_name,
            options=options or RunOptions(concurrency=project.settings.default_concurrency),
            buffer=self._buffer,
            plan=plan,
            run_id=run_id,
        )
        thread.finished.connect(self._on_thread_finished)
        self._thread = thread
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._switch_interval, RUN_SWITCH_INTERVAL_S))
        thread.start()
        self._timer.start()
        return True

    # -- control -------------------------------------------------------------------------------
    def cancel(self, reason: str = "cancelled by the user") -> None:
        """Stop the run: no new calls, in-flight ones aborted; finished calls are kept."""
        if self._thread is not None:
            self._thread.cancel(reason)

    def wait(self, timeout_ms: int = 10_000) -> bool:
        """Block until the worker ends (for shutdown and tests); True if it did."""
        if self._thread is None:
            return True
        return self._thread.wait(timeout_ms)

    def _on_context_changed(self, change: ProjectChange) -> None:
        if not change.touches(Change.PROJECT):
            return
        if self.running:
            self.cancel("the project was closed")
        project = self.ctx.project
        if project is not None and not project.read_only and not self.running:
            # Runs left 'running' by a process that died can only be resumed.
            try:
                project.runs.mark_stale_runs_interrupted()
            except WorkbenchError as exc:
                self.error.emit(describe_error(exc))

    # -- delivering events on the GUI thread ------------------------------------------------------
    def _flush(self, *, final: bool = False) -> bool:
        """Deliver buffered events; True if some were held back for the next tick."""
        events, texts, progress = self._buffer.take()
        if progress is not None and not self._announced:
            self._announced = True
            self.run_id = progress.run_id
            self.run_started.emit(progress.run_id)
            self.ctx.notify(Change.RUNS, progress.run_id)
            if not final:
                # Showing the run is the heaviest step; the first cells wait one tick so the
                # window gets to breathe between the two.
                self._buffer.put_back(events, texts, progress)
                return True
        for kind, cell_id, detail in events:
            if kind == "started":
                self._active.add(cell_id)
                self.cell_keys[cell_id] = detail
                self.cell_started.emit(cell_id)
            elif kind == "scored":
                self.cell_scored.emit(detail)
            elif kind == "reset":
                # A retry streams from scratch: the cell starts again, with no text.
                self.partial_text.pop(cell_id, None)
                self.cell_started.emit(cell_id)
            else:
                call_id = detail
                self._active.discard(cell_id)
                pending = texts.pop(cell_id, None)
                if pending:
                    self.cell_text.emit(cell_id, "".join(pending))
                self.partial_text.pop(cell_id, None)
                self.cell_finished.emit(cell_id, call_id)
        for cell_id, pieces in texts.items():
            delta = "".join(pieces)
            self.partial_text[cell_id] = self.partial_text.get(cell_id, "") + delta
            self.cell_text.emit(cell_id, delta)
        if progress is None and events and self.last_progress is not None:
            progress = dataclasses.replace(self.last_progress)
        if progress is not None:
            # The engine reports progress when cells finish; the cells started since then are
            # in flight too, and a status bar should say so while the first answers stream.
            progress.in_flight = max(progress.in_flight, len(self._active))
            self.last_progress = progress
            self.progress.emit(progress)
        return False

    def _on_thread_finished(self) -> None:
        thread = self._thread
        if thread is None:
            return
        thread.wait()
        sys.setswitchinterval(self._switch_interval)
        self._timer.stop()
        self._flush(final=True)
        self._thread = None
        self.partial_text.clear()
        thread.deleteLater()
        if thread.failure is not None:
            failure = thread.failure
            self.error.emit(
                NO_KEY_MESSAGE if isinstance(failure, MissingApiKey) else _message(failure)
            )
            if self.run_id is not None:
                self.ctx.notify(Change.RUNS, self.run_id)
            return
        outcome = thread.outcome
        assert outcome is not None
        self.run_id = outcome.run_id
        self.run_finished.emit(outcome)
        self.ctx.notify(Change.RUNS, outcome.run_id)


def _message(exc: BaseException) -> str:
    return f"The run stopped: {describe_error(exc)}"
