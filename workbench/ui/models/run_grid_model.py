"""The side-by-side grid of a run: rows are examples (by cell position), columns are
(prompt version, model[, repeat]) pairs; each cell shows output, streaming text or an error.

Virtualised: the view asks only for visible cells, display strings are built once per change
and cached, and a streamed delta emits `dataChanged` for its one cell. Output is plain text.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from workbench.core.records import CellWithCall, StoredCall
from workbench.services.run_grid_cells import (
    GridCell,
    GridColumn,
    GridRow,
)

AnyIndex = QModelIndex | QPersistentModelIndex
TOOLTIP_CHARS = 4000

CALL_ID_ROLE = Qt.ItemDataRole.UserRole + 1
CELL_ID_ROLE = Qt.ItemDataRole.UserRole + 2
STATUS_ROLE = Qt.ItemDataRole.UserRole + 3
OUTPUT_ROLE = Qt.ItemDataRole.UserRole + 4

BACKGROUNDS = {
    "error": QBrush(QColor("#ffd7d9")),
    "streaming": QBrush(QColor("#fff8e1")),
    "pending": QBrush(QColor("#f4f4f4")),
    "cancelled": QBrush(QColor("#f4f4f4")),
}
TOP_LEFT = int(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
MUTED = QBrush(QColor("#6f6f6f"))
ERROR_TEXT = QBrush(QColor("#750e13"))


class RunGridModel(QAbstractTableModel):
    """Cells of one run in a rows × columns table."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.run_id: int | None = None
        self.rows: list[GridRow] = []
        self.columns: list[GridColumn] = []
        self.cells: dict[tuple[int, int], GridCell] = {}
        self._where: dict[int, tuple[int, int]] = {}
        self._keys: dict[tuple[int, str, int, int], tuple[int, int]] | None = None
        self._with_repeat = False

    # -- loading and live updates ---------------------------------------------------------------
    def load(self, run_id: int | None, grid_rows: list[CellWithCall]) -> None:
        """Replace the contents with a run's cells (`project.runs.run_grid(run_id)`)."""
        entries = [
            (
                (r.version_id, r.model, r.repeat),
                (r.prompt_name, r.version),
                (r.position, r.example_id, r.example_vars),
                r,
            )
            for r in grid_rows
        ]
        self._rebuild(run_id, entries)

    def load_plan(self, plan: Any) -> None:
        """Lay out a planned run (a `RunPlan`) before it has cell ids: every cell "waiting…".

        Showing the grid before the run starts means the run's first moments, when 32 calls
        start at once and the worker thread is busiest, only repaint changed cells; each cell
        gets its id (`bind_cell`) when it starts, so no query of the whole run is needed then.
        """
        names = {v.row_id: (v.prompt, v.version.version) for v in plan.versions}
        ordered = sorted(plan.cells, key=lambda c: c.position)  # stable: plan order within a row
        entries = [
            (
                (c.version_id, c.model, c.repeat),
                names[c.version_id],
                (c.position, c.example_id, c.example_vars),
                None,
            )
            for c in ordered
        ]
        self._rebuild(None, entries)

    def bind_cell(self, cell_id: int, key: tuple[int, str, int, int]) -> bool:
        """Give a planned cell its id: `key` is (version_id, model, repeat, position)."""
        if cell_id in self._where:
            return True
        if self._keys is None:
            self._keys = {
                (c.version_id, c.model, c.repeat, self.rows[where[0]].position): where
                for where, c in self.cells.items()
            }
        where = self._keys.get(key)
        if where is None:
            return False
        self.cells[where].cell_id = cell_id
        self._where[cell_id] = where
        return True

    def _rebuild(self, run_id: int | None, entries: list[tuple[Any, Any, Any, Any]]) -> None:
        self.beginResetModel()
        self.run_id = run_id
        self.rows, self.columns, self.cells, self._where = [], [], {}, {}
        self._keys = None
        column_index: dict[tuple[int, str, int], int] = {}
        row_index: dict[int, int] = {}
        for key, (prompt_name, version), (position, example_id, raw_vars), r in entries:
            if key not in column_index:
                column_index[key] = len(self.columns)
                self.columns.append(GridColumn(key[0], prompt_name, version, key[1], key[2]))
            if position not in row_index:
                row_index[position] = len(self.rows)
                values = dict(raw_vars)
                self.rows.append(GridRow(position, example_id, values))
            where = (row_index[position], column_index[key])
            cell = GridCell(-1, "pending", version_id=key[0], model=key[1], repeat=key[2])
            if r is not None:
                cell.cell_id, cell.status = r.cell_id, r.status
                if r.call_id is not None:
                    cell.update_from_call(r)
                self._where[r.cell_id] = where
            self.cells[where] = cell
        self._with_repeat = any(c.repeat > 0 for c in self.columns)
        self.endResetModel()

    def reset_unfinished(self) -> None:
        """A resumed run: cells that did not finish well wait again."""
        for cell_id, (row, column) in self._where.items():
            cell = self.cells[(row, column)]
            if cell.status != "done":
                cell.status, cell.stream = "pending", ""
                self._changed(cell_id)

    def _changed(self, cell_id: int) -> GridCell | None:
        where = self._where.get(cell_id)
        if where is None:
            return None
        cell = self.cells[where]
        cell._display = None
        index = self.index(*where)
        self.dataChanged.emit(index, index)
        return cell

    def cell_started(self, cell_id: int) -> None:
        where = self._where.get(cell_id)
        if where is not None:
            cell = self.cells[where]
            cell.status, cell.stream = "streaming", ""
            self._changed(cell_id)

    def append_text(self, cell_id: int, delta: str) -> None:
        where = self._where.get(cell_id)
        if where is not None:
            cell = self.cells[where]
            cell.status = "streaming"
            cell.stream += delta
            self._changed(cell_id)

    def finish_cell(self, cell_id: int, call: StoredCall) -> None:
        """Show a finished call (a `get_call` row) in its cell."""
        where = self._where.get(cell_id)
        if where is not None:
            self.cells[where].update_from_call(call)
            self._changed(cell_id)

    def set_badges(self, badges: dict[int, str]) -> None:
        """Show label badges by call id (from the labeling keys); "" removes one."""
        for where, cell in self.cells.items():
            if cell.call_id is not None and cell.call_id in badges:
                cell.badge = badges[cell.call_id]
                cell._display = None
                index = self.index(*where)
                self.dataChanged.emit(index, index)

    def mark_unfinished(self, status: str) -> None:
        """After a run stops: cells still waiting or streaming become `status`."""
        for cell_id, where in self._where.items():
            cell = self.cells[where]
            if cell.status in ("pending", "streaming"):
                cell.status = status
                self._changed(cell_id)

    # -- queries used by the view and the filter -------------------------------------------------
    def cell_at(self, row: int, column: int) -> GridCell | None:
        return self.cells.get((row, column))

    def where(self, cell_id: int) -> tuple[int, int] | None:
        return self._where.get(cell_id)

    def row_has_error(self, row: int) -> bool:
        return any(
            (c := self.cells.get((row, col))) is not None and c.status == "error"
            for col in range(len(self.columns))
        )

    def column_title(self, column: int) -> str:
        return self.columns[column].title(self._with_repeat).replace("\n", " · ")

    # -- Qt model API --------------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        cell = self.cells.get((index.row(), index.column()))
        if cell is None:
            return "—" if role == Qt.ItemDataRole.DisplayRole else None
        if role == Qt.ItemDataRole.DisplayRole:
            return cell.display()
        if role == Qt.ItemDataRole.ToolTipRole:
            text = cell.text
            clipped = text[:TOOLTIP_CHARS] + ("\n…" if len(text) > TOOLTIP_CHARS else "")
            stats = cell.stats() if cell.status in ("done", "error") else cell.status
            return f"{clipped}\n\n{stats}" if clipped else stats
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return TOP_LEFT
        if role == Qt.ItemDataRole.BackgroundRole:
            return BACKGROUNDS.get(cell.status)
        if role == Qt.ItemDataRole.ForegroundRole:
            if cell.status == "error":
                return ERROR_TEXT
            return MUTED if cell.status in ("pending", "cancelled") else None
        if role == CALL_ID_ROLE:
            return cell.call_id
        if role == CELL_ID_ROLE:
            return cell.cell_id
        if role == STATUS_ROLE:
            return cell.status
        if role == OUTPUT_ROLE:
            return cell.text
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.columns):
            if role == Qt.ItemDataRole.DisplayRole:
                return self.columns[section].title(self._with_repeat)
            if role == Qt.ItemDataRole.ToolTipRole:
                column = self.columns[section]
                return f"{column.prompt_name} version {column.version} on {column.model}"
        if orientation == Qt.Orientation.Vertical and 0 <= section < len(self.rows):
            row = self.rows[section]
            if role == Qt.ItemDataRole.DisplayRole:
                return row.label()
            if role == Qt.ItemDataRole.ToolTipRole:
                values = "\n".join(f"{k}: {v[:200]}" for k, v in row.vars.items())
                return f"Example #{row.example_id} (row {row.position + 1})\n{values}"
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        return (
            Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
            if index.isValid()
            else Qt.ItemFlag.NoItemFlags
        )
