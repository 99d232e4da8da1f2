"""The LLM judge: its versioned prompt, robust parsing, and real calls to the fake server.

The fake server's text is deterministic pseudo-text that starts by echoing the first five words of
the last user message. A judge prompt whose user message starts with ``{{rubric}}`` therefore makes
it answer with the rubric's first word, so a rubric written as a JSON verdict scripts the answer.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from workbench.core.errors import BadInput
from workbench.core.models import Message, Params, PromptContent
from workbench.inference import make_provider
from workbench.inference.retry import RetryPolicy
from workbench.services.judge import (
    JUDGE_PROMPT,
    Judge,
    JudgeRequest,
    ensure_judge_prompt,
    parse_judgement,
)
from workbench.services.project_models import seed_defaults
from workbench.storage.project import Project
from workbench.testing.fake_anthropic import FakeAnthropicServer

FAKE_KEY = "sk-ant-test-FAKEKEY-judge-5521"


def _project(tmp_path: Path) -> Project:
    project = Project.create(tmp_path / "j.pwb", "judge test")
    seed_defaults(project)
    return project


def _scripted_judge(project: Project) -> None:
    """A judge prompt that makes the fake server (and echo) answer with the rubric's first word."""
    project.prompts.create(JUDGE_PROMPT)
    project.prompts.save_version(
        JUDGE_PROMPT,
        PromptContent(
            system="Grade it.",
            messages=[Message(role="user", content="{{rubric}}\n\nOutput: {{output}}\n{{input}}")],
            params=Params(model="claude-sonnet-5-5", max_tokens=300),
        ),
    )


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ('{"score": 4, "reason": "Mostly right."}', 4),
        ('```json\n{"score": 2, "reason": "Wrong refund window."}\n```', 2),
        ('Here is my verdict: {"reason": "Fine", "score": "5"} Thanks!', 5),
        ('{"Score": 4.6, "Explanation": "close"}', 5),
        ("Score: 3\nThe answer is partly right.", 3),
        ("I would rate this 4/5 because it is polite.", 4),
        ('{"notes": {"x": 1}} then {"score": 1, "reason": "off topic"}', 1),
    ],
)
def test_parse_judgement_reads_scores_in_many_shapes(text: str, score: int) -> None:
    record = parse_judgement(text)
    assert record.score == score and record.error is None and record.reason


@pytest.mark.parametrize(
    "text",
    [
        "",
        "I cannot grade this.",
        '{"score": 9, "reason": "x"}',
        '{"score": "high"}',
        "{{{{",
        "é" * 10_000,
    ],
)
def test_parse_judgement_never_raises_and_reports_why(text: str) -> None:
    record = parse_judgement(text)
    assert record.score is None and record.error


def test_judge_prompt_is_created_once_as_a_versioned_prompt(tmp_path: Path) -> None:
    with _project(tmp_path) as project:
        version, row_id = ensure_judge_prompt(project)
        assert set(version.variables()) == {"rubric", "output", "input"}
        again, again_id = ensure_judge_prompt(project)
        assert (again.version, again_id) == (1, row_id)
        assert len(project.prompts.get(JUDGE_PROMPT).versions) == 1
        # A new version labelled production is the one used.
        content = version.content().model_copy(update={"system": "Be harsh."})
        project.prompts.save_version(JUDGE_PROMPT, content)
        assert ensure_judge_prompt(project)[0].version == 2
        project.prompts.set_label(JUDGE_PROMPT, "production", 1)
        assert ensure_judge_prompt(project)[0].version == 1


def test_a_judge_prompt_with_unknown_variables_is_bad_input(tmp_path: Path) -> None:
    with _project(tmp_path) as project:
        project.prompts.create(JUDGE_PROMPT)
        project.prompts.save_version(
            JUDGE_PROMPT,
            PromptContent(
                messages=[Message(role="user", content="{{output}} {{answer_key}}")],
                params=Params(model="m"),
            ),
        )
        with pytest.raises(BadInput, match="answer_key"):
            ensure_judge_prompt(project)


