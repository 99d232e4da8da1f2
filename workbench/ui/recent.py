"""Recently opened project files, remembered in QSettings (most recent first)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSettings

KEY = "recent/projects"
OPENED_KEY = "recent/openedAt"  # path -> ISO time it was last opened
LIMIT = 10


@dataclass(frozen=True)
class RecentEntry:
    """One recent project for the welcome screen: its name, file and when it was opened."""

    name: str
    path: Path
    opened_at: str  # ISO time in UTC, "" when not known (lists written by older versions)


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
        opened = self._opened()
        opened[resolved] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self._settings.setValue(OPENED_KEY, opened)
        self._settings.sync()

    def _opened(self) -> dict[str, str]:
        raw = self._settings.value(OPENED_KEY, {})
        return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}

    def entries(self) -> list[RecentEntry]:
        """Recent projects that still exist, newest first, with when each was last opened."""
        opened = self._opened()
        return [
            RecentEntry(path.stem, path, opened.get(str(path), ""))
            for path in self.paths(existing_only=True)
        ]

    def remove(self, path: Path) -> None:
        resolved = str(Path(path).resolve())
        kept = [str(p) for p in self.paths(existing_only=False) if str(p) != resolved]
        self._settings.setValue(KEY, kept)
        self._settings.sync()

    def clear(self) -> None:
        self._settings.remove(KEY)
        self._settings.remove(OPENED_KEY)
        self._settings.sync()
