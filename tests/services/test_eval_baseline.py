"""The weekly regression gate: `workbench eval --baseline LAST.json` fails when a pass rate fell
more than the prompt's production alert threshold (`alerts.eval_pass_rate_drop`, or
`--max-drop F`) below the last production run's (echo provider, real subprocesses)."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from workbench.core.errors import BadInput
from workbench.services.eval_baseline import load_baseline

BUNDLE: dict[str, Any] = {
    "workbench": 1,
    "name": "weekly",
    "prompts": [
        {
            "name": "helper",
            "labels": {"production": 1},
            "versions": [
                {
                    "version": 1,
                    "messages": [{"role": "user", "content": "Question: {{question}}"}],
                    "params": {"model": "claude-haiku-5-5", "max_tokens": 300},
                }
            ],
        }
    ],
    "datasets": [
        {
            "name": "d",
            "examples": [
                {
                    "vars": {"question": f"topic {n}"},
                    "expect": [{"type": "contains", "value": f"topic {n}"}],
                }
                for n in range(4)
            ],
        }
    ],
}


def wb(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ},
    )


def _eval(
    bundle: dict[str, Any], tmp_path: Path, name: str, *extra: str
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(bundle), encoding="utf-8")
    return wb(
        "eval", str(path), "--dataset", "d", "--prompt", "helper@production",
        "--provider", "echo", "--min-pass-rate", "0", *extra,
    )  # fmt: skip


def test_a_drop_beyond_the_threshold_fails_and_a_small_one_passes(tmp_path: Path) -> None:
    base = tmp_path / "last-production.json"
    first = _eval(BUNDLE, tmp_path, "base", "--json", str(base))
    assert first.returncode == 0, first.stderr
    assert json.loads(base.read_text())["groups"][0]["pass_rate"] == 1.0

    worse = copy.deepcopy(BUNDLE)
    worse["datasets"][0]["examples"][0]["expect"] = [{"type": "contains", "value": "absent"}]
    dropped = _eval(worse, tmp_path, "worse", "--baseline", str(base))  # 100 % -> 75 %
    assert dropped.returncode == 1, dropped.stdout + dropped.stderr
    assert "REGRESSION helper claude-haiku-5-5: pass rate 100.0% -> 75.0%" in dropped.stdout
    assert (
        "at most 10.0 allowed" in dropped.stdout
    )  # the default alert threshold (the seed: 10 points)
    tolerated = _eval(worse, tmp_path, "worse", "--baseline", str(base), "--max-drop", "0.25")
    assert tolerated.returncode == 0, tolerated.stdout + tolerated.stderr
    # The project's own threshold: the prompt's production alert for an eval pass-rate drop.
    worse["prompts"][0]["production"] = {"alerts": {"eval_pass_rate_drop": 0.3}}
    own = _eval(worse, tmp_path, "worse", "--baseline", str(base))
    assert own.returncode == 0, own.stdout + own.stderr


def test_a_bad_baseline_is_one_clear_error_before_any_call(tmp_path: Path) -> None:
    (tmp_path / "junk.json").write_text("{}", encoding="utf-8")
    with pytest.raises(BadInput, match="not a `workbench eval --json` report"):
        load_baseline(tmp_path / "junk.json")
    missing = _eval(BUNDLE, tmp_path, "b", "--baseline", str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "baseline" in missing.stderr
    assert "eval run #" not in missing.stdout  # nothing ran
