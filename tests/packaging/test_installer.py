"""The Linux installer end to end: build the bundle and packages, unpack the .deb, start the app.

Slow: packaging/build_linux.sh runs PyInstaller (one to two minutes on 2 cores), once for the
whole module. The .deb is unpacked with `dpkg -x` into a scratch root (no root install) and the
binary is started from there, headless, under `timeout`: an exception inside a Qt slot can hang
the app instead of ending it.
"""

from __future__ import annotations

import configparser
import importlib.util
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from workbench import __version__
from workbench.testing.fake_anthropic import FakeAnthropicServer

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]  # the first test also pays the build

ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = ROOT / "packaging" / "build_linux.sh"
APP = "prompt-workbench"
SIZE_LIMIT_BYTES = 250 * 1024 * 1024
FROZEN_ERRORS = ("ModuleNotFoundError", "ImportError", "qt.qpa.plugin", "Traceback")
# The brief's minimum set of system libraries the .deb must declare.
REQUIRED_DEPENDS = {"libegl1", "libgl1", "libxkbcommon0", "libfontconfig1", "libdbus-1-3"}
GLIBC_SONAME = re.compile(
    r"^(libc|libm|libdl|libpthread|librt|libutil|libresolv|ld-linux-x86-64)\.so"
)


@dataclass(frozen=True)
class Installer:
    """The packages built by packaging/build_linux.sh, and the .deb unpacked into a scratch root."""

    bundle: Path
    tarball: Path
    deb: Path
    root: Path
    build_log: str

    @property
    def app_dir(self) -> Path:
        return self.root / "opt" / APP

    @property
    def command(self) -> Path:
        return self.root / "usr" / "bin" / "workbench"

    @property
    def sample(self) -> Path:
        """The sample bundle as shipped inside the installed app."""
        return self.app_dir / "_internal" / "workbench" / "resources" / "quizcraft.yaml"


@pytest.fixture(scope="module")
def installer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installer]:
    if not sys.platform.startswith("linux"):
        pytest.skip("the .deb/.tar.gz installer is built and tested on Linux only")
    if importlib.util.find_spec("PyInstaller") is None:
        pytest.skip("PyInstaller is not installed; `pip install -e '.[dev]'` installs it")
    work = tmp_path_factory.mktemp("installer")
    env = dict(
        os.environ,
        PYTHON=sys.executable,
        BUILD_DIR=str(work / "build"),
        DIST_DIR=str(work / "dist"),
        # xz takes two minutes on 200 MB with 2 cores; the format does not matter to this test.
        DEB_COMPRESSION="zstd",
    )
    started = time.monotonic()
    result = subprocess.run(
        ["bash", str(BUILD_SCRIPT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    log = result.stdout + result.stderr
    if result.returncode != 0:
        pytest.fail(f"packaging/build_linux.sh failed ({result.returncode}):\n{log[-6000:]}")
    dist = work / "dist"
    deb = dist / f"{APP}_{__version__}_amd64.deb"
    root = work / "root"
    subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True, timeout=300)
    print(f"\ninstaller built and unpacked in {time.monotonic() - started:.0f} s")
    yield Installer(
        bundle=work / "build" / "dist" / APP,
        tarball=dist / f"{APP}-{__version__}-linux-x86_64.tar.gz",
        deb=deb,
        root=root,
        build_log=log,
    )
    shutil.rmtree(work, ignore_errors=True)  # about 1 GB; pytest would keep three runs of it


def _user_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a user with no Python setup: no PYTHON*/LD_*/QT_* variables."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "LD_", "QT_", "ANTHROPIC_", "WORKBENCH_", "XDG_"))
    }
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_RUNTIME_DIR=str(home / "runtime"),
        QT_QPA_PLATFORM="offscreen",
        NO_PROXY="127.0.0.1,localhost",
    )
    (home / "runtime").mkdir(parents=True, exist_ok=True, mode=0o700)
    env.update(extra)
    return env


