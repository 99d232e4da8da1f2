"""The Evals tab: pass rates with intervals, the regression view and judge–human agreement."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from echo_run_support import HAIKU, echo_run
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from quiz_project_support import assert_fonts_render, make_project

from workbench.core.models import Example, Expectation
from workbench.services.evals import score_run
from workbench.storage.labels_repo import ScoreRow
from workbench.ui.context import Change, ProjectContext
from workbench.ui.widgets.eval_views import EvalsPane

# Echo outputs quote the system prompt: v2 adds "One question only."
STRICT = "One question only"


@pytest.fixture
def pane(qtbot: QtBot, tmp_path: Path) -> Iterator[EvalsPane]:
    project = make_project(tmp_path, examples=4)
    ids = [example_id for example_id, _ in project.datasets.get_with_ids("topics")]
    for n, example_id in enumerate(ids):
        kind = "not-contains" if n < 3 else "icontains"  # rows 1–3 break on v2, row 4 is fixed
        example = project.datasets.get_example(example_id)
        expect = [Expectation(type=kind, value=STRICT)]
        project.datasets.update_example(
            example_id, Example(vars=example.vars, tags=example.tags, expect=expect)
        )
    run_id = echo_run(project, ["quiz@1", "quiz@2"], [HAIKU])
    score_run(project, run_id)
    ctx = ProjectContext()
    ctx.set_project(project)
    widget = EvalsPane(ctx)
    qtbot.addWidget(widget)
    widget.resize(1100, 760)
    widget.show()
    qtbot.waitUntil(lambda: not widget.busy and widget.rate_table.rowCount() == 2, timeout=5000)
    yield widget
    widget.close()
    ctx.close()


def _cells(table: object) -> list[list[str]]:
    return [
        [table.item(r, c).text() for c in range(table.columnCount())]  # type: ignore[attr-defined]
        for r in range(table.rowCount())  # type: ignore[attr-defined]
    ]


def test_pass_rates_regression_and_agreement(
    qtbot: QtBot, pane: EvalsPane, artifacts_dir: Path
) -> None:
    assert _cells(pane.rate_table) == [
        ["quiz@v1", HAIKU, "4", "3", "75 %", "30 % – 95 %"],
        ["quiz@v2", HAIKU, "4", "1", "25 %", "5 % – 70 %"],
    ]
    assert (pane.base_choice.currentText(), pane.head_choice.currentText()) == ("v1", "v2")
    with qtbot.waitSignal(pane.updated, timeout=5000):
        qtbot.mouseClick(pane.compare_button, Qt.MouseButton.LeftButton)
    assert pane.flip_summary.text() == (
        "quiz v1 → v2: 3 broke (pass → fail) · 1 fixed · 0 still passing · 0 still failing"
    )
    flips = _cells(pane.flip_table)
    assert [row[:3] for row in flips] == [
        ["pass → fail", "1", HAIKU],
        ["pass → fail", "2", HAIKU],
        ["pass → fail", "3", HAIKU],
        ["fail → pass", "4", HAIKU],
    ]
    assert "not-contains" in flips[0][4] and STRICT in flips[0][4]
    assert pane.agreement_text.text().startswith("No call has both")

    # A judge verdict stored beside two human labels: one agreement, one disagreement.
    project = pane.ctx.require()
    first, second = (row.call_id for row in project.runs.run_grid(1)[:2])
    stored = project.labels.scores_for_calls([first, second])
    rubric = ScoreRow(1, "llm-rubric", True, 1.0, "the judge scored 5/5")
    project.labels.replace_scores([(c, None, [*stored[c], rubric]) for c in (first, second)])
    project.labels.set_label(first, verdict="pass")
    with qtbot.waitSignal(pane.updated, timeout=5000):
        project.labels.set_label(second, verdict="fail")
        pane.ctx.notify(Change.LABELS, second)
    assert pane.agreement_text.text() == "The judge agrees with people on 1 of 2 calls (50 %)."
    assert _cells(pane.confusion) == [["1", "0"], ["1", "0"]]
    assert_fonts_render(pane, "quiz@v1 → 75 % – 95 % —")
    pane.grab().save(str(artifacts_dir / "evals_tab.png"))


def test_rescore_after_an_expectation_changes(qtbot: QtBot, pane: EvalsPane) -> None:
    project = pane.ctx.require()
    for example_id, example in project.datasets.get_with_ids("topics"):
        project.datasets.update_example(
            example_id,
            example.model_copy(update={"expect": [Expectation(type="contains", value="quiz")]}),
        )
    with qtbot.waitSignal(pane.updated, timeout=5000):
        qtbot.mouseClick(pane.rescore_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not pane.busy and _cells(pane.rate_table)[0][3] == "4", timeout=5000)
    assert [row[4] for row in _cells(pane.rate_table)] == ["100 %", "100 %"]
