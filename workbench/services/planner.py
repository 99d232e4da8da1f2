"""Run planning: expand prompt versions × examples × models × repeats into cells and check them
before anything is paid — missing variables, unknown models, estimated tokens and cost.

Input tokens are estimated from the rendered text (characters / 4) until `count_input_tokens`
asks the API; output tokens come from the project's history (`services.estimates`). Each model's
estimate has an expected, a high (p90) and a worst (max_tokens) cost; `budget_problem` is the one
rule that compares a plan with a budget.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from typing import Any

from workbench.core.errors import BadInput
from workbench.core.records import CellSpec
from workbench.core.templates import check, variables_of
from workbench.inference.echo import estimate_tokens
from workbench.services.estimates import (
    HISTORY_CALLS,
    CallShape,
    guess_output,
    price_calls,
)
from workbench.services.file_source import project_file_source
from workbench.services.line_ranges import line_ranges
from workbench.services.model_list import ModelCatalog
from workbench.services.pricing import PriceTable
from workbench.services.rendering import (
    FileSource,
    missing_files,
    render_request,
    request_texts,
)
from workbench.services.run_plan import (
    BUDGET_BASES,
    EXPECTED_OUTPUT_TOKENS,
    BudgetBasis,
    InputKey,
    ModelEstimate,
    RunPlan,
    VersionRef,
    canonical_vars,
)
from workbench.storage.project import Project

__all__ = [
    "BUDGET_BASES",
    "EXPECTED_OUTPUT_TOKENS",
    "FILE_BLOCK_TOKENS",
    "BudgetBasis",
    "ModelEstimate",
    "RunPlan",
    "VersionRef",
    "budget_problem",
    "canonical_vars",
    "count_input_tokens",
    "make_plan",
    "parse_prompt_ref",
    "resolve_versions",
    "tally",
]


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
    synthetic: bool = False,
    only_with_expectations: bool = False,
) -> RunPlan:
    """Expand and validate a run. Never calls a model; problems are listed, not raised.

    :param synthetic: planned for an offline provider (every cost $0)
    :param only_with_expectations: only the examples that have expectations (an eval)
    """
    if repeats < 1:
        raise BadInput("repeats must be at least 1", field="--repeat")
    versions = resolve_versions(project, prompts)
    examples = project.datasets.get_with_ids(dataset)
    if only_with_expectations:
        examples = [(i, e) for i, e in examples if e.expect]
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
    plan.synthetic = synthetic
    plan.prices, plan.catalog = prices, catalog
    for model in model_list:
        plan.estimates[model] = ModelEstimate(model)
        if catalog is not None and not catalog.is_known(model):
            plan.warnings.append(
                f"model '{model}' is not in the model list; it will be sent as written"
            )
        if not synthetic and prices is not None and prices.lookup(model, today) is None:
            plan.warnings.append(f"no price for '{model}': its cost will show as unknown")

    files = project_file_source(project)
    for ref in versions:
        content = ref.version.content()
        for model in model_list:
            history = project.runs.output_tokens_history(ref.version.hash, model, HISTORY_CALLS)
            plan.outputs[(ref.row_id, model)] = guess_output(history, content.params.max_tokens)
        used = variables_of(content.texts())
        empty_rows: dict[str, list[int]] = {}
        for position, (_, example) in enumerate(examples):
            for name in used:
                if name in example.vars and not str(example.vars[name]).strip():
                    empty_rows.setdefault(name, []).append(position + 1)
        for name, rows in empty_rows.items():
            plan.warnings.append(
                f"{ref.label}: {len(rows)} example(s) have an empty '{name}', which the prompt "
                f"uses (row{'s' if len(rows) != 1 else ''} {line_ranges(rows)})"
            )
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
                key = (ref.row_id, model, canonical_vars(example.vars))
                plan.input_tokens[key] = sum(
                    estimate_tokens(t) for t in request_texts(rendered.request)
                ) + FILE_BLOCK_TOKENS * _file_blocks(rendered.request.messages)
                for repeat in range(repeats):
                    plan.cells.append(
                        CellSpec(
                            ref.row_id, example_id, dict(example.vars), model, repeat, position
                        )
                    )
    tally(plan, prices, today)
    return plan


def tally(plan: RunPlan, prices: PriceTable | None, today: dt.date | None = None) -> None:
    """(Re)compute every model's estimate from the plan's cells, input tokens and output guesses.

    A cell whose request was not counted (sampled counting) gets its model's mean.
    """
    today = today or dt.date.today()
    known: dict[str, list[int]] = {}
    for (_, model, _), tokens in plan.input_tokens.items():
        known.setdefault(model, []).append(tokens)
    means = {model: round(sum(v) / len(v)) for model, v in known.items()}
    shapes: dict[str, Counter[CallShape]] = {model: Counter() for model in plan.estimates}
    history: dict[str, int] = dict.fromkeys(plan.estimates, 0)
    for (_, model), guess in plan.outputs.items():
        if model in history:
            history[model] += guess.history
    for cell in plan.cells:
        key = (cell.version_id, cell.model, canonical_vars(cell.example_vars))
        tokens_in = plan.input_tokens.get(key, means.get(cell.model, 0))
        guess = plan.outputs[(cell.version_id, cell.model)]
        shapes[cell.model][(tokens_in, guess.expected, guess.high, guess.worst)] += 1
    for model, est in plan.estimates.items():
        calls = shapes[model]
        est.cells = sum(calls.values())
        est.input_tokens = sum(s[0] * n for s, n in calls.items())
        est.output_tokens = sum(s[1] * n for s, n in calls.items())
        est.output_tokens_high = sum(s[2] * n for s, n in calls.items())
        est.max_output_tokens = sum(s[3] * n for s, n in calls.items())
        est.history_calls = history[model]
        if plan.synthetic:
            est.cost_usd = est.cost_high_usd = est.worst_cost_usd = 0.0
            est.known_price = True
            continue
        cost = price_calls(prices, model, calls, today)
        est.cost_usd, est.cost_high_usd, est.worst_cost_usd = cost.expected, cost.high, cost.worst
        est.known_price = cost.expected is not None


def budget_problem(plan: RunPlan, budget: float | None, basis: BudgetBasis = "worst") -> str | None:
    """Why `plan` may not start under `budget` (USD), or None. The one budget rule.

    `basis` "worst" compares the worst case (every call writes max_tokens), "expected" the
    expected cost. A model without a price refuses any budget: its cost cannot be bounded.
    """
    if budget is None or plan.synthetic:
        return None
    unpriced = plan.unpriced_models()
    if unpriced:
        return (
            f"no price for {', '.join(unpriced)}, so the budget cannot be checked: enter a price "
            "for it (`workbench price`, or Settings → Price table), or run without a budget"
        )
    cost = plan.worst_case_cost if basis == "worst" else plan.estimated_cost
    if cost is not None and cost > budget:
        what = (
            "worst-case cost (every call writes max_tokens)"
            if basis == "worst"
            else ("expected cost")
        )
        return (
            f"the {what} ${cost:.4f} exceeds the budget ${budget:.2f}: raise the budget, "
            "or run fewer examples, models or repeats"
            + (", or compare the expected cost instead" if basis == "worst" else "")
        )
    return None


async def count_input_tokens(
    plan: RunPlan,
    provider: Any,
    *,
    catalog: ModelCatalog | None = None,
    prices: PriceTable | None = None,
    max_requests: int = 200,
    concurrency: int = 8,
    today: dt.date | None = None,
    files: FileSource | None = None,
) -> bool:
    """Replace the heuristic input-token estimates with the provider's own count (count_tokens).

    Distinct requests are counted once each; beyond `max_requests`, a sample spread evenly over
    the plan is counted and every request not counted gets its model's sampled mean, so the
    estimate covers the whole plan. Returns False (estimates unchanged) when the provider
    cannot count.

    :param files: where image and document bytes come from (the project's file source)
    """
    contents = {v.row_id: v.version.content() for v in plan.versions}
    requests: dict[InputKey, Any] = {}
    for cell in plan.cells:
        key = (cell.version_id, cell.model, canonical_vars(cell.example_vars))
        if key not in requests:
            content = contents[cell.version_id]
            accepted = catalog.accepted_params(cell.model, content.params) if catalog else None
            requests[key] = render_request(
                content,
                cell.example_vars,
                model=cell.model,
                accepted=accepted,
                thinking=catalog.accepted_thinking(cell.model, content) if catalog else None,
                files=files,
            ).request
    keys = list(requests)
    if len(keys) > max_requests:
        sample = [keys[i * len(keys) // max_requests] for i in range(max_requests)]
    else:
        sample = keys
    gate = asyncio.Semaphore(concurrency)

    async def count(key: InputKey) -> int | None:
        async with gate:
            result = await provider.count_tokens(requests[key])
            return int(result) if result is not None else None

    counted = await asyncio.gather(*(count(k) for k in sample))
    if not counted or any(c is None for c in counted):
        return False
    plan.input_tokens = {key: int(tokens or 0) for key, tokens in zip(sample, counted, strict=True)}
    tally(plan, prices, today)
    plan.token_source = (
        "count_tokens"
        if len(sample) == len(keys)
        else f"count_tokens (sampled {len(sample)} of {len(keys)} requests)"
    )
    return True
