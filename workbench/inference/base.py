"""The provider protocol and the plain data that crosses it: requests, results (their attempts
are `workbench.core.records.Attempt`, the one type storage logs too).

Dataclasses rather than pydantic models: a run builds thousands of these per minute and
validation already happened upstream (core.models). `to_dict()` gives the JSON form the
storage layer persists.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from workbench.core.errors import WorkbenchError
from workbench.core.models import Model
from workbench.core.records import Attempt as Attempt  # the one attempt type, logged as is
from workbench.inference.rate_limits import Quota, RateLimitSnapshot

ErrorType = Literal[
    "rate_limit",
    "overloaded",
    "server_error",
    "timeout",
    "connection",
    "authentication",
    "permission",
    "invalid_request",
    "not_found",
    "request_too_large",
    "stream_error",
    "malformed_response",
    "cancelled",
    "expired",
]
ERROR_TYPES: tuple[str, ...] = ErrorType.__args__  # type: ignore[attr-defined]

# Errors that mean the key is wrong or lacks rights: retrying cannot help and every other call
# with the same key will fail too, so the run engine pauses the whole run.
AUTH_ERROR_TYPES = frozenset({"authentication", "permission"})

OnText = Callable[[str], None]
"""Called with each streamed text delta, in order."""
OnBackoff = Callable[[str, float, str], None]
"""Called as ``on_backoff(model, delay_s, reason)`` just before sleeping for a retry."""


class ProviderError(WorkbenchError):
    """A provider request other than a model call (e.g. listing models) failed.

    :param error_type: one of ERROR_TYPES
    """

    def __init__(self, message: str, *, error_type: str, hint: str | None = None) -> None:
        self.error_type = error_type
        super().__init__(message, hint=hint)


def error_type_for_status(status: int) -> str:
    """Map an HTTP error status to one of ERROR_TYPES."""
    if status == 400:
        return "invalid_request"
    if status == 401:
        return "authentication"
    if status == 403:
        return "permission"
    if status == 404:
        return "not_found"
    if status == 413:
        return "request_too_large"
    if status == 429:
        return "rate_limit"
    if status == 529:
        return "overloaded"
    if status in (408, 504):
        return "timeout"
    if status >= 500:
        return "server_error"
    return "invalid_request"


@dataclass(slots=True)
class CallRequest:
    """One fully rendered model call; providers send it as is.

    :param model: model id, e.g. ``claude-haiku-5-5``
    :param system: rendered system prompt ("" for none)
    :param messages: rendered turns, ``{"role": "user"|"assistant", "content": str}``
    :param max_tokens: output token limit
    :param sampling: temperature/top_p/top_k already filtered by the model's capabilities
    :param stop_sequences: strings that end generation
    :param cache_system: put ``cache_control`` on the system block
    :param cache_prefix_messages: put ``cache_control`` on the last content block of the first
        N messages (0 = none), i.e. cache the prompt prefix up to message N
    :param timeout_s: limit for one attempt (retries each get their own)
    :param stream: stream the response; ignored (always streams) when max_tokens > 4096
    :param metadata: sent as the API's ``metadata`` field (e.g. ``{"user_id": ...}``)
    :param tools: tool definitions as the API takes them (name, description, input_schema)
    :param tool_choice: ``{"type": "auto"|"any"|"none"|"tool", "name": ...}`` or None
    :param output_schema: structured output: sent as ``output_config.format``
    :param thinking: ``{"type": "enabled", "budget_tokens": N}`` / ``{"type": "adaptive"}``
    :param effort: sent as ``output_config.effort``
    :param prefill: the start of the answer, sent as a final assistant turn; the result's
        text begins with it
    """

    model: str
    messages: list[dict[str, Any]]
    max_tokens: int
    system: str = ""
    sampling: dict[str, Any] = field(default_factory=dict)
    stop_sequences: list[str] = field(default_factory=list)
    cache_system: bool = False
    cache_prefix_messages: int = 0
    timeout_s: float = 600.0
    stream: bool = True
    metadata: dict[str, Any] | None = None
    tools: list[dict[str, Any]] = field(default_factory=list)
    tool_choice: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    thinking: dict[str, Any] | None = None
    effort: str | None = None
    prefill: str = ""


@dataclass(slots=True)
class Usage:
    """Token counts as the API reports them (input excludes cache reads and writes)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    thinking_tokens: int = 0
    """Part of `output_tokens` (and billed as output): ``usage.output_tokens_details``."""


@dataclass(slots=True)
class CallResult:
    """The outcome of a call after all retries; never an exception for API/network faults.

    :param text: the model's output ("" when the call failed)
    :param stop_reason: ``end_turn``, ``max_tokens``, ``stop_sequence`` ... or None on failure
    :param ttft_ms: from just before sending to the first text delta (successful attempt)
    :param latency_ms: from just before sending to the end of the message (successful attempt)
    :param total_ms: from the first attempt's start to the end, retries and waits included
    :param partial_text: text streamed by the latest failed attempt that streamed any (kept
        on a successful retry too); diagnostic only, never part of ``text``
    :param request_id: the final attempt's request id
    :param thinking: the thinking blocks' text (summarised as the API returns it)
    :param tool_calls: ``{"id", "name", "input"}`` of each tool_use block, in order
    :param rate_limits: the rate-limit headers of the final attempt's response, if it sent any
    """

    text: str = ""
    stop_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    ttft_ms: float | None = None
    latency_ms: float | None = None
    total_ms: float = 0.0
    attempts: list[Attempt] = field(default_factory=list)
    error_type: str | None = None
    error_message: str | None = None
    partial_text: str = ""
    request_id: str | None = None
    model: str | None = None
    thinking: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    rate_limits: RateLimitSnapshot | None = None

    @property
    def ok(self) -> bool:
        """True when the call produced a message."""
        return self.error_type is None

    @property
    def auth_failed(self) -> bool:
        """True on 401/403: the key is wrong or lacks rights, so the run should pause."""
        return self.error_type in AUTH_ERROR_TYPES

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (nested dataclasses become dicts)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> CallResult:
        """Inverse of `to_dict`."""
        data = dict(raw)
        data["usage"] = Usage(**data.get("usage", {}))
        data["attempts"] = [Attempt(**a) for a in data.get("attempts", [])]
        limits = data.get("rate_limits")
        if isinstance(limits, dict):
            quotas = {k: Quota(**v) for k, v in limits.items() if isinstance(v, dict)}
            data["rate_limits"] = RateLimitSnapshot(
                requests=quotas.get("requests"),
                input_tokens=quotas.get("input_tokens"),
                output_tokens=quotas.get("output_tokens"),
                retry_after_s=limits.get("retry_after_s"),
            )
        return cls(**data)


@runtime_checkable
class Provider(Protocol):
    """A model backend. Implementations: AnthropicProvider (network) and EchoProvider (offline)."""

    name: str
    synthetic: bool
    """True when outputs are not from a model (the echo provider); the UI marks them."""

    async def call(
        self,
        request: CallRequest,
        on_text: OnText | None = None,
        on_backoff: OnBackoff | None = None,
    ) -> CallResult:
        """Run one call with retries.

        Never raises for API or network faults: they end in ``CallResult.error_*``. Raises
        ``asyncio.CancelledError`` when the task is cancelled (after closing the connection).
        """
        ...

    async def count_tokens(self, request: CallRequest) -> int | None:
        """Input tokens the request would use, or None when they cannot be counted."""
        ...

    async def list_models(self) -> list[Model]:
        """The models this provider can call, with their limits where known."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