def test_judge_against_the_fake_server_scores_logs_and_reuses(tmp_path: Path) -> None:
    with _project(tmp_path) as project, FakeAnthropicServer() as server:
        _scripted_judge(project)
        provider = make_provider(
            "anthropic",
            api_key=FAKE_KEY,
            base_url=server.base_url,
            policy=RetryPolicy(max_attempts=2, base_delay_s=0.01, max_delay_s=0.02),
        )
        judge = Judge(project, provider)
        good = JudgeRequest(
            '{"score":5,"reason":"complete"}', "Refunds within 30 days.", "q1", None
        )
        bad = JudgeRequest('{"score":2,"reason":"vague"}', "Maybe?", "q2", None)

        async def go() -> dict:
            try:
                return await judge.judge_many([good, bad, good])
            finally:
                await provider.aclose()

        verdicts = asyncio.run(go())
        assert verdicts[judge.key(good)].score == 5
        assert verdicts[judge.key(bad)].score == 2 and verdicts[judge.key(bad)].reason == "vague"
        assert server.stats()["messages_requests"] == 2  # the duplicate was asked once
        assert judge.calls_made == 2
        logged = project.db.execute(
            "SELECT count(*), min(model), min(prompt_name) FROM calls WHERE source = 'judge'"
        ).fetchone()
        assert logged == (2, "claude-sonnet-5-5", JUDGE_PROMPT)

        # A second judge (e.g. re-scoring) reuses stored verdicts without any request.
        again = Judge(project, None)
        reused = asyncio.run(again.judge_many([good, bad]))
        assert [v.score for v in reused.values()] == [5, 2]
        assert server.stats()["messages_requests"] == 2
        fn = again.verdict_fn(reused)
        from workbench.services.scorers import CallFacts

        assert fn(good.rubric, good.output, CallFacts(input="q1")) == (5, "complete")


def test_default_judge_prompt_with_unparseable_answers_fails_cleanly(tmp_path: Path) -> None:
    with _project(tmp_path) as project, FakeAnthropicServer() as server:
        provider = make_provider("anthropic", api_key=FAKE_KEY, base_url=server.base_url)
        ensure_judge_prompt(project)
        judge = Judge(project, provider, model="claude-haiku-5-5")
        request = JudgeRequest("Is polite.", "Hello!", "hi")

        async def go() -> dict:
            try:
                return await judge.judge_many([request])
            finally:
                await provider.aclose()

        record = asyncio.run(go())[judge.key(request)]
        assert record.score is None and "no score" in (record.error or "")
        # Nothing stored as a verdict, so a later judge with a provider would ask again.
        assert Judge(project, None).labels.find_judgement(judge.key(request)) is None


def test_unjudged_outputs_without_a_provider_say_so(tmp_path: Path) -> None:
    with _project(tmp_path) as project:
        ensure_judge_prompt(project)
        judge = Judge(project, None)
        request = JudgeRequest("Is polite.", "Hello!")
        record = asyncio.run(judge.judge_many([request]))[judge.key(request)]
        assert record.score is None and "no new calls" in (record.error or "")


def test_scoring_never_creates_the_judge_prompt(tmp_path: Path) -> None:
    with _project(tmp_path) as project:
        with pytest.raises(BadInput, match="no judge prompt"):
            Judge(project, make_provider("echo"))
        with pytest.raises(BadInput, match="no judge prompt"):
            Judge(project, None)
        assert JUDGE_PROMPT not in project.prompts.names()


def test_judge_calls_take_the_engines_path(tmp_path: Path) -> None:
    """Retried like a cell, priced once by the engine's table, committed by its writer."""
    with _project(tmp_path) as project, FakeAnthropicServer() as server:
        _scripted_judge(project)
        server.script({"fault": "529", "request_number": 1})
        provider = make_provider(
            "anthropic",
            api_key=FAKE_KEY,
            base_url=server.base_url,
            policy=RetryPolicy(max_attempts=3, base_delay_s=0.01, max_delay_s=0.02),
        )
        judge = Judge(project, provider)
        request = JudgeRequest('{"score":4,"reason":"ok"}', "An answer.", "q", None)
        reads: list[int] = []
        list_prices = project.catalog.list_prices

        def counting_list_prices() -> object:
            reads.append(1)
            return list_prices()

        project.catalog.list_prices = counting_list_prices  # type: ignore[method-assign]

        async def go() -> dict:
            try:
                return await judge.judge_many(
                    [request, JudgeRequest('{"score":3,"reason":"meh"}', "Other.", "q2", None)]
                )
            finally:
                await provider.aclose()

        verdicts = asyncio.run(go())
        assert verdicts[judge.key(request)].score == 4
        assert len(reads) == 1  # prices read once for all the judge's calls
        rows = project.db.execute(
            "SELECT c.cost_usd, (SELECT count(*) FROM attempts a WHERE a.call_id = c.id) "
            "FROM calls c WHERE c.source = 'judge' ORDER BY c.id"
        ).fetchall()
        assert len(rows) == 2 and all(cost is not None and cost > 0 for cost, _ in rows)
        assert sorted(n for _, n in rows) == [1, 2]  # the overloaded attempt was retried
