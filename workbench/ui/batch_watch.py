"""The status bar's Message Batches panel: open batches of the project and a Collect button.

When a project opens, the batches stored in it that are not yet collected are listed at once
(the project knows them), then the API is asked in the background how far they are. Collect asks the API in the background and stores every answer
that is ready, each once, like `workbench batch collect`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from workbench.services import batch_runs
from workbench.ui.operations import Operation, describe_error


def summarise(batches: list[dict[str, Any]]) -> str:
    """ "2 Message Batches open (runs #3, #4): 120 of 300 requests done" or ""."""
    open_rows = [b for b in batches if b["status"] != "collected"]
    if not open_rows:
        return ""
    runs = sorted({b["run_id"] for b in open_rows})
    total = sum(b["requests"] for b in open_rows)
    # Counts are empty until the API has been asked once: nothing known to be done yet.
    done = sum(b["requests"] - int(b["counts"].get("processing", b["requests"])) for b in open_rows)
    runs_text = ", ".join(f"#{r}" for r in runs)
    noun = "Batch" if len(open_rows) == 1 else "Batches"
    return (
        f"{len(open_rows)} Message {noun} open (run{'s' if len(runs) > 1 else ''} {runs_text}): "
        f"{done} of {total} requests done when last checked"
    )


class BatchWatch(QWidget):
    """Hidden when no batch is open; ``collected`` carries the reports after a Collect."""

    collected = Signal(object)
    checked = Signal(object)
    """The API was asked about the open batches (None when it could not be reached)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.button = QPushButton("Collect")
        self.button.setToolTip("Store the answers of every Message Batch that has ended")
        self.button.setAccessibleName("Collect Message Batch results")
        self.button.clicked.connect(self.collect)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.button)
        self._path: Path | None = None
        self._base_url: str | None = None
        self.hide()

    def show_project(self, project: Any) -> None:
        """Refresh from the project's stored batches (call with None when it closes)."""
        self._path = project.path if project is not None else None
        self._base_url = project.settings.base_url if project is not None else None
        text = summarise(batch_runs.list_batches(project)) if project is not None else ""
        self.label.setText(text)
        self.setVisible(bool(text))
        if text and self._path is not None:
            self._check(self._path, self._base_url)

    def _check(self, path: Path, base_url: str | None) -> None:
        """Ask the API how the open batches are doing, in the background."""
        Operation(self, lambda: batch_runs.refresh_open_project(path, base_url)).success(
            self._on_checked
        ).failure(lambda exc: self.checked.emit(None)).run()

    def _on_checked(self, batches: list[dict[str, Any]]) -> None:
        if self._path is not None and self.button.isEnabled():
            text = summarise(batches)
            self.label.setText(text)
            self.setVisible(bool(text))
        self.checked.emit(batches)

    def collect(self) -> None:
        if self._path is None:
            return
        path, base_url = self._path, self._base_url
        self.button.setEnabled(False)
        self.label.setText("Collecting Message Batch results…")
        Operation(self, lambda: batch_runs.collect_open_project(path, base_url)).success(
            self._on_collected
        ).failure(self._on_failed).run()

    def _on_collected(self, reports: list[batch_runs.BatchReport]) -> None:
        self.button.setEnabled(True)
        stored = sum(r.stored for r in reports)
        still = sum(r.open_batches for r in reports)
        self.label.setText(
            f"Stored {stored} batch answers; {still} Message Batches still open"
            if still
            else f"Stored {stored} batch answers; no Message Batch is open"
        )
        self.collected.emit(reports)

    def _on_failed(self, exc: BaseException) -> None:
        self.button.setEnabled(True)
        self.label.setText(f"Collect failed: {describe_error(exc)}")
