"""A small project for engine tests: one prompt `answer` (v1) and a dataset `qs` of questions."""

from __future__ import annotations

from pathlib import Path

from workbench.core.models import Example, Message, Params, PromptContent
from workbench.services.project_models import seed_defaults
from workbench.storage.project import Project


def answer_project(path: Path, examples: int) -> Project:
    """A new project at `path` with `examples` questions "Question number i?"."""
    project = Project.create(path, "test")
    seed_defaults(project)
    project.prompts.create("answer")
    project.prompts.save_version(
        "answer",
        PromptContent(
            system="You answer questions.",
            messages=[Message(role="user", content="{{question}}")],
            params=Params(model="claude-haiku-5-5", max_tokens=100),
        ),
        note="first",
    )
    project.datasets.create("qs")
    project.datasets.add_examples(
        "qs", [Example(vars={"question": f"Question number {i}?"}) for i in range(examples)]
    )
    return project
