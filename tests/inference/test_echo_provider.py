"""The offline echo provider: no network, the rendered prompt back, limits applied."""

from __future__ import annotations

import asyncio
import time

import pytest

from workbench.core.errors import BadInput
from workbench.inference import make_provider
from workbench.inference.base import CallRequest, Provider
from workbench.inference.echo import EchoProvider, estimate_tokens


def request(**overrides: object) -> CallRequest:
    base: dict[str, object] = {
        "model": "claude-haiku-5-5",
        "system": "Be brief.",
        "messages": [{"role": "user", "content": "Hello there"}],
        "max_tokens": 100,
    }
    base.update(overrides)
    return CallRequest(**base)  # type: ignore[arg-type]


def test_estimate_tokens_is_a_quarter_of_the_characters_rounded_up() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("a") == 1
    assert estimate_tokens("abcd") == 1
    assert estimate_tokens("abcde") == 2
    assert estimate_tokens("x" * 400) == 100


def test_echo_returns_the_rendered_prompt_and_is_synthetic() -> None:
    provider = EchoProvider()
    assert isinstance(provider, Provider)
    assert provider.synthetic
    result = asyncio.run(provider.call(request()))
    assert result.ok
    assert result.text == "[system] Be brief.\n[user] Hello there"
    assert result.stop_reason == "end_turn"
    assert result.usage.input_tokens == estimate_tokens("Be brief.Hello there")
    assert result.usage.output_tokens == estimate_tokens(result.text)
    assert result.request_id and result.attempts[0].request_id == result.request_id


def test_echo_streams_chunks_in_order_with_delay() -> None:
    provider = EchoProvider(chunk_delay_s=0.002, chunk_chars=5, latency_s=0.01)
    chunks: list[str] = []
    start = time.perf_counter()
    result = asyncio.run(provider.call(request(), on_text=chunks.append))
    assert len(chunks) > 3 and all(len(c) <= 5 for c in chunks)
    assert "".join(chunks) == result.text
    assert time.perf_counter() - start >= 0.01
    assert result.ttft_ms is not None and result.ttft_ms >= 10
    assert result.latency_ms is not None and result.latency_ms >= result.ttft_ms


def test_echo_truncates_at_max_tokens() -> None:
    result = asyncio.run(EchoProvider().call(request(max_tokens=2)))
    assert result.text == "[system] Be brief.\n[user] Hello there"[:8]
    assert result.stop_reason == "max_tokens"
    assert result.usage.output_tokens == 2


def test_echo_stops_at_the_first_stop_sequence() -> None:
    result = asyncio.run(EchoProvider().call(request(stop_sequences=["there", "brief"])))
    assert result.text == "[system] Be "
    assert result.stop_reason == "stop_sequence"


def test_echo_max_tokens_wins_when_it_comes_before_the_stop_sequence() -> None:
    result = asyncio.run(EchoProvider().call(request(max_tokens=1, stop_sequences=["there"])))
    assert result.stop_reason == "max_tokens"


def test_echo_count_tokens_and_models() -> None:
    provider = make_provider("echo")
    assert asyncio.run(provider.count_tokens(request())) == estimate_tokens("Be brief.Hello there")
    assert asyncio.run(provider.list_models()) == []
    asyncio.run(provider.aclose())


def test_echo_can_be_cancelled_while_streaming() -> None:
    async def scenario() -> None:
        provider = EchoProvider(chunk_delay_s=10, chunk_chars=1)
        task = asyncio.create_task(provider.call(request(), on_text=lambda _: None))
        await asyncio.sleep(0.01)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return
        raise AssertionError("expected CancelledError")

    asyncio.run(asyncio.wait_for(scenario(), 2))


def test_make_provider_rejects_unknown_names() -> None:
    with pytest.raises(BadInput) as info:
        make_provider("openai")
    assert "anthropic" in str(info.value) and "echo" in str(info.value)


def test_call_result_round_trips_through_its_dict_form() -> None:
    from workbench.inference.base import CallResult

    result = asyncio.run(EchoProvider().call(request()))
    assert CallResult.from_dict(result.to_dict()) == result
