"""Deterministic fake completions, token counting and prompt-cache accounting.

Output text is a pure function of the request (model, system, messages and sampling
params), so tests and benchmarks get reproducible yet prompt-dependent answers.
``max_tokens`` and ``stop_sequences`` are deliberately left out of the seed: a truncated
answer is then a prefix of the full one, as with a deterministic real model.

A scripted answer: a last user message holding ``[[fake-reply:BASE64]]`` is answered with
exactly the decoded UTF-8 text (base64 so any text, quotes and newlines included, survives
templating by any client). Tests that need a known output, such as the verdict-parity test,
use it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import random
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

CHARS_PER_TOKEN = 4
_SEED_KEYS = (
    "model",
    "system",
    "messages",
    "temperature",
    "top_p",
    "top_k",
    "tools",
    "tool_choice",
)
_ECHO_WORDS = 5
_VOCABULARY = (
    "the", "model", "prompt", "answer", "a", "clear", "short", "result", "we", "can", "see",
    "that", "this", "is", "likely", "because", "data", "shows", "each", "case", "and", "then",
    "more", "useful", "detail", "about", "it", "should", "work", "well", "when", "you", "test",
    "input", "output", "first", "next", "step", "simple", "note", "value", "text", "some",
    "good", "point", "here", "also", "other", "way", "to", "of", "in", "for", "with", "on",
    "check", "keep", "run", "time", "small", "better", "example", "context", "given",
)  # fmt: skip


def estimate_tokens(chars: int) -> int:
    """The heuristic token count for ``chars`` characters: ~4 per token, at least 1."""
    return max(1, -(-chars // CHARS_PER_TOKEN))


@dataclass(frozen=True, slots=True)
class Completion:
    """A generated answer: one piece per output token (each streams as one text_delta)."""

    pieces: tuple[str, ...]
    stop_reason: str
    stop_sequence: str | None

    @property
    def text(self) -> str:
        return "".join(self.pieces)


@dataclass(frozen=True, slots=True)
class InputUsage:
    """Input-side usage, split like the real API: uncached, cache written, cache read."""

    input_tokens: int
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0


SCRIPTED_REPLY = re.compile(r"\[\[fake-reply:([A-Za-z0-9+/=_-]*)\]\]")


def scripted_reply_marker(text: str) -> str:
    """The marker that makes the fake server answer with exactly `text`."""
    return "[[fake-reply:" + base64.b64encode(text.encode()).decode() + "]]"


def _scripted(user_text: str) -> tuple[str, ...] | None:
    match = SCRIPTED_REPLY.search(user_text)
    if match is None:
        return None
    try:
        text = base64.b64decode(match[1], validate=False).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    # One piece per word with its following whitespace, so streaming and usage stay realistic.
    return tuple(re.findall(r"\s*\S+\s*?(?=\s|$)|\s+", text)) or ("",)


def complete(body: Mapping[str, Any]) -> Completion:
    """Generate the deterministic answer for a validated Messages API request body."""
    scripted = _scripted(last_user_text(body["messages"]))
    if scripted is not None:
        return _apply_limits(scripted, int(body["max_tokens"]), body.get("stop_sequences") or ())
    echo = _echo_words(last_user_text(body["messages"]))
    pieces = _generate(_seed_digest(body), echo)
    return _apply_limits(pieces, int(body["max_tokens"]), body.get("stop_sequences") or ())


def last_user_text(messages: Sequence[Mapping[str, Any]]) -> str:
    """Plain text of the last user message (echoed back so answers visibly follow prompts)."""
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return " ".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    return ""


def _seed_digest(body: Mapping[str, Any]) -> bytes:
    seed = {k: body[k] for k in _SEED_KEYS if k in body}
    raw = json.dumps(seed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(raw.encode()).digest()


@lru_cache(maxsize=4096)  # benchmarks repeat prompts; generation is the costliest step
def _generate(digest: bytes, echo: tuple[str, ...]) -> tuple[str, ...]:
    """Pieces of the answer: the echoed words, then seeded sentences, 20-120 tokens in all."""
    rng = random.Random(digest)
    target = rng.randint(20, 120)
    words = list(echo)
    sentence_left = 0
    while len(words) < target:
        word = rng.choice(_VOCABULARY)
        if sentence_left == 0:
            sentence_left = rng.randint(5, 14)
            word = word.capitalize()
        sentence_left -= 1
        if sentence_left == 0 or len(words) == target - 1:
            word += "."
        words.append(word)
    return (words[0], *(" " + w for w in words[1:]))


def _echo_words(user_text: str) -> tuple[str, ...]:
    """'Regarding "first five words":' so an answer visibly follows its prompt."""
    # Only the head is split: prompts can be megabytes and this runs per request.
    echo = [w[:40] for w in user_text[:1000].split()[:_ECHO_WORDS]]
    if not echo:
        return ()
    echo[0] = '"' + echo[0]
    echo[-1] += '":'
    return ("Regarding", *echo)


def _apply_limits(pieces: tuple[str, ...], max_tokens: int, stops: Sequence[str]) -> Completion:
    position, hit = _first_stop("".join(pieces), stops)
    if hit is not None:
        pieces = _cut_pieces(pieces, position)
    if len(pieces) > max_tokens:
        return Completion(pieces[:max_tokens], "max_tokens", None)
    if hit is not None:
        return Completion(pieces, "stop_sequence", hit)
    return Completion(pieces, "end_turn", None)


def _first_stop(text: str, stops: Sequence[str]) -> tuple[int, str | None]:
    """Earliest stop sequence in ``text`` (ties go to the one listed first)."""
    found = [(text.find(s), i, s) for i, s in enumerate(stops) if s and s in text]
    if not found:
        return len(text), None
    at, _, stop = min(found)
    return at, stop


def _cut_pieces(pieces: tuple[str, ...], chars: int) -> tuple[str, ...]:
    kept: list[str] = []
    for piece in pieces:
        if chars <= 0:
            break
        kept.append(piece[:chars])
        chars -= len(piece)
    return tuple(kept)


def _block_text(block: Any) -> str:
    if isinstance(block, dict) and block.get("type") == "text":
        return str(block.get("text", ""))
    if isinstance(block, dict) and block.get("type") in ("image", "document"):
        from workbench.testing.fake_blocks import file_block_text  # fake_blocks imports us

        return file_block_text(block)
    if isinstance(block, dict):
        block = {k: v for k, v in block.items() if k != "cache_control"}
    return json.dumps(block, sort_keys=True)


def _segments(body: Mapping[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """(role, text, block) in the real API's cache-prefix order: tools, system, messages."""
    for tool in body.get("tools") or ():
        yield "tool", _block_text(tool), tool
    system = body.get("system")
    if isinstance(system, str):
        yield "system", system, None
    elif isinstance(system, list):
        for block in system:
            yield "system", _block_text(block), block
    for message in body.get("messages") or ():
        role, content = str(message.get("role")), message.get("content")
        if isinstance(content, list):
            for block in content:
                yield role, _block_text(block), block
        else:
            yield role, str(content), None


