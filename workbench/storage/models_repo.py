"""Models, prices and project metadata (name, description, settings) in the project file."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

from sqlite_utils import Database

from workbench.core.errors import BadInput
from workbench.core.hashing import canonical_json, content_hash
from workbench.core.models import Model, PriceRow

if TYPE_CHECKING:
    from workbench.storage.project import Project

ModelSource = Literal["api", "default", "bundle"]
MODEL_SOURCES: tuple[ModelSource, ...] = ("api", "default", "bundle")
_PRICE_FIELDS = tuple(PriceRow.model_fields)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def price_hash(row: PriceRow) -> str:
    """Identity of a price row: the hash of all its fields, source included."""
    return content_hash(row.model_dump(mode="json"))


def model_from_row(row: dict[str, Any]) -> Model:
    return Model(
        id=row["id"],
        display_name=row["display_name"],
        tier=row["tier"],
        max_input_tokens=row["max_input_tokens"],
        max_output_tokens=row["max_output_tokens"],
        rejected_params=json.loads(row["rejected_params_json"]),
    )


def price_from_row(row: dict[str, Any]) -> PriceRow:
    return PriceRow.model_validate({key: row[key] for key in _PRICE_FIELDS})


class ModelsRepo:
    """Model list (cached from the API, defaults or bundles), price rows and meta values."""

    def __init__(self, project: Project) -> None:
        self._project = project

    @property
    def _db(self) -> Database:
        return self._project.db

    # -- meta ------------------------------------------------------------------------------

    def get_meta(self, key: str, default: Any = None) -> Any:
        """The JSON value stored under `key`, or `default`."""
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return default if row is None else json.loads(row[0])

    def set_meta(self, key: str, value: Any) -> None:
        """Store a JSON-able value under `key` (callers wrap related writes in one transaction)."""
        self._project.require_writable(f"change '{key}'")
        with self._db.atomic():
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, canonical_json(value)],
            )

    # -- models ----------------------------------------------------------------------------

    def list_models(self, *, sources: Iterable[ModelSource] | None = None) -> list[Model]:
        """Models in the order they were first added, optionally only from some sources."""
        rows = self._db.query("SELECT * FROM models ORDER BY rowid")
        wanted = None if sources is None else set(sources)
        return [model_from_row(r) for r in rows if wanted is None or r["source"] in wanted]

    def model_sources(self) -> dict[str, ModelSource]:
        """Where each model's row came from: ``api``, ``default`` or ``bundle``."""
        return {r[0]: r[1] for r in self._db.execute("SELECT id, source FROM models")}

    def upsert_models(self, models: Iterable[Model], source: ModelSource) -> None:
        """Insert or replace models by id; an existing model keeps its place in the order."""
        if source not in MODEL_SOURCES:
            raise BadInput(f"unknown model source '{source}'", hint="Use api, default or bundle.")
        self._project.require_writable("update the model list")
        now = _now()
        with self._db.atomic():
            for model in models:
                self._db.execute(
                    "INSERT INTO models (id, display_name, tier, max_input_tokens, "
                    "max_output_tokens, rejected_params_json, source, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                    "display_name = excluded.display_name, tier = excluded.tier, "
                    "max_input_tokens = excluded.max_input_tokens, "
                    "max_output_tokens = excluded.max_output_tokens, "
                    "rejected_params_json = excluded.rejected_params_json, "
                    "source = excluded.source, updated_at = excluded.updated_at",
                    [
                        model.id,
                        model.display_name,
                        model.tier,
                        model.max_input_tokens,
                        model.max_output_tokens,
                        json.dumps(model.rejected_params, ensure_ascii=False),
                        source,
                        now,
                    ],
                )

    # -- prices ----------------------------------------------------------------------------

    def list_prices(self, model: str | None = None) -> list[PriceRow]:
        """Price rows ordered by model, then effective date (optionally for one model)."""
        sql = "SELECT * FROM prices"
        params: list[Any] = []
        if model is not None:
            sql += " WHERE model = ?"
            params.append(model)
        sql += " ORDER BY model, effective_from, id"
        return [price_from_row(r) for r in self._db.query(sql, params)]

    def add_prices(self, rows: Iterable[PriceRow]) -> int:
        """Add price rows, skipping any whose identical row is already stored; return how many."""
        self._project.require_writable("add prices")
        added = 0
        with self._db.atomic():
            for row in rows:
                values = row.model_dump(mode="json")
                columns = [*_PRICE_FIELDS, "hash"]
                cursor = self._db.execute(
                    f"INSERT INTO prices ({', '.join(columns)}) "
                    f"VALUES ({', '.join('?' * len(columns))}) ON CONFLICT (hash) DO NOTHING",
                    [*(values[k] for k in _PRICE_FIELDS), price_hash(row)],
                )
                added += cursor.rowcount
        return added
