"""The Anthropic provider: AsyncAnthropic with the SDK's retries off and ours on.

Streams by reading the raw SSE bytes of ``messages.create(stream=True)`` and parsing them
with ``json.loads``: building the SDK's pydantic event objects costs more CPU than everything
else in a call. Error messages are built from status, error type and the API's message only
(SDK exceptions carry the request and its headers, which hold the key).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from workbench.core.models import Model
from workbench.inference.base import (
    Attempt,
    CallRequest,
    CallResult,
    OnBackoff,
    OnText,
    ProviderError,
    Usage,
    error_type_for_status,
)
from workbench.inference.retry import RetryPolicy

# The API refuses long non-streaming calls (they can outlive HTTP idle timeouts), so above
# this many output tokens a call streams even when stream=False was asked for.
NON_STREAMING_MAX_TOKENS = 4096
EPHEMERAL = {"type": "ephemeral"}


class _Failure(Exception):
    """An attempt that ended in an API/network fault (internal to this module)."""

    def __init__(self, error_type: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.error_type, self.message, self.status = error_type, message, status


@dataclass(slots=True)
class _Outcome:
    """What one attempt produced; `failure` is None on success."""

    attempt: Attempt
    text: str = ""
    stop_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    ttft_ms: float | None = None
    latency_ms: float | None = None
    model: str | None = None
    headers: Any = None
    failure: _Failure | None = None


def build_params(request: CallRequest) -> dict[str, Any]:
    """Keyword arguments for ``messages.create``, with cache_control where asked."""
    messages: list[dict[str, Any]] = list(request.messages)
    cut = min(request.cache_prefix_messages, len(messages))
    if cut > 0:
        # One breakpoint at the end of the prefix caches everything before it too; the API
        # allows only four, so marking every message of the prefix would fail.
        last = messages[cut - 1]
        block = {"type": "text", "text": last["content"], "cache_control": EPHEMERAL}
        messages[cut - 1] = {"role": last["role"], "content": [block]}
    params: dict[str, Any] = {
        "model": request.model,
        "max_tokens": request.max_tokens,
        "messages": messages,
        "timeout": request.timeout_s,
    }
    if request.system:
        params["system"] = (
            [{"type": "text", "text": request.system, "cache_control": EPHEMERAL}]
            if request.cache_system
            else request.system
        )
    if request.stop_sequences:
        params["stop_sequences"] = list(request.stop_sequences)
    if request.metadata:
        params["metadata"] = request.metadata
    if request.sampling:
        # anthropic 2.x dropped temperature/top_p/top_k keywords; the API still takes them.
        params["extra_body"] = dict(request.sampling)
    return params


class AnthropicProvider:
    """Calls the Messages API; one instance per event loop (it owns an HTTP connection pool).

    :param api_key: the key (never stored elsewhere, never put into messages)
    :param base_url: API root; None lets the SDK read ``ANTHROPIC_BASE_URL`` or use its default
    :param policy: when and how long to back off
    :param connect_timeout_s: limit for opening a connection
    :param rand: jitter source (tests inject a fixed one)
    """

    name = "anthropic"
    synthetic = False

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        policy: RetryPolicy | None = None,
        connect_timeout_s: float = 10.0,
        rand: Callable[[], float] = random.random,
    ) -> None:
        import anthropic  # lazy: ~2 s of import time that `workbench --help` must not pay
        import httpx2

        self._sdk = anthropic
        self._httpx = httpx2
        self.policy = policy or RetryPolicy()
        self._rand = rand
        options: dict[str, Any] = {
            "api_key": api_key,
            "max_retries": 0,
            "timeout": httpx2.Timeout(600.0, connect=connect_timeout_s),
        }
        if base_url is not None:
            options["base_url"] = base_url
        self._client = anthropic.AsyncAnthropic(**options)
        # Kept only to scrub it from any text that might echo it back.
        self._secret = api_key

    async def call(
        self,
        request: CallRequest,
        on_text: OnText | None = None,
        on_backoff: OnBackoff | None = None,
    ) -> CallResult:
        """Run the request with retries; see `Provider.call`.

        ``on_backoff`` also means "the text streamed so far is void": the next attempt
        streams from scratch.
        """
        params = build_params(request)
        stream = request.stream or request.max_tokens > NON_STREAMING_MAX_TOKENS
        started = time.perf_counter()
        attempts: list[Attempt] = []
        partial = ""
        number = 0
        while True:
            number += 1
            outcome = await self._attempt(number, params, stream, on_text)
            attempts.append(outcome.attempt)
            failure = outcome.failure
            if failure is None:
                return CallResult(
                    text=outcome.text,
                    stop_reason=outcome.stop_reason,
                    usage=outcome.usage,
                    ttft_ms=outcome.ttft_ms,
                    latency_ms=outcome.latency_ms,
                    total_ms=(time.perf_counter() - started) * 1000.0,
                    attempts=attempts,
                    request_id=outcome.attempt.request_id,
                    model=outcome.model,
                    partial_text=partial,
                )
            partial = outcome.text or partial
            decision = self.policy.decide(
                number, failure.status, outcome.headers, failure.error_type, rand=self._rand
            )
            outcome.attempt.retry_after_s = decision.retry_after_s
            if not decision.retry:
                return CallResult(
                    total_ms=(time.perf_counter() - started) * 1000.0,
                    attempts=attempts,
                    error_type=failure.error_type,
                    error_message=self._scrub(f"{failure.message} ({decision.reason})"),
                    partial_text=partial,
                    request_id=outcome.attempt.request_id,
                )
            outcome.attempt.backoff_s = decision.delay_s
            if on_backoff is not None:
                on_backoff(request.model, decision.delay_s, decision.reason)
            await asyncio.sleep(decision.delay_s)

    async def _attempt(
        self, number: int, params: dict[str, Any], stream: bool, on_text: OnText | None
    ) -> _Outcome:
        """One HTTP attempt under its own deadline; faults become `_Outcome.failure`."""
        sdk = self._sdk
        attempt = Attempt(number=number, started_at=time.time())
        outcome = _Outcome(attempt)
        t0 = time.perf_counter()
        response: Any = None
        try:
            async with asyncio.timeout(params["timeout"]):
                if stream:
                    events = await self._client.messages.create(**params, stream=True)
                    response = events.response
                    self._note_response(outcome, response)
                    await self._read_stream(response, outcome, t0, on_text)
                else:
                    raw = await self._client.messages.with_raw_response.create(**params)
                    response = raw.http_response
                    self._note_response(outcome, response)
                    self._read_message(await raw.read(), outcome, t0)
        except _Failure as exc:
            outcome.failure = exc
        except TimeoutError:
            outcome.failure = _Failure(
                "timeout", f"no complete response within {params['timeout']:g} s"
            )
        except sdk.APIStatusError as exc:
            outcome.attempt.request_id = exc.request_id
            outcome.headers = exc.response.headers
            outcome.failure = _Failure(
                error_type_for_status(exc.status_code),
                _status_message(exc.status_code, exc.type, exc.api_message),
                status=exc.status_code,
            )
        except sdk.APITimeoutError:
            outcome.failure = _Failure("timeout", "the request timed out")
        except sdk.APIConnectionError as exc:
            outcome.failure = _Failure("connection", _connection_message(exc.__cause__ or exc))
        except sdk.APIResponseValidationError:
            outcome.failure = _Failure("malformed_response", "the response did not parse")
        except self._httpx.TimeoutException:
            outcome.failure = _Failure("timeout", "the response stream timed out")
        except (self._httpx.HTTPError, self._httpx.StreamError, OSError) as exc:
            outcome.failure = _Failure("connection", _connection_message(exc))
        finally:
            attempt.duration_ms = (time.perf_counter() - t0) * 1000.0
            if response is not None:
                # Closes the socket if the body was not read to the end (cancel, fault).
                await response.aclose()
        if outcome.failure is not None:
            attempt.error_type = outcome.failure.error_type
            attempt.error_message = self._scrub(outcome.failure.message)
            attempt.status = attempt.status or outcome.failure.status
        return outcome

    @staticmethod
    def _note_response(outcome: _Outcome, response: Any) -> None:
        outcome.headers = response.headers
        outcome.attempt.status = response.status_code
        outcome.attempt.request_id = response.headers.get("request-id")

    async def _read_stream(
        self, response: Any, out: _Outcome, t0: float, on_text: OnText | None
    ) -> None:
        """Consume the SSE body into `out`; raises _Failure on error/malformed events."""
        pieces: list[str] = []
        buffer = b""
        stopped = False
        try:
            # Read to the end even after message_stop so the connection goes back to the pool.
            async for chunk in response.aiter_bytes():
                buffer += chunk.replace(b"\r\n", b"\n") if b"\r" in chunk else chunk
                *blocks, buffer = buffer.split(b"\n\n")
                for block in blocks:
                    stopped = self._on_event(block, out, pieces, t0, on_text) or stopped
        finally:
            out.text = "".join(pieces)
        if not stopped:
            raise _Failure("stream_error", "the stream ended before message_stop")

    def _on_event(
        self, block: bytes, out: _Outcome, pieces: list[str], t0: float, on_text: OnText | None
    ) -> bool:
        """Apply one SSE event; True at message_stop."""
        data = None
        for line in block.split(b"\n"):
            if line.startswith(b"data:"):
                data = line[5:].strip() if data is None else data + b"\n" + line[5:].strip()
        if data is None:
            return False
        try:
            event = json.loads(data)
            kind = event["type"]
            if kind == "content_block_delta":
                delta = event["delta"]
                if delta.get("type") == "text_delta":
                    text = delta["text"]
                    if not pieces:
                        out.ttft_ms = (time.perf_counter() - t0) * 1000.0
                    pieces.append(text)
                    if on_text is not None:
                        on_text(text)
            elif kind == "message_start":
                message = event["message"]
                out.model = message.get("model")
                _merge_usage(out.usage, message.get("usage"))
            elif kind == "message_delta":
                out.stop_reason = event["delta"].get("stop_reason")
                _merge_usage(out.usage, event.get("usage"))
            elif kind == "message_stop":
                out.latency_ms = (time.perf_counter() - t0) * 1000.0
                return True
            elif kind == "error":
                error = event.get("error") or {}
                raise _Failure(
                    "stream_error",
                    f"error event mid-stream: {error.get('type', 'error')}: "
                    f"{error.get('message', '')}".rstrip(": "),
                )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise _Failure(
                "malformed_response", f"malformed stream event ({type(exc).__name__})"
            ) from None
        return False

    def _read_message(self, body: bytes, out: _Outcome, t0: float) -> None:
        """Parse a non-streaming Message body into `out`."""
        try:
            message = json.loads(body)
            out.text = "".join(
                b.get("text", "") for b in message["content"] if b.get("type") == "text"
            )
            out.stop_reason = message.get("stop_reason")
            out.model = message.get("model")
            _merge_usage(out.usage, message.get("usage"))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise _Failure(
                "malformed_response", f"malformed response body ({type(exc).__name__})"
            ) from None
        out.latency_ms = (time.perf_counter() - t0) * 1000.0

    async def count_tokens(self, request: CallRequest) -> int | None:
        """Input tokens via the token-counting endpoint; None when it fails."""
        params = build_params(request)
        params.pop("max_tokens")
        params.pop("stop_sequences", None)
        params.pop("metadata", None)
        params.pop("extra_body", None)
        try:
            result = await self._client.messages.count_tokens(**params)
        except (self._sdk.AnthropicError, self._httpx.HTTPError, OSError):
            return None
        return int(result.input_tokens)

    async def list_models(self) -> list[Model]:
        """Every model of the Models API with its limits; ProviderError on failure."""
        models: list[Model] = []
        try:
            async for info in self._client.models.list(limit=1000):
                models.append(
                    Model(
                        id=info.id,
                        display_name=info.display_name or "",
                        tier=getattr(info, "line", None) or "",
                        max_input_tokens=info.max_input_tokens,
                        max_output_tokens=info.max_tokens,
                    )
                )
        except self._sdk.APIStatusError as exc:
            raise ProviderError(
                self._scrub(_status_message(exc.status_code, exc.type, exc.api_message)),
                error_type=error_type_for_status(exc.status_code),
            ) from None
        except (self._sdk.AnthropicError, self._httpx.HTTPError, OSError) as exc:
            raise ProviderError(
                f"Cannot reach the Models API: {_connection_message(exc)}.",
                error_type="connection",
            ) from None
        return models

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.close()

    def _scrub(self, text: str) -> str:
        # Belt and braces: messages are built from status and API text only, but an API or a
        # proxy could echo the key back; it must never reach a result or a log.
        return text.replace(self._secret, "[redacted]") if self._secret else text


def _merge_usage(usage: Usage, raw: dict[str, Any] | None) -> None:
    """Copy the counts present in ``raw`` (message_delta repeats some, with final values)."""
    if not raw:
        return
    for name in (
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    ):
        value = raw.get(name)
        if value is not None:
            setattr(usage, name, int(value))


def _status_message(status: int, api_type: str | None, api_message: str | None) -> str:
    text = f"HTTP {status}"
    if api_type:
        text += f" {api_type}"
    if api_message:
        text += f": {api_message[:500]}"
    return text


def _connection_message(exc: BaseException) -> str:
    detail = str(exc).strip()
    name = type(exc).__name__
    return f"{name}: {detail[:200]}" if detail else name
