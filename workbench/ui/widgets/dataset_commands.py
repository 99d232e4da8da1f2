"""Undoable dataset edits (QUndoCommand): edit a cell, add rows, delete rows.

Each command writes through `project.datasets` and then updates the editor's model. Storage ids
change when undo re-inserts deleted rows, so commands name rows by the editor's session `key`
and ask the editor for the current id.

The first `redo()` is done by the editor *before* the command is pushed (so a refused write —
say, a read-only project — never lands on the stack); `push` then skips that first call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from PySide6.QtGui import QUndoCommand

from workbench.core.models import Example
from workbench.services.project_session import Project
from workbench.ui.models.examples_model import ExamplesModel, Row


class DatasetHost(Protocol):
    """What commands need from the editor."""

    model: ExamplesModel
    dataset: str | None

    def project(self) -> Project: ...
    def db_id(self, key: int) -> int: ...
    def set_db_id(self, key: int, example_id: int) -> None: ...
    def new_key(self) -> int: ...
    def announce(self) -> None: ...
    def command_failed(self, exc: Exception) -> None: ...


class _DatasetCommand(QUndoCommand):
    def __init__(self, host: DatasetHost, text: str) -> None:
        super().__init__(text)
        self.host = host
        self._skip_first_redo = True

    def apply_now(self) -> None:
        """The first redo, run by the editor before pushing; raises on failure."""
        self._forward()
        self.host.announce()

    def redo(self) -> None:
        if self._skip_first_redo:
            self._skip_first_redo = False
            return
        self._guarded(self._forward)

    def undo(self) -> None:
        self._guarded(self._backward)

    def _guarded(self, step: object) -> None:
        try:
            step()  # type: ignore[operator]
        except Exception as exc:  # reported in the editor; the stack is reset after it
            self.host.command_failed(exc)
        else:
            self.host.announce()

    def _forward(self) -> None:
        raise NotImplementedError

    def _backward(self) -> None:
        raise NotImplementedError

    def _name(self) -> str:
        assert self.host.dataset is not None
        return self.host.dataset

    def _insert(self, rows: Sequence[tuple[int, Row]]) -> None:
        """Insert (position, row) pairs in storage and the model, keeping the given positions."""
        project = self.host.project()
        ids = project.datasets.add_examples(self._name(), [r.example for _, r in rows])
        for (_, row), example_id in zip(rows, ids, strict=True):
            self.host.set_db_id(row.key, example_id)
        for position, row in sorted(rows, key=lambda pair: pair[0]):
            self.host.model.insert_rows(position, [row])
        # New rows are appended in storage; one reorder puts them where the user sees them.
        order = [self.host.db_id(r.key) for r in self.host.model.rows]
        project.datasets.reorder(self._name(), order)

    def _delete(self, keys: Sequence[int]) -> None:
        project = self.host.project()
        project.datasets.delete_examples([self.host.db_id(k) for k in keys])
        self.host.model.remove_rows(keys)


class EditExampleCommand(_DatasetCommand):
    """Replace one example's content (one edited cell, or a pasted single value)."""

    def __init__(self, host: DatasetHost, key: int, before: Example, after: Example) -> None:
        super().__init__(host, "Edit cell")
        self.key, self.before, self.after = key, before, after

    def _set(self, example: Example) -> None:
        self.host.project().datasets.update_example(self.host.db_id(self.key), example)
        self.host.model.replace_row(self.key, example)

    def _forward(self) -> None:
        self._set(self.after)

    def _backward(self) -> None:
        self._set(self.before)


class AddRowsCommand(_DatasetCommand):
    """Insert new examples at a position (add, duplicate, paste, import)."""

    def __init__(
        self, host: DatasetHost, position: int, examples: Sequence[Example], text: str
    ) -> None:
        super().__init__(host, text)
        self.rows = [(position + i, Row(host.new_key(), e)) for i, e in enumerate(examples)]

    @property
    def keys(self) -> list[int]:
        return [row.key for _, row in self.rows]

    def _forward(self) -> None:
        self._insert(self.rows)

    def _backward(self) -> None:
        self._delete(self.keys)


class DeleteRowsCommand(_DatasetCommand):
    """Delete examples; undo puts them back where they were."""

    def __init__(self, host: DatasetHost, keys: Sequence[int]) -> None:
        count = len(keys)
        super().__init__(host, f"Delete {count} example{'s' if count != 1 else ''}")
        model = host.model
        self.rows = sorted(
            ((model.row_of(k), model.rows[model.row_of(k)]) for k in keys), key=lambda p: p[0]
        )

    def _forward(self) -> None:
        self._delete([row.key for _, row in self.rows])

    def _backward(self) -> None:
        self._insert(self.rows)
