"""A prompt's version history (number, labels, date, note) with the label menu on each version."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QInputDialog, QMenu, QTreeWidget, QTreeWidgetItem, QWidget

from workbench.core.models import Prompt

STANDARD_LABELS = ("production", "staging")


def plain_tooltip(text: str) -> str:
    """User text as a tooltip that Qt shows literally (a bare "<docs>" would be read as HTML)."""
    return f"<p style='white-space:pre-wrap'>{html.escape(text)}</p>" if text else ""


def label_badges(prompt: Prompt, version: int) -> list[str]:
    """Names of the labels pointing at `version`, in their stored order."""
    return [name for name, number in prompt.labels.items() if number == version]


class VersionHistory(QTreeWidget):
    """Newest version first. Enter/double-click opens a version; the context menu moves labels.

    Emits `label_requested(label, version)` and `label_removed(label)`; the editor writes them.
    """

    version_activated = Signal(int)
    label_requested = Signal(str, int)
    label_removed = Signal(str)
    compare_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._prompt: Prompt | None = None
        self._base: int | None = None
        self.read_only = False
        self.label_dialog: QInputDialog | None = None
        self.setHeaderLabels(["Version", "Labels", "Saved", "Note", "Label history"])
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.setAccessibleName("Version history")
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._on_context_menu)
        self.itemActivated.connect(self._on_activated)
        self.setColumnWidth(0, 90)
        self.setColumnWidth(1, 150)
        self.setColumnWidth(2, 140)

    def set_prompt(
        self, prompt: Prompt | None, base: int | None = None, history: Sequence[Any] = ()
    ) -> None:
        """List `prompt`'s versions; `base` (the one being edited) is shown in bold.

        :param history: the prompt's label moves (`LabelEvent`s: label, version, at), shown per
            version as "production 12-04 20:05" and in full in the Labels tooltip
        """
        self._prompt, self._base = prompt, base
        moves: dict[int, list[str]] = {}
        lines = []
        for event in history:
            when = event.at.astimezone().strftime("%m-%d %H:%M")
            if event.version is None:
                lines.append(f"{when}  {event.label} removed")
                continue
            moves.setdefault(event.version, []).append(f"{event.label} {when}")
            lines.append(f"{when}  {event.label} → v{event.version}")
        tip = plain_tooltip("Label history:\n" + "\n".join(lines)) if lines else ""
        self.clear()
        if prompt is None:
            return
        bold = QFont(self.font())
        bold.setBold(True)
        for version in sorted(prompt.versions, key=lambda v: v.version, reverse=True):
            saved = (
                version.created_at.astimezone().strftime("%Y-%m-%d %H:%M")
                if version.created_at
                else ""
            )
            note = version.note.splitlines()[0] if version.note else ""
            item = QTreeWidgetItem(
                [
                    f"v{version.version}",
                    "  ".join(label_badges(prompt, version.version)),
                    saved,
                    note,
                ]
            )
            item.setText(4, ", ".join(moves.get(version.version, [])))
            item.setData(0, Qt.ItemDataRole.UserRole, version.version)
            item.setToolTip(3, plain_tooltip(version.note))
            if tip:
                item.setToolTip(1, tip)
                item.setToolTip(4, tip)
            if version.version == base:
                for column in range(5):
                    item.setFont(column, bold)
            self.addTopLevelItem(item)
            if version.version == base:
                self.setCurrentItem(item)

    def current_version(self) -> int | None:
        item = self.currentItem()
        return None if item is None else int(item.data(0, Qt.ItemDataRole.UserRole))

    def select_version(self, version: int) -> None:
        for i in range(self.topLevelItemCount()):
            item = self.topLevelItem(i)
            if item.data(0, Qt.ItemDataRole.UserRole) == version:
                self.setCurrentItem(item)
                return

    def label_menu(self, version: int, parent: QWidget | None = None) -> QMenu:
        """Set production / staging / a custom label on `version`, or remove one of its labels."""
        menu = QMenu(parent or self)
        menu.setTitle(f"Labels for v{version}")
        prompt = self._prompt
        here = label_badges(prompt, version) if prompt else []
        names = list(dict.fromkeys([*STANDARD_LABELS, *(prompt.labels if prompt else [])]))
        for name in names:
            where = prompt.labels.get(name) if prompt else None
            text = f"Set '{name}' here" + (
                f" (now on v{where})" if where and where != version else ""
            )
            action = menu.addAction(text)
            action.setEnabled(not self.read_only and name not in here)
            action.triggered.connect(lambda _=False, n=name: self.label_requested.emit(n, version))
        custom = menu.addAction("Custom label…")
        custom.setEnabled(not self.read_only)
        custom.triggered.connect(lambda: self.ask_custom_label(version))
        if here:
            menu.addSeparator()
            for name in here:
                remove = menu.addAction(f"Remove '{name}'")
                remove.setEnabled(not self.read_only)
                remove.triggered.connect(lambda _=False, n=name: self.label_removed.emit(n))
        return menu

    def ask_custom_label(self, version: int) -> QInputDialog:
        """Ask for a label name without blocking; on OK emits `label_requested`."""
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Custom label")
        dialog.setLabelText(f"Label name for v{version} (e.g. canary):")
        dialog.textValueSelected.connect(
            lambda text: self.label_requested.emit(text.strip(), version) if text.strip() else None
        )
        dialog.finished.connect(dialog.deleteLater)
        self.label_dialog = dialog
        dialog.open()
        return dialog

    def popup_label_menu(self) -> QMenu | None:
        """Show the label menu for the selected version next to it (non-blocking)."""
        version = self.current_version()
        if version is None:
            return None
        item = self.currentItem()
        rect = self.visualItemRect(item)
        menu = self.label_menu(version)
        menu.popup(self.viewport().mapToGlobal(rect.bottomLeft()))
        return menu

    def _on_context_menu(self, pos: QPoint) -> None:
        item = self.itemAt(pos)
        if item is None:
            return
        self.setCurrentItem(item)
        version = int(item.data(0, Qt.ItemDataRole.UserRole))
        menu = QMenu(self)
        menu.addAction("Open this version", lambda: self.version_activated.emit(version))
        compare = menu.addAction("Compare with the version being edited")
        compare.setEnabled(self._base is not None and self._base != version)
        compare.triggered.connect(lambda: self.compare_requested.emit(version))
        menu.addMenu(self.label_menu(version, menu))
        menu.popup(self.viewport().mapToGlobal(pos))

    def _on_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        self.version_activated.emit(int(item.data(0, Qt.ItemDataRole.UserRole)))
