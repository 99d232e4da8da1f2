"""One run façade for both views: the same plan gets the same estimate from `workbench run
--dry-run` and from the Run dialog (both count input tokens through the API and learn output
lengths from the same history)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from workbench.cli.main import main
from workbench.storage.project import Project
from workbench.testing.fake_anthropic import FakeAnthropicServer
from workbench.ui.context import ProjectContext
from workbench.ui.dialogs.run_dialog import RunDialog

PROMPT, DATASET = "support-answer@2", "support-questions"


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


def test_the_cli_and_the_run_dialog_give_the_same_estimate(
    qtbot: QtBot,
    sample_project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    artifacts_dir: Path,
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-FAKE")
    with FakeAnthropicServer() as server:
        with Project.open(sample_project) as project:
            project.set_settings(project.settings.model_copy(update={"base_url": server.base_url}))
        run = ["run", str(sample_project), "--prompt", PROMPT, "--dataset", DATASET]
        code, _, err = _cli([*run, "--models", "claude-haiku-5-5"], capsys)  # the history
        assert code == 0, err

        ctx = ProjectContext()
        ctx.set_project(Project.open(sample_project))
        try:
            dialog = RunDialog(ctx, None, prompts=[PROMPT], dataset=DATASET)
            qtbot.addWidget(dialog)
            dialog.show()
            qtbot.waitUntil(
                lambda: not dialog._debounce.isActive() and dialog.plan is not None, timeout=30_000
            )
            assert dialog.plan is not None
            from_dialog = dialog.plan.to_dict()
            dialog.grab().save(str(artifacts_dir / "run_dialog_preflight_with_history.png"))
            # The GUI holds the write lock; a dry run only reads.
            # The dialog preselects one model per tier; the CLI is given the same models.
            models = ",".join(dialog.plan.models)
            code, out, err = _cli([*run, "--models", models, "--dry-run", "--json"], capsys)
            assert code == 0, err
            from_cli = json.loads(out)["plan"]
            dialog.close()
        finally:
            ctx.close()
    assert from_dialog["token_source"] == from_cli["token_source"] == "count_tokens"
    assert from_dialog["estimates"] == from_cli["estimates"]
    assert from_dialog["estimated_cost_usd"] == from_cli["estimated_cost_usd"]
    assert from_dialog["worst_case_cost_usd"] == from_cli["worst_case_cost_usd"]
    estimate = from_cli["estimates"]["claude-haiku-5-5"]
    assert estimate["history_calls"] == estimate["cells"]  # both learned from the first run
