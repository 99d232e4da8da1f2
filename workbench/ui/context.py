"""The open project as the GUI sees it, and the one "project changed" broadcast.

Screens never call each other: after a change they emit `changed(kind, detail)` and every screen
decides whether to refresh (Anki's operation_did_execute). Kinds: "project" (opened/closed),
"prompts", "datasets", "runs", "labels", "settings", "prices".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from workbench.services.project_session import Project


class ProjectContext(QObject):
    """Holds the GUI thread's connection to the open project (None when no project is open).

    :param demo: the offline demo: the echo provider, outputs marked synthetic everywhere
    """

    changed = Signal(str, object)

    def __init__(self, parent: QObject | None = None, *, demo: bool = False) -> None:
        super().__init__(parent)
        self.project: Project | None = None
        self.demo = demo

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
            self.project.close()
        self.project = project
        self.changed.emit("project", project)

    def notify(self, kind: str, detail: Any = None) -> None:
        self.changed.emit(kind, detail)

    def close(self) -> None:
        self.set_project(None)
