"""Two prompt versions side by side, with a word-level diff: deletions struck out in red on the
left, insertions in green on the right. Read-only; text goes in as plain text, never HTML.
"""

from __future__ import annotations

import json
import re
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import (
    QFont,
    QTextCharFormat,
    QTextCursor,
    QTextLength,
    QTextTable,
    QTextTableFormat,
)
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QTextEdit, QVBoxLayout, QWidget

from workbench.core.diff import word_diff
from workbench.core.models import Params, Prompt, PromptVersion
from workbench.ui.theme import Theme, current_theme, on_theme_change

_WORD = re.compile(r"\w+")


def _visible(piece: str) -> str:
    """A changed line break is invisible as such; show it as "↵" before the break."""
    return piece.replace("\n", "↵\n") if piece.isspace() else piece


def params_text(params: Params) -> str:
    """Parameters one per line, unset ones shown as such, for diffing."""
    lines = [f"model: {params.model}", f"max_tokens: {params.max_tokens}"]
    for key in ("temperature", "top_p", "top_k"):
        value = getattr(params, key)
        lines.append(f"{key}: {'(not set)' if value is None else value}")
    stops = ", ".join(repr(s) for s in params.stop_sequences) or "(none)"
    lines.append(f"stop_sequences: {stops}")
    if params.cache_system:
        lines.append("cache_system: yes")
    return "\n".join(lines)


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return _pretty([b.model_dump(mode="json") for b in content])


def extras_sections(version: PromptVersion | None, tool_names: list[str]) -> list[tuple[str, str]]:
    """One section per tool (by name, so the same tool lines up), then tool_choice, output
    schema, thinking and prefill: the diff compares them field by field, not as one blob."""
    tools = {t.name: t for t in version.tools} if version else {}
    out = []
    for name in tool_names:
        tool = tools.get(name)
        text = "" if tool is None else f"{tool.description}\n{_pretty(tool.input_schema)}"
        out.append((f"Tool {name}" + ("" if tool else " (absent)"), text))
    if version is None:
        return out + [("Tool choice", ""), ("Output schema", ""), ("Thinking", ""), ("Prefill", "")]
    choice = version.tool_choice
    thinking = version.thinking.to_api() if version.thinking else None
    thinking_text = "" if thinking is None else _pretty(thinking)
    if version.effort:
        thinking_text += f"\neffort: {version.effort}"
    out += [
        ("Tool choice", "" if choice is None else _pretty(choice.to_api())),
        ("Output schema", "" if version.output_schema is None else _pretty(version.output_schema)),
        ("Thinking", thinking_text.strip()),
        ("Prefill", version.prefill),
    ]
    return out


def sections(
    version: PromptVersion | None, count: int, tool_names: list[str] | None = None
) -> list[tuple[str, str]]:
    """(heading, text) for system, `count` message slots and params; missing slots are empty.

    With `tool_names` (the tools of both sides), tools, schemas and thinking follow.
    """
    extras = extras_sections(version, tool_names) if tool_names is not None else []
    if version is None:
        return [
            ("System", ""),
            *((f"Message {i + 1}", "") for i in range(count)),
            ("Parameters", ""),
            *extras,
        ]
    out = [("System", version.system)]
    for i in range(count):
        if i < len(version.messages):
            message = version.messages[i]
            out.append((f"Message {i + 1} ({message.role})", _content_text(message.content)))
        else:
            out.append((f"Message {i + 1} (absent)", ""))
    out.append(("Parameters", params_text(version.params)))
    return out + extras


