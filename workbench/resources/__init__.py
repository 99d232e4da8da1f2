"""Built-in data files (default price table, default model list) shipped inside the package.

`resource_path` finds them the same way in a source checkout, an installed wheel and a
PyInstaller build, so callers never build paths by hand.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path, PurePosixPath

from workbench.core.errors import NotFound

PACKAGE = "workbench.resources"


def _check_name(name: str) -> None:
    # Names come from code, but a stray "../" would let a caller read outside the package.
    parts = PurePosixPath(name).parts
    if not name or name.startswith(("/", "\\")) or ".." in parts or "\\" in name:
        raise ValueError(f"resource names are relative file names, not {name!r}")


def _from_package(name: str) -> Path | None:
    try:
        ref = resources.files(PACKAGE).joinpath(name)
    except (ModuleNotFoundError, TypeError):
        return None
    # Only a real file on disk is useful to callers that open it (or hand it to Qt/SQLite).
    if isinstance(ref, Path) and ref.is_file():
        return ref
    return None


def _from_frozen_bundle(name: str) -> Path | None:
    base = getattr(sys, "_MEIPASS", None)
    if not base:
        return None
    candidate = Path(base) / "workbench" / "resources" / name
    return candidate if candidate.is_file() else None


def resource_path(name: str) -> Path:
    """Path of the built-in resource file `name` (e.g. ``"prices.yaml"``).

    Looks in the installed package first, then in a PyInstaller bundle's extraction folder
    (``sys._MEIPASS/workbench/resources``). Raises `NotFound` if neither has it.
    """
    _check_name(name)
    found = _from_package(name) or _from_frozen_bundle(name)
    if found is None:
        raise NotFound(
            f"The built-in resource '{name}' is missing from this installation.",
            hint="Reinstall Prompt Workbench.",
        )
    return found


SAMPLE_BUNDLE = "quizcraft.yaml"


def sample_bundle_path() -> Path:
    """The sample project bundle (projects/quizcraft.yaml, shipped as a package resource)."""
    return resource_path(SAMPLE_BUNDLE)
