"""Where the Anthropic API key is kept (OS keyring or environment), for the settings screens.

The views read and change the key only through these functions; the key itself is handled by
`workbench.inference.keys` (looked up at call time) and never written to a project, a log or a
settings file.
"""

from __future__ import annotations

from workbench.inference import keys

ENV_VAR = keys.ENV_VAR


def keyring_available() -> tuple[bool, str]:
    """Whether the OS keyring can store the key, and why not when it cannot."""
    return keys.keyring_available()


def get_api_key() -> str | None:
    """The key in use (keyring first, then the environment), or None."""
    return keys.get_api_key()


def api_key_source() -> str | None:
    """Where the key in use comes from: "keyring", "environment", or None."""
    return keys.api_key_source()


def set_api_key(key: str) -> None:
    """Store `key` in the OS keyring."""
    keys.set_api_key(key)


def delete_api_key() -> bool:
    """Remove the key from the OS keyring; False when none was stored there."""
    return keys.delete_api_key()
