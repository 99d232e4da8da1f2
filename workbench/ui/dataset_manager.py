"""Dataset-level actions of the window: New, Rename, Duplicate and Delete (with confirmation),
for the Dataset menu and the sidebar's context menu. Writes go through `ProjectOp`; a new
dataset opens at once with the selected prompt's variables as its columns."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMessageBox, QWidget

from workbench.services.datasets import (
    delete_dataset,
    duplicate_dataset,
    free_dataset_name,
    new_dataset,
    prompt_variables,
    rename_dataset,
)
from workbench.services.project_session import Project
from workbench.ui.context import Change, ProjectContext
from workbench.ui.operations import ProjectOp
from workbench.ui.widgets.dataset_editor import DatasetEditor


class DatasetManager(QObject):
    """The four dataset actions; `current` names the dataset they act on by default.

    :param prompt_of: the prompt whose variables a new dataset starts with (or None)
    :param draft_variables: that prompt's variables as edited now (unsaved edits included);
        when empty, the latest saved version's are used
    :param opened: called with a dataset's name once it exists (the window shows it)
    """

    def __init__(
        self,
        parent: QWidget,
        ctx: ProjectContext,
        editor: DatasetEditor,
        *,
        prompt_of: Callable[[], str | None],
        opened: Callable[[str], None],
        draft_variables: Callable[[], list[str]] = list,
    ) -> None:
        super().__init__(parent)
        self.window = parent
        self.ctx = ctx
        self.editor = editor
        self.prompt_of = prompt_of
        self.draft_variables = draft_variables
        self.opened = opened
        self.dialog: QWidget | None = None
        self.new_action = self._action("&New dataset…", "Ctrl+Alt+N", self.ask_new)
        self.new_action.setStatusTip("Create a dataset; its columns are the prompt's variables")
        self.rename_action = self._action("Re&name dataset…", None, self.ask_rename)
        self.rename_action.setStatusTip("Rename the open dataset")
        self.duplicate_action = self._action("D&uplicate dataset", None, self.duplicate)
        self.duplicate_action.setStatusTip("Copy the open dataset with all its examples")
        self.delete_action = self._action("De&lete dataset…", None, self.ask_delete)
        self.delete_action.setStatusTip("Delete the open dataset and its examples (asks first)")
        ctx.changed.connect(lambda _change: self.update_actions())
        self.update_actions()

    def _action(self, text: str, keys: str | None, slot: Callable[[], object]) -> QAction:
        action = QAction(text, self.window)
        if keys:
            action.setShortcut(keys)
        action.triggered.connect(lambda _checked=False: slot())
        self.window.addAction(action)
        return action

    def actions(self) -> list[QAction]:
        return [self.new_action, self.rename_action, self.duplicate_action, self.delete_action]

    def update_actions(self) -> None:
        writable = self.ctx.project is not None and not self.ctx.read_only
        shown = writable and self.editor.dataset is not None
        self.new_action.setEnabled(writable)
        for action in (self.rename_action, self.duplicate_action, self.delete_action):
            action.setEnabled(shown)

    # -- new -------------------------------------------------------------------------------------
    def ask_new(self) -> QInputDialog | None:
        """Dataset ▸ New dataset…: ask for a name (non-blocking)."""
        project = self.ctx.project
        if project is None or self.ctx.read_only:
            return None
        prompt = self.prompt_of()
        suggested = free_dataset_name(project, f"{prompt}-examples" if prompt else "examples")
        return self._ask_text("New dataset", "Name of the new dataset:", suggested, self.create)

    def create(self, name: str) -> None:
        """Create dataset `name` and open it with the prompt's variables as columns."""
        prompt = self.prompt_of()
        drafted = self.draft_variables()

        def work(project: Project) -> tuple[str, list[str]]:
            return new_dataset(project, name), drafted or prompt_variables(project, prompt)

        def done(result: tuple[str, list[str]]) -> None:
            created, variables = result
            self.opened(created)
            self.editor.add_columns(variables)
            columns = ", ".join(variables) or "none yet: Add column…"
            self.editor.say(f"New dataset {created}. Columns: {columns}. Add rows to fill it.")

        ProjectOp(self.window, self.ctx, work, change=Change.DATASETS, detail=name).success(
            done
        ).failure(self._failed).run()

    # -- rename / duplicate / delete ---------------------------------------------------------------
    def ask_rename(self, name: str | None = None) -> QInputDialog | None:
        name = name or self.editor.dataset
        if name is None:
            return None
        return self._ask_text(
            "Rename dataset", f"New name for '{name}':", name, lambda new: self.rename(name, new)
        )

    def rename(self, name: str, new_name: str) -> None:
        if new_name.strip() == name:
            return
        ProjectOp(
            self.window,
            self.ctx,
            lambda project: rename_dataset(project, name, new_name),
            change=Change.DATASETS,
        ).success(self.opened).failure(self._failed).run()

    def duplicate(self, name: str | None = None) -> None:
        name = name or self.editor.dataset
        if name is None:
            return
        ProjectOp(
            self.window,
            self.ctx,
            lambda project: duplicate_dataset(project, name),
            change=Change.DATASETS,
        ).success(self.opened).failure(self._failed).run()

    def ask_delete(self, name: str | None = None) -> QMessageBox | None:
        """Delete dataset…: a confirmation naming what goes, then the delete."""
        name = name or self.editor.dataset
        project = self.ctx.project
        if name is None or project is None:
            return None
        count = project.datasets.counts().get(name, 0)
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Delete dataset",
            f"Delete dataset '{name}' and its {count} example(s)? This cannot be undone; "
            "runs made on it keep their answers.",
            QMessageBox.StandardButton.Cancel,
            self.window,
        )
        delete = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.buttonClicked.connect(lambda button: self.delete(name) if button is delete else None)
        box.finished.connect(box.deleteLater)
        self.dialog = box
        box.open()
        return box

    def delete(self, name: str) -> None:
        def done(_count: int) -> None:
            if self.editor.dataset == name:
                self.editor.show_dataset(None)

        ProjectOp(
            self.window,
            self.ctx,
            lambda project: delete_dataset(project, name),
            change=Change.DATASETS,
        ).success(done).failure(self._failed).run()

    # -- helpers -----------------------------------------------------------------------------------
    def _ask_text(
        self, title: str, label: str, text: str, accepted: Callable[[str], None]
    ) -> QInputDialog:
        dialog = QInputDialog(self.window)
        dialog.setWindowTitle(title)
        dialog.setLabelText(label)
        dialog.setTextEchoMode(QLineEdit.EchoMode.Normal)
        dialog.setTextValue(text)
        dialog.textValueSelected.connect(lambda value: accepted(value) if value.strip() else None)
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()
        return dialog

    def _failed(self, message: str) -> None:
        show_error = getattr(self.window, "show_error", None)
        if show_error is not None:
            show_error(message)
