"""Keyboard labeling: one set of keys for the run grid and the review queue.

`LabelKeys` makes a QAction per key (P/F verdict, 1–5 rating, T tags, N note, E promote,
U clear, J/K move) whose shortcut works while focus is inside its scope widget, so the same
letters type normally everywhere else. Each key writes through `project.labels` in one call and
announces `("labels", call_id)`; screens refresh from that notice, never from each other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QWidget

from workbench.core.errors import WorkbenchError
from workbench.ui.context import Change, ProjectChange, ProjectContext
from workbench.ui.models.run_grid_model import CALL_ID_ROLE
from workbench.ui.operations import ProjectOp, describe_error
from workbench.ui.widgets.label_bar import label_badge

if TYPE_CHECKING:
    from workbench.ui.widgets.run_grid import RunGrid

# name, menu text, status tip; keys are given per screen for moving, fixed for the rest.
LABEL_ACTIONS: list[tuple[str, str, str, str]] = [
    ("pass", "Mark &pass", "P", "Label the selected output as passing"),
    ("fail", "Mark &fail", "F", "Label the selected output as failing"),
    *[
        (f"rate_{n}", f"Rate {n}", str(n), f"Rate the selected output {n} of 5")
        for n in range(1, 6)
    ],
    ("tag", "Failure &tags…", "T", "Tick the failure tags of the selected output"),
    ("note", "&Note…", "N", "Write a note on the selected output"),
    ("promote", "Promote to &eval case…", "E", "Add the selected output as a case in a dataset"),
    ("clear", "&Clear label", "U", "Remove the selected output's verdict, rating, tags and note"),
]
WRITES = {"pass", "fail", "tag", "note", "promote", "clear", *(f"rate_{n}" for n in range(1, 6))}


class LabelKeys(QObject):
    """Labeling actions bound to `scope`; `current_call()` says which call they act on.

    :param move: (next, previous) callables for J/K; None for a screen without moving
    :param move_keys: extra keys per direction, e.g. (["Space"], ["Backspace"]) in the review
    """

    message = Signal(str)
    promote_requested = Signal(int)

    def __init__(
        self,
        ctx: ProjectContext,
        scope: QWidget,
        current_call: Callable[[], int | None],
        *,
        move: tuple[Callable[[], None], Callable[[], None]] | None = None,
        move_keys: tuple[Sequence[str], Sequence[str]] = ((), ()),
    ) -> None:
        super().__init__(scope)
        self.ctx = ctx
        self.scope = scope
        self.current_call = current_call
        self.dialog: QDialog | None = None
        self.actions: dict[str, QAction] = {}
        slots: dict[str, Callable[[], object]] = {
            "pass": lambda: self.set_verdict("pass"),
            "fail": lambda: self.set_verdict("fail"),
            "tag": self.open_tag_picker,
            "note": self.open_note_editor,
            "promote": self.promote,
            "clear": self.clear,
            **{f"rate_{n}": partial(self.rate, n) for n in range(1, 6)},
        }
        for name, text, key, tip in LABEL_ACTIONS:
            self._add(name, text, [key], tip, slots[name])
        if move is not None:
            self._add(
                "next", "&Next output", ["J", *move_keys[0]], "Go to the next output", move[0]
            )
            self._add(
                "previous",
                "P&revious output",
                ["K", *move_keys[1]],
                "Go to the previous output",
                move[1],
            )

    def _add(
        self, name: str, text: str, keys: list[str], tip: str, slot: Callable[[], object]
    ) -> None:
        action = QAction(text, self.scope)
        action.setShortcuts([QKeySequence(k) for k in keys])
        # Only while focus is in this screen: elsewhere "p" or "1" must type as usual.
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.setStatusTip(tip)
        action.setToolTip(f"{text.replace('&', '').rstrip('…')} ({keys[0]})")
        action.triggered.connect(lambda _checked=False: slot())
        self.scope.addAction(action)
        self.actions[name] = action

    # -- acting on the current call -------------------------------------------------------------
    def _target(self) -> int | None:
        """The call to label, or None after saying why there is none."""
        if self.ctx.project is None:
            return None
        if self.ctx.read_only:
            self.message.emit("The project is open read-only, so labels cannot be saved.")
            return None
        call_id = self.current_call()
        if not call_id:
            self.message.emit("This cell has no finished call to label yet.")
            return None
        return int(call_id)

    def _write(self, call_id: int, done: str, **fields: object) -> bool:
        """Save the label in the background; the outcome arrives as a `message`."""
        ProjectOp(
            self,
            self.ctx,
            lambda project: project.labels.set_label(call_id, **fields),  # type: ignore[arg-type]
            change=Change.LABELS,
            detail=call_id,
        ).success(
            lambda label: self.message.emit(
                f"{done} — call #{call_id} {label_badge(label)}".rstrip()
            )
        ).failure(self.message.emit).run()
        return True

    def set_verdict(self, verdict: str) -> bool:
        call_id = self._target()
        return call_id is not None and self._write(call_id, f"Saved: {verdict}", verdict=verdict)

    def rate(self, rating: int) -> bool:
        call_id = self._target()
        return call_id is not None and self._write(call_id, f"Rated {rating}", rating=rating)

    def clear(self) -> bool:
        call_id = self._target()
        return call_id is not None and self._write(
            call_id, "Label cleared", verdict=None, rating=None, note="", tags=[]
        )

    def open_tag_picker(self) -> QDialog | None:
        from workbench.ui.dialogs.label_editors import TagPicker

        call_id = self._target()
        return None if call_id is None else self._open(TagPicker(self.ctx, call_id, self._window()))

    def open_note_editor(self) -> QDialog | None:
        from workbench.ui.dialogs.label_editors import NoteEditor

        call_id = self._target()
        return (
            None if call_id is None else self._open(NoteEditor(self.ctx, call_id, self._window()))
        )

    def promote(self) -> QDialog | None:
        """E: the promote dialog for the current call (it writes the new case itself)."""
        from workbench.ui.dialogs.promote_dialog import PromoteDialog

        call_id = self._target()
        if call_id is None:
            return None
        try:
            dialog = PromoteDialog(self.ctx, call_id, self._window())
        except WorkbenchError as exc:
            self.message.emit(describe_error(exc))
            return None
        dialog.promoted.connect(
            lambda example_id, dataset: self.message.emit(
                f"Added call #{call_id} to '{dataset}' as example #{example_id}"
            )
        )
        self.promote_requested.emit(call_id)
        return self._open(dialog)

    def _window(self) -> QWidget:
        return self.scope.window()

    def _refocus(self, _result: int = 0) -> None:
        self.scope.window().activateWindow()
        self.scope.setFocus()

    def _open(self, dialog: QDialog) -> QDialog:
        dialog.finished.connect(dialog.deleteLater)
        dialog.finished.connect(self._refocus)
        self.dialog = dialog
        dialog.open()  # window-modal, never blocks the event loop
        return dialog


# -- the run grid -----------------------------------------------------------------------------


class GridLabeling(QObject):
    """The labeling keys on `grid.table`, cell badges and `grid.label_bar` kept current."""

    def __init__(self, grid: RunGrid) -> None:
        super().__init__(grid)
        self.grid = grid
        self.table = grid.table
        self.keys = LabelKeys(
            grid.ctx, self.table, self.current_call, move=(self.next, self.previous)
        )
        self.actions = self.keys.actions
        self.keys.message.connect(grid.label_bar.show_message)
        grid.call_selected.connect(grid.label_bar.show_call)
        grid.model.modelReset.connect(self.load_badges)
        grid.ctx.changed.connect(self._on_context_changed)

    def current_call(self) -> int | None:
        index: QModelIndex = self.table.currentIndex()
        return index.data(CALL_ID_ROLE) if index.isValid() else None

    def next(self) -> None:
        self._step(1)

    def previous(self) -> None:
        self._step(-1)

    def _step(self, delta: int) -> None:
        proxy = self.table.model()
        rows, columns = proxy.rowCount(), proxy.columnCount()
        if not rows or not columns:
            return
        current = self.table.currentIndex()
        if not current.isValid():
            row, column = 0, 0
        else:
            # Down the column, then on to the top of the next one: one model's outputs in turn.
            flat = current.column() * rows + current.row() + delta
            column, row = divmod(max(0, min(rows * columns - 1, flat)), rows)
        index = proxy.index(row, column)
        self.table.setCurrentIndex(index)
        self.table.scrollTo(index)

    def load_badges(self) -> None:
        """Badges for every call in the grid, read in one batch."""
        project = self.grid.ctx.project
        ids = [c.call_id for c in self.grid.model.cells.values() if c.call_id is not None]
        if project is None or not ids:
            return
        labels = project.labels.for_calls(ids)
        self.grid.model.set_badges({i: label_badge(label) for i, label in labels.items()})

    def _on_context_changed(self, change: ProjectChange) -> None:
        project = self.grid.ctx.project
        if not change.touches(Change.LABELS) or project is None:
            return
        detail = change.detail
        if isinstance(detail, int):
            self.grid.model.set_badges({detail: label_badge(project.labels.get(detail))})
        else:
            self.load_badges()


def attach_grid_labeling(grid: RunGrid) -> GridLabeling:
    """Bind the labeling keys to the run grid (it needs `grid.label_bar`)."""
    return GridLabeling(grid)
