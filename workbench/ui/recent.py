"""Recently opened project files, remembered in QSettings (most recent first)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

KEY = "recent/projects"
LIMIT = 10


class RecentProjects:
    """The recent-projects list; `settings` defaults to the app's QSettings."""

    def __init__(self, settings: QSettings | None = None, *, limit: int = LIMIT) -> None:
        self._settings = settings or QSettings()
        self.limit = limit

    def paths(self, *, existing_only: bool = True) -> list[Path]:
        """Recent projects, newest first; missing files are skipped unless asked for."""
        raw = self._settings.value(KEY, [])
        # QSettings returns a str for a one-item list on some backends, None when unset.
        items = [raw] if isinstance(raw, str) else list(raw or [])
        paths = [Path(p) for p in items if p]
        return [p for p in paths if p.exists()] if existing_only else paths

    def add(self, path: Path) -> None:
        """Put `path` first (once), keeping at most `limit` entries."""
        resolved = str(Path(path).resolve())
        rest = [str(p) for p in self.paths(existing_only=False) if str(p) != resolved]
        self._settings.setValue(KEY, [resolved, *rest][: self.limit])
        self._settings.sync()

    def remove(self, path: Path) -> None:
        resolved = str(Path(path).resolve())
        kept = [str(p) for p in self.paths(existing_only=False) if str(p) != resolved]
        self._settings.setValue(KEY, kept)
        self._settings.sync()

    def clear(self) -> None:
        self._settings.remove(KEY)
        self._settings.sync()
