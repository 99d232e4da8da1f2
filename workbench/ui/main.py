"""Start the desktop app: `run_app` (normal, `--demo`, `--selftest`, `--read-only`).

The demo and the self-test work on a fresh copy of the sample project in a temporary folder, so
they never touch the user's files and always start from the same state.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

from workbench.core.errors import WorkbenchError

APP_NAME = "Prompt Workbench"
ORG_NAME = "Prompt Workbench"
ORG_DOMAIN = "promptworkbench.local"
SAMPLE_NAME = "quizcraft"
# A visible focus ring on every text field and list (Fusion's own is a faint 1 px tint).
# Buttons, combo boxes and spin boxes keep Fusion's drawing: a style sheet border on them
# replaces the native drop-down arrow with a second one.
FOCUS_RING = """
QLineEdit:focus, QPlainTextEdit:focus, QTextEdit:focus, QAbstractItemView:focus {
    border: 2px solid palette(highlight);  /* the theme's accent, light or dark */
}
"""


def create_sample_project(folder: Path) -> Path:
    """A fresh project from the sample bundle in `folder` (with the default prices and models)."""
    from workbench.resource_files import sample_bundle_path
    from workbench.services.projects import create_project

    path = Path(folder) / f"{SAMPLE_NAME}.pwb"
    create_project(path, bundle=sample_bundle_path())  # seeds the default prices and models
    return path


def _application() -> object:
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    QCoreApplication.setApplicationName(APP_NAME)
    QCoreApplication.setOrganizationName(ORG_NAME)
    QCoreApplication.setOrganizationDomain(ORG_DOMAIN)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationDisplayName(APP_NAME)  # type: ignore[union-attr]
    app.setStyle("Fusion")  # type: ignore[union-attr]
    from workbench.ui.icons import app_icon
    from workbench.ui.theme import apply_theme, stored_choice

    app.setWindowIcon(app_icon())  # type: ignore[union-attr]
    apply_theme(app, stored_choice())  # type: ignore[arg-type]  # System unless Settings says
    app.setStyleSheet(FOCUS_RING)  # type: ignore[union-attr]
    return app


def run_app(
    project: str | None = None,
    demo: bool = False,
    selftest: bool = False,
    read_only: bool = False,
) -> int:
    """Run the GUI until its window closes; returns the exit status."""
    if selftest:
        return run_selftest()
    app = _application()
    from workbench.ui.context import ProjectContext
    from workbench.ui.main_window import MainWindow

    ctx = ProjectContext(demo=demo)
    window = MainWindow(ctx)
    window.show()
    with contextlib.ExitStack() as stack:
        if demo:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="workbench-demo-"))
            try:
                path = create_sample_project(Path(folder))
            except WorkbenchError as exc:
                window.show_error(exc.user_message)
            else:
                window.open_path(path, remember=False, demo=True)
        elif project:
            window.open_path(Path(project), read_only=read_only)
        code = int(app.exec())  # type: ignore[attr-defined]
        ctx.close()  # release the lock before the demo folder is removed
    return code


def run_selftest() -> int:
    """Headless check for installers: open the sample, run echo cells, write and read, quit.

    Prints one line; 0 when everything worked, 1 (and the reason) otherwise.
    """
    os.environ["QT_QPA_PLATFORM"] = "offscreen"  # headless by definition, display or not
    try:
        summary = _selftest()
    except Exception as exc:  # the one line the installer's smoke test reads
        from workbench.ui.operations import describe_error

        print(f"selftest failed: {describe_error(exc)}")
        return 1
    print(f"selftest ok: {summary}")
    return 0


def _selftest() -> str:
    import asyncio

    from PySide6.QtGui import QFontMetrics
    from PySide6.QtWidgets import QApplication

    from workbench.core.errors import WorkbenchError
    from workbench.services.offline_provider import echo_provider
    from workbench.services.planner import make_plan
    from workbench.services.project_models import model_catalog, price_table
    from workbench.services.run_service import start_run
    from workbench.services.runner import RunOptions
    from workbench.ui.context import Change, ProjectContext
    from workbench.ui.main_window import MainWindow

    _application()
    with tempfile.TemporaryDirectory(prefix="workbench-selftest-") as folder:
        path = create_sample_project(Path(folder))
        ctx = ProjectContext(demo=True)
        window = MainWindow(ctx, remember_layout=False)
        try:
            window.show()
            if not window.open_path(path, remember=False, background=False, demo=True):
                raise WorkbenchError(f"could not open the sample project {path}")
            project = ctx.require()
            if not QFontMetrics(window.font()).inFont("W"):
                raise WorkbenchError("the interface font has no glyphs; install a font package")
            prompt = project.prompts.list()[0]
            dataset = project.datasets.names()[0]
            plan = make_plan(
                project,
                prompts=[prompt.name],
                dataset=dataset,
                catalog=model_catalog(project),
                prices=price_table(project),
            )
            plan.cells = plan.cells[:3]  # a few cells are enough to prove the engine works
            outcome = asyncio.run(
                start_run(project, plan, echo_provider(), options=RunOptions(concurrency=2))
            )
            if outcome.status != "done":
                raise WorkbenchError(f"the echo run ended as {outcome.status}: {outcome.reason}")
            ctx.notify(Change.RUNS, outcome.run_id)
            QApplication.processEvents()
            # Write through the editor, then read it back from a fresh connection.
            window.show_prompt(prompt.name)
            editor = window.editor
            editor.system_editor.setPlainText(editor.system_editor.toPlainText() + "\n(selftest)")
            if not editor.save_with_note("selftest", wait=True) or editor.base is None:
                raise WorkbenchError("saving a prompt version failed")
            saved = editor.base
            copy = window.save_copy(Path(folder) / "copy.pwb")
            QApplication.processEvents()
        finally:
            window.close()
            ctx.close()
        from workbench.services.project_session import open_project_file

        with open_project_file(copy, read_only=True) as reopened:
            stored = reopened.prompts.resolve(prompt.name, saved.version)
            calls = sum(1 for _ in reopened.runs.run_grid(outcome.run_id))
        if stored.note != "selftest":
            raise WorkbenchError("the saved prompt version did not read back")
    return f"{calls} echo cell(s) run, v{saved.version} of {prompt.name} saved and read back"
