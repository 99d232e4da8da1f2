"""Counters of the fake Anthropic server, served by ``GET /stats``."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from workbench.testing.fake_config import FAULT_NAMES


@dataclass
class Stats:
    """Counters served by ``GET /stats``. ``by_outcome`` counts ``/v1/messages`` only."""

    requests_total: int = 0
    messages_requests: int = 0
    in_flight: int = 0
    peak_in_flight: int = 0
    connections_total: int = 0
    connections_open: int = 0
    peak_connections: int = 0
    rate_limited: int = 0
    by_endpoint: Counter[str] = field(default_factory=Counter)
    by_model: Counter[str] = field(default_factory=Counter)
    by_outcome: Counter[str] = field(default_factory=Counter)
    by_body_hash: Counter[str] = field(default_factory=Counter)

    def fresh(self) -> Stats:
        """Zeroed counters that keep the live gauges (requests and connections still open)."""
        return Stats(
            in_flight=self.in_flight,
            peak_in_flight=self.in_flight,
            connections_open=self.connections_open,
            peak_connections=self.connections_open,
        )

    def to_json(self) -> dict[str, Any]:
        """JSON form; every outcome key is present (0 if never seen) so callers can index."""
        outcomes = dict.fromkeys(("ok", *FAULT_NAMES), 0) | self.by_outcome
        return {
            "requests_total": self.requests_total,
            "messages_requests": self.messages_requests,
            "in_flight": self.in_flight,
            "peak_in_flight": self.peak_in_flight,
            "connections_total": self.connections_total,
            "connections_open": self.connections_open,
            "peak_connections": self.peak_connections,
            "rate_limited": self.rate_limited,
            "by_endpoint": dict(self.by_endpoint),
            "by_model": dict(self.by_model),
            "by_outcome": outcomes,
            "by_body_hash": dict(self.by_body_hash),
        }
