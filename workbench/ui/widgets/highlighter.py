"""`{{variable}}` highlighting for prompt text editors."""

from __future__ import annotations

import re

from PySide6.QtGui import QFont, QSyntaxHighlighter, QTextCharFormat, QTextDocument

from workbench.core.templates import NAME
from workbench.ui.theme import Theme, on_theme_change

# The same grammar as core.templates: an escaped "\{{" is literal text, not a variable.
_TOKEN = re.compile(r"\\\{\{|\{\{\s*(" + NAME + r")\s*\}\}")


def variable_spans(text: str) -> list[tuple[int, int, str | None]]:
    """(start, length, name) of each variable in `text`; name is None for a ``\\{{`` escape."""
    return [(m.start(), m.end() - m.start(), m.group(1)) for m in _TOKEN.finditer(text)]


class VariableHighlighter(QSyntaxHighlighter):
    """Colours ``{{name}}`` slots (bold, tinted background) and dims ``\\{{`` escapes."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self.variable_format = QTextCharFormat()
        self.variable_format.setFontWeight(QFont.Weight.Bold)
        self.escape_format = QTextCharFormat()
        on_theme_change(self, self._set_formats)

    def _set_formats(self, theme: Theme) -> None:
        self.variable_format.setForeground(theme.accent)
        self.variable_format.setBackground(theme.accent_bg)
        self.escape_format.setForeground(theme.faint)
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:  # noqa: N802 - Qt override
        # Variables never span lines (NAME has no newline), so block-by-block is exact.
        for start, length, name in variable_spans(text):
            self.setFormat(start, length, self.variable_format if name else self.escape_format)
