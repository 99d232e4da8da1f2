"""Automatic prompt caching: mark the prefix a run's cells share, where caching pays.

For each (prompt version, model) of a run, the system prompt and the leading messages that
render identically for every example form the shared prefix. When it is at least the model's
minimum cacheable length (resources/cache_minimums.yaml) and more than one cell will send it,
each request gets one cache breakpoint at the end of that prefix: the first call writes the
cache (1.25x input price), the others read it (0.1x). A version that marks caching itself is
left as it is. Pure functions over requests; the engine applies them at one call site. The
marks are not part of a request's identity hash (they do not change the answer), so the
response cache still matches requests logged without them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fnmatch
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml

from workbench.core.errors import MissingFiles
from workbench.core.hashing import canonical_json
from workbench.core.models import PromptContent
from workbench.core.records import Cell
from workbench.inference.base import CallRequest
from workbench.inference.echo import estimate_tokens
from workbench.resources import resource_path
from workbench.services.planner import FILE_BLOCK_TOKENS, RunPlan
from workbench.services.pricing import PriceTable
from workbench.services.rendering import FileSource, render_request

DEFAULT_MINIMUM_TOKENS = 1024


@lru_cache(maxsize=1)
def _minimums() -> tuple[tuple[str, int], ...]:
    data = yaml.safe_load(resource_path("cache_minimums.yaml").read_text(encoding="utf-8"))
    return tuple((str(m["pattern"]), int(m["tokens"])) for m in data["minimums"])


def minimum_cacheable_tokens(model: str) -> int:
    """The shortest prefix ``model`` caches, from the built-in table (first match wins)."""
    for pattern, tokens in _minimums():
        if fnmatch.fnmatchcase(model, pattern):
            return tokens
    return DEFAULT_MINIMUM_TOKENS


@dataclass(frozen=True, slots=True)
class CacheMark:
    """Where one group's breakpoint goes: after the system prompt, or after N messages."""

    cache_system: bool
    prefix_messages: int
    prefix_tokens: int
    requests: int

    def apply(self, request: CallRequest) -> CallRequest:
        """A copy of ``request`` with the breakpoint (the original is left alone)."""
        return dataclasses.replace(
            request,
            cache_system=self.cache_system,
            cache_prefix_messages=self.prefix_messages,
            messages=list(request.messages),
        )


def shared_prefix_mark(
    requests: Iterable[CallRequest], minimum_tokens: int | None = None
) -> CacheMark | None:
    """The breakpoint for requests of one (version, model) group, or None when it does not pay.

    None when there are fewer than two requests, a request already marks caching, or the
    shared prefix is shorter than the model's minimum.
    """
    items = list(requests)
    if len(items) < 2 or any(r.cache_system or r.cache_prefix_messages for r in items):
        return None
    first = items[0]
    system_shared = bool(first.system) and all(r.system == first.system for r in items)
    if not system_shared and any(r.system for r in items):
        return None  # the system prompt differs, so no prefix (it comes first) is shared
    shared = min(len(r.messages) for r in items)
    for r in items[1:]:
        shared = next((i for i in range(shared) if r.messages[i] != first.messages[i]), shared)
    if shared == min(len(r.messages) for r in items):
        shared -= 1  # identical requests: keep the last turn out, it is what gets answered
    shared = max(shared, 0)
    tokens = (estimate_tokens(first.system) if system_shared else 0) + sum(
        _content_tokens(m["content"]) for m in first.messages[:shared]
    )
    minimum = (
        minimum_tokens if minimum_tokens is not None else (minimum_cacheable_tokens(first.model))
    )
    if tokens < minimum or (shared == 0 and not system_shared):
        return None
    return CacheMark(
        cache_system=system_shared and shared == 0,
        prefix_messages=shared,
        prefix_tokens=tokens,
        requests=len(items),
    )


class PrefixCaching:
    """The marks of one run, computed once from all its cells' requests."""

    def __init__(self, marks: dict[tuple[int, str], CacheMark] | None = None) -> None:
        self.marks = marks or {}

    @classmethod
    def for_cells(
        cls,
        cells: Iterable[tuple[int, str, CallRequest]],
        *,
        enabled: bool = True,
        minimum_for: Callable[[str], int] = minimum_cacheable_tokens,
    ) -> PrefixCaching:
        """Marks for ``(version_id, model, request)`` triples grouped by version and model."""
        if not enabled:
            return cls()
        groups: dict[tuple[int, str], list[CallRequest]] = {}
        for version_id, model, request in cells:
            groups.setdefault((version_id, model), []).append(request)
        marks = {}
        for key, requests in groups.items():
            mark = shared_prefix_mark(requests, minimum_for(key[1]))
            if mark is not None:
                marks[key] = mark
        return cls(marks)

    def apply(self, version_id: int, request: CallRequest) -> CallRequest:
        """``request`` with its group's breakpoint, or unchanged."""
        mark = self.marks.get((version_id, request.model))
        return mark.apply(request) if mark is not None else request


