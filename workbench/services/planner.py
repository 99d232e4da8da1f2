"""Run planning: expand prompt versions × examples × models × repeats into cells and check them
before anything is paid — missing variables, unknown models, estimated tokens and cost.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from workbench.core.errors import BadInput
from workbench.core.hashing import canonical_json
from workbench.core.models import PromptVersion
from workbench.core.records import CellSpec
from workbench.core.templates import check
from workbench.inference.echo import estimate_tokens
from workbench.services.file_source import project_file_source
from workbench.services.model_catalog import ModelCatalog
from workbench.services.pricing import PriceTable
from workbench.services.rendering import missing_files, render_request, request_texts
from workbench.storage.project import Project

# Expected output length for estimates: the real length is unknown before the call, so assume a
# typical answer, capped by max_tokens. The plan also reports the worst case (max_tokens).
EXPECTED_OUTPUT_TOKENS = 400


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
    model: str
    cells: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    max_output_tokens: int = 0
    cost_usd: float | None = 0.0
    known_price: bool = True


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

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def estimated_cost(self) -> float | None:
        """Total estimate in USD; None when any model's price is unknown."""
        costs = [e.cost_usd for e in self.estimates.values()]
        return None if any(c is None for c in costs) else sum(c or 0.0 for c in costs)

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
            "token_source": self.token_source,
            "estimates": {
                m: {
                    "cells": e.cells,
                    "input_tokens": e.input_tokens,
                    "output_tokens": e.output_tokens,
                    "max_output_tokens": e.max_output_tokens,
                    "cost_usd": e.cost_usd,
                }
                for m, e in self.estimates.items()
            },
            "warnings": self.warnings,
        }


# A rough input-token guess per image or document block until count_tokens replaces it
# (the docs give about 1 600 tokens for a 1.15-megapixel image).
FILE_BLOCK_TOKENS = 1600


def _file_blocks(messages: list[dict[str, Any]]) -> int:
    return sum(
        1
        for m in messages
        if isinstance(m["content"], list)
        for b in m["content"]
        if b["type"] in ("image", "document")
    )


def parse_prompt_ref(ref: str) -> tuple[str, str | None]:
    """``name``, ``name@3``, ``name@v3`` or ``name@production`` -> (name, ref or None)."""
    name, _, version = ref.partition("@")
    if not name:
        raise BadInput(
            f"'{ref}' is not a prompt reference", field="--prompt", hint="Use NAME[@VER|@LABEL]."
        )
    if version.lower().startswith("v") and version[1:].isdigit():
        version = version[1:]
    return name, version or None


def resolve_versions(project: Project, refs: list[str]) -> list[VersionRef]:
    out = []
    for ref in refs:
        name, version = parse_prompt_ref(ref)
        resolved = project.prompts.resolve(name, version)
        out.append(
            VersionRef(name, resolved, project.prompts.version_row_id(name, resolved.version))
        )
    return out


