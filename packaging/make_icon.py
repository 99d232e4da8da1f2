"""Draw the application icon (resources/icons/prompt-workbench.{png,ico,icns}) with QPainter.

Run it once after changing the drawing and commit the images: builds use the committed files, so
building an installer never needs a display. Shapes only, no text, so the result does not depend
on which fonts the machine has.

    QT_QPA_PLATFORM=offscreen python packaging/make_icon.py
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, Qt  # noqa: E402
from PySide6.QtGui import (  # noqa: E402
    QBrush,
    QColor,
    QGuiApplication,
    QImage,
    QLinearGradient,
    QPainter,
    QPainterPath,
    QPen,
)

ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"
NAME = "prompt-workbench"
SIZE = 256
ICO_SIZES = (16, 24, 32, 48, 64, 256)
# Apple's PNG-backed icon types: ic07 128 px, ic08 256, ic09 512, ic10 1024 (512 @2x).
ICNS_TYPES = ((b"ic07", 128), (b"ic08", 256), (b"ic09", 512), (b"ic10", 1024))


def draw_icon(size: int = SIZE) -> QImage:
    """The icon: a prompt card with text lines and a green check, on an indigo tile."""
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    s = size / 256  # every coordinate below is on a 256-pixel grid
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)

    tile = QLinearGradient(QPointF(0, 0), QPointF(0, size))
    tile.setColorAt(0.0, QColor("#4f5bd5"))
    tile.setColorAt(1.0, QColor("#2b2f8f"))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QBrush(tile))
    p.drawRoundedRect(QRectF(8 * s, 8 * s, 240 * s, 240 * s), 48 * s, 48 * s)

    # The prompt card, with a speech-bubble tail.
    card = QPainterPath()
    card.addRoundedRect(QRectF(40 * s, 44 * s, 176 * s, 132 * s), 20 * s, 20 * s)
    tail = QPainterPath()
    tail.moveTo(72 * s, 170 * s)
    tail.lineTo(64 * s, 206 * s)
    tail.lineTo(108 * s, 170 * s)
    tail.closeSubpath()
    p.setBrush(QColor("#f5f6ff"))
    p.drawPath(card.united(tail))

    # Lines of prompt text; the first is a {{variable}} slot in the accent colour.
    p.setBrush(QColor("#f59e0b"))
    p.drawRoundedRect(QRectF(62 * s, 68 * s, 56 * s, 16 * s), 8 * s, 8 * s)
    p.setBrush(QColor("#9aa0d8"))
    p.drawRoundedRect(QRectF(126 * s, 68 * s, 68 * s, 16 * s), 8 * s, 8 * s)
    p.drawRoundedRect(QRectF(62 * s, 100 * s, 132 * s, 16 * s), 8 * s, 8 * s)
    p.drawRoundedRect(QRectF(62 * s, 132 * s, 84 * s, 16 * s), 8 * s, 8 * s)

    # The eval badge: a passed check.
    p.setBrush(QColor("#16a34a"))
    p.setPen(QPen(QColor("#ffffff"), 8 * s))
    p.drawEllipse(QPointF(184 * s, 184 * s), 40 * s, 40 * s)
    check = QPen(QColor("#ffffff"), 12 * s)
    check.setCapStyle(Qt.PenCapStyle.RoundCap)
    check.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    p.setPen(check)
    p.setBrush(Qt.BrushStyle.NoBrush)
    mark = QPainterPath(QPointF(166 * s, 186 * s))
    mark.lineTo(180 * s, 200 * s)
    mark.lineTo(204 * s, 170 * s)
    p.drawPath(mark)
    p.end()
    return image


def png_bytes(image: QImage) -> bytes:
    """The image encoded as PNG."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def ico_bytes(sizes: tuple[int, ...] = ICO_SIZES) -> bytes:
    """A Windows .ico holding one PNG frame per size, each drawn at that size (sharper than scaling)."""
    frames = [png_bytes(draw_icon(size)) for size in sizes]
    header = struct.pack("<HHH", 0, 1, len(frames))  # reserved, type 1 = icon, frame count
    offset = len(header) + 16 * len(frames)
    entries = b""
    for size, frame in zip(sizes, frames, strict=True):
        edge = 0 if size >= 256 else size  # 0 means 256 in the ICO directory
        entries += struct.pack("<BBBBHHII", edge, edge, 0, 0, 1, 32, len(frame), offset)
        offset += len(frame)
    return header + entries + b"".join(frames)


def icns_bytes(types: tuple[tuple[bytes, int], ...] = ICNS_TYPES) -> bytes:
    """A macOS .icns holding PNG-backed frames (big-endian lengths include each 8-byte header)."""
    body = b""
    for kind, size in types:
        frame = png_bytes(draw_icon(size))
        body += kind + struct.pack(">I", len(frame) + 8) + frame
    return b"icns" + struct.pack(">I", len(body) + 8) + body


def main() -> int:
    """Write the PNG (Linux), ICO (Windows) and ICNS (macOS) icons; returns the exit status."""
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - keeps Qt up
    ICONS.mkdir(parents=True, exist_ok=True)
    image = draw_icon()
    ok = image.save(str(ICONS / f"{NAME}.png"), "PNG")
    (ICONS / f"{NAME}.ico").write_bytes(ico_bytes())
    (ICONS / f"{NAME}.icns").write_bytes(icns_bytes())
    for suffix in ("png", "ico", "icns"):
        out = ICONS / f"{NAME}.{suffix}"
        print(f"{out}: {out.stat().st_size if out.exists() else 'missing'} bytes")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
