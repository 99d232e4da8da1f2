"""The open project as the views hold it, and the one way to reach it from another thread.

A view keeps one `Project` (its thread's connection). Work that runs on another thread opens a
connection of that thread with `thread_connection(project)` and closes it when done: a SQLite
connection is never shared between threads. The project types the views name come from here,
so no view imports the storage layer:
`Project`, `ProjectLocked`, `CallLabel` and the label-name rule `check_label_name`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from workbench.services.project_models import seed_defaults
from workbench.storage.labels_repo import CallLabel
from workbench.storage.project import Project, ProjectLocked
from workbench.storage.prompts_repo import check_label_name

__all__ = [
    "CallLabel",
    "Project",
    "ProjectLocked",
    "check_label_name",
    "create_project_file",
    "open_project_file",
    "thread_connection",
]


def open_project_file(path: Path, *, read_only: bool = False) -> Project:
    """Open a `.pwb` file (validated, locked, migrated); the caller closes it."""
    return Project.open(path, read_only=read_only)


def create_project_file(path: Path) -> Project:
    """Create an empty project at `path` with the default prices and models, and open it."""
    project = Project.create(path, path.stem)
    try:
        seed_defaults(project)
    except BaseException:
        project.close()
        raise
    return project


@contextlib.contextmanager
def thread_connection(project: Project) -> Iterator[Project]:
    """A connection of the calling thread to the same project file, closed on exit.

    A writable project gets a second writer (SQLite's WAL serialises the two); a read-only one
    gets a read-only connection that keeps the same reason, so writes are refused the same way.
    The open project's write lock stays with `project`.
    """
    own = project.connect_same()
    try:
        yield own
    finally:
        own.close()
