"""File ▸ Import production logs…: a JSONL call log becomes calls with source 'import'.

The import (`services.logs_import.import_logs`) runs on the project thread through `ProjectOp`,
on a connection of its own; the dialog then shows "imported N, skipped M", the warnings
and every bad line with its number, and tells the other screens that runs changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.services.logs_import import ImportReport, import_logs
from workbench.ui.context import Change, ProjectContext
from workbench.ui.operations import ProjectOp
from workbench.ui.theme import color, css, themed_style

if TYPE_CHECKING:
    from workbench.ui.main_window import MainWindow

SHOWN_ERRORS = 1000  # a file of a million bad lines must not freeze the table
FILE_FILTER = "JSONL call logs (*.jsonl *.ndjson *.log *.txt);;All files (*)"


class LogImportDialog(QDialog):
    """Choose a JSONL log, import it in the background, show the outcome line by line."""

    imported = Signal(object)  # the ImportReport, after a successful import

    def __init__(self, ctx: ProjectContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.report: ImportReport | None = None
        self.running = False
        self.setWindowTitle("Import production logs")
        self.resize(760, 480)
        intro = QLabel(
            "Reads the JSONL call log your app writes (one call per line: prompt and version, "
            "model, variables or messages, output, latency, tokens, timestamp, thumbs). Good "
            "lines become calls you can chart, review and label; bad lines are listed with "
            "their numbers and skipped. Importing the same file again skips calls already in."
        )
        intro.setWordWrap(True)
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("path/to/llm-calls.jsonl")
        self.path_edit.setAccessibleName("Log file")
        self.path_edit.textChanged.connect(lambda _t: self._update_buttons())
        browse = QPushButton("&Browse…")
        browse.clicked.connect(self.browse)
        file_row = QHBoxLayout()
        file_label = QLabel("&File")
        file_label.setBuddy(self.path_edit)
        file_row.addWidget(file_label)
        file_row.addWidget(self.path_edit, 1)
        file_row.addWidget(browse)

        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("Import result")
        font = self.summary.font()
        font.setBold(True)
        self.summary.setFont(font)
        self.warnings = QLabel()
        self.warnings.setTextFormat(Qt.TextFormat.PlainText)
        self.warnings.setWordWrap(True)
        self.warnings.hide()
        self.errors_title = QLabel()
        self.errors_title.setTextFormat(Qt.TextFormat.PlainText)
        themed_style(self.errors_title, lambda t: f"color: {t.bad.name()}; font-weight: bold;")
        self.errors = QTableWidget(0, 2)
        self.errors.setHorizontalHeaderLabels(["Line", "Problem (line skipped)"])
        self.errors.setAccessibleName("Lines that could not be imported")
        self.errors.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.errors.verticalHeader().setVisible(False)
        header = self.errors.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        for widget in (self.errors_title, self.errors):
            widget.hide()

        self.buttons = QDialogButtonBox()
        self.import_button = self.buttons.addButton(
            "&Import", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.import_button.setDefault(True)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.import_button.clicked.connect(self.start_import)
        self.close_button.clicked.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(file_row)
        layout.addWidget(self.summary)
        layout.addWidget(self.warnings)
        layout.addWidget(self.errors_title)
        layout.addWidget(self.errors, 1)
        layout.addStretch(0)
        layout.addWidget(self.buttons)
        if ctx.project is not None and ctx.read_only:
            self.summary.setText(
                f"{ctx.project.path.name} is open read-only, so nothing can be imported into "
                "it. Open it for writing first."
            )
        self._update_buttons()

    # -- actions -----------------------------------------------------------------------------

    def browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose a JSONL call log", self.path_edit.text(), FILE_FILTER
        )
        if path:
            self.path_edit.setText(path)

    def _update_buttons(self) -> None:
        writable = self.ctx.project is not None and not self.ctx.read_only
        self.import_button.setEnabled(
            writable and not self.running and bool(self.path_edit.text().strip())
        )

    def start_import(self) -> None:
        """Import the chosen file in the background (no-op while one is running)."""
        project = self.ctx.project
        text = self.path_edit.text().strip()
        if project is None or self.running or not text or self.ctx.read_only:
            return
        log = Path(text).expanduser()
        self.running = True
        self._update_buttons()
        self.summary.setStyleSheet("")
        self.summary.setText(f"Importing {log.name}…")
        ProjectOp(
            self,
            self.ctx,
            lambda own: import_logs(own, log),
            change=Change.RUNS,
            detail_of=lambda report: report.run_id,
        ).success(self._on_imported).failure(self._on_failed).run()

    def _on_imported(self, report: ImportReport) -> None:
        self.running = False
        self.report = report
        self._update_buttons()
        nothing = report.imported == 0 and not report.duplicates
        self.summary.setStyleSheet(css("bad") if nothing else "")
        self.summary.setText(report.summary()[:1].upper() + report.summary()[1:])
        self.warnings.setText("\n".join(report.warnings))
        self.warnings.setVisible(bool(report.warnings))
        self._show_errors(report)
        self.imported.emit(report)

    def _show_errors(self, report: ImportReport) -> None:
        errors = report.errors
        shown = errors[:SHOWN_ERRORS]
        self.errors.setRowCount(len(shown))
        for row, error in enumerate(shown):
            number = QTableWidgetItem(str(error.line))
            number.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            message = QTableWidgetItem(error.message)
            message.setToolTip(error.message)
            message.setForeground(QBrush(color("bad")))
            self.errors.setItem(row, 0, number)
            self.errors.setItem(row, 1, message)
        more = f" (the first {SHOWN_ERRORS:,} shown)" if len(errors) > len(shown) else ""
        self.errors_title.setText(
            f"{len(errors):,} bad line(s) skipped{more}: fix them in the file and import it "
            "again; calls already imported are skipped."
        )
        for widget in (self.errors_title, self.errors):
            widget.setVisible(bool(errors))

    def _on_failed(self, message: str) -> None:
        self.running = False
        self._update_buttons()
        self.summary.setStyleSheet(css("bad"))
        self.summary.setText(f"Nothing was imported: {message}")

    def reject(self) -> None:
        if self.running:  # the import finishes in one transaction; let it
            self.summary.setText("Still importing; the dialog closes when it is done.")
            return
        super().reject()


def open_log_import_dialog(window: MainWindow) -> LogImportDialog | None:
    """File ▸ Import production logs…: a window-modal dialog opened without blocking."""
    if window.ctx.project is None:
        return None
    dialog = LogImportDialog(window.ctx, window)
    dialog.finished.connect(dialog.deleteLater)
    window.log_import_dialog = dialog
    dialog.open()
    return dialog
