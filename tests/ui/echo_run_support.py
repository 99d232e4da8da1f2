"""Shared set-up for the labeling, review queue, promote and evals tests (not a test module)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from quiz_project_support import HAIKU, SONNET, make_project

from workbench.inference import make_provider
from workbench.services.logs_import import import_logs
from workbench.services.planner import make_plan
from workbench.services.project_models import model_catalog, price_table
from workbench.services.run_service import start_run
from workbench.storage.project import Project

__all__ = ["HAIKU", "SONNET", "echo_run", "import_calls", "project_with_run"]


def echo_run(
    project: Project, prompts: list[str], models: list[str], dataset: str = "topics"
) -> int:
    """Run `prompts` × `models` over `dataset` with the offline echo provider; the run id."""
    plan = make_plan(
        project,
        prompts=prompts,
        dataset=dataset,
        models=models,
        catalog=model_catalog(project),
        prices=price_table(project),
    )
    outcome = asyncio.run(start_run(project, plan, make_provider("echo")))
    assert outcome.status == "done", outcome
    return outcome.run_id


def project_with_run(tmp_path: Path, examples: int = 4) -> tuple[Project, int]:
    """`make_project` plus one finished echo run of quiz@1 and quiz@2 on Haiku."""
    project = make_project(tmp_path, examples=examples)
    return project, echo_run(project, ["quiz@1", "quiz@2"], [HAIKU])


def import_calls(project: Project, tmp_path: Path, count: int = 3) -> int:
    """Import `count` production calls of quiz v1 (with their variables); the import's run id."""
    lines = [
        {
            "timestamp": f"2026-11-20T10:0{i}:00Z",
            "prompt": "quiz",
            "version": 1,
            "model": HAIKU,
            "vars": {"topic": f"production topic {i}", "level": "easy"},
            "output": f"Production answer {i}: what causes the tides?",
            "latency_ms": 700 + i,
            "call_id": f"prod-{i}",
        }
        for i in range(count)
    ]
    path = tmp_path / "calls.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    report = import_logs(project, path)
    assert report.calls == count and report.run_id is not None
    return int(report.run_id)
