"""Scoring as a run lands: each finished cell whose example has expectations is scored as soon
as its call is committed, cache hits included, so pass/fail is known without a "Re-score".

`LiveScorer` is a `RunListener` that wraps the view's listener: it passes every event on, and
after a cell finishes it scores the cell's output with the same function `score_run` uses
(`evals.score_output`), stores the scores through the engine's writer thread (after the call's
own commit, on the same connection), then tells the inner listener `on_cell_scored` when it has
that method. `llm-rubric` verdicts are asked of the project's judge through the run's own engine
(`Judge.judge_with`), so they share its throttle, prices, request cache and log.

Scoring runs off the event loop (`asyncio.to_thread`): a `python` check or a slow regex waits
on its own time limit without holding up the run's streams.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from workbench.core.errors import NotFound, WorkbenchError
from workbench.core.models import Expectation
from workbench.core.records import CallRecord, Cell
from workbench.inference.base import Provider
from workbench.services.evals import call_failed_scores, input_text, score_output
from workbench.services.judge import Judge, JudgeRequest
from workbench.services.runner import NullListener, Progress, RunEngine, RunListener
from workbench.services.scorers import CallFacts, check_expectations, rubric_expectations
from workbench.storage.labels_repo import ScoreRow
from workbench.storage.project import Project


@dataclass(frozen=True)
class CellVerdict:
    """A scored cell as the grid shows it: pass/fail and the failing expectations' reasons."""

    cell_id: int
    call_id: int
    results: tuple[ScoreRow, ...]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results if r.weight > 0)

    @property
    def failures(self) -> list[ScoreRow]:
        return [r for r in self.results if not r.passed and r.weight > 0]


def expectations_of(
    project: Project, example_ids: Sequence[int | None], problems: list[str] | None = None
) -> dict[int, list[Expectation]]:
    """The current expectations of each example that has some (deleted examples left out).

    Each is checked first; an example whose expectations are unusable (a bad regex…) is left
    unscored and its message added to `problems`: a plain run is not refused for it (`run_eval`
    refuses before anything is sent, and re-scoring names it).
    """
    found: dict[int, list[Expectation]] = {}
    for example_id in dict.fromkeys(e for e in example_ids if e is not None):
        try:
            example = project.datasets.get_example(example_id)
        except NotFound:
            continue
        if not example.expect:
            continue
        try:
            check_expectations(
                example.expect, where=f"example #{example_id}", base_dir=project.path
            )
        except WorkbenchError as exc:
            if problems is not None:
                problems.append(exc.user_message)
            continue
        found[example_id] = list(example.expect)
    return found


