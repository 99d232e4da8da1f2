"""Thumbnails of the image files examples name (dataset editor), from the project's stored
copy or, for a file not stored yet, from beside the project file. Read only: looking never
stores anything."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap

from workbench.core.blocks import IMAGE_MEDIA_TYPES
from workbench.ui.context import ProjectContext

THUMBNAIL_PX = 48
MAX_READ_BYTES = 32 * 1024 * 1024


def looks_like_image_path(text: str) -> bool:
    """A one-line value ending in an image extension (png, jpg, jpeg, gif, webp)."""
    value = text.strip()
    return bool(value) and "\n" not in value and Path(value).suffix.lower() in IMAGE_MEDIA_TYPES


class ImageThumbnails:
    """Callable: path -> small QPixmap, or None when the file is not found or not an image."""

    def __init__(self, ctx: ProjectContext) -> None:
        self.ctx = ctx
        self._cache: dict[tuple[str, str], QPixmap | None] = {}

    def __call__(self, path: str) -> QPixmap | None:
        project = self.ctx.project
        if project is None or not looks_like_image_path(path):
            return None
        key = (str(project.path), path.strip())
        if key not in self._cache:
            self._cache[key] = self._load(path.strip())
        return self._cache[key]

    def clear(self) -> None:
        self._cache.clear()

    def _load(self, path: str) -> QPixmap | None:
        project = self.ctx.require()
        stored = project.files.get(path)
        data = stored.data if stored is not None else self._from_disk(Path(project.path), path)
        if not data:
            return None
        pixmap = QPixmap()
        if not pixmap.loadFromData(data):
            return None
        return pixmap.scaled(
            THUMBNAIL_PX,
            THUMBNAIL_PX,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )

    @staticmethod
    def _from_disk(project_path: Path, path: str) -> bytes | None:
        full = project_path.resolve().parent / path
        try:
            if full.is_file() and full.stat().st_size <= MAX_READ_BYTES:
                return full.read_bytes()
        except OSError:
            return None
        return None
