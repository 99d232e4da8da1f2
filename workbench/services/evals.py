"""Eval runs and their figures: scoring, pass rates with confidence intervals, regressions,
judge-vs-human agreement, and promoting a labelled call to an eval case.

Generation and scoring are separate: `score_run` scores the stored outputs of any run (re-scoring
makes no model calls unless an `llm-rubric` verdict is missing and a judge provider is given),
and `run_eval` is just `plan_run` + `start_run` over a dataset followed by `score_run`.

A case is one cell of a run (example × prompt version × model × repeat). It passes when every
expectation with a weight above 0 passes; a failed call fails every expectation. A case whose
example has no expectations is skipped and left out of pass rates.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from workbench.core.errors import BadInput, NotFound
from workbench.core.models import Example, Expectation
from workbench.core.records import CellWithCall, ScoredCall
from workbench.inference.base import Provider
from workbench.services.judge import Judge, JudgeRequest, ensure_judge_prompt
from workbench.services.planner import resolve_versions
from workbench.services.replay import REPLAY_SKIP_REASON, is_replay_miss
from workbench.services.run_service import RunRequest, plan_run, start_run
from workbench.services.runner import RunEngine, RunListener, RunOptions
from workbench.services.scorers import (
    CallFacts,
    build_scorer,
    check_expectations,
    describe,
    rubric_expectations,
)
from workbench.services.tool_scorers import tool_facts
from workbench.storage.labels_repo import ScoreRow
from workbench.storage.project import Project

Z_95 = 1.959963984540054


def wilson_interval(passed: int, total: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for a pass rate (95 % by default); (0, 1) when total is 0."""
    if total <= 0:
        return 0.0, 1.0
    p = passed / total
    denom = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denom
    # Exact ends: rounding would otherwise report 0.9999999999999999 for 10 out of 10.
    low = 0.0 if passed == 0 else max(0.0, centre - half)
    high = 1.0 if passed == total else min(1.0, centre + half)
    return low, high


def input_text(variables: dict[str, str]) -> str:
    """A case's input for the judge: the single value, or ``name: value`` lines."""
    if len(variables) == 1:
        return next(iter(variables.values()))
    return "\n".join(f"{k}: {v}" for k, v in variables.items())


@dataclass
class CaseResult:
    """One scored case; `results` follow the example's expectations in order."""

    call_id: int | None
    example_id: int | None
    position: int
    repeat: int
    vars: dict[str, str]
    prompt: str
    version: int
    model: str
    output: str
    error: str | None
    latency_ms: float | None
    cost_usd: float | None
    results: list[ScoreRow] = field(default_factory=list)
    skip_reason: str | None = None  # why an unscored case was not scored, when not the usual

    @property
    def skipped(self) -> bool:
        return not self.results

    @property
    def passed(self) -> bool:
        return not self.skipped and all(r.passed for r in self.results if r.weight > 0)

    @property
    def failures(self) -> list[ScoreRow]:
        return [r for r in self.results if not r.passed and r.weight > 0]

    @property
    def name(self) -> str:
        """``#3 Can I get a refund?…`` (the example's row and its first value)."""
        first = next(iter(self.vars.values()), "")
        first = " ".join(first.split())
        first = first if len(first) <= 60 else first[:59] + "…"
        suffix = f" (repeat {self.repeat + 1})" if self.repeat else ""
        return f"#{self.position + 1} {first}".rstrip() + suffix

    def to_dict(self, output_chars: int = 2000) -> dict[str, Any]:
        data = asdict(self)
        data["output"] = self.output[:output_chars]
        data["results"] = [asdict(r) for r in self.results]
        data.update(name=self.name, passed=self.passed, skipped=self.skipped)
        return data


@dataclass
class GroupRate:
    """Pass rate of one (prompt version, model) with its Wilson 95 % interval."""

    prompt: str
    version: int
    model: str
    cases: int
    passed: int
    skipped: int = 0
    errors: int = 0

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.cases if self.cases else None

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.passed, self.cases)

    def to_dict(self) -> dict[str, Any]:
        low, high = self.interval
        return {**asdict(self), "pass_rate": self.pass_rate, "ci95": [low, high]}


