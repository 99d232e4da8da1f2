"""Shared set-up for the dataset, run dialog, run grid and inspector tests (not a test module)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QWidget

from workbench.core.models import Example, Message, Params, PromptContent
from workbench.services.project_models import seed_defaults
from workbench.storage.project import Project

HAIKU = "claude-haiku-5-5"
SONNET = "claude-sonnet-5-5"
TOPICS = ["photosynthesis", "plate tectonics", "the water cycle", "volcanoes", "tides"]


def make_project(tmp_path: Path, *, examples: int = 4, name: str = "grid.pwb") -> Project:
    """A project with prompt `quiz` (v1, v2; `production` on v1) and dataset `topics`."""
    project = Project.create(tmp_path / name, "Quizcraft test")
    seed_defaults(project)
    project.prompts.create("quiz")
    for note, system in (
        ("first", "You write short quizzes."),
        ("stricter", "You write short quizzes. One question only."),
    ):
        content = PromptContent(
            system=system,
            messages=[Message(role="user", content="Write a {{level}} question about {{topic}}.")],
            params=Params(model=HAIKU, max_tokens=200),
        )
        project.prompts.save_version("quiz", content, note=note)
    project.prompts.set_label("quiz", "production", 1)
    project.datasets.create("topics")
    project.datasets.add_examples(
        "topics",
        [
            Example(
                vars={"topic": TOPICS[i % len(TOPICS)], "level": "easy" if i % 2 else "hard"},
                tags=["smoke"] if i < 2 else [],
            )
            for i in range(examples)
        ],
    )
    return project


def assert_fonts_render(widget: QWidget, sample: str = "Run grid 1.2 s · $0.0012 … —") -> None:
    """Missing fonts fail silently offscreen: check the widget's font has the glyphs we show."""
    metrics = QFontMetrics(widget.font())
    # inFontUcs4, not inFont: PySide6 passes a non-Latin-1 str to inFont(QChar) wrongly.
    missing = [ch for ch in sample if not ch.isspace() and not metrics.inFontUcs4(ord(ch))]
    assert not missing, f"font {QFont(widget.font()).family()} lacks {missing}"
    assert metrics.horizontalAdvance("Wg") > 0
