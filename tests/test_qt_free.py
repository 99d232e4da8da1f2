"""Qt-free really means Qt-free: with PySide6 and pyqtgraph not importable, every module outside
workbench.ui (and the GUI's composition root) imports, and a representative set of the tests
outside tests/ui passes. Both run in a subprocess whose import system refuses Qt."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLOCKED = ("PySide6", "pyqtgraph", "shiboken6", "superqt")
# Fast, and between them they reach every layer below the views plus the CLI.
SUBSET = (
    "tests/core",
    "tests/formats",
    "tests/services/test_scorers.py",
    "tests/services/test_pricing.py",
    "tests/services/test_judge.py",
    "tests/services/test_estimates.py",
    "tests/storage/test_prompts_repo.py",
    "tests/inference/test_retry_policy.py",
    "tests/cli/test_cli_spend.py",
)

BLOCKER = textwrap.dedent(
    f"""
    import importlib.abc
    import sys

    BLOCKED = {BLOCKED!r}


    class QtBlocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{{name}} is blocked: this code must not need Qt")
            return None


    sys.meta_path.insert(0, QtBlocker())
    for loaded in [m for m in sys.modules if m.split(".")[0] in BLOCKED]:
        del sys.modules[loaded]
    """
)


def _python(code: str, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", BLOCKER + textwrap.dedent(code)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_the_blocker_really_blocks_qt() -> None:
    result = _python(
        """
        try:
            import PySide6.QtCore
        except ImportError as exc:
            print("blocked:", exc)
        """,
        timeout=60,
    )
    assert "blocked: PySide6" in result.stdout, result.stderr


def test_every_module_outside_the_gui_imports_without_qt() -> None:
    result = _python(
        """
        import importlib
        import pkgutil

        import workbench

        GUI = ("workbench.ui", "workbench.app", "workbench.__main__")
        names = [
            info.name
            for info in pkgutil.walk_packages(workbench.__path__, "workbench.")
            if not info.name.startswith(GUI)
        ]
        for name in names:
            importlib.import_module(name)
        print(len(names), "modules imported")
        """,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    count = int(result.stdout.split()[0])
    assert count > 50  # the walk found the packages, not an empty tree


def test_tests_outside_tests_ui_pass_without_qt() -> None:
    result = _python(
        f"""
        import pytest

        sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", "-p", "no:pytest-qt",
                              *{SUBSET!r}]))
        """,
        timeout=300,
    )
    tail = (result.stdout + result.stderr)[-3000:]
    assert result.returncode == 0, tail
    assert " passed" in result.stdout and "error" not in result.stdout.splitlines()[-1], tail
