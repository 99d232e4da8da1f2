"""SVG icons from resources/icons render crisp at 1x and 2x and follow the palette's ink."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import QApplication

from workbench.ui.icons import APP_ICON, TOOLBAR_ICONS, app_icon, render_svg, themed_icon


def _opaque_pixels(image: QImage) -> int:
    return sum(
        1
        for y in range(image.height())
        for x in range(image.width())
        if image.pixelColor(x, y).alpha() > 200
    )


@pytest.mark.parametrize("name", [*TOOLBAR_ICONS, APP_ICON])
def test_icon_is_drawn_at_both_ratios(qapp: QApplication, name: str) -> None:
    one = render_svg(name, 16, 1.0).toImage()
    two = render_svg(name, 16, 2.0).toImage()
    assert (one.width(), two.width()) == (16, 32)
    # Drawn at 2x, not scaled up: four times the pixels carry the shape.
    assert _opaque_pixels(one) > 0
    assert _opaque_pixels(two) > 3 * _opaque_pixels(one)
    sizes = {(s.width(), s.height()) for s in themed_icon(name).availableSizes()}
    assert {(16, 16), (32, 32)} <= sizes


def test_toolbar_icons_take_the_palette_text_colour(qapp: QApplication) -> None:
    saved = qapp.palette()
    palette = QPalette(saved)
    palette.setColor(QPalette.ColorRole.WindowText, QColor(200, 30, 40))
    qapp.setPalette(palette)
    try:
        image = render_svg("stop", 16, 1.0).toImage()
        centre = image.pixelColor(8, 8)
        assert (centre.red(), centre.green(), centre.blue()) == (200, 30, 40)
    finally:
        qapp.setPalette(saved)


def test_app_icon_sheet(qapp: QApplication, artifacts_dir: Path) -> None:
    sheet = QImage(64 * 2 + 16 * 6 * 2, 64, QImage.Format.Format_ARGB32)
    sheet.fill(QColor(255, 255, 255))
    from PySide6.QtGui import QPainter

    painter = QPainter(sheet)
    painter.drawPixmap(0, 0, app_icon().pixmap(64, 64))
    for index, name in enumerate(TOOLBAR_ICONS):
        painter.drawImage(128 + index * 32, 0, render_svg(name, 16, 2.0).toImage())
    painter.end()
    assert sheet.save(str(artifacts_dir / "icons_at_2x.png"))
