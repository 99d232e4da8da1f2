"""Starting and resuming runs: the façade the CLI and the GUI share."""

from __future__ import annotations

from collections.abc import Callable

from workbench.core.errors import BadInput
from workbench.inference.base import Provider
from workbench.services.batch_runs import open_batch_runs
from workbench.services.planner import RunPlan
from workbench.services.project_catalog import model_catalog, price_table
from workbench.services.runner import RunEngine, RunListener, RunOptions, RunOutcome
from workbench.storage.project import Project
from workbench.storage.runs_repo import RunsRepo


def _engine(
    project: Project, provider: Provider, options: RunOptions, listener: RunListener | None
) -> RunEngine:
    path = project.path
    return RunEngine(
        connect=lambda: RunsRepo(Project.connect_writer(path)),
        provider=provider,
        prices=price_table(project),
        catalog=model_catalog(project),
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
) -> RunOutcome:
    """Create the run row (`kind` "run" or "eval") and its cells, then execute them all."""
    if not plan.ok:
        raise BadInput("the run plan has problems: " + "; ".join(plan.problems[:3]))
    project.require_writable("start a run")
    engine = _engine(project, provider, options or RunOptions(), listener)
    if engine_ready is not None:
        engine_ready(engine)  # lets the caller cancel it (Ctrl+C, the Stop button)
    try:
        run_id = await engine.db(
            lambda repo: repo.create_run(
                provider=provider.name,
                synthetic=bool(getattr(provider, "synthetic", False)),
                plan=plan.to_dict(),
                cells=plan.cells,
                kind=kind,
            )
        )
        cells = await engine.db(RunsRepo.cells, run_id)
        contents = {v.row_id: v.version.content() for v in plan.versions}
        return await engine.execute(run_id, cells, contents)
    finally:
        engine.close()


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
    if run["status"] == "running":
        raise BadInput(f"run #{run_id} is still running", hint="Wait for it or cancel it first.")
    if run_id in open_batch_runs(project):
        raise BadInput(
            f"run #{run_id} has Message Batches not yet collected",
            hint="Collect them (`workbench batch collect`) or cancel them first.",
        )
    engine = _engine(project, provider, options or RunOptions(), listener)
    if engine_ready is not None:
        engine_ready(engine)  # lets the caller cancel it (Ctrl+C, the Stop button)
    try:
        cells = await engine.db(RunsRepo.reset_cells_for_resume, run_id)
        contents = await engine.db(RunsRepo.version_contents, run_id)
        return await engine.execute(run_id, cells, contents)
    finally:
        engine.close()
