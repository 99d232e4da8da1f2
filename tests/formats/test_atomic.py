import os
import stat

import pytest

from workbench.formats.atomic import write_text_atomic


def _mode(path):
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_new_file_honours_the_umask(tmp_path, umask_022):
    target = tmp_path / "prompts.json"
    write_text_atomic(target, "{}")
    assert _mode(target) == 0o644
    assert target.read_text() == "{}"


def test_new_file_under_a_strict_umask_stays_private(tmp_path):
    old = os.umask(0o077)
    try:
        write_text_atomic(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "a.txt") == 0o600


def test_existing_file_keeps_its_mode(tmp_path, umask_022):
    target = tmp_path / "report.xml"
    target.write_text("old")
    target.chmod(0o640)
    write_text_atomic(target, "new")
    assert _mode(target) == 0o640
    assert target.read_text() == "new"


def test_failed_write_leaves_the_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "x.txt"
    target.write_text("old")

    def boom(*_a):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        write_text_atomic(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.txt"]
