"""The dataset editor, driven through its widgets: edit, add, duplicate, delete, undo, paste,
import with a preview (errors by line) and CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog
from pytestqt.qtbot import QtBot
from quiz_project_support import assert_fonts_render, make_project

from workbench.core.models import Dataset
from workbench.storage.project import Project
from workbench.ui.context import Change, ProjectContext
from workbench.ui.operations import wait_for_project_ops
from workbench.ui.widgets.dataset_editor import DatasetEditor


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[ProjectContext]:
    context = ProjectContext()
    context.set_project(make_project(tmp_path))
    yield context
    context.close()


@pytest.fixture
def editor(qtbot: QtBot, ctx: ProjectContext) -> DatasetEditor:
    widget = DatasetEditor(ctx)
    qtbot.addWidget(widget)
    widget.resize(1100, 520)
    widget.show()
    widget.show_dataset("topics")
    return widget


def stored_topics(ctx: ProjectContext) -> Dataset:
    """The dataset as stored, once the edits already made have been written."""
    wait_for_project_ops()
    QApplication.processEvents()
    return ctx.require().datasets.get("topics")


def stored(ctx: ProjectContext) -> list[dict[str, str]]:
    return [e.vars for e in stored_topics(ctx).examples]


def select_row(editor: DatasetEditor, row: int) -> None:
    """Select one whole row (selectRow would extend the selection if a modifier seems held)."""
    editor.table.clearSelection()
    editor.table.setCurrentIndex(editor.model.index(row, 0))
    editor.table.selectionModel().select(
        editor.model.index(row, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )


def headers(editor: DatasetEditor) -> list[str]:
    model = editor.model
    return [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]


def test_shows_a_column_per_variable_then_tags_and_note(
    editor: DatasetEditor, artifacts_dir: Path
) -> None:
    assert headers(editor) == ["topic", "level", "Tags", "Note"]
    assert editor.model.rowCount() == 4
    assert editor.title.text() == "Dataset topics · 4 examples"
    assert editor.model.index(0, 2).data() == "smoke"
    assert_fonts_render(editor.table)
    editor.table.setCurrentIndex(editor.model.index(1, 0))
    editor.grab().save(str(artifacts_dir / "dataset_editor.png"))


def test_typing_in_a_cell_saves_it_and_undo_restores_it(
    qtbot: QtBot, editor: DatasetEditor, ctx: ProjectContext
) -> None:
    announced: list[tuple[Change, object]] = []
    ctx.changed.connect(lambda change: announced.append((change.what, change.detail)))
    editor.table.setFocus()
    editor.table.setCurrentIndex(editor.model.index(0, 0))
    qtbot.keyClick(editor.table, Qt.Key.Key_G)  # any key starts editing
    editor_widget = QApplication.focusWidget()
    qtbot.keyClicks(editor_widget, "laciers")
    qtbot.keyClick(editor_widget, Qt.Key.Key_Return)
    assert stored(ctx)[0]["topic"] == "glaciers"
    assert (Change.DATASETS, "topics") in announced
    qtbot.keyClick(editor.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert stored(ctx)[0]["topic"] == "photosynthesis"
    assert editor.model.index(0, 0).data() == "photosynthesis"
    qtbot.keyClick(
        editor.table,
        Qt.Key.Key_Z,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert stored(ctx)[0]["topic"] == "glaciers"


def test_shift_enter_keeps_a_newline_in_the_cell(
    qtbot: QtBot, editor: DatasetEditor, ctx: ProjectContext
) -> None:
    editor.table.setFocus()
    editor.table.setCurrentIndex(editor.model.index(1, 3))
    qtbot.keyClick(editor.table, Qt.Key.Key_F2)
    cell = QApplication.focusWidget()
    qtbot.keyClicks(cell, "line one")
    qtbot.keyClick(cell, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(cell, "line two")
    qtbot.keyClick(cell, Qt.Key.Key_Return)
    assert stored_topics(ctx).examples[1].note == "line one\nline two"


def test_add_duplicate_and_delete_rows_with_undo(
    qtbot: QtBot, editor: DatasetEditor, ctx: ProjectContext
) -> None:
    editor.table.setFocus()
    editor.table.setCurrentIndex(editor.model.index(1, 0))
    qtbot.keyClick(
        editor.table,
        Qt.Key.Key_A,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert stored(ctx)[2] == {"topic": "", "level": ""}  # inserted below row 2
    select_row(editor, 0)
    qtbot.keyClick(
        editor.table,
        Qt.Key.Key_D,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    topics = [v["topic"] for v in stored(ctx)]
    assert topics[:2] == ["photosynthesis", "photosynthesis"] and len(topics) == 6
    before = stored(ctx)
    select_row(editor, 3)
    qtbot.keyClick(editor.table, Qt.Key.Key_Delete)
    assert len(stored(ctx)) == 5
    assert "Deleted 1 example" in editor.status.text()
    editor.undo_action.trigger()
    assert stored(ctx) == before  # back in the same place
    assert editor.model.rowCount() == 6
    editor.undo_action.trigger()  # undo the duplicate
    editor.undo_action.trigger()  # undo the add
    assert [v["topic"] for v in stored(ctx)] == [
        "photosynthesis",
        "plate tectonics",
        "the water cycle",
        "volcanoes",
    ]


def test_paste_rows_from_a_spreadsheet(editor: DatasetEditor, ctx: ProjectContext) -> None:
    editor.table.setCurrentIndex(editor.model.index(3, 0))
    QApplication.clipboard().setText("rivers\thard\tgeo\tfrom a sheet\ndeserts\teasy\t\t\n")
    editor.paste_action.trigger()
    examples = stored_topics(ctx).examples
    assert [e.vars["topic"] for e in examples[-2:]] == ["rivers", "deserts"]
    assert examples[-2].tags == ["geo"] and examples[-2].note == "from a sheet"
    # A header row names the columns, and may add a new one.
    QApplication.clipboard().setText("topic\taudience\nclouds\tkids\n")
    editor.paste_action.trigger()
    assert stored(ctx)[-1] == {"topic": "clouds", "audience": "kids"}
    assert "audience" in headers(editor)
    # One value pastes into the current cell.
    editor.table.setCurrentIndex(editor.model.index(0, 1))
    QApplication.clipboard().setText("medium\n")
    editor.paste_action.trigger()
    assert stored(ctx)[0]["level"] == "medium"


def test_paste_reports_rows_it_could_not_use(editor: DatasetEditor, ctx: ProjectContext) -> None:
    editor.table.clearSelection()
    QApplication.clipboard().setText("a\tb\tc\td\te\tf\n")
    editor.paste_action.trigger()
    assert len(stored(ctx)) == 4
    assert "line 1" in editor.status.text() and "6 cells" in editor.status.text()


def test_copy_rows_gives_tab_separated_text_with_header(editor: DatasetEditor) -> None:
    select_row(editor, 0)
    editor.copy_action.trigger()
    text = QApplication.clipboard().text()
    assert text.splitlines() == ["topic\tlevel\ttags\tnote", "photosynthesis\thard\tsmoke\t"]


def test_import_preview_lists_errors_by_line_and_imports_the_good_rows(
    qtbot: QtBot,
    editor: DatasetEditor,
    ctx: ProjectContext,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    artifacts_dir: Path,
) -> None:
    source = tmp_path / "more.csv"
    source.write_text(
        "topic,level,tags,note\n"
        "earthquakes,hard,geo,\n"
        'glaciers,easy,"geo, ice",cold\n'
        "too,many,cells,here,oops\n"
        "deserts,medium,,\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(source), ""))
    editor.import_action.trigger()
    qtbot.waitUntil(lambda: editor.import_dialog is not None and editor.import_dialog.isVisible())
    dialog = editor.import_dialog
    assert dialog is not None
    assert dialog.errors.count() == 1
    assert dialog.errors.item(0).text() == "Line 4: 5 cells, but there are only 4 columns"
    assert dialog.import_button.text() == "Import 3, skip 1 bad line"
    assert dialog.preview.rowCount() == 3
    dialog.grab().save(str(artifacts_dir / "dataset_import_preview.png"))
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    topics = [v["topic"] for v in stored(ctx)]
    assert topics[-3:] == ["earthquakes", "glaciers", "deserts"]
    editor.undo_action.trigger()
    assert len(stored(ctx)) == 4


def test_export_csv_neutralises_formula_cells(
    qtbot: QtBot,
    editor: DatasetEditor,
    ctx: ProjectContext,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    editor.model.setData(editor.model.index(0, 0), '=HYPERLINK("http://evil")')
    target = tmp_path / "out.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    editor.export_action.trigger()
    qtbot.waitUntil(lambda: "Exported 4" in editor.status.text())
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["topic", "level", "tags", "note"]
    assert rows[1][0] == '\'=HYPERLINK("http://evil")'


def test_add_column_via_the_name_prompt(
    editor: DatasetEditor, ctx: ProjectContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("audience", True))
    editor.add_column_action.trigger()
    assert headers(editor) == ["topic", "level", "audience", "Tags", "Note"]
    column = headers(editor).index("audience")
    assert (
        editor.model.index(0, column)
        .data(Qt.ItemDataRole.ToolTipRole)
        .startswith("{{audience}} is not set")
    )
    editor.model.setData(editor.model.index(0, column), "teachers")
    assert stored(ctx)[0]["audience"] == "teachers"
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("9 bad", True))
    editor.add_column_action.trigger()
    assert "not a valid variable name" in editor.status.text()


def test_read_only_project_cannot_be_edited(qtbot: QtBot, tmp_path: Path) -> None:
    make_project(tmp_path).close()
    ctx = ProjectContext()
    ctx.set_project(Project.open(tmp_path / "grid.pwb", read_only=True))
    widget = DatasetEditor(ctx)
    qtbot.addWidget(widget)
    widget.show_dataset("topics")
    assert widget.model.rowCount() == 4
    assert not widget.model.flags(widget.model.index(0, 0)) & Qt.ItemFlag.ItemIsEditable
    assert not widget.add_row_action.isEnabled() and not widget.import_action.isEnabled()
    assert "Read-only" in widget.status.text()
    widget.close()
    ctx.close()


def test_external_change_reloads_and_missing_dataset_is_reported(
    editor: DatasetEditor, ctx: ProjectContext
) -> None:
    ctx.require().datasets.add_examples("topics", [])
    ctx.require().datasets.delete_examples([ctx.require().datasets.get_with_ids("topics")[0][0]])
    ctx.notify(Change.DATASETS, "topics")
    assert editor.model.rowCount() == 3
    editor.show_dataset("nope")
    assert editor.dataset is None
    assert "No dataset named 'nope'" in editor.status.text()
