"""API key lookup: keyring first when a real backend exists, then ANTHROPIC_API_KEY."""

from __future__ import annotations

from collections.abc import Iterator

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from workbench.core.errors import WorkbenchError
from workbench.inference import keys

FAKE_KEY = "sk-ant-test-FAKEKEY-1234"


class MemoryKeyring(KeyringBackend):
    """A working in-memory backend."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        del self.store[(service, username)]


class BrokenKeyring(MemoryKeyring):
    """A backend whose every operation fails, e.g. a locked keychain."""

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError(f"cannot store {password}")


@pytest.fixture(autouse=True)
def restore_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("WORKBENCH_NO_KEYRING", raising=False)
    previous = keyring.get_keyring()
    yield
    keyring.set_keyring(previous)


def test_no_keyring_and_no_env_gives_none_and_a_clear_error() -> None:
    keyring.set_keyring(fail.Keyring())
    assert keys.get_api_key() is None
    assert keys.api_key_source() is None
    with pytest.raises(keys.MissingApiKey) as info:
        keys.require_api_key()
    assert "ANTHROPIC_API_KEY" in str(info.value) and "keyring" in str(info.value)


def test_env_var_is_used_when_no_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    keyring.set_keyring(fail.Keyring())
    monkeypatch.setenv("ANTHROPIC_API_KEY", f"  {FAKE_KEY}\n")
    assert keys.get_api_key() == FAKE_KEY
    assert keys.api_key_source() == "environment"


def test_keyring_wins_over_env(monkeypatch: pytest.MonkeyPatch) -> None:
    keyring.set_keyring(MemoryKeyring())
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-from-env")
    assert keys.keyring_available()[0]
    keys.set_api_key(FAKE_KEY)
    assert keys.get_api_key() == FAKE_KEY
    assert keys.api_key_source() == "keyring"
    assert keys.delete_api_key()
    assert keys.get_api_key() == "sk-ant-from-env"


def test_failing_keyring_falls_back_to_env(monkeypatch: pytest.MonkeyPatch) -> None:
    keyring.set_keyring(BrokenKeyring())
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
    assert keys.get_api_key() == FAKE_KEY


def test_set_api_key_without_keyring_names_the_env_var() -> None:
    keyring.set_keyring(fail.Keyring())
    available, why = keys.keyring_available()
    assert not available and "keyring" in why
    with pytest.raises(WorkbenchError) as info:
        keys.set_api_key(FAKE_KEY)
    assert "ANTHROPIC_API_KEY" in str(info.value)
    assert FAKE_KEY not in str(info.value)


def test_set_api_key_failure_never_echoes_the_key() -> None:
    keyring.set_keyring(BrokenKeyring())
    with pytest.raises(WorkbenchError) as info:
        keys.set_api_key(FAKE_KEY)
    assert FAKE_KEY not in str(info.value)
    # The keyring's own exception (which echoes the key) is hidden from tracebacks.
    assert info.value.__suppress_context__


def test_empty_chainer_counts_as_no_keyring() -> None:
    from keyring.backends import chainer

    backend = chainer.ChainerBackend()
    if backend.backends:
        pytest.skip("this machine has real keyring backends")
    keyring.set_keyring(backend)
    assert not keys.keyring_available()[0]


def test_workbench_no_keyring_turns_the_keyring_off(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = MemoryKeyring()
    backend.set_password(keys.KEYRING_SERVICE, keys.KEYRING_USERNAME, "sk-ant-in-keyring")
    keyring.set_keyring(backend)
    monkeypatch.setenv("WORKBENCH_NO_KEYRING", "1")
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
    assert not keys.keyring_available()[0]
    assert keys.get_api_key() == FAKE_KEY


def test_make_provider_without_any_key_raises_missing_api_key() -> None:
    from workbench.inference import make_provider

    keyring.set_keyring(fail.Keyring())
    with pytest.raises(keys.MissingApiKey):
        make_provider("anthropic")
