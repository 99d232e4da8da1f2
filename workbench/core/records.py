"""Plain records of runs, calls and their attempts as they cross from the providers and the run
engine to storage.

Dataclasses, not pydantic: a run writes thousands of them and their fields are already checked by
whoever builds them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

RUN_STATUSES = ("running", "done", "cancelled", "interrupted", "failed")
CELL_STATUSES = ("pending", "done", "error", "cancelled")


@dataclass(slots=True)
class CellSpec:
    """One planned cell: a prompt version × example × model × repeat."""

    version_id: int
    example_id: int | None
    example_vars: dict[str, str]
    model: str
    repeat: int
    position: int


@dataclass(slots=True)
class Cell:
    """A stored cell of a run."""

    id: int
    run_id: int
    version_id: int
    example_id: int | None
    example_vars: dict[str, str]
    model: str
    repeat: int
    position: int
    status: str
    call_id: int | None = None


@dataclass(slots=True)
class Attempt:
    """One HTTP attempt of a call, successful or not.

    :param number: 1-based attempt number
    :param request_id: the API's ``request-id`` header, when a response arrived
    :param status: HTTP status, or None when no response arrived (timeout, reset)
    :param error_type: one of ERROR_TYPES, None for the successful attempt
    :param error_message: one sentence built from status, type and the API's message
    :param started_at: wall clock (epoch seconds) when the attempt began
    :param duration_ms: how long the attempt took
    :param retry_after_s: the wait the server asked for (retry-after headers), if any
    :param backoff_s: the wait actually slept before the next attempt, None if none followed
    """

    number: int
    request_id: str | None = None
    status: int | None = None
    error_type: str | None = None
    error_message: str | None = None
    started_at: float = 0.0
    duration_ms: float = 0.0
    retry_after_s: float | None = None
    backoff_s: float | None = None


@dataclass(slots=True)
class CallRecord:
    """Everything logged for one finished call (one row of `calls` plus its attempts)."""

    model: str
    request: dict[str, Any]
    request_hash: str
    started_at: float
    finished_at: float
    output: str = ""
    stop_reason: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_tokens: int | None = None
    cache_read_tokens: int | None = None
    cost_usd: float | None = None
    latency_ms: float | None = None
    ttft_ms: float | None = None
    total_ms: float | None = None
    error_type: str | None = None
    error_message: str | None = None
    partial_text: str | None = None
    request_id: str | None = None
    cached_from: int | None = None
    synthetic: bool = False
    source: str = "run"
    run_id: int | None = None
    cell_id: int | None = None
    version_id: int | None = None
    prompt_name: str | None = None
    prompt_version: int | None = None
    user_id: str | None = None
    feedback: int | None = None
    attempts: list[Attempt] = field(default_factory=list)
    details: dict[str, Any] | None = None
    """``tool_calls`` (id, name, input), ``thinking`` and ``thinking_tokens``, when any."""

    @property
    def ok(self) -> bool:
        return self.error_type is None


# -- what storage reads back: decoded once (JSON columns parsed, flags as bool) ----------------


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One stored run: its plan and totals as dicts."""

    id: int
    kind: str  # run | eval | import
    status: str  # one of RUN_STATUSES
    status_reason: str | None
    provider: str
    synthetic: bool
    plan: dict[str, Any]
    totals: dict[str, Any]
    created_at: str
    finished_at: str | None


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One line of the run list: a run and its cell counts."""

    id: int
    kind: str
    status: str
    status_reason: str | None
    provider: str
    synthetic: bool
    created_at: str
    finished_at: str | None
    cells: int
    done: int | None  # None for a run without cells (an import)
    errors: int | None


@dataclass(frozen=True, slots=True)
class CellWithCall:
    """One cell of a run joined with its call's summary columns (None while it has no call):
    what the run grid, evals and reports read."""

    cell_id: int
    version_id: int
    version: int
    prompt_name: str
    example_id: int | None
    example_vars: dict[str, str]
    model: str
    repeat: int
    position: int
    status: str  # one of CELL_STATUSES
    call_id: int | None = None
    output: str | None = None
    stop_reason: str | None = None
    latency_ms: float | None = None
    ttft_ms: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_tokens: int | None = None
    cache_read_tokens: int | None = None
    cost_usd: float | None = None
    error_type: str | None = None
    error_message: str | None = None
    cached_from: int | None = None
    synthetic: bool = False
    details: dict[str, Any] | None = None
    """The call's tool calls and thinking (see `CallRecord.details`), None if neither."""


@dataclass(frozen=True, slots=True)
class StoredCall:
    """One logged call as read back: the request as it was sent (shared texts expanded) and
    its attempts in order."""

    id: int
    run_id: int | None
    cell_id: int | None
    version_id: int | None
    source: str  # run | import | judge
    model: str
    request: Any  # a dict as logged (shared texts put back)
    request_hash: str
    output: str
    stop_reason: str | None
    input_tokens: int | None
    output_tokens: int | None
    cache_creation_tokens: int | None
    cache_read_tokens: int | None
    cost_usd: float | None
    latency_ms: float | None
    ttft_ms: float | None
    total_ms: float | None
    error_type: str | None
    error_message: str | None
    partial_text: str | None
    request_id: str | None
    cached_from: int | None
    synthetic: bool
    started_at: float
    finished_at: float
    prompt_name: str | None
    prompt_version: int | None
    user_id: str | None
    feedback: int | None
    attempts: list[Attempt] = field(default_factory=list)
    details: dict[str, Any] | None = None
    """The call's tool calls and thinking (see `CallRecord.details`), None if neither."""


@dataclass(frozen=True, slots=True)
class LabelledCall:
    """A call with a person's label: its prompt version, model, variables, output and tags."""

    call_id: int
    run_id: int | None
    prompt: str | None
    version: int | None
    model: str
    example_id: int | None
    vars: dict[str, Any]
    output: str
    error_type: str | None
    latency_ms: float | None
    cost_usd: float | None
    verdict: str | None  # pass | fail
    rating: int | None
    note: str
    updated_at: str
    tags: list[str]


@dataclass(frozen=True, slots=True)
class ScoredCall:
    """One scored call: its version, model, example, repeat and whether every expectation with a
    weight above 0 passed."""

    call_id: int
    run_id: int | None
    version_id: int | None
    prompt_name: str | None
    version: int | None
    model: str
    example_id: int | None
    repeat: int | None
    position: int | None
    error_type: str | None
    finished_at: float
    expectations: int
    passed: bool
