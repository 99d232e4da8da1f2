"""Promote to eval case: the dialog driven with real keys, the case checked in the dataset with
its provenance, and re-scored by an eval run."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from echo_run_support import HAIKU, import_calls, project_with_run
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot
from quiz_project_support import assert_fonts_render

from workbench.inference import make_provider
from workbench.services.evals import run_eval
from workbench.storage.project import Project
from workbench.ui.context import ProjectContext
from workbench.ui.dialogs.promote_dialog import NEW_DATASET, PromoteDialog


@pytest.fixture
def setup(qapp: object, tmp_path: Path) -> Iterator[tuple[ProjectContext, int]]:
    project, run_id = project_with_run(tmp_path)
    ctx = ProjectContext()
    ctx.set_project(project)
    yield ctx, run_id
    ctx.close()


def _dialog(qtbot: QtBot, ctx: ProjectContext, call_id: int) -> PromoteDialog:
    dialog = PromoteDialog(ctx, call_id)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def _provenance(project: Project, example_id: int) -> dict:
    # Read straight from the file: the datasets API does not expose provenance yet.
    row = project.db.execute(
        "SELECT provenance_json FROM examples WHERE id = ?", [example_id]
    ).fetchone()
    return json.loads(row[0])


def test_promote_with_keyword_and_regex_to_a_new_dataset_then_rescore(
    qtbot: QtBot, setup: tuple[ProjectContext, int], artifacts_dir: Path
) -> None:
    ctx, run_id = setup
    project = ctx.require()
    call_id = project.runs.run_grid(run_id)[0].call_id
    project.labels.set_label(call_id, verdict="pass", rating=4, note="clear and short")
    output = project.runs.get_call(call_id).output
    dialog = _dialog(qtbot, ctx, call_id)
    assert dialog.provenance.text() == f"Call #{call_id} · quiz@v1 · {HAIKU} · run #{run_id}"
    assert dialog.inputs.toPlainText() == "level: hard\ntopic: photosynthesis"
    assert dialog.dataset.currentText() == "topics"  # the run's own dataset first
    assert dialog.use_equals.isChecked()  # a passing output is a fine reference
    assert dialog.note.text() == "clear and short"

    dialog.dataset.setFocus()
    dialog.dataset.setCurrentText(NEW_DATASET)
    assert dialog.new_name.isEnabled() and not dialog.ok.isEnabled()
    qtbot.keyClicks(dialog.new_name, "eval-cases")
    qtbot.keyClicks(dialog.keyword, "PHOTOSYNTHESIS")
    assert dialog.use_keyword.isChecked()
    assert dialog.keyword_status.text() == "✓ this output contains it"
    qtbot.keyClicks(dialog.regex, "quest(ion")
    assert dialog.regex_status.text().startswith("Invalid regex: missing ), unterminated")
    assert not dialog.ok.isEnabled()
    qtbot.keyClick(dialog.regex, Qt.Key.Key_End)
    qtbot.keyClicks(dialog.regex, ")?")
    assert dialog.regex_status.text() == "✓ matches this output"
    assert dialog.ok.isEnabled()
    assert_fonts_render(dialog, "✓ • — · Promote")
    dialog.grab().save(str(artifacts_dir / "promote_dialog.png"))

    with qtbot.waitSignal(dialog.promoted) as blocker:
        qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    example_id, dataset = blocker.args
    assert dataset == "eval-cases" and not dialog.isVisible()
    ((stored_id, example),) = project.datasets.get_with_ids("eval-cases")
    assert stored_id == example_id
    assert example.vars == {"topic": "photosynthesis", "level": "hard"}
    assert [(e.type, e.value) for e in example.expect] == [
        ("equals", output),
        ("icontains", "PHOTOSYNTHESIS"),
        ("regex", "quest(ion)?"),
    ]
    assert example.note == "clear and short"
    assert _provenance(project, example_id) == {
        "call_id": call_id,
        "prompt": "quiz",
        "version": 1,
        "model": HAIKU,
        "run_id": run_id,
        "source": "run",
    }
    # Re-score: an eval run of the same version reproduces the output, so the case passes.
    report = asyncio.run(
        run_eval(
            project,
            dataset="eval-cases",
            prompts=["quiz@1"],
            provider=make_provider("echo"),
            models=[HAIKU],
        )
    )
    assert [(g.cases, g.passed) for g in report.groups] == [(1, 1)]


def test_a_failed_output_is_not_offered_as_reference_and_a_rubric_keeps_its_threshold(
    qtbot: QtBot, setup: tuple[ProjectContext, int]
) -> None:
    ctx, run_id = setup
    project = ctx.require()
    call_id = project.runs.run_grid(run_id)[1].call_id
    project.labels.add_tag("too long")
    project.labels.set_label(call_id, verdict="fail", tags=["too long"])
    dialog = _dialog(qtbot, ctx, call_id)
    assert not dialog.use_equals.isChecked()
    assert dialog.tags.text() == "too long"
    assert dialog.error.text() == "Choose at least one expectation."
    qtbot.keyClicks(dialog.rubric, "One question, no answer given away")
    dialog.threshold.setFocus()
    qtbot.keyClick(dialog.threshold, Qt.Key.Key_Down)  # 4 -> 3
    with qtbot.waitSignal(dialog.promoted):
        qtbot.keyClick(dialog.threshold, Qt.Key.Key_Return)
    (_, example), *_ = reversed(project.datasets.get_with_ids("topics"))
    assert [(e.type, e.value, e.threshold) for e in example.expect] == [
        ("llm-rubric", "One question, no answer given away", 3.0)
    ]
    assert example.tags == ["too long"]


def test_cancel_writes_nothing(qtbot: QtBot, setup: tuple[ProjectContext, int]) -> None:
    ctx, run_id = setup
    project = ctx.require()
    before = len(project.datasets.get_with_ids("topics"))
    dialog = _dialog(qtbot, ctx, project.runs.run_grid(run_id)[0].call_id)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).click()
    assert not dialog.isVisible()
    assert len(project.datasets.get_with_ids("topics")) == before


def test_an_imported_production_call_shows_its_logged_variables(
    qtbot: QtBot, setup: tuple[ProjectContext, int], tmp_path: Path
) -> None:
    ctx, _ = setup
    project = ctx.require()
    import_id = import_calls(project, tmp_path, count=1)
    (call_id,) = project.labels.unlabelled_call_ids(import_id)
    dialog = _dialog(qtbot, ctx, call_id)
    assert dialog.provenance.text() == (
        f"Call #{call_id} · quiz@v1 · {HAIKU} · production import #{import_id}"
    )
    assert "topic: production topic 0" in dialog.inputs.toPlainText()
    dialog.reject()
