"""Tools, thinking, structured output, images and documents over real loopback HTTP."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

import jsonschema
import pytest

from tests.inference.test_anthropic_provider import FAKE_KEY, call, make_request
from workbench.inference.anthropic_provider import AnthropicProvider
from workbench.inference.anthropic_wire import StreamParser, build_params
from workbench.inference.base import CallRequest
from workbench.testing.fake_anthropic import FakeAnthropicServer
from workbench.testing.fake_blocks import plan_reply, rich_stream_plan
from workbench.testing.fake_text import InputUsage, complete

ORDER_SCHEMA = {
    "type": "object",
    "properties": {"order_id": {"type": "string"}, "urgent": {"type": "boolean"}},
    "required": ["order_id"],
}
TOOLS = [
    {"name": "lookup_order", "description": "Find an order.", "input_schema": ORDER_SCHEMA},
    {
        "name": "search_docs",
        "description": "Search the help pages.",
        "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}},
    },
]
TICKET_SCHEMA = {
    "type": "object",
    "properties": {
        "category": {"enum": ["billing", "bug", "account"]},
        "priority": {"type": "integer", "minimum": 1, "maximum": 3},
    },
    "required": ["category", "priority"],
    "additionalProperties": False,
}
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 90_000).decode()
PDF = base64.b64encode(b"%PDF-1.4 /Type /Pages /Type /Page x /Type /Page y").decode()
STREAMED = pytest.mark.parametrize("stream", [True, False], ids=["streamed", "json"])


def user(*blocks: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"role": "user", "content": list(blocks)}]


@STREAMED
def test_a_scripted_tool_call_comes_back_with_its_arguments(
    fake: FakeAnthropicServer, stream: bool
) -> None:
    text = 'Where is A-1042? [[tool:lookup_order {"order_id": "A-1042"}]]'
    result = call(
        fake, make_request(messages=[{"role": "user", "content": text}], tools=TOOLS, stream=stream)
    )
    assert result.ok and result.stop_reason == "tool_use"
    assert [(c["name"], c["input"]) for c in result.tool_calls] == [
        ("lookup_order", {"order_id": "A-1042"})
    ]
    assert result.tool_calls[0]["id"].startswith("toolu_")


@STREAMED
def test_tool_choice_any_and_tool_generate_arguments_that_fit_the_schema(
    fake: FakeAnthropicServer, stream: bool
) -> None:
    for choice, name in (
        ({"type": "any"}, "lookup_order"),
        ({"type": "tool", "name": "search_docs"}, "search_docs"),
    ):
        result = call(fake, make_request(tools=TOOLS, tool_choice=choice, stream=stream))
        assert result.stop_reason == "tool_use"
        (tool_call,) = result.tool_calls
        assert tool_call["name"] == name
        schema = next(t["input_schema"] for t in TOOLS if t["name"] == name)
        jsonschema.validate(tool_call["input"], schema)


@STREAMED
def test_no_tool_call_with_choice_none_auto_without_a_marker_or_after_results(
    fake: FakeAnthropicServer, stream: bool
) -> None:
    marker = 'x [[tool:lookup_order {"order_id": "1"}]]'
    none = call(
        fake,
        make_request(
            messages=[{"role": "user", "content": marker}],
            tools=TOOLS,
            tool_choice={"type": "none"},
            stream=stream,
        ),
    )
    auto = call(fake, make_request(tools=TOOLS, stream=stream))
    turns = [
        {"role": "user", "content": marker},
        {
            "role": "assistant",
            "content": [
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "lookup_order",
                    "input": {"order_id": "1"},
                }
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "shipped"}],
        },
    ]
    after = call(fake, make_request(messages=turns, tools=TOOLS, stream=stream))
    for result in (none, auto, after):
        assert result.ok and result.tool_calls == [] and result.stop_reason == "end_turn"
        assert result.text


@STREAMED
def test_thinking_blocks_and_thinking_tokens(fake: FakeAnthropicServer, stream: bool) -> None:
    result = call(
        fake,
        make_request(
            thinking={"type": "enabled", "budget_tokens": 1024}, max_tokens=2000, stream=stream
        ),
    )
    assert result.ok and result.thinking.startswith("Let me think.")
    assert 0 < result.usage.thinking_tokens < result.usage.output_tokens
    plain = call(fake, make_request(stream=stream))
    assert plain.thinking == "" and plain.usage.thinking_tokens == 0
    assert result.text != plain.text or result.usage.output_tokens > plain.usage.output_tokens


@STREAMED
def test_structured_output_follows_the_schema(fake: FakeAnthropicServer, stream: bool) -> None:
    result = call(fake, make_request(output_schema=TICKET_SCHEMA, effort="low", stream=stream))
    assert result.ok
    jsonschema.validate(json.loads(result.text), TICKET_SCHEMA)
    scripted = call(
        fake,
        make_request(
            messages=[
                {
                    "role": "user",
                    "content": 'Refund? [[json:{"category": "billing", "priority": 1}]]',
                }
            ],
            output_schema=TICKET_SCHEMA,
            stream=stream,
        ),
    )
    assert json.loads(scripted.text) == {"category": "billing", "priority": 1}


@STREAMED
def test_images_and_documents_are_accepted_and_counted(
    fake: FakeAnthropicServer, stream: bool
) -> None:
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}
    document = {
        "type": "document",
        "source": {"type": "base64", "media_type": "application/pdf", "data": PDF},
    }
    text = {"type": "text", "text": "What is on the receipt?"}
    with_files = make_request(messages=user(text, image, document), stream=stream)
    result = call(fake, with_files)
    assert result.ok and result.text
    text_only = call(fake, make_request(messages=user(text), stream=stream))
    # ~90 kB image: 120 tokens; a two-page PDF: 3000.
    assert result.usage.input_tokens - text_only.usage.input_tokens == 120 + 3000


def test_a_bad_image_is_refused_like_the_api_does(fake: FakeAnthropicServer) -> None:
    bad = {"type": "image", "source": {"type": "base64", "media_type": "image/bmp", "data": PNG}}
    result = call(fake, make_request(messages=user(bad)))
    assert result.error_type == "invalid_request"
    assert "messages.0.content.0.source.media_type" in (result.error_message or "")


def test_count_tokens_covers_tools_files_and_thinking(fake: FakeAnthropicServer) -> None:
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}

    async def count(request: CallRequest) -> int | None:
        provider = AnthropicProvider(api_key=FAKE_KEY, base_url=fake.base_url)
        try:
            return await provider.count_tokens(request)
        finally:
            await provider.aclose()

    plain = asyncio.run(count(make_request()))
    rich = asyncio.run(
        count(
            make_request(
                messages=user({"type": "text", "text": "Where is my parcel?"}, image),
                tools=TOOLS,
                thinking={"type": "adaptive"},
                output_schema=TICKET_SCHEMA,
            )
        )
    )
    assert plain is not None and rich is not None and rich > plain + 120


def test_a_prefill_is_sent_and_starts_the_output(fake: FakeAnthropicServer) -> None:
    request = make_request(prefill="{")
    assert build_params(request)["messages"][-1] == {"role": "assistant", "content": "{"}
    assert call(fake, request).text.startswith("{")


def test_build_params_sends_tools_choice_thinking_and_output_config() -> None:
    request = make_request(
        tools=TOOLS,
        tool_choice={"type": "any"},
        thinking={"type": "adaptive"},
        output_schema=TICKET_SCHEMA,
        effort="high",
        messages=user({"type": "text", "text": "a"}, {"type": "text", "text": "b"}),
        cache_prefix_messages=1,
    )
    params = build_params(request)
    assert params["tools"] == TOOLS and params["tool_choice"] == {"type": "any"}
    assert params["thinking"] == {"type": "adaptive"}
    assert params["output_config"] == {
        "format": {"type": "json_schema", "schema": TICKET_SCHEMA},
        "effort": "high",
    }
    blocks = params["messages"][0]["content"]
    assert "cache_control" not in blocks[0] and blocks[1]["cache_control"] == {"type": "ephemeral"}
    assert "tools" not in build_params(make_request())


def test_the_stream_parser_reports_thinking_and_tool_input_deltas() -> None:
    body = {
        "model": "m",
        "max_tokens": 3000,
        "messages": [{"role": "user", "content": 'go [[tool:lookup_order {"order_id": "A-1"}]]'}],
        "tools": TOOLS,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
    }
    reply = plan_reply(body, complete(body))
    plan = rich_stream_plan("msg_1", body, reply, InputUsage(10))
    seen: list[tuple[str, str]] = []
    parser = StreamParser(
        time.perf_counter(), on_delta=lambda kind, text: seen.append((kind, text))
    )
    texts: list[str] = []
    for piece in (plan.opening, *plan.deltas, plan.closing):
        parser.feed(piece, texts.append)
    parsed = parser.finish()
    assert parsed.tool_calls == [
        {"id": reply.tool["id"], "name": "lookup_order", "input": {"order_id": "A-1"}}
    ]  # type: ignore[index]
    assert "".join(t for k, t in seen if k == "tool_input") == '{"order_id":"A-1"}'
    assert "".join(t for k, t in seen if k == "thinking") == parsed.thinking != ""
    assert "".join(texts) == parsed.text and parsed.stop_reason == "tool_use"
    assert parsed.usage.thinking_tokens == reply.thinking_tokens


def test_the_echo_provider_shows_blocks_tools_prefill_and_schema() -> None:
    from workbench.inference.echo import EchoProvider

    request = make_request(
        messages=user(
            {"type": "text", "text": "Look"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
        ),
        tools=TOOLS[:1],
        output_schema={"type": "object"},
        prefill="{",
    )
    text = asyncio.run(EchoProvider().call(request)).text
    assert text.splitlines()[1:] == [
        "[user] Look [image]",
        "[assistant] {",
        "[tool lookup_order] Find an order.",
        '[output schema] {"type": "object"}',
    ]
