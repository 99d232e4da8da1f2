"""The main window, driven like a user would: open, navigate, save as, recent, layout, runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox
from pytestqt.qtbot import QtBot

from workbench.formats.bundle_yaml import load_bundle
from workbench.services.planner import make_plan
from workbench.services.project_models import model_catalog, price_table
from workbench.services.runner import RunOptions
from workbench.storage.project import Project, lock_holder
from workbench.ui.context import ProjectContext
from workbench.ui.main import run_selftest
from workbench.ui.main_window import DATASET_TAB, DEMO_BANNER, EDITOR_TAB, GRID_TAB, MainWindow
from workbench.ui.window_menus import show_shortcuts

SAMPLE_PROMPTS = ["support-answer", "summarize", "support-agent", "ticket-classifier"]


@pytest.fixture
def window(qtbot: QtBot, qsettings: QSettings) -> Iterator[MainWindow]:
    ctx = ProjectContext()
    win = MainWindow(ctx, settings=qsettings)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.controller.cancel()
    win.controller.wait()
    ctx.close()


def _open(qtbot: QtBot, window: MainWindow, path: Path, **kwargs: object) -> Project:
    assert window.open_path(path, **kwargs)  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: window.ctx.project is not None, timeout=5000)
    return window.ctx.require()


def _discard_on_close(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)


def test_opening_the_sample_shows_it_everywhere(
    qtbot: QtBot, window: MainWindow, sample_project: Path, artifacts_dir: Path
) -> None:
    project = _open(qtbot, window, sample_project)
    assert window.windowTitle() == f"QuizCraft — {sample_project} — Prompt Workbench"
    # the editor starts on the production version
    assert (window.editor.prompt_name, window.editor.base_version) == ("support-answer", 2)
    assert window.tabs.tabText(EDITOR_TAB) == "support-answer v2"
    sidebar = window.sidebar
    assert sidebar.sections["Prompts"].text(0) == "Prompts (4)"
    version = sidebar.find("version", ("support-answer", 2))
    assert version is not None and version.text(0) == "v2  production"
    dataset = sidebar.find("dataset", "support-questions")
    assert dataset is not None and dataset.text(0) == "support-questions (20)"
    assert not window.banner.isVisible()
    assert window.recent.paths() == [sample_project.resolve()]
    assert project.read_only is False
    assert QFontMetrics(window.font()).inFontUcs4(ord("W"))
    qtbot.wait(50)
    assert window.grab().save(str(artifacts_dir / "main_window_sample.png"))


def test_every_menu_action_has_a_status_tip_and_the_main_ones_have_shortcuts(
    window: MainWindow,
) -> None:
    for menu in window.menuBar().findChildren(type(window.file_menu)):
        for action in menu.actions():
            if action.isSeparator() or action.menu() is not None or not action.text():
                continue
            if menu is window.recent_menu:
                continue
            assert action.statusTip(), f"{menu.title()} ▸ {action.text()} has no status tip"
    keys = {name: a.shortcut().toString() for name, a in window.actions_by_name.items()}
    assert keys["new"] == "Ctrl+N" and keys["open"] == "Ctrl+O"
    assert keys["save_as"] == "Ctrl+Shift+S" and keys["quit"] == "Ctrl+Q"
    assert keys["save_version"] == "Ctrl+S" and keys["compare"] == "Ctrl+D"
    assert keys["run"] == "Ctrl+R"
    assert [k.toString() for k in window.actions_by_name["stop"].shortcuts()] == ["Esc", "Ctrl+."]


def test_sidebar_selection_opens_the_right_tab(
    qtbot: QtBot, window: MainWindow, sample_project: Path
) -> None:
    _open(qtbot, window, sample_project)
    tree = window.sidebar.tree
    dataset = window.sidebar.find("dataset", "support-questions")
    tree.scrollToItem(dataset)
    qtbot.mouseClick(
        tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(dataset).center()
    )
    assert window.tabs.currentIndex() == DATASET_TAB
    assert window.dataset_editor.dataset == "support-questions"
    version = window.sidebar.find("version", ("summarize", 1))
    tree.setCurrentItem(version)
    tree.setFocus()
    qtbot.keyClick(tree, Qt.Key.Key_Return)
    assert window.tabs.currentIndex() == EDITOR_TAB
    assert (window.editor.prompt_name, window.editor.base_version) == ("summarize", 1)


def test_ctrl_s_in_the_editor_asks_for_a_note(
    qtbot: QtBot, window: MainWindow, sample_project: Path
) -> None:
    _open(qtbot, window, sample_project)
    editor = window.editor
    editor.system_editor.setFocus()
    qtbot.keyClicks(editor.system_editor, "Hello ")
    assert window.tabs.tabText(EDITOR_TAB).endswith("•")
    qtbot.keyClick(editor.system_editor, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    dialog = editor.note_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.setTextValue("greeting")
    with qtbot.waitSignal(window.ctx.changed):
        dialog.accept()
    assert editor.base_version == 4
    assert window.sidebar.find("version", ("support-answer", 4)) is not None


def test_switching_prompts_with_unsaved_edits_can_be_cancelled(
    qtbot: QtBot, window: MainWindow, sample_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _open(qtbot, window, sample_project)
    qtbot.keyClicks(window.editor.system_editor, "draft ")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Cancel)
    window.sidebar.prompt_opened.emit("summarize", None)
    assert window.editor.prompt_name == "support-answer"
    assert window.editor.is_dirty
    _discard_on_close(monkeypatch)


def test_save_as_writes_a_copy_and_continues_in_it(
    qtbot: QtBot,
    window: MainWindow,
    sample_project: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _open(qtbot, window, sample_project)
    dest = tmp_path / "copy.pwb"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(dest), ""))
    window.actions_by_name["save_as"].trigger()
    qtbot.waitUntil(lambda: window.ctx.path == dest, timeout=5000)
    assert lock_holder(sample_project) is None  # the original is released
    assert window.ctx.require().prompts.names() == SAMPLE_PROMPTS
    assert str(dest) in window.windowTitle()
    assert window.recent.paths()[0] == dest.resolve()


def test_new_project_is_created_with_prices_and_models(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "fresh"), "")
    )
    assert window.new_project()
    project = window.ctx.require()
    assert project.path == tmp_path / "fresh.pwb"
    assert project.catalog.list_prices() and project.catalog.list_models()
    assert window.windowTitle().startswith("fresh — ")


def test_export_bundle_writes_yaml_that_loads(
    qtbot: QtBot,
    window: MainWindow,
    sample_project: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _open(qtbot, window, sample_project)
    out = tmp_path / "out.yaml"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    window.actions_by_name["export"].trigger()
    bundle = load_bundle(out)
    assert [p.name for p in bundle.prompts] == SAMPLE_PROMPTS


def test_opening_a_bundle_loads_a_temporary_project(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workbench.resources import sample_bundle_path

    project = _open(qtbot, window, sample_bundle_path())
    assert project.path.suffix == ".pwb" and project.path.parent != sample_bundle_path().parent
    assert "use File ▸ Save As to keep it" in window.statusBar().currentMessage()
    assert window.recent.paths() == []


def test_recent_projects_menu_lists_opened_files(
    qtbot: QtBot, window: MainWindow, sample_project: Path
) -> None:
    _open(qtbot, window, sample_project)
    window.recent_menu.aboutToShow.emit()
    texts = [a.text() for a in window.recent_menu.actions()]
    assert texts[0] == str(sample_project.resolve())
    window.close_project()
    assert window.ctx.project is None and window.windowTitle() == "Prompt Workbench"
    window.recent_menu.actions()[0].trigger()
    qtbot.waitUntil(lambda: window.ctx.project is not None, timeout=5000)


def test_a_file_that_is_not_a_project_gives_one_clear_sentence(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    bad = tmp_path / "notes.pwb"
    bad.write_text("just some text\n")
    before = bad.read_bytes()
    window.open_path(bad)
    qtbot.waitUntil(lambda: window.message_box is not None and window.message_box.isVisible())
    text = window.message_box.text()
    assert str(bad) in text and "Traceback" not in text and "\n" not in text.strip()
    window.message_box.close()
    assert window.ctx.project is None
    assert bad.read_bytes() == before


def test_a_locked_project_offers_to_open_read_only(
    qtbot: QtBot, window: MainWindow, sample_project: Path
) -> None:
    holder = Project.open(sample_project)
    try:
        window.open_path(sample_project)
        qtbot.waitUntil(lambda: window.message_box is not None and window.message_box.isVisible())
        box = window.message_box
        assert "already open for writing" in box.text() and "read-only" in box.text()
        qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.ctx.project is not None, timeout=5000)
        assert window.ctx.read_only
        assert "[read-only]" in window.windowTitle()
        assert not window.actions_by_name["save_version"].isEnabled()
        assert not window.actions_by_name["run"].isEnabled()
    finally:
        holder.close()


def test_layout_is_remembered_and_can_be_reset(
    qtbot: QtBot, qsettings: QSettings, sample_project: Path
) -> None:
    first = MainWindow(ProjectContext(), settings=qsettings)
    qtbot.addWidget(first)
    first.show()
    first.sidebar_dock.toggleViewAction().trigger()
    assert not first.sidebar_dock.isVisible()
    first.close()
    second = MainWindow(ProjectContext(), settings=qsettings)
    qtbot.addWidget(second)
    second.show()
    assert not second.sidebar_dock.isVisible()
    second.actions_by_name["reset_layout"].trigger()
    assert second.sidebar_dock.isVisible()
    second.close()


def test_demo_mode_shows_the_synthetic_banner_and_runs_offline(
    qtbot: QtBot, qsettings: QSettings, sample_project: Path, artifacts_dir: Path
) -> None:
    ctx = ProjectContext(demo=True)
    window = MainWindow(ctx, settings=qsettings)
    qtbot.addWidget(window)
    window.show()
    try:
        project = _open(qtbot, window, sample_project, demo=True)
        assert window.banner.isVisible() and window.banner.text() == DEMO_BANNER
        assert "[offline demo]" in window.windowTitle()
        assert "offline demo" in window.key_label.text()
        plan = make_plan(
            project,
            prompts=["support-answer@2"],
            dataset="support-questions",
            catalog=model_catalog(project),
            prices=price_table(project),
        )
        plan.cells = plan.cells[:4]
        with qtbot.waitSignal(window.controller.run_finished, timeout=20000) as finished:
            assert window.controller.start(plan, RunOptions(concurrency=2))
            qtbot.waitUntil(lambda: window.actions_by_name["stop"].isEnabled(), timeout=5000)
        outcome = finished.args[0]
        assert outcome.status == "done"
        assert window.tabs.currentIndex() == GRID_TAB
        assert window.run_status.label.text() == f"Run #{outcome.run_id} done"
        assert not window.actions_by_name["stop"].isEnabled()
        run_item = window.sidebar.find("run", outcome.run_id)
        assert (
            run_item is not None and "done · 4/4" in run_item.text(0) and "demo" in run_item.text(0)
        )
        qtbot.wait(50)
        assert window.grab().save(str(artifacts_dir / "main_window_demo_run.png"))
    finally:
        window.close()
        ctx.close()


def test_help_lists_every_shortcut(qtbot: QtBot, window: MainWindow) -> None:
    dialog = show_shortcuts(window)
    rows = window.keyboard_shortcuts()
    assert ("Prompt", "Save version", "Ctrl+S") in rows
    assert ("Run", "Stop", "Esc, Ctrl+.") in rows
    assert dialog.isVisible()
    dialog.close()


def test_closing_with_unsaved_edits_asks_first(
    qtbot: QtBot, window: MainWindow, sample_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _open(qtbot, window, sample_project)
    qtbot.keyClicks(window.editor.system_editor, "draft ")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Cancel)
    assert not window.close()
    assert window.isVisible()
    _discard_on_close(monkeypatch)
    assert window.close()


def test_selftest_runs_headless_and_returns_zero(
    qapp: QApplication, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_selftest() == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("selftest ok: 3 echo cell(s) run")
    assert len(out.splitlines()) == 1


def test_sidebar_context_menu_opens_the_run_dialog_for_that_prompt(
    qtbot: QtBot, window: MainWindow, sample_project: Path
) -> None:
    from workbench.ui.dialogs.run_dialog import RunDialog

    _open(qtbot, window, sample_project)
    item = window.sidebar.find("version", ("summarize", 2))
    menu = window.sidebar.context_menu(item)
    texts = [a.text() for a in menu.actions()]
    assert texts == ["Open", "Run v2…"]
    menu.actions()[1].trigger()
    dialogs = [d for d in window.findChildren(RunDialog) if d.isVisible()]
    assert len(dialogs) == 1
    dialogs[0].reject()
    prompt_menu = window.sidebar.context_menu(window.sidebar.find("prompt", "summarize"))
    assert [a.text() for a in prompt_menu.actions()][-1] == "New prompt…"


def test_cancel_in_the_status_bar_stops_the_run_and_resume_finishes_it(
    qtbot: QtBot, qsettings: QSettings, sample_project: Path
) -> None:
    ctx = ProjectContext(demo=True)
    window = MainWindow(ctx, settings=qsettings)
    qtbot.addWidget(window)
    window.show()
    try:
        project = _open(qtbot, window, sample_project, demo=True)
        plan = make_plan(project, prompts=["summarize@1"], dataset="summaries")
        with qtbot.waitSignal(window.controller.run_finished, timeout=20000) as finished:
            assert window.controller.start(plan, RunOptions(concurrency=1))
            qtbot.waitUntil(lambda: window.run_status.cancel.isEnabled(), timeout=5000)
            assert window.run_status.bar.isVisible()
            qtbot.mouseClick(window.run_status.cancel, Qt.MouseButton.LeftButton)
        outcome = finished.args[0]
        assert outcome.status == "cancelled"
        assert window.run_status.label.text().startswith(f"Run #{outcome.run_id} cancelled")
        assert window.sidebar.select("run", outcome.run_id)
        assert (
            window.sidebar.context_menu(window.sidebar.tree.currentItem()).actions()[1].isEnabled()
        )
        with qtbot.waitSignal(window.controller.run_finished, timeout=30000) as resumed:
            window.actions_by_name["resume"].trigger()
        assert resumed.args[0].status == "done" and resumed.args[0].run_id == outcome.run_id
        assert "done · 5/5" in window.sidebar.find("run", outcome.run_id).text(0)
    finally:
        window.close()
        ctx.close()


def test_the_interface_font_has_every_symbol_the_window_uses(window: MainWindow) -> None:
    metrics = QFontMetrics(window.font())
    missing = [ch for ch in "▾▸—…•→−↵·" if not metrics.inFontUcs4(ord(ch))]
    assert not missing
