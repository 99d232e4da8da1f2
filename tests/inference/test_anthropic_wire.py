"""The Messages API wire format, parsed without a network: params, SSE events, bodies."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from workbench.inference.anthropic_wire import (
    AttemptFailure,
    StreamParser,
    build_params,
    parse_message,
    should_stream,
    sse_data,
)
from workbench.inference.base import CallRequest
from workbench.testing.fake_anthropic import FakeAnthropicServer


def event(kind: str, **data: object) -> bytes:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n".encode()


STREAM = b"".join(
    [
        event(
            "message_start",
            message={"model": "m1", "usage": {"input_tokens": 7, "output_tokens": 1}},
        ),
        b": keep-alive comment\n\n",
        event("ping"),
        event("content_block_delta", index=0, delta={"type": "text_delta", "text": "Hel"}),
        event("content_block_delta", index=0, delta={"type": "text_delta", "text": "lo \u00e9"}),
        event("message_delta", delta={"stop_reason": "end_turn"}, usage={"output_tokens": 2}),
        event("message_stop"),
    ]
)


def parse(chunks: list[bytes]) -> tuple[StreamParser, list[str]]:
    deltas: list[str] = []
    parser = StreamParser(time.perf_counter())
    for chunk in chunks:
        parser.feed(chunk, deltas.append)
    return parser, deltas


@pytest.mark.parametrize("size", [1, 7, 64, len(STREAM)])
def test_stream_parses_whatever_the_chunking(size: int) -> None:
    chunks = [STREAM[i : i + size] for i in range(0, len(STREAM), size)]
    parser, deltas = parse(chunks)
    reply = parser.finish()
    assert deltas == ["Hel", "lo \u00e9"] and reply.text == "Hello \u00e9"
    assert reply.stop_reason == "end_turn" and reply.model == "m1"
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (7, 2)
    assert reply.ttft_ms is not None and reply.latency_ms is not None


def test_crlf_line_endings() -> None:
    parser, _ = parse([STREAM.replace(b"\n", b"\r\n")])
    assert parser.finish().text == "Hello \u00e9"


def test_error_event_is_a_stream_error_and_keeps_partial_text() -> None:
    head = STREAM.split(b"event: message_delta")[0]
    error = event("error", error={"type": "overloaded_error", "message": "Overloaded"})
    with pytest.raises(AttemptFailure) as info:
        parse([head + error])
    assert info.value.error_type == "stream_error" and "overloaded_error" in info.value.message


def test_truncated_event_is_malformed() -> None:
    bad = b'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"te\n\n'
    with pytest.raises(AttemptFailure) as info:
        parse([bad])
    assert info.value.error_type == "malformed_response"


def test_stream_without_message_stop_fails() -> None:
    parser, _ = parse([STREAM.split(b"event: message_stop")[0]])
    with pytest.raises(AttemptFailure) as info:
        parser.finish()
    assert info.value.error_type == "stream_error"
    assert parser.text == "Hello \u00e9"


def test_a_failing_callback_is_not_mistaken_for_a_malformed_stream() -> None:
    def broken(_: str) -> None:
        raise KeyError("bug in the caller")

    parser = StreamParser(time.perf_counter())
    with pytest.raises(KeyError):
        parser.feed(STREAM, broken)


def test_sse_data_variants() -> None:
    assert sse_data(b'event: x\ndata: {"a":1}') == '{"a":1}'
    assert sse_data(b"data: one\ndata: two") == "one\ntwo"
    assert sse_data(b": comment") is None


def test_parse_message_and_malformed_body() -> None:
    body = {
        "model": "m",
        "content": [{"type": "text", "text": "Hi"}, {"type": "tool_use", "id": "x"}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 3, "output_tokens": 1, "cache_read_input_tokens": 2},
    }
    reply = parse_message(json.dumps(body).encode(), time.perf_counter())
    assert reply.text == "Hi" and reply.usage.cache_read_input_tokens == 2
    with pytest.raises(AttemptFailure) as info:
        parse_message(b'{"content": [', time.perf_counter())
    assert info.value.error_type == "malformed_response"


def test_build_params_sends_only_what_is_set() -> None:
    request = CallRequest(model="m", messages=[{"role": "user", "content": "q"}], max_tokens=9)
    assert build_params(request) == {
        "model": "m",
        "max_tokens": 9,
        "messages": [{"role": "user", "content": "q"}],
        "timeout": 600.0,
    }
    request.system, request.cache_system = "sys", True
    request.stop_sequences, request.metadata = ["END"], {"user_id": "u1"}
    params = build_params(request)
    assert params["system"] == [
        {"type": "text", "text": "sys", "cache_control": {"type": "ephemeral"}}
    ]
    assert params["stop_sequences"] == ["END"] and params["metadata"] == {"user_id": "u1"}
    assert "extra_body" not in params


def test_should_stream() -> None:
    request = CallRequest(model="m", messages=[], max_tokens=4096, stream=False)
    assert not should_stream(request)
    request.max_tokens = 4097
    assert should_stream(request)


def _recorded_stream(server: FakeAnthropicServer) -> bytes:
    """The raw SSE body of one streamed call to the fake server, over real loopback HTTP."""
    payload = {
        "model": "claude-haiku-5-5",
        "max_tokens": 64,
        "stream": True,
        "messages": [{"role": "user", "content": "Say hello in a few words"}],
    }
    request = urllib.request.Request(
        f"{server.base_url}/v1/messages",
        data=json.dumps(payload).encode(),
        headers={
            "x-api-key": "test-key",
            "anthropic-version": "2023-06-01",
            "content-type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body: bytes = response.read()
    assert b"message_stop" in body
    return body


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
def test_every_split_point_of_a_recorded_stream_parses_the_same(
    fake: FakeAnthropicServer, ending: bytes
) -> None:
    recorded = _recorded_stream(fake)
    whole, _ = parse([recorded])
    expected = whole.finish()
    assert expected.text and expected.stop_reason
    # As a proxy would re-send it: every LF becomes the line ending under test.
    body = recorded.replace(b"\r\n", b"\n").replace(b"\n", ending)
    for split in range(len(body) + 1):
        parser, deltas = parse([body[:split], body[split:]])
        reply = parser.finish()
        assert (reply.text, reply.stop_reason, reply.model) == (
            expected.text,
            expected.stop_reason,
            expected.model,
        ), split
        assert "".join(deltas) == expected.text, split
        assert reply.usage == expected.usage, split
    byte_by_byte, _ = parse([body[i : i + 1] for i in range(len(body))])
    assert byte_by_byte.finish().text == expected.text


def test_a_stream_ending_on_a_bare_cr_still_completes() -> None:
    parser, _ = parse([STREAM.replace(b"\n", b"\r")])
    assert parser.finish().text == "Hello \u00e9"
