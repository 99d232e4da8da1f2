"""The run grid screen: a header bar (status, Stop, Resume), filters, the side-by-side table of
outputs, and a word diff of two selected cells.

It observes a `RunController` (`attach`) for live runs and the project context for changes;
selecting a cell announces its call with `call_selected(call_id)` (0 when the cell has no
finished call yet). Outputs are plain text; synthetic runs say so in the header and in each cell.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from workbench.core.errors import WorkbenchError
from workbench.core.records import CellWithCall, RunRecord
from workbench.services.live_scoring import CellVerdict, stored_verdicts
from workbench.services.planner import RunPlan
from workbench.services.runner import Progress, RunOutcome
from workbench.ui.context import Change, ProjectChange, ProjectContext
from workbench.ui.labeling import attach_grid_labeling
from workbench.ui.models.run_grid_model import CALL_ID_ROLE, CELL_ID_ROLE, RunGridModel
from workbench.ui.models.run_grid_proxy import RunGridProxy
from workbench.ui.operations import describe_error
from workbench.ui.run_controller import RunController
from workbench.ui.widgets.label_bar import LabelBar
from workbench.ui.widgets.output_diff import OutputDiff
from workbench.ui.widgets.run_grid_bars import (
    GridFilterBar,
    RunHeaderBar,
    make_grid_table,
)

REFILTER_MS = 300


class RunGrid(QWidget):
    """Shows one run; follows the attached controller's live run."""

    call_selected = Signal(int)

    def __init__(self, ctx: ProjectContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.controller: RunController | None = None
        self.run: RunRecord | None = None
        self._message = "No run selected"  # shown while no run row is loaded
        self._settled_run: int | None = None
        self.model = RunGridModel(self)
        self.proxy = RunGridProxy(self)
        self.proxy.setSourceModel(self.model)

        self.header_bar = RunHeaderBar()
        self.filter_bar = GridFilterBar()
        # Short names for the parts other code and tests drive.
        self.status, self.badge = self.header_bar.status, self.header_bar.badge
        self.stop_button = self.header_bar.stop_button
        self.resume_button = self.header_bar.resume_button
        self.search, self.errors_only = self.filter_bar.search, self.filter_bar.errors_only
        self.differ_left, self.differ_right = (
            self.filter_bar.differ_left,
            self.filter_bar.differ_right,
        )
        self.sort_mode = self.filter_bar.sort_mode
        self.differs_first = self.filter_bar.differs_first
        self.differs_first.toggled.connect(self.model.set_highlight_differences)
        self.compare_button = self.filter_bar.compare_button
        self.stop_button.clicked.connect(self._on_stop)
        self.resume_button.clicked.connect(self._on_resume)
        self.compare_button.clicked.connect(self.compare_selected)
        self.table = make_grid_table(self.proxy, self.fontMetrics().lineSpacing())
        self.diff = OutputDiff()
        self.diff.setVisible(False)
        self.diff.closed.connect(lambda: self.diff.setVisible(False))
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.diff)
        splitter.setChildrenCollapsible(False)
        self.splitter = splitter

        layout = QVBoxLayout(self)
        layout.addWidget(self.header_bar)
        layout.addWidget(self.filter_bar)
        layout.addWidget(splitter, 1)
        self.label_bar = LabelBar(ctx)  # the selected call's label and the labeling keys
        layout.addWidget(self.label_bar)

        QShortcut(
            QKeySequence.StandardKey.Find,
            self,
            activated=self.search.setFocus,
            context=Qt.ShortcutContext.WidgetWithChildrenShortcut,
        )
        QShortcut(
            QKeySequence("Ctrl+Shift+C"),
            self,
            activated=self.compare_selected,
            context=Qt.ShortcutContext.WidgetWithChildrenShortcut,
        )
        QShortcut(
            QKeySequence("Escape"),
            self.diff,
            activated=self.diff.closed.emit,
            context=Qt.ShortcutContext.WidgetWithChildrenShortcut,
        )
        self._refilter = QTimer(self)
        self._refilter.setSingleShot(True)
        self._refilter.setInterval(REFILTER_MS)
        self._refilter.timeout.connect(self.proxy.invalidate)
        self.search.textChanged.connect(self._apply_filters)
        self.errors_only.toggled.connect(self._apply_filters)
        self.differ_left.currentIndexChanged.connect(self._apply_filters)
        self.differ_right.currentIndexChanged.connect(self._apply_filters)
        self.sort_mode.currentIndexChanged.connect(self._on_sort_mode)
        self.table.selectionModel().currentChanged.connect(self._on_current_changed)
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        ctx.changed.connect(self._on_context_changed)
        self.labeling = attach_grid_labeling(self)  # P/F/1–5/T/N/E/U/J/K on the table
        self._update_header()

    # -- wiring ----------------------------------------------------------------------------------
    def attach(self, controller: RunController) -> None:
        """Follow `controller`'s runs: show each new run and stream its cells."""
        self.controller = controller
        controller.run_planned.connect(self._on_run_planned)
        controller.run_started.connect(self._on_run_started)
        controller.cell_started.connect(self._on_cell_started)
        controller.cell_text.connect(self.model.append_text)
        controller.cell_finished.connect(self._on_cell_finished)
        controller.cell_scored.connect(self._on_cell_scored)
        controller.progress.connect(self._on_progress)
        controller.run_finished.connect(self._on_run_finished)
        controller.error.connect(lambda _message: self._update_header())

    def _live(self) -> bool:
        c = self.controller
        return (
            c is not None and c.running and c.run_id is not None and c.run_id == self.model.run_id
        )

    # -- showing a run -------------------------------------------------------------------------
    def show_run(self, run_id: int | None) -> None:
        """Load run `run_id` from the project (None clears the grid)."""
        current = self.table.currentIndex()
        keep_cell = current.data(CELL_ID_ROLE) if current.isValid() else None
        project = self.ctx.project
        self.run = None
        self._message = "No run selected"
        rows: list[CellWithCall] = []
        if project is not None and run_id is not None:
            try:
                self.run = project.runs.get_run(run_id)
                rows = project.runs.run_grid(run_id)
            except WorkbenchError as exc:
                self._message = describe_error(exc)
                run_id = None
        self.model.load(run_id if self.run else None, rows)
        self._load_verdicts()
        if self._live() and self.controller is not None:
            for cell_id, text in self.controller.partial_text.items():
                self.model.append_text(cell_id, text)
        self._fill_differ_choices()
        self._fit_columns()
        self.proxy.invalidate()
        if keep_cell is not None:
            self._select_cell(keep_cell)
        self._update_header()

    def _on_run_planned(self, plan: RunPlan) -> None:
        """Lay the new run out now, while the worker is still starting up."""
        self.run = None
        self.model.load_plan(plan)
        self._fill_differ_choices()
        self._fit_columns()
        self.proxy.invalidate()
        self._message = "Starting the run…"
        self._update_header()
        self.badge.setVisible(self.ctx.demo)

    def _on_run_started(self, run_id: int) -> None:
        project = self.ctx.project
        if project is None:
            return
        if run_id == self.model.run_id:  # a resume of the run on screen
            self.run = project.runs.get_run(run_id)
            self.model.reset_unfinished()
            self._update_header()
            return
        if self.model.run_id is None and self.model.cells:  # laid out from the plan
            self.model.run_id = run_id
            self.run = project.runs.get_run(run_id)
            self._update_header()
            return
        self.show_run(run_id)

    def _on_cell_started(self, cell_id: int) -> None:
        controller = self.controller
        if self.model.where(cell_id) is None and controller is not None:
            key = controller.cell_keys.get(cell_id)
            if key is not None:
                self.model.bind_cell(cell_id, key)
        self.model.cell_started(cell_id)

    def _fit_columns(self) -> None:
        """Share the visible width between the columns, within readable limits."""
        count = self.model.columnCount()
        if count:
            width = max(220, min(480, (self.table.viewport().width() - 2) // count))
            header = self.table.horizontalHeader()
            for column in range(count):
                header.resizeSection(column, width)

    def _fill_differ_choices(self) -> None:
        self.filter_bar.set_columns(
            [self.model.column_title(c) for c in range(self.model.columnCount())]
        )
        self.proxy.set_filters(
            errors_only=self.errors_only.isChecked(), differ=None, search=self.search.text()
        )

    def _select_cell(self, cell_id: int) -> None:
        where = self.model.where(cell_id)
        if where is not None:
            index = self.proxy.mapFromSource(self.model.index(*where))
            if index.isValid():
                self.table.setCurrentIndex(index)

    def _update_header(self, progress: Progress | None = None) -> None:
        live = self._live()
        controller = self.controller
        can_start = controller is not None and not controller.running and not self.ctx.read_only
        counts = (
            sum(1 for c in self.model.all_cells() if c.status in ("done", "error")),
            sum(1 for c in self.model.all_cells() if c.status == "error"),
            len(self.model.all_cells()),
        )
        if self.run is None:
            self.status.setText(self._message)
        self.header_bar.show_state(
            self.run, live=live, progress=progress, can_resume=can_start, counts=counts
        )

    # -- live updates ----------------------------------------------------------------------------
    def _on_cell_finished(self, cell_id: int, call_id: int) -> None:
        project = self.ctx.project
        if project is None or self.model.where(cell_id) is None:
            return
        try:
            call = project.runs.get_call(call_id)
        except WorkbenchError:
            return
        self.model.finish_cell(cell_id, call)
        current = self.table.currentIndex()
        if current.isValid() and current.data(CELL_ID_ROLE) == cell_id:
            self.call_selected.emit(call_id)  # the inspector follows the cell it is showing
        if self._filtering() and not self._refilter.isActive():
            self._refilter.start()

    def _on_cell_scored(self, verdict: CellVerdict) -> None:
        self.model.set_cell_verdict(verdict.cell_id, verdict.call_id, verdict.results)

    def _load_verdicts(self) -> None:
        """Colour the cells whose calls are already scored (a run scored as it landed, or
        re-scored from the Evals tab)."""
        project = self.ctx.project
        ids = [c.call_id for c in self.model.all_cells() if c.call_id is not None]
        if project is None or not ids:
            return
        try:
            self.model.set_verdicts(stored_verdicts(project, ids))
        except WorkbenchError as exc:
            self._message = describe_error(exc)

    def _on_progress(self, progress: Progress) -> None:
        if self.controller is not None and progress.run_id == self.model.run_id:
            self._update_header(progress)

    def _on_run_finished(self, outcome: RunOutcome) -> None:
        # Every finished cell is already on screen: refresh the run row and the cells that
        # never ran, instead of reloading the whole grid (and its ("runs", id) notice skips it).
        project = self.ctx.project
        if outcome.run_id != self.model.run_id or project is None:
            return
        try:
            self.run = project.runs.get_run(outcome.run_id)
        except WorkbenchError:
            return
        if outcome.status != "done":
            self.model.mark_unfinished("cancelled")
        self._settled_run = outcome.run_id
        self._update_header()

    def _on_context_changed(self, change: ProjectChange) -> None:
        detail = change.detail
        if change.touches(Change.PROJECT):
            self.show_run(None)
        elif change.touches(Change.LABELS) and self.model.run_id is not None:
            self._load_verdicts()  # re-scored elsewhere (the Evals tab)
        elif change.touches(Change.RUNS) and detail == self.model.run_id and not self._live():
            if detail == self._settled_run:
                self._settled_run = None  # the notice of the run that just finished here
            else:
                self.show_run(self.model.run_id)

    def _on_stop(self) -> None:
        if self.controller is not None:
            self.controller.cancel()

    def _on_resume(self) -> None:
        if self.controller is not None and self.model.run_id is not None:
            self.controller.resume(self.model.run_id)
            self._update_header()

    # -- filters, sorting, selection ---------------------------------------------------------------
    def _filtering(self) -> bool:
        return (
            self.proxy.errors_only
            or self.proxy.differ is not None
            or self.proxy.sort_mode != "example"
        )

    def _apply_filters(self) -> None:
        self.proxy.set_filters(
            errors_only=self.errors_only.isChecked(),
            differ=self.filter_bar.differ(),
            search=self.search.text(),
        )

    def _on_sort_mode(self) -> None:
        self.proxy.sort_mode = self.sort_mode.currentData()
        column = self.table.horizontalHeader().sortIndicatorSection()
        if self.proxy.sort_mode == "example":
            self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
            self.proxy.sort(-1)
        else:
            self.table.sortByColumn(
                max(0, column), self.table.horizontalHeader().sortIndicatorOrder()
            )
        self.proxy.invalidate()

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        call_id = current.data(CALL_ID_ROLE) if current.isValid() else None
        self.call_selected.emit(int(call_id or 0))

    def _on_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self.compare_button.setEnabled(len(self.table.selectionModel().selectedIndexes()) == 2)

    def compare_selected(self) -> bool:
        """Word-diff the two selected cells below the grid; False unless exactly two are selected."""
        indexes = sorted(
            self.table.selectionModel().selectedIndexes(), key=lambda i: (i.column(), i.row())
        )
        if len(indexes) != 2:
            return False
        titles, texts = [], []
        for index in indexes:
            source = self.proxy.mapToSource(index)
            cell = self.model.cell_at(source.row(), source.column())
            row = self.model.rows[source.row()]
            titles.append(f"Row {row.position + 1} · {self.model.column_title(source.column())}")
            texts.append(cell.text if cell is not None else "")
        self.diff.compare(titles[0], texts[0], titles[1], texts[1])
        if not self.diff.isVisible():
            self.diff.setVisible(True)
            total = sum(self.splitter.sizes())
            self.splitter.setSizes([total * 3 // 5, total * 2 // 5])
        return True
