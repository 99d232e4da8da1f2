"""Configuration of the fake Anthropic server: latency, scripted faults and the model list.

Everything here is plain data so the same options can be passed to the in-process
constructor, the command line (``--config``) and the ``POST /config`` endpoint.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from workbench.testing.fake_scale_config import BatchSettings, RateLimit, rate_limits_from

# Error faults answered with an HTTP status and the real API's error JSON:
# fault name -> (status, error type, default message).
HTTP_FAULTS: dict[str, tuple[int, str, str]] = {
    "400": (400, "invalid_request_error", "Invalid request (scripted fault)"),
    "401": (401, "authentication_error", "invalid x-api-key"),
    "403": (403, "permission_error", "Your API key does not have permission to use this resource"),
    "404": (404, "not_found_error", "Not found (scripted fault)"),
    "413": (413, "request_too_large", "Request exceeds the maximum allowed number of bytes"),
    "429": (429, "rate_limit_error", "Number of requests has exceeded your rate limit"),
    "500": (500, "api_error", "Internal server error"),
    "504": (504, "timeout_error", "Request timed out"),
    "529": (529, "overloaded_error", "Overloaded"),
}
# Faults that misbehave at the transport or stream level instead of returning an error status.
TRANSPORT_FAULTS = ("reset", "hang", "midstream_error", "malformed")
FAULT_NAMES = (*HTTP_FAULTS, *TRANSPORT_FAULTS)

_FAULT_KEYS = {
    "fault",
    "request_number",
    "probability",
    "model",
    "retry_after",
    "retry_after_ms",
    "should_retry",
    "after_deltas",
    "hang_s",
    "delay_ms",
    "message",
}


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """One scripted fault and the rule deciding which requests it hits.

    A spec with ``request_number`` hits those 1-based ``/v1/messages`` request numbers; one
    with ``probability`` hits each request with that chance (seeded RNG); one with neither
    hits every request. ``model`` narrows any rule to requests for that model.
    """

    fault: str
    request_number: frozenset[int] | None = None
    probability: float | None = None
    model: str | None = None
    retry_after: float | None = None
    retry_after_ms: float | None = None
    should_retry: bool | None = None
    after_deltas: int = 2
    hang_s: float | None = None
    delay_ms: float = 0.0
    message: str | None = None

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> FaultSpec:
        """Build a spec from JSON-like data, rejecting unknown keys and fault names."""
        unknown = set(raw) - _FAULT_KEYS
        if unknown:
            raise ValueError(f"unknown fault spec keys: {sorted(unknown)}")
        fault = str(raw.get("fault", ""))
        if fault not in FAULT_NAMES:
            raise ValueError(f"unknown fault {fault!r}; expected one of {list(FAULT_NAMES)}")
        numbers = raw.get("request_number")
        if numbers is not None:
            numbers = frozenset([numbers] if isinstance(numbers, int) else numbers)
        probability = raw.get("probability")
        if probability is not None and not 0.0 <= float(probability) <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        return cls(
            fault=fault,
            request_number=numbers,
            probability=None if probability is None else float(probability),
            model=raw.get("model"),
            retry_after=_opt_float(raw.get("retry_after")),
            retry_after_ms=_opt_float(raw.get("retry_after_ms")),
            should_retry=raw.get("should_retry"),
            after_deltas=int(raw.get("after_deltas", 2)),
            hang_s=_opt_float(raw.get("hang_s")),
            delay_ms=float(raw.get("delay_ms", 0.0)),
            message=raw.get("message"),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form, omitting unset options."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None or value == f.default:
                continue
            out[f.name] = sorted(value) if isinstance(value, frozenset) else value
        return out


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One entry of ``GET /v1/models``."""

    id: str
    display_name: str
    created_at: str
    max_input_tokens: int = 200_000
    max_tokens: int = 64_000

    @classmethod
    def from_raw(cls, raw: str | Mapping[str, Any], index: int = 0) -> ModelInfo:
        """Accept a bare model id or a dict with any of the fields."""
        if isinstance(raw, str):
            raw = {"id": raw}
        model_id = str(raw["id"])
        return cls(
            id=model_id,
            display_name=str(raw.get("display_name") or display_name_for(model_id)),
            created_at=str(raw.get("created_at") or f"2026-0{1 + index % 9}-15T00:00:00Z"),
            max_input_tokens=int(raw.get("max_input_tokens", 200_000)),
            max_tokens=int(raw.get("max_tokens", 64_000)),
        )

    def to_api(self) -> dict[str, Any]:
        """The Models API JSON object for this model."""
        return {
            "type": "model",
            "id": self.id,
            "display_name": self.display_name,
            "created_at": self.created_at,
            "lifecycle": "active",
            "max_input_tokens": self.max_input_tokens,
            "max_tokens": self.max_tokens,
        }


