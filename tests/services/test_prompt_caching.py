"""Automatic prompt caching: which prefix is marked, when it pays, and the fake's cache reads."""

from __future__ import annotations

import asyncio
from pathlib import Path

from workbench.core.models import Example, Message, Params, PromptContent
from workbench.inference import make_provider
from workbench.inference.base import CallRequest
from workbench.services.planner import make_plan
from workbench.services.pricing import PriceTable
from workbench.services.project_models import model_catalog, price_table, seed_defaults
from workbench.services.prompt_caching import (
    CacheMark,
    expected_saving,
    minimum_cacheable_tokens,
    preview_plan,
    shared_prefix_mark,
)
from workbench.services.run_service import start_run
from workbench.services.runner import RunOptions
from workbench.storage.project import Project
from workbench.testing.fake_anthropic import FakeAnthropicServer

DOCS = "Documentation line about the product and its many features. " * 100  # ~1500 tokens


def req(system: str, *turns: str, model: str = "claude-haiku-5-5") -> CallRequest:
    roles = ["user", "assistant"]
    messages = [{"role": roles[i % 2], "content": t} for i, t in enumerate(turns)]
    return CallRequest(model=model, system=system, messages=messages, max_tokens=100)


def test_a_long_shared_system_prompt_is_marked() -> None:
    mark = shared_prefix_mark([req(DOCS, "q1"), req(DOCS, "q2"), req(DOCS, "q3")])
    assert mark == CacheMark(cache_system=True, prefix_messages=0, prefix_tokens=1500, requests=3)
    applied = mark.apply(req(DOCS, "q1"))
    assert applied.cache_system and applied.cache_prefix_messages == 0


def test_shared_leading_messages_move_the_breakpoint() -> None:
    mark = shared_prefix_mark([req("s", DOCS, "ok", "q1"), req("s", DOCS, "ok", "q2")])
    assert mark is not None and mark.prefix_messages == 2 and not mark.cache_system


def test_nothing_is_marked_when_it_cannot_pay() -> None:
    assert shared_prefix_mark([req(DOCS, "q1")]) is None  # not reused
    assert shared_prefix_mark([req("short", "q1"), req("short", "q2")]) is None  # too short
    assert shared_prefix_mark([req(DOCS + "a", "q"), req(DOCS + "b", "q")]) is None  # differs
    hand = req(DOCS, "q1")
    hand.cache_system = True  # the version decided itself
    assert shared_prefix_mark([hand, req(DOCS, "q2")]) is None
    assert shared_prefix_mark([req("x" * 2400, "q1"), req("x" * 2400, "q2")], 512) is not None


def test_minimums_come_from_the_table() -> None:
    assert minimum_cacheable_tokens("claude-opus-5-5") == 512
    assert minimum_cacheable_tokens("claude-haiku-4-5-20251001") == 4096
    assert minimum_cacheable_tokens("some-new-model") == 1024


def test_expected_saving_counts_one_write_then_reads() -> None:
    prices = PriceTable.default()
    mark = CacheMark(True, 0, 1_000_000, 10)
    saving = expected_saving([("claude-haiku-5-5", mark)], prices)
    row = prices.lookup("claude-haiku-5-5", __import__("datetime").date.today())
    assert row is not None and saving is not None
    expected = 10 * row.input - (row.cache_write_5m + 9 * row.cache_read)
    assert abs(saving - expected) < 1e-9


def _project(path: Path) -> Project:
    project = Project.create(path, "test")
    seed_defaults(project)
    project.prompts.create("docs")
    project.prompts.save_version(
        "docs",
        PromptContent(
            system=DOCS + "{{tone}}",
            messages=[Message(role="user", content="{{question}}")],
            params=Params(model="claude-haiku-5-5", max_tokens=100),
        ),
        note="first",
    )
    project.datasets.create("qs")
    project.datasets.add_examples(
        "qs", [Example(vars={"tone": "Be brief.", "question": f"Q {i}?"}) for i in range(5)]
    )
    return project


def test_a_run_reads_the_shared_prefix_from_the_cache(tmp_path: Path) -> None:
    with _project(tmp_path / "p.pwb") as project, FakeAnthropicServer() as server:
        plan = make_plan(
            project,
            prompts=["docs@1"],
            dataset="qs",
            catalog=model_catalog(project),
            prices=price_table(project),
        )
        preview = preview_plan(plan, price_table(project))
        assert preview.groups == 1 and preview.cached_requests == 5
        assert preview.saving_usd is not None and preview.saving_usd > 0
        provider = make_provider("anthropic", api_key="k", base_url=server.base_url)
        options = RunOptions(concurrency=1, use_cache=False)
        outcome = asyncio.run(start_run(project, plan, provider, options=options))
        assert outcome.status == "done"
        calls = [project.runs.get_call(r.call_id) for r in project.runs.run_grid(outcome.run_id)]
        assert sum(c.cache_creation_tokens > 0 for c in calls) == 1
        assert sum(c.cache_read_tokens > 0 for c in calls) == 4
        assert all(c.request["cache_system"] for c in calls)
        # The marks are not part of the answer's identity: a later run still hits the cache.
        again = asyncio.run(
            start_run(
                project, plan, make_provider("anthropic", api_key="k", base_url=server.base_url)
            )
        )
        assert again.progress.cached == 5


def test_auto_cache_can_be_turned_off(tmp_path: Path) -> None:
    with _project(tmp_path / "p.pwb") as project, FakeAnthropicServer() as server:
        plan = make_plan(project, prompts=["docs@1"], dataset="qs")
        provider = make_provider("anthropic", api_key="k", base_url=server.base_url)
        options = RunOptions(use_cache=False, auto_cache=False)
        outcome = asyncio.run(start_run(project, plan, provider, options=options))
        calls = [project.runs.get_call(r.call_id) for r in project.runs.run_grid(outcome.run_id)]
        assert all(c.cache_read_tokens == 0 for c in calls)
