"""Lint, format, types and architecture contracts run as part of the one test command."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_lint() -> None:
    result = _run(sys.executable, "-m", "ruff", "check", "workbench", "tests", "bench", "packaging")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = _run(
        sys.executable,
        "-m",
        "ruff",
        "format",
        "--check",
        "workbench",
        "tests",
        "bench",
        "packaging",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_core_and_storage() -> None:
    result = _run(sys.executable, "-m", "mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_contracts() -> None:
    exe = shutil.which("lint-imports")
    if exe is None:
        pytest.fail("lint-imports (import-linter) is not installed: pip install -e '.[dev]'")
    result = _run(exe)
    assert result.returncode == 0, result.stdout + result.stderr


def test_help_imports_neither_qt_nor_anthropic() -> None:
    code = (
        "import sys\n"
        "from workbench.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "bad = [m for m in ('PySide6', 'anthropic', 'pyqtgraph', 'httpx') if m in sys.modules]\n"
        "print('LOADED', bad)\n"
    )
    result = _run(sys.executable, "-c", code)
    assert "LOADED []" in result.stdout, result.stdout + result.stderr
