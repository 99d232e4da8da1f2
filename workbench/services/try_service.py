"""Try an unsaved draft: one call per chosen model through the run engine (the one call path:
throttles, retries, prices, the request cache, the writer thread), logged like every call and
tied to the draft's content hash, so a try is never read as a saved version's answer."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from workbench.core.models import PromptContent
from workbench.services.model_list import ModelCatalog
from workbench.services.project_models import model_catalog
from workbench.services.run_service import choose_provider, open_engine
from workbench.services.runner import RunOptions
from workbench.storage.project import Project
from workbench.storage.runs_repo import RunsRepo

TIER_ORDER = ("haiku", "sonnet", "opus")


@dataclass(frozen=True)
class TryAnswer:
    """One model's answer to the draft."""

    model: str
    text: str
    error: str | None
    latency_ms: float | None
    input_tokens: int | None
    output_tokens: int | None
    cost_usd: float | None
    synthetic: bool
    call_id: int


def one_model_per_tier(catalog: ModelCatalog, tiers: Sequence[str] = TIER_ORDER) -> list[str]:
    """The newest current model of each tier, in `tiers` order (the catalog lists current
    models first, newest first within a tier); tiers the catalog lacks are left out."""
    chosen: list[str] = []
    for tier in tiers:
        model = next((m for m in catalog.models() if m.tier == tier), None)
        if model is not None:
            chosen.append(model.id)
    return chosen


def tier_models(project: Project) -> list[str]:
    """`one_model_per_tier` of the project's model list (Haiku, Sonnet, Opus)."""
    return one_model_per_tier(model_catalog(project))


async def try_draft(
    project: Project,
    content: PromptContent,
    values: dict[str, str],
    models: Sequence[str],
    *,
    prompt_name: str | None,
    provider_name: str = "anthropic",
) -> list[TryAnswer]:
    """Call every model in `models` with the rendered draft at once; answers in `models` order.

    :raises MissingApiKey: for the real provider without a key
    """
    provider = choose_provider(project, provider_name)
    engine = open_engine(project, provider, RunOptions(concurrency=max(1, len(models))))
    try:
        results = await asyncio.gather(
            *(
                engine.call(content, values, model=m, use_cache=False, prompt_name=prompt_name)
                for m in models
            )
        )
        ids = [call_id for _, call_id in results]
        digest = content.content_hash()
        await engine.db(
            lambda repo: RunsRepo.mark_draft_calls(
                repo, ids, draft_hash=digest, prompt_name=prompt_name
            )
        )
    finally:
        engine.close()
        await provider.aclose()
    return [
        TryAnswer(
            model=record.model,
            text=record.output or record.partial_text or "",
            error=record.error_message if not record.ok else None,
            latency_ms=record.latency_ms,
            input_tokens=record.input_tokens,
            output_tokens=record.output_tokens,
            cost_usd=record.cost_usd,
            synthetic=record.synthetic,
            call_id=call_id,
        )
        for record, call_id in results
    ]


def try_draft_blocking(project: Project, *args: object, **kwargs: object) -> list[TryAnswer]:
    """`try_draft` on its own event loop, for a worker thread (a `ProjectOp`)."""
    return asyncio.run(try_draft(project, *args, **kwargs))  # type: ignore[arg-type]
