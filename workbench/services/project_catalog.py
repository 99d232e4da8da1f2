"""The price table and model catalog of a project (copied from the defaults when it is created)."""

from __future__ import annotations

from workbench.core.models import Model
from workbench.inference.base import Provider
from workbench.services.model_catalog import ModelCatalog, load_default_models, merge
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
