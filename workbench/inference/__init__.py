"""Model providers: the only package that talks to the Anthropic SDK.

``anthropic`` costs about two seconds to import, so nothing here imports it at module level;
`make_provider("anthropic")` loads it on first use.
"""

from __future__ import annotations

from typing import Any

from workbench.core.errors import BadInput
from workbench.inference.base import (
    ERROR_TYPES,
    Attempt,
    CallRequest,
    CallResult,
    Provider,
    Usage,
)
from workbench.inference.retry import Decision, RetryPolicy

PROVIDER_NAMES = ("anthropic", "echo", "demo")

__all__ = [
    "ERROR_TYPES",
    "PROVIDER_NAMES",
    "Attempt",
    "CallRequest",
    "CallResult",
    "Decision",
    "Provider",
    "RetryPolicy",
    "Usage",
    "make_provider",
]


def make_provider(
    name: str,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    policy: RetryPolicy | None = None,
    **options: Any,
) -> Provider:
    """Build a provider by name.

    :param name: ``anthropic``, ``echo`` or ``demo`` (the offline demo's per-tier answers)
    :param api_key: Anthropic key; None looks in the OS keyring, then ``ANTHROPIC_API_KEY``
    :param base_url: API root; None lets the SDK honour ``ANTHROPIC_BASE_URL``
    :param policy: retry policy (anthropic only); None uses the defaults
    :param options: provider-specific options (e.g. echo's ``chunk_delay_s``)
    :raises MissingApiKey: for ``anthropic`` when no key is found anywhere
    :raises BadInput: for an unknown provider name
    """
    if name == "echo":
        from workbench.inference.echo import EchoProvider

        return EchoProvider(**options)
    if name == "demo":
        from workbench.inference.demo_provider import DemoProvider

        return DemoProvider(**options)
    if name == "anthropic":
        from workbench.inference.keys import require_api_key

        key = api_key or require_api_key()
        from workbench.inference.anthropic_provider import AnthropicProvider

        return AnthropicProvider(api_key=key, base_url=base_url, policy=policy, **options)
    raise BadInput(
        f"unknown provider '{name}'",
        field="provider",
        hint=f"Use one of: {', '.join(PROVIDER_NAMES)}.",
    )
