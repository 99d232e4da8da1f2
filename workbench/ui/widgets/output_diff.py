"""Two outputs side by side with a word diff: deletions struck out in red on the left,
insertions in green on the right. Plain text inserted with character formats — never HTML."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from workbench.core.diff import word_diff
from workbench.ui.theme import Theme, on_theme_change


def _view(name: str) -> QTextEdit:
    view = QTextEdit()
    view.setReadOnly(True)
    view.setAcceptRichText(False)
    view.setAccessibleName(name)
    return view


class OutputDiff(QWidget):
    """Compare two cells' outputs; `closed` when the user dismisses it."""

    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.left_title = QLabel()
        self.right_title = QLabel()
        for label in (self.left_title, self.right_title):
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setStyleSheet("font-weight: bold;")
        self.close_button = QPushButton("Close comparison")
        self.close_button.setToolTip("Hide the comparison (Esc)")
        self.close_button.clicked.connect(lambda: self.closed.emit())
        self.left = _view("Left output; words only here are struck out in red")
        self.right = _view("Right output; words only here are green")
        bar = QHBoxLayout()
        bar.addWidget(self.summary, 1)
        bar.addWidget(self.close_button)
        left_box, right_box = QWidget(), QWidget()
        for box, title, view in (
            (left_box, self.left_title, self.left),
            (right_box, self.right_title, self.right),
        ):
            inner = QVBoxLayout(box)
            inner.setContentsMargins(0, 0, 0, 0)
            inner.addWidget(title)
            inner.addWidget(view)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left_box)
        splitter.addWidget(right_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(splitter, 1)
        left_bar, right_bar = self.left.verticalScrollBar(), self.right.verticalScrollBar()
        left_bar.valueChanged.connect(right_bar.setValue)
        right_bar.valueChanged.connect(left_bar.setValue)

        self.plain = QTextCharFormat()
        self.deleted = QTextCharFormat()
        self.deleted.setFontStrikeOut(True)
        self.inserted = QTextCharFormat()
        self._shown: tuple[str, str, str, str] | None = None
        # A theme switch redraws the comparison on screen in the new colours.
        on_theme_change(self, self._set_formats)

    def _set_formats(self, theme: Theme) -> None:
        self.deleted.setForeground(theme.bad)
        self.deleted.setBackground(theme.delete_bg)
        self.inserted.setForeground(theme.good)
        self.inserted.setBackground(theme.insert_bg)
        if self._shown is not None:
            self.compare(*self._shown)

    def compare(self, left_title: str, left: str, right_title: str, right: str) -> int:
        """Show the word diff of two texts; returns the number of changed pieces."""
        self._shown = (left_title, left, right_title, right)
        self.left_title.setText(left_title)
        self.right_title.setText(right_title)
        self.left.clear()
        self.right.clear()
        left_cursor = QTextCursor(self.left.document())
        right_cursor = QTextCursor(self.right.document())
        changes = 0
        for op, piece in word_diff(left, right):
            if op == "equal":
                left_cursor.insertText(piece, self.plain)
                right_cursor.insertText(piece, self.plain)
            elif op == "delete":
                left_cursor.insertText(piece, self.deleted)
                changes += 1
            else:
                right_cursor.insertText(piece, self.inserted)
                changes += 1
        self.summary.setText(
            f"Word diff: {changes} change(s)" if changes else "Word diff: the outputs are identical"
        )
        self.left.moveCursor(QTextCursor.MoveOperation.Start)
        self.right.moveCursor(QTextCursor.MoveOperation.Start)
        return changes
