"""The word diff of two outputs in light and in dark: insert/delete colours from the theme, redrawn
on a theme switch."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QPalette, QTextCursor
from PySide6.QtWidgets import QApplication, QTextEdit
from pytestqt.qtbot import QtBot

from workbench.ui.theme import apply_theme, notifier
from workbench.ui.widgets.output_diff import OutputDiff


@pytest.fixture
def restore_theme(qapp: QApplication) -> Iterator[None]:
    saved = QPalette(qapp.palette())
    yield
    qapp.styleHints().unsetColorScheme()
    qapp.setPalette(saved)
    notifier().changed.emit()


def _background_of(view: QTextEdit, word: str) -> str:
    cursor = view.document().find(word)
    assert not cursor.isNull(), word
    probe = QTextCursor(view.document())
    probe.setPosition(cursor.selectionStart() + 1)
    return probe.charFormat().background().color().name()


def test_diff_colours_follow_the_theme(
    qtbot: QtBot,
    qapp: QApplication,
    qsettings: QSettings,
    artifacts_dir: Path,
    restore_theme: None,
) -> None:
    diff = OutputDiff()
    qtbot.addWidget(diff)
    diff.resize(1280, 800)
    diff.show()
    apply_theme(qapp, "light", qsettings)
    assert diff.compare(
        "v1 · haiku", "The tide rises twice a day.", "v2 · haiku", "The tide rises twice daily."
    )
    for choice in ("light", "dark"):
        theme = apply_theme(qapp, choice, qsettings)  # redraws the shown comparison
        assert _background_of(diff.left, "day") == theme.delete_bg.name()
        assert _background_of(diff.right, "daily") == theme.insert_bg.name()
        qtbot.wait(30)
        assert diff.grab().save(str(artifacts_dir / f"theme_{choice}_output_diff.png"))
    diff.close()
