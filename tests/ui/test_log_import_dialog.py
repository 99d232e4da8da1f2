"""File ▸ Import production logs…: good lines imported, bad lines listed with their numbers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot
from quiz_project_support import assert_fonts_render

from workbench.storage.project import Project
from workbench.ui.context import Change, ProjectContext
from workbench.ui.dialogs.log_import_dialog import LogImportDialog
from workbench.ui.main_window import MainWindow


def _call(i: int, **extra: object) -> dict[str, object]:
    line: dict[str, object] = {
        "timestamp": f"2026-11-20T10:0{i}:00Z",
        "prompt": "support-answer",
        "version": 2,
        "model": "claude-haiku-5-5",
        "vars": {"question": f"How do I reset my password? ({i})"},
        "output": "Open Settings, then Account, then Reset password.",
        "latency_ms": 900 + 10 * i,
        "input_tokens": 1000,
        "output_tokens": 120,
        "feedback": "up",
        "call_id": f"call-{i}",
    }
    line.update(extra)
    return line


def write_log(path: Path) -> Path:
    """Three good lines and two bad ones (line 2: not JSON; line 4: no model)."""
    bad_model = _call(3)
    del bad_model["model"]
    lines = [
        json.dumps(_call(1)),
        '{"timestamp": "2026-11-20T10:02:00Z", "prompt": ',
        json.dumps(_call(2)),
        json.dumps(bad_model),
        json.dumps(_call(4, feedback="down")),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def dialog(qtbot: QtBot, ctx: ProjectContext) -> Iterator[LogImportDialog]:
    widget = LogImportDialog(ctx)
    qtbot.addWidget(widget)
    widget.open()
    yield widget
    qtbot.waitUntil(lambda: not widget.running, timeout=10_000)
    widget.close()


def _import(qtbot: QtBot, dialog: LogImportDialog, path: Path) -> None:
    dialog.path_edit.setText(str(path))
    with qtbot.waitSignal(dialog.ctx.changed, timeout=10_000) as changed:
        qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert changed.args[0].what == Change.RUNS


def test_good_lines_are_imported_and_bad_lines_listed_by_number(
    qtbot: QtBot, dialog: LogImportDialog, tmp_path: Path, artifacts_dir: Path
) -> None:
    _import(qtbot, dialog, write_log(tmp_path / "calls.jsonl"))
    report = dialog.report
    assert report is not None and (report.calls, len(report.errors)) == (3, 2)
    assert dialog.summary.text().startswith("Imported 3, skipped 2 into run #")
    table = dialog.errors
    assert table.isVisible() and table.rowCount() == 2
    assert [table.item(r, 0).text() for r in range(2)] == ["2", "4"]
    assert "JSON" in table.item(0, 1).text() and "model" in table.item(1, 1).text()
    assert "2 bad line(s) skipped" in dialog.errors_title.text()
    # the calls are in the project as production imports, with their thumbs
    project = dialog.ctx.require()
    runs = project.runs.summaries()
    assert runs[-1].kind == "import" and runs[-1].id == report.run_id
    assert_fonts_render(dialog, "Imported 3, skipped 2 — line 2: not JSON")
    qtbot.wait(30)
    assert dialog.grab().save(str(artifacts_dir / "log_import_dialog.png"))


def test_importing_the_same_file_again_skips_what_is_in(
    qtbot: QtBot, dialog: LogImportDialog, tmp_path: Path
) -> None:
    log = write_log(tmp_path / "calls.jsonl")
    _import(qtbot, dialog, log)
    dialog.path_edit.setText(str(log))
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.running, timeout=10_000)
    assert dialog.summary.text().startswith("Imported 0, skipped 5")
    assert "3 already imported" in dialog.summary.text()


def test_a_missing_file_says_so_in_one_sentence(
    qtbot: QtBot, dialog: LogImportDialog, tmp_path: Path
) -> None:
    dialog.path_edit.setText(str(tmp_path / "nope.jsonl"))
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.running, timeout=10_000)
    text = dialog.summary.text()
    assert text.startswith("Nothing was imported: ") and "nope.jsonl" in text
    assert "Traceback" not in text and not dialog.errors.isVisible()


def test_browse_fills_in_the_path(
    qtbot: QtBot, dialog: LogImportDialog, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not dialog.import_button.isEnabled()  # nothing chosen yet
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", lambda *a, **k: ("/tmp/app/llm-calls.jsonl", "")
    )
    browse = next(
        b for b in dialog.findChildren(type(dialog.import_button)) if "Browse" in b.text()
    )
    qtbot.mouseClick(browse, Qt.MouseButton.LeftButton)
    assert dialog.path_edit.text() == "/tmp/app/llm-calls.jsonl"
    assert dialog.import_button.isEnabled()


def test_a_read_only_project_cannot_import(qtbot: QtBot, sample_project: Path) -> None:
    ctx = ProjectContext()
    ctx.set_project(Project.open(sample_project, read_only=True))
    try:
        widget = LogImportDialog(ctx)
        qtbot.addWidget(widget)
        widget.path_edit.setText("/tmp/calls.jsonl")
        assert not widget.import_button.isEnabled()
        assert "open read-only" in widget.summary.text()
    finally:
        ctx.close()


def test_the_file_menu_opens_the_dialog_and_charts_show_the_imports(
    qtbot: QtBot, ctx: ProjectContext, qsettings: QSettings, tmp_path: Path
) -> None:
    window = MainWindow(ctx, settings=qsettings, remember_layout=False)
    qtbot.addWidget(window)
    window.show()
    try:
        action = window.actions_by_name["import_logs"]
        assert action in window.file_menu.actions()
        action.trigger()
        dialog = window.log_import_dialog
        assert isinstance(dialog, LogImportDialog) and dialog.isVisible()
        _import(qtbot, dialog, write_log(tmp_path / "calls.jsonl"))
        qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
        assert not dialog.isVisible()
        charts = window.charts
        with qtbot.waitSignal(charts.updated, timeout=10_000):
            window.tabs.setCurrentWidget(charts)
        bar = charts.filter_bar
        with qtbot.waitSignal(charts.updated, timeout=10_000):
            bar.source.setCurrentIndex(bar.source.findData("import"))
        assert charts.data.calls == 3 and charts.data.models == ["claude-haiku-5-5"]
    finally:
        window.close()
