"""Runs, their cells and every logged call (with attempts). The run engine is the only writer.

A finished call is written in one transaction together with its attempts and its cell's new
status, so a crash leaves either the whole call or none of it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from workbench.core.errors import NotFound
from workbench.core.models import PromptContent
from workbench.core.records import (
    Attempt,
    CallRecord,
    Cell,
    CellSpec,
    CellWithCall,
    RunRecord,
    RunSummary,
    StoredCall,
)
from workbench.storage.call_details import details_by_call, details_of, insert_details
from workbench.storage.request_texts import expand_request

if TYPE_CHECKING:
    import numpy as np

    from workbench.storage.project import Project

_CALL_COLUMNS = [
    "run_id",
    "cell_id",
    "version_id",
    "source",
    "model",
    "request_json",
    "request_hash",
    "output",
    "stop_reason",
    "input_tokens",
    "output_tokens",
    "cache_creation_tokens",
    "cache_read_tokens",
    "cost_usd",
    "latency_ms",
    "ttft_ms",
    "total_ms",
    "error_type",
    "error_message",
    "partial_text",
    "request_id",
    "cached_from",
    "synthetic",
    "started_at",
    "finished_at",
    "prompt_name",
    "prompt_version",
    "user_id",
    "feedback",
]
_INSERT_CALL = (
    f"INSERT INTO calls ({', '.join(_CALL_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _CALL_COLUMNS)})"
)
_INSERT_ATTEMPT = (
    "INSERT INTO attempts (call_id, number, request_id, status, error_type, error_message, "
    "started_at, duration_ms, retry_after_s, backoff_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _call_values(record: CallRecord) -> tuple[Any, ...]:
    values = dict(
        run_id=record.run_id,
        cell_id=record.cell_id,
        version_id=record.version_id,
        source=record.source,
        model=record.model,
        request_json=json.dumps(record.request, ensure_ascii=False, sort_keys=True),
        request_hash=record.request_hash,
        output=record.output,
        stop_reason=record.stop_reason,
        input_tokens=record.input_tokens,
        output_tokens=record.output_tokens,
        cache_creation_tokens=record.cache_creation_tokens,
        cache_read_tokens=record.cache_read_tokens,
        cost_usd=record.cost_usd,
        latency_ms=record.latency_ms,
        ttft_ms=record.ttft_ms,
        total_ms=record.total_ms,
        error_type=record.error_type,
        error_message=record.error_message,
        partial_text=record.partial_text,
        request_id=record.request_id,
        cached_from=record.cached_from,
        synthetic=int(record.synthetic),
        started_at=record.started_at,
        finished_at=record.finished_at,
        prompt_name=record.prompt_name,
        prompt_version=record.prompt_version,
        user_id=record.user_id,
        feedback=record.feedback,
    )
    return tuple(values[c] for c in _CALL_COLUMNS)


def _cell(row: dict[str, Any]) -> Cell:
    return Cell(
        id=row["id"],
        run_id=row["run_id"],
        version_id=row["version_id"],
        example_id=row["example_id"],
        example_vars=json.loads(row["example_vars_json"]),
        model=row["model"],
        repeat=row["repeat"],
        position=row["position"],
        status=row["status"],
        call_id=row["call_id"],
    )


def _cell_with_call(row: dict[str, Any]) -> CellWithCall:
    row["example_vars"] = json.loads(row.pop("example_vars_json"))
    row["synthetic"] = bool(row["synthetic"])
    details_json = row.pop("details_json", None)
    row["details"] = json.loads(details_json) if details_json else None
    return CellWithCall(**row)


class RunsRepo:
    """Reads and writes runs, cells, calls and attempts."""

    def __init__(self, project: Project) -> None:
        self._project = project

    @property
    def project(self) -> Project:
        """The project this repository reads and writes (its connection is this thread's)."""
        return self._project

    @property
    def db(self) -> Database:
        """The project's connection, for the other storage modules."""
        return self._project.db

    # -- runs -------------------------------------------------------------------------------
    def create_run(
        self,
        *,
        provider: str,
        synthetic: bool,
        plan: dict[str, Any],
        cells: Sequence[CellSpec],
        kind: str = "run",
    ) -> int:
        """Insert a run in status 'running' with all its cells pending; returns the run id."""
        with self.db.atomic():
            cursor = self.db.execute(
                "INSERT INTO runs (kind, status, provider, synthetic, plan_json, created_at) "
                "VALUES (?, 'running', ?, ?, ?, ?)",
                [kind, provider, int(synthetic), json.dumps(plan, sort_keys=True), _now()],
            )
            run_id = int(cursor.lastrowid or 0)
            self.db.conn.executemany(
                "INSERT INTO cells (run_id, version_id, example_id, example_vars_json, model, "
                "repeat, position) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        run_id,
                        c.version_id,
                        c.example_id,
                        json.dumps(c.example_vars, ensure_ascii=False, sort_keys=True),
                        c.model,
                        c.repeat,
                        c.position,
                    )
                    for c in cells
                ],
            )
        return run_id

    def set_status(
        self,
        run_id: int,
        status: str,
        *,
        reason: str | None = None,
        totals: dict[str, Any] | None = None,
    ) -> None:
        finished = None if status == "running" else _now()
        with self.db.atomic():
            self.db.execute(
                "UPDATE runs SET status = ?, status_reason = ?, finished_at = ?, "
                "totals_json = COALESCE(?, totals_json) WHERE id = ?",
                [status, reason, finished, json.dumps(totals) if totals else None, run_id],
            )

    def get_run(self, run_id: int) -> RunRecord:
        rows = list(self.db.query("SELECT * FROM runs WHERE id = ?", [run_id]))
        if not rows:
            raise NotFound(f"There is no run #{run_id} in this project.")
        row = rows[0]
        row["plan"] = json.loads(row.pop("plan_json"))
        row["totals"] = json.loads(row.pop("totals_json"))
        row["synthetic"] = bool(row["synthetic"])
        return RunRecord(**row)

    def fail_run(self, run_id: int, reason: str, totals: dict[str, Any]) -> None:
        """Cancel the run's pending cells and mark it failed, in one transaction."""
        with self.db.atomic():
            self.mark_unfinished_cells(run_id, "cancelled")
            self.set_status(run_id, "failed", reason=reason, totals=totals)

    def latest_run_id(self, kind: str | None = "run") -> int | None:
        sql = "SELECT max(id) AS id FROM runs" + (" WHERE kind = ?" if kind else "")
        row = next(iter(self.db.query(sql, [kind] if kind else [])))
        return row["id"]

    def summaries(self) -> list[RunSummary]:
        """One line per run: id, kind, status, cell counts, created_at."""
        return [
            RunSummary(**{**row, "synthetic": bool(row["synthetic"])})
            for row in self.db.query(
                "SELECT r.id, r.kind, r.status, r.status_reason, r.provider, r.synthetic, "
                "r.created_at, r.finished_at, count(c.id) AS cells, "
                "sum(c.status = 'done') AS done, sum(c.status = 'error') AS errors "
                "FROM runs r LEFT JOIN cells c ON c.run_id = r.id GROUP BY r.id ORDER BY r.id"
            )
        ]

    def mark_stale_runs_interrupted(self) -> int:
        """Runs left 'running' by a process that died are 'interrupted' (call with the lock held)."""
        with self.db.atomic():
            cursor = self.db.execute(
                "UPDATE runs SET status = 'interrupted', "
                "status_reason = 'the process running it stopped before it finished' "
                "WHERE status = 'running'"
            )
        return cursor.rowcount

    # -- cells ------------------------------------------------------------------------------
    def cells(self, run_id: int, statuses: Iterable[str] | None = None) -> list[Cell]:
        sql = "SELECT * FROM cells WHERE run_id = ?"
        params: list[Any] = [run_id]
        if statuses is not None:
            wanted = list(statuses)
            sql += f" AND status IN ({', '.join('?' for _ in wanted)})"
            params += wanted
        return [_cell(r) for r in self.db.query(sql + " ORDER BY id", params)]

    def mark_unfinished_cells(self, run_id: int, status: str = "cancelled") -> int:
        with self.db.atomic():
            cursor = self.db.execute(
                "UPDATE cells SET status = ? WHERE run_id = ? AND status = 'pending'",
                [status, run_id],
            )
        return cursor.rowcount

    def reset_cells_for_resume(self, run_id: int) -> list[Cell]:
        """Put every cell that is not done back to pending and return them."""
        with self.db.atomic():
            self.db.execute(
                "UPDATE cells SET status = 'pending' WHERE run_id = ? AND status != 'done'",
                [run_id],
            )
            self.db.execute(
                "UPDATE runs SET status = 'running', status_reason = NULL, finished_at = NULL "
                "WHERE id = ?",
                [run_id],
            )
        return self.cells(run_id, ["pending"])

    # -- calls ------------------------------------------------------------------------------
    def record_call(self, record: CallRecord) -> int:
        """Write a finished call, its attempts and its cell's status in one transaction."""
        with self.db.atomic():
            return self._insert_call(record)

    def mark_draft_calls(
        self, call_ids: Sequence[int], *, draft_hash: str, prompt_name: str | None
    ) -> None:
        """Tie logged calls to the unsaved draft they tried (the Try panel's calls)."""
        now = _now()
        with self.db.atomic():
            for call_id in call_ids:
                self.db.execute(
                    "INSERT INTO draft_calls (call_id, prompt_name, draft_hash, created_at) "
                    "VALUES (?, ?, ?, ?)",
                    [call_id, prompt_name, draft_hash, now],
                )

    def draft_call_ids(self, draft_hash: str) -> list[int]:
        """Ids of the calls made on the draft with this content hash, oldest first."""
        rows = self.db.execute(
            "SELECT call_id FROM draft_calls WHERE draft_hash = ? ORDER BY call_id", [draft_hash]
        ).fetchall()
        return [int(r[0]) for r in rows]

    def record_calls(self, records: Sequence[CallRecord]) -> list[int]:
        """Several finished calls in one transaction (bulk import, bursts of cache hits)."""
        with self.db.atomic():
            return [self._insert_call(r) for r in records]

    def _insert_call(self, record: CallRecord) -> int:
        conn = self.db.conn
        call_id = int(conn.execute(_INSERT_CALL, _call_values(record)).lastrowid or 0)
        if record.attempts:
            conn.executemany(
                _INSERT_ATTEMPT,
                [
                    (
                        call_id,
                        a.number,
                        a.request_id,
                        a.status,
                        a.error_type,
                        a.error_message,
                        a.started_at,
                        a.duration_ms,
                        a.retry_after_s,
                        a.backoff_s,
                    )
                    for a in record.attempts
                ],
            )
        if record.details:
            insert_details(conn, call_id, record.details)
        if record.cell_id is not None:
            conn.execute(
                "UPDATE cells SET status = ?, call_id = ? WHERE id = ?",
                ["done" if record.ok else "error", call_id, record.cell_id],
            )
        return call_id

    def has_call(self, record: CallRecord) -> bool:
        """Whether this very call (same cell, request and timestamps) is already logged."""
        row = self.db.execute(
            "SELECT 1 FROM calls WHERE request_hash = ? AND started_at = ? AND finished_at = ? "
            "AND cell_id IS ? AND run_id IS ? LIMIT 1",
            [
                record.request_hash,
                record.started_at,
                record.finished_at,
                record.cell_id,
                record.run_id,
            ],
        ).fetchone()
        return row is not None

    def find_cached(self, request_hash: str, synthetic: bool) -> dict[str, Any] | None:
        """The latest successful original call with this request hash, if any."""
        rows = list(
            self.db.query(
                "SELECT * FROM calls WHERE request_hash = ? AND error_type IS NULL "
                "AND cached_from IS NULL AND synthetic = ? AND source = 'run' "
                "ORDER BY id DESC LIMIT 1",
                [request_hash, int(synthetic)],
            )
        )
        if rows:
            rows[0]["details"] = details_of(self.db.conn, rows[0]["id"])
        return rows[0] if rows else None

    def spend_split(self, run_id: int | None = None) -> dict[str, Any]:
        """Real spend apart from synthetic calls (all calls, or one run's): ``real_usd`` (the
        priced real calls), ``real_calls``, ``unpriced_calls`` (real answered calls without a
        price), ``synthetic_calls``."""
        where, params = ("WHERE run_id = ?", [run_id]) if run_id is not None else ("", [])
        row = self.db.execute(
            "SELECT total(CASE WHEN synthetic = 0 THEN cost_usd END), "
            "coalesce(sum(synthetic = 0), 0), "
            "coalesce(sum(synthetic = 0 AND error_type IS NULL AND cost_usd IS NULL), 0), "
            f"coalesce(sum(synthetic = 1), 0) FROM calls {where}",
            params,
        ).fetchone()
        return {
            "real_usd": float(row[0]),
            "real_calls": int(row[1]),
            "unpriced_calls": int(row[2]),
            "synthetic_calls": int(row[3]),
        }

    def output_tokens_history(self, version_hash: str, model: str, limit: int) -> list[int]:
        """Output tokens of the newest answered, billed calls (not cached, not synthetic) of the
        prompt content `version_hash` on `model`: what estimates learn answer lengths from."""
        rows = self.db.execute(
            "SELECT k.output_tokens FROM calls k JOIN prompt_versions v ON v.id = k.version_id "
            "WHERE v.hash = ? AND k.model = ? AND k.error_type IS NULL "
            "AND k.output_tokens IS NOT NULL AND k.cached_from IS NULL AND k.synthetic = 0 "
            "ORDER BY k.id DESC LIMIT ?",
            [version_hash, model, limit],
        ).fetchall()
        return [int(row[0]) for row in rows]

    def get_call(self, call_id: int) -> StoredCall:
        rows = list(self.db.query("SELECT * FROM calls WHERE id = ?", [call_id]))
        if not rows:
            raise NotFound(f"There is no call #{call_id} in this project.")
        row = rows[0]
        row["request"] = expand_request(self.db, row.pop("request_json"))
        row["synthetic"] = bool(row["synthetic"])
        attempts = self.db.query(
            "SELECT number, request_id, status, error_type, error_message, started_at, "
            "duration_ms, retry_after_s, backoff_s FROM attempts WHERE call_id = ? ORDER BY number",
            [call_id],
        )
        row["details"] = details_of(self.db.conn, call_id)
        return StoredCall(**row, attempts=[Attempt(**a) for a in attempts])

    def run_grid(self, run_id: int) -> list[CellWithCall]:
        """Each cell of a run joined with its call's summary columns (for the grid and reports)."""
        return [
            _cell_with_call(row)
            for row in self.db.query(
                "SELECT c.id AS cell_id, c.version_id, v.version, p.name AS prompt_name, "
                "c.example_id, c.example_vars_json, c.model, c.repeat, c.position, c.status, "
                "k.id AS call_id, k.output, k.stop_reason, k.latency_ms, k.ttft_ms, "
                "k.input_tokens, k.output_tokens, k.cache_creation_tokens, k.cache_read_tokens, "
                "k.cost_usd, k.error_type, k.error_message, k.cached_from, k.synthetic, "
                "d.details_json "
                "FROM cells c JOIN prompt_versions v ON v.id = c.version_id "
                "JOIN prompts p ON p.id = v.prompt_id LEFT JOIN calls k ON k.id = c.call_id "
                "LEFT JOIN call_details d ON d.call_id = k.id "
                "WHERE c.run_id = ? ORDER BY c.position, c.id",
                [run_id],
            )
        ]

    def call_columns(self, **filters: Any) -> dict[str, np.ndarray]:
        """Logged calls column-wise, filtered as `storage.call_columns.call_columns` takes them."""
        from workbench.storage.call_columns import call_columns  # numpy only when asked for

        return call_columns(self.db, **filters)

    def call_details(self, call_ids: list[int]) -> dict[int, dict[str, Any]]:
        """Tool calls and thinking of the given calls (only those that have any)."""
        return details_by_call(self.db.conn, call_ids)

    def spend(self, run_id: int) -> float:
        row = next(
            iter(self.db.query("SELECT total(cost_usd) AS s FROM calls WHERE run_id = ?", [run_id]))
        )
        return float(row["s"])

    def version_contents(self, run_id: int) -> dict[int, PromptContent]:
        """The prompt content of every version used by a run, by version row id."""
        rows = self.db.query(
            "SELECT id, system, messages_json, params_json, extras_json FROM prompt_versions "
            "WHERE id IN "
            "(SELECT DISTINCT version_id FROM cells WHERE run_id = ?)",
            [run_id],
        )
        return {
            r["id"]: PromptContent(
                **(json.loads(r["extras_json"]) if r["extras_json"] else {}),
                system=r["system"],
                messages=json.loads(r["messages_json"]),
                params=json.loads(r["params_json"]),
            )
            for r in rows
        }
