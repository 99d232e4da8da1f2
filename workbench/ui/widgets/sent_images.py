"""The images a logged call sent, as thumbnails (the inspector): a request names each file by
its SHA-256, and the project holds the bytes."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from workbench.ui.context import ProjectContext

THUMBNAIL_PX = 96


def sent_files(request: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(block type, media type, sha256) of every image or document block of a logged request."""
    out = []
    for message in request.get("messages") or []:
        content = message.get("content")
        if not isinstance(content, list):
            continue
        for block in content:
            source = block.get("source") if isinstance(block, dict) else None
            if isinstance(source, dict) and source.get("type") == "sha256":
                out.append((block["type"], str(source.get("media_type")), str(source["sha256"])))
    return out


class SentImages(QWidget):
    """A row of thumbnails (and a line per document); hidden when the call sent no file."""

    def __init__(self, ctx: ProjectContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.labels: list[QLabel] = []
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addStretch(1)
        self.setVisible(False)

    def show_request(self, request: dict[str, Any]) -> None:
        for label in self.labels:
            label.hide()
            self._layout.removeWidget(label)
            label.deleteLater()
        self.labels = []
        project = self.ctx.project
        for kind, media_type, digest in sent_files(request):
            label = QLabel()
            label.setToolTip(f"{kind} {media_type} · sha256 {digest[:12]}…")
            stored = project.files.by_hash(digest) if project is not None else None
            pixmap = QPixmap()
            if kind == "image" and stored is not None and pixmap.loadFromData(stored.data):
                label.setPixmap(
                    pixmap.scaled(
                        THUMBNAIL_PX,
                        THUMBNAIL_PX,
                        Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.SmoothTransformation,
                    )
                )
            else:
                label.setText(f"[{kind} {media_type}{'' if stored else ', not in this project'}]")
            label.setAccessibleName(f"Sent {kind}")
            self._layout.insertWidget(len(self.labels), label)
            self.labels.append(label)
        self.setVisible(bool(self.labels))
