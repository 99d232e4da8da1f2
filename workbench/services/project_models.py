"""The price table and model catalog of a project (copied from the defaults when it is created)."""

from __future__ import annotations

import datetime as dt

from workbench.core.models import Model, PriceRow
from workbench.inference.base import Provider
from workbench.services.model_list import ModelCatalog, load_default_models, merge
from workbench.services.pricing import PriceTable, load_default_prices
from workbench.storage.project import Project


def seed_defaults(project: Project) -> None:
    """Copy the default price table and model list into a project (prices are data).

    Idempotent, and models the project already has (from a bundle or the API) are kept as they are.
    """
    project.catalog.add_prices(load_default_prices())
    present = {m.id for m in project.catalog.list_models()}
    missing = [m for m in load_default_models() if m.id not in present]
    if missing:
        project.catalog.upsert_models(missing, source="default")


def price_table(project: Project) -> PriceTable:
    rows = project.catalog.list_prices()
    return PriceTable(rows) if rows else PriceTable(load_default_prices())


def add_price(
    project: Project,
    model: str,
    *,
    input_usd: float,
    output_usd: float,
    effective_from: dt.date | None = None,
    cache_write_5m: float | None = None,
    cache_write_1h: float | None = None,
    cache_read: float | None = None,
    source: str = "entered by hand",
) -> PriceRow:
    """Add a dated price row (USD per million tokens); cache rates default to Anthropic's
    ratios (writes 1.25× / 2× input, reads 0.1×). A project still on the default table gets the
    defaults copied in first, so every other model keeps its price.

    :raises BadInput: for a negative or impossible rate (pydantic's message, by field)
    """
    row = PriceRow(
        model=model,
        effective_from=effective_from or dt.date.today(),
        input=input_usd,
        output=output_usd,
        cache_write_5m=input_usd * 1.25 if cache_write_5m is None else cache_write_5m,
        cache_write_1h=input_usd * 2 if cache_write_1h is None else cache_write_1h,
        cache_read=input_usd * 0.1 if cache_read is None else cache_read,
        source=source,
    )
    existing = project.catalog.list_prices()
    project.catalog.add_prices([row] if existing else [*load_default_prices(), row])
    return row


def model_catalog(project: Project) -> ModelCatalog:
    models = project.catalog.list_models()
    defaults = {m.id: m for m in load_default_models()}
    for model in models:
        defaults[model.id] = model
    return ModelCatalog(list(defaults.values()))


async def refresh_models(project: Project, provider: Provider) -> list[Model]:
    """Fetch `GET /v1/models`, merge capabilities from the defaults, and cache it in the project.

    :raises ProviderError: when the API cannot be reached (the cached/default list stays)
    """
    fetched = await provider.list_models()
    merged = merge(fetched, load_default_models()).models()
    project.catalog.upsert_models(merged, source="api")
    return merged
