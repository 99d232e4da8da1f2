"""Which calls the review queue samples, and how one call reads as a case (Qt-free)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.services.call_case import CaseLoader, sample_calls
from workbench.services.logs_import import import_logs
from workbench.services.project_session import Project, open_project_file
from workbench.services.projects import create_project

SAMPLE = Path(__file__).resolve().parents[2] / "projects" / "quizcraft.yaml"


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    path = tmp_path / "sample.pwb"
    create_project(path, bundle=SAMPLE)
    with open_project_file(path) as opened:
        yield opened


def _import(project: Project, tmp_path: Path, count: int) -> int:
    lines = [
        {
            "timestamp": f"2026-11-20T10:0{i}:00Z",
            "prompt": "support-answer",
            "version": 1,
            "model": "claude-haiku-5-5",
            "vars": {"question": f"production question {i}"},
            "output": f"Production answer {i}",
            "latency_ms": 700 + i,
            "call_id": f"prod-{i}",
        }
        for i in range(count)
    ]
    log = tmp_path / "calls.jsonl"
    log.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    report = import_logs(project, log)
    assert report.run_id is not None and report.calls == count
    return int(report.run_id)


def test_a_sample_holds_only_unlabelled_calls_of_its_scope(
    project: Project, tmp_path: Path
) -> None:
    run_id = _import(project, tmp_path, 5)
    everything = sample_calls(project, 20, "import", seed=1)
    assert len(everything) == 5
    assert sample_calls(project, 20, "import", seed=1) == everything  # the seed repeats it
    assert sample_calls(project, 20, "all") == []  # no runs or evals yet, only imports
    assert sorted(sample_calls(project, 20, "run", run_id)) == sorted(everything)
    project.labels.set_label(everything[0], verdict="pass")
    rest = sample_calls(project, 20, "import", seed=1)
    assert everything[0] not in rest and len(rest) == 4
    assert len(sample_calls(project, 2, "import", seed=1)) == 2


def test_a_case_reads_its_output_inputs_and_origin(project: Project, tmp_path: Path) -> None:
    run_id = _import(project, tmp_path, 1)
    (call_id,) = sample_calls(project, 1, "import")
    case = CaseLoader(project).load(call_id)
    assert (case.call_id, case.model, case.source) == (call_id, "claude-haiku-5-5", "import")
    assert case.output == "Production answer 0"
    assert case.vars_text() == "question: production question 0"
    assert case.version_text == "support-answer@v1"
    assert case.origin_text == f"production import #{run_id}"
    assert not case.synthetic
