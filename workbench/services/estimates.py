"""How long answers will be and what a plan costs, before anything is sent.

Output length comes from the project's own history: the answered, billed calls of the same prompt
content (version hash) on the same model, median as the expectation and p90 as the high end.
Without history a prior stands in: `PRIOR_OUTPUT_TOKENS` (capped by max_tokens) expected and
max_tokens as the high end. The worst case always assumes every call writes all of max_tokens.

Costs are summed call by call (grouped by identical token counts), so a long-context price,
which depends on one request's size, is applied only where one request crosses its threshold.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from workbench.services.pricing import PriceTable

PRIOR_OUTPUT_TOKENS = 400
"""Expected answer length when the project has no history for a prompt version and model."""
HISTORY_CALLS = 500
"""The newest calls of a version and model that an estimate looks at."""


@dataclass(frozen=True, slots=True)
class OutputGuess:
    """Expected, high (p90) and worst-case (max_tokens) output tokens of one call."""

    expected: int
    high: int
    worst: int
    history: int
    """How many earlier calls it is based on (0: the prior)."""


def _quantile(sorted_values: Sequence[int], q: float) -> float:
    # Linear interpolation between closest ranks (numpy's default), without numpy.
    position = (len(sorted_values) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def guess_output(history: Sequence[int], max_tokens: int) -> OutputGuess:
    """Output tokens to expect from `history` (earlier calls' output tokens) or the prior."""
    worst = max(0, max_tokens)
    if not history:
        return OutputGuess(min(PRIOR_OUTPUT_TOKENS, worst), worst, worst, 0)
    values = sorted(history)
    expected = min(worst, round(_quantile(values, 0.5)))
    high = min(worst, max(expected, round(_quantile(values, 0.9))))
    return OutputGuess(expected, high, worst, len(values))


CallShape = tuple[int, int, int, int]
"""(input tokens, expected output, high output, worst output) of one planned call."""


@dataclass(frozen=True, slots=True)
class CostRange:
    """Expected, high and worst-case USD; None where the model has no price."""

    expected: float | None
    high: float | None
    worst: float | None


def price_calls(
    prices: PriceTable | None, model: str, calls: Counter[CallShape], today: dt.date
) -> CostRange:
    """The cost range of `calls` (shape -> how many) on `model`."""
    if prices is None or prices.lookup(model, today) is None:
        return CostRange(None, None, None)
    totals = [0.0, 0.0, 0.0]
    per_call: dict[tuple[int, int], float] = {}
    for (tokens_in, *outputs), count in calls.items():
        for index, tokens_out in enumerate(outputs):
            key = (tokens_in, tokens_out)
            if key not in per_call:
                per_call[key] = prices.estimate_cost(model, tokens_in, tokens_out, today) or 0.0
            totals[index] += per_call[key] * count
    return CostRange(*totals)
