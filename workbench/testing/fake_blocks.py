"""The fake server's answers to requests with tools, thinking or a structured-output schema.

A request that uses none of them gets the plain text answer of fake_text, unchanged. Otherwise
the answer is a list of content blocks, deterministic per request like the text answers:

* thinking on (``thinking.type`` enabled or adaptive): a thinking block first, with a signature;
  its tokens are reported in ``usage.output_tokens_details.thinking_tokens`` (and are part of
  ``output_tokens``, as with the real API);
* tools given: a ``tool_use`` block when the last user text holds the marker
  ``[[tool:NAME {"arg": "value"}]]`` (the arguments are sent as written, valid or not), or when
  ``tool_choice`` is ``any`` or ``tool`` (arguments generated from the tool's input_schema);
  ``tool_choice: none`` never calls a tool, and a turn that returns tool results gets text;
* an output schema (``output_config.format``): the text is JSON following the schema, or the
  JSON in a ``[[json:{...}]]`` marker when the prompt scripts one.

Image and document blocks are checked like the real API checks them (base64, media type) and
counted by size: images by bytes, PDFs by their pages.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from workbench.testing.fake_errors import ApiError
from workbench.testing.fake_sse import StreamPlan, message_start_json, sse, usage_json
from workbench.testing.fake_text import (
    Completion,
    InputUsage,
    _generate,
    _seed_digest,
    last_user_text,
)

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
DOCUMENT_TYPES = ("application/pdf",)
TOKENS_PER_PDF_PAGE = 1500
BYTES_PER_IMAGE_TOKEN = 750
MIN_IMAGE_TOKENS, MAX_IMAGE_TOKENS = 85, 1600
_TOOL_MARKER = re.compile(r"\[\[tool:([A-Za-z0-9_-]+)\s*(\{.*?\})?\]\]", re.DOTALL)
_JSON_MARKER = re.compile(r"\[\[json:(.*?)\]\]", re.DOTALL)
_PDF_PAGE = re.compile(rb"/Type\s*/Page(?!s)")


@dataclass(slots=True)
class RichReply:
    """The content blocks of an answer and what they cost."""

    thinking: tuple[str, ...] = ()
    text: tuple[str, ...] = ()
    tool: dict[str, Any] | None = None
    stop_reason: str = "end_turn"
    signature: str = ""
    tool_json: str = ""
    blocks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def thinking_tokens(self) -> int:
        return len(self.thinking)

    @property
    def output_tokens(self) -> int:
        tool_tokens = max(1, len(self.tool_json) // 4) if self.tool else 0
        return len(self.thinking) + len(self.text) + tool_tokens


def wants_rich_reply(body: Mapping[str, Any]) -> bool:
    """Whether the request uses tools, thinking or an output schema."""
    thinking = body.get("thinking") or {}
    return bool(
        body.get("tools")
        or thinking.get("type") in ("enabled", "adaptive")
        or (body.get("output_config") or {}).get("format")
    )


def plan_reply(body: Mapping[str, Any], completion: Completion) -> RichReply:
    """The answer to a request that `wants_rich_reply`."""
    digest = _seed_digest(body)
    rng = random.Random(digest)
    reply = RichReply()
    thinking = body.get("thinking") or {}
    if thinking.get("type") in ("enabled", "adaptive"):
        words = _generate(hashlib.sha256(b"thinking" + digest).digest(), ("Let", "me", "think."))
        budget = int(thinking.get("budget_tokens") or len(words))
        reply.thinking = words[: max(1, min(budget, len(words)))]
        reply.signature = "sig_" + hashlib.sha256(b"sig" + digest).hexdigest()[:32]
    user_text = last_user_text(body["messages"])
    tool = _pick_tool(body, user_text, rng)
    schema = ((body.get("output_config") or {}).get("format") or {}).get("schema")
    if tool is not None:
        reply.tool = tool
        reply.tool_json = json.dumps(tool["input"], ensure_ascii=False, separators=(",", ":"))
        reply.stop_reason = "tool_use"
        reply.text = ("I'll", " use", f" {tool['name']}.")
    elif schema is not None:
        scripted = _JSON_MARKER.search(user_text)
        text = scripted.group(1).strip() if scripted else _dumps(instance_of(schema, rng))
        reply.text = tuple(_pieces(text))
    else:
        reply.text = completion.pieces
        reply.stop_reason = completion.stop_reason
    return reply


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _pieces(text: str, size: int = 4) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _answers_tool_results(messages: list[Any]) -> bool:
    last = messages[-1] if messages else {}
    content = last.get("content") if isinstance(last, dict) else None
    return isinstance(content, list) and any(
        isinstance(b, dict) and b.get("type") == "tool_result" for b in content
    )


def _pick_tool(
    body: Mapping[str, Any], user_text: str, rng: random.Random
) -> dict[str, Any] | None:
    tools = {t.get("name"): t for t in body.get("tools") or () if isinstance(t, dict)}
    choice = body.get("tool_choice") or {"type": "auto"}
    if not tools or choice.get("type") == "none" or _answers_tool_results(body["messages"]):
        return None
    marker = _TOOL_MARKER.search(user_text)
    name: str | None = None
    arguments: Any = None
    if marker and marker.group(1) in tools:
        name = marker.group(1)
        if marker.group(2):
            try:
                arguments = json.loads(marker.group(2))
            except ValueError:
                arguments = {"raw": marker.group(2)}
    if choice.get("type") == "tool":
        if choice.get("name") != name:
            name, arguments = choice.get("name"), None
    elif choice.get("type") == "any" and name is None:
        name = next(iter(tools))
    if name is None or name not in tools:
        return None
    if arguments is None:
        arguments = instance_of(tools[name].get("input_schema") or {}, rng)
    tool_id = "toolu_" + hashlib.sha256(f"{name}{user_text}".encode()).hexdigest()[:24]
    return {"id": tool_id, "name": name, "input": arguments}


def instance_of(schema: Mapping[str, Any], rng: random.Random, depth: int = 0) -> Any:
    """A value that follows `schema` (the common keywords), chosen by `rng`."""
    if depth > 8:
        return None
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return rng.choice(list(schema["enum"]))
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return instance_of(schema[key][0], rng, depth + 1)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props = schema.get("properties") or {}
        return {k: instance_of(v, rng, depth + 1) for k, v in props.items()}
    if kind == "array":
        count = max(1, int(schema.get("minItems", 1)))
        return [instance_of(schema.get("items") or {}, rng, depth + 1) for _ in range(count)]
    if kind == "integer":
        low, high = int(schema.get("minimum", 1)), int(schema.get("maximum", 100))
        return rng.randint(low, max(low, high))
    if kind == "number":
        lowest, highest = float(schema.get("minimum", 0)), float(schema.get("maximum", 1))
        return round(rng.uniform(lowest, max(lowest, highest)), 3)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    word = rng.choice(("alpha", "beta", "gamma", "delta", "order", "quiz"))
    return (word * 4)[: max(int(schema.get("minLength", 0)), len(word))]


# --- the response bodies ----------------------------------------------------------------------


def content_blocks(reply: RichReply) -> list[dict[str, Any]]:
    """The ``content`` of the message."""
    blocks: list[dict[str, Any]] = []
    if reply.thinking:
        blocks.append(
            {"type": "thinking", "thinking": "".join(reply.thinking), "signature": reply.signature}
        )
    if reply.text:
        blocks.append({"type": "text", "text": "".join(reply.text)})
    if reply.tool is not None:
        blocks.append({"type": "tool_use", **reply.tool})
    return blocks


def _usage(usage: InputUsage, reply: RichReply) -> dict[str, Any]:
    out: dict[str, Any] = usage_json(usage, reply.output_tokens)
    if reply.thinking:
        out["output_tokens_details"] = {"thinking_tokens": reply.thinking_tokens}
    return out


def rich_message_json(
    msg_id: str, model: str, reply: RichReply, usage: InputUsage
) -> dict[str, Any]:
    """A complete non-streaming response."""
    return {
        "id": msg_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content_blocks(reply),
        "stop_reason": reply.stop_reason,
        "stop_sequence": None,
        "usage": _usage(usage, reply),
    }


def _event(index: int, delta: dict[str, Any]) -> bytes:
    return sse(
        "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
    )


def _start(index: int, block: dict[str, Any]) -> bytes:
    return sse(
        "content_block_start",
        {"type": "content_block_start", "index": index, "content_block": block},
    )


def _stop(index: int) -> bytes:
    return sse("content_block_stop", {"type": "content_block_stop", "index": index})


def rich_stream_plan(
    msg_id: str, body: Mapping[str, Any], reply: RichReply, usage: InputUsage
) -> StreamPlan:
    """The SSE events: thinking, text and tool-input deltas, block by block, as the API sends."""
    start = message_start_json(msg_id, body, usage)
    opening = sse("message_start", {"type": "message_start", "message": start}) + sse(
        "ping", {"type": "ping"}
    )
    deltas: list[bytes] = []
    index = 0
    if reply.thinking:
        head = _start(index, {"type": "thinking", "thinking": "", "signature": ""})
        for n, piece in enumerate(reply.thinking):
            event = _event(index, {"type": "thinking_delta", "thinking": piece})
            deltas.append(head + event if n == 0 else event)
        signature = _event(index, {"type": "signature_delta", "signature": reply.signature})
        deltas[-1] += signature + _stop(index)
        index += 1
    if reply.text:
        head = _start(index, {"type": "text", "text": ""})
        for n, piece in enumerate(reply.text):
            event = _event(index, {"type": "text_delta", "text": piece})
            deltas.append(head + event if n == 0 else event)
        deltas[-1] += _stop(index)
        index += 1
    if reply.tool is not None:
        head = _start(
            index,
            {"type": "tool_use", "id": reply.tool["id"], "name": reply.tool["name"], "input": {}},
        )
        for n, piece in enumerate(_pieces(reply.tool_json, 12)):
            event = _event(index, {"type": "input_json_delta", "partial_json": piece})
            deltas.append(head + event if n == 0 else event)
        deltas[-1] += _stop(index)
    closing = sse(
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": reply.stop_reason, "stop_sequence": None},
            "usage": _usage(usage, reply),
        },
    ) + sse("message_stop", {"type": "message_stop"})
    return StreamPlan(opening, tuple(deltas), closing)


# --- image and document blocks ----------------------------------------------------------------


def _file_data(block: Mapping[str, Any], where: str, kinds: tuple[str, ...]) -> bytes:
    source = block.get("source")
    if not isinstance(source, dict) or source.get("type") != "base64":
        raise ApiError(400, "invalid_request_error", f"{where}.source: expected a base64 source")
    if source.get("media_type") not in kinds:
        raise ApiError(
            400,
            "invalid_request_error",
            f"{where}.source.media_type: Input should be {', '.join(kinds)}",
        )
    try:
        return base64.b64decode(str(source.get("data", "")), validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(
            400, "invalid_request_error", f"{where}.source.data: invalid base64 data"
        ) from None


def validate_file_blocks(body: Mapping[str, Any]) -> None:
    """Refuse image/document blocks the real API would refuse (400 naming the field)."""
    for i, message in enumerate(body.get("messages") or ()):
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        for j, block in enumerate(content):
            if isinstance(block, dict) and block.get("type") in ("image", "document"):
                kinds = IMAGE_TYPES if block["type"] == "image" else DOCUMENT_TYPES
                _file_data(block, f"messages.{i}.content.{j}", kinds)


def file_block_text(block: Mapping[str, Any]) -> str:
    """Stand-in text for an image or document block, as long as its tokens (4 chars each).

    Starts with the content's hash, so the prompt cache tells different files apart.
    """
    source = block.get("source") or {}
    try:
        data = base64.b64decode(str(source.get("data", "")))
    except (binascii.Error, ValueError):
        data = b""
    if block.get("type") == "document":
        tokens = TOKENS_PER_PDF_PAGE * max(1, len(_PDF_PAGE.findall(data)))
    else:
        tokens = min(MAX_IMAGE_TOKENS, max(MIN_IMAGE_TOKENS, len(data) // BYTES_PER_IMAGE_TOKEN))
    head = f"[{block.get('type')} {hashlib.sha256(data).hexdigest()}]"
    return head.ljust(tokens * 4)