def group_rates(cases: Sequence[CaseResult]) -> list[GroupRate]:
    """Pass rate per (prompt, version, model), in the order the groups first appear."""
    groups: dict[tuple[str, int, str], GroupRate] = {}
    for case in cases:
        key = (case.prompt, case.version, case.model)
        group = groups.setdefault(key, GroupRate(*key, cases=0, passed=0))
        if case.skipped:
            group.skipped += 1
            continue
        group.cases += 1
        group.passed += int(case.passed)
        group.errors += int(case.error is not None)
    return list(groups.values())


@dataclass
class EvalReport:
    """The scored cases of one run and their pass rates."""

    run_id: int
    dataset: str
    cases: list[CaseResult]
    run_status: str = "done"
    run_reason: str | None = None
    judge_calls: int = 0
    not_run: int = 0

    @property
    def groups(self) -> list[GroupRate]:
        return group_rates(self.cases)

    def meets(self, bar: float, *, replayed: bool = False) -> bool:
        """True when every (version, model) has cases and a pass rate of at least `bar`.

        :param replayed: a replay: (version, model)s with no replayed case are not held to the
            bar, since nothing could be checked for them without a key
        """
        groups = self.groups
        if replayed:
            return all(g.pass_rate >= bar - 1e-12 for g in groups if g.pass_rate is not None)
        return bool(groups) and all(
            g.pass_rate is not None and g.pass_rate >= bar - 1e-12 for g in groups
        )

    @property
    def replay_skipped(self) -> int:
        """Cases a replay could not answer (their request changed since the recording)."""
        return sum(c.skip_reason == REPLAY_SKIP_REASON for c in self.cases)

    def to_dict(self, bar: float | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "run_id": self.run_id,
            "dataset": self.dataset,
            "run_status": self.run_status,
            "judge_calls": self.judge_calls,
            "not_run": self.not_run,
            "replay_skipped": self.replay_skipped,
            "groups": [g.to_dict() for g in self.groups],
            "cases": [c.to_dict() for c in self.cases],
        }
        if bar is not None:
            data.update(min_pass_rate=bar, passed=self.meets(bar))
        return data


# -- scoring ------------------------------------------------------------------------------------


def _call_failed(row: CellWithCall, expectations: list[Expectation]) -> list[ScoreRow]:
    return call_failed_scores(row.error_type, row.error_message, expectations)


def call_failed_scores(
    error_type: str | None, error_message: str | None, expectations: Sequence[Expectation]
) -> list[ScoreRow]:
    """A failed call fails every expectation, with the error as the reason."""
    why = f"the call failed ({error_type}): {error_message or 'no message'}"
    return [ScoreRow(i, e.type, False, 0.0, why, e.weight) for i, e in enumerate(expectations)]


def score_output(
    expectations: Sequence[Expectation],
    output: str,
    facts: CallFacts,
    *,
    judge: Any = None,
    base_dir: Any = None,
) -> list[ScoreRow]:
    """Score one answered call's output against `expectations`, in order (what `score_run`
    stores for a case; scoring as a run lands uses the same function).

    :param judge: a `JudgeFn` for `llm-rubric` verdicts (None: they fail, saying so)
    """
    results = []
    for index, expectation in enumerate(expectations):
        scorer = build_scorer(expectation, judge=judge, base_dir=base_dir)
        outcome = scorer(output, facts)
        results.append(
            ScoreRow(
                index,
                expectation.type,
                outcome.passed,
                outcome.score,
                f"{describe(expectation, index)}: {outcome.reason}",
                expectation.weight,
            )
        )
    return results


