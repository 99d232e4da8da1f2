"""Eval runs end to end with the echo provider (its output is the rendered prompt), re-scoring
without new calls, pass rates with Wilson intervals, regressions, judge agreement, promotion."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from workbench.core.errors import BadInput
from workbench.core.models import Example, Expectation, Message, Params, PromptContent
from workbench.inference import make_provider
from workbench.inference.retry import RetryPolicy
from workbench.services.evals import (
    EvalReport,
    judge_agreement,
    promote_call,
    regression,
    run_eval,
    score_run,
    stored_pass_rates,
    wilson_interval,
)
from workbench.services.judge import JUDGE_PROMPT
from workbench.services.project_models import seed_defaults
from workbench.storage.labels_repo import LabelsRepo
from workbench.storage.project import Project
from workbench.testing.fake_anthropic import FakeAnthropicServer


def _content(word: str) -> PromptContent:
    return PromptContent(
        messages=[Message(role="user", content="Topic: {{q}} " + word)],
        params=Params(model="claude-haiku-5-5", max_tokens=200),
    )


def _project(tmp_path: Path) -> Project:
    project = Project.create(tmp_path / "e.pwb", "evals")
    seed_defaults(project)
    project.prompts.create("answer")
    project.prompts.save_version("answer", _content("alpha"))
    project.prompts.save_version("answer", _content("beta"))
    project.datasets.create("cases")
    project.datasets.add_examples(
        "cases",
        [
            Example(vars={"q": "refunds"}, expect=[Expectation(type="icontains", value="REFUNDS")]),
            Example(vars={"q": "install"}, expect=[Expectation(type="contains", value="alpha")]),
            Example(vars={"q": "billing"}, expect=[Expectation(type="contains", value="beta")]),
            Example(vars={"q": "no expectations here"}),
        ],
    )
    return project


def _eval(project: Project, prompts: list[str], dataset: str = "cases", **kw: object) -> EvalReport:
    return asyncio.run(
        run_eval(project, dataset=dataset, prompts=prompts, provider=make_provider("echo"), **kw)  # type: ignore[arg-type]
    )


def _calls(project: Project) -> int:
    return int(project.db.execute("SELECT count(*) FROM calls").fetchone()[0])


def test_wilson_interval_matches_known_values() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)
    low, high = wilson_interval(10, 10)
    assert low == pytest.approx(0.7225, abs=1e-4) and high == 1.0
    assert wilson_interval(0, 5)[0] == 0.0


def test_eval_run_scores_cases_per_version_and_model(tmp_path: Path) -> None:
    with _project(tmp_path) as project:
        report = _eval(project, ["answer@1", "answer@2"])
        assert report.run_status == "done" and report.dataset == "cases"
        assert len(report.cases) == 6  # the example without expectations is not run
        rates = {(g.version, g.model): (g.passed, g.cases) for g in report.groups}
        assert rates == {(1, "claude-haiku-5-5"): (2, 3), (2, "claude-haiku-5-5"): (2, 3)}
        group = report.groups[0]
        assert group.pass_rate == pytest.approx(2 / 3)
        assert group.interval == wilson_interval(2, 3)
        failing = [c for c in report.cases if not c.passed]
        assert {(c.version, c.vars["q"]) for c in failing} == {(1, "billing"), (2, "install")}
        billing = next(c for c in failing if c.version == 1)
        assert "expectation 1 (contains 'beta')" in billing.failures[0].reason
        assert not report.meets(0.8) and report.meets(0.6)
        data = report.to_dict(0.6)
        assert data["passed"] is True and len(data["groups"]) == 2
        assert json.dumps(data)  # JSON-serialisable
        stored = {(g.version, g.passed, g.cases) for g in stored_pass_rates(project)}
        assert stored == {(1, 2, 3), (2, 2, 3)}


def test_rescoring_uses_stored_outputs_and_current_expectations(tmp_path: Path) -> None:
    with _project(tmp_path) as project:
        report = _eval(project, ["answer@1"])
        calls = _calls(project)
        (billing_id, billing), *_ = [
            (i, e) for i, e in project.datasets.get_with_ids("cases") if e.vars["q"] == "billing"
        ]
        project.datasets.update_example(
            billing_id,
            billing.model_copy(update={"expect": [Expectation(type="icontains", value="TOPIC")]}),
        )
        again = score_run(project, report.run_id)
        assert _calls(project) == calls  # no new model call
        assert [g.passed for g in again.groups] == [3]


def test_bad_expectations_stop_before_any_call(tmp_path: Path) -> None:
    with _project(tmp_path) as project:
        project.datasets.create("broken")
        project.datasets.add_examples(
            "broken", [Example(vars={"q": "x"}, expect=[Expectation(type="regex", value="([a-z")])]
        )
        with pytest.raises(BadInput, match=r"dataset 'broken', example 1, expectation 1 \(regex"):
            _eval(project, ["answer"], dataset="broken")
        project.datasets.create("empty-expectations")
        project.datasets.add_examples("empty-expectations", [Example(vars={"q": "x"})])
        with pytest.raises(BadInput, match="no expectations"):
            _eval(project, ["answer"], dataset="empty-expectations")
        assert project.runs.summaries() == [] and _calls(project) == 0


def test_regression_lists_flipped_cases_between_versions(tmp_path: Path) -> None:
    with _project(tmp_path) as project:
        _eval(project, ["answer@1", "answer@2"])
        result = regression(project, "answer", 1, 2)
        assert (result.base, result.head) == (1, 2)
        assert [f.position for f in result.broke] == [1]  # "install" needs alpha
        assert [f.position for f in result.fixed] == [2]  # "billing" needs beta
        assert result.still_passing == 1 and result.still_failing == 0
        assert "contains 'alpha'" in result.broke[0].reasons[0]
        assert regression(project, "answer", 1, 2, model="other-model").broke == []
        assert json.dumps(result.to_dict())


def test_failed_calls_fail_every_expectation(tmp_path: Path) -> None:
    with _project(tmp_path) as project, FakeAnthropicServer() as server:
        server.script({"fault": "400"})
        provider = make_provider(
            "anthropic",
            api_key="sk-ant-test-FAKEKEY-evals-1",
            base_url=server.base_url,
            policy=RetryPolicy(max_attempts=1),
        )

        async def go() -> EvalReport:
            try:
                return await run_eval(
                    project, dataset="cases", prompts=["answer@1"], provider=provider
                )
            finally:
                await provider.aclose()

        report = asyncio.run(go())
        (group,) = report.groups
        assert (group.cases, group.passed, group.errors) == (3, 0, 3)
        assert all(c.error and "call failed" in c.failures[0].reason for c in report.cases)


def _judged_project(tmp_path: Path) -> Project:
    """A project whose judge (with echo) answers with the rubric text, so rubrics script verdicts."""
    project = _project(tmp_path)
    project.prompts.create(JUDGE_PROMPT)
    project.prompts.save_version(
        JUDGE_PROMPT,
        PromptContent(
            messages=[Message(role="user", content="{{rubric}} {{output}} {{input}}")],
            params=Params(model="claude-sonnet-5-5"),
        ),
    )
    project.datasets.create("judged")
    verdict = '{{"score": {}, "reason": "scripted"}}'
    project.datasets.add_examples(
        "judged",
        [
            Example(
                vars={"q": "a"}, expect=[Expectation(type="llm-rubric", value=verdict.format(5))]
            ),
            Example(
                vars={"q": "b"}, expect=[Expectation(type="llm-rubric", value=verdict.format(2))]
            ),
        ],
    )
    return project


def test_llm_rubric_in_an_eval_and_agreement_with_people(tmp_path: Path) -> None:
    with _judged_project(tmp_path) as project:
        report = _eval(project, ["answer@1"], dataset="judged")
        assert report.judge_calls == 2
        assert [c.passed for c in report.cases] == [True, False]
        assert "2/5" in report.cases[1].failures[0].reason
        judge_calls = project.db.execute("SELECT count(*) FROM calls WHERE source = 'judge'")
        assert judge_calls.fetchone()[0] == 2

        labels = LabelsRepo(project)
        for case in report.cases:
            assert case.call_id is not None
            labels.set_label(case.call_id, verdict="pass")
        agreement = judge_agreement(project)
        assert (agreement.total, agreement.agree, agreement.percent) == (2, 1, 50.0)
        assert agreement.table == {"pass": {"pass": 1, "fail": 1}, "fail": {"pass": 0, "fail": 0}}
        assert judge_agreement(project, run_id=report.run_id).total == 2

        # Re-scoring reuses the stored verdicts: no judge call, no model call.
        calls = _calls(project)
        again = score_run(project, report.run_id)
        assert again.judge_calls == 0 and _calls(project) == calls
        assert [c.passed for c in again.cases] == [True, False]


def test_promote_a_labelled_call_to_an_eval_case(tmp_path: Path) -> None:
    with _project(tmp_path) as project:
        report = _eval(project, ["answer@2"])
        case = next(c for c in report.cases if c.vars["q"] == "install")
        assert case.call_id is not None
        LabelsRepo(project).set_label(case.call_id, verdict="fail", note="should mention alpha")
        project.datasets.create("regressions")
        example_id = promote_call(
            project,
            case.call_id,
            "regressions",
            [Expectation(type="equals"), Expectation(type="not-contains", value="gamma")],
            note="from review",
        )
        example = project.datasets.get_example(example_id)
        assert example.vars == {"q": "install"} and example.note == "from review"
        assert example.expect[0].value == case.output  # the output became the reference
        provenance = json.loads(
            project.db.execute(
                "SELECT provenance_json FROM examples WHERE id = ?", [example_id]
            ).fetchone()[0]
        )
        assert provenance == {
            "call_id": case.call_id,
            "prompt": "answer",
            "version": 2,
            "model": "claude-haiku-5-5",
            "run_id": report.run_id,
            "source": "run",
        }
        promoted = _eval(project, ["answer@2"], dataset="regressions")
        assert [c.passed for c in promoted.cases] == [True]
        with pytest.raises(BadInput, match="invalid regular expression"):
            promote_call(
                project, case.call_id, "regressions", [Expectation(type="regex", value="(")]
            )


def test_promoting_a_call_without_a_cell_is_refused(tmp_path: Path) -> None:
    with _judged_project(tmp_path) as project:
        _eval(project, ["answer@1"], dataset="judged")
        judge_call = project.db.execute("SELECT id FROM calls WHERE source = 'judge'").fetchone()[0]
        with pytest.raises(BadInput, match="has no example variables"):
            promote_call(project, judge_call, "cases", [Expectation(type="contains", value="x")])
