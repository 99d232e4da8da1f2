"""Built-in data files (price table, model list, icons) from the top-level resources/ folder.

`resource_path` finds them the same way in a source checkout, an installed wheel and a
PyInstaller build, so callers never build paths by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path, PurePosixPath

from workbench.core.errors import NotFound

# The installed name of the top-level `resources/` folder (setup.py maps it into the package).
PACKAGE = "workbench.resources"
_PACKAGE_ROOT = Path(__file__).resolve().parent


def _check_name(name: str) -> None:
    # Names come from code, but a stray "../" would let a caller read outside the package.
    parts = PurePosixPath(name).parts
    if not name or name.startswith(("/", "\\")) or ".." in parts or "\\" in name:
        raise ValueError(f"resource names are relative file names, not {name!r}")


def resource_folders() -> list[Path]:
    """Folders that may hold the resources, in the order they are searched.

    An installed wheel (or a PyInstaller bundle) carries them as ``workbench/resources``; a source
    checkout or an editable install has them in the repository's top-level ``resources/``, found
    only beside this project's own pyproject.toml so an unrelated ``resources`` folder next to an
    installed package is never picked up.
    """
    folders = [_PACKAGE_ROOT / "resources"]
    checkout = _PACKAGE_ROOT.parent
    if (checkout / "pyproject.toml").is_file():
        folders.append(checkout / "resources")
    base = getattr(sys, "_MEIPASS", None)
    if base:
        folders.append(Path(base) / "workbench" / "resources")
    return folders


def resource_path(name: str) -> Path:
    """Path of the built-in resource file `name` (e.g. ``"prices.yaml"``).

    Also names below a folder, e.g. ``"icons/app.svg"``. Looks in the folders of
    `resource_folders`; raises `NotFound` if none has it.
    """
    _check_name(name)
    found = next((f / name for f in resource_folders() if (f / name).is_file()), None)
    if found is None:
        raise NotFound(
            f"The built-in resource '{name}' is missing from this installation.",
            hint="Reinstall Prompt Workbench.",
        )
    return found


SAMPLE_BUNDLE = "quizcraft.yaml"


def sample_bundle_path() -> Path:
    """The sample project bundle (projects/quizcraft.yaml, shipped as a resource)."""
    return resource_path(SAMPLE_BUNDLE)
