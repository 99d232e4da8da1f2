"""docs/ci.md, run as far as it goes without a network: the documented install (build a wheel,
a fresh venv, install the wheel), the documented record job (a keyed eval into recording.pwb,
against the fake server on loopback), and action.yml's own eval step for a pull request without
a key (`--replay`), then its JUnit checked against junit-10.xsd.

Offline stand-ins, and only these: `pip wheel` gets `--no-build-isolation` (build isolation
downloads setuptools), the venv gets `--system-site-packages` and `pip install` gets `--no-deps
--no-index` (the dependencies come from this interpreter's site-packages instead of the index),
and the record job's key and API address point at the fake server. Everything else is the text
of the docs and of action.yml.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "ci.md"
XSD = Path(__file__).parent / "data" / "junit-10.xsd"

pytestmark = pytest.mark.slow


def _blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)


def _offline(script: str) -> str:
    """The install block with the offline stand-ins of the module docstring."""
    script = script.replace("pip wheel --no-deps", "pip wheel --no-deps --no-build-isolation")
    script = script.replace("-m venv .venv", "-m venv --system-site-packages .venv")
    return script.replace("pip install dist/", "pip install --no-deps --no-index dist/")


def _bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _source_tree(target: Path) -> None:
    """A copy of the repository's package sources (what a checkout holds), without caches."""
    target.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(ROOT / name, target / name)
    # resources/ is installed as workbench/resources; its links point into projects/ and docs/.
    for name in ("workbench", "resources", "projects", "docs"):
        shutil.copytree(
            ROOT / name,
            target / name,
            symlinks=True,
            ignore=shutil.ignore_patterns("__pycache__"),
        )


def test_docs_ci_steps_install_record_and_replay(tmp_path: Path) -> None:
    from workbench.testing.fake_anthropic import FakeAnthropicServer

    _source_tree(tmp_path / "prompt-workbench")
    (tmp_path / "prompts").mkdir()
    shutil.copy2(ROOT / "projects" / "quizcraft.yaml", tmp_path / "prompts" / "quizcraft.yaml")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ANTHROPIC_", "PYTHONPATH", "VIRTUAL_ENV"))
    }
    venv_bin = tmp_path / ".venv" / "bin"
    env["PATH"] = f"{venv_bin}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"

    install = _blocks("sh")[0]
    assert "pip wheel --no-deps -w dist ./prompt-workbench" in install
    done = _bash(_offline(install), tmp_path, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "workbench, version" in done.stdout
    where = _bash(
        ".venv/bin/python -c 'import workbench; print(workbench.__file__)'", tmp_path, env
    )
    assert str(tmp_path / ".venv") in where.stdout  # the wheel's copy, not this checkout

    workflows = [yaml.safe_load(b) for b in _blocks("yaml")]
    evals = next(w for w in workflows if w.get("name") == "prompt evals")
    record_script = evals["jobs"]["record"]["steps"][-2]["run"]
    with FakeAnthropicServer() as server:
        keyed = {**env, "ANTHROPIC_API_KEY": "sk-ant-test", "ANTHROPIC_BASE_URL": server.base_url}
        recorded = _bash(record_script, tmp_path, keyed)
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    assert (tmp_path / "recording.pwb").is_file()

    # The pull-request job without a key: action.yml's eval step with the documented inputs.
    step_inputs: dict[str, Any] = next(
        s["with"]
        for s in evals["jobs"]["evals"]["steps"]
        if "prompt-workbench@" in s.get("uses", "")
    )
    code = _run_action_eval_step(step_inputs, tmp_path, env)
    assert code in (0, 1)  # a verdict on the replayed cells, never bad input (2)
    report = (tmp_path / "action-stdout.txt").read_text()
    total = _case_count(tmp_path / "eval-report.json")
    assert f"replay: {total} of {total} case(s) answered from the recording" in report

    import xmlschema

    xmlschema.XMLSchema(str(XSD)).validate(str(tmp_path / "eval-results.xml"))

    # Change one question: that cell is skipped, the rest are still replayed.
    bundle = tmp_path / "prompts" / "quizcraft.yaml"
    text = bundle.read_text(encoding="utf-8")
    evals_at = text.index("- name: support-evals")
    changed = text[evals_at:].replace("How do I install QuizCraft?", "How to install?", 1)
    bundle.write_text(text[:evals_at] + changed, encoding="utf-8")
    _run_action_eval_step(step_inputs, tmp_path, env)
    report = (tmp_path / "action-stdout.txt").read_text()
    assert f"replay: {total - 1} of {total} case(s) answered" in report
    assert "1 changed case(s) skipped" in report


def _case_count(path: Path) -> int:
    import json

    return len(json.loads(path.read_text(encoding="utf-8"))["cases"])


def _run_action_eval_step(inputs: dict[str, Any], cwd: Path, env: dict[str, str]) -> int:
    """Run action.yml's `workbench eval` step as GitHub would: inputs as its env, no key."""
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    defaults = {name: spec.get("default", "") for name, spec in action["inputs"].items()}
    values = {**defaults, **{k: str(v) for k, v in inputs.items()}, "api-key": ""}
    (step,) = [s for s in action["runs"]["steps"] if s.get("id") == "eval"]
    step_env = {
        name: re.sub(r"\$\{\{ inputs\.([\w-]+) \}\}", lambda m: values[m[1]], value)
        for name, value in step["env"].items()
    }
    output = cwd / "github-output.txt"
    done = _bash(step["run"], cwd, {**env, **step_env, "GITHUB_OUTPUT": str(output)})
    (cwd / "action-stdout.txt").write_text(done.stdout + done.stderr)
    assert done.returncode == 0, (
        done.stdout + done.stderr
    )  # the step records the code, the last step fails
    match = re.search(r"exit-code=(\d+)", output.read_text())
    assert match, output.read_text()
    return int(match[1])


_WITHOUT_QT = """
import sys

class NoQt:
    # Stands in for an install without the gui extra: PySide6 and pyqtgraph cannot be found.
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("PySide6", "pyqtgraph"):
            raise ModuleNotFoundError(name)
        return None

sys.meta_path.insert(0, NoQt())
sys.argv = ["workbench"]
from workbench.cli.main import main
main()
"""


def test_the_app_without_the_gui_extra_says_how_to_add_it() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_QT], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    assert "the desktop app needs the gui extra: pip install 'prompt-workbench[gui]'" in done.stderr
    assert "Traceback" not in done.stderr
