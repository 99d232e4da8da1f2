"""A read-only Qt table model over price rows (a thin adapter over a plain list)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from workbench.core.models import PriceRow
from workbench.ui.widgets.version_history import plain_tooltip

# Editable USD-per-million-token fields, in display order, with their column titles.
PRICE_FIELDS = (
    ("input", "Input"),
    ("output", "Output"),
    ("cache_write_5m", "Cache write 5m"),
    ("cache_write_1h", "Cache write 1h"),
    ("cache_read", "Cache read"),
)
COLUMNS = (("model", "Model"), ("effective_from", "From"), *PRICE_FIELDS, ("source", "Source"))

Index = QModelIndex | QPersistentModelIndex


class PriceTableModel(QAbstractTableModel):
    """Rows are immutable, so the model never edits: Settings adds new dated rows instead."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[PriceRow] = []

    def set_rows(self, rows: list[PriceRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> PriceRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 - Qt API
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 - Qt API
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(  # noqa: N802 - Qt API
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section][1]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.row_at(index.row())
        if row is None or not index.isValid():
            return None
        field = COLUMNS[index.column()][0]
        value = getattr(row, field)
        if role == Qt.ItemDataRole.DisplayRole:
            if isinstance(value, float):
                return f"{value:,.3f}".rstrip("0").rstrip(".") if value else "0"
            return str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and isinstance(value, float):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and field == "source":
            return plain_tooltip(str(value))
        return None
