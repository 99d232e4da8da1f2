"""Where model calls go and where the key comes from, in words the status bar can show.

The order is the provider's: the project's base URL, else ``ANTHROPIC_BASE_URL`` (the SDK reads
it), else Anthropic's API.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from workbench.services import api_key_store
from workbench.storage.project import Project

DEFAULT_BASE_URL = "https://api.anthropic.com"
BASE_URL_ENV_VAR = "ANTHROPIC_BASE_URL"


@dataclass(frozen=True)
class Endpoint:
    """The URL calls go to and what decided it ("project setting", the env var, "default")."""

    url: str
    source: str

    def describe(self) -> str:
        """ "ANTHROPIC_BASE_URL → http://127.0.0.1:18080" / "default → https://api.anthropic.com"."""
        return f"{self.source} → {self.url}"


def effective_endpoint(project: Project | None) -> Endpoint:
    """Where a real call from `project` would go now."""
    if project is not None and project.settings.base_url:
        return Endpoint(project.settings.base_url, "project setting")
    from_env = os.environ.get(BASE_URL_ENV_VAR, "").strip()
    if from_env:
        return Endpoint(from_env, BASE_URL_ENV_VAR)
    return Endpoint(DEFAULT_BASE_URL, "default")


def key_origin() -> str:
    """ "key from the environment" / "key from the keyring" / "no API key set"."""
    source = api_key_store.api_key_source()
    if source is None:
        return "no API key set"
    return "key from the keyring" if source == "keyring" else "key from the environment"
