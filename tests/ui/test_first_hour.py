"""The first hour in the window, from an empty project: new project → new dataset → three rows
typed in → Try the draft → run across three tiers against the fake server → three columns of
answers → label one → the run header's totals equal `workbench report`'s."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QPlainTextEdit
from pytestqt.qtbot import QtBot

from workbench.cli.main import main as cli_main
from workbench.services.project_models import model_catalog
from workbench.services.try_service import one_model_per_tier
from workbench.testing.fake_anthropic import FakeAnthropicServer
from workbench.ui.context import Change, ProjectContext
from workbench.ui.main_window import DATASET_TAB, MainWindow
from workbench.ui.operations import wait_for_project_ops

QUESTIONS = [
    "How do I reset my password?",
    "Can I get a refund after two weeks?",
    "Does it run on Linux?",
]


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropicServer]:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-FAKE")
    with FakeAnthropicServer() as fake:
        yield fake


def _drain(qtbot: QtBot) -> None:
    wait_for_project_ops()
    qtbot.wait(30)
    QApplication.processEvents()


def _type_cell(qtbot: QtBot, window: MainWindow, row: int, column: int, text: str) -> None:
    table = window.dataset_editor.table
    index = window.dataset_editor.model.index(row, column)
    table.setCurrentIndex(index)
    table.edit(index)  # what a double-click or a typed key does
    editors = table.viewport().findChildren(QPlainTextEdit)
    assert editors, "the cell editor did not open"
    qtbot.keyClicks(editors[-1], text)
    qtbot.keyClick(editors[-1], Qt.Key.Key_Return)  # Enter saves the cell
    _drain(qtbot)


def test_first_hour_from_an_empty_project(
    qtbot: QtBot,
    tmp_path: Path,
    qsettings: QSettings,
    server: FakeAnthropicServer,
    artifacts_dir: Path,
    capsys: pytest.CaptureFixture[str],
    settle: Callable[[], None],
) -> None:
    ctx = ProjectContext()
    window = MainWindow(ctx, settings=qsettings, remember_layout=False)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    try:
        # The welcome screen while nothing is open.
        assert window.centre.currentWidget() is window.welcome
        assert window.welcome.new_button.isVisible() and window.welcome.demo_button.isVisible()
        window.grab().save(str(artifacts_dir / "first_hour_welcome_1280x800.png"))

        # New project (empty), pointed at the fake server.
        path = tmp_path / "first.pwb"
        assert window.create_new_project(path)
        project = ctx.require()
        assert project.prompts.names() == [] and project.datasets.names() == []
        project.set_settings(project.settings.model_copy(update={"base_url": server.base_url}))
        ctx.notify(Change.SETTINGS)
        assert f"project setting → {server.base_url}" in window.key_label.text()
        assert window.centre.currentWidget() is not window.welcome

        # A prompt (its draft has one variable, {{input}}).
        window.editor.create_prompt("support")
        _drain(qtbot)
        assert window.editor.prompt_name == "support"
        window.editor.system_editor.setPlainText("You answer QuizCraft support questions briefly.")

        # Dataset ▸ New dataset…: the prompt's variables become the columns.
        dialog = window.datasets.ask_new()
        assert dialog is not None and dialog.textValue() == "support-examples"
        dialog.textValueSelected.emit(dialog.textValue())
        dialog.close()
        _drain(qtbot)
        assert project.datasets.names() == ["support-examples"]
        assert window.tabs.currentIndex() == DATASET_TAB
        assert window.dataset_editor.model.variables() == ["input"]
        assert window.datasets.delete_action.isEnabled()

        # Three rows typed in.
        for row, question in enumerate(QUESTIONS):
            window.dataset_editor.add_row_action.trigger()
            _drain(qtbot)
            _type_cell(qtbot, window, row, 0, question)
        stored = [e.vars["input"] for e in project.datasets.get("support-examples").examples]
        assert stored == QUESTIONS
        sidebar_item = window.sidebar.find("dataset", "support-examples")
        assert sidebar_item is not None and sidebar_item.text(0) == "support-examples (3)"

        # Try the unsaved draft across one model per tier (Ctrl+Enter in the editor).
        window.show_prompt("support")
        tiers = one_model_per_tier(model_catalog(project))
        assert len(tiers) == 3 and [t.split("-")[1] for t in tiers] == ["haiku", "sonnet", "opus"]
        panel = window.editor.try_panel
        assert panel.checked_models() == tiers
        panel.fields["input"].setPlainText(QUESTIONS[0])
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow, timeout=3000)
        window.editor.system_editor.setFocus()
        qtbot.keyClick(
            window.editor.system_editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier
        )
        qtbot.waitUntil(lambda: len(panel.answers) == 3 or not panel.running, timeout=20_000)
        assert len(panel.answers) == 3, panel.status.text()
        assert [a.model for a in panel.answers] == tiers
        assert all(a.error is None and a.text for a in panel.answers)
        assert all(a.latency_ms is not None and a.output_tokens for a in panel.answers)
        assert "not as a version" in panel.status.text()
        assert window.editor.is_dirty and project.prompts.get("support").versions == []
        draft_hash = window.editor.current_content().content_hash()
        assert len(project.runs.draft_call_ids(draft_hash)) == 3
        window.grab().save(str(artifacts_dir / "first_hour_try_panel_1280x800.png"))

        # Save v1, then run it across the three tiers from the Run dialog.
        assert window.editor.save_with_note("first draft", wait=True)
        _drain(qtbot)
        run_dialog = window.controller.open_run_dialog(
            window, prompts=["support@1"], dataset="support-examples"
        )
        qtbot.waitUntil(
            lambda: run_dialog.plan is not None and run_dialog.run_button.isEnabled(),
            timeout=20_000,
        )
        assert sorted(run_dialog.plan.models) == sorted(tiers)
        with qtbot.waitSignal(window.controller.run_finished, timeout=30_000) as finished:
            qtbot.keyClick(run_dialog, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        outcome = finished.args[0]
        assert outcome.status == "done" and outcome.totals["cells"] == 9
        window.controller.wait()
        _drain(qtbot)

        # The grid: three columns (one per tier), every cell answered.
        window.show_run(outcome.run_id)
        model = window.grid.model
        assert model.columnCount() == 3 and model.rowCount() == 3
        assert sorted(c.model for c in model.columns) == sorted(tiers)
        for row in range(3):
            for column in range(3):
                cell = model.cell_at(row, column)
                assert cell is not None and cell.status == "done" and cell.text
        window.grab().save(str(artifacts_dir / "first_hour_grid_three_tiers_1280x800.png"))

        # Label one answer.
        window.grid.table.setFocus()
        window.grid.table.setCurrentIndex(window.grid.proxy.index(0, 0))
        window.grid.labeling.actions["pass"].trigger()
        _drain(qtbot)
        labelled = model.cell_at(0, 0)
        assert labelled is not None and labelled.call_id is not None
        assert project.labels.get(labelled.call_id).verdict == "pass"

        # The header's and the status bar's totals equal the report's.
        header = window.grid.status.text()
        status = window.run_status.spend.text()
        capsys.readouterr()
        with pytest.raises(SystemExit):
            cli_main(["report", str(path), "--run", str(outcome.run_id), "--json"])
        report = json.loads(capsys.readouterr().out)
        real = report["spend"]["real_usd"]
        assert real is not None and real > 0
        from workbench.services.money import usd

        assert usd(real) in header, (header, real)
        assert status.startswith(f"{usd(real)} spent"), (status, real)
    finally:
        window.controller.wait()
        ctx.close()  # first: a failed step must not leave an unsaved-edits question open
        window.close()
