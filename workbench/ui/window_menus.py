"""The main window's menus: every action has a shortcut (where it makes sense) and a status tip.

Kept apart from main_window.py so the table of actions reads as one list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMenu,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from workbench import __version__
from workbench.ui.dialogs.export_dialog import open_export_dialog
from workbench.ui.dialogs.log_import_dialog import open_log_import_dialog

if TYPE_CHECKING:
    from workbench.ui.main_window import MainWindow

# Plain strings, not QKeySequence.StandardKey: some platforms define no standard Quit or
# Preferences keys. Qt shows "Ctrl" as "Cmd" on macOS by itself.
Keys = str | list[str] | None


def _action(
    window: MainWindow, text: str, slot: Callable[[], object], keys: Keys, tip: str
) -> QAction:
    action = QAction(text, window)
    if isinstance(keys, list):
        action.setShortcuts([QKeySequence(k) for k in keys])
    elif keys is not None:
        action.setShortcut(QKeySequence(keys))
    action.setStatusTip(tip)
    action.setToolTip(f"{text.replace('&', '').rstrip('…')} — {tip}")
    action.triggered.connect(lambda _checked=False: slot())
    window.addAction(action)  # shortcuts work even when the menu bar is hidden
    return action


def build_menus(window: MainWindow) -> dict[str, QAction]:
    """Create the menu bar; returns the actions by name (the toolbar reuses them)."""
    bar = window.menuBar()
    a: dict[str, QAction] = {}

    file_menu = bar.addMenu("&File")
    a["new"] = _action(
        window,
        "&New project…",
        window.new_project,
        "Ctrl+N",
        "Create an empty project file",
    )
    a["open"] = _action(
        window,
        "&Open…",
        window.open_dialog,
        "Ctrl+O",
        "Open a project file (.pwb) or a text bundle (.yaml)",
    )
    window.recent_menu = QMenu("Open &Recent", window)
    window.recent_menu.aboutToShow.connect(lambda: _fill_recent(window))
    a["save_as"] = _action(
        window,
        "Save &As…",
        window.save_as,
        "Ctrl+Shift+S",
        "Write a consistent copy of the project and continue in the copy",
    )
    a["save_copy"] = _action(
        window,
        "Save a &copy…",
        window.save_copy_dialog,
        None,
        "Write a consistent copy of the project (SQLite backup) and keep working in this one",
    )
    a["export"] = _action(
        window,
        "&Export bundle…",
        window.export_bundle,
        "Ctrl+Shift+B",
        "Export prompts, datasets and settings as a git-friendly YAML bundle",
    )
    a["export_production"] = _action(
        window,
        "E&xport production config…",
        lambda: open_export_dialog(window),
        "Ctrl+E",
        "Write the prompt registry a production app loads: labelled versions, flags, alerts",
    )
    a["import_logs"] = _action(
        window,
        "&Import production logs…",
        lambda: open_log_import_dialog(window),
        "Ctrl+Shift+L",
        "Import your app's JSONL call log: chart, review and label production calls",
    )
    a["close"] = _action(
        window,
        "&Close project",
        window.close_project,
        "Ctrl+W",
        "Close the project (the window stays open)",
    )
    a["quit"] = _action(window, "&Quit", window.close, "Ctrl+Q", "Quit Prompt Workbench")
    file_menu.addActions([a["new"], a["open"]])
    file_menu.addMenu(window.recent_menu)
    file_menu.addActions(
        [a["save_as"], a["save_copy"], a["export_production"], a["export"], a["import_logs"]]
    )
    file_menu.addSeparator()
    file_menu.addActions([a["close"], a["quit"]])
    window.file_menu = file_menu

    prompt_menu = bar.addMenu("&Prompt")
    editor = window.editor
    a["new_prompt"] = _action(
        window,
        "&New prompt…",
        window.new_prompt,
        "Ctrl+Shift+N",
        "Create a prompt; its first save makes v1",
    )
    a["save_version"] = _action(
        window,
        "&Save version",
        editor.save_version,
        "Ctrl+S",
        "Save the edits as a new immutable version with a note",
    )
    a["compare"] = _action(
        window,
        "&Compare versions",
        editor.toggle_compare,
        "Ctrl+D",
        "Word-level diff of two versions, side by side",
    )
    a["move_label"] = _action(
        window,
        "Move &label…",
        editor.show_label_menu,
        "Ctrl+L",
        "Point production, staging or a custom label at the selected version",
    )
    prompt_menu.addActions([a["new_prompt"], a["save_version"], a["compare"], a["move_label"]])

    dataset_menu = bar.addMenu("&Dataset")
    dataset_menu.addActions(window.datasets.actions())
    dataset_menu.addSeparator()
    for action in window.dataset_editor.menu_actions():
        if action is None:
            dataset_menu.addSeparator()
        else:
            dataset_menu.addAction(action)

    run_menu = bar.addMenu("&Run")
    a["run"] = _action(
        window,
        "&Run…",
        window.open_run_dialog,
        "Ctrl+R",
        "Choose versions, dataset and models; see the cost before anything is paid",
    )
    a["stop"] = _action(
        window,
        "&Stop",
        window.stop_run,
        ["Esc", "Ctrl+."],
        "Stop the run: no new calls start, finished calls are kept",
    )
    a["resume"] = _action(
        window,
        "Res&ume",
        window.resume_run,
        "Ctrl+Shift+R",
        "Run the missing cells of the selected (or latest) unfinished run",
    )
    a["review"] = _action(
        window,
        "Re&view outputs…",
        window.open_review,
        "Ctrl+Alt+R",
        "Walk a random sample of unlabelled outputs one at a time and label them",
    )
    run_menu.addActions([a["run"], a["stop"], a["resume"]])
    run_menu.addSeparator()
    run_menu.addAction(a["review"])
    # The labeling keys act on the run grid's selected cell (single letters work only while the
    # grid has focus, so they still type everywhere else); listed here so Help shows them.
    labeling = window.grid.labeling.actions
    a["promote"] = labeling["promote"]
    run_menu.addAction(a["promote"])
    label_menu = run_menu.addMenu("&Label output")
    for name in ("pass", "fail", *(f"rate_{n}" for n in range(1, 6)), "tag", "note", "clear"):
        label_menu.addAction(labeling[name])
    label_menu.addSeparator()
    label_menu.addActions([labeling["next"], labeling["previous"]])

    view_menu = bar.addMenu("&View")
    for dock, keys in (
        (window.sidebar_dock, "Ctrl+Shift+1"),
        (window.inspector_dock, "Ctrl+Shift+2"),
    ):
        toggle = dock.toggleViewAction()
        toggle.setShortcut(QKeySequence(keys))
        toggle.setStatusTip(f"Show or hide the {dock.windowTitle()} panel")
        view_menu.addAction(toggle)
    view_menu.addSeparator()
    for index, name in enumerate(
        ("Prompt editor", "Dataset", "Run grid", "Charts", "Review", "Evals")
    ):
        tab = _action(
            window,
            f"Go to {name}",
            lambda i=index: window.tabs.setCurrentIndex(i),
            f"Alt+{index + 1}",
            f"Show the {name} tab",
        )
        view_menu.addAction(tab)
    view_menu.addSeparator()
    a["reset_layout"] = _action(
        window, "&Reset layout", window.reset_layout, None, "Put the panels back where they started"
    )
    view_menu.addAction(a["reset_layout"])

    settings_menu = bar.addMenu("&Settings")
    a["settings"] = _action(
        window,
        "&Settings…",
        lambda: open_settings(window),
        "Ctrl+,",
        "API key, base URL, default concurrency and prices",
    )
    settings_menu.addAction(a["settings"])

    help_menu = bar.addMenu("&Help")
    a["getting_started"] = _action(
        window,
        "&Getting started",
        lambda: show_getting_started(window),
        None,
        "The getting-started guide, in the app and offline",
    )
    a["shortcuts"] = _action(
        window,
        "&Keyboard shortcuts",
        lambda: show_shortcuts(window),
        "F1",
        "Every action and its keys",
    )
    a["about"] = _action(
        window,
        "&About Prompt Workbench",
        lambda: show_about(window),
        None,
        "Version and what the app is for",
    )
    help_menu.addActions([a["getting_started"], a["shortcuts"], a["about"]])
    return a


def _fill_recent(window: MainWindow) -> None:
    menu = window.recent_menu
    menu.clear()
    paths = window.recent.paths()
    for path in paths:
        action = menu.addAction(str(path))
        action.setStatusTip(f"Open {path}")
        action.triggered.connect(lambda _=False, p=path: window.open_path(p))
    if not paths:
        menu.addAction("(no recent projects)").setEnabled(False)
    else:
        menu.addSeparator()
        menu.addAction("Clear the list", window.recent.clear)


def open_settings(window: MainWindow) -> QDialog:
    """Settings… as a window-modal dialog opened without blocking."""
    from workbench.ui.dialogs.settings_dialog import SettingsDialog

    dialog = SettingsDialog(window.ctx, window, settings=window.settings)
    dialog.finished.connect(dialog.deleteLater)
    window.settings_dialog = dialog
    dialog.open()
    return dialog


def show_shortcuts(window: MainWindow) -> QDialog:
    """Help ▸ Keyboard shortcuts: a table built from the menus, so it is never out of date."""
    dialog = QDialog(window)
    dialog.setWindowTitle("Keyboard shortcuts")
    rows = window.keyboard_shortcuts()
    table = QTableWidget(len(rows), 3)
    table.setHorizontalHeaderLabels(["Menu", "Action", "Keys"])
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(text))
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(table)
    layout.addWidget(buttons)
    dialog.resize(560, 520)
    dialog.finished.connect(dialog.deleteLater)
    window.shortcuts_dialog = dialog
    dialog.open()
    return dialog


def show_getting_started(window: MainWindow) -> QDialog:
    """Help ▸ Getting started (non-blocking)."""
    from workbench.ui.dialogs.getting_started import GettingStartedDialog

    dialog = GettingStartedDialog(window)
    dialog.finished.connect(dialog.deleteLater)
    window.shortcuts_dialog = dialog
    dialog.open()
    return dialog


def show_about(window: MainWindow) -> QMessageBox:
    box = QMessageBox(window)
    box.setWindowTitle("About Prompt Workbench")
    box.setText(
        f"Prompt Workbench {__version__}\n\nVersioned prompts, side-by-side model runs, eval sets "
        "and production exports, in one local project file."
    )
    box.finished.connect(box.deleteLater)
    box.open()
    return box
