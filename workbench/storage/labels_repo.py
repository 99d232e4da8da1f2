"""Human labels on logged calls, the failure-tag list, stored scores and LLM-judge verdicts.

Calls are immutable, so everything said about a call lives in tables beside it (migration m003):
``call_labels`` (verdict, 1–5 rating, note, time) with ``call_label_tags``; ``scores`` (the latest
scoring of a call against its example's expectations); ``judge_results`` (judge verdicts keyed by
everything that decides them, so re-scoring never pays for the same judgement twice).
"""

from __future__ import annotations

import builtins
import datetime as dt
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from workbench.core.errors import BadInput, NotFound
from workbench.core.records import LabelledCall, ScoredCall

if TYPE_CHECKING:
    from workbench.storage.project import Project

VERDICTS = ("pass", "fail")
MAX_TAG_LENGTH = 64


class _Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Any = _Unchanged()
"""Default of `LabelsRepo.set_label` fields: leave that part of the label as it is."""


@dataclass(frozen=True)
class FailureTag:
    id: int
    name: str
    description: str = ""


@dataclass(frozen=True)
class CallLabel:
    """What a person said about one call."""

    call_id: int
    verdict: str | None
    rating: int | None
    note: str
    tags: tuple[str, ...]
    updated_at: dt.datetime


@dataclass(frozen=True)
class ScoreRow:
    """One expectation's outcome for one call; `index` is the expectation's position."""

    index: int
    type: str
    passed: bool
    score: float | None
    reason: str
    weight: float = 1.0


@dataclass(frozen=True)
class JudgeRecord:
    """A stored judge verdict: a 1–5 score and reason, or the error that prevented one."""

    score: int | None
    reason: str
    error: str | None
    judge_call_id: int | None
    judge_model: str


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _placeholders(values: Sequence[Any]) -> str:
    return ", ".join("?" for _ in values)


def _chunks(ids: Sequence[int], size: int = 500) -> Iterable[Sequence[int]]:
    # SQLite caps bound parameters per statement; grids can hold many thousands of calls.
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def check_tag_name(name: str) -> str:
    """A tag name, trimmed; raise `BadInput` for an empty, over-long or comma-holding one."""
    if not isinstance(name, str) or not name.strip():
        raise BadInput("A failure tag needs a name.", field="tag")
    cleaned = " ".join(name.split())
    if len(cleaned) > MAX_TAG_LENGTH:
        raise BadInput(
            f"The tag name '{cleaned[:20]}…' is longer than {MAX_TAG_LENGTH} characters.",
            field="tag",
        )
    if "," in cleaned:
        # Exports list a call's tags comma-separated, so a comma would split one tag in two.
        raise BadInput(f"The tag name '{cleaned}' contains a comma.", field="tag")
    return cleaned