async def score_run_async(
    project: Project,
    run_id: int,
    *,
    judge_provider: Provider | None = None,
    judge_model: str | None = None,
) -> EvalReport:
    """Score every finished call of `run_id` against its example's current expectations.

    :param judge_provider: provider for `llm-rubric` verdicts not stored yet; None re-scores
        without any model call (a missing verdict then fails with a reason saying so)
    """
    run = project.runs.get_run(run_id)
    rows = project.runs.run_grid(run_id)
    examples: dict[int, Example | None] = {}
    for row in rows:
        example_id = row.example_id
        if example_id is not None and example_id not in examples:
            try:
                examples[example_id] = project.datasets.get_example(example_id)
            except NotFound:  # deleted since the run: nothing to score against
                examples[example_id] = None
    for example_id, example in examples.items():
        if example is not None:
            check_expectations(
                example.expect, where=f"example #{example_id}", base_dir=project.path
            )

    done = [(r.call_id, r) for r in rows if r.call_id is not None]
    details = project.runs.call_details([call_id for call_id, _ in done])
    contents = project.runs.version_contents(run_id)
    facts = {
        call_id: CallFacts(
            call_id=call_id,
            model=r.model,
            input=input_text(r.example_vars),
            vars=dict(r.example_vars),
            latency_ms=r.latency_ms,
            cost_usd=r.cost_usd,
            stop_reason=r.stop_reason,
            prompt=r.prompt_name or "",
            **tool_facts(details.get(call_id), contents.get(r.version_id)),
        )
        for call_id, r in done
    }
    judge: Judge | None = None
    requests = [
        JudgeRequest(str(e.value), r.output or "", facts[call_id].input, call_id)
        for call_id, r in done
        if r.error_type is None
        and r.example_id is not None
        and (ex := examples.get(r.example_id)) is not None
        for e in rubric_expectations(ex.expect)
    ]
    verdicts = {}
    if requests:
        judge = Judge(project, judge_provider, model=judge_model)
        verdicts = await judge.judge_many(requests)
    judge_fn = judge.verdict_fn(verdicts) if judge else None

    cases: list[CaseResult] = []
    stored: list[tuple[int, int | None, list[ScoreRow]]] = []
    for call_id, row in done:
        example = examples.get(row.example_id) if row.example_id is not None else None
        expectations = example.expect if example is not None else []
        skip_reason = None
        if is_replay_miss(row):
            results, skip_reason = [], REPLAY_SKIP_REASON  # changed: skipped, not failed
        elif row.error_type is not None:
            results = _call_failed(row, expectations)
        else:
            results = score_output(
                expectations,
                row.output or "",
                facts[call_id],
                judge=judge_fn,
                base_dir=project.path,
            )
        stored.append((call_id, row.example_id, results))
        cases.append(
            CaseResult(
                call_id=call_id,
                example_id=row.example_id,
                position=row.position,
                repeat=row.repeat,
                vars=dict(facts[call_id].vars),
                prompt=row.prompt_name,
                version=row.version,
                model=row.model,
                output=row.output or "",
                error=None
                if row.error_type is None or skip_reason
                else (row.error_message or row.error_type),
                latency_ms=row.latency_ms,
                cost_usd=row.cost_usd,
                results=results,
                skip_reason=skip_reason,
            )
        )
    project.labels.replace_scores(stored)
    return EvalReport(
        run_id=run_id,
        dataset=str(run.plan.get("dataset", "")),
        cases=cases,
        run_status=run.status,
        judge_calls=judge.calls_made if judge else 0,
        not_run=len(rows) - len(done),
    )


def score_run(project: Project, run_id: int, **kwargs: Any) -> EvalReport:
    """`score_run_async` for callers without an event loop (re-scoring, tests, the GUI worker)."""
    return asyncio.run(score_run_async(project, run_id, **kwargs))


