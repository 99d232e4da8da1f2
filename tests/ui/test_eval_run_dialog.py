"""The Evals tab's "Run eval set against the bar" (the same verdict as `workbench eval` on the
same project, with progress and cancel) and "Export eval set" (promptfoo, JSONL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from quiz_project_support import HAIKU, SONNET, make_project

from workbench.core.models import Example, Expectation
from workbench.services.eval_exports import jsonl_text
from workbench.storage.project import Project
from workbench.ui.context import ProjectContext
from workbench.ui.widgets.eval_export_dialog import EvalExportDialog
from workbench.ui.widgets.eval_run_dialog import EvalRunDialog
from workbench.ui.widgets.eval_views import EvalsPane


def _with_expectations(tmp_path: Path) -> Path:
    project = make_project(tmp_path, examples=4)
    for n, (example_id, example) in enumerate(project.datasets.get_with_ids("topics")):
        value = "ZZZ-never" if n == 3 else "question"  # 3 of 4 pass with the echo provider
        project.datasets.update_example(
            example_id,
            Example(vars=example.vars, expect=[Expectation(type="contains", value=value)]),
        )
    path = project.path
    project.close()
    return path


@pytest.fixture
def pane(qtbot: QtBot, tmp_path: Path) -> Iterator[EvalsPane]:
    ctx = ProjectContext(demo=True)  # the offline echo provider, as `--provider echo`
    ctx.set_project(Project.open(_with_expectations(tmp_path)))
    widget = EvalsPane(ctx)
    qtbot.addWidget(widget)
    widget.resize(1100, 760)
    widget.show()
    qtbot.waitUntil(lambda: not widget.busy, timeout=5000)
    yield widget
    widget.close()
    ctx.close()


def _open(qtbot: QtBot, pane: EvalsPane) -> EvalRunDialog:
    qtbot.mouseClick(pane.run_eval_button, Qt.MouseButton.LeftButton)
    dialog = pane.dialog
    assert isinstance(dialog, EvalRunDialog) and dialog.isVisible()
    return dialog


def _cli_eval(path: Path, out: Path, bar: float) -> tuple[int, dict]:
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "eval", str(path), "--dataset", "topics",
         "--prompt", "quiz@production", "--models", f"{HAIKU},{SONNET}",
         "--min-pass-rate", str(bar), "--provider", "echo", "--json", str(out)],
        capture_output=True, text=True, timeout=120, env={**os.environ},
    )  # fmt: skip
    return done.returncode, json.loads(out.read_text(encoding="utf-8"))


def _groups(data: dict) -> list[tuple]:
    return sorted(
        (g["prompt"], g["version"], g["model"], g["cases"], g["passed"], g["pass_rate"], g["ci95"])
        for g in data["groups"]
    )


def test_run_against_the_bar_gives_the_cli_verdict(
    qtbot: QtBot, pane: EvalsPane, tmp_path: Path, artifacts_dir: Path
) -> None:
    dialog = _open(qtbot, pane)
    assert dialog.prompt.currentText() == "quiz@production"
    assert dialog.min_pass.value() == 80  # the project's bar
    dialog.set_models([HAIKU, SONNET])
    with qtbot.waitSignal(dialog.finished_report, timeout=30_000) as blocker:
        qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
        assert dialog.cancel_button.isEnabled() and not dialog.run_button.isEnabled()
    report = blocker.args[0]
    rows = dialog.result_rows()
    assert sorted((r["Model"], r["Passed"], r["Cases"], r["verdict"]) for r in rows) == [
        (HAIKU, "3", "4", "FAIL"),
        (SONNET, "3", "4", "FAIL"),
    ]
    assert "bar 80% NOT met" in dialog.verdict.text()
    assert (dialog.progress.value(), dialog.progress.maximum()) == (8, 8)
    qtbot.wait(30)
    assert dialog.grab().save(str(artifacts_dir / "eval_run_against_the_bar.png"))
    gui = report.to_dict(0.8)
    qtbot.waitUntil(lambda: not pane.busy and pane.rate_table.rowCount() == 2, timeout=5000)

    # a lower bar: PASS
    dialog.min_pass.setValue(70)
    with qtbot.waitSignal(dialog.finished_report, timeout=30_000):
        qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    assert [r["verdict"] for r in dialog.result_rows()] == ["PASS", "PASS"]
    assert "bar 70% met" in dialog.verdict.text()
    dialog.close()
    path = pane.ctx.require().path
    pane.ctx.close()  # the CLI opens the same project file

    code, cli = _cli_eval(path, tmp_path / "cli.json", 0.8)
    assert code == 1 and cli["passed"] is False and gui["passed"] is False
    assert _groups(cli) == _groups(gui)
    code, cli = _cli_eval(path, tmp_path / "cli70.json", 0.7)
    assert code == 0 and cli["passed"] is True


def test_cancel_stops_the_eval(qtbot: QtBot, pane: EvalsPane) -> None:
    dialog = _open(qtbot, pane)
    with qtbot.waitSignal(dialog.finished_report, timeout=30_000) as blocker:
        dialog.start()
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    report = blocker.args[0]
    assert report.run_status == "cancelled"
    assert "NOT met (the run was cancelled)" in dialog.verdict.text()
    assert dialog.run_button.isEnabled() and not dialog.cancel_button.isEnabled()
    dialog.close()


def test_export_eval_set_as_jsonl_and_promptfoo(
    qtbot: QtBot, pane: EvalsPane, tmp_path: Path, artifacts_dir: Path
) -> None:
    qtbot.mouseClick(pane.export_button, Qt.MouseButton.LeftButton)
    dialog = pane.dialog
    assert isinstance(dialog, EvalExportDialog)
    dialog.format.setCurrentIndex(dialog.format.findData("jsonl"))
    target = tmp_path / "cases.jsonl"
    dialog.path.setText(str(target))
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.written == target, timeout=5000)
    assert target.read_text(encoding="utf-8") == jsonl_text(pane.ctx.require(), "topics")
    assert "4 case(s)" in dialog.status.text()

    dialog.format.setCurrentIndex(dialog.format.findData("promptfoo"))
    config = tmp_path / "promptfoo.yaml"
    dialog.path.setText(str(config))
    dialog.models.setText(f"{HAIKU}, {SONNET}")
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.written == config, timeout=5000)
    text = config.read_text(encoding="utf-8")
    assert "tests:" in text and HAIKU in text and SONNET in text
    assert "4 test(s) × 2 provider(s)" in dialog.status.text()
    assert dialog.grab().save(str(artifacts_dir / "eval_export.png"))
    dialog.close()


def test_evals_tab_has_both_buttons(pane: EvalsPane, artifacts_dir: Path) -> None:
    assert pane.run_eval_button.isVisible() and pane.export_button.isVisible()
    assert pane.grab().save(str(artifacts_dir / "evals_tab_buttons.png"))
