"""Tool calls and thinking of stored calls (table ``call_details``, one row per call with any)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from workbench.core.hashing import canonical_json


def insert_details(conn: sqlite3.Connection, call_id: int, details: dict[str, Any]) -> None:
    """Store a call's details (inside the caller's transaction)."""
    conn.execute(
        "INSERT INTO call_details (call_id, details_json) VALUES (?, ?)",
        [call_id, canonical_json(details)],
    )


def details_of(conn: sqlite3.Connection, call_id: int) -> dict[str, Any] | None:
    """A call's details, or None when it had none."""
    row = conn.execute(
        "SELECT details_json FROM call_details WHERE call_id = ?", [call_id]
    ).fetchone()
    return None if row is None else dict(json.loads(row[0]))


def details_by_call(conn: sqlite3.Connection, call_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Details of several calls at once (for grids)."""
    out: dict[int, dict[str, Any]] = {}
    for start in range(0, len(call_ids), 500):
        chunk = call_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for call_id, raw in conn.execute(
            f"SELECT call_id, details_json FROM call_details WHERE call_id IN ({marks})", chunk
        ):
            out[int(call_id)] = json.loads(raw)
    return out
