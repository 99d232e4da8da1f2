"""The built-in files are found in the top-level resources/ folder of a checkout, in an installed
package's workbench/resources and in a PyInstaller bundle, and nowhere else."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from workbench import resource_files
from workbench.core.errors import NotFound
from workbench.resource_files import resource_folders, resource_path, sample_bundle_path

ROOT = Path(__file__).resolve().parents[2]


def test_a_checkout_reads_the_top_level_folder() -> None:
    assert resource_path("prices.yaml") == ROOT / "resources" / "prices.yaml"
    assert resource_path("icons/run.svg").read_text(encoding="utf-8").startswith("<svg")
    assert sample_bundle_path().read_bytes() == (ROOT / "projects" / "quizcraft.yaml").read_bytes()


@pytest.mark.parametrize("name", ["", "../pyproject.toml", "/etc/passwd", "icons\\run.svg"])
def test_names_cannot_leave_the_folder(name: str) -> None:
    with pytest.raises(ValueError):
        resource_path(name)


def test_a_missing_file_says_to_reinstall() -> None:
    with pytest.raises(NotFound) as caught:
        resource_path("no-such-table.yaml")
    assert "no-such-table.yaml" in str(caught.value)


def test_installed_and_frozen_layouts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # An installed package: site-packages/workbench/resources, and a stray
    # site-packages/resources (another distribution's) that must not be used.
    package = tmp_path / "site" / "workbench"
    (package / "resources").mkdir(parents=True)
    (package / "resources" / "models.yaml").write_text("installed", encoding="utf-8")
    (tmp_path / "site" / "resources").mkdir()
    (tmp_path / "site" / "resources" / "prices.yaml").write_text("not ours", encoding="utf-8")
    monkeypatch.setattr(resource_files, "_PACKAGE_ROOT", package)
    assert resource_folders() == [package / "resources"]
    assert resource_path("models.yaml").read_text(encoding="utf-8") == "installed"
    with pytest.raises(NotFound):
        resource_path("prices.yaml")
    bundle = tmp_path / "bundle"
    (bundle / "workbench" / "resources").mkdir(parents=True)
    (bundle / "workbench" / "resources" / "prices.yaml").write_text("frozen", encoding="utf-8")
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    assert resource_path("prices.yaml").read_text(encoding="utf-8") == "frozen"