def display_name_for(model_id: str) -> str:
    """Derive "Claude Haiku 5.5" from "claude-haiku-5-5" (numbers become a dotted version)."""
    words: list[str] = []
    numbers: list[str] = []
    for part in model_id.split("-"):
        (numbers if part.isdigit() else words).append(part)
    name = " ".join(w.capitalize() for w in words)
    return f"{name} {'.'.join(numbers)}" if numbers else name


DEFAULT_MODELS: tuple[ModelInfo, ...] = (
    ModelInfo("claude-haiku-5-5", "Claude Haiku 5.5", "2026-03-01T00:00:00Z", 200_000, 64_000),
    ModelInfo("claude-sonnet-5-5", "Claude Sonnet 5.5", "2026-03-02T00:00:00Z", 1_000_000, 64_000),
    ModelInfo("claude-opus-5-5", "Claude Opus 5.5", "2026-03-03T00:00:00Z", 200_000, 32_000),
    ModelInfo("claude-fable-5-1", "Claude Fable 5.1", "2026-01-10T00:00:00Z", 200_000, 32_000),
)


@dataclass(frozen=True, slots=True)
class Latency:
    """Simulated timing: time to first token and the gap between streamed tokens."""

    ttft_ms: float = 0.0
    token_interval_ms: float = 0.0

    def total_s(self, tokens: int) -> float:
        """Seconds a non-streaming call takes for ``tokens`` output tokens."""
        return (self.ttft_ms + tokens * self.token_interval_ms) / 1000.0


@dataclass(frozen=True, slots=True)
class FakeConfig:
    """All server options. Immutable: reconfiguring swaps in a new object atomically."""

    ttft_ms: float = 0.0
    token_interval_ms: float = 0.0
    model_latency: Mapping[str, Latency] = field(default_factory=dict)
    faults: tuple[FaultSpec, ...] = ()
    seed: int = 0
    models: tuple[ModelInfo, ...] = DEFAULT_MODELS
    strict_models: bool = False
    max_hang_s: float = 30.0
    track_body_hashes: bool = True
    batches: BatchSettings = BatchSettings()
    rate_limits: Mapping[str, RateLimit] = field(default_factory=dict)

    def latency_for(self, model: str) -> Latency:
        """Per-model latency if configured, else the global one."""
        found = self.model_latency.get(model)
        return found or Latency(self.ttft_ms, self.token_interval_ms)

    def with_options(self, options: Mapping[str, Any]) -> FakeConfig:
        """Return a copy with ``options`` applied (same names as the constructor/JSON).

        ``latency_ms`` is a shortcut for ``ttft_ms=latency_ms, token_interval_ms=0``.
        """
        known = {f.name for f in dataclasses.fields(self)} | {"latency_ms"}
        unknown = set(options) - known
        if unknown:
            raise ValueError(f"unknown config options: {sorted(unknown)}")
        changes: dict[str, Any] = {}
        if options.get("latency_ms") is not None:
            changes.update(ttft_ms=float(options["latency_ms"]), token_interval_ms=0.0)
        for name, value in options.items():
            if name != "latency_ms":
                changes[name] = _coerce_option(name, value)
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (returned by ``GET /config``)."""
        return {
            "ttft_ms": self.ttft_ms,
            "token_interval_ms": self.token_interval_ms,
            "model_latency": {m: dataclasses.asdict(lat) for m, lat in self.model_latency.items()},
            "faults": [f.to_dict() for f in self.faults],
            "seed": self.seed,
            "models": [m.to_api() for m in self.models],
            "strict_models": self.strict_models,
            "max_hang_s": self.max_hang_s,
            "track_body_hashes": self.track_body_hashes,
            "batches": self.batches.to_dict(),
            "rate_limits": {m: dataclasses.asdict(r) for m, r in self.rate_limits.items()},
        }


def _coerce_option(name: str, value: Any) -> Any:
    """Turn JSON-like option values into the config's typed fields."""
    if name == "faults":
        return tuple(f if isinstance(f, FaultSpec) else FaultSpec.from_dict(f) for f in value)
    if name == "models":
        return tuple(
            m if isinstance(m, ModelInfo) else ModelInfo.from_raw(m, i) for i, m in enumerate(value)
        )
    if name == "model_latency":
        return {m: lat if isinstance(lat, Latency) else Latency(**lat) for m, lat in value.items()}
    if name in ("ttft_ms", "token_interval_ms", "max_hang_s"):
        number = float(value)
        if not math.isfinite(number) or number < 0:
            raise ValueError(f"{name} must be a finite non-negative number")
        return number
    if name == "seed":
        return int(value)
    if name == "batches":
        return BatchSettings.from_dict(value)
    if name == "rate_limits":
        return rate_limits_from(value)
    return bool(value)


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)
