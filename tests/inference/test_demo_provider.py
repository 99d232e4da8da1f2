"""The offline demo's provider answers differently per tier, and the sample's evals show it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from workbench.inference import make_provider
from workbench.inference.base import CallRequest
from workbench.resource_files import sample_bundle_path
from workbench.services.evals import run_eval
from workbench.services.projects import create_project, open_project

TIER_MODELS = ["claude-haiku-5-5", "claude-sonnet-5-5", "claude-opus-5-5"]


def _request(model: str, question: str) -> CallRequest:
    return CallRequest(
        model=model,
        system="You are the support assistant for QuizCraft, a quiz app.",
        messages=[{"role": "user", "content": question}],
        max_tokens=400,
    )


def test_each_tier_answers_differently_and_deterministically() -> None:
    provider = make_provider("demo", time_scale=0)
    assert provider.synthetic

    async def ask(model: str) -> tuple[str, float, int]:
        result = await provider.call(_request(model, "Can I get a refund? I paid last week."))
        return result.text, result.latency_ms or 0.0, result.usage.output_tokens or 0

    answers = [asyncio.run(ask(m)) for m in TIER_MODELS]
    texts = [a[0] for a in answers]
    assert len(set(texts)) == 3, texts
    latencies = [a[1] for a in answers]
    assert latencies == sorted(latencies), "latency grows with the tier"
    assert answers[0][2] < answers[2][2], "Opus writes more than Haiku"
    assert "30 days" not in texts[0] and "30 days" in texts[2]
    assert asyncio.run(ask(TIER_MODELS[1]))[0] == texts[1], "the same request, the same answer"


def test_the_demo_eval_gives_each_tier_its_own_pass_rate(tmp_path: Path) -> None:
    path = tmp_path / "demo.pwb"
    create_project(path, bundle=sample_bundle_path())
    with open_project(path) as project:
        report = asyncio.run(
            run_eval(
                project,
                dataset="support-evals",
                prompts=["support-answer@3"],
                provider=make_provider("demo", time_scale=0),
                models=TIER_MODELS,
            )
        )
        rates = {g.model: g.pass_rate for g in report.groups}
        spend = project.runs.spend_split(report.run_id)
    assert set(rates) == set(TIER_MODELS)
    haiku, sonnet, opus = (rates[m] for m in TIER_MODELS)
    assert haiku is not None and sonnet is not None and opus is not None
    assert haiku < sonnet <= opus, rates
    assert opus >= 0.8, "the top tier meets the sample's bar of 80 %"
    assert 0 < haiku < 0.8, "the cheapest tier misses some expectations, not all"
    assert spend["real_usd"] == 0 and spend["synthetic_calls"] > 0