class VersionDiff(QWidget):
    """Pick two versions of a prompt and see their word-level differences side by side.

    One read-only QTextEdit holds a two-column table with a row per section (system, each
    message, parameters), so matching sections always stay level however long either side is.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._prompt: Prompt | None = None
        self._table: QTextTable | None = None
        self.left_combo = QComboBox()
        self.right_combo = QComboBox()
        self.left_combo.setAccessibleName("Older version")
        self.right_combo.setAccessibleName("Newer version")
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Compare"))
        bar.addWidget(self.left_combo)
        bar.addWidget(QLabel("with"))
        bar.addWidget(self.right_combo)
        bar.addWidget(self.summary, 1)
        self.view = QTextEdit()
        self.view.setReadOnly(True)
        self.view.setAcceptRichText(False)
        self.view.setAccessibleName(
            "Version diff: deletions struck out in red on the left, insertions in green on the right"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        self.left_combo.currentIndexChanged.connect(self._on_pick)
        self.right_combo.currentIndexChanged.connect(self._on_pick)

        self.plain = QTextCharFormat()
        self.heading = QTextCharFormat()
        self.heading.setFontWeight(QFont.Weight.Bold)
        self.deleted = QTextCharFormat()
        self.deleted.setFontStrikeOut(True)
        self.inserted = QTextCharFormat()
        on_theme_change(self, self._apply_theme)

    def _apply_theme(self, theme: Theme) -> None:
        # Takes effect from the next comparison drawn.
        self.heading.setForeground(theme.muted)
        self.deleted.setForeground(theme.bad)
        self.deleted.setBackground(theme.delete_bg)
        self.inserted.setForeground(theme.good)
        self.inserted.setBackground(theme.insert_bg)

    def set_prompt(self, prompt: Prompt, left: int | None = None, right: int | None = None) -> None:
        """Offer `prompt`'s versions; compare `left` with `right` (default: the last two)."""
        self._prompt = prompt
        numbers = [v.version for v in prompt.versions]
        if right is None:
            right = numbers[-1] if numbers else None
        if left is None:
            older = [n for n in numbers if right is None or n < right]
            left = older[-1] if older else right
        for combo, chosen in ((self.left_combo, left), (self.right_combo, right)):
            combo.blockSignals(True)
            combo.clear()
            for version in prompt.versions:
                labels = [k for k, v in prompt.labels.items() if v == version.version]
                text = f"v{version.version}" + (f"  {', '.join(labels)}" if labels else "")
                combo.addItem(text, version.version)
            combo.setCurrentIndex(max(0, combo.findData(chosen)))
            combo.blockSignals(False)
        self._on_pick()

    def _version(self, combo: QComboBox) -> PromptVersion | None:
        if self._prompt is None:
            return None
        number = combo.currentData()
        return next((v for v in self._prompt.versions if v.version == number), None)

    def _on_pick(self) -> None:
        self.show_pair(self._version(self.left_combo), self._version(self.right_combo))

    def show_pair(self, left: PromptVersion | None, right: PromptVersion | None) -> None:
        """Render the diff of two versions (either may be None: shown as empty)."""
        count = max(len(v.messages) if v else 0 for v in (left, right))
        names = list(dict.fromkeys(t.name for v in (left, right) if v for t in v.tools))
        uses_extras = any(v is not None and v.uses_later_fields() for v in (left, right))
        tools = names if uses_extras else None
        pairs = list(zip(sections(left, count, tools), sections(right, count, tools), strict=True))
        self.view.clear()
        cursor = QTextCursor(self.view.document())
        table_format = QTextTableFormat()
        table_format.setColumnWidthConstraints(
            [QTextLength(QTextLength.Type.PercentageLength, 50)] * 2
        )
        table_format.setCellPadding(6)
        table_format.setCellSpacing(0)
        table_format.setBorder(0.5)
        table_format.setBorderBrush(current_theme().border)
        table_format.setWidth(QTextLength(QTextLength.Type.PercentageLength, 100))
        table = cursor.insertTable(len(pairs) + 1, 2, table_format)
        self._table = table
        names = [f"v{v.version}" if v else "—" for v in (left, right)]
        for column, name in enumerate(names):
            table.cellAt(0, column).firstCursorPosition().insertText(name, self.heading)
        deleted = inserted = 0
        for row, ((heading_a, text_a), (heading_b, text_b)) in enumerate(pairs, start=1):
            left_cursor = table.cellAt(row, 0).firstCursorPosition()
            right_cursor = table.cellAt(row, 1).firstCursorPosition()
            left_cursor.insertText(heading_a + "\n", self.heading)
            right_cursor.insertText(heading_b + "\n", self.heading)
            for op, piece in word_diff(text_a, text_b):
                if op == "equal":
                    left_cursor.insertText(piece, self.plain)
                    right_cursor.insertText(piece, self.plain)
                elif op == "delete":
                    left_cursor.insertText(_visible(piece), self.deleted)
                    deleted += len(_WORD.findall(piece))
                else:
                    right_cursor.insertText(_visible(piece), self.inserted)
                    inserted += len(_WORD.findall(piece))
        self.summary.setText(
            f"  {names[0]} → {names[1]}: "
            + (f"+{inserted} / −{deleted} words" if inserted or deleted else "no differences")
        )
        self.view.moveCursor(QTextCursor.MoveOperation.Start)

    def side_text(self, column: int) -> str:
        """The plain text of one side (0: left, 1: right), for tests and copying."""
        if self._table is None:
            return ""
        parts = []
        for row in range(1, self._table.rows()):
            cell = self._table.cellAt(row, column)
            cursor = cell.firstCursorPosition()
            cursor.setPosition(
                cell.lastCursorPosition().position(), QTextCursor.MoveMode.KeepAnchor
            )
            parts.append(cursor.selectedText().replace("\u2029", "\n"))
        return "\n\n".join(parts)

    def formats_in(self, column: int) -> list[tuple[str, QTextCharFormat]]:
        """(text, format) fragments of one side: lets tests check what is red or green."""
        if self._table is None:
            return []
        out = []
        for row in range(1, self._table.rows()):
            cell = self._table.cellAt(row, column)
            block = cell.firstCursorPosition().block()
            end = cell.lastCursorPosition().position()
            while block.isValid() and block.position() <= end:
                it = block.begin()
                while not it.atEnd():
                    fragment = it.fragment()
                    if fragment.isValid():
                        out.append((fragment.text(), fragment.charFormat()))
                    it += 1
                block = block.next()
        return out
