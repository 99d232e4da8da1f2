"""Settings: API key (keyring or why not, never shown in full), project settings, price rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, QSettings, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from workbench.inference import keys
from workbench.storage.project import Project
from workbench.ui.context import Change, ProjectContext
from workbench.ui.dialogs.settings_dialog import SettingsDialog, mask_key
from workbench.ui.theme import ThemeChoice, current_theme, is_dark, notifier, stored_choice

FAKE_KEY = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz-9876"


@pytest.fixture
def dialog(qtbot: QtBot, ctx: ProjectContext) -> SettingsDialog:
    widget = SettingsDialog(ctx)
    qtbot.addWidget(widget)
    widget.open()
    return widget


@pytest.fixture
def fake_keyring(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A working keyring held in a dict (the real one is off in tests)."""
    store: dict[str, str] = {}
    monkeypatch.setattr(keys, "keyring_available", lambda: (True, "OS keyring (test)"))
    monkeypatch.setattr(keys, "_keyring_get", lambda: store.get("key"))

    def fake_set(key: str) -> None:
        store["key"] = key.strip()

    def fake_delete() -> bool:
        return store.pop("key", None) is not None

    monkeypatch.setattr(keys, "set_api_key", fake_set)
    monkeypatch.setattr(keys, "delete_api_key", fake_delete)
    return store


def test_mask_key_never_shows_the_whole_key() -> None:
    assert mask_key(FAKE_KEY) == "sk-ant-…9876"
    assert mask_key("short") == "…rt"
    assert mask_key(None) == ""


def test_without_a_keyring_the_dialog_says_why_and_names_the_env_var(
    dialog: SettingsDialog,
) -> None:
    assert not dialog.key_edit.isEnabled()
    note = dialog.keyring_note.text()
    assert "cannot be stored here because the keyring is turned off" in note
    assert "ANTHROPIC_API_KEY" in note
    assert dialog.key_status.text() == "No API key set"


