"""`workbench eval --replay`: unchanged requests are answered from recorded calls without any key
or network, changed ones are skipped (JUnit <skipped>), and the exit code follows the replayed
cases only. Recording runs over real loopback HTTP against the fake Anthropic server."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from junitparser import JUnitXml, Skipped

from workbench.testing.fake_anthropic import FakeAnthropicServer

BUNDLE: dict[str, Any] = {
    "workbench": 1,
    "name": "replay",
    "settings": {"min_pass_rate": 1.0},
    "prompts": [
        {
            "name": "helper",
            "versions": [
                {
                    "version": 1,
                    "messages": [{"role": "user", "content": "Question: {{question}}"}],
                    "params": {"model": "claude-haiku-4-5", "max_tokens": 200},
                }
            ],
        }
    ],
    "datasets": [
        {
            "name": "d",
            "examples": [
                # The fake server echoes the first words of the prompt: "Regarding "Question: ..."
                {
                    "vars": {"question": "install"},
                    "expect": [{"type": "contains", "value": "install"}],
                },
                {
                    "vars": {"question": "refunds"},
                    "expect": [{"type": "contains", "value": "refunds"}],
                },
            ],
        }
    ],
}


def wb(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env={**clean, **(env or {})},
    )


def _record(tmp_path: Path) -> Path:
    bundle = tmp_path / "recorded.yaml"
    bundle.write_text(yaml.safe_dump(BUNDLE), encoding="utf-8")
    project = tmp_path / "recording.pwb"
    made = wb("new", str(project), "--from", str(bundle))
    assert made.returncode == 0, made.stderr
    with FakeAnthropicServer() as server:
        keyed = {"ANTHROPIC_API_KEY": "sk-ant-test", "ANTHROPIC_BASE_URL": server.base_url}
        recorded = wb("eval", str(project), "--dataset", "d", "--prompt", "helper", env=keyed)
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    return project


def test_replay_answers_unchanged_cells_and_skips_changed_ones(tmp_path: Path) -> None:
    recording = _record(tmp_path)
    changed = copy.deepcopy(BUNDLE)
    changed["datasets"][0]["examples"][1]["vars"]["question"] = "refunds please"  # a new request
    bundle = tmp_path / "pr.yaml"
    bundle.write_text(yaml.safe_dump(changed), encoding="utf-8")
    junit = tmp_path / "junit.xml"
    done = wb(
        "eval", str(bundle), "--dataset", "d", "--prompt", "helper",
        "--replay", "--recording", str(recording), "--junit", str(junit),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr  # no key, no network, bar met
    assert "replay: 1 of 2 case(s) answered from the recording; 1 changed case(s) skipped" in (
        done.stdout
    )
    (suite,) = JUnitXml.fromfile(str(junit))
    cases = list(suite)
    assert [c.is_passed for c in cases] == [True, False]
    (skip,) = cases[1].result
    assert isinstance(skip, Skipped) and "not replayed" in (skip.message or "")
    assert cases[0].time > 0  # the recorded latency, not 0

    failing = copy.deepcopy(BUNDLE)
    failing["datasets"][0]["examples"][0]["expect"] = [{"type": "contains", "value": "absent"}]
    bundle.write_text(yaml.safe_dump(failing), encoding="utf-8")
    below = wb(
        "eval", str(bundle), "--dataset", "d", "--prompt", "helper",
        "--replay", "--recording", str(recording),
    )  # fmt: skip
    assert below.returncode == 1, below.stdout + below.stderr  # replayed cases still checked


def test_replay_from_a_bundle_needs_a_recording(tmp_path: Path) -> None:
    bundle = tmp_path / "b.yaml"
    bundle.write_text(yaml.safe_dump(BUNDLE), encoding="utf-8")
    done = wb("eval", str(bundle), "--dataset", "d", "--prompt", "helper", "--replay")
    assert done.returncode == 2 and "--recording" in done.stderr
    assert "Traceback" not in done.stderr
