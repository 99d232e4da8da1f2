"""A connection of the calling thread to the open project (`thread_connection`)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from workbench.core.errors import ProjectFileError
from workbench.services.project_session import (
    Project,
    create_project_file,
    open_project_file,
    thread_connection,
)
from workbench.storage.project import lock_holder


def test_a_thread_connection_writes_to_the_same_file_and_keeps_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "p.pwb"
    with create_project_file(path) as project:
        seen: list[object] = []

        def work() -> None:
            with thread_connection(project) as own:
                assert own is not project and own.db is not project.db
                own.prompts.create("from-a-thread")
                seen.append(own.path)

        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
        assert seen == [path]
        assert "from-a-thread" in [p.name for p in project.prompts.list()]
        assert lock_holder(path) is not None  # closing the thread's connection kept the lock
    assert lock_holder(path) is None


def test_a_read_only_project_gives_a_read_only_connection(tmp_path: Path) -> None:
    path = tmp_path / "p.pwb"
    create_project_file(path).close()
    with open_project_file(path, read_only=True) as project, thread_connection(project) as own:
        assert own.read_only and own.read_only_reason == project.read_only_reason
        assert [p.name for p in own.prompts.list()] == []
        with pytest.raises(ProjectFileError):
            own.prompts.create("refused")


def test_a_closed_project_has_no_thread_connection(tmp_path: Path) -> None:
    project: Project = create_project_file(tmp_path / "p.pwb")
    project.close()
    with pytest.raises(ProjectFileError), thread_connection(project):
        pass
