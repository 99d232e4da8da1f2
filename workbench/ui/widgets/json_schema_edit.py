"""A JSON Schema editor that checks as you type: JSON syntax, then the schema itself (draft
2020-12), with the problem's line and path under the text."""

from __future__ import annotations

import json
import re
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QVBoxLayout, QWidget

ERROR_STYLE = "color: #a2191f;"
OK_STYLE = "color: #24a148;"


def line_of_path(text: str, path: list[Any]) -> int:
    """The 1-based line where `path` (keys and indexes into the JSON) starts in `text`.

    A light scan, not a parser: each key is looked for after the previous one, which is right
    for the usual one-key-per-line layout and never worse than the first line.
    """
    position = 0
    for step in path:
        if isinstance(step, str):
            found = re.compile(r'"' + re.escape(step) + r'"\s*:').search(text, position)
            if found is None:
                break
            position = found.start()
    return text.count("\n", 0, position) + 1


def schema_errors(text: str, *, allow_empty: bool) -> tuple[dict[str, Any] | None, str | None]:
    """(the schema, None) when `text` is a valid JSON Schema, else (None, the problem).

    The problem reads ``line 3, at properties/id/type: 'strng' is not valid ...``.
    """
    if not text.strip():
        return (None, None) if allow_empty else (None, "line 1: a schema is needed, e.g. {}")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"line {exc.lineno}, column {exc.colno}: {exc.msg}"
    if not isinstance(value, dict):
        return None, "line 1: a JSON Schema is an object ({...})"
    try:
        Draft202012Validator.check_schema(value)
    except SchemaError as exc:
        path = list(exc.absolute_path)
        where = "/".join(str(p) for p in path) or "(root)"
        return None, f"line {line_of_path(text, path)}, at {where}: {exc.message}"
    return value, None


class JsonSchemaEdit(QWidget):
    """Monospaced JSON text plus a status line; `changed` on every edit."""

    changed = Signal()

    def __init__(
        self, name: str, *, allow_empty: bool, placeholder: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.allow_empty = allow_empty
        self.editor = QPlainTextEdit()
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.editor.setAccessibleName(name)
        self.editor.setPlaceholderText(placeholder)
        self.editor.setTabChangesFocus(True)
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.status.setAccessibleName(f"{name} check")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.status)
        self.editor.textChanged.connect(self._on_text)
        self._on_text()

    def text(self) -> str:
        return self.editor.toPlainText()

    def set_value(self, schema: dict[str, Any] | None) -> None:
        self.editor.setPlainText("" if schema is None else json.dumps(schema, indent=2))

    def problem(self) -> str | None:
        return schema_errors(self.text(), allow_empty=self.allow_empty)[1]

    def value(self) -> dict[str, Any] | None:
        """The schema (None when empty); raises ValueError with the problem when invalid."""
        schema, problem = schema_errors(self.text(), allow_empty=self.allow_empty)
        if problem:
            raise ValueError(problem)
        return schema

    def set_read_only(self, read_only: bool) -> None:
        self.editor.setReadOnly(read_only)

    def _on_text(self) -> None:
        problem = self.problem()
        if problem:
            self.status.setStyleSheet(ERROR_STYLE)
            self.status.setText(problem)
        elif self.text().strip():
            self.status.setStyleSheet(OK_STYLE)
            self.status.setText("Valid JSON Schema.")
        else:
            self.status.setStyleSheet("color: #6f6f6f;")
            self.status.setText("None.")
        self.changed.emit()
