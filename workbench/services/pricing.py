"""What a call costs: price rows with effective dates, and the billing rules applied to usage.

Prices are data (resources/prices.yaml, copied into each project). A cost is computed when a
call is logged and stored with it. An unknown model's cost is None ("unknown"), never $0.

Rules, as Anthropic bills them:
- each token kind has its own rate: input, output, cache writes (5-minute or 1-hour TTL) and
  cache reads;
- the Batch API takes `batch_discount` off every token kind;
- long context: when input + cache writes + cache reads exceed the row's threshold, every
  token of that request uses the long rates, and cache rates scale like the input rate.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Literal, Protocol

from workbench.core.errors import BadInput
from workbench.core.models import PriceRow
from workbench.resources import resource_path
from workbench.services.model_list import base_model_id, load_yaml_records

CacheTTL = Literal["5m", "1h"]
CACHE_TTLS: tuple[CacheTTL, ...] = ("5m", "1h")
_PER_TOKEN = Decimal(1_000_000)  # prices are per million tokens


class UsageLike(Protocol):
    """Anything with the token counts of an API response's `usage` (the SDK's object fits)."""

    @property
    def input_tokens(self) -> int | None: ...
    @property
    def output_tokens(self) -> int | None: ...
    @property
    def cache_creation_input_tokens(self) -> int | None: ...
    @property
    def cache_read_input_tokens(self) -> int | None: ...


@dataclass(frozen=True)
class Usage:
    """Token counts of one call (or an estimate of one)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    def __post_init__(self) -> None:
        for name in (
            "input_tokens",
            "output_tokens",
            "cache_creation_input_tokens",
            "cache_read_input_tokens",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} cannot be negative")


def _count(usage: object, name: str) -> int:
    # The API omits or nulls counts that do not apply (e.g. no caching): those are zero.
    value = getattr(usage, name, None)
    if isinstance(usage, Mapping):
        value = usage.get(name)
    count = int(value or 0)
    if count < 0:
        raise ValueError(f"{name} cannot be negative")
    return count


def _cache_writes(usage: object, total: int, cache_ttl: CacheTTL) -> tuple[int, int]:
    """Cache-write tokens as (5-minute, 1-hour).

    The API's `usage.cache_creation` breakdown, when present, says which TTL each token used;
    tokens it does not account for are billed at `cache_ttl`.
    """
    if isinstance(usage, Mapping):
        breakdown = usage.get("cache_creation")
    else:
        breakdown = getattr(usage, "cache_creation", None)
    five = _count(breakdown, "ephemeral_5m_input_tokens") if breakdown is not None else 0
    hour = _count(breakdown, "ephemeral_1h_input_tokens") if breakdown is not None else 0
    rest = max(total - five - hour, 0)
    return (five + rest, hour) if cache_ttl == "5m" else (five, hour + rest)


def _rate(value: float | None) -> Decimal:
    # Through str() so 0.1 is the decimal 0.1, not the nearest binary fraction.
    return Decimal(str(value or 0))


def is_long_context(usage: UsageLike, row: PriceRow) -> bool:
    """Whether this request's prompt is over the row's long-context threshold."""
    if row.long_context_threshold is None:
        return False
    prompt = (
        _count(usage, "input_tokens")
        + _count(usage, "cache_creation_input_tokens")
        + _count(usage, "cache_read_input_tokens")
    )
    return prompt > row.long_context_threshold


def compute_cost(
    usage: UsageLike, row: PriceRow, *, batch: bool = False, cache_ttl: CacheTTL = "5m"
) -> Decimal:
    """USD cost of one request's `usage` at the prices in `row` (exact decimal)."""
    if cache_ttl not in CACHE_TTLS:
        raise ValueError(f"cache_ttl must be one of {CACHE_TTLS}, not {cache_ttl!r}")
    input_tokens = _count(usage, "input_tokens")
    output_tokens = _count(usage, "output_tokens")
    written = _count(usage, "cache_creation_input_tokens")
    read = _count(usage, "cache_read_input_tokens")
    written_5m, written_1h = _cache_writes(usage, written, cache_ttl)

    rate_in, rate_out = _rate(row.input), _rate(row.output)
    rate_5m, rate_1h = _rate(row.cache_write_5m), _rate(row.cache_write_1h)
    rate_read = _rate(row.cache_read)
    if is_long_context(usage, row):
        long_in = _rate(row.long_context_input)
        factor = long_in / rate_in if rate_in else Decimal(1)
        rate_in, rate_out = long_in, _rate(row.long_context_output)
        rate_5m, rate_1h, rate_read = rate_5m * factor, rate_1h * factor, rate_read * factor

    total = (
        input_tokens * rate_in
        + output_tokens * rate_out
        + written_5m * rate_5m
        + written_1h * rate_1h
        + read * rate_read
    ) / _PER_TOKEN
    if batch:
        total *= 1 - _rate(row.batch_discount)
    return total


