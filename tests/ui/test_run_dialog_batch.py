"""The Run dialog's "Run as a batch" choice: batch price in the label, Run submits batches."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from quiz_project_support import make_project

from workbench.services.batch_runs import list_batches
from workbench.testing.fake_anthropic import FakeAnthropicServer
from workbench.ui.context import ProjectContext
from workbench.ui.run_controller import RunController


def settle(qtbot: QtBot, dialog: object) -> None:
    qtbot.waitUntil(
        lambda: (
            not dialog._debounce.isActive()  # type: ignore[attr-defined]
            and dialog.preflight.summary.text() != "Checking…"
        ),  # type: ignore[attr-defined]
        timeout=5000,
    )


def test_run_as_a_batch_submits_message_batches(
    qtbot: QtBot, tmp_path: Path, artifacts_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = ProjectContext()
    ctx.set_project(make_project(tmp_path))
    controller = RunController(ctx)
    with FakeAnthropicServer() as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-FAKE-dialog")
        monkeypatch.setenv("WORKBENCH_NO_KEYRING", "1")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
        dialog = controller.open_run_dialog(None, prompts=["quiz@1"], dataset="topics")
        settle(qtbot, dialog)
        choice = dialog.as_batch
        assert choice.isEnabled() and "Run as a batch: estimated $" in choice.text()
        choice.setChecked(True)
        qtbot.wait(50)
        assert dialog.grab().save(str(artifacts_dir / "run_dialog_batch.png"))
        models = [dialog.models.item(i) for i in range(dialog.models.count())]
        tiers = sum(1 for item in models if item.checkState() == Qt.CheckState.Checked)
        assert tiers == 3  # one current model per tier is preselected
        with qtbot.waitSignal(controller.batch_submitted, timeout=20_000) as submitted:
            qtbot.keyClick(dialog, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        report = submitted.args[0]
        assert report.submitted == 4 * tiers  # the dataset's 4 examples on each model
        batches = list_batches(ctx.require(), report.run_id)
        assert len(batches) == 1 and batches[0]["status"] == "in_progress"
        assert server.stats()["messages_requests"] == 0, "no live call was made"
    ctx.close()


def test_no_batches_in_the_offline_demo(qtbot: QtBot, tmp_path: Path) -> None:
    ctx = ProjectContext(demo=True)
    ctx.set_project(make_project(tmp_path))
    controller = RunController(ctx)
    dialog = controller.open_run_dialog(None, prompts=["quiz@1"], dataset="topics")
    settle(qtbot, dialog)
    assert not dialog.as_batch.isEnabled() and not dialog.as_batch.chosen
    dialog.close()
    ctx.close()
