"""The editable list of prompt messages: role, text with `{{var}}` highlighting, add/remove."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from workbench.core.models import Message
from workbench.ui.widgets.highlighter import VariableHighlighter

ROLES = ("user", "assistant")


def make_text_editor(name: str, placeholder: str = "") -> QPlainTextEdit:
    """A plain-text editor for prompt text, with variable highlighting."""
    editor = QPlainTextEdit()
    editor.setAccessibleName(name)
    editor.setPlaceholderText(placeholder)
    editor.setTabChangesFocus(True)  # Tab moves on, so the whole editor is keyboard-reachable
    editor.setMinimumHeight(editor.fontMetrics().lineSpacing() * 4 + 12)
    editor.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont)
    editor.setFont(font)
    editor.highlighter = VariableHighlighter(editor.document())  # type: ignore[attr-defined]
    return editor


class MessageRow(QFrame):
    """One message: a role, a cache marker, a remove button and the text."""

    changed = Signal()
    remove_requested = Signal(object)

    def __init__(self, index: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel()
        self.role = QComboBox()
        self.role.addItems(ROLES)
        self.role.setAccessibleName("Role")
        self.cache = QCheckBox("cache")
        self.cache.setToolTip("Mark the prompt up to this message for prompt caching")
        self.remove = QPushButton("Remove")
        self.remove.setToolTip("Remove this message")
        self.editor = make_text_editor(
            "Message text", "Message text; {{variables}} are filled per example"
        )
        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addWidget(self.role)
        header.addStretch(1)
        header.addWidget(self.cache)
        header.addWidget(self.remove)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 6)
        layout.addLayout(header)
        layout.addWidget(self.editor)
        self.set_index(index)
        self.role.currentTextChanged.connect(self.changed)
        self.cache.toggled.connect(self.changed)
        self.editor.textChanged.connect(self.changed)
        self.remove.clicked.connect(lambda: self.remove_requested.emit(self))

    def set_index(self, index: int) -> None:
        self.title.setText(f"Message {index + 1}" + (" (blocks, JSON)" if self.blocks else ""))
        self.editor.setAccessibleName(f"Message {index + 1} text")

    # A message of blocks (image, document, tool_use, tool_result) is edited as their JSON list.
    blocks = False

    def set_blocks(self, blocks: list[Any]) -> None:
        self.blocks = True
        self.editor.setPlainText(
            json.dumps([b.model_dump(mode="json") for b in blocks], indent=2, ensure_ascii=False)
        )
        self.title.setText(self.title.text() + " (blocks, JSON)")

    def parsed_content(self) -> tuple[Any, str | None]:
        """(content, problem): the text, or for a blocks message the parsed list."""
        text = self.editor.toPlainText()
        if not self.blocks:
            return text, None
        try:
            return json.loads(text), None
        except json.JSONDecodeError as exc:
            return text, f"{self.title.text()}: line {exc.lineno}, column {exc.colno}: {exc.msg}"

    def value(self) -> dict[str, Any]:
        return {
            "role": self.role.currentText(),
            "content": self.parsed_content()[0],
            "cache": self.cache.isChecked(),
        }


class MessageList(QWidget):
    """Message rows plus an "Add message" button; `changed` on any edit."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[MessageRow] = []
        self._read_only = False
        self.add_button = QPushButton("Add message")
        self.add_button.setToolTip("Add a message (alternating user / assistant)")
        self.add_button.clicked.connect(self._on_add)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addWidget(self.add_button)

    def set_messages(self, messages: list[Message]) -> None:
        """Replace every row (no `changed` per row)."""
        for row in self.rows:
            self._drop(row)
        self.rows = []
        for message in messages:
            self._append(message.role, message.content, message.cache)
        self._sync()

    def values(self) -> list[dict[str, Any]]:
        return [row.value() for row in self.rows]

    def block_problem(self) -> str | None:
        """The first blocks message whose JSON does not parse, as one sentence."""
        return next((p for r in self.rows if (p := r.parsed_content()[1])), None)

    def texts(self) -> list[str]:
        """Template texts of the messages (text blocks and tool results of block messages)."""
        out: list[str] = []
        for row in self.rows:
            content = row.parsed_content()[0]
            if isinstance(content, str):
                out.append(content)
            elif isinstance(content, list):
                out += [
                    str(b.get("text") or b.get("content") or "")
                    for b in content
                    if isinstance(b, dict)
                ]
        return out

    def add_message(self, role: str | None = None, content: str = "") -> MessageRow:
        """Append a message; by default the role after the last one's."""
        if role is None:
            last = self.rows[-1].role.currentText() if self.rows else "assistant"
            role = "assistant" if last == "user" else "user"
        row = self._append(role, content, False)
        self._sync()
        self.changed.emit()
        return row

    def remove_message(self, row: MessageRow) -> None:
        if len(self.rows) <= 1:
            return  # a prompt needs at least one message
        self.rows.remove(row)
        self._drop(row)
        self._sync()
        self.changed.emit()

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
        self._sync()

    def _drop(self, row: MessageRow) -> None:
        # Hide first: a visible widget taken out of its parent would flash up as a window.
        row.hide()
        self._layout.removeWidget(row)
        row.deleteLater()

    def _append(self, role: str, content: str | list[Any], cache: bool) -> MessageRow:
        row = MessageRow(len(self.rows), self)
        row.role.setCurrentText(role)
        if isinstance(content, str):
            row.editor.setPlainText(content)
        else:
            row.set_blocks(content)
        row.cache.setChecked(cache)
        row.changed.connect(self.changed)
        row.remove_requested.connect(self.remove_message)
        self.rows.append(row)
        self._layout.insertWidget(self._layout.count() - 1, row)
        return row

    def _sync(self) -> None:
        for i, row in enumerate(self.rows):
            row.set_index(i)
            row.editor.setReadOnly(self._read_only)
            row.role.setEnabled(not self._read_only)
            row.cache.setEnabled(not self._read_only)
            row.remove.setEnabled(not self._read_only and len(self.rows) > 1)
            row.remove.setToolTip(
                "A prompt needs at least one message"
                if len(self.rows) <= 1
                else "Remove this message"
            )
        self.add_button.setEnabled(not self._read_only)

    def _on_add(self) -> None:
        row = self.add_message()
        row.editor.setFocus()
