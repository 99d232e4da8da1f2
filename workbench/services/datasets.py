"""Dataset-level operations the GUI offers (new, rename, duplicate, delete) and the name rules
they share, over `project.datasets`; each write is one transaction of the repository."""

from __future__ import annotations

from workbench.core.models import Example
from workbench.core.templates import variables_of
from workbench.storage.project import Project


def prompt_variables(project: Project, prompt: str | None) -> list[str]:
    """The `{{variables}}` of the latest version of `prompt` (none for no prompt or no version)."""
    if not prompt or prompt not in project.prompts.names():
        return []
    latest = project.prompts.get(prompt).latest()
    if latest is None:
        return []
    return variables_of(latest.content().texts())


def free_dataset_name(project: Project, base: str) -> str:
    """`base`, or `base-2`, `base-3`… whichever no dataset has yet."""
    taken = set(project.datasets.names())
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def new_dataset(project: Project, name: str, description: str = "") -> str:
    """Create an empty dataset; returns its name. :raises BadInput: bad or taken name"""
    project.datasets.create(name.strip(), description)
    return name.strip()


def rename_dataset(project: Project, name: str, new_name: str) -> str:
    """Rename a dataset (runs keep their examples); returns the new name."""
    project.datasets.rename(name, new_name.strip())
    return new_name.strip()


def duplicate_dataset(project: Project, name: str, new_name: str | None = None) -> str:
    """Copy a dataset with its examples (vars, expectations, tags, notes); returns the copy's name."""
    source = project.datasets.get(name)
    copy_name = (new_name or "").strip() or free_dataset_name(project, f"{name}-copy")
    project.datasets.create(copy_name, source.description)
    examples = [Example.model_validate(e.model_dump()) for e in source.examples]
    try:
        if examples:
            project.datasets.add_examples(copy_name, examples)
    except BaseException:
        project.datasets.delete(copy_name)  # no half copy left behind
        raise
    return copy_name


def delete_dataset(project: Project, name: str) -> int:
    """Delete a dataset and its examples; returns how many examples went with it.

    Runs made on it keep their calls (cells keep a copy of each example's variables).
    """
    count = project.datasets.counts().get(name, 0)
    project.datasets.delete(name)
    return count
