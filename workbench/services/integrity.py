"""`workbench check` through the service layer: the integrity report of a project file."""

from __future__ import annotations

from pathlib import Path

from workbench.storage.check import CheckReport, check_project

__all__ = ["CheckReport", "check_project_file"]


def check_project_file(path: Path) -> CheckReport:
    """SQLite's checks and the project's own invariants; never modifies the file."""
    return check_project(path)
