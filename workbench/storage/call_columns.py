"""Column-wise reads of logged calls, for analytics (numpy wants columns, not row dicts)."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

CALL_FIELDS = (
    "id",
    "run_id",
    "source",
    "model",
    "version_id",
    "prompt_name",
    "version",
    "latency_ms",
    "ttft_ms",
    "input_tokens",
    "output_tokens",
    "cache_creation_tokens",
    "cache_read_tokens",
    "cost_usd",
    "error_type",
    "cached_from",
    "finished_at",
    "feedback",
)

_SELECT = (
    "SELECT k.id, k.run_id, k.source, k.model, k.version_id, "
    "COALESCE(p.name, k.prompt_name) AS prompt_name, COALESCE(v.version, k.prompt_version) AS version, "
    "k.latency_ms, k.ttft_ms, k.input_tokens, k.output_tokens, k.cache_creation_tokens, "
    "k.cache_read_tokens, k.cost_usd, k.error_type, k.cached_from, k.finished_at, k.feedback "
    "FROM calls k LEFT JOIN prompt_versions v ON v.id = k.version_id "
    "LEFT JOIN prompts p ON p.id = v.prompt_id"
)


def call_columns(
    db: Database, *, run_id: int | None = None, source: str | None = None
) -> dict[str, list[Any]]:
    """Every logged call (optionally of one run or one source) as a dict of equal-length lists."""
    where: list[str] = []
    params: list[Any] = []
    if run_id is not None:
        where.append("k.run_id = ?")
        params.append(run_id)
    if source is not None:
        where.append("k.source = ?")
        params.append(source)
    sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY k.id"
    rows = db.conn.execute(sql, params).fetchall()
    columns: dict[str, list[Any]] = {name: [] for name in CALL_FIELDS}
    if rows:
        for name, values in zip(CALL_FIELDS, zip(*rows, strict=True), strict=True):
            columns[name] = list(values)
    return columns
