"""Message Batches of runs: which batch holds which cells, and which answers are stored."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from workbench.core.records import CallRecord

if TYPE_CHECKING:
    from workbench.storage.project import Project

OPEN_STATUSES = ("in_progress", "canceling", "ended")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class BatchesRepo:
    """Reads and writes ``message_batches`` and ``batch_cells``."""

    def __init__(self, project: Project) -> None:
        self._project = project

    @property
    def db(self) -> Database:
        return self._project.db

    def add_batch(
        self,
        run_id: int,
        batch_id: str,
        cells: Sequence[tuple[int, str, str]],
        *,
        expires_at: str | None = None,
    ) -> int:
        """Store a batch the API just created with its ``(cell_id, custom_id, request_hash)``."""
        with self.db.atomic():
            cursor = self.db.execute(
                "INSERT INTO message_batches (run_id, batch_id, requests, created_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [run_id, batch_id, len(cells), _now(), expires_at],
            )
            row = int(cursor.lastrowid or 0)
            self.db.conn.executemany(
                "INSERT INTO batch_cells (batch_row, cell_id, custom_id, request_hash) "
                "VALUES (?, ?, ?, ?)",
                [(row, cell_id, custom_id, h) for cell_id, custom_id, h in cells],
            )
        return row

    def batches(
        self, run_id: int | None = None, *, open_only: bool = False
    ) -> list[dict[str, Any]]:
        """Batches (of one run, or all), oldest first, with their counts decoded."""
        sql, params = "SELECT * FROM message_batches WHERE 1 = 1", list[Any]()
        if run_id is not None:
            sql += " AND run_id = ?"
            params.append(run_id)
        if open_only:
            sql += f" AND status IN ({', '.join('?' for _ in OPEN_STATUSES)})"
            params += list(OPEN_STATUSES)
        rows = list(self.db.query(sql + " ORDER BY id", params))
        for row in rows:
            row["counts"] = json.loads(row.pop("counts_json"))
        return rows

    def update_status(
        self, row: int, status: str, counts: dict[str, int], ended_at: str | None
    ) -> None:
        """Record what the API said about a batch (never moves a collected batch back)."""
        with self.db.atomic():
            self.db.execute(
                "UPDATE message_batches SET status = ?, counts_json = ?, ended_at = ?, "
                "checked_at = ? WHERE id = ? AND status != 'collected'",
                [status, json.dumps(counts, sort_keys=True), ended_at, _now(), row],
            )

    def pending_cells(self, row: int) -> dict[str, dict[str, Any]]:
        """``custom_id -> {cell_id, request_hash}`` of a batch's requests not yet stored."""
        rows = self.db.query(
            "SELECT custom_id, cell_id, request_hash FROM batch_cells "
            "WHERE batch_row = ? AND call_id IS NULL",
            [row],
        )
        return {r["custom_id"]: r for r in rows}

    def store_results(self, row: int, records: Sequence[tuple[str, CallRecord]]) -> list[int]:
        """Write answers and link them to their requests in one transaction (exactly once)."""
        runs = self._project.runs
        ids: list[int] = []
        with self.db.atomic():
            for custom_id, record in records:
                call_id = runs.record_call(record)
                cursor = self.db.execute(
                    "UPDATE batch_cells SET call_id = ? "
                    "WHERE batch_row = ? AND custom_id = ? AND call_id IS NULL",
                    [call_id, row, custom_id],
                )
                if cursor.rowcount != 1:
                    raise RuntimeError(f"batch request {custom_id} was already stored")
                ids.append(call_id)
        return ids

    def mark_collected(self, row: int) -> None:
        with self.db.atomic():
            self.db.execute(
                "UPDATE message_batches SET status = 'collected', collected_at = ? WHERE id = ?",
                [_now(), row],
            )

    def cells_in_open_batches(self, run_id: int) -> set[int]:
        """Cells whose request sits in a batch not yet collected (never to be sent again)."""
        rows = self.db.query(
            "SELECT bc.cell_id FROM batch_cells bc JOIN message_batches b ON b.id = bc.batch_row "
            f"WHERE b.run_id = ? AND bc.call_id IS NULL AND b.status IN "
            f"({', '.join('?' for _ in OPEN_STATUSES)})",
            [run_id, *OPEN_STATUSES],
        )
        return {r["cell_id"] for r in rows}

    def runs_with_open_batches(self) -> list[int]:
        rows = self.db.query(
            "SELECT DISTINCT run_id FROM message_batches WHERE status IN "
            f"({', '.join('?' for _ in OPEN_STATUSES)}) ORDER BY run_id",
            list(OPEN_STATUSES),
        )
        return [r["run_id"] for r in rows]

    def stored_calls(self, run_id: int) -> Iterable[int]:
        """Call ids written from this run's batches (for checks and benchmarks)."""
        rows = self.db.query(
            "SELECT bc.call_id FROM batch_cells bc JOIN message_batches b ON b.id = bc.batch_row "
            "WHERE b.run_id = ? AND bc.call_id IS NOT NULL",
            [run_id],
        )
        return [r["call_id"] for r in rows]
