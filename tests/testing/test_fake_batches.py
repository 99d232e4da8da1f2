"""The fake server's Message Batches API, driven by the real anthropic SDK over loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx2
import pytest

from workbench.testing.fake_anthropic import FakeAnthropicServer

HAIKU = "claude-haiku-5-5"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeAnthropicServer]:
    with FakeAnthropicServer() as running:
        yield running


@pytest.fixture
def fake(server: FakeAnthropicServer) -> FakeAnthropicServer:
    server.configure(batches={}, faults=[])
    server.reset_stats()
    return server


@pytest.fixture
def client(fake: FakeAnthropicServer) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(api_key="test", base_url=fake.base_url, max_retries=0) as sdk:
        yield sdk


def requests(n: int, model: str = HAIKU) -> list[dict[str, Any]]:
    return [
        {
            "custom_id": f"cell-{i}",
            "params": {
                "model": model,
                "max_tokens": 50,
                "messages": [{"role": "user", "content": f"Question number {i}"}],
            },
        }
        for i in range(n)
    ]


def wait_ended(client: anthropic.Anthropic, batch_id: str, timeout_s: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        batch = client.messages.batches.retrieve(batch_id)
        if batch.processing_status == "ended" or time.monotonic() > deadline:
            return batch
        time.sleep(0.02)


def test_create_retrieve_results_match_the_sdk_types(client: anthropic.Anthropic) -> None:
    batch = client.messages.batches.create(requests=requests(3))  # type: ignore[arg-type]
    assert batch.type == "message_batch" and batch.id.startswith("msgbatch_")
    ended = wait_ended(client, batch.id)
    assert ended.processing_status == "ended"
    assert ended.request_counts.succeeded == 3 and ended.request_counts.processing == 0
    assert ended.results_url and ended.ended_at is not None
    results = {r.custom_id: r.result for r in client.messages.batches.results(batch.id)}
    assert set(results) == {"cell-0", "cell-1", "cell-2"}
    first = results["cell-0"]
    assert first.type == "succeeded"
    assert first.message.content[0].text.startswith('Regarding "Question')  # type: ignore[union-attr]
    assert first.message.usage.output_tokens > 0


def test_requests_progress_during_processing(
    fake: FakeAnthropicServer, client: anthropic.Anthropic
) -> None:
    fake.configure(batches={"processing_s": 0.6})
    batch = client.messages.batches.create(requests=requests(4))  # type: ignore[arg-type]
    assert batch.processing_status == "in_progress" and batch.results_url is None
    assert batch.request_counts.processing == 4
    time.sleep(0.35)
    middle = client.messages.batches.retrieve(batch.id)
    assert middle.processing_status == "in_progress"
    assert 0 < middle.request_counts.succeeded < 4
    assert wait_ended(client, batch.id).request_counts.succeeded == 4


def test_scripted_per_request_errors(
    fake: FakeAnthropicServer, client: anthropic.Anthropic
) -> None:
    fake.configure(batches={"faults": [{"fault": "500", "request_number": 2}]})
    bad = requests(3)
    bad[2]["params"]["max_tokens"] = 0
    batch = client.messages.batches.create(requests=bad)  # type: ignore[arg-type]
    ended = wait_ended(client, batch.id)
    assert ended.request_counts.succeeded == 1 and ended.request_counts.errored == 2
    results = {r.custom_id: r.result for r in client.messages.batches.results(batch.id)}
    assert results["cell-1"].type == "errored"
    assert results["cell-1"].error.error.type == "api_error"  # type: ignore[union-attr]
    assert results["cell-2"].error.error.type == "invalid_request_error"  # type: ignore[union-attr]


def test_expiry_leaves_unfinished_requests_expired(
    fake: FakeAnthropicServer, client: anthropic.Anthropic
) -> None:
    fake.configure(batches={"processing_s": 10, "expire_s": 0.1})
    batch = client.messages.batches.create(requests=requests(5))  # type: ignore[arg-type]
    ended = wait_ended(client, batch.id)
    assert ended.processing_status == "ended"
    assert ended.request_counts.expired == 5
    kinds = {r.result.type for r in client.messages.batches.results(batch.id)}
    assert kinds == {"expired"}


def test_cancel_ends_with_unprocessed_requests_canceled(
    fake: FakeAnthropicServer, client: anthropic.Anthropic
) -> None:
    fake.configure(batches={"processing_s": 0.4, "cancel_s": 0.1})
    batch = client.messages.batches.create(requests=requests(4))  # type: ignore[arg-type]
    time.sleep(0.25)
    cancelled = client.messages.batches.cancel(batch.id)
    assert cancelled.processing_status == "canceling"
    assert cancelled.cancel_initiated_at is not None
    ended = wait_ended(client, batch.id)
    counts = ended.request_counts
    assert counts.succeeded + counts.canceled == 4 and counts.canceled >= 1
    assert counts.succeeded >= 1


def test_list_pages_newest_first(client: anthropic.Anthropic) -> None:
    ids = [client.messages.batches.create(requests=requests(1)).id for _ in range(3)]  # type: ignore[arg-type]
    page = client.messages.batches.list(limit=2)
    assert [b.id for b in page.data] == ids[::-1][:2] and page.has_more
    assert [b.id for b in client.messages.batches.list()][:3] == ids[::-1]


def test_limits_refuse_oversized_batches(
    fake: FakeAnthropicServer, client: anthropic.Anthropic
) -> None:
    fake.configure(batches={"max_requests": 2, "max_bytes": 600})
    with pytest.raises(anthropic.BadRequestError, match="at most 2 requests"):
        client.messages.batches.create(requests=requests(3))  # type: ignore[arg-type]
    big = requests(1)
    big[0]["params"]["messages"][0]["content"] = "x" * 1000
    with pytest.raises(anthropic.APIStatusError) as info:
        client.messages.batches.create(requests=big)  # type: ignore[arg-type]
    assert info.value.status_code == 413


def test_duplicate_custom_ids_and_unknown_batches(client: anthropic.Anthropic) -> None:
    twice = requests(1) * 2
    with pytest.raises(anthropic.BadRequestError, match="duplicate"):
        client.messages.batches.create(requests=twice)  # type: ignore[arg-type]
    with pytest.raises(anthropic.NotFoundError):
        client.messages.batches.retrieve("msgbatch_nope")


def test_results_before_the_end_are_refused(fake: FakeAnthropicServer) -> None:
    fake.configure(batches={"processing_s": 5})
    with httpx2.Client(base_url=fake.base_url, headers={"x-api-key": "k"}) as http:
        created = http.post("/v1/messages/batches", json={"requests": requests(1)}).json()
        response = http.get(f"/v1/messages/batches/{created['id']}/results")
    assert response.status_code == 400
