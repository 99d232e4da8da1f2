"""The run dialog: preflight on every change, problems and the budget gate the Run button, and
Run hands the plan to the controller."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidget
from pytestqt.qtbot import QtBot
from quiz_project_support import HAIKU, SONNET, assert_fonts_render, make_project

from workbench.core.models import Example, Message, Params, PromptContent
from workbench.services.project_models import model_catalog
from workbench.services.try_service import one_model_per_tier
from workbench.ui.context import ProjectContext
from workbench.ui.dialogs.run_dialog import SYNTHETIC_BANNER, RunDialog
from workbench.ui.run_controller import RunController


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[ProjectContext]:
    context = ProjectContext()
    context.set_project(make_project(tmp_path))
    yield context
    context.close()


def open_dialog(qtbot: QtBot, ctx: ProjectContext, **kw: object) -> RunDialog:
    dialog = RunDialog(ctx, None, **kw)  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    dialog.show()
    settle(qtbot, dialog)
    return dialog


def settle(qtbot: QtBot, dialog: RunDialog) -> None:
    """Wait until the background preflight for the latest change has been shown."""
    qtbot.waitUntil(
        lambda: not dialog._debounce.isActive() and dialog.preflight.summary.text() != "Checking…",
        timeout=5000,
    )


def only(widget: QListWidget, *wanted: str) -> None:
    """Check exactly `wanted` (the dialog preselects one model per tier)."""
    for i in range(widget.count()):
        item = widget.item(i)
        on = item.data(Qt.ItemDataRole.UserRole) in wanted
        item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)


def check(widget: QListWidget, data: str, on: bool = True) -> None:
    for i in range(widget.count()):
        item = widget.item(i)
        if item.data(Qt.ItemDataRole.UserRole) == data:
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
            return
    raise AssertionError(f"{data} not offered")


def checked(widget: QListWidget) -> list[str]:
    return [
        widget.item(i).data(Qt.ItemDataRole.UserRole)
        for i in range(widget.count())
        if widget.item(i).checkState() == Qt.CheckState.Checked
    ]


def test_preflight_shows_cells_tokens_and_cost_per_model(
    qtbot: QtBot, ctx: ProjectContext, artifacts_dir: Path
) -> None:
    dialog = open_dialog(qtbot, ctx)
    # Defaults: the latest version of the first prompt, and one current model per tier (the
    # version's own model, Haiku 5.5, is the newest Haiku).
    assert checked(dialog.versions) == ["quiz@2"]
    tiers = one_model_per_tier(model_catalog(ctx.require()))
    assert [t.split("-")[1] for t in tiers] == ["haiku", "sonnet", "opus"]
    assert sorted(checked(dialog.models)) == sorted(tiers) and HAIKU in tiers
    assert dialog.dataset.currentData() == "topics"
    check(dialog.versions, "quiz@1")
    only(dialog.models, HAIKU, SONNET)
    settle(qtbot, dialog)
    assert dialog.plan is not None and len(dialog.plan.cells) == 16
    summary = dialog.preflight.summary.text()
    assert summary.startswith("16 calls · 2 model(s) · estimated $")
    table = dialog.preflight.table
    assert sorted(table.item(r, 0).text() for r in range(table.rowCount())) == [HAIKU, SONNET]
    assert table.item(0, 1).text() == "8" and table.item(0, 5).text().startswith("$")
    assert dialog.preflight.issues.item(0).text() == "✔ No problems found."
    assert dialog.run_button.isEnabled() and dialog.run_button.text() == "Run 16 calls"
    list_item = dialog.versions.item(1).text()
    assert list_item == "quiz @ v1  [production] — first"
    assert_fonts_render(dialog.preflight.table)
    dialog.grab().save(str(artifacts_dir / "run_dialog_preflight.png"))


def test_repeats_and_tags_change_the_plan(qtbot: QtBot, ctx: ProjectContext) -> None:
    dialog = open_dialog(qtbot, ctx)
    only(dialog.models, HAIKU)
    dialog.repeats.setValue(3)
    settle(qtbot, dialog)
    assert len(dialog.plan.cells) == 12  # type: ignore[union-attr]
    dialog.tags.setText("smoke")
    settle(qtbot, dialog)
    assert len(dialog.plan.cells) == 6  # type: ignore[union-attr]
    assert "smoke" in dialog.tags.placeholderText()
    dialog.tags.setText("no-such-tag")
    settle(qtbot, dialog)
    assert not dialog.run_button.isEnabled()
    assert "has no examples tagged no-such-tag" in dialog.preflight.issues.item(0).text()


def test_missing_variables_block_the_run_and_name_the_example(
    qtbot: QtBot, ctx: ProjectContext
) -> None:
    project = ctx.require()
    project.datasets.add_examples("topics", [Example(vars={"topic": "clouds"})])
    example_id = project.datasets.get_with_ids("topics")[-1][0]
    dialog = open_dialog(qtbot, ctx)
    assert not dialog.run_button.isEnabled()
    problems = [
        dialog.preflight.issues.item(i).text() for i in range(dialog.preflight.issues.count())
    ]
    assert problems[0] == (f"✖ quiz@v2, example #{example_id} (row 5): missing variable(s) level")
    assert "1 problem to fix" in dialog.preflight.summary.text()
    assert dialog.run_button.toolTip() == "Fix the problems listed in the preflight first"


def test_estimate_above_the_budget_disables_run(qtbot: QtBot, ctx: ProjectContext) -> None:
    dialog = open_dialog(qtbot, ctx)
    dialog.repeats.setValue(50)
    check(dialog.models, SONNET)
    settle(qtbot, dialog)
    estimate = dialog.plan.estimated_cost  # type: ignore[union-attr]
    assert estimate is not None and estimate > 0.02
    dialog.budget.setValue(0.01)
    settle(qtbot, dialog)
    assert not dialog.run_button.isEnabled()
    assert any(
        "exceeds the budget $0.01" in dialog.preflight.issues.item(i).text()
        for i in range(dialog.preflight.issues.count())
    )
    dialog.budget.setValue(50)
    settle(qtbot, dialog)
    assert dialog.run_button.isEnabled()
    assert dialog.options().budget_usd == 50


def test_no_models_or_versions_chosen_is_explained(qtbot: QtBot, ctx: ProjectContext) -> None:
    dialog = open_dialog(qtbot, ctx)
    only(dialog.models)
    settle(qtbot, dialog)
    assert dialog.preflight.summary.text() == "Choose at least one model."
    check(dialog.versions, "quiz@2", on=False)
    settle(qtbot, dialog)
    assert dialog.preflight.summary.text() == "Choose at least one prompt version."
    assert not dialog.run_button.isEnabled()


def test_prompt_and_dataset_arguments_preselect(qtbot: QtBot, ctx: ProjectContext) -> None:
    project = ctx.require()
    project.datasets.create("other")
    project.prompts.create("summary")
    project.prompts.save_version(
        "summary",
        PromptContent(
            messages=[Message(role="user", content="Summarise {{topic}}")],
            params=Params(model=SONNET),
        ),
    )
    dialog = open_dialog(qtbot, ctx, prompts=["quiz@production", "summary"], dataset="topics")
    assert checked(dialog.versions) == ["quiz@1", "summary@1"]
    assert {HAIKU, SONNET} <= set(checked(dialog.models))
    only(dialog.models, HAIKU, SONNET)
    settle(qtbot, dialog)
    assert dialog.plan is not None and len(dialog.plan.cells) == 16


def test_demo_dialog_says_outputs_are_synthetic(qtbot: QtBot, tmp_path: Path) -> None:
    ctx = ProjectContext(demo=True)
    ctx.set_project(make_project(tmp_path))
    dialog = open_dialog(qtbot, ctx)
    assert any(
        label.text() == SYNTHETIC_BANNER
        for label in dialog.findChildren(type(dialog.preflight.summary))
    )
    assert "offline demo: nothing is paid" in dialog.preflight.summary.text()
    assert dialog.preflight.table.item(0, 5).text().endswith("(synthetic)")
    dialog.close()
    ctx.close()


def test_run_button_starts_the_run_through_the_controller(qtbot: QtBot, tmp_path: Path) -> None:
    ctx = ProjectContext(demo=True)
    ctx.set_project(make_project(tmp_path))
    controller = RunController(ctx)
    dialog = controller.open_run_dialog(None, prompts=["quiz@1"], dataset="topics")
    settle(qtbot, dialog)
    only(dialog.models, HAIKU)
    settle(qtbot, dialog)
    assert dialog.isVisible() and dialog.run_button.isEnabled()
    with (
        qtbot.waitSignal(controller.run_finished, timeout=20_000) as finished,
        qtbot.waitSignal(controller.run_started, timeout=10_000),
    ):
        qtbot.keyClick(dialog, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    outcome = finished.args[0]
    assert outcome.status == "done" and outcome.totals["cells"] == 4
    assert ctx.require().runs.latest_run_id() == outcome.run_id
    controller.wait()
    ctx.close()
