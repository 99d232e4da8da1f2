"""Composition root for the desktop app. Qt is imported here, lazily, and nowhere else outside ui/."""

from __future__ import annotations


def _installed(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def start_gui(
    *,
    project: str | None = None,
    demo: bool = False,
    selftest: bool = False,
    read_only: bool = False,
) -> int:
    """Start the desktop app; returns the process exit status.

    :raises WorkbenchError: when Qt (the `gui` extra) is not installed, saying how to add it
    """
    missing = [m for m in ("PySide6", "pyqtgraph") if not _installed(m)]
    if missing:
        from workbench.core.errors import WorkbenchError

        raise WorkbenchError(
            "the desktop app needs the gui extra: pip install 'prompt-workbench[gui]'"
            f" ({' and '.join(missing)} not installed)",
            hint="The commands (workbench eval, export, run ...) work without it.",
        )
    from workbench.ui.main import run_app

    return run_app(project=project, demo=demo, selftest=selftest, read_only=read_only)
