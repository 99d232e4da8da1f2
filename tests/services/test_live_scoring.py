"""Scoring as a run lands: a plain run over a dataset with expectations stores every finished
cell's scores (cache hits included) without any re-score, the same rows `score_run` makes, and
the `llm-rubric` judge goes through the run's own engine."""

from __future__ import annotations

import asyncio
from pathlib import Path

from test_evals import _judged_project, _project

from workbench.core.models import Example, Expectation
from workbench.core.records import CallRecord, Cell
from workbench.inference import make_provider
from workbench.services.evals import score_run
from workbench.services.live_scoring import CellVerdict
from workbench.services.run_service import RunRequest, plan_run, resume_run, start_run
from workbench.services.runner import NullListener, RunOptions, RunOutcome
from workbench.storage.labels_repo import LabelsRepo
from workbench.storage.project import Project


class Heard(NullListener):
    def __init__(self) -> None:
        self.finished: list[int] = []
        self.verdicts: list[CellVerdict] = []

    def on_cell_finished(self, cell: Cell, call_id: int, record: CallRecord) -> None:
        self.finished.append(call_id)

    def on_cell_scored(self, verdict: CellVerdict) -> None:
        self.verdicts.append(verdict)


def _run(project: Project, dataset: str, listener: Heard, **options: object) -> RunOutcome:
    async def go() -> RunOutcome:
        provider = make_provider("echo")
        request = RunRequest(prompts=("answer@1",), dataset=dataset, models=())
        plan = await plan_run(project, request, provider, count_tokens=False)
        return await start_run(
            project,
            plan,
            provider,
            listener=listener,
            options=RunOptions(**options),  # type: ignore[arg-type]
        )

    return asyncio.run(go())


def _stored(project: Project, run_id: int) -> dict[int, list[tuple[str, bool, str]]]:
    ids = [r.call_id for r in project.runs.run_grid(run_id) if r.call_id is not None]
    rows = LabelsRepo(project).scores_for_calls(ids)
    return {k: [(s.type, s.passed, s.reason) for s in v] for k, v in rows.items()}


def test_a_plain_run_scores_each_cell_as_it_lands(tmp_path: Path) -> None:
    with _project(tmp_path) as project:
        heard = Heard()
        outcome = _run(project, "cases", heard)
        assert outcome.status == "done" and len(heard.finished) == 4
        # three examples have expectations, the fourth is not scored
        assert len(heard.verdicts) == 3
        assert sorted(v.passed for v in heard.verdicts) == [False, True, True]
        failing = next(v for v in heard.verdicts if not v.passed)
        assert "contains" in failing.failures[0].reason and "beta" in failing.failures[0].reason
        live = _stored(project, outcome.run_id)
        assert len(live) == 3
        # exactly what a re-score stores
        score_run(project, outcome.run_id)
        assert _stored(project, outcome.run_id) == live


def test_cache_hits_are_scored_too(tmp_path: Path) -> None:
    with _project(tmp_path) as project:
        _run(project, "cases", Heard())
        heard = Heard()
        again = _run(project, "cases", heard)
        assert again.progress.cached == 4
        assert len(heard.verdicts) == 3 and len(_stored(project, again.run_id)) == 3


def test_a_resumed_run_scores_the_cells_it_runs(tmp_path: Path) -> None:
    with _project(tmp_path) as project:
        outcome = _run(
            project, "cases", Heard(), budget_usd=0.0, concurrency=1
        )  # one call, then stop
        assert outcome.status == "cancelled"
        heard = Heard()

        async def go() -> RunOutcome:
            return await resume_run(project, outcome.run_id, make_provider("echo"), listener=heard)

        resumed = asyncio.run(go())
        assert resumed.status == "done", (resumed, heard.finished, heard.verdicts)
        assert len(heard.verdicts) == 2, (resumed, heard.finished, heard.verdicts)
        assert len(_stored(project, outcome.run_id)) == 3


def test_the_judge_scores_through_the_runs_engine(tmp_path: Path) -> None:
    with _judged_project(tmp_path) as project:
        heard = Heard()
        outcome = _run(project, "judged", heard)
        assert [v.passed for v in sorted(heard.verdicts, key=lambda v: v.call_id)] == [True, False]
        judge_calls = project.db.execute(
            "SELECT count(*) FROM calls WHERE source = 'judge'"
        ).fetchone()[0]
        assert judge_calls == 2
        assert outcome.progress.done == 2  # judge calls are not the run's cells


def test_an_unusable_expectation_leaves_its_case_unscored_but_the_run_goes_on(
    tmp_path: Path,
) -> None:
    with _project(tmp_path) as project:
        project.datasets.add_examples(
            "cases",
            [Example(vars={"q": "broken"}, expect=[Expectation(type="regex", value="(oops")])],
        )
        heard = Heard()
        outcome = _run(project, "cases", heard)
        assert outcome.status == "done" and len(heard.finished) == 5
        assert len(heard.verdicts) == 3  # the broken example is not scored, the others are
