"""Image and PDF files named by examples, stored in the project by content hash.

An example's variable holds a path relative to the project (or the bundle it came from); the
file's bytes are copied into the project once, so the ``.pwb`` stays self-contained and a file
edited or deleted on disk later does not change what a stored run was sent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.core.errors import BadInput

if TYPE_CHECKING:
    from workbench.storage.project import Project

MAX_FILE_BYTES = 32 * 1024 * 1024  # the Messages API's request limit


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file's content and identity."""

    hash: str
    media_type: str
    data: bytes


def normalise_path(path: str) -> str:
    """The key a path is stored under: forward slashes, no leading ``./``."""
    text = path.strip().replace("\\", "/")
    while text.startswith("./"):
        text = text[2:]
    return text


class FilesRepo:
    """Add files by path and read them back by path or hash."""

    def __init__(self, project: Project) -> None:
        self._project = project

    def add_bytes(self, path: str, data: bytes, media_type: str) -> StoredFile:
        """Store `data` under `path` (replacing what the path named before)."""
        if len(data) > MAX_FILE_BYTES:
            raise BadInput(
                f"'{path}' is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB.",
                hint="The Messages API refuses requests this large; use a smaller file.",
            )
        self._project.require_writable("store a file")
        digest = hashlib.sha256(data).hexdigest()
        db = self._project.db
        with db.atomic():
            db.execute(
                "INSERT OR IGNORE INTO files (hash, media_type, size, data) VALUES (?, ?, ?, ?)",
                [digest, media_type, len(data), data],
            )
            db.execute(
                "INSERT INTO file_paths (path, hash, added_at) VALUES (?, ?, ?) "
                "ON CONFLICT (path) DO UPDATE SET hash = excluded.hash, added_at = excluded.added_at",
                [normalise_path(path), digest, dt.datetime.now(dt.UTC).isoformat()],
            )
        return StoredFile(digest, media_type, data)

    def add_from_disk(self, path: str, base: Path, media_type: str) -> StoredFile:
        """Read `path` (relative to `base`) from disk and store it."""
        full = base / normalise_path(path)
        try:
            data = full.read_bytes()
        except OSError as exc:
            raise BadInput(
                f"cannot read '{path}': {exc.strerror or exc}",
                source=str(full),
                hint="Put the file next to the project or bundle, or fix the path.",
            ) from None
        return self.add_bytes(path, data, media_type)

    def get(self, path: str) -> StoredFile | None:
        """The file stored under `path`, or None."""
        row = self._project.db.execute(
            "SELECT f.hash, f.media_type, f.data FROM file_paths p JOIN files f ON f.hash = p.hash "
            "WHERE p.path = ?",
            [normalise_path(path)],
        ).fetchone()
        return None if row is None else StoredFile(row[0], row[1], bytes(row[2]))

    def by_hash(self, digest: str) -> StoredFile | None:
        """The stored file with this SHA-256 (how logged requests name the files they sent)."""
        row = self._project.db.execute(
            "SELECT hash, media_type, data FROM files WHERE hash = ?", [digest]
        ).fetchone()
        return None if row is None else StoredFile(row[0], row[1], bytes(row[2]))

    def paths(self) -> list[str]:
        """Every stored path, sorted."""
        return [r[0] for r in self._project.db.execute("SELECT path FROM file_paths ORDER BY path")]
