"""What production monitoring reads: imported calls with their user, thumbs and review.

One row per imported call (source 'import') in a time range, with the prompt it belongs to
(the linked version's, else the name the log gave), latency, error, cost, user id, the latest
thumbs (a later feedback line wins over the call's own) and what a reviewer said: verdict and
whether the call carries the failure tag ``hallucination``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.storage.project import Project

HALLUCINATION_TAG = "hallucination"

_SELECT = """
SELECT k.id, k.finished_at, COALESCE(p.name, k.prompt_name), k.latency_ms,
       k.error_type IS NOT NULL, k.cost_usd, k.user_id,
       COALESCE((SELECT f.feedback FROM call_feedback f WHERE f.call_id = k.id
                 ORDER BY f.id DESC LIMIT 1), k.feedback),
       l.call_id IS NOT NULL, l.verdict,
       EXISTS (SELECT 1 FROM call_label_tags t JOIN failure_tags g ON g.id = t.tag_id
               WHERE t.call_id = k.id AND lower(g.name) = ?)
FROM calls k
LEFT JOIN prompt_versions v ON v.id = k.version_id
LEFT JOIN prompts p ON p.id = v.prompt_id
LEFT JOIN call_labels l ON l.call_id = k.id
WHERE k.source = 'import' AND k.finished_at >= ? AND k.finished_at < ?
ORDER BY k.finished_at, k.id
"""


@dataclass(frozen=True, slots=True)
class ProductionCall:
    """One imported call as monitoring sees it."""

    id: int
    finished_at: float
    prompt: str
    latency_ms: float | None
    failed: bool
    cost_usd: float | None
    user_id: str | None
    feedback: int | None  # 1 up, -1 down
    reviewed: bool
    verdict: str | None  # 'pass', 'fail' or None
    hallucination: bool


class MonitoringRepo:
    """Reads what production monitoring shows."""

    def __init__(self, project: Project) -> None:
        self._project = project

    def production_calls(self, since: float, until: float) -> list[ProductionCall]:
        """Imported calls finished in [since, until), oldest first."""
        rows = self._project.db.conn.execute(_SELECT, [HALLUCINATION_TAG, since, until]).fetchall()
        return [
            ProductionCall(
                id=int(r[0]),
                finished_at=float(r[1]),
                prompt=str(r[2] or ""),
                latency_ms=None if r[3] is None else float(r[3]),
                failed=bool(r[4]),
                cost_usd=None if r[5] is None else float(r[5]),
                user_id=r[6],
                feedback=None if r[7] is None else int(r[7]),
                reviewed=bool(r[8]),
                verdict=r[9],
                hallucination=bool(r[10]),
            )
            for r in rows
        ]
