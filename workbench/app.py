"""Composition root for the desktop app. Qt is imported here, lazily, and nowhere else outside ui/."""

from __future__ import annotations


def start_gui(
    *,
    project: str | None = None,
    demo: bool = False,
    selftest: bool = False,
    read_only: bool = False,
) -> int:
    """Start the desktop app; returns the process exit status."""
    from workbench.ui.main import run_app

    return run_app(project=project, demo=demo, selftest=selftest, read_only=read_only)
