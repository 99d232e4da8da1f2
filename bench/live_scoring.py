"""Scoring as a run lands: what it adds to a run. Prints figures and a ratio measured in one
run; never a timed test.

The offline echo provider answers at once, so the run's own cost is the engine and the writer,
and the difference is the scoring (two expectations per cell, scored off the event loop and
stored through the writer) at its most visible. Against a real model's latency it disappears.
Usage: ``python bench/live_scoring.py [--cells 400]``
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from workbench.core.models import Example, Expectation, Message, Params, PromptContent
from workbench.inference import make_provider
from workbench.services.project_models import seed_defaults
from workbench.services.run_service import RunRequest, plan_run, start_run
from workbench.services.runner import RunOptions
from workbench.storage.project import Project


def _project(folder: Path, cells: int, *, expect: bool) -> Project:
    project = Project.create(folder / f"bench-{expect}.pwb", "live scoring bench")
    seed_defaults(project)
    project.prompts.create("answer")
    content = PromptContent(
        messages=[Message(role="user", content="Topic {{q}}")],
        params=Params(model="claude-haiku-5-5", max_tokens=50),
    )
    project.prompts.save_version("answer", content)
    project.datasets.create("cases")
    checks = [Expectation(type="contains", value="Topic"), Expectation(type="regex", value=r"t\d+")]
    examples = [Example(vars={"q": f"t{i}"}, expect=checks if expect else []) for i in range(cells)]
    project.datasets.add_examples("cases", examples)
    return project


def _run(project: Project) -> float:
    async def go() -> float:
        provider = make_provider("echo")
        request = RunRequest(prompts=("answer@1",), dataset="cases", models=())
        plan = await plan_run(project, request, provider, count_tokens=False)
        started = time.perf_counter()
        await start_run(
            project, plan, provider, options=RunOptions(concurrency=16, use_cache=False)
        )
        return time.perf_counter() - started

    return asyncio.run(go())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cells", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        plain = _project(Path(tmp), args.cells, expect=False)
        scored = _project(Path(tmp), args.cells, expect=True)
        without = min(_run(plain) for _ in range(3))
        with_scoring = min(_run(scored) for _ in range(3))
        plain.close()
        scored.close()
    extra_ms = (with_scoring - without) / args.cells * 1000
    print(f"{args.cells} echo cells, best of 3")
    print(f"  without expectations:            {without:.3f} s")
    print(f"  2 expectations, scored as landed: {with_scoring:.3f} s")
    print(f"  ratio {with_scoring / without:.2f} · {extra_ms:.2f} ms per scored cell")


if __name__ == "__main__":
    main()
