"""The price table and model catalog of a project (copied from the defaults when it is created)."""

from __future__ import annotations

from workbench.services.model_catalog import ModelCatalog, load_default_models
from workbench.services.pricing import PriceTable, load_default_prices
from workbench.storage.project import Project


def seed_defaults(project: Project) -> None:
    """Copy the default price table and model list into a new project (prices are data)."""
    project.catalog.add_prices(load_default_prices())
    project.catalog.upsert_models(load_default_models(), source="default")


def price_table(project: Project) -> PriceTable:
    rows = project.catalog.list_prices()
    return PriceTable(rows) if rows else PriceTable(load_default_prices())


def model_catalog(project: Project) -> ModelCatalog:
    models = project.catalog.list_models()
    defaults = {m.id: m for m in load_default_models()}
    for model in models:
        defaults[model.id] = model
    return ModelCatalog(list(defaults.values()))
