"""The dataset screen: a table of examples (a column per variable, then tags and note).

Every change is written through `project.datasets` at once, is undoable (QUndoStack) and is
announced as a `Change.DATASETS` broadcast. Rows can be added, duplicated, deleted, copied
and pasted from a spreadsheet (tab-separated, header optional); files import with a preview
(`ImportDialog`) and export as CSV with formula-like cells neutralised.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QAction, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QSizePolicy,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from workbench.core.errors import WorkbenchError
from workbench.core.models import Example
from workbench.core.templates import NAME as VARIABLE_NAME
from workbench.ui.context import Change, ProjectChange, ProjectContext
from workbench.ui.dialogs.import_dialog import ImportDialog
from workbench.ui.models.examples_model import ExamplesModel, Row
from workbench.ui.operations import ProjectOp, describe_error
from workbench.ui.theme import css
from workbench.ui.widgets.dataset_actions import install_actions
from workbench.ui.widgets.dataset_commands import (
    AddRowsCommand,
    DeleteRowsCommand,
    EditExampleCommand,
    StoreStep,
    _DatasetCommand,
)
from workbench.ui.widgets.dataset_transfer import DatasetTransfer
from workbench.ui.widgets.image_thumbnails import ImageThumbnails
from workbench.ui.widgets.multiline_delegate import MultilineDelegate

ROW_LINES = 2


class DatasetEditor(DatasetTransfer, QWidget):
    """Edit the examples of one dataset; `show_dataset(name)` chooses which.

    `dataset_created(name)` when an import made a new dataset; `used_variables` (set by the
    window) names the variables the open prompt uses, for the import preview's warnings.
    """

    dataset_created = Signal(str)

    def __init__(self, ctx: ProjectContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.dataset: str | None = None
        self._ids: dict[int, int] = {}
        self._next_key = 1
        self.undo_stack = QUndoStack(self)
        self.import_dialog: ImportDialog | None = None
        # Columns added before any row has a value in them (kept across reloads).
        self._empty_columns: dict[str, list[str]] = {}
        self.used_variables: Callable[[], list[str]] = list

        self.title = QLabel("No dataset selected")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.model = ExamplesModel(self)
        self.model.edit_requested = self._on_edit_requested
        self.model.thumbnail = ImageThumbnails(ctx)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Examples")
        self.table.setItemDelegate(MultilineDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        self.table.setWordWrap(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        rows = self.table.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().lineSpacing() * ROW_LINES + 10)
        columns = self.table.horizontalHeader()
        columns.setDefaultSectionSize(220)
        columns.setStretchLastSection(True)
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)

        install_actions(self)
        # A tool bar, not a row of buttons: on a narrow window the actions that do not fit move
        # into its » menu instead of forcing the window wider.
        self.toolbar = QToolBar("Dataset actions")
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action in self.menu_actions():
            if action is None:
                self.toolbar.addSeparator()
            else:
                self.toolbar.addAction(action)
        self.title.setMinimumWidth(120)
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bar = QHBoxLayout()
        bar.addWidget(self.title, 1)
        bar.addWidget(self.toolbar, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)

        self.table.selectionModel().selectionChanged.connect(self._update_actions)
        self.undo_stack.cleanChanged.connect(self._update_actions)
        ctx.changed.connect(self._on_context_changed)
        self._update_actions()

    # -- actions -----------------------------------------------------------------------------
    def menu_actions(self) -> list[QAction | None]:
        """The screen's actions in menu order (None = separator), for the main window's menu."""
        return [
            self.add_row_action,
            self.duplicate_action,
            self.delete_action,
            None,
            self.copy_action,
            self.paste_action,
            self.add_column_action,
            None,
            self.import_action,
            self.export_action,
            None,
            self.undo_action,
            self.redo_action,
        ]

    def _update_actions(self) -> None:
        shown = self.dataset is not None
        writable = shown and not self.ctx.read_only
        selected = bool(self.selected_keys())
        for action in (self.add_row_action, self.paste_action, self.add_column_action):
            action.setEnabled(writable)
        # Import can make a new dataset, so it needs only a writable project.
        self.import_action.setEnabled(self.ctx.project is not None and not self.ctx.read_only)
        self.duplicate_action.setEnabled(writable and selected)
        self.delete_action.setEnabled(writable and selected)
        self.copy_action.setEnabled(shown and selected)
        self.export_action.setEnabled(shown and bool(self.model.rows))

    # -- showing a dataset ---------------------------------------------------------------------
    def show_dataset(self, name: str | None) -> None:
        """Load dataset `name` (None shows nothing); clears the undo history."""
        self.dataset = None
        self._ids.clear()
        self.undo_stack.clear()
        self.model.read_only = self.ctx.read_only
        rows: list[Row] = []
        if name is not None and self.ctx.project is not None:
            try:
                loaded = self.ctx.project.datasets.get_with_ids(name)
            except WorkbenchError as exc:
                self._report(describe_error(exc), error=True)
                loaded = None
            if loaded is not None:
                self.dataset = name
                for example_id, example in loaded:
                    key = self.new_key()
                    self._ids[key] = example_id
                    rows.append(Row(key, example))
        self.model.set_rows(rows, self._empty_columns.get(self.dataset or "", []))
        self._update_title()
        self._update_actions()
        if self.dataset is not None:
            self._report(
                "Read-only project: examples cannot be changed."
                if self.ctx.read_only
                else "Double-click or type to edit; Enter saves, Shift+Enter adds a line."
            )

    def _update_title(self) -> None:
        if self.dataset is None:
            self.title.setText("No dataset selected")
            return
        count = len(self.model.rows)
        self.title.setText(f"Dataset {self.dataset} · {count} example{'s' if count != 1 else ''}")

    def _on_context_changed(self, change: ProjectChange) -> None:
        if change.touches(Change.PROJECT):
            self.show_dataset(None)
        elif (
            change.touches(Change.DATASETS)
            and change.initiator is not self
            and self.dataset is not None
            and change.detail in (None, self.dataset)
        ):
            self.show_dataset(self.dataset)

    # -- DatasetHost (for the undo commands) ------------------------------------------------------
    def db_id(self, key: int) -> int:
        return self._ids[key]

    def set_db_id(self, key: int, example_id: int) -> None:
        self._ids[key] = example_id

    def new_key(self) -> int:
        self._next_key += 1
        return self._next_key

    def store(self, step: StoreStep) -> None:
        """Write one command step on the project thread; the model already shows it."""
        self._update_title()
        self._update_actions()
        ProjectOp(self, self.ctx, step, change=Change.DATASETS, detail=self.dataset).failure(
            self._store_failed
        ).run()

    def _store_failed(self, message: str) -> None:
        self._report(message, error=True)
        # The screen shows an edit that was not stored: show the stored dataset again.
        self.show_dataset(self.dataset)

    def _run(self, command: _DatasetCommand) -> bool:
        """Apply `command` now and keep it for undo (a refused write clears the history)."""

        command.apply_now()
        self.undo_stack.push(command)
        self._report(command.text())
        return True

    # -- editing -------------------------------------------------------------------------------
    def _on_edit_requested(self, key: int, example: Example) -> None:
        before = self.model.rows[self.model.row_of(key)].example
        self._run(EditExampleCommand(self, key, before, example))

    def selected_keys(self) -> list[int]:
        """Keys of the rows with a selected cell (or the current cell), top to bottom."""
        rows = {i.row() for i in self.table.selectionModel().selectedIndexes()}
        if not rows and self.table.currentIndex().isValid():
            rows = {self.table.currentIndex().row()}
        return [self.model.rows[r].key for r in sorted(rows) if r < len(self.model.rows)]

    def _insert(self, position: int, examples: list[Example], text: str) -> AddRowsCommand | None:
        if self.dataset is None or not examples:
            return None
        command = AddRowsCommand(self, position, examples, text)
        if not self._run(command):
            return None
        self._select_rows(position, len(examples))
        return command

    def _select_rows(self, first: int, count: int) -> None:
        selection = self.table.selectionModel()
        selection.clearSelection()
        column = max(0, self.table.currentIndex().column())
        self.table.setCurrentIndex(self.model.index(first, column))
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        for row in range(first, first + count):
            selection.select(self.model.index(row, 0), flags)

    def add_row(self) -> None:
        keys = self.selected_keys()
        position = self.model.row_of(keys[-1]) + 1 if keys else len(self.model.rows)
        # Every known variable present (empty) so the new row is not flagged as missing values.
        example = Example(vars={name: "" for name in self.model.variables()})
        self._insert(position, [example], "Add example")
        self.table.setFocus()

    def duplicate_rows(self) -> None:
        keys = self.selected_keys()
        if keys:
            copies = [
                self.model.rows[self.model.row_of(k)].example.model_copy(deep=True) for k in keys
            ]
            position = self.model.row_of(keys[-1]) + 1
            self._insert(position, copies, f"Duplicate {len(copies)} example(s)")

    def delete_rows(self) -> None:
        keys = self.selected_keys()
        if self.dataset is None or not keys:
            return
        first = self.model.row_of(keys[0])
        if self._run(DeleteRowsCommand(self, keys)):
            self._report(
                f"Deleted {len(keys)} example(s). Undo with "
                f"{self.undo_action.shortcut().toString()}."
            )
            if self.model.rows:
                self.table.setCurrentIndex(
                    self.model.index(min(first, len(self.model.rows) - 1), 0)
                )

    def add_column(self) -> None:
        if self.dataset is None:
            return
        name, ok = QInputDialog.getText(self, "Add column", "Variable name (as in {{name}}):")
        name = name.strip().strip("{} ")
        if not ok or not name:
            return
        if not re.fullmatch(VARIABLE_NAME, name):
            self._report(
                f"'{name}' is not a valid variable name: start with a letter or _, "
                "then letters, digits, _ . -",
                error=True,
            )
            return
        self.add_columns([name])
        self._report(f"Added column {name}; it is saved once a row has a value in it.")

    def add_columns(self, names: list[str]) -> None:
        """Show variable columns on the open dataset before any example fills them."""
        if self.dataset is None:
            return
        kept = self._empty_columns.setdefault(self.dataset, [])
        for name in names:
            if name not in kept:
                kept.append(name)
            self.model.add_variable(name)

    # -- messages -------------------------------------------------------------------------------
    def say(self, text: str) -> None:
        """A line under the table (what just happened, what to do next)."""
        self._report(text)

    def _report(self, text: str, *, error: bool = False) -> None:
        self.status.setStyleSheet(css("bad" if error else "muted"))
        self.status.setText(text)
