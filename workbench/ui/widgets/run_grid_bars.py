"""The run grid's parts: the header bar (status, synthetic badge, Stop, Resume), the filter bar
(text, errors only, "differs" pair, sort mode, Compare) and the table view itself."""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QWidget,
)

from workbench.core.records import RunRecord
from workbench.services.run_grid_cells import PREVIEW_LINES
from workbench.services.runner import Progress
from workbench.ui.models.run_grid_model import DIFFERS_ROLE
from workbench.ui.models.run_grid_proxy import SORT_KEYS
from workbench.ui.run_controller import progress_text
from workbench.ui.widgets.grid_cell_delegate import GridCellDelegate

SYNTHETIC_BADGE = "offline demo — synthetic responses"
RESUMABLE = ("interrupted", "cancelled", "failed")


class RunHeaderBar(QWidget):
    """Which run, how it went, and the Stop / Resume buttons."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.status = QLabel("No run selected")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setStyleSheet("font-weight: bold;")
        self.badge = QLabel(SYNTHETIC_BADGE)
        self.badge.setStyleSheet("background: #fff4d6; color: #5c3d00; padding: 2px 6px;")
        self.badge.setVisible(False)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop the run; finished calls are kept and it can be resumed")
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Run only the cells that are missing, failed or cancelled")
        # Hidden buttons keep their room, so showing Stop when a run starts does not re-lay
        # out (and repaint) the whole grid below at the busiest moment.
        for widget in (self.badge, self.stop_button, self.resume_button):
            policy = widget.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            widget.setSizePolicy(policy)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.status, 1)
        layout.addWidget(self.badge)
        layout.addWidget(self.stop_button)
        layout.addWidget(self.resume_button)

    def show_state(
        self,
        run: RunRecord | None,
        *,
        live: bool,
        progress: Progress | None,
        can_resume: bool,
        counts: tuple[int, int, int],
    ) -> None:
        """Show `run` (a `RunsRepo.get_run` row): live progress, or its outcome and totals.

        :param counts: (finished cells, error cells, all cells) as the grid shows them
        """
        self.stop_button.setVisible(live)
        if run is None:
            self.badge.setVisible(False)
            self.resume_button.setVisible(False)
            return
        self.badge.setVisible(bool(run.synthetic))
        resumable = run.status in RESUMABLE and not live
        self.resume_button.setVisible(resumable)
        self.resume_button.setEnabled(resumable and can_resume)
        title = f"Run #{run.id} · "
        if live:
            self.status.setText(title + (progress_text(progress) if progress else "running…"))
            return
        done, errors, total = counts
        totals = run.totals or {}
        parts = [
            run.status,
            f"{done}/{total} cells",
            f"{errors} error{'s' if errors != 1 else ''}",
        ]
        if "spend_usd" in totals:
            parts.append(f"${totals['spend_usd']:.4f}")
        if "elapsed_s" in totals:
            parts.append(f"{totals['elapsed_s']:.1f} s")
        if run.status_reason:
            parts.append(str(run.status_reason))
        self.status.setText(title + " · ".join(parts))


class GridFilterBar(QWidget):
    """Row filters and the sort mode; the grid applies them to its proxy."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter rows by text (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.errors_only = QCheckBox("&Errors only")
        self.differ_left, self.differ_right = QComboBox(), QComboBox()
        self.differ_left.setAccessibleName("Differs: first column")
        self.differ_right.setAccessibleName("Differs: second column")
        self.sort_mode = QComboBox()
        self.sort_mode.setAccessibleName("Sort by")
        for key, text in SORT_KEYS.items():
            self.sort_mode.addItem(text, key)
        self.differs_first = QPushButton("≠ &first column")
        self.differs_first.setCheckable(True)
        self.differs_first.setToolTip(
            "Mark the cells whose output differs from the first column's (a bar on the left)"
        )
        self.compare_button = QPushButton("Compare")
        self.compare_button.setToolTip("Word diff of the two selected cells (Ctrl+Shift+C)")
        self.compare_button.setEnabled(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search, 2)
        layout.addWidget(self.errors_only)
        layout.addWidget(self.differs_first)
        layout.addWidget(QLabel("Differs:"))
        layout.addWidget(self.differ_left, 1)
        layout.addWidget(QLabel("vs"))
        layout.addWidget(self.differ_right, 1)
        sort_label = QLabel("S&ort by")
        sort_label.setBuddy(self.sort_mode)
        layout.addWidget(sort_label)
        layout.addWidget(self.sort_mode)
        layout.addWidget(self.compare_button)

    def set_columns(self, titles: list[str]) -> None:
        """Offer these column titles in the two "differs" choosers (and reset them)."""
        for combo in (self.differ_left, self.differ_right):
            combo.blockSignals(True)
            combo.clear()
            combo.addItem("—", None)
            for column, title in enumerate(titles):
                combo.addItem(title, column)
            combo.blockSignals(False)

    def differ(self) -> tuple[int, int] | None:
        """The two chosen columns, or None unless two different ones are chosen."""
        left, right = self.differ_left.currentData(), self.differ_right.currentData()
        if left is None or right is None or left == right:
            return None
        return (left, right)


def make_grid_table(proxy: QSortFilterProxyModel, line_spacing: int) -> QTableView:
    """The grid's table: fixed-height rows of PREVIEW_LINES lines, read-only, sortable."""
    table = QTableView()
    table.setModel(proxy)
    table.setAccessibleName("Run grid: rows are examples, columns prompt version and model")
    table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setWordWrap(True)  # the delegate pre-wraps and elides the last line
    table.setItemDelegate(GridCellDelegate(PREVIEW_LINES, table, differs_role=DIFFERS_ROLE))
    table.setTextElideMode(Qt.TextElideMode.ElideRight)
    table.setSortingEnabled(True)
    table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
    rows = table.verticalHeader()
    # Fixed row heights keep the view from measuring every row (virtualised scrolling).
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    rows.setDefaultSectionSize(line_spacing * PREVIEW_LINES + 10)
    columns = table.horizontalHeader()
    columns.setDefaultSectionSize(300)
    columns.setMinimumSectionSize(120)
    return table
