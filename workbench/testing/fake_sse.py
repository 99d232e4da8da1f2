"""Messages API response bodies: the JSON message and the SSE event stream.

Shapes and event order follow the real API: message_start, content_block_start, ping,
content_block_delta (text_delta) per token, content_block_stop, message_delta,
message_stop; faults replace the tail with an ``error`` event or a broken one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workbench.testing.fake_config import FaultSpec
from workbench.testing.fake_text import Completion, InputUsage

# A content_block_delta whose data is cut off mid-string: SDKs fail to parse it.
MALFORMED_EVENT = (
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
    b'"delta":{"type":"text_delta","text":"trunc\n\n'
)


def sse(event: str, data: Mapping[str, Any]) -> bytes:
    """One server-sent event."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def _delta(piece: str) -> bytes:
    # Hand-formatted: this runs once per output token, the hottest path of a stream.
    return (
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
        b'"delta":{"type":"text_delta","text":' + json.dumps(piece).encode() + b"}}\n\n"
    )


def usage_json(usage: InputUsage, output_tokens: int) -> dict[str, int]:
    """The ``usage`` object; cache fields are always present (0 when unused), as in the API."""
    return {
        "input_tokens": usage.input_tokens,
        "cache_creation_input_tokens": usage.cache_creation_input_tokens,
        "cache_read_input_tokens": usage.cache_read_input_tokens,
        "output_tokens": output_tokens,
    }


def message_json(
    msg_id: str, model: str, completion: Completion, usage: InputUsage
) -> dict[str, Any]:
    """A complete non-streaming Messages API response."""
    return {
        "id": msg_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": completion.text}],
        "stop_reason": completion.stop_reason,
        "stop_sequence": completion.stop_sequence,
        "usage": usage_json(usage, len(completion.pieces)),
    }


@dataclass(frozen=True, slots=True)
class StreamPlan:
    """A stream's bytes, split so the server can pace the deltas."""

    opening: bytes
    deltas: tuple[bytes, ...]
    closing: bytes

    def with_fault(self, spec: FaultSpec) -> StreamPlan:
        """Keep ``after_deltas`` deltas, then end with an error event or a malformed one."""
        if spec.fault == "midstream_error":
            error = {"type": "overloaded_error", "message": spec.message or "Overloaded"}
            closing = sse("error", {"type": "error", "error": error})
        else:
            closing = MALFORMED_EVENT
        return StreamPlan(self.opening, self.deltas[: max(0, spec.after_deltas)], closing)


def message_start_json(msg_id: str, body: Mapping[str, Any], usage: InputUsage) -> dict[str, Any]:
    """The message of a stream's `message_start` event (no content yet, one output token)."""
    return {
        "id": msg_id,
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage_json(usage, 1),
    }


def plan_stream(
    msg_id: str, body: Mapping[str, Any], completion: Completion, usage: InputUsage
) -> StreamPlan:
    """All events of a successful stream for ``completion``."""
    start = message_start_json(msg_id, body, usage)
    opening = (
        sse("message_start", {"type": "message_start", "message": start})
        + sse(
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        )
        + sse("ping", {"type": "ping"})
    )
    stop = {"stop_reason": completion.stop_reason, "stop_sequence": completion.stop_sequence}
    closing = (
        sse("content_block_stop", {"type": "content_block_stop", "index": 0})
        + sse(
            "message_delta",
            {
                "type": "message_delta",
                "delta": stop,
                "usage": usage_json(usage, len(completion.pieces)),
            },
        )
        + sse("message_stop", {"type": "message_stop"})
    )
    return StreamPlan(opening, tuple(_delta(p) for p in completion.pieces), closing)
