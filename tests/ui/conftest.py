"""Fixtures for the Qt tests: the sample project in tmp_path, an open context, window hygiene."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from workbench.storage.project import Project
from workbench.ui.context import ProjectContext
from workbench.ui.main import create_sample_project
from workbench.ui.operations import wait_for_project_ops


@pytest.fixture
def sample_project(tmp_path: Path) -> Path:
    """A fresh copy of the sample project (projects/quizcraft.yaml) as a .pwb in tmp_path."""
    folder = tmp_path / "sample"
    folder.mkdir()
    return create_sample_project(folder)


@pytest.fixture
def ctx(qapp: QApplication, sample_project: Path) -> Iterator[ProjectContext]:
    """A ProjectContext with the sample project open for writing (closed afterwards)."""
    context = ProjectContext()
    context.set_project(Project.open(sample_project))
    yield context
    context.close()


@pytest.fixture
def qsettings(tmp_path: Path) -> QSettings:
    """A QSettings file of the test's own, so layout and recent files never leak between tests."""
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture(autouse=True)
def _no_windows_left_open(qapp: QApplication) -> Iterator[None]:
    """Fail a test that leaves a top-level window (or dialog, or menu) open, as napari does."""
    before = {id(w) for w in QApplication.topLevelWidgets() if w.isVisible()}
    yield
    QApplication.processEvents()
    left = [w for w in QApplication.topLevelWidgets() if w.isVisible() and id(w) not in before]
    for widget in left:
        widget.close()
    QApplication.processEvents()
    if left:
        names = ", ".join(f"{type(w).__name__}({w.windowTitle()!r})" for w in left)
        pytest.fail(f"the test left top-level windows open: {names}")


@pytest.fixture
def settle(qapp: QApplication) -> Callable[[], None]:
    """Wait until every started project operation ran and its callbacks were delivered."""

    def wait() -> None:
        for _ in range(5):  # a callback may start the next operation
            wait_for_project_ops()
            QApplication.processEvents()

    return wait
