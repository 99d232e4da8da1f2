"""The journal of answered calls a failed write could not store: whole records only, applied once,
removed afterwards, and the fallback folder when the project's own folder refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.core.models import Example, Message, Params, PromptContent
from workbench.core.records import Attempt, CallRecord, CellSpec
from workbench.services.project_models import seed_defaults
from workbench.storage.journal import (
    CallJournal,
    JournalWriteError,
    apply_journals,
    journal_paths,
    pending_journals,
    read_journal,
)
from workbench.storage.project import Project


@pytest.fixture(autouse=True)
def _state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    state = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    return state


def _project_with_run(path: Path, cells: int = 3) -> list[CallRecord]:
    """A project with one run of `cells` pending cells; returns a finished record for each."""
    with Project.create(path, "journal") as project:
        seed_defaults(project)
        project.prompts.create("p")
        project.prompts.save_version(
            "p",
            PromptContent(
                messages=[Message(role="user", content="{{n}}")],
                params=Params(model="claude-haiku-5-5", max_tokens=16),
            ),
        )
        project.datasets.create("d")
        project.datasets.add_examples("d", [Example(vars={"n": str(i)}) for i in range(cells)])
        version_id = project.db.execute("SELECT max(id) FROM prompt_versions").fetchone()[0]
        run_id = project.runs.create_run(
            provider="anthropic",
            synthetic=False,
            plan={},
            cells=[
                CellSpec(version_id, None, {"n": str(i)}, "claude-haiku-5-5", 0, i)
                for i in range(cells)
            ],
        )
        return [
            CallRecord(
                model="claude-haiku-5-5",
                request={
                    "model": "claude-haiku-5-5",
                    "messages": [{"role": "user", "content": str(i)}],
                },
                request_hash=f"hash-{i}",
                started_at=1_700_000_000.123456 + i,
                finished_at=1_700_000_001.654321 + i,
                output=f"answer {i} — ünïcode",
                input_tokens=5,
                output_tokens=7,
                cost_usd=0.0001,
                run_id=run_id,
                cell_id=cell.id,
                version_id=version_id,
                attempts=[Attempt(1, f"req_{i}", 200, None, None, 1_700_000_000.2, 12.5)],
            )
            for i, cell in enumerate(project.runs.cells(run_id))
        ]


def test_records_round_trip_and_apply_once(tmp_path: Path) -> None:
    path = tmp_path / "p.pwb"
    records = _project_with_run(path)
    journal = CallJournal(path)
    assert journal.append(records[:2]) == journal_paths(path)[0]
    journal.append(records[2:])
    assert read_journal(journal_paths(path)[0]) == records
    with Project.open(path) as project:  # opening for writing applies the journal
        assert not pending_journals(path)
        assert all(c.status == "done" for c in project.runs.cells(1))
        call = project.runs.get_call(project.runs.cells(1)[0].call_id or 0)
        assert call.output == "answer 0 — ünïcode" and len(call.attempts) == 1
        # A journal applied but not removed (a crash in between) is not applied twice.
        CallJournal(path).append(records)
        assert apply_journals(project.runs, path) == 0
        assert project.db.execute("SELECT count(*) FROM calls").fetchone()[0] == 3


def test_a_torn_last_line_is_skipped_and_the_next_append_survives(tmp_path: Path) -> None:
    path = tmp_path / "p.pwb"
    records = _project_with_run(path)
    journal = CallJournal(path)
    journal.append(records[:1])
    target = journal_paths(path)[0]
    with target.open("ab") as out:
        out.write(b'{"format": 1, "call": {"model": "claude-ha')  # a crash mid-line
    journal.append(records[1:])
    assert read_journal(target) == records


def test_read_only_opens_leave_the_journal_alone(tmp_path: Path) -> None:
    path = tmp_path / "p.pwb"
    records = _project_with_run(path)
    CallJournal(path).append(records)
    with Project.open(path, read_only=True):
        pass
    assert pending_journals(path) == [journal_paths(path)[0]]


def test_falls_back_to_the_state_folder_when_the_project_folder_refuses(
    tmp_path: Path, _state_home: Path
) -> None:
    path = tmp_path / "p.pwb"
    records = _project_with_run(path)
    journal_paths(path)[0].mkdir()  # the place beside the project cannot take a file
    written = CallJournal(path).append(records)
    assert _state_home in written.parents
    assert read_journal(written) == records
    assert pending_journals(path) == [written]
    with Project.open(path) as project:
        assert project.db.execute("SELECT count(*) FROM calls").fetchone()[0] == 3
    assert not pending_journals(path)


def test_when_no_place_takes_the_records_it_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "p.pwb"
    records = _project_with_run(path)
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    monkeypatch.setattr(
        "workbench.storage.journal.journal_paths",
        lambda p: [blocked / "a.unsaved-calls", blocked / "b.unsaved-calls"],
    )
    with pytest.raises(JournalWriteError):
        CallJournal(path).append(records)
