"""Icons drawn from the SVG files in resources/icons, sharp at every device pixel ratio.

The toolbar icons are drawn in ``currentColor``, replaced here by the palette's text colour so
they follow the light or dark theme. Each icon is rendered at 1x and 2x its nominal size (and
the screen's own ratio when that is higher), so Qt never scales a bitmap up on a HiDPI screen.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QRectF, QSize, Qt
from PySide6.QtGui import QGuiApplication, QIcon, QImage, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

from workbench.resource_files import resource_path

APP_ICON = "prompt-workbench"
TOOLBAR_ICONS = ("run", "stop", "review", "export", "project")
_SIZES = (16, 24, 32)


def svg_source(name: str) -> str:
    """The SVG text of resources/icons/`name`.svg."""
    return resource_path(f"icons/{name}.svg").read_text(encoding="utf-8")


def _ink() -> str:
    app = QGuiApplication.instance()
    palette = app.palette() if isinstance(app, QGuiApplication) else QPalette()
    return palette.color(QPalette.ColorRole.WindowText).name()


def render_svg(name: str, size: int, ratio: float = 1.0) -> QPixmap:
    """`name`.svg drawn at `size` logical pixels for a device pixel ratio of `ratio`."""
    data = svg_source(name).replace("currentColor", _ink())
    renderer = QSvgRenderer(QByteArray(data.encode("utf-8")))
    pixels = round(size * ratio)
    image = QImage(pixels, pixels, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, pixels, pixels))
    painter.end()
    pixmap = QPixmap.fromImage(image)
    pixmap.setDevicePixelRatio(ratio)
    return pixmap


def themed_icon(name: str, sizes: tuple[int, ...] = _SIZES) -> QIcon:
    """A QIcon for `name` with pixmaps at 1x and 2x (and the screen's ratio) of each size."""
    screen = QGuiApplication.primaryScreen()
    ratios = sorted({1.0, 2.0, screen.devicePixelRatio() if screen else 1.0})
    icon = QIcon()
    for size in sizes:
        for ratio in ratios:
            icon.addPixmap(render_svg(name, size, ratio))
    return icon


def app_icon() -> QIcon:
    """The application icon, from the same drawing as the installers' PNG/ICO/ICNS."""
    return themed_icon(APP_ICON, sizes=(16, 32, 48, 64, 128, 256))


def icon_size_hint() -> QSize:
    """The toolbar icon size the SVGs are drawn for."""
    return QSize(16, 16)
