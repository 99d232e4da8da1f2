"""Labels on calls (verdict, rating, note, failure tags), the review sample and stored scores."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from workbench.core.errors import BadInput, NotFound, ProjectFileError
from workbench.core.models import Example, Message, Params, PromptContent
from workbench.inference import make_provider
from workbench.services.planner import make_plan
from workbench.services.run_service import start_run
from workbench.storage.labels_repo import LabelsRepo, ScoreRow
from workbench.storage.migrations import migration_names
from workbench.storage.project import Project


def _project_with_calls(tmp_path: Path, n: int = 6) -> tuple[Project, list[int]]:
    project = Project.create(tmp_path / "l.pwb", "labels")
    project.prompts.create("p")
    project.prompts.save_version(
        "p",
        PromptContent(messages=[Message(role="user", content="{{q}}")], params=Params(model="m")),
    )
    project.datasets.create("d")
    project.datasets.add_examples("d", [Example(vars={"q": f"question {i}"}) for i in range(n)])
    plan = make_plan(project, prompts=["p"], dataset="d")
    outcome = asyncio.run(start_run(project, plan, make_provider("echo")))
    ids = [r.call_id for r in project.runs.run_grid(outcome.run_id)]
    return project, ids


def test_m003_is_the_labels_migration() -> None:
    assert migration_names()[2] == "m003_labels_and_scores"


def test_labels_change_part_by_part_like_keyboard_labeling(tmp_path: Path) -> None:
    project, ids = _project_with_calls(tmp_path)
    with project:
        labels = LabelsRepo(project)
        labels.add_tag("hallucination", "made something up")
        labels.add_tag("  too   long ")
        assert [t.name for t in labels.tags()] == ["hallucination", "too long"]
        first = labels.set_label(ids[0], verdict="fail")
        assert first is not None and first.verdict == "fail" and first.rating is None
        labels.set_label(ids[0], rating=2)
        labels.set_label(ids[0], note="Invented a discount.")
        labels.toggle_tag(ids[0], "hallucination")
        label = labels.toggle_tag(ids[0], "too long")
        assert label is not None
        assert (label.verdict, label.rating, label.note) == ("fail", 2, "Invented a discount.")
        assert label.tags == ("hallucination", "too long")
        assert labels.toggle_tag(ids[0], "too long").tags == ("hallucination",)  # type: ignore[union-attr]
        labels.set_label(ids[1], verdict="pass", rating=5)
        assert set(labels.for_calls(ids)) == {ids[0], ids[1]}
        assert labels.human_verdicts() == {ids[0]: "fail", ids[1]: "pass"}
        labels.clear(ids[1])
        assert labels.get(ids[1]) is None
        labels.delete_tag("hallucination")
        assert labels.get(ids[0]).tags == ()  # type: ignore[union-attr]


def test_bad_labels_are_refused_with_the_field(tmp_path: Path) -> None:
    project, ids = _project_with_calls(tmp_path, n=1)
    with project:
        labels = LabelsRepo(project)
        with pytest.raises(BadInput, match="verdict"):
            labels.set_label(ids[0], verdict="maybe")
        for rating in (0, 6, True, 2.5):
            with pytest.raises(BadInput, match="rating"):
                labels.set_label(ids[0], rating=rating)  # type: ignore[arg-type]
        with pytest.raises(NotFound, match="tag"):
            labels.set_label(ids[0], tags=["never-made"])
        with pytest.raises(NotFound, match="#999"):
            labels.set_label(999, verdict="pass")
        for name in ("", "a, b", "x" * 65):
            with pytest.raises(BadInput):
                labels.add_tag(name)
        labels.add_tag("a")
        labels.add_tag("b")
        with pytest.raises(BadInput, match="already exists"):
            labels.rename_tag("a", "b")
        labels.rename_tag("a", "wrong tone")
        assert [t.name for t in labels.tags()] == ["wrong tone", "b"]


def test_review_sample_is_random_unlabelled_and_repeatable(tmp_path: Path) -> None:
    project, ids = _project_with_calls(tmp_path, n=10)
    with project:
        labels = LabelsRepo(project)
        labels.set_label(ids[0], verdict="pass")
        sample = labels.review_sample(4, seed=7)
        assert len(sample) == 4 and ids[0] not in sample and set(sample) <= set(ids)
        assert sample == labels.review_sample(4, seed=7)
        assert sorted(labels.review_sample(50)) == sorted(ids[1:])
        with pytest.raises(BadInput):
            labels.review_sample(0)


def test_labelled_calls_carry_vars_output_and_tags(tmp_path: Path) -> None:
    project, ids = _project_with_calls(tmp_path, n=3)
    with project:
        labels = LabelsRepo(project)
        labels.add_tag("pii")
        labels.set_label(ids[2], verdict="fail", tags=["pii"], note="=cmd")
        (row,) = labels.labelled_calls()
        assert row.call_id == ids[2] and row.vars == {"q": "question 2"}
        assert row.prompt == "p" and row.version == 1 and row.tags == ["pii"]
        assert "question 2" in row.output
        assert labels.labelled_calls(prompt="other") == []


def test_scores_are_replaced_per_call(tmp_path: Path) -> None:
    project, ids = _project_with_calls(tmp_path, n=2)
    with project:
        labels = LabelsRepo(project)
        rows = [ScoreRow(0, "contains", True, 1.0, "ok"), ScoreRow(1, "regex", False, 0.0, "no")]
        labels.replace_scores([(ids[0], None, rows), (ids[1], None, rows[:1])])
        assert labels.scores_for_calls([ids[0]])[ids[0]] == rows
        summary = {r.call_id: r.passed for r in labels.scored_calls()}
        assert summary == {ids[0]: 0, ids[1]: 1}
        labels.replace_scores([(ids[0], None, rows[:1])])
        assert len(labels.scores_for_calls([ids[0]])[ids[0]]) == 1


def test_labels_need_a_writable_project(tmp_path: Path) -> None:
    project, ids = _project_with_calls(tmp_path, n=1)
    project.close()
    with (
        Project.open(tmp_path / "l.pwb", read_only=True) as read_only,
        pytest.raises(ProjectFileError, match="read-only"),
    ):
        LabelsRepo(read_only).set_label(ids[0], verdict="pass")
