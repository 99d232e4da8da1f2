"""The project file: SQLite via sqlite-utils. The only package that issues SQL."""

from workbench.storage.check import CheckReport, check_project
from workbench.storage.project import LockHolder, Project, ProjectLocked

__all__ = ["CheckReport", "LockHolder", "Project", "ProjectLocked", "check_project"]
