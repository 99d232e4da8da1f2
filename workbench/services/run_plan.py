"""What a run plan is: the versions, cells and per-model estimates `services.planner` computes
before anything is paid (types only; the planning itself is in `planner`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from workbench.core.hashing import canonical_json
from workbench.core.models import PromptVersion
from workbench.core.records import CellSpec
from workbench.services.estimates import PRIOR_OUTPUT_TOKENS, OutputGuess
from workbench.services.model_list import ModelCatalog
from workbench.services.pricing import PriceTable

EXPECTED_OUTPUT_TOKENS = PRIOR_OUTPUT_TOKENS  # the prior, for views that explain estimates
BudgetBasis = Literal["worst", "expected"]
BUDGET_BASES: tuple[BudgetBasis, ...] = ("worst", "expected")
InputKey = tuple[int, str, str]
"""(version row id, model, canonical example vars): one distinct request of a plan."""


@dataclass(slots=True)
class VersionRef:
    prompt: str
    version: PromptVersion
    row_id: int

    @property
    def label(self) -> str:
        return f"{self.prompt}@v{self.version.version}"


@dataclass(slots=True)
class ModelEstimate:
    """One model's share of a plan: tokens (expected, high, worst) and the cost of each."""

    model: str
    cells: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    """Expected output tokens (history median, else the prior)."""
    output_tokens_high: int = 0
    """p90 of the history (else max_tokens)."""
    max_output_tokens: int = 0
    cost_usd: float | None = 0.0
    """Expected cost; None when the model has no price."""
    cost_high_usd: float | None = 0.0
    worst_cost_usd: float | None = 0.0
    """The cost if every call wrote all of max_tokens."""
    known_price: bool = True
    history_calls: int = 0
    """Earlier calls the output estimate learned from (0: all from the prior)."""


@dataclass
class RunPlan:
    """Everything a run will do, computed without any paid call."""

    versions: list[VersionRef]
    dataset: str
    tags: list[str]
    models: list[str]
    repeats: int
    cells: list[CellSpec]
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    estimates: dict[str, ModelEstimate] = field(default_factory=dict)
    token_source: str = "heuristic (characters / 4)"
    synthetic: bool = False
    """Planned for an offline provider: nothing is paid, every cost is $0."""
    input_tokens: dict[InputKey, int] = field(default_factory=dict, repr=False)
    """Input tokens of each distinct request."""
    outputs: dict[tuple[int, str], OutputGuess] = field(default_factory=dict, repr=False)
    """Output guess per (version row id, model)."""
    prices: PriceTable | None = field(default=None, repr=False)
    """The price table the plan was costed with (the run is priced with it too)."""
    catalog: ModelCatalog | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems

    def _total(self, name: str) -> float | None:
        costs = [getattr(e, name) for e in self.estimates.values()]
        return None if any(c is None for c in costs) else sum(c or 0.0 for c in costs)

    @property
    def estimated_cost(self) -> float | None:
        """Expected total in USD; None when any model's price is unknown."""
        return self._total("cost_usd")

    @property
    def high_cost(self) -> float | None:
        """Total if answers are as long as the p90 of the history."""
        return self._total("cost_high_usd")

    @property
    def worst_case_cost(self) -> float | None:
        """Total if every call writes all of max_tokens."""
        return self._total("worst_cost_usd")

    def unpriced_models(self) -> list[str]:
        return [m for m, e in self.estimates.items() if not e.known_price]

    def to_dict(self) -> dict[str, Any]:
        return {
            "versions": [
                {"prompt": v.prompt, "version": v.version.version, "version_id": v.row_id}
                for v in self.versions
            ],
            "dataset": self.dataset,
            "tags": self.tags,
            "models": self.models,
            "repeats": self.repeats,
            "cells": len(self.cells),
            "estimated_cost_usd": self.estimated_cost,
            "high_cost_usd": self.high_cost,
            "worst_case_cost_usd": self.worst_case_cost,
            "token_source": self.token_source,
            "synthetic": self.synthetic,
            "estimates": {
                m: {
                    "cells": e.cells,
                    "input_tokens": e.input_tokens,
                    "output_tokens": e.output_tokens,
                    "output_tokens_high": e.output_tokens_high,
                    "max_output_tokens": e.max_output_tokens,
                    "cost_usd": e.cost_usd,
                    "cost_high_usd": e.cost_high_usd,
                    "worst_cost_usd": e.worst_cost_usd,
                    "history_calls": e.history_calls,
                }
                for m, e in self.estimates.items()
            },
            "warnings": self.warnings,
        }


def canonical_vars(values: dict[str, str]) -> str:
    """Example variables as canonical JSON: the identity of a request's variables."""
    return canonical_json(values)
