"""Production export and the stdlib loader with tools, schemas, thinking, prefill and files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tests.core.test_blocks import rich
from tests.services.test_production_export import SCHEMA, _assert_runtime_renders_like_the_workbench
from workbench.core.models import Example
from workbench.runtime import Registry, RegistryError
from workbench.services.production_export import export_production
from workbench.services.projects import seed_defaults
from workbench.storage.project import Project

PNG = b"\x89PNG\r\n\x1a\n" + b"\x02" * 300
PDF = b"%PDF-1.4 /Type /Page one page"
VALUES = {
    "customer": "Ada",
    "question": "Where is it?",
    "status": "shipped",
    "receipt": "files/receipt.png",
    "invoice": "files/invoice.pdf",
}


@pytest.fixture
def project(tmp_path: Path) -> Project:
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "receipt.png").write_bytes(PNG)
    (tmp_path / "files" / "invoice.pdf").write_bytes(PDF)
    project = Project.create(tmp_path / "p.pwb", "Demo")
    seed_defaults(project)
    project.prompts.create("agent")
    # Opus 4.5 takes a thinking budget; Haiku 5.5 refuses it (the export leaves it out).
    project.prompts.save_version("agent", rich())
    project.prompts.save_version(
        "agent", rich(params={"model": "claude-opus-4-5", "max_tokens": 4000}, effort="high")
    )
    project.datasets.create("tickets")
    project.datasets.add_examples("tickets", [Example(vars=VALUES)])
    return project


def test_the_loader_renders_every_rich_version_like_the_workbench(
    project: Project, tmp_path: Path
) -> None:
    with project:
        assert _assert_runtime_renders_like_the_workbench(project, tmp_path) == 2


def test_the_export_carries_tools_schemas_thinking_and_blocks(
    project: Project, tmp_path: Path
) -> None:
    with project:
        project.prompts.set_label("agent", "production", 2)
        data = export_production(project, tmp_path / "prompts.json", skip_unlabelled=True)
    jsonschema.validate(data, SCHEMA, format_checker=jsonschema.FormatChecker())
    entry = data["prompts"]["agent"]
    assert entry["tools"][0]["name"] == "lookup_order"
    assert entry["tool_choice"] == {"type": "tool", "name": "lookup_order"}
    assert entry["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert entry["effort"] == "high" and entry["prefill"] == "Dear {{customer}},"
    assert entry["messages"][0]["content"][1] == {"type": "image", "var": "receipt"}
    assert entry["variables"] == ["customer", "question", "status", "receipt", "invoice"]
    registry = Registry(data)
    rendered = registry.render("agent", {**VALUES, "receipt": PNG, "invoice": PDF})
    kwargs = rendered.to_anthropic_kwargs()
    assert kwargs["output_config"]["format"]["type"] == "json_schema"
    assert kwargs["messages"][-1] == {"role": "assistant", "content": "Dear Ada,"}
    assert kwargs["messages"][0]["content"][2]["source"]["media_type"] == "application/pdf"
    assert rendered.variables["receipt"].startswith("sha256:")
    with pytest.raises(RegistryError, match="'receipt' is an image or document"):
        registry.render("agent", VALUES)
    with pytest.raises(RegistryError, match="cannot tell the file type of 'receipt'"):
        registry.render("agent", {**VALUES, "receipt": b"????", "invoice": PDF})
    explicit = registry.render("agent", {**VALUES, "receipt": ("image/bmp", b"BM"), "invoice": PDF})
    assert explicit.messages[0]["content"][1]["source"]["media_type"] == "image/bmp"


def test_the_standalone_loader_renders_blocks_with_only_the_standard_library(
    project: Project, tmp_path: Path
) -> None:
    with project:
        project.prompts.set_label("agent", "production", 1)
        export_production(
            project, tmp_path / "prompts.json", skip_unlabelled=True, write_loader=True
        )
    script = (
        "import json, prompt_registry as r\n"
        "reg = r.Registry.load('prompts.json')\n"
        f"out = reg.render('agent', {VALUES!r} | {{'receipt': {PNG!r}, 'invoice': {PDF!r}}})\n"
        "print(json.dumps(out.to_anthropic_kwargs(), sort_keys=True))\n"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-I", "-c", f"import sys; sys.path.insert(0, '.'); {script}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    kwargs = json.loads(result.stdout)
    assert kwargs["tool_choice"] == {"type": "tool", "name": "lookup_order"}
    assert "thinking" not in kwargs  # Haiku 5.5 takes no budget
    assert kwargs["output_config"] == {
        "format": {"type": "json_schema", "schema": rich().output_schema},
        "effort": "medium",
    }
