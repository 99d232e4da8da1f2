"""The LLM judge behind `llm-rubric`: a versioned prompt in the project, run like any other.

The judge prompt is the project's prompt ``llm-judge`` (created on first use, then edited and
versioned like any prompt), with the variables ``{{rubric}}``, ``{{output}}`` and ``{{input}}``. It
answers a 1–5 score and a reason as JSON; `parse_judgement` also copes with fences, prose around
the JSON, ``"4/5"`` and the like. Calls go through the same provider layer as runs and are logged
with ``source = 'judge'``; each verdict is stored keyed by everything that decides it (judge
version, model, rubric, output, input), so scoring the same output again costs nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from workbench.core.errors import BadInput
from workbench.core.hashing import content_hash
from workbench.core.models import Message, Params, PromptContent, PromptVersion
from workbench.inference.base import Provider
from workbench.services.project_catalog import model_catalog, price_table
from workbench.services.rendering import render_request
from workbench.services.runner import record_from_result
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
    """The judge version to use (label ``production`` if set, else the latest) and its row id.

    Creates the prompt ``llm-judge`` with the default version when the project has none.
    """
    if JUDGE_PROMPT not in project.prompts.names():
        project.require_writable("create the LLM judge prompt")
        project.prompts.create(JUDGE_PROMPT, "The LLM judge used by llm-rubric expectations.")
        project.prompts.save_version(
            JUDGE_PROMPT, default_judge_content(), note="Default judge (created on first use)."
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


class Judge:
    """Judges outputs with the project's judge prompt.

    :param provider: None judges nothing new: only verdicts already stored are returned (for
        re-scoring without new calls)
    :param model: the judge model (default: the judge version's own model)
    """

    def __init__(
        self,
        project: Project,
        provider: Provider | None,
        *,
        model: str | None = None,
        concurrency: int = 4,
    ) -> None:
        self.project = project
        self.provider = provider
        self.version, self.version_row_id = ensure_judge_prompt(project)
        self.model = model or self.version.params.model
        self.concurrency = max(1, concurrency)
        self.labels = LabelsRepo(project)
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
        verdicts: dict[str, JudgeRecord] = {}
        todo: dict[str, JudgeRequest] = {}
        for request in requests:
            key = self.key(request)
            if key in verdicts or key in todo:
                continue
            stored = self.labels.find_judgement(key)
            if stored is not None:
                verdicts[key] = stored
            elif self.provider is None:
                verdicts[key] = JudgeRecord(
                    None, "", "not judged yet (re-scoring makes no new calls)", None, self.model
                )
            else:
                todo[key] = request
        if todo:
            limit = asyncio.Semaphore(self.concurrency)

            async def one(key: str, request: JudgeRequest) -> None:
                async with limit:
                    verdicts[key] = await self._ask(key, request)

            await asyncio.gather(*(one(k, r) for k, r in todo.items()))
        return verdicts

    async def _ask(self, key: str, request: JudgeRequest) -> JudgeRecord:
        assert self.provider is not None
        values = {"rubric": request.rubric, "output": _clip(request.output), "input": request.input}
        content = self.version.content()
        accepted = model_catalog(self.project).accepted_params(self.model, content.params)
        rendered = render_request(content, values, model=self.model, accepted=accepted)
        started = time.time()
        result = await self.provider.call(rendered.request)
        self.calls_made += 1
        cost = (
            price_table(self.project).cost_for(self.model, result.usage, dt.date.today())
            if result.ok
            else None
        )
        call_id = self.project.runs.record_call(
            record_from_result(
                result,
                model=self.model,
                request=rendered.as_dict(),
                request_hash=rendered.hash,
                started_at=started,
                cost=cost,
                synthetic=bool(getattr(self.provider, "synthetic", False)),
                source="judge",
                version_id=self.version_row_id,
                prompt_name=JUDGE_PROMPT,
                prompt_version=self.version.version,
            )
        )
        if result.ok:
            parsed = parse_judgement(result.text)
            if parsed.score is None and getattr(self.provider, "synthetic", False):
                note = " (the offline provider echoes the prompt, so it cannot judge)"
                parsed = JudgeRecord(None, parsed.reason, f"{parsed.error}{note}", None, "")
        else:
            parsed = JudgeRecord(
                None, "", f"the judge call failed: {result.error_message}", None, ""
            )
        record = JudgeRecord(parsed.score, parsed.reason, parsed.error, call_id, self.model)
        self.labels.add_judgement(
            key_hash=key,
            call_id=request.call_id,
            judge_call_id=call_id,
            judge_version_id=self.version_row_id,
            judge_model=self.model,
            rubric=request.rubric,
            record=record,
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
