"""The two small editors the labeling keys open: T (tag picker) and N (note).

Each opens window-modal without blocking (`open()`), and on OK writes the label through
`project.labels` in one call, then announces `("labels", call_id)`.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from workbench.ui.context import Change, ProjectContext
from workbench.ui.operations import ProjectOp
from workbench.ui.theme import themed_style


def _error_label() -> QLabel:
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    themed_style(label, lambda t: f"color: {t.bad.name()};")
    label.setVisible(False)
    return label


class TagPicker(QDialog):
    """A checkable list of the project's failure tags, plus a field to add a new one."""

    saved = Signal(int)

    def __init__(self, ctx: ProjectContext, call_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.call_id = call_id
        self.setWindowTitle(f"Failure tags of call #{call_id}")
        labels = ctx.require().labels
        current = labels.get(call_id)
        chosen = set(current.tags) if current else set()
        self.list = QListWidget()
        self.list.setAccessibleName("Failure tags")
        for tag in labels.tags():
            self._add_item(tag.name, tag.name in chosen, tag.description)
        self.empty = QLabel("No failure tags yet: type one below and press Enter.")
        self.empty.setVisible(self.list.count() == 0)
        self.new_tag = QLineEdit()
        self.new_tag.setPlaceholderText("New tag… (Enter adds it)")
        self.new_tag.setAccessibleName("New failure tag")
        self.new_tag.installEventFilter(self)
        add = QPushButton("&Add")
        add.setAutoDefault(False)
        add.clicked.connect(self.add_new_tag)
        row = QHBoxLayout()
        row.addWidget(self.new_tag, 1)
        row.addWidget(add)
        self.error = _error_label()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Space ticks a tag; Enter saves."))
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty)
        layout.addLayout(row)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(340, 360)
        if self.list.count():
            self.list.setCurrentRow(0)
            self.list.setFocus()
        else:
            self.new_tag.setFocus()

    def _add_item(self, name: str, checked: bool, description: str = "") -> QListWidgetItem:
        item = QListWidgetItem(name)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        if description:
            item.setToolTip(description)
        self.list.addItem(item)
        return item

    def checked(self) -> list[str]:
        items = (self.list.item(i) for i in range(self.list.count()))
        return [i.text() for i in items if i.checkState() == Qt.CheckState.Checked]

    def add_new_tag(self) -> bool:
        """Add the typed tag to the project's list, ticked (in the background); False if empty.

        A refused name is shown under the list with the reason."""
        name = self.new_tag.text()
        if not name.strip():
            return False
        ProjectOp(
            self, self.ctx, lambda project: project.labels.add_tag(name), change=Change.LABELS
        ).success(lambda tag: self._tick_new_tag(tag.name)).failure(self._show_error).run()
        return True

    def _tick_new_tag(self, tag: str) -> None:
        found = self.list.findItems(tag, Qt.MatchFlag.MatchExactly)
        item = found[0] if found else self._add_item(tag, True)
        item.setCheckState(Qt.CheckState.Checked)
        self.list.setCurrentItem(item)
        self.new_tag.clear()
        self.empty.setVisible(False)
        self.error.setVisible(False)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        # Enter in the new-tag field adds the tag instead of closing the dialog.
        if (
            watched is self.new_tag
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and self.new_tag.text().strip()
        ):
            self.add_new_tag()
            return True
        return super().eventFilter(watched, event)

    def accept(self) -> None:
        call_id, tags = self.call_id, self.checked()
        ProjectOp(
            self,
            self.ctx,
            lambda project: project.labels.set_label(call_id, tags=tags),
            change=Change.LABELS,
            detail=call_id,
        ).success(lambda _: self._saved()).failure(self._show_error).run()

    def _saved(self) -> None:
        self.saved.emit(self.call_id)
        super().accept()

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(True)


class NoteEditor(QDialog):
    """A free-text note on a call; Ctrl+Enter saves, Esc cancels."""

    saved = Signal(int)

    def __init__(self, ctx: ProjectContext, call_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.call_id = call_id
        self.setWindowTitle(f"Note on call #{call_id}")
        current = ctx.require().labels.get(call_id)
        self.text = QPlainTextEdit(current.note if current else "")
        self.text.setAccessibleName("Note")
        self.text.setPlaceholderText("What is wrong or right with this output?")
        self.text.setTabChangesFocus(True)
        self.error = _error_label()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Ctrl+Enter saves; an empty note removes it."))
        layout.addWidget(self.text, 1)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(460, 260)
        self.text.setFocus()
        self.text.moveCursor(self.text.textCursor().MoveOperation.End)

    def accept(self) -> None:
        call_id, note = self.call_id, self.text.toPlainText().strip()
        ProjectOp(
            self,
            self.ctx,
            lambda project: project.labels.set_label(call_id, note=note),
            change=Change.LABELS,
            detail=call_id,
        ).success(lambda _: self._saved()).failure(self._show_error).run()

    def _saved(self) -> None:
        self.saved.emit(self.call_id)
        super().accept()

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(True)