def make_plan(
    project: Project,
    *,
    prompts: list[str],
    dataset: str,
    models: list[str] | None = None,
    tags: list[str] | None = None,
    repeats: int = 1,
    catalog: ModelCatalog | None = None,
    prices: PriceTable | None = None,
    today: dt.date | None = None,
) -> RunPlan:
    """Expand and validate a run. Never calls a model; problems are listed, not raised."""
    if repeats < 1:
        raise BadInput("repeats must be at least 1", field="--repeat")
    versions = resolve_versions(project, prompts)
    examples = project.datasets.get_with_ids(dataset)
    wanted_tags = set(tags or [])
    if wanted_tags:
        examples = [(i, e) for i, e in examples if wanted_tags & set(e.tags)]
    plan = RunPlan(versions, dataset, sorted(wanted_tags), [], repeats, [])
    if not examples:
        plan.problems.append(
            f"dataset '{dataset}' has no examples"
            + (f" tagged {', '.join(sorted(wanted_tags))}" if wanted_tags else "")
        )
    model_list = list(dict.fromkeys(models or [v.version.params.model for v in versions]))
    plan.models = model_list
    today = today or dt.date.today()
    for model in model_list:
        plan.estimates[model] = ModelEstimate(model)
        if catalog is not None and not catalog.is_known(model):
            plan.warnings.append(
                f"model '{model}' is not in the model list; it will be sent as written"
            )
        if prices is not None and prices.lookup(model, today) is None:
            plan.warnings.append(f"no price for '{model}': its cost will show as unknown")

    files = project_file_source(project)
    for ref in versions:
        content = ref.version.content()
        for position, (example_id, example) in enumerate(examples):
            result = check(content.texts(), example.vars)
            # Image and document variables are not in the texts; they must be there too.
            missing = result.missing + [
                name for name in content.file_variables() if name not in example.vars
            ]
            if missing:
                plan.problems.append(
                    f"{ref.label}, example #{example_id} (row {position + 1}): missing variable(s) "
                    f"{', '.join(missing)}"
                )
                continue
            lost = missing_files(content, example.vars, files)
            if lost:
                plan.problems.append(
                    f"{ref.label}, example #{example_id} (row {position + 1}): missing file(s) "
                    f"{', '.join(lost)}"
                )
                continue
            for model in model_list:
                accepted = catalog.accepted_params(model, content.params) if catalog else None
                rendered = render_request(
                    content,
                    example.vars,
                    model=model,
                    accepted=accepted,
                    thinking=catalog.accepted_thinking(model, content) if catalog else None,
                    files=files,
                )
                for reason in rendered.dropped:
                    if reason not in plan.warnings:
                        plan.warnings.append(reason)
                tokens_in = sum(estimate_tokens(t) for t in request_texts(rendered.request))
                tokens_in += FILE_BLOCK_TOKENS * _file_blocks(rendered.request.messages)
                tokens_out = min(EXPECTED_OUTPUT_TOKENS, content.params.max_tokens)
                est = plan.estimates[model]
                for repeat in range(repeats):
                    plan.cells.append(
                        CellSpec(
                            ref.row_id, example_id, dict(example.vars), model, repeat, position
                        )
                    )
                    est.cells += 1
                    est.input_tokens += tokens_in
                    est.output_tokens += tokens_out
                    est.max_output_tokens += content.params.max_tokens
    for est in plan.estimates.values():
        est.cost_usd = (
            prices.estimate_cost(est.model, est.input_tokens, est.output_tokens, today)
            if prices is not None
            else None
        )
        est.known_price = est.cost_usd is not None
    return plan


async def count_input_tokens(
    project: Project,
    plan: RunPlan,
    provider: Any,
    *,
    catalog: ModelCatalog | None = None,
    prices: PriceTable | None = None,
    max_requests: int = 200,
    concurrency: int = 8,
    today: dt.date | None = None,
) -> bool:
    """Replace the heuristic input-token estimates with the provider's own count (count_tokens).

    Distinct requests are counted once each; beyond `max_requests`, an evenly spread sample is
    counted and scaled. Returns False (estimates unchanged) when the provider cannot count.
    """
    contents = {v.row_id: v.version.content() for v in plan.versions}
    files = project_file_source(project)
    distinct: dict[tuple[int, str, str], Any] = {}
    for cell in plan.cells:
        key = (cell.version_id, cell.model, canonical_vars(cell.example_vars))
        if key not in distinct:
            content = contents[cell.version_id]
            accepted = catalog.accepted_params(cell.model, content.params) if catalog else None
            distinct[key] = render_request(
                content,
                cell.example_vars,
                model=cell.model,
                accepted=accepted,
                thinking=catalog.accepted_thinking(cell.model, content) if catalog else None,
                files=files,
            ).request
    keys = list(distinct)
    step = max(1, len(keys) // max_requests)
    sample = keys[::step][:max_requests]
    gate = asyncio.Semaphore(concurrency)

    async def count(key: tuple[int, str, str]) -> int | None:
        async with gate:
            result = await provider.count_tokens(distinct[key])
            return int(result) if result is not None else None

    counted = await asyncio.gather(*(count(k) for k in sample))
    if not counted or any(c is None for c in counted):
        return False
    per_model: dict[str, list[int]] = {}
    for key, tokens in zip(sample, counted, strict=True):
        per_model.setdefault(key[1], []).append(int(tokens or 0))
    for model, est in plan.estimates.items():
        values = per_model.get(model)
        if values:
            est.input_tokens = round(sum(values) / len(values) * est.cells)
            est.cost_usd = (
                prices.estimate_cost(
                    model, est.input_tokens, est.output_tokens, today or dt.date.today()
                )
                if prices is not None
                else None
            )
            est.known_price = est.cost_usd is not None
    plan.token_source = "count_tokens" if step == 1 else "count_tokens (sampled)"
    return True


def canonical_vars(values: dict[str, str]) -> str:
    return canonical_json(values)
