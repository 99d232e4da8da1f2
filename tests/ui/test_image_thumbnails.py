"""Image thumbnails in the dataset editor: from the project's stored copy or beside the file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QColor, QImage, QPixmap
from pytestqt.qtbot import QtBot
from quiz_project_support import make_project

from workbench.core.models import Example
from workbench.ui.context import ProjectContext
from workbench.ui.widgets.dataset_editor import DatasetEditor
from workbench.ui.widgets.image_thumbnails import THUMBNAIL_PX, looks_like_image_path


def _png(color: str, width: int = 160, height: int = 90) -> bytes:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor(color))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    assert image.save(buffer, "PNG")
    return bytes(data.data())


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[ProjectContext]:
    project = make_project(tmp_path)
    (tmp_path / "shots").mkdir()
    (tmp_path / "shots" / "disk.png").write_bytes(_png("#0f62fe"))
    project.files.add_bytes("shots/stored.png", _png("#da1e28"), "image/png")
    project.datasets.create("screens")
    project.datasets.add_examples(
        "screens",
        [
            Example(vars={"screenshot": "shots/stored.png", "question": "What is red?"}),
            Example(vars={"screenshot": "shots/disk.png", "question": "What is blue?"}),
            Example(vars={"screenshot": "shots/missing.png", "question": "Gone?"}),
        ],
    )
    context = ProjectContext()
    context.set_project(project)
    yield context
    context.close()


def test_image_values_show_thumbnails(
    qtbot: QtBot, ctx: ProjectContext, artifacts_dir: Path
) -> None:
    editor = DatasetEditor(ctx)
    qtbot.addWidget(editor)
    editor.resize(900, 360)
    editor.show()
    editor.show_dataset("screens")
    model = editor.model
    column = model.variables().index("screenshot")
    icons = [model.index(r, column).data(Qt.ItemDataRole.DecorationRole) for r in range(3)]
    assert isinstance(icons[0], QPixmap) and isinstance(icons[1], QPixmap) and icons[2] is None
    assert icons[0].width() == THUMBNAIL_PX and icons[0].height() == 27  # 16:9 kept
    assert QColor(icons[0].toImage().pixel(10, 10)).name() == "#da1e28"
    assert QColor(icons[1].toImage().pixel(10, 10)).name() == "#0f62fe"
    other = model.variables().index("question")
    assert model.index(0, other).data(Qt.ItemDataRole.DecorationRole) is None
    assert ctx.require().files.paths() == ["shots/stored.png"]  # looking stores nothing
    qtbot.wait(50)
    assert editor.grab().save(str(artifacts_dir / "dataset_editor_thumbnails.png"))


def test_only_one_line_image_paths_qualify() -> None:
    assert looks_like_image_path("a/b.PNG") and looks_like_image_path(" x.webp ")
    assert not looks_like_image_path("a.pdf") and not looks_like_image_path("a.png\nb.png")


def test_the_inspector_shows_the_images_a_call_sent(
    qtbot: QtBot, ctx: ProjectContext, artifacts_dir: Path
) -> None:
    import asyncio

    from workbench.core.models import PromptContent
    from workbench.inference import make_provider
    from workbench.services.planner import make_plan
    from workbench.services.run_service import start_run
    from workbench.ui.widgets.call_inspector import CallInspector

    project = ctx.require()
    project.prompts.create("look")
    content = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "{{question}}"},
                    {"type": "image", "var": "screenshot"},
                ],
            }
        ],
        "params": {"model": "claude-haiku-5-5"},
    }
    project.prompts.save_version("look", PromptContent.model_validate(content))
    plan = make_plan(project, prompts=["look"], dataset="screens", tags=None)
    assert [p.split(": ", 1)[1] for p in plan.problems] == ["missing file(s) shots/missing.png"]
    plan.problems.clear()
    outcome = asyncio.run(start_run(project, plan, make_provider("echo")))
    calls = [r.call_id for r in project.runs.run_grid(outcome.run_id)]
    inspector = CallInspector(ctx)
    qtbot.addWidget(inspector)
    inspector.resize(700, 640)
    inspector.show()
    inspector.show_call(calls[1])
    (label,) = inspector.images.labels
    assert inspector.images.isVisible() and label.pixmap().width() == 96
    assert "[user] What is blue? [image]" in inspector.response.toPlainText()
    qtbot.wait(50)
    assert inspector.grab().save(str(artifacts_dir / "call_inspector_image.png"))
