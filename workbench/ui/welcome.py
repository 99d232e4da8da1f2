"""The welcome screen, shown while no project is open: New project, Open…, the recent projects
(name, folder, when last opened) and the offline demo. Files can also be dropped on the window."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.ui.recent import RecentEntry
from workbench.ui.sidebar import short_time
from workbench.ui.theme import themed_style

PATH_ROLE = Qt.ItemDataRole.UserRole


class WelcomeScreen(QWidget):
    """Signals what the user chose; the window does it."""

    new_requested = Signal()
    open_requested = Signal()
    demo_requested = Signal()
    recent_opened = Signal(object)  # a Path

    def __init__(
        self, entries: Callable[[], list[RecentEntry]], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.entries = entries
        self.setObjectName("welcomeScreen")
        title = QLabel("Prompt Workbench")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.8)
        font.setBold(True)
        title.setFont(font)
        intro = QLabel(
            "Write a prompt, try it on a few hand-picked examples, and compare Haiku, Sonnet and "
            "Opus side by side — with the cost of every call. Everything lives in one project "
            "file (.pwb). Drop a .pwb or .yaml file here to open it."
        )
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.PlainText)
        self.new_button = QPushButton("New project…")
        self.new_button.setToolTip("Create an empty project file (Ctrl+N)")
        self.open_button = QPushButton("Open…")
        self.open_button.setToolTip("Open a project file or a YAML bundle (Ctrl+O)")
        self.demo_button = QPushButton("Open the demo")
        self.demo_button.setToolTip(
            "A sample project with offline, synthetic answers per tier: nothing is sent or paid"
        )
        self.new_button.clicked.connect(self.new_requested)
        self.open_button.clicked.connect(self.open_requested)
        self.demo_button.clicked.connect(self.demo_requested)
        self.new_button.setDefault(True)
        buttons = QHBoxLayout()
        for button in (self.new_button, self.open_button, self.demo_button):
            buttons.addWidget(button)
        buttons.addStretch(1)

        self.recent = QTreeWidget()
        self.recent.setAccessibleName("Recent projects")
        self.recent.setHeaderLabels(["Name", "Folder", "Last opened"])
        self.recent.setRootIsDecorated(False)
        self.recent.itemActivated.connect(self._on_activated)
        self.recent.setColumnWidth(0, 200)
        self.recent.setColumnWidth(1, 420)
        self.empty = QLabel("No recent projects yet.")
        themed_style(self.empty, lambda t: f"color: {t.muted.name()};")

        column = QWidget()
        column.setMaximumWidth(880)
        layout = QVBoxLayout(column)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addSpacing(8)
        layout.addLayout(buttons)
        layout.addSpacing(16)
        heading = QLabel("Recent projects")
        heading.setStyleSheet("font-weight: bold;")
        layout.addWidget(heading)
        layout.addWidget(self.recent, 1)
        layout.addWidget(self.empty)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(column, 8)
        outer.addStretch(1)
        self.refresh()

    def refresh(self) -> None:
        """Re-read the recent list (it changes whenever a project is opened)."""
        self.recent.clear()
        for entry in self.entries():
            item = QTreeWidgetItem(
                [entry.name, str(entry.path.parent), short_time(entry.opened_at) or "—"]
            )
            item.setData(0, PATH_ROLE, str(entry.path))
            item.setToolTip(1, str(entry.path))
            self.recent.addTopLevelItem(item)
        has = self.recent.topLevelItemCount() > 0
        self.recent.setVisible(has)
        self.empty.setVisible(not has)

    def _on_activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        self.recent_opened.emit(Path(item.data(0, PATH_ROLE)))
