"""The offline echo provider, for the demo and the installer's self-test (no key, no network)."""

from __future__ import annotations

from workbench.inference import make_provider
from workbench.inference.base import Provider


def echo_provider() -> Provider:
    """A provider that answers every call locally with a synthetic echo of the prompt."""
    return make_provider("echo")
