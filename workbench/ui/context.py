"""The open project as the GUI sees it, and the one "project changed" broadcast.

Screens never call each other: after a change one `ProjectChange` is emitted on `changed` and
every screen decides whether to refresh (Anki's operation_did_execute). What changed is a
`Change` flag set, so a screen asks `change.touches(Change.PROMPTS | Change.LABELS)`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from workbench.services.project_session import Project
from workbench.services.projects import checkpoint_project


class Change(enum.Flag):
    """What a finished operation changed in the open project."""

    PROJECT = enum.auto()  # opened or closed (detail: the Project, or None)
    PROMPTS = enum.auto()  # detail: the prompt's name, or None for any
    DATASETS = enum.auto()  # detail: the dataset's name, or None for any
    RUNS = enum.auto()  # detail: the run id, or None for any
    LABELS = enum.auto()  # labels, tags, notes or scores; detail: the call id, or None
    SETTINGS = enum.auto()  # the project's own settings (name, quality bar, defaults)
    API_KEY = enum.auto()  # the API key (kept outside the project)
    EXPORT = enum.auto()  # the production-export settings
    PRICES = enum.auto()  # detail: the model whose price changed, or None


@dataclass(frozen=True)
class ProjectChange:
    """One broadcast: what changed, which item (when one did), and who changed it."""

    what: Change
    detail: Any = None
    initiator: object | None = None

    def touches(self, what: Change) -> bool:
        return bool(self.what & what)


class ProjectContext(QObject):
    """Holds the GUI thread's connection to the open project (None when no project is open).

    :param demo: the offline demo: a synthetic provider, outputs marked synthetic everywhere
    :param demo_provider: which one: ``demo`` (answers per tier) or ``echo`` (the prompt back)
    """

    changed = Signal(object)  # a ProjectChange

    def __init__(
        self, parent: QObject | None = None, *, demo: bool = False, demo_provider: str = "demo"
    ) -> None:
        super().__init__(parent)
        self.project: Project | None = None
        self.demo = demo
        self.demo_provider = demo_provider

    @property
    def provider_name(self) -> str:
        """The provider runs and tries use: the demo's synthetic one, else ``anthropic``."""
        return self.demo_provider if self.demo else "anthropic"

    @property
    def path(self) -> Path | None:
        return self.project.path if self.project else None

    @property
    def read_only(self) -> bool:
        return bool(self.project and self.project.read_only)

    def require(self) -> Project:
        if self.project is None:
            raise RuntimeError("no project is open")
        return self.project

    def set_project(self, project: Project | None) -> None:
        if self.project is not None and self.project is not project:
            from workbench.ui.operations import wait_for_project_ops

            wait_for_project_ops()  # writes already started land before the file is released
            checkpoint_project(self.project)
            self.project.close()
        self.project = project
        self.changed.emit(ProjectChange(Change.PROJECT, project))

    def notify(self, what: Change, detail: Any = None, *, initiator: object | None = None) -> None:
        """Tell every screen that `what` changed (a `ProjectOp` does this after its write)."""
        self.changed.emit(ProjectChange(what, detail, initiator))

    def close(self) -> None:
        self.set_project(None)
