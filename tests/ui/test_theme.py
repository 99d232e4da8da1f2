"""The theme: light and dark from the palette, switched live (charts and grid included), named
inputs, and screenshots of the grid and every chart in light and in dark at 1280 x 800."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from charts_support import add_synthetic_calls, run_echo_sample
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTableView,
    QTextEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot
from test_grid_verdicts import _graded, _plan
from test_run_grid import Screen

from workbench.services.runner import RunOptions
from workbench.ui.charts import ChartsPane
from workbench.ui.context import ProjectContext
from workbench.ui.theme import (
    SETTINGS_KEY,
    Theme,
    ThemeChoice,
    apply_theme,
    current_theme,
    is_dark,
    notifier,
    stored_choice,
)

SIZE = (1280, 800)


@pytest.fixture
def restore_theme(qapp: QApplication) -> Iterator[None]:
    """Put the session's palette and colour-scheme hint back for the tests that follow."""
    saved = QPalette(qapp.palette())
    yield
    qapp.styleHints().unsetColorScheme()
    qapp.setPalette(saved)
    notifier().changed.emit()


@pytest.fixture
def demo_pane(qtbot: QtBot, ctx: ProjectContext) -> Iterator[ChartsPane]:
    project = ctx.require()
    run_echo_sample(project)
    add_synthetic_calls(project)
    widget = ChartsPane(ctx)
    qtbot.addWidget(widget)
    widget.resize(*SIZE)
    with qtbot.waitSignal(widget.updated, timeout=10_000):
        widget.show()
    yield widget
    widget.close()


def test_light_and_dark_roles_differ_and_fit_the_palette(
    qapp: QApplication, qsettings: QSettings, restore_theme: None
) -> None:
    light = apply_theme(qapp, "light", qsettings)
    assert not light.dark and not is_dark(qapp.palette())
    dark = apply_theme(qapp, ThemeChoice.DARK, qsettings)
    assert dark.dark and is_dark(qapp.palette())
    assert qsettings.value(SETTINGS_KEY) == "dark" and stored_choice(qsettings) is ThemeChoice.DARK
    for theme in (light, dark):
        # backgrounds stay near the base colour, text roles stand out from it
        for role in ("pass_bg", "fail_bg", "insert_bg", "delete_bg", "banner_bg", "error_bg"):
            bg = getattr(theme, role)
            assert abs(bg.lightness() - theme.base.lightness()) < 90, (theme.dark, role)
        for role in ("text", "good", "bad", "banner_fg", "chart_fg"):
            fg = getattr(theme, role)
            assert abs(fg.lightness() - theme.base.lightness()) > 80, (theme.dark, role)
    assert light.pass_bg != dark.pass_bg and light.chart_bg != dark.chart_bg
    assert light.series[-1] != dark.series[-1]  # black series on white, white on dark
    qsettings.setValue(SETTINGS_KEY, "purple")
    assert stored_choice(qsettings) is ThemeChoice.SYSTEM
    system = apply_theme(qapp, "system", qsettings)
    assert isinstance(system, Theme) and stored_choice(qsettings) is ThemeChoice.SYSTEM


def _chart_colours(pane: ChartsPane) -> dict[str, str]:
    latency = pane.latency
    return {
        "background": latency.plot_widget.backgroundBrush().color().name(),
        "axis": latency.plot.getAxis("left").pen().color().name(),
        "median": latency.p50_marks.opts["pen"].color().name(),
        "alert": latency.alert.pen.color().name(),
        "frontier": pane.frontier.frontier.opts["pen"].color().name(),
        "banner": pane.demo_note.styleSheet(),
    }


def test_switching_the_theme_restyles_every_chart_live(
    qtbot: QtBot,
    qapp: QApplication,
    qsettings: QSettings,
    demo_pane: ChartsPane,
    artifacts_dir: Path,
    restore_theme: None,
) -> None:
    shots = {}
    for choice in ("light", "dark"):
        theme = apply_theme(qapp, choice, qsettings)
        colours = _chart_colours(demo_pane)
        assert colours["background"] == theme.chart_bg.name()
        assert colours["axis"] == theme.chart_fg.name()
        assert colours["median"] == theme.chart_ink.name()
        assert colours["alert"] == theme.alert.name()
        assert colours["frontier"] == theme.chart_ink.name()
        assert theme.banner_bg.name() in colours["banner"]
        shots[choice] = colours
        for name in demo_pane.chart_names():
            chart = demo_pane.select_chart(name)
            qtbot.wait(30)
            image = demo_pane.grab().toImage()
            assert (image.width(), image.height()) == SIZE
            if name != "Projection":
                # the plot area itself is painted in the theme's background
                plot = chart.plot_widget
                centre = plot.mapTo(demo_pane, plot.rect().topLeft()) + plot.rect().center() / 4
                pixel = image.pixelColor(centre)
                assert abs(pixel.lightness() - theme.chart_bg.lightness()) < 40, (name, choice)
            slug = name.lower().replace(" ", "_")
            assert image.save(str(artifacts_dir / f"theme_{choice}_chart_{slug}.png"))
    assert shots["light"]["background"] != shots["dark"]["background"]


