"""Help ▸ Getting started: the getting-started guide, shipped inside the package, shown offline.

Markdown rendered by Qt; links are not followed and nothing remote is ever loaded.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from workbench.resource_files import resource_path

GUIDE = "getting-started.md"


def guide_text() -> str:
    """The guide's markdown (resources/getting-started.md links docs/getting-started.md)."""
    return resource_path(GUIDE).read_text(encoding="utf-8")


class GettingStartedDialog(QDialog):
    """The guide in a read-only browser that never opens links or loads remote resources."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Getting started — Prompt Workbench")
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        self.browser.setOpenExternalLinks(False)
        self.browser.setAccessibleName("Getting started guide")
        self.browser.setMarkdown(guide_text())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        self.resize(760, 640)
