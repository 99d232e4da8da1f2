"""File operations of the main window: new, open (in the background), open a bundle, open the
demo, a dropped file, save as, save a copy, export a bundle, close. A mixin so the window keeps one public API (`window.open_path(...)`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QMessageBox

from workbench.core.errors import WorkbenchError
from workbench.services.project_session import (
    Project,
    ProjectLocked,
    create_project_file,
    open_project_file,
)
from workbench.ui.operations import Operation, ProjectOp, describe_error

if TYPE_CHECKING:
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QStatusBar

    from workbench.ui.context import ProjectContext
    from workbench.ui.recent import RecentProjects
    from workbench.ui.run_controller import RunController
    from workbench.ui.widgets.prompt_editor import PromptEditor
    from workbench.ui.widgets.run_grid import RunGrid

PROJECT_FILTER = "Prompt Workbench projects (*.pwb);;Text bundles (*.yaml *.yml);;All files (*)"


class ProjectFileActions:
    """File ▸ New / Open / Open Recent / Save As / Export bundle / Close, for `MainWindow`."""

    ctx: ProjectContext
    recent: RecentProjects
    controller: RunController
    editor: PromptEditor
    grid: RunGrid
    actions_by_name: dict[str, QAction]
    _temp_dirs: list[tempfile.TemporaryDirectory[str]]
    _bundle_origin: dict[Path, str]

    if TYPE_CHECKING:  # provided by MainWindow; declared for type checkers only (no shadowing)

        def statusBar(self) -> QStatusBar: ...  # noqa: N802
        def show_error(self, text: str) -> QMessageBox: ...
        def show_prompt(self, name: str, version: int | None = None) -> None: ...
        def _message_box(
            self, icon: QMessageBox.Icon, text: str, buttons: QMessageBox.StandardButton
        ) -> QMessageBox: ...

    def _can_replace_project(self) -> bool:
        """No run in progress, and unsaved prompt edits saved or discarded."""
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
        demo: bool = False,
    ) -> bool:
        """Open a project file (or a bundle, loaded into a temporary project).

        In the background by default; False when the user kept the current project, or (when
        `background` is False) when opening failed. `demo` runs it with the offline provider.
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
                project = open_project_file(path, read_only=read_only)
            except Exception as exc:
                self._on_open_failed(path, exc)
                return False
            self._on_opened(project, remember, demo)
            return True
        Operation(self, lambda: open_project_file(path, read_only=read_only)).success(
            lambda project: self._on_opened(project, remember, demo)
        ).failure(lambda exc: self._on_open_failed(path, exc)).run()
        return True

    def _project_from_bundle(self, bundle: Path) -> Path:
        from workbench.services.projects import create_project

        folder = tempfile.TemporaryDirectory(prefix="workbench-")
        self._temp_dirs.append(folder)
        path = Path(folder.name) / f"{bundle.stem}.pwb"
        create_project(path, bundle=bundle)  # seeds the default prices and models too
        self._bundle_origin[path] = bundle.name
        return path

    def _on_opened(self, project: Project, remember: bool, demo: bool = False) -> None:
        self.ctx.demo = demo  # before set_project, so every screen sees it on "project"
        self.ctx.set_project(project)
        if remember:
            self.recent.add(project.path)
        note = f" — {project.read_only_reason}" if project.read_only else ""
        if project.path in self._bundle_origin:
            note = (
                f" — a temporary project loaded from {self._bundle_origin[project.path]}; "
                "use File ▸ Save As to keep it"
            )
        self.statusBar().showMessage(f"Opened {project.path}{note}", 8000)
        prompts = project.prompts.list()
        if prompts:  # start where a user would: the version in production, else the latest
            self.show_prompt(prompts[0].name, prompts[0].labels.get("production"))
        latest = project.runs.latest_run_id()
        if latest is not None:
            self.grid.show_run(latest)

    def _on_open_failed(self, path: Path, exc: BaseException) -> None:
        self.statusBar().clearMessage()
        if isinstance(exc, ProjectLocked):
            box = self._message_box(
                QMessageBox.Icon.Question,
                f"{exc.user_message}\n\nOpen it read-only instead?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            )

            def answered(_result: int) -> None:
                if box.standardButton(box.clickedButton()) == QMessageBox.StandardButton.Yes:
                    self.open_path(path, read_only=True)

            box.finished.connect(answered)
            box.open()
            return
        self.show_error(describe_error(exc))

    def new_project(self) -> bool:
        """File ▸ New: choose a file name, create it with the default prices and models."""
        if not self._can_replace_project():
            return False
        name, _ = QFileDialog.getSaveFileName(
            self, "New project", str(self._last_folder() / "untitled.pwb"), PROJECT_FILTER
        )
        if not name:
            return False
        return self.create_new_project(Path(name))

    def create_new_project(self, path: Path) -> bool:
        """Create an empty project at `path` (".pwb" added when missing) and open it."""
        if not self._can_replace_project():
            return False
        path = path if path.suffix else path.with_suffix(".pwb")
        try:
            project = create_project_file(path)
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

    def open_demo(self) -> bool:
        """Welcome ▸ Open the demo: a fresh sample project with offline per-tier answers."""
        from workbench.ui.main import create_sample_project

        if not self._can_replace_project():
            return False
        folder = tempfile.TemporaryDirectory(prefix="workbench-demo-")
        self._temp_dirs.append(folder)
        try:
            path = create_sample_project(Path(folder.name))
        except WorkbenchError as exc:
            self.show_error(exc.user_message)
            return False
        return self.open_path(path, remember=False, demo=True)

    def save_copy_dialog(self) -> bool:
        """File ▸ Save a copy…: a consistent copy (SQLite backup API); the project stays open."""
        project = self.ctx.project
        if project is None:
            return False
        suggested = project.path.with_name(f"{project.path.stem}-copy.pwb")
        name, _ = QFileDialog.getSaveFileName(self, "Save a copy", str(suggested), PROJECT_FILTER)
        if not name:
            return False
        dest = Path(name) if Path(name).suffix else Path(name).with_suffix(".pwb")
        ProjectOp(self, self.ctx, lambda own: own.backup_to(dest)).success(
            lambda path: self.statusBar().showMessage(f"Saved a copy as {path}.", 8000)
        ).failure(self.show_error).run()
        return True

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if _dropped_project(event.mimeData()) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        path = _dropped_project(event.mimeData())
        if path is not None:
            event.acceptProposedAction()
            self.open_path(path)

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
            self.open_path(path, demo=self.ctx.demo)

        def failed(message: str) -> None:
            self.actions_by_name["save_as"].setEnabled(True)
            self.show_error(message)

        ProjectOp(self, self.ctx, lambda own: own.backup_to(dest)).success(done).failure(
            failed
        ).run()
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
        from workbench.formats.atomic import write_text_atomic
        from workbench.services.projects import export_bundle_text

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


DROPPABLE = (".pwb", ".yaml", ".yml")


def _dropped_project(mime: QMimeData) -> Path | None:
    """The first local .pwb/.yaml file in a drag, if any."""
    for url in mime.urls() if mime.hasUrls() else []:
        path = Path(url.toLocalFile())
        if url.isLocalFile() and path.suffix.lower() in DROPPABLE:
            return path
    return None