# --- the price table ----------------------------------------------------------------------------


def _check_row(row: PriceRow, *, source: str | None, field: str) -> None:
    if row.long_context_threshold is not None and (
        row.long_context_input is None or row.long_context_output is None
    ):
        raise BadInput(
            f"model '{row.model}' has a long_context_threshold but no long-context rates.",
            source=source,
            field=field,
            hint="Add long_context_input and long_context_output, or remove the threshold.",
        )


def _as_date(at: dt.date | dt.datetime) -> dt.date:
    # A datetime is a date subclass but does not compare with one; calls are logged in UTC.
    if isinstance(at, dt.datetime):
        if at.tzinfo is not None:
            at = at.astimezone(dt.UTC)
        return at.date()
    return at


class PriceTable:
    """Price rows by model; `lookup` picks the row in force on a date."""

    def __init__(self, rows: Iterable[PriceRow], *, source: str | None = None) -> None:
        by_model: dict[str, list[PriceRow]] = {}
        for index, row in enumerate(rows):
            _check_row(row, source=source, field=f"prices[{index}]")
            dates = [r.effective_from for r in by_model.get(row.model, [])]
            if row.effective_from in dates:
                raise BadInput(
                    f"model '{row.model}' has two prices from {row.effective_from}.",
                    source=source,
                    field=f"prices[{index}].effective_from",
                    hint="Keep one row per model and date.",
                )
            by_model.setdefault(row.model, []).append(row)
        self._rows = {m: sorted(rs, key=lambda r: r.effective_from) for m, rs in by_model.items()}
        self._dates = {m: [r.effective_from for r in rs] for m, rs in self._rows.items()}

    @classmethod
    def default(cls) -> PriceTable:
        """The built-in table from resources/prices.yaml."""
        return cls(load_default_prices())

    def rows(self) -> list[PriceRow]:
        return [row for rows in self._rows.values() for row in rows]

    def models(self) -> list[str]:
        return sorted(self._rows)

    def _resolve(self, model: str) -> str | None:
        if model in self._rows:
            return model
        base = base_model_id(model)
        return base if base in self._rows else None

    def lookup(self, model: str, at: dt.date | dt.datetime) -> PriceRow | None:
        """The row with the latest effective_from on or before `at`; None if there is none."""
        key = self._resolve(model)
        if key is None:
            return None
        index = bisect.bisect_right(self._dates[key], _as_date(at))
        return self._rows[key][index - 1] if index else None

    def cost_for(
        self,
        model: str,
        usage: UsageLike,
        at: dt.date | dt.datetime,
        *,
        batch: bool = False,
        cache_ttl: CacheTTL = "5m",
    ) -> float | None:
        """USD cost of a call made at `at`; None when no price is known (never 0 for that)."""
        row = self.lookup(model, at)
        if row is None:
            return None
        return float(compute_cost(usage, row, batch=batch, cache_ttl=cache_ttl))

    def estimate_cost(
        self,
        model: str,
        input_tokens: int,
        expected_output_tokens: int,
        at: dt.date | dt.datetime | None = None,
        *,
        batch: bool = False,
    ) -> float | None:
        """Preflight estimate for one call (no caching assumed); `at` defaults to today (UTC)."""
        when = at if at is not None else dt.datetime.now(dt.UTC)
        usage = Usage(input_tokens=input_tokens, output_tokens=expected_output_tokens)
        return self.cost_for(model, usage, when, batch=batch)


def load_prices(path: Path) -> list[PriceRow]:
    """Price rows from a prices.yaml-style file, checked as `PriceTable` would check them."""
    rows = load_yaml_records(path, "prices", PriceRow)
    PriceTable(rows, source=str(path))
    return rows


@functools.cache
def _default_prices() -> tuple[PriceRow, ...]:
    return tuple(load_prices(resource_path("prices.yaml")))


def load_default_prices() -> list[PriceRow]:
    """The built-in price rows (fresh copies, so callers may modify them)."""
    return [row.model_copy(deep=True) for row in _default_prices()]
