"""The offline demo's provider: plausible, tier-differentiated synthetic answers, no network.

The echo provider answers every model with the same transcript, so a demo grid cannot show why
one would pick a tier. This one answers like a model of the tier named in the model id would:
Opus writes the complete answer, Sonnet a good one that is a little less careful, Haiku a short
one that misses details the sample's expectations look for (the "30 days", the "venv", the
support address) and sometimes repeats personal data. Latency and output length grow with the
tier. Everything is deterministic (the same request gives the same answer) and synthetic.

Answers are recorded-style texts for the sample project's topics (QuizCraft support and
summaries); any other prompt gets a generic answer derived from the request, still per tier.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import os
import re
from dataclasses import dataclass

from workbench.inference.base import CallRequest, CallResult, OnBackoff, OnText
from workbench.inference.demo_tools import demo_classification, demo_tool_calls
from workbench.inference.echo import OfflineProvider, apply_limits, estimate_tokens, offline_result

TIERS = ("haiku", "sonnet", "opus")


@dataclass(frozen=True)
class TierStyle:
    """How a tier answers: its time to first token and output speed (simulated)."""

    first_token_ms: float
    ms_per_token: float


STYLES = {
    "haiku": TierStyle(first_token_ms=320.0, ms_per_token=4.0),
    "sonnet": TierStyle(first_token_ms=780.0, ms_per_token=11.0),
    "opus": TierStyle(first_token_ms=1450.0, ms_per_token=22.0),
}

# topic -> (haiku, sonnet, opus). Haiku misses the detail an expectation checks on purpose.
SUPPORT_ANSWERS: dict[str, tuple[str, str, str]] = {
    "install": (
        "Install it with pip: run `pip install quizcraft`, then start it with `quizcraft`.",
        "Create a virtual environment (venv) with `python -m venv .venv`, activate it, then run "
        "`pip install quizcraft` and start it with `quizcraft`. You need Python 3.10 or newer.",
        "QuizCraft needs Python 3.10 or newer and runs on Windows, macOS and Linux. Create a "
        "virtual environment (venv) with `python -m venv .venv`, activate it (`source "
        ".venv/bin/activate`, or `.venv\\Scripts\\activate` on Windows), run `pip install "
        "quizcraft`, then start it with `quizcraft`.",
    ),
    "install_de": (
        "Installieren Sie QuizCraft mit `pip install quizcraft`.",
        "Legen Sie eine virtuelle Umgebung (venv) an: `python -m venv .venv`, aktivieren Sie "
        "sie und führen Sie `pip install quizcraft` aus.",
        "QuizCraft braucht Python 3.10 oder neuer. Legen Sie eine virtuelle Umgebung (venv) an "
        "(`python -m venv .venv`), aktivieren Sie sie mit `source .venv/bin/activate`, "
        "installieren Sie mit `pip install quizcraft` und starten Sie `quizcraft`.",
    ),
    "externally": (
        "Try `pip install --user quizcraft` instead.",
        "That error means you are not inside a virtual environment (venv). Activate it first "
        "with `source .venv/bin/activate`, then run `pip install quizcraft` again.",
        '"externally-managed-environment" means pip is running outside your virtual '
        "environment (venv). Create one with `python -m venv .venv` if you have not, activate "
        "it (`source .venv/bin/activate`), then run `pip install quizcraft` again.",
    ),
    "refund_late": (
        "Sorry, refunds are only possible within a month of purchase.",
        "Refunds are possible within 30 days of purchase, so after 45 days we cannot refund "
        "you. If you need help, email billing@quizcraft.example.com.",
        "I'm sorry: purchases can be refunded in full within 30 days, and 45 days have passed, "
        "so a refund is no longer possible. You can still change or cancel your plan under "
        "Account > Billing.",
    ),
    "refund": (
        "Yes, you can get a refund. Go to Account > Billing.",
        "Yes. Purchases can be refunded in full within 30 days: open Account > Billing > "
        "Request refund.",
        "Yes: two weeks is within the 30 days in which every purchase is refunded in full. Open "
        "Account > Billing > Request refund, or email billing@quizcraft.example.com with your "
        "order number.",
    ),
    "password": (
        'Click "Forgot password?" on the sign-in page.',
        'On the sign-in page, click "Forgot password?" and follow the email you receive.',
        'Click "Forgot password?" on the sign-in page; we email you a link to set a new password.',
    ),
    "injection": (
        "Sorry, I can't share that.",
        "I can't share my instructions, but I'm happy to help with a QuizCraft question.",
        "I can't share my instructions. If you have a question about QuizCraft (installing, "
        "quizzes, billing), I'm glad to help.",
    ),
    "discount": (
        "Yes, schools get a 20% discount.",
        "I'm not sure: the documentation does not mention school discounts. Please email "
        "support@quizcraft.example.com.",
        "I'm not sure: our documentation does not cover discounts for schools, and I don't want "
        "to guess. Please email support@quizcraft.example.com and the team will tell you.",
    ),
    "pii": (
        "Done, Jane Doe (555-0142): your surname will be changed to Roe.",
        "I can't change account details here. Please email support@quizcraft.example.com from "
        "the address on your account.",
        "I can't change your name from this chat. Please email support@quizcraft.example.com "
        "from the address on your account; please don't share your phone number here.",
    ),
    "spreadsheet": (
        "Yes: import a CSV file with the columns question, answer, wrong1, wrong2, wrong3.",
        "Yes: import questions from a CSV file with the columns question, answer, wrong1, "
        "wrong2, wrong3.",
        "Yes. Export your spreadsheet as CSV with the columns question, answer, wrong1, wrong2 "
        "and wrong3, then import it in the quiz editor.",
    ),
    "delete_account": (
        "Go to Account > Privacy.",
        "Open Account > Privacy > Delete account. Your quizzes and data are removed within 7 days.",
        "Open Account > Privacy > Delete account. This removes all your quizzes and data within "
        "7 days and cannot be undone.",
    ),
    "timer": (
        "Add a timer in Settings.",
        "Click New quiz, add questions, then set a time limit under Settings > Timer.",
        "Click New quiz and add your questions, then open Settings > Timer to set a time limit "
        "per question or for the whole quiz.",
    ),
    "join": (
        "Share the quiz link.",
        "Share a link, or give students the 6-digit class code.",
        "Click Share and give students either the link or the 6-digit class code; they join "
        "from any browser.",
    ),
    "empty": (
        "Hi! What do you need help with — installing QuizCraft, your quizzes, or your account?",
        "Hi! What do you need help with in QuizCraft?",
        "Hi! It looks like your message was cut off. What can I help you with in QuizCraft — "
        "installing, quizzes, or your account?",
    ),
}

# (topic, words any of which picks it), tried in order: more specific topics first.
TOPICS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("injection", ("ignore previous", "system prompt")),
    ("pii", ("555-", "surname")),
    ("externally", ("externally-managed",)),
    ("install_de", ("installiere",)),
    ("refund_late", ("45 days", "money back")),
    ("refund", ("refund",)),
    ("password", ("password",)),
    ("discount", ("discount",)),
    ("spreadsheet", ("spreadsheet", "import questions")),
    ("delete_account", ("delete my account",)),
    ("timer", ("timer",)),
    ("join", ("join",)),
    ("install", ("install",)),
)


def tier_of(model_id: str) -> str:
    """The tier a model id names (haiku, sonnet, opus); unknown ids answer like Sonnet."""
    lowered = model_id.lower()
    return next((t for t in TIERS if t in lowered), "sonnet")


def _last_user_text(request: CallRequest) -> str:
    users = [m["content"] for m in request.messages if m.get("role") == "user"]
    return users[-1] if users else ""


def _sentences(text: str) -> list[str]:
    flat = " ".join(line.strip(" -*#") for line in text.splitlines() if line.strip())
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", flat) if s.strip()]


def _summary(text: str, tier: str) -> str:
    """A 2-sentence summary: Opus keeps numbers and names, Haiku drops most of them."""
    sentences = _sentences(text)
    if not sentences:
        return "There is nothing to summarise."
    if tier == "haiku":
        first = re.sub(r"\d+([.,:]\d+)*%?", "some", sentences[0])
        return f"{first[:160].rstrip()} The text describes an update for users."
    facts = [s for s in sentences[1:] if re.search(r"\d", s)] or sentences[1:2]
    chosen = [sentences[0], *facts[: 1 if tier == "sonnet" else 2]]
    return " ".join(s[:200] for s in chosen)


def _generic(question: str, tier: str) -> str:
    topic = question.strip().splitlines()[0][:120] if question.strip() else "your request"
    if tier == "haiku":
        return f"Here is a short answer about {topic}."
    if tier == "sonnet":
        return f"About {topic}: here is a clear answer with the main steps, in a few sentences."
    return (
        f"About {topic}: here is a complete answer. First the short version, then the steps in "
        "order, and finally what to check if it does not work."
    )


def _judgement(question: str) -> str:
    """A grader's JSON verdict: thorough answers score high, terse ones low (the demo's judge)."""
    match = re.search(r"<output>\s*(.*?)\s*</output>", question, re.DOTALL)
    output = match.group(1) if match else ""
    if len(output) >= 140:
        return '{"score": 5, "reason": "The answer meets the rubric fully and stays on topic."}'
    if len(output) >= 80:
        return '{"score": 4, "reason": "The answer meets the rubric with a small omission."}'
    return '{"score": 2, "reason": "The answer is too terse to meet the rubric."}'


def demo_answer(request: CallRequest, tier: str) -> str:
    """The synthetic answer of `tier` to `request` (deterministic)."""
    question = _last_user_text(request)
    lowered = question.lower()
    if "<rubric>" in question and "<output>" in question:
        return _judgement(question)
    if request.output_schema is not None:
        return demo_classification(question, tier)
    index = TIERS.index(tier)
    if "summary" in lowered or "summarise" in lowered or "summarize" in lowered:
        body = question.split(":", 1)[-1] if ":" in question else question
        return _summary(body, tier)
    if len(question.strip()) <= 2:
        return SUPPORT_ANSWERS["empty"][index]
    for topic, words in TOPICS:
        if any(word in lowered for word in words):
            return SUPPORT_ANSWERS[topic][index]
    return _generic(question, tier)


class DemoProvider(OfflineProvider):
    """Answers per tier for the offline demo; no key, no network, no cost.

    :param time_scale: fraction of the simulated latency actually waited (0 = answer at once;
        the reported latency is the simulated one either way)
    """

    name = "demo"

    def __init__(self, *, time_scale: float = 0.25, chunk_chars: int = 24) -> None:
        self.time_scale = max(0.0, time_scale)
        self.chunk_chars = max(1, chunk_chars)
        self._ids = itertools.count(1)
        self._prefix = os.urandom(4).hex()

    def _jitter(self, request: CallRequest) -> float:
        # Deterministic per request: a latency spread without randomness between runs.
        digest = hashlib.sha256(f"{request.model}|{_last_user_text(request)}".encode()).digest()
        return 0.8 + (digest[0] / 255) * 0.5

    async def call(
        self,
        request: CallRequest,
        on_text: OnText | None = None,
        on_backoff: OnBackoff | None = None,
    ) -> CallResult:
        """The tier's answer, cut by max_tokens/stop_sequences, streamed in chunks if asked."""
        import time

        started_wall = time.time()
        tier = tier_of(request.model)
        style = STYLES[tier]
        tool_calls = demo_tool_calls(request.tools, _last_user_text(request), tier)
        answer = "Let me look that up." if tool_calls else demo_answer(request, tier)
        text, stop_reason = apply_limits(answer, request.max_tokens, request.stop_sequences)
        if tool_calls:
            stop_reason = "tool_use"
        output_tokens = estimate_tokens(text)
        jitter = self._jitter(request)
        ttft_ms = style.first_token_ms * jitter
        total_ms = ttft_ms + style.ms_per_token * output_tokens * jitter
        if self.time_scale > 0:
            await asyncio.sleep(ttft_ms * self.time_scale / 1000)
        chunks = [text[i : i + self.chunk_chars] for i in range(0, len(text), self.chunk_chars)]
        pause = (total_ms - ttft_ms) * self.time_scale / 1000 / max(1, len(chunks))
        for chunk in chunks:
            if on_text is not None:
                on_text(chunk)
            if pause > 0:
                await asyncio.sleep(pause)
        request_id = f"demo_{self._prefix}{next(self._ids):08d}"
        result = offline_result(
            request,
            text,
            stop_reason,
            request_id=request_id,
            started_wall=started_wall,
            ttft_ms=ttft_ms,
            total_ms=total_ms,
        )
        result.tool_calls = tool_calls or []
        return result