async def run_eval(
    project: Project,
    *,
    dataset: str,
    prompts: list[str],
    provider: Provider,
    models: list[str] | None = None,
    options: RunOptions | None = None,
    listener: RunListener | None = None,
    judge_provider: Provider | None = None,
    judge_model: str | None = None,
    engine_ready: Callable[[RunEngine], None] | None = None,
) -> EvalReport:
    """Run the dataset's cases that have expectations, then score every call.

    Every expectation is checked first, so a bad regex or schema stops before any paid call.

    :param engine_ready: gets the run's engine before any call, so a caller can cancel it
    """
    examples = project.datasets.get_with_ids(dataset)
    with_expect = {example_id for example_id, e in examples if e.expect}
    if not with_expect:
        raise BadInput(
            f"dataset '{dataset}' has no expectations, so there is nothing to evaluate",
            field="--dataset",
            hint="Add `expect:` entries to its examples (see docs/eval-formats.md).",
        )
    for row, (_, example) in enumerate(examples, start=1):
        check_expectations(
            example.expect, where=f"dataset '{dataset}', example {row}", base_dir=project.path
        )
    if any(e.type == "llm-rubric" for _, example in examples for e in example.expect):
        ensure_judge_prompt(project)  # the explicit step: scoring itself never creates it
    plan = await plan_run(
        project,
        RunRequest(
            prompts=tuple(prompts),
            dataset=dataset,
            models=tuple(models or ()),
            only_with_expectations=True,
        ),
        provider,
        count_tokens=False,  # an eval shows no estimate: no requests spent on one
    )
    outcome = await start_run(
        project,
        plan,
        provider,
        options=options,
        listener=listener,
        kind="eval",
        score=False,
        engine_ready=engine_ready,
    )
    report = await score_run_async(
        project,
        outcome.run_id,
        judge_provider=judge_provider or provider,
        judge_model=judge_model,
    )
    report.run_status = outcome.status
    report.run_reason = outcome.reason
    return report


def bar_met(report: EvalReport, bar: float, *, replayed: bool = False) -> bool:
    """What `workbench eval` exits 0 on (before any baseline check): every (version, model)
    meets `bar` and the run finished."""
    return report.meets(bar, replayed=replayed) and report.run_status == "done"


# -- figures from stored scores -------------------------------------------------------------------


def stored_pass_rates(project: Project, *, run_id: int | None = None) -> list[GroupRate]:
    """Pass rate per (prompt version, model) from the scores already stored (no scoring)."""
    groups: dict[tuple[str, int, str], GroupRate] = {}
    for row in project.labels.scored_calls(run_id=run_id):
        key = (row.prompt_name or "", row.version or 0, row.model)
        group = groups.setdefault(key, GroupRate(*key, cases=0, passed=0))
        group.cases += 1
        group.passed += int(row.passed)
        group.errors += int(row.error_type is not None)
    return list(groups.values())


@dataclass
class Flip:
    """A case whose outcome changed between two versions."""

    example_id: int | None
    position: int | None
    model: str
    repeat: int
    base_call_id: int
    head_call_id: int
    reasons: list[str] = field(default_factory=list)


@dataclass
class Regression:
    """Cases that flipped between prompt versions `base` and `head` (matched by example,
    model and repeat; the latest scored call of each)."""

    prompt: str
    base: int
    head: int
    broke: list[Flip]
    fixed: list[Flip]
    still_passing: int
    still_failing: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def regression(
    project: Project, prompt: str, base: str | int, head: str | int, *, model: str | None = None
) -> Regression:
    """Cases that went pass→fail (`broke`) and fail→pass (`fixed`) from `base` to `head`."""
    refs = resolve_versions(project, [f"{prompt}@{base}", f"{prompt}@{head}"])
    base_id, head_id = refs[0].row_id, refs[1].row_id
    labels = project.labels
    latest: dict[int | None, dict[tuple[Any, ...], ScoredCall]] = {base_id: {}, head_id: {}}
    for row in labels.scored_calls(version_ids=[base_id, head_id]):
        if model is not None and row.model != model:
            continue
        key = (row.example_id, row.model, row.repeat or 0)
        latest[row.version_id][key] = row  # rows come in call order, so the last one wins
    broke: list[Flip] = []
    fixed: list[Flip] = []
    same_pass = same_fail = 0
    for key, old in latest[base_id].items():
        new = latest[head_id].get(key)
        if new is None:
            continue
        if bool(old.passed) == bool(new.passed):
            same_pass += int(bool(new.passed))
            same_fail += int(not new.passed)
            continue
        flip = Flip(key[0], new.position, key[1], key[2], old.call_id, new.call_id)
        (fixed if new.passed else broke).append(flip)
    failing = labels.scores_for_calls(f.head_call_id for f in broke)
    for flip in broke:
        flip.reasons = [s.reason for s in failing.get(flip.head_call_id, []) if not s.passed]
    return Regression(
        prompt, refs[0].version.version, refs[1].version.version, broke, fixed, same_pass, same_fail
    )


