"""Keyboard labeling in the run grid, driven with real key presses on the grid's table, and the
main window's Review / Promote / Evals wiring."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from echo_run_support import HAIKU, SONNET, echo_run, make_project, project_with_run
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from quiz_project_support import assert_fonts_render

from workbench.ui.context import ProjectContext
from workbench.ui.dialogs.promote_dialog import PromoteDialog
from workbench.ui.labeling import LABEL_ACTIONS
from workbench.ui.main_window import MainWindow
from workbench.ui.models.run_grid_model import CALL_ID_ROLE
from workbench.ui.operations import wait_for_project_ops
from workbench.ui.widgets.label_bar import KEY_HINT
from workbench.ui.widgets.run_grid import RunGrid


@pytest.fixture
def grid(qtbot: QtBot, tmp_path: Path) -> Iterator[RunGrid]:
    project, run_id = project_with_run(tmp_path)
    ctx = ProjectContext(demo=True)
    ctx.set_project(project)
    widget = RunGrid(ctx)
    qtbot.addWidget(widget)
    widget.resize(1280, 720)
    widget.show()
    qtbot.waitExposed(widget)
    widget.show_run(run_id)
    widget.table.setFocus()
    widget.table.setCurrentIndex(widget.proxy.index(0, 0))
    qtbot.waitUntil(widget.table.hasFocus)
    yield widget
    widget.close()
    ctx.close()


def _call(grid: RunGrid) -> int:
    return int(grid.table.currentIndex().data(CALL_ID_ROLE))


def _keys(qtbot: QtBot, grid: RunGrid, *keys: Qt.Key) -> None:
    for key in keys:
        qtbot.keyClick(grid.table, key)
    _settle()


def _settle() -> None:
    """Let the label writes already started land and their callbacks run."""
    wait_for_project_ops()
    QApplication.processEvents()


def test_keys_label_the_selected_cell_and_badges_show_in_the_grid(
    qtbot: QtBot, grid: RunGrid, artifacts_dir: Path
) -> None:
    project = grid.ctx.require()
    labels = project.labels
    project.labels.add_tag("tone")
    first = _call(grid)
    assert grid.label_bar.hint.text() == KEY_HINT
    assert grid.label_bar.state.text() == f"Call #{first}: not labelled yet"

    _keys(qtbot, grid, Qt.Key.Key_P, Qt.Key.Key_4)
    label = labels.get(first)
    assert label is not None and (label.verdict, label.rating) == ("pass", 4)
    assert grid.proxy.index(0, 0).data().startswith("✓ 4★ · ")
    assert grid.label_bar.state.text() == f"Call #{first}: ✓ pass · 4★"

    _keys(qtbot, grid, Qt.Key.Key_J)  # down the column
    assert grid.table.currentIndex().row() == 1 and grid.table.currentIndex().column() == 0
    second = _call(grid)
    _keys(qtbot, grid, Qt.Key.Key_F, Qt.Key.Key_2)
    _keys(qtbot, grid, Qt.Key.Key_T)
    picker = grid.labeling.keys.dialog
    assert picker is not None
    qtbot.waitUntil(lambda: picker.list.hasFocus())  # type: ignore[attr-defined]
    qtbot.keyClick(picker.list, Qt.Key.Key_Space)  # type: ignore[attr-defined]
    with qtbot.waitSignal(picker.finished):
        qtbot.keyClick(picker.list, Qt.Key.Key_Return)  # type: ignore[attr-defined]
    assert labels.get(second).tags == ("tone",)  # type: ignore[union-attr]
    assert grid.proxy.index(1, 0).data().startswith("✗ 2★ [tone] · ")
    qtbot.waitUntil(grid.table.hasFocus)

    _keys(qtbot, grid, Qt.Key.Key_Down, Qt.Key.Key_U)  # arrows move too; U on an unlabelled call
    assert labels.get(_call(grid)) is None
    _keys(qtbot, grid, Qt.Key.Key_K, Qt.Key.Key_K, Qt.Key.Key_K)  # K stops at the first cell
    assert _call(grid) == first
    for _ in range(4):
        _keys(qtbot, grid, Qt.Key.Key_J)  # past the last row: the top of the next column
    assert (grid.table.currentIndex().row(), grid.table.currentIndex().column()) == (0, 1)
    _keys(qtbot, grid, Qt.Key.Key_P)
    grid.table.setCurrentIndex(grid.proxy.index(0, 0))
    qtbot.wait(20)  # let the label bar's message settle before the screenshot
    assert_fonts_render(grid.table, "✓ ✗ ★ ✎ [tone] · —")
    assert_fonts_render(grid.label_bar, KEY_HINT)
    grid.grab().save(str(artifacts_dir / "run_grid_with_labels.png"))

    _keys(qtbot, grid, Qt.Key.Key_U)  # clear removes the label and the badge
    assert labels.get(first) is None
    assert not grid.proxy.index(0, 0).data().startswith("✓")


def test_labels_survive_reloading_the_run(qtbot: QtBot, grid: RunGrid) -> None:
    first = _call(grid)
    _keys(qtbot, grid, Qt.Key.Key_F)
    grid.show_run(grid.model.run_id)
    row, column = grid.model.where(grid.model.cells[(0, 0)].cell_id)  # type: ignore[misc]
    assert grid.model.cells[(row, column)].call_id == first
    assert grid.proxy.index(0, 0).data().startswith("✗ · ")


def test_note_and_promote_from_the_grid(qtbot: QtBot, grid: RunGrid) -> None:
    project = grid.ctx.require()
    call_id = _call(grid)
    _keys(qtbot, grid, Qt.Key.Key_N)
    editor = grid.labeling.keys.dialog
    qtbot.waitUntil(lambda: editor.text.hasFocus())  # type: ignore[union-attr]
    qtbot.keyClicks(editor.text, "Great: one clear question")  # type: ignore[union-attr]
    with qtbot.waitSignal(editor.finished):  # type: ignore[union-attr]
        qtbot.keyClick(editor.text, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # type: ignore[union-attr]
    assert project.labels.get(call_id).note == "Great: one clear question"  # type: ignore[union-attr]
    assert grid.proxy.index(0, 0).data().startswith("✎ · ")
    qtbot.waitUntil(grid.table.hasFocus)

    _keys(qtbot, grid, Qt.Key.Key_P, Qt.Key.Key_E)
    dialog = grid.labeling.keys.dialog
    assert isinstance(dialog, PromoteDialog)
    assert dialog.note.text() == "Great: one clear question"
    before = len(project.datasets.get_with_ids("topics"))
    with qtbot.waitSignal(dialog.promoted) as blocker:
        qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    example_id, dataset = blocker.args
    examples = project.datasets.get_with_ids("topics")
    assert dataset == "topics" and len(examples) == before + 1
    assert examples[-1][0] == example_id
    assert examples[-1][1].expect[0].type == "equals"
    assert (
        grid.label_bar.message.text()
        == f"Added call #{call_id} to 'topics' as example #{example_id}"
    )


def test_pending_cells_and_read_only_projects_say_why_nothing_happens(
    qtbot: QtBot, grid: RunGrid
) -> None:
    grid.model.cells[(0, 0)].call_id = None  # as while the cell is still streaming
    _keys(qtbot, grid, Qt.Key.Key_P)
    assert grid.label_bar.message.text() == "This cell has no finished call to label yet."
    grid.table.setCurrentIndex(grid.proxy.index(1, 0))
    grid.ctx.require().read_only_reason = "opened read-only for the test"
    _keys(qtbot, grid, Qt.Key.Key_P)
    assert grid.label_bar.message.text() == (
        "The project is open read-only, so labels cannot be saved."
    )


def test_letters_still_type_in_the_search_box(qtbot: QtBot, grid: RunGrid) -> None:
    grid.search.setFocus()
    qtbot.keyClicks(grid.search, "pf12")
    assert grid.search.text() == "pf12"
    assert grid.ctx.require().labels.for_calls(range(1, 20)) == {}


@pytest.fixture
def window(qtbot: QtBot, qsettings: QSettings, tmp_path: Path) -> Iterator[MainWindow]:
    project = make_project(tmp_path)
    echo_run(project, ["quiz@1"], [HAIKU, SONNET])
    ctx = ProjectContext()
    ctx.set_project(project)
    win = MainWindow(ctx, settings=qsettings, remember_layout=False)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.controller.cancel()
    win.controller.wait()
    win.close()
    ctx.close()


def test_main_window_menus_reach_review_promote_and_evals(
    qtbot: QtBot, window: MainWindow, artifacts_dir: Path
) -> None:
    actions = window.actions_by_name
    review = actions["review"]
    assert review.isEnabled() and review.shortcut().toString() == "Ctrl+Alt+R"
    assert actions["promote"].shortcut().toString() == "E"
    shortcuts = {(action, keys) for _menu, action, keys in window.keyboard_shortcuts()}
    assert ("Promote to eval case…", "E") in shortcuts
    assert {text.replace("&", "") for _, text, _, _ in LABEL_ACTIONS} <= {a for a, _ in shortcuts}

    run_id = window.ctx.require().runs.latest_run_id()
    window.show_run(run_id)  # type: ignore[arg-type]
    qtbot.keyClick(
        window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
    )
    assert window.tabs.currentWidget() is window.review
    review = window.review
    assert review.scope.currentText() == f"This run (#{run_id})"
    review.seed = 3
    qtbot.mouseClick(review.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: review.reviewing and review.card.hasFocus(), timeout=5000)
    qtbot.keyClick(review.card, Qt.Key.Key_F)
    qtbot.keyClick(review.card, Qt.Key.Key_3)
    _settle()
    assert window.ctx.require().labels.get(review.current_call()).rating == 3  # type: ignore[arg-type,union-attr]
    qtbot.keyClick(review.card, Qt.Key.Key_Space)
    qtbot.wait(20)
    window.grab().save(str(artifacts_dir / "main_window_review.png"))
    qtbot.keyClick(window, Qt.Key.Key_6, Qt.KeyboardModifier.AltModifier)
    assert window.tabs.currentWidget() is window.evals
    QApplication.processEvents()
