"""Datasets and their ordered examples (variable values, tags, note, expectations)."""

from __future__ import annotations

import builtins
import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from workbench.core.errors import BadInput, NotFound
from workbench.core.models import Dataset, Example
from workbench.storage.prompts_repo import check_name

if TYPE_CHECKING:
    from workbench.storage.project import Project


def _dumps(value: Any) -> str:
    # Not canonical JSON: the order of a row's variables is what the user sees.
    return json.dumps(value, ensure_ascii=False)


def example_from_row(row: dict[str, Any]) -> Example:
    """Rebuild an `Example` from its ``examples`` row."""
    return Example(
        vars=json.loads(row["vars_json"]),
        tags=json.loads(row["tags_json"]),
        note=row["note"],
        expect=json.loads(row["expect_json"]),
    )


def _example_values(example: Example) -> list[Any]:
    return [
        _dumps(example.vars),
        _dumps(example.tags),
        example.note,
        _dumps([e.model_dump(mode="json") for e in example.expect]),
    ]


class DatasetsRepo:
    """Read and write datasets; every write is one transaction."""

    def __init__(self, project: Project) -> None:
        self._project = project

    @property
    def _db(self) -> Database:
        return self._project.db

    # -- reading ---------------------------------------------------------------------------

    def names(self) -> builtins.list[str]:
        return [r[0] for r in self._db.execute("SELECT name FROM datasets ORDER BY id")]

    def counts(self) -> dict[str, int]:
        """Number of examples per dataset name, in creation order (cheap, for lists)."""
        rows = self._db.execute(
            "SELECT d.name, COUNT(e.id) FROM datasets d LEFT JOIN examples e "
            "ON e.dataset_id = d.id GROUP BY d.id ORDER BY d.id"
        )
        return {name: count for name, count in rows}

    def list(self) -> builtins.list[Dataset]:
        """Every dataset with its examples, in creation order."""
        return [self.get(name) for name in self.names()]

    def get(self, name: str) -> Dataset:
        row = self._dataset_row(name)
        examples = [example for _, example in self._examples(row["id"])]
        return Dataset(name=row["name"], description=row["description"], examples=examples)

    def get_with_ids(self, name: str) -> builtins.list[tuple[int, Example]]:
        """The dataset's examples in order, each with its row id (for edits and run cells)."""
        return self._examples(self._dataset_row(name)["id"])

    def get_example(self, example_id: int) -> Example:
        for row in self._db.query("SELECT * FROM examples WHERE id = ?", [example_id]):
            return example_from_row(row)
        raise NotFound(f"No example with id {example_id}.")

    def _examples(self, dataset_id: int) -> builtins.list[tuple[int, Example]]:
        rows = self._db.query(
            "SELECT * FROM examples WHERE dataset_id = ? ORDER BY position, id", [dataset_id]
        )
        return [(row["id"], example_from_row(row)) for row in rows]

    def _dataset_row(self, name: str) -> dict[str, Any]:
        for row in self._db.query("SELECT * FROM datasets WHERE name = ?", [name]):
            return row
        known = ", ".join(self.names()) or "none yet"
        raise NotFound(f"No dataset named '{name}'.", hint=f"Known datasets: {known}.")

    # -- writing ---------------------------------------------------------------------------

    def create(self, name: str, description: str = "") -> Dataset:
        """Create an empty dataset."""
        check_name(name, "dataset")
        self._project.require_writable("create a dataset")
        with self._db.atomic():
            if self._db.execute("SELECT 1 FROM datasets WHERE name = ?", [name]).fetchone():
                raise BadInput(f"A dataset named '{name}' already exists.", field="name")
            self._db.execute(
                "INSERT INTO datasets (name, description, created_at) VALUES (?, ?, ?)",
                [name, description, dt.datetime.now(dt.UTC).isoformat()],
            )
        return Dataset(name=name, description=description)

    def set_description(self, name: str, description: str) -> None:
        self._project.require_writable("change a dataset")
        with self._db.atomic():
            dataset_id = self._dataset_row(name)["id"]
            self._db.execute(
                "UPDATE datasets SET description = ? WHERE id = ?", [description, dataset_id]
            )

    def rename(self, name: str, new_name: str) -> None:
        check_name(new_name, "dataset")
        self._project.require_writable("rename a dataset")
        with self._db.atomic():
            dataset_id = self._dataset_row(name)["id"]
            if self._db.execute("SELECT 1 FROM datasets WHERE name = ?", [new_name]).fetchone():
                raise BadInput(f"A dataset named '{new_name}' already exists.", field="name")
            self._db.execute("UPDATE datasets SET name = ? WHERE id = ?", [new_name, dataset_id])

    def delete(self, name: str) -> None:
        """Delete a dataset and its examples."""
        self._project.require_writable("delete a dataset")
        with self._db.atomic():
            dataset_id = self._dataset_row(name)["id"]
            self._db.execute("DELETE FROM datasets WHERE id = ?", [dataset_id])

    def add_examples(
        self,
        name: str,
        examples: Iterable[Example],
        *,
        provenance: dict[str, Any] | None = None,
    ) -> builtins.list[int]:
        """Append examples after the last one; `provenance` (e.g. the call they came from)."""
        self._project.require_writable("add examples")
        now = dt.datetime.now(dt.UTC).isoformat()
        origin = None if provenance is None else _dumps(provenance)
        ids: builtins.list[int] = []
        with self._db.atomic():
            dataset_id = self._dataset_row(name)["id"]
            (position,) = self._db.execute(
                "SELECT COALESCE(MAX(position) + 1, 0) FROM examples WHERE dataset_id = ?",
                [dataset_id],
            ).fetchone()
            for offset, example in enumerate(examples):
                cursor = self._db.execute(
                    "INSERT INTO examples (dataset_id, position, vars_json, tags_json, note, "
                    "expect_json, provenance_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [dataset_id, position + offset, *_example_values(example), origin, now],
                )
                ids.append(int(cursor.lastrowid or 0))
        return ids

    def update_example(self, example_id: int, example: Example) -> None:
        """Replace an example's content in place (its position and provenance stay)."""
        self._project.require_writable("edit an example")
        with self._db.atomic():
            cursor = self._db.execute(
                "UPDATE examples SET vars_json = ?, tags_json = ?, note = ?, expect_json = ? "
                "WHERE id = ?",
                [*_example_values(example), example_id],
            )
            if cursor.rowcount == 0:
                raise NotFound(f"No example with id {example_id}.")

    def delete_examples(self, ids: Iterable[int]) -> int:
        """Delete examples by id; return how many existed."""
        self._project.require_writable("delete examples")
        deleted = 0
        with self._db.atomic():
            for example_id in ids:
                deleted += self._db.execute(
                    "DELETE FROM examples WHERE id = ?", [example_id]
                ).rowcount
        return deleted

    def reorder(self, name: str, ids: Sequence[int]) -> None:
        """Put the dataset's examples in the order of `ids`, which must list each exactly once."""
        self._project.require_writable("reorder examples")
        with self._db.atomic():
            current = [example_id for example_id, _ in self.get_with_ids(name)]
            if sorted(current) != sorted(ids):
                raise BadInput(
                    f"The new order for dataset '{name}' must list each of its examples once."
                )
            for position, example_id in enumerate(ids):
                self._db.execute(
                    "UPDATE examples SET position = ? WHERE id = ?", [position, example_id]
                )
