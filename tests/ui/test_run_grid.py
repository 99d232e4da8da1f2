"""The run grid and the run controller, with real runs: the offline echo provider and the fake
Anthropic server on loopback (streaming, faults, cancel, resume)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from pytestqt.qtbot import QtBot
from quiz_project_support import HAIKU, SONNET, assert_fonts_render, make_project

from workbench.core.models import Settings
from workbench.core.records import CellWithCall
from workbench.services.planner import RunPlan, make_plan
from workbench.services.project_models import model_catalog, price_table
from workbench.services.runner import RunOptions
from workbench.storage.project import Project
from workbench.testing.fake_anthropic import FakeAnthropicServer
from workbench.ui.context import ProjectContext
from workbench.ui.models.run_grid_model import CALL_ID_ROLE, STATUS_ROLE, RunGridModel
from workbench.ui.run_controller import NO_KEY_MESSAGE, RunController
from workbench.ui.theme import color
from workbench.ui.widgets.run_grid import RunGrid
from workbench.ui.widgets.run_grid_bars import SYNTHETIC_BADGE

FAKE_KEY = "sk-ant-test-FAKE"


class Screen:
    """A context, a controller and a grid, wired as the main window wires them."""

    def __init__(self, qtbot: QtBot, project: Project, *, demo: bool) -> None:
        self.qtbot = qtbot
        # The echo provider: these tests read the rendered prompt back from the cells.
        self.ctx = ProjectContext(demo=demo, demo_provider="echo")
        self.ctx.set_project(project)
        self.controller = RunController(self.ctx)
        self.grid = RunGrid(self.ctx)
        self.grid.attach(self.controller)
        qtbot.addWidget(self.grid)
        self.grid.resize(1280, 720)
        self.grid.show()
        self.errors: list[str] = []
        self.controller.error.connect(self.errors.append)

    @property
    def project(self) -> Project:
        return self.ctx.require()

    def plan(self, prompts: list[str], models: list[str], **kw: object) -> RunPlan:
        p = self.project
        return make_plan(
            p,
            prompts=prompts,
            dataset="topics",
            models=models,
            catalog=model_catalog(p),
            prices=price_table(p),
            **kw,  # type: ignore[arg-type]
        )

    def run(
        self, plan: RunPlan, options: RunOptions | None = None, timeout: int = 20_000
    ) -> object:
        with self.qtbot.waitSignal(self.controller.run_finished, timeout=timeout) as blocker:
            assert self.controller.start(plan, options)
        return blocker.args[0]

    def close(self) -> None:
        self.controller.cancel()
        self.controller.wait()
        self.grid.close()
        self.ctx.close()


@pytest.fixture
def demo(qtbot: QtBot, tmp_path: Path) -> Iterator[Screen]:
    screen = Screen(qtbot, make_project(tmp_path), demo=True)
    yield screen
    screen.close()


@pytest.fixture
def fake_server() -> Iterator[FakeAnthropicServer]:
    with FakeAnthropicServer(ttft_ms=30, token_interval_ms=2) as server:
        yield server


@pytest.fixture
def live(
    qtbot: QtBot, tmp_path: Path, fake_server: FakeAnthropicServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Screen]:
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
    project = make_project(tmp_path)
    project.set_settings(Settings(base_url=fake_server.base_url, default_concurrency=4))
    screen = Screen(qtbot, project, demo=False)
    yield screen
    screen.close()


def texts(grid: RunGrid) -> list[list[str]]:
    proxy = grid.proxy
    return [
        [proxy.index(r, c).data() for c in range(proxy.columnCount())]
        for r in range(proxy.rowCount())
    ]


def test_demo_run_fills_the_grid_with_marked_synthetic_outputs(
    demo: Screen, artifacts_dir: Path
) -> None:
    outcome = demo.run(demo.plan(["quiz@1", "quiz@2"], [HAIKU, SONNET]))
    assert outcome.status == "done"  # type: ignore[attr-defined]
    grid = demo.grid
    assert (grid.model.rowCount(), grid.model.columnCount()) == (4, 4)
    header = grid.model.headerData(0, Qt.Orientation.Horizontal)
    assert header == f"quiz@v1\n{HAIKU}"
    first = grid.proxy.index(0, 0).data()
    stats, output = first.split("\n", 1)
    assert output.startswith("[system] You write short quizzes.")
    assert stats.endswith(" tok · $0 · synthetic")  # synthetic calls cost nothing
    assert grid.badge.isVisible() and grid.badge.text() == SYNTHETIC_BADGE
    assert grid.status.text().startswith(f"Run #{outcome.run_id} · done · 16/16 cells · 0 errors")  # type: ignore[attr-defined]
    assert not grid.resume_button.isVisible()
    assert_fonts_render(grid.table, first[-40:])
    grid.grab().save(str(artifacts_dir / "run_grid_demo_finished.png"))


def test_streaming_run_against_the_fake_server(
    live: Screen, fake_server: FakeAnthropicServer, artifacts_dir: Path
) -> None:
    fake_server.configure(ttft_ms=40, token_interval_ms=25)
    seen: list[int] = []
    live.controller.cell_text.connect(lambda cell_id, _delta: seen.append(cell_id))
    live.controller.start(live.plan(["quiz@1", "quiz@2"], [HAIKU, SONNET]))
    grid = live.grid

    def streaming_with_text() -> bool:
        statuses = [
            grid.proxy.index(r, c).data(STATUS_ROLE)
            for r in range(grid.proxy.rowCount())
            for c in range(grid.proxy.columnCount())
        ]
        return statuses.count("streaming") >= 2 and any(
            len(cell.stream) > 120 for cell in grid.model.cells.values()
        )

    live.qtbot.waitUntil(streaming_with_text, timeout=10_000)
    assert grid.stop_button.isVisible() and "in flight" in grid.status.text()
    grid.grab().save(str(artifacts_dir / "run_grid_mid_stream.png"))
    with live.qtbot.waitSignal(live.controller.run_finished, timeout=30_000) as blocker:
        pass
    outcome = blocker.args[0]
    assert outcome.status == "done" and outcome.progress.errors == 0
    assert seen  # text arrived in coalesced deltas
    stats, output = grid.proxy.index(0, 0).data().split("\n", 1)
    assert output.startswith('Regarding "Write a hard question about"')
    assert " tok · $" in stats and "synthetic" not in stats
    assert not grid.badge.isVisible() and not grid.stop_button.isVisible()
    grid.grab().save(str(artifacts_dir / "run_grid_finished.png"))


def test_error_cells_are_marked_and_the_errors_only_filter_finds_them(
    live: Screen, fake_server: FakeAnthropicServer
) -> None:
    fake_server.script({"fault": "400", "request_number": 2})
    live.run(live.plan(["quiz@1"], [HAIKU]), RunOptions(concurrency=1, use_cache=False))
    grid = live.grid
    errors = [
        (r, c)
        for r in range(grid.model.rowCount())
        for c in range(grid.model.columnCount())
        if grid.model.index(r, c).data(STATUS_ROLE) == "error"
    ]
    assert len(errors) == 1
    index = grid.model.index(*errors[0])
    assert index.data().startswith("✖ ") and "400" in index.data()
    assert index.data(Qt.ItemDataRole.BackgroundRole).color().name() == color("error_bg").name()
    assert "1 error" in grid.status.text()
    grid.errors_only.setChecked(True)
    assert grid.proxy.rowCount() == 1
    grid.errors_only.setChecked(False)
    assert grid.proxy.rowCount() == 4


def test_cancel_stops_within_a_second_and_resume_finishes_the_rest(
    live: Screen, fake_server: FakeAnthropicServer
) -> None:
    fake_server.configure(ttft_ms=3000, token_interval_ms=0)
    plan = live.plan(["quiz@1", "quiz@2"], [HAIKU])
    live.controller.start(plan, RunOptions(concurrency=2))
    live.qtbot.waitUntil(lambda: live.grid.stop_button.isVisible(), timeout=5000)
    started = time.monotonic()
    with live.qtbot.waitSignal(live.controller.run_finished, timeout=5000) as blocker:
        live.qtbot.mouseClick(live.grid.stop_button, Qt.MouseButton.LeftButton)
    assert time.monotonic() - started < 1.0
    assert blocker.args[0].status == "cancelled"
    grid = live.grid
    assert grid.resume_button.isVisible() and grid.resume_button.isEnabled()
    assert "cancelled" in grid.status.text()
    assert "cancelled (resume to run it)" in grid.proxy.index(0, 0).data()
    fake_server.configure(ttft_ms=5, token_interval_ms=0)
    with live.qtbot.waitSignal(live.controller.run_finished, timeout=20_000) as blocker:
        live.qtbot.mouseClick(grid.resume_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].status == "done"
    assert all(c.status == "done" for c in grid.model.cells.values())
    assert not grid.resume_button.isVisible()


def test_selecting_a_cell_announces_its_call(demo: Screen) -> None:
    demo.run(demo.plan(["quiz@1"], [HAIKU]))
    picked: list[int] = []
    demo.grid.call_selected.connect(picked.append)
    demo.grid.table.setFocus()
    demo.grid.table.setCurrentIndex(demo.grid.proxy.index(1, 0))
    assert picked and picked[-1] == demo.grid.proxy.index(1, 0).data(CALL_ID_ROLE) > 0


def test_compare_two_cells_shows_a_word_diff(demo: Screen, artifacts_dir: Path) -> None:
    demo.run(demo.plan(["quiz@1", "quiz@2"], [HAIKU]))
    grid = demo.grid
    selection = grid.table.selectionModel()
    selection.select(grid.proxy.index(0, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect)
    selection.select(grid.proxy.index(0, 1), QItemSelectionModel.SelectionFlag.Select)
    assert grid.compare_button.isEnabled()
    demo.qtbot.mouseClick(grid.compare_button, Qt.MouseButton.LeftButton)
    assert grid.diff.isVisible()
    assert grid.diff.right.toPlainText().startswith(
        "[system] You write short quizzes. One question"
    )
    assert "change" in grid.diff.summary.text()
    grid.grab().save(str(artifacts_dir / "run_grid_compare.png"))
    demo.qtbot.mouseClick(grid.diff.close_button, Qt.MouseButton.LeftButton)
    assert not grid.diff.isVisible()


def test_differs_filter_and_sort(demo: Screen) -> None:
    demo.run(demo.plan(["quiz@1", "quiz@2"], [HAIKU, SONNET]))
    grid = demo.grid
    # Echo outputs depend on the prompt, not the model: v1/haiku equals v1/sonnet...
    grid.differ_left.setCurrentIndex(1)
    grid.differ_right.setCurrentIndex(2)
    assert grid.proxy.rowCount() == 0
    # ...but v1 and v2 differ on every row.
    grid.differ_right.setCurrentIndex(3)
    assert grid.proxy.rowCount() == 4
    grid.differ_left.setCurrentIndex(0)
    grid.search.setText("volcanoes")
    assert grid.proxy.rowCount() == 1
    grid.search.clear()
    grid.sort_mode.setCurrentIndex(grid.sort_mode.findData("output"))
    grid.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    firsts = [grid.proxy.index(r, 0).data(STATUS_ROLE) for r in range(4)]
    assert firsts == ["done"] * 4
    outputs = [
        grid.model.cell_at(grid.proxy.mapToSource(grid.proxy.index(r, 0)).row(), 0).output
        for r in range(4)
    ]
    assert outputs == sorted(outputs, key=str.casefold)


def test_missing_api_key_gives_a_clear_message(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    screen = Screen(qtbot, make_project(tmp_path), demo=False)
    try:
        with qtbot.waitSignal(screen.controller.error, timeout=10_000) as blocker:
            screen.controller.start(screen.plan(["quiz@1"], [HAIKU]))
        assert blocker.args[0] == NO_KEY_MESSAGE
        assert "Settings" in NO_KEY_MESSAGE and "ANTHROPIC_API_KEY" in NO_KEY_MESSAGE
        assert not screen.controller.running
    finally:
        screen.close()


def test_read_only_project_refuses_to_run(qtbot: QtBot, tmp_path: Path) -> None:
    make_project(tmp_path).close()
    screen = Screen(qtbot, Project.open(tmp_path / "grid.pwb", read_only=True), demo=True)
    try:
        assert not screen.controller.start(screen.plan(["quiz@1"], [HAIKU]))
        assert "read-only" in screen.errors[-1]
    finally:
        screen.close()


def test_a_run_left_running_by_a_dead_process_offers_resume(qtbot: QtBot, tmp_path: Path) -> None:
    project = make_project(tmp_path)
    plan = make_plan(project, prompts=["quiz@1"], dataset="topics", models=[HAIKU])
    run_id = project.runs.create_run(
        provider="echo", synthetic=True, plan=plan.to_dict(), cells=plan.cells
    )
    project.close()  # as if the process died mid-run: the run row still says 'running'
    screen = Screen(qtbot, Project.open(tmp_path / "grid.pwb"), demo=True)
    try:
        screen.grid.show_run(run_id)
        assert screen.grid.run is not None and screen.grid.run.status == "interrupted"
        assert screen.grid.resume_button.isVisible()
        with qtbot.waitSignal(screen.controller.run_finished, timeout=20_000) as blocker:
            qtbot.mouseClick(screen.grid.resume_button, Qt.MouseButton.LeftButton)
        assert blocker.args[0].status == "done"
        assert screen.grid.model.rowCount() == 4
    finally:
        screen.close()


def test_grid_model_of_200_rows_by_6_columns_updates_one_cell_per_delta(qtbot: QtBot) -> None:
    rows = [
        CellWithCall(
            cell_id=r * 6 + c + 1,
            version_id=1 + c // 3,
            version=1 + c // 3,
            prompt_name="quiz",
            example_id=r + 1,
            example_vars={"topic": "t"},
            model=[HAIKU, SONNET, "claude-opus-5-5"][c % 3],
            repeat=0,
            position=r,
            status="pending",
            call_id=None,
        )
        for r in range(200)
        for c in range(6)
    ]
    model = RunGridModel()
    started = time.perf_counter()
    model.load(1, rows)
    assert (model.rowCount(), model.columnCount()) == (200, 6)
    changed: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(
        lambda a, b, *_: changed.append((a.row(), a.column(), b.row(), b.column()))
    )
    model.cell_started(7)
    model.append_text(7, "Hello")
    model.append_text(7, " world")
    assert changed == [(1, 0, 1, 0)] * 3
    assert model.index(1, 0).data() == "streaming… 11 chars\nHello world▌"
    assert time.perf_counter() - started < 2  # generous: a sanity bound, not a benchmark


def test_a_planned_layout_binds_each_cell_as_it_starts(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    try:
        plan = make_plan(
            project, prompts=["quiz@1", "quiz@2"], dataset="topics", models=[HAIKU, SONNET]
        )
        model = RunGridModel()
        model.load_plan(plan)
        assert (model.rowCount(), model.columnCount()) == (4, 4)
        assert model.index(0, 0).data() == "waiting…"
        run_id = project.runs.create_run(
            provider="echo", synthetic=True, plan=plan.to_dict(), cells=plan.cells
        )
        resets: list[bool] = []
        model.modelReset.connect(lambda: resets.append(True))
        for cell in project.runs.cells(run_id):
            key = (cell.version_id, cell.model, cell.repeat, cell.position)
            assert model.bind_cell(cell.id, key)
            r, c = model.where(cell.id)  # type: ignore[misc]
            assert model.rows[r].position == cell.position
            assert (model.columns[c].version_id, model.columns[c].model) == (
                cell.version_id,
                cell.model,
            )
        assert not resets
        assert not model.bind_cell(999, (1, "no-such-model", 0, 0))
    finally:
        project.close()


def test_an_unknown_run_is_reported_in_the_header(demo: Screen) -> None:
    demo.grid.show_run(4242)
    assert demo.grid.status.text() == "There is no run #4242 in this project."
    assert demo.grid.model.rowCount() == 0
    demo.grid.show_run(None)
    assert demo.grid.status.text() == "No run selected"
