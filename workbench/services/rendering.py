"""Turning a prompt version plus example values into the exact request a provider sends.

The workbench's own rendering; the production runtime loader must agree with it byte for byte
(tests compare them on the sample project).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from workbench.core.blocks import (
    DocumentBlock,
    ImageBlock,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from workbench.core.errors import MissingFiles, MissingVariables
from workbench.core.hashing import content_hash
from workbench.core.models import Message, PromptContent
from workbench.core.templates import render
from workbench.inference.base import CallRequest

FileSource = Callable[[str], tuple[str, bytes] | None]
"""Gives ``(media_type, bytes)`` for a path an example names, or None when there is no file."""
Accepted = tuple[dict[str, Any], list[str]]
AcceptedThinking = tuple[dict[str, Any] | None, str | None, list[str]]


@dataclass(slots=True)
class RenderedRequest:
    """A request ready to send, its identity hash and notes about dropped parameters."""

    request: CallRequest
    hash: str
    dropped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return request_identity(self.request)


def request_identity(request: CallRequest) -> dict[str, Any]:
    """What makes two requests the same answer-wise (the response-cache key and the log form).

    Newer fields appear only when set, so a plain request keeps the identity (and cache key) it
    always had; file bytes are named by their SHA-256 rather than repeated.
    """
    out: dict[str, Any] = {
        "model": request.model,
        "system": request.system,
        "messages": [_message_identity(m) for m in request.messages],
        "max_tokens": request.max_tokens,
        "sampling": request.sampling,
        "stop_sequences": request.stop_sequences,
        "cache_system": request.cache_system,
        "cache_prefix_messages": request.cache_prefix_messages,
    }
    for name in ("tools", "tool_choice", "output_schema", "thinking", "effort", "prefill"):
        value = getattr(request, name)
        if value:
            out[name] = value
    return out


def _message_identity(message: dict[str, Any]) -> dict[str, Any]:
    content = message["content"]
    if isinstance(content, str):
        return message
    blocks = []
    for block in content:
        source = block.get("source")
        if isinstance(source, dict) and "data" in source:
            digest = hashlib.sha256(base64.b64decode(source["data"])).hexdigest()
            source = {"type": "sha256", "media_type": source["media_type"], "sha256": digest}
            block = {**block, "source": source}
        blocks.append(block)
    return {**message, "content": blocks}


def missing_files(
    content: PromptContent, values: Mapping[str, str], files: FileSource | None
) -> list[str]:
    """The paths named by `content`'s image/document variables that `files` cannot give."""
    out = []
    for name in content.file_variables():
        path = values.get(name)
        if path is None:
            continue  # a missing variable: reported as such
        if not path.strip() or files is None or files(path) is None:
            out.append(path or f"(empty value of '{name}')")
    return out


def render_request(
    content: PromptContent,
    values: Mapping[str, str],
    *,
    model: str | None = None,
    accepted: Accepted | None = None,
    thinking: AcceptedThinking | None = None,
    files: FileSource | None = None,
    timeout_s: float = 600.0,
) -> RenderedRequest:
    """Render `content` with `values` for `model` (default: the version's own model).

    :param accepted: (sampling params to send, reasons for dropped ones) from the model catalog;
        when None every sampling param that is set is sent.
    :param thinking: (thinking config, effort, reasons) from the model catalog's
        ``accepted_thinking``; when None the version's own settings are sent.
    :param files: where image and document bytes come from (see `FileSource`)
    :raises MissingVariables: naming every variable absent from `values`
    :raises MissingFiles: naming every image/document file that cannot be found
    """
    params = content.params
    sampling, dropped = accepted if accepted is not None else (params.sampling_params(), [])
    thinking_sent: dict[str, Any] | None
    effort: str | None
    thinking_dropped: list[str]
    if thinking is None:
        thinking_sent = content.thinking.to_api() if content.thinking else None
        effort, thinking_dropped = content.effort, []
    else:
        thinking_sent, effort, thinking_dropped = thinking
    absent = [name for name in content.variables() if name not in values]
    if absent:
        raise MissingVariables(absent)
    lost = missing_files(content, values, files)
    if lost:
        raise MissingFiles(lost)
    messages = [_render_message(m, values, files) for m in content.messages]
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
        tools=[
            {
                "name": t.name,
                "description": render(t.description, values),
                "input_schema": t.input_schema,
            }
            for t in content.tools
        ],
        tool_choice=content.tool_choice.to_api() if content.tool_choice else None,
        output_schema=content.output_schema,
        thinking=thinking_sent,
        effort=effort,
        prefill=render(content.prefill, values),
    )
    return RenderedRequest(
        request, content_hash(request_identity(request)), [*dropped, *thinking_dropped]
    )


def _render_message(
    message: Message, values: Mapping[str, str], files: FileSource | None
) -> dict[str, Any]:
    if isinstance(message.content, str):
        return {"role": message.role, "content": render(message.content, values)}
    return {
        "role": message.role,
        "content": [_render_block(b, values, files) for b in message.content],
    }


def _render_block(
    block: Any, values: Mapping[str, str], files: FileSource | None
) -> dict[str, Any]:
    if isinstance(block, TextBlock):
        return {"type": "text", "text": render(block.text, values)}
    if isinstance(block, ToolResultBlock):
        out: dict[str, Any] = {
            "type": "tool_result",
            "tool_use_id": block.tool_use_id,
            "content": render(block.content, values),
        }
        if block.is_error:
            out["is_error"] = True
        return out
    if isinstance(block, ToolUseBlock):
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    assert isinstance(block, ImageBlock | DocumentBlock) and files is not None
    found = files(values[block.var])
    assert found is not None  # missing_files ran first
    media_type, data = found
    rendered: dict[str, Any] = {
        "type": block.type,
        "source": {
            "type": "base64",
            "media_type": media_type,
            "data": base64.b64encode(data).decode("ascii"),
        },
    }
    if isinstance(block, DocumentBlock) and block.title:
        rendered["title"] = render(block.title, values)
    return rendered


def request_texts(request: CallRequest) -> list[str]:
    """Every text a request sends (for token estimates): system, text blocks, tools, prefill."""
    texts = [request.system, request.prefill]
    for message in request.messages:
        content = message["content"]
        if isinstance(content, str):
            texts.append(content)
            continue
        for block in content:
            if block["type"] == "text":
                texts.append(block["text"])
            elif block["type"] == "tool_result":
                texts.append(str(block["content"]))
            elif block["type"] == "tool_use":
                texts.append(str(block["input"]))
    texts.extend(f"{t['name']} {t['description']} {t['input_schema']}" for t in request.tools)
    return texts