class LabelsRepo:
    """Reads and writes labels, failure tags, scores and judge verdicts; one transaction a write."""

    def __init__(self, project: Project) -> None:
        self._project = project

    @property
    def _db(self) -> Database:
        return self._project.db

    # -- failure tags ------------------------------------------------------------------------

    def tags(self) -> builtins.list[FailureTag]:
        """The project's failure tags in creation order."""
        rows = self._db.execute("SELECT id, name, description FROM failure_tags ORDER BY id")
        return [FailureTag(*row) for row in rows]

    def add_tag(self, name: str, description: str = "") -> FailureTag:
        """Add a tag to the list (an existing name returns the existing tag)."""
        name = check_tag_name(name)
        self._project.require_writable("add a failure tag")
        with self._db.atomic():
            self._db.execute(
                "INSERT INTO failure_tags (name, description, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO NOTHING",
                [name, description, _now()],
            )
        return self._tag(name)

    def rename_tag(self, name: str, new_name: str) -> None:
        new_name = check_tag_name(new_name)
        self._project.require_writable("rename a failure tag")
        with self._db.atomic():
            tag = self._tag(name)
            if new_name != tag.name and self._find_tag(new_name) is not None:
                raise BadInput(f"A failure tag named '{new_name}' already exists.", field="tag")
            self._db.execute("UPDATE failure_tags SET name = ? WHERE id = ?", [new_name, tag.id])

    def delete_tag(self, name: str) -> None:
        """Remove a tag from the list and from every label that carries it."""
        self._project.require_writable("delete a failure tag")
        with self._db.atomic():
            tag = self._tag(name)
            self._db.execute("DELETE FROM call_label_tags WHERE tag_id = ?", [tag.id])
            self._db.execute("DELETE FROM failure_tags WHERE id = ?", [tag.id])

    def _find_tag(self, name: str) -> FailureTag | None:
        row = self._db.execute(
            "SELECT id, name, description FROM failure_tags WHERE name = ?", [name]
        ).fetchone()
        return None if row is None else FailureTag(*row)

    def _tag(self, name: str) -> FailureTag:
        tag = self._find_tag(" ".join(str(name).split()))
        if tag is None:
            known = ", ".join(t.name for t in self.tags()) or "none yet"
            raise NotFound(f"No failure tag named '{name}'.", hint=f"Known tags: {known}.")
        return tag

    # -- labels ------------------------------------------------------------------------------

    def get(self, call_id: int) -> CallLabel | None:
        return self.for_calls([call_id]).get(call_id)

    def for_calls(self, call_ids: Iterable[int]) -> dict[int, CallLabel]:
        """Labels of the given calls that have one, by call id."""
        ids = list(dict.fromkeys(call_ids))
        tags: dict[int, builtins.list[str]] = {}
        rows: builtins.list[tuple[Any, ...]] = []
        for chunk in _chunks(ids):
            marks = _placeholders(chunk)
            rows += self._db.execute(
                "SELECT call_id, verdict, rating, note, updated_at FROM call_labels "
                f"WHERE call_id IN ({marks})",
                list(chunk),
            ).fetchall()
            for call_id, tag in self._db.execute(
                "SELECT lt.call_id, t.name FROM call_label_tags lt "
                f"JOIN failure_tags t ON t.id = lt.tag_id WHERE lt.call_id IN ({marks}) "
                "ORDER BY t.id",
                list(chunk),
            ):
                tags.setdefault(call_id, []).append(tag)
        return {
            r[0]: CallLabel(
                r[0], r[1], r[2], r[3], tuple(tags.get(r[0], ())), dt.datetime.fromisoformat(r[4])
            )
            for r in rows
        }

    def set_label(
        self,
        call_id: int,
        *,
        verdict: str | None = UNCHANGED,
        rating: int | None = UNCHANGED,
        note: str = UNCHANGED,
        tags: Iterable[str] = UNCHANGED,
    ) -> CallLabel | None:
        """Change some parts of a call's label (the others stay); returns the label now stored.

        A label left with no verdict, rating, note or tag is removed, so the call counts as
        unlabelled again (None is returned).
        """
        if verdict is not UNCHANGED and verdict is not None and verdict not in VERDICTS:
            raise BadInput(
                f"'{verdict}' is not a verdict", field="verdict", hint="Use pass or fail."
            )
        if rating not in (UNCHANGED, None) and (
            isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5
        ):
            raise BadInput(f"'{rating}' is not a rating", field="rating", hint="Use 1 to 5.")
        if note is not UNCHANGED and not isinstance(note, str):
            raise BadInput("A note must be text.", field="note")
        self._project.require_writable("label a call")
        with self._db.atomic():
            self._require_call(call_id)
            current = self.get(call_id)
            new_verdict = (
                (current.verdict if current else None) if verdict is UNCHANGED else verdict
            )
            new_rating = (current.rating if current else None) if rating is UNCHANGED else rating
            new_note = (current.note if current else "") if note is UNCHANGED else note
            if tags is UNCHANGED:
                tag_ids = [self._tag(t).id for t in (current.tags if current else ())]
            else:
                tag_ids = list(dict.fromkeys(self._tag(t).id for t in tags))
            self._db.execute("DELETE FROM call_label_tags WHERE call_id = ?", [call_id])
            if new_verdict is None and new_rating is None and not new_note.strip() and not tag_ids:
                self._db.execute("DELETE FROM call_labels WHERE call_id = ?", [call_id])
                return None
            self._db.execute(
                "INSERT INTO call_labels (call_id, verdict, rating, note, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (call_id) DO UPDATE SET "
                "verdict = excluded.verdict, rating = excluded.rating, note = excluded.note, "
                "updated_at = excluded.updated_at",
                [call_id, new_verdict, new_rating, new_note, _now()],
            )
            self._db.conn.executemany(
                "INSERT INTO call_label_tags (call_id, tag_id) VALUES (?, ?)",
                [(call_id, tag_id) for tag_id in tag_ids],
            )
        return self.get(call_id)

    def toggle_tag(self, call_id: int, tag: str) -> CallLabel | None:
        """Add `tag` to the call's label, or remove it when it is already there (the T key)."""
        current = self.get(call_id)
        names = list(current.tags) if current else []
        name = self._tag(tag).name
        names = [n for n in names if n != name] if name in names else [*names, name]
        return self.set_label(call_id, tags=names)

    def clear(self, call_id: int) -> None:
        """Remove a call's label entirely."""
        self.set_label(call_id, verdict=None, rating=None, note="", tags=[])

    def _require_call(self, call_id: int) -> None:
        if self._db.execute("SELECT 1 FROM calls WHERE id = ?", [call_id]).fetchone() is None:
            raise NotFound(f"There is no call #{call_id} in this project.")

    def unlabelled_call_ids(self, run_id: int | None = None) -> builtins.list[int]:
        """Successful model calls (not judge calls) that nobody has labelled yet, oldest first."""
        sql = (
            "SELECT k.id FROM calls k LEFT JOIN call_labels l ON l.call_id = k.id "
            "WHERE l.call_id IS NULL AND k.error_type IS NULL AND k.source != 'judge'"
        )
        params: builtins.list[Any] = []
        if run_id is not None:
            sql += " AND k.run_id = ?"
            params.append(run_id)
        return [r[0] for r in self._db.execute(sql + " ORDER BY k.id", params)]

    def review_sample(
        self, n: int, *, run_id: int | None = None, seed: int | None = None
    ) -> builtins.list[int]:
        """A random sample of up to `n` unlabelled call ids (the weekly review queue)."""
        if n < 1:
            raise BadInput("The review queue needs at least one call.", field="n")
        ids = self.unlabelled_call_ids(run_id)
        return random.Random(seed).sample(ids, min(n, len(ids)))

    def labelled_calls(
        self, *, run_id: int | None = None, prompt: str | None = None
    ) -> builtins.list[LabelledCall]:
        """Every labelled call with its prompt version, model, variables, output and label."""
        sql = (
            "SELECT l.call_id, k.run_id, COALESCE(p.name, k.prompt_name) AS prompt, "
            "COALESCE(v.version, k.prompt_version) AS version, k.model, c.example_id, "
            "c.example_vars_json, k.output, k.error_type, k.latency_ms, k.cost_usd, "
            "l.verdict, l.rating, l.note, l.updated_at "
            "FROM call_labels l JOIN calls k ON k.id = l.call_id "
            "LEFT JOIN cells c ON c.id = k.cell_id "
            "LEFT JOIN prompt_versions v ON v.id = k.version_id "
            "LEFT JOIN prompts p ON p.id = v.prompt_id"
        )
        where: builtins.list[str] = []
        params: builtins.list[Any] = []
        if run_id is not None:
            where.append("k.run_id = ?")
            params.append(run_id)
        if prompt is not None:
            where.append("COALESCE(p.name, k.prompt_name) = ?")
            params.append(prompt)
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = list(self._db.query(sql + " ORDER BY l.call_id", params))
        labels = self.for_calls(r["call_id"] for r in rows)
        out: builtins.list[LabelledCall] = []
        for row in rows:
            raw_vars = row.pop("example_vars_json")
            row["vars"] = json.loads(raw_vars) if raw_vars else {}
            row["tags"] = list(labels[row["call_id"]].tags)
            out.append(LabelledCall(**row))
        return out

    def human_verdicts(self) -> dict[int, str]:
        """Every call with a pass/fail verdict from a person."""
        rows = self._db.execute(
            "SELECT call_id, verdict FROM call_labels WHERE verdict IS NOT NULL ORDER BY call_id"
        )
        return {call_id: verdict for call_id, verdict in rows}

    # -- scores ------------------------------------------------------------------------------

    def replace_scores(self, items: Sequence[tuple[int, int | None, Sequence[ScoreRow]]]) -> None:
        """Store (call id, example id, rows) for many calls in one transaction.

        Each call's earlier scores are replaced: re-scoring after an expectation changed must not
        leave the old outcome of an expectation that is gone.
        """
        self._project.require_writable("store scores")
        now = _now()
        with self._db.atomic():
            for call_id, example_id, rows in items:
                self._db.execute("DELETE FROM scores WHERE call_id = ?", [call_id])
                self._db.conn.executemany(
                    "INSERT INTO scores (call_id, example_id, expectation_index, type, weight, "
                    "passed, score, reason, scored_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            call_id,
                            example_id,
                            r.index,
                            r.type,
                            r.weight,
                            int(r.passed),
                            r.score,
                            r.reason,
                            now,
                        )
                        for r in rows
                    ],
                )

    def scores_for_calls(self, call_ids: Iterable[int]) -> dict[int, builtins.list[ScoreRow]]:
        """Stored scores of the given calls, by call id, in expectation order."""
        ids = list(dict.fromkeys(call_ids))
        out: dict[int, builtins.list[ScoreRow]] = {}
        for chunk in _chunks(ids):
            for row in self._db.execute(
                "SELECT call_id, expectation_index, type, passed, score, reason, weight "
                f"FROM scores WHERE call_id IN ({_placeholders(chunk)}) "
                "ORDER BY call_id, expectation_index",
                list(chunk),
            ):
                out.setdefault(row[0], []).append(
                    ScoreRow(row[1], row[2], bool(row[3]), row[4], row[5], row[6])
                )
        return out

    def scored_calls(
        self, *, version_ids: Sequence[int] | None = None, run_id: int | None = None
    ) -> builtins.list[ScoredCall]:
        """One row per scored call: its version, model, example, repeat and whether it passed
        (every expectation with a weight above 0 passed)."""
        sql = (
            "SELECT s.call_id, k.run_id, k.version_id, p.name AS prompt_name, v.version, k.model, "
            "c.example_id, c.repeat, c.position, k.error_type, k.finished_at, "
            "count(*) AS expectations, "
            "min(CASE WHEN s.weight > 0 THEN s.passed ELSE 1 END) AS passed "
            "FROM scores s JOIN calls k ON k.id = s.call_id "
            "LEFT JOIN cells c ON c.id = k.cell_id "
            "LEFT JOIN prompt_versions v ON v.id = k.version_id "
            "LEFT JOIN prompts p ON p.id = v.prompt_id"
        )
        where: builtins.list[str] = []
        params: builtins.list[Any] = []
        if version_ids is not None:
            where.append(f"k.version_id IN ({_placeholders(version_ids)})")
            params += list(version_ids)
        if run_id is not None:
            where.append("k.run_id = ?")
            params.append(run_id)
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self._db.query(sql + " GROUP BY s.call_id ORDER BY s.call_id", params)
        return [ScoredCall(**{**row, "passed": bool(row["passed"])}) for row in rows]

    # -- judge verdicts ----------------------------------------------------------------------

    def find_judgement(self, key_hash: str) -> JudgeRecord | None:
        """The latest stored verdict with a score for this key, if any."""
        row = self._db.execute(
            "SELECT score, reason, error, judge_call_id, judge_model FROM judge_results "
            "WHERE key_hash = ? AND score IS NOT NULL ORDER BY id DESC LIMIT 1",
            [key_hash],
        ).fetchone()
        return None if row is None else JudgeRecord(*row)

    def add_judgement(
        self,
        *,
        key_hash: str,
        call_id: int | None,
        judge_call_id: int | None,
        judge_version_id: int | None,
        judge_model: str,
        rubric: str,
        record: JudgeRecord,
    ) -> int:
        self._project.require_writable("store a judge verdict")
        with self._db.atomic():
            cursor = self._db.execute(
                "INSERT INTO judge_results (key_hash, call_id, judge_call_id, judge_version_id, "
                "judge_model, rubric, score, reason, error, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    key_hash,
                    call_id,
                    judge_call_id,
                    judge_version_id,
                    judge_model,
                    rubric,
                    record.score,
                    record.reason,
                    record.error,
                    _now(),
                ],
            )
        return int(cursor.lastrowid or 0)
