"""Undoable dataset edits (QUndoCommand): edit a cell, add rows, delete rows.

Each step changes the editor's model at once (the GUI thread never waits) and hands the matching
storage write to the editor, which runs it as a `ProjectOp` on the project thread; writes run
one at a time in order, so an undo never overtakes its edit. A refused write reloads the
dataset from the project and clears the undo history, so the screen never shows an edit that
was not stored. Storage ids change when undo re-inserts deleted rows, so commands name rows by
the editor's session `key` and ask the editor for the current id when the write runs.

The first `redo()` is done by the editor *before* the command is pushed; `push` then skips
that first call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from PySide6.QtGui import QUndoCommand

from workbench.core.models import Example
from workbench.services.project_session import Project
from workbench.ui.models.examples_model import ExamplesModel, Row

StoreStep = Callable[[Project], None]


class DatasetHost(Protocol):
    """What commands need from the editor."""

    model: ExamplesModel
    dataset: str | None

    def db_id(self, key: int) -> int: ...
    def set_db_id(self, key: int, example_id: int) -> None: ...
    def new_key(self) -> int: ...
    def store(self, step: StoreStep) -> None: ...


class _DatasetCommand(QUndoCommand):
    def __init__(self, host: DatasetHost, text: str) -> None:
        super().__init__(text)
        self.host = host
        self._skip_first_redo = True

    def apply_now(self) -> None:
        """The first redo, run by the editor before pushing."""
        self.host.store(self._forward())

    def redo(self) -> None:
        if self._skip_first_redo:
            self._skip_first_redo = False
            return
        self.host.store(self._forward())

    def undo(self) -> None:
        self.host.store(self._backward())

    def _forward(self) -> StoreStep:
        """Change the model; return the storage write that matches it."""
        raise NotImplementedError

    def _backward(self) -> StoreStep:
        raise NotImplementedError

    def _name(self) -> str:
        assert self.host.dataset is not None
        return self.host.dataset

    def _insert(self, rows: Sequence[tuple[int, Row]]) -> StoreStep:
        """Insert (position, row) pairs in the model, keeping the given positions."""
        for position, row in sorted(rows, key=lambda pair: pair[0]):
            self.host.model.insert_rows(position, [row])
        name, host = self._name(), self.host
        examples = [r.example for _, r in rows]
        keys = [r.key for _, r in rows]
        order_keys = [r.key for r in host.model.rows]

        def store(project: Project) -> None:
            ids = project.datasets.add_examples(name, examples)
            for key, example_id in zip(keys, ids, strict=True):
                host.set_db_id(key, example_id)
            # New rows are appended in storage; one reorder puts them where the user sees them.
            project.datasets.reorder(name, [host.db_id(k) for k in order_keys])

        return store

    def _delete(self, keys: Sequence[int]) -> StoreStep:
        self.host.model.remove_rows(keys)
        host, keys = self.host, list(keys)

        def store(project: Project) -> None:
            project.datasets.delete_examples([host.db_id(k) for k in keys])

        return store


class EditExampleCommand(_DatasetCommand):
    """Replace one example's content (one edited cell, or a pasted single value)."""

    def __init__(self, host: DatasetHost, key: int, before: Example, after: Example) -> None:
        super().__init__(host, "Edit cell")
        self.key, self.before, self.after = key, before, after

    def _set(self, example: Example) -> StoreStep:
        self.host.model.replace_row(self.key, example)
        host, key = self.host, self.key

        def store(project: Project) -> None:
            project.datasets.update_example(host.db_id(key), example)

        return store

    def _forward(self) -> StoreStep:
        return self._set(self.after)

    def _backward(self) -> StoreStep:
        return self._set(self.before)


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

    def _forward(self) -> StoreStep:
        return self._insert(self.rows)

    def _backward(self) -> StoreStep:
        return self._delete(self.keys)


class DeleteRowsCommand(_DatasetCommand):
    """Delete examples; undo puts them back where they were."""

    def __init__(self, host: DatasetHost, keys: Sequence[int]) -> None:
        count = len(keys)
        super().__init__(host, f"Delete {count} example{'s' if count != 1 else ''}")
        model = host.model
        self.rows = sorted(
            ((model.row_of(k), model.rows[model.row_of(k)]) for k in keys), key=lambda p: p[0]
        )

    def _forward(self) -> StoreStep:
        return self._delete([row.key for _, row in self.rows])

    def _backward(self) -> StoreStep:
        return self._insert(self.rows)
