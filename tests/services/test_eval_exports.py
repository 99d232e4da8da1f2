"""Eval-set exports: JSONL that re-imports, a promptfoo config of the right shape, labels CSV."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from workbench.core.errors import BadInput, NotFound
from workbench.core.models import Example, Expectation, Message, Params, PromptContent
from workbench.inference import make_provider
from workbench.services.dataset_io import parse_jsonl
from workbench.services.eval_exports import (
    export_jsonl,
    export_labels_csv,
    export_promptfoo,
    promptfoo_assert,
    promptfoo_config,
)
from workbench.services.planner import make_plan
from workbench.services.project_models import seed_defaults
from workbench.services.run_service import start_run
from workbench.storage.labels_repo import LabelsRepo
from workbench.storage.project import Project

SCHEMA = {"type": "object", "required": ["answer"]}


def _project(tmp_path: Path) -> Project:
    project = Project.create(tmp_path / "x.pwb", "Exports")
    seed_defaults(project)
    project.prompts.create("support")
    project.prompts.save_version(
        "support",
        PromptContent(
            system="You answer questions about {{product}}.",
            messages=[Message(role="user", content="{{question}}")],
            params=Params(model="claude-sonnet-4-6", max_tokens=300, temperature=0.2),
        ),
    )
    project.datasets.create("evals")
    project.datasets.add_examples(
        "evals",
        [
            Example(
                vars={"product": "QuizCraft", "question": "Wie installiere ich es? ✓"},
                tags=["install", "de"],
                note="German",
                expect=[
                    Expectation(type="icontains", value="venv"),
                    Expectation(type="llm-rubric", value="Answers in German.", threshold=3),
                ],
            ),
            Example(
                vars={"product": "QuizCraft", "question": "=1+1"},
                expect=[
                    Expectation(type="is-valid-json-schema", value=SCHEMA),
                    Expectation(type="max-length", value=600, weight=2),
                    Expectation(type="cost", threshold=0.01),
                    Expectation(type="not-regex", value=r"\d{3}-\d{4}"),
                ],
            ),
            Example(vars={"product": "QuizCraft", "question": "No checks"}),
        ],
    )
    return project


def test_jsonl_has_one_case_per_line_and_imports_back(tmp_path: Path) -> None:
    with _project(tmp_path) as project:
        out = tmp_path / "evals.jsonl"
        assert export_jsonl(project, "evals", out) == 3
        lines = out.read_text("utf-8").splitlines()
        assert len(lines) == 3
        first = json.loads(lines[0])
        assert set(first) == {"vars", "tags", "note", "expect"}
        assert first["expect"][1] == {
            "type": "llm-rubric",
            "value": "Answers in German.",
            "threshold": 3.0,
        }
        assert "✓" in lines[0]  # UTF-8, not \u escapes
        parsed = parse_jsonl(out)
        assert not parsed.errors
        assert parsed.examples == project.datasets.get("evals").examples
        with pytest.raises(NotFound):
            export_jsonl(project, "missing", out)


def test_promptfoo_config_has_prompts_providers_and_tests(tmp_path: Path) -> None:
    with _project(tmp_path) as project:
        out = tmp_path / "promptfooconfig.yaml"
        export_promptfoo(
            project, "evals", ["support@1"], out, ["claude-haiku-4-5", "claude-sonnet-4-6"]
        )
        text = out.read_text("utf-8")
        assert text.startswith("# promptfooconfig.yaml")
        config = yaml.safe_load(text)
        assert set(config) == {"description", "prompts", "providers", "tests", "defaultTest"}
        (prompt,) = config["prompts"]
        assert prompt["label"] == "support@v1"
        messages = json.loads(prompt["raw"])
        assert messages == [
            {"role": "system", "content": "You answer questions about {{product}}."},
            {"role": "user", "content": "{{question}}"},
        ]
        assert [p["id"] for p in config["providers"]] == [
            "anthropic:messages:claude-haiku-4-5",
            "anthropic:messages:claude-sonnet-4-6",
        ]
        assert config["providers"][0]["config"]["max_tokens"] == 300
        assert config["defaultTest"]["options"]["provider"].startswith("anthropic:messages:")
        tests = config["tests"]
        assert len(tests) == 3 and tests[1]["vars"]["question"] == "=1+1"
        assert tests[0]["metadata"] == {"tags": ["install", "de"]}
        asserts = tests[1]["assert"]
        assert asserts[0] == {"type": "is-json", "value": SCHEMA}
        assert asserts[1] == {"type": "javascript", "value": "output.length <= 600", "weight": 2.0}
        assert asserts[2] == {"type": "cost", "threshold": 0.01}
        assert asserts[3] == {"type": "not-regex", "value": r"\d{3}-\d{4}"}
        assert tests[0]["assert"][1] == {
            "type": "llm-rubric",
            "value": "Answers in German.",
            "threshold": 0.5,
        }
        assert "assert" not in tests[2]


def test_promptfoo_assert_keeps_promptfoo_names() -> None:
    for kind in (
        "equals",
        "contains",
        "icontains",
        "not-contains",
        "not-icontains",
        "starts-with",
        "regex",
    ):
        assert promptfoo_assert(Expectation(type=kind, value="x")) == {"type": kind, "value": "x"}  # type: ignore[arg-type]
    assert promptfoo_assert(Expectation(type="is-json")) == {"type": "is-json"}
    assert promptfoo_assert(Expectation(type="latency", value=5000)) == {
        "type": "latency",
        "threshold": 5000,
    }
    assert promptfoo_assert(Expectation(type="llm-rubric", value="r"))["threshold"] == 0.75


def test_promptfoo_needs_a_prompt(tmp_path: Path) -> None:
    with _project(tmp_path) as project, pytest.raises(BadInput, match="prompt"):
        promptfoo_config(project, "evals", [])


def test_labelled_calls_csv_neutralises_formulas(tmp_path: Path) -> None:
    with _project(tmp_path) as project:
        plan = make_plan(project, prompts=["support"], dataset="evals")
        run = asyncio.run(start_run(project, plan, make_provider("echo")))
        rows = project.runs.run_grid(run.run_id)
        labels = LabelsRepo(project)
        labels.add_tag("wrong language")
        labels.set_label(rows[0].call_id, verdict="fail", rating=2, tags=["wrong language"])
        labels.set_label(rows[1].call_id, verdict="pass", note="@SUM(A1) +cmd")
        out = tmp_path / "labels.csv"
        assert export_labels_csv(project, out, run_id=run.run_id) == 2
        raw = out.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        table = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
        assert [r["verdict"] for r in table] == ["fail", "pass"]
        assert table[0]["tags"] == "wrong language" and table[0]["rating"] == "2"
        assert table[1]["note"] == "'@SUM(A1) +cmd"
        assert json.loads(table[1]["vars"])["question"] == "=1+1"
        assert table[0]["prompt"] == "support" and table[0]["version"] == "1"
        assert export_labels_csv(project, out, prompt="other") == 0


def test_promptfoo_assertions_for_the_new_types_and_escaped_templates() -> None:
    from workbench.core.models import Expectation
    from workbench.services.eval_exports import escape_template, promptfoo_assert

    def out(raw: dict[str, Any]) -> dict[str, Any]:
        return promptfoo_assert(Expectation.model_validate(raw))

    assert out({"type": "contains", "value": "Use {{name}}"}) == {
        "type": "contains",
        "value": "{% raw %}Use {{name}}{% endraw %}",
    }
    assert out({"type": "contains-any", "value": ["{{a}}", "b"]})["value"] == [
        "{% raw %}{{a}}{% endraw %}",
        "b",
    ]
    assert escape_template("file://x.txt") == "{% raw %}file://x.txt{% endraw %}"
    assert escape_template("plain") == "plain"
    assert out({"type": "not-max-length", "value": 5}) == {
        "type": "javascript",
        "value": "!(output.length <= 5)",
    }
    assert out({"type": "not-is-valid-json-schema", "value": {"type": "object"}}) == {
        "type": "not-is-json",
        "value": {"type": "object"},
    }
    assert out({"type": "python", "value": "checks.py:polite"}) == {
        "type": "python",
        "value": "file://checks.py:polite",
    }
    nested = out(
        {"type": "assert-set", "threshold": 0.5, "assert": [{"type": "icontains", "value": "x"}]}
    )
    assert nested == {
        "type": "assert-set",
        "assert": [{"type": "icontains", "value": "x"}],
        "threshold": 0.5,
    }
