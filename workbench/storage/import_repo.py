"""Storage for imported production logs: version lookup, external call ids and late feedback.

An import is written in one transaction: its run row (kind 'import'), every call, the callers'
own call ids (so a re-import skips lines already imported, and a later feedback line finds its
call) and feedback for calls imported earlier. Calls are immutable, so thumbs that arrive after
a call was stored go to ``call_feedback`` (migration m004); the latest row wins. Long request
texts (the system prompt every line repeats) are stored once (`storage.request_texts`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from workbench.core.records import CallRecord
from workbench.storage.request_texts import RequestTexts

if TYPE_CHECKING:
    from workbench.storage.project import Project


@dataclass(frozen=True, slots=True)
class VersionRef:
    """A stored prompt version, as the importer needs it to link a log line."""

    prompt_name: str
    version: int
    row_id: int
    hash: str


@dataclass(frozen=True, slots=True)
class LateFeedback:
    """Thumbs up (1) or down (-1) for a call stored by an earlier import."""

    call_id: int
    feedback: int
    at: float | None


class ImportRepo:
    """Reads and writes what `services.logs_import` needs."""

    def __init__(self, project: Project) -> None:
        self._project = project

    @property
    def db(self) -> Database:
        return self._project.db

    def version_index(self) -> list[VersionRef]:
        """Every prompt version of the project: name, number, row id and content hash."""
        rows = self.db.conn.execute(
            "SELECT p.name, v.version, v.id, v.hash FROM prompt_versions v "
            "JOIN prompts p ON p.id = v.prompt_id ORDER BY p.name, v.version"
        ).fetchall()
        return [VersionRef(*row) for row in rows]

    def known_external_ids(self, external_ids: Iterable[str]) -> dict[str, int]:
        """Which of these caller call ids were imported before, mapped to their call row id."""
        wanted = sorted(set(external_ids))
        if not wanted:
            return {}
        # json_each takes the whole list as one parameter: no limit on the number of ids.
        rows = self.db.conn.execute(
            "SELECT external_id, call_id FROM call_external_ids "
            "WHERE external_id IN (SELECT value FROM json_each(?))",
            [json.dumps(wanted)],
        ).fetchall()
        return {external: call_id for external, call_id in rows}

    def store_import(
        self,
        *,
        plan: dict[str, Any],
        records: Sequence[CallRecord],
        external_ids: Sequence[str | None],
        late_feedback: Sequence[LateFeedback],
        totals: dict[str, Any],
    ) -> tuple[int, int]:
        """Write one import atomically; returns (run id, feedback rows added)."""
        runs = self._project.runs
        with self.db.atomic():
            run_id = runs.create_run(
                provider="import", synthetic=False, plan=plan, cells=[], kind="import"
            )
            texts = RequestTexts(self.db)
            stored = [
                dataclasses.replace(r, run_id=run_id, request=texts.compact(r.request))
                for r in records
            ]
            call_ids = runs.record_calls(stored)
            self.db.conn.executemany(
                "INSERT INTO call_external_ids (call_id, external_id) VALUES (?, ?)",
                [
                    (call_id, external)
                    for call_id, external in zip(call_ids, external_ids, strict=True)
                    if external is not None
                ],
            )
            before = self.db.conn.total_changes
            self.db.conn.executemany(
                "INSERT OR IGNORE INTO call_feedback (call_id, feedback, at, run_id) "
                "VALUES (?, ?, ?, ?)",
                [(f.call_id, f.feedback, f.at, run_id) for f in late_feedback],
            )
            added = self.db.conn.total_changes - before
            runs.set_status(run_id, "done", totals={**totals, "feedback_added": added})
        return run_id, added

    def feedback_history(self, call_id: int) -> list[dict[str, Any]]:
        """Feedback rows added to a call after it was stored, oldest first."""
        return list(
            self.db.query(
                "SELECT feedback, at, run_id FROM call_feedback WHERE call_id = ? ORDER BY id",
                [call_id],
            )
        )
