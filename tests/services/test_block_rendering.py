"""Rendering blocks, tools, results, prefill and files; missing files named before a run."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.core.test_blocks import rich
from workbench.core.errors import MissingFiles, MissingVariables
from workbench.core.models import Example
from workbench.formats.bundle_yaml import load_bundle
from workbench.services.file_source import project_file_source
from workbench.services.planner import make_plan
from workbench.services.rendering import render_request
from workbench.storage import Project

SAMPLE = Path(__file__).resolve().parents[2] / "projects" / "quizcraft.yaml"
PNG = b"\x89PNG\r\n\x1a\n fake image bytes"
PDF = b"%PDF-1.4 fake document"
VALUES = {
    "customer": "Ada",
    "question": "Q?",
    "status": "shipped",
    "receipt": "files/receipt.png",
    "invoice": "files/invoice.pdf",
}


def _files(tmp_path: Path) -> Path:
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "receipt.png").write_bytes(PNG)
    (tmp_path / "files" / "invoice.pdf").write_bytes(PDF)
    return tmp_path


def test_plain_requests_keep_the_hash_they_had_before_blocks() -> None:
    bundle = load_bundle(SAMPLE)
    support = next(p for p in bundle.prompts if p.name == "support-answer").versions[1]
    question = next(d for d in bundle.datasets if d.name == "support-questions").examples[0]
    assert render_request(support.content(), question.vars).hash == (
        "d84404057168c00843e303719ac2e44f0d4ab035e255fc52c1d0c7c61adba61f"
    )


def test_every_block_kind_renders(tmp_path: Path) -> None:
    base = _files(tmp_path)
    with Project.create(base / "p.pwb", "Demo") as project:
        files = project_file_source(project)
        rendered = render_request(rich(), VALUES, files=files)
        assert project.files.paths() == ["files/invoice.pdf", "files/receipt.png"]
    request = rendered.request
    assert request.system == "Help Ada."
    first, call, result = request.messages
    assert first["content"][0] == {"type": "text", "text": "Where is my order? Q?"}
    image = first["content"][1]
    assert image["type"] == "image" and image["source"]["media_type"] == "image/png"
    assert base64.b64decode(image["source"]["data"]) == PNG
    document = first["content"][2]
    assert document["title"] == "Invoice"
    assert base64.b64decode(document["source"]["data"]) == PDF
    assert call["content"][0] == {
        "type": "tool_use",
        "id": "tu_1",
        "name": "lookup_order",
        "input": {"a": 1},
    }
    assert result["content"][0]["content"] == "shipped"
    assert request.tools[0]["description"] == "Look up an order of Ada."
    assert request.tool_choice == {"type": "tool", "name": "lookup_order"}
    assert request.thinking == {"type": "enabled", "budget_tokens": 2048}
    assert request.effort == "medium" and request.prefill == "Dear Ada,"
    # The identity names file bytes by hash, so logs and the cache key stay small.
    identity = rendered.as_dict()
    assert "data" not in identity["messages"][0]["content"][1]["source"]
    assert identity["messages"][0]["content"][1]["source"]["type"] == "sha256"


def test_a_changed_file_is_a_different_request(tmp_path: Path) -> None:
    base = _files(tmp_path)
    with Project.create(base / "p.pwb", "Demo") as project:
        one = render_request(rich(), VALUES, files=project_file_source(project)).hash
        project.files.add_bytes("files/receipt.png", PNG + b"!", "image/png")
        two = render_request(rich(), VALUES, files=project_file_source(project)).hash
    assert one != two


def test_missing_files_and_variables_are_named(tmp_path: Path) -> None:
    with Project.create(tmp_path / "p.pwb", "Demo") as project:
        files = project_file_source(project)
        with pytest.raises(MissingFiles, match="files/receipt.png, files/invoice.pdf"):
            render_request(rich(), VALUES, files=files)
        with pytest.raises(MissingVariables, match="receipt"):
            render_request(rich(), {k: v for k, v in VALUES.items() if k != "receipt"})


def test_a_run_plan_names_missing_files_before_any_call(tmp_path: Path) -> None:
    base = _files(tmp_path)
    with Project.create(base / "p.pwb", "Demo") as project:
        project.prompts.create("agent")
        project.prompts.save_version("agent", rich())
        project.datasets.create("tickets")
        gone = {**VALUES, "receipt": "files/gone.png"}
        unnamed = {k: v for k, v in VALUES.items() if k != "invoice"}
        project.datasets.add_examples(
            "tickets", [Example(vars=VALUES), Example(vars=gone), Example(vars=unnamed)]
        )
        plan = make_plan(project, prompts=["agent"], dataset="tickets")
    assert not plan.ok
    assert plan.problems == [
        "agent@v1, example #2 (row 2): missing file(s) files/gone.png",
        "agent@v1, example #3 (row 3): missing variable(s) invoice",
    ]
    assert len(plan.cells) == 1


def test_a_bundle_brings_its_files_into_the_project(tmp_path: Path) -> None:
    from workbench.core.models import Bundle, Dataset, Prompt, PromptVersion
    from workbench.formats.bundle_yaml import save_bundle
    from workbench.services.projects import open_project

    base = _files(tmp_path)
    version = PromptVersion(**rich().content_fields(), version=1)
    bundle = Bundle(
        name="Demo",
        prompts=[Prompt(name="agent", versions=[version])],
        datasets=[Dataset(name="tickets", examples=[Example(vars=VALUES)])],
    )
    save_bundle(bundle, base / "demo.yaml")
    with open_project(base / "demo.yaml") as project:
        assert project.files.paths() == ["files/invoice.pdf", "files/receipt.png"]
        assert project.files.get("files/receipt.png").data == PNG  # type: ignore[union-attr]
        plan = make_plan(project, prompts=["agent"], dataset="tickets")
        assert plan.ok and len(plan.cells) == 1
