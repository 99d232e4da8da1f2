"""Column-wise reads of logged calls, for analytics (numpy wants columns, not row dicts).

Flags and joins are computed in SQL so the service turns each column into an array in one step:
`is_error`, `is_cached` (answered from the response cache), `passed` (a person's verdict if
there is one, else whether every stored expectation score passed; NULL when neither exists) and
`feedback` (the latest thumbs: a later feedback line wins over the call line's own).
"""

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
    "is_error",
    "is_cached",
    "finished_at",
    "user_id",
    "feedback",
    "passed",
)

_BASE = (
    "SELECT k.id, k.run_id, k.source, k.model, k.version_id, "
    "COALESCE(p.name, k.prompt_name) AS prompt_name, "
    "COALESCE(v.version, k.prompt_version) AS version, "
    "k.latency_ms, k.ttft_ms, k.input_tokens, k.output_tokens, k.cache_creation_tokens, "
    "k.cache_read_tokens, k.cost_usd, k.error_type IS NOT NULL AS is_error, "
    "k.cached_from IS NOT NULL AS is_cached, k.finished_at, k.user_id, {feedback} AS feedback, "
    "{passed} AS passed "
    "FROM calls k LEFT JOIN prompt_versions v ON v.id = k.version_id "
    "LEFT JOIN prompts p ON p.id = v.prompt_id {joins}"
)
_LATEST_FEEDBACK = (
    "COALESCE((SELECT f.feedback FROM call_feedback f WHERE f.call_id = k.id "
    "ORDER BY f.id DESC LIMIT 1), k.feedback)"
)
_SCORES_PASSED = "(SELECT min(s.passed) FROM scores s WHERE s.call_id = k.id)"


def _tables(db: Database) -> set[str]:
    return {row[0] for row in db.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _select(db: Database) -> str:
    """The SELECT for this file's schema: labels, scores and late feedback join in when present."""
    tables = _tables(db)
    feedback = _LATEST_FEEDBACK if "call_feedback" in tables else "k.feedback"
    joins = ""
    verdict = None
    if "call_labels" in tables:
        joins = "LEFT JOIN call_labels l ON l.call_id = k.id"
        verdict = "CASE l.verdict WHEN 'pass' THEN 1 WHEN 'fail' THEN 0 END"
    scored = _SCORES_PASSED if "scores" in tables else None
    parts = [p for p in (verdict, scored) if p is not None]
    passed = f"COALESCE({', '.join(parts)}, NULL)" if parts else "NULL"
    return _BASE.format(feedback=feedback, passed=passed, joins=joins)


def call_columns(
    db: Database,
    *,
    run_id: int | None = None,
    source: str | None = None,
    prompt_name: str | None = None,
    since: float | None = None,
    until: float | None = None,
) -> dict[str, list[Any]]:
    """Logged calls as a dict of equal-length lists, in id order (`CALL_FIELDS` are the keys).

    :param run_id: only this run's calls
    :param source: only calls from 'run', 'import' or 'judge'
    :param prompt_name: only calls of this prompt
    :param since: only calls finished at or after this time (seconds since the epoch)
    :param until: only calls finished before this time
    """
    where: list[str] = []
    params: list[Any] = []
    for clause, value in (
        ("k.run_id = ?", run_id),
        ("k.source = ?", source),
        ("COALESCE(p.name, k.prompt_name) = ?", prompt_name),
        ("k.finished_at >= ?", since),
        ("k.finished_at < ?", until),
    ):
        if value is not None:
            where.append(clause)
            params.append(value)
    sql = _select(db) + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY k.id"
    rows = db.conn.execute(sql, params).fetchall()
    if not rows:
        return {name: [] for name in CALL_FIELDS}
    return {
        name: list(values)
        for name, values in zip(CALL_FIELDS, zip(*rows, strict=True), strict=True)
    }
