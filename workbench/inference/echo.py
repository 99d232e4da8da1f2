"""The offline provider: returns the rendered prompt as the "output", with no network.

Used to check templates before paying for calls and to drive the offline demo, so it streams
in chunks with an optional delay to look alive. Its outputs are synthetic (``synthetic=True``)
and the UI marks them so.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import os
import time
from typing import Any

from workbench.core.models import Model
from workbench.inference.base import Attempt, CallRequest, CallResult, OnBackoff, OnText, Usage

CHARS_PER_TOKEN = 4


def estimate_tokens(text: str) -> int:
    """Rough token count: ceil(characters / 4), at least 1 for non-empty text, 0 for "".

    English prose averages about four characters per token with Claude's tokenizer; good
    enough for estimates and the offline demo, never used for billing.
    """
    if not text:
        return 0
    return max(1, math.ceil(len(text) / CHARS_PER_TOKEN))


def render_transcript(request: CallRequest) -> str:
    """The prompt as one text: ``[system] …`` then ``[user] …``/``[assistant] …`` lines."""
    parts = [f"[system] {request.system}"] if request.system else []
    parts.extend(f"[{m['role']}] {content_text(m['content'])}" for m in request.messages)
    if request.prefill:
        parts.append(f"[assistant] {request.prefill}")
    # Tool descriptions and the output schema are templates too: show what they rendered to.
    parts.extend(f"[tool {t['name']}] {t.get('description', '')}" for t in request.tools)
    if request.output_schema is not None:
        schema = json.dumps(request.output_schema, sort_keys=True, ensure_ascii=False)
        parts.append(f"[output schema] {schema}")
    return "\n".join(parts)


def content_text(content: str | list[dict[str, Any]]) -> str:
    """A message's content as one text; images and documents show as ``[image]``/``[document]``."""
    if isinstance(content, str):
        return content
    pieces = []
    for block in content:
        kind = block["type"]
        if kind == "text":
            pieces.append(block["text"])
        elif kind == "tool_result":
            pieces.append(str(block["content"]))
        elif kind == "tool_use":
            arguments = json.dumps(block["input"], sort_keys=True, ensure_ascii=False)
            pieces.append(f"[tool_use {block['name']} {arguments}]")
        else:
            pieces.append(f"[{kind}]")
    return " ".join(pieces)


def render_transcript_input(request: CallRequest) -> str:
    """The text that counts as input: the system prompt and every message's content."""
    return "".join([request.system, *(content_text(m["content"]) for m in request.messages)])


def apply_limits(text: str, max_tokens: int, stop_sequences: list[str]) -> tuple[str, str]:
    """Cut ``text`` as a model would: at the first stop sequence or at max_tokens.

    Returns (text, stop_reason) where stop_reason is ``stop_sequence``, ``max_tokens`` or
    ``end_turn``. Whichever limit comes first in the text wins.
    """
    limit = max_tokens * CHARS_PER_TOKEN
    cut = min((i for s in stop_sequences if s and (i := text.find(s)) >= 0), default=None)
    if cut is not None and cut <= limit:
        return text[:cut], "stop_sequence"
    if len(text) > limit:
        return text[:limit], "max_tokens"
    return text, "end_turn"


def offline_result(
    request: CallRequest,
    text: str,
    stop_reason: str,
    *,
    request_id: str,
    started_wall: float,
    ttft_ms: float | None,
    total_ms: float,
) -> CallResult:
    """The result of an offline (synthetic) answer: one successful attempt, estimated tokens."""
    return CallResult(
        text=text,
        stop_reason=stop_reason,
        usage=Usage(
            input_tokens=estimate_tokens(render_transcript_input(request)),
            output_tokens=estimate_tokens(text),
        ),
        ttft_ms=ttft_ms,
        latency_ms=total_ms,
        total_ms=total_ms,
        attempts=[
            Attempt(
                number=1,
                request_id=request_id,
                status=200,
                started_at=started_wall,
                duration_ms=total_ms,
            )
        ],
        request_id=request_id,
        model=request.model,
    )


class OfflineProvider:
    """What the offline providers share: synthetic answers, estimated counts, no models."""

    synthetic = True

    async def count_tokens(self, request: CallRequest) -> int | None:
        """Estimated input tokens (see `estimate_tokens`)."""
        return estimate_tokens(render_transcript_input(request))

    async def list_models(self) -> list[Model]:
        """An offline provider answers for any model id, so it lists none of its own."""
        return []

    async def aclose(self) -> None:
        """Nothing to release."""


class EchoProvider(OfflineProvider):
    """Echoes the rendered prompt back; no key, no network, no cost.

    :param latency_s: simulated time to first token
    :param chunk_delay_s: pause between streamed chunks (0 = deliver at once)
    :param chunk_chars: characters per streamed chunk
    """

    name = "echo"

    def __init__(
        self, *, latency_s: float = 0.0, chunk_delay_s: float = 0.0, chunk_chars: int = 16
    ) -> None:
        self.latency_s = latency_s
        self.chunk_delay_s = chunk_delay_s
        self.chunk_chars = max(1, chunk_chars)
        self._ids = itertools.count(1)
        # Request ids stay unique across provider instances (they are logged per call).
        self._prefix = os.urandom(4).hex()

    async def call(
        self,
        request: CallRequest,
        on_text: OnText | None = None,
        on_backoff: OnBackoff | None = None,
    ) -> CallResult:
        """Return the transcript, cut by max_tokens/stop_sequences, streamed if asked."""
        started_wall = time.time()
        start = time.perf_counter()
        text, stop_reason = apply_limits(
            render_transcript(request), request.max_tokens, request.stop_sequences
        )
        if self.latency_s > 0:
            await asyncio.sleep(self.latency_s)
        ttft_ms: float | None = None
        if text:
            ttft_ms = (time.perf_counter() - start) * 1000.0
        if on_text is not None and text:
            step = self.chunk_chars if self.chunk_delay_s > 0 else len(text)
            for i in range(0, len(text), step):
                if i and self.chunk_delay_s > 0:
                    await asyncio.sleep(self.chunk_delay_s)
                on_text(text[i : i + step])
        elif self.chunk_delay_s > 0 and text:
            # Keep timing identical whether or not someone watches the stream.
            await asyncio.sleep(self.chunk_delay_s * ((len(text) - 1) // self.chunk_chars))
        elapsed_ms = (time.perf_counter() - start) * 1000.0
        request_id = f"echo_{self._prefix}{next(self._ids):08d}"
        return offline_result(
            request,
            text,
            stop_reason,
            request_id=request_id,
            started_wall=started_wall,
            ttft_ms=ttft_ms,
            total_ms=elapsed_ms,
        )
