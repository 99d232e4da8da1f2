"""Planning, choosing a provider, starting and resuming runs: the façade the CLI (`workbench
run`, `workbench eval`) and the GUI (the Run dialog and its worker) share, so both views get the
same plan, the same estimate and the same refusals.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from workbench.core.errors import BadInput
from workbench.inference import make_provider
from workbench.inference.base import Provider
from workbench.inference.keys import ENV_VAR as API_KEY_ENV_VAR
from workbench.inference.keys import MissingApiKey
from workbench.services.batch_runs import open_batch_runs
from workbench.services.file_source import preloaded_file_source, project_file_source
from workbench.services.model_list import ModelCatalog
from workbench.services.planner import (
    BudgetBasis,
    RunPlan,
    budget_problem,
    count_input_tokens,
    make_plan,
)
from workbench.services.pricing import PriceTable
from workbench.services.project_models import model_catalog, price_table
from workbench.services.rendering import FileSource
from workbench.services.runner import RunEngine, RunListener, RunOptions, RunOutcome
from workbench.storage.project import Project
from workbench.storage.runs_repo import RunsRepo

__all__ = [
    "API_KEY_ENV_VAR",
    "MissingApiKey",
    "RunRequest",
    "choose_provider",
    "connect_in_thread",
    "ensure_runnable",
    "open_engine",
    "plan_run",
    "plan_run_blocking",
    "resume_run",
    "spend_summary",
    "start_run",
]


@dataclass(frozen=True)
class RunRequest:
    """What a view asks to run; `plan_run` turns it into a checked `RunPlan`.

    :param budget_usd: refuse a plan above it, and stop the run once spend reaches it
    :param budget_basis: "worst" compares the worst case (max_tokens), "expected" the estimate
    :param only_with_expectations: plan only examples with expectations (an eval)
    """

    prompts: tuple[str, ...]
    dataset: str
    models: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    repeats: int = 1
    budget_usd: float | None = None
    budget_basis: BudgetBasis = "worst"
    only_with_expectations: bool = False


def choose_provider(
    project: Project, name: str = "anthropic", *, stream_delay_s: float | None = None
) -> Provider:
    """The provider a run uses: ``anthropic`` (at the project's base URL if it sets one, else
    the SDK's default / ``ANTHROPIC_BASE_URL``), the offline ``echo``, or ``demo`` (the
    offline demo's per-tier synthetic answers).

    :raises MissingApiKey: for ``anthropic`` when no key is set anywhere
    """
    if name == "echo":
        return make_provider("echo", chunk_delay_s=stream_delay_s or 0.0)
    if name == "demo":
        return make_provider("demo")
    return make_provider(name, base_url=project.settings.base_url or None)


async def plan_run(
    project: Project,
    request: RunRequest,
    provider: Provider | None = None,
    *,
    count_tokens: bool = True,
) -> RunPlan:
    """Plan `request`: the model list and prices read once, input tokens counted through the
    API when `provider` can (a synthetic provider plans at $0), and the budget rule applied.
    Problems are listed in `plan.problems`; `ensure_runnable` refuses them.

    :param count_tokens: False keeps the heuristic (an eval, which shows no estimate)
    """
    catalog, prices = model_catalog(project), price_table(project)
    synthetic = provider is not None and provider.synthetic
    plan = make_plan(
        project,
        prompts=list(request.prompts),
        dataset=request.dataset,
        models=list(request.models) or None,
        tags=list(request.tags),
        repeats=request.repeats,
        catalog=catalog,
        prices=prices,
        synthetic=synthetic,
        only_with_expectations=request.only_with_expectations,
    )
    if count_tokens and provider is not None and not synthetic and plan.cells:
        await count_input_tokens(
            plan,
            provider,
            catalog=catalog,
            prices=prices,
            files=project_file_source(project),
        )
    problem = budget_problem(plan, request.budget_usd, request.budget_basis)
    if problem is not None:
        plan.problems.append(problem)
    return plan


@dataclass(frozen=True)
class Spend:
    """What was paid, with synthetic (offline) calls counted apart: they cost nothing."""

    real_usd: float | None
    """Spend of real calls; None ("unknown") when an answered real call has no price."""
    real_calls: int
    unpriced_calls: int
    synthetic_calls: int

    def to_dict(self) -> dict[str, float | int | None]:
        return {
            "real_usd": self.real_usd,
            "real_calls": self.real_calls,
            "unpriced_calls": self.unpriced_calls,
            "synthetic_calls": self.synthetic_calls,
        }


def spend_summary(project: Project, run_id: int | None = None) -> Spend:
    """Real spend and the synthetic calls apart, for the whole project or one run."""
    raw = project.runs.spend_split(run_id)
    real = None if raw["unpriced_calls"] else round(raw["real_usd"], 8)
    return Spend(real, raw["real_calls"], raw["unpriced_calls"], raw["synthetic_calls"])


def connect_in_thread(project: Project) -> Project:
    """`project` over a connection of the calling thread's own (for a worker thread: the GUI
    thread's connection is never used from another thread); the caller closes it."""
    return Project(project.path, Project.connect_writer(project.path))


def plan_run_blocking(project: Project, request: RunRequest, provider_name: str) -> RunPlan:
    """`plan_run` for a worker thread, as the Run dialog's preflight needs it: its own
    connection (a read-only project plans on the one it has, without counting), its own
    provider for counting tokens (none without an API key: the heuristic stays), its own loop.
    """
    if project.read_only:
        return asyncio.run(plan_run(project, request, None))
    own = connect_in_thread(project)
    try:

        async def go() -> RunPlan:
            try:
                provider: Provider | None = choose_provider(own, provider_name)
            except MissingApiKey:
                provider = None
            try:
                return await plan_run(own, request, provider)
            finally:
                if provider is not None:
                    await provider.aclose()

        return asyncio.run(go())
    finally:
        own.close()


def ensure_runnable(plan: RunPlan) -> None:
    """The one check before anything is sent. :raises BadInput: listing the plan's problems"""
    if plan.problems:
        shown = "; ".join(plan.problems[:3])
        more = f" (and {len(plan.problems) - 3} more)" if len(plan.problems) > 3 else ""
        raise BadInput(
            f"the run plan has problems, so nothing was sent: {shown}{more}",
            hint="Fix the examples, the prompt or the budget, then run again.",
        )
    if not plan.cells:
        raise BadInput("the run plan has no cells, so nothing was sent")


def open_engine(
    project: Project,
    provider: Provider,
    options: RunOptions,
    listener: RunListener | None = None,
    *,
    prices: PriceTable | None = None,
    catalog: ModelCatalog | None = None,
    files: FileSource | None = None,
) -> RunEngine:
    """An engine over its own writer connection to `project`, with the project's prices and
    model list (read now unless given, e.g. the ones a plan was made with) and `files` (where
    image and document bytes come from); the caller closes it."""
    path = project.path
    return RunEngine(
        files=files,
        connect=lambda: Project(path, Project.connect_writer(path)).runs,
        provider=provider,
        prices=prices if prices is not None else price_table(project),
        catalog=catalog if catalog is not None else model_catalog(project),
        options=options,
        listener=listener,
    )


async def start_run(
    project: Project,
    plan: RunPlan,
    provider: Provider,
    *,
    options: RunOptions | None = None,
    listener: RunListener | None = None,
    engine_ready: Callable[[RunEngine], None] | None = None,
    kind: str = "run",
    score: bool = True,
) -> RunOutcome:
    """Create the run row (`kind` "run" or "eval") and its cells, then execute them all.

    :param score: score each finished cell against its example's expectations as it lands
        (`services.live_scoring`); False when the caller scores the run itself afterwards
    """
    ensure_runnable(plan)
    project.require_writable("start a run")
    contents = {v.row_id: v.version.content() for v in plan.versions}
    files = preloaded_file_source(
        project, contents.values(), [cell.example_vars for cell in plan.cells]
    )
    names = {v.row_id: v.prompt for v in plan.versions}
    scorer = _live_scorer(project, plan.cells, listener, provider, names) if score else None
    engine = open_engine(
        project,
        provider,
        options or RunOptions(),
        scorer or listener,
        prices=plan.prices,
        catalog=plan.catalog,
        files=files,
    )
    if scorer is not None:
        scorer.attach(engine)
    if engine_ready is not None:
        engine_ready(engine)  # lets the caller cancel it (Ctrl+C, the Stop button)
    try:
        run_id = await engine.db(
            lambda repo: repo.create_run(
                provider=provider.name,
                synthetic=provider.synthetic,
                plan=plan.to_dict(),
                cells=plan.cells,
                kind=kind,
            )
        )
        cells = await engine.db(RunsRepo.cells, run_id)
        return await _execute_scored(engine, scorer, run_id, cells, contents)
    finally:
        engine.close()


async def _execute_scored(
    engine: RunEngine, scorer: Any, run_id: int, cells: Any, contents: Any
) -> RunOutcome:
    """`engine.execute`, then wait for the scoring of every finished cell (abandoning judge
    calls still in flight when the run was stopped)."""
    try:
        outcome = await engine.execute(run_id, cells, contents)
    except asyncio.CancelledError:
        if scorer is not None:
            await scorer.drain(cancelled=True)
        raise
    if scorer is not None:
        await scorer.drain(cancelled=outcome.status != "done")
    return outcome


def _live_scorer(
    project: Project,
    cells: Any,
    listener: RunListener | None,
    provider: Provider,
    prompt_names: dict[int, str],
) -> Any:
    # Imported here: scoring builds on the evals service, which itself starts runs.
    from workbench.services.live_scoring import scorer_for_cells

    return scorer_for_cells(
        project, cells, listener, prompt_names=prompt_names, judge_provider=provider
    )


async def resume_run(
    project: Project,
    run_id: int,
    provider: Provider,
    *,
    options: RunOptions | None = None,
    listener: RunListener | None = None,
    engine_ready: Callable[[RunEngine], None] | None = None,
) -> RunOutcome:
    """Run only the cells of `run_id` that are missing, failed or cancelled."""
    project.require_writable("resume a run")
    run = project.runs.get_run(run_id)
    if run.status == "running":
        raise BadInput(f"run #{run_id} is still running", hint="Wait for it or cancel it first.")
    if run_id in open_batch_runs(project):
        raise BadInput(
            f"run #{run_id} has Message Batches not yet collected",
            hint="Collect them (`workbench batch collect`) or cancel them first.",
        )
    grid = project.runs.run_grid(run_id)
    names = {r.version_id: r.prompt_name or "" for r in grid}
    scorer = _live_scorer(
        project, [_Example(r.example_id) for r in grid], listener, provider, names
    )
    files = preloaded_file_source(
        project,
        project.runs.version_contents(run_id).values(),
        [cell.example_vars for cell in project.runs.cells(run_id)],
    )
    engine = open_engine(
        project, provider, options or RunOptions(), scorer or listener, files=files
    )
    if scorer is not None:
        scorer.attach(engine)
    if engine_ready is not None:
        engine_ready(engine)  # lets the caller cancel it (Ctrl+C, the Stop button)
    try:
        cells = await engine.db(RunsRepo.reset_cells_for_resume, run_id)
        contents = await engine.db(RunsRepo.version_contents, run_id)
        return await _execute_scored(engine, scorer, run_id, cells, contents)
    finally:
        engine.close()


@dataclass(frozen=True)
class _Example:
    example_id: int | None
