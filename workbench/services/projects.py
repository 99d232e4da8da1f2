"""Opening and creating projects for the CLI and the GUI.

A PROJECT argument may be a `.pwb` file or a `.yaml` bundle; a bundle is loaded into a temporary
project so CI can run evals straight from files kept in git.
"""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from workbench.core.errors import ProjectFileError
from workbench.formats.bundle_yaml import dump_bundle, load_bundle
from workbench.services.file_source import import_bundle_files
from workbench.services.project_models import seed_defaults
from workbench.storage.bundle import export_bundle, import_bundle
from workbench.storage.project import READ_ONLY_ON_REQUEST, Project

BUNDLE_SUFFIXES = (".yaml", ".yml")


def is_bundle_path(path: Path) -> bool:
    return Path(path).suffix.lower() in BUNDLE_SUFFIXES


def create_project(path: Path, *, bundle: Path | None = None, name: str | None = None) -> str:
    """Create `path` (empty or from a bundle); returns a short summary of what it holds."""
    path = Path(path)
    if path.exists():
        raise ProjectFileError(
            f"{path} already exists.", hint="Choose another name or delete the file first."
        )
    loaded = load_bundle(bundle) if bundle is not None else None
    project_name = name or (loaded.name if loaded else path.stem)
    with Project.create(path, project_name) as project:
        seed_defaults(project)
        if loaded is not None:
            import_bundle(project, loaded.model_copy(update={"name": project_name}))
            assert bundle is not None
            import_bundle_files(project, loaded, Path(bundle).resolve().parent)
        prompts = len(project.prompts.list())
        datasets = len(project.datasets.list())
    return f"{prompts} prompt(s), {datasets} dataset(s)"


@contextlib.contextmanager
def open_project(path: Path, *, read_only: bool = False) -> Iterator[Project]:
    """Open a project file, or load a bundle into a temporary project that vanishes afterwards."""
    path = Path(path)
    if is_bundle_path(path):
        bundle = load_bundle(path)
        with (
            tempfile.TemporaryDirectory(prefix="workbench-") as tmp,
            Project.create(Path(tmp) / f"{path.stem}.pwb", bundle.name) as project,
        ):
            seed_defaults(project)
            import_bundle(project, bundle)
            import_bundle_files(project, bundle, path.resolve().parent)
            yield project
        return
    # Read-only never writes: an older schema is upgraded in memory, not in the file.
    with Project.open(path, read_only=read_only) as project, project.explaining_schema_errors():
        yield project


def checkpoint_project(project: Project) -> bool:
    """Write the project's committed changes into the .pwb file itself (WAL checkpoint), so a
    copy of the file made now holds them; after a save, a run and on close. Never raises for a
    busy file: False when part waits for the next checkpoint."""
    return project.checkpoint()


def export_bundle_text(project: Project) -> str:
    """The project as bundle YAML text (deterministic)."""
    # Only models the user put in the bundle; the default list is re-seeded on import anyway.
    return dump_bundle(export_bundle(project, model_sources=["bundle"]))


def project_info(project: Project) -> dict[str, Any]:
    """What `workbench info` shows: prompts, versions, labels, datasets, runs."""
    prompts = []
    for prompt in project.prompts.list():
        latest = prompt.latest()
        prompts.append(
            {
                "name": prompt.name,
                "versions": len(prompt.versions),
                "latest": latest.version if latest else None,
                "labels": dict(sorted(prompt.labels.items())),
            }
        )
    datasets = [{"name": d.name, "examples": len(d.examples)} for d in project.datasets.list()]
    # As JSON: `synthetic` stays 0/1 as `info --json` always printed it.
    runs = [
        {**dataclasses.asdict(r), "synthetic": int(r.synthetic)} for r in project.runs.summaries()
    ]
    return {
        "name": project.name,
        "path": str(project.path),
        "schema_version": project.schema_version,
        "read_only": project.read_only,
        # Why it opened read-only when that was not just asked for (older, newer, foreign schema).
        "read_only_reason": None
        if project.read_only_reason == READ_ONLY_ON_REQUEST
        else project.read_only_reason,
        "prompts": prompts,
        "datasets": datasets,
        "runs": runs,
    }