def test_a_key_from_the_environment_is_shown_masked(
    qtbot: QtBot, ctx: ProjectContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
    widget = SettingsDialog(ctx)
    qtbot.addWidget(widget)
    text = widget.key_status.text()
    assert text == "sk-ant-…9876 (from the ANTHROPIC_API_KEY environment variable)"
    assert FAKE_KEY not in text


def test_saving_a_key_stores_it_in_the_keyring_and_clears_the_field(
    qtbot: QtBot, dialog: SettingsDialog, fake_keyring: dict[str, str]
) -> None:
    dialog.refresh()
    assert dialog.key_edit.isEnabled()
    assert dialog.key_edit.echoMode() == dialog.key_edit.EchoMode.Password
    qtbot.keyClicks(dialog.key_edit, FAKE_KEY)
    qtbot.mouseClick(dialog.save_key_button, Qt.MouseButton.LeftButton)
    assert fake_keyring["key"] == FAKE_KEY
    assert dialog.key_edit.text() == ""
    assert dialog.key_message.text() == "Saved sk-ant-…9876 in the OS keyring."
    assert dialog.key_status.text() == "sk-ant-…9876 (from the OS keyring)"
    labels = [dialog.key_status, dialog.key_message, dialog.keyring_note]
    assert all(FAKE_KEY not in label.text() for label in labels)
    qtbot.mouseClick(dialog.remove_key_button, Qt.MouseButton.LeftButton)
    assert "key" not in fake_keyring


def test_an_empty_key_is_refused_in_one_sentence(
    qtbot: QtBot, dialog: SettingsDialog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keys, "keyring_available", lambda: (True, "OS keyring (test)"))
    dialog.refresh()
    assert not dialog.save_key()
    assert "The API key is empty." in dialog.key_message.text()


def test_base_url_and_concurrency_are_saved_in_the_project(
    qtbot: QtBot, dialog: SettingsDialog, ctx: ProjectContext
) -> None:
    assert dialog.concurrency.value() == ctx.require().settings.default_concurrency
    dialog.base_url.setText("http://127.0.0.1:9999")
    dialog.concurrency.setValue(3)
    with qtbot.waitSignal(ctx.changed) as signal:
        qtbot.mouseClick(dialog.save_project_button, Qt.MouseButton.LeftButton)
    assert signal.args[0].what == Change.SETTINGS
    settings = ctx.require().settings
    assert settings.base_url == "http://127.0.0.1:9999"
    assert settings.default_concurrency == 3


def test_a_base_url_that_is_not_http_is_refused(
    dialog: SettingsDialog, ctx: ProjectContext
) -> None:
    dialog.base_url.setText("ftp://example.com")
    assert not dialog.save_project_settings()
    assert "http://" in dialog.project_message.text()
    assert ctx.require().settings.base_url is None


def test_prices_are_listed_and_a_new_dated_row_is_added(
    qtbot: QtBot, dialog: SettingsDialog, ctx: ProjectContext
) -> None:
    project = ctx.require()
    before = project.catalog.list_prices()
    assert dialog.prices_model.rowCount() == len(before) > 0
    first = before[0]
    dialog.prices_view.selectRow(0)
    assert dialog.new_model.currentText() == first.model
    assert dialog.new_values["input"].value() == pytest.approx(first.input)
    dialog.new_date.setDate(QDate(2031, 1, 1))
    dialog.new_values["input"].setValue(first.input * 2)
    with qtbot.waitSignal(ctx.changed) as signal:
        qtbot.mouseClick(dialog.add_price_button, Qt.MouseButton.LeftButton)
    assert (signal.args[0].what, signal.args[0].detail) == (Change.PRICES, first.model)
    rows = project.catalog.list_prices(first.model)
    assert rows[-1].effective_from == dt.date(2031, 1, 1)
    assert rows[-1].input == pytest.approx(first.input * 2)
    # the old row is untouched: rows are immutable
    assert first in rows
    assert dialog.prices_model.rowCount() == len(before) + 1


def test_a_project_without_prices_shows_the_defaults_and_copies_them_on_add(
    qtbot: QtBot, tmp_path: Path, settle: Callable[[], None]
) -> None:
    ctx = ProjectContext()
    ctx.set_project(Project.create(tmp_path / "empty.pwb", "empty"))
    try:
        widget = SettingsDialog(ctx)
        qtbot.addWidget(widget)
        defaults = widget.prices_model.rowCount()
        assert defaults > 0
        assert "built-in price table" in widget.prices_note.text()
        widget.new_model.setCurrentText("my-model")
        widget.new_values["input"].setValue(1.0)
        widget.new_values["output"].setValue(2.0)
        assert widget.add_price_row() is not None
        settle()
        assert len(ctx.require().catalog.list_prices()) == defaults + 1
    finally:
        ctx.close()


def test_read_only_project_settings_are_disabled(qtbot: QtBot, sample_project: Path) -> None:
    ctx = ProjectContext()
    ctx.set_project(Project.open(sample_project, read_only=True))
    try:
        widget = SettingsDialog(ctx)
        qtbot.addWidget(widget)
        assert not widget.save_project_button.isEnabled()
        assert not widget.add_price_button.isEnabled()
        assert "Read-only project" in widget.project_message.text()
    finally:
        ctx.close()


def test_settings_dialog_screenshot(
    qtbot: QtBot, dialog: SettingsDialog, artifacts_dir: Path
) -> None:
    qtbot.wait(10)
    assert dialog.grab().save(str(artifacts_dir / "settings_dialog.png"))


def test_appearance_switches_live_and_is_remembered(
    qtbot: QtBot, ctx: ProjectContext, qsettings: QSettings, artifacts_dir: Path
) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    saved = QPalette(app.palette())
    dialog = SettingsDialog(ctx, settings=qsettings)
    qtbot.addWidget(dialog)
    try:
        dialog.appearance.setCurrentIndex(dialog.appearance.findData("dark"))
        assert is_dark(app.palette()) and current_theme().dark
        assert stored_choice(qsettings) is ThemeChoice.DARK
        dialog.resize(980, 700)
        qtbot.wait(50)  # let the palette change reach the widgets before the grab
        assert dialog.grab().save(str(artifacts_dir / "settings_dialog_dark.png"))
        dialog.appearance.setCurrentIndex(dialog.appearance.findData("light"))
        assert not is_dark(app.palette())
        assert stored_choice(qsettings) is ThemeChoice.LIGHT
    finally:
        app.styleHints().unsetColorScheme()
        app.setPalette(saved)
        notifier().changed.emit()
