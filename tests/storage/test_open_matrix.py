"""Opening a bad, foreign, newer or locked file: one clear sentence, and the bytes are unchanged.

Each case builds a file, records its SHA-256, tries `Project.open` (writable, then read-only) and
checks the error (or the read-only fallback) and that the file is byte-for-byte the same.
"""

from __future__ import annotations

import hashlib
import random
import re
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from workbench.core.errors import ProjectFileError
from workbench.core.models import Example, Message, Params, PromptContent
from workbench.storage import Project, ProjectLocked

HOLDER_SCRIPT = """
import sys
from workbench.storage import Project
project = Project.open(sys.argv[1])
print("ready", flush=True)
sys.stdin.read()  # hold the project open until the test closes our stdin
project.close()
"""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _project(path: Path) -> Path:
    """A real project spanning many pages (prompt versions, examples)."""
    with Project.create(path, "Matrix") as project:
        project.prompts.create("support")
        for i in range(30):
            project.prompts.save_version(
                "support",
                PromptContent(
                    messages=[Message(role="user", content=f"{i} {{{{q}}}} " + "x" * 400)],
                    params=Params(model="claude-haiku"),
                ),
            )
        project.datasets.create("smoke")
        project.datasets.add_examples(
            "smoke", [Example(vars={"q": f"{i} " + "y" * 200}) for i in range(100)]
        )
    return path


def _missing(path: Path, request: pytest.FixtureRequest) -> Path:
    return path


def _directory(path: Path, request: pytest.FixtureRequest) -> Path:
    path.mkdir()
    return path


def _empty(path: Path, request: pytest.FixtureRequest) -> Path:
    path.touch()
    return path


def _random_bytes(path: Path, request: pytest.FixtureRequest) -> Path:
    path.write_bytes(random.Random(7).randbytes(8192))
    return path


def _foreign_sqlite(path: Path, request: pytest.FixtureRequest) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes (body) VALUES ('not ours')")
    conn.commit()
    conn.close()
    return path


def _truncated_at_page(path: Path, request: pytest.FixtureRequest) -> Path:
    _project(path)
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size // 2 // 4096 * 4096)
    return path


def _truncated_mid_page(path: Path, request: pytest.FixtureRequest) -> Path:
    _project(path)
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size - 1000)
    return path


def _flipped_bytes(path: Path, request: pytest.FixtureRequest) -> Path:
    _project(path)
    conn = sqlite3.connect(path.as_uri() + "?immutable=1", uri=True)
    (root,) = conn.execute(
        "SELECT rootpage FROM sqlite_master WHERE name = 'prompt_versions'"
    ).fetchone()
    (page_size,) = conn.execute("PRAGMA page_size").fetchone()
    conn.close()
    with path.open("r+b") as handle:  # invert the b-tree page header of that table's root page
        handle.seek((root - 1) * page_size)
        header = handle.read(16)
        handle.seek((root - 1) * page_size)
        handle.write(bytes(b ^ 0xFF for b in header))
    return path


def _newer_schema(path: Path, request: pytest.FixtureRequest) -> Path:
    _project(path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()  # the last close checkpoints the WAL into the main file
    return path


def _locked(path: Path, request: pytest.FixtureRequest) -> Path:
    _project(path)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER_SCRIPT, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )

    def release() -> None:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)

    request.addfinalizer(release)
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "ready"
    request.node.holder_pid = holder.pid
    return path


@dataclass(frozen=True)
class Case:
    build: Callable[[Path, pytest.FixtureRequest], Path]
    error: str | None  # a phrase of the error; None: it opens read-only instead
    read_only_opens: bool = False  # a read-only open is the way round this refusal


CASES = {
    "missing path": Case(_missing, "no such project file"),
    "a directory": Case(_directory, "is a folder, not a project file"),
    "zero-length file": Case(_empty, "is empty (0 bytes)"),
    "random bytes": Case(_random_bytes, "it is not a SQLite database"),
    "another app's SQLite file": Case(_foreign_sqlite, "not a Prompt Workbench project"),
    "truncated at a page boundary": Case(_truncated_at_page, "is truncated"),
    "truncated mid-page": Case(_truncated_mid_page, "is truncated"),
    "bytes flipped inside a page": Case(_flipped_bytes, "is damaged"),
    "schema newer than this build": Case(_newer_schema, None),
    "open for writing in another process": Case(_locked, "already open for writing", True),
}


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_open_gives_one_sentence_and_leaves_bytes_unchanged(
    case: Case, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    path = case.build(tmp_path / "project.pwb", request)
    before = _sha256(path) if path.is_file() else None

    if case.error is None:
        with Project.open(path) as project:
            assert project.read_only
            assert project.read_only_reason is not None
            assert "newer" in project.read_only_reason
            assert "read-only" in project.read_only_reason
            assert project.prompts.names() == ["support"]  # still readable
            with pytest.raises(ProjectFileError, match="is open read-only"):
                project.prompts.create("another")
    else:
        with pytest.raises(ProjectFileError) as raised:
            Project.open(path)
        message = str(raised.value)
        assert case.error in message
        assert str(path) in message
        assert "\n" not in message and "Traceback" not in message
        if case.read_only_opens:
            assert isinstance(raised.value, ProjectLocked)
            assert raised.value.holder.pid == request.node.holder_pid
            assert str(request.node.holder_pid) in message and "read-only" in message
            with Project.open(path, read_only=True) as project:
                assert project.prompts.names() == ["support"]
        else:
            with pytest.raises(ProjectFileError, match="^" + re.escape(str(path))):
                Project.open(path, read_only=True)

    if before is None:
        assert not path.exists() or (path.is_dir() and not any(path.iterdir()))
    else:
        assert _sha256(path) == before
