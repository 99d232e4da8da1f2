"""The window fits the screens people have: 1280×800 and 1024×768, with every toolbar action,
tab and status-bar control inside the window (screenshots for review)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, QSettings
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from workbench.ui.context import ProjectContext
from workbench.ui.main_window import MainWindow


def _inside(window: MainWindow, widget: QWidget, rect: QRect | None = None) -> bool:
    area = rect if rect is not None else widget.rect()
    top_left = widget.mapTo(window, area.topLeft())
    box = QRect(top_left, area.size())
    return window.rect().contains(box)


@pytest.mark.parametrize("size", [(1280, 800), (1024, 768)])
def test_the_window_fits_and_nothing_lies_outside_it(
    qtbot: QtBot,
    sample_project: Path,
    qsettings: QSettings,
    artifacts_dir: Path,
    size: tuple[int, int],
) -> None:
    ctx = ProjectContext(demo=True)
    window = MainWindow(ctx, settings=qsettings, remember_layout=False)
    qtbot.addWidget(window)
    window.show()
    try:
        assert window.open_path(sample_project, remember=False, background=False, demo=True)
        width, height = size
        window.resize(width, height)
        QApplication.processEvents()
        assert window.minimumSizeHint().width() <= 1024
        assert window.width() == width, "the window did not fit the screen width"
        for action in window.toolbar.actions():
            button = window.toolbar.widgetForAction(action)
            if button is not None and button.isVisible():
                assert _inside(window, button), action.text()
        bar = window.tabs.tabBar()
        for index in range(window.tabs.count()):
            assert _inside(window, bar, bar.tabRect(index)), window.tabs.tabText(index)
        for control in (window.run_status.label, window.run_status.spend, window.run_status.cancel):
            if control.isVisible():
                assert _inside(window, control), control.objectName() or type(control).__name__
        assert window.run_status.cancel.isVisible()
        assert _inside(window, window.inspector_dock) and _inside(window, window.sidebar_dock)
        for index in range(window.tabs.count()):
            window.tabs.setCurrentIndex(index)
            QApplication.processEvents()
            assert window.width() == width, window.tabs.tabText(index)
        window.tabs.setCurrentIndex(0)
        QApplication.processEvents()
        window.grab().save(str(artifacts_dir / f"main_window_demo_{width}x{height}.png"))
        assert window.mapTo(window, QPoint(0, 0)) == QPoint(0, 0)
    finally:
        ctx.close()
        window.close()
