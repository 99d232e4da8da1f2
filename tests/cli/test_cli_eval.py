"""`workbench eval` exit codes (0 bar met, 1 not met, 2 bad input) in real subprocesses with the
echo provider (its output is the rendered prompt), JUnit/JSON files, and `workbench export`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "projects" / "quizcraft.yaml"

BUNDLE = {
    "workbench": 1,
    "name": "CI evals",
    "settings": {"min_pass_rate": 0.8},
    "prompts": [
        {
            "name": "helper",
            "labels": {"production": 1},
            "versions": [
                {
                    "version": 1,
                    "system": "You help with QuizCraft.",
                    "messages": [{"role": "user", "content": "Question: {{question}}"}],
                    "params": {"model": "claude-haiku-5-5", "max_tokens": 300},
                }
            ],
        }
    ],
    "datasets": [
        {
            "name": "all-pass",
            "examples": [
                {
                    "vars": {"question": "How do I install it?"},
                    "expect": [{"type": "icontains", "value": "INSTALL"}],
                },
                {
                    "vars": {"question": "Refund after 30 days?"},
                    "expect": [{"type": "contains", "value": "30 days"}],
                },
            ],
        },
        {
            "name": "half-pass",
            "examples": [
                {
                    "vars": {"question": "How do I install it?"},
                    "expect": [{"type": "icontains", "value": "install"}],
                },
                {
                    "vars": {"question": "Reset my password"},
                    "expect": [{"type": "icontains", "value": "venv"}],
                },
            ],
        },
        {
            "name": "bad-regex",
            "examples": [
                {"vars": {"question": "x"}, "expect": [{"type": "regex", "value": "(oops"}]}
            ],
        },
    ],
}


def wb(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ},
        cwd=cwd,
    )


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    path = tmp_path / "ci.yaml"
    path.write_text(yaml.safe_dump(BUNDLE, sort_keys=False), encoding="utf-8")
    return path


def test_eval_exits_0_when_the_bar_is_met_and_writes_junit_and_json(
    bundle: Path, tmp_path: Path
) -> None:
    junit, report = tmp_path / "junit.xml", tmp_path / "report.json"
    result = wb(
        "eval", str(bundle), "--dataset", "all-pass", "--prompt", "helper@production",
        "--provider", "echo", "--junit", str(junit), "--json", str(report),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "bar 80% met" in result.stdout
    root = ET.parse(junit).getroot()
    assert root.get("tests") == "2" and root.get("failures") == "0"
    data = json.loads(report.read_text("utf-8"))
    assert data["passed"] is True and data["min_pass_rate"] == 0.8
    assert data["groups"][0]["pass_rate"] == 1.0 and len(data["cases"]) == 2


def test_eval_exits_1_below_the_bar_and_0_with_a_lower_bar(bundle: Path, tmp_path: Path) -> None:
    args = [
        "eval",
        str(bundle),
        "--dataset",
        "half-pass",
        "--prompt",
        "helper",
        "--provider",
        "echo",
    ]
    below = wb(*args, "--junit", str(tmp_path / "j.xml"))
    assert below.returncode == 1, below.stderr
    assert "NOT met" in below.stdout and "expectation 1 (icontains 'venv')" in below.stdout
    failure = ET.parse(tmp_path / "j.xml").getroot().find(".//failure")
    assert failure is not None and "does not contain 'venv'" in failure.get("message", "")
    lower = wb(*args, "--min-pass-rate", "0.5", "--json", "-")
    assert lower.returncode == 0, lower.stderr
    assert json.loads(lower.stdout)["groups"][0]["pass_rate"] == 0.5  # stdout holds only JSON


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--dataset", "no-such-set", "--prompt", "helper"], "no-such-set"),
        (["--dataset", "bad-regex", "--prompt", "helper"], "invalid regular expression"),
        (["--dataset", "all-pass", "--prompt", "helper@9"], "version 9"),
        (["--dataset", "all-pass", "--prompt", "helper", "--min-pass-rate", "2"], "min-pass-rate"),
        (["--prompt", "helper"], "--dataset"),
    ],
)
def test_eval_exits_2_on_bad_input_with_one_clear_line(
    bundle: Path, extra: list[str], needle: str
) -> None:
    result = wb("eval", str(bundle), "--provider", "echo", *extra)
    assert result.returncode == 2, result.stdout + result.stderr
    assert needle in result.stderr and "Traceback" not in result.stderr


def test_eval_of_a_project_file_keeps_the_run_and_exports_follow(
    bundle: Path, tmp_path: Path
) -> None:
    project = tmp_path / "ci.pwb"
    assert wb("new", str(project), "--from", str(bundle)).returncode == 0
    result = wb(
        "eval", str(project), "--dataset", "all-pass", "--prompt", "helper", "--provider", "echo"
    )
    assert result.returncode == 0, result.stderr
    info = json.loads(wb("info", str(project), "--json").stdout)
    assert len(info["runs"]) == 1

    out = tmp_path / "evals.jsonl"
    done = wb("export", str(project), "--format", "jsonl", "--dataset", "all-pass", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert len(out.read_text("utf-8").splitlines()) == 2

    pf = tmp_path / "promptfooconfig.yaml"
    done = wb(
        "export", str(project), "--format", "promptfoo", "--dataset", "half-pass",
        "--prompt", "helper@production", "-o", str(pf),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (
        yaml.safe_load(pf.read_text("utf-8"))["providers"][0]["id"]
        == "anthropic:messages:claude-haiku-5-5"
    )

    labels = tmp_path / "labels.csv"
    done = wb("export", str(project), "--format", "labels-csv", "-o", str(labels))
    assert done.returncode == 0 and "0 labelled call(s)" in done.stderr
    assert labels.read_text("utf-8-sig").startswith("call_id,run_id,prompt")

    missing = wb("export", str(project), "--format", "jsonl", "-o", str(out))
    assert missing.returncode == 2 and "--dataset" in missing.stderr


def test_export_production_passes_its_options_through(tmp_path: Path) -> None:
    out = tmp_path / "prompts.json"
    done = wb("export", str(SAMPLE), "--format", "production", "-o", str(out), "--with-loader")
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text("utf-8"))
    assert data["label"] == "production"
    assert set(data["prompts"]) == {
        "support-answer",
        "summarize",
        "support-agent",
        "ticket-classifier",
    }
    assert (tmp_path / "prompt_registry.py").exists()
    staging = wb(
        "export", str(SAMPLE), "--format", "production", "-o", str(out), "--label", "staging"
    )
    assert staging.returncode == 2 and "staging" in staging.stderr
    skipped = wb(
        "export", str(SAMPLE), "--format", "production", "-o", str(out),
        "--label", "staging", "--skip-unlabelled",
    )  # fmt: skip
    assert skipped.returncode == 0, skipped.stderr
    assert set(json.loads(out.read_text("utf-8"))["prompts"]) == {
        "support-answer",
        "support-agent",
        "ticket-classifier",
    }
