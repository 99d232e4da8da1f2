"""The installed `workbench` entry point works from a fresh virtual environment (a real wheel
install, not the editable checkout), resources and sample project included."""

from __future__ import annotations

import shutil
import site
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _running_site_packages() -> list[str]:
    """Where the running interpreter finds its packages, whether it is a venv or not.

    `--system-site-packages` would give the *base* interpreter's folders, so a test run from a
    virtualenv would not see the virtualenv's own packages.
    """
    folders = [*site.getsitepackages(), site.getusersitepackages(), sysconfig.get_path("purelib")]
    folders += [p for p in sys.path if Path(p).name in ("site-packages", "dist-packages")]
    unique = dict.fromkeys(str(Path(f).resolve()) for f in folders if Path(f).is_dir())
    return [f for f in unique if not Path(f).is_relative_to(ROOT)]


def _see_the_running_interpreters_packages(py: Path) -> None:
    """A .pth file in the new venv listing the running interpreter's package folders.

    Plain paths only: .pth files inside those folders are not run, so an editable install of the
    checkout there cannot shadow the wheel installed in the venv (whose folder comes first).
    """
    purelib = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    lines = "".join(f"{folder}\n" for folder in _running_site_packages())
    (Path(purelib) / "running-interpreter.pth").write_text(lines, encoding="utf-8")


@pytest.mark.slow
def test_wheel_install_in_a_fresh_venv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Only the venv decides what `workbench` is: no checkout on the path.
    monkeypatch.delenv("PYTHONPATH", raising=False)
    src = tmp_path / "src"
    # Copy the checkout without build leftovers so the wheel is built from the sources alone.
    shutil.copytree(
        ROOT,
        src,
        symlinks=True,
        ignore=shutil.ignore_patterns(
            ".git", "build", "dist", "*.egg-info", "test-artifacts", "__pycache__", ".*cache*"
        ),
    )
    env_dir = tmp_path / "venv"
    # The running interpreter's packages provide the dependencies (no network in tests); the
    # package itself is installed from a freshly built wheel.
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    _see_the_running_interpreters_packages(py)
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(wheels),
            str(src),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = wheels.glob("prompt_workbench-*.whl")
    install = subprocess.run(
        [str(py), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr
    exe = env_dir / "bin" / "workbench"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    help_run = subprocess.run(
        [str(exe), "--help"], capture_output=True, text=True, cwd=outside, timeout=60
    )
    assert help_run.returncode == 0 and "Prompt Workbench" in help_run.stdout
    where = subprocess.run(
        [str(py), "-c", "import workbench, sys; print(workbench.__file__)"],
        capture_output=True,
        text=True,
        cwd=outside,
        timeout=60,
    )
    assert str(env_dir) in where.stdout, "the venv's copy is used, not the checkout"
    sample = subprocess.run(
        [
            str(py),
            "-c",
            "from workbench.resource_files import sample_bundle_path; print(sample_bundle_path())",
        ],
        capture_output=True,
        text=True,
        cwd=outside,
        timeout=60,
    )
    assert sample.returncode == 0, sample.stderr
    created = subprocess.run(
        [str(exe), "new", "demo.pwb", "--from", sample.stdout.strip()],
        capture_output=True,
        text=True,
        cwd=outside,
        timeout=60,
    )
    assert created.returncode == 0, created.stderr
    info = subprocess.run(
        [str(exe), "info", "demo.pwb"], capture_output=True, text=True, cwd=outside, timeout=60
    )
    assert "support-answer" in info.stdout
