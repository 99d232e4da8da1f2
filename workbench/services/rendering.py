"""Turning a prompt version plus example values into the exact request a provider sends.

The workbench's own rendering; the production runtime loader must agree with it byte for byte
(tests compare them on the sample project).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from workbench.core.hashing import content_hash
from workbench.core.models import PromptContent
from workbench.core.templates import render
from workbench.inference.base import CallRequest


@dataclass(slots=True)
class RenderedRequest:
    """A request ready to send, its identity hash and notes about dropped parameters."""

    request: CallRequest
    hash: str
    dropped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return request_identity(self.request)


def request_identity(request: CallRequest) -> dict[str, Any]:
    """What makes two requests the same answer-wise (the response-cache key and the log form)."""
    return {
        "model": request.model,
        "system": request.system,
        "messages": request.messages,
        "max_tokens": request.max_tokens,
        "sampling": request.sampling,
        "stop_sequences": request.stop_sequences,
        "cache_system": request.cache_system,
        "cache_prefix_messages": request.cache_prefix_messages,
    }


def render_request(
    content: PromptContent,
    values: Mapping[str, str],
    *,
    model: str | None = None,
    accepted: tuple[dict[str, Any], list[str]] | None = None,
    timeout_s: float = 600.0,
) -> RenderedRequest:
    """Render `content` with `values` for `model` (default: the version's own model).

    :param accepted: (sampling params to send, reasons for dropped ones) from the model catalog;
        when None every sampling param that is set is sent.
    :raises MissingVariables: naming every variable absent from `values`
    """
    params = content.params
    sampling, dropped = accepted if accepted is not None else (params.sampling_params(), [])
    messages = [{"role": m.role, "content": render(m.content, values)} for m in content.messages]
    cache_upto = max((i + 1 for i, m in enumerate(content.messages) if m.cache), default=0)
    request = CallRequest(
        model=model or params.model,
        system=render(content.system, values),
        messages=messages,
        max_tokens=params.max_tokens,
        sampling=dict(sampling),
        stop_sequences=list(params.stop_sequences),
        cache_system=params.cache_system,
        cache_prefix_messages=cache_upto,
        timeout_s=timeout_s,
    )
    return RenderedRequest(request, content_hash(request_identity(request)), list(dropped))
