"""The production export dialog, driven like a user: flags, kill switch, preview, export, diff."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication, QCheckBox, QFileDialog
from pytestqt.qtbot import QtBot

from workbench.core.models import ProductionSettings
from workbench.services.production_export import (
    LOADER_FILENAME,
    get_production_settings,
    set_production_settings,
)
from workbench.storage.project import Project
from workbench.ui.context import Change, ProjectContext
from workbench.ui.dialogs.export_dialog import ExportDialog
from workbench.ui.dialogs.export_preview import (
    CHANGES_TAB,
    PREVIEW_TAB,
    export_diff,
    same_export_time,
)
from workbench.ui.dialogs.production_form import audience
from workbench.ui.main_window import MainWindow
from workbench.ui.operations import wait_for_project_ops

SAMPLE_PROMPTS = ["summarize", "support-agent", "support-answer", "ticket-classifier"]


def _dialog(qtbot: QtBot, ctx: ProjectContext, target: Path) -> ExportDialog:
    dialog = ExportDialog(ctx, target=target)
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitExposed(dialog)
    return dialog


@pytest.fixture
def dialog(qtbot: QtBot, ctx: ProjectContext, tmp_path: Path) -> ExportDialog:
    return _dialog(qtbot, ctx, tmp_path / "prompts.json")


def _select(qtbot: QtBot, dialog: ExportDialog, name: str) -> None:
    view = dialog.panel.prompt_list
    row = [p.name for p in dialog.panel.prompts].index(name)
    rect = view.visualItemRect(view.item(row))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert dialog.panel.selected_prompt() == name


def _type_value(qtbot: QtBot, spin: object, text: str) -> None:
    spin.selectAll()  # type: ignore[attr-defined]
    qtbot.keyClicks(spin.lineEdit(), text)  # type: ignore[attr-defined]
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Tab)  # type: ignore[attr-defined]
    _settle()


def _click(qtbot: QtBot, widget: object) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)  # type: ignore[arg-type]


def _toggle(qtbot: QtBot, box: QCheckBox) -> None:
    """Click the indicator: a check box in a form row is wider than its hit area."""
    before = box.isChecked()
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
    assert box.isChecked() is not before
    _settle()


def _settle() -> None:
    """Let the settings writes already started land and their callbacks run."""
    wait_for_project_ops()
    QApplication.processEvents()


def _export(qtbot: QtBot, dialog: ExportDialog) -> None:
    with qtbot.waitSignal(dialog.finished, timeout=5000):
        _click(qtbot, dialog.export_button)


def test_the_preview_shows_the_production_versions(dialog: ExportDialog) -> None:
    data = json.loads(dialog.output.preview.toPlainText())
    assert sorted(data["prompts"]) == SAMPLE_PROMPTS
    assert data["prompts"]["support-answer"]["version"] == 2
    assert data["label"] == "production"
    items = [
        dialog.panel.prompt_list.item(i).text() for i in range(dialog.panel.prompt_list.count())
    ]
    assert items == [
        "support-answer  —  v2",
        "summarize  —  v3",
        "support-agent  —  v1",
        "ticket-classifier  —  v1",
    ]
    assert dialog.export_button.isEnabled()
    assert dialog.output.preview.isReadOnly()
    assert dialog.output.currentIndex() == PREVIEW_TAB
    assert dialog.output.tabText(CHANGES_TAB) == "Changes (no file yet)"
    assert "creates" in dialog.message.text()


def test_rollout_and_staff_only_edits_are_saved_and_previewed(
    qtbot: QtBot, dialog: ExportDialog, ctx: ProjectContext
) -> None:
    _select(qtbot, dialog, "support-answer")
    form = dialog.panel.form
    assert form.staff_only.isChecked() and form.rollout.value() == 0
    _toggle(qtbot, form.staff_only)
    with qtbot.waitSignal(ctx.changed, timeout=2000) as signal:
        _type_value(qtbot, form.rollout, "10")
    assert signal.args[0].what == Change.EXPORT
    flag = json.loads(dialog.output.preview.toPlainText())["prompts"]["support-answer"][
        "feature_flag"
    ]
    assert flag == {"enabled": True, "staff_only": False, "rollout_percent": 10.0}
    stored = get_production_settings(ctx.require(), "support-answer").feature_flag
    assert (stored.staff_only, stored.rollout_percent) == (False, 10.0)
    assert form.audience.text() == "Staff and 10 % of signed-in users (stable per user id)."
    # the other prompt keeps its own settings
    _select(qtbot, dialog, "summarize")
    assert form.staff_only.isChecked() and form.rollout.value() == 0


def test_the_kill_switch_and_alert_thresholds_reach_the_preview(
    qtbot: QtBot, dialog: ExportDialog, ctx: ProjectContext
) -> None:
    _select(qtbot, dialog, "summarize")
    _toggle(qtbot, dialog.panel.form.kill_switch)
    _type_value(qtbot, dialog.panel.form.alerts["error_rate"], "5")
    _type_value(qtbot, dialog.panel.form.alerts["p95_latency_s"], "4.5")
    entry = json.loads(dialog.output.preview.toPlainText())["prompts"]["summarize"]
    assert entry["kill_switch"] is True
    assert entry["alerts"]["error_rate"] == 0.05
    assert entry["alerts"]["p95_latency_s"] == 4.5
    assert dialog.panel.form.audience.text() == "Nobody: the kill switch is on."
    assert get_production_settings(ctx.require(), "summarize").kill_switch


def test_a_prompt_without_the_label_is_an_inline_error_until_skipped(
    qtbot: QtBot, dialog: ExportDialog
) -> None:
    dialog.label_combo.setCurrentText("staging")
    assert not dialog.export_button.isEnabled()
    assert dialog.message.text() == (
        "Prompt 'summarize' has no 'staging' label: point it at a version "
        "(Prompt ▸ Move label) or tick “Skip prompts without this label”."
    )
    assert dialog.panel.prompt_list.item(1).text() == "summarize  —  no 'staging' label"
    _toggle(qtbot, dialog.skip_box)
    assert dialog.export_button.isEnabled()
    data = json.loads(dialog.output.preview.toPlainText())
    assert data["skipped"] == ["summarize"]
    assert data["prompts"]["support-answer"]["version"] == 3


def test_bad_targets_are_explained_and_block_the_export(
    dialog: ExportDialog, tmp_path: Path
) -> None:
    cases = {
        str(tmp_path / "prompts.txt"): "Name the target .json, .yaml or .yml (not 'prompts.txt').",
        str(tmp_path / "nope" / "p.json"): f"The folder {tmp_path / 'nope'} does not exist",
        "": "Choose the file to write: a .json or .yaml path.",
    }
    for target, expected in cases.items():
        dialog.target_edit.setText(target)
        assert expected in dialog.message.text()
        assert not dialog.export_button.isEnabled()
    assert dialog.output.preview.toPlainText()  # the preview still shows what would be written


def test_browse_picks_a_yaml_target_and_the_preview_follows(
    qtbot: QtBot, dialog: ExportDialog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = tmp_path / "registry.yaml"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(chosen), ""))
    _click(qtbot, dialog.browse_button)
    assert dialog.target_path() == chosen
    data = yaml.safe_load(dialog.output.preview.toPlainText())
    assert data["prompts"]["summarize"]["version"] == 3


def test_export_writes_the_file_and_the_loader(
    qtbot: QtBot, dialog: ExportDialog, tmp_path: Path
) -> None:
    _toggle(qtbot, dialog.loader_box)
    with qtbot.waitSignal(dialog.exported, timeout=5000) as signal:
        _export(qtbot, dialog)
    target = tmp_path / "prompts.json"
    assert signal.args == [target, True]
    written = json.loads(target.read_text("utf-8"))
    assert sorted(written["prompts"]) == SAMPLE_PROMPTS
    assert (tmp_path / LOADER_FILENAME).read_text("utf-8").startswith("# prompt_registry.py")
    assert not dialog.isVisible()


def test_reopening_shows_the_diff_against_the_previous_export(
    qtbot: QtBot, ctx: ProjectContext, tmp_path: Path, artifacts_dir: Path
) -> None:
    target = tmp_path / "prompts.json"
    first = _dialog(qtbot, ctx, target)
    _export(qtbot, first)

    again = _dialog(qtbot, ctx, target)
    assert again.output.currentIndex() == CHANGES_TAB
    assert again.output.tabText(CHANGES_TAB) == "Changes (none)"  # exported_at is ignored
    assert "nothing else would change" in again.output.diff_summary.text()
    _select(qtbot, again, "support-answer")
    _toggle(qtbot, again.panel.form.kill_switch)
    _toggle(qtbot, again.panel.form.staff_only)
    _type_value(qtbot, again.panel.form.rollout, "5")
    # Three settings changed; difflib also re-pairs the "}," between them (four lines a side).
    assert again.output.tabText(CHANGES_TAB) == "Changes (+4 −4)"
    diff = again.output.diff_text or ""
    assert '-      "kill_switch": false,' in diff.splitlines()
    assert '+      "kill_switch": true,' in diff.splitlines()
    assert not [line for line in diff.splitlines() if "exported_at" in line and line[0] in "+-"]
    assert "replaces" in again.message.text()
    qtbot.wait(50)
    assert again.grab().save(str(artifacts_dir / "export_dialog_diff.png"))
    again.reject()


def test_read_only_projects_export_but_cannot_change_settings(
    qtbot: QtBot, sample_project: Path, tmp_path: Path
) -> None:
    ctx = ProjectContext()
    ctx.set_project(Project.open(sample_project, read_only=True))
    try:
        dialog = _dialog(qtbot, ctx, tmp_path / "ro.json")
        assert not dialog.panel.form.isEnabled()
        assert "Read-only project" in dialog.panel.note.text()
        _export(qtbot, dialog)
        assert (tmp_path / "ro.json").is_file()
    finally:
        ctx.close()


def test_screenshot_of_the_dialog_with_a_preview(
    qtbot: QtBot, ctx: ProjectContext, dialog: ExportDialog, artifacts_dir: Path
) -> None:
    set_production_settings(
        ctx.require(),
        "support-answer",
        ProductionSettings.model_validate({"feature_flag": {"rollout_percent": 10}}),
    )
    ctx.notify(Change.LABELS, None)  # re-read, as after any project change
    _select(qtbot, dialog, "support-answer")
    for widget, text in (
        (dialog.output.preview, '{"–}'),
        (dialog.message, "—"),
        (dialog.output, "−"),
    ):
        metrics = QFontMetrics(widget.font())
        assert all(metrics.inFontUcs4(ord(ch)) for ch in text), f"missing glyphs in {text!r}"
    qtbot.wait(50)
    assert dialog.grab().save(str(artifacts_dir / "export_dialog_preview.png"))


# -- the main window's wiring ------------------------------------------------------------------


@pytest.fixture
def window(qtbot: QtBot, qsettings: QSettings, sample_project: Path) -> Iterator[MainWindow]:
    context = ProjectContext()
    win = MainWindow(context, settings=qsettings)
    qtbot.addWidget(win)
    win.show()
    assert win.open_path(sample_project)
    qtbot.waitUntil(lambda: context.project is not None, timeout=5000)
    yield win
    context.close()


def test_ctrl_e_opens_the_dialog_and_the_status_bar_names_the_file(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    action = window.actions_by_name["export_production"]
    assert action.shortcut().toString() == "Ctrl+E"
    assert action in window.export_button.menu().actions()
    qtbot.keyClick(window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    dialog: ExportDialog = window.export_dialog  # type: ignore[attr-defined]
    assert dialog.isVisible()
    target = tmp_path / "out.json"
    dialog.target_edit.setText(str(target))
    _export(qtbot, dialog)
    assert window.statusBar().currentMessage() == (f"Exported the production config to {target}")
    action.trigger()  # the next export starts from the same file, showing what changed
    again: ExportDialog = window.export_dialog  # type: ignore[attr-defined]
    assert again is not dialog and again.target_path() == target
    assert again.output.currentIndex() == CHANGES_TAB
    again.reject()


# -- the pieces without widgets ----------------------------------------------------------------


def test_the_export_time_is_ignored_in_json_and_yaml() -> None:
    old_json = '{\n  "exported_at": "2020-01-01T00:00:00Z",\n  "label": "production"\n}\n'
    new_json = old_json.replace("2020", "2030")
    assert same_export_time(old_json, new_json) == new_json
    old_yaml = "exported_at: '2020-01-01T00:00:00Z'\nlabel: production\n"
    new_yaml = old_yaml.replace("2020", "2030").replace("production", "staging")
    diff = export_diff(old_yaml, new_yaml, "a", "b")
    assert (diff.added, diff.removed) == (1, 1)
    assert " exported_at: '2030-01-01T00:00:00Z'" in diff.text.splitlines()  # context only


def test_audience_mirrors_the_runtime_rules() -> None:
    def say(**flag: object) -> str:
        return audience(ProductionSettings.model_validate({"feature_flag": flag}))

    assert say() == "Staff only (the rollout applies once Staff only is off)."
    assert say(enabled=False) == "Nobody: the feature flag is off."
    assert say(staff_only=False, rollout_percent=100) == "Everyone, signed-in or not."
    assert say(staff_only=False) == "Staff only: the rollout is 0 %."