def test_run_grid_pass_fail_in_light_and_dark(
    qtbot: QtBot,
    qapp: QApplication,
    qsettings: QSettings,
    tmp_path: Path,
    artifacts_dir: Path,
    restore_theme: None,
) -> None:
    from workbench.ui.main import FOCUS_RING

    # As in the app: the application's own style sheet (the focus ring) is set, which keeps
    # widgets on the palette they were polished with unless the theme re-applies it.
    previous_sheet = qapp.styleSheet()
    qapp.setStyleSheet(FOCUS_RING)
    screen = Screen(qtbot, _graded(tmp_path), demo=True)
    try:
        screen.grid.resize(*SIZE)
        screen.run(_plan(screen), RunOptions(concurrency=4))  # type: ignore[arg-type]
        model = screen.grid.model
        qtbot.waitUntil(lambda: model.column_pass_rate(0) == (1, 2), timeout=5000)
        for choice in ("light", "dark"):
            theme = apply_theme(qapp, choice, qsettings)
            background = model.index(0, 0).data(Qt.ItemDataRole.BackgroundRole)
            assert background.color() == theme.pass_bg
            failed = model.index(1, 0).data(Qt.ItemDataRole.BackgroundRole)
            assert failed.color() == theme.fail_bg

            def drawn(theme: Theme = theme, table: QTableView = screen.grid.table) -> bool:
                # What is on screen, once the palette change has been painted (a loaded machine
                # may take longer than one event-loop turn).
                image = screen.grid.grab().toImage()
                rect = table.visualRect(model.index(0, 0))
                inside = table.viewport().mapTo(screen.grid, rect.center())
                y = rect.bottom() - 3 + inside.y() - rect.center().y()
                pixel = image.pixelColor(inside.x(), y)
                return abs(pixel.lightness() - theme.pass_bg.lightness()) < 25

            qtbot.waitUntil(drawn, timeout=3000)
            image = screen.grid.grab().toImage()
            assert image.save(str(artifacts_dir / f"theme_{choice}_run_grid.png"))
    finally:
        screen.close()
        qapp.setStyleSheet(previous_sheet)


INPUTS = (QLineEdit, QComboBox, QAbstractSpinBox, QAbstractItemView, QPlainTextEdit, QTextEdit)


def _inside_an_input(widget: QWidget) -> bool:
    """A combo box's popup list, a spin box's line edit: parts of a named input."""
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, INPUTS):
            return True
        parent = parent.parentWidget()
    return False


def _unnamed(root: QWidget) -> list[str]:
    """Inputs and buttons with neither visible text nor an accessible name (nor a buddy label)."""
    buddies = {id(label.buddy()) for label in root.findChildren(QLabel) if label.buddy()}
    missing = []
    for widget in root.findChildren(QWidget):
        if widget.accessibleName() or id(widget) in buddies or _inside_an_input(widget):
            continue
        if isinstance(widget, QAbstractButton) and not widget.text().strip():
            missing.append(f"button {widget.objectName() or widget.toolTip() or widget!r}")
        elif isinstance(widget, INPUTS):
            missing.append(f"{type(widget).__name__} {widget.objectName() or widget!r}")
    return missing


def test_every_input_and_icon_button_has_a_name(
    qtbot: QtBot, demo_pane: ChartsPane, tmp_path: Path
) -> None:
    assert _unnamed(demo_pane) == []
    screen = Screen(qtbot, _graded(tmp_path), demo=True)
    try:
        assert _unnamed(screen.grid) == []
    finally:
        screen.close()


def test_current_theme_reads_the_application_palette(qapp: QApplication) -> None:
    assert current_theme().base == qapp.palette().color(QPalette.ColorRole.Base)


def test_every_input_and_icon_button_of_the_main_window_has_a_name(
    qtbot: QtBot, sample_project: Path, qsettings: QSettings
) -> None:
    from workbench.ui.main_window import MainWindow

    window = MainWindow(ProjectContext(demo=True), settings=qsettings, remember_layout=False)
    qtbot.addWidget(window)
    window.show()
    try:
        assert window.open_path(sample_project, remember=False, background=False, demo=True)
        window.resize(1280, 800)
        for index in range(window.tabs.count()):  # every page builds its widgets when shown
            window.tabs.setCurrentIndex(index)
            QApplication.processEvents()
        missing = _unnamed(window)
        assert missing == [], "\n".join(missing)
    finally:
        window.close()