def count_input_tokens(body: Mapping[str, Any]) -> int:
    """Input tokens of a request (tools, system and messages), ignoring caching."""
    return estimate_tokens(sum(len(text) for _, text, _ in _segments(body)))


class PromptCache:
    """Remembers cached prompt prefixes to report cache writes then reads like the real API.

    Each block carrying ``cache_control`` is a breakpoint; the prefix up to it is keyed by
    model and content. The longest already-seen prefix is a read, the rest up to the last
    breakpoint a write. Bounded so week-long benchmarks cannot grow it without limit.
    """

    def __init__(self, max_entries: int = 100_000) -> None:
        self._seen: set[str] = set()
        self._max_entries = max_entries

    def clear(self) -> None:
        self._seen.clear()

    def account(self, body: Mapping[str, Any]) -> InputUsage:
        """Usage for a request, remembering its cache breakpoints."""
        hasher = hashlib.sha256(str(body.get("model")).encode())
        total_chars = 0
        breakpoints: list[tuple[str, int]] = []
        for role, text, block in _segments(body):
            total_chars += len(text)
            hasher.update(f"\x00{role}\x00{text}".encode())
            if isinstance(block, dict) and "cache_control" in block:
                breakpoints.append((hasher.copy().hexdigest(), total_chars))
        total = estimate_tokens(total_chars)
        if not breakpoints:
            return InputUsage(total)
        read_chars = next((c for key, c in reversed(breakpoints) if key in self._seen), 0)
        read = estimate_tokens(read_chars) if read_chars else 0
        written = (
            estimate_tokens(breakpoints[-1][1]) - read if breakpoints[-1][1] > read_chars else 0
        )
        self._remember(key for key, _ in breakpoints)
        return InputUsage(max(0, total - read - written), written, read)

    def _remember(self, keys: Iterator[str]) -> None:
        if len(self._seen) > self._max_entries:
            self._seen.clear()
        self._seen.update(keys)
