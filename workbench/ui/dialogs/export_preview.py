"""The export dialog's output pane: the file text (Preview) and, when a file already exists at
the target, a coloured unified diff against it (Changes), ignoring the export time.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFontDatabase, QTextCharFormat, QTextCursor, QTextFormat
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QTabWidget, QTextEdit, QVBoxLayout, QWidget

from workbench.ui.theme import Theme, on_theme_change

MAX_DIFF_COLOURED_LINES = 20_000  # beyond this, colouring costs more than it tells
MAX_COMPARED_BYTES = 20_000_000  # a bigger file at the target is not an export of ours
PREVIEW_TAB, CHANGES_TAB = 0, 1
_EXPORTED_AT = re.compile(r'^(?:exported_at:|  "exported_at":).*$', re.MULTILINE)


# --- the diff against the file already at the target -----------------------------------------


@dataclass(frozen=True)
class ExportDiff:
    """A unified diff of old → new text and how many lines it adds and removes."""

    text: str
    added: int
    removed: int

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def same_export_time(old: str, new: str) -> str:
    """`old` with its top-level ``exported_at`` line replaced by the one in `new`.

    Only the top level is touched: a prompt's text never starts a line in JSON, and is indented
    in YAML, so it cannot match.
    """
    found = _EXPORTED_AT.search(new)
    if found is None:
        return old
    return _EXPORTED_AT.sub(lambda _m: found.group(0), old, count=1)


def export_diff(old: str, new: str, old_name: str, new_name: str) -> ExportDiff:
    """The unified diff between the file on disk and the new export, ignoring the export time."""
    lines = difflib.unified_diff(
        same_export_time(old, new).splitlines(),
        new.splitlines(),
        fromfile=old_name,
        tofile=new_name,
        lineterm="",
    )
    out = list(lines)
    body = [line for line in out if not line.startswith(("+++", "---"))]
    added = sum(1 for line in body if line.startswith("+"))
    removed = sum(1 for line in body if line.startswith("-"))
    return ExportDiff("\n".join(out), added, removed)


class DiffView(QPlainTextEdit):
    """Read-only, monospace, plain text; added lines green, removed red, hunks blue."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setAccessibleName("Changes against the file on disk")
        on_theme_change(self, self._set_formats)

    def _set_formats(self, theme: Theme) -> None:
        # Used from the next time the changes are shown after a theme switch.
        self._formats = {
            "+": _line_format(theme.good, theme.insert_bg),
            "-": _line_format(theme.bad, theme.delete_bg),
            "@": _line_format(theme.info, theme.hunk_bg),
        }

    def show_diff(self, text: str) -> None:
        """Show `text` (a unified diff) with full-width colour on changed lines."""
        self.setPlainText(text)
        selections: list[QTextEdit.ExtraSelection] = []
        block = self.document().firstBlock()
        while block.isValid() and len(selections) < MAX_DIFF_COLOURED_LINES:
            line = block.text()
            key = "@" if line.startswith("@@") else line[:1]
            if key in self._formats and not line.startswith(("+++", "---")):
                selection = QTextEdit.ExtraSelection()
                selection.format = self._formats[key]
                selection.cursor = QTextCursor(block)
                selections.append(selection)
            block = block.next()
        self.setExtraSelections(selections)


def _line_format(foreground: QColor, background: QColor) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(foreground)
    fmt.setBackground(background)
    fmt.setProperty(QTextFormat.Property.FullWidthSelection, True)
    return fmt


class ExportPreview(QTabWidget):
    """Preview (the file as it would be written) and Changes (the diff against the file)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.preview = QPlainTextEdit()
        self.preview.setReadOnly(True)
        self.preview.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.preview.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.preview.setAccessibleName("Preview of the exported file")
        self.diff_summary = QLabel()
        self.diff_summary.setTextFormat(Qt.TextFormat.PlainText)
        self.diff_summary.setWordWrap(True)
        self.diff_view = DiffView()
        self.diff_text: str | None = None  # the diff shown; None when there is nothing to compare
        changes = QWidget()
        layout = QVBoxLayout(changes)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.diff_summary)
        layout.addWidget(self.diff_view, 1)
        self.addTab(self.preview, "Preview")
        self.addTab(changes, "Changes")

    def show_export(self, text: str, target: Path | None) -> None:
        """Show `text` and its diff against the file at `target` (when there is one)."""
        scroll = self.preview.verticalScrollBar().value()
        self.preview.setPlainText(text)
        self.preview.verticalScrollBar().setValue(scroll)  # editing should not jump to the top
        self._show_diff(text, target)

    def scroll_to(self, name: str) -> None:
        """Bring prompt `name`'s entry to the top of the preview."""
        keys = (f'    "{name}": {{', f"  {name}:")  # JSON and YAML, at the prompts level
        block = self.preview.document().firstBlock()
        while block.isValid():
            if block.text() in keys:
                self.preview.verticalScrollBar().setValue(block.blockNumber())
                return
            block = block.next()

    def _show_diff(self, new_text: str, path: Path | None) -> None:
        self.diff_text = None
        if path is None or not path.is_file() or not new_text:
            self._set_changes(
                "Changes (no file yet)", "No file at the target yet: Export creates it."
            )
            return
        try:
            if path.stat().st_size > MAX_COMPARED_BYTES:
                raise ValueError("it is too big to be a production export")
            old_text = path.read_text("utf-8")
        except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
            why = getattr(exc, "strerror", None) or str(exc)
            self._set_changes(
                "Changes (?)", f"Cannot compare with {path}: {why}. Export replaces it."
            )
            return
        diff = export_diff(old_text, new_text, f"{path.name} (on disk)", f"{path.name} (new)")
        self.diff_text = diff.text
        if diff.changed:
            self._set_changes(
                f"Changes (+{diff.added} −{diff.removed})",
                f"Export replaces {path}: {diff.added} line(s) added, {diff.removed} removed "
                "(the export time is ignored).",
                diff.text,
            )
        else:
            self._set_changes(
                "Changes (none)",
                f"Same as {path}, apart from the export time: nothing else would change.",
            )

    def _set_changes(self, title: str, summary: str, diff: str = "") -> None:
        self.setTabText(CHANGES_TAB, title)
        self.diff_summary.setText(summary)
        self.diff_view.show_diff(diff)
