"""The one window: toolbar, sidebar dock, centre tabs (prompt editor, dataset, run grid),
inspector dock, run status bar, and every action in a menu with a shortcut and a status tip.

Screens never call each other for refreshes: they listen to `ctx.changed`. The window only
routes what the user asked for (open this prompt, show that run) to the right screen.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSizePolicy,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.core.errors import WorkbenchError
from workbench.storage.project import Project, ProjectLocked
from workbench.ui.context import ProjectContext
from workbench.ui.operations import Operation, describe_error
from workbench.ui.recent import RecentProjects
from workbench.ui.run_controller import RunController
from workbench.ui.run_status import RunStatus
from workbench.ui.sidebar import RESUMABLE, Sidebar
from workbench.ui.widgets.call_inspector import CallInspector
from workbench.ui.widgets.dataset_editor import DatasetEditor
from workbench.ui.widgets.prompt_editor import PromptEditor
from workbench.ui.widgets.run_grid import RunGrid
from workbench.ui.window_menus import build_menus

APP_TITLE = "Prompt Workbench"
DEMO_BANNER = "offline demo — synthetic responses"
PROJECT_FILTER = "Prompt Workbench projects (*.pwb);;Text bundles (*.yaml *.yml);;All files (*)"
EDITOR_TAB, DATASET_TAB, GRID_TAB = 0, 1, 2


def _open_project(path: Path, read_only: bool) -> Project:
    """Open (worker thread): validate, lock, migrate, and mark runs a dead process left running."""
    project = Project.open(path, read_only=read_only)
    runs = getattr(project, "runs", None)
    if runs is not None and not project.read_only:
        runs.mark_stale_runs_interrupted()  # we hold the write lock, so nothing else is running
    return project


class MainWindow(QMainWindow):
    """The application window for one `ProjectContext`.

    :param settings: where layout and recent files are remembered (default: the app's QSettings)
    :param remember_layout: restore and save dock/splitter layout (off for the self-test)
    """

    def __init__(
        self,
        ctx: ProjectContext,
        *,
        settings: QSettings | None = None,
        remember_layout: bool = True,
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.settings = settings or QSettings()
        self.recent = RecentProjects(self.settings)
        self.remember_layout = remember_layout
        self._temp_dirs: list[tempfile.TemporaryDirectory[str]] = []
        self.settings_dialog: QWidget | None = None
        self.shortcuts_dialog: QWidget | None = None
        self.setObjectName("mainWindow")
        self.resize(1280, 800)
        self.controller = RunController(ctx, self)
        self._build_centre()
        self._build_docks()
        self.actions_by_name: dict[str, QAction] = build_menus(self)
        self._build_toolbar()
        self._build_status_bar()
        self._default_state = self.saveState()
        self._connect()
        if remember_layout:
            self.restore_layout()
        self._on_project_changed("project", ctx.project)

    # -- building ----------------------------------------------------------------------------

    def _build_centre(self) -> None:
        self.editor = PromptEditor(self.ctx)
        self.dataset_editor = DatasetEditor(self.ctx)
        self.grid = RunGrid(self.ctx)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.editor, "Prompt editor")
        self.tabs.addTab(self.dataset_editor, "Dataset")
        self.tabs.addTab(self.grid, "Run grid")
        self.banner = QLabel(DEMO_BANNER)
        self.banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.banner.setStyleSheet(
            "background: #fcf4d6; color: #684e00; border-bottom: 1px solid #f1c21b; padding: 4px;"
        )
        self.banner.setAccessibleName("Offline demo notice")
        self.banner.setVisible(self.ctx.demo)
        centre = QWidget()
        layout = QVBoxLayout(centre)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(centre)

    def _build_docks(self) -> None:
        self.sidebar = Sidebar(self.ctx)
        self.sidebar_dock = QDockWidget("Project", self)
        self.sidebar_dock.setObjectName("sidebarDock")
        self.sidebar_dock.setWidget(self.sidebar)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.sidebar_dock)
        self.inspector = CallInspector(self.ctx)
        self.inspector_dock = QDockWidget("Inspector", self)
        self.inspector_dock.setObjectName("inspectorDock")
        self.inspector_dock.setWidget(self.inspector)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.inspector_dock)
        self.resizeDocks(
            [self.sidebar_dock, self.inspector_dock], [250, 320], Qt.Orientation.Horizontal
        )

    def _build_toolbar(self) -> None:
        bar = self.addToolBar("Main")
        bar.setObjectName("mainToolbar")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.project_button = QToolButton()
        self.project_button.setText("Project ▾")
        self.project_button.setToolTip("New, open, recent, save as, close")
        self.project_button.setMenu(self.file_menu)
        self.project_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        bar.addWidget(self.project_button)
        bar.addSeparator()
        for name in ("run", "stop", "review", "export"):
            bar.addAction(self.actions_by_name[name])
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        self.key_label = QLabel()
        self.key_label.setTextFormat(Qt.TextFormat.PlainText)
        self.key_label.setAccessibleName("Model and key status")
        bar.addWidget(self.key_label)
        self.toolbar = bar

    def _build_status_bar(self) -> None:
        self.run_status = RunStatus()
        self.statusBar().addPermanentWidget(self.run_status)

    def _connect(self) -> None:
        self.ctx.changed.connect(self._on_project_changed)
        self.editor.title_changed.connect(lambda text: self.tabs.setTabText(EDITOR_TAB, text))
        self.editor.status_message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.sidebar.prompt_opened.connect(self.show_prompt)
        self.sidebar.dataset_opened.connect(self.show_dataset)
        self.sidebar.run_opened.connect(self.show_run)
        self.sidebar.resume_requested.connect(self.resume_run)
        self.sidebar.run_requested.connect(self.open_run_dialog)
        self.sidebar.new_prompt_requested.connect(self.new_prompt)
        self.sidebar.compare_requested.connect(self._on_compare_requested)
        self.grid.call_selected.connect(self._on_call_selected)
        self.controller.run_started.connect(self._on_run_started)
        self.controller.progress.connect(self.run_status.update_progress)
        self.controller.run_finished.connect(self._on_run_finished)
        self.run_status.cancel_requested.connect(self.stop_run)

    # -- layout memory -----------------------------------------------------------------------

    def restore_layout(self) -> None:
        geometry = self.settings.value("mainwindow/geometry")
        state = self.settings.value("mainwindow/state")
        splitter = self.settings.value("mainwindow/editorSplitter")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            self.restoreState(state)
        if isinstance(splitter, QByteArray):
            self.editor.splitter.restoreState(splitter)

    def save_layout(self) -> None:
        self.settings.setValue("mainwindow/geometry", self.saveGeometry())
        self.settings.setValue("mainwindow/state", self.saveState())
        self.settings.setValue("mainwindow/editorSplitter", self.editor.splitter.saveState())
        self.settings.sync()

    def reset_layout(self) -> None:
        """View ▸ Reset layout: docks and toolbar back where they started."""
        self.restoreState(self._default_state)
        for dock in (self.sidebar_dock, self.inspector_dock):
            dock.show()
        self.resizeDocks(
            [self.sidebar_dock, self.inspector_dock], [250, 320], Qt.Orientation.Horizontal
        )

    # -- projects ----------------------------------------------------------------------------

    def _can_replace_project(self) -> bool:
        if self.controller.running:
            self.show_error("A run is in progress. Stop it (Esc) before closing this project.")
            return False
        return self.editor.maybe_discard_changes()

    def open_path(
        self,
        path: Path | str,
        *,
        read_only: bool = False,
        remember: bool = True,
        background: bool = True,
    ) -> bool:
        """Open a project file (or a bundle, loaded into a temporary project).

        In the background by default; False when the user kept the current project, or (when
        `background` is False) when opening failed.
        """
        path = Path(path)
        if not self._can_replace_project():
            return False
        if path.suffix.lower() in (".yaml", ".yml"):
            try:
                path = self._project_from_bundle(path)
            except WorkbenchError as exc:
                self.show_error(exc.user_message)
                return False
            remember = False
        self.statusBar().showMessage(f"Opening {path}…")
        if not background:
            try:
                project = _open_project(path, read_only)
            except Exception as exc:
                self._on_open_failed(path, exc)
                return False
            self._on_opened(project, remember)
            return True
        Operation(self, lambda: _open_project(path, read_only)).success(
            lambda project: self._on_opened(project, remember)
        ).failure(lambda exc: self._on_open_failed(path, exc)).run()
        return True

    def _project_from_bundle(self, bundle: Path) -> Path:
        from workbench.services.project_catalog import seed_defaults
        from workbench.services.projects import create_project

        folder = tempfile.TemporaryDirectory(prefix="workbench-")
        self._temp_dirs.append(folder)
        path = Path(folder.name) / f"{bundle.stem}.pwb"
        create_project(path, bundle=bundle)
        with Project.open(path) as project:
            seed_defaults(project)
        self.statusBar().showMessage(
            f"{bundle.name} is loaded into a temporary project; use File ▸ Save As to keep it."
        )
        return path

    def _on_opened(self, project: Project, remember: bool) -> None:
        self.ctx.set_project(project)
        if remember:
            self.recent.add(project.path)
        note = f" — {project.read_only_reason}" if project.read_only else ""
        self.statusBar().showMessage(f"Opened {project.path}{note}", 8000)
        prompts = project.prompts.names()
        if prompts:
            self.show_prompt(prompts[0])
        runs = getattr(project, "runs", None)
        latest = runs.latest_run_id() if runs is not None else None
        if latest is not None:
            self.grid.show_run(latest)

    def _on_open_failed(self, path: Path, exc: BaseException) -> None:
        self.statusBar().clearMessage()
        if isinstance(exc, ProjectLocked):
            answer = QMessageBox.question(
                self,
                APP_TITLE,
                f"{exc.user_message}\n\nOpen it read-only instead?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.Yes,
            )
            if answer == QMessageBox.StandardButton.Yes:
                self.open_path(path, read_only=True)
            return
        self.show_error(describe_error(exc))

    def show_error(self, text: str) -> None:
        """One sentence in a message box (and the status bar)."""
        self.statusBar().showMessage(text, 10000)
        QMessageBox.warning(self, APP_TITLE, text)

    def new_project(self) -> bool:
        """File ▸ New: choose a file name, create it with the default prices and models."""
        if not self._can_replace_project():
            return False
        name, _ = QFileDialog.getSaveFileName(
            self, "New project", str(self._last_folder() / "untitled.pwb"), PROJECT_FILTER
        )
        if not name:
            return False
        path = Path(name) if Path(name).suffix else Path(name).with_suffix(".pwb")
        from workbench.services.project_catalog import seed_defaults

        try:
            project = Project.create(path, path.stem)
            seed_defaults(project)
        except WorkbenchError as exc:
            self.show_error(exc.user_message)
            return False
        self._on_opened(project, remember=True)
        return True

    def open_dialog(self) -> bool:
        """File ▸ Open…"""
        name, _ = QFileDialog.getOpenFileName(
            self, "Open project", str(self._last_folder()), PROJECT_FILTER
        )
        return bool(name) and self.open_path(Path(name))

    def save_copy(self, dest: Path) -> Path:
        """Write a consistent copy of the open project to `dest` (synchronously)."""
        return self.ctx.require().backup_to(dest)

    def save_as(self) -> bool:
        """File ▸ Save As: copy with SQLite's backup API (in the background), then open the copy."""
        project = self.ctx.project
        if project is None or not self._can_replace_project():
            return False
        name, _ = QFileDialog.getSaveFileName(
            self,
            "Save project as",
            str(project.path.with_name(project.path.stem + "-copy.pwb")),
            PROJECT_FILTER,
        )
        if not name:
            return False
        dest = Path(name) if Path(name).suffix else Path(name).with_suffix(".pwb")
        self.statusBar().showMessage(f"Saving a copy to {dest}…")
        self.actions_by_name["save_as"].setEnabled(False)

        def done(path: Path) -> None:
            self.actions_by_name["save_as"].setEnabled(True)
            self.ctx.set_project(None)  # release this file's lock; the copy becomes the project
            self.open_path(path)

        def failed(exc: BaseException) -> None:
            self.actions_by_name["save_as"].setEnabled(True)
            self.show_error(describe_error(exc))

        Operation(self, lambda: project.backup_to(dest)).success(done).failure(failed).run()
        return True

    def export_bundle(self) -> bool:
        """Export ▸ the project as a git-friendly text bundle (YAML)."""
        project = self.ctx.project
        if project is None:
            return False
        name, _ = QFileDialog.getSaveFileName(
            self, "Export bundle", str(project.path.with_suffix(".yaml")), "Text bundles (*.yaml)"
        )
        if not name:
            return False
        from workbench.services.projects import export_bundle_text
        from workbench.storage.files import write_text_atomic

        try:
            write_text_atomic(Path(name), export_bundle_text(project))
        except (WorkbenchError, OSError) as exc:
            self.show_error(describe_error(exc))
            return False
        self.statusBar().showMessage(f"Exported the bundle to {name}", 8000)
        return True

    def close_project(self) -> bool:
        if self.ctx.project is None or not self._can_replace_project():
            return False
        self.ctx.set_project(None)
        return True

    def _last_folder(self) -> Path:
        recent = self.recent.paths()
        return recent[0].parent if recent else Path.home()

    # -- routing user requests ---------------------------------------------------------------

    def show_prompt(self, name: str, version: int | None = None) -> None:
        same = self.editor.prompt_name == name and version in (None, self.editor.base_version)
        if same or self.editor.show_prompt(name, version):
            self.tabs.setCurrentIndex(EDITOR_TAB)

    def show_dataset(self, name: str) -> None:
        self.dataset_editor.show_dataset(name)
        self.tabs.setCurrentIndex(DATASET_TAB)

    def show_run(self, run_id: int) -> None:
        self.grid.show_run(run_id)
        self.tabs.setCurrentIndex(GRID_TAB)

    def new_prompt(self) -> None:
        self.tabs.setCurrentIndex(EDITOR_TAB)
        self.editor.new_prompt()

    def _on_compare_requested(self, name: str) -> None:
        self.show_prompt(name)
        if self.editor.prompt_name == name:
            self.editor.compare()

    def _prompt_refs(self) -> list[str] | None:
        ref = self.sidebar.selected_prompt_ref()
        if ref is None and self.editor.prompt_name and self.editor.base_version:
            ref = f"{self.editor.prompt_name}@{self.editor.base_version}"
        return [ref] if ref else None

    def open_run_dialog(self, prompts: Any = None, dataset: Any = None) -> None:
        """Run ▸ Run…: the run dialog (preflight first) for the selected prompt version."""
        if self.ctx.project is None:
            return
        self.controller.open_run_dialog(
            self, prompts=prompts or self._prompt_refs(), dataset=dataset
        )

    def stop_run(self) -> None:
        if self.controller.running:
            self.controller.cancel()
            self.statusBar().showMessage("Stopping: no new calls start; calls in flight finish.")

    def resume_run(self, run_id: int | None = None) -> None:
        """Run ▸ Resume: the selected run, else the latest run that did not finish."""
        project = self.ctx.project
        if project is None or self.controller.running:
            return
        if run_id is None:
            selected = self.sidebar.selected_run()
            if selected is not None and selected[1] in RESUMABLE:
                run_id = selected[0]
        if run_id is None:
            runs = getattr(project, "runs", None)
            open_runs = [r for r in (runs.summaries() if runs else []) if r["status"] in RESUMABLE]
            run_id = int(open_runs[-1]["id"]) if open_runs else None
        if run_id is None:
            self.statusBar().showMessage("No interrupted or cancelled run to resume.", 8000)
            return
        self.controller.resume(run_id)

    def _on_call_selected(self, call_id: int) -> None:
        self.inspector.show_call(call_id)
        self.inspector_dock.show()

    def _on_run_started(self, run_id: int) -> None:
        self.run_status.started(run_id)
        self.show_run(run_id)
        self._update_actions()

    def _on_run_finished(self, outcome: Any) -> None:
        self.run_status.finished(outcome)
        self.statusBar().showMessage(f"Run #{outcome.run_id} {outcome.status}.", 8000)
        self.ctx.notify("runs", outcome.run_id)
        self._update_actions()

    # -- state -------------------------------------------------------------------------------

    def _on_project_changed(self, kind: str, _detail: object) -> None:
        if kind in ("project", "settings"):
            self._update_title()
            self._update_key_label()
        if kind == "project":
            self.banner.setVisible(self.ctx.demo)
            if self.ctx.project is None:
                self.dataset_editor.show_dataset(None)
                self.inspector.show_call(None)
        self._update_actions()

    def _update_title(self) -> None:
        project = self.ctx.project
        if project is None:
            self.setWindowTitle(APP_TITLE)
            return
        flags = " [read-only]" if project.read_only else ""
        flags += " [offline demo]" if self.ctx.demo else ""
        self.setWindowTitle(f"{project.name} — {project.path}{flags} — {APP_TITLE}")

    def _update_key_label(self) -> None:
        if self.ctx.demo:
            self.key_label.setText("echo provider · offline demo  ")
            return
        from workbench.ui.dialogs.settings_dialog import key_status

        self.key_label.setText(f"{key_status()}  ")

    def _update_actions(self) -> None:
        has = self.ctx.project is not None
        writable = has and not self.ctx.read_only
        running = self.controller.running
        enable = {
            "save_as": has,
            "close": has,
            "export": has,
            "new_prompt": writable,
            "save_version": writable,
            "compare": has,
            "move_label": writable,
            "run": writable and not running,
            "stop": running,
            "resume": writable and not running,
        }
        for name, on in enable.items():
            self.actions_by_name[name].setEnabled(on)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if self.controller.running:
            answer = QMessageBox.question(
                self,
                APP_TITLE,
                "A run is in progress. Stop it and close the window?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
            self.controller.cancel()
        if not self.editor.maybe_discard_changes():
            event.ignore()
            return
        if self.remember_layout:
            self.save_layout()
        event.accept()

    def keyboard_shortcuts(self) -> list[tuple[str, str, str]]:
        """(menu, action, shortcut) for every menu action with a shortcut, for Help."""
        out = []
        for menu in self.menuBar().findChildren(type(self.file_menu)):
            for action in menu.actions():
                keys = ", ".join(
                    k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()
                )
                if keys and not action.isSeparator():
                    out.append(
                        (menu.title().replace("&", ""), action.text().replace("&", ""), keys)
                    )
        return out
