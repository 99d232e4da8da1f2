"""Fake-server options for scale features: Message Batches and per-model rate limits.

Plain data like ``fake_config``: the same dicts work for the constructor, ``--config`` and
``POST /config``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # fake_config imports this module, so the runtime import waits
    from workbench.testing.fake_config import FaultSpec

# The real API's per-batch limits (Message Batches documentation: 100 000 requests or 256 MB,
# whichever is reached first).
BATCH_MAX_REQUESTS = 100_000
BATCH_MAX_BYTES = 256 * 1024 * 1024
# A real batch expires 24 hours after creation.
BATCH_EXPIRY_S = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class BatchSettings:
    """How the fake processes Message Batches.

    :param processing_s: seconds from creation until every request is processed; requests
        finish evenly spread over that time, so request counts move while it runs
    :param expire_s: seconds after creation at which a batch ends with its unfinished
        requests expired (the real API's 24 hours; set it below ``processing_s`` to test expiry)
    :param cancel_s: seconds a cancelled batch stays ``canceling`` before it ends
    :param faults: per-request errors; a spec's ``request_number`` is the 1-based position of
        the request within its batch, ``probability`` and ``model`` work as for messages; only
        HTTP faults (``"400"``, ``"500"``, ``"529"`` ...) apply, as an ``errored`` result
    :param max_requests: the per-batch request limit (more: 400 at creation)
    :param max_bytes: the per-batch size limit of the creation body (more: 413)
    """

    processing_s: float = 0.0
    expire_s: float = BATCH_EXPIRY_S
    cancel_s: float = 0.0
    faults: tuple[FaultSpec, ...] = ()
    max_requests: int = BATCH_MAX_REQUESTS
    max_bytes: int = BATCH_MAX_BYTES

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | BatchSettings) -> BatchSettings:
        """Build from JSON-like data, rejecting unknown keys and non-HTTP faults."""
        from workbench.testing.fake_config import HTTP_FAULTS, FaultSpec

        if isinstance(raw, BatchSettings):
            return raw
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise ValueError(f"unknown batch options: {sorted(unknown)}")
        faults = tuple(
            f if isinstance(f, FaultSpec) else FaultSpec.from_dict(f) for f in raw.get("faults", ())
        )
        for spec in faults:
            if spec.fault not in HTTP_FAULTS:
                raise ValueError(f"batch faults must be HTTP faults, not {spec.fault!r}")
        return cls(
            processing_s=_seconds("processing_s", raw.get("processing_s", 0.0)),
            expire_s=_seconds("expire_s", raw.get("expire_s", BATCH_EXPIRY_S)),
            cancel_s=_seconds("cancel_s", raw.get("cancel_s", 0.0)),
            faults=faults,
            max_requests=int(raw.get("max_requests", BATCH_MAX_REQUESTS)),
            max_bytes=int(raw.get("max_bytes", BATCH_MAX_BYTES)),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        out = dataclasses.asdict(self)
        out["faults"] = [f.to_dict() for f in self.faults]
        return out


@dataclass(frozen=True, slots=True)
class RateLimit:
    """Limits for one model, each per ``window_s`` (the real API's are per minute).

    None means unlimited. A smaller ``window_s`` scales time down for benchmarks: 1 request
    per 6 s window is the same shape as 10 a minute.
    """

    requests: int | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    window_s: float = 60.0

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | RateLimit) -> RateLimit:
        """Build from ``{"requests": 60, "input_tokens": 40000, "window_s": 60}``."""
        if isinstance(raw, RateLimit):
            return raw
        unknown = set(raw) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown rate limit keys: {sorted(unknown)}")
        window = _seconds("window_s", raw.get("window_s", 60.0))
        if window <= 0:
            raise ValueError("window_s must be positive")
        return cls(
            requests=_opt_count(raw.get("requests")),
            input_tokens=_opt_count(raw.get("input_tokens")),
            output_tokens=_opt_count(raw.get("output_tokens")),
            window_s=window,
        )


def rate_limits_from(raw: Mapping[str, Any]) -> dict[str, RateLimit]:
    """``{model or "*": limits}``; ``"*"`` applies to models without their own entry."""
    return {str(model): RateLimit.from_dict(spec) for model, spec in raw.items()}


def _seconds(name: str, value: Any) -> float:
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{name} must be a finite non-negative number")
    return number


def _opt_count(value: Any) -> int | None:
    if value is None:
        return None
    number = int(value)
    if number < 1:
        raise ValueError("rate limits must be at least 1")
    return number
