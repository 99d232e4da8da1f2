"""File ▸ Export production config…: the prompt registry a production app loads.

Choose the target file, the label whose versions ship and the rollout controls of each prompt;
the file text is previewed live and, when a file already exists at the target, diffed against
it (ignoring the export time) before anything is written. Settings are saved in the project as
they are edited; Export writes atomically through `export_production` on a background thread.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from workbench.core.errors import BadInput, WorkbenchError
from workbench.core.models import Prompt
from workbench.services.production_export import (
    DEFAULT_LABEL,
    LOADER_FILENAME,
    build_production_export,
    dumps_production,
    export_production,
    format_for,
)
from workbench.services.project_session import Project, check_label_name
from workbench.ui.context import Change, ProjectChange, ProjectContext
from workbench.ui.dialogs.export_preview import CHANGES_TAB, ExportPreview
from workbench.ui.dialogs.production_form import PromptSettingsPanel
from workbench.ui.operations import ProjectOp
from workbench.ui.theme import css

if TYPE_CHECKING:
    from workbench.ui.main_window import MainWindow

DEFAULT_FILENAME = "prompts.json"
_NOTIFY_DELAY_MS = 300  # one "settings" broadcast per burst of spin-box ticks


class ExportDialog(QDialog):
    """Open with `open()`; `exported(path, loader_written)` fires after a successful write."""

    exported = Signal(object, bool)

    def __init__(
        self, ctx: ProjectContext, parent: QWidget | None = None, *, target: Path | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.prompts: list[Prompt] = []
        self._busy = False
        self._notify_timer = QTimer(self, singleShot=True, interval=_NOTIFY_DELAY_MS)
        self._notify_timer.timeout.connect(lambda: self.ctx.notify(Change.EXPORT))
        self.setWindowTitle("Export production config — Prompt Workbench")
        self.resize(1240, 800)
        project = ctx.project
        if target is None and project is not None:
            target = project.path.parent / DEFAULT_FILENAME

        layout = QVBoxLayout(self)
        layout.addWidget(self._build_options(target))
        splitter = QSplitter(Qt.Orientation.Horizontal)
        self.output = ExportPreview()
        self.panel = PromptSettingsPanel(ctx)
        self.panel.saved.connect(self._on_settings_saved)
        self.panel.selected.connect(self.output.scroll_to)
        self.panel.failed.connect(lambda text: self._say(text, error=True))
        splitter.addWidget(self.panel)
        splitter.addWidget(self.output)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([400, 840])
        splitter.setChildrenCollapsible(False)
        layout.addWidget(splitter, 1)
        self.message = QLabel()
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Export status")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_button = self.buttons.addButton(
            "Export", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Close).setAutoDefault(False)
        self.export_button.setDefault(True)
        self.export_button.setToolTip("Write the file shown in the preview (atomically)")
        self.buttons.accepted.connect(self.export)
        self.buttons.rejected.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(self.message, 1)
        bottom.addWidget(self.buttons)
        layout.addLayout(bottom)

        ctx.changed.connect(self._on_project_changed)
        self._reload_prompts()
        if self._target_exists():
            self.output.setCurrentIndex(CHANGES_TAB)  # reopening: show what would change first

    # -- building ------------------------------------------------------------------------------

    def _build_options(self, target: Path | None) -> QGroupBox:
        box = QGroupBox("Export")
        self.target_edit = QLineEdit(str(target) if target else "")
        self.target_edit.setAccessibleName("Target file")
        self.target_edit.setPlaceholderText("prompts.json or prompts.yaml")
        self.target_edit.textChanged.connect(self.refresh)
        self.browse_button = QPushButton("Browse…")
        self.browse_button.setToolTip("Choose the file to write (.json or .yaml)")
        self.browse_button.setAutoDefault(False)  # Enter in a field must not open a file dialog
        self.browse_button.clicked.connect(self.browse)
        target_row = QHBoxLayout()
        target_row.addWidget(self.target_edit, 1)
        target_row.addWidget(self.browse_button)
        self.label_combo = QComboBox()
        self.label_combo.setEditable(True)
        self.label_combo.setAccessibleName("Label to export")
        self.label_combo.setToolTip("Each prompt ships the version this label points at")
        self.label_combo.setMinimumContentsLength(16)
        self.label_combo.currentTextChanged.connect(self._on_label_changed)
        self.skip_box = QCheckBox("Skip prompts without this label")
        self.skip_box.setToolTip("Leave them out instead of refusing to export")
        self.skip_box.toggled.connect(self.refresh)
        label_row = QHBoxLayout()
        label_row.addWidget(self.label_combo)
        label_row.addWidget(self.skip_box)
        label_row.addStretch(1)
        self.loader_box = QCheckBox(
            f"Also write the standalone loader ({LOADER_FILENAME}) beside the file"
        )
        self.loader_box.setToolTip("Standard library only: the production app needs nothing else")
        form = QFormLayout(box)
        form.addRow("Target file", target_row)
        form.addRow("Label", label_row)
        form.addRow("", self.loader_box)
        return box

    # -- state ---------------------------------------------------------------------------------

    def target_path(self) -> Path | None:
        text = self.target_edit.text().strip()
        return Path(text).expanduser() if text else None

    def label(self) -> str:
        return self.label_combo.currentText().strip()

    def _target_exists(self) -> bool:
        path = self.target_path()
        return path is not None and path.is_file()

    def _reload_prompts(self) -> None:
        """Re-read prompts and their labels (kept: the label typed and the prompt selected)."""
        project = self.ctx.project
        self.prompts = project.prompts.list() if project is not None else []
        label = self.label() or DEFAULT_LABEL
        names = {DEFAULT_LABEL, "staging"} | {lb for p in self.prompts for lb in p.labels}
        with QSignalBlocker(self.label_combo):
            self.label_combo.clear()
            ordered = [DEFAULT_LABEL, "staging"] + sorted(names - {DEFAULT_LABEL, "staging"})
            self.label_combo.addItems(ordered)
            self.label_combo.setCurrentText(label)
        self.panel.set_prompts(project, self.prompts, self.label())
        self.refresh()

    # -- reacting ------------------------------------------------------------------------------

    def _on_label_changed(self, _text: str) -> None:
        self.panel.show_label(self.label())
        self.refresh()

    def _on_settings_saved(self, _name: str) -> None:
        self._notify_timer.start()
        self.refresh()

    def _on_project_changed(self, change: ProjectChange) -> None:
        if change.touches(Change.PROJECT) and self.ctx.project is None:
            self.reject()
        elif change.touches(Change.PROJECT | Change.PROMPTS | Change.LABELS):
            self._reload_prompts()

    def browse(self) -> bool:
        """Choose the target with the file dialog; True when one was chosen."""
        start = str(self.target_path() or Path.home() / DEFAULT_FILENAME)
        name, _ = QFileDialog.getSaveFileName(
            self, "Export production config", start, "Production config (*.json *.yaml *.yml)"
        )
        if not name:
            return False
        self.target_edit.setText(name)
        return True

    # -- preview and diff ----------------------------------------------------------------------

    def _problem(self) -> str | None:
        """What stops the export, as one sentence; None when it can go ahead."""
        project = self.ctx.project
        if project is None:
            return "Open a project to export its prompts."
        label = self.label()
        try:
            check_label_name(label)
        except WorkbenchError:
            return "Choose a label: letters, digits, '-', '_' or '.', like production."
        if not self.prompts:
            return "This project has no prompts yet, so there is nothing to export."
        missing = [p.name for p in self.prompts if label not in p.labels]
        if missing and not self.skip_box.isChecked() and len(missing) < len(self.prompts):
            names = ", ".join(f"'{n}'" for n in missing)
            which = "Prompt" if len(missing) == 1 else "Prompts"
            has = "has" if len(missing) == 1 else "have"
            return (
                f"{which} {names} {has} no '{label}' label: point it at a version "
                "(Prompt ▸ Move label) or tick “Skip prompts without this label”."
            )
        if len(missing) == len(self.prompts):
            return f"No prompt has a '{label}' label, so there is nothing to export."
        path = self.target_path()
        if path is None:
            return "Choose the file to write: a .json or .yaml path."
        try:
            format_for(path)
        except BadInput:
            return f"Name the target .json, .yaml or .yml (not '{path.name}')."
        if path.is_dir():
            return f"{path} is a folder: add a file name such as {DEFAULT_FILENAME}."
        if not path.parent.is_dir():
            return f"The folder {path.parent} does not exist: choose another target."
        return None

    def _export_text(self) -> str:
        """The file as it would be written now (prompts without the label left out)."""
        project = self.ctx.require()
        path = self.target_path()
        try:
            fmt = format_for(path) if path is not None else "json"
        except BadInput:
            fmt = "json"
        data = build_production_export(project, label=self.label(), skip_unlabelled=True)
        return dumps_production(data, fmt)

    def refresh(self) -> None:
        """Regenerate the preview and the diff; enable Export only when nothing stops it."""
        if self._busy:
            return
        problem = self._problem()
        text = ""
        if self.ctx.project is not None:  # preview what can be exported, even when blocked
            try:
                text = self._export_text()
            except WorkbenchError as exc:
                problem = problem or exc.user_message
        self.output.show_export(text, self.target_path())
        self.export_button.setEnabled(problem is None)
        if problem is not None:
            self._say(problem, error=True)
        else:
            self._say(self._summary(text))

    def _summary(self, text: str) -> str:
        shipped = sum(1 for p in self.prompts if self.label() in p.labels)
        path = self.target_path()
        action = "replaces" if self._target_exists() else "creates"
        loader = f" and {LOADER_FILENAME}" if self.loader_box.isChecked() else ""
        return (
            f"{shipped} prompt(s) at '{self.label()}', {len(text.splitlines())} lines: "
            f"Export {action} {path}{loader}."
        )

    # -- exporting -----------------------------------------------------------------------------

    def export(self) -> bool:
        """Write the export in the background; the dialog closes when it is written."""
        project = self.ctx.project
        path = self.target_path()
        if project is None or path is None or self._busy or not self.export_button.isEnabled():
            return False
        label, skip, loader = self.label(), self.skip_box.isChecked(), self.loader_box.isChecked()

        def work(own: Project) -> dict[str, Any]:
            return export_production(
                own, path, label=label, skip_unlabelled=skip, write_loader=loader
            )

        def done(data: dict[str, Any]) -> None:
            self._set_busy(False)
            self._say(f"Exported {len(data['prompts'])} prompt(s) to {path}.")
            self.exported.emit(path, loader)
            self.accept()

        def failed(message: str) -> None:
            self._set_busy(False)
            self.refresh()
            self._say(message, error=True)

        self._set_busy(True)
        self._say(f"Writing {path}…")
        ProjectOp(self, self.ctx, work).success(done).failure(failed).run()
        return True

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        widgets: list[QWidget] = [self.export_button, self.target_edit, self.browse_button]
        widgets += [self.label_combo, self.skip_box, self.loader_box, self.panel]
        for widget in widgets:
            widget.setEnabled(not busy)

    def done(self, result: int) -> None:
        if self._notify_timer.isActive():  # announce settings edited just before closing
            self._notify_timer.stop()
            self.ctx.notify(Change.EXPORT)
        super().done(result)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message.setStyleSheet(css("bad" if error else "muted"))
        self.message.setText(text)


def _target_key(project_path: Path) -> str:
    digest = hashlib.sha1(str(project_path).encode("utf-8")).hexdigest()[:16]
    return f"productionExport/{digest}"


def open_export_dialog(window: MainWindow) -> ExportDialog | None:
    """File ▸ Export production config…: the dialog, window-modal and non-blocking."""
    project = window.ctx.project
    if project is None:
        return None
    key = _target_key(project.path)
    stored = window.settings.value(key)
    dialog = ExportDialog(window.ctx, window, target=Path(str(stored)) if stored else None)

    def exported(path: Path, loader: bool) -> None:
        window.settings.setValue(key, str(path))  # the next export starts from the same file
        beside = f" and {LOADER_FILENAME} beside it" if loader else ""
        window.statusBar().showMessage(f"Exported the production config to {path}{beside}", 10000)

    dialog.exported.connect(exported)
    dialog.finished.connect(dialog.deleteLater)
    window.export_dialog = dialog  # type: ignore[attr-defined]
    dialog.open()
    return dialog
