"""The pieces of the first hour one at a time: dataset actions, a copy of the open file, where
calls go, the offline guide, the welcome screen's recent list and dropping a file."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from workbench.resource_files import resource_path
from workbench.services.project_session import open_project_file
from workbench.ui.context import ProjectContext
from workbench.ui.main_window import MainWindow
from workbench.ui.operations import wait_for_project_ops
from workbench.ui.window_menus import show_getting_started

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def window(qtbot: QtBot, qsettings: QSettings) -> Iterator[MainWindow]:
    ctx = ProjectContext()
    win = MainWindow(ctx, settings=qsettings, remember_layout=False)
    qtbot.addWidget(win)
    win.show()
    yield win
    ctx.close()
    win.close()


def _drain() -> None:
    wait_for_project_ops()
    for _ in range(5):
        QApplication.processEvents()


def test_rename_duplicate_and_delete_a_dataset(window: MainWindow, sample_project: Path) -> None:
    assert window.open_path(sample_project, background=False)
    project = window.ctx.require()
    window.show_dataset("summaries")
    manager = window.datasets
    assert all(a.isEnabled() for a in manager.actions())
    manager.rename("summaries", "texts")
    _drain()
    assert "texts" in project.datasets.names() and "summaries" not in project.datasets.names()
    assert window.dataset_editor.dataset == "texts"
    manager.duplicate("texts")
    _drain()
    assert window.dataset_editor.dataset == "texts-copy"
    assert project.datasets.counts()["texts-copy"] == project.datasets.counts()["texts"] == 5
    copy = project.datasets.get("texts-copy").examples[0]
    assert copy == project.datasets.get("texts").examples[0]  # expectations and tags too
    box = manager.ask_delete("texts-copy")
    assert box is not None and "5 example(s)" in box.text()
    box.button(QMessageBox.StandardButton.Cancel).click()
    _drain()
    assert "texts-copy" in project.datasets.names()
    box = manager.ask_delete("texts-copy")
    assert box is not None
    delete = next(b for b in box.buttons() if b.text() == "Delete")
    delete.click()
    _drain()
    assert "texts-copy" not in project.datasets.names()
    assert window.dataset_editor.dataset is None
    menu = window.sidebar.context_menu(window.sidebar.find("dataset", "texts"))
    assert [a.text() for a in menu.actions() if a.text()][-4:] == [
        "Rename…",
        "Duplicate",
        "Delete…",
        "New dataset…",
    ]


def test_a_copy_of_the_open_file_holds_the_last_save(
    window: MainWindow, sample_project: Path, tmp_path: Path
) -> None:
    assert window.open_path(sample_project, background=False)
    window.datasets.create("fresh")
    _drain()
    assert "fresh" in window.ctx.require().datasets.names()
    copy = tmp_path / "copied.pwb"
    shutil.copyfile(sample_project, copy)  # the .pwb bytes only, while the app holds it open
    reopened = open_project_file(copy, read_only=True)
    try:
        assert "fresh" in reopened.datasets.names()
    finally:
        reopened.close()


def test_the_tool_bar_says_where_calls_go_and_where_the_key_is_from(
    window: MainWindow, sample_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:18080")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-FAKE")
    assert window.open_path(sample_project, background=False)
    window.resize(1280, 800)
    _drain()
    text = window.key_label.text().strip()
    assert text == "ANTHROPIC_BASE_URL → http://127.0.0.1:18080 · key from the environment"
    assert window.key_label.width() >= window.key_label.sizeHint().width()  # not cut off


def test_help_shows_the_guide_offline(window: MainWindow, artifacts_dir: Path) -> None:
    shipped = resource_path("getting-started.md")  # resources/ links docs/getting-started.md
    assert shipped.read_text(encoding="utf-8") == (ROOT / "docs" / "getting-started.md").read_text(
        encoding="utf-8"
    )
    dialog = show_getting_started(window)
    text = dialog.browser.toPlainText()  # type: ignore[attr-defined]
    assert "Getting started" in text and "Try it now" in text
    assert not dialog.browser.openLinks()  # type: ignore[attr-defined]
    dialog.grab().save(str(artifacts_dir / "help_getting_started.png"))
    dialog.close()


def test_welcome_lists_recent_projects_and_a_dropped_file_opens(
    window: MainWindow, sample_project: Path, artifacts_dir: Path
) -> None:
    assert window.open_path(sample_project, background=False)
    window.close_project()
    assert window.centre.currentWidget() is window.welcome
    item = window.welcome.recent.topLevelItem(0)
    assert item is not None and item.text(0) == "quizcraft"
    assert item.text(1) == str(sample_project.parent.resolve()) and item.text(2) != "—"
    window.resize(1280, 800)
    window.grab().save(str(artifacts_dir / "welcome_with_recent_1280x800.png"))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(sample_project))])
    drop = QDropEvent(
        QPointF(20, 20),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(drop)
    wait_for_project_ops()
    for _ in range(50):
        QApplication.processEvents()
        if window.ctx.project is not None:
            break
        QApplication.instance().thread().msleep(20)  # type: ignore[union-attr]
    assert window.ctx.project is not None and window.ctx.project.path == sample_project


def test_import_preview_names_every_skipped_line_and_empty_values(
    window: MainWindow, sample_project: Path, tmp_path: Path, artifacts_dir: Path
) -> None:
    from workbench.services.dataset_io import parse_file
    from workbench.services.planner import make_plan
    from workbench.services.project_models import model_catalog, price_table

    assert window.open_path(sample_project, background=False)
    window.show_prompt("support-answer")
    source = tmp_path / "questions.csv"
    # Line 3 has a cell too many; line 4 opens a quote that never closes, so 4–6 are lost.
    source.write_text(
        'question\nHow do I install it?\n"a","b"\n"broken\nsecond\nthird\n', encoding="utf-8"
    )
    result = parse_file(source)
    editor = window.dataset_editor
    dialog = editor._show_import(result, str(source))
    assert dialog is not None
    texts = [dialog.errors.item(i).text() for i in range(dialog.errors.count())]
    assert texts[0].startswith("Line 3: ") and texts[1].startswith("Lines 4–6: "), texts
    assert dialog.import_button.text() == "Import 1, skip 4 bad lines"
    dialog.reject()

    # Empty values in a column the prompt uses: warned in the preview and in the preflight.
    source.write_text('question\nHow do I install it?\n""\n  \n', encoding="utf-8")
    (tmp_path / "blank.csv").write_text("question,note\nfine,x\n,empty one\n", encoding="utf-8")
    result = parse_file(tmp_path / "blank.csv")
    dialog = editor._show_import(result, str(tmp_path / "blank.csv"))
    assert dialog is not None and dialog.warnings.count() == 1
    assert dialog.warnings.item(0).text().startswith("⚠ Line 3: 'question' is empty")
    assert dialog.target_dataset() is None  # no dataset open: a new one
    dialog.new_name.setText("blank-import")
    dialog.grab().save(str(artifacts_dir / "import_preview_new_dataset.png"))
    dialog.accept()
    _drain()
    project = window.ctx.require()
    assert project.datasets.counts()["blank-import"] == 2
    assert editor.dataset == "blank-import"
    plan = make_plan(
        project,
        prompts=["support-answer"],
        dataset="blank-import",
        catalog=model_catalog(project),
        prices=price_table(project),
    )
    assert any("empty 'question'" in w and "row 2" in w for w in plan.warnings), plan.warnings


def test_the_diff_toggle_follows_the_page_and_the_app_draws_a_focus_ring(
    window: MainWindow, sample_project: Path
) -> None:
    from workbench.ui.main import FOCUS_RING

    assert window.open_path(sample_project, background=False)
    editor = window.editor
    window.show_prompt("support-answer")
    editor.compare()
    assert editor.compare_button.text() == "Back to editor"
    window.show_prompt("summarize")  # another prompt replaces the diff with the editor
    assert editor.stack.currentIndex() != 1
    assert editor.compare_button.text() == "Compare versions"
    assert ":focus" in FOCUS_RING and "QComboBox" not in FOCUS_RING  # no second combo arrow


def test_the_demo_runs_three_tiers_with_different_answers(
    qtbot: QtBot, window: MainWindow, artifacts_dir: Path
) -> None:
    assert window.open_demo()
    qtbot.waitUntil(lambda: window.ctx.project is not None, timeout=10_000)
    assert window.ctx.demo and window.banner.isVisible()
    window.resize(1280, 800)
    dialog = window.controller.open_run_dialog(
        window, prompts=["support-answer@3"], dataset="support-evals"
    )
    qtbot.waitUntil(lambda: dialog.run_button.isEnabled(), timeout=10_000)
    assert len(dialog.plan.models) == 3
    with qtbot.waitSignal(window.controller.run_finished, timeout=60_000) as finished:
        dialog.run_button.click()
    outcome = finished.args[0]
    window.controller.wait()
    _drain()
    assert outcome.status == "done"
    window.show_run(outcome.run_id)
    model = window.grid.model
    assert model.columnCount() == 3
    rows_with_three_answers = sum(
        len({model.cell_at(r, c).text for c in range(3)}) == 3  # type: ignore[union-attr]
        for r in range(model.rowCount())
    )
    assert rows_with_three_answers >= model.rowCount() - 1  # tiers answer differently
    assert window.ctx.require().runs.spend_split(outcome.run_id)["real_usd"] == 0
    window.grab().save(str(artifacts_dir / "demo_grid_three_tiers_1280x800.png"))
