"""The side-by-side grid of a run: rows are examples (by cell position), columns are
(prompt version, model) pairs; each cell shows output, streaming text or an error, coloured
pass/fail once scored. Repeats share their column: the cell shows the first repeat and k/n
passes across them, with a flakiness mark when they disagree.

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
    cell_tooltip,
    differs_from,
    pass_count,
    repeats_line,
)

AnyIndex = QModelIndex | QPersistentModelIndex
TOOLTIP_CHARS = 4000

CALL_ID_ROLE = Qt.ItemDataRole.UserRole + 1
CELL_ID_ROLE = Qt.ItemDataRole.UserRole + 2
STATUS_ROLE = Qt.ItemDataRole.UserRole + 3
OUTPUT_ROLE = Qt.ItemDataRole.UserRole + 4
DIFFERS_ROLE = Qt.ItemDataRole.UserRole + 5
"""True for a cell whose output differs from the first column's, while that is highlighted."""

BACKGROUNDS = {
    "error": QBrush(QColor("#ffd7d9")),
    "streaming": QBrush(QColor("#fff8e1")),
    "pending": QBrush(QColor("#f4f4f4")),
    "cancelled": QBrush(QColor("#f4f4f4")),
}
PASSED = QBrush(QColor("#defbe6"))
FAILED = QBrush(QColor("#fff0f0"))
FLAKY = QBrush(QColor("#fcf4d6"))
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
        """The cell each (row, column) shows: its first repeat."""
        self.repeats: dict[tuple[int, int], list[GridCell]] = {}
        """Every repeat of each (row, column), in repeat order."""
        self._where: dict[int, tuple[int, int]] = {}
        self._by_id: dict[int, GridCell] = {}
        self._keys: dict[tuple[int, str, int, int], tuple[tuple[int, int], GridCell]] | None = None
        self.highlight_differences = False

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
                (c.version_id, c.model, c.repeat, self.rows[where[0]].position): (where, c)
                for where, cells in self.repeats.items()
                for c in cells
            }
        found = self._keys.get(key)
        if found is None:
            return False
        where, cell = found
        cell.cell_id = cell_id
        self._where[cell_id] = where
        self._by_id[cell_id] = cell
        return True

    def _rebuild(self, run_id: int | None, entries: list[tuple[Any, Any, Any, Any]]) -> None:
        self.beginResetModel()
        self.run_id = run_id
        self.rows, self.columns, self.cells, self.repeats = [], [], {}, {}
        self._where, self._by_id = {}, {}
        self._keys = None
        column_index: dict[tuple[int, str], int] = {}
        repeats: dict[int, set[int]] = {}
        row_index: dict[int, int] = {}
        for key, (prompt_name, version), (position, example_id, raw_vars), r in entries:
            pair = (key[0], key[1])
            if pair not in column_index:
                column_index[pair] = len(self.columns)
                self.columns.append(GridColumn(key[0], prompt_name, version, key[1]))
            repeats.setdefault(column_index[pair], set()).add(key[2])
            if position not in row_index:
                row_index[position] = len(self.rows)
                values = dict(raw_vars)
                self.rows.append(GridRow(position, example_id, values))
            where = (row_index[position], column_index[pair])
            cell = GridCell(-1, "pending", version_id=key[0], model=key[1], repeat=key[2])
            if r is not None:
                cell.cell_id, cell.status = r.cell_id, r.status
                if r.call_id is not None:
                    cell.update_from_call(r)
                self._where[r.cell_id] = where
                self._by_id[r.cell_id] = cell
            self.repeats.setdefault(where, []).append(cell)
        for where, cells in self.repeats.items():
            cells.sort(key=lambda c: c.repeat)
            self.cells[where] = cells[0]
        self.columns = [
            GridColumn(c.version_id, c.prompt_name, c.version, c.model, len(repeats[i]))
            for i, c in enumerate(self.columns)
        ]
        self.endResetModel()

    def all_cells(self) -> list[GridCell]:
        """Every cell of the run, repeats included."""
        return [c for cells in self.repeats.values() for c in cells]

    def set_verdicts(self, verdicts: dict[int, tuple[Any, ...]]) -> None:
        """Show stored scores by call id (cells whose call is not in `verdicts` keep theirs)."""
        for cell_id, cell in self._by_id.items():
            if cell.call_id is not None and cell.call_id in verdicts:
                cell.verdict = tuple(verdicts[cell.call_id])
                self._changed(cell_id)
        self._headers_changed()

    def set_cell_verdict(self, cell_id: int, call_id: int, scores: tuple[Any, ...]) -> None:
        """A cell was scored as it landed (only if it still shows that call)."""
        cell = self._by_id.get(cell_id)
        if cell is not None and cell.call_id in (call_id, None):
            cell.verdict = tuple(scores)
            self._changed(cell_id)
            self._headers_changed()

    def set_highlight_differences(self, on: bool) -> None:
        """Mark the cells whose output differs from the first column's (one click in the bar)."""
        self.highlight_differences = on
        if self.rows and self.columns:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self.rows) - 1, len(self.columns) - 1)
            )

    def differs_from_first(self, row: int, column: int) -> bool:
        cell = self.cells.get((row, column))
        return cell is not None and column > 0 and differs_from(cell, self.cells.get((row, 0)))

    def column_pass_rate(self, column: int) -> tuple[int, int]:
        """(passed, scored) over every cell and repeat of `column`."""
        cells = [c for (_, col), cs in self.repeats.items() if col == column for c in cs]
        return pass_count(cells)

    def _headers_changed(self) -> None:
        if self.columns:
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self.columns) - 1)

    def reset_unfinished(self) -> None:
        """A resumed run: cells that did not finish well wait again."""
        for cell_id, cell in self._by_id.items():
            if cell.status != "done":
                cell.status, cell.stream = "pending", ""
                self._changed(cell_id)

    def _changed(self, cell_id: int) -> GridCell | None:
        where = self._where.get(cell_id)
        if where is None:
            return None
        cell = self._by_id[cell_id]
        cell._display = None
        self.cells[where]._display = None  # the shown repeat's repeats line may change too
        index = self.index(*where)
        self.dataChanged.emit(index, index)
        return cell

    def cell_started(self, cell_id: int) -> None:
        cell = self._by_id.get(cell_id)
        if cell is not None:
            cell.status, cell.stream = "streaming", ""
            self._changed(cell_id)

    def append_text(self, cell_id: int, delta: str) -> None:
        cell = self._by_id.get(cell_id)
        if cell is not None:
            cell.status = "streaming"
            cell.stream += delta
            self._changed(cell_id)

    def finish_cell(self, cell_id: int, call: StoredCall) -> None:
        """Show a finished call (a `get_call` row) in its cell."""
        cell = self._by_id.get(cell_id)
        if cell is not None:
            cell.update_from_call(call)
            self._changed(cell_id)
            self._headers_changed()

    def set_badges(self, badges: dict[int, str]) -> None:
        """Show label badges by call id (from the labeling keys); "" removes one."""
        for where, cell in self.cells.items():  # the shown repeat carries the label
            if cell.call_id is not None and cell.call_id in badges:
                cell.badge = badges[cell.call_id]
                cell._display = None
                index = self.index(*where)
                self.dataChanged.emit(index, index)

    def mark_unfinished(self, status: str) -> None:
        """After a run stops: cells still waiting or streaming become `status`."""
        for cell_id, cell in self._by_id.items():
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
            c.status == "error"
            for col in range(len(self.columns))
            for c in self.repeats.get((row, col), ())
        )

    def column_title(self, column: int) -> str:
        return self.columns[column].title().replace("\n", " · ")

    def header_title(self, column: int) -> str:
        """The column's title and, once cells are scored, its pass rate k/n."""
        passed, scored = self.column_pass_rate(column)
        title = self.columns[column].title()
        return f"{title}\npass {passed}/{scored}" if scored else title

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
        repeats = self.repeats.get((index.row(), index.column()), [cell])
        if role == Qt.ItemDataRole.DisplayRole:
            line = repeats_line(repeats)
            return f"{line}\n{cell.display()}" if line else cell.display()
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(cell, repeats)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return TOP_LEFT
        if role == Qt.ItemDataRole.BackgroundRole:
            return self._background(cell, repeats)
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
        if role == DIFFERS_ROLE:
            return self.highlight_differences and self.differs_from_first(
                index.row(), index.column()
            )
        return None

    def _tooltip(self, cell: GridCell, repeats: list[GridCell]) -> str:
        row, column = self._where.get(cell.cell_id, (-1, -1))
        differs = self.highlight_differences and self.differs_from_first(row, column)
        return cell_tooltip(cell, repeats, differs=differs, limit=TOOLTIP_CHARS)

    def _background(self, cell: GridCell, repeats: list[GridCell]) -> QBrush | None:
        if cell.status not in ("done", "error"):
            return BACKGROUNDS.get(cell.status)
        passed, scored = pass_count(repeats)
        if not scored:
            return BACKGROUNDS.get(cell.status)
        if passed == scored:
            return PASSED
        return FAILED if passed == 0 else FLAKY

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.columns):
            if role == Qt.ItemDataRole.DisplayRole:
                return self.header_title(section)
            if role == Qt.ItemDataRole.ToolTipRole:
                column = self.columns[section]
                passed, scored = self.column_pass_rate(section)
                rate = f"\n{passed} of {scored} scored cases pass" if scored else ""
                runs = f" × {column.repeats} repeats" if column.repeats > 1 else ""
                return (
                    f"{column.prompt_name} version {column.version} on {column.model}{runs}{rate}"
                )
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