class LiveScorer(NullListener):
    """Scores cells as they finish; pass it to the engine as its listener, `attach` the engine,
    and `await drain()` before the engine closes.

    :param inner: the listener that hears every event (and `on_cell_scored` if it has one)
    :param expectations: per example id, what its cells are scored against
    :param prompt_names: prompt name per version row id (for scorers that read it)
    :param judge_provider: the provider the judge calls go through (the run's own); None when
        `llm-rubric` should only use verdicts already stored
    """

    def __init__(
        self,
        project: Project,
        inner: RunListener | None,
        expectations: Mapping[int, list[Expectation]],
        *,
        prompt_names: Mapping[int, str] | None = None,
        judge_provider: Provider | None = None,
        judge_model: str | None = None,
    ) -> None:
        self.project = project
        self.inner: RunListener = inner or NullListener()
        self.expectations = dict(expectations)
        self.prompt_names = dict(prompt_names or {})
        self.judge: Judge | None = None
        self.judge_problem: str | None = None
        if any(rubric_expectations(e) for e in self.expectations.values()):
            try:
                self.judge = Judge(project, judge_provider, model=judge_model)
            except WorkbenchError as exc:  # no judge prompt: say so in the verdict, not a crash
                self.judge_problem = exc.user_message
        self.engine: RunEngine | None = None
        self.scored = 0
        self.problems: list[str] = []
        """Why cells could not be scored (a write refused, a scorer crashed); re-scoring from
        the Evals tab scores them again."""
        self._tasks: set[asyncio.Task[None]] = set()

    def attach(self, engine: RunEngine) -> None:
        """The engine whose writer stores the scores (and whose `call` the judge uses)."""
        self.engine = engine

    # -- the listener ------------------------------------------------------------------------
    def on_progress(self, progress: Progress) -> None:
        self.inner.on_progress(progress)

    def on_cell_started(self, cell: Cell) -> None:
        self.inner.on_cell_started(cell)

    def on_cell_text(self, cell_id: int, delta: str) -> None:
        self.inner.on_cell_text(cell_id, delta)

    def on_cell_reset(self, cell_id: int) -> None:
        self.inner.on_cell_reset(cell_id)

    def on_cell_finished(self, cell: Cell, call_id: int, record: CallRecord) -> None:
        self.inner.on_cell_finished(cell, call_id, record)
        expectations = self.expectations.get(cell.example_id) if cell.example_id else None
        if not expectations or self.engine is None:
            return
        task = asyncio.get_running_loop().create_task(
            self._score(cell, call_id, record, expectations)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, *, cancelled: bool = False) -> None:
        """Wait for the scoring of every finished cell; after a cancel, judge calls still in
        flight are abandoned (those cells stay unscored until re-scored)."""
        while self._tasks:
            pending = list(self._tasks)
            if cancelled:
                for task in pending:
                    task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*pending, return_exceptions=True)

    # -- scoring -----------------------------------------------------------------------------
    async def _score(
        self, cell: Cell, call_id: int, record: CallRecord, expectations: list[Expectation]
    ) -> None:
        try:
            await self._score_one(cell, call_id, record, expectations)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a scoring problem never stops the run
            self.problems.append(f"call #{call_id}: {type(exc).__name__}: {exc}")

    async def _score_one(
        self, cell: Cell, call_id: int, record: CallRecord, expectations: list[Expectation]
    ) -> None:
        assert self.engine is not None
        engine = self.engine
        facts = CallFacts(
            call_id=call_id,
            model=record.model,
            input=input_text(cell.example_vars),
            vars=dict(cell.example_vars),
            latency_ms=record.latency_ms,
            cost_usd=record.cost_usd,
            stop_reason=record.stop_reason,
            prompt=self.prompt_names.get(cell.version_id, ""),
        )
        if not record.ok:
            results = call_failed_scores(record.error_type, record.error_message, expectations)
        else:
            judge_fn = await self._judge_fn(engine, expectations, record.output or "", facts)
            results = await asyncio.to_thread(
                score_output,
                expectations,
                record.output or "",
                facts,
                judge=judge_fn,
                base_dir=self.project.path,
            )
        stored = [(call_id, cell.example_id, results)]
        # On the writer thread: the labels repository over the engine writer's own connection.
        await engine.db(lambda repo: repo.project.labels.replace_scores(stored))
        self.scored += 1
        self.inner.on_cell_scored(CellVerdict(cell.id, call_id, tuple(results)))

    async def _judge_fn(
        self, engine: RunEngine, expectations: list[Expectation], output: str, facts: CallFacts
    ) -> Any:
        rubrics = rubric_expectations(expectations)
        if not rubrics:
            return None
        if self.judge is None:
            problem = self.judge_problem or "no judge is available"
            return lambda _rubric, _output, _call: (None, problem)
        requests = [JudgeRequest(str(e.value), output, facts.input, facts.call_id) for e in rubrics]
        verdicts = await self.judge.judge_with(engine, requests)
        return self.judge.verdict_fn(verdicts)


def scorer_for_cells(
    project: Project,
    cells: Sequence[Any],
    inner: RunListener | None,
    *,
    prompt_names: Mapping[int, str] | None = None,
    judge_provider: Provider | None = None,
) -> LiveScorer | None:
    """A `LiveScorer` for a run over `cells` (anything with `example_id`), or None when no
    example of theirs has expectations (nothing to score: the listener stays as it was)."""
    problems: list[str] = []
    expectations = expectations_of(project, [c.example_id for c in cells], problems)
    if not expectations:
        return None
    scorer = LiveScorer(
        project,
        inner,
        expectations,
        prompt_names=prompt_names,
        judge_provider=judge_provider,
    )
    scorer.problems.extend(problems)
    return scorer


def stored_verdicts(project: Project, call_ids: Sequence[int]) -> dict[int, tuple[ScoreRow, ...]]:
    """The stored scores of `call_ids` by call id (calls never scored are left out)."""
    rows = project.labels.scores_for_calls(call_ids)
    return {call_id: tuple(scores) for call_id, scores in rows.items() if scores}
