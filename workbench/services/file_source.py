"""Where image and document bytes come from when a version is rendered for a project.

A path an example names is looked up in the project first (files are stored there by content
hash); a path the project does not hold yet is read from disk relative to the project file and,
when the project is writable, stored, so the project stays self-contained from then on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from workbench.core.blocks import DOCUMENT_MEDIA_TYPES, IMAGE_MEDIA_TYPES
from workbench.core.errors import BadInput
from workbench.core.models import Bundle, PromptContent
from workbench.services.rendering import FileSource
from workbench.storage import Project
from workbench.storage.files_repo import normalise_path

MEDIA_TYPES = {**IMAGE_MEDIA_TYPES, **DOCUMENT_MEDIA_TYPES}


def media_type_of(path: str) -> str | None:
    """The media type for a path's extension (png, jpeg, gif, webp, pdf), or None."""
    suffix = Path(path).suffix.lower()
    return MEDIA_TYPES.get(suffix)


def project_file_source(project: Project, base: Path | None = None) -> FileSource:
    """A `FileSource` over `project`, falling back to files under `base` (the project's folder).

    Results are remembered per path, so a run reads each file once.
    """
    folder = base if base is not None else Path(project.path).resolve().parent
    seen: dict[str, tuple[str, bytes] | None] = {}

    def source(path: str) -> tuple[str, bytes] | None:
        key = normalise_path(path)
        if key not in seen:
            seen[key] = _find(project, folder, key)
        return seen[key]

    return source


def _find(project: Project, folder: Path, path: str) -> tuple[str, bytes] | None:
    stored = project.files.get(path)
    if stored is not None:
        return stored.media_type, stored.data
    media_type = media_type_of(path)
    full = folder / path
    if media_type is None or not full.is_file():
        return None
    if project.read_only:
        return media_type, full.read_bytes()
    try:
        added = project.files.add_from_disk(path, folder, media_type)
    except BadInput:
        return None
    return added.media_type, added.data


def store_files(project: Project, paths: list[str], base: Path) -> list[str]:
    """Copy the files at `paths` (relative to `base`) into `project`; returns those not found."""
    missing = []
    for path in paths:
        media_type = media_type_of(path)
        if media_type is None or not (base / normalise_path(path)).is_file():
            missing.append(path)
            continue
        project.files.add_from_disk(path, base, media_type)
    return missing


def preloaded_file_source(
    project: Project, contents: Iterable[PromptContent], values: Iterable[Mapping[str, str]]
) -> FileSource | None:
    """Read every file the given versions × values name now, on the caller's thread.

    The run engine renders on its own event loop, where the project's connection may not be
    used; it gets this read-only snapshot instead. None when no version has file blocks.
    """
    names = {name for content in contents for name in content.file_variables()}
    if not names:
        return None
    source = project_file_source(project)
    loaded: dict[str, tuple[str, bytes] | None] = {}
    for row in values:
        for name in names:
            path = row.get(name)
            if path and normalise_path(path) not in loaded:
                loaded[normalise_path(path)] = source(path)
    return lambda path: loaded.get(normalise_path(path))


def import_bundle_files(project: Project, bundle: Bundle, base: Path) -> list[str]:
    """Copy into `project` every file its examples name for image/document blocks.

    Paths are relative to `base` (the bundle's folder). Returns the paths not found; they are
    not an error here (a run names them before any call is made).
    """
    names = {n for p in bundle.prompts for v in p.versions for n in v.file_variables()}
    paths = sorted(
        {
            example.vars[name]
            for dataset in bundle.datasets
            for example in dataset.examples
            for name in names
            if example.vars.get(name)
        }
    )
    return store_files(project, paths, base) if paths else []
