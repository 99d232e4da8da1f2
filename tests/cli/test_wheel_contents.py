"""The built wheel carries the top-level resources/ folder as workbench/resources."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What a wheel is built from; the sample bundle and the guide in resources/ link into projects/ and docs/.
SOURCES = ("pyproject.toml", "setup.py", "README.md", "workbench", "resources", "projects", "docs")


def _build_wheel(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    for name in SOURCES:
        item = ROOT / name
        if item.is_dir():
            shutil.copytree(
                item, src / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(item, src / name)
    out = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
        + ["-w", str(out), str(src)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = out.glob("prompt_workbench-*.whl")
    return wheel


def test_wheel_holds_every_resource_file(tmp_path: Path) -> None:
    with zipfile.ZipFile(_build_wheel(tmp_path)) as wheel:
        names = set(wheel.namelist())
        sample = wheel.read("workbench/resources/quizcraft.yaml")
    expected = {
        f"workbench/resources/{path.relative_to(ROOT / 'resources').as_posix()}"
        for path in (ROOT / "resources").rglob("*")
        if path.is_file()
    }
    assert {"workbench/resources/prices.yaml", "workbench/resources/models.yaml"} <= expected
    assert any(name.endswith(".svg") for name in expected)
    assert expected <= names, sorted(expected - names)
    # The link is followed: the wheel holds the sample project itself.
    assert sample == (ROOT / "projects" / "quizcraft.yaml").read_bytes()
    assert "workbench/resource_files.py" in names
    assert not any(name.startswith("resources/") for name in names), "no top-level package"
