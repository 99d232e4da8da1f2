"""The regression gate of a scheduled eval: compare this run's pass rates with a baseline report.

The baseline is the ``--json`` report of the last production run (docs/ci.md keeps it between
weekly runs). A (prompt, model) regresses when its pass rate is more than `max_drop` below the
baseline's for the same prompt name and model (the version may differ: the production label
moves). Groups the baseline does not have are not compared. The allowed drop is, unless given,
the prompt's own production alert threshold `alerts.eval_pass_rate_drop` (default 0.05).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.core.errors import BadInput
from workbench.core.models import ProductionSettings
from workbench.services.evals import EvalReport
from workbench.storage.project import Project

DEFAULT_MAX_DROP = 0.05


@dataclass(frozen=True)
class Drop:
    """A (prompt, model) whose pass rate fell below the baseline's by more than allowed."""

    prompt: str
    model: str
    baseline: float
    current: float
    max_drop: float

    def describe(self) -> str:
        points = (self.baseline - self.current) * 100
        return (
            f"REGRESSION {self.prompt} {self.model}: pass rate {self.baseline:.1%} -> "
            f"{self.current:.1%} (down {points:.1f} points; at most {self.max_drop * 100:.1f} allowed)"
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


def project_max_drops(project: Project, prompts: list[str]) -> dict[str, float]:
    """Prompt name -> its production alert threshold for an eval pass-rate drop."""
    out = {}
    for ref in prompts:
        name = ref.partition("@")[0]
        settings = project.prompts.production_settings(name) or ProductionSettings()
        out[name] = settings.alerts.eval_pass_rate_drop
    return out


def pass_rate_drops(
    report: EvalReport,
    baseline: dict[tuple[str, str], float],
    max_drop: float | Mapping[str, float],
) -> list[Drop]:
    """Every group of `report` more than its allowed drop below its baseline pass rate.

    :param max_drop: one limit for all, or a limit per prompt name (`project_max_drops`)
    """
    drops = []
    for group in report.groups:
        before = baseline.get((group.prompt, group.model))
        if before is None or group.pass_rate is None:
            continue
        limit = (
            max_drop
            if isinstance(max_drop, float | int)
            else max_drop.get(group.prompt, DEFAULT_MAX_DROP)
        )
        if before - group.pass_rate > limit + 1e-12:
            drops.append(Drop(group.prompt, group.model, before, group.pass_rate, float(limit)))
    return drops