def _run_installed(
    installer: Installer, args: list[str], home: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    # `timeout` kills a hung app; the subprocess timeout is only a backstop.
    return subprocess.run(
        ["timeout", "--kill-after=10", "120", str(installer.command), *args],
        cwd=home,
        env=_user_env(home, **env),
        capture_output=True,
        text=True,
        timeout=150,
    )


def _assert_no_frozen_errors(output: str) -> None:
    for marker in FROZEN_ERRORS:
        assert marker not in output, f"{marker} in the frozen app's output:\n{output}"


def _deb_field(deb: Path, field: str) -> str:
    return subprocess.run(
        ["dpkg-deb", "-f", str(deb), field], capture_output=True, text=True, check=True
    ).stdout.strip()


def _depends_names(deb: Path) -> set[str]:
    names = set()
    for clause in _deb_field(deb, "Depends").split(","):
        for alternative in clause.split("|"):
            names.add(alternative.split("(")[0].strip())
    return names


def test_installed_app_passes_selftest_headless(installer: Installer, tmp_path: Path) -> None:
    result = _run_installed(installer, ["--selftest"], tmp_path, WORKBENCH_NO_KEYRING="1")
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"--selftest exited {result.returncode}:\n{output}"
    assert "selftest ok" in result.stdout, output
    _assert_no_frozen_errors(output)


def test_installed_cli_runs_the_sample_against_the_fake_api(
    installer: Installer, tmp_path: Path
) -> None:
    """The SDK, httpx2 and the keyring are imported lazily: this proves they were bundled."""
    with FakeAnthropicServer() as server:
        result = _run_installed(
            installer,
            ["run", str(installer.sample), "--prompt", "support-answer@2"]
            + ["--dataset", "support-evals", "--json"],
            tmp_path,
            ANTHROPIC_API_KEY="sk-ant-test-FAKE",
            ANTHROPIC_BASE_URL=server.base_url,
            # Loads keyring and its backends without touching the user's real keyring.
            PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        )
        requests = server.stats()["messages_requests"]
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    _assert_no_frozen_errors(output)
    assert json.loads(result.stdout)["totals"]["done"] == 10
    assert requests == 10


def test_installed_export_writes_the_stdlib_loader(installer: Installer, tmp_path: Path) -> None:
    """`--with-loader` reads workbench/runtime/registry.py as a data file of the bundle."""
    out = tmp_path / "export"
    out.mkdir()
    result = _run_installed(
        installer,
        ["export", str(installer.sample), "--format", "production"]
        + ["-o", str(out / "prompts.json"), "--with-loader"],
        tmp_path,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    _assert_no_frozen_errors(output)
    loader = (out / "prompt_registry.py").read_text("utf-8")
    source = (ROOT / "workbench" / "runtime" / "registry.py").read_text("utf-8")
    assert loader.endswith(source)
    assert json.loads((out / "prompts.json").read_text("utf-8"))


def test_bundle_is_well_under_250_mb(installer: Installer) -> None:
    size = sum(p.lstat().st_size for p in installer.app_dir.rglob("*") if not p.is_dir())
    packages = {p.name: p.stat().st_size for p in (installer.tarball, installer.deb)}
    print(
        f"\nbundle {size / 2**20:.0f} MiB; "
        + ", ".join(f"{k} {v / 2**20:.0f} MiB" for k, v in packages.items())
    )
    assert size < SIZE_LIMIT_BYTES, f"the bundle is {size / 2**20:.0f} MiB"


def test_deb_installs_command_desktop_entry_and_icon(installer: Installer) -> None:
    assert installer.command.is_symlink()
    assert installer.command.resolve() == (installer.app_dir / "workbench").resolve()

    desktop = installer.root / "usr" / "share" / "applications" / f"{APP}.desktop"
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(desktop, encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Exec"].split()[0] == "workbench"
    assert entry["Icon"] == APP

    icon = installer.root / "usr/share/icons/hicolor/256x256/apps" / f"{APP}.png"
    data = icon.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (256, 256)  # IHDR width, height


def test_deb_control_names_the_package_and_its_system_libraries(installer: Installer) -> None:
    assert _deb_field(installer.deb, "Package") == APP
    assert _deb_field(installer.deb, "Version") == __version__
    assert _deb_field(installer.deb, "Architecture") == "amd64"
    assert _depends_names(installer.deb) >= REQUIRED_DEPENDS


def test_tarball_holds_the_bundle_icon_and_desktop_entry(installer: Installer) -> None:
    top = f"{APP}-{__version__}"
    with tarfile.open(installer.tarball) as tar:
        names = set(tar.getnames())
    expected = {
        "workbench",
        f"{APP}.png",
        f"{APP}.desktop",
        "_internal/workbench/resources/quizcraft.yaml",
        "_internal/workbench/resources/prices.yaml",
        "_internal/workbench/resources/models.yaml",
        "_internal/workbench/resources/icons/prompt-workbench.svg",
        "_internal/workbench/resources/icons/run.svg",
    }
    assert {f"{top}/{name}" for name in expected} <= names


def _elf_files(folder: Path) -> list[Path]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as handle:
                if handle.read(4) == b"\x7fELF":
                    found.append(path)
    return found


def _needed_sonames(files: list[Path]) -> dict[str, set[str]]:
    """soname -> the bundle files that list it as NEEDED (from `objdump -p`)."""
    needed: dict[str, set[str]] = {}
    for start in range(0, len(files), 100):
        chunk = files[start : start + 100]
        out = subprocess.run(
            ["objdump", "-p", *map(str, chunk)], capture_output=True, text=True, check=True
        ).stdout
        current = ""
        for line in out.splitlines():
            if line.endswith(("file format elf64-x86-64", "file format elf64-little")):
                current = line.split(":", 1)[0]
            elif line.strip().startswith("NEEDED"):
                needed.setdefault(line.split()[1], set()).add(Path(current).name)
    return needed


def _system_packages(sonames: set[str]) -> dict[str, str]:
    """soname -> the Debian package that provides it here (sonames not installed are left out)."""
    paths = {}
    for line in subprocess.run(
        ["/sbin/ldconfig", "-p"], capture_output=True, text=True, check=True
    ).stdout.splitlines():
        match = re.match(r"\s*(\S+) \(libc6,x86-64[^)]*\) => (\S+)", line)
        if match and match[1] in sonames:
            paths.setdefault(match[1], match[2])
    found = {}
    for soname, path in paths.items():
        # dpkg knows a file under the path it was packaged with (/lib or /usr/lib, merged /usr).
        candidates = {path, os.path.realpath(path), "/usr" + path, path.removeprefix("/usr")}
        owner = subprocess.run(["dpkg", "-S", *candidates], capture_output=True, text=True)
        for line in owner.stdout.splitlines():
            found[soname] = line.split(":", 1)[0].strip()
            break
    return found


def test_bundle_needs_only_bundled_or_declared_system_libraries(installer: Installer) -> None:
    """Each library the bundle links to is in it, or comes from a package the .deb depends on."""
    if shutil.which("objdump") is None or shutil.which("dpkg") is None:
        pytest.fail("objdump and dpkg are needed (apt-get install binutils dpkg)")
    files = _elf_files(installer.app_dir)
    bundled = {path.name for path in installer.app_dir.rglob("*.so*")}
    needed = _needed_sonames(files)
    external = {name for name in needed if name not in bundled and not GLIBC_SONAME.match(name)}
    missing_qt = sorted(name for name in external if name.startswith("libQt6"))
    assert not missing_qt, f"Qt libraries needed but not bundled: {missing_qt}"

    depends = _depends_names(installer.deb)
    owners = _system_packages(external)
    undeclared = {
        soname: f"{package} (needed by {', '.join(sorted(needed[soname]))})"
        for soname, package in owners.items()
        if package.split(":")[0] not in depends
    }
    assert not undeclared, f"add these packages to Depends in build_linux.sh: {undeclared}"
