"""The prompt editor, driven through its widgets: edit, save versions, guard, labels, diff."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QInputDialog, QMessageBox
from pytestqt.qtbot import QtBot

from workbench.storage.project import Project
from workbench.ui.context import ProjectContext
from workbench.ui.theme import current_theme
from workbench.ui.widgets.params_panel import decode_stops, encode_stops
from workbench.ui.widgets.prompt_editor import PromptEditor


@pytest.fixture
def editor(qtbot: QtBot, ctx: ProjectContext) -> PromptEditor:
    widget = PromptEditor(ctx)
    qtbot.addWidget(widget)
    widget.resize(1000, 720)
    widget.show()
    assert widget.show_prompt("support-answer", 2)
    return widget


def _type_at_end(qtbot: QtBot, editor: PromptEditor, text: str) -> None:
    editor.system_editor.setFocus()
    editor.system_editor.moveCursor(editor.system_editor.textCursor().MoveOperation.End)
    # QTest cannot type "\n" as a character: press Return between lines instead.
    for i, line in enumerate(text.split("\n")):
        if i:
            qtbot.keyClick(editor.system_editor, Qt.Key.Key_Return)
        if line:
            qtbot.keyClicks(editor.system_editor, line)


def test_editor_shows_the_version_with_its_labels_and_renders_fonts(editor: PromptEditor) -> None:
    assert editor.base_version == 2
    assert editor.heading.text() == "support-answer — editing from v2 (production)"
    assert editor.title() == "support-answer v2"
    assert not editor.is_dirty
    assert editor.history.topLevelItem(1).text(0) == "v2"
    assert editor.history.topLevelItem(1).text(1) == "production"
    metrics = QFontMetrics(editor.system_editor.font())
    # inFontUcs4: PySide6's inFont(str) misreports non-ASCII characters
    assert all(metrics.inFontUcs4(ord(ch)) for ch in "Aa{}—…•→")


def test_variables_are_listed_live_and_highlighted(qtbot: QtBot, editor: PromptEditor) -> None:
    assert [editor.variables.item(i).text() for i in range(editor.variables.count())] == [
        "{{question}}"
    ]
    _type_at_end(qtbot, editor, "\nPlan: {{ plan }}")
    names = [editor.variables.item(i).text() for i in range(editor.variables.count())]
    assert names == ["{{plan}}", "{{question}}"]
    assert editor.variables_box.title() == "Variables (2)"
    block = editor.system_editor.document().lastBlock()
    formats = block.layout().formats()
    spans = [(f.start, f.length) for f in formats if f.format.fontWeight() == QFont.Weight.Bold]
    assert spans == [(len("Plan: "), len("{{ plan }}"))]
    assert editor.is_dirty and editor.title().endswith("•")


def test_save_version_asks_for_a_note_and_stores_an_immutable_version(
    qtbot: QtBot, editor: PromptEditor, ctx: ProjectContext
) -> None:
    _type_at_end(qtbot, editor, "\nBe brief.")
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    dialog = editor.note_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.setTextValue("ask for brevity")
    with qtbot.waitSignal(ctx.changed):
        dialog.accept()
    saved = ctx.require().prompts.resolve("support-answer", 4)
    assert saved.note == "ask for brevity"
    assert saved.system.endswith("\nBe brief.")
    assert editor.base_version == 4 and not editor.is_dirty
    assert editor.title() == "support-answer v4"
    assert "Saved support-answer v4" in editor.notice.text()
    # the labels did not move
    assert ctx.require().prompts.get("support-answer").labels == {"production": 2, "staging": 3}


def test_saving_identical_content_says_which_version_it_is(
    qtbot: QtBot, editor: PromptEditor, ctx: ProjectContext
) -> None:
    _type_at_end(qtbot, editor, "x")
    qtbot.keyClick(editor.system_editor, Qt.Key.Key_Backspace)
    assert not editor.is_dirty
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert editor.note_dialog is None
    assert editor.notice.text() == "No changes: this is v2."
    assert len(ctx.require().prompts.get("support-answer").versions) == 3


def test_an_invalid_prompt_is_not_saved_and_the_field_is_named(
    qtbot: QtBot, editor: PromptEditor
) -> None:
    editor.messages.rows[0].role.setCurrentText("assistant")
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert editor.note_dialog is None
    assert "first message must have role 'user'" in editor.notice.text()
    assert "messages" in editor.notice.text()


@pytest.mark.parametrize(
    ("answer", "switched", "versions"),
    [
        (QMessageBox.StandardButton.Cancel, False, 3),
        (QMessageBox.StandardButton.Discard, True, 3),
        (QMessageBox.StandardButton.Save, True, 4),
    ],
)
def test_unsaved_edits_are_guarded_before_switching_version(
    qtbot: QtBot,
    editor: PromptEditor,
    ctx: ProjectContext,
    monkeypatch: pytest.MonkeyPatch,
    answer: QMessageBox.StandardButton,
    switched: bool,
    versions: int,
) -> None:
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or answer)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("guarded save", True))
    _type_at_end(qtbot, editor, " Extra.")
    item = editor.history.topLevelItem(0)  # v3
    editor.history.setCurrentItem(item)
    editor.history.setFocus()
    qtbot.keyClick(editor.history, Qt.Key.Key_Return)
    assert asked and "support-answer has edits" in asked[0]
    assert (editor.base_version == 3) is switched
    assert len(ctx.require().prompts.get("support-answer").versions) == versions
    if answer == QMessageBox.StandardButton.Cancel:
        assert editor.system_editor.toPlainText().endswith(" Extra.")


def test_rejected_parameters_are_disabled_with_the_reason(editor: PromptEditor) -> None:
    params = editor.params
    params.model_combo.setEditText("claude-haiku-5-5")
    for name in ("temperature", "top_p", "top_k"):
        assert not params.toggles[name].isEnabled()
        assert f"does not accept {name}" in params.toggles[name].toolTip()
    assert params.reasons.isVisible()
    params.model_combo.setEditText("claude-sonnet-4-6")
    assert params.toggles["temperature"].isEnabled()
    params.toggles["temperature"].setChecked(True)
    # Sonnet 4.6 takes temperature or top_p, not both: top_p is disabled once temperature is on
    assert not params.toggles["top_p"].isEnabled()
    assert "together" in params.toggles["top_p"].toolTip()
    assert params.spins["temperature"].isEnabled()
    params.model_combo.setEditText("my-custom-model")
    assert "not in the model list" in params.model_combo.toolTip()
    assert params.params().model == "my-custom-model"


def test_parameters_round_trip_into_the_saved_version(
    qtbot: QtBot, editor: PromptEditor, ctx: ProjectContext
) -> None:
    params = editor.params
    params.model_combo.setEditText("claude-sonnet-4-6")
    params.toggles["temperature"].setChecked(True)
    params.spins["temperature"].setValue(0.3)
    params.max_tokens.setValue(300)
    params.stops.setPlainText("END\n\\n\\nUser:")
    with qtbot.waitSignal(ctx.changed):
        assert editor.save_with_note("params")
    assert editor.base is not None
    stored = ctx.require().prompts.resolve("support-answer", editor.base.version).params
    assert stored.model == "claude-sonnet-4-6"
    assert stored.temperature == 0.3 and stored.top_p is None
    assert stored.max_tokens == 300
    assert stored.stop_sequences == ["END", "\n\nUser:"]


def test_stop_sequence_escapes_round_trip() -> None:
    stops = ["\n\nHuman:", "back\\slash", "plain"]
    assert decode_stops(encode_stops(stops)) == stops


def test_messages_can_be_added_removed_and_given_roles(qtbot: QtBot, editor: PromptEditor) -> None:
    rows = editor.messages.rows
    assert len(rows) == 1 and not rows[0].remove.isEnabled()
    qtbot.mouseClick(editor.messages.add_button, Qt.MouseButton.LeftButton)
    assert [r.role.currentText() for r in editor.messages.rows] == ["user", "assistant"]
    qtbot.keyClicks(editor.messages.rows[1].editor, "Sure: {{answer}}")
    assert editor.variables.count() == 2
    qtbot.mouseClick(editor.messages.rows[1].remove, Qt.MouseButton.LeftButton)
    assert len(editor.messages.rows) == 1
    assert editor.variables.count() == 1
    assert not editor.is_dirty  # back to exactly the stored version


def test_labels_move_with_a_click_in_the_history(
    qtbot: QtBot, editor: PromptEditor, ctx: ProjectContext
) -> None:
    menu = editor.history.label_menu(3)
    action = next(a for a in menu.actions() if a.text().startswith("Set 'production' here"))
    assert "(now on v2)" in action.text()
    action.trigger()  # moving production asks first
    question = editor.label_question
    assert question is not None and question.isVisible()
    assert "from v2 to v3" in question.text()
    prompts = ctx.require().prompts
    assert prompts.get("support-answer").labels["production"] == 2, "nothing moved yet"
    move = next(b for b in question.buttons() if b.text() == "Move production")
    with qtbot.waitSignal(ctx.changed):
        move.click()
    assert prompts.get("support-answer").labels["production"] == 3
    assert set(editor.history.topLevelItem(0).text(1).split()) == {"staging", "production"}
    assert [e.version for e in prompts.label_history("support-answer", "production")][-1] == 3
    # The version list shows when: v3's label history names the move.
    assert "production" in editor.history.topLevelItem(0).text(4)
    assert "production → v3" in editor.history.topLevelItem(0).toolTip(4)
    remove = next(
        a for a in editor.history.label_menu(3).actions() if a.text() == "Remove 'staging'"
    )
    with qtbot.waitSignal(ctx.changed):
        remove.trigger()
    assert "staging" not in prompts.get("support-answer").labels


def test_a_custom_label_is_asked_for_without_blocking(
    qtbot: QtBot, editor: PromptEditor, ctx: ProjectContext
) -> None:
    dialog = editor.history.ask_custom_label(1)
    assert dialog.isVisible()
    dialog.setTextValue("canary")
    with qtbot.waitSignal(ctx.changed):
        dialog.accept()
    assert ctx.require().prompts.get("support-answer").labels["canary"] == 1
    assert "'canary' now points at support-answer v1" in editor.notice.text()


def test_version_diff_marks_deletions_and_insertions(
    qtbot: QtBot, editor: PromptEditor, artifacts_dir: Path
) -> None:
    editor.compare(1, 2)
    diff = editor.diff
    assert editor.stack.currentWidget() is diff
    assert diff.left_combo.currentData() == 1 and diff.right_combo.currentData() == 2
    right = diff.formats_in(1)
    insert_bg = current_theme().insert_bg.name()
    inserted = "".join(t for t, f in right if f.background().color().name() == insert_bg)
    assert "Answer the user's question using only the documentation" in inserted
    assert diff.side_text(0).startswith("System\nYou are the support assistant")
    assert "+" in diff.summary.text()
    diff.left_combo.setCurrentIndex(diff.left_combo.findData(2))
    diff.right_combo.setCurrentIndex(diff.right_combo.findData(3))
    left = diff.formats_in(0)
    assert any(f.fontStrikeOut() and t.strip() for t, f in left)
    editor.toggle_compare()
    assert editor.stack.currentWidget() is editor.splitter


def test_read_only_project_cannot_be_edited(qtbot: QtBot, sample_project: Path) -> None:
    ctx = ProjectContext()
    ctx.set_project(Project.open(sample_project, read_only=True))
    try:
        editor = PromptEditor(ctx)
        qtbot.addWidget(editor)
        editor.show_prompt("support-answer")
        assert editor.system_editor.isReadOnly()
        assert not editor.save_button.isEnabled()
        assert editor.save_version() is None
        assert not editor.params.isEnabled()
        action = next(a for a in editor.history.label_menu(1).actions() if "production" in a.text())
        assert not action.isEnabled()
    finally:
        ctx.close()


def test_new_prompt_starts_unsaved_and_its_first_save_is_v1(
    qtbot: QtBot, editor: PromptEditor, ctx: ProjectContext
) -> None:
    dialog = editor.new_prompt()
    assert dialog is not None
    dialog.setTextValue("greeting")
    with qtbot.waitSignal(ctx.changed):
        dialog.accept()
    assert editor.prompt_name == "greeting" and editor.base_version is None
    assert editor.is_dirty and editor.title() == "greeting (new) •"
    assert [editor.variables.item(0).text()] == ["{{input}}"]
    with qtbot.waitSignal(ctx.changed):
        assert editor.save_with_note("first")
    assert editor.base_version == 1 and not editor.is_dirty


def test_a_bad_prompt_name_is_reported_in_one_sentence(
    editor: PromptEditor, settle: Callable[[], None]
) -> None:
    editor.create_prompt("no spaces allowed")
    settle()
    assert "is not a valid prompt name" in editor.notice.text()


def test_closing_the_project_empties_the_editor(editor: PromptEditor, ctx: ProjectContext) -> None:
    ctx.set_project(None)
    assert editor.prompt is None
    assert editor.stack.currentWidget() is editor.empty
    assert editor.title() == "Prompt editor"


def test_editor_and_diff_screenshots(
    qtbot: QtBot, editor: PromptEditor, artifacts_dir: Path
) -> None:
    editor.resize(1100, 720)
    qtbot.wait(10)
    assert editor.grab().save(str(artifacts_dir / "prompt_editor.png"))
    editor.compare(1, 2)
    qtbot.wait(10)
    assert editor.grab().save(str(artifacts_dir / "prompt_editor_diff_v1_v2.png"))
    editor.compare(2, 3)
    qtbot.wait(10)
    assert editor.grab().save(str(artifacts_dir / "prompt_editor_diff_v2_v3.png"))
