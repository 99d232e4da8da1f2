"""Paints run-grid cells as at most N lines: wrapped at word boundaries to the column width, the
last visible line elided with "…" instead of being cut in half by the row's edge."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QTextLayout, QTextOption
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem

ELLIPSIS = "…"
DIFFERS_COLOUR = QColor("#8a3ffc")
DIFFERS_BAR_PX = 4


def fit_lines(text: str, font: QFont, width: int, max_lines: int) -> str:
    """`text` wrapped to `width` pixels, cut to `max_lines` lines, the last one elided if cut."""
    lines: list[str] = []
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    truncated = False
    for paragraph in text.replace("\u2028", "\n").split("\n"):
        if len(lines) >= max_lines:
            truncated = True
            break
        layout = QTextLayout(paragraph, font)
        layout.setTextOption(option)
        layout.beginLayout()
        while True:
            line = layout.createLine()
            if not line.isValid():
                break
            line.setLineWidth(width)
            if len(lines) >= max_lines:
                truncated = True
                break
            start, length = line.textStart(), line.textLength()
            lines.append(paragraph[start : start + length].rstrip())
        layout.endLayout()
    if truncated and lines:
        metrics = QFontMetrics(font)
        lines[-1] = metrics.elidedText(
            lines[-1] + " " + ELLIPSIS, Qt.TextElideMode.ElideRight, width
        )
        if not lines[-1].endswith(ELLIPSIS):
            lines[-1] = metrics.elidedText(
                lines[-1] + ELLIPSIS * 8, Qt.TextElideMode.ElideRight, width
            )
    # U+2028: the style lays out a line separator as a break; a raw "\n" would vanish.
    return "\u2028".join(lines)


class GridCellDelegate(QStyledItemDelegate):
    """Pre-wraps the display text so the style draws whole lines only; a cell whose `differs_role`
    is true gets a bar down its left edge (its output differs from the first column's)."""

    def __init__(self, max_lines: int, parent: object = None, *, differs_role: int = -1) -> None:
        super().__init__(parent)  # type: ignore[arg-type]
        self.max_lines = max_lines
        self.differs_role = differs_role

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        self.initStyleOption(option, index)
        widget = option.widget
        style = widget.style() if widget is not None else None
        if style is None:
            super().paint(painter, option, index)
            return
        differs = self.differs_role >= 0 and bool(index.data(self.differs_role))
        bar = option.rect.adjusted(0, 0, 0, 0)
        if differs:  # the bar takes the cell's left edge; the text moves right of it
            bar.setWidth(DIFFERS_BAR_PX)
            option.rect = option.rect.adjusted(DIFFERS_BAR_PX, 0, 0, 0)
        text_rect = style.subElementRect(style.SubElement.SE_ItemViewItemText, option, widget)
        # A few pixels of slack so the style's own wrapping never breaks one of our lines again.
        width = max(10, text_rect.width() - 6)
        option.text = fit_lines(option.text, option.font, width, self.max_lines)
        style.drawControl(style.ControlElement.CE_ItemViewItem, option, painter, widget)
        if differs:
            painter.fillRect(bar, DIFFERS_COLOUR)
