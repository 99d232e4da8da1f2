"""The LLM judge behind `llm-rubric`: a versioned prompt in the project, run like any other.

The judge prompt is the project's prompt ``llm-judge`` (created by the explicit step
`ensure_judge_prompt`, which `run_eval` takes before anything is sent; then edited and versioned
like any prompt), with the variables ``{{rubric}}``, ``{{output}}`` and ``{{input}}``. Scoring
never creates it. It answers a 1–5 score and a reason as JSON; `parse_judgement` also copes with
fences, prose around the JSON, ``"4/5"`` and the like. Calls go through the run engine
(`RunEngine.call`: throttle, retries, prices, request cache, the writer thread) and are logged
with ``source = 'judge'``; each verdict is stored keyed by everything that decides it (judge
version, model, rubric, output, input), so scoring the same output again costs nothing.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from workbench.core.errors import BadInput
from workbench.core.hashing import content_hash
from workbench.core.models import Message, Params, PromptContent, PromptVersion
from workbench.inference.base import Provider
from workbench.services.run_service import open_engine
from workbench.services.runner import RunEngine, RunOptions
from workbench.services.scorers import CallFacts, JudgeFn, JudgeVerdict
from workbench.storage.labels_repo import JudgeRecord, LabelsRepo
from workbench.storage.project import Project

JUDGE_PROMPT = "llm-judge"
JUDGE_VARIABLES = ("rubric", "output", "input")
DEFAULT_JUDGE_MODEL = "claude-sonnet-5-5"
# Outputs are cut to this many characters before judging, so a runaway answer cannot overflow
# the judge's context window.
MAX_JUDGED_CHARS = 100_000
_REASON_CHARS = 500

JUDGE_SYSTEM = (
    "You are a strict, fair grader. You judge the output of another AI system against a rubric "
    "written by its developer. Judge only what the rubric asks; do not reward length or style "
    "the rubric does not mention."
)
# No literal example of the JSON answer: the offline echo provider returns the prompt itself,
# and an example score in it would read as a real verdict.
JUDGE_USER = """<rubric>
{{rubric}}
</rubric>

<input>
{{input}}
</input>

<output>
{{output}}
</output>