def expected_saving(
    marks: Iterable[CacheMark | tuple[str, CacheMark]],
    prices: PriceTable,
    today: dt.date | None = None,
) -> float | None:
    """USD saved by caching: one write at 1.25x, then reads at 0.1x instead of full input.

    ``marks`` are ``(model, mark)`` pairs; None when a model's price is unknown.
    """
    today = today or dt.date.today()
    total = 0.0
    for item in marks:
        if not isinstance(item, tuple):
            continue
        model, mark = item
        row = prices.lookup(model, today)
        if row is None:
            return None
        per_token = row.input / 1_000_000
        full = mark.prefix_tokens * mark.requests * per_token
        cached = (
            mark.prefix_tokens
            * per_token
            * (row.cache_write_5m / row.input + (mark.requests - 1) * row.cache_read / row.input)
        )
        total += full - cached
    return total


def _render(
    content: PromptContent, values: Mapping[str, str], files: FileSource | None
) -> CallRequest | None:
    # A cell whose files cannot be found fails on its own when it runs; it only gets no mark.
    try:
        return render_request(content, values, files=files).request
    except MissingFiles:
        return None


def _content_tokens(content: Any) -> int:
    """Estimated tokens of a message's content: its text, or its blocks (files as a guess)."""
    if isinstance(content, str):
        return estimate_tokens(content)
    total = 0
    for block in content:
        if block.get("type") == "text":
            total += estimate_tokens(block.get("text", ""))
        elif block.get("type") in ("image", "document"):
            total += FILE_BLOCK_TOKENS
        else:
            total += estimate_tokens(canonical_json(block))
    return total


def run_prefix_caching(
    cells: Iterable[Cell],
    contents: Mapping[int, PromptContent],
    *,
    enabled: bool = True,
    files: FileSource | None = None,
) -> PrefixCaching:
    """The marks for a run's cells, rendering each distinct (version, example) once.

    :param files: where image and document bytes come from (the run's file source)
    """
    if not enabled:
        return PrefixCaching()
    rendered: dict[tuple[int, str], CallRequest | None] = {}
    triples: list[tuple[int, str, CallRequest]] = []
    for cell in cells:
        key = (cell.version_id, canonical_json(cell.example_vars))
        if key not in rendered:
            rendered[key] = _render(contents[cell.version_id], cell.example_vars, files)
        request = rendered[key]
        if request is None:
            continue
        triples.append(
            (cell.version_id, cell.model, dataclasses.replace(request, model=cell.model))
        )
    return PrefixCaching.for_cells(triples)


@dataclass(frozen=True, slots=True)
class CachePreview:
    """What automatic caching will do for a plan (shown by the preflight)."""

    groups: int
    cached_requests: int
    prefix_tokens: int
    saving_usd: float | None


def preview_plan(
    plan: RunPlan, prices: PriceTable | None, files: FileSource | None = None
) -> CachePreview:
    """Which (version, model) groups get a cache breakpoint and the expected saving.

    :param files: where image and document bytes come from (the project's file source)
    """
    contents = {v.row_id: v.version.content() for v in plan.versions}
    rendered: dict[tuple[int, str], CallRequest | None] = {}
    triples: list[tuple[int, str, CallRequest]] = []
    for spec in plan.cells:
        key = (spec.version_id, canonical_json(spec.example_vars))
        if key not in rendered:
            rendered[key] = _render(contents[spec.version_id], spec.example_vars, files)
        request = rendered[key]
        if request is None:
            continue
        triples.append(
            (spec.version_id, spec.model, dataclasses.replace(request, model=spec.model))
        )
    caching = PrefixCaching.for_cells(triples)
    pairs = [(model, mark) for (_, model), mark in caching.marks.items()]
    saving = (
        expected_saving(pairs, prices)
        if prices is not None and pairs
        else (0.0 if not pairs else None)
    )
    return CachePreview(
        groups=len(pairs),
        cached_requests=sum(m.requests for _, m in pairs),
        prefix_tokens=max((m.prefix_tokens for _, m in pairs), default=0),
        saving_usd=saving,
    )
