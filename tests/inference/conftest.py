"""A fake Anthropic server shared by the provider tests (real loopback HTTP)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from workbench.testing.fake_anthropic import FakeAnthropicServer


@pytest.fixture(scope="module")
def server() -> Iterator[FakeAnthropicServer]:
    with FakeAnthropicServer(max_hang_s=5) as running:
        yield running


@pytest.fixture
def fake(server: FakeAnthropicServer) -> FakeAnthropicServer:
    """The shared server, reset: no latency, no faults, zeroed counters."""
    server.configure(latency_ms=0, faults=[])
    server.reset_stats()
    return server
