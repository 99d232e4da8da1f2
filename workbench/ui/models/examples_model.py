"""The dataset editor's table: one row per example, a column per variable, then tags and note.

A thin adapter over a list of `Row`s. It never writes to the project itself: an edit made in the
view is handed to `edit_requested` (the editor turns it into an undoable command), and the editor
calls `replace_row` / `insert_rows` / `remove_rows` once storage has accepted the change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from workbench.core.models import Example
from workbench.services.dataset_io import split_tags

TAGS, NOTE = "tags", "note"
MISSING_BACKGROUND = QBrush(QColor("#fff4d6"))
TOOLTIP_LIMIT = 2000

AnyIndex = QModelIndex | QPersistentModelIndex


@dataclass
class Row:
    """One example as shown: `key` is stable for the editor's session (ids change on undo)."""

    key: int
    example: Example


@dataclass(frozen=True)
class Column:
    kind: str  # "var", "tags" or "note"
    name: str

    @property
    def title(self) -> str:
        return self.name if self.kind == "var" else self.kind.capitalize()


def with_cell(example: Example, column: Column, text: str) -> Example:
    """A copy of `example` with one cell changed."""
    if column.kind == "tags":
        return example.model_copy(update={"tags": split_tags(text)})
    if column.kind == "note":
        return example.model_copy(update={"note": text})
    return example.model_copy(update={"vars": {**example.vars, column.name: text}})


def cell_text(example: Example, column: Column) -> str | None:
    """The cell's text; None for a variable this example does not set."""
    if column.kind == "tags":
        return ", ".join(example.tags)
    if column.kind == "note":
        return example.note
    return example.vars.get(column.name)


class ExamplesModel(QAbstractTableModel):
    """Rows of examples; `extra_variables` keeps columns the user added but has not filled."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[Row] = []
        self.columns: list[Column] = []
        self.extra_variables: list[str] = []
        self.read_only = False
        self.edit_requested: Callable[[int, Example], None] | None = None
        # path -> thumbnail for values naming image files (set by the dataset editor)
        self.thumbnail: Callable[[str], Any] | None = None

    # -- contents ----------------------------------------------------------------------------
    def set_rows(self, rows: Sequence[Row], extra_variables: Sequence[str] = ()) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.extra_variables = list(extra_variables)
        self.columns = self._compute_columns()
        self.endResetModel()

    def variables(self) -> list[str]:
        return [c.name for c in self.columns if c.kind == "var"]

    def _compute_columns(self) -> list[Column]:
        names: dict[str, None] = {}
        for row in self.rows:
            for name in row.example.vars:
                names.setdefault(name, None)
        for name in self.extra_variables:
            names.setdefault(name, None)
        return [*(Column("var", n) for n in names), Column("tags", TAGS), Column("note", NOTE)]

    def _refresh_columns(self) -> None:
        columns = self._compute_columns()
        if columns != self.columns:
            # Columns only ever grow or shrink at the variable end; a reset is simplest and cheap.
            self.beginResetModel()
            self.columns = columns
            self.endResetModel()

    def add_variable(self, name: str) -> None:
        if name not in self.variables():
            self.extra_variables.append(name)
            self._refresh_columns()

    def row_of(self, key: int) -> int:
        for index, row in enumerate(self.rows):
            if row.key == key:
                return index
        raise KeyError(key)

    def replace_row(self, key: int, example: Example) -> None:
        index = self.row_of(key)
        self.rows[index] = Row(key, example)
        self._refresh_columns()
        last = self.columnCount() - 1
        self.dataChanged.emit(self.index(index, 0), self.index(index, last))

    def insert_rows(self, position: int, rows: Sequence[Row]) -> None:
        position = max(0, min(position, len(self.rows)))
        self.beginInsertRows(QModelIndex(), position, position + len(rows) - 1)
        self.rows[position:position] = list(rows)
        self.endInsertRows()
        self._refresh_columns()

    def remove_rows(self, keys: Sequence[int]) -> None:
        for key in keys:
            index = self.row_of(key)
            self.beginRemoveRows(QModelIndex(), index, index)
            del self.rows[index]
            self.endRemoveRows()

    # -- Qt model API ----------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        column = self.columns[index.column()]
        text = cell_text(self.rows[index.row()].example, column)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return text or ""
        if role == Qt.ItemDataRole.ToolTipRole:
            if text is None:
                return f"{{{{{column.name}}}}} is not set for this example; a prompt using it cannot run on it"
            return text[:TOOLTIP_LIMIT] + ("…" if len(text) > TOOLTIP_LIMIT else "") or None
        if role == Qt.ItemDataRole.BackgroundRole and text is None:
            return MISSING_BACKGROUND
        if role == Qt.ItemDataRole.DecorationRole and text and self.thumbnail is not None:
            return self.thumbnail(text) if column.kind == "var" else None
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return self.columns[section].title
            if role == Qt.ItemDataRole.ToolTipRole:
                column = self.columns[section]
                if column.kind == "tags":
                    return "Tags, separated by commas"
                if column.kind == "note":
                    return "A note for people; never sent to the model"
                return f"Value of {{{{{column.name}}}}}"
        elif role == Qt.ItemDataRole.DisplayRole:
            return str(section + 1)
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        base = super().flags(index)
        if index.isValid() and not self.read_only:
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def setData(self, index: AnyIndex, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or role != Qt.ItemDataRole.EditRole or self.read_only:
            return False
        row = self.rows[index.row()]
        column = self.columns[index.column()]
        text = "" if value is None else str(value)
        current = cell_text(row.example, column)
        # Leaving an unset variable's editor empty must not silently set it to "".
        if current == text or (current is None and text == ""):
            return False
        if self.edit_requested is not None:
            self.edit_requested(row.key, with_cell(row.example, column, text))
        return True