Grade the output against the rubric on a scale from 1 (fails it completely) to 5 (meets it \
fully). Reply with one JSON object and nothing else: the key "score" holding a whole number \
from 1 to 5, and the key "reason" holding one sentence that explains the score."""


def default_judge_content(model: str = DEFAULT_JUDGE_MODEL) -> PromptContent:
    return PromptContent(
        system=JUDGE_SYSTEM,
        messages=[Message(role="user", content=JUDGE_USER)],
        params=Params(model=model, max_tokens=400),
    )


def ensure_judge_prompt(project: Project) -> tuple[PromptVersion, int]:
    """Create the prompt ``llm-judge`` with the default version if the project has none (the
    explicit step; `run_eval` takes it for datasets with ``llm-rubric``), then `find_judge_prompt`.
    """
    if JUDGE_PROMPT not in project.prompts.names():
        project.require_writable("create the LLM judge prompt")
        project.prompts.create(JUDGE_PROMPT, "The LLM judge used by llm-rubric expectations.")
        project.prompts.save_version(
            JUDGE_PROMPT, default_judge_content(), note="Default judge (created by an eval)."
        )
    return find_judge_prompt(project)


def find_judge_prompt(project: Project) -> tuple[PromptVersion, int]:
    """The judge version to use (label ``production`` if set, else the latest) and its row id.

    Never writes. :raises BadInput: when the project has no judge prompt, or it is unusable
    """
    if JUDGE_PROMPT not in project.prompts.names():
        raise BadInput(
            f"The project has no judge prompt '{JUDGE_PROMPT}', so llm-rubric cannot be scored.",
            field=JUDGE_PROMPT,
            hint="Run the eval once with `workbench eval` (it creates the default judge), or "
            f"create a prompt named '{JUDGE_PROMPT}'.",
        )
    prompt = project.prompts.get(JUDGE_PROMPT)
    version = project.prompts.resolve(
        JUDGE_PROMPT, "production" if "production" in prompt.labels else None
    )
    used = set(version.variables())
    unknown = sorted(used - set(JUDGE_VARIABLES))
    if unknown or "output" not in used:
        problem = (
            f"uses unknown variable(s) {', '.join(unknown)}"
            if unknown
            else "does not use {{output}}"
        )
        raise BadInput(
            f"The judge prompt '{JUDGE_PROMPT}' v{version.version} {problem}.",
            field=JUDGE_PROMPT,
            hint="Use only {{rubric}}, {{output}} and {{input}}, and include {{output}}.",
        )
    return version, project.prompts.version_row_id(JUDGE_PROMPT, version.version)


# -- parsing --------------------------------------------------------------------------------

_SCORE_TEXT = re.compile(r"""\bscore\b["'*\s]*[:=]\s*["']?(\d+(?:\.\d+)?)""", re.IGNORECASE)
_OUT_OF_FIVE = re.compile(r"\b(\d+(?:\.\d+)?)\s*(?:/|out of)\s*5\b", re.IGNORECASE)
_REASON_KEYS = ("reason", "reasoning", "explanation", "rationale", "justification")


def _json_objects(text: str) -> list[dict[str, Any]]:
    decoder = json.JSONDecoder()
    found = []
    for match in re.finditer(r"\{", text):
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except (ValueError, RecursionError):
            continue
        if isinstance(value, dict):
            found.append(value)
        if len(found) >= 20:
            break
    return found


def _score_value(raw: Any) -> float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return float(raw)
    if isinstance(raw, str):
        match = re.match(r"\s*(\d+(?:\.\d+)?)", raw)
        return float(match.group(1)) if match else None
    return None


def parse_judgement(text: str) -> JudgeRecord:
    """Read a 1–5 score and a reason from a judge's answer; never raises.

    Tries each JSON object in the text (fenced or not) that has a ``score`` key, then
    ``score: N`` and ``N/5`` in prose. Fractional scores are rounded; out-of-range ones are errors.
    """
    score: float | None = None
    reason = ""
    for obj in _json_objects(text):
        keys = {str(k).lower(): v for k, v in obj.items()}
        if "score" in keys:
            score = _score_value(keys["score"])
            reason = next((str(keys[k]) for k in _REASON_KEYS if keys.get(k)), "")
            if score is not None:
                break
    if score is None:
        match = _SCORE_TEXT.search(text) or _OUT_OF_FIVE.search(text)
        if match:
            score = float(match.group(1))
    if not reason:
        reason = " ".join(text.split())
    reason = reason[:_REASON_CHARS]
    if score is None:
        return JudgeRecord(None, reason, "the judge's answer holds no score", None, "")
    if not 1 <= score <= 5:
        return JudgeRecord(None, reason, f"the judge's score {score:g} is outside 1–5", None, "")
    return JudgeRecord(int(score + 0.5), reason, None, None, "")


# -- judging --------------------------------------------------------------------------------


@dataclass(frozen=True)
class JudgeRequest:
    """One thing to judge: a rubric, the output and the case's input."""

    rubric: str
    output: str
    input: str = ""
    call_id: int | None = None


def _clip(output: str) -> str:
    if len(output) <= MAX_JUDGED_CHARS:
        return output
    return output[:MAX_JUDGED_CHARS] + f"\n[… output cut at {MAX_JUDGED_CHARS} characters …]"


def _stored_verdicts(labels: LabelsRepo, keys: Sequence[str]) -> dict[str, JudgeRecord]:
    found = {key: labels.find_judgement(key) for key in keys}
    return {key: record for key, record in found.items() if record is not None}


class Judge:
    """Judges outputs with the project's judge prompt (which must exist: `ensure_judge_prompt`).

    :param provider: None judges nothing new: only verdicts already stored are returned (for
        re-scoring without new calls)
    :param model: the judge model (default: the judge version's own model)
    :param options: how the engine makes the judge's calls (concurrency, cache, timeout)
    :raises BadInput: when the project has no usable judge prompt
    """

    def __init__(
        self,
        project: Project,
        provider: Provider | None,
        *,
        model: str | None = None,
        concurrency: int = 4,
        options: RunOptions | None = None,
    ) -> None:
        self.project = project
        self.provider = provider
        self.version, self.version_row_id = find_judge_prompt(project)
        self.model = model or self.version.params.model
        self.options = options or RunOptions(concurrency=max(1, concurrency))
        self.labels = project.labels
        self.calls_made = 0

    def key(self, request: JudgeRequest) -> str:
        """Identity of a verdict: the same key always deserves the same judgement."""
        return content_hash(
            {
                "judge_version": self.version.hash,
                "model": self.model,
                "rubric": request.rubric,
                "output": _clip(request.output),
                "input": request.input,
            }
        )

    async def judge_many(self, requests: Sequence[JudgeRequest]) -> dict[str, JudgeRecord]:
        """Verdicts for `requests` by `key`: stored ones reused, the rest asked of the model."""
        wanted: dict[str, JudgeRequest] = {}
        for request in requests:
            wanted.setdefault(self.key(request), request)
        if self.provider is None:  # no calls in flight, so reading here blocks nobody
            verdicts = _stored_verdicts(self.labels, list(wanted))
            for key in wanted.keys() - verdicts.keys():
                verdicts[key] = JudgeRecord(
                    None, "", "not judged yet (re-scoring makes no new calls)", None, self.model
                )
            return verdicts
        self.project.require_writable("judge outputs")
        engine = open_engine(self.project, self.provider, self.options)
        try:
            return await self.judge_with(engine, list(wanted.values()))
        finally:
            engine.close()

    async def judge_with(
        self, engine: RunEngine, requests: Sequence[JudgeRequest]
    ) -> dict[str, JudgeRecord]:
        """`judge_many` on an engine that is already open (a run's own, so the judge's calls
        share its throttle, prices and writer while the run scores its cells as they land)."""
        wanted: dict[str, JudgeRequest] = {}
        for request in requests:
            wanted.setdefault(self.key(request), request)
        verdicts = await engine.db(lambda repo: _stored_verdicts(repo.project.labels, list(wanted)))
        limit = asyncio.Semaphore(max(1, self.options.concurrency))

        async def one(key: str, request: JudgeRequest) -> None:
            async with limit:
                verdicts[key] = await self._ask(engine, key, request)

        todo = [(k, r) for k, r in wanted.items() if k not in verdicts]
        await asyncio.gather(*(one(k, r) for k, r in todo))
        return verdicts

    async def _ask(self, engine: RunEngine, key: str, request: JudgeRequest) -> JudgeRecord:
        values = {"rubric": request.rubric, "output": _clip(request.output), "input": request.input}
        result, call_id = await engine.call(
            self.version.content(),
            values,
            model=self.model,
            source="judge",
            version_id=self.version_row_id,
            prompt_name=JUDGE_PROMPT,
            prompt_version=self.version.version,
        )
        self.calls_made += 1
        if result.ok:
            parsed = parse_judgement(result.output or "")
            if parsed.score is None and result.synthetic:
                note = " (the offline provider echoes the prompt, so it cannot judge)"
                parsed = JudgeRecord(None, parsed.reason, f"{parsed.error}{note}", None, "")
        else:
            parsed = JudgeRecord(
                None, "", f"the judge call failed: {result.error_message}", None, ""
            )
        record = JudgeRecord(parsed.score, parsed.reason, parsed.error, call_id, self.model)
        # On the writer thread: the labels repository over the engine writer's own connection.
        await engine.db(
            lambda repo: repo.project.labels.add_judgement(
                key_hash=key,
                call_id=request.call_id,
                judge_call_id=call_id,
                judge_version_id=self.version_row_id,
                judge_model=self.model,
                rubric=request.rubric,
                record=record,
            )
        )
        return record

    def verdict_fn(self, verdicts: dict[str, JudgeRecord]) -> JudgeFn:
        """A `JudgeFn` for scorers that reads verdicts fetched by `judge_many`."""

        def judge(rubric: str, output: str, call: CallFacts) -> JudgeVerdict:
            record = verdicts.get(self.key(JudgeRequest(rubric, output, call.input)))
            if record is None:
                return None, "the judge was not asked about this output"
            if record.score is None:
                return None, record.error or "the judge gave no score"
            return record.score, record.reason

        return judge
