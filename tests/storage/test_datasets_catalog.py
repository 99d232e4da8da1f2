"""Datasets and examples; the model list, prices and meta values."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.core.errors import BadInput, NotFound
from workbench.core.models import Example, Expectation, Model, PriceRow
from workbench.storage import Project


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    with Project.create(tmp_path / "p.pwb", "Demo") as opened:
        yield opened


def _example(q: str) -> Example:
    return Example(
        vars={"question": q, "tone": "dry"},
        tags=["smoke"],
        note="n",
        expect=[Expectation(type="regex", value="^ok", threshold=0.5, weight=2)],
    )


def _price(model: str, day: int, source: str = "docs") -> PriceRow:
    return PriceRow(
        model=model,
        effective_from=dt.date(2025, 1, day),
        input=3,
        output=15,
        cache_write_5m=3.75,
        cache_write_1h=6,
        cache_read=0.3,
        long_context_threshold=200_000,
        long_context_input=6,
        long_context_output=22.5,
        source=source,
    )


def test_examples_append_in_order_and_round_trip(project: Project) -> None:
    project.datasets.create("smoke", "first checks")
    ids = project.datasets.add_examples("smoke", [_example("a"), _example("b")])
    ids += project.datasets.add_examples("smoke", [_example("c")], provenance={"call": 7})
    dataset = project.datasets.get("smoke")
    assert dataset.description == "first checks"
    assert [e.vars["question"] for e in dataset.examples] == ["a", "b", "c"]
    assert dataset.examples[0] == _example("a")
    assert [i for i, _ in project.datasets.get_with_ids("smoke")] == ids
    assert project.datasets.counts() == {"smoke": 3}


def test_update_delete_and_reorder_examples(project: Project) -> None:
    project.datasets.create("smoke")
    a, b, c = project.datasets.add_examples("smoke", [_example(x) for x in "abc"])
    project.datasets.update_example(b, _example("B"))
    assert project.datasets.get_example(b).vars["question"] == "B"
    project.datasets.reorder("smoke", [c, a, b])
    assert [e.vars["question"] for e in project.datasets.get("smoke").examples] == ["c", "a", "B"]
    with pytest.raises(BadInput, match="each of its examples once"):
        project.datasets.reorder("smoke", [a, b])
    assert project.datasets.delete_examples([a, 999]) == 1
    with pytest.raises(NotFound):
        project.datasets.update_example(a, _example("x"))
    assert [i for i, _ in project.datasets.get_with_ids("smoke")] == [c, b]


def test_deleting_a_dataset_deletes_its_examples(project: Project) -> None:
    project.datasets.create("smoke")
    project.datasets.add_examples("smoke", [_example("a")])
    project.datasets.delete("smoke")
    assert project.datasets.names() == []
    assert project.db.execute("SELECT COUNT(*) FROM examples").fetchone()[0] == 0
    with pytest.raises(NotFound, match="No dataset named 'smoke'"):
        project.datasets.get("smoke")


def test_dataset_names_are_unique_and_valid(project: Project) -> None:
    project.datasets.create("smoke")
    with pytest.raises(BadInput, match="already exists"):
        project.datasets.create("smoke")
    with pytest.raises(BadInput, match="not a valid dataset name"):
        project.datasets.create("-x")
    project.datasets.rename("smoke", "regression")
    assert project.datasets.names() == ["regression"]


def test_models_upsert_keeps_first_order_and_records_source(project: Project) -> None:
    project.catalog.upsert_models([Model(id="b"), Model(id="a", tier="haiku")], "default")
    project.catalog.upsert_models(
        [Model(id="a", tier="haiku", max_input_tokens=200_000, rejected_params=["top_k"])], "api"
    )
    models = project.catalog.list_models()
    assert [m.id for m in models] == ["b", "a"]
    assert models[1].rejected_params == ["top_k"] and models[1].max_input_tokens == 200_000
    assert project.catalog.model_sources() == {"a": "api", "b": "default"}
    assert [m.id for m in project.catalog.list_models(sources=["default"])] == ["b"]
    with pytest.raises(BadInput):
        project.catalog.upsert_models([], "guess")  # type: ignore[arg-type]


def test_prices_dedupe_by_hash_and_are_immutable(project: Project) -> None:
    rows = [_price("sonnet", 2), _price("haiku", 1), _price("sonnet", 1)]
    assert project.catalog.add_prices(rows) == 3
    assert project.catalog.add_prices(rows + [_price("sonnet", 1, source="other")]) == 1
    listed = project.catalog.list_prices()
    assert [(p.model, p.effective_from.day) for p in listed] == [
        ("haiku", 1),
        ("sonnet", 1),
        ("sonnet", 1),
        ("sonnet", 2),
    ]
    assert listed[0] == _price("haiku", 1)
    assert len(project.catalog.list_prices("haiku")) == 1
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        project.db.execute("UPDATE prices SET input = 0")


def test_meta_values_are_json(project: Project) -> None:
    project.catalog.set_meta("ui", {"splitter": [1, 2]})
    assert project.catalog.get_meta("ui") == {"splitter": [1, 2]}
    assert project.catalog.get_meta("absent", "dflt") == "dflt"
