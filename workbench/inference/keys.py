"""Where the Anthropic API key comes from: the OS keyring when one works, else the environment.

The key itself never goes into an error message, a log line or a result: functions here
return it only to the caller that builds the client. ``keyring`` is imported lazily because
backend discovery is slow and ``workbench --help`` must stay fast.
"""

from __future__ import annotations

import os

from workbench.core.errors import WorkbenchError

KEYRING_SERVICE = "prompt-workbench"
KEYRING_USERNAME = "anthropic-api-key"
ENV_VAR = "ANTHROPIC_API_KEY"
# Set (to anything but "" or "0") to ignore the OS keyring, e.g. in tests and CI.
NO_KEYRING_ENV_VAR = "WORKBENCH_NO_KEYRING"


class MissingApiKey(WorkbenchError):
    """No API key was found in the keyring or the environment."""

    def __init__(self) -> None:
        super().__init__(
            "No Anthropic API key is set.",
            hint=(
                f"Set the {ENV_VAR} environment variable, or save the key in the OS keyring "
                "from the app's key settings; or use the offline 'echo' provider."
            ),
        )


def keyring_available() -> tuple[bool, str]:
    """Whether a real keyring backend exists, and a short description for the UI."""
    if os.environ.get(NO_KEYRING_ENV_VAR, "") not in ("", "0"):
        return False, f"the keyring is turned off ({NO_KEYRING_ENV_VAR} is set)"
    try:
        import keyring
        from keyring.backends import chainer, fail

        backend = keyring.get_keyring()
        if isinstance(backend, fail.Keyring):
            return False, "no OS keyring backend is available"
        if type(backend).__module__ == "keyring.backends.null":
            return False, "the keyring is disabled (null backend)"
        if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
            return False, "no OS keyring backend is available"
        return True, f"OS keyring ({type(backend).__module__}.{type(backend).__name__})"
    except Exception as exc:  # any failure in backend discovery means "no keyring"
        return False, f"the keyring could not be loaded ({type(exc).__name__})"


def _keyring_get() -> str | None:
    available, _ = keyring_available()
    if not available:
        return None
    try:
        import keyring

        value = keyring.get_password(KEYRING_SERVICE, KEYRING_USERNAME)
    except Exception:  # a locked or broken keyring must not stop the env var fallback
        return None
    return (value or "").strip() or None


def _env_get() -> str | None:
    value = os.environ.get(ENV_VAR, "").strip()
    return value or None


def get_api_key() -> str | None:
    """The API key from the keyring if one is stored there, else from ANTHROPIC_API_KEY."""
    return _keyring_get() or _env_get()


def api_key_source() -> str | None:
    """``"keyring"``, ``"environment"`` or None: where `get_api_key` would find the key."""
    if _keyring_get():
        return "keyring"
    if _env_get():
        return "environment"
    return None


def require_api_key() -> str:
    """The API key, or MissingApiKey naming both ways to set it."""
    key = get_api_key()
    if not key:
        raise MissingApiKey()
    return key


def set_api_key(key: str) -> None:
    """Store the key in the OS keyring; WorkbenchError when there is none or it fails."""
    key = key.strip()
    if not key:
        raise WorkbenchError("The API key is empty.", hint="Paste the whole key and try again.")
    available, why = keyring_available()
    if not available:
        raise WorkbenchError(
            f"Cannot save the API key: {why}.",
            hint=f"Set the {ENV_VAR} environment variable instead.",
        )
    try:
        import keyring

        keyring.set_password(KEYRING_SERVICE, KEYRING_USERNAME, key)
    except Exception as exc:
        # The exception text could echo what was being stored, so only its type is shown.
        raise WorkbenchError(
            f"Cannot save the API key in the OS keyring ({type(exc).__name__}).",
            hint=f"Unlock the keyring, or set the {ENV_VAR} environment variable instead.",
        ) from None


def delete_api_key() -> bool:
    """Remove the key from the keyring; True if one was removed."""
    available, _ = keyring_available()
    if not available:
        return False
    try:
        import keyring

        if keyring.get_password(KEYRING_SERVICE, KEYRING_USERNAME) is None:
            return False
        keyring.delete_password(KEYRING_SERVICE, KEYRING_USERNAME)
    except Exception:
        return False
    return True
