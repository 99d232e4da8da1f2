"""The prompt editor's tools, output schema, thinking and prefill controls, through the widgets."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QScrollArea, QWidget
from pytestqt.qtbot import QtBot

from workbench.ui.context import ProjectContext
from workbench.ui.widgets.json_schema_edit import line_of_path, schema_errors
from workbench.ui.widgets.prompt_editor import PromptEditor


@pytest.fixture
def editor(qtbot: QtBot, ctx: ProjectContext) -> PromptEditor:
    widget = PromptEditor(ctx)
    qtbot.addWidget(widget)
    widget.resize(1100, 900)
    widget.show()
    assert widget.show_prompt("support-agent", 1)
    return widget


def _reveal(editor: PromptEditor, widget: QWidget) -> None:
    scroll = editor.findChild(QScrollArea)
    assert scroll is not None
    scroll.ensureWidgetVisible(widget, 0, 40)


def _save(qtbot: QtBot, editor: PromptEditor, ctx: ProjectContext, note: str) -> None:
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    dialog = editor.note_dialog
    assert dialog is not None, editor.notice.text()
    dialog.setTextValue(note)
    with qtbot.waitSignal(ctx.changed):
        dialog.accept()


def test_the_agent_shows_its_tools_and_choice(
    qtbot: QtBot, editor: PromptEditor, artifacts_dir: Path
) -> None:
    assert editor.extras.tabText(0) == "Tools (2)"
    assert [r.name.text() for r in editor.tools.rows] == ["lookup_order", "search_docs"]
    assert editor.tools.choice.currentText() == "auto"
    assert editor.tools.rows[0].schema.status.text() == "Valid JSON Schema."
    assert not editor.is_dirty
    editor.extras.setCurrentIndex(0)
    _reveal(editor, editor.tools.rows[1].schema.status)
    qtbot.wait(50)
    assert editor.grab().save(str(artifacts_dir / "tools_editor.png"))


def test_a_bad_schema_is_flagged_as_typed_with_line_and_path_and_blocks_saving(
    qtbot: QtBot, editor: PromptEditor, ctx: ProjectContext, artifacts_dir: Path
) -> None:
    schema = editor.tools.rows[0].schema
    text = schema.text().replace('"type": "string"', '"type": "strng"')
    schema.editor.setPlainText(text)
    status = schema.status.text()
    assert status.startswith("line 5, at properties/order_id/type:"), status
    assert "'strng' is not valid" in status
    assert editor.is_dirty
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert editor.note_dialog is None
    assert "tool 1 input schema, line 5" in editor.notice.text()
    _reveal(editor, schema.status)
    qtbot.wait(50)
    assert editor.grab().save(str(artifacts_dir / "tools_editor_error.png"))
    # The tools tab on its own, at a readable size: the inline check under the schema.
    editor.extras.resize(640, 900)
    assert editor.extras.grab().save(str(artifacts_dir / "tools_editor_error_panel.png"))
    schema.editor.setPlainText(text.replace("strng", "string") + "}")
    assert schema.status.text().startswith("line 14, column 2: Extra data")
    schema.editor.setPlainText(text.replace("strng", "string"))
    assert schema.status.text() == "Valid JSON Schema." and not editor.is_dirty
    assert len(ctx.require().prompts.get("support-agent").versions) == 1


def test_adding_a_tool_choosing_it_and_thinking_saves_a_version_with_them(
    qtbot: QtBot, editor: PromptEditor, ctx: ProjectContext
) -> None:
    qtbot.mouseClick(editor.tools.add_button, Qt.MouseButton.LeftButton)
    row = editor.tools.rows[2]
    qtbot.keyClicks(row.name, "escalate")
    row.description.setText("Hand the ticket to {{team}}.")
    assert editor.extras.tabText(0) == "Tools (3)"
    editor.tools.choice.setCurrentText("tool: escalate")
    assert "{{team}}" in [editor.variables.item(i).text() for i in range(editor.variables.count())]
    editor.extras.setCurrentIndex(1)
    editor.output.thinking.setCurrentText("Budget (enabled)")
    # Haiku 5.5 takes adaptive thinking only: the budget is kept but the editor says it is not sent.
    assert "does not accept enabled thinking" in editor.output.reasons.text()
    editor.output.thinking.setCurrentText("Adaptive")
    assert editor.output.reasons.isHidden()
    editor.output.effort.setCurrentText("low")
    editor.output.prefill.setText("Hi {{team}},")
    _save(qtbot, editor, ctx, "escalation tool")
    saved = ctx.require().prompts.resolve("support-agent", 2)
    assert [t.name for t in saved.tools] == ["lookup_order", "search_docs", "escalate"]
    assert saved.tools[2].input_schema == {"type": "object", "properties": {}, "required": []}
    assert saved.tool_choice is not None and saved.tool_choice.name == "escalate"
    assert saved.thinking is not None and saved.thinking.type == "adaptive"
    assert (saved.effort, saved.prefill) == ("low", "Hi {{team}},")
    # The untouched old tools are kept exactly.
    assert saved.tools[0] == ctx.require().prompts.resolve("support-agent", 1).tools[0]


def test_the_classifier_output_schema_round_trips_and_the_diff_is_structural(
    qtbot: QtBot, ctx: ProjectContext, artifacts_dir: Path
) -> None:
    editor = PromptEditor(ctx)
    qtbot.addWidget(editor)
    editor.resize(1100, 900)
    editor.show()
    assert editor.show_prompt("ticket-classifier", 1)
    editor.extras.setCurrentIndex(1)
    assert '"category"' in editor.output.schema.text() and not editor.is_dirty
    editor.output.schema.editor.setPlainText(
        editor.output.schema.text().replace('"feedback"', '"feedback", "spam"')
    )
    _save(qtbot, editor, ctx, "spam category")
    _reveal(editor, editor.output.prefill)
    qtbot.wait(50)
    assert editor.grab().save(str(artifacts_dir / "output_schema_editor.png"))
    editor.output.thinking.setCurrentText("Budget (enabled)")
    editor.extras.resize(640, 700)
    assert editor.extras.grab().save(str(artifacts_dir / "output_thinking_panel.png"))
    prompt = ctx.require().prompts.get("ticket-classifier")
    editor.diff.set_prompt(prompt) if hasattr(editor.diff, "set_prompt") else None
    editor.diff.show_pair(prompt.versions[0], prompt.versions[1])
    text = editor.diff.view.toPlainText()
    assert "Output schema" in text and "spam" in text and "Tool choice" in text


def test_schema_helpers() -> None:
    assert schema_errors("", allow_empty=True) == (None, None)
    assert schema_errors("[]", allow_empty=True)[1] == "line 1: a JSON Schema is an object ({...})"
    text = '{\n  "properties": {\n    "a": {\n      "minLength": -1\n    }\n  }\n}'
    assert line_of_path(text, ["properties", "a", "minLength"]) == 4
