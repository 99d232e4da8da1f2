"""Sorting and filtering of the run grid's rows: errors only, rows where two columns differ,
text search, and sort by latency, cost, output length or output text within a column."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel

from workbench.services.run_grid_cells import GridCell
from workbench.ui.models.run_grid_model import RunGridModel

SORT_KEYS = {
    "example": "Example order",
    "latency": "Latency",
    "cost": "Cost",
    "tokens": "Output tokens",
    "output": "Output text",
    "status": "Errors first",
}


def _normalised(text: str) -> str:
    return " ".join(text.split())


def _sort_key(cell: GridCell | None, mode: str, row: int) -> tuple[int, Any]:
    """(group, value): cells without the value sort after those with it."""
    if cell is None:
        return (2, row)
    if mode == "latency":
        value: Any = cell.latency_ms
    elif mode == "cost":
        value = cell.cost_usd
    elif mode == "tokens":
        value = cell.output_tokens
    elif mode == "output":
        value = cell.text.casefold()
    elif mode == "status":
        value = {"error": 0, "cancelled": 1, "pending": 2, "streaming": 3}.get(cell.status, 4)
    else:
        value = row
    return (1, row) if value is None else (0, value)


class RunGridProxy(QSortFilterProxyModel):
    """Row filters and sort modes over a `RunGridModel` (columns are never filtered)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.errors_only = False
        self.differ: tuple[int, int] | None = None
        self.search = ""
        self.sort_mode = "example"
        # Streaming updates must not re-sort the table 20 times a second; the grid invalidates.
        self.setDynamicSortFilter(False)

    def grid(self) -> RunGridModel:
        source = self.sourceModel()
        assert isinstance(source, RunGridModel)
        return source

    def set_filters(
        self, *, errors_only: bool, differ: tuple[int, int] | None, search: str
    ) -> None:
        self.errors_only, self.differ, self.search = errors_only, differ, search.casefold()
        self.invalidate()

    def filterAcceptsRow(
        self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex
    ) -> bool:
        grid = self.grid()
        if self.errors_only and not grid.row_has_error(source_row):
            return False
        if self.differ is not None:
            left = grid.cell_at(source_row, self.differ[0])
            right = grid.cell_at(source_row, self.differ[1])
            if left is None or right is None or left.status != "done" or right.status != "done":
                return False
            if _normalised(left.output) == _normalised(right.output):
                return False
        if self.search:
            row = grid.rows[source_row]
            texts = [*row.vars.values()]
            texts += [
                c.text for col in range(len(grid.columns)) if (c := grid.cell_at(source_row, col))
            ]
            if not any(self.search in t.casefold() for t in texts):
                return False
        return True

    def lessThan(
        self,
        source_left: QModelIndex | QPersistentModelIndex,
        source_right: QModelIndex | QPersistentModelIndex,
    ) -> bool:
        grid = self.grid()
        left = _sort_key(
            grid.cell_at(source_left.row(), source_left.column()), self.sort_mode, source_left.row()
        )
        right = _sort_key(
            grid.cell_at(source_right.row(), source_right.column()),
            self.sort_mode,
            source_right.row(),
        )
        try:
            return left < right
        except TypeError:  # mixed value types cannot happen within one mode, but never crash
            return str(left) < str(right)
