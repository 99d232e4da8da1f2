"""The inspector's view of what a call returned besides its text: tool calls with pretty
arguments, and the thinking, folded by default under a title with its token count."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QLabel,
    QPlainTextEdit,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.services.call_details_text import structured_text, thinking_title, tool_calls_text


class CallDetailsView(QWidget):
    """Hidden for a call with neither tool calls, structured output nor thinking."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tools = QLabel()
        self.tools.setTextFormat(Qt.TextFormat.PlainText)
        self.tools.setWordWrap(True)
        self.tools.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tools.setAccessibleName("Tool calls")
        self.tools.setStyleSheet(
            "font-family: monospace; background: #e5f6ff; color: #003a6d; padding: 4px;"
        )
        self.structured = QLabel()
        self.structured.setTextFormat(Qt.TextFormat.PlainText)
        self.structured.setWordWrap(True)
        self.structured.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.structured.setAccessibleName("Structured output")
        self.structured.setStyleSheet("font-family: monospace; background: #defbe6; padding: 4px;")
        self.fold = QToolButton()
        self.fold.setCheckable(True)
        self.fold.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.fold.setArrowType(Qt.ArrowType.RightArrow)
        self.fold.setAccessibleName("Show thinking")
        self.fold.toggled.connect(self._on_fold)
        self.thinking = QPlainTextEdit()
        self.thinking.setReadOnly(True)
        self.thinking.setAccessibleName("Thinking")
        self.thinking.setMaximumHeight(self.fontMetrics().lineSpacing() * 10)
        # Only as tall as what it shows: the response tabs below take the rest.
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tools)
        layout.addWidget(self.structured)
        layout.addWidget(self.fold)
        layout.addWidget(self.thinking)
        self.show_details(None, "")

    def show_details(self, details: dict[str, Any] | None, output: str) -> None:
        tools = tool_calls_text(details)
        self.tools.setText(tools)
        self.tools.setVisible(bool(tools))
        shown = structured_text(output)
        self.structured.setText(f"structured output\n{shown}" if shown else "")
        self.structured.setVisible(shown is not None)
        thinking = (details or {}).get("thinking") or ""
        self.thinking.setPlainText(thinking)
        self.fold.setText(thinking_title(details))
        self.fold.setVisible(bool(thinking))
        self.fold.setChecked(False)
        self._on_fold(False)
        self.setVisible(bool(tools or shown is not None or thinking))

    def _on_fold(self, shown: bool) -> None:
        self.fold.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        self.thinking.setVisible(shown and bool(self.thinking.toPlainText()))
