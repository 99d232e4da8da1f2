"""ProjectOp, the one way the GUI writes: its own connection, one failure message, typed changes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from workbench.core.errors import BadInput
from workbench.ui.context import Change, ProjectChange, ProjectContext
from workbench.ui.main_window import MainWindow
from workbench.ui.operations import ProjectOp, wait_for_project_ops
from workbench.ui.widgets.dataset_editor import DatasetEditor
from workbench.ui.widgets.prompt_editor import PromptEditor


def _settle() -> None:
    wait_for_project_ops()
    QApplication.processEvents()


def _recorder(ctx: ProjectContext) -> list[ProjectChange]:
    seen: list[ProjectChange] = []
    ctx.changed.connect(seen.append)
    return seen


@pytest.fixture
def window(qtbot: QtBot, qsettings: QSettings, sample_project: Path) -> Iterator[MainWindow]:
    ctx = ProjectContext()
    win = MainWindow(ctx, settings=qsettings)
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    assert win.open_path(sample_project)
    qtbot.waitUntil(lambda: ctx.project is not None, timeout=5000)
    yield win
    win.close()
    ctx.close()


def test_an_operation_gets_a_connection_of_its_own_thread(
    qtbot: QtBot, ctx: ProjectContext
) -> None:
    widget = QWidget()
    qtbot.addWidget(widget)
    gui_project = ctx.require()

    def probe(project: object) -> tuple[int, bool, str]:
        assert hasattr(project, "prompts")
        own = project is not gui_project and project.db is not gui_project.db  # type: ignore[attr-defined]
        return threading.get_ident(), own, project.prompts.list()[0].name  # type: ignore[attr-defined]

    results: list[tuple[int, bool, str]] = []
    ProjectOp(widget, ctx, probe).success(results.append).run()
    qtbot.waitUntil(lambda: bool(results), timeout=5000)
    thread, own_connection, first_prompt = results[0]
    assert thread != threading.get_ident()  # not the GUI thread
    assert own_connection
    assert first_prompt == gui_project.prompts.list()[0].name


def test_a_failure_is_one_message_and_broadcasts_nothing(qtbot: QtBot, ctx: ProjectContext) -> None:
    widget = QWidget()
    qtbot.addWidget(widget)
    seen = _recorder(ctx)
    messages: list[str] = []

    error = BadInput("Rollout must be 0–100 %.", field="rollout", hint="Type 10 for 10 %.")

    def refuse(project: object) -> None:
        raise error

    ProjectOp(widget, ctx, refuse, change=Change.PROMPTS).failure(messages.append).run()
    qtbot.waitUntil(lambda: bool(messages), timeout=5000)
    assert messages == [error.user_message]
    ProjectOp(widget, ctx, lambda project: 1 / 0).failure(messages.append).run()
    qtbot.waitUntil(lambda: len(messages) == 2, timeout=5000)
    assert messages[1] == "Unexpected error: ZeroDivisionError: division by zero"
    _settle()
    assert seen == []


def test_a_refused_label_move_shows_the_message_and_changes_nothing(
    qtbot: QtBot, ctx: ProjectContext
) -> None:
    editor = PromptEditor(ctx)
    qtbot.addWidget(editor)
    editor.show_prompt("support-answer")
    before = ctx.require().prompts.get("support-answer").labels
    seen = _recorder(ctx)
    editor.set_label("no spaces", 1)
    _settle()
    assert "label" in editor.notice.text().lower() and "no spaces" in editor.notice.text()
    assert ctx.require().prompts.get("support-answer").labels == before
    assert seen == []


def test_a_refused_dataset_edit_is_taken_back_on_screen(qtbot: QtBot, ctx: ProjectContext) -> None:
    editor = DatasetEditor(ctx)
    qtbot.addWidget(editor)
    name = ctx.require().datasets.names()[0]
    editor.show_dataset(name)
    rows = editor.model.rowCount()
    seen = _recorder(ctx)
    ctx.require().datasets.delete(name)  # gone behind the editor's back
    editor.add_row()
    assert editor.model.rowCount() == rows + 1  # shown at once, the GUI thread never waits
    _settle()
    assert f"No dataset named '{name}'" in editor.status.text()
    assert name not in ctx.require().datasets.names()  # nothing was written
    assert editor.model.rowCount() == 0 and not editor.undo_stack.canUndo()
    assert seen == []


def test_a_dataset_edit_refreshes_the_sidebar_count(
    qtbot: QtBot, window: MainWindow, artifacts_dir: Path
) -> None:
    ctx = window.ctx
    name = ctx.require().datasets.names()[0]
    count = ctx.require().datasets.counts()[name]
    item = window.sidebar.find("dataset", name)
    assert item is not None and item.text(0) == f"{name} ({count})"
    window.show_dataset(name)
    with qtbot.waitSignal(ctx.changed, timeout=5000) as signal:
        window.dataset_editor.add_row()
    change = signal.args[0]
    assert (change.what, change.detail) == (Change.DATASETS, name)
    assert change.initiator is window.dataset_editor
    item = window.sidebar.find("dataset", name)
    assert item is not None and item.text(0) == f"{name} ({count + 1})"
    window.grab().save(str(artifacts_dir / "dataset_edit_refreshes_sidebar.png"))
