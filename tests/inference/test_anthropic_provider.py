"""AnthropicProvider against the loopback fake server: streaming, JSON, caching, models."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from workbench.inference import CallRequest, CallResult, RetryPolicy, make_provider
from workbench.inference.anthropic_provider import AnthropicProvider
from workbench.inference.anthropic_wire import build_params
from workbench.testing.fake_anthropic import FakeAnthropicServer

FAKE_KEY = "sk-ant-test-FAKEKEY-1234"
MODEL = "claude-haiku-5-5"


def make_request(**overrides: Any) -> CallRequest:
    values: dict[str, Any] = {
        "model": MODEL,
        "system": "You answer support questions.",
        "messages": [{"role": "user", "content": "Where is my parcel?"}],
        "max_tokens": 200,
    }
    values.update(overrides)
    return CallRequest(**values)


def call(fake: FakeAnthropicServer, request: CallRequest, **kwargs: Any) -> CallResult:
    async def run() -> CallResult:
        provider = AnthropicProvider(
            api_key=FAKE_KEY, base_url=fake.base_url, policy=RetryPolicy(base_delay_s=0.01)
        )
        try:
            return await provider.call(request, **kwargs)
        finally:
            await provider.aclose()

    return asyncio.run(run())


def test_stream_delivers_deltas_in_order(fake: FakeAnthropicServer) -> None:
    fake.configure(ttft_ms=20, token_interval_ms=1)
    deltas: list[str] = []
    result = call(fake, make_request(), on_text=deltas.append)
    assert result.ok and not result.auth_failed
    assert len(deltas) == result.usage.output_tokens > 5
    assert "".join(deltas) == result.text
    assert result.text.startswith('Regarding "Where is my parcel?":')
    assert result.stop_reason == "end_turn"
    assert result.model == MODEL
    assert result.usage.input_tokens > 0
    assert result.ttft_ms is not None and result.latency_ms is not None
    assert 20 <= result.ttft_ms < result.latency_ms <= result.total_ms
    assert [a.number for a in result.attempts] == [1]
    assert result.request_id and result.request_id == result.attempts[0].request_id
    assert result.attempts[0].status == 200
    assert fake.stats()["by_outcome"]["ok"] == 1


def test_max_tokens_and_stop_reason(fake: FakeAnthropicServer) -> None:
    result = call(fake, make_request(max_tokens=3))
    assert result.ok and result.stop_reason == "max_tokens"
    assert result.usage.output_tokens == 3


def test_non_streaming_path(fake: FakeAnthropicServer) -> None:
    deltas: list[str] = []
    streamed = call(fake, make_request())
    result = call(fake, make_request(stream=False), on_text=deltas.append)
    assert result.ok and result.text == streamed.text
    assert result.ttft_ms is None and result.latency_ms is not None
    assert deltas == []  # nothing streams on the JSON path
    assert result.usage.output_tokens == streamed.usage.output_tokens
    assert result.request_id and result.request_id.startswith("req_")


def test_large_max_tokens_always_streams(fake: FakeAnthropicServer) -> None:
    deltas: list[str] = []
    result = call(fake, make_request(stream=False, max_tokens=8192), on_text=deltas.append)
    assert result.ok and result.ttft_ms is not None and deltas


def test_sampling_params_reach_the_api_via_extra_body(fake: FakeAnthropicServer) -> None:
    # The fake's answer is seeded by temperature, so different values give different text.
    cold = call(fake, make_request(sampling={"temperature": 0.0}))
    warm = call(fake, make_request(sampling={"temperature": 1.0}))
    assert cold.ok and warm.ok and cold.text != warm.text
    assert build_params(make_request(sampling={"top_k": 5}))["extra_body"] == {"top_k": 5}


def test_cache_system_writes_then_reads_the_cache(fake: FakeAnthropicServer) -> None:
    request = make_request(system="Policy text. " * 400, cache_system=True)
    first = call(fake, request)
    second = call(fake, request)
    assert first.usage.cache_creation_input_tokens > 0
    assert first.usage.cache_read_input_tokens == 0
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    uncached = call(fake, make_request(system="Other policy. " * 400))
    assert uncached.usage.cache_creation_input_tokens == 0


def test_cache_prefix_marks_only_the_last_message_of_the_prefix(fake: FakeAnthropicServer) -> None:
    messages = [
        {"role": "user", "content": "Long shared context. " * 300},
        {"role": "assistant", "content": "Understood."},
        {"role": "user", "content": "Question one?"},
    ]
    params = build_params(make_request(messages=messages, cache_prefix_messages=2))
    sent = params["messages"]
    assert sent[0] == messages[0] and sent[2] == messages[2]
    assert sent[1]["content"] == [
        {"type": "text", "text": "Understood.", "cache_control": {"type": "ephemeral"}}
    ]
    first = call(fake, make_request(messages=messages, cache_prefix_messages=2))
    messages[2] = {"role": "user", "content": "Question two?"}
    second = call(fake, make_request(messages=messages, cache_prefix_messages=2))
    assert first.usage.cache_creation_input_tokens > 0
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens


def test_count_tokens(fake: FakeAnthropicServer) -> None:
    async def run() -> int | None:
        provider = AnthropicProvider(api_key=FAKE_KEY, base_url=fake.base_url)
        try:
            return await provider.count_tokens(make_request())
        finally:
            await provider.aclose()

    count = asyncio.run(run())
    assert count is not None and count > 0


def test_list_models_maps_limits(fake: FakeAnthropicServer) -> None:
    async def run() -> list[Any]:
        provider = AnthropicProvider(api_key=FAKE_KEY, base_url=fake.base_url)
        try:
            return await provider.list_models()
        finally:
            await provider.aclose()

    models = {m.id: m for m in asyncio.run(run())}
    assert "claude-sonnet-5-5" in models
    sonnet = models["claude-sonnet-5-5"]
    assert sonnet.display_name == "Claude Sonnet 5.5"
    assert sonnet.max_input_tokens == 1_000_000 and sonnet.max_output_tokens == 64_000


def test_base_url_comes_from_the_environment_when_not_given(
    fake: FakeAnthropicServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)

    async def run() -> CallResult:
        provider = make_provider("anthropic")
        try:
            return await provider.call(make_request())
        finally:
            await provider.aclose()

    assert asyncio.run(run()).ok
    assert fake.stats()["messages_requests"] == 1
