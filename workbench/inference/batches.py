"""The Message Batches API: submit many calls at half price, poll, read the results.

The SDK is imported lazily (like the provider). Requests are posted with the client's generic
``post`` so ten thousand requests are not walked by the SDK's parameter transformer; results
stream as JSONL and become the same ``CallResult``s a synchronous call gives.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from workbench.inference.anthropic_wire import build_params, status_message
from workbench.inference.base import CallRequest, CallResult, ProviderError, Usage

# The API's error types in an errored result -> ours (see ERROR_TYPES).
_ERROR_TYPES = {
    "invalid_request_error": "invalid_request",
    "authentication_error": "authentication",
    "permission_error": "permission",
    "not_found_error": "not_found",
    "request_too_large": "request_too_large",
    "rate_limit_error": "rate_limit",
    "api_error": "server_error",
    "overloaded_error": "overloaded",
    "timeout_error": "timeout",
}
# Bytes a request adds to the batch body beyond its params: the custom_id and the JSON around.
REQUEST_OVERHEAD_BYTES = 100


@dataclass(frozen=True, slots=True)
class BatchStatus:
    """What the API says about one batch.

    :param processing_status: ``in_progress``, ``canceling`` or ``ended``
    :param counts: processing / succeeded / errored / canceled / expired
    """

    id: str
    processing_status: str
    counts: dict[str, int] = field(default_factory=dict)
    created_at: str | None = None
    expires_at: str | None = None
    ended_at: str | None = None

    @property
    def ended(self) -> bool:
        return self.processing_status == "ended"


def batch_params(request: CallRequest) -> dict[str, Any]:
    """The JSON ``params`` of one batch request (never streamed; no client timeout)."""
    params = build_params(request)
    params.pop("timeout", None)
    params.update(params.pop("extra_body", None) or {})
    return params


def encoded_request(custom_id: str, request: CallRequest) -> bytes:
    """One request as it goes into the batch body; its length counts toward the byte limit."""
    payload = {"custom_id": custom_id, "params": batch_params(request)}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def result_from_batch(raw: dict[str, Any]) -> CallResult:
    """One ``result`` object of the results file as a CallResult (errors never raise)."""
    kind = raw.get("type")
    if kind == "succeeded":
        message = raw.get("message") or {}
        usage = message.get("usage") or {}
        blocks = message.get("content") or ()
        text = "".join(str(b.get("text", "")) for b in blocks if b.get("type") == "text")
        return CallResult(
            text=text,
            thinking="".join(
                str(b.get("thinking", "")) for b in blocks if b.get("type") == "thinking"
            ),
            tool_calls=[
                {"id": b.get("id", ""), "name": b.get("name", ""), "input": b.get("input") or {}}
                for b in blocks
                if b.get("type") == "tool_use"
            ],
            stop_reason=message.get("stop_reason"),
            usage=Usage(
                input_tokens=int(usage.get("input_tokens") or 0),
                output_tokens=int(usage.get("output_tokens") or 0),
                cache_creation_input_tokens=int(usage.get("cache_creation_input_tokens") or 0),
                cache_read_input_tokens=int(usage.get("cache_read_input_tokens") or 0),
            ),
            request_id=message.get("id"),
            model=message.get("model"),
        )
    if kind == "errored":
        error = (raw.get("error") or {}).get("error") or {}
        api_type = str(error.get("type") or "api_error")
        return CallResult(
            error_type=_ERROR_TYPES.get(api_type, "server_error"),
            error_message=f"the batch request failed: {api_type}: {error.get('message', '')}",
        )
    if kind == "canceled":
        return CallResult(
            error_type="cancelled", error_message="the batch was cancelled before this request ran"
        )
    return CallResult(
        error_type="expired",
        error_message="the batch expired (24 h) before this request ran; resume to send it again",
    )


class AnthropicBatches:
    """Create, poll, cancel and read Message Batches. One instance per event loop."""

    def __init__(self, *, api_key: str, base_url: str | None = None) -> None:
        import anthropic  # lazy: seconds of import time
        import httpx2

        self._sdk = anthropic
        self._httpx = httpx2
        options: dict[str, Any] = {"api_key": api_key, "max_retries": 2}
        if base_url is not None:
            options["base_url"] = base_url
        self._client = anthropic.AsyncAnthropic(**options)
        self._secret = api_key

    async def create(self, encoded: list[bytes]) -> BatchStatus:
        """Submit requests made by `encoded_request`; ProviderError when refused."""
        body = b'{"requests":[' + b",".join(encoded) + b"]}"
        from anthropic.types.messages import MessageBatch

        batch = await self._guard(
            self._client.post(
                "/v1/messages/batches",
                cast_to=MessageBatch,
                content=body,
                options={"headers": {"content-type": "application/json"}},
            )
        )
        return _status(batch)

    async def retrieve(self, batch_id: str) -> BatchStatus:
        return _status(await self._guard(self._client.messages.batches.retrieve(batch_id)))

    async def cancel(self, batch_id: str) -> BatchStatus:
        return _status(await self._guard(self._client.messages.batches.cancel(batch_id)))

    async def results(self, batch_id: str) -> AsyncIterator[tuple[str, CallResult]]:
        """``(custom_id, result)`` for every request of an ended batch, streamed."""
        decoder = await self._guard(self._client.messages.batches.results(batch_id))
        async for item in decoder:
            yield item.custom_id, result_from_batch(item.result.model_dump(mode="json"))

    async def aclose(self) -> None:
        await self._client.close()

    async def _guard(self, awaitable: Any) -> Any:
        """Turn SDK and network errors into one ProviderError without the key."""
        try:
            return await awaitable
        except self._sdk.APIStatusError as exc:
            message = status_message(exc.status_code, exc.type, exc.api_message)
            raise ProviderError(
                message.replace(self._secret, "[redacted]"),
                error_type=_ERROR_TYPES.get(exc.type or "", "server_error"),
                hint="Nothing was lost: batch ids already stored stay collectable.",
            ) from None
        except (self._sdk.AnthropicError, self._httpx.HTTPError, OSError) as exc:
            raise ProviderError(
                f"Cannot reach the Message Batches API ({type(exc).__name__}).",
                error_type="connection",
                hint="Check the network; run `workbench batch collect` later.",
            ) from None


def _status(batch: Any) -> BatchStatus:
    counts = batch.request_counts
    return BatchStatus(
        id=batch.id,
        processing_status=batch.processing_status,
        counts={
            "processing": counts.processing,
            "succeeded": counts.succeeded,
            "errored": counts.errored,
            "canceled": counts.canceled,
            "expired": counts.expired,
        },
        created_at=_iso(batch.created_at),
        expires_at=_iso(batch.expires_at),
        ended_at=_iso(batch.ended_at),
    )


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()
