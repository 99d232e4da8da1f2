"""A run over a dataset with expectations colours its cells pass/fail as they land, with no
click: the failing expectation and its reason on hover, k/n per column header, and repeats in
one column per version × model with k/n passes and a flakiness mark."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from quiz_project_support import HAIKU, SONNET, make_project
from test_run_grid import Screen

from workbench.core.models import Example, Expectation
from workbench.services.planner import make_plan
from workbench.services.project_models import model_catalog, price_table
from workbench.services.run_grid_cells import FLAKY_MARK
from workbench.services.runner import RunOptions
from workbench.ui.models.run_grid_model import DIFFERS_ROLE, FAILED, PASSED
from workbench.ui.widgets.eval_views import EvalsPane


def _graded(tmp_path: Path) -> Screen.__class__:
    project = make_project(tmp_path)
    project.datasets.create("graded")
    # The echo provider answers with the rendered prompt: "Write a hard question about …".
    project.datasets.add_examples(
        "graded",
        [
            Example(vars={"topic": "volcanoes", "level": "hard"},
                    expect=[Expectation(type="contains", value="hard")]),
            Example(vars={"topic": "tides", "level": "easy"},
                    expect=[Expectation(type="contains", value="hard")]),
            Example(vars={"topic": "comets", "level": "easy"}),
        ],
    )  # fmt: skip
    return project


def _plan(screen: Screen, repeats: int = 1) -> object:
    p = screen.project
    return make_plan(
        p,
        prompts=["quiz@1"],
        dataset="graded",
        models=[HAIKU, SONNET],
        repeats=repeats,
        catalog=model_catalog(p),
        prices=price_table(p),
        synthetic=True,
    )


def test_cells_are_coloured_as_they_land_without_a_click(
    qtbot: QtBot, tmp_path: Path, artifacts_dir: Path
) -> None:
    screen = Screen(qtbot, _graded(tmp_path), demo=True)
    evals = EvalsPane(screen.ctx)
    qtbot.addWidget(evals)
    evals.show()
    try:
        screen.run(_plan(screen), RunOptions(concurrency=4))  # type: ignore[arg-type]
        model = screen.grid.model
        qtbot.waitUntil(lambda: model.column_pass_rate(0) == (1, 2), timeout=5000)
        # the Evals tab has the pass rates too, without a "Re-score"
        qtbot.waitUntil(lambda: evals.rate_table.rowCount() == 2, timeout=5000)
        assert "No scored cases" not in evals.status.text()
        for column in range(2):
            assert model.data(model.index(0, column), Qt.ItemDataRole.BackgroundRole) is PASSED
            assert model.data(model.index(1, column), Qt.ItemDataRole.BackgroundRole) is FAILED
            assert model.data(model.index(2, column), Qt.ItemDataRole.BackgroundRole) is None
            header = model.headerData(column, Qt.Orientation.Horizontal)
            assert header.endswith("pass 1/2")
        tip = model.data(model.index(1, 0), Qt.ItemDataRole.ToolTipRole)
        assert "✗ fails:" in tip and "contains 'hard'" in tip
        assert model.data(model.index(1, 0)).startswith("✗ contains · ")
        assert model.data(model.index(0, 0)).startswith("✓ pass · ")
        # two lines of output are readable in a column
        table = screen.grid.table
        assert (
            table.columnWidth(0) >= 220
            and table.rowHeight(0) >= 3 * table.fontMetrics().lineSpacing()
        )
        qtbot.wait(50)
        assert screen.grid.grab().save(str(artifacts_dir / "grid_verdicts.png"))
        # reopening the run shows the stored verdicts
        screen.grid.show_run(model.run_id)
        assert model.column_pass_rate(1) == (1, 2)
    finally:
        evals.close()
        screen.close()


def test_repeats_share_a_column_with_k_of_n_and_a_flaky_mark(
    qtbot: QtBot, tmp_path: Path, artifacts_dir: Path
) -> None:
    project = _graded(tmp_path)
    screen = Screen(qtbot, project, demo=True)
    try:
        screen.run(_plan(screen, repeats=3), RunOptions(concurrency=4))  # type: ignore[arg-type]
        model = screen.grid.model
        assert model.columnCount() == 2  # 2 models × 3 repeats: still one column per model
        qtbot.waitUntil(lambda: model.column_pass_rate(0) == (3, 6), timeout=5000)
        text = model.data(model.index(0, 0))
        assert text.startswith("3/3 repeats pass")
        assert "×3" in model.headerData(0, Qt.Orientation.Horizontal)
        # make one repeat of row 0 fail: the cell is flaky
        row0 = model.repeats[(0, 0)]
        failing = next(iter(model.repeats[(1, 0)][0].verdict or ()))
        model.set_cell_verdict(row0[1].cell_id, row0[1].call_id or 0, (failing,))
        text = model.data(model.index(0, 0))
        assert text.startswith(f"2/3 repeats pass · {FLAKY_MARK}")
        tip = model.data(model.index(0, 0), Qt.ItemDataRole.ToolTipRole)
        assert "#2: ✗ fails:" in tip and "#1: ✓" in tip
        assert screen.grid.grab().save(str(artifacts_dir / "grid_repeats.png"))
    finally:
        screen.close()


def test_differs_from_the_first_column_is_one_click_away(
    qtbot: QtBot, tmp_path: Path, artifacts_dir: Path
) -> None:
    screen = Screen(qtbot, _graded(tmp_path), demo=True)
    try:
        p = screen.project
        plan = make_plan(
            p,
            prompts=["quiz@1", "quiz@2"],  # v2 has another system prompt: every output differs
            dataset="graded",
            models=[HAIKU],
            catalog=model_catalog(p),
            prices=price_table(p),
            synthetic=True,
        )
        screen.run(plan)
        model = screen.grid.model
        assert not model.data(model.index(0, 1), DIFFERS_ROLE)
        qtbot.mouseClick(screen.grid.differs_first, Qt.MouseButton.LeftButton)
        assert all(model.data(model.index(r, 1), DIFFERS_ROLE) for r in range(3))
        assert not model.data(model.index(0, 0), DIFFERS_ROLE)  # the first column itself
        tip = model.data(model.index(0, 1), Qt.ItemDataRole.ToolTipRole)
        assert "≠ differs from the first column" in tip
        qtbot.wait(50)
        assert screen.grid.grab().save(str(artifacts_dir / "grid_differs_first.png"))
        qtbot.mouseClick(screen.grid.differs_first, Qt.MouseButton.LeftButton)
        assert not model.data(model.index(0, 1), DIFFERS_ROLE)
    finally:
        screen.close()