@dataclass
class Agreement:
    """How often the LLM judge agrees with people; `table[human][judge]` counts calls."""

    total: int
    agree: int
    table: dict[str, dict[str, int]]

    @property
    def percent(self) -> float | None:
        return 100.0 * self.agree / self.total if self.total else None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "percent": self.percent}


def judge_agreement(project: Project, *, run_id: int | None = None) -> Agreement:
    """Agreement between human verdicts and the judge on calls that have both.

    The judge's verdict on a call is "pass" when all its `llm-rubric` expectations passed.
    """
    labels = project.labels
    human = labels.human_verdicts()
    if run_id is not None:
        in_run = {r.call_id for r in labels.scored_calls(run_id=run_id)}
        human = {k: v for k, v in human.items() if k in in_run}
    table = {"pass": {"pass": 0, "fail": 0}, "fail": {"pass": 0, "fail": 0}}
    for call_id, rows in labels.scores_for_calls(human).items():
        rubric = [r for r in rows if r.type == "llm-rubric"]
        if rubric:
            table[human[call_id]]["pass" if all(r.passed for r in rubric) else "fail"] += 1
    total = sum(sum(row.values()) for row in table.values())
    return Agreement(total, table["pass"]["pass"] + table["fail"]["fail"], table)


# -- promotion ----------------------------------------------------------------------------------


def promote_call(
    project: Project,
    call_id: int,
    dataset: str,
    expectations: Sequence[Expectation],
    *,
    note: str = "",
    tags: Sequence[str] = (),
) -> int:
    """Add a logged call's case to `dataset` as an eval example; returns the new example's id.

    The example gets the call's variables and `expectations` (an `equals` without a value takes
    the call's output as the reference), and provenance {call_id, prompt, version, model, run_id}.
    """
    call = project.runs.get_call(call_id)
    # By the call's cell, not the cell's latest call: a resumed run may have retried the cell.
    cell = None
    prompt: str | None
    version: int | None
    variables: Any
    if call.run_id is not None and call.cell_id is not None:
        grid = project.runs.run_grid(call.run_id)
        cell = next((r for r in grid if r.cell_id == call.cell_id), None)
    if cell is not None:
        variables = dict(cell.example_vars)
        prompt, version = cell.prompt_name, cell.version
    else:
        # Imported production calls keep their variables in the logged request.
        variables = call.request.get("vars") if isinstance(call.request, dict) else None
        prompt, version = call.prompt_name, call.prompt_version
        if not isinstance(variables, dict):
            raise BadInput(
                f"call #{call_id} has no example variables (its log line had no 'vars')",
                hint="Promote a call from a run, or log 'vars' with production calls.",
            )
    filled = [
        e.model_copy(update={"value": call.output}) if e.type == "equals" and e.value is None else e
        for e in expectations
    ]
    check_expectations(filled, where=f"promoting call #{call_id}")
    example = Example(vars=variables, expect=filled, note=note, tags=list(tags))
    provenance = {
        "call_id": call_id,
        "prompt": prompt,
        "version": version,
        "model": call.model,
        "run_id": call.run_id,
        "source": call.source,
    }
    (example_id,) = project.datasets.add_examples(dataset, [example], provenance=provenance)
    return example_id
