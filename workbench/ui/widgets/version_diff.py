"""Two prompt versions side by side, with a word-level diff: deletions struck out in red on the
left, insertions in green on the right. Read-only; text goes in as plain text, never HTML.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from workbench.core.diff import word_diff
from workbench.core.models import Params, Prompt, PromptVersion


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


def sections(version: PromptVersion | None, count: int) -> list[tuple[str, str]]:
    """(heading, text) for system, `count` message slots and params; missing slots are empty."""
    if version is None:
        return [
            ("System", ""),
            *((f"Message {i + 1}", "") for i in range(count)),
            ("Parameters", ""),
        ]
    out = [("System", version.system)]
    for i in range(count):
        if i < len(version.messages):
            message = version.messages[i]
            out.append((f"Message {i + 1} ({message.role})", message.content))
        else:
            out.append((f"Message {i + 1} (absent)", ""))
    out.append(("Parameters", params_text(version.params)))
    return out


class VersionDiff(QWidget):
    """Pick two versions of a prompt and see their word-level differences side by side."""

    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._prompt: Prompt | None = None
        self.left_combo = QComboBox()
        self.right_combo = QComboBox()
        self.left_combo.setAccessibleName("Older version")
        self.right_combo.setAccessibleName("Newer version")
        self.summary = QLabel()
        self.back_button = QPushButton("Back to editor")
        self.back_button.setToolTip("Close the comparison and return to the editor (Ctrl+D)")
        self.back_button.clicked.connect(self.closed)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Compare"))
        bar.addWidget(self.left_combo)
        bar.addWidget(QLabel("with"))
        bar.addWidget(self.right_combo)
        bar.addWidget(self.summary, 1)
        bar.addWidget(self.back_button)

        self.left_view = self._make_view("Left: the older version; deletions struck out in red")
        self.right_view = self._make_view("Right: the newer version; insertions in green")
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.left_view)
        splitter.addWidget(self.right_view)
        splitter.setChildrenCollapsible(False)
        # Scrolling one side scrolls the other, so matching sections stay level.
        left_bar, right_bar = (
            self.left_view.verticalScrollBar(),
            self.right_view.verticalScrollBar(),
        )
        left_bar.valueChanged.connect(right_bar.setValue)
        right_bar.valueChanged.connect(left_bar.setValue)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(splitter, 1)
        self.left_combo.currentIndexChanged.connect(self._on_pick)
        self.right_combo.currentIndexChanged.connect(self._on_pick)

        self.plain = QTextCharFormat()
        self.heading = QTextCharFormat()
        self.heading.setFontWeight(QFont.Weight.Bold)
        self.heading.setForeground(QColor("#525252"))
        self.deleted = QTextCharFormat()
        self.deleted.setForeground(QColor("#a2191f"))
        self.deleted.setBackground(QColor("#ffd7d9"))
        self.deleted.setFontStrikeOut(True)
        self.inserted = QTextCharFormat()
        self.inserted.setForeground(QColor("#0e6027"))
        self.inserted.setBackground(QColor("#c8f0d2"))

    @staticmethod
    def _make_view(name: str) -> QTextEdit:
        view = QTextEdit()
        view.setReadOnly(True)
        view.setAcceptRichText(False)
        view.setAccessibleName(name)
        view.setLineWrapMode(QTextEdit.LineWrapMode.WidgetWidth)
        return view

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
        self.left_view.clear()
        self.right_view.clear()
        left_cursor = QTextCursor(self.left_view.document())
        right_cursor = QTextCursor(self.right_view.document())
        changes = 0
        for (heading_a, text_a), (heading_b, text_b) in zip(
            sections(left, count), sections(right, count), strict=True
        ):
            if left_cursor.position() > 0:
                left_cursor.insertText("\n\n", self.plain)
                right_cursor.insertText("\n\n", self.plain)
            left_cursor.insertText(heading_a + "\n", self.heading)
            right_cursor.insertText(heading_b + "\n", self.heading)
            for op, piece in word_diff(text_a, text_b):
                if op == "equal":
                    left_cursor.insertText(piece, self.plain)
                    right_cursor.insertText(piece, self.plain)
                elif op == "delete":
                    left_cursor.insertText(piece, self.deleted)
                    changes += 1
                else:
                    right_cursor.insertText(piece, self.inserted)
                    changes += 1
        names = [f"v{v.version}" if v else "—" for v in (left, right)]
        self.summary.setText(
            f"  {names[0]} → {names[1]}: "
            + (f"{changes} change(s)" if changes else "no differences")
        )
        self.left_view.moveCursor(QTextCursor.MoveOperation.Start)
        self.right_view.moveCursor(QTextCursor.MoveOperation.Start)
