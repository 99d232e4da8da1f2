"""Project ⇄ text bundle (`core.models.Bundle`): a lossless round trip.

`export_bundle(import_bundle(empty, b)) == b` for every valid bundle whose versions are listed by
number: versions keep their numbers, notes and times; prompts, datasets and models keep their
order (creation order, which import preserves); examples keep their order.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from workbench.core.errors import BadInput
from workbench.core.models import Bundle, Prompt
from workbench.storage.models_repo import ModelSource
from workbench.storage.prompts_repo import check_label_name

if TYPE_CHECKING:
    from workbench.storage.project import Project


def _check_prompt(prompt: Prompt) -> None:
    """What the Prompt type allows but a project cannot hold; checked before writing anything."""
    where = f"prompts.{prompt.name}"
    seen: dict[str, int] = {}
    for version in prompt.versions:
        digest = version.hash
        if digest in seen:
            raise BadInput(
                f"versions {seen[digest]} and {version.version} have identical content",
                field=f"{where}.versions",
                hint="Keep one of them; a version is identified by its content.",
            )
        seen[digest] = version.version
    for label in prompt.labels:
        try:
            check_label_name(label)
        except BadInput as exc:
            raise BadInput(exc.message, field=f"{where}.labels", hint=exc.hint) from exc


def import_bundle(project: Project, bundle: Bundle) -> None:
    """Load a bundle into `project` in one transaction (name, settings, models, prompts, data).

    Refuses (`BadInput`, nothing written) when a prompt or dataset of the same name exists.
    """
    project.require_writable("import a bundle")
    prompts, datasets = set(project.prompts.names()), set(project.datasets.names())
    clashes = [f"prompt '{p.name}'" for p in bundle.prompts if p.name in prompts]
    clashes += [f"dataset '{d.name}'" for d in bundle.datasets if d.name in datasets]
    if clashes:
        raise BadInput(
            f"The project already has {', '.join(clashes)}.",
            hint="Rename them in the bundle or import into a new project.",
        )
    for prompt in bundle.prompts:
        _check_prompt(prompt)
    with project.db.atomic():
        project.set_name(bundle.name, description=bundle.description)
        project.set_settings(bundle.settings)
        project.catalog.upsert_models(bundle.models, "bundle")
        for prompt in bundle.prompts:
            project.prompts.create(prompt.name, prompt.description)
            prompt_id = project.prompts.row_id(prompt.name)
            for version in prompt.versions:
                project.prompts.insert_version(prompt_id, version, version.hash)
            for label, number in prompt.labels.items():
                project.prompts.set_label(prompt.name, label, number)
            if prompt.production is not None:
                project.prompts.set_production_settings(prompt.name, prompt.production)
        for dataset in bundle.datasets:
            project.datasets.create(dataset.name, dataset.description)
            project.datasets.add_examples(dataset.name, dataset.examples)


def export_bundle(
    project: Project, *, model_sources: Iterable[ModelSource] | None = None
) -> Bundle:
    """The project as a bundle; `model_sources` limits which models go in (default: all)."""
    return Bundle(
        name=project.name,
        description=project.description,
        settings=project.settings,
        models=project.catalog.list_models(sources=model_sources),
        prompts=project.prompts.list(),
        datasets=project.datasets.list(),
    )
