"""The dataset editor's actions: each with a shortcut scoped to the editor (so the same keys
can mean something else on another screen), a status tip and a tooltip naming the keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence

if TYPE_CHECKING:
    from workbench.ui.widgets.dataset_editor import DatasetEditor


def _action(
    editor: DatasetEditor, text: str, shortcut: QKeySequence.StandardKey | str, tip: str, slot: Any
) -> QAction:
    action = QAction(text, editor)
    if isinstance(shortcut, QKeySequence.StandardKey):
        action.setShortcuts(shortcut)  # every platform binding, e.g. Ctrl+Y and Ctrl+Shift+Z
    else:
        action.setShortcut(QKeySequence(shortcut))
    action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    action.setStatusTip(tip)
    action.setToolTip(f"{tip} ({action.shortcut().toString()})")
    action.triggered.connect(slot)
    editor.addAction(action)
    return action


def install_actions(editor: DatasetEditor) -> None:
    """Create the editor's actions as its ``*_action`` attributes."""
    editor.add_row_action = _action(
        editor,
        "Add row",
        "Ctrl+Shift+A",
        "Add an empty example below the current row",
        editor.add_row,
    )
    editor.duplicate_action = _action(
        editor,
        "Duplicate",
        "Ctrl+Shift+D",
        "Duplicate the selected examples",
        editor.duplicate_rows,
    )
    editor.delete_action = _action(
        editor,
        "Delete",
        QKeySequence.StandardKey.Delete,
        "Delete the selected examples (undoable)",
        editor.delete_rows,
    )
    editor.copy_action = _action(
        editor,
        "Copy",
        QKeySequence.StandardKey.Copy,
        "Copy the selected rows as tab-separated text",
        editor.copy_rows,
    )
    editor.paste_action = _action(
        editor,
        "Paste",
        QKeySequence.StandardKey.Paste,
        "Paste rows copied from a spreadsheet (tab-separated; header row optional)",
        editor.paste,
    )
    editor.add_column_action = _action(
        editor, "Add column…", "Ctrl+Shift+K", "Add a variable column", editor.add_column
    )
    editor.import_action = _action(
        editor,
        "Import…",
        "Ctrl+Shift+I",
        "Import examples from a CSV or JSONL file",
        editor.import_file,
    )
    editor.export_action = _action(
        editor, "Export CSV…", "Ctrl+Shift+E", "Export the examples as CSV", editor.export_file
    )
    editor.undo_action = editor.undo_stack.createUndoAction(editor, "Undo")
    editor.undo_action.setShortcuts(QKeySequence.StandardKey.Undo)
    editor.redo_action = editor.undo_stack.createRedoAction(editor, "Redo")
    editor.redo_action.setShortcuts(QKeySequence.StandardKey.Redo)
    for action, tip in (
        (editor.undo_action, "Undo the last dataset change"),
        (editor.redo_action, "Redo the dataset change"),
    ):
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.setStatusTip(tip)
        editor.addAction(action)
