"""The Messages API on the wire: request parameters, SSE stream parsing, message bodies.

Pure functions and small classes with no SDK import, so they are cheap to test. The stream
is parsed from raw bytes with ``json.loads``: building the SDK's pydantic event objects costs
more CPU than everything else in a streamed call.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from workbench.inference.base import CallRequest, OnText, Usage

# The API refuses long non-streaming calls (they can outlive HTTP idle timeouts), so above
# this many output tokens a call streams even when stream=False was asked for.
NON_STREAMING_MAX_TOKENS = 4096
EPHEMERAL = {"type": "ephemeral"}
_USAGE_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
)
_PARSE_ERRORS = (ValueError, KeyError, TypeError, AttributeError, IndexError)


class AttemptFailure(Exception):
    """An attempt that ended in an API/network fault; `error_type` is one of ERROR_TYPES."""

    def __init__(self, error_type: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.error_type, self.message, self.status = error_type, message, status


@dataclass(slots=True)
class Reply:
    """What one attempt received (possibly partial, when the attempt failed)."""

    text: str = ""
    stop_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    ttft_ms: float | None = None
    latency_ms: float | None = None
    model: str | None = None
    thinking: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)


OnDelta = Callable[[str, str], None]
"""Called as ``on_delta(kind, text)`` for "thinking" and "tool_input" deltas as they stream."""


def should_stream(request: CallRequest) -> bool:
    """Stream unless asked not to, and always when max_tokens is large."""
    return request.stream or request.max_tokens > NON_STREAMING_MAX_TOKENS


def build_params(request: CallRequest) -> dict[str, Any]:
    """Keyword arguments for ``messages.create``, with cache_control where asked."""
    messages: list[dict[str, Any]] = list(request.messages)
    cut = min(request.cache_prefix_messages, len(messages))
    if cut > 0:
        # One breakpoint at the end of the prefix caches everything before it too; the API
        # allows only four, so marking every message of the prefix could fail.
        last = messages[cut - 1]
        content = last["content"]
        if isinstance(content, str):
            blocks = [{"type": "text", "text": content, "cache_control": EPHEMERAL}]
        else:
            blocks = [*content[:-1], {**content[-1], "cache_control": EPHEMERAL}]
        messages[cut - 1] = {"role": last["role"], "content": blocks}
    if request.prefill:
        messages.append({"role": "assistant", "content": request.prefill})
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
    if request.tools:
        params["tools"] = [dict(tool) for tool in request.tools]
    if request.tool_choice:
        params["tool_choice"] = dict(request.tool_choice)
    if request.thinking:
        params["thinking"] = dict(request.thinking)
    output_config: dict[str, Any] = {}
    if request.output_schema is not None:
        output_config["format"] = {"type": "json_schema", "schema": request.output_schema}
    if request.effort:
        output_config["effort"] = request.effort
    if output_config:
        params["output_config"] = output_config
    if request.sampling:
        # anthropic 2.x dropped the temperature/top_p/top_k keywords; the API still takes them.
        params["extra_body"] = dict(request.sampling)
    return params


class StreamParser:
    """Turns the SSE bytes of a Messages stream into a `Reply`, event by event.

    :param t0: ``time.perf_counter()`` just before the request was sent (for ttft/latency)
    """

    def __init__(self, t0: float, on_delta: OnDelta | None = None) -> None:
        self.reply = Reply()
        self.stopped = False
        self._t0 = t0
        self._pieces: list[str] = []
        self._thinking: list[str] = []
        # Content blocks by index: tool_use blocks gather their input JSON here.
        self._tools: dict[int, dict[str, Any]] = {}
        self._on_delta = on_delta
        self._buffer = b""
        self._held_cr = False  # a chunk ended in "\r": its "\n" may start the next chunk

    @property
    def text(self) -> str:
        return "".join(self._pieces)

    def feed(self, chunk: bytes, on_text: OnText | None) -> None:
        """Parse the complete events in ``chunk``; AttemptFailure on error/malformed events.

        Lines may end in LF, CRLF or CR (SSE allows all three), and a chunk may split anywhere,
        even between the CR and LF of one line ending.
        """
        if self._held_cr:
            chunk = b"\r" + chunk
            self._held_cr = False
        if chunk.endswith(b"\r"):
            chunk = chunk[:-1]
            self._held_cr = True
        if b"\r" in chunk:
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        *blocks, self._buffer = (self._buffer + chunk).split(b"\n\n")
        for block in blocks:
            text = self._event(block)
            # Outside the parser's error handling: a failing callback is a bug, not a fault.
            if text is not None and on_text is not None:
                on_text(text)

    def finish(self) -> Reply:
        """The reply once the body has ended; AttemptFailure if message_stop never came."""
        if self._held_cr:  # the body ended on a CR: it was a line ending after all
            self._held_cr = False
            self.feed(b"\n", None)
        self.reply.text = self.text
        self.reply.thinking = "".join(self._thinking)
        if not self.stopped:
            raise AttemptFailure("stream_error", "the stream ended before message_stop")
        return self.reply

    def _event(self, block: bytes) -> str | None:
        """Apply one event; returns the text of a text delta, else None."""
        reply = self.reply
        try:
            data = sse_data(block)
            if data is None:
                return None
            event = json.loads(data)
            kind = event["type"]
            if kind == "content_block_delta":
                delta = event["delta"]
                if delta.get("type") != "text_delta":
                    self._other_delta(event["index"], delta)
                    return None
                text: str = delta["text"]
                if not self._pieces:
                    reply.ttft_ms = (time.perf_counter() - self._t0) * 1000.0
                self._pieces.append(text)
                return text
            if kind == "content_block_start":
                opened = event["content_block"]
                if opened.get("type") == "tool_use":
                    call = {"id": opened["id"], "name": opened["name"], "input": {}}
                    self._tools[event["index"]] = {"call": call, "json": []}
                    self.reply.tool_calls.append(call)
            elif kind == "content_block_stop":
                tool = self._tools.pop(event.get("index", -1), None)
                if tool is not None:
                    raw = "".join(tool["json"])
                    tool["call"]["input"] = json.loads(raw) if raw.strip() else {}
            elif kind == "message_start":
                message = event["message"]
                reply.model = message.get("model")
                merge_usage(reply.usage, message.get("usage"))
            elif kind == "message_delta":
                reply.stop_reason = event["delta"].get("stop_reason")
                merge_usage(reply.usage, event.get("usage"))
            elif kind == "message_stop":
                reply.latency_ms = (time.perf_counter() - self._t0) * 1000.0
                self.stopped = True
            elif kind == "error":
                error = event.get("error") or {}
                detail = f"{error.get('type', 'error')}: {error.get('message', '')}"
                raise AttemptFailure("stream_error", f"error event mid-stream: {detail}")
        except _PARSE_ERRORS as exc:
            raise AttemptFailure(
                "malformed_response", f"malformed stream event ({type(exc).__name__})"
            ) from None
        return None

    def _other_delta(self, index: int, delta: dict[str, Any]) -> None:
        """Thinking and tool-input deltas (signature deltas need no keeping)."""
        kind = delta.get("type")
        if kind == "thinking_delta":
            self._thinking.append(delta["thinking"])
            if self._on_delta is not None:
                self._on_delta("thinking", delta["thinking"])
        elif kind == "input_json_delta":
            self._tools[index]["json"].append(delta["partial_json"])
            if self._on_delta is not None:
                self._on_delta("tool_input", delta["partial_json"])


def parse_message(body: bytes, t0: float) -> Reply:
    """A non-streaming Message body as a `Reply`; AttemptFailure when it does not parse."""
    try:
        message = json.loads(body)
        blocks = message["content"]
        reply = Reply(
            text="".join(b["text"] for b in blocks if b.get("type") == "text"),
            stop_reason=message.get("stop_reason"),
            model=message.get("model"),
            thinking="".join(
                str(b.get("thinking", "")) for b in blocks if b.get("type") == "thinking"
            ),
            tool_calls=[
                {"id": b.get("id", ""), "name": b.get("name", ""), "input": b.get("input") or {}}
                for b in blocks
                if b.get("type") == "tool_use"
            ],
        )
        merge_usage(reply.usage, message.get("usage"))
    except _PARSE_ERRORS as exc:
        raise AttemptFailure(
            "malformed_response", f"malformed response body ({type(exc).__name__})"
        ) from None
    reply.latency_ms = (time.perf_counter() - t0) * 1000.0
    return reply


def sse_data(block: bytes) -> str | None:
    """The data field of one SSE event block (None for comments and keep-alives)."""
    start = block.find(b"data:")
    if start < 0:
        return None
    if block.find(b"\ndata:", start + 5) < 0:  # the API sends one data line per event
        end = block.find(b"\n", start)
        return block[start + 5 : end if end >= 0 else None].decode().strip()
    lines = [ln[5:].strip() for ln in block.split(b"\n") if ln.startswith(b"data:")]
    return b"\n".join(lines).decode()


def merge_usage(usage: Usage, raw: dict[str, Any] | None) -> None:
    """Copy the counts present in ``raw`` (message_delta repeats some, with final values)."""
    if not raw:
        return
    for name in _USAGE_FIELDS:
        value = raw.get(name)
        if value is not None:
            setattr(usage, name, int(value))
    details = raw.get("output_tokens_details")
    if isinstance(details, dict) and details.get("thinking_tokens") is not None:
        usage.thinking_tokens = int(details["thinking_tokens"])


def status_message(status: int, api_type: str | None, api_message: str | None) -> str:
    """``HTTP 429 rate_limit_error: <the API's message>`` (never headers or the request)."""
    text = f"HTTP {status}"
    if api_type:
        text += f" {api_type}"
    if api_message:
        text += f": {api_message[:500]}"
    return text


def connection_message(exc: BaseException) -> str:
    """A transport exception as ``Type: detail`` (its text names the host, not the key)."""
    detail = str(exc).strip()
    name = type(exc).__name__
    return f"{name}: {detail[:200]}" if detail else name
