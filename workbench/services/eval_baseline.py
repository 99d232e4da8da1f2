"""The regression gate of a scheduled eval: compare this run's pass rates with a baseline report.

The baseline is the ``--json`` report of the last production run (docs/ci.md keeps it between
weekly runs). A (prompt, model) regresses when its pass rate is more than `max_drop` below the
baseline's for the same prompt name and model (the version may differ: the production label
moves). Groups the baseline does not have are not compared.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.core.errors import BadInput
from workbench.services.evals import EvalReport

DEFAULT_MAX_DROP = 0.05


@dataclass(frozen=True)
class Drop:
    """A (prompt, model) whose pass rate fell below the baseline's by more than allowed."""

    prompt: str
    model: str
    baseline: float
    current: float

    def describe(self, max_drop: float) -> str:
        points = (self.baseline - self.current) * 100
        return (
            f"REGRESSION {self.prompt} {self.model}: pass rate {self.baseline:.1%} -> "
            f"{self.current:.1%} (down {points:.1f} points; at most {max_drop * 100:.1f} allowed)"
        )


def load_baseline(path: Path) -> dict[tuple[str, str], float]:
    """(prompt, model) -> pass rate from a ``workbench eval --json`` report."""
    try:
        data: Any = json.loads(Path(path).read_text(encoding="utf-8"))
        groups = data["groups"]
        return {
            (str(g["prompt"]), str(g["model"])): float(g["pass_rate"])
            for g in groups
            if g.get("pass_rate") is not None
        }
    except OSError as exc:
        raise BadInput(
            f"cannot read the baseline report ({exc.strerror or exc})",
            source=str(path),
            hint="Pass the --json report of the last production run.",
        ) from None
    except (ValueError, KeyError, TypeError):
        raise BadInput(
            "the baseline is not a `workbench eval --json` report (no groups with pass rates)",
            source=str(path),
            hint="Write it with `workbench eval ... --json FILE`.",
        ) from None


def pass_rate_drops(
    report: EvalReport, baseline: dict[tuple[str, str], float], max_drop: float
) -> list[Drop]:
    """Every group of `report` more than `max_drop` below its baseline pass rate."""
    drops = []
    for group in report.groups:
        before = baseline.get((group.prompt, group.model))
        if before is None or group.pass_rate is None:
            continue
        if before - group.pass_rate > max_drop + 1e-12:
            drops.append(Drop(group.prompt, group.model, before, group.pass_rate))
    return drops
