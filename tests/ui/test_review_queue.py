"""The review queue walked with real key presses: sample, label, move, summary."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from echo_run_support import import_calls, project_with_run
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QLineEdit, QListWidget, QPlainTextEdit
from pytestqt.qtbot import QtBot
from quiz_project_support import assert_fonts_render

from workbench.services.call_case import sample_calls
from workbench.ui.context import ProjectContext
from workbench.ui.dialogs.label_editors import NoteEditor, TagPicker
from workbench.ui.operations import wait_for_project_ops
from workbench.ui.review_queue import OUTPUT_POINT_SIZE, ReviewQueue


@pytest.fixture
def queue(qtbot: QtBot, tmp_path: Path) -> Iterator[ReviewQueue]:
    project, run_id = project_with_run(tmp_path)
    ctx = ProjectContext()
    ctx.set_project(project)
    widget = ReviewQueue(ctx)
    widget.seed = 7
    widget.set_run(run_id)
    qtbot.addWidget(widget)
    widget.resize(1100, 700)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.close()
    ctx.close()


def _start(qtbot: QtBot, queue: ReviewQueue, n: int) -> None:
    queue.count.setFocus()
    queue.count.selectAll()
    qtbot.keyClicks(queue.count, str(n))
    qtbot.mouseClick(queue.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: queue.reviewing, timeout=5000)


def _key(qtbot: QtBot, queue: ReviewQueue, key: Qt.Key) -> None:
    qtbot.keyClick(queue.card, key)
    wait_for_project_ops()  # the label write lands before the test reads it
    QApplication.processEvents()


def test_walking_a_sample_with_the_keyboard_labels_each_output(
    qtbot: QtBot, queue: ReviewQueue, artifacts_dir: Path
) -> None:
    project = queue.ctx.require()
    assert queue.scope.currentText() == f"This run (#{queue.run_id})"
    _start(qtbot, queue, 3)
    assert queue.card.hasFocus()
    sample = [c.call_id for c in queue.cases]
    assert len(sample) == 3 and set(sample) <= set(project.labels.unlabelled_call_ids())
    assert queue.progress.text() == "1 of 3"
    assert queue.output.font().pointSize() == OUTPUT_POINT_SIZE
    assert queue.output.toPlainText() == project.runs.get_call(sample[0]).output
    assert "quiz@v" in queue.meta.text() and "run #" in queue.meta.text()
    assert queue.synthetic.isVisible()  # echo outputs are marked as synthetic

    _key(qtbot, queue, Qt.Key.Key_P)
    _key(qtbot, queue, Qt.Key.Key_4)
    label = project.labels.get(sample[0])
    assert label is not None and (label.verdict, label.rating) == ("pass", 4)
    assert queue.label_bar.state.text() == f"Call #{sample[0]}: ✓ pass · 4★"
    _key(qtbot, queue, Qt.Key.Key_Space)
    assert queue.progress.text() == "2 of 3"
    _key(qtbot, queue, Qt.Key.Key_F)
    _key(qtbot, queue, Qt.Key.Key_2)
    assert_fonts_render(queue.label_bar, "✓ ✗ ★ · — J/K 1–5")
    assert_fonts_render(queue.output, "Write a question — ✓")
    qtbot.wait(20)  # let the layout settle before the screenshot
    queue.grab().save(str(artifacts_dir / "review_queue_mid_walk.png"))
    _key(qtbot, queue, Qt.Key.Key_Backspace)
    assert queue.progress.text() == "1 of 3"
    _key(qtbot, queue, Qt.Key.Key_U)  # clear the first one again
    assert project.labels.get(sample[0]) is None
    _key(qtbot, queue, Qt.Key.Key_P)
    _key(qtbot, queue, Qt.Key.Key_J)
    _key(qtbot, queue, Qt.Key.Key_J)
    assert queue.progress.text() == "3 of 3" and queue.next_button.text() == "Finish ▶"
    with qtbot.waitSignal(queue.finished_review) as blocker:
        _key(qtbot, queue, Qt.Key.Key_J)
    assert blocker.args[0] == {"reviewed": 3, "pass": 1, "fail": 1, "no_verdict": 1}
    assert queue.summary.text().startswith("3 outputs: ✓ 1 pass · ✗ 1 fail · 1 without a verdict")
    assert "Average rating 2.0 of 5 (1 rated)" in queue.summary.text()
    queue.grab().save(str(artifacts_dir / "review_queue_summary.png"))
    # Labelled outputs leave the pool: the next sample of this run holds only the rest.
    rest = sample_calls(project, 20, "run", queue.run_id)
    assert set(rest).isdisjoint(sample[:2]) and len(rest) == 8 - 2


def test_tags_and_notes_from_the_queue(qtbot: QtBot, queue: ReviewQueue) -> None:
    project = queue.ctx.require()
    project.labels.add_tag("off-topic")
    _start(qtbot, queue, 2)
    call_id = queue.current_call()
    _key(qtbot, queue, Qt.Key.Key_T)
    picker = queue.keys.dialog
    assert isinstance(picker, TagPicker) and picker.isVisible()
    tags = picker.findChild(QListWidget)
    qtbot.waitUntil(tags.hasFocus)
    qtbot.keyClick(tags, Qt.Key.Key_Space)  # tick "off-topic"
    new_tag = picker.findChild(QLineEdit)
    qtbot.keyClicks(new_tag, "too long")
    qtbot.keyClick(new_tag, Qt.Key.Key_Return)  # adds the tag, ticked; the picker stays open
    qtbot.waitUntil(lambda: len(picker.checked()) == 2)
    assert picker.isVisible() and picker.checked() == ["off-topic", "too long"]
    with qtbot.waitSignal(picker.finished):
        qtbot.keyClick(tags, Qt.Key.Key_Return)
    assert project.labels.get(call_id).tags == ("off-topic", "too long")  # type: ignore[union-attr]
    assert [t.name for t in project.labels.tags()] == ["off-topic", "too long"]

    qtbot.waitUntil(queue.card.hasFocus)  # the queue's window is active again, keys work
    _key(qtbot, queue, Qt.Key.Key_N)
    editor = queue.keys.dialog
    assert isinstance(editor, NoteEditor)
    text = editor.findChild(QPlainTextEdit)
    qtbot.waitUntil(text.hasFocus)
    qtbot.keyClicks(text, "asks two questions")
    with qtbot.waitSignal(editor.finished):
        qtbot.keyClick(text, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert editor.result() == QDialog.DialogCode.Accepted
    label = project.labels.get(call_id)
    assert label is not None and label.note == "asks two questions"
    assert "[off-topic, too long]" not in queue.label_bar.state.text()
    assert queue.label_bar.state.text().endswith(
        "tags: off-topic, too long · note: asks two questions"
    )


def test_production_imports_scope_and_an_empty_pool(
    qtbot: QtBot, queue: ReviewQueue, tmp_path: Path
) -> None:
    project = queue.ctx.require()
    import_id = import_calls(project, tmp_path, count=2)
    queue.scope.setCurrentIndex(queue.scope.findData("import"))
    _start(qtbot, queue, 20)
    assert queue.progress.text() == "1 of 2"
    assert queue.meta.text().endswith(f"production import #{import_id}")
    assert "topic: production topic" in queue.inputs.toPlainText()
    assert not queue.synthetic.isVisible()
    for _ in range(2):
        _key(qtbot, queue, Qt.Key.Key_P)
        _key(qtbot, queue, Qt.Key.Key_J)
    assert queue.pages.currentIndex() == 2
    queue.pages.setCurrentIndex(0)
    qtbot.mouseClick(queue.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "nothing to review" in queue.setup_status.text(), timeout=5000)
    assert (
        queue.setup_status.text()
        == "No unlabelled outputs in production imports: nothing to review."
    )


def test_read_only_projects_refuse_labels(qtbot: QtBot, queue: ReviewQueue) -> None:
    _start(qtbot, queue, 1)
    project = queue.ctx.require()
    project.read_only_reason = "opened read-only for the test"
    _key(qtbot, queue, Qt.Key.Key_P)
    assert queue.label_bar.message.text() == (
        "The project is open read-only, so labels cannot be saved."
    )
