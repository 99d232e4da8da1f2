"""Request handling of the fake Anthropic server: routes, scripted faults, SSE and stats.

All state lives on the server's event loop thread; other threads reach it only through
``FakeAnthropicServer``, which hops onto the loop, so no locks are needed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import os
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from workbench.testing.fake_batches import PREFIX as BATCHES_PREFIX
from workbench.testing.fake_batches import BatchStore
from workbench.testing.fake_blocks import (
    RichReply,
    plan_reply,
    rich_message_json,
    rich_stream_plan,
    validate_file_blocks,
    wants_rich_reply,
)
from workbench.testing.fake_config import HTTP_FAULTS, FakeConfig, FaultSpec, Latency
from workbench.testing.fake_errors import (
    API_KEY_REQUIRED,
    ApiError,
    fault_headers,
    has_credentials,
    page_of,
    parse_body,
    validate_messages_body,
)
from workbench.testing.fake_http import (
    LAST_CHUNK,
    Headers,
    HttpError,
    Request,
    chunk,
    full_response,
    json_response,
    read_request,
    response_head,
)
from workbench.testing.fake_ratelimit import RateLimiter, retry_after_header
from workbench.testing.fake_sse import StreamPlan, message_json, plan_stream
from workbench.testing.fake_stats import Stats
from workbench.testing.fake_text import (
    Completion,
    InputUsage,
    PromptCache,
    complete,
    count_input_tokens,
)

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Exchange:
    """One request being answered on its connection."""

    request: Request
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    request_id: str

    async def send_json(self, status: int, payload: Any, headers: Headers = ()) -> bool:
        """Answer with JSON; True because the connection stays usable."""
        all_headers = [("request-id", self.request_id), *headers]
        self.writer.write(
            json_response(status, payload, all_headers, keep_alive=self.request.keep_alive)
        )
        await self.writer.drain()
        return True

    async def send_error(
        self, status: int, error_type: str, message: str, headers: Headers = ()
    ) -> bool:
        """Answer with the real API's error JSON."""
        payload = {
            "type": "error",
            "error": {"type": error_type, "message": message},
            "request_id": self.request_id,
        }
        return await self.send_json(status, payload, headers)


