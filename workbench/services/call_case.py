"""What a reviewer needs to see about one logged call — input variables, output, model and
prompt version, whichever way it was logged (a run's cell, or an imported production call that
keeps its variables at ``request["vars"]``) — and which calls the review queue samples.
Qt-free, so it can be read on a worker thread."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from workbench.core.records import CellWithCall, RunRecord
from workbench.storage.project import Project


@dataclass
class CallCase:
    """One call as the review queue and the promote dialog show it."""

    call_id: int
    model: str
    output: str
    vars: dict[str, str] = field(default_factory=dict)
    prompt: str | None = None
    version: int | None = None
    run_id: int | None = None
    dataset: str | None = None
    source: str = "run"
    synthetic: bool = False
    error: str | None = None

    @property
    def version_text(self) -> str:
        if self.prompt is None:
            return "no prompt version"
        return f"{self.prompt}@v{self.version}" if self.version is not None else self.prompt

    @property
    def origin_text(self) -> str:
        """ "run #3" or "production import #5"."""
        if self.run_id is None:
            return "no run"
        kind = "production import" if self.source == "import" else "run"
        return f"{kind} #{self.run_id}"

    def vars_text(self) -> str:
        if not self.vars:
            return "(no input variables were logged)"
        # Short values on one line ("level: easy"); long or multi-line ones below their name.
        return "\n".join(
            f"{name}: {value}" if len(value) <= 60 and "\n" not in value else f"{name}:\n{value}\n"
            for name, value in self.vars.items()
        ).strip()


class CaseLoader:
    """Loads `CallCase`s, reading each run's cells once (a review walks many calls of one run)."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._cells: dict[int, dict[int, CellWithCall]] = {}
        self._runs: dict[int, RunRecord] = {}

    def _run(self, run_id: int) -> RunRecord:
        if run_id not in self._runs:
            self._runs[run_id] = self.project.runs.get_run(run_id)
        return self._runs[run_id]

    def _cell(self, run_id: int, cell_id: int) -> CellWithCall | None:
        if run_id not in self._cells:
            rows = self.project.runs.run_grid(run_id)
            self._cells[run_id] = {r.cell_id: r for r in rows}
        return self._cells[run_id].get(cell_id)

    def load(self, call_id: int) -> CallCase:
        call = self.project.runs.get_call(call_id)
        request = call.request or {}
        case = CallCase(
            call_id=call_id,
            model=call.model,
            output=call.output or "",
            prompt=call.prompt_name,
            version=call.prompt_version,
            run_id=call.run_id,
            source=call.source or "run",
            synthetic=bool(call.synthetic),
            error=call.error_message or call.error_type,
        )
        raw_vars = request.get("vars")
        if isinstance(raw_vars, dict):
            case.vars = {str(k): str(v) for k, v in raw_vars.items()}
        if case.run_id is not None:
            run = self._run(case.run_id)
            dataset = run.plan.get("dataset")
            case.dataset = str(dataset) if dataset else None
            cell = self._cell(case.run_id, call.cell_id) if call.cell_id else None
            if cell is not None:
                case.vars = dict(cell.example_vars)
                case.prompt, case.version = cell.prompt_name, cell.version
        return case


def sample_calls(
    project: Project, n: int, scope: str, run_id: int | None = None, seed: int | None = None
) -> list[int]:
    """Up to `n` random unlabelled call ids from `scope` ("run", "all" or "import")."""
    labels = project.labels
    if scope == "run":
        return labels.review_sample(n, run_id=run_id, seed=seed) if run_id is not None else []
    kinds = {"import"} if scope == "import" else {"run", "eval"}
    ids = [
        call_id
        for run in project.runs.summaries()
        if run.kind in kinds
        for call_id in labels.unlabelled_call_ids(run.id)
    ]
    return random.Random(seed).sample(ids, min(n, len(ids)))
