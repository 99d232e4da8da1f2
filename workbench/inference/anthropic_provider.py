"""The Anthropic provider: AsyncAnthropic with the SDK's retries off and ours on.

Error messages are built from status, error type and the API's message only: SDK exceptions
carry the request and its headers, which hold the key.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from workbench.core.models import Model
from workbench.inference.anthropic_wire import (
    AttemptFailure,
    Reply,
    StreamParser,
    build_params,
    connection_message,
    parse_message,
    should_stream,
    status_message,
)
from workbench.inference.base import (
    Attempt,
    CallRequest,
    CallResult,
    OnBackoff,
    OnText,
    ProviderError,
    error_type_for_status,
)
from workbench.inference.rate_limits import parse_rate_limit_headers
from workbench.inference.retry import RetryPolicy


@dataclass(slots=True)
class _Outcome:
    """What one attempt produced; `failure` is None on success."""

    attempt: Attempt
    reply: Reply = field(default_factory=Reply)
    headers: Any = None
    failure: AttemptFailure | None = None


class AnthropicProvider:
    """Calls the Messages API. Use one instance per event loop: it owns a connection pool.

    Constructing it imports the SDK (about two seconds, once per process): do it off the
    GUI thread.

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
        import anthropic  # lazy: seconds of import time that `workbench --help` must not pay
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
        stream = should_stream(request)
        started = time.perf_counter()
        attempts: list[Attempt] = []
        partial = ""
        while True:
            outcome = await self._attempt(len(attempts) + 1, params, stream, on_text)
            attempts.append(outcome.attempt)
            failure, reply = outcome.failure, outcome.reply
            if failure is None:
                return CallResult(
                    # A prefilled answer continues the prefill: the output is both, in order.
                    text=request.prefill + reply.text,
                    stop_reason=reply.stop_reason,
                    usage=reply.usage,
                    ttft_ms=reply.ttft_ms,
                    latency_ms=reply.latency_ms,
                    total_ms=(time.perf_counter() - started) * 1000.0,
                    attempts=attempts,
                    partial_text=partial,
                    request_id=outcome.attempt.request_id,
                    model=reply.model,
                    thinking=reply.thinking,
                    tool_calls=reply.tool_calls,
                    rate_limits=parse_rate_limit_headers(outcome.headers),
                )
            partial = reply.text or partial
            decision = self.policy.decide(
                len(attempts), failure.status, outcome.headers, failure.error_type, rand=self._rand
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
                    rate_limits=parse_rate_limit_headers(outcome.headers),
                )
            outcome.attempt.backoff_s = decision.delay_s
            if on_backoff is not None:
                on_backoff(request.model, decision.delay_s, decision.reason)
            await asyncio.sleep(decision.delay_s)

    async def _attempt(
        self, number: int, params: dict[str, Any], stream: bool, on_text: OnText | None
    ) -> _Outcome:
        """One HTTP attempt under its own deadline; faults become `_Outcome.failure`."""
        sdk, httpx = self._sdk, self._httpx
        out = _Outcome(Attempt(number=number, started_at=time.time()))
        parser: StreamParser | None = None
        response: Any = None
        t0 = time.perf_counter()
        try:
            async with asyncio.timeout(params["timeout"]):
                if stream:
                    events = await self._client.messages.create(**params, stream=True)
                    response = events.response
                    self._note_response(out, response)
                    parser = StreamParser(t0)
                    # Read to the end even after message_stop: the connection then goes
                    # back to the pool instead of being closed.
                    async for chunk in response.aiter_bytes():
                        parser.feed(chunk, on_text)
                    out.reply = parser.finish()
                else:
                    raw = await self._client.messages.with_raw_response.create(**params)
                    response = raw.http_response
                    self._note_response(out, response)
                    out.reply = parse_message(await raw.read(), t0)
        except AttemptFailure as exc:
            out.failure = exc
        except TimeoutError:
            limit = params["timeout"]
            out.failure = AttemptFailure("timeout", f"no complete response within {limit:g} s")
        except sdk.APIStatusError as exc:
            out.attempt.request_id = exc.request_id
            out.headers = exc.response.headers
            out.failure = AttemptFailure(
                error_type_for_status(exc.status_code),
                status_message(exc.status_code, exc.type, exc.api_message),
                status=exc.status_code,
            )
        except sdk.APITimeoutError:
            out.failure = AttemptFailure("timeout", "the request timed out")
        except sdk.APIConnectionError as exc:
            out.failure = AttemptFailure("connection", connection_message(exc.__cause__ or exc))
        except sdk.APIResponseValidationError:
            out.failure = AttemptFailure("malformed_response", "the response did not parse")
        except httpx.TimeoutException:
            out.failure = AttemptFailure("timeout", "the response stream timed out")
        except (httpx.HTTPError, httpx.StreamError, OSError) as exc:
            out.failure = AttemptFailure("connection", connection_message(exc))
        finally:
            out.attempt.duration_ms = (time.perf_counter() - t0) * 1000.0
            if response is not None:
                # Closes the socket when the body was not read to the end (cancel, fault).
                await response.aclose()
        if out.failure is not None:
            if parser is not None:
                out.reply.text = parser.text
            out.attempt.error_type = out.failure.error_type
            out.attempt.error_message = self._scrub(out.failure.message)
            out.attempt.status = out.attempt.status or out.failure.status
        return out

    @staticmethod
    def _note_response(out: _Outcome, response: Any) -> None:
        out.headers = response.headers
        out.attempt.status = response.status_code
        out.attempt.request_id = response.headers.get("request-id")

    async def count_tokens(self, request: CallRequest) -> int | None:
        """Input tokens via the token-counting endpoint; None when it fails."""
        params = build_params(request)
        for unused in ("max_tokens", "stop_sequences", "metadata", "extra_body"):
            params.pop(unused, None)
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
                self._scrub(status_message(exc.status_code, exc.type, exc.api_message)),
                error_type=error_type_for_status(exc.status_code),
                hint="Check the API key and the base URL.",
            ) from None
        except (self._sdk.AnthropicError, self._httpx.HTTPError, OSError) as exc:
            raise ProviderError(
                f"Cannot reach the Models API ({connection_message(exc)}).",
                error_type="connection",
                hint="Check the network and the base URL; the default model list still works.",
            ) from None
        return models

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.close()

    def _scrub(self, text: str) -> str:
        # Belt and braces: messages are built from status and API text only, but an API or a
        # proxy could echo the key back; it must never reach a result or a log.
        return text.replace(self._secret, "[redacted]") if self._secret else text