class FakeAnthropicApp:
    """The fake API itself, independent of how its event loop is run."""

    def __init__(self, config: FakeConfig | None = None) -> None:
        self.config = config or FakeConfig()
        self.stats = Stats()
        self._rng = random.Random(self.config.seed)
        self._cache = PromptCache()
        self._id_prefix = os.urandom(3).hex()  # ids stay unique across server instances
        self._next_id = 0
        self._batches = BatchStore(self._new_id, self._cache, self._rng)
        self._limiter = RateLimiter()
        self._limiter.configure(self.config.rate_limits)
        self._connections: set[asyncio.Task[None]] = set()
        self._closing = False

    # -- control (always called on the loop thread) -------------------------------------

    def configure(self, options: Mapping[str, Any]) -> None:
        """Apply constructor-style options; a new ``seed`` reseeds the fault RNG."""
        self.config = self.config.with_options(options)
        self._limiter.configure(self.config.rate_limits)
        if "seed" in options:
            self._rng.seed(self.config.seed)

    def reset(self) -> None:
        """Back to a fresh state (counters, request numbering, RNG, cache); config kept."""
        self.stats = self.stats.fresh()
        self._rng.seed(self.config.seed)
        self._cache.clear()
        self._batches.clear()
        self._limiter.clear()

    async def close(self) -> None:
        """Drop every open connection (including hanging ones)."""
        self._closing = True
        tasks = list(self._connections)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- connections ---------------------------------------------------------------------

    async def handle_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Serve keep-alive requests on one connection until either side closes it."""
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        # Always go through self.stats: reset() swaps in a new Stats object.
        self.stats.connections_total += 1
        self.stats.connections_open += 1
        self.stats.peak_connections = max(self.stats.peak_connections, self.stats.connections_open)
        try:
            await self._serve(reader, writer)
        except asyncio.CancelledError:
            # Cancelled by close(): end quietly, else asyncio logs every dropped connection.
            if not self._closing:
                raise
        finally:
            self.stats.connections_open -= 1
            self._connections.discard(task)
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await read_request(reader, writer)
                if request is None:
                    return
                reusable = await self._dispatch(request, reader, writer)
                if not (reusable and request.keep_alive):
                    return
        except HttpError as exc:
            body = {
                "type": "error",
                "error": {"type": "invalid_request_error", "message": exc.message},
            }
            writer.write(json_response(exc.status, body, keep_alive=False))
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return  # the client went away or sent garbage framing; nothing to answer
        except Exception:
            log.exception("fake anthropic server: unhandled error")
            body = {"type": "error", "error": {"type": "api_error", "message": "fake server bug"}}
            writer.write(json_response(500, body, keep_alive=False))

    def _new_id(self, prefix: str) -> str:
        self._next_id += 1
        return f"{prefix}_fake{self._id_prefix}{self._next_id:010d}"

    async def _dispatch(
        self, request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Route one request; returns whether the connection may be reused."""
        self.stats.requests_total += 1
        ex = Exchange(request, reader, writer, self._new_id("req"))
        if not request.path.startswith("/v1/"):
            return await self._control(ex)
        self.stats.by_endpoint[f"{request.method} {request.path}"] += 1
        self.stats.in_flight += 1
        self.stats.peak_in_flight = max(self.stats.peak_in_flight, self.stats.in_flight)
        try:
            return await self._api(ex)
        except ApiError as exc:
            return await ex.send_error(exc.status, exc.error_type, exc.message)
        finally:
            self.stats.in_flight -= 1

    async def _control(self, ex: Exchange) -> bool:
        """Test-only endpoints: stats, reset and live reconfiguration."""
        route = (ex.request.method, ex.request.path)
        if route == ("GET", "/stats"):
            return await ex.send_json(200, self.stats.to_json())
        if route == ("POST", "/reset"):
            self.reset()
            return await ex.send_json(200, {"ok": True})
        if route == ("GET", "/config"):
            return await ex.send_json(200, self.config.to_dict())
        if route == ("POST", "/config"):
            try:
                self.configure(json.loads(ex.request.body or b"{}"))
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                return await ex.send_error(400, "invalid_request_error", f"bad config: {exc}")
            return await ex.send_json(200, self.config.to_dict())
        return await ex.send_error(404, "not_found_error", f"Not found: {route[0]} {route[1]}")

    async def _api(self, ex: Exchange) -> bool:
        method, path = ex.request.method, ex.request.path
        if not has_credentials(ex.request.headers):
            if path == "/v1/messages":
                self._count_message_request(ex, "401")
            raise ApiError(401, "authentication_error", API_KEY_REQUIRED)
        if (method, path) == ("POST", "/v1/messages"):
            return await self._messages(ex)
        if path == BATCHES_PREFIX or path.startswith(BATCHES_PREFIX + "/"):
            return await self._batch_route(ex)
        if (method, path) == ("POST", "/v1/messages/count_tokens"):
            body = parse_body(ex.request.body, ("model", "messages"))
            validate_file_blocks(body)
            return await ex.send_json(200, {"input_tokens": count_input_tokens(body)})
        if method == "GET" and path == "/v1/models":
            return await ex.send_json(200, self._models_page(ex.request.query))
        if method == "GET" and path.startswith("/v1/models/"):
            return await ex.send_json(200, self._model(path.removeprefix("/v1/models/")))
        raise ApiError(404, "not_found_error", f"Not found: {method} {path}")

    async def _batch_route(self, ex: Exchange) -> bool:
        request = ex.request
        kind, payload = self._batches.route(
            request.method,
            request.path,
            request.query,
            request.body,
            request.headers.get("host", "127.0.0.1"),
            self.config.batches,
        )
        if kind == "json":
            return await ex.send_json(200, payload)
        headers = [("content-type", "application/binary"), ("request-id", ex.request_id)]
        ex.writer.write(full_response(200, headers, payload, keep_alive=request.keep_alive))
        await ex.writer.drain()
        return True

    # -- /v1/models ----------------------------------------------------------------------

    def _models_page(self, query: Mapping[str, str]) -> dict[str, Any]:
        models = [m.to_api() for m in self.config.models]
        page, has_more = page_of(models, [m["id"] for m in models], query)
        return {
            "data": page,
            "has_more": has_more,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
        }

    def _model(self, model_id: str) -> dict[str, Any]:
        for model in self.config.models:
            if model.id == model_id:
                return model.to_api()
        raise ApiError(404, "not_found_error", f"model: {model_id}")

    # -- /v1/messages --------------------------------------------------------------------

    def _count_message_request(self, ex: Exchange, outcome: str | None = None) -> int:
        """Number this request (1-based) and count it; returns the number."""
        self.stats.messages_requests += 1
        if self.config.track_body_hashes:
            self.stats.by_body_hash[hashlib.sha256(ex.request.body).hexdigest()[:16]] += 1
        if outcome is not None:
            self.stats.by_outcome[outcome] += 1
        return self.stats.messages_requests

    async def _messages(self, ex: Exchange) -> bool:
        number = self._count_message_request(ex)
        try:
            body = parse_body(ex.request.body, ("model", "max_tokens", "messages"))
            validate_messages_body(body)
            validate_file_blocks(body)
            model = body["model"]
            self.stats.by_model[model] += 1
            if self.config.strict_models and all(m.id != model for m in self.config.models):
                raise ApiError(404, "not_found_error", f"model: {model}")
        except ApiError as exc:
            self.stats.by_outcome[str(exc.status)] += 1
            raise
        admission = self._limiter.admit(model, count_input_tokens(body))
        if admission.retry_after_s is not None:
            self.stats.by_outcome["429"] += 1
            self.stats.rate_limited += 1
            # retry-after in whole seconds like the real API, plus the exact wait in ms so
            # benchmarks that scale time down (a 6 s window) are not slowed by rounding.
            wait = admission.retry_after_s
            headers = [
                *admission.headers,
                retry_after_header(wait),
                ("retry-after-ms", str(math.ceil(wait * 1000))),
            ]
            message = f"This request would exceed the rate limit for {admission.limited_by}"
            return await ex.send_error(429, "rate_limit_error", message, headers)
        fault = self._pick_fault(number, model)
        self.stats.by_outcome[fault.fault if fault else "ok"] += 1
        if fault is not None:
            return await self._apply_fault(ex, fault, body)
        completion, usage = complete(body), self._cache.account(body)
        limit_headers = self._limiter.spend_output(model, len(completion.pieces))
        latency = self.config.latency_for(model)
        if wants_rich_reply(body):
            return await self._rich(
                ex, body, plan_reply(body, completion), usage, latency, limit_headers
            )
        if body.get("stream") is True:
            plan = plan_stream(self._new_id("msg"), body, completion, usage)
            return await self._stream(ex, plan, latency, limit_headers)
        await _sleep(latency.total_s(len(completion.pieces)))
        return await ex.send_json(200, self._message(body, completion, usage), limit_headers)

    async def _rich(
        self,
        ex: Exchange,
        body: Mapping[str, Any],
        reply: RichReply,
        usage: InputUsage,
        latency: Latency,
        limit_headers: Iterable[tuple[str, str]],
    ) -> bool:
        """Answer with thinking, tool_use or structured-output blocks (see fake_blocks)."""
        msg_id = self._new_id("msg")
        if body.get("stream") is True:
            plan = rich_stream_plan(msg_id, body, reply, usage)
            return await self._stream(ex, plan, latency, limit_headers)
        await _sleep(latency.total_s(reply.output_tokens))
        message = rich_message_json(msg_id, body["model"], reply, usage)
        return await ex.send_json(200, message, limit_headers)

    def _message(
        self, body: Mapping[str, Any], completion: Completion, usage: InputUsage
    ) -> dict[str, Any]:
        return message_json(self._new_id("msg"), body["model"], completion, usage)

    def _pick_fault(self, number: int, model: str) -> FaultSpec | None:
        """First matching spec wins; the RNG is drawn only for probability specs that apply."""
        for spec in self.config.faults:
            if spec.model is not None and spec.model != model:
                continue
            if spec.request_number is not None:
                if number in spec.request_number:
                    return spec
            elif spec.probability is None or self._rng.random() < spec.probability:
                return spec
        return None

    async def _apply_fault(self, ex: Exchange, spec: FaultSpec, body: Mapping[str, Any]) -> bool:
        await _sleep(spec.delay_ms / 1000.0)
        if spec.fault in HTTP_FAULTS:
            status, error_type, message = HTTP_FAULTS[spec.fault]
            return await ex.send_error(
                status, error_type, spec.message or message, fault_headers(spec)
            )
        if spec.fault == "reset":
            ex.writer.transport.abort()
            return False
        if spec.fault == "hang":
            await self._hang(ex, spec)
            return False
        if body.get("stream") is not True:
            return await self._non_stream_fault(ex, spec, body)
        completion, usage = complete(body), self._cache.account(body)
        plan = plan_stream(self._new_id("msg"), body, completion, usage).with_fault(spec)
        return await self._stream(ex, plan, self.config.latency_for(body["model"]))

    async def _non_stream_fault(
        self, ex: Exchange, spec: FaultSpec, body: Mapping[str, Any]
    ) -> bool:
        """Stream-level faults on a plain JSON call: truncated JSON, or a 529 for midstream."""
        if spec.fault == "midstream_error":
            return await ex.send_error(
                529, "overloaded_error", spec.message or "Overloaded", fault_headers(spec)
            )
        text = json.dumps(self._message(body, complete(body), self._cache.account(body)))
        payload = text[: len(text) // 2].encode()  # valid HTTP framing, invalid JSON
        headers = [("content-type", "application/json"), ("request-id", ex.request_id)]
        ex.writer.write(full_response(200, headers, payload, keep_alive=ex.request.keep_alive))
        await ex.writer.drain()
        return True

    async def _hang(self, ex: Exchange, spec: FaultSpec) -> None:
        """Say nothing until the client hangs up or the hang limit passes, then drop the line."""
        limit = spec.hang_s if spec.hang_s is not None else self.config.max_hang_s
        try:
            async with asyncio.timeout(limit):
                while await ex.reader.read(65536):
                    pass
        except TimeoutError:
            pass
        ex.writer.transport.abort()

    async def _stream(
        self, ex: Exchange, plan: StreamPlan, latency: Latency, extra_headers: Headers = ()
    ) -> bool:
        """Write an SSE response: headers and opening events at TTFT, then paced deltas."""
        await _sleep(latency.ttft_ms / 1000.0)
        headers = [
            ("content-type", "text/event-stream; charset=utf-8"),
            ("cache-control", "no-cache"),
            ("request-id", ex.request_id),
            ("transfer-encoding", "chunked"),
            *extra_headers,
        ]
        writer, interval = ex.writer, latency.token_interval_ms / 1000.0
        first, rest = plan.deltas[:1], plan.deltas[1:]
        writer.write(response_head(200, headers, keep_alive=ex.request.keep_alive))
        writer.write(chunk(plan.opening + b"".join(first)))
        if interval > 0:
            for delta in rest:
                await writer.drain()
                await asyncio.sleep(interval)
                writer.write(chunk(delta))
            rest = ()
        writer.write(chunk(b"".join(rest) + plan.closing) + LAST_CHUNK)
        await writer.drain()
        return True


async def _sleep(seconds: float) -> None:
    # Skipping zero sleeps saves a loop round trip per request at high request rates.
    if seconds > 0:
        await asyncio.sleep(seconds)
