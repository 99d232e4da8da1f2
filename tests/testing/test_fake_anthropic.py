"""Tests of the loopback fake Anthropic API (workbench.testing.fake_anthropic).

Plain HTTP via httpx2 (the HTTP client the anthropic SDK ships with), plus the real SDK to
prove the wire format is what it expects. Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx2
import pytest

from workbench.testing.fake_anthropic import (
    FakeAnthropicServer,
    RemoteControl,
    main,
    start_subprocess,
    stop_subprocess,
)
from workbench.testing.fake_config import FakeConfig, FaultSpec, display_name_for

HAIKU = "claude-haiku-5-5"
EVENT_ORDER_HEAD = ["message_start", "content_block_start", "ping"]
EVENT_ORDER_TAIL = ["content_block_stop", "message_delta", "message_stop"]


@pytest.fixture
def server() -> Iterator[FakeAnthropicServer]:
    with FakeAnthropicServer() as srv:
        yield srv


@pytest.fixture
def client(server: FakeAnthropicServer) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=server.base_url, headers={"x-api-key": "test"}, timeout=5) as c:
        yield c


def request_body(text: str = "Summarise the quarterly report please", **extra: Any) -> dict:
    return {
        "model": HAIKU,
        "max_tokens": 1000,
        "messages": [{"role": "user", "content": text}],
        **extra,
    }


def post(client: httpx2.Client, body: dict) -> httpx2.Response:
    return client.post("/v1/messages", json=body)


def parse_sse(raw: str) -> list[tuple[str, str]]:
    """(event, data) pairs of an SSE body, data left as text (it may be malformed)."""
    events = []
    for block in raw.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.split("\n"))
        events.append((fields["event"], fields["data"]))
    return events


def stream(client: httpx2.Client, body: dict) -> tuple[httpx2.Response, list[tuple[str, str]]]:
    with client.stream("POST", "/v1/messages", json={**body, "stream": True}) as response:
        raw = response.read().decode()
    return response, parse_sse(raw)


def streamed_text(events: list[tuple[str, str]]) -> str:
    deltas = [json.loads(d) for e, d in events if e == "content_block_delta"]
    return "".join(d["delta"]["text"] for d in deltas)


# -- Messages API: shapes ---------------------------------------------------------------


def test_json_message_has_the_real_shape(client: httpx2.Client) -> None:
    response = post(client, request_body())
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["request-id"].startswith("req_")
    message = response.json()
    assert message["id"].startswith("msg_")
    assert (message["type"], message["role"], message["model"]) == ("message", "assistant", HAIKU)
    assert message["content"][0]["type"] == "text"
    assert message["content"][0]["text"].startswith('Regarding "Summarise the quarterly report')
    assert (message["stop_reason"], message["stop_sequence"]) == ("end_turn", None)
    usage = message["usage"]
    assert set(usage) == {
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    }
    assert 20 <= usage["output_tokens"] <= 120
    assert usage["input_tokens"] == 10  # 37 characters at ~4 per token


def test_request_ids_are_unique_and_connection_is_kept_alive(
    server: FakeAnthropicServer, client: httpx2.Client
) -> None:
    ids = {post(client, request_body()).headers["request-id"] for _ in range(5)}
    assert len(ids) == 5
    assert server.stats()["connections_total"] == 1


def test_stream_sends_every_event_type_in_order(client: httpx2.Client) -> None:
    full = post(client, request_body()).json()
    response, events = stream(client, request_body())
    assert response.headers["content-type"].startswith("text/event-stream")
    names = [e for e, _ in events]
    n = full["usage"]["output_tokens"]
    assert names == EVENT_ORDER_HEAD + ["content_block_delta"] * n + EVENT_ORDER_TAIL
    data = [json.loads(d) for _, d in events]
    assert all(d["type"] == e for (e, _), d in zip(events, data, strict=True))
    start = data[0]["message"]
    assert start["content"] == [] and start["stop_reason"] is None
    assert start["usage"]["input_tokens"] == full["usage"]["input_tokens"]
    assert data[1]["content_block"] == {"type": "text", "text": ""}
    assert data[3]["delta"]["type"] == "text_delta"
    message_delta = data[-2]
    assert message_delta["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    assert message_delta["usage"]["output_tokens"] == n
    assert streamed_text(events) == full["content"][0]["text"]


def test_output_is_deterministic_and_depends_on_prompt_and_model(client: httpx2.Client) -> None:
    def text(**kw: Any) -> str:
        return post(client, request_body(**kw)).json()["content"][0]["text"]

    assert text() == text()
    assert text() != text(text="Write a haiku about autumn")
    assert text() != text(model="claude-opus-5-5")
    assert text() != text(system="You are terse.")
    lengths = {len(text(text=f"prompt number {i}").split()) for i in range(8)}
    assert len(lengths) > 1  # lengths vary with the prompt


def test_max_tokens_truncates_a_prefix_of_the_full_answer(client: httpx2.Client) -> None:
    full = post(client, request_body()).json()["content"][0]["text"]
    short = post(client, request_body(max_tokens=5)).json()
    assert short["stop_reason"] == "max_tokens"
    assert short["usage"]["output_tokens"] == 5
    assert full.startswith(short["content"][0]["text"])
    _, events = stream(client, request_body(max_tokens=5))
    assert [e for e, _ in events].count("content_block_delta") == 5
    assert json.loads(events[-2][1])["delta"]["stop_reason"] == "max_tokens"


def test_stop_sequences_cut_the_answer(client: httpx2.Client) -> None:
    body = request_body(text="Tell me about the zebra crossing", stop_sequences=["zebra", "nope"])
    message = post(client, body).json()
    assert message["stop_reason"] == "stop_sequence"
    assert message["stop_sequence"] == "zebra"
    assert message["content"][0]["text"] == 'Regarding "Tell me about the '


def test_cache_control_reports_cache_write_then_read(client: httpx2.Client) -> None:
    system = [{"type": "text", "text": "x" * 4000, "cache_control": {"type": "ephemeral"}}]
    first = post(client, request_body(system=system)).json()["usage"]
    second = post(client, request_body(system=system, max_tokens=7)).json()["usage"]
    assert first["cache_creation_input_tokens"] == 1000
    assert first["cache_read_input_tokens"] == 0
    assert second["cache_creation_input_tokens"] == 0
    assert second["cache_read_input_tokens"] == 1000
    assert first["input_tokens"] == second["input_tokens"] == 10  # the uncached user turn
    other_model = post(client, request_body(system=system, model="claude-opus-5-5")).json()
    assert other_model["usage"]["cache_creation_input_tokens"] == 1000  # caches are per model


def test_count_tokens(client: httpx2.Client) -> None:
    body = {"model": HAIKU, "system": "abcd" * 10, "messages": [{"role": "user", "content": "hi"}]}
    response = client.post("/v1/messages/count_tokens", json=body)
    assert response.status_code == 200
    assert response.json() == {"input_tokens": 11}  # 42 characters


def test_models_list_has_the_real_shape(client: httpx2.Client) -> None:
    page = client.get("/v1/models").json()
    ids = [m["id"] for m in page["data"]]
    assert ids == ["claude-haiku-5-5", "claude-sonnet-5-5", "claude-opus-5-5", "claude-fable-5-1"]
    assert (page["has_more"], page["first_id"], page["last_id"]) == (False, ids[0], ids[-1])
    first = page["data"][0]
    assert first["type"] == "model" and first["display_name"] == "Claude Haiku 5.5"
    assert {"created_at", "max_input_tokens", "max_tokens"} <= set(first)
    limited = client.get("/v1/models", params={"limit": 2, "after_id": ids[0]}).json()
    assert [m["id"] for m in limited["data"]] == ids[1:3] and limited["has_more"] is True
    assert client.get(f"/v1/models/{ids[2]}").json()["display_name"] == "Claude Opus 5.5"
    assert client.get("/v1/models/nope").status_code == 404


def test_models_are_configurable(server: FakeAnthropicServer, client: httpx2.Client) -> None:
    server.configure(models=["claude-test-9-1", {"id": "x", "display_name": "X", "max_tokens": 5}])
    data = client.get("/v1/models").json()["data"]
    assert [(m["id"], m["display_name"]) for m in data] == [
        ("claude-test-9-1", "Claude Test 9.1"),
        ("x", "X"),
    ]
    assert display_name_for("claude-sonnet-5-5") == "Claude Sonnet 5.5"


# -- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["model", "max_tokens", "messages"])
def test_missing_field_is_invalid_request(client: httpx2.Client, missing: str) -> None:
    body = request_body()
    del body[missing]
    response = post(client, body)
    assert response.status_code == 400
    error = response.json()
    assert error["type"] == "error"
    assert error["error"] == {
        "type": "invalid_request_error",
        "message": f"{missing}: Field required",
    }


def test_api_key_is_required(server: FakeAnthropicServer) -> None:
    no_key = httpx2.post(f"{server.base_url}/v1/messages", json=request_body())
    assert no_key.status_code == 401
    assert no_key.json()["error"]["type"] == "authentication_error"
    # anthropic 2.x sends the API key as a bearer token.
    bearer = {"authorization": "Bearer sk-test"}
    ok = httpx2.post(f"{server.base_url}/v1/messages", json=request_body(), headers=bearer)
    assert ok.status_code == 200


def test_chunked_request_body_is_accepted(client: httpx2.Client) -> None:
    payload = json.dumps(request_body()).encode()
    response = client.post("/v1/messages", content=iter([payload[:10], payload[10:]]))
    assert response.status_code == 200


def test_strict_models_rejects_unknown_model(
    server: FakeAnthropicServer, client: httpx2.Client
) -> None:
    assert post(client, request_body(model="claude-unknown")).status_code == 200
    server.configure(strict_models=True)
    response = post(client, request_body(model="claude-unknown"))
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found_error"


# -- faults -------------------------------------------------------------------------------

HTTP_FAULT_CASES = [
    ("400", "invalid_request_error"),
    ("401", "authentication_error"),
    ("403", "permission_error"),
    ("404", "not_found_error"),
    ("413", "request_too_large"),
    ("429", "rate_limit_error"),
    ("500", "api_error"),
    ("504", "timeout_error"),
    ("529", "overloaded_error"),
]


@pytest.mark.parametrize(("fault", "error_type"), HTTP_FAULT_CASES)
def test_http_faults_use_the_real_error_shape(
    server: FakeAnthropicServer, client: httpx2.Client, fault: str, error_type: str
) -> None:
    server.script({"request_number": 2, "fault": fault})
    assert post(client, request_body()).status_code == 200
    response = post(client, request_body())
    assert response.status_code == int(fault)
    assert response.json()["error"]["type"] == error_type
    assert response.headers["request-id"].startswith("req_")
    assert post(client, request_body()).status_code == 200
    assert server.stats()["by_outcome"][fault] == 1


def test_429_carries_retry_after_headers(
    server: FakeAnthropicServer, client: httpx2.Client
) -> None:
    server.script(
        {"request_number": 1, "fault": "429"},
        {"request_number": 2, "fault": "429", "retry_after": 1.5, "retry_after_ms": 1500},
        {"request_number": 3, "fault": "500", "should_retry": False},
    )
    first, second, third = (post(client, request_body()) for _ in range(3))
    assert first.headers["retry-after"] == "1"
    assert (second.headers["retry-after"], second.headers["retry-after-ms"]) == ("1.5", "1500")
    assert third.headers["x-should-retry"] == "false"


def test_reset_drops_the_connection(server: FakeAnthropicServer, client: httpx2.Client) -> None:
    server.script({"request_number": 1, "fault": "reset"})
    with pytest.raises(httpx2.TransportError):
        post(client, request_body())
    assert post(client, request_body()).status_code == 200
    assert server.stats()["by_outcome"]["reset"] == 1


def test_hang_ends_at_the_hang_limit(server: FakeAnthropicServer, client: httpx2.Client) -> None:
    server.script({"request_number": 1, "fault": "hang", "hang_s": 0.2})
    started = time.monotonic()
    with pytest.raises(httpx2.TransportError):
        post(client, request_body())
    assert time.monotonic() - started >= 0.19  # timer slack on coarse clocks


def test_hang_ends_when_the_client_gives_up(server: FakeAnthropicServer) -> None:
    server.script({"fault": "hang"})
    with pytest.raises(httpx2.ReadTimeout):
        httpx2.post(
            f"{server.base_url}/v1/messages",
            json=request_body(),
            headers={"x-api-key": "k"},
            timeout=0.2,
        )
    deadline = time.monotonic() + 3
    while server.stats()["connections_open"] and time.monotonic() < deadline:
        time.sleep(0.02)
    stats = server.stats()
    assert (stats["connections_open"], stats["in_flight"], stats["by_outcome"]["hang"]) == (0, 0, 1)


def test_midstream_error_sends_deltas_then_an_error_event(
    server: FakeAnthropicServer, client: httpx2.Client
) -> None:
    server.script({"fault": "midstream_error", "after_deltas": 3})
    response, events = stream(client, request_body())
    assert response.status_code == 200
    assert [e for e, _ in events] == EVENT_ORDER_HEAD + ["content_block_delta"] * 3 + ["error"]
    assert json.loads(events[-1][1]) == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
    }
    assert post(client, request_body()).status_code == 529  # non-streaming equivalent


def test_malformed_stream_has_an_unparseable_event(
    server: FakeAnthropicServer, client: httpx2.Client
) -> None:
    server.script({"fault": "malformed", "after_deltas": 1})
    response, events = stream(client, request_body())
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(events[-1][1])
    with pytest.raises(json.JSONDecodeError):
        post(client, request_body()).json()


def test_fault_can_target_one_model(server: FakeAnthropicServer, client: httpx2.Client) -> None:
    server.script({"fault": "529", "model": "claude-opus-5-5"})
    assert post(client, request_body()).status_code == 200
    assert post(client, request_body(model="claude-opus-5-5")).status_code == 529


def test_probability_faults_are_reproducible_with_a_seed(
    server: FakeAnthropicServer, client: httpx2.Client
) -> None:
    server.configure(seed=7, faults=[{"probability": 0.3, "fault": "529"}])

    def statuses() -> list[int]:
        return [post(client, request_body()).status_code for _ in range(30)]

    first = statuses()
    server.reset_stats()
    assert statuses() == first
    assert 3 <= first.count(529) <= 20


def test_fault_spec_validation() -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        FaultSpec.from_dict({"fault": "418"})
    with pytest.raises(ValueError, match="unknown fault spec keys"):
        FaultSpec.from_dict({"fault": "429", "retry": 1})
    with pytest.raises(ValueError, match="unknown config options"):
        FakeConfig().with_options({"latency": 5})
    spec = FaultSpec.from_dict({"fault": "429", "request_number": [2, 3], "retry_after": 2})
    assert spec.to_dict() == {"fault": "429", "request_number": [2, 3], "retry_after": 2.0}


# -- latency, stats and concurrency -------------------------------------------------------


def test_latency_applies_to_json_and_streams(
    server: FakeAnthropicServer, client: httpx2.Client
) -> None:
    server.configure(latency_ms=150)
    started = time.monotonic()
    post(client, request_body())
    assert time.monotonic() - started >= 0.14  # timer slack on coarse clocks
    server.configure(model_latency={HAIKU: {"ttft_ms": 0, "token_interval_ms": 20}})
    started = time.monotonic()
    stream(client, request_body(max_tokens=6))
    assert time.monotonic() - started >= 0.09  # 5 gaps of 20 ms between 6 deltas
    assert FakeConfig().with_options({"latency_ms": 80}).latency_for("any").total_s(100) == 0.08


def test_stats_count_requests_models_outcomes_and_bodies(
    server: FakeAnthropicServer, client: httpx2.Client
) -> None:
    server.script({"request_number": 3, "fault": "529"})
    post(client, request_body())
    post(client, request_body())
    post(client, request_body(model="claude-opus-5-5"))
    client.get("/v1/models")
    stats = server.stats()
    assert stats["requests_total"] == 4 and stats["messages_requests"] == 3
    assert stats["by_model"] == {HAIKU: 2, "claude-opus-5-5": 1}
    assert (stats["by_outcome"]["ok"], stats["by_outcome"]["529"]) == (2, 1)
    assert sorted(stats["by_body_hash"].values()) == [1, 2]
    assert stats["by_endpoint"] == {"POST /v1/messages": 3, "GET /v1/models": 1}
    server.reset_stats()
    assert server.stats()["messages_requests"] == 0
    assert post(client, request_body()).status_code == 200  # numbering restarted too
    assert client.post("/reset").json() == {"ok": True}


def test_peak_in_flight_with_50_concurrent_requests(server: FakeAnthropicServer) -> None:
    server.configure(latency_ms=500)  # long enough for all 50 to overlap on a slow box

    async def burst() -> list[int]:
        limits = httpx2.Limits(max_connections=100)
        async with httpx2.AsyncClient(
            base_url=server.base_url, headers={"x-api-key": "k"}, limits=limits, timeout=10
        ) as c:
            responses = await asyncio.gather(
                *(c.post("/v1/messages", json=request_body(f"q {i}")) for i in range(50))
            )
        return [r.status_code for r in responses]

    assert asyncio.run(burst()) == [200] * 50
    stats = server.stats()
    assert stats["peak_in_flight"] == 50 and stats["in_flight"] == 0


# -- other ways to run it ------------------------------------------------------------------


def test_subprocess_server_is_driven_over_http() -> None:
    proc, base_url = start_subprocess(latency_ms=0, extra_args=["--seed", "3"])
    try:
        remote = RemoteControl(base_url)
        remote.script({"request_number": 1, "fault": "529"})
        with httpx2.Client(base_url=base_url, headers={"x-api-key": "k"}, timeout=5) as c:
            assert post(c, request_body()).status_code == 529
            assert post(c, request_body()).status_code == 200
        outcomes = remote.stats()["by_outcome"]
        assert (outcomes["529"], outcomes["ok"]) == (1, 1)
        assert remote.config()["seed"] == 3
        with pytest.raises(ValueError, match="unknown config options"):
            remote.configure(latency=5)
        remote.reset_stats()
        assert remote.stats()["messages_requests"] == 0
    finally:
        stop_subprocess(proc)
    assert proc.poll() is not None
    if os.name == "posix":
        assert proc.returncode == 0  # SIGTERM is handled: a clean shutdown


def test_cli_rejects_a_bad_fault_spec() -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        main(["--fault", '{"fault": "999"}'])


def test_port_in_use_fails_to_start() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(RuntimeError, match="failed to start"):
            FakeAnthropicServer(port=taken.getsockname()[1]).start()


# -- the real SDK ---------------------------------------------------------------------------


def test_anthropic_sdk_create_and_stream(server: FakeAnthropicServer) -> None:
    sdk = anthropic.Anthropic(api_key="test", base_url=server.base_url, max_retries=0)
    kwargs: dict[str, Any] = {
        "model": HAIKU,
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "Name three rivers"}],
    }
    created = sdk.messages.create(**kwargs)
    assert created.content[0].type == "text"
    assert created.usage.output_tokens > 0
    with sdk.messages.stream(**kwargs) as streaming:
        text = "".join(streaming.text_stream)
        final = streaming.get_final_message()
    assert text == created.content[0].text == final.content[0].text
    assert final.stop_reason == created.stop_reason
    assert final.usage.output_tokens == created.usage.output_tokens
    assert sdk.messages.count_tokens(model=HAIKU, messages=kwargs["messages"]).input_tokens == 5
    assert [m.id for m in sdk.models.list()][0] == HAIKU


def test_anthropic_sdk_sees_faults_as_api_errors(server: FakeAnthropicServer) -> None:
    sdk = anthropic.Anthropic(api_key="test", base_url=server.base_url, max_retries=0)
    kwargs: dict[str, Any] = {
        "model": HAIKU,
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "hi"}],
    }
    server.script({"request_number": 1, "fault": "429", "retry_after": 2})
    with pytest.raises(anthropic.RateLimitError) as rate_limited:
        sdk.messages.create(**kwargs)
    assert rate_limited.value.response.headers["retry-after"] == "2"
    assert rate_limited.value.request_id is not None
    server.script({"fault": "midstream_error"})
    with (
        pytest.raises(anthropic.APIStatusError, match="overloaded_error"),
        sdk.messages.stream(**kwargs) as streaming,
    ):
        streaming.get_final_message()
